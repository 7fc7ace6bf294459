/* TIFF tiles and strips read and decoded on the thread pool straight into a
 * caller's block.
 *
 * The caller (Python, over tifffile's parsed IFDs) says where each tile's
 * bytes are and which part of it lands where in the output; this file only
 * reads (pread), decodes (none, deflate/zlib, zstd), undoes horizontal
 * differencing (predictor 2) and copies rows.  No TIFF structure is parsed
 * here.
 *
 * Every number from the file is checked before it is used: a tile's bytes
 * must lie inside the file, a compressed tile may not be larger than the
 * codec's bound for a full tile (so no allocation is sized by the file), a
 * tile must decode to exactly the bytes its rows hold (or a whole tile: a
 * last strip may be stored padded), and every copy must stay inside the
 * tile and the output.  A failed tile leaves an OZF_* status naming the
 * page and tile; out is then partly written and must be discarded.
 */
#ifndef OZF_TIFF_TILES_H
#define OZF_TIFF_TILES_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

enum { OZF_TIFF_NONE = 1, OZF_TIFF_DEFLATE = 8, OZF_TIFF_ZSTD = 50000 };

typedef struct {
    int fd;
    int64_t file_size;
    int compression; /* OZF_TIFF_* (32946, old-style deflate, is passed as 8) */
    int predictor;   /* 1: none, 2: horizontal differencing */
    int itemsize;    /* bytes per sample: 1, 2, 4 or 8, native byte order */
    int samples;     /* samples per pixel, interleaved (planar configuration 1) */
    int64_t tile_rows, tile_cols; /* a full tile; strips: rows per strip x image width */
} ozf_tiff_layout;

/* One tile to read, as 10 int64 values in this order. */
enum {
    OZF_TT_OFFSET = 0, /* where its bytes are in the file */
    OZF_TT_COUNT,      /* how many (0: a tile not stored, read as zeros) */
    OZF_TT_ROWS,       /* rows this tile stores (a last strip stores fewer) */
    OZF_TT_ROW0,       /* first row of the tile to copy */
    OZF_TT_COL0,       /* first column */
    OZF_TT_NROWS,      /* rows to copy */
    OZF_TT_NCOLS,      /* columns to copy */
    OZF_TT_DST,        /* byte offset in out of the first copied pixel */
    OZF_TT_PAGE,       /* for messages: the page (IFD) index */
    OZF_TT_INDEX,      /* for messages: the tile index in its page */
    OZF_TT_FIELDS
};

/* Reads n tiles (tiles[i * OZF_TT_FIELDS + field]) into out (out_size
 * bytes; rows of the output dst_stride bytes apart) on the pool.  Returns
 * OZF_OK or the first failure's code, its message in *st. */
int ozf_tiff_read_tiles(const ozf_tiff_layout *l, size_t n, const int64_t *tiles, uint8_t *out,
                        size_t out_size, int64_t dst_stride, ozf_status *st);

#endif
