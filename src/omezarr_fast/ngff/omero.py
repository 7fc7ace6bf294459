"""``omero``: transitional rendering metadata (channel colours, windows, labels)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import NgffError, join_path

# Colours cycled through when the caller gives none (green, magenta, cyan, ... as in Fiji).
DEFAULT_COLORS = ("00FF00", "FF00FF", "00FFFF", "FF0000", "0000FF", "FFFF00", "FFFFFF")


@dataclass
class Window:
    start: float
    end: float
    min: float
    max: float
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "min": self.min, "max": self.max,
                **self.extra}


@dataclass
class Channel:
    """One channel. ``color`` and ``window`` are required by the 0.4 schema and only expected
    by the 0.5 one, so either may be ``None`` (absent) when read."""

    color: str | None
    window: Window | None
    label: str | None = None
    active: bool | None = True
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.active is not None:
            d["active"] = self.active
        if self.color is not None:
            d["color"] = self.color
        if self.label is not None:
            d["label"] = self.label
        if self.window is not None:
            d["window"] = self.window.to_dict()
        d.update(self.extra)
        return d

    @classmethod
    def from_dict(cls, d: Any, path: str) -> Channel:
        """Parse a channel; a missing ``color`` or ``window`` is ``None`` (validation, not
        parsing, decides whether the version allows that), a malformed one is an error."""
        if not isinstance(d, Mapping):
            raise NgffError(path, "channel must be an object")
        window = None
        if "window" in d:
            w = d["window"]
            wpath = join_path(path, "window")
            if not isinstance(w, Mapping):
                raise NgffError(wpath, "must be an object with start, end, min and max")
            for k in ("start", "end", "min", "max"):
                if k not in w:
                    raise NgffError(join_path(wpath, k), "missing")
            window = Window(w["start"], w["end"], w["min"], w["max"],
                            {k: v for k, v in w.items() if k not in ("start", "end", "min", "max")})
        if "color" in d and not isinstance(d["color"], str):
            raise NgffError(join_path(path, "color"), "must be a string")
        extra = {k: v for k, v in d.items() if k not in ("color", "window", "label", "active")}
        return cls(d.get("color"), window, d.get("label"), d.get("active"), extra)


@dataclass
class Omero:
    channels: list[Channel]
    rdefs: Mapping[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"channels": [c.to_dict() for c in self.channels]}
        if self.rdefs is not None:
            d["rdefs"] = dict(self.rdefs)
        d.update(self.extra)
        return d

    @classmethod
    def from_dict(cls, d: Any, path: str = "omero") -> Omero:
        if not isinstance(d, Mapping):
            raise NgffError(path, "must be an object")
        chans = d.get("channels")
        if not isinstance(chans, list):
            raise NgffError(join_path(path, "channels"), "must be a list")
        channels = [Channel.from_dict(c, join_path(join_path(path, "channels"), i))
                    for i, c in enumerate(chans)]
        extra = {k: v for k, v in d.items() if k not in ("channels", "rdefs")}
        rdefs = d.get("rdefs")
        if "rdefs" in d and not isinstance(rdefs, Mapping):
            extra["rdefs"], rdefs = rdefs, None  # not typed by any schema: kept as found
        return cls(channels, rdefs, extra)


def build_omero(
    windows: Sequence[tuple[float, float, float, float]],
    labels: Sequence[str] | None = None,
    colors: Sequence[str] | None = None,
    *,
    model: str = "color",
) -> Omero:
    """Rendering metadata for ``len(windows)`` channels.

    ``windows[i]`` is ``(start, end, min, max)``: the displayed range, then the data range
    (e.g. the dtype range). Colours default to :data:`DEFAULT_COLORS`.
    """
    n = len(windows)
    if labels is not None and len(labels) != n:
        raise NgffError("labels", f"has {len(labels)} entries for {n} channels")
    if colors is not None and len(colors) != n:
        raise NgffError("colors", f"has {len(colors)} entries for {n} channels")
    channels = []
    for i, (start, end, lo, hi) in enumerate(windows):
        color = colors[i] if colors is not None else DEFAULT_COLORS[i % len(DEFAULT_COLORS)]
        label = labels[i] if labels is not None else None
        channels.append(Channel(color, Window(start, end, lo, hi), label))
    return Omero(channels, rdefs={"model": model})
