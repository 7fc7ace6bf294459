"""Block downsampling of numpy arrays with native, multithreaded kernels.

Semantics (shared by every function here):

- Each axis of length ``n`` shrinks by an integer factor ``f`` to ``ceil(n / f)``.
  Output element ``o`` reduces the input samples ``[o*f, min((o+1)*f, n))``: a
  partial block at the far edge reduces over the samples that exist (no
  padding, no data dropped).  A factor of 1 leaves an axis alone.
- ``mean``: integers are summed exactly (128-bit where needed, so uint64/int64
  never overflow) and the mean is rounded half to even.  Floats are summed in
  float64 and the mean is cast back to the input dtype; it agrees with a
  float64 numpy reduction up to summation order (1 ulp of the output dtype,
  more only under heavy cancellation).  NaN and inf propagate as in
  ``numpy.mean``.
- ``mode``: the most frequent value; the smallest value on a tie.  For floats,
  NaNs count as one value ordered after every number (as ``numpy.unique``).
- ``median``: integers take the lower of the two middle values of an even
  count (an input value, never a new one); floats follow ``numpy.median``
  (mean of the two middles, NaN if the block holds a NaN).
- ``min`` / ``max``: NaN in a block gives NaN (``numpy.min`` / ``numpy.max``).
- ``stride``: the first sample of each block (``array[::f0, ::f1, ...]``).
- dtypes: every integer and float dtype; bool for ``stride``, ``min``, ``max``
  and ``mode``.  float16 is computed in float32 and cast back (mean and median
  may differ by 1 ulp from a float64 reduction).  Non-native byte order is
  converted first.  The output has the input dtype.
- Layout: any ndim 1-6, C or Fortran order or any strides (negative too).
  New outputs are Fortran-ordered when the input is, else C-ordered.

Work runs in C with the GIL released, split over ``omezarr_fast``'s thread
pool (``omezarr_fast.set_num_threads``); results do not depend on the number
of threads.
"""
from __future__ import annotations

import operator
from collections.abc import Sequence

import numpy as np

from omezarr_fast._extension import native as _native

__all__ = ["METHODS", "downsample", "downsample_block", "downsample_levels", "output_shape"]

METHODS = ("mean", "mode", "median", "min", "max", "stride")
_METHOD_CODE = {name: i for i, name in enumerate(METHODS)}
_BOOL_METHODS = ("mode", "min", "max", "stride")
# numpy dtype -> csrc/downsample.h OZF_DT_* code.
_DTYPE_CODE = {np.dtype(t): i for i, t in enumerate(
    [np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16, np.int32, np.int64,
     np.float32, np.float64])}
_MAX_NDIM = 6


def output_shape(shape: Sequence[int], factors: Sequence[int]) -> tuple[int, ...]:
    """``ceil(n / f)`` per axis."""
    return tuple(-(-int(n) // int(f)) for n, f in zip(shape, factors))


def _check_array(array) -> np.ndarray:
    array = np.asarray(array)
    if not 1 <= array.ndim <= _MAX_NDIM:
        raise ValueError(f"array must have 1 to {_MAX_NDIM} dimensions, got {array.ndim}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"array dtype {array.dtype} is not supported: use a bool, integer or float dtype")
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    return array


def _check_factors(factors, ndim: int) -> tuple[int, ...]:
    if isinstance(factors, (int, np.integer)) and not isinstance(factors, bool):
        factors = (factors,) * ndim
    try:
        factors = list(factors)
    except TypeError:
        raise TypeError(f"factors must be an int or a sequence of ints, got {type(factors).__name__}") from None
    if len(factors) != ndim:
        raise ValueError(f"factors must have one entry per axis ({ndim}), got {len(factors)}")
    out = []
    for i, f in enumerate(factors):
        if isinstance(f, bool):
            raise TypeError(f"factors[{i}] must be an int, got bool")
        try:
            f = operator.index(f)
        except TypeError:
            raise TypeError(f"factors[{i}] must be an int, got {type(f).__name__}") from None
        if f < 1:
            raise ValueError(f"factors[{i}] must be >= 1, got {f}")
        out.append(f)
    return tuple(out)


def _check_method(method, dtype: np.dtype) -> int:
    if method not in _METHOD_CODE:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if dtype == np.bool_ and method not in _BOOL_METHODS:
        raise TypeError(f"method {method!r} does not support bool arrays; use one of {', '.join(_BOOL_METHODS)}")
    return _METHOD_CODE[method]


def _check_levels(levels) -> int:
    if isinstance(levels, bool):
        raise TypeError("levels must be an int, got bool")
    try:
        levels = operator.index(levels)
    except TypeError:
        raise TypeError(f"levels must be an int, got {type(levels).__name__}") from None
    if levels < 1:
        raise ValueError(f"levels must be >= 1, got {levels}")
    return levels


def _order(array: np.ndarray) -> str:
    return "F" if array.flags.f_contiguous and not array.flags.c_contiguous else "C"


def _native_dtype_code(dtype: np.dtype) -> int:
    return 0 if dtype == np.bool_ else _DTYPE_CODE[dtype]


def _axis_order(array: np.ndarray) -> list[int]:
    """Axes by decreasing input stride, so the C side sees the contiguous axis
    last (its fast kernels need that); size-1 axes go first."""
    return sorted(range(array.ndim),
                  key=lambda d: (array.shape[d] != 1, -abs(array.strides[d])))


def downsample(array, factors, method: str = "mean", out: np.ndarray | None = None) -> np.ndarray:
    """Downsample ``array`` by integer ``factors`` per axis with ``method``.

    Parameters
    ----------
    array : numpy array (or array-like), ndim 1-6, bool/integer/float dtype.
    factors : int (every axis) or one positive int per axis.
    method : "mean", "mode", "median", "min", "max" or "stride" (see the
        module docstring for the exact semantics).
    out : optional array of shape ``ceil(array.shape / factors)`` and the
        input's dtype to write into; must not overlap ``array``.

    Returns the output array (``out`` if given).
    """
    array = _check_array(array)
    factors = _check_factors(factors, array.ndim)
    code = _check_method(method, array.dtype)
    shape = output_shape(array.shape, factors)
    if out is not None:
        if not isinstance(out, np.ndarray):
            raise TypeError(f"out must be a numpy array, got {type(out).__name__}")
        if out.shape != shape:
            raise ValueError(f"out has shape {out.shape}, expected {shape}")
        if out.dtype != array.dtype:
            raise TypeError(f"out has dtype {out.dtype}, expected {array.dtype}")
        if not out.flags.writeable:
            raise ValueError("out is read-only")
        if np.may_share_memory(out, array):
            raise ValueError("out overlaps the input array")
    if array.dtype == np.float16:
        result = downsample(array.astype(np.float32), factors, method)
        if out is None:
            return result.astype(np.float16, order="K")
        out[...] = result
        return out
    if out is None:
        out = np.empty(shape, array.dtype, order=_order(array))
    if array.size == 0:
        return out
    axes = _axis_order(array)
    # A factor beyond the axis length gives the same single block; clipping
    # keeps huge factors inside int64 on the C side.
    clipped = [min(factors[d], array.shape[d]) for d in axes]
    _native.downsample_raw(
        array.ctypes.data, [array.shape[d] for d in axes], [array.strides[d] for d in axes],
        out.ctypes.data, [out.strides[d] for d in axes], clipped,
        _native_dtype_code(array.dtype), code)
    return out


def downsample_levels(array, factors, levels: int, method: str = "mean") -> list[np.ndarray]:
    """Levels 1..``levels`` of a pyramid, each ``factors`` smaller than the last.

    Equal to applying :func:`downsample` level after level (each level is
    reduced from the previous one, so e.g. the level-2 mean is a mean of
    level-1 means), but computed in one pass over ``array``: tiles aligned to
    the cumulative factor go through every level while they are in cache.

    Returns a list of ``levels`` arrays; level k has shape
    ``ceil(array.shape / factors**k)``.
    """
    array = _check_array(array)
    factors = _check_factors(factors, array.ndim)
    code = _check_method(method, array.dtype)
    levels = _check_levels(levels)
    if array.dtype == np.float16 or array.size == 0:
        result, level = [], array
        for _ in range(levels):
            level = downsample(level, factors, method)
            result.append(level)
        return result
    order = _order(array)
    outs, shape = [], array.shape
    for _ in range(levels):
        shape = output_shape(shape, factors)
        outs.append(np.empty(shape, array.dtype, order=order))
    axes = _axis_order(array)
    _native.downsample_levels_raw(
        array.ctypes.data, [array.shape[d] for d in axes], [array.strides[d] for d in axes],
        [min(factors[d], array.shape[d]) for d in axes], [o.ctypes.data for o in outs],
        [[o.strides[d] for d in axes] for o in outs], _native_dtype_code(array.dtype), code)
    return outs


def downsample_block(block, factors, levels: int, method: str = "mean", *,
                     origin: Sequence[int] | None = None,
                     image_shape: Sequence[int] | None = None) -> list[np.ndarray]:
    """Levels 1..``levels`` of one block of a larger image, for streaming writers.

    Alignment rule: along every axis the block must start at a multiple of
    ``C = factor**levels`` of the full image and span a multiple of ``C``
    samples, except that a block may end at the image's far edge.  Then the
    returned level-k arrays are exactly the part of the whole image's level k
    that starts at ``origin // factor**k`` -- so a pyramid writer can go
    shard by shard (shard shape a multiple of ``C``) and never hold the whole
    image.

    Give ``origin`` (and ``image_shape``) to have the rule checked; a
    violation raises ValueError.
    """
    block = _check_array(block)
    factors = _check_factors(factors, block.ndim)
    levels = _check_levels(levels)
    if origin is not None:
        origin = list(origin)
        if len(origin) != block.ndim:
            raise ValueError(f"origin must have one entry per axis ({block.ndim}), got {len(origin)}")
        if image_shape is not None and len(image_shape) != block.ndim:
            raise ValueError(f"image_shape must have one entry per axis ({block.ndim}), got {len(image_shape)}")
        for d, (o, f) in enumerate(zip(origin, factors)):
            c = f ** levels
            if o % c:
                raise ValueError(f"origin[{d}] = {o} is not a multiple of factors[{d}]**levels = {c}")
            ends_at_edge = image_shape is not None and o + block.shape[d] == image_shape[d]
            if block.shape[d] % c and not ends_at_edge:
                raise ValueError(
                    f"block extent {block.shape[d]} along axis {d} is not a multiple of "
                    f"factors[{d}]**levels = {c} and the block does not end at the image edge")
    return downsample_levels(block, factors, levels, method)
