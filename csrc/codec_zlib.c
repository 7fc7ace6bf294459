/* zlib (RFC 1950), as numcodecs' Zlib codec stores it: one zlib stream per
 * chunk.  libdeflate writes and reads it; its deflate bytes differ from
 * zlib's own (another compressor), the decoded data is the same. */
#include <libdeflate.h>

#include "codec_impl.h"

size_t ozf_zlib_bound(size_t n) {
    /* libdeflate's bound for a NULL compressor holds for every level. */
    return libdeflate_zlib_compress_bound(NULL, n);
}

int ozf_zlib_encode(const ozf_bb_codec *b, const uint8_t *src, size_t n, uint8_t *dst, size_t dstcap,
                    size_t *dstlen, ozf_status *st) {
    ozf_tls *t = ozf_tls_get();
    if (!t) return ozf_fail(st, OZF_ENOMEM, "zlib: out of memory");
    /* zlib's level -1 is its default, 6; the same compressors as gzip's. */
    int level = b->level < 0 ? 6 : b->level;
    void **c = &t->deflate_c[level];
    if (!*c && !(*c = libdeflate_alloc_compressor(level)))
        return ozf_fail(st, OZF_ENOMEM, "zlib: out of memory");
    size_t r = libdeflate_zlib_compress(*c, src, n, dst, dstcap);
    if (r == 0) return ozf_fail(st, OZF_ESIZE, "zlib: output buffer too small");
    *dstlen = r;
    return OZF_OK;
}

int ozf_zlib_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t dstcap, size_t *dstlen,
                    ozf_status *st) {
    ozf_tls *t = ozf_tls_get();
    if (!t) return ozf_fail(st, OZF_ENOMEM, "zlib: out of memory");
    if (!t->deflate_d && !(t->deflate_d = libdeflate_alloc_decompressor()))
        return ozf_fail(st, OZF_ENOMEM, "zlib: out of memory");
    if (n == 0) return ozf_fail(st, OZF_ECORRUPT, "zlib: empty input");
    /* One stream; bytes after it are ignored, as numcodecs (Python's
     * zlib.decompress) ignores them.  libdeflate stops at dstcap. */
    size_t used = 0, got = 0;
    enum libdeflate_result r = libdeflate_zlib_decompress_ex(t->deflate_d, src, n, dst, dstcap, &used, &got);
    if (r == LIBDEFLATE_INSUFFICIENT_SPACE)
        return ozf_fail(st, OZF_ESIZE, "zlib: decodes to more than %zu bytes", dstcap);
    if (r != LIBDEFLATE_SUCCESS) return ozf_fail(st, OZF_ECORRUPT, "zlib: corrupt data or wrong checksum");
    *dstlen = got;
    return OZF_OK;
}
