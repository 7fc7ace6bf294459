/* LZ4 as numcodecs' LZ4 codec stores it: the decoded size as a 4-byte
 * little-endian header, then one LZ4 block (liblz4's LZ4_compress_fast with
 * the codec's acceleration).  The header is only compared with the size the
 * caller allows, never used to allocate. */
#include <limits.h>
#include <lz4.h>

#include "codec_impl.h"

#define HEADER 4

size_t ozf_lz4_bound(size_t n) {
    /* LZ4_COMPRESSBOUND without its cap at LZ4_MAX_INPUT_SIZE (a larger
     * input fails in encode with a message; the bound stays a bound). */
    size_t b = n + n / 255 + 16;
    return b < n ? SIZE_MAX : b + HEADER;
}

const char *ozf_lz4_version(void) { return LZ4_versionString(); }

int ozf_lz4_encode(const ozf_bb_codec *b, const uint8_t *src, size_t n, uint8_t *dst, size_t dstcap,
                   size_t *dstlen, ozf_status *st) {
    if (n > LZ4_MAX_INPUT_SIZE)
        return ozf_fail(st, OZF_ESIZE, "lz4: %zu bytes is more than LZ4 compresses (%d)", n,
                        LZ4_MAX_INPUT_SIZE);
    if (dstcap < HEADER) return ozf_fail(st, OZF_ESIZE, "lz4: output buffer too small");
    for (int i = 0; i < HEADER; i++) dst[i] = (uint8_t)(n >> (8 * i));
    size_t cap = dstcap - HEADER;
    /* numcodecs: an acceleration <= 0 means the default, 1. */
    int r = LZ4_compress_fast((const char *)src, (char *)dst + HEADER, (int)n,
                              cap > INT_MAX ? INT_MAX : (int)cap, b->level > 0 ? b->level : 1);
    if (r <= 0) return ozf_fail(st, OZF_ESIZE, "lz4: output buffer too small");
    *dstlen = (size_t)r + HEADER;
    return OZF_OK;
}

size_t ozf_lz4_decoded_size(const uint8_t *src, size_t n) {
    if (n < HEADER) return (size_t)-1;
    return (size_t)src[0] | (size_t)src[1] << 8 | (size_t)src[2] << 16 | (size_t)src[3] << 24;
}

int ozf_lz4_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t dstcap, size_t *dstlen,
                   ozf_status *st) {
    if (n < HEADER)
        return ozf_fail(st, OZF_ECORRUPT, "lz4: %zu bytes is shorter than the 4-byte size header", n);
    size_t declared = ozf_lz4_decoded_size(src, n);
    if (declared > dstcap)
        return ozf_fail(st, OZF_ESIZE, "lz4: header declares %zu bytes, expected at most %zu", declared,
                        dstcap);
    if (declared > LZ4_MAX_INPUT_SIZE || n - HEADER > INT_MAX)
        return ozf_fail(st, OZF_ECORRUPT, "lz4: header declares %zu bytes, more than an LZ4 block holds",
                        declared);
    /* Decodes into exactly the declared size: a block that would write more,
     * or that ends early, is an error (negative result or a shorter one). */
    int r = LZ4_decompress_safe((const char *)src + HEADER, (char *)dst, (int)(n - HEADER), (int)declared);
    if (r < 0) return ozf_fail(st, OZF_ECORRUPT, "lz4: corrupt data");
    if ((size_t)r != declared)
        return ozf_fail(st, OZF_ECORRUPT, "lz4: decoded %d bytes, the header declares %zu", r, declared);
    *dstlen = declared;
    return OZF_OK;
}
