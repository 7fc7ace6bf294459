"""The streaming pyramid engine in this process: read a block, downsample it to every
level, write each level's shards once.

The source is read once, in blocks aligned to level-0 shards; every level is built from
the block in hand with the native block downsampler
(:func:`omezarr_fast.downsample.downsample_block`), and each shard of each level is
written once.

Memory bound: a few source blocks (below) plus, per lower level, the shards that are only
partly filled: with the default layout (a lower level's shard is the level-0 shard's
footprint, pyramid/layout.py) only levels whose shard is a single chunk larger than that
footprint, so little.  A block is a level-0 shard rounded up to a multiple of
``f**(levels-1)`` on downsampled axes (doubled along the slowest axes only when
that holds fewer than 4 inner chunks per thread: the pipeline encodes the inner
chunks of one write in parallel).  Blocks are visited grouped by the
coarsest level's shard (then the next finer, ...), so with the default power-of-two
chunks and shards at most one pending shard per level exists at a time.  The shard
writes of up to two blocks (one for zarr and dask sources, whose blocks are copies)
run on helper threads while the next block is read and downsampled (so no core idles
through a write's serial tail): about
``2 * (block + block's downsampled outputs + encoded shards) + pending shards``
(with 32 MiB shards: ~2 * (32 + 11 + 32) MiB + a few MiB; a numpy source's block is
a view, not a copy, and a zarr source is read shard by shard straight into the
block).  A write lets each region go once it is written.
"""
from __future__ import annotations

import itertools
import math
from collections import deque

import numpy as np

from omezarr_fast._background import Background
from omezarr_fast._threads import get_num_threads
from omezarr_fast._util import progress as progress_display
from omezarr_fast.pyramid.factors import cumulative, downsample_chain, level_factors

__all__ = ["WRITES_IN_FLIGHT", "LevelSink", "block_shape", "write_pyramid"]


class LevelSink:
    """Collects the regions of one level and writes each shard once, when complete."""

    def __init__(self, array, unit):
        self.array = array
        self.unit = unit  # the write unit: the shard (v3) or a block of chunks (v2)
        self.pending: dict[tuple[int, ...], list] = {}
        self.ready: list | None = None  # a list: writes are queued here, not run

    def _write(self, key, data):
        if self.ready is None:
            self.array[key] = data
        else:
            self.ready.append((self.array, key, data))

    def _box(self, idx):
        start = [i * u for i, u in zip(idx, self.unit)]
        stop = [min(s + u, n) for s, u, n in zip(start, self.unit, self.array.shape)]
        return start, stop

    def put(self, origin, data):
        ends = [o + n for o, n in zip(origin, data.shape)]
        if all(o % u == 0 and (e % u == 0 or e >= n)
               for o, e, u, n in zip(origin, ends, self.unit, self.array.shape)):
            # Whole shards only: one call, so the pipeline encodes them in parallel.
            self._write(tuple(slice(o, min(e, n)) for o, e, n in
                              zip(origin, ends, self.array.shape)), data)
            return
        ranges = [range(o // u, -(-e // u)) for o, e, u in zip(origin, ends, self.unit)]
        for idx in itertools.product(*ranges):
            start, stop = self._box(idx)
            lo = [max(a, o) for a, o in zip(start, origin)]
            hi = [min(b, e) for b, e in zip(stop, ends)]
            src = tuple(slice(a - o, b - o) for a, b, o in zip(lo, hi, origin))
            if lo == start and hi == stop:  # the whole shard at once: no copy
                self._write(tuple(slice(a, b) for a, b in zip(start, stop)), data[src])
                continue
            entry = self.pending.get(idx)
            if entry is None:
                shape = [b - a for a, b in zip(start, stop)]
                entry = self.pending[idx] = [np.zeros(shape, data.dtype), 0]
            buf, filled = entry
            buf[tuple(slice(a - s, b - s) for a, b, s in zip(lo, hi, start))] = data[src]
            entry[1] = filled + math.prod(b - a for a, b in zip(lo, hi))
            if entry[1] == buf.size:
                self._write(tuple(slice(a, b) for a, b in zip(start, stop)), buf)
                del self.pending[idx]

    def close(self):
        if self.pending:  # unreachable unless the blocks missed part of the level
            raise RuntimeError(f"internal error: {len(self.pending)} shards left incomplete")


def _malloc_trim():
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc
        return lambda: None
    trim.argtypes = [ctypes.c_size_t]
    return lambda: trim(0)


# Freed block-sized buffers stay in the malloc arenas of the threads that freed them
# (zarr's and ours), which grew peak RSS by ~1.5 blocks per thread; glibc's
# malloc_trim hands them back to the OS after every block.
_release_freed_memory = _malloc_trim()


# Blocks whose shard writes may run at once.  A block's writes end in serial steps
# (the last shard's assembly and file write, zarr's per-call overhead) during which
# only one core works; a second block's writes in flight keep the other core
# encoding (numpy input: ~15% faster).  Each costs a block of encoded shards, and
# with a zarr or dask source the block itself, a copy (1 GiB zarr source: peak
# beyond the libraries 20-22% of the image with one in flight, 24-29% with two,
# ~5% slower), so those get one.
WRITES_IN_FLIGHT = {"view": 2, "copy": 1}


def write_pyramid(read, shape, dtype, arrays, factors, method, block, progress, in_flight=2,
                  on_block=None):
    """Fill ``arrays`` (``[(zarr array, write unit), ...]``, level 0 first) from
    ``read(slices)`` of a level-0 image of ``shape``, block by block of ``block``.

    factors: per axis (every level) or one tuple per level step (see
    :mod:`omezarr_fast.pyramid.factors`).  on_block: called as ``on_block(origin, data)``
    with every level-0 block read (e.g. to gather statistics on the way)."""
    nlevels = len(arrays)
    steps = level_factors(factors, nlevels)
    cum = cumulative(steps, len(shape))
    sinks = [LevelSink(a, u) for a, u in arrays]
    counts = [-(-n // b) for n, b in zip(shape, block)]

    def key(idx):
        # Group blocks by the write unit of the coarsest level, then finer levels, so
        # partly filled shards complete soon (the memory bound in the module docstring).
        origin = [i * b for i, b in zip(idx, block)]
        k = []
        for lvl in range(nlevels - 1, -1, -1):
            k.append(tuple(o // ff // u for o, ff, u in zip(origin, cum[lvl], sinks[lvl].unit)))
        return tuple(k), idx

    def run(writes):
        # Each region is let go once written: a block's level-0 data is freed before
        # a lower level's completed shard is encoded after it (a block less at the peak).
        writes.reverse()
        while writes:
            array, sel, data = writes.pop()
            array[sel] = data
            del data

    order = sorted(itertools.product(*(range(c) for c in counts)), key=key)
    bar = progress_display(progress, len(order), "writing pyramid")
    # Each shard is written exactly once, so writes of different blocks never touch
    # the same stored object and may run concurrently (each on its own short-lived
    # thread, like the pipeline's store writes; the encoding is on the native pool).
    inflight: deque = deque()
    try:
        for idx in order:
            origin = [i * b for i, b in zip(idx, block)]
            sl = tuple(slice(o, min(o + b, n)) for o, b, n in zip(origin, block, shape))
            # No copy of a numpy source's block: the downsampler and the pipeline take
            # strided views (saves one block of memory and a pass over it).
            data = np.asarray(read(sl))
            if data.dtype != dtype:
                data = data.astype(dtype)
            if on_block is not None:
                on_block(origin, data)
            writes: list = []
            for s in sinks:
                s.ready = writes
            sinks[0].put(origin, data)
            outs = ()
            if nlevels > 1:
                outs = downsample_chain(data, steps, method, origin=origin, image_shape=shape)
                for lvl, out in enumerate(outs, start=1):
                    sinks[lvl].put([o // f for o, f in zip(origin, cum[lvl])], out)
            del data, outs
            while len(inflight) >= in_flight:
                inflight.popleft().result()
                _release_freed_memory()
            if writes:
                inflight.append(Background(run, writes))
            del writes
            if bar is not None:
                bar.advance()
        while inflight:
            inflight.popleft().result()
    finally:
        for t in inflight:  # after an error: let the other writes finish first
            t.join()
        if bar is not None:
            bar.close()
    _release_freed_memory()
    for s in sinks:
        s.close()


def block_shape(shape, unit, inner, factors, nlevels, source_chunks=None) -> list[int]:
    """The level-0 block: the write unit rounded up to the cumulative factor, so that
    downsample_block's alignment rule holds for every block.  The pipeline encodes a
    write's inner chunks in parallel, so one shard per block keeps every thread busy
    and memory at one shard; only blocks of very few chunks (small shards) grow until
    each thread has a few chunks to encode.

    source_chunks: the source's storage unit (TIFF tiles or strips, HDF5 chunks): the
    block grows to whole multiples of it, so no tile or strip is decoded twice."""
    steps = level_factors(factors, nlevels)
    cum = cumulative(steps, len(shape))[-1]
    block = [-(-u // c) * c for u, c in zip(unit, cum)]
    if source_chunks is not None:
        for d, (b, c, n) in enumerate(zip(block, source_chunks, shape)):
            c = min(int(c), n)
            if c > 1 and b < n and b % c:
                # A strip as wide as the image makes the block as wide; tiles that do not
                # divide the block are decoded twice rather than grow it without bound.
                lcm = math.lcm(b, c)
                if lcm <= 4 * b or lcm >= n:
                    block[d] = min(lcm, -(-n // b) * b)
    want = 4 * get_num_threads()
    for d in range(len(block)):
        while math.prod(-(-b // c) for b, c in zip(block, inner)) < want and block[d] < shape[d]:
            block[d] *= 2
    return block
