"""Memory maps read block by block without keeping what was read resident.

An uncompressed TIFF or a ``.npy`` is read through a memory map. Every page a
read touches stays mapped into the process (counted in its RSS) until the map
is closed, so streaming a 1 GiB file through one map ends with 1 GiB resident,
though only one block is in use at a time. :class:`ReleasingMap` copies each
block out and hands the pages behind it back (``madvise(MADV_DONTNEED)``: the
file's pages stay in the page cache, only this process's mapping of them goes).
"""
from __future__ import annotations

import ctypes
import mmap
import sys

import numpy as np

__all__ = ["ReleasingMap", "streamed"]

_PAGE = mmap.PAGESIZE
_MADV_DONTNEED = 4


def _madvise():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.madvise
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


_MADVISE = _madvise()


class ReleasingMap:
    """A read-only memory-mapped array whose reads return copies and release their pages.

    Has ``shape``, ``dtype``, ``ndim`` and ``chunks`` (None) and slicing like the map."""

    def __init__(self, array: np.ndarray):
        self.array = array
        self.shape = tuple(int(n) for n in array.shape)
        self.dtype = np.dtype(array.dtype)
        self.chunks = None

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"ReleasingMap(shape={self.shape}, dtype={self.dtype})"

    def __getitem__(self, key) -> np.ndarray:
        view = self.array[key]
        out = np.array(view, copy=True)
        if _MADVISE is not None and isinstance(view, np.ndarray) and view.size:
            self._release(view)
        return out

    def _release(self, view: np.ndarray) -> None:
        # The bytes the view spans, from its lowest to its highest element address.
        lo = hi = view.ctypes.data
        for n, st in zip(view.shape, view.strides):
            if st < 0:
                lo += (n - 1) * st
            else:
                hi += (n - 1) * st
        hi += view.itemsize
        # Whole pages inside the map only: pages shared with other data are harmless
        # to drop (they fault back in from the page cache).
        start = lo - lo % _PAGE
        _MADVISE(start, hi - start, _MADV_DONTNEED)

    def __array__(self, dtype=None, copy=None):
        a = self[...]
        return a if dtype is None else a.astype(dtype, copy=False)


def streamed(array):
    """``array`` itself, or a :class:`ReleasingMap` over it when it is a memory map."""
    if isinstance(array, np.memmap) or (isinstance(array, np.ndarray) and isinstance(array.base, mmap.mmap)):
        return ReleasingMap(array)
    return array
