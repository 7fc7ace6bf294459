"""A zarr CodecPipeline whose chunk and shard work runs in C.

Select it with ``zarr.config.set({"codec_pipeline.path": "omezarr_fast.CodecPipeline"})``
(or ``omezarr_fast.enable()``, the ``zarr.codec_pipeline`` entry point, or
``ZARR_CODEC_PIPELINE__PATH``).

It subclasses zarr's FusedCodecPipeline, so construction, validation,
``compute_encoded_size``, ``decode``/``encode``, equality and pickling are
zarr's.  ``read`` and ``write`` take the native path when the array's codecs,
dtype and buffers allow it (:mod:`.plan`): one thread hop per batch (none for
small reads), then decode + scatter (or gather + encode) of every chunk and
inner chunk in one C call with the GIL released.  Bytes (:mod:`.store_io`):
LocalStore reads open the files in Python and each C task preads its own chunk
or inner chunk (no compressed copy held); otherwise they are fetched first
(LocalStore by one batched native read, MemoryStore by its sync API, other
stores by their async API, many requests at once, retried by ``_retry``).
Everything else (variable-length or structured dtypes, unknown codecs,
numcodecs filters, non-numpy buffers, nested sharding) goes to zarr's own
implementation, per array and silently (a debug log line);
:func:`pipeline_info` says which.
"""
from __future__ import annotations

import asyncio
import logging
import math
import os
from collections import deque
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import numpy as np
from zarr.abc.codec import GetResult
from zarr.core.buffer import NDBuffer
from zarr.core.buffer import cpu as _cpu
from zarr.core.chunk_utils import fill_value_or_default
from zarr.core.codec_pipeline import FusedCodecPipeline
from zarr.storage import LocalStore

from omezarr_fast._background import Background
from omezarr_fast.errors import CodecError
from omezarr_fast.pipeline import _retry, remote_io, store_io
from omezarr_fast.pipeline._zarr_compat import (
    StorePath,
    async_array,
    first_chunk_spec,
    merge_chunk_array,
    supports_sync_io,
)
from omezarr_fast.pipeline.chunk_errors import chunk_error
from omezarr_fast.pipeline.plan import Plan, make_plan
from omezarr_fast.pipeline.selection import box, fancy_plan, full_box, is_basic, selected_items
from omezarr_fast.pipeline.store_io import StoreIO, fetch_shards, open_local

__all__ = ["CodecPipeline", "array_plan", "chunk_error", "pipeline_info"]

log = logging.getLogger("omezarr_fast.pipeline")

# Decoded bytes per native call (see CodecPipeline._windows).
_WINDOW_BYTES = 32 << 20
# Decoded bytes a read may take to run on the event loop (see read).  A
# 64^3 uint16 patch of 32^3 inner chunks decodes 27 x 64 KiB, about 1 ms of
# work on 2 cores; sending it to a worker thread made 64 such reads ~8% slower.
_INLINE_BYTES = 4 << 20
# Local reads hold one open file per chunk or shard of a window, and no encoded
# bytes: windows of at most store_io.LOCAL_MAX_FILES files and this much
# selected data (which only fancy selections' temporaries occupy).
_LOCAL_WINDOW_BYTES = 128 << 20


@dataclass(frozen=True)
class CodecPipeline(FusedCodecPipeline):
    """zarr's FusedCodecPipeline with native read and write paths."""

    # ---- pickling / caching: the native kernels are a per-process cache ----

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_ozf")}

    def __setstate__(self, state):
        self.__dict__.update(state)

    def native_plan(self, spec, dt_out: np.dtype) -> Plan | str:
        """The native :class:`~omezarr_fast.pipeline.plan.Plan` for this chunk spec
        (cached), or the reason zarr's path runs it."""
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
                plan = make_plan(self.codecs, spec, dt_out, fill)
            except (ValueError, TypeError, OverflowError) as e:
                plan = f"{type(e).__name__}: {e}"
            if isinstance(plan, str):
                log.debug("omezarr_fast: zarr's pipeline runs this array (%s)", plan)
            if len(cache) > 64:
                cache.clear()
            cache[key] = plan
        return plan

    def _native_batch(self, batch, buf: NDBuffer) -> tuple[Plan, np.ndarray] | str:
        arr = buf.as_ndarray_like()
        if type(arr) is not np.ndarray:
            return "buffer is not a numpy array"
        if not all(isinstance(b[0], StorePath) for b in batch):
            return "byte getters are not store paths"
        proto = batch[0][1].prototype
        if proto.buffer is not _cpu.Buffer or proto.nd_buffer is not _cpu.NDBuffer:
            return "a custom buffer prototype"
        plan = self.native_plan(batch[0][1], arr.dtype)
        if isinstance(plan, str):
            return plan
        return plan, arr

    # ---- read ----

    async def read(self, batch_info, out, drop_axes=()):
        batch = list(batch_info)
        if not batch:
            return ()
        # zarr passes one spec object for every chunk of a regular grid, so
        # the grouping by spec value is needed only when they differ.
        spec = batch[0][1]
        groups = [] if all(b[1] is spec for b in batch) else self._groups(batch)
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
        if not any(type(b[0].store) is LocalStore or supports_sync_io(b[0].store) for b in batch):
            # Object stores: fetched right here on the loop (no hop to a
            # worker thread and back for each request), see remote_io.
            got = await self._read_remote(plan, batch, arr, drop_axes)
            if got is not None:
                return got
        io = StoreIO(asyncio.get_running_loop())
        if len(batch) <= store_io.LOCAL_MAX_FILES and all(supports_sync_io(b[0].store) for b in batch):
            boxes = self._small(plan, spec.shape, (box(b[2], b[3], spec.shape, arr, drop_axes) for b in batch))
            if boxes is not None:
                # A small read on a store that needs no event loop (the single
                # patch of a training loop or viewer) runs right here, as one
                # window: the hop to a worker thread and back costs a good part
                # of the work (the C part drops the GIL anyway; the loop waits
                # a few ms at most).
                return self._read_decode(plan, batch, arr, drop_axes,
                                         *self._read_fetch(plan, batch, arr, drop_axes, io, boxes))
        return await asyncio.to_thread(self._read_windows, plan, batch, arr, drop_axes, io)

    async def _read_remote(self, plan: Plan, batch, arr: np.ndarray, drop_axes):
        """Basic selections from stores with only an async API: fetched on this
        loop and decoded as shards arrive (on the loop itself when the read is
        small); None for fancy selections (the windowed path reads those)."""
        spec = batch[0][1]
        boxes = [box(b[2], b[3], spec.shape, arr, drop_axes) for b in batch]
        if any(bx is None for bx in boxes):
            return None
        groups = [remote_io.Group(b[0], [bx], bool(b[4])) for b, bx in zip(batch, boxes)]
        inline = self._small(plan, spec.shape, boxes) is not None
        present = await remote_io.read(plan, groups, arr, spec.config, inline=inline)
        return tuple(GetResult(status="present" if p else "missing") for p in present)

    @staticmethod
    def _small(plan: Plan, shape: tuple[int, ...], boxes) -> list | None:
        """The boxes as a list if they (basic selections, None for fancy ones)
        decode at most _INLINE_BYTES, counted in whole chunks or inner chunks;
        else None, found at the first box past the limit, so a big read given
        a generator makes only a few of its boxes here."""
        unit = plan.kernel.shape if plan.shard is not None else shape  # what decodes whole
        whole = math.prod(unit) * plan.dtype.itemsize
        total = 0
        seen = []
        for bx in boxes:
            if bx is None:
                return None
            n = whole
            for start, step, count, u in zip(bx.starts, bx.steps, bx.counts, unit):
                n *= (start + (count - 1) * step) // u - start // u + 1 if count else 0
            total += n
            if total > _INLINE_BYTES:
                return None
            seen.append(bx)
        return seen

    @staticmethod
    def _windows(plan: Plan, batch, min_items: int = 1, whole: bool = False,
                 limit: int | None = None, max_items: int | None = None) -> list:
        """The batch cut into windows of about ``limit`` bytes (and at least
        min_items, at most max_items chunks), so a whole-array read or write
        holds the bytes of a window or two at a time, not of the whole array.
        Reads weigh each chunk by its selection, so many small reads of big
        shards share one window (a fancy selection by what its temporary may
        take: up to 16x the selection, see selection.fancy_plan); writes (whole=True)
        by the whole chunk, which a partial write holds old and re-encoded."""
        shape = batch[0][1].shape
        chunk = math.prod(shape)
        limit = _WINDOW_BYTES if limit is None else limit
        windows, cur, size = [], [], 0
        for b in batch:
            if whole:
                n = chunk
            else:
                n = selected_items(b[2], shape)
                if not is_basic(b[2]):
                    n = min(chunk, 16 * n)
            n *= plan.dtype.itemsize
            if cur and (size + n > limit and len(cur) >= min_items or len(cur) == max_items):
                windows.append(cur)
                cur, size = [], 0
            cur.append(b)
            size += n
        windows.append(cur)
        return windows

    def _write_windows(self, plan: Plan, batch, arr, value, drop_axes, io: StoreIO):
        """Encodes window by window; a helper thread stores one window's
        chunks while C encodes the next."""
        pending = None
        # Remote stores: enough chunks per window to keep zarr's
        # async.concurrency PUTs in flight, not one big shard at a time.
        remote = not supports_sync_io(batch[0][0].store)
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

    def _read_windows(self, plan: Plan, batch, arr: np.ndarray, drop_axes, io: StoreIO):
        """Reads window by window; the next window's bytes are fetched on a
        helper thread while C decodes the current one (both drop the GIL)."""
        if all(type(b[0].store) is LocalStore for b in batch):
            # C reads local files itself: a window holds open files, not bytes.
            windows = self._windows(plan, batch, limit=_LOCAL_WINDOW_BYTES, max_items=store_io.LOCAL_MAX_FILES)
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
        if not supports_sync_io(batch[0][0].store):
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

    def _read_fetch(self, plan: Plan, batch, arr: np.ndarray, drop_axes, io: StoreIO, boxes=None):
        spec = batch[0][1]
        if boxes is None:
            boxes = [box(b[2], b[3], spec.shape, arr, drop_axes) for b in batch]
        # Fancy selections: a few points of a big shard cost the inner
        # chunks they touch, not the shard (see selection.fancy_plan).
        inner = plan.kernel.shape if plan.shard is not None else None
        fancy = {i: fancy_plan(b[2], spec.shape, inner, plan.dtype)
                 for i, b in enumerate(batch) if boxes[i] is None}
        if all(type(b[0].store) is LocalStore for b in batch):  # windows hold <= LOCAL_MAX_FILES
            sources, fds = open_local(plan, batch)
            return boxes, sources, fancy, fds
        if plan.shard is not None:
            sources = fetch_shards(plan, batch, lambda i: self._touched(plan.shard, i, boxes, fancy, arr), io)
        else:
            sources = io.get([(b[0], None) for b in batch])
        return boxes, sources, fancy, ()

    def _read_decode(self, plan: Plan, batch, arr: np.ndarray, drop_axes, boxes, sources, fancy, fds):
        try:
            return self._decode(plan, batch, arr, drop_axes, boxes, sources, fancy)
        finally:
            for fd in fds:
                os.close(fd)

    def _decode(self, plan: Plan, batch, arr: np.ndarray, drop_axes, boxes, sources, fancy):
        spec = batch[0][1]
        keys = [b[0].path for b in batch]
        direct = [i for i in range(len(batch)) if i not in fancy]
        k = plan.shard or plan.kernel
        try:
            k.read([(boxes[i], sources[i]) for i in direct], arr)
        except (CodecError, OSError) as e:
            raise chunk_error(e, [keys[i] for i in direct]) from None
        for i, (fboxes, tmp, take, _) in fancy.items():
            b = batch[i]
            if sources[i] is None:
                arr[b[3]] = fill_value_or_default(spec)
                continue
            try:
                k.read([(fb, sources[i]) for fb in fboxes], tmp)
            except (CodecError, OSError) as e:  # every item reads the same chunk
                raise chunk_error(e, [keys[i]] * len(fboxes)) from None
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
        io = StoreIO(asyncio.get_running_loop())
        io.check_writable(batch)
        await asyncio.to_thread(self._write_windows, plan, batch, arr, value, drop_axes, io)

    def _write_native(self, plan: Plan, batch, arr: np.ndarray, value: NDBuffer, drop_axes, io: StoreIO):
        spec = batch[0][1]
        keys = [b[0].path for b in batch]
        if arr.dtype != plan.dtype:
            arr = arr.astype(plan.dtype)
        boxes = [box(b[2], b[3], spec.shape, arr, drop_axes) for b in batch]
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
                    k.read([(full_box(spec.shape, tmp), olds[i])], tmp)
                except (CodecError, OSError) as e:
                    raise chunk_error(e, [keys[i]]) from None
                existing = spec.prototype.nd_buffer.from_numpy_array(tmp)
            merged = merge_chunk_array(existing, value, b[3], spec, b[2], b[4], drop_axes)
            m = np.asarray(merged.as_numpy_array(), dtype=plan.dtype)
            tmps.append(m)
            items.append((full_box(spec.shape, m), None, m))
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
            except (CodecError, OSError) as e:
                raise chunk_error(e, [keys[i] for i in idxs]) from None
            for i, e in zip(idxs, enc):
                results[i] = e
        ops = []
        for i, b in enumerate(batch):
            if results[i] is None and olds[i] is None and i in need_old:
                continue  # was missing, stays missing
            ops.append((b[0], results[i]))
        return ops



def array_plan(array) -> Plan | str:
    """The native plan of a zarr Array's (or AsyncArray's) chunks, or the reason zarr's
    pipeline runs it."""
    a = async_array(array)
    p = a.codec_pipeline
    if not isinstance(p, CodecPipeline):
        return f"the codec pipeline is {type(p).__module__}.{type(p).__qualname__}"
    spec = first_chunk_spec(a)
    try:
        dt = np.dtype(spec.dtype.to_native_dtype())
    except Exception as e:  # noqa: BLE001
        return f"dtype {spec.dtype}: {e}"
    return p.native_plan(spec, dt)


def pipeline_info(array) -> str:
    """"native", or "fallback: <reason>", for a zarr Array or AsyncArray."""
    try:
        plan = array_plan(array)
    except IndexError:
        return "native"  # an empty array: no chunk is ever read or written
    return f"fallback: {plan}" if isinstance(plan, str) else "native"
