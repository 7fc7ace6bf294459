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

import copy
import math
from collections.abc import Mapping, Sequence
from contextlib import suppress
from typing import Any

import numpy as np
import zarr

from omezarr_fast import ngff
from omezarr_fast._version import __version__
from omezarr_fast.config import enabled
from omezarr_fast.downsample import METHODS, output_shape
from omezarr_fast.inputs import InputError, normalize_unit
from omezarr_fast.ome import objects
from omezarr_fast.pyramid.layout import (
    codec_arguments,
    default_chunks,
    default_shards,
    num_levels,
    pyramid_factors,
)
from omezarr_fast.pyramid.levels import write_levels
from omezarr_fast.pyramid.sources import as_source
from omezarr_fast.store import Location, location

__all__ = ["ChannelRange", "Image", "ImagePlan", "check_color", "image_factors", "image_layout",
           "image_level_factors", "open_image", "plan_factors", "plan_image", "rebuild_pyramid",
           "write_image"]

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


def _check_factor(f, name, axis) -> int:
    if isinstance(f, bool) or not isinstance(f, (int, np.integer)) or f < 1:
        raise ValueError(f"factors[{name!r}] must be an integer >= 1, got {f!r}")
    if f > 1 and axis.type == "channel":
        raise ValueError(f"factors[{name!r}] = {f}: a channel axis cannot be downsampled")
    return int(f)


def _is_per_level(factors) -> bool:
    return (isinstance(factors, Sequence) and not isinstance(factors, (str, bytes)) and
            len(factors) > 0 and all(isinstance(f, (Sequence, Mapping)) and
                                     not isinstance(f, (str, bytes)) for f in factors))


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
    return tuple(_check_factor(f, n, a) for n, a, f in zip(names, axes, given))


def _physical_sizes(axes, scale):
    """Level-0 pixel sizes of the space axes in one unit (meters), for the anisotropy rule;
    None when they cannot be compared (no units on some, or all equal)."""
    space = [i for i, a in enumerate(axes) if a.type == "space"]
    if len(space) < 2:
        return None
    units = {axes[i].unit for i in space}
    if units == {None}:
        sizes = [float(s) for s in scale]
    elif None in units:
        return None
    else:
        factors = [ngff.unit_scale(a.unit) if a.type == "space" else 1.0 for a in axes]
        if any(factors[i] is None for i in space):
            return None
        sizes = [float(s) * f for s, f in zip(scale, factors)]
    if len({sizes[i] for i in space}) == 1:
        return None
    return sizes


def plan_factors(shape, axes, scale, chunks, *, factors=None, levels=None, min_size=None):
    """The per-level downsampling factors of a pyramid (one tuple per level step).

    Explicit ``factors`` win: per axis (every level; a sequence or a mapping by axis
    name) or a list of per-level sequences. By default space axes are halved; when the
    pixel sizes differ (``scale`` with comparable units), an axis much coarser than the
    finest is left alone until the others catch up
    (:func:`omezarr_fast.pyramid.layout.pyramid_factors`)."""
    names = [a.name for a in axes]
    if levels is not None:
        levels = int(levels)
        if levels < 1:
            raise ValueError(f"levels must be >= 1, got {levels}")
    if factors is not None and _is_per_level(factors):
        steps = [_resolve_factors(f, names, shape, axes) for f in factors]
        if levels is not None and levels != len(steps) + 1:
            raise ValueError(f"levels={levels} but {len(steps)} per-level factors give "
                             f"{len(steps) + 1} levels")
        return steps
    spatial = [a.type == "space" for a in axes]
    sizes = _physical_sizes(axes, scale) if factors is None else None
    if sizes is not None:
        return pyramid_factors(shape, chunks, [sp and n > 1 for sp, n in zip(spatial, shape)],
                               sizes=sizes, levels=levels, min_size=min_size)
    const = _resolve_factors(factors, names, shape, axes)
    if levels is None:
        nlevels = num_levels(shape, chunks, const, min_size)
    else:
        nlevels = levels
        if nlevels > 1 and all(f == 1 for f in const):
            raise ValueError(f"factors are all 1 (nothing to downsample): levels must be 1, "
                             f"got {levels}")
    return [const] * (nlevels - 1)


class ChannelRange:
    """Per-channel minimum and maximum of the blocks a writer reads (``on_block``), for
    omero windows from the data rather than the dtype's range."""

    def __init__(self, caxis: int | None, nchannels: int):
        self.caxis = caxis
        self.lo: list = [None] * nchannels
        self.hi: list = [None] * nchannels

    def __call__(self, origin, data) -> None:
        if data.size == 0:
            return
        lead = (slice(None),) * (self.caxis or 0)
        planes = [(0, data)] if self.caxis is None else \
            [(origin[self.caxis] + i, data[lead + (i,)]) for i in range(data.shape[self.caxis])]
        for ch, plane in planes:
            if plane.dtype.kind == "f":
                if np.isnan(plane).all():
                    continue
                lo, hi = float(np.nanmin(plane)), float(np.nanmax(plane))
            else:
                lo, hi = float(plane.min()), float(plane.max())
            if self.lo[ch] is None or lo < self.lo[ch]:
                self.lo[ch] = lo
            if self.hi[ch] is None or hi > self.hi[ch]:
                self.hi[ch] = hi

    def windows(self, dtype) -> list[tuple[float, float, float, float]]:
        """``(start, end, min, max)`` per channel: the data's range (the dtype's range for a
        channel nothing was read of)."""
        out = []
        for lo, hi in zip(self.lo, self.hi):
            if lo is None:
                if np.issubdtype(dtype, np.integer):
                    info = np.iinfo(dtype)
                    lo, hi = float(info.min), float(info.max)
                else:
                    lo, hi = 0.0, 1.0
            out.append((lo, hi, lo, hi))
        return out


def _axes_of(axes, ndim, units):
    """ngff Axis objects from names (a string or list of names) or Axis objects (kept whole:
    their extra fields travel along)."""
    if axes is None:
        axes = _DEFAULT_AXES[ndim]
    if not isinstance(axes, str) and all(isinstance(a, ngff.Axis) for a in axes):
        ax = [ngff.Axis(a.name, a.type, a.unit, dict(a.extra)) for a in axes]
        if units is not None:
            for a, u in zip(ax, _per_axis(units, [a.name for a in ax], "units", None)):
                a.unit = u
        return ax
    names = list(axes)
    if len(names) != ndim:
        raise ValueError(f"axes {axes!r} has {len(names)} names for {ndim} dimensions")
    return ngff.make_axes(names, units=[_unit_name(u, n) for u, n in
                                        zip(_per_axis(units, names, "units", None), names)])


def _unit_name(unit, axis):
    """A unit as users write it ("um", "µm", "micron", "ms") as its UDUNITS-2 name; a name it
    does not know is kept as written (the validator warns about it)."""
    if unit is None or unit in ngff.SPACE_UNITS or unit in ngff.TIME_UNITS:
        return unit
    kind = {"t": "time", "z": "space", "y": "space", "x": "space"}.get(axis)
    try:
        return normalize_unit(unit, kind, f"units[{axis!r}]")
    except InputError:
        if kind is not None and isinstance(unit, str):
            try:
                normalize_unit(unit, None)
            except InputError:
                return unit           # unknown: kept
        raise


def _omero_of(omero, channel_names, channel_colors, names, shape):
    """The omero block to write: the caller's (labels/colors overridden when given), or one
    built from channel names/colours (windows filled in from the data later); None."""
    if omero is not None:
        om = omero if isinstance(omero, ngff.Omero) else ngff.Omero.from_dict(omero)
        om = ngff.Omero.from_dict(om.to_dict())   # a copy: the caller's stays as it was
        for what, values in (("channel_names", channel_names), ("channel_colors", channel_colors)):
            if values is not None and len(values) != len(om.channels):
                raise ValueError(f"{what} has {len(values)} entries; omero has "
                                 f"{len(om.channels)} channels")
        for i, ch in enumerate(om.channels):
            if channel_names is not None:
                ch.label = channel_names[i]
            if channel_colors is not None:
                ch.color = channel_colors[i]
        return om, False
    if channel_names is None and channel_colors is None:
        return None, False
    if "c" in names:
        nc = shape[names.index("c")]
    else:
        nc = 1
    for what, values in (("channel_names", channel_names), ("channel_colors", channel_colors)):
        if values is not None and len(values) != nc:
            where = f"the 'c' axis has {nc}" if "c" in names else "an image without a 'c' axis has 1"
            raise ValueError(f"{what} has {len(values)} entries; {where}")
    colors = None if channel_colors is None else [check_color(c) for c in channel_colors]
    om = ngff.build_omero([(0.0, 1.0, 0.0, 1.0)] * nc, labels=channel_names, colors=colors)
    return om, True


def check_color(value) -> str:
    """A display colour as omero writes it, "RRGGBB" (upper case); "#rrggbb" accepted."""
    text = str(value).strip().lstrip("#").upper()
    if len(text) != 6 or any(ch not in "0123456789ABCDEF" for ch in text):
        raise ValueError(f"channel colour {value!r} is not RRGGBB (6 hex digits, e.g. FF00FF)")
    return text


def _merge_attributes(attrs, extra, version):
    """Keys of ``extra`` beside the OME metadata: top-level keys, and (0.5) an "ome" mapping
    whose keys go into the OME namespace; OME keys written by us are never replaced."""
    if not extra:
        return attrs
    out = dict(attrs)
    for k, v in extra.items():
        if k == "ome" and version == "0.5" and isinstance(v, Mapping):
            ome = dict(out["ome"])
            for kk, vv in v.items():
                ome.setdefault(kk, vv)
            out["ome"] = ome
        else:
            out.setdefault(k, v)
    return out


def write_image(data, path, *, axes=None, scale=None, units=None, translation=None,
                chunks=None, shards=None, codec="zstd", clevel=None, levels=None,
                min_size=None, method="mean", factors=None, name=None, channel_names=None,
                channel_colors=None, omero=None, attributes=None, version="0.5",
                overwrite=False, progress=None, client=None, source_chunks=None,
                storage_options=None):
    """Write ``data`` as an OME-Zarr multiscale image at ``path``; returns the path.

    path: a directory, a URL (``s3://bucket/image.ome.zarr``, ``gs://``, ``az://``,
        ``file://``; see :mod:`omezarr_fast.store`) or a zarr Store/StorePath; returned as
        a Path for a directory, as given otherwise. ``storage_options``: for a URL, options
        of its object store (region, endpoint, credentials).

    data: numpy array, dask array, zarr array or any array-like with shape, dtype and
        slicing (read once, block by block), ndim 2-5, axes in NGFF order.
    axes: axis names, e.g. "tczyx" (default by ndim: yx, zyx, czyx, tczyx), or
        :class:`omezarr_fast.ngff.Axis` objects (their units and other fields kept).
    scale, units, translation: level-0 pixel size, UDUNITS-2 units and offset, per axis
        (a sequence parallel to ``axes`` or a mapping by axis name).
    chunks, shards: level-0 inner chunk and shard shapes (default ~1 MiB and ~32 MiB;
        ``shards`` is ignored for 0.4, which has no sharding). Lower levels use the
        same chunks clipped to their size, and the level-0 shard's footprint at their
        scale as their shard (whole chunks, at least one).
    codec, clevel: "zstd" (level 3), "gzip", "blosc" or None; or any zarr codec chain:
        a list of codec objects or their JSON dicts, or that list as JSON (e.g. what
        ``omezarr-fast bench`` recommends); see
        :func:`omezarr_fast.pyramid.layout.codec_arguments`.
    levels / min_size: number of levels (level 0 included), or downsample while the
        smallest downsampled side stays >= min_size; default: until every downsampled
        side fits in one chunk.
    factors: integer downsampling factor per axis and level, a sequence parallel to
        ``axes`` or a mapping by axis name (missing axes keep the default), e.g.
        ``{"z": 1}`` for anisotropic stacks; or a list of such, one per level step.
        Default: 2 on space axes longer than 1, 1 on t/c, except that when ``scale``
        gives the space axes different pixel sizes (in comparable units), an axis more
        than 1.5x coarser than the finest is kept until the others catch up. Channel
        axes cannot be downsampled.
    method: a downsampling method of :mod:`omezarr_fast.downsample` ("mean", "mode", ...).
    channel_names, channel_colors: omero rendering metadata ("RRGGBB" colours) for the
        "c" axis (or the one channel of an image without one); the windows are the
        data's per-channel minimum and maximum, gathered while the image is written.
    omero: an omero block to write as it is (:class:`omezarr_fast.ngff.Omero` or its
        dict), e.g. copied from another image; channel_names/colors override its labels
        and colours.
    attributes: other group attributes to keep beside the OME metadata (top-level keys;
        for 0.5 an "ome" mapping adds keys inside the OME namespace).
    version: "0.5" (zarr v3, sharded) or "0.4" (zarr v2).
    overwrite: replace an existing ``path`` (otherwise FileExistsError).
    progress: None = a progress bar on a terminal, True/False to force.
    client: a ``distributed.Client``: build the pyramid on its cluster, one task per output
        shard region (see :mod:`omezarr_fast.pyramid.distributed`). None (default): the same when
        ``data`` is a dask array and dask's current scheduler is a distributed client;
        False: always in this process.
    source_chunks: the source's storage chunks (TIFF tiles or strips, HDF5 chunks), which
        the read blocks then follow so that none is decoded twice.

    Everything is checked before the first byte is written; a write that fails half-way
    removes what it wrote (the OME metadata is written last, so what a failed removal
    leaves behind does not look like an image).
    """
    plan = plan_image(data, axes=axes, scale=scale, units=units, translation=translation,
                      chunks=chunks, shards=shards, codec=codec, clevel=clevel, levels=levels,
                      min_size=min_size, method=method, factors=factors, name=name,
                      channel_names=channel_names, channel_colors=channel_colors, omero=omero,
                      attributes=attributes, version=version)
    loc = location(path, storage_options=storage_options)
    loc.prepare(overwrite)
    try:
        plan.write(data, loc, progress=progress, client=client, source_chunks=source_chunks)
    except BaseException:
        remove_quietly(loc)
        raise
    return loc.public()


def remove_quietly(loc: Location) -> None:
    """Remove a failed write's output; a failure to remove (the store went away) must not
    hide the error that made the write fail.  The OME metadata is written last, so what
    stays behind does not look like an image."""
    with suppress(Exception):
        loc.remove()


class ImagePlan:
    """Everything :func:`write_image` works out before writing (so a caller writing several
    images can check them all first): level layout, factors, codecs and the metadata."""

    def __init__(self, shape, dtype, names, steps, chunks, unit, codec_kw, method, version,
                 attrs, omero_auto, caxis, multiscale):
        self.shape, self.dtype, self.names, self.steps = shape, dtype, names, steps
        self.chunks, self.unit, self.codec_kw, self.method = chunks, unit, codec_kw, method
        self.version, self.attrs, self.omero_auto, self.caxis = version, attrs, omero_auto, caxis
        self.multiscale: ngff.Multiscale = multiscale

    @property
    def nlevels(self) -> int:
        return len(self.steps) + 1

    def write(self, data, path, *, progress=None, client=None, source_chunks=None) -> None:
        """Write the image at ``path`` (a location, see :func:`omezarr_fast.store.location`),
        which must be empty."""
        loc = location(path)
        loc.require_writable()
        zarr_format = 3 if self.version == "0.5" else 2
        ranges = None
        if self.omero_auto:
            nc = self.shape[self.caxis] if self.caxis is not None else 1
            ranges = ChannelRange(self.caxis, nc)
        with enabled():
            group = zarr.open_group(loc.open(), mode="w-", zarr_format=zarr_format)
            arrays = write_levels(group, data, names=self.names, factors=self.steps,
                                  nlevels=self.nlevels, chunks=self.chunks, unit=self.unit,
                                  compressors=None, codecs=self.codec_kw, method=self.method,
                                  zarr_format=zarr_format, progress=progress, client=client,
                                  source_chunks=source_chunks, on_block=ranges)
            attrs = self.attrs
            if ranges is not None:
                if all(lo is None for lo in ranges.lo) and math.prod(self.shape):
                    # Written on a cluster (blocks never came by here): the smallest level's range.
                    ranges(tuple(0 for _ in self.shape), np.asarray(arrays[-1][0][...]))
                attrs = _with_windows(attrs, ranges.windows(self.dtype), self.version)
            # Metadata last: an interrupted write does not look like a finished image.
            group.attrs.update(attrs)


def _with_windows(attrs, windows, version):
    """``attrs`` with the omero channels' windows set to ``windows`` (start, end, min, max)."""
    out = copy.deepcopy(dict(attrs))
    ns = out if version == "0.4" else out["ome"]
    for ch, (start, end, lo, hi) in zip(ns["omero"]["channels"], windows):
        ch["window"] = {"start": start, "end": end, "min": lo, "max": hi}
    return out


def plan_image(data, *, axes=None, scale=None, units=None, translation=None, chunks=None,
               shards=None, codec="zstd", clevel=None, levels=None, min_size=None,
               method="mean", factors=None, name=None, channel_names=None,
               channel_colors=None, omero=None, attributes=None, version="0.5") -> ImagePlan:
    """Check :func:`write_image`'s arguments against ``data`` (its shape and dtype; nothing
    is read) and work out the layout and metadata; raises before anything is written."""
    if version not in ("0.4", "0.5"):
        raise ValueError(f"version must be '0.4' or '0.5', got {version!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    src, _ = as_source(data)
    shape, dtype = tuple(int(n) for n in src.shape), np.dtype(src.dtype)
    if not 2 <= len(shape) <= 5:
        raise ValueError(f"data must have 2 to 5 dimensions, got shape {shape}")
    ax = _axes_of(axes, len(shape), units)
    names = [a.name for a in ax]
    spatial = [a.type == "space" for a in ax]
    scale0 = [float(x) for x in _per_axis(scale, names, "scale", 1.0)]
    trans0 = None if translation is None else [float(x) for x in
                                               _per_axis(translation, names, "translation", 0.0)]
    chunks = tuple(int(c) for c in chunks) if chunks is not None else \
        default_chunks(shape, dtype, spatial)
    if len(chunks) != len(shape) or any(c < 1 for c in chunks):
        raise ValueError(f"chunks must be {len(shape)} positive integers, got {chunks}")
    write_unit = tuple(int(s) for s in shards) if shards is not None else \
        default_shards(shape, dtype, chunks, spatial)
    if len(write_unit) != len(shape) or any(s % c for s, c in zip(write_unit, chunks)):
        raise ValueError(f"shards {write_unit} must be multiples of chunks {chunks} on every axis")
    steps = plan_factors(shape, ax, scale0, chunks, factors=factors, levels=levels,
                         min_size=min_size)
    ms = ngff.build_multiscale(ax, scale0, [list(f) for f in steps], translation0=trans0,
                               name="image" if name is None else name, method=method,
                               method_version=__version__)
    om, auto = _omero_of(omero, channel_names, channel_colors, names, shape)
    attrs = _merge_attributes(ngff.image_attributes(ms, om, version=version), attributes, version)
    ngff.validate(attrs, version=version).raise_for_errors()
    zarr_format = 3 if version == "0.5" else 2
    codec_kw = codec_arguments(codec, clevel, zarr_format, len(shape))
    caxis = names.index("c") if "c" in names else None
    return ImagePlan(shape, dtype, names, steps, chunks, write_unit, codec_kw, method, version,
                     attrs, auto, caxis, ms)


def image_level_factors(ms: ngff.Multiscale, shapes) -> list[tuple[int, ...]]:
    """The integer factor of every level step of an image (``shapes``: its level shapes),
    from the levels' scales; raises when a level is not an integer downsampling of the one
    before it."""
    out = []
    for k in range(1, len(shapes)):
        a, b = ms.datasets[k - 1].transforms.scale, ms.datasets[k].transforms.scale
        f = []
        for x, y in zip(a, b):
            r = y / x
            if abs(r - round(r)) > 1e-6 or round(r) < 1:
                raise ValueError("the image's levels are not integer downsamplings of each other")
            f.append(round(r))
        if tuple(shapes[k]) != output_shape(shapes[k - 1], f):
            raise ValueError(f"the image's level {k} shape {tuple(shapes[k])} does not follow "
                             f"from level {k - 1} by factors {tuple(f)}; cannot build matching "
                             "label levels")
        out.append(tuple(f))
    return out


def image_factors(ms: ngff.Multiscale, shapes) -> tuple[int, ...]:
    """The per-level integer factor of an image written by a constant-factor pyramid."""
    if len(shapes) < 2:
        return tuple(1 for _ in shapes[0])
    steps = image_level_factors(ms, shapes)
    if any(f != steps[0] for f in steps):
        raise ValueError("the image's level shapes do not follow one constant factor; "
                         "cannot build matching label levels")
    return steps[0]



# -- reading --------------------------------------------------------------------------------

class Image:
    """An OME-Zarr multiscale image opened by :func:`open_image`."""

    def __init__(self, path, attributes, metadata, levels):
        self.location: Location = location(path)
        # A Path for a local image (as always), the URL or StorePath otherwise.
        self.path = self.location.public()
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
        p = self.location.child("labels")
        if not p.is_node():
            return []
        try:
            p.check()
            return list(p.metadata().labels or [])
        except (ValueError, OSError):
            return []

    def label(self, name: str) -> Image:
        if name not in self.labels:
            raise KeyError(f"no label image {name!r} in {self.path} (have {self.labels})")
        lab = self.location.child("labels").child(name, "labels")
        lab.check()
        return open_image(lab)

    def to_dask(self, level: int = 0):
        """Level ``level`` as a dask array with one task per shard (per chunk for 0.4),
        each reading through omezarr_fast's pipeline (the zarr array pickles with it,
        so this holds in worker processes too; an object store pickles as its location,
        and each worker opens its own)."""
        import dask.array as da
        from dask.base import tokenize

        from omezarr_fast.pyramid.distributed import absolute

        a = absolute(self.levels[level])
        unit = a.shards if getattr(a, "shards", None) is not None else a.chunks
        return da.from_array(a, chunks=unit, inline_array=True, asarray=False,
                             name=f"omezarr-read-{tokenize(a, unit)}")

    def __repr__(self) -> str:
        shapes = ", ".join(str(a.shape) for a in self.levels)
        return f"Image({self.location.url!r}, axes={''.join(self.axes)!r}, levels=[{shapes}])"


def open_image(path, *, validate: bool = True, storage_options=None) -> Image:
    """Open an OME-Zarr 0.4/0.5 image: metadata parsed (and validated unless
    ``validate=False``), levels as zarr arrays reading through omezarr_fast's pipeline.

    path: a directory, a URL (``s3://``, ``gs://``, ``az://``, ``http(s)://``, ``file://``)
    or a zarr Store/StorePath; ``storage_options`` for a URL's object store."""
    loc = location(path, storage_options=storage_options).rooted()
    loc.check()
    attrs = loc.attributes()
    if validate:
        ngff.validate(attrs).raise_for_errors()
    meta = ngff.parse_attributes(attrs)
    if not meta.multiscales:
        raise ValueError(f"{loc.url}: not a multiscale image (no 'multiscales' metadata)")
    ms = meta.multiscales[0]
    version = ngff.detect_version(attrs)
    # The format is known from the version: zarr then asks for one metadata document per
    # level, not each format's (a request each on an object store).
    zarr_format = {"0.4": 2}.get(version, 3) if version else None
    levels = []
    with enabled():
        for i, ds in enumerate(ms.datasets):
            level = loc.child(ds.path, f"multiscales[0].datasets[{i}].path")
            level.check()
            levels.append(_open_level(level, zarr_format))
    return Image(loc, attrs, meta, levels)


def _open_level(level: Location, zarr_format: int | None) -> zarr.Array:
    try:
        return zarr.open_array(level.open(), mode="r", zarr_format=zarr_format)
    except (FileNotFoundError, ValueError, KeyError):
        if zarr_format is None:
            raise
        # Not in the version's format (an odd image, opened unvalidated): let zarr look.
        return zarr.open_array(level.open(), mode="r")


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
                    codec="zstd", clevel=None, progress=None, storage_options=None) -> Image:
    """Replace every level but 0 of the image at ``path`` with a new pyramid built from
    level 0 (streamed); the level-0 array and other metadata (omero) stay. Label images
    get the same number of levels and factors (with their own method, mode by default).

    factors: per axis or per level (see :func:`write_image`); default: the image's own
    factors (with ``levels``/``min_size``: when its levels follow one constant factor),
    else write_image's default.

    Level 0 is streamed into a temporary image next to ``path`` too (then dropped): the
    cost of reusing the writer unchanged.  ``path``: a directory, URL or zarr store (see
    :func:`open_image`)."""
    root = location(path, storage_options=storage_options).rooted()
    root.require_writable()
    img = open_image(root)
    level0 = img.levels[0]
    is_label = img.metadata.image_label is not None
    fallback = "mode" if is_label else "mean"
    if method is None:
        method = img.multiscale.type if img.multiscale.type in METHODS else fallback
    tmp = root.sibling(f".{root.name}.pyramid-tmp")
    if tmp.exists():
        tmp.remove()
    shards = level0.shards if getattr(level0, "shards", None) is not None else None
    if factors is None and len(img.levels) > 1:
        with suppress(ValueError):  # a broken pyramid: rebuild with the default factors
            steps = image_level_factors(img.multiscale, [a.shape for a in img.levels])
            if levels is None and min_size is None:
                factors = steps          # the same pyramid, every level's own factors
            elif all(f == steps[0] for f in steps):
                factors = steps[0]       # one factor, as many levels as asked
    try:
        write_image(level0, tmp, **image_layout(img), chunks=level0.chunks, shards=shards,
                    codec=codec, clevel=clevel, levels=levels, min_size=min_size, method=method,
                    factors=factors, version=img.version, progress=progress)
        new = open_image(tmp)
        new_factors = image_level_factors(new.multiscale, [a.shape for a in new.levels])
        # Old levels out, new ones in; level 0 is kept as it was.
        for i, ds in enumerate(img.multiscale.datasets[1:], 1):
            root.child(ds.path, f"multiscales[0].datasets[{i}].path").remove()
        ms = new.multiscale
        ms.datasets[0].path = img.multiscale.datasets[0].path
        for ds in ms.datasets[1:]:
            target = root.child(ds.path)
            target.remove()
            objects.move(tmp.child(ds.path), target)
    finally:
        remove_quietly(tmp)
    meta = img.metadata
    meta.multiscales = [ms] + list(meta.multiscales[1:])
    attrs = meta.to_dict(img.version)
    ngff.validate(attrs, version=img.version).raise_for_errors()
    with enabled():
        group = zarr.open_group(root.open(), mode="r+")
        group.attrs.put(attrs)
    if not is_label:
        for name in img.labels:
            rebuild_pyramid(root.child("labels").child(name, "labels"),
                            factors=new_factors or None,
                            levels=1 if not new_factors else None, codec=codec, clevel=clevel,
                            progress=progress)
    return open_image(root)
