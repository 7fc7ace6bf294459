# Declarations for csrc/status.h: the one error convention of the C core.
cdef extern from "status.h" nogil:
    enum:
        OZF_ERRLEN
        OZF_NSTATUS
    enum:
        OZF_OK
        OZF_EINVAL
        OZF_ECORRUPT
        OZF_ECHECKSUM
        OZF_ENOMEM
        OZF_ESIZE
        OZF_EIO
        OZF_EUNSAFE

    ctypedef struct ozf_status:
        int code
        int oserr
        char msg[OZF_ERRLEN]

    size_t ozf_count_failed(const ozf_status *st, size_t n)
