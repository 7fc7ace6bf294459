"""Describe an OME-Zarr hierarchy (or a plain zarr array): what ``omezarr-fast info`` prints."""
from __future__ import annotations

from typing import Any

import zarr

from omezarr_fast import ngff
from omezarr_fast.errors import UnsafePathError
from omezarr_fast.store import Location, location

__all__ = ["describe", "format_description", "validate_hierarchy"]


def validate_hierarchy(path, *, strict: bool = False, storage_options=None) -> ngff.ValidationResult:
    """:func:`omezarr_fast.ngff.validate_path` of the hierarchy at ``path``: a directory (or
    its zarr.json/.zattrs), a URL or a zarr store (see :func:`omezarr_fast.open_image`).
    Only JSON metadata is read; FileNotFoundError when nothing is there."""
    loc = location(path, storage_options=storage_options)
    if loc.is_local:
        if not loc.local_path.exists():
            raise FileNotFoundError(f"{loc}: no such file or directory")
        return ngff.validate_path(loc.local_path, strict=strict)
    return loc.validate(strict=strict)


def _codec_text(c: Any) -> str:
    if hasattr(c, "to_dict"):
        d = c.to_dict()
        conf = d.get("configuration") or {}
    elif hasattr(c, "get_config"):
        d = dict(c.get_config())
        conf = {k: v for k, v in d.items() if k != "id"}
        d = {"name": d.get("id")}
    else:
        return type(c).__name__
    keep = {k: v for k, v in conf.items() if k in ("level", "clevel", "cname", "shuffle")}
    return d.get("name", "?") + ("(" + ",".join(f"{k}={v}" for k, v in keep.items()) + ")"
                                  if keep else "")


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _zarr_children(path: Location) -> list[str]:
    """Names of the zarr groups and arrays directly inside ``path`` (the first few)."""
    out = []
    for name in path.children()[:16]:
        try:
            child = path.child(name)
        except ValueError:
            continue
        if any(child.exists_key(f) for f in ("zarr.json", ".zarray", ".zgroup")):
            out.append(name)
    return out


def _holding(path: Location) -> str:
    children = _zarr_children(path)
    if not children:
        return ""
    shown = ", ".join(children[:8]) + (", ..." if len(children) > 8 else "")
    return f"; it holds {shown} (an interrupted write?)"


def _node(path: Location) -> tuple[int, str, dict[str, Any]]:
    """``(zarr_format, node_type, attributes)`` from the JSON metadata alone, or a ValueError
    that says in one line what is there instead."""
    try:
        zarr_format, node_type, attrs, _ = path.node()
    except FileNotFoundError:
        raise ValueError(f"{path}: no zarr metadata (zarr.json, .zgroup or .zarray)"
                         f"{_holding(path)}") from None
    return zarr_format, node_type, attrs


def _array(path: Location) -> dict[str, Any]:
    try:
        a = zarr.open_array(path.open(), mode="r")
    except Exception as e:  # noqa: BLE001 -- zarr raises pydantic, KeyError, ValueError, ...
        raise ValueError(f"{path}: zarr cannot open the array: {_first_line(e)}") from None
    nbytes = a.nbytes
    disk = path.size()
    return {
        "path": str(path), "zarr_format": a.metadata.zarr_format, "shape": list(a.shape),
        "dtype": str(a.dtype), "chunks": list(a.chunks),
        "shards": list(a.shards) if a.shards is not None else None,
        "codecs": [_codec_text(c) for c in a.compressors],
        "bytes": int(nbytes), "bytes_on_disk": disk,   # None: not listable (plain HTTP)
        "ratio": round(nbytes / disk, 2) if disk else None,
    }


def _level(path: Location, index: int, ds: ngff.Dataset) -> dict[str, Any]:
    lpath = path.child(ds.path, f"multiscales[0].datasets[{index}].path")
    lpath.check()
    if not lpath.exists():
        raise ValueError(f"{path}: level {index} ({ds.path!r}) is in the metadata but not on "
                         "disk (an interrupted write?)")
    node_type = _node(lpath)[1]
    if node_type != "array":
        raise ValueError(f"{lpath}: level {index} is a zarr {node_type}, not an array")
    level = _array(lpath)
    level["level_path"] = ds.path
    level["scale"] = ds.transforms.scale
    level["translation"] = ds.transforms.translation
    return level


def _part(path: Location) -> dict[str, Any]:
    """The description of a node inside the one asked about (a label, a plate's field): a
    broken one is reported in place instead of hiding everything else. A path that leads
    out of the root is refused outright, as everywhere (safepath)."""
    try:
        return _describe(path)
    except UnsafePathError:
        raise
    except (ValueError, OSError) as e:
        return {"path": str(path), "kind": "error", "error": _first_line(e)}


def describe(path, *, storage_options=None) -> dict[str, Any]:
    """A JSON-able description of the node at ``path`` (a directory, URL or zarr store, see
    :func:`omezarr_fast.open_image`) and what it contains.

    Raises FileNotFoundError when nothing is at ``path``, UnsafePathError when something
    it references resolves outside it, and a one-line ValueError when what is there cannot
    be described (no zarr metadata, invalid JSON, unparsable OME metadata, a level missing
    on disk). A broken label image or plate field is described as an error in place.
    """
    loc = location(path, storage_options=storage_options)
    if loc.is_local:
        p = loc.local_path
        if p.name in ("zarr.json", ".zattrs", ".zgroup", ".zarray") and p.is_file():
            loc = location(p.parent)
    loc = loc.rooted()
    if not loc.exists():
        raise FileNotFoundError(f"{loc}: no such file or directory")
    return _describe(loc)


def _describe(path: Location) -> dict[str, Any]:
    """describe() of ``path``, every file opened checked to lie inside its root."""
    path.check()
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    _zarr_format, node_type, attrs = _node(path)
    if node_type == "array":
        return {"kind": "array", **_array(path)}
    version = ngff.detect_version(attrs)
    if version is None:
        raise ValueError(f"{path}: a zarr group without OME-Zarr metadata{_holding(path)}")
    try:
        meta = ngff.parse_attributes(attrs)
    except ngff.NgffError as e:
        raise ValueError(f"{path}: unreadable OME-Zarr {version} metadata: {e}") from None
    out: dict[str, Any] = {"path": str(path), "version": version}
    if meta.multiscales:
        ms = meta.multiscales[0]
        out["kind"] = "label image" if meta.image_label is not None else "image"
        out["name"] = ms.name
        out["axes"] = [{"name": a.name, "type": a.type, "unit": a.unit} for a in ms.axes]
        out["method"] = ms.type
        out["levels"] = [_level(path, i, ds) for i, ds in enumerate(ms.datasets)]
        if meta.omero is not None:
            out["channels"] = [c.label for c in meta.omero.channels]
        lp = path.child("labels")
        if lp.is_node():
            lp.check()
            try:
                names = lp.metadata().labels or []
            except (ValueError, OSError):
                names = []
            out["labels"] = [_part(lp.child(n, "labels")) for n in names]
    elif meta.plate is not None:
        out.update(_plate(path, meta.plate))
    elif meta.well is not None:
        out["kind"] = "well"
        out["fields"] = [{"path": im.path, "acquisition": im.acquisition,
                          "image": _part(path.child(im.path, "well.images.path"))}
                         for im in meta.well.images]
    elif meta.labels is not None:
        out["kind"] = "labels"
        out["labels"] = list(meta.labels)
    elif meta.bioformats2raw_layout is not None:
        out["kind"] = "bioformats2raw"
        try:
            ome = path.child("OME")
            ome.check()
            out["series"] = list(ome.metadata().series or [])
        except (ValueError, OSError):
            out["series"] = [n for n in path.children() if n.isdigit()]
    else:
        out["kind"] = "group"
    return out


def _plate(path: Location, plate: ngff.Plate) -> dict[str, Any]:
    """A plate: its rows, columns and acquisitions, and every well's fields with their images."""
    wells = []
    for w in plate.wells:
        well: dict[str, Any] = {"path": w.path, "row": plate.rows[w.row_index]
                                if w.row_index < len(plate.rows) else None,
                                "column": plate.columns[w.column_index]
                                if w.column_index < len(plate.columns) else None}
        wpath = path.child(w.path, "plate.wells.path")
        wpath.check()
        try:
            images = wpath.metadata().well
            if images is None:
                raise ValueError("no 'well' metadata")
        except (ValueError, OSError) as e:
            well["error"] = f"{wpath}: {_first_line(e)}"
            wells.append(well)
            continue
        well["fields"] = [{"path": im.path, "acquisition": im.acquisition,
                           "image": _part(wpath.child(im.path, "well.images.path"))}
                          for im in images.images]
        wells.append(well)
    return {"kind": "plate", "name": plate.name, "rows": list(plate.rows),
            "columns": list(plate.columns), "field_count": plate.field_count,
            "acquisitions": [dict(a) for a in plate.acquisitions or [] if isinstance(a, dict)],
            "wells": wells}


def _total(sizes) -> int | None:
    """The sum, or None when a size is unknown (an HTTP server cannot list its objects)."""
    sizes = list(sizes)
    return None if any(n is None for n in sizes) else sum(sizes)


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _tuple(v) -> str:
    return "-" if v is None else "(" + ", ".join(str(x) for x in v) + ")"


def format_description(d: dict[str, Any], indent: str = "") -> str:
    """Plain-text rendering of :func:`describe` (one node per block, levels as a table)."""
    lines = []
    if d["kind"] == "error":
        return f"{indent}{d['path']}: error: {d['error']}"
    if d["kind"] == "array":
        lines.append(f"{indent}{d['path']}: zarr v{d['zarr_format']} array")
        lines += _table(*_level_rows([d], with_path=False), indent + "  ")
        return "\n".join(lines)
    head = f"{indent}{d['path']}: OME-Zarr {d['version']} {d['kind']}"
    if d.get("name"):
        head += f" {d['name']!r}"
    lines.append(head)
    if "axes" in d:
        axes = " ".join(a["name"] + (f"[{a['unit']}]" if a.get("unit") else "") for a in d["axes"])
        lines.append(f"{indent}  axes: {axes}" + (f"; method: {d['method']}" if d.get("method") else ""))
        if d.get("channels"):
            lines.append(f"{indent}  channels: {', '.join(str(c) for c in d['channels'])}")
        lines += _table(*_level_rows(d["levels"], with_path=True), indent + "  ")
        total = _total(lv["bytes_on_disk"] for lv in d["levels"])
        lines.append(f"{indent}  total on disk: {_size(total)}")
        for lab in d.get("labels", []):
            lines.append(format_description(lab, indent + "  "))
    if d["kind"] == "plate":
        lines += _plate_lines(d, indent + "  ")
    if d["kind"] == "well":
        fields = [("", f) for f in d["fields"]]
        lines.append(f"{indent}  fields: {len(fields)}")
        lines += _fields_table(fields, indent + "  ", with_well=False)
    if "series" in d:
        lines.append(f"{indent}  series: {', '.join(d['series'])}")
    if d["kind"] == "labels":
        lines.append(f"{indent}  labels: {', '.join(d['labels'])}")
    return "\n".join(lines)


def _names(names: list[str]) -> str:
    return f"{', '.join(names)} ({len(names)})" if len(names) <= 24 else \
        f"{', '.join(names[:12])}, ..., {names[-1]} ({len(names)})"


def _plate_lines(d: dict[str, Any], indent: str) -> list[str]:
    fields = [(w["path"], f) for w in d["wells"] for f in w.get("fields", [])]
    per_well = f" (field_count {d['field_count']})" if d.get("field_count") else ""
    lines = [f"{indent}rows: {_names(d['rows'])}",
             f"{indent}columns: {_names(d['columns'])}",
             f"{indent}wells: {len(d['wells'])} of {len(d['rows']) * len(d['columns'])}; "
             f"fields: {len(fields)}{per_well}"]
    if d["acquisitions"]:
        acq = ", ".join(str(a.get("id")) + (f" {a['name']!r}" if a.get("name") else "")
                        for a in d["acquisitions"])
        lines.append(f"{indent}acquisitions: {acq}")
    lines += _fields_table(fields, indent, with_well=True)
    for w in d["wells"]:
        if "error" in w:
            lines.append(f"{indent}well {w['path']}: error: {w['error']}")
    return lines


def _fields_table(fields, indent: str, with_well: bool) -> list[str]:
    """One row per field image: where it is, its axes and levels (level 0 .. smallest)."""
    header = (["well"] if with_well else []) + [
        "field", "acquisition", "axes", "levels", "shape (level 0 .. last)", "dtype", "chunks",
        "shards", "codecs", "on disk"]
    rows, errors = [], []
    total: int | None = 0
    for well, f in fields:
        img = f["image"]
        where = ([well] if with_well else []) + [
            f["path"], "-" if f.get("acquisition") is None else str(f["acquisition"])]
        if img["kind"] == "error":
            errors.append(f"{indent}{img['path']}: error: {img['error']}")
            continue
        levels = img.get("levels") or []
        if not levels:
            rows.append(where + [img["kind"]] + [""] * (len(header) - len(where) - 1))
            continue
        first, last = levels[0], levels[-1]
        shapes = _tuple(first["shape"]) + ("" if len(levels) == 1 else f" .. {_tuple(last['shape'])}")
        disk = _total(lv["bytes_on_disk"] for lv in levels)
        total = _total([total, disk])
        rows.append(where + ["".join(a["name"] for a in img["axes"]), str(len(levels)), shapes,
                             first["dtype"], _tuple(first["chunks"]), _tuple(first["shards"]),
                             ",".join(first["codecs"]) or "none", _size(disk)])
    out = _table(header, rows, indent) if rows else []
    if rows:
        out.append(f"{indent}total on disk: {_size(total)}")
    return out + errors


def _level_rows(levels, with_path):
    header = (["level"] if with_path else []) + ["shape", "dtype", "chunks", "shards", "codecs",
                                                 "on disk", "ratio"]
    rows = []
    for lv in levels:
        rows.append(([lv["level_path"]] if with_path else []) + [
            _tuple(lv["shape"]), lv["dtype"], _tuple(lv["chunks"]), _tuple(lv["shards"]),
            ",".join(lv["codecs"]) or "none", _size(lv["bytes_on_disk"]),
            "-" if lv["ratio"] is None else f"{lv['ratio']:.2f}"])
    return header, rows


def _table(header, rows, indent):
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    return [indent + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
            for r in [header] + rows]
