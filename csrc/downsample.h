/* Block downsampling of n-dimensional arrays (ndim 1..6) by integer factors.
 *
 * Contract (the caller validates; these functions only re-check cheaply):
 * - Input: `shape[d]` >= 1 elements per axis, byte strides `in_strides[d]`
 *   (any sign, any layout).  Output: shape ceil(shape[d] / factor[d]) with
 *   byte strides `out_strides[d]`; output must not overlap the input.
 * - Each output element reduces the block of input samples
 *   [o*f, min((o+1)*f, n)) per axis: a partial edge block reduces over the
 *   samples that exist (no padding).
 * - Methods:
 *     MEAN   integers: exact wide sum (128-bit for 32/64-bit types), divided
 *            by the count and rounded half to even.  Floats: sum in double,
 *            divided by the count, cast back.  NaN/inf propagate as in numpy.
 *     MODE   most frequent value, the smallest on a tie (floats: NaNs count
 *            as one value ordered after every number).
 *     MEDIAN integers: the lower middle of an even count; floats: the mean of
 *            the two middles computed in double (numpy's rule); any NaN in the
 *            block gives NaN.
 *     MIN, MAX  NaN in the block gives NaN (numpy's minimum/maximum).
 *     STRIDE the first sample of the block.
 * - Dtypes: OZF_DT_*; bool is handled as U8 holding 0/1 (valid for MODE,
 *   MIN, MAX, STRIDE; the caller maps it).
 * - Work is split over the ozf thread pool when `parallel` is nonzero.
 *
 * Return OZF_OK, OZF_EINVAL for arguments these functions cannot handle, or
 * OZF_ENOMEM when scratch memory could not be allocated (the output is then
 * incomplete); st gets the code and a message.
 */
#ifndef OZF_DOWNSAMPLE_H
#define OZF_DOWNSAMPLE_H

#include <stdint.h>

#include "status.h"

#define OZF_DS_MAX_NDIM 6

enum ozf_ds_method {
    OZF_DS_MEAN = 0,
    OZF_DS_MODE = 1,
    OZF_DS_MEDIAN = 2,
    OZF_DS_MIN = 3,
    OZF_DS_MAX = 4,
    OZF_DS_STRIDE = 5,
};

enum ozf_ds_dtype {
    OZF_DT_U8 = 0,
    OZF_DT_U16 = 1,
    OZF_DT_U32 = 2,
    OZF_DT_U64 = 3,
    OZF_DT_I8 = 4,
    OZF_DT_I16 = 5,
    OZF_DT_I32 = 6,
    OZF_DT_I64 = 7,
    OZF_DT_F32 = 8,
    OZF_DT_F64 = 9,
};

/* One level: in (shape, in_strides) -> out (out_strides). */
int ozf_downsample(const void *in, int ndim, const int64_t *shape, const int64_t *in_strides, void *out,
                   const int64_t *out_strides, const int64_t *factors, int dtype, int method, int parallel,
                   ozf_status *st);

/* Levels 1..levels, each level `factors` smaller than the one before, from
 * one pass over the input: tiles aligned to the cumulative factor are
 * reduced through every level while they are in cache.  outs[k] and
 * out_strides[k*ndim ...] describe level k+1 (shape ceil(shape / f^(k+1))).
 * The result equals applying ozf_downsample level after level. */
int ozf_downsample_levels(const void *in, int ndim, const int64_t *shape, const int64_t *in_strides,
                          const int64_t *factors, int dtype, int method, int levels, void *const *outs,
                          const int64_t *out_strides, int parallel, ozf_status *st);

#endif
