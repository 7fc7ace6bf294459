# Declarations for csrc/downsample.h.
from libc.stdint cimport int64_t

cdef extern from "downsample.h" nogil:
    int OZF_DS_MAX_NDIM
    int OZF_DS_EINVAL
    int OZF_DS_ENOMEM
    int ozf_downsample(const void *inp, int ndim, const int64_t *shape, const int64_t *in_strides,
                       void *out, const int64_t *out_strides, const int64_t *factors,
                       int dtype, int method, int parallel)
    int ozf_downsample_levels(const void *inp, int ndim, const int64_t *shape,
                              const int64_t *in_strides, const int64_t *factors, int dtype,
                              int method, int levels, void *const *outs,
                              const int64_t *out_strides, int parallel)
