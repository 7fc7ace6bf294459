"""Validation of one group's OME-Zarr 0.4/0.5 metadata (:func:`validate`); the on-disk
hierarchy checks built on it are in ``hierarchy.py`` (:func:`validate_path`).

The rules are those of the official JSON schemas (ngff-spec ``schemas/`` of 0.4 and 0.5,
encoded here in code so that every problem carries a precise JSON path and no schema
files are needed at run time) plus the semantic rules the spec text states but a schema
cannot check: axis order and counts, one scale and at most one translation per level in
that order with one value per axis, levels ordered from highest resolution, unique names
and paths, well paths matching rowIndex/columnIndex, and, on disk, array ndim and
``dimension_names``, label dtypes and level shapes, and the existence of every referenced
group and array.

The spec's SHOULDs are warnings. ``strict=True`` means what the official ``strict_*`` schemas
mean: the SHOULD-fields they require (a multiscale's name, type and metadata, image-label
colors, plate and acquisition names and maximumfieldcount, the 0.4 inner versions) become
errors; every other SHOULD stays a warning. One document is judged as the official test suites
judge it, so a fragment (an ``image-label`` alone) is valid; rules about what a group must hold
beside it are checked on disk (``hierarchy.py``). Where a suite case breaks a MUST of the spec
text (0.4 suites: a well path written column/row, a scale shorter than the axes), the text
wins: see tests/ngff/test_ngff_spec_suites.py.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .attributes import OME_KEYS, VERSIONS, detect_version
from .axes import UNITS_BY_TYPE
from .errors import NgffError, join_path
from .paths import check_relative_path
from .transforms import is_number

_ALNUM = re.compile(r"^[A-Za-z0-9]+$")
_WELL_PATH = re.compile(r"^[A-Za-z0-9]+/[A-Za-z0-9]+$")
_HEX_COLOR = re.compile(r"^[0-9A-Fa-f]{6}$")


@dataclass(frozen=True)
class Problem:
    """One finding: the JSON ``path`` of the offending field, a ``message``, and the
    ``node`` (group or array path relative to the validated root; ``""`` for the root)."""

    path: str
    message: str
    node: str = ""

    def __str__(self) -> str:
        return ": ".join(x for x in (self.node, self.path, self.message) if x)

    def to_json(self) -> dict[str, str]:
        return {"node": self.node, "path": self.path, "message": self.message}


@dataclass
class ValidationResult:
    """Outcome of a validation: falsy when there are errors."""

    version: str | None = None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def __bool__(self) -> bool:
        return not self.errors

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def message(self) -> str:
        """One line per error (or ``"valid"``), for people and for ``--json`` output."""
        if not self.errors:
            return "valid" + (f" ({len(self.warnings)} warnings)" if self.warnings else "")
        return "\n".join(str(e) for e in self.errors)

    def to_json(self) -> dict[str, Any]:
        """``{"valid": bool, "message": str}`` (the ngff-spec conformance runner's format),
        plus ``version`` and every error and warning as ``{"node", "path", "message"}``."""
        return {"valid": self.valid, "message": self.message, "version": self.version,
                "errors": [e.to_json() for e in self.errors],
                "warnings": [w.to_json() for w in self.warnings]}

    def raise_for_errors(self) -> None:
        """Raise :class:`NgffError` (a ``ValueError``) naming the first error's JSON path."""
        if self.errors:
            first = self.errors[0]
            more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            raise NgffError(first.path, first.message + more)

    def _extend(self, other: ValidationResult) -> None:
        self.errors.extend(other.errors)
        self.warnings.extend(other.warnings)


def is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _dupes(items: list[Any]) -> list[int]:
    """Indices of items equal (as JSON) to an earlier item."""
    seen: set[str] = set()
    out = []
    for i, x in enumerate(items):
        key = json.dumps(x, sort_keys=True, default=str)
        if key in seen:
            out.append(i)
        seen.add(key)
    return out


class _Checker:
    def __init__(self, version: str, strict: bool, node: str = ""):
        self.version = version
        self.strict = strict
        self.node = node
        self.result = ValidationResult(version)

    def err(self, path: str, message: str) -> None:
        self.result.errors.append(Problem(path, message, self.node))

    def should(self, path: str, message: str) -> None:
        """A SHOULD of the spec text that the official strict schemas do not require: a
        warning, in strict mode too."""
        self.result.warnings.append(Problem(path, message, self.node))

    def strict_required(self, path: str, message: str) -> None:
        """A field the spec says SHOULD be given and the official ``strict_*`` schemas
        require: a warning, or an error in strict mode."""
        (self.result.errors if self.strict else self.result.warnings).append(
            Problem(path, message, self.node))

    def warn(self, path: str, message: str) -> None:
        self.result.warnings.append(Problem(path, message, self.node))

    # -- helpers ---------------------------------------------------------------------------

    def obj(self, v: Any, path: str, what: str = "must be an object") -> bool:
        if not isinstance(v, Mapping):
            self.err(path, what)
            return False
        return True

    def array(self, v: Any, path: str, min_items: int = 0, unique: bool = False) -> bool:
        if not isinstance(v, list):
            self.err(path, "must be a list")
            return False
        if len(v) < min_items:
            self.err(path, f"must have at least {min_items} item{'s' * (min_items > 1)}")
        if unique:
            for i in _dupes(v):
                self.err(join_path(path, i), "duplicate item (items must be unique)")
        return True

    def typed(self, d: Mapping[str, Any], key: str, path: str, check: Any, what: str,
              required: bool = False) -> None:
        p = join_path(path, key)
        if key not in d:
            if required:
                self.err(p, "required field missing")
        elif not check(d[key]):
            self.err(p, f"must be {what}, got {d[key]!r}")

    def inner_version(self, d: Mapping[str, Any], path: str) -> None:
        """The ``version`` inside multiscales/plate/well/image-label: 0.4 only."""
        p = join_path(path, "version")
        if self.version == "0.4":
            if "version" not in d:
                self.strict_required(p, "version '0.4' should be given")
            elif d["version"] != "0.4":
                self.err(p, f"must be '0.4', got {d['version']!r}")
        elif "version" in d and d["version"] != self.version:
            self.warn(p, f"{d['version']!r} differs from ome.version {self.version!r}")

    def relpath(self, v: Any, path: str) -> bool:
        try:
            check_relative_path(v, path)
        except NgffError as e:
            self.err(path, e.message)
            return False
        return True

    # -- multiscales -----------------------------------------------------------------------

    def multiscales(self, ms: Any, path: str) -> None:
        if not self.array(ms, path, min_items=1, unique=True):
            return
        names: dict[str, int] = {}
        for i, m in enumerate(ms):
            self.multiscale(m, join_path(path, i))
            if isinstance(m, Mapping) and isinstance(m.get("name"), str):
                if m["name"] in names:
                    self.warn(join_path(join_path(path, i), "name"),
                              f"same name as multiscales[{names[m['name']]}]")
                names.setdefault(m["name"], i)

    def multiscale(self, m: Any, path: str) -> None:
        if not self.obj(m, path):
            return
        self.inner_version(m, path)
        for key, what in (("name", "a name"), ("type", "the downsampling method"),
                          ("metadata", "details of the downsampling method")):
            if key not in m:
                self.strict_required(join_path(path, key), f"should be given ({what})")
        self.typed(m, "name", path, lambda v: isinstance(v, str), "a string")
        if "type" in m and not isinstance(m["type"], str):
            self.should(join_path(path, "type"), f"should be a string, got {m['type']!r}")
        if "metadata" in m and not isinstance(m["metadata"], Mapping):
            self.should(join_path(path, "metadata"), "should be an object")
        ndim = None
        if "axes" not in m:
            self.err(join_path(path, "axes"), "required field missing")
        else:
            ndim = self.axes(m["axes"], join_path(path, "axes"))
        if "datasets" not in m:
            self.err(join_path(path, "datasets"), "required field missing")
        else:
            axes = m.get("axes") if isinstance(m.get("axes"), list) else []
            names = [a.get("name") if isinstance(a, Mapping) else None for a in axes]
            self.datasets(m["datasets"], join_path(path, "datasets"), ndim, names)
        if "coordinateTransformations" in m:
            self.transforms(m["coordinateTransformations"],
                            join_path(path, "coordinateTransformations"), ndim)

    def axes(self, axes: Any, path: str) -> int | None:
        """Check ``axes``; returns their count if it is usable as the ndim."""
        if not self.array(axes, path):
            return None
        if not 2 <= len(axes) <= 5:
            self.err(path, f"must have 2 to 5 axes, got {len(axes)}")
        seen: dict[str, int] = {}
        kinds: list[str | None] = []
        for i, a in enumerate(axes):
            ap = join_path(path, i)
            if not self.obj(a, ap, "axis must be an object"):
                kinds.append(None)
                continue
            self.typed(a, "name", ap, lambda v: isinstance(v, str), "a string", required=True)
            name = a.get("name")
            if isinstance(name, str):
                if name in seen:
                    self.err(join_path(ap, "name"),
                             f"duplicate axis name {name!r} (also axes[{seen[name]}])")
                seen.setdefault(name, i)
            typ = a.get("type")
            if "type" not in a:
                self.should(join_path(ap, "type"), "should be given (space, time or channel)")
            elif not isinstance(typ, str):
                self.err(join_path(ap, "type"), f"must be a string, got {typ!r}")
                typ = None
            unit = a.get("unit")
            if "unit" in a and not isinstance(unit, str):
                self.err(join_path(ap, "unit"), f"must be a string, got {unit!r}")
            elif isinstance(typ, str) and typ in UNITS_BY_TYPE:
                if unit is None:
                    self.should(join_path(ap, "unit"), f"a {typ} axis should have a unit")
                elif unit not in UNITS_BY_TYPE[typ]:
                    self.should(join_path(ap, "unit"),
                                f"{unit!r} is not a UDUNITS-2 unit for a {typ} axis")
            kinds.append(typ)
        n_space = kinds.count("space")
        if not 2 <= n_space <= 3:
            self.err(path, f"must have 2 or 3 axes of type 'space', got {n_space}")
        if kinds.count("time") > 1:
            self.err(path, "at most one axis may have type 'time'")
        n_other = sum(1 for k in kinds if k not in ("time", "space"))
        if n_other > 1:
            self.err(path, "at most one axis may be of type 'channel', custom or untyped")
        # order: time, then channel/custom, then space
        rank = [0 if k == "time" else 2 if k == "space" else 1 for k in kinds]
        for i in range(1, len(rank)):
            if rank[i] < max(rank[:i]):
                self.err(join_path(path, i),
                         "axes must be ordered time, then channel/custom, then space; "
                         f"axis of type {kinds[i]!r} comes after a later kind")
                break
        space_names = [a.get("name") for a, k in zip(axes, kinds, strict=True) if k == "space"
                       and isinstance(a, Mapping)]
        if sorted(map(str, space_names)) == ["x", "y", "z"] and space_names != ["z", "y", "x"]:
            self.should(path, f"three space axes should be ordered zyx, got {space_names}")
        return len(axes)

    def datasets(self, ds: Any, path: str, ndim: int | None, names: list[Any]) -> None:
        if not self.array(ds, path, min_items=1):
            return
        paths: dict[str, int] = {}
        scales: list[tuple[int, list[float]] | None] = []
        for i, d in enumerate(ds):
            dp = join_path(path, i)
            scales.append(None)
            if not self.obj(d, dp, "dataset must be an object"):
                continue
            if "path" not in d:
                self.err(join_path(dp, "path"), "required field missing")
            elif self.relpath(d["path"], join_path(dp, "path")):
                if d["path"] in paths:
                    self.err(join_path(dp, "path"),
                             f"duplicate path {d['path']!r} (also datasets[{paths[d['path']]}])")
                paths.setdefault(d["path"], i)
            if "coordinateTransformations" not in d:
                self.err(join_path(dp, "coordinateTransformations"), "required field missing")
            else:
                scales[i] = self.transforms(d["coordinateTransformations"],
                                            join_path(dp, "coordinateTransformations"), ndim)
        for i in range(1, len(scales)):
            prev, cur = scales[i - 1], scales[i]
            if prev is None or cur is None or len(prev[1]) != len(cur[1]):
                continue
            for j, (a, b) in enumerate(zip(prev[1], cur[1], strict=True)):
                if b < a:
                    axis = names[j] if j < len(names) else j
                    self.err(join_path(join_path(join_path(path, i), "coordinateTransformations"),
                                       cur[0]) + ".scale",
                             f"scale on axis {axis!r} is {b}, smaller than {a} at the previous "
                             "level: levels must be ordered from highest resolution")
                    break

    def transforms(self, ct: Any, path: str, ndim: int | None) -> tuple[int, list[float]] | None:
        """Check a coordinateTransformations list; returns (index, scale) if the scale is valid."""
        if not self.array(ct, path, min_items=1):
            return None
        scale_at: list[int] = []
        trans_at: list[int] = []
        good_scale = None
        for i, t in enumerate(ct):
            tp = join_path(path, i)
            if not self.obj(t, tp, "transformation must be an object"):
                continue
            kind = t.get("type")
            if kind not in ("scale", "translation"):
                self.err(join_path(tp, "type"),
                         f"must be 'scale' or 'translation', got {kind!r}")
                continue
            (scale_at if kind == "scale" else trans_at).append(i)
            vp = join_path(tp, kind)
            if kind not in t:
                msg = ("parameters given by 'path' are not supported by the schema"
                       if "path" in t else "required field missing")
                self.err(vp, msg)
                continue
            v = t[kind]
            if not isinstance(v, list) or not all(is_number(x) for x in v):
                self.err(vp, f"must be a list of numbers, got {v!r}")
                continue
            if len(v) < 2:
                self.err(vp, "must have at least 2 values")
            elif ndim is not None and len(v) != ndim:
                self.err(vp, f"has {len(v)} values for {ndim} axes")
            elif kind == "scale":
                good_scale = (i, v)
        if len(scale_at) != 1:
            self.err(path, f"must contain exactly one 'scale', got {len(scale_at)}")
        if len(trans_at) > 1:
            self.err(join_path(path, trans_at[1]), "at most one 'translation' is allowed")
        if scale_at and trans_at and trans_at[0] < scale_at[0]:
            self.err(join_path(path, trans_at[0]), "'translation' must come after 'scale'")
        return good_scale if len(scale_at) == 1 else None

    # -- omero -----------------------------------------------------------------------------

    def omero(self, om: Any, path: str) -> None:
        if not self.obj(om, path):
            return
        cp = join_path(path, "channels")
        if "channels" not in om:
            self.err(cp, "required field missing")
            return
        if not self.array(om["channels"], cp):
            return
        for i, c in enumerate(om["channels"]):
            chp = join_path(cp, i)
            if not self.obj(c, chp, "channel must be an object"):
                continue
            # color and window: required by the 0.4 schema, only expected by the 0.5 one
            missing = self.err if self.version == "0.4" else self.should
            if "color" not in c:
                missing(join_path(chp, "color"), "required field missing")
            elif not isinstance(c["color"], str):
                self.err(join_path(chp, "color"), f"must be a string, got {c['color']!r}")
            elif not _HEX_COLOR.match(c["color"]):
                self.should(join_path(chp, "color"),
                            f"should be six hex digits RRGGBB, got {c['color']!r}")
            wp = join_path(chp, "window")
            if "window" not in c:
                missing(wp, "required field missing")
            elif self.obj(c["window"], wp):
                for k in ("start", "end", "min", "max"):
                    self.typed(c["window"], k, wp, is_number, "a number", required=True)
            self.typed(c, "label", chp, lambda v: isinstance(v, str), "a string")
            self.typed(c, "family", chp, lambda v: isinstance(v, str), "a string")
            self.typed(c, "active", chp, lambda v: isinstance(v, bool), "a boolean")

    # -- labels ----------------------------------------------------------------------------

    def labels(self, names: Any, path: str) -> None:
        if not self.array(names, path):
            return
        seen: set[str] = set()
        for i, n in enumerate(names):
            if self.relpath(n, join_path(path, i)):
                if n in seen:
                    self.err(join_path(path, i), f"duplicate label path {n!r}")
                seen.add(n)

    def image_label(self, il: Any, path: str) -> None:
        # A label image group must also have multiscales, but the document alone is judged
        # as the official label suite judges it (an image-label fragment is valid):
        # validate_path, which sees the group, checks the multiscales.
        if not self.obj(il, path):
            return
        self.inner_version(il, path)
        cp = join_path(path, "colors")
        if "colors" not in il:
            self.strict_required(cp, "should be given")
        elif self.array(il["colors"], cp, min_items=1, unique=True):
            seen: dict[Any, int] = {}
            for i, c in enumerate(il["colors"]):
                ip = join_path(cp, i)
                if not self.obj(c, ip, "color must be an object"):
                    continue
                lv = c.get("label-value")
                lp = join_path(ip, "label-value")
                if "label-value" not in c:
                    self.err(lp, "required field missing")
                elif not is_number(lv):
                    self.err(lp, f"must be a number, got {lv!r}")
                else:
                    if not float(lv).is_integer():
                        # 0.5 text: MUST be an integer; 0.4 and the schemas: a number
                        (self.err if self.version != "0.4" else self.should)(
                            lp, f"must be an integer, got {lv!r}")
                    if lv in seen:
                        self.err(lp, f"duplicate label-value {lv!r} (also colors[{seen[lv]}])")
                    seen.setdefault(lv, i)
                if "rgba" in c:
                    v = c["rgba"]
                    if not (isinstance(v, list) and len(v) == 4
                            and all(is_int(x) and 0 <= x <= 255 for x in v)):
                        self.err(join_path(ip, "rgba"),
                                 f"must be 4 integers between 0 and 255, got {v!r}")
        pp = join_path(path, "properties")
        if "properties" in il and self.array(il["properties"], pp, min_items=1, unique=True):
            for i, p in enumerate(il["properties"]):
                ip = join_path(pp, i)
                if self.obj(p, ip, "property must be an object"):
                    self.typed(p, "label-value", ip, is_int, "an integer", required=True)
        sp = join_path(path, "source")
        if "source" in il and self.obj(il["source"], sp):
            self.typed(il["source"], "image", sp, lambda v: isinstance(v, str), "a string")

    # -- HCS -------------------------------------------------------------------------------

    def plate(self, p: Any, path: str) -> None:
        if not self.obj(p, path):
            return
        self.inner_version(p, path)
        if "name" not in p:
            self.strict_required(join_path(path, "name"), "should be given")
        self.typed(p, "name", path, lambda v: isinstance(v, str), "a string")
        if "field_count" not in p:
            self.should(join_path(path, "field_count"), "should be given")
        self.typed(p, "field_count", path, lambda v: is_int(v) and v > 0,
                   "a positive integer")
        axis_names: dict[str, list[str] | None] = {}
        for key in ("rows", "columns"):
            kp = join_path(path, key)
            axis_names[key] = None
            if key not in p:
                self.err(kp, "required field missing")
                continue
            if not self.array(p[key], kp, min_items=1):
                continue
            names: list[str] = []
            for i, item in enumerate(p[key]):
                ip = join_path(kp, i)
                if not self.obj(item, ip):
                    names.append("")
                    continue
                n = item.get("name")
                if "name" not in item:
                    self.err(join_path(ip, "name"), "required field missing")
                elif not isinstance(n, str) or not _ALNUM.match(n):
                    self.err(join_path(ip, "name"), f"must be alphanumeric, got {n!r}")
                elif n in names:
                    self.err(join_path(ip, "name"), f"duplicate name {n!r}")
                elif n.lower() in (x.lower() for x in names):
                    self.should(join_path(ip, "name"),
                                f"{n!r} collides with another name on case-insensitive "
                                "file systems")
                names.append(n if isinstance(n, str) else "")
            axis_names[key] = names
        self.wells(p, path, axis_names["rows"], axis_names["columns"])
        ap = join_path(path, "acquisitions")
        if "acquisitions" in p and self.array(p["acquisitions"], ap):
            ids: set[int] = set()
            for i, a in enumerate(p["acquisitions"]):
                ip = join_path(ap, i)
                if not self.obj(a, ip):
                    continue
                self.typed(a, "id", ip, lambda v: is_int(v) and v >= 0,
                           "a non-negative integer", required=True)
                if is_int(a.get("id")):
                    if a["id"] in ids:
                        self.err(join_path(ip, "id"), f"duplicate acquisition id {a['id']}")
                    ids.add(a["id"])
                for key in ("name", "maximumfieldcount"):
                    if key not in a:
                        self.strict_required(join_path(ip, key), "should be given")
                self.typed(a, "name", ip, lambda v: isinstance(v, str), "a string")
                self.typed(a, "description", ip, lambda v: isinstance(v, str), "a string")
                self.typed(a, "maximumfieldcount", ip, lambda v: is_int(v) and v > 0,
                           "a positive integer")
                for key in ("starttime", "endtime"):
                    self.typed(a, key, ip, lambda v: is_int(v) and v >= 0,
                               "a non-negative integer (epoch seconds)")

    def wells(self, p: Mapping[str, Any], path: str, rows: list[str] | None,
              columns: list[str] | None) -> None:
        wp = join_path(path, "wells")
        if "wells" not in p:
            self.err(wp, "required field missing")
            return
        if not self.array(p["wells"], wp, min_items=1, unique=True):
            return
        seen: dict[str, int] = {}
        for i, w in enumerate(p["wells"]):
            ip = join_path(wp, i)
            if not self.obj(w, ip, "well must be an object"):
                continue
            ok = True
            for key, names in (("rowIndex", rows), ("columnIndex", columns)):
                v = w.get(key)
                if key not in w:
                    self.err(join_path(ip, key), "required field missing")
                    ok = False
                elif not (is_int(v) and v >= 0):
                    self.err(join_path(ip, key), f"must be a non-negative integer, got {v!r}")
                    ok = False
                elif names is not None and v >= len(names):
                    self.err(join_path(ip, key), f"{v} is out of range ({len(names)} entries)")
                    ok = False
            pp = join_path(ip, "path")
            wpath = w.get("path")
            if "path" not in w:
                self.err(pp, "required field missing")
                continue
            if not isinstance(wpath, str) or not _WELL_PATH.match(wpath):
                self.err(pp, f"must be '<row>/<column>' (alphanumeric names), got {wpath!r}")
                continue
            if wpath in seen:
                self.err(pp, f"duplicate well path {wpath!r} (also wells[{seen[wpath]}])")
            seen.setdefault(wpath, i)
            if ok and rows is not None and columns is not None:
                expected = f"{rows[w['rowIndex']]}/{columns[w['columnIndex']]}"
                if wpath != expected:
                    self.err(pp, f"{wpath!r} does not match rowIndex/columnIndex "
                                 f"({expected!r})")

    def well(self, w: Any, path: str) -> None:
        if not self.obj(w, path):
            return
        self.inner_version(w, path)
        ip = join_path(path, "images")
        if "images" not in w:
            self.err(ip, "required field missing")
            return
        if not self.array(w["images"], ip, min_items=1, unique=True):
            return
        seen: set[str] = set()
        for i, im in enumerate(w["images"]):
            imp = join_path(ip, i)
            if not self.obj(im, imp, "image must be an object"):
                continue
            v = im.get("path")
            if "path" not in im:
                self.err(join_path(imp, "path"), "required field missing")
            elif not isinstance(v, str) or not _ALNUM.match(v):
                self.err(join_path(imp, "path"), f"must be alphanumeric, got {v!r}")
            elif v in seen:
                self.err(join_path(imp, "path"), f"duplicate image path {v!r}")
            else:
                seen.add(v)
            self.typed(im, "acquisition", imp, is_int, "an integer")

    # -- bioformats2raw --------------------------------------------------------------------

    def bf2raw(self, ns: Mapping[str, Any], base: str) -> None:
        if "bioformats2raw.layout" in ns:
            v = ns["bioformats2raw.layout"]
            if not (is_number(v) and v == 3):
                self.err(join_path(base, "bioformats2raw.layout"), f"must be 3, got {v!r}")
        if "series" in ns:
            sp = join_path(base, "series")
            if self.array(ns["series"], sp):
                for i, s in enumerate(ns["series"]):
                    if not isinstance(s, str):
                        self.err(join_path(sp, i), f"must be a string, got {s!r}")
                    else:
                        self.relpath(s, join_path(sp, i))


def _version_path(attrs: Mapping[str, Any]) -> str:
    """JSON path of the field :func:`detect_version` takes the version from."""
    ome = attrs.get("ome")
    if isinstance(ome, Mapping):
        return "ome.version"
    ms = attrs.get("multiscales")
    if isinstance(ms, list):
        for i, m in enumerate(ms):
            if isinstance(m, Mapping) and "version" in m:
                return f"multiscales[{i}].version"
    for key in ("plate", "well", "image-label"):
        v = attrs.get(key)
        if isinstance(v, Mapping) and "version" in v:
            return f"{key}.version"
    return "version"


def validate(attributes: Any, version: str | None = None, strict: bool = False,
             *, _node: str = "") -> ValidationResult:
    """Validate one group's attributes (a ``zarr.json`` ``attributes`` or ``.zattrs`` dict).

    ``version`` ("0.4"/"0.5") is detected when not given. Returns a
    :class:`ValidationResult`, falsy when invalid, with ``.errors`` and ``.warnings``
    (each a :class:`Problem` with the JSON path of the offending field). ``strict``: also
    fail where the official strict schemas do (see the module docstring); other SHOULDs
    stay warnings.
    """
    if not isinstance(attributes, Mapping):
        res = ValidationResult(version)
        res.errors.append(Problem("", "attributes must be a JSON object", _node))
        return res
    detected = detect_version(attributes)
    if version is None:
        version = detected
    if version is None:
        res = ValidationResult(None)
        res.errors.append(Problem("", "no OME-Zarr metadata found", _node))
        return res
    if version not in VERSIONS:
        res = ValidationResult(version)
        res.errors.append(Problem(_version_path(attributes),
                                  f"unsupported OME-Zarr version {version!r}; "
                                  f"this validator knows {', '.join(VERSIONS)}", _node))
        return res
    c = _Checker(version, strict, _node)
    if detected is not None and detected != version:
        c.err(_version_path(attributes),
              f"metadata says version {detected!r}, expected {version!r}")
    if version == "0.4":
        ns: Mapping[str, Any] = attributes
        base = ""
        if isinstance(attributes.get("ome"), Mapping) and "version" in attributes["ome"]:
            c.err("ome.version", "0.4 metadata lives at the top level, not under 'ome' "
                                 "(which is for 0.5 and later)")
        elif "ome" in attributes:
            c.warn("ome", "an 'ome' key in 0.4 metadata is ignored")
    else:
        if not c.obj(attributes.get("ome"), "ome",
                     "missing or not an object (0.5 keeps its metadata under 'ome')"):
            return c.result
        ns = attributes["ome"]
        base = "ome"
        if ns.get("version") != version:
            c.err("ome.version", f"must be {version!r}, got {ns.get('version')!r}")
        for k in OME_KEYS:
            if k in attributes:
                c.warn(join_path("", k), "0.4-style metadata next to 0.5 metadata is ignored")
    if not any(k in ns for k in OME_KEYS):
        c.err(base, "no OME-Zarr metadata (multiscales, labels, plate, well, ...) found")
    if "multiscales" in ns:
        c.multiscales(ns["multiscales"], join_path(base, "multiscales"))
    if "omero" in ns:
        c.omero(ns["omero"], join_path(base, "omero"))
    if "labels" in ns:
        c.labels(ns["labels"], join_path(base, "labels"))
    if "image-label" in ns:
        c.image_label(ns["image-label"], join_path(base, "image-label"))
    if "plate" in ns:
        c.plate(ns["plate"], join_path(base, "plate"))
    if "well" in ns:
        c.well(ns["well"], join_path(base, "well"))
    c.bf2raw(ns, base)
    return c.result
