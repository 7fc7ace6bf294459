"""Synthetic microscopy-like test data, shared by the benchmarks.

Smooth structure (a blurred random field of "cells" on a dim background)
plus shot and read noise: compresses like real fluorescence images (not like
zeros, not like pure noise)."""
import numpy as np


def _blur(a: np.ndarray, width: int, axis: int) -> np.ndarray:
    """Box blur along axis (running mean via cumsum), same shape."""
    if width <= 1 or a.shape[axis] < 2:
        return a
    pad = [(0, 0)] * a.ndim
    pad[axis] = (width // 2 + 1, width - width // 2)
    c = np.cumsum(np.pad(a, pad, mode="edge"), axis=axis)
    n = a.shape[axis]
    hi = np.take(c, np.arange(width, width + n) + 1, axis=axis)
    lo = np.take(c, np.arange(0, n) + 1, axis=axis)
    return (hi - lo) / width


def microscopy_like(shape, dtype=np.uint16, seed=0) -> np.ndarray:
    """An array of the given shape that looks like a fluorescence image."""
    shape = tuple(int(s) for s in shape)
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    # Sparse bright seeds, blurred twice: blobs of ~20 px with soft edges.
    field = (rng.random(shape) < 0.002).astype(np.float32) * 4000
    for _ in range(2):
        for axis in range(len(shape)):
            field = _blur(field, 9, axis)
    background = 100 + 50 * np.sin(np.linspace(0, 3, shape[-1], dtype=np.float32)) if shape else 100
    signal = field * 30 + background
    noisy = rng.poisson(np.maximum(signal, 0)).astype(np.float32) + rng.normal(0, 3, shape).astype(np.float32)
    if dtype.kind == "f":
        return noisy.astype(dtype)
    info = np.iinfo(dtype)
    return np.clip(noisy, info.min, info.max).astype(dtype)
