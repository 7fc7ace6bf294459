#include <libdeflate.h>

#include "codec_impl.h"

size_t ozf_gzip_bound(size_t n) {
    /* libdeflate's bound for a NULL compressor holds for every level. */
    return libdeflate_gzip_compress_bound(NULL, n);
}

int ozf_gzip_encode(const ozf_bb_codec *b, const uint8_t *src, size_t n, uint8_t *dst, size_t dstcap,
                    size_t *dstlen, ozf_status *st) {
    ozf_tls *t = ozf_tls_get();
    if (!t) return ozf_fail(st, OZF_ENOMEM, "gzip: out of memory");
    void **c = &t->deflate_c[b->level];
    if (!*c && !(*c = libdeflate_alloc_compressor(b->level)))
        return ozf_fail(st, OZF_ENOMEM, "gzip: out of memory");
    size_t r = libdeflate_gzip_compress(*c, src, n, dst, dstcap);
    if (r == 0) return ozf_fail(st, OZF_ESIZE, "gzip: output buffer too small");
    *dstlen = r;
    return OZF_OK;
}

size_t ozf_gzip_decoded_size(const uint8_t *src, size_t n) {
    /* ISIZE of the last member: a hint only (mod 2^32, and one member). */
    if (n < 18) return (size_t)-1;
    const uint8_t *p = src + n - 4;
    return (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
}

int ozf_gzip_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t dstcap, size_t *dstlen,
                    ozf_status *st) {
    ozf_tls *t = ozf_tls_get();
    if (!t) return ozf_fail(st, OZF_ENOMEM, "gzip: out of memory");
    if (!t->deflate_d && !(t->deflate_d = libdeflate_alloc_decompressor()))
        return ozf_fail(st, OZF_ENOMEM, "gzip: out of memory");
    if (n == 0) return ozf_fail(st, OZF_ECORRUPT, "gzip: empty input");
    /* A gzip stream may hold several members (RFC 1952 2.2); decode them all. */
    size_t out = 0;
    while (n > 0) {
        size_t used = 0, got = 0;
        enum libdeflate_result r =
            libdeflate_gzip_decompress_ex(t->deflate_d, src, n, dst + out, dstcap - out, &used, &got);
        if (r == LIBDEFLATE_INSUFFICIENT_SPACE)
            return ozf_fail(st, OZF_ESIZE, "gzip: decodes to more than %zu bytes", dstcap);
        if (r != LIBDEFLATE_SUCCESS)
            return ozf_fail(st, OZF_ECORRUPT, "gzip: corrupt data or wrong checksum");
        src += used;
        n -= used;
        out += got;
    }
    *dstlen = out;
    return OZF_OK;
}
