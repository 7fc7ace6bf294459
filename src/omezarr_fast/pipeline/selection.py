"""Chunk selections as the native core takes them.

zarr hands the pipeline, per chunk, a selection inside the chunk and where it
goes in the output.  A basic selection (integers and slices with positive steps)
becomes a :class:`Box`: C then decodes straight into (or encodes straight from)
the caller's array through its strides.  Fancy selections (integer arrays,
masks) become a :func:`fancy_plan`: C decodes the touched inner chunks into a
temporary and numpy picks the elements.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

__all__ = ["Box", "FancyPlan", "box", "fancy_plan", "full_box", "is_basic", "selected_items"]


class Box(NamedTuple):
    """A strided box of a chunk and where it lies in an array: element ``i`` on
    axis ``d`` is chunk index ``starts[d] + i * steps[d]`` and array byte
    ``offset + sum(i * strides[d])``."""

    starts: tuple[int, ...]
    steps: tuple[int, ...]
    counts: tuple[int, ...]
    offset: int
    strides: tuple[int, ...]


def box(chunk_sel, out_sel, shape, arr: np.ndarray, drop_axes) -> Box | None:
    """A basic selection as a native box, or None (zarr's numpy path)."""
    if drop_axes or not isinstance(chunk_sel, tuple) or len(chunk_sel) != len(shape):
        return None
    if type(out_sel) is tuple and len(out_sel) == len(chunk_sel) == arr.ndim:
        got = _slices_box(chunk_sel, out_sel, shape, arr)
        if got is not None:
            return got
    return _general_box(chunk_sel, out_sel, shape, arr)


def _slices_box(chunk_sel, out_sel, shape, arr: np.ndarray) -> Box | None:
    """The common case, read once per chunk of every read: unit-step slices
    on both sides, of equal lengths; None for anything else."""
    starts, counts = [], []
    offset = 0
    for s, o, n, size, stride in zip(chunk_sel, out_sel, shape, arr.shape, arr.strides):
        if type(s) is not slice or type(o) is not slice:
            return None
        start, stop, step = s.indices(n)
        ostart, ostop, ostep = o.indices(size)
        if step != 1 or ostep != 1 or stop - start != ostop - ostart or stop <= start:
            return None
        starts.append(start)
        counts.append(stop - start)
        offset += ostart * stride
    return Box(tuple(starts), (1,) * len(starts), tuple(counts), offset, arr.strides)


def _general_box(chunk_sel, out_sel, shape, arr: np.ndarray) -> Box | None:
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
    return Box(tuple(starts), tuple(steps), tuple(counts), offset, tuple(strides))


def full_box(shape: tuple[int, ...], arr: np.ndarray) -> Box:
    """The whole chunk, into ``arr`` (shaped like the chunk)."""
    return Box((0,) * len(shape), (1,) * len(shape), tuple(shape), 0, tuple(arr.strides))


def selected_items(chunk_sel, shape: tuple[int, ...]) -> int:
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


def is_basic(chunk_sel) -> bool:
    return isinstance(chunk_sel, tuple) and all(
        isinstance(s, (slice, int, np.integer)) and not isinstance(s, (bool, np.bool_)) for s in chunk_sel)


class FancyPlan(NamedTuple):
    """How to read a fancy chunk selection: C decodes ``boxes`` into ``buf``,
    ``take(buf)`` is the selection; ``touched`` lists the inner chunks read
    (None: all of them)."""

    boxes: list
    buf: np.ndarray
    take: object
    touched: list[int] | None


def fancy_plan(chunk_sel, shape: tuple[int, ...], inner: tuple[int, ...] | None,
               dtype: np.dtype) -> FancyPlan:
    """A small selection of a shard decodes only the inner chunks it touches,
    each into its own slot of ``buf`` (shape ``(n, *inner)``), and ``take``
    gathers by (slot, offset in the inner chunk) per element.  A large one, or
    an unsharded chunk (which decodes whole anyway), decodes the chunk and
    lets numpy select."""
    nd = len(shape)
    whole = np.empty(shape, dtype=dtype)
    plain = FancyPlan([full_box(shape, whole)], whole, lambda buf: buf[chunk_sel], None)
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
        boxes.append(Box(starts, (1,) * nd, counts, k * buf.strides[0], buf.strides[1:]))
    local = tuple(c % i for c, i in zip(coords, inner))
    return FancyPlan(boxes, buf, lambda buf: buf[(slot.reshape(lin.shape), *local)], cells.tolist())
