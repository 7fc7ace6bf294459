"""``multiscales``: axes, levels (datasets) with their transforms, downsampling method."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .axes import Axis
from .errors import NgffError, join_path
from .paths import check_relative_path
from .transforms import Transforms, pyramid_transforms

_KNOWN = ("version", "name", "axes", "datasets", "coordinateTransformations", "type", "metadata")


@dataclass
class Dataset:
    """One resolution level: the array path (relative to the image group) and its transforms."""

    path: str
    transforms: Transforms
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def scale(self) -> list[float]:
        return self.transforms.scale

    @property
    def translation(self) -> list[float] | None:
        return self.transforms.translation

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "coordinateTransformations": self.transforms.to_list(),
                **self.extra}

    @classmethod
    def from_dict(cls, d: Any, path: str) -> Dataset:
        if not isinstance(d, Mapping):
            raise NgffError(path, "dataset must be an object")
        p = check_relative_path(d.get("path"), join_path(path, "path"))
        ct_path = join_path(path, "coordinateTransformations")
        transforms = Transforms.from_list(d.get("coordinateTransformations"), ct_path)
        extra = {k: v for k, v in d.items() if k not in ("path", "coordinateTransformations")}
        return cls(p, transforms, extra)


@dataclass
class Multiscale:
    """One entry of ``multiscales``. ``type``/``metadata`` describe the downsampling method;
    ``transforms`` are the optional transforms applied to every level after its own."""

    axes: list[Axis]
    datasets: list[Dataset]
    name: str | None = None
    type: str | None = None
    metadata: Mapping[str, Any] | None = None
    transforms: Transforms | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def axis_names(self) -> list[str]:
        return [a.name for a in self.axes]

    @property
    def paths(self) -> list[str]:
        return [d.path for d in self.datasets]

    def to_dict(self, version: str) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if version == "0.4":
            d["version"] = "0.4"
        if self.name is not None:
            d["name"] = self.name
        d["axes"] = [a.to_dict() for a in self.axes]
        d["datasets"] = [ds.to_dict() for ds in self.datasets]
        if self.transforms is not None:
            d["coordinateTransformations"] = self.transforms.to_list()
        if self.type is not None:
            d["type"] = self.type
        if self.metadata is not None:
            d["metadata"] = (dict(self.metadata) if isinstance(self.metadata, Mapping)
                             else self.metadata)
        d.update(self.extra)
        return d

    @classmethod
    def from_dict(cls, d: Any, path: str = "multiscales[0]") -> Multiscale:
        if not isinstance(d, Mapping):
            raise NgffError(path, "multiscale must be an object")
        axes_raw = d.get("axes")
        if not isinstance(axes_raw, list):
            raise NgffError(join_path(path, "axes"), "must be a list")
        axes = [Axis.from_dict(a, join_path(join_path(path, "axes"), i))
                for i, a in enumerate(axes_raw)]
        ds_raw = d.get("datasets")
        if not isinstance(ds_raw, list) or not ds_raw:
            raise NgffError(join_path(path, "datasets"), "must be a non-empty list")
        datasets = [Dataset.from_dict(x, join_path(join_path(path, "datasets"), i))
                    for i, x in enumerate(ds_raw)]
        transforms = None
        if "coordinateTransformations" in d:
            transforms = Transforms.from_list(d["coordinateTransformations"],
                                              join_path(path, "coordinateTransformations"))
        extra = {k: v for k, v in d.items() if k not in _KNOWN}
        # type and metadata SHOULD be a string and an object (no schema types them): other
        # values validate with a warning, so they are kept as found, in extra
        typ, meta = d.get("type"), d.get("metadata")
        if "type" in d and not isinstance(typ, str):
            extra["type"], typ = typ, None
        if "metadata" in d and not isinstance(meta, Mapping):
            extra["metadata"], meta = meta, None
        return cls(axes, datasets, d.get("name"), typ, meta, transforms, extra)


def method_metadata(method: str, description: str | None = None,
                    version: str | None = None) -> tuple[str, dict[str, Any]]:
    """``(type, metadata)`` for a multiscale built by omezarr_fast's downsampling ``method``;
    ``version``: the method's (omezarr_fast's) version, which the writers pass (this
    package imports nothing outside itself)."""
    meta = {
        "description": description or f"block {method} over each downsampling window",
        "method": f"omezarr_fast.downsample.{method}",
    }
    if version is not None:
        meta["version"] = version
    return method, meta


def build_multiscale(
    axes: Sequence[Axis],
    scale0: Sequence[float],
    factors: Sequence[Sequence[float]],
    *,
    translation0: Sequence[float] | None = None,
    paths: Sequence[str] | None = None,
    name: str | None = None,
    method: str | None = None,
    method_version: str | None = None,
) -> Multiscale:
    """A multiscale for a pyramid with per-level ``factors`` (see :func:`pyramid_transforms`).

    ``paths`` default to ``"0", "1", ...``. ``method`` fills ``type`` and ``metadata``
    (``method_version``: its ``version``, see :func:`method_metadata`).
    """
    transforms = pyramid_transforms(scale0, factors, translation0)
    if len(scale0) != len(axes):
        raise NgffError("scale0", f"has {len(scale0)} values for {len(axes)} axes")
    if paths is None:
        paths = [str(i) for i in range(len(transforms))]
    if len(paths) != len(transforms):
        raise NgffError("paths", f"has {len(paths)} entries for {len(transforms)} levels")
    datasets = [Dataset(check_relative_path(p, f"paths[{i}]"), t)
                for i, (p, t) in enumerate(zip(paths, transforms, strict=True))]
    typ = meta = None
    if method is not None:
        typ, meta = method_metadata(method, version=method_version)
    return Multiscale(list(axes), datasets, name=name, type=typ, metadata=meta)
