"""TIFF, OME-TIFF, ImageJ hyperstacks and pyramidal TIFF through tifffile.

Each tifffile series is one image. Its data is never loaded whole: tiles and
strips the native reader decodes (uncompressed, deflate, zstd) are read a
block at a time on the thread pool (:mod:`omezarr_fast.inputs.tiles`); other
uncompressed contiguous levels are memory maps; other 2-D tiles and strips are
decoded by tifffile on threads, a block at a time
(:mod:`omezarr_fast.inputs.segments`); anything else is a zarr array over
``series.aszarr(level=k)``, which decodes only the tiles or strips a read
touches. Axes come from
tifffile's series axes; metadata from the OME-XML (parsed with xml.etree),
ImageJ's description (``imagej_metadata``) or the resolution tags.
"""
from __future__ import annotations

import math

import numpy as np

from omezarr_fast.inputs.axes import axes_from_tiff, resolve_axes
from omezarr_fast.inputs.errors import InputError
from omezarr_fast.inputs.model import ChannelInfo, InputFile, InputImage
from omezarr_fast.inputs.omexml import OmeDocument, OmeImage, parse_ome_xml
from omezarr_fast.inputs.segments import TiffSegments, segments_level
from omezarr_fast.inputs.tiles import TiffTiles, native_level
from omezarr_fast.inputs.units import SPACE, TIME, normalize_unit

RGB_COLORS = ("FF0000", "00FF00", "0000FF")
# TIFF ResolutionUnit tag values with a physical meaning.
RESOLUTION_UNITS = {2: "inch", 3: "centimeter"}


def _need_tifffile():
    try:
        import tifffile
    except ImportError:
        raise InputError("TIFF input needs tifffile: pip install 'omezarr_fast[cli]'") from None
    return tifffile


def open_tiff(path: str, axes=None) -> InputFile:
    """Every series of a TIFF file as an InputImage; ``axes`` names the axes the file does not."""
    tifffile = _need_tifffile()
    try:
        tif = tifffile.TiffFile(path)
    except Exception as e:  # noqa: BLE001 -- tifffile raises TiffFileError, ValueError, struct.error...
        raise InputError(f"cannot read {path} as TIFF: {e}") from None
    try:
        return _read(tif, path, axes)
    except BaseException:
        tif.close()
        raise


def _read(tif, path: str, axes) -> InputFile:
    series = tif.series
    if not series:
        raise InputError(f"{path}: the TIFF file holds no image")
    doc = None
    if tif.is_ome and tif.ome_metadata:
        fmt, doc = "ome-tiff", parse_ome_xml(tif.ome_metadata)
    elif tif.is_imagej:
        fmt = "imagej-tiff"
    else:
        fmt = "tiff"
    ome_images = _match_ome_images(series, doc.images) if doc else [None] * len(series)
    is_ome = doc is not None
    label = {"ome-tiff": "OME-TIFF", "imagej-tiff": "ImageJ TIFF", "tiff": "TIFF"}[fmt]
    images = []
    for i, (s, ome) in enumerate(zip(series, ome_images)):
        levels = [_level_array(tif, s, k) for k in range(len(s.levels))]
        source = f"{path} series {i} ({label})" if len(series) > 1 else f"{path} ({label})"
        img = InputImage(levels[0], resolve_axes(axes_from_tiff(s.axes), len(s.shape), axes, source),
                         s.axes, levels=levels, chunks=_chunks(levels[0], s), series=i, source=source,
                         name=s.name or None)
        if ome is not None:
            _apply_ome(img, ome, doc)
        elif is_ome:
            img.notes.append("no OME-XML Image matches this series (by name and size); "
                             "its physical metadata is not read")
        elif fmt == "imagej-tiff" and i == 0:
            _apply_imagej(img, tif.imagej_metadata or {}, s)
        else:
            _apply_resolution(img, s)
        if not img.channels and "S" in s.axes and s.shape[s.axes.index("S")] == 3:
            img.channels = [ChannelInfo(None, c) for c in RGB_COLORS]
        images.append(img)
    ome_xml = tif.ome_metadata if doc else None
    # Native tiles keep their own file (closed with the input); memory maps need no open
    # TiffFile; zarr arrays over aszarr do.
    handles = [level for img in images for level in img.levels
               if isinstance(level, (TiffTiles, TiffSegments))]
    if all(isinstance(level, (np.memmap, TiffTiles)) for img in images for level in img.levels):
        tif.close()
    else:
        handles.append(tif)
    return InputFile(path, fmt, images, ome_xml, doc.plates if doc else [], handles=handles)


def _level_array(tif, series, level: int):
    """Tiles, strips or pages the native reader decodes (:mod:`omezarr_fast.inputs.tiles`);
    else a memory map when the level is uncompressed and contiguous; else 2-D tiles or
    strips tifffile decodes on threads (:mod:`omezarr_fast.inputs.segments`); else a zarr
    array over aszarr."""
    import zarr

    lv = series.levels[level]
    native = native_level(tif.filehandle.path, lv)
    if native is not None:
        return native
    if lv.dataoffset is not None:
        # What tifffile.memmap does, without parsing the file again for every series.
        return np.memmap(tif.filehandle.path, dtype=np.dtype(lv.dtype).newbyteorder(tif.byteorder),
                         mode="r", offset=lv.dataoffset, shape=tuple(lv.shape))
    threaded = segments_level(tif.filehandle.path, lv)
    if threaded is not None:
        return threaded
    return zarr.open_array(series.aszarr(level=level), mode="r")


def _chunks(array, series) -> tuple[int, ...]:
    if getattr(array, "chunks", None) is not None:
        return tuple(int(c) for c in array.chunks)
    # A memory map or uncompressed pages: one page (plane) is the natural unit.
    page = series.keyframe.shape
    return (1,) * (len(series.shape) - len(page)) + tuple(int(n) for n in page)


def _match_ome_images(series, images: list[OmeImage]) -> list[OmeImage | None]:
    """The <Image> each tifffile series came from (tifffile makes one series per Image with data, in order)."""
    out, start = [], 0
    for s in series:
        found = None
        for k in range(start, len(images)):
            im = images[k]
            if math.prod(im.sizes.values()) == math.prod(s.shape) and (im.name or "") == (s.name or ""):
                found, start = im, k + 1
                break
        out.append(found)
    return out


def _apply_ome(img: InputImage, ome: OmeImage, doc: OmeDocument) -> None:
    img.name = ome.name
    present = img.axes or "zyx"     # PhysicalSizeZ of a 2-D image describes no axis of it
    img.pixel_sizes = {a: v for a, v in ome.pixel_sizes.items() if a in present}
    img.units = {a: v for a, v in ome.units.items() if a in present}
    img.time_increment, img.time_unit = ome.time_increment, ome.time_unit
    nc = img.shape[img.axes.index("c")] if img.axes and "c" in img.axes else 1
    if len(ome.channels) == nc:
        img.channels = list(ome.channels)
    img.well = doc.wells.get(ome.id)


def _ij_unit(img: InputImage, text, kind: str, what: str) -> str | None:
    try:
        return normalize_unit(text, kind, what)
    except InputError as e:
        img.notes.append(f"{e}; the physical size is left out")
        return None


def _apply_imagej(img: InputImage, meta: dict, series) -> None:
    """ImageJ: x/y from the resolution tags in ``unit``, z from ``spacing``, t from ``finterval``."""
    unit = _ij_unit(img, meta.get("unit"), SPACE, "ImageJ unit")
    if unit is not None:
        for axis, size in _resolution_sizes(series).items():
            img.pixel_sizes[axis], img.units[axis] = size, unit
        spacing = meta.get("spacing")
        if "Z" in series.axes and _positive(spacing):
            img.pixel_sizes["z"], img.units["z"] = float(spacing), unit
    finterval = meta.get("finterval")
    if "T" in series.axes and _positive(finterval):
        img.time_increment = float(finterval)
        img.time_unit = _ij_unit(img, meta.get("tunit", "sec"), TIME, "ImageJ tunit")
    luts = meta.get("LUTs")
    nc = series.shape[series.axes.index("C")] if "C" in series.axes else 1
    if luts is not None and len(luts) == nc:
        # A channel's colour is its LUT's brightest entry.
        img.channels = [ChannelInfo(None, "".join(f"{int(v):02X}" for v in np.asarray(lut)[:, -1]))
                        for lut in luts]


def _apply_resolution(img: InputImage, series) -> None:
    """A plain TIFF: x/y pixel size from the resolution tags when ResolutionUnit is inch or centimeter."""
    tag = series.keyframe.tags.get("ResolutionUnit")
    unit = RESOLUTION_UNITS.get(int(tag.value)) if tag is not None else None
    if unit is None:
        return
    for axis, size in _resolution_sizes(series).items():
        img.pixel_sizes[axis], img.units[axis] = size, unit


def _resolution_sizes(series) -> dict[str, float]:
    """Pixel size = 1 / (pixels per unit) from X/YResolution (rationals)."""
    out = {}
    for axis, name in (("x", "XResolution"), ("y", "YResolution")):
        tag = series.keyframe.tags.get(name)
        if tag is None:
            continue
        num, den = tag.value if isinstance(tag.value, tuple) else (tag.value, 1)
        if num and den and num > 0 and den > 0:
            out[axis] = den / num
    return out


def _positive(v) -> bool:
    try:
        return math.isfinite(float(v)) and float(v) > 0
    except (TypeError, ValueError):
        return False
