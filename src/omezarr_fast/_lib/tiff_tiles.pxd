# Declarations for csrc/tiff_tiles.h.
from libc.stdint cimport int64_t, uint8_t
from omezarr_fast._lib.status cimport ozf_status

cdef extern from "tiff_tiles.h" nogil:
    enum:
        OZF_TIFF_NONE
        OZF_TIFF_DEFLATE
        OZF_TIFF_ZSTD
        OZF_TT_FIELDS

    ctypedef struct ozf_tiff_layout:
        int fd
        int64_t file_size
        int compression
        int predictor
        int itemsize
        int samples
        int64_t tile_rows
        int64_t tile_cols

    int ozf_tiff_read_tiles(const ozf_tiff_layout *l, size_t n, const int64_t *tiles, uint8_t *out,
                            size_t out_size, int64_t dst_stride, ozf_status *st)
