"""OME-Zarr multiscale images: write, open, rebuild the pyramid (0.5 = zarr v3 with
sharding, 0.4 = zarr v2).

Writing streams the source (numpy, dask or zarr array) through the pyramid engine
(:mod:`omezarr_fast.pyramid`): read once, in blocks aligned to level-0 shards, every
level built from the block in hand and each shard of each level written once (the memory
bound is in :mod:`omezarr_fast.pyramid.local`).

Level sizes follow the downsampler: ``ceil(n / f)`` per level, ``f`` the axis's factor
(``factors=``; 2 on space axes by default), a partial edge window reduced over the
samples that exist.  Level k has ``scale_k = scale_0 * f**k`` and
``translation_k = translation_0 + (scale_k - scale_0) / 2`` on downsampled axes
(see :func:`omezarr_fast.ngff.pyramid_transforms`).
"""
from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from omezarr_fast import ngff, safepath
from omezarr_fast._util import prepare_path
from omezarr_fast._version import __version__
from omezarr_fast.config import enabled
from omezarr_fast.downsample import METHODS, output_shape
from omezarr_fast.pyramid.layout import compressors, default_chunks, default_shards, num_levels
from omezarr_fast.pyramid.levels import write_levels
from omezarr_fast.pyramid.sources import as_source

__all__ = ["Image", "image_factors", "image_layout", "open_image", "rebuild_pyramid", "write_image"]

_DEFAULT_AXES = {2: "yx", 3: "zyx", 4: "czyx", 5: "tczyx"}


def _per_axis(value, names, what, default):
    if value is None:
        return [default] * len(names)
    if isinstance(value, Mapping):
        unknown = set(value) - set(names)
        if unknown:
            raise ValueError(f"{what}: unknown axis names {sorted(unknown)}")
        return [value.get(n, default) for n in names]
    value = list(value)
    if len(value) != len(names):
        raise ValueError(f"{what} has {len(value)} entries for {len(names)} axes")
    return value


def _resolve_factors(factors, names, shape, axes):
    """Per-axis integer downsampling factors: 2 on space axes longer than 1 and 1 elsewhere,
    overridden by ``factors`` (a sequence parallel to the axes, or a mapping by axis name
    whose missing axes keep the default)."""
    default = [2 if a.type == "space" and n > 1 else 1 for a, n in zip(axes, shape)]
    if factors is None:
        return tuple(default)
    if isinstance(factors, Mapping):
        unknown = set(factors) - set(names)
        if unknown:
            raise ValueError(f"factors: unknown axis names {sorted(unknown)} (axes are {names})")
        given = [factors.get(n, d) for n, d in zip(names, default)]
    elif isinstance(factors, (str, bytes)) or not isinstance(factors, Sequence):
        raise TypeError(f"factors must be a sequence or a mapping by axis name, "
                        f"got {type(factors).__name__}")
    else:
        given = list(factors)
        if len(given) != len(names):
            raise ValueError(f"factors has {len(given)} entries for {len(names)} axes")
    out = []
    for n, a, f in zip(names, axes, given):
        if isinstance(f, bool) or not isinstance(f, (int, np.integer)) or f < 1:
            raise ValueError(f"factors[{n!r}] must be an integer >= 1, got {f!r}")
        if f > 1 and a.type == "channel":
            raise ValueError(f"factors[{n!r}] = {f}: a channel axis cannot be downsampled")
        out.append(int(f))
    return tuple(out)


def write_image(data, path, *, axes=None, scale=None, units=None, translation=None,
                chunks=None, shards=None, codec="zstd", clevel=None, levels=None,
                min_size=None, method="mean", factors=None, name=None, channel_names=None,
                channel_colors=None, version="0.5", overwrite=False, progress=None,
                client=None):
    """Write ``data`` as an OME-Zarr multiscale image at ``path``; returns the path.

    data: numpy array, dask array or zarr array (read once, block by block), ndim 2-5.
    axes: axis names, e.g. "tczyx" (default by ndim: yx, zyx, czyx, tczyx).
    scale, units, translation: level-0 pixel size, UDUNITS-2 units and offset, per axis
        (a sequence parallel to ``axes`` or a mapping by axis name).
    chunks, shards: level-0 inner chunk and shard shapes (default ~1 MiB and ~32 MiB;
        ``shards`` is ignored for 0.4, which has no sharding). Lower levels use the
        same shapes clipped to their size.
    codec, clevel: "zstd" (level 3), "gzip", "blosc" or None.
    levels / min_size: number of levels (level 0 included), or downsample while the
        smallest downsampled side stays >= min_size; default: until every downsampled
        side fits in one chunk.
    factors: integer downsampling factor per axis and level, a sequence parallel to
        ``axes`` or a mapping by axis name (missing axes keep the default), e.g.
        ``{"z": 1}`` for anisotropic stacks. Default: 2 on space axes longer than 1,
        1 on t/c. Channel axes cannot be downsampled.
    method: a downsampling method of :mod:`omezarr_fast.downsample` ("mean", "mode", ...).
    channel_names, channel_colors: omero rendering metadata for the "c" axis.
    version: "0.5" (zarr v3, sharded) or "0.4" (zarr v2).
    overwrite: replace an existing ``path`` (otherwise FileExistsError).
    progress: None = a progress bar on a terminal, True/False to force.
    client: a ``distributed.Client``: build the pyramid on its cluster, one task per output
        shard region (see :mod:`omezarr_fast.pyramid.distributed`). None (default): the same when
        ``data`` is a dask array and dask's current scheduler is a distributed client;
        False: always in this process.
    """
    if version not in ("0.4", "0.5"):
        raise ValueError(f"version must be '0.4' or '0.5', got {version!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    src, _ = as_source(data)
    shape, dtype = tuple(src.shape), np.dtype(src.dtype)
    if not 2 <= len(shape) <= 5:
        raise ValueError(f"data must have 2 to 5 dimensions, got shape {shape}")
    if axes is None:
        axes = _DEFAULT_AXES[len(shape)]
    names = list(axes)
    if len(names) != len(shape):
        raise ValueError(f"axes {axes!r} has {len(names)} names for data of shape {shape}")
    unit_list = _per_axis(units, names, "units", None)
    ax = ngff.make_axes(names, units=unit_list)
    spatial = [a.type == "space" for a in ax]
    scale0 = [float(x) for x in _per_axis(scale, names, "scale", 1.0)]
    trans0 = None if translation is None else [float(x) for x in
                                               _per_axis(translation, names, "translation", 0.0)]
    factors = _resolve_factors(factors, names, shape, ax)
    chunks = tuple(chunks) if chunks is not None else default_chunks(shape, dtype, spatial)
    if len(chunks) != len(shape) or any(int(c) < 1 for c in chunks):
        raise ValueError(f"chunks must be {len(shape)} positive integers, got {chunks}")
    write_unit = tuple(shards) if shards is not None else default_shards(shape, dtype, chunks, spatial)
    if len(write_unit) != len(shape) or any(s % c for s, c in zip(write_unit, chunks)):
        raise ValueError(f"shards {write_unit} must be multiples of chunks {chunks} on every axis")
    if levels is None:
        nlevels = num_levels(shape, chunks, factors, min_size)
    else:
        nlevels = int(levels)
        if nlevels < 1:
            raise ValueError(f"levels must be >= 1, got {levels}")
        if nlevels > 1 and all(f == 1 for f in factors):
            raise ValueError(f"factors are all 1 (nothing to downsample): levels must be 1, "
                             f"got {levels}")
    ms = ngff.build_multiscale(ax, scale0, [list(factors)] * (nlevels - 1), translation0=trans0,
                               name="image" if name is None else name, method=method,
                               method_version=__version__)
    omero = None
    if channel_names is not None or channel_colors is not None:
        if "c" not in names:
            raise ValueError("channel_names/channel_colors need a 'c' axis")
        nc = shape[names.index("c")]
        if np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            win = (0.0, float(info.max), float(info.min), float(info.max))
        else:
            win = (0.0, 1.0, 0.0, 1.0)
        omero = ngff.build_omero([win] * nc, labels=channel_names, colors=channel_colors)
    attrs = ngff.image_attributes(ms, omero, version=version)
    ngff.validate(attrs, version=version).raise_for_errors()

    path = prepare_path(path, overwrite)
    zarr_format = 3 if version == "0.5" else 2
    comp = compressors(codec, clevel, zarr_format)
    with enabled():
        group = zarr.open_group(str(path), mode="w-", zarr_format=zarr_format)
        write_levels(group, data, names=names, factors=factors, nlevels=nlevels, chunks=chunks,
                     unit=write_unit, compressors=comp, method=method, zarr_format=zarr_format,
                     progress=progress, client=client)
        # Metadata last: an interrupted write does not look like a finished image.
        group.attrs.update(attrs)
    return path


def image_factors(ms: ngff.Multiscale, shapes) -> tuple[int, ...]:
    """The per-level integer factor of an image written by a constant-factor pyramid."""
    if len(shapes) < 2:
        return tuple(1 for _ in shapes[0])
    f = []
    s0 = ms.datasets[0].transforms.scale
    s1 = ms.datasets[1].transforms.scale
    for a, b in zip(s0, s1):
        r = b / a
        if abs(r - round(r)) > 1e-6 or round(r) < 1:
            raise ValueError("the image's levels are not integer downsamplings of each other")
        f.append(round(r))
    for k in range(1, len(shapes)):
        if tuple(shapes[k]) != output_shape(shapes[k - 1], f):
            raise ValueError("the image's level shapes do not follow one constant factor; "
                             "cannot build matching label levels")
    return tuple(f)



# -- reading --------------------------------------------------------------------------------

class Image:
    """An OME-Zarr multiscale image opened by :func:`open_image`."""

    def __init__(self, path, attributes, metadata, levels):
        self.path = Path(path)
        self.attributes: dict[str, Any] = attributes
        self.metadata: ngff.OmeAttributes = metadata
        self.multiscale: ngff.Multiscale = metadata.multiscales[0]
        self.levels: list[zarr.Array] = levels

    @property
    def version(self) -> str:
        return self.metadata.version if getattr(self.metadata, "version", None) else \
            ngff.detect_version(self.attributes)

    @property
    def axes(self) -> list[str]:
        return [a.name for a in self.multiscale.axes]

    def level(self, i: int) -> zarr.Array:
        return self.levels[i]

    @property
    def labels(self) -> list[str]:
        p = self.path / "labels"
        if not p.is_dir():
            return []
        try:
            safepath.check_node(self.path, p)
            return list(ngff.read_metadata(p).labels or [])
        except (ValueError, OSError):
            return []

    def label(self, name: str) -> Image:
        if name not in self.labels:
            raise KeyError(f"no label image {name!r} in {self.path} (have {self.labels})")
        safepath.check_node(self.path, self.path / "labels" / name)
        return open_image(self.path / "labels" / name)

    def to_dask(self, level: int = 0):
        """Level ``level`` as a dask array with one task per shard (per chunk for 0.4),
        each reading through omezarr_fast's pipeline (the zarr array pickles with it,
        so this holds in worker processes too)."""
        import dask.array as da
        from dask.base import tokenize

        from omezarr_fast.pyramid.distributed import absolute

        a = absolute(self.levels[level])
        unit = a.shards if getattr(a, "shards", None) is not None else a.chunks
        return da.from_array(a, chunks=unit, inline_array=True, asarray=False,
                             name=f"omezarr-read-{tokenize(a, unit)}")

    def __repr__(self) -> str:
        shapes = ", ".join(str(a.shape) for a in self.levels)
        return f"Image({str(self.path)!r}, axes={''.join(self.axes)!r}, levels=[{shapes}])"


def open_image(path, *, validate: bool = True) -> Image:
    """Open an OME-Zarr 0.4/0.5 image: metadata parsed (and validated unless
    ``validate=False``), levels as zarr arrays reading through omezarr_fast's pipeline."""
    path = Path(path)
    safepath.check_node(path, path)
    attrs = ngff.read_attributes(path)
    if validate:
        ngff.validate(attrs).raise_for_errors()
    meta = ngff.parse_attributes(attrs)
    if not meta.multiscales:
        raise ValueError(f"{path}: not a multiscale image (no 'multiscales' metadata)")
    ms = meta.multiscales[0]
    levels = []
    with enabled():
        for ds in ms.datasets:
            safepath.check_node(path, path / ds.path)
            levels.append(zarr.open_array(str(path / ds.path), mode="r"))
    return Image(path, attrs, meta, levels)


def image_layout(img: Image) -> dict[str, Any]:
    """``write_image`` keyword arguments that reproduce ``img``'s axes, level-0 pixel size,
    units, translation and name (for conversion and pyramid rebuilding)."""
    ms = img.multiscale
    t = ms.datasets[0].transforms
    scale, translation = list(t.scale), t.translation
    if ms.transforms is not None:  # a multiscale-wide transform folds into level 0
        scale = [a * b for a, b in zip(scale, ms.transforms.scale)]
        if ms.transforms.translation is not None:
            translation = [(translation[i] if translation else 0.0) + ms.transforms.translation[i]
                           for i in range(len(scale))]
    return {"axes": [a.name for a in ms.axes], "scale": scale,
            "units": [a.unit for a in ms.axes], "translation": translation, "name": ms.name}


def rebuild_pyramid(path, *, levels=None, min_size=None, method=None, factors=None,
                    codec="zstd", clevel=None, progress=None) -> Image:
    """Replace every level but 0 of the image at ``path`` with a new pyramid built from
    level 0 (streamed); the level-0 array and other metadata (omero) stay. Label images
    get the same number of levels and factors (with their own method, mode by default).

    factors: per axis (see :func:`write_image`); default: the image's own factors when
    its levels follow one constant factor, else 2 on space axes.

    Level 0 is streamed into a temporary image next to ``path`` too (then dropped): the
    cost of reusing the writer unchanged."""
    img = open_image(path)
    root = Path(path)
    level0 = img.levels[0]
    is_label = img.metadata.image_label is not None
    fallback = "mode" if is_label else "mean"
    if method is None:
        method = img.multiscale.type if img.multiscale.type in METHODS else fallback
    tmp = root.parent / f".{root.name}.pyramid-tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    shards = level0.shards if getattr(level0, "shards", None) is not None else None
    if factors is None and len(img.levels) > 1:
        with suppress(ValueError):  # a broken pyramid: rebuild with the default factors
            factors = image_factors(img.multiscale, [a.shape for a in img.levels])
    try:
        write_image(level0, tmp, **image_layout(img), chunks=level0.chunks, shards=shards,
                    codec=codec, clevel=clevel, levels=levels, min_size=min_size, method=method,
                    factors=factors, version=img.version, progress=progress)
        new = open_image(tmp)
        new_factors = image_factors(new.multiscale, [a.shape for a in new.levels])
        # Old levels out, new ones in; level 0 is kept as it was.
        for ds in img.multiscale.datasets[1:]:
            shutil.rmtree(root / ds.path, ignore_errors=True)
        ms = new.multiscale
        ms.datasets[0].path = img.multiscale.datasets[0].path
        for ds in ms.datasets[1:]:
            target = root / ds.path
            if target.exists():
                shutil.rmtree(target)
            shutil.move(str(tmp / ds.path), str(target))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    meta = img.metadata
    meta.multiscales = [ms] + list(meta.multiscales[1:])
    attrs = meta.to_dict(img.version)
    ngff.validate(attrs, version=img.version).raise_for_errors()
    with enabled():
        group = zarr.open_group(str(root), mode="r+")
        group.attrs.put(attrs)
    if not is_label:
        for name in img.labels:
            rebuild_pyramid(root / "labels" / name, levels=len(ms.datasets),
                            factors=new_factors, codec=codec, clevel=clevel, progress=progress)
    return open_image(root)
