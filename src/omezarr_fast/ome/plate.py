"""OME-Zarr HCS plates: write one (plate and well metadata, one multiscale image per
field) and open one (:class:`Plate`: wells by row and column, their field images).

Layout (the spec's): ``<plate>/<row>/<column>/<field>`` with fields named ``0, 1, ...``;
the plate group holds ``plate`` metadata, each well group ``well`` metadata.  Every field
goes through :func:`omezarr_fast.write_image` (streamed, its options apply to all fields).
Metadata is validated before any file is written and stored last (wells after their
fields, the plate after every well), so an interrupted write does not look like a finished
plate.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import zarr

from omezarr_fast import ngff
from omezarr_fast.config import enabled
from omezarr_fast.ome.image import Image, open_image, remove_quietly, write_image
from omezarr_fast.store import location

__all__ = ["Plate", "open_plate", "write_plate"]


def _well_key(key: Any) -> tuple[str, str]:
    """``"B/3"`` or ``("B", 3)`` -> ``("B", "3")``."""
    if isinstance(key, str):
        parts = key.split("/")
        if len(parts) != 2 or not all(parts):
            raise ValueError(f"images: well key {key!r} is not '<row>/<column>'")
        return parts[0], parts[1]
    if isinstance(key, tuple) and len(key) == 2:
        return str(key[0]), str(key[1])
    raise TypeError(f"images: well key {key!r} must be '<row>/<column>' or a (row, column) tuple")


def _fields(key: str, value: Any) -> list[Any]:
    """A well's field images: one array, or a list/tuple of arrays."""
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError(f"images[{key!r}]: a well needs at least one field image")
        return list(value)
    if hasattr(value, "shape"):
        return [value]
    raise TypeError(f"images[{key!r}] must be an array or a list of arrays (fields), "
                    f"got {type(value).__name__}")


def _name_order(name: str) -> tuple[int, str]:
    # "A" < "B" < "AA" and "2" < "10", as plates are labelled.
    return len(name), name


def write_plate(path, images: Mapping[Any, Any], *, rows: Sequence[str] | None = None,
                columns: Sequence[str] | None = None, name: str | None = None,
                acquisitions: Sequence[Mapping[str, Any]] | None = None,
                field_acquisitions: Mapping[Any, Sequence[int]] | None = None,
                version: str = "0.5", overwrite: bool = False, progress=None,
                storage_options=None, **image_options):
    """Write an HCS plate at ``path``; returns the path (open it with
    :func:`omezarr_fast.open_plate`).

    images: ``{well: fields}`` where a well is ``"B/3"`` or ``("B", 3)`` and fields is one
        array or a list of arrays (numpy, dask or zarr; one multiscale image each, stored
        as ``B/3/0``, ``B/3/1``, ...).
    rows, columns: the plate's row and column names in order (alphanumeric), e.g.
        ``"ABCDEFGH"`` and ``[str(i) for i in range(1, 13)]`` for a 96-well plate, so that
        empty wells keep their place. Default: the names used by ``images``, sorted as
        plates are labelled (A..Z, AA..; 1, 2, .., 10).
    name: the plate's name.
    acquisitions: the plate's acquisitions, e.g. ``[{"id": 0, "name": "run 1"}]``.
    field_acquisitions: ``{well: [acquisition id per field]}``; required for every well when
        there are several acquisitions, and with a single acquisition every field gets its id.
    version: "0.5" (zarr v3) or "0.4" (zarr v2).
    overwrite: replace an existing ``path`` (otherwise FileExistsError).
    progress: as in write_image (one bar per field).
    path, storage_options: a directory, URL or zarr store (see :func:`omezarr_fast.write_image`);
        a write that fails removes what it wrote.
    image_options: any other :func:`omezarr_fast.write_image` keyword (axes, scale, units,
        chunks, shards, codec, levels, factors, method, channel_names, ...), applied to
        every field.
    """
    if version not in ("0.4", "0.5"):
        raise ValueError(f"version must be '0.4' or '0.5', got {version!r}")
    for bad in ("data", "path", "version", "overwrite"):
        if bad in image_options:
            raise TypeError(f"write_plate() got an unexpected keyword argument {bad!r}")
    if not isinstance(images, Mapping) or not images:
        raise ValueError("images must be a non-empty mapping {well: field image(s)}")
    wells: dict[tuple[str, str], list[Any]] = {}
    for key, value in images.items():
        rc = _well_key(key)
        if rc in wells:
            raise ValueError(f"images: well {'/'.join(rc)!r} is given twice")
        wells[rc] = _fields("/".join(rc), value)
    rows = list(rows) if rows is not None else \
        sorted({r for r, _ in wells}, key=_name_order)
    columns = list(columns) if columns is not None else \
        sorted({c for _, c in wells}, key=_name_order)
    for r, c in wells:
        if r not in rows:
            raise ValueError(f"images: well {r}/{c}: row {r!r} is not in rows {rows}")
        if c not in columns:
            raise ValueError(f"images: well {r}/{c}: column {c!r} is not in columns {columns}")
    # Wells in plate order (row-major), whatever the mapping's order.
    order = sorted(wells, key=lambda rc: (rows.index(rc[0]), columns.index(rc[1])))

    acq_ids = [a.get("id") for a in acquisitions or [] if isinstance(a, Mapping)]
    per_well: dict[tuple[str, str], list[int] | None] = {}
    given = {}
    for key, ids in (field_acquisitions or {}).items():
        rc = _well_key(key)
        if rc not in wells:
            raise ValueError(f"field_acquisitions: no well {'/'.join(rc)!r} in images")
        given[rc] = [int(i) for i in ids]
    for rc in order:
        n = len(wells[rc])
        if rc in given:
            ids = given[rc]
            if len(ids) != n:
                raise ValueError(f"field_acquisitions[{'/'.join(rc)!r}] has {len(ids)} ids "
                                 f"for {n} fields")
            unknown = [i for i in ids if i not in acq_ids]
            if unknown:
                raise ValueError(f"field_acquisitions[{'/'.join(rc)!r}]: {unknown} are not "
                                 f"acquisition ids of the plate ({acq_ids})")
            per_well[rc] = ids
        elif len(acq_ids) == 1:
            per_well[rc] = [acq_ids[0]] * n
        elif len(acq_ids) > 1:
            raise ValueError(f"field_acquisitions: well {'/'.join(rc)!r} needs an acquisition "
                             f"id per field (the plate has {len(acq_ids)} acquisitions)")
        else:
            per_well[rc] = None

    field_count = max(len(f) for f in wells.values())
    plate = ngff.build_plate(rows, columns, [f"{r}/{c}" for r, c in order], name=name,
                             field_count=field_count, acquisitions=acquisitions)
    plate_attrs = ngff.plate_attributes(plate, version=version)
    ngff.validate(plate_attrs, version=version).raise_for_errors()
    well_attrs = {}
    for rc in order:
        well = ngff.build_well([str(i) for i in range(len(wells[rc]))], per_well[rc])
        well_attrs[rc] = ngff.well_attributes(well, version=version)
        ngff.validate(well_attrs[rc], version=version).raise_for_errors()

    root = location(path, storage_options=storage_options).rooted()
    root.prepare(overwrite)
    zarr_format = 3 if version == "0.5" else 2
    try:
        with enabled():
            group = zarr.open_group(root.open(), mode="w-", zarr_format=zarr_format)
            for r in dict.fromkeys(r for r, _ in order):
                group.create_group(r)
            for rc in order:
                wg = group[rc[0]].create_group(rc[1])
                well = root.child(f"{rc[0]}/{rc[1]}", "images")
                for i, data in enumerate(wells[rc]):
                    write_image(data, well.child(str(i)), version=version,
                                progress=progress, **image_options)
                wg.attrs.update(well_attrs[rc])
            group.attrs.update(plate_attrs)
    except BaseException:
        remove_quietly(root)
        raise
    return root.public()


class Plate:
    """An HCS plate opened by :func:`open_plate`: ``plate`` metadata, wells by row/column."""

    def __init__(self, path, metadata):
        self.location = location(path)
        self.path = self.location.public()
        self.metadata: ngff.OmeAttributes = metadata
        self.plate: ngff.Plate = metadata.plate

    @property
    def rows(self) -> list[str]:
        return [r["name"] if isinstance(r, Mapping) else r for r in self.plate.rows]

    @property
    def columns(self) -> list[str]:
        return [c["name"] if isinstance(c, Mapping) else c for c in self.plate.columns]

    @property
    def wells(self) -> list[str]:
        """Well paths, ``"<row>/<column>"``."""
        return [w.path for w in self.plate.wells]

    def fields(self, row: str, column: str) -> list[str]:
        """Field-of-view image paths of one well (relative to the well)."""
        path = f"{row}/{column}"
        if path not in self.wells:
            raise KeyError(f"no well {path!r} in {self.path} (have {self.wells})")
        loc = self.location.child(path, "plate.wells.path")
        loc.check()
        well = loc.metadata().well
        if well is None:
            raise ValueError(f"{loc.url}: no 'well' metadata")
        return [im.path for im in well.images]

    def image(self, row: str, column: str, field: int = 0) -> Image:
        """The image of field ``field`` (index into the well's images) of a well."""
        fields = self.fields(row, column)
        if not 0 <= field < len(fields):
            raise IndexError(f"well {row}/{column} has fields 0..{len(fields) - 1}, not {field}")
        loc = self.location.child(f"{row}/{column}", "plate.wells.path").child(
            fields[field], "well.images.path")
        loc.check()
        return open_image(loc)

    def __repr__(self) -> str:
        return f"Plate({self.location.url!r}, {len(self.rows)}x{len(self.columns)}, wells={len(self.wells)})"


def open_plate(path, *, validate: bool = True, storage_options=None) -> Plate:
    """Open an OME-Zarr HCS plate (metadata parsed and, unless ``validate=False``, validated).

    path: a directory, URL or zarr store (see :func:`omezarr_fast.open_image`)."""
    loc = location(path, storage_options=storage_options).rooted()
    loc.check()
    attrs = loc.attributes()
    if validate:
        ngff.validate(attrs).raise_for_errors()
    meta = ngff.parse_attributes(attrs)
    if meta.plate is None:
        raise ValueError(f"{loc.url}: not a plate (no 'plate' metadata)")
    return Plate(loc, meta)
