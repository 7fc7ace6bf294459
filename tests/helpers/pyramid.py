"""References for pyramid tests."""
from __future__ import annotations

from omezarr_fast import downsample

SPATIAL = set("zyx")


def oracle(data, axes, nlevels, method="mean"):
    """Repeated whole-array downsampling: the reference for every level."""
    factors = [2 if a in SPATIAL and n > 1 else 1 for a, n in zip(axes, data.shape)]
    out = [data]
    for _ in range(nlevels - 1):
        out.append(downsample(out[-1], factors, method))
    return out
