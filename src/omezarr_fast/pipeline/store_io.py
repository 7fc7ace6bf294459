"""The bytes behind a batch of chunks: local files, store reads and writes, shard ranges.

What the kernels read from is a *source*, one per chunk or shard:

- ``None``: the key is missing (the fill value);
- a buffer: the whole encoded chunk or shard;
- :class:`FileSpan`: a chunk in an open local file, which the C task reads itself;
- :class:`ShardInFile`: a shard in an open local file, its index already read
  and checked; each inner chunk task reads its own bytes;
- :class:`ShardParts`: the index of a remote shard and the inner chunks fetched
  by range (:func:`fetch_shards`, with zarr's coalescing settings).

All three named sources are tuples, the form the native kernels take.
"""
from __future__ import annotations

import asyncio
import os
from functools import cached_property, partial
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from zarr.abc.store import OffsetByteRequest, RangeByteRequest, SuffixByteRequest
from zarr.core.buffer import default_buffer_prototype
from zarr.storage import LocalStore

from omezarr_fast._extension import native as _native
from omezarr_fast.errors import ChunkError, CodecError, UnsafePathError
from omezarr_fast.pipeline import _retry
from omezarr_fast.pipeline._zarr_compat import LOCAL_PARTIAL, StorePath, check_writable, ensure_open, supports_sync_io

__all__ = ["EMPTY", "LOCAL_MAX_FILES", "FileSpan", "ShardInFile", "ShardParts", "StoreIO",
           "coalesce", "fetch_shards", "open_local", "remove_partial_files", "span"]

# An inner chunk that was never written: (offset, nbytes) are both this.
EMPTY = 0xFFFFFFFFFFFFFFFF
# Local reads hold one open file per chunk or shard of a window, and no encoded
# bytes: windows of at most this many files.
LOCAL_MAX_FILES = 256


class FileSpan(NamedTuple):
    """``size`` bytes at ``offset`` of the open file ``fd``: one chunk."""

    fd: int
    offset: int
    size: int


class ShardInFile(NamedTuple):
    """A shard in the open file ``fd``; ``pairs`` its decoded (offset, nbytes) index."""

    pairs: np.ndarray
    fd: int


class ShardParts(NamedTuple):
    """A shard's decoded index and the inner chunks fetched, by linear index."""

    pairs: np.ndarray
    parts: dict[int, Any]


def span(byte_range) -> tuple[int, int]:
    """A zarr ByteRequest as read_files' (start, end): start < 0 is a suffix,
    end < 0 the end of the file."""
    if byte_range is None:
        return 0, -1
    if isinstance(byte_range, RangeByteRequest):
        return byte_range.start, byte_range.end
    if isinstance(byte_range, OffsetByteRequest):
        return byte_range.offset, -1
    if isinstance(byte_range, SuffixByteRequest):
        return (-byte_range.suffix, -1) if byte_range.suffix > 0 else (1 << 62, -1)
    raise TypeError(f"Unexpected byte_range, got {byte_range}.")


# Linux reads at most a device's read-ahead size (128 KiB by default) per
# WILLNEED call and drops the rest, so ranges are advised in pieces this big
# (as csrc/readahead.c does).
ADVISE_PIECE = 128 << 10


def advise(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start reading a byte range of fd (returns before the data is in)."""
    for o in range(offset, offset + length, ADVISE_PIECE):
        os.posix_fadvise(fd, o, min(ADVISE_PIECE, offset + length - o), os.POSIX_FADV_WILLNEED)


def open_local(plan, batch) -> tuple[list, list[int]]:
    """Sources for local files that C reads itself: a FileSpan per chunk, or a
    ShardInFile per shard, its index checked (or found unchanged in
    plan.indexes).  None for a missing key (as LocalStore: missing, a
    directory, or under a non-directory).  Returns the sources and the fds to
    close after decoding.

    Files open under the native reader's policy (csrc/fileio.h): a key that
    resolves outside the store's root, or is not a regular file, is a
    ChunkError, as is a chunk file larger than a chunk can be (refused by C
    before it is read).  With read-ahead on (native get_readahead), the kernel
    is asked for every index still to read at once, so a cold disk reads them
    side by side (the inner chunks are asked for in C, csrc/readahead.c, while
    they decode)."""
    sk = plan.shard
    sources: list[Any] = [None] * len(batch)
    fds: list[int] = []
    keys = [b[0].path for b in batch]
    # By store (a batch is one array's, so almost always one store and root).
    by_store: dict[int, tuple[Any, list[int]]] = {}
    for i, b in enumerate(batch):
        got = by_store.get(id(b[0].store))
        if got is None:
            by_store[id(b[0].store)] = (b[0].store, [i])
        else:
            got[1].append(i)
    need = []  # (position, fd, size, key, cache key, identity) of shards whose index is read
    try:
        for store, idx in by_store.values():
            ensure_open(store)
            root = str(store.root)
            try:
                opened = _native.open_files(root, [keys[i] for i in idx], identity=sk is not None)
            except (UnsafePathError, OSError) as e:
                key = keys[idx[e.index]]
                if isinstance(e, UnsafePathError):
                    raise ChunkError(f"chunk {key!r}: {e}", key) from None
                raise OSError(e.errno, f"chunk {key!r}: {e.strerror}") from None
            for i, got in zip(idx, opened):
                if got is None:
                    continue
                fds.append(got[0])
                if sk is None:
                    sources[i] = FileSpan(got[0], 0, got[1])
                    continue
                fd, size, ident = got
                if size < sk.index_size:
                    raise ChunkError(f"chunk {keys[i]!r}: shard shorter than its index", keys[i])
                pairs = plan.indexes.get((root, keys[i]), ident)
                if pairs is None:
                    need.append((i, fd, size, keys[i], (root, keys[i]), ident))
                else:
                    sources[i] = ShardInFile(pairs, fd)
        at = [0 if sk.index_at_start else size - sk.index_size for _, _, size, *_ in need] if need else []
        if len(need) > 1 and _native.get_readahead():
            for (_, fd, *_), off in zip(need, at):
                advise(fd, off, sk.index_size)
        for (i, fd, size, key, where, ident), off in zip(need, at):
            try:
                idx = os.pread(fd, sk.index_size, off)
            except OSError as e:  # EIO and the like: name the key, as C does for inner chunks
                raise ChunkError(f"chunk {key!r}: reading its shard index: {e.strerror}", key) from e
            if len(idx) != sk.index_size:  # the file shrank after it was opened
                raise ChunkError(f"chunk {key!r}: shard shorter than its index", key)
            try:
                pairs = sk.decode_index(np.frombuffer(idx, np.uint8), size)
            except CodecError as e:
                raise ChunkError(f"chunk {key!r}: {e}", key) from None
            plan.indexes.put(where, ident, pairs)
            sources[i] = ShardInFile(pairs, fd)
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return sources, fds


class StoreIO:
    """Byte access for one batch, run from a worker thread: the sync store
    API when the store has it, else the store's async API on the caller's
    event loop, many requests at once (:mod:`omezarr_fast.pipeline._retry`: at
    most zarr's async.concurrency in flight, transient failures retried,
    StoreError naming the key when they persist)."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None):
        self.loop = loop

    @cached_property
    def proto(self):
        # Looked up on first use: local reads, which C does, never need it.
        return default_buffer_prototype()

    def get(self, reqs: list[tuple[StorePath, Any]]) -> list[np.ndarray | None]:
        out: list[Any] = [None] * len(reqs)
        local = [i for i, (sp, _) in enumerate(reqs) if type(sp.store) is LocalStore]
        by_root: dict[str, list[int]] = {}
        for i in local:
            ensure_open(reqs[i][0].store)
            by_root.setdefault(str(reqs[i][0].store.root), []).append(i)
        for root, idx in by_root.items():  # keys resolve inside their store's root (csrc/fileio.h)
            try:
                got = _native.read_files([(reqs[i][0].path, *span(reqs[i][1])) for i in idx], root)
            except UnsafePathError as e:
                key = reqs[idx[e.index]][0].path
                raise ChunkError(f"chunk {key!r}: {e}", key) from None
            for i, g in zip(idx, got):
                out[i] = g
        pending = []
        for i, (sp, br) in enumerate(reqs):
            if type(sp.store) is LocalStore:
                continue
            if supports_sync_io(sp.store):
                buf = sp.store.get_sync(sp.path, prototype=self.proto, byte_range=br)
                out[i] = None if buf is None else buf.as_numpy_array()
            else:
                pending.append(i)
        if pending:
            bufs = self._run(_retry.gather([(partial(reqs[i][0].store.get, reqs[i][0].path, self.proto, reqs[i][1]),
                                             reqs[i][0].path, "GET") for i in pending]))
            for i, buf in zip(pending, bufs):
                out[i] = None if buf is None else buf.as_numpy_array()
        return out

    @staticmethod
    def check_writable(batch) -> None:
        for store in {id(b[0].store): b[0].store for b in batch}.values():
            check_writable(store)

    def put(self, ops: list[tuple[StorePath, np.ndarray | None]]) -> None:
        pending = []
        for sp, data in ops:
            if supports_sync_io(sp.store):
                if data is None:
                    sp.store.delete_sync(sp.path)
                else:
                    sp.store.set_sync(sp.path, self.proto.buffer.from_array_like(data))
            else:
                pending.append((sp, data))
        if pending:
            self._run(_retry.gather([
                (sp.delete, sp.path, "DELETE") if data is None else
                (partial(sp.set, self.proto.buffer.from_array_like(data)), sp.path, "PUT")
                for sp, data in pending]))

    def _run(self, coro):
        if self.loop is None:
            return asyncio.run(coro)
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()


def coalesce(want, max_gap: int, max_bytes: int) -> list[list]:
    """Byte ranges ``(offset, nbytes, tag)`` sorted by offset, merged into runs
    ``[start, end, [ranges]]`` where the gap to the previous range is at most
    ``max_gap`` and a run spans at most ``max_bytes`` (zarr's
    ``sharding.read.coalesce_max_gap_bytes`` / ``coalesce_max_bytes``)."""
    runs: list[list] = []
    for off, n, t in want:
        if runs and off - runs[-1][1] <= max_gap and off + n - runs[-1][0] <= max_bytes and off >= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], off + n)
            runs[-1][2].append((off, n, t))
        else:
            runs.append([off, off + n, [(off, n, t)]])
    return runs


def fetch_shards(plan, batch, touched, io: StoreIO) -> list:
    """Sources for the shards of ``batch`` from a store that is not local: a
    shard whose selection touches at least half its inner chunks (or that is
    complete) is fetched whole; otherwise its index is fetched first, then the
    touched inner chunks by coalesced byte ranges (a ShardParts).
    ``touched(i)`` lists the inner chunks item ``i`` reads."""
    sk = plan.shard
    whole, partial_ = [], []
    for i, b in enumerate(batch):
        if b[4]:
            whole.append(i)
            continue
        (partial_ if 2 * len(touched(i)) < sk.n_inner else whole).append(i)
    sources: list[Any] = [None] * len(batch)
    index_req = (RangeByteRequest(0, sk.index_size) if sk.index_at_start
                 else SuffixByteRequest(sk.index_size))
    got = io.get([(batch[i][0], None) for i in whole] + [(batch[i][0], index_req) for i in partial_])
    for i, g in zip(whole, got):
        sources[i] = g
    cfg = batch[0][1].config
    gap, maxlen = cfg.sharding_coalesce_max_gap_bytes, cfg.sharding_coalesce_max_bytes
    range_reqs, range_owner = [], []
    plans = {}
    for i, idx in zip(partial_, got[len(whole):]):
        if idx is None:
            continue
        if len(idx) != sk.index_size:
            raise ChunkError(f"chunk {batch[i][0].path!r}: shard shorter than its index", batch[i][0].path)
        try:
            pairs = sk.decode_index(idx)
        except CodecError as e:
            raise ChunkError(f"chunk {batch[i][0].path!r}: {e}", batch[i][0].path) from None
        want = sorted((int(pairs[t, 0]), int(pairs[t, 1]), t) for t in touched(i) if pairs[t, 0] != EMPTY)
        runs = coalesce(want, gap, maxlen)
        plans[i] = pairs
        for r in runs:
            range_reqs.append((batch[i][0], RangeByteRequest(r[0], r[1])))
            range_owner.append((i, r))
    bufs = io.get(range_reqs) if range_reqs else []
    parts: dict[int, dict] = {i: {} for i in plans}
    for (i, r), buf in zip(range_owner, bufs):
        if buf is None or len(buf) != r[1] - r[0]:
            key = batch[i][0].path
            raise ChunkError(f"chunk {key!r}: shard truncated (range {r[0]}..{r[1]})", key)
        for off, n, t in r[2]:
            parts[i][t] = buf[off - r[0]:off - r[0] + n]
    for i, pairs in plans.items():
        sources[i] = ShardParts(pairs, parts[i])
    return sources


def remove_partial_files(arrays) -> None:
    """Delete the temporary files of writes whose process died (zarr's LocalStore
    names them ``<key>.<uuid4 hex>.partial``) under each array; other stores
    write whole objects."""
    for a in arrays:
        store = a.store
        if not isinstance(store, LocalStore):
            continue
        root = Path(store.root) / a.path
        for p in root.rglob("*.partial"):
            if LOCAL_PARTIAL.search(p.name):
                p.unlink(missing_ok=True)
