"""High-content screening: ``plate`` (rows, columns, wells, acquisitions) and ``well``."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import NgffError, join_path
from .paths import check_relative_path


@dataclass
class WellRef:
    """A well of a plate: ``path`` is exactly ``"<row name>/<column name>"``."""

    path: str
    row_index: int
    column_index: int

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "rowIndex": self.row_index, "columnIndex": self.column_index}


@dataclass
class Plate:
    rows: list[str]
    columns: list[str]
    wells: list[WellRef]
    name: str | None = None
    field_count: int | None = None
    acquisitions: list[dict[str, Any]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Write plate.version in 0.5 too: the 0.5 spec text says the plate MUST have it (the
    # 0.5 schema and examples do not, 0.6 dropped it) and ome-zarr-models warns without it.
    inner_version: bool = True

    def to_dict(self, version: str) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if version == "0.4" or self.inner_version:
            d["version"] = version
        if self.name is not None:
            d["name"] = self.name
        if self.acquisitions is not None:
            d["acquisitions"] = [dict(a) for a in self.acquisitions]
        d["rows"] = [{"name": r} for r in self.rows]
        d["columns"] = [{"name": c} for c in self.columns]
        d["wells"] = [w.to_dict() for w in self.wells]
        if self.field_count is not None:
            d["field_count"] = self.field_count
        d.update(self.extra)
        return d

    @classmethod
    def from_dict(cls, d: Any, path: str = "plate") -> Plate:
        if not isinstance(d, Mapping):
            raise NgffError(path, "must be an object")

        def names(key: str) -> list[str]:
            v = d.get(key)
            if not isinstance(v, list):
                raise NgffError(join_path(path, key), "must be a list")
            out = []
            for i, item in enumerate(v):
                if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
                    raise NgffError(join_path(join_path(path, key), i),
                                    "must be an object with a string name")
                out.append(item["name"])
            return out

        rows, columns = names("rows"), names("columns")
        wells_raw = d.get("wells")
        if not isinstance(wells_raw, list):
            raise NgffError(join_path(path, "wells"), "must be a list")
        wells = []
        for i, w in enumerate(wells_raw):
            wpath = join_path(join_path(path, "wells"), i)
            if not isinstance(w, Mapping):
                raise NgffError(wpath, "well must be an object")
            for k in ("rowIndex", "columnIndex"):
                if not isinstance(w.get(k), int) or isinstance(w.get(k), bool):
                    raise NgffError(join_path(wpath, k), "must be an integer")
            p = check_relative_path(w.get("path"), join_path(wpath, "path"))
            wells.append(WellRef(p, w["rowIndex"], w["columnIndex"]))
        extra = {k: v for k, v in d.items() if k not in
                 ("version", "name", "acquisitions", "rows", "columns", "wells", "field_count")}
        return cls(rows, columns, wells, d.get("name"), d.get("field_count"),
                   d.get("acquisitions"), extra, inner_version="version" in d)


@dataclass
class WellImage:
    path: str
    acquisition: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"path": self.path}
        if self.acquisition is not None:
            d["acquisition"] = self.acquisition
        return d


@dataclass
class Well:
    images: list[WellImage]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, version: str) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if version == "0.4":
            d["version"] = "0.4"
        d["images"] = [im.to_dict() for im in self.images]
        d.update(self.extra)
        return d

    @classmethod
    def from_dict(cls, d: Any, path: str = "well") -> Well:
        if not isinstance(d, Mapping) or not isinstance(d.get("images"), list):
            raise NgffError(join_path(path, "images"), "must be a list")
        images = []
        for i, im in enumerate(d["images"]):
            ipath = join_path(join_path(path, "images"), i)
            if not isinstance(im, Mapping):
                raise NgffError(ipath, "image must be an object")
            p = check_relative_path(im.get("path"), join_path(ipath, "path"))
            images.append(WellImage(p, im.get("acquisition")))
        extra = {k: v for k, v in d.items() if k not in ("version", "images")}
        return cls(images, extra)


def build_plate(
    rows: Sequence[str],
    columns: Sequence[str],
    wells: Sequence[str],
    *,
    name: str | None = None,
    field_count: int | None = None,
    acquisitions: Sequence[Mapping[str, Any]] | None = None,
) -> Plate:
    """A plate whose ``wells`` are given as ``"B/3"`` paths; indices are looked up."""
    wrefs = []
    for i, w in enumerate(wells):
        parts = w.split("/") if isinstance(w, str) else []
        if len(parts) != 2 or parts[0] not in rows or parts[1] not in columns:
            raise NgffError(f"wells[{i}]", f"{w!r} is not '<row>/<column>' of the given names")
        wrefs.append(WellRef(w, list(rows).index(parts[0]), list(columns).index(parts[1])))
    acq = [dict(a) for a in acquisitions] if acquisitions is not None else None
    return Plate(list(rows), list(columns), wrefs, name, field_count, acq)


def build_well(paths: Sequence[str], acquisitions: Sequence[int] | None = None) -> Well:
    """A well with field-of-view image groups ``paths`` (and their acquisition ids)."""
    if acquisitions is not None and len(acquisitions) != len(paths):
        raise NgffError("acquisitions", f"has {len(acquisitions)} entries for {len(paths)} images")
    acq = acquisitions if acquisitions is not None else [None] * len(paths)
    return Well([WellImage(p, a) for p, a in zip(paths, acq, strict=True)])
