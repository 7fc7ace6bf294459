"""Labels: the ``labels`` group listing and the ``image-label`` metadata of a label image."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import NgffError, join_path
from .paths import check_relative_path


@dataclass
class LabelColor:
    label_value: int
    rgba: tuple[int, int, int, int] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"label-value": self.label_value}
        if self.rgba is not None:
            d["rgba"] = list(self.rgba)
        d.update(self.extra)
        return d


@dataclass
class ImageLabel:
    """``image-label``: colours and properties per label value, and the source image."""

    colors: list[LabelColor] | None = None
    properties: list[dict[str, Any]] | None = None
    source: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, version: str) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if version == "0.4":
            d["version"] = "0.4"
        if self.colors is not None:
            d["colors"] = [c.to_dict() for c in self.colors]
        if self.properties is not None:
            d["properties"] = [dict(p) for p in self.properties]
        if self.source is not None:
            d["source"] = dict(self.source)
        d.update(self.extra)
        return d

    @classmethod
    def from_dict(cls, d: Any, path: str = "image-label") -> ImageLabel:
        if not isinstance(d, Mapping):
            raise NgffError(path, "must be an object")
        colors = None
        if "colors" in d:
            cpath = join_path(path, "colors")
            if not isinstance(d["colors"], list):
                raise NgffError(cpath, "must be a list")
            colors = []
            for i, c in enumerate(d["colors"]):
                ipath = join_path(cpath, i)
                if not isinstance(c, Mapping) or "label-value" not in c:
                    raise NgffError(ipath, "color must be an object with a label-value")
                rgba = tuple(c["rgba"]) if isinstance(c.get("rgba"), list) else c.get("rgba")
                extra = {k: v for k, v in c.items() if k not in ("label-value", "rgba")}
                colors.append(LabelColor(c["label-value"], rgba, extra))
        props = d.get("properties")
        if props is not None and not isinstance(props, list):
            raise NgffError(join_path(path, "properties"), "must be a list")
        extra = {k: v for k, v in d.items()
                 if k not in ("version", "colors", "properties", "source")}
        return cls(colors, props, d.get("source"), extra)


def build_image_label(
    colors: Mapping[int, Sequence[int]] | None = None,
    properties: Mapping[int, Mapping[str, Any]] | None = None,
    source: str | None = "../../",
) -> ImageLabel:
    """``image-label`` from ``{label_value: (r, g, b, a)}`` and ``{label_value: {...}}``.

    ``source`` is the path from the label group to its image (``../../`` for labels
    inside the image's ``labels`` group); ``None`` leaves it out.
    """
    color_list = None
    if colors is not None:
        color_list = [LabelColor(int(v), tuple(int(x) for x in rgba))  # type: ignore[arg-type]
                      for v, rgba in colors.items()]
    prop_list = None
    if properties is not None:
        prop_list = [{"label-value": int(v), **dict(p)} for v, p in properties.items()]
    return ImageLabel(color_list, prop_list, None if source is None else {"image": source})


def check_label_names(names: Any, path: str = "labels") -> list[str]:
    """The entries of a ``labels`` group listing: safe relative paths, unique."""
    if not isinstance(names, list):
        raise NgffError(path, "must be a list of paths")
    seen: set[str] = set()
    for i, n in enumerate(names):
        check_relative_path(n, join_path(path, i))
        if n in seen:
            raise NgffError(join_path(path, i), f"duplicate label path {n!r}")
        seen.add(n)
    return list(names)
