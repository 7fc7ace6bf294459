# Declarations for csrc/codec_chain.h.
from libc.stdint cimport uint8_t
from omezarr_fast._lib.status cimport ozf_status

cdef extern from "codec_chain.h" nogil:
    enum:
        OZF_MAXDIM
        OZF_MAX_BB
    enum ozf_bb_kind:
        OZF_ZSTD
        OZF_BLOSC
        OZF_GZIP
        OZF_CRC32C
        OZF_ZLIB
        OZF_LZ4
    enum ozf_blosc_cname:
        OZF_BLOSC_LZ4
        OZF_BLOSC_LZ4HC
        OZF_BLOSC_BLOSCLZ
        OZF_BLOSC_ZSTD
        OZF_BLOSC_ZLIB
    enum ozf_blosc_shuffle:
        OZF_NOSHUFFLE
        OZF_SHUFFLE
        OZF_BITSHUFFLE
    ctypedef struct ozf_bb_codec:
        int kind
        int level
        int checksum
        int cname
        int shuffle
        int typesize
        size_t blocksize

    ctypedef struct ozf_chain:
        int ndim
        size_t shape[OZF_MAXDIM]
        size_t itemsize
        int transpose
        int perm[OZF_MAXDIM]
        int byteswap
        int n_bb
        ozf_bb_codec bb[OZF_MAX_BB]
        size_t swapsize

    int ozf_chain_check(const ozf_chain *c, ozf_status *st)
    size_t ozf_chain_nbytes(const ozf_chain *c)
    size_t ozf_chain_encode_bound(const ozf_chain *c)
    size_t ozf_chain_read_bound(const ozf_chain *c)
    int ozf_chain_decode(const ozf_chain *c, const uint8_t *src, size_t srclen,
                         uint8_t *dst, ozf_status *st)
    int ozf_chain_encode(const ozf_chain *c, const uint8_t *src, uint8_t *dst,
                         size_t dstcap, size_t *dstlen, ozf_status *st)
    size_t ozf_chain_decode_batch(const ozf_chain *c, size_t n, const uint8_t *const *src,
                                  const size_t *srclen, uint8_t *const *dst, ozf_status *st)
    size_t ozf_chain_encode_batch(const ozf_chain *c, size_t n, const uint8_t *const *src,
                                  uint8_t *const *dst, size_t dstcap, size_t *dstlen,
                                  ozf_status *st)
    size_t ozf_bb_encode_bound(const ozf_bb_codec *b, size_t srclen)
    int ozf_bb_encode(const ozf_bb_codec *b, const uint8_t *src, size_t srclen,
                      uint8_t *dst, size_t dstcap, size_t *dstlen, ozf_status *st)
    size_t ozf_bb_decoded_size(const ozf_bb_codec *b, const uint8_t *src, size_t srclen)
    int ozf_bb_decode(const ozf_bb_codec *b, const uint8_t *src, size_t srclen,
                      uint8_t *dst, size_t *dstlen, ozf_status *st)
    const char *ozf_zstd_version()
    const char *ozf_zstd_build_version()
    const char *ozf_lz4_version()
