"""Many boxes of one array at once: :func:`read_regions`.

Each ``array[box]`` pays zarr's indexing and a hop to zarr's event-loop thread
(about 0.15 ms here), opens the files it touches and decodes every chunk it
touches, even one the previous call just decoded.  A loader of random patches
(ML training) can ask for all its boxes at once instead: every chunk or shard
is then opened (or fetched) once, and every chunk decoded once, however many
boxes touch it, with all cores on the batch.  Local files are read by C in
one native call per group of files; other stores go through
:mod:`.remote_io` (each shard index fetched once, the touched inner chunks as
coalesced ranges, async.concurrency requests in flight, decoding while the
rest downloads).
"""
from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import numpy as np
import zarr
from zarr.core.array_spec import ArraySpec
from zarr.core.buffer import default_buffer_prototype
from zarr.core.indexing import BasicIndexer
from zarr.core.sync import sync
from zarr.storage import LocalStore

from omezarr_fast.errors import CodecError
from omezarr_fast.pipeline import remote_io, store_io
from omezarr_fast.pipeline._zarr_compat import async_array, chunk_grid
from omezarr_fast.pipeline.chunk_errors import chunk_error
from omezarr_fast.pipeline.core import CodecPipeline
from omezarr_fast.pipeline.selection import box as native_box
from omezarr_fast.pipeline.store_io import open_local

__all__ = ["read_regions"]


def read_regions(array: zarr.Array, regions) -> list[np.ndarray]:
    """Read boxes of ``array``: the same arrays as ``[array[r] for r in
    regions]``.  Arrays on our pipeline with a regular chunk grid read every
    chunk or shard they touch once, from any store (local files in one native
    call, other stores as :mod:`~omezarr_fast.pipeline.remote_io` describes);
    other arrays are read box by box, with the same result.

    ``regions`` is a sequence of boxes, each a slice or a tuple of slices (one
    per dimension or fewer, steps >= 1).  Boxes may overlap and come in any
    order.
    """
    if not isinstance(array, zarr.Array):
        raise TypeError(f"array must be a zarr.Array, got {type(array).__name__}")
    if isinstance(regions, (slice, tuple)):
        raise TypeError("regions must be a sequence of boxes, e.g. [(slice(0, 64), slice(0, 64))]")
    boxes = [_check_box(r, i, array.ndim) for i, r in enumerate(regions)]
    fast = _fast_path(array)
    if fast is None:
        return [np.asarray(array[b]) for b in boxes]
    plan, spec, order = fast
    aa = async_array(array)
    indexers = [BasicIndexer(b, shape=aa.metadata.shape, chunk_grid=chunk_grid(aa)) for b in boxes]
    sizes = [int(np.prod(ix.shape)) for ix in indexers]
    flat = np.empty(sum(sizes), dtype=plan.dtype)
    # Each box's output (a view of flat) and native items, (file key, box into
    # flat); slices with positive steps always make a native box.
    outs, per_box, start = [], [], 0
    for ix, n in zip(indexers, sizes):
        out = flat[start:start + n].reshape(ix.shape, order=order)
        outs.append(out)
        start += n
        shift = out.ctypes.data - flat.ctypes.data
        items = []
        for p in ix:
            b = native_box(p.chunk_selection, p.out_selection, spec.shape, out, ())
            items.append((aa.metadata.encode_chunk_key(p.chunk_coords), b._replace(offset=b.offset + shift)))
        per_box.append(items)
    if type(aa.store_path.store) is not LocalStore:
        groups: dict[str, remote_io.Group] = {}
        for items in per_box:
            for key, b in items:
                g = groups.get(key)
                if g is None:
                    g = groups[key] = remote_io.Group(aa.store_path / key)
                g.boxes.append(b)
        sync(remote_io.read(plan, list(groups.values()), flat, aa.config))
        return outs
    # Each group of boxes opens at most LOCAL_MAX_FILES files at once.
    group: list[tuple[str, tuple]] = []
    keys: set[str] = set()
    for items in per_box:
        mine = {key for key, _ in items}
        if group and len(keys | mine) > store_io.LOCAL_MAX_FILES:
            _read_group(aa, plan, spec, group, flat)
            group, keys = [], set()
        group.extend(items)
        keys |= mine
    if group:
        _read_group(aa, plan, spec, group, flat)
    return outs


def _check_box(region: Any, i: int, ndim: int) -> tuple:
    box = region if isinstance(region, tuple) else (region,)
    if len(box) > ndim:
        raise IndexError(f"regions[{i}] has {len(box)} slices for a {ndim}-d array")
    for s in box:
        if not isinstance(s, slice):
            raise TypeError(f"regions[{i}]: boxes are made of slices, got {type(s).__name__}; "
                            "use array[...] for other selections")
        if s.step is not None and s.step < 1:
            raise ValueError(f"regions[{i}]: slice steps must be >= 1, got {s.step}")
    return box + (slice(None),) * (ndim - len(box))


def _fast_path(array: zarr.Array):
    """(plan, chunk spec, memory order) when our kernels can read this array
    (our pipeline, a regular grid, missing chunks read as fill), else None."""
    aa = async_array(array)
    meta = aa.metadata
    grid = chunk_grid(aa)
    if (not isinstance(aa.codec_pipeline, CodecPipeline) or not grid.is_regular
            or aa.config.read_missing_chunks is False):
        return None
    config = aa.config
    order = meta.order if meta.zarr_format == 2 else config.order
    if meta.zarr_format == 2:
        config = replace(config, order=order)
    spec = ArraySpec(shape=grid.chunk_shape, dtype=meta.dtype, fill_value=meta.fill_value,
                     config=config, prototype=default_buffer_prototype())
    plan = aa.codec_pipeline.native_plan(spec, np.dtype(meta.dtype.to_native_dtype()))
    return None if isinstance(plan, str) else (plan, spec, order)


def _read_group(aa, plan, spec, items, flat: np.ndarray) -> None:
    files: dict[str, int] = {}
    batch = []
    for key, _ in items:
        if key not in files:
            files[key] = len(batch)
            batch.append((aa.store_path / key, spec))
    sources, fds = open_local(plan, batch)
    try:
        kernel = plan.shard or plan.kernel
        # Items of one file share its source object: C decodes each chunk once.
        kernel.read([(box, sources[files[key]]) for key, box in items], flat, shared=True)
    except (CodecError, OSError) as e:
        raise chunk_error(e, [key for key, _ in items]) from None
    finally:
        for fd in fds:
            os.close(fd)
