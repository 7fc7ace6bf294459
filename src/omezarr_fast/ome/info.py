"""Describe an OME-Zarr hierarchy (or a plain zarr array): what ``omezarr-fast info`` prints."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import zarr

from omezarr_fast import ngff, safepath

__all__ = ["describe", "format_description"]


def _disk_bytes(path: Path) -> int:
    """Bytes of the files under one array directory."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.stat(os.path.join(root, f), follow_symlinks=False).st_size
            except OSError:
                pass
    return total


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


def _array(path: Path) -> dict[str, Any]:
    a = zarr.open_array(str(path), mode="r")
    nbytes = a.nbytes
    disk = _disk_bytes(path)
    return {
        "path": str(path), "zarr_format": a.metadata.zarr_format, "shape": list(a.shape),
        "dtype": str(a.dtype), "chunks": list(a.chunks),
        "shards": list(a.shards) if a.shards is not None else None,
        "codecs": [_codec_text(c) for c in a.compressors],
        "bytes": int(nbytes), "bytes_on_disk": disk,
        "ratio": round(nbytes / disk, 2) if disk else None,
    }


def describe(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A JSON-able description of the node at ``path`` and what it contains."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    safepath.check_node(path, path)
    try:
        attrs = ngff.read_attributes(path)
    except (ValueError, OSError):
        attrs = None
    version = ngff.detect_version(attrs) if attrs else None
    if version is None:
        try:
            return {"kind": "array", **_array(path)}
        except Exception as e:  # noqa: BLE001 -- zarr raises several types for "not an array"
            raise ValueError(f"{path}: neither OME-Zarr metadata nor a zarr array ({e})") from None
    meta = ngff.parse_attributes(attrs)
    out: dict[str, Any] = {"path": str(path), "version": version}
    if meta.multiscales:
        ms = meta.multiscales[0]
        out["kind"] = "label image" if meta.image_label is not None else "image"
        out["name"] = ms.name
        out["axes"] = [{"name": a.name, "type": a.type, "unit": a.unit} for a in ms.axes]
        out["method"] = ms.type
        out["levels"] = []
        for ds in ms.datasets:
            safepath.check_node(path, path / ds.path)
            level = _array(path / ds.path)
            level["level_path"] = ds.path
            level["scale"] = ds.transforms.scale
            level["translation"] = ds.transforms.translation
            out["levels"].append(level)
        if meta.omero is not None:
            out["channels"] = [c.label for c in meta.omero.channels]
        lp = path / "labels"
        if lp.is_dir():
            try:
                safepath.check_node(path, lp)
                names = ngff.read_metadata(lp).labels or []
            except (ValueError, OSError):
                names = []
            for n in names:
                safepath.check_node(path, lp / n)
            out["labels"] = [describe(lp / n) for n in names]
    elif meta.plate is not None:
        out["kind"] = "plate"
        out["name"] = meta.plate.name
        out["wells"] = [w.path for w in meta.plate.wells]
    elif meta.well is not None:
        out["kind"] = "well"
        out["images"] = [i.path for i in meta.well.images]
    elif meta.labels is not None:
        out["kind"] = "labels"
        out["labels"] = list(meta.labels)
    elif meta.bioformats2raw_layout is not None:
        out["kind"] = "bioformats2raw"
        try:
            out["series"] = list(ngff.read_metadata(path / "OME").series or [])
        except (ValueError, OSError):
            out["series"] = [p.name for p in sorted(path.iterdir()) if p.name.isdigit()]
    else:
        out["kind"] = "group"
    return out


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
    if d["kind"] == "array":
        lines.append(f"{indent}{d['path']}: zarr v{d['zarr_format']} array")
        lines += _level_table([d], indent + "  ", with_path=False)
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
        lines += _level_table(d["levels"], indent + "  ", with_path=True)
        total = sum(lv["bytes_on_disk"] for lv in d["levels"])
        lines.append(f"{indent}  total on disk: {_size(total)}")
        for lab in d.get("labels", []):
            lines.append(format_description(lab, indent + "  "))
    for key in ("wells", "images", "series"):
        if key in d:
            lines.append(f"{indent}  {key}: {', '.join(d[key])}")
    if d["kind"] == "labels":
        lines.append(f"{indent}  labels: {', '.join(d['labels'])}")
    return "\n".join(lines)


def _level_table(levels, indent, with_path):
    header = (["level"] if with_path else []) + ["shape", "dtype", "chunks", "shards", "codecs",
                                                 "on disk", "ratio"]
    rows = []
    for lv in levels:
        rows.append(([lv["level_path"]] if with_path else []) + [
            _tuple(lv["shape"]), lv["dtype"], _tuple(lv["chunks"]), _tuple(lv["shards"]),
            ",".join(lv["codecs"]) or "none", _size(lv["bytes_on_disk"]),
            "-" if lv["ratio"] is None else f"{lv['ratio']:.2f}"])
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    return [indent + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
            for r in [header] + rows]
