# Batched local file opens and reads (csrc/fileio.c) for the pipeline's
# LocalStore path: one call opens, sizes and reads many files or byte ranges
# on the thread pool, without Python's per-file open/seek/read overhead, and
# applies the native reader's one file policy (fileio.h): inside the root,
# regular files only.
from libc.stdint cimport int64_t
from libc.stdlib cimport malloc, free
from omezarr_fast._lib.fileio cimport *

import os as _os


cdef class _OpenBatch:
    """The C arrays of one ozf_files_open call; closes what is still open when dropped."""
    cdef size_t n
    cdef const char** paths
    cdef int* fds
    cdef int64_t* sizes
    cdef int64_t* offsets
    cdef int64_t* lengths
    cdef int64_t* got
    cdef char** bufs
    cdef ozf_file_id* ids
    cdef ozf_status* st
    cdef list keep

    def __cinit__(self, size_t n):
        self.n = n
        self.paths = <const char**>malloc((n + 1) * sizeof(char*))
        self.fds = <int*>malloc((n + 1) * sizeof(int))
        self.sizes = <int64_t*>malloc((n + 1) * sizeof(int64_t))
        self.offsets = <int64_t*>malloc((n + 1) * sizeof(int64_t))
        self.lengths = <int64_t*>malloc((n + 1) * sizeof(int64_t))
        self.got = <int64_t*>malloc((n + 1) * sizeof(int64_t))
        self.bufs = <char**>malloc((n + 1) * sizeof(char*))
        self.ids = <ozf_file_id*>malloc((n + 1) * sizeof(ozf_file_id))
        self.st = <ozf_status*>malloc((n + 1) * sizeof(ozf_status))
        if not (self.paths and self.fds and self.sizes and self.offsets and self.lengths and self.got
                and self.bufs and self.ids and self.st):
            raise MemoryError()
        cdef size_t i
        for i in range(n):
            self.fds[i] = -1
            self.offsets[i] = 0
            self.lengths[i] = 0
            self.bufs[i] = NULL

    cdef void open(self, const char* root, list paths) except *:
        cdef size_t i
        self.keep = paths
        for i in range(self.n):
            self.paths[i] = <const char*>paths[i]
        with nogil:
            ozf_files_open(self.n, root, self.paths, self.fds, self.sizes, self.ids, self.st)

    cdef void read_close(self) noexcept:
        with nogil:
            ozf_files_read_close(self.n, self.fds, self.offsets, self.lengths, self.bufs, self.got,
                                 self.st)

    cdef void close_all(self) noexcept:
        cdef size_t i
        for i in range(self.n):
            if self.fds[i] >= 0:
                _os.close(self.fds[i])
                self.fds[i] = -1

    def __dealloc__(self):
        if self.fds:
            self.close_all()
        free(self.paths); free(self.fds); free(self.sizes); free(self.offsets); free(self.lengths)
        free(self.got); free(self.bufs); free(self.ids); free(self.st)


cdef bytes _fs(object p):
    return p if type(p) is bytes else _os.fsencode(p)


def open_files(root, list keys, bint identity=False):
    """Opens root/key for every key under the native reader's file policy
    (csrc/fileio.h): one (fd, size) per key, or None when it is missing (or
    a directory); with identity, (fd, size, (device, inode, size, mtime_ns,
    ctime_ns)), the fstat of the open file that a cache of its contents is
    checked against.  The caller closes the fds.  Raises, after closing every
    fd it opened, UnsafePathError for a key that resolves outside root or is
    not a regular file, OSError for any other failure; .index is the key's
    position."""
    cdef size_t n = len(keys), i
    cdef _OpenBatch b = _OpenBatch(n)
    cdef bytes croot = _fs(root)
    b.open(croot, [_fs(k) for k in keys])
    for i in range(n):
        if b.st[i].code:
            b.close_all()
            raise_status(&b.st[i], i, "", keys[i])
    if identity:
        out = [None if b.fds[i] < 0 else
               (b.fds[i], b.sizes[i], (b.ids[i].dev, b.ids[i].ino, b.sizes[i], b.ids[i].mtime_ns, b.ids[i].ctime_ns))
               for i in range(n)]
    else:
        out = [None if b.fds[i] < 0 else (b.fds[i], b.sizes[i]) for i in range(n)]
    for i in range(n):
        b.fds[i] = -1  # handed over to the caller
    return out


def read_files(list requests, root=None):
    """Reads [(path, start, end), ...]; returns one uint8 array (or None when
    the file is missing) per request.  With root, paths are relative to it
    and must resolve inside it (csrc/fileio.h).

    start >= 0 reads from that offset, start < 0 the last -start bytes;
    end < 0 reads to the end of the file, else up to end (exclusive).  Past
    the end of the file a read is short, as zarr's LocalStore does.
    """
    cdef size_t n = len(requests), i
    if n == 0:
        return []
    cdef _OpenBatch b = _OpenBatch(n)
    cdef bytes croot = None if root is None else _fs(root)
    cdef const char* rootp = NULL
    if croot is not None:
        rootp = croot
    b.open(rootp, [_fs(r[0]) for r in requests])
    try:
        out = [None] * n
        for i in range(n):
            if b.st[i].code:
                raise_status(&b.st[i], i, "", requests[i][0])
            if b.sizes[i] == -1:
                continue
            _, start, end = requests[i]
            size = b.sizes[i]
            first = max(0, size + start) if start < 0 else min(start, size)
            last = size if end < 0 else min(max(end, first), size)
            a = _np.empty(last - first, dtype=_np.uint8)
            out[i] = a
            b.offsets[i] = first
            b.lengths[i] = last - first
            b.bufs[i] = <char *><size_t>a.ctypes.data
    except BaseException:
        b.close_all()
        raise
    b.read_close()
    for i in range(n):
        if out[i] is None:
            continue
        if b.st[i].code:
            raise_status(&b.st[i], i, "", requests[i][0])
        if b.got[i] < b.lengths[i]:
            out[i] = out[i][:b.got[i]]  # the file shrank after it was sized
    return out
