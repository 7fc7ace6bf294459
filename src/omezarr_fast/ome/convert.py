"""Conversion to OME-Zarr that loses nothing: every series, named axes, physical metadata.

:func:`convert` opens a file with :mod:`omezarr_fast.inputs` (TIFF, OME-TIFF, ImageJ,
pyramidal TIFF, HDF5, ``.npy``, zarr and OME-Zarr) and writes:

- one image: an OME-Zarr image at the output;
- several images (an OME-TIFF with several series, a bioformats2raw container): the
  bioformats2raw layout, as bioformats2raw writes it: the root group with
  ``"bioformats2raw.layout": 3``, one image group per series ``0``, ``1``, ..., the
  original OME-XML unchanged in ``OME/METADATA.ome.xml`` and an ``OME`` group listing the
  series. An OME-TIFF (anything with OME-XML) gets this layout even for one series, so
  its OME-XML is kept; ``series=N`` writes series N alone as a plain image instead;
- images placed in a plate by the OME-XML: an HCS plate (``row/column/field``) in the
  same container (``bioformats2raw.layout`` beside ``plate``, OME-XML kept).

Metadata carried over: axis names and NGFF order (by streamed transposes), pixel sizes
and units (UDUNITS-2), the time increment, channel names and colours, the image name;
from an OME-Zarr input also its translation, omero block, label images and every other
attribute. Windows of the omero channels are the data's range, gathered while writing.

Everything that can fail (axes, units, names, colours, label shapes and dtypes, codecs,
the output's existence) is checked before the first byte is written, and a failure
while writing removes the output.
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zarr

from omezarr_fast import ngff
from omezarr_fast.config import enabled
from omezarr_fast.errors import OutputExistsError
from omezarr_fast.inputs import (
    InputError,
    InputFile,
    InputImage,
    normalize_unit,
    open_file,
    to_ngff_order,
)
from omezarr_fast.inputs.mapped import streamed
from omezarr_fast.ngff.omero import DEFAULT_COLORS
from omezarr_fast.ome.image import ImagePlan, check_color, open_image, plan_image, remove_quietly
from omezarr_fast.ome.labels import (
    LabelPlan,
    LabelTarget,
    open_label_source,
    plan_copied_labels,
    plan_labels,
)
from omezarr_fast.store import Location, location

__all__ = ["ConvertResult", "convert"]


@dataclass
class ConvertResult:
    """What :func:`convert` wrote."""
    path: Any                         # a Path for a directory; the URL (or StorePath) otherwise
    layout: str                       # "image", "bioformats2raw" or "plate"
    images: list[str]                 # image group paths relative to ``path`` ("" = path itself)
    labels: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)   # metadata the input had and the output lacks


@dataclass
class _Job:
    """One image to write: where, the lazy data in NGFF order and its checked plan."""
    rel: str
    data: Any
    plan: ImagePlan
    source_chunks: tuple[int, ...] | None
    labels: list[LabelPlan]


def _by_axis(value, axes: str, what: str) -> dict[str, Any]:
    """A per-axis option as {axis name: value}: a mapping by name, or a sequence in the
    input's axis order (as the file or ``axes=`` names them)."""
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(axes))
        if unknown:
            raise ValueError(f"{what}: unknown axis names {unknown} (the axes are {axes!r})")
        return dict(value)
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{what} must be a sequence (one per axis, in the input's order "
                        f"{axes!r}) or a mapping by axis name")
    if len(value) != len(axes):
        raise ValueError(f"{what} has {len(value)} entries for the input's {len(axes)} axes "
                         f"{axes!r}")
    return dict(zip(axes, value))


def _units(units, axes: str) -> dict[str, str | None]:
    """{axis: UDUNITS-2 unit} from one unit for every space axis, a mapping or a sequence;
    units are accepted as users write them (um, µm, micron) and normalised."""
    if isinstance(units, str):
        return {a: normalize_unit(units, "space", "units") for a in axes if a in "zyx"}
    out = {}
    for a, u in _by_axis(units, axes, "units").items():
        if a == "c":
            if u:
                raise ValueError(f"units: the channel axis has no unit, got {u!r}")
            continue
        out[a] = normalize_unit(u or None, "time" if a == "t" else "space", f"units[{a!r}]")
    return out


def _channel_info(image: InputImage, nc: int, names, colors):
    """(labels, colours) of the omero channels: the file's, overridden by the caller's."""
    file_names = [c.name for c in image.channels] if len(image.channels) == nc else [None] * nc
    file_colors = [c.color for c in image.channels] if len(image.channels) == nc else [None] * nc
    if names is not None:
        if len(names) != nc:
            raise ValueError(f"channel_names has {len(names)} entries for {nc} channels")
        file_names = list(names)
    if colors is not None:
        if len(colors) != nc:
            raise ValueError(f"channel_colors has {len(colors)} entries for {nc} channels")
        file_colors = [check_color(c) for c in colors]
    filled = [c or DEFAULT_COLORS[i % len(DEFAULT_COLORS)] for i, c in enumerate(file_colors)]
    return file_names, filled


def _ome_zarr_extras(image: InputImage, version: str):
    """From an OME-Zarr input: its translation, omero, axis extras and other attributes."""
    try:
        meta = ngff.parse_attributes(image.ngff)
    except ngff.NgffError:       # the reader noted it already: levels only
        return None, None, None, None
    ms = meta.multiscales[0]
    t = ms.datasets[0].transforms
    translation = t.translation
    if ms.transforms is not None and (translation is not None or
                                      ms.transforms.translation is not None):
        # scale_ms * (scale_0 * i + t_0) + t_ms: the level-0 translation becomes this
        t0 = translation or [0.0] * len(t.scale)
        tm = ms.transforms.translation or [0.0] * len(t.scale)
        translation = [a * s + b for a, s, b in zip(t0, ms.transforms.scale, tm)]
    extra: dict[str, Any] = dict(meta.extra)
    if meta.ome_extra:
        if version == "0.5":
            extra["ome"] = dict(meta.ome_extra)
        else:
            extra.update(meta.ome_extra)
    return translation, meta.omero, [a.extra for a in ms.axes], extra


def _plan_one(image: InputImage, opened: InputFile, opts: dict, *, single: bool) -> _Job:
    axes = image.axes
    if axes is None:
        from omezarr_fast.inputs import require_axes

        require_axes(image)      # raises, saying how to name them
    view = to_ngff_order(image)
    order = [axes.index(a) for a in view.axes]           # input axis of each output axis
    names = view.axes
    scale = dict(zip(names, view.axis_scale()))
    units = dict(zip(names, view.axis_units()))
    translation = None
    omero = None
    attributes = None
    axis_extras = None
    if image.ngff is not None:
        translation, omero, axis_extras, attributes = _ome_zarr_extras(image, opts["version"])
        if translation is not None and order != list(range(len(order))):
            translation = [translation[i] for i in order]
        if axis_extras is not None and order != list(range(len(order))):
            axis_extras = [axis_extras[i] for i in order]
    if opts["scale"] is not None:
        given = _by_axis(opts["scale"], axes, "scale")
        for a, v in given.items():
            try:
                v = float(v)
            except (TypeError, ValueError):
                raise ValueError(f"scale[{a!r}] must be a number, got {v!r}") from None
            if not v > 0:
                raise ValueError(f"scale[{a!r}] must be positive, got {v}")
            scale[a] = v
    if opts["units"] is not None:
        units.update(_units(opts["units"], axes))
    if opts["translation"] is not None:
        given = _by_axis(opts["translation"], axes, "translation")
        translation = [float(given.get(a, 0.0)) for a in names]
    ax = ngff.make_axes(list(names), units=[units.get(a) for a in names])
    if axis_extras is not None:
        for a, extra in zip(ax, axis_extras):
            a.extra = {k: v for k, v in extra.items() if k not in ("name", "type", "unit")}
    nc = view.shape[names.index("c")] if "c" in names else 1
    channel_names = channel_colors = None
    if omero is None and ("c" in names or image.channels or opts["channel_names"] is not None
                          or opts["channel_colors"] is not None):
        channel_names, channel_colors = _channel_info(image, nc, opts["channel_names"],
                                                      opts["channel_colors"])
        if all(n is None for n in channel_names):
            channel_names = None
        elif any(n is None for n in channel_names):
            channel_names = [n if n is not None else f"channel {i}"
                             for i, n in enumerate(channel_names)]
    elif omero is not None:
        channel_names, channel_colors = opts["channel_names"], opts["channel_colors"]
        if channel_colors is not None:
            channel_colors = [check_color(c) for c in channel_colors]
    name = opts["name"] if opts["name"] is not None else image.name
    if name is None and single:
        name = Path(opened.path.rstrip("/")).name.split(".")[0] or None
    data = view.data
    if view.data is image.data:
        data = streamed(image.data)
    else:
        data.array = streamed(data.array)            # the AxisOrderView's source
    # Blocks follow the source's storage unit when decoding it costs something (tiles,
    # strips, HDF5 or zarr chunks); a memory map has no such unit.
    source_chunks = view.chunks if getattr(image.data, "chunks", None) is not None else None
    plan = plan_image(
        data, axes=ax, scale=[scale[a] for a in names], translation=translation,
        chunks=opts["chunks"], shards=opts["shards"], codec=opts["codec"], clevel=opts["clevel"],
        levels=opts["levels"], min_size=opts["min_size"], method=opts["method"],
        factors=opts["factors"], name=name, channel_names=channel_names,
        channel_colors=channel_colors, omero=omero, attributes=attributes,
        version=opts["version"])
    return _Job("", data, plan, source_chunks, [])


def _plan_labels(job: _Job, image: InputImage, opts: dict) -> None:
    target = LabelTarget.of_plan(job.plan)
    if image.ngff is not None and opts["copy_labels"]:
        src = open_image(Path(image.source[:image.source.rindex(" (OME-Zarr")]))
        job.labels.extend(plan_copied_labels(src, target, codec=opts["codec"],
                                             clevel=opts["clevel"]))
    names = {p.name for p in job.labels}
    for lname, spec in (opts["labels"] or {}).items():
        if lname in names:
            raise ValueError(f"labels {lname!r}: the input already has a label image of that "
                             "name (copy_labels=False / --no-labels drops the input's labels)")
        if "/" in lname or lname in ("", ".", ".."):
            raise ValueError(f"labels {lname!r}: a label name must be a single path component")
        if isinstance(spec, (str, os.PathLike)):
            array, image_label = open_label_source(spec)
            what = f"labels {lname}={spec}"
        else:
            array, image_label, what = spec, None, f"labels {lname!r}"
        job.labels.append(plan_labels(array, target, lname, image_label=image_label,
                                      codec=opts["codec"], clevel=opts["clevel"], what=what))
        names.add(lname)


def _plate_layout(opened: InputFile, images: list[InputImage], version: str):
    """(plate attributes, {well path: well attributes}, image paths) when every image sits in
    the file's one plate; None otherwise."""
    if len(opened.plates) != 1 or not all(im.well is not None and im.well.plate == 0
                                          for im in images):
        return None
    info = opened.plates[0]
    wells: dict[str, list[InputImage]] = {}
    for im in images:
        wells.setdefault(f"{im.well.row}/{im.well.column}", []).append(im)
    order = sorted(wells, key=lambda w: (info.rows.index(w.split("/")[0]),
                                         info.columns.index(w.split("/")[1])))
    acqs = [{"id": a.id, **({"name": a.name} if a.name else {})} for a in info.acquisitions] or None
    plate = ngff.build_plate(info.rows, info.columns, order, name=info.name,
                             field_count=max(len(v) for v in wells.values()), acquisitions=acqs)
    paths = {}
    well_attrs = {}
    for w in order:
        fields = sorted(wells[w], key=lambda im: im.well.field)
        ids = [im.well.acquisition for im in fields]
        well = ngff.build_well([str(i) for i in range(len(fields))],
                               ids if acqs and all(i is not None for i in ids) else None)
        well_attrs[w] = ngff.well_attributes(well, version=version)
        for i, im in enumerate(fields):
            paths[id(im)] = f"{w}/{i}"
    return ngff.plate_attributes(plate, version=version), well_attrs, paths


def convert(source, output, *, series: int | None = None, axes=None, dataset=None,
            scale=None, units=None, translation=None, name=None, channel_names=None,
            channel_colors=None, labels=None, copy_labels: bool = True, chunks=None,
            shards=None, codec="zstd", clevel=None, levels=None, min_size=None,
            method="mean", factors=None, version="0.5", overwrite=False,
            progress=None, storage_options=None) -> ConvertResult:
    """Convert an image file to OME-Zarr at ``output`` (see the module docstring for the
    layouts); returns a :class:`ConvertResult`.

    source: a .tif/.tiff (OME, ImageJ, pyramidal), ``file.h5:/dataset`` (or ``dataset=``),
        a .npy, a zarr array or an OME-Zarr image / bioformats2raw container.
    series: write only this series (index), as a plain image.
    axes: the input's axis names in its own order ("zcyx") when the file does not name
        them (or names them wrongly); the output is in NGFF order (t, c, z, y, x).
    scale, units, translation: per axis, a mapping by axis name or a sequence in the
        input's axis order; ``units`` may be one unit for every space axis. They replace
        what the file says. Units as users write them (um, µm, micron) are normalised.
    name, channel_names, channel_colors ("RRGGBB"): replace the file's.
    labels: {name: label file path or array}: label images for the (single) image; their
        shapes must equal the image's on every axis or be 1 (missing leading axes are
        added). copy_labels: copy an OME-Zarr input's label images (default).
    chunks, shards, codec, clevel, levels, min_size, method, factors, version, progress:
        as for :func:`omezarr_fast.write_image` (applied to every image).
    overwrite: replace an existing ``output`` (otherwise OutputExistsError, a
        FileExistsError, before any reading).
    output, storage_options: a directory, a URL (``s3://bucket/out.ome.zarr``: a local file
        converted straight into an object store) or a zarr store; see
        :func:`omezarr_fast.write_image`.
    """
    out = location(output, storage_options=storage_options).rooted()
    out.require_writable()
    if out.exists() and not overwrite:
        raise OutputExistsError(out)
    if version not in ("0.4", "0.5"):
        raise ValueError(f"version must be '0.4' or '0.5', got {version!r}")
    opened = open_file(source, axes=axes, dataset=dataset)
    try:
        return _convert(opened, out, series=series, overwrite=overwrite, progress=progress,
                        opts=dict(scale=scale, units=units, translation=translation, name=name,
                                  channel_names=channel_names, channel_colors=channel_colors,
                                  labels=labels, copy_labels=copy_labels, chunks=chunks,
                                  shards=shards, codec=codec, clevel=clevel, levels=levels,
                                  min_size=min_size, method=method, factors=factors,
                                  version=version))
    finally:
        opened.close()


def _convert(opened: InputFile, out: Location, *, series, overwrite, progress, opts) -> ConvertResult:
    images = opened.images
    if series is not None:
        if not 0 <= int(series) < len(images):
            raise ValueError(f"series {series}: {opened.path} has series 0..{len(images) - 1}")
        images = [images[int(series)]]
    container = series is None and (len(images) > 1 or opened.ome_xml is not None)
    if container and opts["labels"]:
        raise ValueError(f"labels: {opened.path} holds {len(images)} series; pick the one the "
                         "labels belong to with series= (--series N)")
    jobs = []
    for im in images:
        try:
            job = _plan_one(im, opened, opts, single=not container)
            if not container:
                _plan_labels(job, im, opts)
        except (ValueError, TypeError, KeyError) as e:
            if not container or isinstance(e, InputError):
                raise
            raise ValueError(f"series {im.series}: {e}") from None
        jobs.append(job)
    layout = "image"
    root_attrs: dict[str, Any] = {}
    well_attrs: dict[str, dict] = {}
    if container:
        plate = _plate_layout(opened, images, opts["version"])
        if plate is not None:
            layout = "plate"
            plate_attrs, well_attrs, paths = plate
            for job, im in zip(jobs, images):
                job.rel = paths[id(im)]
            root_attrs = _merged(ngff.bioformats2raw_attributes(version=opts["version"]),
                                 plate_attrs)
        else:
            layout = "bioformats2raw"
            for i, job in enumerate(jobs):
                job.rel = str(i)
            root_attrs = ngff.bioformats2raw_attributes(version=opts["version"])
        ngff.validate(root_attrs, version=opts["version"]).raise_for_errors()
    notes = [f"{im.source}: {n}" for im in images for n in im.notes]

    # Nothing was written so far; from here on a failure removes the output.
    out.remove()
    try:
        _write(opened, out, jobs, layout, root_attrs, well_attrs, opts["version"], progress)
    except BaseException:
        remove_quietly(out)
        raise
    return ConvertResult(out.public(), layout, [j.rel for j in jobs],
                         [p.name for j in jobs for p in j.labels], notes)


def _merged(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        if k == "ome" and isinstance(v, Mapping) and isinstance(out.get("ome"), Mapping):
            out["ome"] = {**out["ome"], **v}
        else:
            out[k] = v
    return out


def _write(opened, out: Location, jobs, layout, root_attrs, well_attrs, version, progress) -> None:
    zarr_format = 3 if version == "0.5" else 2
    if layout == "image":
        job = jobs[0]
        job.plan.write(job.data, out, progress=progress, source_chunks=job.source_chunks)
        for lp in job.labels:
            lp.write(out, progress=progress)
        return
    with enabled():
        root = zarr.open_group(out.open(), mode="w-", zarr_format=zarr_format)
        for job in jobs:
            parent = root
            for part in job.rel.split("/")[:-1]:
                parent = parent.require_group(part)
            job.plan.write(job.data, out.child(job.rel), progress=progress,
                           source_chunks=job.source_chunks)
        for w, attrs in well_attrs.items():
            root[w].attrs.update(attrs)
        if opened.ome_xml is not None or layout == "bioformats2raw":
            ome = root.create_group("OME")
            if layout == "bioformats2raw":
                ome.attrs.update(ngff.series_attributes([j.rel for j in jobs], version=version))
            if opened.ome_xml is not None:
                # The original document, unchanged (bioformats2raw's METADATA.ome.xml).
                out.write_bytes("OME/METADATA.ome.xml", opened.ome_xml.encode("utf-8"))
        # The root last: an interrupted conversion does not look like a finished one.
        root.attrs.update(root_attrs)
