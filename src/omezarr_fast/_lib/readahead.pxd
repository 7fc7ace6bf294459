# Declarations for csrc/readahead.h.
cdef extern from "readahead.h" nogil:
    void ozf_readahead_set(int mode)
    int ozf_readahead_get()
