# Declarations for csrc/shard.h.
from libc.stdint cimport uint8_t, uint64_t, int64_t
from omezarr_fast._lib.codec_chain cimport ozf_chain, OZF_MAXDIM
from omezarr_fast._lib.status cimport ozf_status

cdef extern from "shard.h" nogil:
    ctypedef struct ozf_box:
        int ndim
        size_t itemsize
        size_t shape[OZF_MAXDIM]
        size_t start[OZF_MAXDIM]
        size_t step[OZF_MAXDIM]
        size_t count[OZF_MAXDIM]
        uint8_t *arr
        int64_t stride[OZF_MAXDIM]

    int ozf_box_is_full(const ozf_box *b)
    void ozf_box_scatter(const ozf_box *b, const uint8_t *chunk)
    void ozf_box_gather(const ozf_box *b, uint8_t *chunk)
    void ozf_box_fill(const ozf_box *b, const uint8_t *item)

    size_t ozf_shard_index_size(size_t n, int checksum)
    int ozf_shard_index_decode(const uint8_t *idx, size_t idxlen, size_t n, int checksum, int big,
                               uint64_t shard_len, uint64_t index_lo, uint64_t index_hi,
                               uint64_t *pairs, ozf_status *st)
    void ozf_shard_index_encode(const uint64_t *pairs, size_t n, int checksum, int big, uint8_t *out)
    size_t ozf_shard_assemble(size_t n, const uint8_t *const *part, const size_t *len, const size_t *order,
                              int index_at_start, int checksum, int big, uint8_t *out)

    ctypedef struct ozf_read_task:
        const uint8_t *src
        size_t srclen
        ozf_box box
        int fd
        uint64_t offset

    size_t ozf_read_tasks(const ozf_chain *c, size_t n, const ozf_read_task *t,
                          const uint8_t *fill, ozf_status *st, int shared)

    ctypedef struct ozf_write_task:
        const uint8_t *old
        size_t oldlen
        ozf_box box
        uint8_t *dst
        size_t dstlen
        int empty

    size_t ozf_write_tasks(const ozf_chain *c, size_t n, ozf_write_task *t, const uint8_t *fill,
                           int write_empty, ozf_status *st)
