# TIFF tiles and strips decoded on the pool into a block (csrc/tiff_tiles.c).
# Python (inputs/tiles.py) takes the tile offsets from tifffile and works out
# where each tile lands; this reads, decodes and copies them in one call.
from libc.stdint cimport int64_t
from omezarr_fast._lib.tiff_tiles cimport *


def tiff_compressions():
    """{TIFF Compression tag value: name} that read_tiff_tiles decodes."""
    return {OZF_TIFF_NONE: "none", OZF_TIFF_DEFLATE: "deflate", 32946: "deflate",
            OZF_TIFF_ZSTD: "zstd"}


def read_tiff_tiles(int fd, int64_t file_size, int compression, int predictor, int itemsize,
                    int samples, int64_t tile_rows, int64_t tile_cols, const int64_t[:, ::1] tiles,
                    object out, int64_t dst_stride, str label=""):
    """Read, decode and copy every tile of ``tiles`` (one row of OZF_TT_FIELDS int64 per
    tile, see csrc/tiff_tiles.h) from ``fd`` into the C-contiguous array ``out``.

    Raises CodecError (corrupt tile), OSError (read failed), ValueError (bad geometry),
    the message after ``label`` (the file) naming page and tile."""
    if tiles.shape[0] and tiles.shape[1] != OZF_TT_FIELDS:
        raise ValueError(f"tiles must have {OZF_TT_FIELDS} columns, got {tiles.shape[1]}")
    cdef uint8_t[::1] dst = _u8(out)
    cdef ozf_tiff_layout l
    l.fd = fd
    l.file_size = file_size
    l.compression = OZF_TIFF_DEFLATE if compression == 32946 else compression
    l.predictor = predictor
    l.itemsize = itemsize
    l.samples = samples
    l.tile_rows = tile_rows
    l.tile_cols = tile_cols
    cdef ozf_status st
    cdef size_t n = tiles.shape[0]
    cdef const int64_t* tp = &tiles[0, 0] if n else NULL
    cdef uint8_t* op = &dst[0] if dst.shape[0] else NULL
    cdef size_t size = dst.shape[0]
    cdef int rc
    if n == 0:
        return
    with nogil:
        rc = ozf_tiff_read_tiles(&l, n, tp, op, size, dst_stride, &st)
    if rc != OZF_OK:
        raise_status(&st, None, label)
