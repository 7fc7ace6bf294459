#include "codec_chain.h"

#include <limits.h>
#include <string.h>

#include "codec_impl.h"
#include "crc32c.h"
#include "threadpool.h"

static const char *bb_name(int kind) {
    switch (kind) {
    case OZF_ZSTD: return "zstd";
    case OZF_BLOSC: return "blosc";
    case OZF_GZIP: return "gzip";
    case OZF_CRC32C: return "crc32c";
    case OZF_ZLIB: return "zlib";
    case OZF_LZ4: return "lz4";
    default: return "unknown";
    }
}

/* ---- the chain's shape ---- */

static size_t swap_unit(const ozf_chain *c) { return c->swapsize ? c->swapsize : c->itemsize; }

int ozf_chain_check(const ozf_chain *c, ozf_status *st) {
    ozf_ok(st);
    if (c->ndim < 0 || c->ndim > OZF_MAXDIM)
        return ozf_fail(st, OZF_EINVAL, "chunk has %d dimensions, at most %d supported", c->ndim, OZF_MAXDIM);
    if (c->itemsize < 1) return ozf_fail(st, OZF_EINVAL, "itemsize must be >= 1");
    size_t n = c->itemsize;
    for (int i = 0; i < c->ndim; i++) {
        if (c->shape[i] && n > SIZE_MAX / 4 / c->shape[i])
            return ozf_fail(st, OZF_EINVAL, "chunk size overflows");
        n *= c->shape[i];
    }
    size_t u = swap_unit(c);
    if (c->byteswap && (u < 1 || c->itemsize % u || u > 16))
        return ozf_fail(st, OZF_EINVAL, "bytes: cannot swap %zu-byte units of %zu-byte items", u,
                        c->itemsize);
    if (c->transpose) {
        int seen[OZF_MAXDIM] = {0};
        for (int i = 0; i < c->ndim; i++) {
            int p = c->perm[i];
            if (p < 0 || p >= c->ndim || seen[p]++)
                return ozf_fail(st, OZF_EINVAL, "transpose: order is not a permutation of 0..%d",
                                c->ndim - 1);
        }
    }
    if (c->n_bb < 0 || c->n_bb > OZF_MAX_BB)
        return ozf_fail(st, OZF_EINVAL, "at most %d bytes->bytes codecs supported", OZF_MAX_BB);
    for (int i = 0; i < c->n_bb; i++) {
        const ozf_bb_codec *b = &c->bb[i];
        switch (b->kind) {
        case OZF_ZSTD:
            if (b->level < -131072 || b->level > 22)
                return ozf_fail(st, OZF_EINVAL, "zstd: level %d outside -131072..22", b->level);
            break;
        case OZF_BLOSC:
            if (b->level < 0 || b->level > 9)
                return ozf_fail(st, OZF_EINVAL, "blosc: clevel %d outside 0..9", b->level);
            if (b->cname < OZF_BLOSC_LZ4 || b->cname > OZF_BLOSC_ZLIB)
                return ozf_fail(st, OZF_EINVAL, "blosc: unknown cname %d", b->cname);
            if (b->shuffle < OZF_NOSHUFFLE || b->shuffle > OZF_BITSHUFFLE)
                return ozf_fail(st, OZF_EINVAL, "blosc: unknown shuffle %d", b->shuffle);
            if (b->typesize < 1 || b->typesize > 255)
                return ozf_fail(st, OZF_EINVAL, "blosc: typesize %d outside 1..255", b->typesize);
            break;
        case OZF_GZIP:
            if (b->level < 0 || b->level > 9)
                return ozf_fail(st, OZF_EINVAL, "gzip: level %d outside 0..9", b->level);
            break;
        case OZF_ZLIB:
            if (b->level < -1 || b->level > 9)
                return ozf_fail(st, OZF_EINVAL, "zlib: level %d outside -1..9", b->level);
            break;
        case OZF_CRC32C:
        case OZF_LZ4: break;
        default: return ozf_fail(st, OZF_EINVAL, "unknown bytes->bytes codec kind %d", b->kind);
        }
    }
    return OZF_OK;
}

size_t ozf_chain_nbytes(const ozf_chain *c) {
    size_t n = c->itemsize;
    for (int i = 0; i < c->ndim; i++) n *= c->shape[i];
    return n;
}

/* ---- single bytes->bytes steps ---- */

/* crc32c of src while copying it to dst, in blocks that stay in cache
 * between the two passes. */
static uint32_t crc_copy(uint8_t *dst, const uint8_t *src, size_t n) {
    uint32_t crc = 0;
    if (dst == src) return ozf_crc32c(0, src, n);
    for (size_t off = 0; off < n; off += 16384) {
        size_t len = n - off < 16384 ? n - off : 16384;
        crc = ozf_crc32c(crc, src + off, len);
        memcpy(dst + off, src + off, len);
    }
    return crc;
}

size_t ozf_bb_encode_bound(const ozf_bb_codec *b, size_t n) {
    switch (b->kind) {
    case OZF_ZSTD: return ozf_zstd_bound(n);
    case OZF_BLOSC: return ozf_blosc_bound(n);
    case OZF_GZIP: return ozf_gzip_bound(n);
    case OZF_CRC32C: return n + 4;
    case OZF_ZLIB: return ozf_zlib_bound(n);
    case OZF_LZ4: return ozf_lz4_bound(n);
    default: return 0;
    }
}

/* Encoded size bound after the first k bytes->bytes codecs. */
static size_t bound_after(const ozf_chain *c, int k) {
    size_t n = ozf_chain_nbytes(c);
    for (int i = 0; i < k; i++) n = ozf_bb_encode_bound(&c->bb[i], n);
    return n;
}

size_t ozf_chain_encode_bound(const ozf_chain *c) { return bound_after(c, c->n_bb); }

size_t ozf_chain_read_bound(const ozf_chain *c) {
    size_t n = ozf_chain_encode_bound(c), slack = (n / 16) + ((size_t)64 << 10);
    return n > SIZE_MAX - slack ? SIZE_MAX : n + slack;
}

int ozf_bb_encode(const ozf_bb_codec *b, const uint8_t *src, size_t n, uint8_t *dst, size_t dstcap,
                  size_t *dstlen, ozf_status *st) {
    ozf_ok(st);
    switch (b->kind) {
    case OZF_ZSTD: return ozf_zstd_encode(b, src, n, dst, dstcap, dstlen, st);
    case OZF_BLOSC: return ozf_blosc_encode(b, src, n, dst, dstcap, dstlen, st);
    case OZF_GZIP: return ozf_gzip_encode(b, src, n, dst, dstcap, dstlen, st);
    case OZF_ZLIB: return ozf_zlib_encode(b, src, n, dst, dstcap, dstlen, st);
    case OZF_LZ4: return ozf_lz4_encode(b, src, n, dst, dstcap, dstlen, st);
    case OZF_CRC32C: {
        if (dstcap < n + 4) return ozf_fail(st, OZF_ESIZE, "crc32c: output buffer too small");
        uint32_t crc = crc_copy(dst, src, n);
        for (int i = 0; i < 4; i++) dst[n + i] = (uint8_t)(crc >> (8 * i));
        *dstlen = n + 4;
        return OZF_OK;
    }
    default: return ozf_fail(st, OZF_EINVAL, "unknown bytes->bytes codec kind %d", b->kind);
    }
}

size_t ozf_bb_decoded_size(const ozf_bb_codec *b, const uint8_t *src, size_t n) {
    switch (b->kind) {
    case OZF_ZSTD: return ozf_zstd_decoded_size(src, n);
    case OZF_BLOSC: return ozf_blosc_decoded_size(src, n);
    case OZF_GZIP: return ozf_gzip_decoded_size(src, n);
    case OZF_CRC32C: return n >= 4 ? n - 4 : (size_t)-1;
    case OZF_LZ4: return ozf_lz4_decoded_size(src, n);
    default: return (size_t)-1; /* zlib declares no size */
    }
}

int ozf_bb_decode(const ozf_bb_codec *b, const uint8_t *src, size_t n, uint8_t *dst, size_t *dstlen,
                  ozf_status *st) {
    size_t cap = *dstlen;
    ozf_ok(st);
    switch (b->kind) {
    case OZF_ZSTD: return ozf_zstd_decode(src, n, dst, cap, dstlen, st);
    case OZF_BLOSC: return ozf_blosc_decode(src, n, dst, cap, dstlen, st);
    case OZF_GZIP: return ozf_gzip_decode(src, n, dst, cap, dstlen, st);
    case OZF_ZLIB: return ozf_zlib_decode(src, n, dst, cap, dstlen, st);
    case OZF_LZ4: return ozf_lz4_decode(src, n, dst, cap, dstlen, st);
    case OZF_CRC32C: {
        if (n < 4)
            return ozf_fail(st, OZF_ECORRUPT, "crc32c: %zu bytes is shorter than the 4-byte checksum", n);
        n -= 4;
        if (n > cap)
            return ozf_fail(st, OZF_ESIZE, "crc32c: decodes to %zu bytes, expected at most %zu", n, cap);
        uint32_t want = (uint32_t)src[n] | (uint32_t)src[n + 1] << 8 | (uint32_t)src[n + 2] << 16 |
                        (uint32_t)src[n + 3] << 24;
        uint32_t got = crc_copy(dst, src, n);
        if (got != want)
            return ozf_fail(st, OZF_ECHECKSUM, "crc32c: checksum mismatch (stored %08x, computed %08x)", want,
                            got);
        *dstlen = n;
        return OZF_OK;
    }
    default: return ozf_fail(st, OZF_EINVAL, "unknown bytes->bytes codec kind %d", b->kind);
    }
}

/* ---- bytes and transpose ---- */

static void byteswap(uint8_t *dst, const uint8_t *src, size_t n, size_t unit) {
    switch (unit) {
    case 2:
        for (size_t i = 0; i + 2 <= n; i += 2) {
            uint16_t v;
            memcpy(&v, src + i, 2);
            v = __builtin_bswap16(v);
            memcpy(dst + i, &v, 2);
        }
        break;
    case 4:
        for (size_t i = 0; i + 4 <= n; i += 4) {
            uint32_t v;
            memcpy(&v, src + i, 4);
            v = __builtin_bswap32(v);
            memcpy(dst + i, &v, 4);
        }
        break;
    case 8:
        for (size_t i = 0; i + 8 <= n; i += 8) {
            uint64_t v;
            memcpy(&v, src + i, 8);
            v = __builtin_bswap64(v);
            memcpy(dst + i, &v, 8);
        }
        break;
    default:
        for (size_t i = 0; i + unit <= n; i += unit)
            for (size_t a = 0, b = unit - 1; a <= b; a++, b--) {
                uint8_t x = src[i + a];
                dst[i + a] = src[i + b];
                dst[i + b] = x;
                if (b == 0) break;
            }
    }
}

/* dst[q * dq + l * itemsize] = src[q * itemsize + l * sl]: a 2-d transpose
 * in square tiles, so both sides stay in cache. */
#define TILE 32
#define COPY2D(T)                                                                                            \
    for (size_t q = q0; q < qe; q++)                                                                         \
        for (size_t l = l0; l < le; l++)                                                                     \
            memcpy(dst + q * dq + l * sizeof(T), src + q * sizeof(T) + l * sl, sizeof(T));

static void copy2d(uint8_t *dst, size_t dq, const uint8_t *src, size_t sl, size_t nq, size_t nl,
                   size_t itemsize) {
    for (size_t q0 = 0; q0 < nq; q0 += TILE) {
        size_t qe = q0 + TILE < nq ? q0 + TILE : nq;
        for (size_t l0 = 0; l0 < nl; l0 += TILE) {
            size_t le = l0 + TILE < nl ? l0 + TILE : nl;
            switch (itemsize) {
            case 1: COPY2D(uint8_t) break;
            case 2: COPY2D(uint16_t) break;
            case 4: COPY2D(uint32_t) break;
            case 8: COPY2D(uint64_t) break;
            default:
                for (size_t q = q0; q < qe; q++)
                    for (size_t l = l0; l < le; l++)
                        memcpy(dst + q * dq + l * itemsize, src + q * itemsize + l * sl, itemsize);
            }
        }
    }
}

/* Copies the ndim-d array dst (C order, shape) from src, where element idx of
 * dst sits at byte offset sum(idx[k] * sstride[k]) of src.  When src is
 * contiguous along some axis q other than dst's last, that pair of axes is
 * copied in tiles (copy2d); otherwise row by row. */
static void gather(uint8_t *dst, const uint8_t *src, int ndim, const size_t *shape, const size_t *sstride,
                   size_t itemsize) {
    size_t total = itemsize, dstride[OZF_MAXDIM];
    for (int k = 0; k < ndim; k++) total *= shape[k];
    if (total == 0) return;
    if (ndim == 0) {
        memcpy(dst, src, itemsize);
        return;
    }
    int last = ndim - 1, q = -1;
    for (int k = 0; k < last; k++)
        if (sstride[k] == itemsize && shape[k] > 1) q = k;
    if (sstride[last] == itemsize || shape[last] == 1) q = -1; /* rows already contiguous */
    size_t s = itemsize;
    for (int k = last; k >= 0; k--) {
        dstride[k] = s;
        s *= shape[k];
    }
    /* Odometer over every axis but last (and q when tiling). */
    size_t idx[OZF_MAXDIM] = {0};
    size_t inner = shape[last], is = sstride[last];
    const uint8_t *sp = src;
    uint8_t *dp = dst;
    for (;;) {
        if (q >= 0) {
            copy2d(dp, dstride[q], sp, is, shape[q], inner, itemsize);
        } else {
            switch (itemsize) {
            case 1:
                for (size_t i = 0; i < inner; i++) dp[i] = sp[i * is];
                break;
            case 2:
                for (size_t i = 0; i < inner; i++) memcpy(dp + 2 * i, sp + i * is, 2);
                break;
            case 4:
                for (size_t i = 0; i < inner; i++) memcpy(dp + 4 * i, sp + i * is, 4);
                break;
            case 8:
                for (size_t i = 0; i < inner; i++) memcpy(dp + 8 * i, sp + i * is, 8);
                break;
            default:
                for (size_t i = 0; i < inner; i++) memcpy(dp + itemsize * i, sp + i * is, itemsize);
            }
        }
        int k = last - 1;
        for (; k >= 0; k--) {
            if (k == q) continue;
            sp += sstride[k];
            dp += dstride[k];
            if (++idx[k] < shape[k]) break;
            sp -= idx[k] * sstride[k];
            dp -= idx[k] * dstride[k];
            idx[k] = 0;
        }
        if (k < 0) return;
    }
}

static void c_strides(const size_t *shape, int ndim, size_t itemsize, size_t *strides) {
    size_t s = itemsize;
    for (int k = ndim - 1; k >= 0; k--) {
        strides[k] = s;
        s *= shape[k];
    }
}

/* Array order -> encoded (transposed) order. */
static void transpose_encode(const ozf_chain *c, const uint8_t *src, uint8_t *dst) {
    size_t astride[OZF_MAXDIM], tshape[OZF_MAXDIM], sstride[OZF_MAXDIM];
    c_strides(c->shape, c->ndim, c->itemsize, astride);
    for (int k = 0; k < c->ndim; k++) {
        tshape[k] = c->shape[c->perm[k]];
        sstride[k] = astride[c->perm[k]];
    }
    gather(dst, src, c->ndim, tshape, sstride, c->itemsize);
}

/* Encoded (transposed) order -> array order. */
static void transpose_decode(const ozf_chain *c, const uint8_t *src, uint8_t *dst) {
    size_t tshape[OZF_MAXDIM], tstride[OZF_MAXDIM], sstride[OZF_MAXDIM];
    for (int k = 0; k < c->ndim; k++) tshape[k] = c->shape[c->perm[k]];
    c_strides(tshape, c->ndim, c->itemsize, tstride);
    for (int k = 0; k < c->ndim; k++) sstride[c->perm[k]] = tstride[k];
    gather(dst, src, c->ndim, c->shape, sstride, c->itemsize);
}

static int is_identity(const ozf_chain *c) {
    if (!c->transpose) return 1;
    for (int k = 0; k < c->ndim; k++)
        if (c->perm[k] != k) return 0;
    return 1;
}

/* ---- the whole chain ---- */

static int chain_decode(const ozf_chain *c, ozf_tls *t, const uint8_t *src, size_t srclen, uint8_t *dst,
                        ozf_status *st) {
    size_t nbytes = ozf_chain_nbytes(c);
    int post = !is_identity(c) || (c->byteswap && swap_unit(c) > 1);
    const uint8_t *cur = src;
    size_t curlen = srclen;
    int which = 0;
    for (int k = c->n_bb - 1; k >= 0; k--) {
        size_t cap = bound_after(c, k); /* what bb[k] may legitimately decode to */
        uint8_t *out;
        if (k == 0 && !post) {
            out = dst;
            cap = nbytes;
        } else if (!(out = ozf_tls_scratch(t, which, cap))) {
            return ozf_fail(st, OZF_ENOMEM, "%s: out of memory", bb_name(c->bb[k].kind));
        }
        size_t got = cap;
        if (ozf_bb_decode(&c->bb[k], cur, curlen, out, &got, st)) return st->code;
        cur = out;
        curlen = got;
        which ^= 1;
    }
    if (curlen != nbytes)
        return ozf_fail(st, OZF_ESIZE, "%s: decoded %zu bytes, expected %zu",
                        c->n_bb ? bb_name(c->bb[0].kind) : "bytes", curlen, nbytes);
    if (!is_identity(c)) {
        transpose_decode(c, cur, dst);
        if (c->byteswap) byteswap(dst, dst, nbytes, swap_unit(c));
    } else if (c->byteswap && swap_unit(c) > 1) {
        byteswap(dst, cur, nbytes, swap_unit(c));
    } else if (cur != dst) {
        memcpy(dst, cur, nbytes);
    }
    return OZF_OK;
}

static int chain_encode(const ozf_chain *c, ozf_tls *t, const uint8_t *src, uint8_t *dst, size_t dstcap,
                        size_t *dstlen, ozf_status *st) {
    size_t nbytes = ozf_chain_nbytes(c);
    const uint8_t *cur = src;
    int which = 0;
    int swap = c->byteswap && swap_unit(c) > 1;
    if (!is_identity(c) || swap) {
        /* The array->bytes stage; never in place, the input is the caller's. */
        uint8_t *out = c->n_bb ? ozf_tls_scratch(t, which, nbytes) : dst;
        if (!out) return ozf_fail(st, OZF_ENOMEM, "bytes: out of memory");
        if (!c->n_bb && dstcap < nbytes) return ozf_fail(st, OZF_ESIZE, "bytes: output buffer too small");
        if (!is_identity(c)) {
            transpose_encode(c, src, out);
            if (swap) byteswap(out, out, nbytes, swap_unit(c));
        } else {
            byteswap(out, src, nbytes, swap_unit(c));
        }
        cur = out;
        which ^= 1;
    }
    size_t curlen = nbytes;
    for (int k = 0; k < c->n_bb; k++) {
        uint8_t *out;
        size_t cap;
        if (k == c->n_bb - 1) {
            out = dst;
            cap = dstcap;
        } else {
            cap = ozf_bb_encode_bound(&c->bb[k], curlen);
            if (!(out = ozf_tls_scratch(t, which, cap)))
                return ozf_fail(st, OZF_ENOMEM, "%s: out of memory", bb_name(c->bb[k].kind));
        }
        if (ozf_bb_encode(&c->bb[k], cur, curlen, out, cap, &curlen, st)) return st->code;
        cur = out;
        which ^= 1;
    }
    if (cur != dst) {
        if (dstcap < curlen) return ozf_fail(st, OZF_ESIZE, "bytes: output buffer too small");
        memcpy(dst, cur, curlen);
    }
    *dstlen = curlen;
    return OZF_OK;
}

/* The public forms release scratch above OZF_SCRATCH_KEEP once done. */
int ozf_chain_decode(const ozf_chain *c, const uint8_t *src, size_t srclen, uint8_t *dst, ozf_status *st) {
    ozf_ok(st);
    ozf_tls *t = ozf_tls_get();
    if (!t) return ozf_fail(st, OZF_ENOMEM, "out of memory");
    int rc = chain_decode(c, t, src, srclen, dst, st);
    ozf_tls_trim(t, OZF_SCRATCH_CHAIN0);
    ozf_tls_trim(t, OZF_SCRATCH_CHAIN1);
    return rc;
}

int ozf_chain_encode(const ozf_chain *c, const uint8_t *src, uint8_t *dst, size_t dstcap, size_t *dstlen,
                     ozf_status *st) {
    ozf_ok(st);
    ozf_tls *t = ozf_tls_get();
    if (!t) return ozf_fail(st, OZF_ENOMEM, "out of memory");
    int rc = chain_encode(c, t, src, dst, dstcap, dstlen, st);
    ozf_tls_trim(t, OZF_SCRATCH_CHAIN0);
    ozf_tls_trim(t, OZF_SCRATCH_CHAIN1);
    return rc;
}

/* ---- batches on the thread pool ---- */

typedef struct {
    const ozf_chain *c;
    const uint8_t *const *src;
    const size_t *srclen;
    uint8_t *const *dst;
    size_t dstcap;
    size_t *dstlen;
    ozf_status *st;
    size_t n, grain;
} batch_ctx;

/* Chunks per pool task: small chunks go in groups of about 64 KiB so the
 * pool's per-task cost stays small, but every thread still gets several
 * tasks to balance the load. */
static size_t grain_for(const ozf_chain *c, size_t n) {
    size_t nbytes = ozf_chain_nbytes(c);
    size_t grain = nbytes >= 65536 ? 1 : 65536 / (nbytes ? nbytes : 1);
    size_t most = n / (8 * (size_t)ozf_pool_get_threads());
    if (grain > most) grain = most;
    return grain ? grain : 1;
}

static void decode_some(void *p, size_t t) {
    batch_ctx *b = p;
    for (size_t i = t * b->grain; i < b->n && i < (t + 1) * b->grain; i++)
        ozf_chain_decode(b->c, b->src[i], b->srclen[i], b->dst[i], &b->st[i]);
}

static void encode_some(void *p, size_t t) {
    batch_ctx *b = p;
    for (size_t i = t * b->grain; i < b->n && i < (t + 1) * b->grain; i++)
        ozf_chain_encode(b->c, b->src[i], b->dst[i], b->dstcap, &b->dstlen[i], &b->st[i]);
}

size_t ozf_chain_decode_batch(const ozf_chain *c, size_t n, const uint8_t *const *src, const size_t *srclen,
                              uint8_t *const *dst, ozf_status *st) {
    batch_ctx b = {c, src, srclen, dst, 0, NULL, st, n, grain_for(c, n)};
    ozf_parallel_for((n + b.grain - 1) / b.grain, decode_some, &b);
    return ozf_count_failed(st, n);
}

size_t ozf_chain_encode_batch(const ozf_chain *c, size_t n, const uint8_t *const *src, uint8_t *const *dst,
                              size_t dstcap, size_t *dstlen, ozf_status *st) {
    batch_ctx b = {c, src, NULL, dst, dstcap, dstlen, st, n, grain_for(c, n)};
    ozf_parallel_for((n + b.grain - 1) / b.grain, encode_some, &b);
    return ozf_count_failed(st, n);
}
