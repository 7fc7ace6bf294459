"""Whole objects copied between locations as they are (encoded chunks, shards, files), for
``upgrade_path``'s raw copy and ``rebuild_pyramid``'s move of new levels into place.

Local objects are read under :mod:`omezarr_fast.safepath`'s rule (a size bound checked
before a byte is read); objects in stores go through the pipeline's store access
(:class:`omezarr_fast.pipeline.store_io.StoreIO`): zarr's ``async.concurrency`` requests
in flight, transient failures retried, a StoreError naming the key when they persist.
"""
from __future__ import annotations

import asyncio

import numpy as np
from zarr.core.sync import sync

from omezarr_fast.errors import UnsafePathError
from omezarr_fast.pipeline.store_io import StoreIO
from omezarr_fast.store import Location

__all__ = ["BATCH", "copy_all", "move", "read", "write"]

# Objects per batch when copying many: many requests in flight, bounded memory.
BATCH = 64


def _io(method: str, arg):
    """StoreIO's ``method`` on ``arg`` from a worker thread, with zarr's event loop (where
    the stores' clients live) running the requests, as the pipeline calls it."""
    async def run():
        io = StoreIO(asyncio.get_running_loop())
        return await asyncio.to_thread(getattr(io, method), arg)

    return sync(run())


def read(loc: Location, keys: list[str], max_size: int | None) -> list[bytes | None]:
    """The objects ``keys`` below ``loc`` (None: missing), each refused (UnsafePathError)
    above ``max_size`` bytes."""
    if loc.is_local:
        return [loc.read_bytes(k, max_size) for k in keys]
    got = _io("get", [(loc.child(k, "key").store_path(), None) for k in keys])
    out: list[bytes | None] = []
    for k, g in zip(keys, got):
        if g is not None and max_size is not None and g.nbytes > max_size:
            raise UnsafePathError(f"{loc.url}/{k} holds {g.nbytes} bytes, more than the "
                                  f"{max_size} it may", f"{loc.url}/{k}")
        out.append(None if g is None else g.tobytes())
    return out


def write(loc: Location, items: list[tuple[str, bytes]]) -> None:
    """Store each ``(key, bytes)`` below ``loc``."""
    loc.require_writable()
    if loc.is_local:
        for k, data in items:
            loc.write_bytes(k, data)
        return
    _io("put", [(loc.child(k, "key").store_path(), np.frombuffer(data, np.uint8))
                for k, data in items])


def copy_all(src: Location, dst: Location) -> None:
    """Every object below ``src`` to the same key below ``dst``, batch by batch."""
    keys = src.keys()
    for i in range(0, len(keys), BATCH):
        batch = keys[i:i + BATCH]
        write(dst, [(k, d) for k, d in zip(batch, read(src, batch, None)) if d is not None])


def move(src: Location, dst: Location) -> None:
    """Everything below ``src`` to ``dst`` (empty): a rename on one local disk, else a copy
    and a delete."""
    if src.is_local and dst.is_local:
        src.move_to(dst)
        return
    copy_all(src, dst)
    src.remove()
