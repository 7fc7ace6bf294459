#include <zstd.h>
#include <zstd_errors.h>

#include "codec_impl.h"

size_t ozf_zstd_bound(size_t n) { return ZSTD_compressBound(n); }

const char *ozf_zstd_version(void) { return ZSTD_versionString(); }

const char *ozf_zstd_build_version(void) { return ZSTD_VERSION_STRING; }

int ozf_zstd_encode(const ozf_bb_codec *b, const uint8_t *src, size_t n, uint8_t *dst, size_t dstcap,
                    size_t *dstlen, ozf_status *st) {
    ozf_tls *t = ozf_tls_get();
    if (!t) return ozf_fail(st, OZF_ENOMEM, "zstd: out of memory");
    if (!t->zstd_c && !(t->zstd_c = ZSTD_createCCtx()))
        return ozf_fail(st, OZF_ENOMEM, "zstd: out of memory");
    ZSTD_CCtx *c = t->zstd_c;
    ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters);
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, b->level);
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, b->checksum ? 1 : 0);
    size_t r = ZSTD_compress2(c, dst, dstcap, src, n);
    if (ZSTD_isError(r))
        return ozf_fail(st, OZF_ESIZE, "zstd: compression failed (%s)", ZSTD_getErrorName(r));
    *dstlen = r;
    return OZF_OK;
}

size_t ozf_zstd_decoded_size(const uint8_t *src, size_t n) {
    unsigned long long s = ZSTD_getFrameContentSize(src, n);
    if (s == ZSTD_CONTENTSIZE_UNKNOWN || s == ZSTD_CONTENTSIZE_ERROR) return (size_t)-1;
    return (size_t)s;
}

int ozf_zstd_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t dstcap, size_t *dstlen,
                    ozf_status *st) {
    ozf_tls *t = ozf_tls_get();
    if (!t) return ozf_fail(st, OZF_ENOMEM, "zstd: out of memory");
    if (!t->zstd_d && !(t->zstd_d = ZSTD_createDCtx()))
        return ozf_fail(st, OZF_ENOMEM, "zstd: out of memory");
    if (n == 0) return ozf_fail(st, OZF_ECORRUPT, "zstd: empty input");
    /* Decoding in one shot into dst needs no window buffer, and zstd stops
     * at dstcap; the declared size only gives a clearer message. */
    unsigned long long declared = ZSTD_getFrameContentSize(src, n);
    if (declared == ZSTD_CONTENTSIZE_ERROR) return ozf_fail(st, OZF_ECORRUPT, "zstd: not a zstd frame");
    if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared > dstcap)
        return ozf_fail(st, OZF_ESIZE, "zstd: frame declares %llu bytes, expected at most %zu", declared,
                        dstcap);
    size_t r = ZSTD_decompressDCtx(t->zstd_d, dst, dstcap, src, n);
    if (ZSTD_isError(r)) {
        ZSTD_ErrorCode e = ZSTD_getErrorCode(r);
        int code = e == ZSTD_error_checksum_wrong     ? OZF_ECHECKSUM
                   : e == ZSTD_error_dstSize_tooSmall ? OZF_ESIZE
                                                      : OZF_ECORRUPT;
        return ozf_fail(st, code, "zstd: %s", ZSTD_getErrorName(r));
    }
    *dstlen = r;
    return OZF_OK;
}
