"""Axis names: from what a file says, from the caller, and reordering to NGFF's t, c, z, y, x.

Reordering is lazy: :class:`AxisOrderView` reads the block the caller asks
for from the source in the source's order and transposes only that block, so
a 100 GiB ZCYX file becomes a CZYX view without a copy.
"""
from __future__ import annotations

import dataclasses
import operator

import numpy as np

from omezarr_fast.inputs.errors import InputError
from omezarr_fast.inputs.lazy import LazyArray, expand_key
from omezarr_fast.inputs.model import NGFF_AXES, InputImage

# tifffile's axis letters -> NGFF names. 'S' (samples: RGB) is the channel axis.
TIFF_TO_NGFF = {"T": "t", "C": "c", "Z": "z", "Y": "y", "X": "x", "S": "c"}
# Dimension labels (HDF5 dimension scales, zarr dimension_names) that name an NGFF axis.
LABEL_TO_NGFF = {"t": "t", "time": "t", "c": "c", "ch": "c", "channel": "c", "channels": "c",
                 "z": "z", "y": "y", "x": "x"}


def axes_from_tiff(letters: str) -> str | None:
    """NGFF names for tifffile's series axes ('ZCYX' -> 'zcyx', 'YXS' -> 'yxc'); None if they do not say.

    None when a letter is not one of T, C, Z, Y, X, S ('Q' unknown, 'I' a page
    sequence, 'E' wavelength, ...) or two letters land on one NGFF axis (C and S).
    """
    names = [TIFF_TO_NGFF.get(a) for a in letters]
    if None in names or len(set(names)) != len(names):
        return None
    return "".join(names)


def axes_from_labels(labels) -> str | None:
    """NGFF names from per-dimension labels (['z', 'y', 'x'], ['time', 'c', 'y', 'x']); None if not all name one."""
    names = [LABEL_TO_NGFF.get(str(lb).strip().lower()) if lb else None for lb in labels]
    if not names or None in names or len(set(names)) != len(names):
        return None
    return "".join(names)


def explain_file_axes(file_axes: str) -> str:
    """Why the letters of a file do not name NGFF axes, for an error message."""
    unknown = sorted({a for a in file_axes if a.upper() not in TIFF_TO_NGFF})
    if unknown:
        return (f"the file's axes {file_axes!r} include {', '.join(repr(a) for a in unknown)}, "
                "which is not one of T, C, Z, Y, X, S (RGB samples)")
    if "C" in file_axes and "S" in file_axes:
        return (f"the file's axes {file_axes!r} have both channels (C) and RGB samples (S); "
                "NGFF has one channel axis")
    if not file_axes:
        return "the file does not name its axes"
    return f"the file's axes {file_axes!r} name one axis twice"


def check_axes(axes, ndim: int, what: str = "axes") -> str:
    """A caller's axis names, checked: one of t, c, z, y, x per dimension, each once, y and x present."""
    if not isinstance(axes, str):
        if isinstance(axes, (list, tuple)) and all(isinstance(a, str) and len(a) == 1 for a in axes):
            axes = "".join(axes)
        else:
            raise InputError(f"{what} must be a string of axis names such as 'zyx', got {axes!r}")
    names = axes.strip().lower()
    bad = sorted({a for a in names if a not in NGFF_AXES})
    if bad:
        raise InputError(f"{what} {axes!r}: {', '.join(repr(a) for a in bad)} is not an axis name; "
                         "use t, c, z, y and x")
    dupes = sorted({a for a in names if names.count(a) > 1})
    if dupes:
        raise InputError(f"{what} {axes!r} names {', '.join(repr(a) for a in dupes)} more than once")
    if len(names) != ndim:
        raise InputError(f"{what} {axes!r} names {len(names)} axes but the image has {ndim} dimensions")
    if "y" not in names or "x" not in names:
        raise InputError(f"{what} {axes!r} must include y and x (an image has 2 or 3 space axes)")
    return names


def resolve_axes(from_file: str | None, ndim: int, override, what: str) -> str | None:
    """The caller's ``override`` (checked) when given, else what the file says (None if it does not)."""
    if override is not None:
        return check_axes(override, ndim, f"axes for {what}")
    if from_file is not None and len(from_file) != ndim:
        return None
    return from_file


def require_axes(image: InputImage) -> str:
    """The image's axes, or a clear error saying the file does not name them and how to name them."""
    if image.axes is None:
        example = {2: "yx", 3: "zyx", 4: "czyx", 5: "tczyx"}.get(image.ndim, "zyx")
        raise InputError(f"{image.source or 'the input'}: cannot tell which axis is which: "
                         f"{explain_file_axes(image.file_axes)}; name the {image.ndim} axes in the "
                         f"file's order with axes=, e.g. axes={example!r} (--axes {example})")
    return image.axes


def ngff_order(axes: str) -> tuple[int, ...]:
    """order[i] = the input axis that becomes output axis i, sorting axes into t, c, z, y, x."""
    return tuple(sorted(range(len(axes)), key=lambda i: NGFF_AXES.index(axes[i])))


def to_ngff_order(image: InputImage) -> InputImage:
    """The image with its axes in NGFF order, as a lazy view (no copy); the image itself when already so."""
    axes = require_axes(image)
    order = ngff_order(axes)
    if order == tuple(range(len(order))):
        return image
    levels = [AxisOrderView(level, order) for level in image.levels]
    chunks = tuple(image.chunks[i] for i in order) if image.chunks is not None else None
    return dataclasses.replace(image, data=levels[0], levels=levels, chunks=chunks,
                               axes="".join(axes[i] for i in order))


class AxisOrderView(LazyArray):
    """``array`` with its axes permuted: ``view[key]`` reads that block from ``array`` and transposes it.

    ``order[i]`` is the source axis shown as axis i. Keys are integers,
    slices (steps as the source supports) and one Ellipsis; the result is a
    C-contiguous numpy array of just the block asked for.
    """

    def __init__(self, array, order):
        order = tuple(int(i) for i in order)
        if sorted(order) != list(range(len(array.shape))):
            raise InputError(f"axis order {list(order)} is not a permutation of the "
                             f"{len(array.shape)} axes of the array")
        self.array = array
        self.order = order
        self.shape = tuple(int(array.shape[i]) for i in order)
        self.dtype = np.dtype(array.dtype)
        chunks = getattr(array, "chunks", None)
        self.chunks = tuple(chunks[i] for i in order) if chunks is not None else None

    def __repr__(self) -> str:
        return f"AxisOrderView(shape={self.shape}, dtype={self.dtype}, order={self.order})"

    def _key(self, key) -> list:
        key = expand_key(key, self.ndim)
        out = []
        for k, n in zip(key, self.shape):
            if isinstance(k, slice):
                out.append(k)
                continue
            try:
                i = operator.index(k)
            except TypeError:
                raise TypeError(f"AxisOrderView takes integers and slices, got {k!r}") from None
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for an axis of size {n}")
            out.append(i % n)
        return out

    def __getitem__(self, key) -> np.ndarray:
        key = self._key(key)
        src_key = [None] * self.ndim
        for out_axis, src_axis in enumerate(self.order):
            src_key[src_axis] = key[out_axis]
        block = np.asarray(self.array[tuple(src_key)])
        # Axes kept (sliced, not indexed) in source order, then in view order.
        kept_src = [a for a in range(self.ndim) if isinstance(src_key[a], slice)]
        kept_view = [a for a in self.order if isinstance(src_key[a], slice)]
        out = block.transpose([kept_src.index(a) for a in kept_view])
        return out if out.flags.c_contiguous else out.copy(order="C")   # (ascontiguousarray makes 0-d 1-d)


class LeadingAxesView(LazyArray):
    """``array`` with ``count`` axes of size 1 in front: a label image (y, x) seen as
    (1, 1, y, x) to match a (c, z, y, x) image, without a copy."""

    def __init__(self, array, count: int):
        self.array = array
        self.count = int(count)
        self.shape = (1,) * self.count + tuple(int(n) for n in array.shape)
        self.dtype = np.dtype(array.dtype)
        chunks = getattr(array, "chunks", None)
        self.chunks = (1,) * self.count + tuple(chunks) if chunks is not None else None

    def __getitem__(self, key) -> np.ndarray:
        key = expand_key(key, self.ndim)
        lead, rest = key[:self.count], key[self.count:]
        block = np.asarray(self.array[rest])
        shape = []
        for k in lead:
            if isinstance(k, slice):
                shape.append(len(range(*k.indices(1))))
            else:
                i = operator.index(k)
                if i not in (0, -1):
                    raise IndexError(f"index {i} is out of bounds for an axis of size 1")
        return block.reshape(tuple(shape) + block.shape)


def with_leading_axes(array, ndim: int):
    """``array`` with axes of size 1 added in front up to ``ndim`` dimensions (lazily)."""
    count = ndim - len(array.shape)
    if count < 0:
        raise InputError(f"an array of {len(array.shape)} dimensions cannot be seen as {ndim}")
    if count == 0:
        return array
    if isinstance(array, np.ndarray):
        return array.reshape((1,) * count + array.shape)     # a view, memory maps included
    return LeadingAxesView(array, count)
