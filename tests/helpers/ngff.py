"""Shared helpers for the ngff tests: fixtures on disk and the official JSON schemas."""
from __future__ import annotations

import copy
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

from omezarr_fast import ngff

DATA = Path(__file__).parents[1] / "data" / "ngff"
VERSIONS = ("0.4", "0.5")


def fixture(version: str, name: str) -> dict[str, Any]:
    return json.loads((DATA / version / f"{name}.json").read_text())


def fixture_names() -> list[str]:
    return sorted(p.stem for p in (DATA / "0.5").glob("*.json"))


def namespace(attrs: dict[str, Any], version: str) -> dict[str, Any]:
    """The dict holding the OME keys (``attrs["ome"]`` in 0.5)."""
    return attrs if version == "0.4" else attrs["ome"]


def full_path(version: str, rel: str) -> str:
    """A JSON path relative to the OME namespace -> the full path for ``version``."""
    if version == "0.4":
        return rel
    return "ome" + rel if rel.startswith("[") else f"ome.{rel}" if rel else "ome"


def with_ns(version: str, name: str, mutate) -> dict[str, Any]:
    attrs = copy.deepcopy(fixture(version, name))
    mutate(namespace(attrs, version))
    return attrs


def schema_validator(version: str, kind: str, strict: bool = False):
    """A jsonschema validator for the official ngff-spec schema of ``kind``, or ``None``
    when the schemas (shipped by the ngff-zarr package) or jsonschema are missing."""
    spec = importlib.util.find_spec("ngff_zarr")
    if spec is None or spec.submodule_search_locations is None:
        return None
    try:
        import jsonschema
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012
    except ImportError:
        return None
    root = Path(spec.submodule_search_locations[0]) / "spec" / version / "schemas"
    if not root.is_dir():
        return None
    resources = {}
    for f in root.glob("*.schema"):
        doc = json.loads(f.read_text())
        res = Resource.from_contents(doc, default_specification=DRAFT202012)
        resources[f.stem] = (doc, res)
    registry = Registry().with_resources(
        [(doc["$id"], res) for doc, res in resources.values()]
        # 0.4 strict schemas refer to .../0.4/schemas/x while bf2raw/ome say .../latest/...
        + [(f"https://ngff.openmicroscopy.org/{version}/schemas/{k}.schema", res)
           for k, (doc, res) in resources.items()])
    name = f"strict_{kind}" if strict and f"strict_{kind}" in resources else kind
    if name not in resources:
        return None
    return jsonschema.Draft202012Validator(resources[name][0], registry=registry)


def schema_kinds(attrs: dict[str, Any], version: str) -> list[str]:
    ns = attrs.get("ome", {}) if version != "0.4" else attrs
    if not isinstance(ns, dict):
        return ["image"]
    kinds = []
    if "multiscales" in ns:
        kinds.append("image")
    if "image-label" in ns:
        kinds.append("label")
    if "plate" in ns:
        kinds.append("plate")
    if "well" in ns:
        kinds.append("well")
    if "bioformats2raw.layout" in ns:
        kinds.append("bf2raw")
    if "series" in ns:
        kinds.append("ome")
    return kinds


def schema_verdict(attrs: dict[str, Any], version: str, strict: bool = False) -> bool | None:
    """True/False from the official schemas for every kind present; None if unavailable."""
    kinds = schema_kinds(attrs, version)
    if not kinds:
        return None
    verdict = True
    for kind in kinds:
        v = schema_validator(version, kind, strict)
        if v is None:
            return None
        verdict = verdict and v.is_valid(attrs)
    return verdict


def write_json(path: Path, doc: Any) -> None:
    os.makedirs(path.parent, exist_ok=True)
    path.write_text(json.dumps(doc))


# -- small hierarchies written as plain JSON -----------------------------------------------

def write_group(path: Path, attrs: dict, version: str) -> None:
    if version == "0.4":
        write_json(path / ".zgroup", {"zarr_format": 2})
        write_json(path / ".zattrs", attrs)
    else:
        write_json(path / "zarr.json", {"zarr_format": 3, "node_type": "group",
                                        "attributes": attrs})


def write_array(path: Path, shape, dtype: str, version: str, dims=None) -> None:
    if version == "0.4":
        v2 = {"uint8": "|u1", "uint16": "<u2", "int32": "<i4", "uint32": "<u4",
              "float32": "<f4"}[dtype]
        write_json(path / ".zarray", {
            "zarr_format": 2, "shape": list(shape), "chunks": list(shape), "dtype": v2,
            "compressor": None, "fill_value": 0, "filters": None, "order": "C",
            "dimension_separator": "/"})
    else:
        write_json(path / "zarr.json", {
            "zarr_format": 3, "node_type": "array", "shape": list(shape), "data_type": dtype,
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(shape)}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": 0, "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
            "dimension_names": dims, "attributes": {}})


def image(root: Path, version: str, shape=(2, 16, 32), axes="cyx", levels=3, dtype="uint16",
          label: bool = False, dims_override=None) -> ngff.Multiscale:
    ax = ngff.make_axes(axes, units={a: "micrometer" for a in axes if a in "zyx"})
    factors = [[1 if a.type != "space" else 2 for a in ax]] * (levels - 1)
    ms = ngff.build_multiscale(ax, [1.0] * len(ax), factors, name=root.name, method="mean")
    if label:
        il = ngff.build_image_label({1: (255, 0, 0, 255)})
        write_group(root, ngff.label_image_attributes(ms, il, version=version), version)
    else:
        write_group(root, ngff.image_attributes(ms, version=version), version)
    s = list(shape)
    for k in range(levels):
        dims = dims_override if dims_override is not None else list(axes)
        write_array(root / str(k), s, dtype, version, dims)
        s = [-(-n // f) for n, f in zip(s, factors[0], strict=True)] if levels > 1 else s
    return ms
