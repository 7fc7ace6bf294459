"""What the reader layer's lazy arrays share: numpy's shape vocabulary over
``shape`` and ``dtype``, so the pyramid writer can treat any of them like an
array it slices block by block."""
from __future__ import annotations

import operator

__all__ = ["LazyArray", "basic_key"]


def basic_key(key, shape) -> tuple[list[slice], list[bool]]:
    """A key of integers, step-1 slices and one Ellipsis over ``shape`` as one
    ``slice(start, stop)`` per axis (bounds resolved) and, per axis, whether the
    result keeps it (a slice) or drops it (an integer)."""
    ndim = len(shape)
    if not isinstance(key, tuple):
        key = (key,)
    if sum(k is Ellipsis for k in key) > 1:
        raise IndexError("an index can only have a single ellipsis")
    if Ellipsis in key:
        i = key.index(Ellipsis)
        key = key[:i] + (slice(None),) * (ndim - len(key) + 1) + key[i + 1:]
    key = key + (slice(None),) * (ndim - len(key))
    if len(key) != ndim:
        raise IndexError(f"too many indices: {len(key)} for {ndim} dimensions")
    out, keep = [], []
    for k, n in zip(key, shape):
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
