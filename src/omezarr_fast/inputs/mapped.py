"""Memory-mapped files read block by block without keeping what was read resident.

An uncompressed TIFF or a ``.npy`` is opened as a memory map. Every page a read
touches stays mapped into the process (counted in its RSS) until the map is
closed, so streaming a 1 GiB file through one map ends with 1 GiB resident,
though only one block is in use at a time; and each page costs a fault.
:class:`FileBlocks` reads a C-ordered map's blocks with ``os.preadv`` instead (the
kernel copies from its page cache, one call per contiguous run, nothing stays
mapped); :class:`ReleasingMap`, for any other map, copies each block out and hands
the pages behind it back (``madvise(MADV_DONTNEED)``).
"""
from __future__ import annotations

import ctypes
import mmap
import os
import sys

import numpy as np

from omezarr_fast.inputs.lazy import LazyArray, basic_key

__all__ = ["FileBlocks", "ReleasingMap", "streamed"]

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


class ReleasingMap(LazyArray):
    """A read-only memory-mapped array whose reads return copies and release their pages.

    Has ``shape``, ``dtype``, ``ndim`` and ``chunks`` (None) and slicing like the map."""

    def __init__(self, array: np.ndarray):
        self.array = array
        self.shape = tuple(int(n) for n in array.shape)
        self.dtype = np.dtype(array.dtype)
        self.chunks = None

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


class FileBlocks(LazyArray):
    """A C-ordered array stored contiguously in a file at ``offset``, read block by block
    with ``os.preadv`` straight into the returned array (one call per contiguous run)."""

    def __init__(self, path, offset: int, shape, dtype):
        self.path = os.fspath(path)
        self.offset = int(offset)
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)
        self.chunks = None
        self._fd = os.open(self.path, os.O_RDONLY)

    def __del__(self):
        fd = getattr(self, "_fd", None)
        if fd is not None:
            os.close(fd)
            self._fd = None

    def __reduce__(self):
        return FileBlocks, (self.path, self.offset, self.shape, self.dtype)

    def __repr__(self) -> str:
        return f"FileBlocks({self.path!r}, shape={self.shape}, dtype={self.dtype})"

    def __getitem__(self, key) -> np.ndarray:
        sl, keep = basic_key(key, self.shape)
        shape = tuple(s.stop - s.start for s in sl)
        out = np.empty(shape, self.dtype)
        if out.size:
            # Trailing axes read whole make one run with the first partial axis before them.
            d = self.ndim - 1
            while d > 0 and shape[d] == self.shape[d]:
                d -= 1
            run = int(np.prod(shape[d:])) * self.dtype.itemsize
            strides = [int(np.prod(self.shape[i + 1:])) * self.dtype.itemsize
                       for i in range(self.ndim)]
            flat = out.reshape(-1).view(np.uint8)
            for k, idx in enumerate(np.ndindex(*shape[:d])):
                pos = self.offset + sum((s.start + i) * st for s, i, st in zip(sl, idx, strides)) \
                    + sl[d].start * strides[d]
                view = memoryview(flat[k * run:(k + 1) * run])
                got = os.preadv(self._fd, [view], pos)
                while got < run:       # a short read (a signal, a slow device): go on
                    more = os.preadv(self._fd, [view[got:]], pos + got)
                    if more <= 0:
                        raise OSError(f"{self.path}: unexpected end of file at byte {pos + got}")
                    got += more
        return out.reshape(tuple(n for n, kp in zip(shape, keep) if kp))


def streamed(array):
    """``array`` itself, or a reader that does not keep the pages it read mapped when it is
    a memory map: :class:`FileBlocks` for a C-ordered, native-endian np.memmap of a file,
    else :class:`ReleasingMap`."""
    if isinstance(array, np.memmap) and array.filename and array.flags.c_contiguous and \
            array.base is not None and hasattr(os, "preadv") and array.dtype.isnative:
        return FileBlocks(array.filename, array.offset, array.shape, array.dtype)
    if isinstance(array, np.memmap) or (isinstance(array, np.ndarray) and isinstance(array.base, mmap.mmap)):
        return ReleasingMap(array)
    return array
