/* TIFF tiles and strips: pread, decode, undo the predictor, copy rows (see tiff_tiles.h). */
#define _GNU_SOURCE
#include "tiff_tiles.h"

#include <errno.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zstd.h>

#include "codec_impl.h"
#include "threadpool.h"
#include "tls.h"

/* A tile larger than this is refused (the caller falls back to tifffile):
 * it bounds the per-thread scratch. */
#define OZF_TIFF_MAX_TILE ((int64_t)1 << 30)
/* Uncompressed rows without a predictor are read straight into the output: one
 * preadv covers many rows, the bytes between their column ranges landing in a
 * small sink buffer (a syscall per row costs more than copying up to this many
 * bytes more from the page cache; wider gaps are read row by row). */
#ifndef OZF_TIFF_GAP_MAX
#define OZF_TIFF_GAP_MAX ((int64_t)16 << 10)
#endif
/* Rows per preadv: two iovecs a row (the row's columns, then the gap), within IOV_MAX. */
#define OZF_TIFF_ROWS_PER_READ 512

typedef struct {
    const ozf_tiff_layout *l;
    const int64_t *tiles;
    uint8_t *out;
    size_t out_size;
    int64_t dst_stride;
    int64_t px;        /* bytes per pixel */
    int64_t full;      /* bytes of a full tile */
    int64_t bound;     /* the largest stored size a full tile may have */
    ozf_status *st;    /* one per tile */
} job;

/* Horizontal differencing undone on the first ncols pixels of each of nrows
 * rows (stride bytes apart): every sample adds the same sample of the pixel
 * before it, in unsigned arithmetic (wrapping, as the writer's subtraction). */
#define UNPREDICT(T)                                                                           \
    for (int64_t r = 0; r < nrows; r++) {                                                      \
        T *v = (T *)(row + r * stride);                                                        \
        for (int64_t i = s; i < n; i++) v[i] = (T)(v[i] + v[i - s]);                         \
    }

static void unpredict(uint8_t *row, int64_t stride, int64_t nrows, int64_t ncols, int samples, int itemsize) {
    int64_t s = samples, n = ncols * samples;
    switch (itemsize) {
    case 1: UNPREDICT(uint8_t) break;
    case 2: UNPREDICT(uint16_t) break;
    case 4: UNPREDICT(uint32_t) break;
    case 8: UNPREDICT(uint64_t) break;
    }
}

static int decode(const job *j, const uint8_t *src, int64_t count, uint8_t *dst, int64_t cap, int64_t *got,
                  ozf_status *st) {
    size_t len = 0;
    int rc;
    if (j->l->compression == OZF_TIFF_DEFLATE)
        rc = ozf_zlib_decode(src, (size_t)count, dst, (size_t)cap, &len, st);
    else
        rc = ozf_zstd_decode(src, (size_t)count, dst, (size_t)cap, &len, st);
    *got = (int64_t)len;
    return rc;
}

/* preadv of iov[0..cnt) from off until every byte is read (iov is advanced on a short read). */
static int readv_all(int fd, struct iovec *iov, int cnt, int64_t off, const int64_t *t, ozf_status *st) {
    while (cnt > 0) {
        ssize_t r = preadv(fd, iov, cnt, (off_t)off);
        if (r < 0) {
            if (errno == EINTR) continue;
            return ozf_fail_os(st, errno, "page %lld tile %lld: read failed", (long long)t[OZF_TT_PAGE],
                               (long long)t[OZF_TT_INDEX]);
        }
        if (r == 0)
            return ozf_fail(st, OZF_EIO, "page %lld tile %lld: the file ended at byte %lld (it shrank?)",
                            (long long)t[OZF_TT_PAGE], (long long)t[OZF_TT_INDEX], (long long)off);
        off += r;
        while (cnt > 0 && (size_t)r >= iov->iov_len) {
            r -= (ssize_t)iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + r;
            iov->iov_len -= (size_t)r;
        }
    }
    return OZF_OK;
}

/* n bytes at off into buf: readv_all of one piece. */
static int read_all(int fd, uint8_t *buf, int64_t n, int64_t off, const int64_t *t, ozf_status *st) {
    struct iovec iov = {.iov_base = buf, .iov_len = (size_t)n};
    return n > 0 ? readv_all(fd, &iov, 1, off, t, st) : OZF_OK;
}

/* An uncompressed tile's rows [row0, row0 + nrows), columns [col0, col0 + ncols), into
 * out.  Without a predictor, straight into out: many rows per preadv when the gap
 * between their column ranges is small, else row by row.  With one (which needs each
 * row from its start): whole rows, a group at a time so the scratch stays small however
 * wide a strip is, then copied. */
static void copy_rows_none(const job *j, const int64_t *t, ozf_tls *tl, uint8_t *out, ozf_status *st) {
    const ozf_tiff_layout *l = j->l;
    int64_t off = t[OZF_TT_OFFSET], row0 = t[OZF_TT_ROW0], col0 = t[OZF_TT_COL0];
    int64_t nrows = t[OZF_TT_NROWS], ncols = t[OZF_TT_NCOLS], px = j->px, rowbytes = l->tile_cols * px;
    int64_t want = ncols * px, gap = rowbytes - want;
    if (l->predictor == 1 && gap > OZF_TIFF_GAP_MAX) {
        for (int64_t r = 0; r < nrows; r++)
            if (read_all(l->fd, out + r * j->dst_stride, want, off + (row0 + r) * rowbytes + col0 * px, t, st))
                return;
        return;
    }
    if (l->predictor == 1) {
        uint8_t *sink = ozf_tls_scratch(tl, OZF_SCRATCH_CHUNK, (size_t)gap);
        if (!sink) {
            ozf_fail(st, OZF_ENOMEM, "page %lld tile %lld: out of memory", (long long)t[OZF_TT_PAGE],
                     (long long)t[OZF_TT_INDEX]);
            return;
        }
        struct iovec iov[2 * OZF_TIFF_ROWS_PER_READ];
        for (int64_t g = 0; g < nrows; g += OZF_TIFF_ROWS_PER_READ) {
            int64_t n = nrows - g < OZF_TIFF_ROWS_PER_READ ? nrows - g : OZF_TIFF_ROWS_PER_READ;
            int cnt = 0;
            for (int64_t r = 0; r < n; r++) {
                iov[cnt].iov_base = out + (g + r) * j->dst_stride;
                iov[cnt++].iov_len = (size_t)want;
                if (r + 1 < n && gap > 0) {
                    iov[cnt].iov_base = sink;
                    iov[cnt++].iov_len = (size_t)gap;
                }
            }
            if (readv_all(l->fd, iov, cnt, off + (row0 + g) * rowbytes + col0 * px, t, st)) return;
        }
        return;
    }
    int64_t group = ((int64_t)4 << 20) / rowbytes;
    if (group < 1) group = 1;
    if (group > nrows) group = nrows;
    uint8_t *buf = ozf_tls_scratch(tl, OZF_SCRATCH_CHUNK, (size_t)(group * rowbytes));
    if (!buf) {
        ozf_fail(st, OZF_ENOMEM, "page %lld tile %lld: out of memory", (long long)t[OZF_TT_PAGE],
                 (long long)t[OZF_TT_INDEX]);
        return;
    }
    for (int64_t g = 0; g < nrows; g += group) {
        int64_t n = nrows - g < group ? nrows - g : group;
        if (read_all(l->fd, buf, n * rowbytes, off + (row0 + g) * rowbytes, t, st)) return;
        unpredict(buf, rowbytes, n, col0 + ncols, l->samples, l->itemsize);
        for (int64_t r = 0; r < n; r++)
            memcpy(out + (g + r) * j->dst_stride, buf + r * rowbytes + col0 * px, (size_t)(ncols * px));
    }
}

static void one_tile(void *ctx, size_t i) {
    const job *j = ctx;
    const ozf_tiff_layout *l = j->l;
    const int64_t *t = j->tiles + i * OZF_TT_FIELDS;
    ozf_status *st = &j->st[i];
    long long page = t[OZF_TT_PAGE], index = t[OZF_TT_INDEX];
    int64_t off = t[OZF_TT_OFFSET], count = t[OZF_TT_COUNT], rows = t[OZF_TT_ROWS];
    int64_t row0 = t[OZF_TT_ROW0], col0 = t[OZF_TT_COL0], nrows = t[OZF_TT_NROWS], ncols = t[OZF_TT_NCOLS];
    int64_t dst = t[OZF_TT_DST], px = j->px, rowbytes = l->tile_cols * px;
    ozf_ok(st);
    /* The caller's geometry first (its mistakes are EINVAL), then the file's numbers. */
    if (rows < 1 || rows > l->tile_rows || row0 < 0 || nrows < 1 || row0 + nrows > rows || col0 < 0 ||
        ncols < 1 || col0 + ncols > l->tile_cols || dst < 0 ||
        dst + (nrows - 1) * j->dst_stride + ncols * px > (int64_t)j->out_size) {
        ozf_fail(st, OZF_EINVAL, "page %lld tile %lld: the copy lies outside the tile or the output", page,
                 index);
        return;
    }
    uint8_t *out = j->out + dst;
    int64_t need = rows * rowbytes; /* the bytes this tile stores decoded */
    if (count == 0) { /* not stored: zeros, as TIFF readers fill missing tiles */
        for (int64_t r = 0; r < nrows; r++) memset(out + r * j->dst_stride, 0, (size_t)(ncols * px));
        return;
    }
    if (count < 0 || off < 0 || off > j->l->file_size || count > j->l->file_size - off) {
        ozf_fail(st, OZF_ECORRUPT, "page %lld tile %lld: bytes %lld..%lld lie past the end of the file (%lld bytes)",
                 page, index, (long long)off, (long long)off + (long long)count, (long long)j->l->file_size);
        return;
    }
    if (count > j->bound) {
        ozf_fail(st, OZF_ECORRUPT, "page %lld tile %lld: stores %lld bytes, more than a tile of %lld bytes can take",
                 page, index, (long long)count, (long long)j->full);
        return;
    }
    ozf_tls *tl = ozf_tls_get();
    if (!tl) {
        ozf_fail(st, OZF_ENOMEM, "page %lld tile %lld: out of memory", page, index);
        return;
    }
    int direct = row0 == 0 && col0 == 0 && nrows == rows && ncols == l->tile_cols && rows == l->tile_rows &&
                 j->dst_stride == rowbytes;
    uint8_t *tile;     /* the decoded tile (or the output itself) */
    if (l->compression == OZF_TIFF_NONE) {
        if (count < need) {
            ozf_fail(st, OZF_ECORRUPT, "page %lld tile %lld: stores %lld bytes, its %lld rows need %lld", page, index,
                     (long long)count, (long long)rows, (long long)need);
            return;
        }
        if (direct) {
            if (read_all(l->fd, out, need, off, t, st)) return;
            tile = out;
        } else {
            copy_rows_none(j, t, tl, out, st);
            ozf_tls_trim(tl, OZF_SCRATCH_CHUNK);
            return;
        }
    } else {
        uint8_t *src = ozf_tls_scratch(tl, OZF_SCRATCH_SOURCE, (size_t)count);
        if (!src) {
            ozf_fail(st, OZF_ENOMEM, "page %lld tile %lld: out of memory", page, index);
            return;
        }
        if (read_all(l->fd, src, count, off, t, st)) return;
        if (direct) {
            tile = out;
        } else if (!(tile = ozf_tls_scratch(tl, OZF_SCRATCH_CHUNK, (size_t)j->full))) {
            ozf_fail(st, OZF_ENOMEM, "page %lld tile %lld: out of memory", page, index);
            return;
        }
        int64_t got = 0;
        ozf_status dst_st;
        if (decode(j, src, count, tile, direct ? need : j->full, &got, &dst_st)) {
            ozf_fail(st, dst_st.code, "page %lld tile %lld: %s", page, index, dst_st.msg);
            return;
        }
        /* Exactly its rows, or a whole tile (a last strip stored padded). */
        if (got != need && got != j->full) {
            ozf_fail(st, OZF_ECORRUPT, "page %lld tile %lld: decodes to %lld bytes, expected %lld", page, index,
                     (long long)got, (long long)need);
            return;
        }
    }
    if (l->predictor == 2)
        unpredict(tile + row0 * rowbytes, rowbytes, nrows, col0 + ncols, l->samples, l->itemsize);
    if (tile != out)
        for (int64_t r = 0; r < nrows; r++)
            memcpy(out + r * j->dst_stride, tile + (row0 + r) * rowbytes + col0 * px, (size_t)(ncols * px));
    ozf_tls_trim(tl, OZF_SCRATCH_SOURCE);
    ozf_tls_trim(tl, OZF_SCRATCH_CHUNK);
}

int ozf_tiff_read_tiles(const ozf_tiff_layout *l, size_t n, const int64_t *tiles, uint8_t *out,
                        size_t out_size, int64_t dst_stride, ozf_status *st) {
    ozf_ok(st);
    if (l->itemsize != 1 && l->itemsize != 2 && l->itemsize != 4 && l->itemsize != 8)
        return ozf_fail(st, OZF_EINVAL, "tiff: itemsize %d is not 1, 2, 4 or 8", l->itemsize);
    if (l->samples < 1 || l->samples > 64 || l->tile_rows < 1 || l->tile_cols < 1 ||
        l->tile_cols > OZF_TIFF_MAX_TILE / l->samples / l->itemsize ||
        l->tile_rows > OZF_TIFF_MAX_TILE / (l->tile_cols * l->samples * l->itemsize))
        return ozf_fail(st, OZF_EINVAL, "tiff: a tile of %lld x %lld x %d samples is not supported",
                        (long long)l->tile_rows, (long long)l->tile_cols, l->samples);
    if (l->compression != OZF_TIFF_NONE && l->compression != OZF_TIFF_DEFLATE && l->compression != OZF_TIFF_ZSTD)
        return ozf_fail(st, OZF_EINVAL, "tiff: compression %d is not read natively", l->compression);
    if (l->predictor != 1 && l->predictor != 2)
        return ozf_fail(st, OZF_EINVAL, "tiff: predictor %d is not read natively", l->predictor);
    if (dst_stride < 0) return ozf_fail(st, OZF_EINVAL, "tiff: negative output stride");
    if (n == 0) return OZF_OK;
    job j = {l, tiles, out, out_size, dst_stride, 0, 0, 0, NULL};
    j.px = (int64_t)l->samples * l->itemsize;
    j.full = l->tile_rows * l->tile_cols * j.px;
    j.bound = l->compression == OZF_TIFF_DEFLATE ? (int64_t)libdeflate_zlib_compress_bound(NULL, (size_t)j.full)
              : l->compression == OZF_TIFF_ZSTD  ? (int64_t)ZSTD_compressBound((size_t)j.full)
                                                 : INT64_MAX;
    j.st = malloc(n * sizeof(ozf_status));
    if (!j.st) return ozf_fail(st, OZF_ENOMEM, "tiff: out of memory");
    ozf_parallel_for(n, one_tile, &j);
    int rc = OZF_OK;
    for (size_t i = 0; i < n; i++)
        if (j.st[i].code != OZF_OK) {
            *st = j.st[i];
            rc = st->code;
            break;
        }
    free(j.st);
    return rc;
}
