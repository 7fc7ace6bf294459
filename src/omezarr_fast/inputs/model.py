"""What a reader returns: one InputImage per image/series, in an InputFile.

The pixel data stays lazy: ``data`` (and every entry of ``levels``) is an
array-like with ``shape``, ``dtype`` and slicing that reads only the asked-for
region (a zarr array over tifffile's ``aszarr`` store, a memory map, an h5py
dataset, a zarr array). Nothing here ever reads a whole image.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np

NGFF_AXES = "tczyx"    # the axis names NGFF knows, in the order it requires
SPACE_AXES = "zyx"


@dataclass(frozen=True)
class ChannelInfo:
    """One channel as the file describes it: a name and a display colour "RRGGBB" (each optional)."""
    name: str | None = None
    color: str | None = None


@dataclass(frozen=True)
class WellPosition:
    """Where an image of an HCS plate sits: plate, well (row, column) and field within the well."""
    plate: int                 # index into InputFile.plates
    row: str                   # row name, "A"
    column: str                # column name, "1"
    row_index: int             # 0-based
    column_index: int          # 0-based
    field: int                 # 0-based position among the well's fields (WellSample order)
    acquisition: int | None = None   # PlateAcquisition id, when the file has them


@dataclass(frozen=True)
class AcquisitionInfo:
    id: int
    name: str | None = None


@dataclass
class PlateInfo:
    """An HCS plate from OME-XML: every row and column name (even empty ones), fields per well."""
    name: str | None
    rows: list[str]
    columns: list[str]
    field_count: int
    acquisitions: list[AcquisitionInfo] = field(default_factory=list)


@dataclass
class InputImage:
    """One image (one series of a multi-series file) with its axes and physical metadata.

    ``axes`` are NGFF names, one letter per dimension of ``data`` in the
    order of ``data`` (not necessarily NGFF's order: see
    :func:`omezarr_fast.inputs.to_ngff_order`), or None when the file does not
    say which axis is which (then name them with ``open_file(..., axes=...)``).
    RGB samples (tifffile's 'S') are the channel axis 'c'.
    """
    data: Any                                  # lazy array-like: shape, dtype, [slices] -> numpy
    axes: str | None                           # NGFF names per dimension, "zcyx"; None: unknown
    file_axes: str                             # what the file says: tifffile letters ("ZCYX", "IYX"), labels
    pixel_sizes: dict[str, float] = field(default_factory=dict)   # z/y/x -> size of one pixel
    units: dict[str, str] = field(default_factory=dict)           # z/y/x -> UDUNITS-2 unit
    time_increment: float | None = None
    time_unit: str | None = None               # UDUNITS-2 unit of time_increment
    channels: list[ChannelInfo] = field(default_factory=list)     # [] or one per channel
    name: str | None = None
    levels: list[Any] = field(default_factory=list)   # the file's own pyramid; levels[0] is data
    chunks: tuple[int, ...] | None = None      # storage chunks of data (TIFF tiles/strips, HDF5 chunks)
    series: int = 0                            # index of this image in its file
    well: WellPosition | None = None
    source: str = ""                           # "a.ome.tif series 1 (OME-TIFF)"
    ngff: dict[str, Any] | None = None         # OME-Zarr input: the image group's attributes as read
    notes: list[str] = field(default_factory=list)   # metadata the reader found but could not use, and why

    def __post_init__(self):
        if not self.levels:
            self.levels = [self.data]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.data.shape)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.data.dtype)

    @property
    def ndim(self) -> int:
        return len(self.data.shape)

    def axis_scale(self) -> list[float]:
        """NGFF level-0 ``scale`` parallel to ``axes``: pixel sizes, the time increment, 1 elsewhere."""
        return [self._scale_of(a) for a in self._axes()]

    def axis_units(self) -> list[str | None]:
        """NGFF axis units parallel to ``axes`` (None where the file gives none)."""
        return [self.time_unit if a == "t" else self.units.get(a) for a in self._axes()]

    def _scale_of(self, a: str) -> float:
        if a == "t":
            return self.time_increment if self.time_increment else 1.0
        return self.pixel_sizes.get(a, 1.0)

    def _axes(self) -> str:
        from omezarr_fast.inputs.axes import require_axes

        return require_axes(self)


@dataclass
class InputFile:
    """An opened input: every image in it, and what the file says about all of them."""
    path: str
    format: str                       # "ome-tiff", "imagej-tiff", "tiff", "hdf5", "npy", "zarr", "ome-zarr"
    images: list[InputImage]
    ome_xml: str | None = None        # OME-TIFF / bioformats2raw: the original OME-XML, unchanged
    plates: list[PlateInfo] = field(default_factory=list)
    handles: list[Any] = field(default_factory=list, repr=False)   # open files, closed by close()

    def close(self) -> None:
        for h in self.handles:
            h.close()
        self.handles.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
