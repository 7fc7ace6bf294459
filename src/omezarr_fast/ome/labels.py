"""OME-Zarr label images: write one under an image (its pyramid matching the image's),
copy an image's labels to a new image, or open label images from files."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import zarr

from omezarr_fast import ngff
from omezarr_fast._util import prepare_path
from omezarr_fast._version import __version__
from omezarr_fast.config import enabled
from omezarr_fast.downsample import METHODS
from omezarr_fast.ome.image import Image, image_factors, open_image
from omezarr_fast.pyramid.layout import compressors, default_chunks, default_shards
from omezarr_fast.pyramid.levels import write_levels
from omezarr_fast.pyramid.sources import as_source

__all__ = ["copy_labels", "open_label_source", "write_labels"]


def write_labels(labels, image_path, name, *, colors=None, properties=None, method="mode",
                 chunks=None, shards=None, codec="zstd", clevel=None, overwrite=False,
                 progress=None, image_label=None, client=None):
    """Write ``labels`` (integer array shaped like the image's level 0, or 1 on axes
    such as "c") as label image ``name`` under ``image_path/labels``, with as many
    levels as the image (mode by default).

    colors: {label_value: (r, g, b, a)}; properties: {label_value: {...}}.
    image_label: a whole ``image-label`` (an :class:`omezarr_fast.ngff.ImageLabel` or its
        JSON dict, e.g. copied from another label image) instead of colors/properties.
    client: as for :func:`write_image`.
    """
    img = open_image(image_path)
    src, _ = as_source(labels)
    dtype = np.dtype(src.dtype)
    if not (np.issubdtype(dtype, np.integer) or dtype == np.bool_):
        raise TypeError(f"labels must have an integer dtype, got {dtype}")
    if dtype == np.bool_:
        labels, dtype = np.asarray(labels, np.uint8), np.dtype(np.uint8)
    shapes = [a.shape for a in img.levels]
    lshape = tuple(src.shape)
    if len(lshape) != len(shapes[0]) or any(n not in (m, 1) for n, m in zip(lshape, shapes[0])):
        raise ValueError(f"labels shape {lshape} does not match image level 0 shape {shapes[0]} "
                         "(each dimension equal to the image's, or 1)")
    ngff.check_relative_path(name, "name")
    if "/" in name:
        raise ValueError(f"name must be a single path component, got {name!r}")
    factors = image_factors(img.multiscale, shapes)
    nlevels = len(shapes)
    version = img.version
    ms0 = img.multiscale
    spatial = [a.type == "space" for a in ms0.axes]
    chunks = tuple(chunks) if chunks is not None else default_chunks(lshape, dtype, spatial)
    unit = tuple(shards) if shards is not None else default_shards(lshape, dtype, chunks, spatial)
    ds = ms0.datasets[0].transforms
    ms = ngff.build_multiscale(ms0.axes, ds.scale, [list(factors)] * (nlevels - 1),
                               translation0=ds.translation, name=name,
                               method=method, method_version=__version__)
    if image_label is None:
        image_label = ngff.build_image_label(colors, properties)
    elif colors is not None or properties is not None:
        raise ValueError("give image_label or colors/properties, not both")
    elif isinstance(image_label, Mapping):
        image_label = ngff.ImageLabel.from_dict(image_label)
    attrs = ngff.label_image_attributes(ms, image_label, version=version)
    ngff.validate(attrs, version=version).raise_for_errors()

    root = Path(image_path)
    zarr_format = 3 if version == "0.5" else 2
    comp = compressors(codec, clevel, zarr_format)
    with enabled():
        labels_group_path = root / "labels"
        existing: list[str] = []
        if labels_group_path.exists():
            try:
                existing = list(ngff.read_metadata(labels_group_path).labels or [])
            except (ValueError, OSError):
                existing = []
            lg = zarr.open_group(str(labels_group_path), mode="a", zarr_format=zarr_format)
        else:
            lg = zarr.open_group(str(labels_group_path), mode="w-", zarr_format=zarr_format)
        prepare_path(labels_group_path / name, overwrite)
        group = lg.create_group(name)
        write_levels(group, labels, names=[a.name for a in ms0.axes], factors=factors,
                     nlevels=nlevels, chunks=chunks, unit=unit, compressors=comp, method=method,
                     zarr_format=zarr_format, progress=progress, client=client)
        group.attrs.update(attrs)
        names = existing + ([name] if name not in existing else [])
        lg.attrs.update(ngff.labels_attributes(names, version=version))
    return root / "labels" / name



def copy_labels(source: Image | str | Path, image_path, *, names=None, codec="zstd",
                clevel=None, overwrite=False, progress=None) -> list[str]:
    """Write the label images of ``source`` (an OME-Zarr 0.4/0.5 image) under the image at
    ``image_path``, in that image's version, with as many levels as it has.

    Each label keeps its ``image-label`` metadata (colors, properties, source) and its
    downsampling method (mode unless it names another of ours); level 0 is streamed from
    the source label and the pyramid rebuilt to match the new image. Returns the names
    copied (``names`` to pick some; default all).
    """
    img = source if isinstance(source, Image) else open_image(source)
    have = img.labels
    wanted = have if names is None else list(names)
    missing = [n for n in wanted if n not in have]
    if missing:
        raise KeyError(f"no label image {missing[0]!r} in {img.path} (have {have})")
    for name in wanted:
        lab = img.label(name)
        method = lab.multiscale.type if lab.multiscale.type in METHODS else "mode"
        write_labels(lab.levels[0], image_path, name, method=method,
                     image_label=lab.metadata.image_label or ngff.ImageLabel(),
                     codec=codec, clevel=clevel, overwrite=overwrite, progress=progress)
    return wanted


def open_label_source(path):
    """``(array, image_label or None)`` for a label file: an OME-Zarr label image (its
    level 0 and ``image-label``), or anything :func:`omezarr_fast.bench.sampling.open_input`
    reads (TIFF, ``file.h5:/dataset``, ``.npy``, a zarr array)."""
    p = Path(path)
    if p.is_dir():
        try:
            attrs = ngff.read_attributes(p)
        except (ValueError, OSError):
            attrs = {}
        if ngff.detect_version(attrs):
            img = open_image(p)
            return img.levels[0], img.metadata.image_label
    from omezarr_fast.bench.sampling import open_input

    return open_input(str(path)).array, None
