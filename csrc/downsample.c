/* Downsampling driver: plans a level, splits it over the thread pool by
 * output rows (and row segments when there are few rows), and builds
 * multi-level pyramids tile by tile.  Contract in downsample.h. */
#include "downsample.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "downsample_kernels.h"
#include "threadpool.h"

static const int64_t ITEMSIZE[] = {1, 2, 4, 8, 1, 2, 4, 8, 4, 8};

/* Below this many input bytes one thread is faster than waking the pool. */
#define SERIAL_BYTES   (256 << 10)
/* Multi-level tiles: big enough that level 1 streams through memory in long
 * runs, small enough that the level-1 tile (1/4 or 1/8 of it) is still in
 * cache for level 2, and at least 4 tiles per thread when the input allows. */
#define TILE_MAX_BYTES (4 << 20)
#define TILE_MIN_BYTES (256 << 10)

typedef struct {
    const char *in;
    char *out;
    int ndim, dtype, method;
    int64_t isz;
    int64_t shape[OZF_DS_MAX_NDIM], istr[OZF_DS_MAX_NDIM], ostr[OZF_DS_MAX_NDIM];
    int64_t f[OZF_DS_MAX_NDIM], oshape[OZF_DS_MAX_NDIM];
    int64_t nrows;  /* output rows: product of oshape over the leading axes */
    int64_t max_r;  /* input rows in one (clipped) block */
    int64_t max_fl; /* last-axis factor clipped to the axis */
    int fast_ok;    /* contiguous last axis on both sides and factor 2 */
    ozf_row_fn generic;
} plan_t;

static int plan_init(plan_t *p, const void *in, int ndim, const int64_t *shape, const int64_t *istr,
                     void *out, const int64_t *ostr, const int64_t *f, int dtype, int method) {
    if (ndim < 1 || ndim > OZF_DS_MAX_NDIM || dtype < 0 || dtype > OZF_DT_F64) return OZF_EINVAL;
    p->generic = ozf_ds_generic_kernel(dtype, method);
    if (!p->generic) return OZF_EINVAL;
    p->in = in;
    p->out = out;
    p->ndim = ndim;
    p->dtype = dtype;
    p->method = method;
    p->isz = ITEMSIZE[dtype];
    p->nrows = 1;
    p->max_r = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 1 || f[d] < 1) return OZF_EINVAL;
        p->shape[d] = shape[d];
        p->istr[d] = istr[d];
        p->ostr[d] = ostr[d];
        p->f[d] = f[d];
        p->oshape[d] = (shape[d] + f[d] - 1) / f[d];
        int64_t clipped = f[d] < shape[d] ? f[d] : shape[d];
        if (d < ndim - 1) {
            p->nrows *= p->oshape[d];
            p->max_r *= clipped;
        } else {
            p->max_fl = clipped;
        }
    }
    int last = ndim - 1;
    p->fast_ok = p->f[last] == 2 && p->istr[last] == p->isz && p->ostr[last] == p->isz;
    return 0;
}

/* Output rows [r0, r1) and, within each, outputs [j0, j1) along the last axis.
 * Runs on the calling thread. */
static int run_rows(const plan_t *p, int64_t r0, int64_t r1, int64_t j0, int64_t j1) {
    int nd = p->ndim, lead = nd - 1;
    const char **rows = malloc(sizeof(char *) * (size_t)p->max_r);
    void *scratch = NULL;
    if (p->method == OZF_DS_MODE || p->method == OZF_DS_MEDIAN)
        scratch = malloc((size_t)(p->max_r * p->max_fl * p->isz));
    if (!rows || ((p->method == OZF_DS_MODE || p->method == OZF_DS_MEDIAN) && !scratch)) {
        free(rows);
        free(scratch);
        return OZF_ENOMEM;
    }
    ozf_row_args a = {.rows = rows,
                      .n_in = p->shape[lead],
                      .fl = p->f[lead],
                      .is = p->istr[lead],
                      .os = p->ostr[lead],
                      .scratch = scratch};
    int64_t o[OZF_DS_MAX_NDIM], e[OZF_DS_MAX_NDIM], c[OZF_DS_MAX_NDIM];
    for (int64_t r = r0; r < r1; r++) {
        /* Unravel the row index over the leading output axes (row-major). */
        int64_t rem = r;
        const char *base = p->in;
        char *out = p->out;
        for (int d = lead - 1; d >= 0; d--) {
            o[d] = rem % p->oshape[d];
            rem /= p->oshape[d];
            int64_t start = o[d] * p->f[d];
            e[d] = p->shape[d] - start < p->f[d] ? p->shape[d] - start : p->f[d];
            base += start * p->istr[d];
            out += o[d] * p->ostr[d];
            c[d] = 0;
        }
        /* Enumerate the block's input rows with an odometer over e[]. */
        int64_t R = 0;
        for (;;) {
            const char *q = base;
            for (int d = 0; d < lead; d++) q += c[d] * p->istr[d];
            rows[R++] = q;
            int d = lead - 1;
            while (d >= 0 && ++c[d] == e[d]) c[d--] = 0;
            if (d < 0) break;
        }
        a.R = R;
        a.out = out;
        a.j0 = j0;
        a.j1 = j1;
        if (p->fast_ok) a.j0 = ozf_ds_fast_row(p->dtype, p->method, &a);
        if (a.j0 < a.j1) p->generic(&a);
    }
    free(rows);
    free(scratch);
    return 0;
}

typedef struct {
    const plan_t *p;
    int64_t rows_per_task, nseg, seg_len;
    atomic_int err;
} level_job_t;

static void level_task(void *ctx, size_t i) {
    level_job_t *job = ctx;
    const plan_t *p = job->p;
    int64_t row_task = (int64_t)i / job->nseg, seg = (int64_t)i % job->nseg;
    int64_t r0 = row_task * job->rows_per_task;
    int64_t r1 = r0 + job->rows_per_task < p->nrows ? r0 + job->rows_per_task : p->nrows;
    int64_t nout = p->oshape[p->ndim - 1];
    int64_t j0 = seg * job->seg_len;
    int64_t j1 = j0 + job->seg_len < nout ? j0 + job->seg_len : nout;
    if (r0 >= r1 || j0 >= j1) return;
    int rc = run_rows(p, r0, r1, j0, j1);
    if (rc) atomic_store(&job->err, rc);
}

static int64_t input_bytes(const plan_t *p) {
    int64_t n = p->isz;
    for (int d = 0; d < p->ndim; d++) n *= p->shape[d];
    return n;
}

static int run_level(const plan_t *p, int parallel) {
    int64_t nout = p->oshape[p->ndim - 1];
    int threads = parallel ? ozf_pool_get_threads() : 1;
    if (threads <= 1 || input_bytes(p) < SERIAL_BYTES) return run_rows(p, 0, p->nrows, 0, nout);
    /* Many small tasks (about 1 MiB of input each, at least 4 per thread)
     * balance load, also when another process holds up one of our threads;
     * segments of rows cover arrays with few rows. */
    int64_t want = input_bytes(p) >> 20;
    if (want < 4 * (int64_t)threads) want = 4 * (int64_t)threads;
    if (want > 4096) want = 4096;
    level_job_t job = {.p = p};
    atomic_init(&job.err, 0);
    if (p->nrows >= want) {
        job.rows_per_task = (p->nrows + want - 1) / want;
        job.nseg = 1;
        job.seg_len = nout;
    } else {
        job.rows_per_task = 1;
        int64_t nseg = (want + p->nrows - 1) / p->nrows;
        int64_t max_seg = nout / 4096 > 1 ? nout / 4096 : 1; /* keep segments long */
        job.nseg = nseg < max_seg ? nseg : max_seg;
        job.seg_len = (nout + job.nseg - 1) / job.nseg;
    }
    int64_t ntasks = ((p->nrows + job.rows_per_task - 1) / job.rows_per_task) * job.nseg;
    ozf_parallel_for((size_t)ntasks, level_task, &job);
    return atomic_load(&job.err);
}

static int downsample(const void *in, int ndim, const int64_t *shape, const int64_t *in_strides, void *out,
                      const int64_t *out_strides, const int64_t *factors, int dtype, int method,
                      int parallel) {
    plan_t p;
    int rc = plan_init(&p, in, ndim, shape, in_strides, out, out_strides, factors, dtype, method);
    if (rc) return rc;
    return run_level(&p, parallel);
}

/* ---- multi-level ---- */

typedef struct {
    const char *in;
    int ndim, dtype, method, levels;
    int64_t shape[OZF_DS_MAX_NDIM], istr[OZF_DS_MAX_NDIM], f[OZF_DS_MAX_NDIM];
    int64_t tile[OZF_DS_MAX_NDIM], ntile[OZF_DS_MAX_NDIM];
    char *const *outs;
    const int64_t *ostr;
    atomic_int err;
} levels_job_t;

/* One tile through every level.  The tile origin is a multiple of f^levels,
 * so its level-k outputs start at origin / f^k and cover exactly what the
 * whole-array level k has there. */
static void levels_task(void *ctx, size_t i) {
    levels_job_t *job = ctx;
    int nd = job->ndim;
    int64_t origin[OZF_DS_MAX_NDIM], ext[OZF_DS_MAX_NDIM], rem = (int64_t)i;
    const char *src = job->in;
    int64_t src_str[OZF_DS_MAX_NDIM];
    for (int d = nd - 1; d >= 0; d--) {
        int64_t t = rem % job->ntile[d];
        rem /= job->ntile[d];
        origin[d] = t * job->tile[d];
        ext[d] = job->shape[d] - origin[d] < job->tile[d] ? job->shape[d] - origin[d] : job->tile[d];
        src += origin[d] * job->istr[d];
        src_str[d] = job->istr[d];
    }
    for (int k = 0; k < job->levels; k++) {
        const int64_t *ostr = job->ostr + (size_t)k * nd;
        char *dst = job->outs[k];
        for (int d = 0; d < nd; d++) {
            origin[d] /= job->f[d];
            dst += origin[d] * ostr[d];
        }
        plan_t p;
        int rc = plan_init(&p, src, nd, ext, src_str, dst, ostr, job->f, job->dtype, job->method);
        if (!rc) rc = run_rows(&p, 0, p.nrows, 0, p.oshape[nd - 1]);
        if (rc) {
            atomic_store(&job->err, rc);
            return;
        }
        for (int d = 0; d < nd; d++) {
            ext[d] = p.oshape[d];
            src_str[d] = ostr[d];
        }
        src = dst;
    }
}

static int downsample_levels(const void *in, int ndim, const int64_t *shape, const int64_t *in_strides,
                             const int64_t *factors, int dtype, int method, int levels, void *const *outs,
                             const int64_t *out_strides, int parallel) {
    if (ndim < 1 || ndim > OZF_DS_MAX_NDIM || levels < 1 || dtype < 0 || dtype > OZF_DT_F64)
        return OZF_EINVAL;
    if (!ozf_ds_generic_kernel(dtype, method)) return OZF_EINVAL;
    levels_job_t job = {.in = in,
                        .ndim = ndim,
                        .dtype = dtype,
                        .method = method,
                        .levels = levels,
                        .outs = (char *const *)outs,
                        .ostr = out_strides};
    atomic_init(&job.err, 0);
    int64_t bytes = ITEMSIZE[dtype];
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 1 || factors[d] < 1) return OZF_EINVAL;
        job.shape[d] = shape[d];
        job.istr[d] = in_strides[d];
        job.f[d] = factors[d];
        /* Tile = the cumulative factor, or the whole axis once it is larger. */
        int64_t c = 1;
        for (int k = 0; k < levels && c < shape[d]; k++) c *= factors[d];
        job.tile[d] = c < shape[d] ? c : shape[d];
        bytes *= job.tile[d];
    }
    int64_t total = ITEMSIZE[dtype];
    for (int d = 0; d < ndim; d++) total *= shape[d];
    int threads = parallel ? ozf_pool_get_threads() : 1;
    int64_t target = total / (4 * (int64_t)threads);
    if (target > TILE_MAX_BYTES) target = TILE_MAX_BYTES;
    if (target < TILE_MIN_BYTES) target = TILE_MIN_BYTES;
    /* Grow tiles (by doubling, so they stay aligned) from the last axis, which
     * is usually the contiguous one, until they reach the target. */
    for (int d = ndim - 1; d >= 0; d--) {
        while (job.tile[d] < shape[d] && bytes * 2 <= target) {
            job.tile[d] *= 2;
            bytes *= 2;
        }
        if (job.tile[d] > shape[d]) job.tile[d] = shape[d];
    }
    int64_t ntiles = 1;
    for (int d = 0; d < ndim; d++) {
        job.ntile[d] = (shape[d] + job.tile[d] - 1) / job.tile[d];
        ntiles *= job.ntile[d];
    }
    if (parallel && ntiles > 1)
        ozf_parallel_for((size_t)ntiles, levels_task, &job);
    else
        for (int64_t i = 0; i < ntiles; i++) levels_task(&job, (size_t)i);
    return atomic_load(&job.err);
}

/* The status for a code from the functions above. */
static int report(int rc, int ndim, int dtype, int method, ozf_status *st) {
    if (rc == OZF_OK) return OZF_OK;
    if (rc == OZF_ENOMEM) return ozf_fail(st, rc, "downsample: out of memory for scratch buffers");
    return ozf_fail(st, rc,
                    "downsample: the kernel cannot take ndim %d, dtype %d, method %d with these "
                    "shapes and factors",
                    ndim, dtype, method);
}

int ozf_downsample(const void *in, int ndim, const int64_t *shape, const int64_t *in_strides, void *out,
                   const int64_t *out_strides, const int64_t *factors, int dtype, int method, int parallel,
                   ozf_status *st) {
    ozf_ok(st);
    int rc = downsample(in, ndim, shape, in_strides, out, out_strides, factors, dtype, method, parallel);
    return report(rc, ndim, dtype, method, st);
}

int ozf_downsample_levels(const void *in, int ndim, const int64_t *shape, const int64_t *in_strides,
                          const int64_t *factors, int dtype, int method, int levels, void *const *outs,
                          const int64_t *out_strides, int parallel, ozf_status *st) {
    ozf_ok(st);
    int rc = downsample_levels(in, ndim, shape, in_strides, factors, dtype, method, levels, outs, out_strides,
                               parallel);
    return report(rc, ndim, dtype, method, st);
}
