"""OME-Zarr label images: write one under an image (its pyramid matching the image's),
copy an image's labels to a new image, or open label images from files."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import zarr

from omezarr_fast import ngff
from omezarr_fast._version import __version__
from omezarr_fast.config import enabled
from omezarr_fast.downsample import METHODS
from omezarr_fast.inputs import open_file, to_ngff_order, with_leading_axes
from omezarr_fast.ome.image import Image, ImagePlan, image_level_factors, open_image, remove_quietly
from omezarr_fast.pyramid.factors import level_shapes
from omezarr_fast.pyramid.layout import codec_arguments, default_chunks, default_shards
from omezarr_fast.pyramid.levels import write_levels
from omezarr_fast.pyramid.sources import as_source
from omezarr_fast.store import location

__all__ = ["LabelPlan", "LabelTarget", "check_label_shape", "copy_labels", "open_label_source",
           "plan_copied_labels", "plan_labels", "write_labels"]


@dataclass
class LabelTarget:
    """What a label image must match: its image's axes, level shapes and factors, level-0
    transforms and version (of an image on disk, or of one about to be written)."""
    axes: list[ngff.Axis]
    shapes: list[tuple[int, ...]]
    steps: list[tuple[int, ...]]
    scale: list[float]
    translation: list[float] | None
    version: str

    @classmethod
    def of_image(cls, img: Image) -> LabelTarget:
        shapes = [tuple(a.shape) for a in img.levels]
        t = img.multiscale.datasets[0].transforms
        return cls(list(img.multiscale.axes), shapes,
                   image_level_factors(img.multiscale, shapes), list(t.scale), t.translation,
                   img.version)

    @classmethod
    def of_plan(cls, plan: ImagePlan) -> LabelTarget:
        ms = plan.multiscale
        t = ms.datasets[0].transforms
        return cls(list(ms.axes), level_shapes(plan.shape, plan.steps), list(plan.steps),
                   list(t.scale), t.translation, plan.version)


@dataclass
class LabelPlan:
    """A label image checked and laid out, ready to write under its image."""
    data: object
    name: str
    names: list[str]
    steps: list[tuple[int, ...]]
    chunks: tuple[int, ...]
    unit: tuple[int, ...]
    codec_kw: dict
    method: str
    version: str
    attrs: dict

    def write(self, image_path, *, overwrite=False, progress=None, client=None):
        """Write under the image at ``image_path`` (a location); returns the label image's
        location as :meth:`omezarr_fast.store.Location.public` gives it."""
        root = location(image_path)
        root.require_writable()
        zarr_format = 3 if self.version == "0.5" else 2
        with enabled():
            labels_group = root.child("labels")
            existing: list[str] = []
            if labels_group.exists():
                try:
                    labels_group.check()
                    existing = list(labels_group.metadata().labels or [])
                except (ValueError, OSError):
                    existing = []
                lg = zarr.open_group(labels_group.open(), mode="a", zarr_format=zarr_format)
            else:
                lg = zarr.open_group(labels_group.open(), mode="w-", zarr_format=zarr_format)
            target = labels_group.child(self.name, "name")
            target.prepare(overwrite)
            group = lg.create_group(self.name)
            try:
                write_levels(group, self.data, names=self.names, factors=self.steps,
                             nlevels=len(self.steps) + 1, chunks=self.chunks, unit=self.unit,
                             compressors=None, codecs=self.codec_kw, method=self.method,
                             zarr_format=zarr_format, progress=progress, client=client)
                group.attrs.update(self.attrs)
            except BaseException:
                remove_quietly(target)
                raise
            names = existing + ([self.name] if self.name not in existing else [])
            lg.attrs.update(ngff.labels_attributes(names, version=self.version))
        return target.public()


def check_label_shape(shape, image_shape, what="labels") -> int:
    """How many axes of size 1 to put in front of a label image of ``shape`` to match an
    image of ``image_shape`` (each dimension the image's, or 1); raises when none does."""
    shape, image_shape = tuple(shape), tuple(image_shape)
    lead = len(image_shape) - len(shape)
    full = (1,) * max(lead, 0) + shape
    if lead < 0 or any(n not in (m, 1) for n, m in zip(full, image_shape)):
        raise ValueError(f"{what} shape {shape} does not match the image's level 0 shape "
                         f"{image_shape} (each dimension equal to the image's, or 1; missing "
                         "leading axes are added as 1)")
    return lead


def plan_labels(labels, target: LabelTarget, name, *, colors=None, properties=None,
                method="mode", chunks=None, shards=None, codec="zstd", clevel=None,
                image_label=None, what="labels") -> LabelPlan:
    """Check a label image against the image it goes under (``target``) and lay it out;
    nothing is read or written.  Leading axes of size 1 are added when the labels have
    fewer dimensions than the image."""
    src, _ = as_source(labels)
    dtype = np.dtype(src.dtype)
    if not (np.issubdtype(dtype, np.integer) or dtype == np.bool_):
        raise TypeError(f"{what} must have an integer dtype, got {dtype}")
    if dtype == np.bool_:
        labels, dtype = np.asarray(labels, np.uint8), np.dtype(np.uint8)
    lead = check_label_shape(src.shape, target.shapes[0], what)
    if lead:
        labels = with_leading_axes(labels, len(target.shapes[0]))
    lshape = (1,) * lead + tuple(int(n) for n in src.shape)
    ngff.check_relative_path(name, "name")
    if "/" in name:
        raise ValueError(f"name must be a single path component, got {name!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    spatial = [a.type == "space" for a in target.axes]
    chunks = tuple(chunks) if chunks is not None else default_chunks(lshape, dtype, spatial)
    unit = tuple(shards) if shards is not None else default_shards(lshape, dtype, chunks, spatial)
    ms = ngff.build_multiscale(target.axes, target.scale, [list(f) for f in target.steps],
                               translation0=target.translation, name=name,
                               method=method, method_version=__version__)
    if image_label is None:
        image_label = ngff.build_image_label(colors, properties)
    elif colors is not None or properties is not None:
        raise ValueError("give image_label or colors/properties, not both")
    elif isinstance(image_label, Mapping):
        image_label = ngff.ImageLabel.from_dict(image_label)
    attrs = ngff.label_image_attributes(ms, image_label, version=target.version)
    ngff.validate(attrs, version=target.version).raise_for_errors()
    zarr_format = 3 if target.version == "0.5" else 2
    codec_kw = codec_arguments(codec, clevel, zarr_format, len(lshape))
    return LabelPlan(labels, name, [a.name for a in target.axes], list(target.steps), chunks,
                     unit, codec_kw, method, target.version, attrs)


def write_labels(labels, image_path, name, *, colors=None, properties=None, method="mode",
                 chunks=None, shards=None, codec="zstd", clevel=None, overwrite=False,
                 progress=None, image_label=None, client=None, storage_options=None):
    """Write ``labels`` (integer array shaped like the image's level 0, or 1 on axes
    such as "c"; missing leading axes are added as 1) as label image ``name`` under
    ``image_path/labels``, with the image's levels and factors (mode by default).

    colors: {label_value: (r, g, b, a)}; properties: {label_value: {...}}.
    image_label: a whole ``image-label`` (an :class:`omezarr_fast.ngff.ImageLabel` or its
        JSON dict, e.g. copied from another label image) instead of colors/properties.
    codec: as for :func:`write_image` (a name or a zarr codec chain).
    client: as for :func:`write_image`.
    image_path, storage_options: a directory, URL or zarr store (see :func:`open_image`).
    """
    root = location(image_path, storage_options=storage_options).rooted()
    root.require_writable()
    img = open_image(root)
    plan = plan_labels(labels, LabelTarget.of_image(img), name, colors=colors,
                       properties=properties, method=method, chunks=chunks, shards=shards,
                       codec=codec, clevel=clevel, image_label=image_label)
    return plan.write(root, overwrite=overwrite, progress=progress, client=client)


def plan_copied_labels(source: Image, target: LabelTarget, *, names=None, codec="zstd",
                       clevel=None) -> list[LabelPlan]:
    """The label images of ``source`` checked and laid out for the image ``target``
    (see :func:`copy_labels`); each is opened and validated, nothing is written."""
    have = source.labels
    wanted = have if names is None else list(names)
    missing = [n for n in wanted if n not in have]
    if missing:
        raise KeyError(f"no label image {missing[0]!r} in {source.path} (have {have})")
    plans = []
    for name in wanted:
        lab = source.label(name)
        method = lab.multiscale.type if lab.multiscale.type in METHODS else "mode"
        plans.append(plan_labels(lab.levels[0], target, name, method=method,
                                 image_label=lab.metadata.image_label or ngff.ImageLabel(),
                                 codec=codec, clevel=clevel, what=f"label image {name!r}"))
    return plans


def copy_labels(source, image_path, *, names=None, codec="zstd", clevel=None, overwrite=False,
                progress=None, storage_options=None) -> list[str]:
    """Write the label images of ``source`` (an OME-Zarr 0.4/0.5 image) under the image at
    ``image_path``, in that image's version, with as many levels as it has.

    Each label keeps its ``image-label`` metadata (colors, properties, source) and its
    downsampling method (mode unless it names another of ours); level 0 is streamed from
    the source label and the pyramid rebuilt to match the new image. Returns the names
    copied (``names`` to pick some; default all). Every label is checked before the
    first is written. ``source`` and ``image_path``: an Image, a directory, URL or zarr
    store (``storage_options`` apply to both URLs).
    """
    img = source if isinstance(source, Image) else \
        open_image(source, storage_options=storage_options)
    root = location(image_path, storage_options=storage_options).rooted()
    root.require_writable()
    plans = plan_copied_labels(img, LabelTarget.of_image(open_image(root)), names=names,
                               codec=codec, clevel=clevel)
    for plan in plans:
        plan.write(root, overwrite=overwrite, progress=progress)
    return [p.name for p in plans]


def open_label_source(path):
    """``(array, image_label or None)`` for a label file: an OME-Zarr label image (its
    level 0 and ``image-label``), or anything :func:`omezarr_fast.inputs.open_file` reads
    (TIFF, ``file.h5:/dataset``, ``.npy``, a zarr array), its axes in NGFF order when the
    file names them."""
    loc = location(path) if isinstance(path, (str, os.PathLike)) else None
    if loc is not None and loc.is_node():
        try:
            attrs = loc.attributes()
        except (ValueError, OSError):
            attrs = {}
        if ngff.detect_version(attrs):
            img = open_image(loc)
            return img.levels[0], img.metadata.image_label
    opened = open_file(str(path))
    if len(opened.images) != 1:
        raise ValueError(f"{path}: a label file must hold one image; it holds "
                         f"{len(opened.images)} (series)")
    image = opened.images[0]
    if image.axes is not None:
        image = to_ngff_order(image)
    return image.data, None
