# Declarations for csrc/downsample.h.
from libc.stdint cimport int64_t
from omezarr_fast._lib.status cimport ozf_status

cdef extern from "downsample.h" nogil:
    enum:
        OZF_DS_MAX_NDIM
    enum ozf_ds_method:
        OZF_DS_MEAN
        OZF_DS_MODE
        OZF_DS_MEDIAN
        OZF_DS_MIN
        OZF_DS_MAX
        OZF_DS_STRIDE
    enum ozf_ds_dtype:
        OZF_DT_U8
        OZF_DT_U16
        OZF_DT_U32
        OZF_DT_U64
        OZF_DT_I8
        OZF_DT_I16
        OZF_DT_I32
        OZF_DT_I64
        OZF_DT_F32
        OZF_DT_F64
    int ozf_downsample(const void *inp, int ndim, const int64_t *shape, const int64_t *in_strides,
                       void *out, const int64_t *out_strides, const int64_t *factors,
                       int dtype, int method, int parallel, ozf_status *st)
    int ozf_downsample_levels(const void *inp, int ndim, const int64_t *shape,
                              const int64_t *in_strides, const int64_t *factors, int dtype,
                              int method, int levels, void *const *outs,
                              const int64_t *out_strides, int parallel, ozf_status *st)
