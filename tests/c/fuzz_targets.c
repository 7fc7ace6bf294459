/* Fuzz targets for the C core; see fuzz_targets.h. */
#define _GNU_SOURCE
#include "fuzz_targets.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "codec_chain.h"
#include "crc32c.h"
#include "downsample.h"
#include "shard.h"

#define FAIL(...) do { fprintf(stderr, "OZF-FUZZ: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

/* ---- reading the fuzz input ---- */

typedef struct {
    const uint8_t *p;
    size_t n, i;
} rd;

static unsigned u8(rd *r) { return r->i < r->n ? r->p[r->i++] : 0; }
static unsigned u16(rd *r) { return u8(r) | u8(r) << 8; }
static uint32_t u32(rd *r) { return (uint32_t)u16(r) | (uint32_t)u16(r) << 16; }
static uint64_t u64(rd *r) { return (uint64_t)u32(r) | (uint64_t)u32(r) << 32; }

/* The unread input, at most max bytes. */
static const uint8_t *rest(rd *r, size_t max, size_t *len) {
    size_t n = r->n - r->i < max ? r->n - r->i : max;
    const uint8_t *p = r->p + r->i;
    r->i += n;
    *len = n;
    return p;
}

/* A heap copy of exactly len bytes, so ASan flags any read past them. */
static uint8_t *exact_copy(const uint8_t *src, size_t len) {
    uint8_t *p = malloc(len ? len : 1);
    if (!p) FAIL("out of memory");
    if (len) memcpy(p, src, len);
    return p;
}

/* Encoded bytes made from valid (vlen bytes) as the input says: the input
 * as is, or valid patched, truncated, extended, bit-flipped, spliced or with
 * a run overwritten.  Returns an exact-size heap buffer. */
static uint8_t *hostile(rd *r, const uint8_t *valid, size_t vlen, size_t *outlen) {
    uint8_t buf[1 << 16];
    size_t len = vlen < sizeof buf ? vlen : sizeof buf, m;
    memcpy(buf, valid, len);
    const uint8_t *tail;
    switch (u8(r) % 7) {
    case 0:
        tail = rest(r, sizeof buf, &len);
        memcpy(buf, tail, len);
        break;
    case 1:
        for (unsigned k = u8(r) % 8 + 1; k && len; k--) {
            size_t pos = u16(r) % len;
            buf[pos] = (uint8_t)u8(r);
        }
        break;
    case 2:
        len = u16(r) % (len + 1);
        break;
    case 3:
        tail = rest(r, sizeof buf - len, &m);
        memcpy(buf + len, tail, m);
        len += m;
        break;
    case 4:
        for (unsigned k = u8(r) % 8 + 1; k && len; k--) {
            size_t pos = u16(r) % len;
            buf[pos] ^= (uint8_t)(1u << (u8(r) % 8));
        }
        break;
    case 5: {
        size_t pos = u16(r) % (len + 1), del = u8(r) % 17;
        if (del > len - pos) del = len - pos;
        memmove(buf + pos, buf + pos + del, len - pos - del);
        len -= del;
        tail = rest(r, 64, &m);
        if (m > sizeof buf - len) m = sizeof buf - len;
        memmove(buf + pos + m, buf + pos, len - pos);
        memcpy(buf + pos, tail, m);
        len += m;
        break;
    }
    default:
        if (len) {
            size_t pos = u16(r) % len, n = u16(r) % (len - pos + 1);
            memset(buf + pos, u8(r) & 1 ? 0xFF : 0, n);
        }
    }
    *outlen = len;
    return exact_copy(buf, len);
}

static void check_status(int rc, const ozf_status *st, const char *where) {
    if (rc != st->code) FAIL("%s: returned %d but status says %d", where, rc, st->code);
    if (rc && !st->msg[0]) FAIL("%s: error %d without a message", where, rc);
    if (rc && !memchr(st->msg, 0, OZF_ERRLEN)) FAIL("%s: unterminated message", where);
}

/* ---- codec chains ---- */

static ozf_bb_codec bb(int kind, int level, int cname, int shuffle, int typesize) {
    ozf_bb_codec b = {kind, level, 0, cname, shuffle, typesize, 0};
    return b;
}

#define NCHAINS 17

/* Chain variant v: every codec alone and combined, transpose, byte swaps. */
static void make_chain(ozf_chain *c, unsigned v) {
    memset(c, 0, sizeof *c);
    c->ndim = 2;
    c->shape[0] = 6;
    c->shape[1] = 8;
    c->itemsize = 2;
    switch (v % NCHAINS) {
    case 0: break;                                     /* bytes */
    case 1: c->itemsize = 4; c->byteswap = 1; break;   /* bytes, big endian */
    case 2: c->bb[c->n_bb++] = bb(OZF_ZSTD, 1, 0, 0, 0); break;
    case 3: c->bb[c->n_bb++] = bb(OZF_ZSTD, 3, 0, 0, 0); c->bb[0].checksum = 1; break;
    case 4: c->bb[c->n_bb++] = bb(OZF_BLOSC, 5, OZF_BLOSC_LZ4, OZF_SHUFFLE, 2); break;
    case 5: c->itemsize = 4; c->bb[c->n_bb++] = bb(OZF_BLOSC, 5, OZF_BLOSC_ZSTD, OZF_BITSHUFFLE, 4); break;
    case 6: c->bb[c->n_bb++] = bb(OZF_BLOSC, 5, OZF_BLOSC_BLOSCLZ, OZF_NOSHUFFLE, 2); break;
    case 7: c->bb[c->n_bb++] = bb(OZF_BLOSC, 5, OZF_BLOSC_ZLIB, OZF_SHUFFLE, 2); break;
    case 8: c->bb[c->n_bb++] = bb(OZF_GZIP, 5, 0, 0, 0); break;
    case 9: c->bb[c->n_bb++] = bb(OZF_CRC32C, 0, 0, 0, 0); break;
    case 10:
        c->bb[c->n_bb++] = bb(OZF_ZSTD, 1, 0, 0, 0);
        c->bb[c->n_bb++] = bb(OZF_CRC32C, 0, 0, 0, 0);
        break;
    case 11:
        c->transpose = 1; c->perm[0] = 1; c->perm[1] = 0;
        c->bb[c->n_bb++] = bb(OZF_GZIP, 1, 0, 0, 0);
        break;
    case 12: c->itemsize = 8; c->byteswap = 1; c->transpose = 1; c->perm[0] = 1; c->perm[1] = 0; break;
    case 13:
        c->bb[c->n_bb++] = bb(OZF_ZSTD, 1, 0, 0, 0);
        c->bb[c->n_bb++] = bb(OZF_GZIP, 1, 0, 0, 0);
        break;
    case 14: c->bb[c->n_bb++] = bb(OZF_ZLIB, 1, 0, 0, 0); break;
    case 15: c->bb[c->n_bb++] = bb(OZF_LZ4, 1, 0, 0, 0); break;
    default:  /* 3-d complex64, transposed, swapped in 4-byte halves, lz4hc */
        c->ndim = 3; c->shape[0] = 3; c->shape[1] = 4; c->shape[2] = 5;
        c->itemsize = 8; c->swapsize = 4; c->byteswap = 1;
        c->transpose = 1; c->perm[0] = 2; c->perm[1] = 0; c->perm[2] = 1;
        c->bb[c->n_bb++] = bb(OZF_BLOSC, 9, OZF_BLOSC_LZ4HC, OZF_SHUFFLE, 4);
    }
    ozf_status st;
    if (ozf_chain_check(c, &st)) FAIL("chain %u invalid: %s", v, st.msg);
}

/* Some compressible, not constant bytes. */
static void pattern(uint8_t *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)((i * 7) / 3 + seed + (i % 5 == 0 ? i * 13 : 0));
}

/* A valid encoding of one chunk for chain c (caller frees). */
static uint8_t *encode_valid(const ozf_chain *c, unsigned seed, size_t *len) {
    size_t nb = ozf_chain_nbytes(c), cap = ozf_chain_encode_bound(c);
    uint8_t *a = malloc(nb), *out = malloc(cap);
    if (!a || !out) FAIL("out of memory");
    pattern(a, nb, seed);
    ozf_status st;
    if (ozf_chain_encode(c, a, out, cap, len, &st)) FAIL("encoding a valid chunk failed: %s", st.msg);
    uint8_t *back = malloc(nb);
    if (ozf_chain_decode(c, out, *len, back, &st) || memcmp(back, a, nb))
        FAIL("a valid chunk does not round-trip: %s", st.msg);
    free(back);
    free(a);
    return out;
}

/* Chunk decode: any bytes either fail with a message, or fill every output
 * byte (the same result whatever the output held before). */
static void t_chain_decode(const uint8_t *data, size_t n) {
    rd r = {data, n, 0};
    ozf_chain c;
    make_chain(&c, u8(&r));
    size_t vlen, len, nb = ozf_chain_nbytes(&c);
    uint8_t *valid = encode_valid(&c, 0, &vlen);
    uint8_t *src = hostile(&r, valid, vlen, &len);
    uint8_t *a = malloc(nb), *b = malloc(nb);
    memset(a, 0, nb);
    memset(b, 0xA5, nb);
    ozf_status sa, sb;
    int ra = ozf_chain_decode(&c, src, len, a, &sa);
    check_status(ra, &sa, "ozf_chain_decode");
    int rb = ozf_chain_decode(&c, src, len, b, &sb);
    if (ra != rb) FAIL("ozf_chain_decode: %d then %d on the same bytes", ra, rb);
    if (!ra && memcmp(a, b, nb)) FAIL("ozf_chain_decode succeeded but left output bytes unwritten");
    free(a);
    free(b);
    free(src);
    free(valid);
}

/* One bytes->bytes codec with any output capacity: never past it. */
static void t_bb_decode(const uint8_t *data, size_t n) {
    rd r = {data, n, 0};
    static const int kinds[] = {OZF_ZSTD, OZF_BLOSC, OZF_GZIP, OZF_CRC32C, OZF_ZLIB, OZF_LZ4};
    ozf_bb_codec b = bb(kinds[u8(&r) % 6], 1, OZF_BLOSC_LZ4, OZF_SHUFFLE, 2);
    uint8_t plain[1000], enc[2000];
    pattern(plain, sizeof plain, 3);
    size_t vlen, len;
    ozf_status st;
    if (ozf_bb_encode(&b, plain, sizeof plain, enc, sizeof enc, &vlen, &st)) FAIL("bb encode: %s", st.msg);
    size_t cap = u16(&r) % 2048;
    uint8_t *src = hostile(&r, enc, vlen, &len);
    (void)ozf_bb_decoded_size(&b, src, len);
    uint8_t *x = malloc(cap ? cap : 1), *y = malloc(cap ? cap : 1);
    memset(x, 0, cap);
    memset(y, 0xA5, cap);
    size_t lx = cap, ly = cap;
    int rx = ozf_bb_decode(&b, src, len, x, &lx, &st);
    check_status(rx, &st, "ozf_bb_decode");
    int ry = ozf_bb_decode(&b, src, len, y, &ly, &st);
    if (rx != ry) FAIL("ozf_bb_decode: %d then %d on the same bytes", rx, ry);
    if (!rx && (lx > cap || lx != ly || memcmp(x, y, lx)))
        FAIL("ozf_bb_decode: %zu bytes out of a %zu capacity, or bytes left unwritten", lx, cap);
    free(x);
    free(y);
    free(src);
}

/* ---- shard index ---- */

static void t_shard_index(const uint8_t *data, size_t n) {
    rd r = {data, n, 0};
    unsigned flags = u8(&r);
    size_t ni = 1 + u8(&r) % 16;
    int checksum = flags & 1, big = (flags >> 1) & 1;
    uint64_t shard_len = flags & 4 ? UINT64_MAX : u32(&r);
    size_t isz = ozf_shard_index_size(ni, checksum);
    uint64_t lo = flags & 8 ? 0 : (shard_len == UINT64_MAX ? u32(&r) : shard_len - (shard_len < isz ? shard_len : isz));
    uint64_t *pairs = malloc(2 * ni * sizeof *pairs), *want = malloc(2 * ni * sizeof *want);
    uint8_t *idx;
    size_t idxlen;
    if (flags & 16) {  /* any bytes, any length */
        const uint8_t *p = rest(&r, 4096, &idxlen);
        idx = exact_copy(p, idxlen);
    } else {           /* well-formed entries with a right checksum */
        for (size_t i = 0; i < 2 * ni; i++) {
            unsigned k = u8(&r) % 4;
            want[i] = k == 0 ? OZF_SHARD_EMPTY : k == 1 ? u8(&r) : k == 2 ? u32(&r) : u64(&r);
        }
        idxlen = isz;
        idx = malloc(idxlen);
        ozf_shard_index_encode(want, ni, checksum, big, idx);
    }
    ozf_status st;
    int rc = ozf_shard_index_decode(idx, idxlen, ni, checksum, big, shard_len, lo, lo + isz, pairs, &st);
    check_status(rc, &st, "ozf_shard_index_decode");
    if (!rc) {
        for (size_t i = 0; i < ni; i++) {
            uint64_t off = pairs[2 * i], len = pairs[2 * i + 1];
            if (off == OZF_SHARD_EMPTY && len == OZF_SHARD_EMPTY) continue;
            if (off == OZF_SHARD_EMPTY || len == OZF_SHARD_EMPTY)
                FAIL("index accepted: inner chunk %zu is half empty", i);
            if (len > UINT64_MAX - off || (shard_len != UINT64_MAX && off + len > shard_len))
                FAIL("index accepted: inner chunk %zu runs past the shard", i);
        }
        if (!(flags & 16) && memcmp(pairs, want, 2 * ni * sizeof *pairs))
            FAIL("index decodes to other pairs than were encoded");
    }
    free(idx);
    free(pairs);
    free(want);
}

/* ---- shard read (index, read tasks, decode, scatter) and write ---- */

typedef struct {
    ozf_chain inner;
    int ndim;
    size_t shard[3], grid[3], n;  /* shard shape, inner chunks per axis, inner chunk count */
} shard_layout;

static void make_layout(shard_layout *L, unsigned v) {
    static const unsigned inner_chain[] = {0, 2, 4, 8, 9, 11, 10};
    make_chain(&L->inner, inner_chain[v % 7]);
    if (v / 7 % 2) {  /* 3-d: 8 inner chunks of 2x2x2 items */
        L->inner.ndim = 3;
        L->inner.shape[0] = L->inner.shape[1] = L->inner.shape[2] = 2;
        if (L->inner.transpose) { L->inner.perm[0] = 2; L->inner.perm[1] = 0; L->inner.perm[2] = 1; }
    } else {
        L->inner.shape[0] = 3;
        L->inner.shape[1] = 4;
    }
    L->ndim = L->inner.ndim;
    L->n = 1;
    for (int d = 0; d < L->ndim; d++) {
        L->grid[d] = 2;
        L->shard[d] = 2 * L->inner.shape[d];
        L->n *= 2;
    }
}

/* A box for inner chunk i of the shard in out (C order, shard shape): the
 * whole inner chunk, or a strided part of it. */
static void inner_box(const shard_layout *L, size_t i, int partial, rd *r, uint8_t *out, ozf_box *b) {
    memset(b, 0, sizeof *b);
    b->ndim = L->ndim;
    b->itemsize = L->inner.itemsize;
    int64_t ostride[3], s = (int64_t)L->inner.itemsize;
    for (int d = L->ndim - 1; d >= 0; d--) {
        ostride[d] = s;
        s *= (int64_t)L->shard[d];
    }
    size_t g[3], rem = i;
    for (int d = L->ndim - 1; d >= 0; d--) {
        g[d] = rem % L->grid[d];
        rem /= L->grid[d];
    }
    int64_t off = 0;
    for (int d = 0; d < L->ndim; d++) {
        size_t sh = L->inner.shape[d];
        b->shape[d] = sh;
        b->start[d] = partial ? u8(r) % sh : 0;
        b->step[d] = partial ? 1 + u8(r) % 3 : 1;
        size_t max = (sh - 1 - b->start[d]) / b->step[d] + 1;
        b->count[d] = partial ? 1 + u8(r) % max : sh;
        b->stride[d] = ostride[d];
        off += (int64_t)(g[d] * sh + b->start[d]) * ostride[d];
    }
    b->arr = out + off;
}

/* A valid shard of L, some inner chunks empty; index as given. */
static uint8_t *make_shard(const shard_layout *L, unsigned empty_mask, int at_start, int checksum, int big,
                           size_t *len) {
    const uint8_t *parts[8];
    size_t lens[8], total = ozf_shard_index_size(L->n, checksum);
    uint8_t *enc[8] = {0};
    for (size_t i = 0; i < L->n; i++) {
        if (empty_mask >> i & 1) {
            parts[i] = NULL;
            lens[i] = 0;
            continue;
        }
        enc[i] = encode_valid(&L->inner, (unsigned)i * 31, &lens[i]);
        parts[i] = enc[i];
        total += lens[i];
    }
    uint8_t *out = malloc(total);
    *len = ozf_shard_assemble(L->n, parts, lens, NULL, at_start, checksum, big, out);
    if (*len != total) FAIL("ozf_shard_assemble: %zu bytes, expected %zu", *len, total);
    for (size_t i = 0; i < L->n; i++) free(enc[i]);
    return out;
}

static void rewrite_crc(uint8_t *idx, size_t ni) {
    uint32_t crc = ozf_crc32c(0, idx, 16 * ni);
    for (int k = 0; k < 4; k++) idx[16 * ni + k] = (uint8_t)(crc >> (8 * k));
}

static void store64(uint8_t *p, uint64_t v, int big) {
    for (int k = 0; k < 8; k++) p[big ? 7 - k : k] = (uint8_t)(v >> (8 * k));
}

static void t_shard_read(const uint8_t *data, size_t n) {
    rd r = {data, n, 0};
    shard_layout L;
    make_layout(&L, u8(&r));
    unsigned flags = u8(&r);
    int at_start = flags & 1, checksum = flags >> 1 & 1, big = flags >> 2 & 1, use_fd = flags >> 3 & 1;
    int partial = flags >> 4 & 1, shared = flags >> 5 & 1, edit = flags >> 6 & 1, mutate = flags >> 7 & 1;
    size_t vlen, len, isz = ozf_shard_index_size(L.n, checksum);
    unsigned some_empty = u8(&r) & 1, empty_mask = u8(&r);
    uint8_t *valid = make_shard(&L, some_empty ? empty_mask : 0, at_start, checksum, big, &vlen);
    if (edit) {  /* index entries rewritten, checksum kept right */
        uint8_t *idx = valid + (at_start ? 0 : vlen - isz);
        for (unsigned k = u8(&r) % 3 + 1; k; k--) {
            size_t i = u8(&r) % L.n, j = u8(&r) % L.n;
            switch (u8(&r) % 4) {
            case 0: memcpy(idx + 16 * i, idx + 16 * j, 16); break;  /* same bytes as j */
            case 1: store64(idx + 16 * i + 8, 0, big); break;        /* zero length */
            case 2: store64(idx + 16 * i, u16(&r), big); store64(idx + 16 * i + 8, u16(&r) % 256, big); break;
            default: store64(idx + 16 * i, u64(&r), big); store64(idx + 16 * i + 8, u64(&r), big);
            }
        }
        if (checksum) rewrite_crc(idx, L.n);
    }
    uint8_t *shard = mutate ? hostile(&r, valid, vlen, &len) : exact_copy(valid, (len = vlen));
    free(valid);
    if (len < isz) {  /* the caller refuses a shard shorter than its index */
        free(shard);
        return;
    }
    uint64_t lo = at_start ? 0 : len - isz;
    uint64_t pairs[16];
    ozf_status st[16];
    int rc = ozf_shard_index_decode(shard + lo, isz, L.n, checksum, big, len, lo, lo + isz, pairs, &st[0]);
    check_status(rc, &st[0], "ozf_shard_index_decode");
    if (rc) {
        free(shard);
        return;
    }
    int fd = -1;
    if (use_fd) {
        fd = memfd_create("shard", 0);
        if (fd < 0 || write(fd, shard, len) != (ssize_t)len) FAIL("memfd");
    }
    size_t nb = 1, ntask = shared ? 2 * L.n : L.n;
    for (int d = 0; d < L.ndim; d++) nb *= L.shard[d];
    nb *= L.inner.itemsize;
    uint8_t *out[2] = {malloc(nb), malloc(nb)}, *mask = malloc(nb);
    uint8_t *copies[8] = {0};
    ozf_read_task t[16];
    ptrdiff_t rel[16];  /* each box's first element, from the output's start */
    memset(t, 0, sizeof t);
    memset(mask, 0, nb);
    uint8_t fill[8] = {7, 7, 7, 7, 7, 7, 7, 7}, ones[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    for (size_t i = 0; i < L.n; i++) {
        uint64_t off = pairs[2 * i], ln = pairs[2 * i + 1];
        t[i].fd = -1;
        if (off != OZF_SHARD_EMPTY && use_fd) {
            t[i].fd = fd;
            t[i].offset = off;
            t[i].srclen = (size_t)ln;
        } else if (off != OZF_SHARD_EMPTY) {
            copies[i] = exact_copy(shard + off, (size_t)ln);
            t[i].src = copies[i];
            t[i].srclen = (size_t)ln;
        }
        inner_box(&L, i, partial, &r, mask, &t[i].box);
        ozf_box_fill(&t[i].box, ones);  /* mask: the output bytes a read must write */
        rel[i] = t[i].box.arr - mask;
        if (shared) {  /* a second task naming the same bytes, into the same place */
            t[L.n + i] = t[i];
            rel[L.n + i] = rel[i];
        }
    }
    size_t failed[2];
    for (int k = 0; k < 2; k++) {
        memset(out[k], k ? 0xA5 : 0x00, nb);
        for (size_t i = 0; i < ntask; i++) t[i].box.arr = out[k] + rel[i];
        failed[k] = ozf_read_tasks(&L.inner, ntask, t, fill, st, shared);
        for (size_t i = 0; i < ntask; i++) check_status(st[i].code, &st[i], "ozf_read_tasks");
    }
    char lens[256] = "";  /* the inner chunks' lengths, for the report */
    for (size_t i = 0, at = 0; i < L.n && at < sizeof lens - 24; i++)
        at += (size_t)snprintf(lens + at, sizeof lens - at, "%s%lld", i ? "," : "",
                               pairs[2 * i] == OZF_SHARD_EMPTY ? -1LL : (long long)pairs[2 * i + 1]);
    if (failed[0] != failed[1])
        FAIL("ozf_read_tasks: %zu then %zu failures on the same bytes (inner chunks from %s, lengths %s)",
             failed[0], failed[1], use_fd ? "a file" : "memory", lens);
    if (!failed[0])
        for (size_t b = 0; b < nb; b++)
            if (mask[b] && out[0][b] != out[1][b])
                FAIL("ozf_read_tasks succeeded but left output byte %zu unwritten (inner chunks from %s, "
                     "lengths %s)", b, use_fd ? "a file" : "memory", lens);
    if (fd >= 0) close(fd);
    for (size_t i = 0; i < L.n; i++) free(copies[i]);
    free(out[0]);
    free(out[1]);
    free(mask);
    free(shard);
}

/* Partial write of one chunk over a hostile old encoding: decode old, gather
 * the box, encode.  Success means the encoding decodes to that chunk. */
static void t_write(const uint8_t *data, size_t n) {
    rd r = {data, n, 0};
    ozf_chain c;
    make_chain(&c, u8(&r));
    unsigned flags = u8(&r);
    size_t nb = ozf_chain_nbytes(&c), cap = ozf_chain_encode_bound(&c), vlen, len;
    uint8_t *valid = encode_valid(&c, 5, &vlen);
    uint8_t *old = flags & 1 ? hostile(&r, valid, vlen, &len) : NULL;
    /* The caller's array: the chunk's own shape, C order. */
    uint8_t *arr = malloc(nb);
    pattern(arr, nb, 99);
    ozf_write_task t;
    memset(&t, 0, sizeof t);
    t.old = old;
    t.oldlen = old ? len : 0;
    t.dst = malloc(cap);
    ozf_box *b = &t.box;
    b->ndim = c.ndim;
    b->itemsize = c.itemsize;
    int64_t s = (int64_t)c.itemsize, stride[OZF_MAXDIM];
    for (int d = c.ndim - 1; d >= 0; d--) {
        stride[d] = s;
        s *= (int64_t)c.shape[d];
    }
    int64_t off = 0;
    for (int d = 0; d < c.ndim; d++) {
        size_t sh = c.shape[d];
        b->shape[d] = sh;
        b->start[d] = u8(&r) % sh;
        b->step[d] = 1 + u8(&r) % 2;
        b->count[d] = 1 + u8(&r) % ((sh - 1 - b->start[d]) / b->step[d] + 1);
        b->stride[d] = stride[d];
        off += (int64_t)b->start[d] * stride[d];
    }
    b->arr = arr + off;
    uint8_t fill[8] = {0};
    ozf_status st, st2;
    int write_empty = flags >> 1 & 1;
    size_t failed = ozf_write_tasks(&c, 1, &t, fill, write_empty, &st);
    check_status(st.code, &st, "ozf_write_tasks");
    if (!failed) {
        /* What the chunk must hold: old decoded (or fill), box gathered in;
         * a box over the whole chunk replaces old without decoding it. */
        uint8_t *want = malloc(nb), *got = malloc(nb);
        if (old && !ozf_box_is_full(b)) {
            if (ozf_chain_decode(&c, old, len, want, &st2)) FAIL("write succeeded over an old chunk that does not decode");
        } else {
            memset(want, 0, nb);
        }
        ozf_box_gather(b, want);
        if (t.empty) {
            for (size_t k = 0; k < nb; k++)
                if (want[k]) FAIL("write dropped a chunk that is not all fill value");
        } else if (ozf_chain_decode(&c, t.dst, t.dstlen, got, &st2) || memcmp(got, want, nb)) {
            FAIL("write produced an encoding that does not decode to the chunk (%s)", st2.msg);
        }
        free(want);
        free(got);
    }
    free(t.dst);
    free(arr);
    free(old);
    free(valid);
}

/* ---- downsampling ---- */

static const size_t dt_size[] = {1, 2, 4, 8, 1, 2, 4, 8, 4, 8};

/* Any shape (1..6-d), layout (C, reversed axes, permuted), factors, dtype,
 * method, levels: in-bounds, and levels == level after level. */
static void t_downsample(const uint8_t *data, size_t n) {
    rd r = {data, n, 0};
    int ndim = 1 + u8(&r) % 6, dtype = u8(&r) % 10, method = u8(&r) % 6, levels = 1 + u8(&r) % 3;
    unsigned layout = u8(&r);
    int64_t shape[6], f[6], istr[6], total = 1;
    size_t is = dt_size[dtype];
    for (int d = 0; d < ndim; d++) {
        shape[d] = 1 + u8(&r) % (ndim > 3 ? 5 : 13);
        f[d] = 1 + u8(&r) % 4;
        total *= shape[d];
    }
    /* Strides: C order over an axis permutation; some axes reversed. */
    int perm[6];
    for (int d = 0; d < ndim; d++) perm[d] = d;
    for (int d = ndim - 1; d > 0; d--) {
        int k = u8(&r) % (d + 1), x = perm[d];
        perm[d] = perm[k];
        perm[k] = x;
    }
    int64_t s = (int64_t)is, base = 0;
    for (int k = ndim - 1; k >= 0; k--) {
        int d = perm[k];
        istr[d] = s;
        s *= shape[d];
    }
    for (int d = 0; d < ndim; d++)
        if (layout >> d & 1) {
            base += (shape[d] - 1) * istr[d];
            istr[d] = -istr[d];
        }
    size_t inbytes = (size_t)total * is;
    uint8_t *in = malloc(inbytes);
    size_t m;
    const uint8_t *p = rest(&r, inbytes, &m);
    for (size_t k = 0; k < inbytes; k++) in[k] = m ? p[k % m] : (uint8_t)(k * 37);
    /* Level by level, then all levels at once. */
    void *seq[3] = {0}, *all[3] = {0};
    int64_t ostr[3 * 6], oshape[6], prev_shape[6], prev_str[6];
    size_t obytes[3];
    const void *src = in + base;
    memcpy(prev_shape, shape, sizeof shape);
    memcpy(prev_str, istr, sizeof istr);
    int rc_seq = 0;
    ozf_status ds_st; /* ozf_downsample reports its failures here (status.h) */
    for (int k = 0; k < levels; k++) {
        size_t cnt = 1;
        for (int d = 0; d < ndim; d++) {
            oshape[d] = (prev_shape[d] + f[d] - 1) / f[d];
            cnt *= (size_t)oshape[d];
        }
        int64_t os = (int64_t)is;
        for (int d = ndim - 1; d >= 0; d--) {
            ostr[k * ndim + d] = os;
            os *= oshape[d];
        }
        obytes[k] = cnt * is;
        seq[k] = malloc(obytes[k]);
        all[k] = malloc(obytes[k]);
        memset(seq[k], 0x11, obytes[k]);
        memset(all[k], 0x22, obytes[k]);
        if (!rc_seq)
            rc_seq = ozf_downsample(src, ndim, prev_shape, prev_str, seq[k], ostr + k * ndim, f, dtype, method,
                                    u8(&r) & 1, &ds_st);
        src = seq[k];
        memcpy(prev_shape, oshape, sizeof oshape);
        memcpy(prev_str, ostr + k * ndim, sizeof oshape);
    }
    int rc_all = ozf_downsample_levels(in + base, ndim, shape, istr, f, dtype, method, levels, all, ostr,
                                       u8(&r) & 1, &ds_st);
    if (rc_seq != rc_all) FAIL("downsample: level by level gives %d, all levels %d", rc_seq, rc_all);
    if (!rc_seq)
        for (int k = 0; k < levels; k++)
            if (memcmp(seq[k], all[k], obytes[k]))
                FAIL("downsample: level %d differs between level by level and all levels "
                     "(ndim %d dtype %d method %d)", k + 1, ndim, dtype, method);
    for (int k = 0; k < levels; k++) {
        free(seq[k]);
        free(all[k]);
    }
    free(in);
}

/* ---- crc32c ---- */

static void t_crc32c(const uint8_t *data, size_t n) {
    rd r = {data, n, 0};
    size_t off = u8(&r) % 8, split = u16(&r), len;
    const uint8_t *p = rest(&r, 1 << 16, &len);
    uint8_t *buf = malloc(len + off + 1);
    memcpy(buf + off, p, len);
    uint8_t *q = exact_copy(buf + off, len);  /* unaligned starts, exact end */
    free(buf);
    split = len ? split % (len + 1) : 0;
    uint32_t hw = ozf_crc32c(0, q, len), sw = ozf_crc32c_sw(0, q, len);
    uint32_t parts = ozf_crc32c(ozf_crc32c(0, q, split), q + split, len - split);
    if (hw != sw || hw != parts) FAIL("crc32c: %08x (dispatch) %08x (software) %08x (in two parts)", hw, sw, parts);
    free(q);
}

const ozf_fuzz_target ozf_fuzz_targets[] = {
    {"chain_decode", t_chain_decode, "every codec chain's decoder on corrupt chunks"},
    {"bb_decode", t_bb_decode, "zstd, blosc, gzip, crc32c decoders with any output capacity"},
    {"shard_index", t_shard_index, "the shard index parser"},
    {"shard_read", t_shard_read, "shard read tasks: index, pread, decode, scatter, shared decoding"},
    {"write", t_write, "partial chunk writes over corrupt old chunks: decode, gather, encode"},
    {"downsample", t_downsample, "downsampling kernels, one level and many"},
    {"crc32c", t_crc32c, "crc32c hardware and software paths"},
};
const size_t ozf_fuzz_ntargets = sizeof ozf_fuzz_targets / sizeof ozf_fuzz_targets[0];

const ozf_fuzz_target *ozf_fuzz_find(const char *name) {
    for (size_t i = 0; i < ozf_fuzz_ntargets; i++)
        if (!strcmp(ozf_fuzz_targets[i].name, name)) return &ozf_fuzz_targets[i];
    return NULL;
}
