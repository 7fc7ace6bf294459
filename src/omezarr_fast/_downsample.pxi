# Downsampling kernels (csrc/downsample.h).  omezarr_fast.downsample validates
# arguments and allocates outputs; these functions only move pointers, shapes
# and strides into C and release the GIL.
from libc.stdint cimport int64_t
from libc.stdlib cimport malloc, free
from omezarr_fast._lib.downsample cimport *


cdef int _ds_fill(int64_t *dst, values, int n) except -1:
    cdef int i
    for i in range(n):
        dst[i] = values[i]
    return 0


def downsample_codes():
    """csrc/downsample.h as this build compiled it: (max ndim, {method: code}, {dtype: code})."""
    return (OZF_DS_MAX_NDIM,
            {"mean": OZF_DS_MEAN, "mode": OZF_DS_MODE, "median": OZF_DS_MEDIAN, "min": OZF_DS_MIN,
             "max": OZF_DS_MAX, "stride": OZF_DS_STRIDE},
            {"uint8": OZF_DT_U8, "uint16": OZF_DT_U16, "uint32": OZF_DT_U32, "uint64": OZF_DT_U64,
             "int8": OZF_DT_I8, "int16": OZF_DT_I16, "int32": OZF_DT_I32, "int64": OZF_DT_I64,
             "float32": OZF_DT_F32, "float64": OZF_DT_F64})


def downsample_raw(size_t in_addr, shape, in_strides, size_t out_addr, out_strides, factors,
                   int dtype, int method, bint parallel=True):
    """One level; addresses/strides in bytes.  Callers keep the arrays alive."""
    cdef int ndim = len(shape)
    cdef int64_t c_shape[OZF_DS_MAX_NDIM]
    cdef int64_t c_istr[OZF_DS_MAX_NDIM]
    cdef int64_t c_ostr[OZF_DS_MAX_NDIM]
    cdef int64_t c_f[OZF_DS_MAX_NDIM]
    cdef ozf_status st
    cdef int rc
    if ndim < 1 or ndim > OZF_DS_MAX_NDIM:
        raise ValueError(f"ndim must be 1..{OZF_DS_MAX_NDIM}, got {ndim}")
    _ds_fill(c_shape, shape, ndim)
    _ds_fill(c_istr, in_strides, ndim)
    _ds_fill(c_ostr, out_strides, ndim)
    _ds_fill(c_f, factors, ndim)
    with nogil:
        rc = ozf_downsample(<const void *>in_addr, ndim, c_shape, c_istr, <void *>out_addr,
                            c_ostr, c_f, dtype, method, parallel, &st)
    if rc:
        raise_status(&st)


def downsample_levels_raw(size_t in_addr, shape, in_strides, factors, out_addrs, out_strides,
                          int dtype, int method, bint parallel=True):
    """Levels 1..len(out_addrs); out_strides is one stride tuple per level."""
    cdef int ndim = len(shape)
    cdef int levels = len(out_addrs)
    cdef int64_t c_shape[OZF_DS_MAX_NDIM]
    cdef int64_t c_istr[OZF_DS_MAX_NDIM]
    cdef int64_t c_f[OZF_DS_MAX_NDIM]
    cdef ozf_status st
    cdef int rc, k
    if ndim < 1 or ndim > OZF_DS_MAX_NDIM:
        raise ValueError(f"ndim must be 1..{OZF_DS_MAX_NDIM}, got {ndim}")
    if levels < 1:
        raise ValueError("levels must be >= 1")
    _ds_fill(c_shape, shape, ndim)
    _ds_fill(c_istr, in_strides, ndim)
    _ds_fill(c_f, factors, ndim)
    cdef void **outs = <void **>malloc(sizeof(void *) * levels)
    cdef int64_t *ostr = <int64_t *>malloc(sizeof(int64_t) * levels * ndim)
    try:
        if outs == NULL or ostr == NULL:
            raise MemoryError()
        for k in range(levels):
            outs[k] = <void *><size_t>out_addrs[k]
            _ds_fill(ostr + k * ndim, out_strides[k], ndim)
        with nogil:
            rc = ozf_downsample_levels(<const void *>in_addr, ndim, c_shape, c_istr, c_f, dtype,
                                       method, levels, outs, ostr, parallel, &st)
        if rc:
            raise_status(&st)
    finally:
        free(outs)
        free(ostr)
