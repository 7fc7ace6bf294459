"""Units as users and file formats spell them -> the UDUNITS-2 names NGFF expects.

OME-XML writes symbols ("µm", "nm", "ms"), ImageJ writes "micron", "um" or
"\\u00B5m", people write "microns" or "micrometres". NGFF wants UDUNITS-2
names ("micrometer", "millisecond"). Symbols are case-sensitive ("Mm" is a
megameter, "mm" a millimeter); names are not.
"""
from __future__ import annotations

from omezarr_fast.inputs.errors import InputError

# SI prefixes: symbol -> name. Both micro signs (U+00B5, U+03BC) and the ASCII "u".
_PREFIXES = {
    "Y": "yotta", "Z": "zetta", "E": "exa", "P": "peta", "T": "tera", "G": "giga", "M": "mega",
    "k": "kilo", "h": "hecto", "da": "deca", "d": "deci", "c": "centi", "m": "milli",
    "\u00b5": "micro", "\u03bc": "micro", "u": "micro", "n": "nano", "p": "pico", "f": "femto",
    "a": "atto", "z": "zepto", "y": "yocto",
}
_BASES = {"m": ("meter", "space"), "s": ("second", "time")}

# Names and symbols that are not an SI prefix + base, all lower case.
_SPECIAL = {
    "micron": "micrometer", "microns": "micrometer", "\\u00b5m": "micrometer",
    "\u00c5": "angstrom", "\u00e5": "angstrom", "\u212b": "angstrom",
    "in": "inch", "inches": "inch", "ft": "foot", "feet": "foot", "yd": "yard", "mi": "mile",
    "pc": "parsec", "sec": "second", "secs": "second", "min": "minute", "mins": "minute",
    "h": "hour", "hr": "hour", "hrs": "hour", "d": "day", "days": "day",
    "usec": "microsecond", "msec": "millisecond", "nsec": "nanosecond",
}
# "No physical unit": ImageJ's "pixel", OME's "pixel" and "reference frame".
_NO_UNIT = {"", "pixel", "pixels", "px", "reference frame", "referenceframe", "none"}

SPACE = "space"
TIME = "time"


def _names() -> dict[str, str]:
    names = {}
    for name, kind in _BASES.values():
        names[name] = kind
        for pname in set(_PREFIXES.values()):
            names[pname + name] = kind
    for name in ("angstrom", "inch", "foot", "yard", "mile", "parsec"):
        names[name] = SPACE
    for name in ("minute", "hour", "day"):
        names[name] = TIME
    return names


# Every name we produce, with its kind. "decameter" is UDUNITS-2 but not in NGFF's list;
# the NGFF validator warns about it, as it should.
UNIT_KINDS = _names()


def _lookup(text: str) -> str | None:
    if text in _SPECIAL:
        return _SPECIAL[text]
    low = text.lower()
    if low in _SPECIAL and len(text) > 1:   # "Micron", "SEC"; one-letter symbols stay case-sensitive
        return _SPECIAL[low]
    # Names: "Micrometres", "nanometers", "second"
    name = low.replace("metre", "meter")
    if name in UNIT_KINDS:
        return name
    if name.endswith("s") and name[:-1] in UNIT_KINDS:
        return name[:-1]
    # Symbols: prefix + base, case-sensitive ("ms", "µm", "nm", "Mm")
    for base, (bname, _) in _BASES.items():
        if text == base:
            return bname
        if text.endswith(base) and text[:-len(base)] in _PREFIXES:
            return _PREFIXES[text[:-len(base)]] + bname
    return None


def normalize_unit(text: str | None, kind: str | None = None, what: str = "unit") -> str | None:
    """The UDUNITS-2 name for ``text`` ("µm", "um", "micron" -> "micrometer"); None for no unit.

    ``kind`` ("space" or "time") also checks that the unit measures that.
    Raises :class:`InputError` naming ``what`` for a unit it does not know.
    """
    if text is None:
        return None
    if not isinstance(text, str):
        raise InputError(f"{what}: a unit must be a string, got {text!r}")
    t = text.strip()
    if t.lower() in _NO_UNIT:
        return None
    name = _lookup(t)
    if name is None:
        raise InputError(f"{what}: unknown unit {text!r}; expected a UDUNITS-2 name such as "
                         f"micrometer, nanometer, millimeter, second or millisecond")
    if kind is not None and UNIT_KINDS[name] != kind:
        raise InputError(f"{what}: {text!r} ({name}) is not a unit of {kind}")
    return name
