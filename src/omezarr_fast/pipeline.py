"""A zarr CodecPipeline whose chunk and shard work runs in C.

Select it with ``zarr.config.set({"codec_pipeline.path": "omezarr_fast.CodecPipeline"})``
(or ``omezarr_fast.enable()``, the ``zarr.codec_pipeline`` entry point, or
``ZARR_CODEC_PIPELINE__PATH``).

It subclasses zarr's FusedCodecPipeline, so construction, validation,
``compute_encoded_size``, ``decode``/``encode``, equality and pickling are
zarr's.  ``read`` and ``write`` take the native path when the array's codecs,
dtype and buffers allow it: one thread hop per batch (none for small reads),
then decode + scatter (or gather + encode) of every chunk and inner chunk in
one C call with the GIL released.  Bytes: LocalStore reads open the files in
Python and each C task preads its own chunk or inner chunk (no compressed copy
held); otherwise they are fetched first (LocalStore by one batched native
read, MemoryStore by its sync API, other stores by their async API, many
requests at once, retried by _retry).  Everything else
(variable-length or structured dtypes, unknown codecs, numcodecs filters,
non-numpy buffers, nested sharding) goes to zarr's own implementation,
per array and silently (a debug log line); :func:`pipeline_info` says which.
"""
from __future__ import annotations

import asyncio
import logging
import math
import os
import stat
import sys
from collections import deque
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from zarr.abc.codec import GetResult
from zarr.abc.store import (OffsetByteRequest, RangeByteRequest, SuffixByteRequest,
                            _store_supports_sync_io)
from zarr.codecs import (BloscCodec, BytesCodec, Crc32cCodec, GzipCodec, ShardingCodec,
                         TransposeCodec, ZstdCodec)
from zarr.codecs._v2 import V2Codec
from zarr.core.buffer import NDBuffer, default_buffer_prototype
from zarr.core.buffer import cpu as _cpu
from zarr.core.chunk_utils import _merge_chunk_array, fill_value_or_default
from zarr.core.codec_pipeline import FusedCodecPipeline
from zarr.storage import LocalStore
from zarr.storage._common import StorePath

from omezarr_fast import _native, _retry
from omezarr_fast._background import Background
from omezarr_fast.errors import ChunkError, CodecError
from omezarr_fast.shard_indexes import ShardIndexCache

__all__ = ["CodecPipeline", "pipeline_info"]

log = logging.getLogger("omezarr_fast.pipeline")

_EMPTY = 0xFFFFFFFFFFFFFFFF
_BB = (ZstdCodec, BloscCodec, GzipCodec, Crc32cCodec)
_DTYPE_KINDS = "biufcmM"
# Decoded bytes per native call (see CodecPipeline._windows).
_WINDOW_BYTES = 32 << 20
# Decoded bytes a read may take to run on the event loop (see _small_sync).  A
# 64^3 uint16 patch of 32^3 inner chunks decodes 27 x 64 KiB, about 1 ms of
# work on 2 cores; sending it to a worker thread made 64 such reads ~8% slower.
_INLINE_BYTES = 4 << 20
# Local reads hold one open file per chunk or shard of a window, and no encoded
# bytes: windows of at most this many files and this much selected data (which
# only fancy selections' temporaries occupy).
_LOCAL_MAX_FILES = 256
_LOCAL_WINDOW_BYTES = 128 << 20


def _is(codec: Any, classes: tuple[type, ...]) -> bool:
    # zarr's own classes and omezarr_fast's native subclasses; any other
    # subclass may change behaviour, so it goes to zarr's path.
    t = type(codec)
    return t in classes or (t.__module__ == "omezarr_fast.codecs" and isinstance(codec, classes))


def _native_dtype(spec) -> np.dtype | str:
    try:
        dt = np.dtype(spec.dtype.to_native_dtype())
    except Exception as e:  # noqa: BLE001 - any dtype zarr has but numpy cannot name
        return f"dtype {spec.dtype}: {e}"
    if dt.kind not in _DTYPE_KINDS or dt.fields is not None or dt.subdtype is not None:
        return f"dtype {dt} is not a fixed-size number"
    if dt.kind in "mM" and np.datetime_data(dt)[0] == "generic":
        return f"dtype {dt} has a generic time unit"
    return dt


def _chain_json(codecs, dt: np.dtype) -> list[dict] | str:
    out = []
    for c in codecs:
        if _is(c, (TransposeCodec, BytesCodec) + _BB):
            out.append(c.to_dict())
        else:
            return f"codec {type(c).__module__}.{type(c).__qualname__}"
    return out


def _v2_json(codec: V2Codec, dt: np.dtype, order: str) -> list[dict] | str:
    if codec.filters:
        return "zarr v2 filters"
    chain: list[dict] = []
    if order == "F":
        chain.append(None)  # placeholder, filled per chunk shape
    chain.append({"name": "bytes", "configuration": {"endian": "big" if dt.byteorder == ">" else "little"}})
    comp = codec.compressor
    if comp is None:
        return chain
    cfg = comp.get_config()
    cid = cfg.get("id")
    if cid == "zstd" and type(comp).__module__.startswith("numcodecs"):
        if cfg.get("checksum", False) not in (False, True):
            return "zstd config"
        chain.append({"name": "zstd", "configuration": {"level": int(cfg.get("level", 0)),
                                                        "checksum": bool(cfg.get("checksum", False))}})
    elif cid == "gzip" and type(comp).__module__.startswith("numcodecs"):
        chain.append({"name": "gzip", "configuration": {"level": int(cfg.get("level", 1))}})
    elif cid == "blosc" and type(comp).__module__.startswith("numcodecs"):
        shuffle = {0: "noshuffle", 1: "shuffle", 2: "bitshuffle", -1: "bitshuffle" if dt.itemsize == 1 else "shuffle"}
        s = shuffle.get(cfg.get("shuffle", 1))
        cname = cfg.get("cname", "lz4")
        if s is None or cname not in ("lz4", "lz4hc", "blosclz", "zstd", "zlib"):
            return f"blosc config {cfg}"
        chain.append({"name": "blosc", "configuration": {
            "cname": cname, "clevel": int(cfg.get("clevel", 5)), "shuffle": s,
            "typesize": min(dt.itemsize, 255), "blocksize": int(cfg.get("blocksize", 0))}})
    else:
        return f"zarr v2 compressor {cid!r}"
    return chain


class _Plan:
    """How one chunk spec runs natively: a ChunkKernel, or a ShardKernel."""

    __slots__ = ("kernel", "shard", "dtype", "indexes")

    def __init__(self, kernel, shard, dtype):
        self.kernel = kernel  # ChunkKernel for the stored chunk (inner chunk if sharded)
        self.shard = shard  # ShardKernel or None
        self.dtype = dtype
        # Local shard files' decoded indexes, shared by all reads of the array.
        self.indexes = ShardIndexCache(shard.index_size) if shard is not None else None


def _kernel(json: list, shape: tuple[int, ...], dt: np.dtype, fill: bytes):
    if json and json[0] is None:  # v2 F order
        json = [{"name": "transpose", "configuration": {"order": list(range(len(shape)))[::-1]}}, *json[1:]]
    return _native.ChunkKernel(json, tuple(shape), dt, fill)


def _box(chunk_sel, out_sel, shape, arr: np.ndarray, drop_axes) -> tuple | None:
    """A basic selection as a native box, or None (zarr's numpy path)."""
    if drop_axes or not isinstance(chunk_sel, tuple) or len(chunk_sel) != len(shape):
        return None
    scalar = arr.ndim == 0
    if not scalar and not isinstance(out_sel, tuple):
        return None
    starts, steps, counts, strides = [], [], [], []
    offset = 0
    oi = 0
    for d, s in enumerate(chunk_sel):
        if isinstance(s, (int, np.integer)) and not isinstance(s, (bool, np.bool_)):
            i = int(s)
            if not 0 <= i < shape[d]:
                return None
            starts.append(i)
            steps.append(1)
            counts.append(1)
            strides.append(0)
        elif isinstance(s, slice):
            start, stop, step = s.indices(shape[d])
            if step < 1:
                return None
            n = len(range(start, stop, step))
            starts.append(start if n else 0)
            steps.append(step)
            counts.append(n)
            if scalar:
                strides.append(0)
                continue
            if oi >= len(out_sel) or not isinstance(out_sel[oi], slice):
                return None
            ostart, ostop, ostep = out_sel[oi].indices(arr.shape[oi])
            if ostep < 1 or len(range(ostart, ostop, ostep)) != n:
                return None
            strides.append(arr.strides[oi] * ostep)
            offset += ostart * arr.strides[oi]
            oi += 1
        else:
            return None
    if not scalar and oi != arr.ndim:
        return None
    return tuple(starts), tuple(steps), tuple(counts), offset, tuple(strides)


def _selected_items(chunk_sel, shape: tuple[int, ...]) -> int:
    """How many elements a chunk selection touches (numpy's rule: slices
    multiply, integer arrays broadcast together); the whole chunk when the
    selection is not a tuple of those."""
    if not isinstance(chunk_sel, tuple) or len(chunk_sel) != len(shape):
        return math.prod(shape)
    n, arrays = 1, []
    for s, size in zip(chunk_sel, shape):
        if isinstance(s, slice):
            n *= len(range(*s.indices(size)))
        elif isinstance(s, np.ndarray) and s.dtype != bool:
            arrays.append(s.shape)
        elif not isinstance(s, (int, np.integer)):
            return math.prod(shape)
    return n * math.prod(np.broadcast_shapes(*arrays)) if arrays else n


def _is_basic(chunk_sel) -> bool:
    return isinstance(chunk_sel, tuple) and all(
        isinstance(s, (slice, int, np.integer)) and not isinstance(s, (bool, np.bool_)) for s in chunk_sel)


def _fancy_plan(chunk_sel, shape: tuple[int, ...], inner: tuple[int, ...] | None, dtype: np.dtype):
    """How to read a fancy chunk selection: (native boxes over ``buf``, ``buf``,
    ``take``, touched inner chunks or None for all) where C decodes the boxes
    and ``take(buf)`` is the selection.

    A small selection of a shard decodes only the inner chunks it touches,
    each into its own slot of ``buf`` (shape ``(n, *inner)``), and ``take``
    gathers by (slot, offset in the inner chunk) per element.  A large one, or
    an unsharded chunk (which decodes whole anyway), decodes the chunk and
    lets numpy select."""
    nd = len(shape)
    whole = np.empty(shape, dtype=dtype)
    plain = [_full_box(shape, whole)], whole, lambda buf: buf[chunk_sel], None
    if inner is None or not isinstance(chunk_sel, tuple) or len(chunk_sel) != nd:
        return plain
    # Each element's coordinate on axis d: numpy applies the selection to a
    # zero-stride view of arange(shape[d]) along d (no chunk-sized memory).
    axes = [np.broadcast_to(np.arange(n).reshape([-1 if k == d else 1 for k in range(nd)]), shape)
            for d, n in enumerate(shape)]
    if axes[0][chunk_sel].size * 16 > math.prod(shape):
        return plain
    coords = [a[chunk_sel] for a in axes]
    grid = tuple(-(-n // c) for n, c in zip(shape, inner))
    lin = np.ravel_multi_index(tuple(c // i for c, i in zip(coords, inner)), grid)
    cells, slot = np.unique(lin, return_inverse=True)
    buf = np.empty((len(cells), *inner), dtype=dtype)
    boxes = []
    for k, cell in enumerate(zip(*np.unravel_index(cells, grid))):
        starts = tuple(int(c) * i for c, i in zip(cell, inner))
        counts = tuple(min(i, n - st) for st, i, n in zip(starts, inner, shape))
        boxes.append((starts, (1,) * nd, counts, k * buf.strides[0], buf.strides[1:]))
    local = tuple(c % i for c, i in zip(coords, inner))
    return boxes, buf, lambda buf: buf[(slot.reshape(lin.shape), *local)], cells.tolist()


def _full_box(shape: tuple[int, ...], arr: np.ndarray) -> tuple:
    return (0,) * len(shape), (1,) * len(shape), tuple(shape), 0, tuple(arr.strides)


def _span(byte_range) -> tuple[int, int]:
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
_ADVISE_PIECE = 128 << 10


def _advise(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start reading a byte range of fd (returns before the data is in)."""
    for o in range(offset, offset + length, _ADVISE_PIECE):
        os.posix_fadvise(fd, o, min(_ADVISE_PIECE, offset + length - o), os.POSIX_FADV_WILLNEED)


def _open_local(plan: _Plan, batch) -> tuple[list, list[int]]:
    """Sources for local files that C reads itself: (fd, 0, size) per chunk,
    or (index pairs, fd) per shard, its index checked (or found unchanged in
    plan.indexes).  None for a missing key (as LocalStore: missing, a
    directory, or under a non-directory).  Returns the sources and the fds to
    close after decoding.

    With read-ahead on (_native.get_readahead), the kernel is asked for every
    index still to read at once, so a cold disk reads them side by side (the
    chunks and inner chunks are asked for in C, csrc/readahead.c, while they
    decode)."""
    sk = plan.shard
    sources: list[Any] = []
    fds: list[int] = []
    ahead = _native.get_readahead()
    need = []  # (position, fd, size, key, path, stat) of shards whose index is read
    try:
        for b in batch:
            store, key = b[0].store, b[0].path
            store._ensure_open_sync()
            path = os.path.join(store.root, key)
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                sources.append(None)
                continue
            fds.append(fd)
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                sources.append(None)
                continue
            size = st.st_size
            if sk is None:
                sources.append((fd, 0, size))
                continue
            if size < sk.index_size:
                raise ChunkError(f"chunk {key!r}: shard shorter than its index", key)
            pairs = plan.indexes.get(path, st)
            sources.append(None if pairs is None else (pairs, fd))
            if pairs is None:
                need.append((len(sources) - 1, fd, size, key, path, st))
        at = [0 if sk.index_at_start else size - sk.index_size for _, _, size, *_ in need] if need else []
        if ahead and len(need) > 1:
            for (_, fd, *_), off in zip(need, at):
                _advise(fd, off, sk.index_size)
        for (i, fd, size, key, path, st), off in zip(need, at):
            try:
                idx = os.pread(fd, sk.index_size, off)
            except OSError as e:  # EIO and the like: name the key, as C does for inner chunks
                raise ChunkError(f"chunk {key!r}: reading its shard index: {e.strerror}", key) from e
            if len(idx) != sk.index_size:  # the file shrank after fstat
                raise ChunkError(f"chunk {key!r}: shard shorter than its index", key)
            try:
                pairs = sk.decode_index(np.frombuffer(idx, np.uint8), size)
            except CodecError as e:
                raise ChunkError(f"chunk {key!r}: {e}", key) from None
            plan.indexes.put(path, st, pairs)
            sources[i] = (pairs, fd)
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return sources, fds


class _IO:
    """Byte access for one batch, run from a worker thread: the sync store
    API when the store has it, else the store's async API on the caller's
    event loop, many requests at once (omezarr_fast._retry: at most zarr's
    async.concurrency in flight, transient failures retried, StoreError
    naming the key when they persist)."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None):
        self.loop = loop
        self.proto = default_buffer_prototype()

    def get(self, reqs: list[tuple[StorePath, Any]]) -> list[np.ndarray | None]:
        out: list[Any] = [None] * len(reqs)
        local = [i for i, (sp, _) in enumerate(reqs) if type(sp.store) is LocalStore]
        if local:
            roots = {}  # pathlib joins cost more than the reads they name
            for i in local:
                store = reqs[i][0].store
                if id(store) not in roots:
                    store._ensure_open_sync()
                    roots[id(store)] = os.fsencode(store.root) + b"/"
            got = _native.read_files([(roots[id(reqs[i][0].store)] + reqs[i][0].path.encode(),
                                       *_span(reqs[i][1])) for i in local])
            for i, g in zip(local, got):
                out[i] = g
        pending = []
        for i, (sp, br) in enumerate(reqs):
            if type(sp.store) is LocalStore:
                continue
            if _store_supports_sync_io(sp.store):
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
            store._check_writable()

    def put(self, ops: list[tuple[StorePath, np.ndarray | None]]) -> None:
        pending = []
        for sp, data in ops:
            if _store_supports_sync_io(sp.store):
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


def _key_error(e: CodecError, keys: list[str]) -> ChunkError:
    key = keys[e.index] if e.index is not None and 0 <= e.index < len(keys) else "?"
    return ChunkError(f"chunk {key!r}: {e}", key)


@dataclass(frozen=True)
class CodecPipeline(FusedCodecPipeline):
    """zarr's FusedCodecPipeline with native read and write paths."""

    # ---- pickling / caching: the native kernels are a per-process cache ----

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_ozf")}

    def __setstate__(self, state):
        self.__dict__.update(state)

    def _plan(self, spec, dt_out: np.dtype) -> _Plan | str:
        """A _Plan for this chunk spec, or the reason zarr's path runs it."""
        cache = self.__dict__.setdefault("_ozf_plans", {})
        fill = fill_value_or_default(spec)
        try:
            fill_key = np.asarray(fill).tobytes()
        except Exception:  # noqa: BLE001
            fill_key = repr(fill)
        key = (spec.shape, dt_out.str, fill_key, spec.order)
        plan = cache.get(key)
        if plan is None:
            try:
                plan = self._make_plan(spec, dt_out, fill)
            except (ValueError, TypeError, OverflowError) as e:
                plan = f"{type(e).__name__}: {e}"
            if isinstance(plan, str):
                log.debug("omezarr_fast: zarr's pipeline runs this array (%s)", plan)
            if len(cache) > 64:
                cache.clear()
            cache[key] = plan
        return plan

    def _make_plan(self, spec, dt_out: np.dtype, fill) -> _Plan | str:
        dt = _native_dtype(spec)
        if isinstance(dt, str):
            return dt
        if dt_out.newbyteorder("=") != dt.newbyteorder("=") or dt_out.itemsize != dt.itemsize:
            return f"buffer dtype {dt_out} differs from the array's {dt}"
        fill_bytes = np.array(fill, dtype=dt_out).tobytes()
        codecs = list(self.codecs)
        if len(codecs) == 1 and isinstance(codecs[0], V2Codec):
            json = _v2_json(codecs[0], dt_out, spec.order)
            if isinstance(json, str):
                return json
            return _Plan(_kernel(json, spec.shape, dt_out, fill_bytes), None, dt_out)
        shard = [c for c in codecs if getattr(c, "codec_name", None) == "sharding_indexed"
                 or type(c) is ShardingCodec]
        if not shard:
            json = _chain_json(codecs, dt_out)
            if isinstance(json, str):
                return json
            return _Plan(_kernel(json, spec.shape, dt_out, fill_bytes), None, dt_out)
        sc = shard[0]
        if len(codecs) != 1 or type(sc) is not ShardingCodec:
            return "sharding combined with other codecs"
        inner = _chain_json(sc.codecs, dt_out)
        if isinstance(inner, str):
            return f"inner {inner}"
        idx = list(sc.index_codecs)
        if not idx or not _is(idx[0], (BytesCodec,)) or len(idx) > 2 or (
                len(idx) == 2 and not _is(idx[1], (Crc32cCodec,))):
            return "shard index codecs other than bytes + crc32c"
        big = getattr(idx[0], "endian", None) is not None and str(getattr(idx[0].endian, "value", idx[0].endian)) == "big"
        loc = getattr(sc.index_location, "value", sc.index_location)
        kernel = _kernel(inner, tuple(sc.chunk_shape), dt_out, fill_bytes)
        shard_kernel = _native.ShardKernel(kernel, tuple(spec.shape), loc == "start", len(idx) == 2,
                                           big)
        # Lay inner chunks out like zarr does (morton by default): readers do
        # not care, but zarr's tests and byte-for-byte comparisons do.
        cps = shard_kernel.chunks_per_shard
        order = getattr(sc, "subchunk_write_order", "lexicographic")
        if order != "lexicographic" and hasattr(sc, "_subchunk_order_iter"):
            shard_kernel.set_order([int(np.ravel_multi_index(c, cps))
                                    for c in sc._subchunk_order_iter(cps, order)])
        return _Plan(kernel, shard_kernel, dt_out)

    def _native_batch(self, batch, buf: NDBuffer) -> tuple[_Plan, np.ndarray] | str:
        arr = buf.as_ndarray_like()
        if type(arr) is not np.ndarray:
            return "buffer is not a numpy array"
        if not all(isinstance(b[0], StorePath) for b in batch):
            return "byte getters are not store paths"
        proto = batch[0][1].prototype
        if proto.buffer is not _cpu.Buffer or proto.nd_buffer is not _cpu.NDBuffer:
            return "a custom buffer prototype"
        plan = self._plan(batch[0][1], arr.dtype)
        if isinstance(plan, str):
            return plan
        return plan, arr

    # ---- read ----

    async def read(self, batch_info, out, drop_axes=()):
        batch = list(batch_info)
        if not batch:
            return ()
        groups = self._groups(batch)
        if len(groups) > 1:
            results: list[Any] = [None] * len(batch)
            for idxs in groups:
                res = await self.read([batch[i] for i in idxs], out, drop_axes)
                for i, r in zip(idxs, res):
                    results[i] = r
            return tuple(results)
        native = self._native_batch(batch, out)
        if isinstance(native, str):
            return await super().read(batch, out, drop_axes)
        plan, arr = native
        io = _IO(asyncio.get_running_loop())
        if self._small_sync(plan, batch):
            return self._read_windows(plan, batch, arr, drop_axes, io)
        return await asyncio.to_thread(self._read_windows, plan, batch, arr, drop_axes, io)

    @staticmethod
    def _small_sync(plan: _Plan, batch) -> bool:
        """A read that decodes little (counted in whole chunks or inner chunks),
        on stores that need no event loop, runs right here: the hop to a worker
        thread and back costs a good part of the work (the C part drops the
        GIL anyway; the loop waits a few ms at most)."""
        shape = batch[0][1].shape
        unit = plan.kernel.shape if plan.shard is not None else shape  # what decodes whole
        total = 0
        for b in batch:
            if not isinstance(b[2], tuple) or len(b[2]) != len(shape):
                return False
            n = math.prod(unit) * plan.dtype.itemsize
            for s, size, u in zip(b[2], shape, unit):
                if isinstance(s, slice):
                    r = range(*s.indices(size))
                    n *= (r[-1] // u - r[0] // u + 1) if r else 0
                elif not isinstance(s, (int, np.integer)):
                    return False
            total += n
            if total > _INLINE_BYTES:
                return False
        return all(_store_supports_sync_io(b[0].store) for b in batch)

    @staticmethod
    def _windows(plan: _Plan, batch, min_items: int = 1, whole: bool = False,
                 limit: int | None = None, max_items: int | None = None) -> list:
        """The batch cut into windows of about ``limit`` bytes (and at least
        min_items, at most max_items chunks), so a whole-array read or write
        holds the bytes of a window or two at a time, not of the whole array.
        Reads weigh each chunk by its selection, so many small reads of big
        shards share one window (a fancy selection by what its temporary may
        take: up to 16x the selection, see _fancy_plan); writes (whole=True)
        by the whole chunk, which a partial write holds old and re-encoded."""
        shape = batch[0][1].shape
        chunk = math.prod(shape)
        limit = _WINDOW_BYTES if limit is None else limit
        windows, cur, size = [], [], 0
        for b in batch:
            if whole:
                n = chunk
            else:
                n = _selected_items(b[2], shape)
                if not _is_basic(b[2]):
                    n = min(chunk, 16 * n)
            n *= plan.dtype.itemsize
            if cur and (size + n > limit and len(cur) >= min_items or len(cur) == max_items):
                windows.append(cur)
                cur, size = [], 0
            cur.append(b)
            size += n
        windows.append(cur)
        return windows

    def _write_windows(self, plan: _Plan, batch, arr, value, drop_axes, io: _IO):
        """Encodes window by window; a helper thread stores one window's
        chunks while C encodes the next."""
        pending = None
        # Remote stores: enough chunks per window to keep zarr's
        # async.concurrency PUTs in flight, not one big shard at a time.
        remote = not _store_supports_sync_io(batch[0][0].store)
        try:
            for w in self._windows(plan, batch, _retry.concurrency() if remote else 1, whole=True):
                ops = self._write_native(plan, w, arr, value, drop_axes, io)
                if pending is not None:
                    pending.result()
                pending = Background(io.put, ops)
            if pending is not None:
                pending.result()
        finally:
            if pending is not None:
                pending.join()

    def _read_windows(self, plan: _Plan, batch, arr: np.ndarray, drop_axes, io: _IO):
        """Reads window by window; the next window's bytes are fetched on a
        helper thread while C decodes the current one (both drop the GIL)."""
        if all(type(b[0].store) is LocalStore for b in batch):
            # C reads local files itself: a window holds open files, not bytes.
            windows = self._windows(plan, batch, limit=_LOCAL_WINDOW_BYTES, max_items=_LOCAL_MAX_FILES)
        else:
            windows = self._windows(plan, batch)
        if len(windows) == 1:
            return self._read_decode(plan, batch, arr, drop_axes,
                                     *self._read_fetch(plan, batch, arr, drop_axes, io))
        # Fetches run ahead of decoding: one window for sync stores; for
        # remote ones enough windows to keep async.concurrency requests in
        # flight (each window of big shards is one or two GETs), so C decodes
        # the first shards while the rest download.
        depth = 1
        if not _store_supports_sync_io(batch[0][0].store):
            depth = max(1, _retry.concurrency() // len(windows[0]))
        results: list[Any] = []
        pending: deque[Background] = deque()
        try:
            for j, w in enumerate(windows):
                while len(pending) <= depth and j + len(pending) < len(windows):
                    pending.append(Background(self._read_fetch, plan, windows[j + len(pending)], arr,
                                              drop_axes, io))
                fetched = pending.popleft().result()
                results.extend(self._read_decode(plan, w, arr, drop_axes, *fetched))
        finally:
            for p in pending:  # after an error: close what the fetches ahead opened
                with suppress(BaseException):
                    for fd in p.result()[3]:
                        os.close(fd)
        return tuple(results)

    @staticmethod
    def _groups(batch) -> list[list[int]]:
        # By spec value: rectilinear grids make one ArraySpec object per chunk.
        groups: dict[Any, list[int]] = {}
        for i, b in enumerate(batch):
            try:
                key = hash(b[1]), b[1]
            except TypeError:
                key = id(b[1])
            groups.setdefault(key, []).append(i)
        return list(groups.values())

    def _read_fetch(self, plan: _Plan, batch, arr: np.ndarray, drop_axes, io: _IO):
        spec = batch[0][1]
        boxes = [_box(b[2], b[3], spec.shape, arr, drop_axes) for b in batch]
        # Fancy selections: a few points of a big shard cost the inner
        # chunks they touch, not the shard (see _fancy_plan).
        inner = plan.kernel.shape if plan.shard is not None else None
        fancy = {i: _fancy_plan(b[2], spec.shape, inner, plan.dtype)
                 for i, b in enumerate(batch) if boxes[i] is None}
        if all(type(b[0].store) is LocalStore for b in batch):  # windows hold <= _LOCAL_MAX_FILES
            sources, fds = _open_local(plan, batch)
            return boxes, sources, fancy, fds
        if plan.shard is not None:
            sources = self._fetch_shards(plan, batch, boxes, fancy, arr, io)
        else:
            sources = io.get([(b[0], None) for b in batch])
        return boxes, sources, fancy, ()

    def _read_decode(self, plan: _Plan, batch, arr: np.ndarray, drop_axes, boxes, sources, fancy, fds):
        try:
            return self._decode(plan, batch, arr, drop_axes, boxes, sources, fancy)
        finally:
            for fd in fds:
                os.close(fd)

    def _decode(self, plan: _Plan, batch, arr: np.ndarray, drop_axes, boxes, sources, fancy):
        spec = batch[0][1]
        keys = [b[0].path for b in batch]
        direct = [i for i in range(len(batch)) if i not in fancy]
        k = plan.shard or plan.kernel
        try:
            k.read([(boxes[i], sources[i]) for i in direct], arr)
        except CodecError as e:
            raise _key_error(e, [keys[i] for i in direct]) from None
        for i, (fboxes, tmp, take, _) in fancy.items():
            b = batch[i]
            if sources[i] is None:
                arr[b[3]] = fill_value_or_default(spec)
                continue
            try:
                k.read([(box, sources[i]) for box in fboxes], tmp)
            except CodecError as e:
                raise _key_error(e, [keys[i]]) from None
            sel = take(tmp)
            if drop_axes:
                sel = sel.squeeze(axis=drop_axes)
            arr[b[3]] = sel
        return tuple(GetResult(status="missing" if s is None else "present") for s in sources)

    @staticmethod
    def _touched(sk, i, boxes, fancy, arr) -> list[int]:
        if i not in fancy:
            return sk.touched(boxes[i], arr)
        fboxes, tmp, _, touched = fancy[i]
        return touched if touched is not None else sk.touched(fboxes[0], tmp)

    def _fetch_shards(self, plan: _Plan, batch, boxes, fancy, arr, io: _IO) -> list:
        sk = plan.shard
        whole, partial = [], []
        for i, b in enumerate(batch):
            if b[4]:
                whole.append(i)
                continue
            touched = self._touched(sk, i, boxes, fancy, arr)
            (partial if 2 * len(touched) < sk.n_inner else whole).append(i)
        sources: list[Any] = [None] * len(batch)
        index_req = (RangeByteRequest(0, sk.index_size) if sk.index_at_start
                     else SuffixByteRequest(sk.index_size))
        got = io.get([(batch[i][0], None) for i in whole] + [(batch[i][0], index_req) for i in partial])
        for i, g in zip(whole, got):
            sources[i] = g
        cfg = batch[0][1].config
        gap, maxlen = cfg.sharding_coalesce_max_gap_bytes, cfg.sharding_coalesce_max_bytes
        range_reqs, range_owner = [], []
        plans = {}
        for i, idx in zip(partial, got[len(whole):]):
            if idx is None:
                continue
            if len(idx) != sk.index_size:
                raise ChunkError(f"chunk {batch[i][0].path!r}: shard shorter than its index", batch[i][0].path)
            try:
                pairs = sk.decode_index(idx)
            except CodecError as e:
                raise ChunkError(f"chunk {batch[i][0].path!r}: {e}", batch[i][0].path) from None
            want = sorted((int(pairs[t, 0]), int(pairs[t, 1]), t) for t in self._touched(sk, i, boxes, fancy, arr)
                          if pairs[t, 0] != _EMPTY)
            runs: list[list] = []
            for off, n, t in want:
                if runs and off - runs[-1][1] <= gap and off + n - runs[-1][0] <= maxlen and off >= runs[-1][1]:
                    runs[-1][1] = max(runs[-1][1], off + n)
                    runs[-1][2].append((off, n, t))
                else:
                    runs.append([off, off + n, [(off, n, t)]])
            plans[i] = (pairs, runs)
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
        for i, (pairs, _) in plans.items():
            sources[i] = (pairs, parts[i])
        return sources

    # ---- write ----

    async def write(self, batch_info, value, drop_axes=()):
        batch = list(batch_info)
        if not batch:
            return
        groups = self._groups(batch)
        if len(groups) > 1:
            for idxs in groups:
                await self.write([batch[i] for i in idxs], value, drop_axes)
            return
        native = self._native_batch(batch, value)
        if isinstance(native, str):
            return await super().write(batch, value, drop_axes)
        plan, arr = native
        io = _IO(asyncio.get_running_loop())
        io.check_writable(batch)
        await asyncio.to_thread(self._write_windows, plan, batch, arr, value, drop_axes, io)

    def _write_native(self, plan: _Plan, batch, arr: np.ndarray, value: NDBuffer, drop_axes, io: _IO):
        spec = batch[0][1]
        keys = [b[0].path for b in batch]
        if arr.dtype != plan.dtype:
            arr = arr.astype(plan.dtype)
        boxes = [_box(b[2], b[3], spec.shape, arr, drop_axes) for b in batch]
        k = plan.shard or plan.kernel

        def full(box):
            return box is not None and all(
                s == 0 and c == n and (c == 1 or t == 1)
                for s, t, c, n in zip(box[0], box[1], box[2], spec.shape))

        need_old = [i for i, b in enumerate(boxes) if not full(b)]
        olds: list[Any] = [None] * len(batch)
        for i, g in zip(need_old, io.get([(batch[i][0], None) for i in need_old])):
            olds[i] = g
        items, tmps = [], []
        for i, b in enumerate(batch):
            if boxes[i] is not None:
                items.append((boxes[i], olds[i], arr))
                continue
            # Fancy selection: decode the whole chunk, merge with numpy.
            existing = None
            if olds[i] is not None:
                tmp = np.empty(spec.shape, dtype=plan.dtype)
                try:
                    k.read([(_full_box(spec.shape, tmp), olds[i])], tmp)
                except CodecError as e:
                    raise _key_error(e, [keys[i]]) from None
                existing = spec.prototype.nd_buffer.from_numpy_array(tmp)
            merged = _merge_chunk_array(existing, value, b[3], spec, b[2], b[4], drop_axes)
            m = np.asarray(merged.as_numpy_array(), dtype=plan.dtype)
            tmps.append(m)
            items.append((_full_box(spec.shape, m), None, m))
        # Group by source array (the value, or each fancy chunk's own buffer).
        results: list[Any] = [None] * len(batch)
        by_arr: dict[int, list[int]] = {}
        for i, it in enumerate(items):
            by_arr.setdefault(id(it[2]), []).append(i)
        write_empty = spec.config.write_empty_chunks
        for idxs in by_arr.values():
            a = items[idxs[0]][2]
            try:
                enc = k.write([(items[i][0], items[i][1]) for i in idxs], a, write_empty)
            except CodecError as e:
                raise _key_error(e, [keys[i] for i in idxs]) from None
            for i, e in zip(idxs, enc):
                results[i] = e
        ops = []
        for i, b in enumerate(batch):
            if results[i] is None and olds[i] is None and i in need_old:
                continue  # was missing, stays missing
            ops.append((b[0], results[i]))
        return ops


def pipeline_info(array) -> str:
    """"native", or "fallback: <reason>", for a zarr Array or AsyncArray."""
    a = getattr(array, "_async_array", array)
    p = a.codec_pipeline
    if not isinstance(p, CodecPipeline):
        return f"fallback: the codec pipeline is {type(p).__module__}.{type(p).__qualname__}"
    from zarr.core.array import _get_chunk_spec

    try:
        spec = _get_chunk_spec(a.metadata, a._chunk_grid, (0,) * a.metadata.ndim, a.config,
                               default_buffer_prototype())
    except IndexError:
        return "native"  # an empty array: no chunk is ever read or written
    try:
        dt = np.dtype(spec.dtype.to_native_dtype())
    except Exception as e:  # noqa: BLE001
        return f"fallback: dtype {spec.dtype}: {e}"
    plan = p._plan(spec, dt)
    return f"fallback: {plan}" if isinstance(plan, str) else "native"


if sys.version_info < (3, 12):  # pragma: no cover
    raise ImportError("omezarr_fast needs Python >= 3.12")
