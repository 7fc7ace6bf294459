#include <blosc.h>

#include "codec_impl.h"

static const char *cnames[] = {"lz4", "lz4hc", "blosclz", "zstd", "zlib"};

size_t ozf_blosc_bound(size_t n) { return n + BLOSC_MAX_OVERHEAD; }

int ozf_blosc_encode(const ozf_bb_codec *b, const uint8_t *src, size_t n, uint8_t *dst, size_t dstcap,
                     size_t *dstlen, ozf_status *st) {
    if (n > BLOSC_MAX_BUFFERSIZE)
        return ozf_fail(st, OZF_EINVAL, "blosc: %zu bytes is more than Blosc1 can hold", n);
    /* The _ctx form keeps no global state and starts no threads of its own. */
    int r = blosc_compress_ctx(b->level, b->shuffle, (size_t)b->typesize, n, src, dst, dstcap,
                               cnames[b->cname], b->blocksize, 1);
    if (r <= 0)
        return ozf_fail(st, r == 0 ? OZF_ESIZE : OZF_EINVAL, "blosc: compression failed (error %d, cname %s)",
                        r, cnames[b->cname]);
    *dstlen = (size_t)r;
    return OZF_OK;
}

size_t ozf_blosc_decoded_size(const uint8_t *src, size_t n) {
    size_t nbytes;
    if (blosc_cbuffer_validate(src, n, &nbytes) != 0) return (size_t)-1;
    return nbytes;
}

int ozf_blosc_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t dstcap, size_t *dstlen,
                     ozf_status *st) {
    size_t nbytes;
    if (n < BLOSC_MIN_HEADER_LENGTH)
        return ozf_fail(st, OZF_ECORRUPT, "blosc: %zu bytes is shorter than a Blosc1 header", n);
    if (src[0] != 2 && src[0] != 1)
        return ozf_fail(st, OZF_ECORRUPT, "blosc: unknown format version %d", src[0]);
    /* validate checks the header's compressed size against n. */
    if (blosc_cbuffer_validate(src, n, &nbytes) != 0)
        return ozf_fail(st, OZF_ECORRUPT, "blosc: invalid header");
    if (nbytes > dstcap)
        return ozf_fail(st, OZF_ESIZE, "blosc: header declares %zu bytes, expected at most %zu", nbytes,
                        dstcap);
    int r = blosc_decompress_ctx(src, dst, dstcap, 1);
    if (r < 0 || (size_t)r != nbytes) return ozf_fail(st, OZF_ECORRUPT, "blosc: corrupt data (error %d)", r);
    *dstlen = (size_t)r;
    return OZF_OK;
}
