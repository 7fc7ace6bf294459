"""Axes of a multiscale image: name, type and UDUNITS-2 unit."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import NgffError, join_path

SPACE_UNITS = frozenset(
    "angstrom attometer centimeter decimeter exameter femtometer foot gigameter hectometer "
    "inch kilometer megameter meter micrometer mile millimeter nanometer parsec petameter "
    "picometer terameter yard yoctometer yottameter zeptometer zettameter".split()
)
TIME_UNITS = frozenset(
    "attosecond centisecond day decisecond exasecond femtosecond gigasecond hectosecond "
    "hour kilosecond megasecond microsecond millisecond minute nanosecond petasecond "
    "picosecond second terasecond yoctosecond yottasecond zeptosecond zettasecond".split()
)
UNITS_BY_TYPE: dict[str, frozenset[str]] = {"space": SPACE_UNITS, "time": TIME_UNITS}
AXIS_TYPES = ("time", "channel", "space")

# Types guessed from conventional axis names when the caller gives none.
_TYPE_BY_NAME = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}


@dataclass
class Axis:
    name: str
    type: str | None = None
    unit: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name}
        if self.type is not None:
            d["type"] = self.type
        if self.unit is not None:
            d["unit"] = self.unit
        d.update(self.extra)
        return d

    @classmethod
    def from_dict(cls, d: Any, path: str = "axes") -> Axis:
        if not isinstance(d, Mapping):
            raise NgffError(path, "axis must be an object")
        if not isinstance(d.get("name"), str):
            raise NgffError(join_path(path, "name"), "axis name must be a string")
        extra = {k: v for k, v in d.items() if k not in ("name", "type", "unit")}
        return cls(d["name"], d.get("type"), d.get("unit"), extra)


def make_axes(
    names: str | Sequence[str],
    units: Mapping[str, str] | Sequence[str | None] | None = None,
    types: Mapping[str, str] | Sequence[str | None] | None = None,
) -> list[Axis]:
    """Axes from names (``"tczyx"`` or ``["c", "y", "x"]``), with optional units and types.

    ``units``/``types`` are mappings by axis name or sequences parallel to ``names``.
    Types default from the conventional names t/c/z/y/x; other names need an explicit
    type or stay untyped (a custom axis).
    """
    names = list(names)

    def per_axis(values: Any, what: str) -> list[Any]:
        if values is None:
            return [None] * len(names)
        if isinstance(values, Mapping):
            unknown = set(values) - set(names)
            if unknown:
                raise NgffError(what, f"unknown axis names {sorted(unknown)}")
            return [values.get(n) for n in names]
        values = list(values)
        if len(values) != len(names):
            raise NgffError(what, f"expected {len(names)} values, got {len(values)}")
        return values

    unit_list = per_axis(units, "units")
    type_list = per_axis(types, "types")
    axes = []
    for name, unit, typ in zip(names, unit_list, type_list, strict=True):
        axes.append(Axis(name, typ if typ is not None else _TYPE_BY_NAME.get(name), unit))
    return axes


_PREFIX_POWERS = {
    "yocto": -24, "zepto": -21, "atto": -18, "femto": -15, "pico": -12, "nano": -9, "micro": -6,
    "milli": -3, "centi": -2, "deci": -1, "": 0, "deca": 1, "hecto": 2, "kilo": 3, "mega": 6,
    "giga": 9, "tera": 12, "peta": 15, "exa": 18, "zetta": 21, "yotta": 24,
}
_OTHER_UNITS = {"angstrom": 1e-10, "inch": 0.0254, "foot": 0.3048, "yard": 0.9144,
                "mile": 1609.344, "parsec": 3.0856775814913673e16,
                "minute": 60.0, "hour": 3600.0, "day": 86400.0}


def unit_scale(unit: str | None) -> float | None:
    """The size of one ``unit`` (a UDUNITS-2 name) in meters or seconds; None for an
    unknown unit or None. Lets pixel sizes given in different units be compared."""
    if unit is None:
        return None
    if unit in _OTHER_UNITS:
        return _OTHER_UNITS[unit]
    for base in ("meter", "second"):
        if unit.endswith(base) and unit[:-len(base)] in _PREFIX_POWERS:
            return 10.0 ** _PREFIX_POWERS[unit[:-len(base)]]
    return None
