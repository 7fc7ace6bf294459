"""Upgrade OME-Zarr 0.4 group attributes (``.zattrs``) to 0.5 (``zarr.json`` attributes).

Only the metadata: moving the arrays from zarr v2 to v3 (and re-chunking/sharding them)
is :func:`omezarr_fast.upgrade_path` (``omezarr-fast upgrade``), which uses this.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from .attributes import OME_KEYS, detect_version
from .errors import NgffError


def upgrade_attributes(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """0.4 attributes -> 0.5 attributes.

    The OME keys move under ``ome`` with ``ome.version = "0.5"``; the per-object
    ``version`` fields of 0.4 (in ``multiscales[]``, ``well``, ``image-label``) are dropped
    (``plate.version`` becomes "0.5", as the 0.5 spec text asks); other keys stay at the
    top level untouched. 0.5 input is returned as a copy. The input is not modified.
    """
    if not isinstance(attrs, Mapping):
        raise NgffError("", "attributes must be a JSON object")
    version = detect_version(attrs)
    if version == "0.5":
        return copy.deepcopy(dict(attrs))
    if version != "0.4":
        where = "no OME-Zarr metadata found" if version is None else f"version {version!r}"
        raise NgffError("version", f"can only upgrade 0.4 metadata ({where})")
    out: dict[str, Any] = {}
    ome: dict[str, Any] = {"version": "0.5"}
    for key, value in attrs.items():
        if key not in OME_KEYS:
            out[key] = copy.deepcopy(value)
            continue
        value = copy.deepcopy(value)
        if key == "multiscales" and isinstance(value, list):
            for m in value:
                if isinstance(m, dict):
                    m.pop("version", None)
        elif key in ("well", "image-label") and isinstance(value, dict):
            value.pop("version", None)
        elif key == "plate" and isinstance(value, dict):
            value["version"] = "0.5"  # see Plate.inner_version
        ome[key] = value
    out["ome"] = ome
    return out
