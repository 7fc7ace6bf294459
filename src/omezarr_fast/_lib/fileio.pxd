# Declarations for csrc/fileio.h.
from libc.stdint cimport int64_t
from omezarr_fast._lib.status cimport ozf_status

cdef extern from "fileio.h" nogil:
    ctypedef struct ozf_file_id:
        int64_t dev, ino, mtime_ns, ctime_ns
    void ozf_files_open(size_t n, const char *root, const char *const *paths, int *fds,
                        int64_t *sizes, ozf_file_id *ids, ozf_status *st)
    void ozf_files_read_close(size_t n, int *fds, const int64_t *offsets, const int64_t *lengths,
                              char *const *bufs, int64_t *got, ozf_status *st)
