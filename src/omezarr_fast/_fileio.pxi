# Batched local file reads (csrc/fileio.c) for the pipeline's LocalStore path:
# one call opens, sizes and reads many files or byte ranges on the thread pool,
# without Python's per-file open/seek/read overhead.
from libc.stdint cimport int64_t
from libc.stdlib cimport malloc, free
from omezarr_fast._lib.fileio cimport *

import os as _os

import numpy as _np


def read_files(list requests):
    """Reads [(path, start, end), ...]; returns one uint8 array (or None when
    the file is missing) per request.

    start >= 0 reads from that offset, start < 0 the last -start bytes;
    end < 0 reads to the end of the file, else up to end (exclusive).  Past
    the end of the file a read is short, as zarr's LocalStore does.
    """
    cdef size_t n = len(requests), i
    if n == 0:
        return []
    paths = [r[0] if type(r[0]) is bytes else _os.fsencode(r[0]) for r in requests]
    cdef const char **cpaths = <const char **>malloc(n * sizeof(char *))
    cdef int *fds = <int *>malloc(n * sizeof(int))
    cdef int64_t *sizes = <int64_t *>malloc(n * sizeof(int64_t))
    cdef int64_t *offsets = <int64_t *>malloc(n * sizeof(int64_t))
    cdef int64_t *lengths = <int64_t *>malloc(n * sizeof(int64_t))
    cdef int64_t *got = <int64_t *>malloc(n * sizeof(int64_t))
    cdef char **bufs = <char **>malloc(n * sizeof(char *))
    cdef bint opened = False
    try:
        if not (cpaths and fds and sizes and offsets and lengths and got and bufs):
            raise MemoryError()
        for i in range(n):
            cpaths[i] = <const char *>paths[i]
            fds[i] = -1
            lengths[i] = 0
            offsets[i] = 0
            bufs[i] = NULL
        with nogil:
            ozf_files_open(n, cpaths, fds, sizes)
        opened = True
        out = [None] * n
        for i in range(n):
            if sizes[i] < -1:
                raise OSError(-sizes[i], _os.strerror(-sizes[i]), requests[i][0])
            if sizes[i] == -1:
                continue
            _, start, end = requests[i]
            size = sizes[i]
            first = max(0, size + start) if start < 0 else min(start, size)
            last = size if end < 0 else min(max(end, first), size)
            a = _np.empty(last - first, dtype=_np.uint8)
            out[i] = a
            offsets[i] = first
            lengths[i] = last - first
            bufs[i] = <char *><size_t>a.ctypes.data
        with nogil:
            ozf_files_read_close(n, fds, offsets, lengths, bufs, got)
        opened = False
        for i in range(n):
            if out[i] is None:
                continue
            if got[i] < 0:
                raise OSError(-got[i], _os.strerror(-got[i]), requests[i][0])
            if got[i] < lengths[i]:
                out[i] = out[i][:got[i]]  # the file shrank after it was sized
        return out
    finally:
        if opened:  # an exception between the two steps: close what is open
            for i in range(n):
                lengths[i] = 0
            with nogil:
                ozf_files_read_close(n, fds, offsets, lengths, bufs, got)
        free(cpaths); free(fds); free(sizes); free(offsets); free(lengths); free(got); free(bufs)
