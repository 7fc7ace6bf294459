# Declarations for csrc/readahead.h.
cdef extern from "readahead.h" nogil:
    void ozf_readahead_set(int mode)
    int ozf_readahead_get()

# Declarations for csrc/ringread.h.
cdef extern from "ringread.h" nogil:
    int ozf_ring_available()
    void ozf_ring_set(int on)
    int ozf_ring_get()
