"""Per-level downsampling factors: one tuple per level, not necessarily the same at every level.

A pyramid of an anisotropic stack (z sampled 5x coarser than y/x) keeps z until y
and x catch up, so its levels have different factors: ``[(1, 2, 2), (1, 2, 2),
(2, 2, 2), ...]``.  Everything in the engine takes such a list; a single tuple of
ints still means "the same factors at every level".
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from omezarr_fast.downsample import downsample_block, output_shape

__all__ = ["cumulative", "downsample_chain", "level_factors", "level_shapes"]


def _is_flat(factors) -> bool:
    return all(isinstance(f, (int, np.integer)) and not isinstance(f, bool) for f in factors)


def level_factors(factors, nlevels: int) -> list[tuple[int, ...]]:
    """``factors`` as one tuple per level step (``nlevels - 1`` of them): a flat per-axis
    tuple is repeated; a list of per-level tuples is checked for its length."""
    factors = list(factors)
    if _is_flat(factors):
        return [tuple(int(f) for f in factors)] * (nlevels - 1)
    out = [tuple(int(f) for f in level) for level in factors]
    if len(out) != nlevels - 1:
        raise ValueError(f"{len(out)} per-level factors for {nlevels} levels "
                         f"(expected {nlevels - 1})")
    if len({len(f) for f in out}) > 1:
        raise ValueError("per-level factors must all have one entry per axis")
    return out


def cumulative(steps: Sequence[Sequence[int]], ndim: int) -> list[tuple[int, ...]]:
    """Factor from level 0 to each level: ``cum[0]`` is all ones, ``cum[k]`` the product of
    the first k steps."""
    out = [(1,) * ndim]
    for f in steps:
        out.append(tuple(a * b for a, b in zip(out[-1], f)))
    return out


def level_shapes(shape, steps) -> list[tuple[int, ...]]:
    """Shapes of every level, ``ceil(n / f)`` level after level."""
    out = [tuple(int(n) for n in shape)]
    for f in steps:
        out.append(output_shape(out[-1], f))
    return out


def downsample_chain(block, steps, method: str, *, origin=None, image_shape=None) -> list[np.ndarray]:
    """Levels 1..len(steps) of one block, each reduced from the one before it (runs of
    equal factors in one native pass: :func:`omezarr_fast.downsample.downsample_block`,
    whose alignment rule holds for the whole chain when the block is aligned to the
    product of all steps).  ``origin``/``image_shape``: the block's place in its level,
    to have the rule checked."""
    outs: list[np.ndarray] = []
    cur, k = block, 0
    org = list(origin) if origin is not None else None
    shp = list(image_shape) if image_shape is not None else None
    while k < len(steps):
        f = tuple(steps[k])
        run = 1
        while k + run < len(steps) and tuple(steps[k + run]) == f:
            run += 1
        if all(x == 1 for x in f):     # a step that downsamples nothing: copies, no kernel
            outs.extend([cur] * run)
        else:
            outs.extend(downsample_block(cur, f, run, method, origin=org, image_shape=shp))
        cur = outs[-1]
        if org is not None:
            total = [x ** run for x in f]
            org = [o // t for o, t in zip(org, total)]
            if shp is not None:
                shp = list(output_shape(shp, total))
        k += run
    return outs
