#include "shard.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "readahead.h"
#include "threadpool.h"
#include "tls.h"

/* ---- boxes ---- */

int ozf_box_is_full(const ozf_box *b) {
    for (int d = 0; d < b->ndim; d++)
        if (b->start[d] != 0 || b->count[d] != b->shape[d] || (b->count[d] > 1 && b->step[d] != 1)) return 0;
    return 1;
}

static void copy_item(uint8_t *dst, const uint8_t *src, size_t n) {
    switch (n) {
    case 1: *dst = *src; break;
    case 2: memcpy(dst, src, 2); break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memcpy(dst, src, n);
    }
}

/* One run along the last dimension.  Chunk rows of 32^3 uint16 inner chunks
 * are 64 bytes: constant-size copies compile to a few vector moves, where a
 * memcpy call per row costs more than the row. */
static inline void copy_run(uint8_t *dst, const uint8_t *src, size_t n) {
    switch (n) {
    case 16: memcpy(dst, src, 16); break;
    case 32: memcpy(dst, src, 32); break;
    case 64: memcpy(dst, src, 64); break;
    case 128: memcpy(dst, src, 128); break;
    default: memcpy(dst, src, n);
    }
}

/* Walks the box: for every run along the last dimension copies between the
 * chunk and the array.  dir: 0 chunk->arr, 1 arr->chunk, 2 fill.  Offsets
 * advance like an odometer, so a row costs O(1), not O(ndim). */
static void box_walk(const ozf_box *b, uint8_t *chunk, const uint8_t *item, int dir) {
    size_t is = b->itemsize;
    int nd = b->ndim;
    if (nd == 0) {
        if (dir == 0)
            copy_item(b->arr, chunk, is);
        else if (dir == 1)
            copy_item(chunk, b->arr, is);
        else
            copy_item(b->arr, item, is);
        return;
    }
    for (int d = 0; d < nd; d++)
        if (b->count[d] == 0) return;
    size_t cstep[OZF_MAXDIM];
    size_t s = is, coff = 0;
    for (int d = nd - 1; d >= 0; d--) {
        cstep[d] = b->step[d] * s;
        coff += b->start[d] * s;
        s *= b->shape[d];
    }
    int64_t aoff = 0;
    size_t idx[OZF_MAXDIM] = {0};
    int L = nd - 1;
    size_t n = b->count[L];
    int64_t astep = b->stride[L];
    int contiguous = (b->step[L] == 1 && astep == (int64_t)is);
    for (;;) {
        uint8_t *c = chunk ? chunk + coff : NULL;
        uint8_t *a = b->arr + aoff;
        if (dir == 2) {
            for (size_t k = 0; k < n; k++, a += astep) copy_item(a, item, is);
        } else if (contiguous) {
            if (dir == 0)
                copy_run(a, c, n * is);
            else
                copy_run(c, a, n * is);
        } else if (dir == 0) {
            for (size_t k = 0; k < n; k++, a += astep, c += cstep[L]) copy_item(a, c, is);
        } else {
            for (size_t k = 0; k < n; k++, a += astep, c += cstep[L]) copy_item(c, a, is);
        }
        int d = L - 1;
        while (d >= 0) {
            if (++idx[d] < b->count[d]) {
                coff += cstep[d];
                aoff += b->stride[d];
                break;
            }
            coff -= (b->count[d] - 1) * cstep[d];
            aoff -= (int64_t)(b->count[d] - 1) * b->stride[d];
            idx[d] = 0;
            d--;
        }
        if (d < 0) return;
    }
}

void ozf_box_scatter(const ozf_box *b, const uint8_t *chunk) { box_walk(b, (uint8_t *)chunk, NULL, 0); }
void ozf_box_gather(const ozf_box *b, uint8_t *chunk) { box_walk(b, chunk, NULL, 1); }
void ozf_box_fill(const ozf_box *b, const uint8_t *item) { box_walk(b, NULL, item, 2); }

/* 1 if the box's array region is laid out exactly like the C-ordered chunk. */
static int box_is_chunk_layout(const ozf_box *b) {
    if (!ozf_box_is_full(b)) return 0;
    int64_t s = (int64_t)b->itemsize;
    for (int d = b->ndim - 1; d >= 0; d--) {
        if (b->shape[d] > 1 && b->stride[d] != s) return 0;
        s *= (int64_t)b->shape[d];
    }
    return 1;
}

/* ---- shard index ---- */

size_t ozf_shard_index_size(size_t n, int checksum) { return 16 * n + (checksum ? 4 : 0); }

static uint64_t load64(const uint8_t *p, int big) {
    uint64_t v = 0;
    if (big)
        for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    else
        for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static void store64(uint8_t *p, uint64_t v, int big) {
    for (int i = 0; i < 8; i++) p[big ? 7 - i : i] = (uint8_t)(v >> (8 * i));
}

int ozf_shard_index_decode(const uint8_t *idx, size_t idxlen, size_t n, int checksum, int big,
                           uint64_t shard_len, uint64_t index_lo, uint64_t index_hi, uint64_t *pairs,
                           ozf_status *st) {
    ozf_ok(st);
    size_t want = ozf_shard_index_size(n, checksum);
    if (idxlen != want)
        return ozf_fail(st, OZF_ECORRUPT, "shard index is %zu bytes, expected %zu", idxlen, want);
    if (checksum) {
        uint32_t crc = ozf_crc32c(0, idx, 16 * n);
        uint32_t stored = (uint32_t)idx[16 * n] | (uint32_t)idx[16 * n + 1] << 8 |
                          (uint32_t)idx[16 * n + 2] << 16 | (uint32_t)idx[16 * n + 3] << 24;
        if (crc != stored)
            return ozf_fail(st, OZF_ECHECKSUM, "shard index: crc32c mismatch (stored %08x, computed %08x)",
                            stored, crc);
    }
    /* Entries may share or overlap bytes (a writer that stores identical
     * chunks once): zarr and tensorstore read those, so do we.  Each entry
     * must lie inside the shard and outside the index. */
    for (size_t i = 0; i < n; i++) {
        uint64_t off = load64(idx + 16 * i, big), len = load64(idx + 16 * i + 8, big);
        pairs[2 * i] = off;
        pairs[2 * i + 1] = len;
        if (off == OZF_SHARD_EMPTY && len == OZF_SHARD_EMPTY) continue;
        if (off == OZF_SHARD_EMPTY || len == OZF_SHARD_EMPTY)
            return ozf_fail(st, OZF_ECORRUPT, "shard index: inner chunk %zu is half empty", i);
        if (len > UINT64_MAX - off || (shard_len != UINT64_MAX && off + len > shard_len))
            return ozf_fail(st, OZF_ECORRUPT,
                            "shard index: inner chunk %zu (offset %llu, %llu bytes) runs past the end "
                            "of the shard (%llu bytes)",
                            i, (unsigned long long)off, (unsigned long long)len,
                            (unsigned long long)shard_len);
        if (len && off < index_hi && off + len > index_lo)
            return ozf_fail(st, OZF_ECORRUPT, "shard index: inner chunk %zu overlaps the index", i);
    }
    return OZF_OK;
}

void ozf_shard_index_encode(const uint64_t *pairs, size_t n, int checksum, int big, uint8_t *out) {
    for (size_t i = 0; i < 2 * n; i++) store64(out + 8 * i, pairs[i], big);
    if (checksum) {
        uint32_t crc = ozf_crc32c(0, out, 16 * n);
        for (int i = 0; i < 4; i++) out[16 * n + i] = (uint8_t)(crc >> (8 * i));
    }
}

size_t ozf_shard_assemble(size_t n, const uint8_t *const *part, const size_t *len, const size_t *order,
                          int index_at_start, int checksum, int big, uint8_t *out) {
    size_t isz = ozf_shard_index_size(n, checksum);
    size_t start = index_at_start ? isz : 0, pos = start;
    /* Data first, moving forward (parts may sit in out, see shard.h); the index
     * after, as it may overlap parts not yet moved. */
    for (size_t k = 0; k < n; k++) {
        size_t i = order ? order[k] : k;
        if (i >= n || !part[i]) continue;
        if (out + pos != part[i]) memmove(out + pos, part[i], len[i]);
        pos += len[i];
    }
    uint8_t *idx = index_at_start ? out : out + pos;
    for (size_t i = 0; i < n; i++) {
        store64(idx + 16 * i, OZF_SHARD_EMPTY, big);
        store64(idx + 16 * i + 8, OZF_SHARD_EMPTY, big);
    }
    pos = start;
    for (size_t k = 0; k < n; k++) {
        size_t i = order ? order[k] : k;
        if (i >= n || !part[i]) continue;
        store64(idx + 16 * i, pos, big);
        store64(idx + 16 * i + 8, len[i], big);
        pos += len[i];
    }
    if (checksum) {
        uint32_t crc = ozf_crc32c(0, idx, 16 * n);
        for (int i = 0; i < 4; i++) idx[16 * n + i] = (uint8_t)(crc >> (8 * i));
    }
    return pos + (index_at_start ? 0 : isz);
}

static void fill_pattern(uint8_t *dst, size_t nbytes, const uint8_t *item, size_t is) {
    if (nbytes == 0) return;
    int same = 1;
    for (size_t k = 1; k < is; k++) same &= item[k] == item[0];
    if (same) {
        memset(dst, item[0], nbytes);
        return;
    }
    size_t done = is < nbytes ? is : nbytes;
    memcpy(dst, item, done);
    while (done < nbytes) {
        size_t m = done < nbytes - done ? done : nbytes - done;
        memcpy(dst + done, dst, m);
        done += m;
    }
}

static int all_equal(const uint8_t *buf, size_t nbytes, const uint8_t *item, size_t is) {
    uint8_t block[4096];
    size_t bl = (sizeof block / is) * is;
    fill_pattern(block, bl, item, is);
    for (size_t p = 0; p < nbytes; p += bl) {
        size_t m = nbytes - p < bl ? nbytes - p : bl;
        if (memcmp(buf + p, block, m)) return 0;
    }
    return 1;
}

/* ---- read tasks ---- */

typedef struct {
    const ozf_chain *c;
    const ozf_read_task *t;
    const uint8_t *fill;
    ozf_status *st;
    size_t nbytes, bound; /* decoded chunk; most encoded bytes a chunk may have */
} read_ctx;

/* The task's encoded bytes: its buffer, or what its file holds at offset,
 * read into this thread's source scratch.  NULL with st filled on failure;
 * never NULL without an error, and 0 bytes is a valid (empty) source that
 * the decoder then refuses.  A source longer than any chunk can be is
 * refused before a byte of it is read. */
static const uint8_t *source_of(const read_ctx *r, const ozf_read_task *t, ozf_tls *tls, ozf_status *st) {
    if (t->srclen > r->bound) {
        ozf_fail(st, OZF_ESIZE, "%zu encoded bytes, more than a %zu-byte chunk can take (%zu)", t->srclen,
                 r->nbytes, r->bound);
        return NULL;
    }
    if (t->src) return t->src;
    uint8_t *buf = ozf_tls_scratch(tls, OZF_SCRATCH_SOURCE, t->srclen);
    if (!buf) {
        ozf_fail(st, OZF_ENOMEM, "out of memory for %zu encoded bytes", t->srclen);
        return NULL;
    }
    size_t done = 0;
    while (done < t->srclen) {
        ssize_t got = pread(t->fd, buf + done, t->srclen - done, (off_t)(t->offset + done));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            ozf_fail_os(st, errno, "reading %zu bytes at offset %llu", t->srclen,
                        (unsigned long long)t->offset);
            return NULL;
        }
        if (got == 0) {
            ozf_fail(st, OZF_ECORRUPT, "file ends early: %zu of %zu bytes at offset %llu", done, t->srclen,
                     (unsigned long long)t->offset);
            return NULL;
        }
        done += (size_t)got;
    }
    return buf;
}

/* Decodes task t into the box (or, with into == NULL, into this thread's
 * chunk scratch, returned for the caller to scatter).  NULL on failure (st
 * filled) or when the chunk went straight to the box. */
static const uint8_t *decode_task(const read_ctx *r, const ozf_read_task *t, ozf_tls *tls, int direct,
                                  ozf_status *st) {
    const uint8_t *src = source_of(r, t, tls, st);
    if (!src) return NULL;
    if (direct) {
        ozf_chain_decode(r->c, src, t->srclen, t->box.arr, st);
        return NULL;
    }
    uint8_t *buf = ozf_tls_scratch(tls, OZF_SCRATCH_CHUNK, r->nbytes);
    if (!buf) {
        ozf_fail(st, OZF_ENOMEM, "out of memory for a %zu-byte chunk", r->nbytes);
        return NULL;
    }
    return ozf_chain_decode(r->c, src, t->srclen, buf, st) ? NULL : buf;
}

static void release_scratch(ozf_tls *tls) {
    ozf_tls_trim(tls, OZF_SCRATCH_CHUNK);
    ozf_tls_trim(tls, OZF_SCRATCH_SOURCE);
}

static void read_one(void *p, size_t i) {
    read_ctx *r = p;
    const ozf_read_task *t = &r->t[i];
    ozf_status *st = &r->st[i];
    ozf_ok(st);
    if (!t->src && t->fd < 0) {
        ozf_box_fill(&t->box, r->fill);
        return;
    }
    ozf_tls *tls = ozf_tls_get();
    if (!tls) {
        ozf_fail(st, OZF_ENOMEM, "out of memory");
        return;
    }
    const uint8_t *buf = decode_task(r, t, tls, box_is_chunk_layout(&t->box), st);
    if (buf) ozf_box_scatter(&t->box, buf);
    release_scratch(tls);
}

/* Tasks that read the same encoded bytes (same buffer, or same file span)
 * form a group: the first decodes, the others copy from its result. */
typedef struct {
    const uint8_t *src;
    int fd;
    uint64_t offset;
    size_t srclen, i;
} task_key;

static int cmp_key(const void *pa, const void *pb) {
    const task_key *a = pa, *b = pb;
    if (a->src != b->src) return a->src < b->src ? -1 : 1;
    if (a->fd != b->fd) return a->fd < b->fd ? -1 : 1;
    if (a->offset != b->offset) return a->offset < b->offset ? -1 : 1;
    if (a->srclen != b->srclen) return a->srclen < b->srclen ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

static int same_bytes(const task_key *a, const task_key *b) {
    return a->src == b->src && a->fd == b->fd && a->offset == b->offset && a->srclen == b->srclen &&
           (a->src || a->fd >= 0); /* missing chunks just fill */
}

typedef struct {
    read_ctx r;
    const task_key *keys;
    const size_t *gstart; /* group g is keys[gstart[g] .. gstart[g + 1]) */
} group_ctx;

static void read_group(void *p, size_t g) {
    group_ctx *q = p;
    size_t a = q->gstart[g], b = q->gstart[g + 1];
    ozf_status *st = q->r.st;
    if (b - a == 1) {
        read_one(&q->r, q->keys[a].i);
        return;
    }
    size_t first = q->keys[a].i;
    ozf_ok(&st[first]);
    ozf_tls *tls = ozf_tls_get();
    const uint8_t *buf = NULL;
    if (!tls)
        ozf_fail(&st[first], OZF_ENOMEM, "out of memory");
    else
        buf = decode_task(&q->r, &q->r.t[first], tls, 0, &st[first]);
    for (size_t k = a; k < b; k++) {
        size_t i = q->keys[k].i;
        st[i] = st[first];
        if (buf) ozf_box_scatter(&q->r.t[i].box, buf);
    }
    if (tls) release_scratch(tls);
}

typedef struct {
    read_ctx *r;
    const size_t *order;
} ordered_ctx;

static void read_ordered(void *p, size_t k) {
    ordered_ctx *o = p;
    read_one(o->r, o->order[k]);
}

static size_t read_tasks(const ozf_chain *c, size_t n, const ozf_read_task *t, const uint8_t *fill,
                         ozf_status *st, int shared, const size_t *order) {
    read_ctx r = {c, t, fill, st, ozf_chain_nbytes(c), ozf_chain_read_bound(c)};
    task_key *keys = shared && n > 1 ? malloc(n * sizeof *keys) : NULL;
    size_t *gstart = keys ? malloc((n + 1) * sizeof *gstart) : NULL;
    if (!gstart) { /* not shared, or no memory to find out: each task alone */
        free(keys);
        ordered_ctx o = {&r, order};
        if (order) ozf_parallel_for(n, read_ordered, &o); /* in file order (readahead.h) */
        else ozf_parallel_for(n, read_one, &r);
        return ozf_count_failed(st, n);
    }
    for (size_t i = 0; i < n; i++)
        keys[i] = (task_key){t[i].src, t[i].src ? -1 : t[i].fd, t[i].src ? 0 : t[i].offset, t[i].srclen, i};
    qsort(keys, n, sizeof *keys, cmp_key);
    size_t ng = 0;
    for (size_t k = 0; k < n; k++)
        if (k == 0 || !same_bytes(&keys[k - 1], &keys[k])) gstart[ng++] = k;
    gstart[ng] = n;
    group_ctx q = {r, keys, gstart};
    ozf_parallel_for(ng, read_group, &q);
    free(keys);
    free(gstart);
    return ozf_count_failed(st, n);
}

size_t ozf_read_tasks(const ozf_chain *c, size_t n, const ozf_read_task *t, const uint8_t *fill,
                      ozf_status *st, int shared) {
    ozf_ra_job *ra = ozf_readahead_start(t, n); /* the device reads ahead of the preads */
    size_t failed = read_tasks(c, n, t, fill, st, shared, ozf_readahead_order(ra));
    ozf_readahead_finish(ra);
    return failed;
}

/* ---- write tasks ---- */

typedef struct {
    const ozf_chain *c;
    ozf_write_task *t;
    const uint8_t *fill;
    int write_empty;
    ozf_status *st;
    size_t nbytes, bound;
} write_ctx;

static void write_one(void *p, size_t i) {
    write_ctx *w = p;
    ozf_write_task *t = &w->t[i];
    ozf_status *st = &w->st[i];
    ozf_ok(st);
    t->empty = 0;
    t->dstlen = 0;
    const uint8_t *src;
    ozf_tls *tls = NULL;
    if (!t->old && box_is_chunk_layout(&t->box)) {
        src = t->box.arr;
    } else {
        uint8_t *buf = (tls = ozf_tls_get()) ? ozf_tls_scratch(tls, OZF_SCRATCH_CHUNK, w->nbytes) : NULL;
        if (!buf) {
            ozf_fail(st, OZF_ENOMEM, "out of memory for a %zu-byte chunk", w->nbytes);
            return;
        }
        if (!ozf_box_is_full(&t->box)) {
            if (t->old) {
                if (ozf_chain_decode(w->c, t->old, t->oldlen, buf, st)) {
                    ozf_tls_trim(tls, OZF_SCRATCH_CHUNK);
                    return;
                }
            } else {
                fill_pattern(buf, w->nbytes, w->fill, w->c->itemsize);
            }
        }
        ozf_box_gather(&t->box, buf);
        src = buf;
    }
    if (!w->write_empty && all_equal(src, w->nbytes, w->fill, w->c->itemsize))
        t->empty = 1;
    else
        ozf_chain_encode(w->c, src, t->dst, w->bound, &t->dstlen, st);
    if (tls) ozf_tls_trim(tls, OZF_SCRATCH_CHUNK);
}

size_t ozf_write_tasks(const ozf_chain *c, size_t n, ozf_write_task *t, const uint8_t *fill, int write_empty,
                       ozf_status *st) {
    write_ctx w = {c, t, fill, write_empty, st, ozf_chain_nbytes(c), ozf_chain_encode_bound(c)};
    ozf_parallel_for(n, write_one, &w);
    return ozf_count_failed(st, n);
}
