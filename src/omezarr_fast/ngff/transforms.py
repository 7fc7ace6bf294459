"""coordinateTransformations (scale + optional translation) and per-level pyramid transforms."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import NgffError, join_path


@dataclass
class Transforms:
    """One ``coordinateTransformations`` list: a scale, then optionally a translation."""

    scale: list[float]
    translation: list[float] | None = None

    def to_list(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [{"type": "scale", "scale": list(self.scale)}]
        if self.translation is not None:
            out.append({"type": "translation", "translation": list(self.translation)})
        return out

    @classmethod
    def from_list(cls, items: Any, path: str = "coordinateTransformations") -> Transforms:
        """Parse a list holding exactly one scale and at most one translation after it."""
        if not isinstance(items, list) or not items:
            raise NgffError(path, "must be a non-empty list")
        scale = translation = None
        for i, item in enumerate(items):
            ipath = join_path(path, i)
            if not isinstance(item, Mapping):
                raise NgffError(ipath, "transformation must be an object")
            kind = item.get("type")
            if kind == "scale" and scale is None and translation is None:
                scale = _vector(item.get("scale"), join_path(ipath, "scale"))
            elif kind == "translation" and scale is not None and translation is None:
                translation = _vector(item.get("translation"), join_path(ipath, "translation"))
            else:
                raise NgffError(
                    join_path(ipath, "type"),
                    f"unexpected transformation {kind!r}: expected one 'scale', "
                    "then at most one 'translation'",
                )
        if scale is None:
            raise NgffError(path, "no 'scale' transformation")
        return cls(scale, translation)


def _vector(v: Any, path: str) -> list[float]:
    if not isinstance(v, list) or not all(is_number(x) for x in v):
        raise NgffError(path, "must be a list of numbers")
    return list(v)


def is_number(x: Any) -> bool:
    """A JSON number (bool is not one, NaN/inf cannot be written as JSON)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def pyramid_transforms(
    scale0: Sequence[float],
    factors: Sequence[Sequence[float]],
    translation0: Sequence[float] | None = None,
) -> list[Transforms]:
    """Scale and translation of every pyramid level (level 0 first).

    ``factors[k]`` is the per-axis downsampling factor from level k to level k+1.
    Level N gets ``scale_N = scale_0 * prod(factors[:N])`` and
    ``translation_N = translation_0 + (scale_N - scale_0) / 2``: with the pixel-centre
    convention (NGFF 0.6 text) the levels of a block-reduced pyramid overlay exactly.
    """
    s0 = [float(s) for s in scale0]
    t0 = [0.0] * len(s0) if translation0 is None else [float(t) for t in translation0]
    if len(t0) != len(s0):
        raise NgffError("translation0", f"has {len(t0)} values, scale0 has {len(s0)}")
    for i, s in enumerate(s0):
        if not math.isfinite(s) or s <= 0:
            raise NgffError(f"scale0[{i}]", f"must be a positive finite number, got {s}")
    out = [Transforms(list(s0), list(t0))]
    cumulative = [1.0] * len(s0)
    for k, f in enumerate(factors):
        if len(f) != len(s0):
            raise NgffError(f"factors[{k}]", f"has {len(f)} values, expected {len(s0)}")
        for i, x in enumerate(f):
            if not is_number(x) or x < 1:
                raise NgffError(f"factors[{k}][{i}]", f"must be a number >= 1, got {x!r}")
        cumulative = [c * x for c, x in zip(cumulative, f, strict=True)]
        scale = [s * c for s, c in zip(s0, cumulative, strict=True)]
        translation = [t + (s - s_0) / 2 for t, s, s_0 in zip(t0, scale, s0, strict=True)]
        out.append(Transforms(scale, translation))
    return out
