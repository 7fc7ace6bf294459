"""What the reader layer's lazy arrays share: numpy's shape vocabulary over
``shape`` and ``dtype``, key normalisation, and the block read of arrays stored
as planes (TIFF pages), so the pyramid writer can treat any of them like an
array it slices block by block."""
from __future__ import annotations

import operator

import numpy as np

__all__ = ["LazyArray", "PlaneBlocks", "basic_key", "expand_key", "stepped"]


def expand_key(key, ndim: int) -> tuple:
    """``key`` as a tuple of one entry per axis: its one Ellipsis expanded and missing
    trailing axes filled with ``slice(None)``."""
    if not isinstance(key, tuple):
        key = (key,)
    if sum(k is Ellipsis for k in key) > 1:
        raise IndexError("an index can only have a single ellipsis")
    if Ellipsis in key:
        i = key.index(Ellipsis)
        key = key[:i] + (slice(None),) * (ndim - len(key) + 1) + key[i + 1:]
    if len(key) > ndim:
        raise IndexError(f"too many indices: {len(key)} for {ndim} dimensions")
    return key + (slice(None),) * (ndim - len(key))


def basic_key(key, shape) -> tuple[list[slice], list[bool]]:
    """A key of integers, step-1 slices and one Ellipsis over ``shape`` as one
    ``slice(start, stop)`` per axis (bounds resolved) and, per axis, whether the
    result keeps it (a slice) or drops it (an integer)."""
    out, keep = [], []
    for k, n in zip(expand_key(key, len(shape)), shape):
        if isinstance(k, slice):
            start, stop, step = k.indices(n)
            if step != 1:
                raise IndexError("this array takes slices with step 1 and integers")
            out.append(slice(start, max(start, stop)))
            keep.append(True)
        else:
            i = operator.index(k)
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for an axis of size {n}")
            i %= n
            out.append(slice(i, i + 1))
            keep.append(False)
    return out, keep


def stepped(key, shape):
    """(the key with every stepped slice replaced by the step-1 range covering it, the
    selection that takes the steps from that range's result, or None when no slice steps)."""
    if not isinstance(key, tuple):
        key = (key,)
    if not any(isinstance(k, slice) and k.step not in (None, 1) for k in key):
        return key, None
    key = expand_key(key, len(shape))
    cover, post = [], []
    for k, n in zip(key, shape):
        if isinstance(k, slice) and k.step not in (None, 1):
            r = range(*k.indices(n))
            if not r:
                cover.append(slice(0, 0))
                post.append(slice(None))
                continue
            lo = min(r[0], r[-1])
            cover.append(slice(lo, max(r[0], r[-1]) + 1))
            stop = r[-1] - lo + (1 if k.step > 0 else -1)
            post.append(slice(r[0] - lo, stop if stop >= 0 else None, k.step))
        else:
            cover.append(k)
            if isinstance(k, slice):
                post.append(slice(None))
    return tuple(cover), tuple(post)


class LazyArray:
    """Base of the lazy array views; subclasses set ``shape`` and ``dtype`` and
    implement ``__getitem__`` (a block read)."""

    shape: tuple[int, ...]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(shape={self.shape}, dtype={self.dtype})"

    def __array__(self, dtype=None, copy=None):
        a = self[...]
        return a if dtype is None else a.astype(dtype, copy=False)


class PlaneBlocks(LazyArray):
    """Base of arrays stored as planes (``height x width``, with ``samples`` interleaved
    when more than one), one plane per index of the leading axes ``lead``: TIFF pages.

    Subclasses set ``shape``, ``dtype``, ``lead``, ``height``, ``width`` and ``samples`` and
    implement ``_fill(out, pages, ys, xs)``: fill ``out`` (planes x rows ``ys`` x columns
    ``xs`` [x samples], C order) from the planes numbered ``pages`` (flat indices into
    ``lead``).  Reading a key here does the rest: steps, integers, the Ellipsis, a
    selection of samples."""

    lead: tuple[int, ...]
    height: int
    width: int
    samples: int

    def __getitem__(self, key) -> np.ndarray:
        key, steps = stepped(key, self.shape)
        sl, keep = basic_key(key, self.shape)
        nl = len(self.lead)
        lead_sl, ys, xs = sl[:nl], sl[nl], sl[nl + 1]
        out = np.empty(tuple(s.stop - s.start for s in lead_sl) + (ys.stop - ys.start, xs.stop - xs.start) +
                       ((self.samples,) if self.samples > 1 else ()), self.dtype)
        if out.size:
            pages = np.ravel_multi_index(np.meshgrid(*(np.arange(s.start, s.stop) for s in lead_sl),
                                                     indexing="ij"), self.lead).reshape(-1) \
                if nl else np.zeros(1, np.int64)
            self._fill(out, pages, ys, xs)
        if self.samples > 1 and sl[-1] != slice(0, self.samples):
            out = out[..., sl[-1]]
        out = out.reshape(tuple(n for n, kp in zip(out.shape, keep) if kp))
        return out if steps is None else out[steps]

    def _fill(self, out: np.ndarray, pages: np.ndarray, ys: slice, xs: slice) -> None:
        raise NotImplementedError
