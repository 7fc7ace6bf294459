"""Synthetic microscopy-like test data, used by the demo, the codec benchmark, the
benchmarks and tests: one generator, one blur.

Smooth structure (a blurred random field of "cells" on a dim background)
plus shot and read noise: compresses like real fluorescence images (not like
zeros, not like pure noise).  :func:`microscopy_with_labels` adds a sparse label
channel made from the same cells, as a segmentation stored next to the image.
"""
import numpy as np

__all__ = ["box_blur", "microscopy_like", "microscopy_with_labels"]


def box_blur(a: np.ndarray, width: int, axis: int) -> np.ndarray:
    """Box blur along axis (running mean via cumsum, edges repeated), same shape."""
    if width <= 1 or a.shape[axis] < 2:
        return a
    pad = [(0, 0)] * a.ndim
    pad[axis] = (width // 2 + 1, width - width // 2)
    c = np.cumsum(np.pad(a, pad, mode="edge"), axis=axis)
    n = a.shape[axis]
    hi = np.take(c, np.arange(width, width + n) + 1, axis=axis)
    lo = np.take(c, np.arange(0, n) + 1, axis=axis)
    return (hi - lo) / width


def _cells(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    # Sparse bright seeds, blurred twice: blobs of ~20 px with soft edges.
    field = (rng.random(shape) < 0.002).astype(np.float32) * 4000
    for _ in range(2):
        for axis in range(len(shape)):
            field = box_blur(field, 9, axis)
    return field


def _fluorescence(field: np.ndarray, rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    shape = field.shape
    background = 100 + 50 * np.sin(np.linspace(0, 3, shape[-1], dtype=np.float32)) if shape else 100
    signal = field * 30 + background
    noisy = rng.poisson(np.maximum(signal, 0)).astype(np.float32) + rng.normal(0, 3, shape).astype(np.float32)
    if dtype.kind == "f":
        return noisy.astype(dtype)
    info = np.iinfo(dtype)
    return np.clip(noisy, info.min, info.max).astype(dtype)


def microscopy_like(shape, dtype=np.uint16, seed=0) -> np.ndarray:
    """An array of the given shape that looks like a fluorescence image."""
    shape = tuple(int(s) for s in shape)
    rng = np.random.default_rng(seed)
    return _fluorescence(_cells(shape, rng), rng, np.dtype(dtype))


def microscopy_with_labels(shape=(2, 32, 512, 512), seed: int = 0) -> np.ndarray:
    """A uint16 (c, z, y, x) volume with c = 2: channel 0 a fluorescence image
    (:func:`microscopy_like`), channel 1 a sparse label image of the brightest
    tenth of its cells (most voxels 0, objects carrying integer ids)."""
    shape = tuple(int(s) for s in shape)
    if len(shape) != 4 or shape[0] != 2:
        raise ValueError(f"shape must be (2, z, y, x), got {shape}")
    _, nz, ny, nx = shape
    rng = np.random.default_rng(seed)
    field = _cells((nz, ny, nx), rng)
    image = _fluorescence(field, rng, np.dtype(np.uint16))
    threshold = np.quantile(field, 0.9)
    cells_y, cells_x = max(ny // 64, 1), max(nx // 64, 1)
    ids = 1 + (np.arange(ny)[:, None] * cells_y // ny) * cells_x + (np.arange(nx)[None, :] * cells_x // nx)
    labels = np.where(field > threshold, ids[None].astype(np.uint16), np.uint16(0))
    return np.stack([image, labels])
