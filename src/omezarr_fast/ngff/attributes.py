"""The OME metadata of one zarr group, for 0.4 (``.zattrs``) and 0.5 (``zarr.json``).

0.5 keeps everything under ``attributes["ome"]`` with ``ome.version``; 0.4 keeps the keys at
the top level and puts ``version`` inside ``multiscales[]``, ``plate``, ``well`` and
``image-label``. :class:`OmeAttributes` is the version-free model; ``to_dict(version)``
writes either layout and ``from_dict`` reads either.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import NgffError, join_path
from .labels import ImageLabel, check_label_names
from .multiscales import Multiscale
from .omero import Omero
from .plate import Plate, Well

VERSIONS = ("0.4", "0.5")
LATEST = "0.5"
OME_KEYS = ("multiscales", "omero", "labels", "image-label", "plate", "well",
            "bioformats2raw.layout", "series")


def check_version(version: str) -> str:
    if version not in VERSIONS:
        raise NgffError("version", f"unsupported OME-Zarr version {version!r}; "
                                   f"expected one of {', '.join(VERSIONS)}")
    return version


def detect_version(attrs: Mapping[str, Any]) -> str | None:
    """The OME-Zarr version of group attributes, or ``None`` if they hold no OME metadata.

    ``ome.version`` wins (0.5 and later). Otherwise the 0.4-style ``version`` fields are
    consulted; top-level OME keys without any version are taken as 0.4.
    """
    ome = attrs.get("ome")
    if isinstance(ome, Mapping) and "version" in ome:
        return str(ome["version"])
    ms = attrs.get("multiscales")
    if isinstance(ms, list):
        for m in ms:
            if isinstance(m, Mapping) and "version" in m:
                return str(m["version"])
    for key in ("plate", "well", "image-label"):
        v = attrs.get(key)
        if isinstance(v, Mapping) and "version" in v:
            return str(v["version"])
    if isinstance(ome, Mapping):
        return LATEST  # an "ome" namespace without a version: a broken 0.5 document
    if any(k in attrs for k in OME_KEYS):
        return "0.4"
    return None


def ome_namespace(attrs: Mapping[str, Any], version: str) -> tuple[Mapping[str, Any], str]:
    """The mapping that holds the OME keys for ``version``, and its JSON path."""
    if version == "0.4":
        return attrs, ""
    ome = attrs.get("ome")
    if not isinstance(ome, Mapping):
        raise NgffError("ome", "missing or not an object")
    return ome, "ome"


@dataclass
class OmeAttributes:
    """Everything OME-Zarr may put in one group's attributes (each part optional)."""

    multiscales: list[Multiscale] | None = None
    omero: Omero | None = None
    labels: list[str] | None = None
    image_label: ImageLabel | None = None
    plate: Plate | None = None
    well: Well | None = None
    bioformats2raw_layout: int | None = None
    series: list[str] | None = None
    version: str = LATEST
    # unknown keys: inside the OME namespace (0.5 only) and at the top level
    ome_extra: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, version: str | None = None) -> dict[str, Any]:
        """Group attributes in the layout of ``version`` (default: ``self.version``)."""
        version = check_version(version or self.version)
        ome: dict[str, Any] = {}
        if version != "0.4":
            ome["version"] = version
        if self.bioformats2raw_layout is not None:
            ome["bioformats2raw.layout"] = self.bioformats2raw_layout
        if self.series is not None:
            ome["series"] = list(self.series)
        if self.multiscales is not None:
            ome["multiscales"] = [m.to_dict(version) for m in self.multiscales]
        if self.omero is not None:
            ome["omero"] = self.omero.to_dict()
        if self.labels is not None:
            ome["labels"] = list(self.labels)
        if self.image_label is not None:
            ome["image-label"] = self.image_label.to_dict(version)
        if self.plate is not None:
            ome["plate"] = self.plate.to_dict(version)
        if self.well is not None:
            ome["well"] = self.well.to_dict(version)
        ome.update(self.ome_extra)
        if version == "0.4":
            return {**ome, **self.extra}
        return {**self.extra, "ome": ome}

    @classmethod
    def from_dict(cls, attrs: Mapping[str, Any], version: str | None = None) -> OmeAttributes:
        """Parse group attributes of either version (detected unless given).

        Raises :class:`NgffError` naming the JSON path of the first field that cannot be
        parsed. Parsing is not validation: run :func:`omezarr_fast.ngff.validate` for that.
        """
        if not isinstance(attrs, Mapping):
            raise NgffError("", "attributes must be a JSON object")
        if version is None:
            version = detect_version(attrs)
            if version is None:
                raise NgffError("", "no OME-Zarr metadata found")
        check_version(version)
        ns, base = ome_namespace(attrs, version)
        ome_extra: dict[str, Any] = {}
        if version == "0.4":
            extra = {k: v for k, v in attrs.items() if k not in OME_KEYS}
        else:
            extra = {k: v for k, v in attrs.items() if k != "ome"}
            ome_extra = {k: v for k, v in ns.items() if k not in OME_KEYS and k != "version"}
        out = cls(version=version, extra=extra, ome_extra=ome_extra)
        if "multiscales" in ns:
            mpath = join_path(base, "multiscales")
            if not isinstance(ns["multiscales"], list):
                raise NgffError(mpath, "must be a list")
            out.multiscales = [Multiscale.from_dict(m, join_path(mpath, i))
                               for i, m in enumerate(ns["multiscales"])]
        if "omero" in ns:
            out.omero = Omero.from_dict(ns["omero"], join_path(base, "omero"))
        if "labels" in ns:
            out.labels = check_label_names(ns["labels"], join_path(base, "labels"))
        if "image-label" in ns:
            out.image_label = ImageLabel.from_dict(ns["image-label"],
                                                   join_path(base, "image-label"))
        if "plate" in ns:
            out.plate = Plate.from_dict(ns["plate"], join_path(base, "plate"))
        if "well" in ns:
            out.well = Well.from_dict(ns["well"], join_path(base, "well"))
        if "bioformats2raw.layout" in ns:
            out.bioformats2raw_layout = ns["bioformats2raw.layout"]
        if "series" in ns:
            out.series = ns["series"]
        return out


def parse_attributes(attrs: Mapping[str, Any], version: str | None = None) -> OmeAttributes:
    """Group attributes (a ``zarr.json`` ``attributes`` dict or a ``.zattrs`` dict) -> model."""
    return OmeAttributes.from_dict(attrs, version)


def image_attributes(
    multiscales: Multiscale | Sequence[Multiscale],
    omero: Omero | None = None,
    *,
    version: str = LATEST,
) -> dict[str, Any]:
    """Attributes of an image group."""
    ms = [multiscales] if isinstance(multiscales, Multiscale) else list(multiscales)
    return OmeAttributes(multiscales=ms, omero=omero).to_dict(version)


def labels_attributes(names: Sequence[str], *, version: str = LATEST) -> dict[str, Any]:
    """Attributes of the ``labels`` group inside an image, listing its label images."""
    return OmeAttributes(labels=check_label_names(list(names))).to_dict(version)


def label_image_attributes(
    multiscales: Multiscale | Sequence[Multiscale],
    image_label: ImageLabel,
    *,
    version: str = LATEST,
) -> dict[str, Any]:
    """Attributes of one label image group (a multiscale image plus ``image-label``)."""
    ms = [multiscales] if isinstance(multiscales, Multiscale) else list(multiscales)
    return OmeAttributes(multiscales=ms, image_label=image_label).to_dict(version)


def plate_attributes(plate: Plate, *, version: str = LATEST) -> dict[str, Any]:
    return OmeAttributes(plate=plate).to_dict(version)


def well_attributes(well: Well, *, version: str = LATEST) -> dict[str, Any]:
    return OmeAttributes(well=well).to_dict(version)


def bioformats2raw_attributes(*, version: str = LATEST) -> dict[str, Any]:
    """Attributes of a bioformats2raw top group (``bioformats2raw.layout`` = 3)."""
    return OmeAttributes(bioformats2raw_layout=3).to_dict(version)


def series_attributes(series: Sequence[str], *, version: str = LATEST) -> dict[str, Any]:
    """Attributes of the ``OME`` group of a bioformats2raw container (image group paths)."""
    return OmeAttributes(series=list(series)).to_dict(version)


# -- on disk (JSON only) ------------------------------------------------------------------

def read_json(path: str | os.PathLike[str]) -> Any:
    with open(path, "rb") as f:
        try:
            return json.loads(f.read())
        except ValueError as e:
            raise NgffError("", f"{os.fspath(path)}: not valid JSON ({e})") from None


def read_node(path: str | os.PathLike[str]) -> tuple[int, str, dict[str, Any], dict[str, Any]]:
    """``(zarr_format, node_type, attributes, metadata)`` of the zarr node at ``path``.

    Reads ``zarr.json`` (v3) or ``.zgroup``/``.zarray`` + ``.zattrs`` (v2); raises
    ``FileNotFoundError`` if neither is there.
    """
    p = os.fspath(path)

    def get(name: str) -> bytes | None:
        f = os.path.join(p, name)
        if not os.path.isfile(f):
            return None
        with open(f, "rb") as fh:
            return fh.read()

    return read_node_with(get, p, sep=os.sep)


def _parse_json(data: bytes, where: str) -> Any:
    try:
        return json.loads(data)
    except ValueError as e:
        raise NgffError("", f"{where}: not valid JSON ({e})") from None


def read_node_with(get: Callable[[str], bytes | None], where: str,
                   sep: str = "/") -> tuple[int, str, dict[str, Any], dict[str, Any]]:
    """:func:`read_node` for a node in any store: ``get(name)`` returns the bytes of the
    node's metadata document ``name`` ("zarr.json", ".zattrs", ...) or None when it is
    missing; ``where`` names the node in messages."""
    def doc(name: str) -> tuple[str, Any] | None:
        data = get(name)
        return None if data is None else (f"{where}{sep}{name}", data)

    v3 = doc("zarr.json")
    if v3 is not None:
        name, data = v3
        meta = _parse_json(data, name)
        if not isinstance(meta, dict):
            raise NgffError("", f"{name}: not a JSON object")
        attrs = meta.get("attributes", {})
        if not isinstance(attrs, dict):
            raise NgffError("attributes", f"{name}: attributes must be an object")
        if meta.get("zarr_format") != 3:
            raise NgffError("zarr_format", f"{name}: must be 3, got {meta.get('zarr_format')!r}")
        return 3, str(meta.get("node_type")), attrs, meta
    zattrs = doc(".zattrs")
    attrs = _parse_json(zattrs[1], zattrs[0]) if zattrs is not None else {}
    if not isinstance(attrs, dict):
        raise NgffError("", f"{zattrs[0]}: not a JSON object")
    for fname, node_type in ((".zarray", "array"), (".zgroup", "group")):
        got = doc(fname)
        if got is not None:
            meta = _parse_json(got[1], got[0])
            if not isinstance(meta, dict):
                raise NgffError("", f"{got[0]}: not a JSON object")
            return 2, node_type, attrs, meta
    if zattrs is not None:
        return 2, "group", attrs, {}
    raise FileNotFoundError(f"no zarr metadata (zarr.json, .zgroup, .zarray) in {where}")


def read_attributes(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Raw attributes of the group at ``path`` (``zarr.json`` attributes or ``.zattrs``).

    ``path`` may also name the ``zarr.json`` or ``.zattrs`` file itself.
    """
    p = os.fspath(path)
    base = os.path.basename(p)
    if base == "zarr.json" and os.path.isfile(p):
        meta = read_json(p)
        return meta.get("attributes", {}) if isinstance(meta, dict) else {}
    if base == ".zattrs" and os.path.isfile(p):
        return read_json(p)
    return read_node(p)[2]


def read_metadata(path: str | os.PathLike[str]) -> OmeAttributes:
    """Parsed OME metadata of the group at ``path``."""
    return parse_attributes(read_attributes(path))
