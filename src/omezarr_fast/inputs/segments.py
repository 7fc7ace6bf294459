"""TIFF tiles and strips the native reader does not decode (LZW, JPEG, big-endian, the
floating-point predictor, ...), decoded by tifffile on threads, a block at a time.

tifffile's ``aszarr`` store, read through zarr, decodes one tile per call in one
thread; here the file reads of a block's tiles go in file order (tifffile's
``read_segments``, under the file's lock) and their decoding (``page.decode``:
imagecodecs and zlib release the GIL) runs on a thread pool, each tile copied
straight into its place in the block.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from omezarr_fast._threads import get_num_threads
from omezarr_fast.inputs.errors import InputError
from omezarr_fast.inputs.lazy import PlaneBlocks
from omezarr_fast.inputs.tiles import COL0, INDEX, NCOLS, NROWS, ROW0, tiff_geometry, tile_grid

__all__ = ["TiffSegments", "segments_level"]


def segments_level(path, level) -> TiffSegments | None:
    """A :class:`TiffSegments` over a tifffile series level of 2-D tiles or strips, else None."""
    geometry = tiff_geometry(level)
    if geometry is None:
        return None
    pages, shape, dtype, spp, rows, cols = geometry
    return TiffSegments(str(path), pages, level.keyframe, shape, dtype.newbyteorder("="), spp, rows, cols)


class TiffSegments(PlaneBlocks):
    """One TIFF series level read a block at a time, tiles decoded by tifffile on threads.
    Needs its TiffFile open (the input keeps it)."""

    def __init__(self, path, pages, keyframe, shape, dtype, samples, tile_rows, tile_cols):
        self.path = path
        self.pages = pages
        self.keyframe = keyframe
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.samples, self.tile_rows, self.tile_cols = samples, tile_rows, tile_cols
        self.lead = self.shape[:self.ndim - (3 if samples > 1 else 2)]
        self.height, self.width = self.shape[len(self.lead):len(self.lead) + 2]
        self.chunks = (1,) * len(self.lead) + (min(tile_rows, self.height), min(tile_cols, self.width)) + \
            ((samples,) if samples > 1 else ())
        self._pool = None

    def _fill(self, out, pages, ys, xs) -> None:
        grid = tile_grid(ys, xs, 1, self.tile_rows, self.tile_cols, self.height, self.width)
        planes = out.reshape(-1, ys.stop - ys.start, xs.stop - xs.start, self.samples)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max(1, get_num_threads()), "omezarr-fast-tiff")
        futures = []
        for plane, page_index in zip(planes, pages.tolist()):
            futures += self._page(self.pages[page_index], page_index, grid, plane, ys, xs)
        for f in futures:
            f.result()

    def _page(self, page, page_index, grid, plane, ys, xs) -> list:
        kf = self.keyframe
        fh = kf.parent.filehandle
        index = grid[:, INDEX].tolist()
        offsets = [page.dataoffsets[i] for i in index]
        counts = [page.databytecounts[i] for i in index]
        args = {"jpegtables": getattr(page, "jpegtables", None) or kf.jpegtables, "jpegheader": kf.jpegheader}
        ntx = -(-self.width // self.tile_cols)

        def decode(data, j):
            i = index[j]
            y = i // ntx * self.tile_rows + int(grid[j, ROW0])
            x = i % ntx * self.tile_cols + int(grid[j, COL0])
            nr, nc = int(grid[j, NROWS]), int(grid[j, NCOLS])
            dst = plane[y - ys.start:y - ys.start + nr, x - xs.start:x - xs.start + nc]
            if data is None:       # not stored: zeros, as tifffile fills it
                dst[...] = 0
                return
            try:
                seg = kf.decode(data, i, **args)[0]
            except Exception as e:  # noqa: BLE001 -- codecs raise anything
                raise InputError(f"{self.path}: page {page_index} tile {i}: cannot decode: {e}") from None
            r0, c0 = int(grid[j, ROW0]), int(grid[j, COL0])
            if seg is None or seg.ndim != 4 or seg.shape[1] < r0 + nr or seg.shape[2] < c0 + nc \
                    or seg.shape[3] != self.samples:
                raise InputError(f"{self.path}: page {page_index} tile {i}: decodes to shape "
                                 f"{getattr(seg, 'shape', None)}, too small for its place")
            dst[...] = seg[0, r0:r0 + nr, c0:c0 + nc]

        return [self._pool.submit(decode, data, j) for data, j in
                fh.read_segments(offsets, counts, list(range(len(index))), sort=True, lock=fh.lock)]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
