"""TIFF tiles and strips decoded natively, a block at a time, straight into the block.

tifffile parses the file (IFDs, tile offsets and byte counts); this module
works out which tiles of which pages a block touches and where each lands,
and one native call (csrc/tiff_tiles.c) reads, decodes and copies them all on
the thread pool with the GIL released.  tifffile's own path (``aszarr``)
decodes a tile at a time in Python's threads, several times slower on the
two cores of a small machine.

Read natively: uncompressed, deflate/zlib (8, 32946) and zstd (50000) tiles
or strips, with or without horizontal differencing (predictor 2, integers),
samples interleaved (or one sample), one page per plane, in the machine's
byte order.  :func:`native_level` returns None for anything else, and the
caller keeps tifffile's reader.
"""
from __future__ import annotations

import math
import os
import sys

import numpy as np

from omezarr_fast.inputs.lazy import PlaneBlocks

__all__ = ["TT_FIELDS", "TiffTiles", "native_level", "tile_grid", "tiff_geometry"]

TT_FIELDS = 10      # csrc/tiff_tiles.h: one tile is 10 int64 values, in this order
OFFSET, COUNT, ROWS, ROW0, COL0, NROWS, NCOLS, DST, PAGE, INDEX = range(TT_FIELDS)


def _native():
    from omezarr_fast._extension import native

    return native


def tiff_geometry(level):
    """``(pages, shape, dtype, samples, tile_rows, tile_cols)`` of a tifffile series level
    whose pages are one plane each of the leading axes, all in one file with one layout,
    as 2-D tiles or strips (samples interleaved); None for anything else."""
    pages = list(level.pages)
    kf = level.keyframe
    if not pages or any(p is None for p in pages) or kf.dtype is None:
        return None
    dtype = np.dtype(kf.dtype)
    spp = int(kf.samplesperpixel)
    if (spp > 1 and int(kf.planarconfig) != 1) or int(kf.imagedepth) != 1 \
            or int(getattr(kf, "tiledepth", 1)) != 1 \
            or tuple(getattr(kf, "subsampling", None) or (1, 1)) != (1, 1):
        return None
    height, width = int(kf.imagelength), int(kf.imagewidth)
    page_shape = (height, width, spp) if spp > 1 else (height, width)
    if tuple(kf.shape) != page_shape:
        return None
    shape = tuple(int(n) for n in level.shape)
    lead = shape[:len(shape) - len(page_shape)]
    if shape[len(lead):] != page_shape or math.prod(lead) != len(pages):
        return None
    if kf.is_tiled:
        rows, cols = int(kf.tilelength), int(kf.tilewidth)
        ntiles = -(-height // rows) * -(-width // cols)
    else:
        rows, cols = min(int(kf.rowsperstrip) or height, height), width
        ntiles = -(-height // rows)
    fh = kf.parent.filehandle
    for p in pages:
        # Every page from this one file (a multi-file OME-TIFF's pages are in others),
        # with the key page's layout.
        if p.parent.filehandle is not fh or len(p.dataoffsets) != ntiles or \
                len(p.databytecounts) != ntiles or (p.keyframe is not kf and _layout(p.keyframe) != _layout(kf)):
            return None
    return pages, shape, dtype, spp, rows, cols


def native_level(path, level) -> TiffTiles | None:
    """A :class:`TiffTiles` over a tifffile series level (``series.levels[k]``) when
    the native reader can decode it, else None."""
    try:
        compressions = _native().tiff_compressions()
    except ImportError:
        return None
    geometry = tiff_geometry(level)
    if geometry is None:
        return None
    pages, shape, dtype, spp, rows, cols = geometry
    kf = level.keyframe
    if dtype.kind not in "uif" or dtype.itemsize not in (1, 2, 4, 8) or \
            int(kf.bitspersample) != 8 * dtype.itemsize or int(kf.fillorder) != 1:
        return None
    if dtype.itemsize > 1 and kf.parent.byteorder != ("<" if sys.byteorder == "little" else ">"):
        return None
    predictor = int(kf.predictor)
    if int(kf.compression) not in compressions or predictor not in (1, 2) or \
            (predictor == 2 and dtype.kind not in "ui"):
        return None
    offsets = np.array([p.dataoffsets for p in pages], np.int64)
    counts = np.array([p.databytecounts for p in pages], np.int64)
    return TiffTiles(os.fspath(path), shape, dtype.newbyteorder("="), int(kf.compression), predictor,
                     spp, rows, cols, offsets, counts)


def _layout(page) -> tuple:
    """What must match between the pages of one level for one native call to read them."""
    return tuple(getattr(page, a, None) for a in (
        "shape", "dtype", "compression", "predictor", "planarconfig", "tilelength", "tilewidth",
        "rowsperstrip", "bitspersample"))


def tile_grid(ys: slice, xs: slice, px: int, th: int, tw: int, height: int, width: int) -> np.ndarray:
    """The tiles (th x tw; strips: tw = width) of a page of height x width that the block
    (rows ys, columns xs) touches: one row of TT_FIELDS per tile, the page-independent
    fields filled (index, rows, row0, col0, nrows, ncols, dst with px bytes a pixel)."""
    nx = xs.stop - xs.start
    ntx = -(-width // tw)
    ty = np.arange(ys.start // th, (ys.stop - 1) // th + 1, dtype=np.int64)
    tx = np.arange(xs.start // tw, (xs.stop - 1) // tw + 1, dtype=np.int64)
    ty, tx = (a.reshape(-1) for a in np.meshgrid(ty, tx, indexing="ij"))
    y0 = np.maximum(ys.start, ty * th)
    y1 = np.minimum(ys.stop, ty * th + th)
    x0 = np.maximum(xs.start, tx * tw)
    x1 = np.minimum(xs.stop, tx * tw + tw)
    g = np.empty((len(ty), TT_FIELDS), np.int64)
    g[:, INDEX] = ty * ntx + tx
    g[:, ROWS] = np.minimum(th, height - ty * th)
    g[:, ROW0] = y0 - ty * th
    g[:, COL0] = x0 - tx * tw
    g[:, NROWS] = y1 - y0
    g[:, NCOLS] = x1 - x0
    g[:, DST] = ((y0 - ys.start) * nx + (x0 - xs.start)) * px
    return g


class TiffTiles(PlaneBlocks):
    """Pages of one TIFF series level (one page per plane of the leading axes), read
    block by block natively.  ``offsets``/``counts``: per page, per tile (or strip) in
    the file's order, where its bytes are."""

    def __init__(self, path, shape, dtype, compression, predictor, samples, tile_rows, tile_cols,
                 offsets, counts):
        self.path = os.fspath(path)
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)
        self.compression, self.predictor, self.samples = int(compression), int(predictor), int(samples)
        self.tile_rows, self.tile_cols = int(tile_rows), int(tile_cols)
        self.offsets = np.ascontiguousarray(offsets, np.int64)
        self.counts = np.ascontiguousarray(counts, np.int64)
        self.page_ndim = 3 if samples > 1 else 2
        self.lead = self.shape[:self.ndim - self.page_ndim]
        self.height, self.width = self.shape[len(self.lead):len(self.lead) + 2]
        # The unit a read decodes whole, for the writer to align its blocks with; an
        # uncompressed tile or strip is read row range by row range, so it has none.
        self.chunks = None if self.compression == 1 else \
            (1,) * len(self.lead) + (min(self.tile_rows, self.height), min(self.tile_cols, self.width)) + \
            ((samples,) if samples > 1 else ())
        self._fd = None     # opened on the first read: a file of many series holds no fd per level

    def __del__(self):
        self.close()

    def close(self) -> None:
        """Close the file (a later read opens it again)."""
        fd = getattr(self, "_fd", None)
        if fd is not None:
            self._fd = None
            os.close(fd)

    def __reduce__(self):
        return TiffTiles, (self.path, self.shape, self.dtype, self.compression, self.predictor,
                           self.samples, self.tile_rows, self.tile_cols, self.offsets, self.counts)

    def __repr__(self) -> str:
        return f"TiffTiles({self.path!r}, shape={self.shape}, dtype={self.dtype})"

    def _fill(self, out, pages, ys, xs) -> None:
        px = self.samples * self.dtype.itemsize
        plane = (ys.stop - ys.start) * (xs.stop - xs.start) * px
        grid = tile_grid(ys, xs, px, self.tile_rows, self.tile_cols, self.height, self.width)
        tiles = np.repeat(grid[None], len(pages), axis=0)
        tiles[:, :, PAGE] = pages[:, None]
        tiles[:, :, DST] += (np.arange(len(pages), dtype=np.int64) * plane)[:, None]
        tiles[:, :, OFFSET] = self.offsets[pages[:, None], grid[None, :, INDEX]]
        tiles[:, :, COUNT] = self.counts[pages[:, None], grid[None, :, INDEX]]
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        _native().read_tiff_tiles(
            self._fd, os.fstat(self._fd).st_size, self.compression, self.predictor,
            self.dtype.itemsize, self.samples, self.tile_rows, self.tile_cols,
            tiles.reshape(-1, TT_FIELDS), out, (xs.stop - xs.start) * px, f"{self.path}: ")
