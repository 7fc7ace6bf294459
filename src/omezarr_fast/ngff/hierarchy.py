"""Validation of an OME-Zarr hierarchy on disk (:func:`validate_path`), JSON only.

Every group's attributes go through :func:`validate`; then what they reference is checked:
level arrays (present, ndim, 0.5 ``dimension_names``), labels, plate wells and fields,
bioformats2raw series. No chunk is ever read.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .attributes import VERSIONS, OmeAttributes, detect_version, read_node, read_node_with
from .errors import NgffError, join_path
from .validate import Problem, ValidationResult, is_int, validate

_INT_DTYPES_V3 = frozenset(f"{s}int{b}" for s in ("", "u") for b in (8, 16, 32, 64))


@dataclass
class _Array:
    shape: list[int]
    integer: bool
    dtype: str
    dimension_names: list[Any] | None
    zarr_format: int


def _array_info(zarr_format: int, meta: Mapping[str, Any]) -> _Array:
    shape = meta.get("shape")
    if not isinstance(shape, list) or not all(is_int(s) for s in shape):
        raise NgffError("shape", f"array shape must be a list of integers, got {shape!r}")
    if zarr_format == 3:
        dtype = meta.get("data_type")
        integer = dtype in _INT_DTYPES_V3
        dims = meta.get("dimension_names")
    else:
        dtype = meta.get("dtype")
        integer = isinstance(dtype, str) and len(dtype) >= 2 and dtype[1] in "iu"
        dims = None
    return _Array(shape, integer, str(dtype), dims, zarr_format)


class _Walker:
    """Walks a hierarchy on disk (``get`` None) or in a store: ``get(key)`` returns the
    bytes of a "/"-separated key below the root, or None when it is missing."""

    def __init__(self, root: str, strict: bool,
                 get: Callable[[str], bytes | None] | None = None):
        self.root = root
        self.get = get
        self.real_root = os.path.realpath(root) if get is None else root
        self.strict = strict
        self.result = ValidationResult()

    def err(self, node: str, path: str, message: str) -> None:
        self.result.errors.append(Problem(path, message, node))

    def warn(self, node: str, path: str, message: str) -> None:
        self.result.warnings.append(Problem(path, message, node))

    def should(self, node: str, path: str, message: str) -> None:
        """A SHOULD about the hierarchy (no official schema sees one): a warning, in strict
        mode too (``strict`` is what the official strict schemas require of each group)."""
        self.result.warnings.append(Problem(path, message, node))

    def fs(self, node: str) -> str:
        return os.path.join(self.root, *node.split("/")) if node else self.root

    def read_node(self, node: str) -> tuple[int, str, dict, dict]:
        if self.get is None:
            return read_node(self.fs(node))
        get = self.get
        return read_node_with(lambda name: get(f"{node}/{name}" if node else name),
                              f"{self.root}/{node}" if node else self.root)

    def is_node(self, node: str) -> bool:
        """Whether ``node`` is there: a directory on disk; metadata in a store."""
        if self.get is None:
            return os.path.isdir(self.fs(node))
        return any(self.get(f"{node}/{n}" if node else n) is not None
                   for n in ("zarr.json", ".zgroup", ".zarray", ".zattrs"))

    def read(self, node: str, field_path: str, parent: str) -> tuple[int, str, dict, dict] | None:
        if self.get is not None:   # store keys are checked lexically (check_relative_path)
            try:
                return self.read_node(node)
            except FileNotFoundError:
                if node:
                    self.err(parent, field_path, f"{node!r} not found")
                else:
                    self.err("", "", f"{self.root}: no zarr metadata (zarr.json, .zgroup, "
                                     ".zarray or .zattrs)")
            except NgffError as e:
                self.err(node, e.path, e.message)
            return None
        # metadata paths are checked lexically before we get here; this catches symlinks,
        # of the node or of the metadata files in it (omezarr_fast.safepath's rule)
        node_dir = self.fs(node)
        paths = [(node_dir, node)] if node else []
        paths += [(os.path.join(node_dir, n), f"{node}/{n}" if node else n)
                  for n in ("zarr.json", ".zgroup", ".zarray", ".zattrs")
                  if os.path.lexists(os.path.join(node_dir, n))]
        for p, name in paths:
            real = os.path.realpath(p)
            if os.path.commonpath([real, self.real_root]) != self.real_root:
                self.err(parent, field_path, f"{name!r} resolves outside the validated hierarchy")
                return None
        try:
            return read_node(self.fs(node))
        except FileNotFoundError:
            if node:
                self.err(parent, field_path, f"{node!r} not found")
            elif os.path.exists(self.root):
                self.err("", "", f"{self.root}: no zarr metadata (zarr.json, .zgroup, .zarray "
                                 "or .zattrs)")
            else:
                self.err("", "", f"{self.root}: no such file or directory")
        except NgffError as e:
            self.err(node, e.path, e.message)
        return None

    def group(self, node: str, field_path: str = "", parent: str = "",
              expect: str | None = None) -> tuple[OmeAttributes, str, str] | None:
        """Validate the group at ``node``; returns (model, version, namespace path) if usable."""
        got = self.read(node, field_path, parent)
        if got is None:
            return None
        zarr_format, node_type, attrs, _ = got
        if node_type != "group":
            self.err(parent, field_path, f"{node!r} is a zarr {node_type}, expected a group")
            return None
        res = validate(attrs, strict=self.strict, _node=node)
        self.result._extend(res)
        version = res.version
        if self.result.version is None:
            self.result.version = version
        if version not in VERSIONS:
            return None
        ns_path = "ome" if version != "0.4" else ""
        wanted_format = 2 if version == "0.4" else 3
        if zarr_format != wanted_format:
            self.err(node, join_path(ns_path, "version") if ns_path else "",
                     f"OME-Zarr {version} must be stored as zarr v{wanted_format}, "
                     f"found zarr v{zarr_format}")
        if expect is not None and version != expect:
            self.err(node, join_path(ns_path, "version") if ns_path else "",
                     f"version {version!r} differs from {expect!r} of the enclosing group")
        if not res:
            return None
        try:
            model = OmeAttributes.from_dict(attrs, version)
        except NgffError as e:
            self.err(node, e.path, e.message)
            return None
        return model, version, ns_path

    def walk(self, node: str = "", field_path: str = "", parent: str = "",
             expect: str | None = None) -> None:
        got = self.group(node, field_path, parent, expect)
        if got is None:
            return
        model, version, ns = got
        if model.image_label is not None and model.multiscales is None:
            self.err(node, join_path(ns, "image-label"),
                     "a label image group must also have 'multiscales'")
        if model.multiscales is not None:
            self.image(node, model, version, ns)
        if model.plate is not None:
            self.plate(node, model, version, ns)
        elif model.bioformats2raw_layout is not None:
            self.bf2raw(node, version)

    def levels(self, node: str, model: OmeAttributes, version: str,
               ns: str) -> list[list[_Array | None]]:
        out = []
        for i, ms in enumerate(model.multiscales or []):
            mp = join_path(join_path(ns, "multiscales"), i)
            names = ms.axis_names
            arrays: list[_Array | None] = []
            for k, ds in enumerate(ms.datasets):
                dp = join_path(join_path(mp, "datasets"), k) + ".path"
                child = f"{node}/{ds.path}" if node else ds.path
                arrays.append(None)
                got = self.read(child, dp, node)
                if got is None:
                    continue
                zarr_format, node_type, _, meta = got
                if node_type != "array":
                    self.err(node, dp, f"{ds.path!r} is a zarr {node_type}, expected an array")
                    continue
                try:
                    info = _array_info(zarr_format, meta)
                except NgffError as e:
                    self.err(child, e.path, e.message)
                    continue
                arrays[k] = info
                if len(info.shape) != len(names):
                    self.err(node, dp, f"array {ds.path!r} has {len(info.shape)} dimensions, "
                                       f"the multiscale has {len(names)} axes")
                if version == "0.4" and meta.get("dimension_separator") != "/":
                    self.should(node, dp, f"array {ds.path!r} should use the nested chunk "
                                          "layout (dimension_separator '/')")
                if version != "0.4" and info.dimension_names != names:
                    self.err(node, dp, f"array {ds.path!r} has dimension_names "
                                       f"{info.dimension_names}, expected the axis names {names}")
                prev = arrays[k - 1] if k else None
                if prev is not None and len(prev.shape) == len(info.shape) and any(
                        b > a for a, b in zip(prev.shape, info.shape, strict=True)):
                    self.warn(node, dp, f"level {k} shape {info.shape} is larger than level "
                                        f"{k - 1} shape {prev.shape}")
            out.append(arrays)
        return out

    def image(self, node: str, model: OmeAttributes, version: str, ns: str,
              parent_levels: tuple[list[str], list[_Array | None]] | None = None) -> None:
        levels = self.levels(node, model, version, ns)
        ms0 = model.multiscales[0]  # type: ignore[index]
        if parent_levels is not None:
            self.label_vs_image(node, ms0, levels[0], parent_levels, ns)
        self.omero_vs_channels(node, model, ms0, levels[0], ns)
        labels_node = f"{node}/labels" if node else "labels"
        if parent_levels is None and self.is_node(labels_node):
            got = self.group(labels_node, "", node, expect=version)
            if got is None:
                return
            lmodel, _, lns = got
            if lmodel.labels is None:
                self.err(labels_node, join_path(lns, "labels"),
                         "the 'labels' group must list its label images")
                return
            for i, name in enumerate(lmodel.labels):
                lnode = f"{labels_node}/{name}"
                self.intermediate_groups(labels_node, name)
                lgot = self.group(lnode, join_path(join_path(lns, "labels"), i), labels_node,
                                  expect=version)
                if lgot is None:
                    continue
                lm, lv, lns2 = lgot
                if lm.multiscales is None:
                    self.err(lnode, join_path(lns2, "multiscales"),
                             "a label image must have 'multiscales'")
                    continue
                if lm.image_label is None:
                    self.warn(lnode, join_path(lns2, "image-label"),
                              "a label image should have 'image-label'")
                self.image(lnode, lm, lv, lns2, (ms0.axis_names, levels[0]))

    def intermediate_groups(self, base: str, rel: str) -> None:
        """Groups between ``labels`` and a label image must not carry OME metadata."""
        parts = rel.split("/")[:-1]
        for k in range(len(parts)):
            node = f"{base}/{'/'.join(parts[:k + 1])}"
            try:
                attrs = self.read_node(node)[2]
            except (FileNotFoundError, NgffError):
                continue
            if detect_version(attrs) is not None:
                self.err(node, "", "intermediate groups between 'labels' and a label image "
                                   "must not contain OME metadata")

    def omero_vs_channels(self, node: str, model: OmeAttributes, ms: Any,
                          arrays: list[_Array | None], ns: str) -> None:
        if model.omero is None or not arrays or arrays[0] is None:
            return
        kinds = [a.type for a in ms.axes]
        if "channel" not in kinds or len(arrays[0].shape) != len(kinds):
            return
        size = arrays[0].shape[kinds.index("channel")]
        if len(model.omero.channels) != size:
            self.warn(node, join_path(join_path(ns, "omero"), "channels"),
                      f"{len(model.omero.channels)} channels described, the image has {size}")

    def label_vs_image(self, node: str, ms: Any, arrays: list[_Array | None],
                       parent: tuple[list[str], list[_Array | None]], ns: str) -> None:
        mp = join_path(ns, "multiscales") + "[0]"
        pnames, parrays = parent
        if len(arrays) != len(parrays):
            self.err(node, join_path(mp, "datasets"),
                     f"label has {len(arrays)} levels, the image has {len(parrays)}")
        for k, info in enumerate(arrays):
            if info is None:
                continue
            dp = join_path(join_path(mp, "datasets"), k) + ".path"
            if not info.integer:
                self.err(node, dp, f"label array dtype {info.dtype} is not an integer type")
            pinfo = parrays[k] if k < len(parrays) else None
            if pinfo is None:
                continue
            for j, name in enumerate(ms.axis_names[: len(info.shape)]):
                if name not in pnames:
                    self.warn(node, dp, f"label axis {name!r} is not an axis of the image")
                    continue
                pj = pnames.index(name)
                if pj >= len(pinfo.shape):
                    continue
                size, psize = info.shape[j], pinfo.shape[pj]
                if size not in (psize, 1):
                    self.should(node, dp, f"label level {k} has size {size} on axis {name!r}, "
                                       f"the image has {psize}")

    def plate(self, node: str, model: OmeAttributes, version: str, ns: str) -> None:
        plate = model.plate
        assert plate is not None
        acq_ids = {a.get("id") for a in plate.acquisitions or [] if isinstance(a, Mapping)}
        for i, w in enumerate(plate.wells):
            wp = join_path(join_path(join_path(ns, "plate"), "wells"), i) + ".path"
            wnode = f"{node}/{w.path}" if node else w.path
            got = self.group(wnode, wp, node, expect=version)
            if got is None:
                continue
            wm, _, wns = got
            if wm.well is None:
                self.err(wnode, join_path(wns, "well"), "a well group must have 'well' metadata")
                continue
            for j, im in enumerate(wm.well.images):
                ip = join_path(join_path(join_path(wns, "well"), "images"), j)
                if len(acq_ids) > 1 and im.acquisition is None:
                    self.err(wnode, join_path(ip, "acquisition"),
                             "required when the plate has several acquisitions")
                if im.acquisition is not None and acq_ids and im.acquisition not in acq_ids:
                    self.err(wnode, join_path(ip, "acquisition"),
                             f"{im.acquisition} is not an acquisition id of the plate")
                self.walk(f"{wnode}/{im.path}", join_path(ip, "path"), wnode, expect=version)

    def bf2raw(self, node: str, version: str) -> None:
        ome_node = f"{node}/OME" if node else "OME"
        series = None
        if self.is_node(ome_node):
            got = self.group(ome_node, "", node, expect=version)
            if got is not None and got[0].series is not None:
                series = got[0].series
        if series is not None:
            sp = "ome.series" if version != "0.4" else "series"
            for i, s in enumerate(series):
                self.walk(f"{node}/{s}" if node else s, join_path(sp, i), ome_node,
                          expect=version)
            return
        i = 0
        while self.is_node(f"{node}/{i}" if node else str(i)):
            self.walk(f"{node}/{i}" if node else str(i), "", node, expect=version)
            i += 1
        if i == 0:
            self.warn(node, "", "bioformats2raw layout without images 0/, 1/, ... or OME/series")


def validate_path(path: str | os.PathLike[str], strict: bool = False) -> ValidationResult:
    """Validate the OME-Zarr hierarchy at ``path`` reading only its JSON metadata.

    Checks every group's metadata (as :func:`validate`), then what it references: level
    arrays (present, ndim == number of axes, 0.5 ``dimension_names`` == axis names), the
    ``labels`` group and each label image (same number of levels as the image, integer
    dtype, each dimension equal to the image's or 1), plate wells and well images, and
    bioformats2raw series. ``Problem.node`` tells where in the hierarchy each problem is.
    """
    root = os.fspath(path)
    if os.path.basename(root) in ("zarr.json", ".zattrs", ".zgroup") and os.path.isfile(root):
        root = os.path.dirname(root) or "."
    walker = _Walker(root, strict)
    walker.walk()
    return walker.result


def validate_store(get: Callable[[str], bytes | None], name: str,
                   strict: bool = False) -> ValidationResult:
    """:func:`validate_path` for a hierarchy in any store: ``get(key)`` returns the bytes
    stored at a "/"-separated key below the hierarchy's root (None when missing); ``name``
    says where it is in messages (its URL).  Every key asked for comes from metadata paths
    that passed :func:`omezarr_fast.ngff.check_relative_path`."""
    walker = _Walker(name, strict, get)
    walker.walk()
    return walker.result
