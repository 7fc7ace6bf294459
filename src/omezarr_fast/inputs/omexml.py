"""OME-XML -> images (names, physical sizes, channels) and HCS plates, with xml.etree.

Only what NGFF can carry is extracted; the document itself is kept as the
original string (InputFile.ome_xml) so nothing is lost. Tags are matched by
local name, so every OME schema year's namespace reads the same.
"""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from omezarr_fast.inputs.errors import InputError
from omezarr_fast.inputs.model import (
    AcquisitionInfo,
    ChannelInfo,
    PlateInfo,
    WellPosition,
)
from omezarr_fast.inputs.units import SPACE, TIME, normalize_unit


@dataclass
class OmeImage:
    """One <Image>: what its <Pixels> say."""
    id: str
    name: str | None
    sizes: dict[str, int]                      # X, Y, Z, C, T as in Pixels@Size*
    pixel_sizes: dict[str, float] = field(default_factory=dict)   # z/y/x
    units: dict[str, str] = field(default_factory=dict)
    time_increment: float | None = None
    time_unit: str | None = None
    channels: list[ChannelInfo] = field(default_factory=list)
    samples_per_pixel: list[int] = field(default_factory=list)    # per <Channel>


@dataclass
class OmeDocument:
    images: list[OmeImage]
    plates: list[PlateInfo]
    wells: dict[str, WellPosition]             # Image ID -> where it sits in a plate


def ome_color(value: str | int, what: str = "Color") -> str:
    """OME-XML Color (a signed 32-bit RGBA integer) -> "RRGGBB" as omero writes it; alpha dropped.

    -1 (0xFFFFFFFF) is opaque white, "FFFFFF"; 0xFF0000FF (-16776961) is red.
    """
    try:
        v = int(value)
    except (TypeError, ValueError):
        raise InputError(f"{what}: expected a 32-bit RGBA integer, got {value!r}") from None
    if not -(1 << 31) <= v < (1 << 32):
        raise InputError(f"{what}: {value!r} is not a 32-bit RGBA integer")
    return f"{(v & 0xFFFFFFFF) >> 8:06X}"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el, name: str):
    return [c for c in el if _local(c.tag) == name]


def _child(el, name: str):
    found = _children(el, name)
    return found[0] if found else None


def _float(el, attr: str, where: str) -> float | None:
    text = el.get(attr)
    if text is None:
        return None
    try:
        v = float(text)
    except ValueError:
        raise InputError(f"OME-XML {where}@{attr}: expected a number, got {text!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise InputError(f"OME-XML {where}@{attr}: expected a positive number, got {text!r}")
    return v


def _int(el, attr: str, where: str, default: int | None = None) -> int | None:
    text = el.get(attr)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise InputError(f"OME-XML {where}@{attr}: expected an integer, got {text!r}") from None


def _image(el, index: int) -> OmeImage:
    where = f"Image[{index}]"
    pixels = _child(el, "Pixels")
    if pixels is None:
        raise InputError(f"OME-XML {where}: no Pixels element")
    pwhere = f"{where}/Pixels"
    sizes = {a: _int(pixels, f"Size{a}", pwhere, 1) for a in "XYZCT"}
    img = OmeImage(el.get("ID", f"Image:{index}"), el.get("Name"), sizes)
    for axis in "XYZ":
        size = _float(pixels, f"PhysicalSize{axis}", pwhere)
        if size is None:
            continue
        # The OME schema's default unit is the micrometer.
        unit = normalize_unit(pixels.get(f"PhysicalSize{axis}Unit", "µm"), SPACE,
                              f"OME-XML {pwhere}@PhysicalSize{axis}Unit")
        img.pixel_sizes[axis.lower()] = size
        if unit is not None:
            img.units[axis.lower()] = unit
    img.time_increment = _float(pixels, "TimeIncrement", pwhere)
    if img.time_increment is not None:
        img.time_unit = normalize_unit(pixels.get("TimeIncrementUnit", "s"), TIME,
                                       f"OME-XML {pwhere}@TimeIncrementUnit")
    for k, ch in enumerate(_children(pixels, "Channel")):
        color = ch.get("Color")
        img.channels.append(ChannelInfo(
            ch.get("Name"), ome_color(color, f"OME-XML {pwhere}/Channel[{k}]@Color") if color else None))
        img.samples_per_pixel.append(_int(ch, "SamplesPerPixel", f"{pwhere}/Channel[{k}]", 1))
    return img


def _row_name(i: int, convention: str | None) -> str:
    if convention == "number":
        return str(i + 1)
    name = ""
    i += 1
    while i:            # A..Z, AA, AB, ... as spreadsheets and plate readers name rows
        i, r = divmod(i - 1, 26)
        name = chr(ord("A") + r) + name
    return name


def _plate(el, index: int, wells: dict[str, WellPosition]) -> PlateInfo:
    where = f"Plate[{index}]"
    acquisitions, acq_of_sample = [], {}
    for k, acq in enumerate(_children(el, "PlateAcquisition")):
        acquisitions.append(AcquisitionInfo(k, acq.get("Name")))
        for ref in _children(acq, "WellSampleRef"):
            acq_of_sample[ref.get("ID")] = k
    row_conv = el.get("RowNamingConvention", "letter")
    col_conv = el.get("ColumnNamingConvention", "number")
    well_els = _children(el, "Well")
    positions = []
    for k, w in enumerate(well_els):
        wwhere = f"{where}/Well[{k}]"
        r, c = _int(w, "Row", wwhere), _int(w, "Column", wwhere)
        if r is None or c is None or r < 0 or c < 0:
            raise InputError(f"OME-XML {wwhere}: Row and Column must be non-negative integers")
        positions.append((r, c))
    nrows = _int(el, "Rows", where) or max((r for r, _ in positions), default=-1) + 1
    ncols = _int(el, "Columns", where) or max((c for _, c in positions), default=-1) + 1
    if any(r >= nrows or c >= ncols for r, c in positions):
        raise InputError(f"OME-XML {where}: a Well lies outside the plate's {nrows} rows x {ncols} columns")
    rows = [_row_name(i, row_conv) for i in range(nrows)]
    columns = [_row_name(i, col_conv) for i in range(ncols)]
    field_count = 0
    for w, (r, c) in zip(well_els, positions):
        samples = _children(w, "WellSample")
        samples.sort(key=lambda s: _int(s, "Index", "WellSample", 0))
        field_count = max(field_count, len(samples))
        for f, s in enumerate(samples):
            ref = _child(s, "ImageRef")
            if ref is None or ref.get("ID") is None:
                continue
            wells[ref.get("ID")] = WellPosition(index, rows[r], columns[c], r, c, f,
                                                acq_of_sample.get(s.get("ID")))
    return PlateInfo(el.get("Name"), rows, columns, field_count, acquisitions)


def parse_ome_xml(text: str) -> OmeDocument:
    """Every <Image> and <Plate> of an OME-XML document."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise InputError(f"the OME-XML is not well-formed XML: {e}") from None
    if _local(root.tag) != "OME":
        raise InputError(f"the OME-XML's root element is {_local(root.tag)!r}, not 'OME'")
    images = [_image(el, i) for i, el in enumerate(_children(root, "Image"))]
    wells: dict[str, WellPosition] = {}
    plates = [_plate(el, i, wells) for i, el in enumerate(_children(root, "Plate"))]
    return OmeDocument(images, plates, wells)
