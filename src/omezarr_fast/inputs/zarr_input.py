"""zarr arrays, OME-Zarr images (0.4 and 0.5) and bioformats2raw containers.

An OME-Zarr image gives its axes, units, level-0 scale, omero channels
(label, colour) and name; the image group's attributes are kept whole in
``InputImage.ngff`` (omero, labels and every other block) for a converter
to carry over. A plain zarr array names its axes by ``dimension_names``.
"""
from __future__ import annotations

import os

from omezarr_fast import ngff
from omezarr_fast.inputs.axes import axes_from_labels, resolve_axes
from omezarr_fast.inputs.errors import InputError
from omezarr_fast.inputs.model import SPACE_AXES, ChannelInfo, InputFile, InputImage
from omezarr_fast.inputs.units import SPACE, TIME, normalize_unit


def open_zarr(path: str, axes=None) -> InputFile:
    import zarr

    try:
        node = zarr.open(path, mode="r")
    except Exception as e:  # noqa: BLE001 -- zarr raises several types for a non-zarr directory
        raise InputError(f"cannot open {path} as zarr: {e}") from None
    if isinstance(node, zarr.Array):
        return InputFile(path, "zarr", [_array_image(node, path, axes)])
    attrs = node.attrs.asdict()
    version = ngff.detect_version(attrs)
    if version is None:
        arrays = sorted(k for k, _ in node.arrays())
        raise InputError(f"{path} is a zarr group without OME-Zarr metadata; give one array: "
                         f"{', '.join(os.path.join(path, a) for a in arrays[:5]) or 'it has no arrays'}")
    try:
        meta = ngff.parse_attributes(attrs, version)
    except ngff.NgffError as e:
        # Metadata we cannot parse still names its levels often enough: read those, axes unknown.
        img = _levels_only(node, attrs, version, path, axes)
        img.notes.append(f"OME-Zarr metadata not understood ({e}); levels read without axes "
                         "or physical sizes")
        return InputFile(path, "ome-zarr", [img])
    if meta.multiscales:
        return InputFile(path, "ome-zarr", [_ome_image(node, attrs, meta, path, axes, 0)])
    if meta.plate is not None:
        raise InputError(f"{path} is an HCS plate; give the path of one field's image, "
                         f"e.g. {os.path.join(path, meta.plate.wells[0].path, '0') if meta.plate.wells else path}")
    if meta.bioformats2raw_layout is not None:
        return _bioformats2raw(node, meta, path, axes)
    raise InputError(f"{path} is an OME-Zarr group without an image (no multiscales)")


def _array_image(arr, source: str, override) -> InputImage:
    names = getattr(arr.metadata, "dimension_names", None)
    from_file = axes_from_labels(names) if names else ("yx" if arr.ndim == 2 else None)
    return InputImage(arr, resolve_axes(from_file, arr.ndim, override, source),
                      ",".join(str(n) for n in names) if names else "", chunks=tuple(arr.chunks),
                      source=f"{source} (zarr array)", name=os.path.basename(source.rstrip("/")) or None)


def _unit(img: InputImage, text, kind, what):
    try:
        return normalize_unit(text, kind, what)
    except InputError as e:
        img.notes.append(f"{e}; the unit is kept as written")
        return text


def _ome_image(group, attrs, meta, path: str, override, series: int) -> InputImage:
    ms = meta.multiscales[0]
    source = f"{path} (OME-Zarr {meta.version})"
    try:
        levels = [group[d.path] for d in ms.datasets]
    except KeyError as e:
        raise InputError(f"{source}: multiscales[0].datasets names an array that is not there: {e}") from None
    names = ms.axis_names
    from_file = axes_from_labels(names)
    img = InputImage(levels[0], resolve_axes(from_file, levels[0].ndim, override, source), ",".join(names),
                     levels=levels, chunks=tuple(levels[0].chunks), series=series, source=source,
                     name=ms.name, ngff=attrs)
    if img.axes is None:
        return img
    scale = list(ms.datasets[0].scale)
    if ms.transforms is not None:      # multiscale-wide transforms apply after each level's own
        scale = [a * b for a, b in zip(scale, ms.transforms.scale)]
    if len(scale) != len(ms.axes) or len(ms.axes) != img.ndim:
        img.notes.append(f"multiscales[0] has {len(ms.axes)} axes and a scale of {len(scale)} for a "
                         f"{img.ndim}-d array; the physical sizes are left out")
        scale = []
    for a, axis, s in zip(img.axes, ms.axes, scale):
        kind = TIME if a == "t" else SPACE
        unit = _unit(img, axis.unit, kind, f"{source}: axis {axis.name!r} unit") if axis.unit else None
        if a == "t":
            img.time_increment, img.time_unit = float(s), unit
        elif a in SPACE_AXES:
            img.pixel_sizes[a] = float(s)
            if unit is not None:
                img.units[a] = unit
    if meta.omero is not None:
        img.channels = [ChannelInfo(ch.label, ch.color) for ch in meta.omero.channels]
        if img.name is None:
            img.name = meta.omero.extra.get("name")
    return img


def _levels_only(group, attrs, version: str, path: str, override) -> InputImage:
    ns = attrs if version == "0.4" else attrs.get("ome") or {}
    source = f"{path} (OME-Zarr {version})"
    try:
        paths = [ngff.check_relative_path(d.get("path"), f"multiscales[0].datasets[{i}].path")
                 for i, d in enumerate(ns["multiscales"][0]["datasets"])]
        levels = [group[p] for p in paths]
    except (KeyError, IndexError, TypeError, AttributeError, ngff.NgffError) as e:
        raise InputError(f"{source}: no readable multiscales[0].datasets: {e}") from None
    if not levels:
        raise InputError(f"{source}: multiscales[0].datasets is empty")
    return InputImage(levels[0], resolve_axes(None, levels[0].ndim, override, source), "", levels=levels,
                      chunks=tuple(levels[0].chunks), source=source, ngff=attrs)


def _bioformats2raw(node, meta, path: str, override) -> InputFile:
    series = meta.series
    ome_xml = None
    if "OME" in node:
        ome = node["OME"]
        series = series or ome.attrs.asdict().get("series") or (ome.attrs.asdict().get("ome") or {}).get("series")
        xml_path = os.path.join(path, "OME", "METADATA.ome.xml")
        if os.path.isfile(xml_path):
            with open(xml_path, encoding="utf-8") as f:
                ome_xml = f.read()
    if series and not (isinstance(series, list) and all(isinstance(s, str) for s in series)):
        raise InputError(f"{path}: OME series must be a list of image group paths, got {series!r}")
    if not series:   # consecutively numbered groups 0/, 1/, ...
        series = []
        while str(len(series)) in node:
            series.append(str(len(series)))
    images = []
    for i, name in enumerate(series):
        try:
            ngff.check_relative_path(name, f"OME series[{i}]")
            img = open_zarr(f"{path.rstrip('/')}/{name}", override).images[0]
        except (InputError, ngff.NgffError) as e:
            raise InputError(f"{path}: series {name!r}: {e}") from None
        img.series = i
        images.append(img)
    return InputFile(path, "ome-zarr", images, ome_xml)
