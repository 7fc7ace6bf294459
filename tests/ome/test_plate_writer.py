"""write_plate: a 2x3-well plate written, validated, read back, and opened by peers."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import zarr

from omezarr_fast import ngff, open_plate, write_plate

VERSIONS = ("0.4", "0.5")
ROWS, COLS = ["A", "B"], ["1", "2", "3"]


def field(well_index, f):
    rng = np.random.default_rng(10 * well_index + f)
    return rng.integers(0, 1000, (2, 20, 24), dtype=np.uint16)


def plate_2x3(root, version, **kw):
    images = {}
    for i, (r, c) in enumerate((r, c) for r in ROWS for c in COLS):
        # keys in both spellings, fields as a list or a single array
        key = f"{r}/{c}" if i % 2 else (r, int(c))
        images[key] = [field(i, 0), field(i, 1)] if i != 5 else field(i, 0)
    return write_plate(root, images, name="screen", version=version, axes="cyx",
                       units={"y": "micrometer", "x": "micrometer"},
                       chunks=(1, 8, 8), shards=(1, 16, 16), levels=2, progress=False, **kw)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """One 2x3 plate per version, shared by the read-only tests."""
    cache = {}

    def get(version):
        if version not in cache:
            cache[version] = plate_2x3(tmp_path_factory.mktemp("plate") / "p.zarr", version)
        return cache[version]
    return get


@pytest.mark.parametrize("version", VERSIONS)
def test_plate_round_trip(written, version):
    root = written(version)
    res = ngff.validate_path(root, strict=True)
    assert res, res.message
    assert res.version == version
    plate = open_plate(root)
    assert plate.rows == ROWS and plate.columns == COLS
    assert plate.wells == [f"{r}/{c}" for r in ROWS for c in COLS]
    assert plate.plate.name == "screen" and plate.plate.field_count == 2
    assert [(w.row_index, w.column_index) for w in plate.plate.wells] == \
        [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert plate.fields("A", "2") == ["0", "1"]
    assert plate.fields("B", "3") == ["0"]
    for i, (r, c) in enumerate((r, c) for r in ROWS for c in COLS):
        for f in range(len(plate.fields(r, c))):
            img = plate.image(r, c, f)
            assert img.version == version and img.axes == ["c", "y", "x"]
            np.testing.assert_array_equal(img.levels[0][...], field(i, f))
            assert img.levels[1].shape == (2, 10, 12)
    with pytest.raises(IndexError):
        plate.image("B", "3", 1)
    zf = 3 if version == "0.5" else 2
    assert zarr.open_group(str(root), mode="r").metadata.zarr_format == zf


@pytest.mark.parametrize("version", VERSIONS)
def test_ome_zarr_models_opens_our_plate(written, version):
    pytest.importorskip("ome_zarr_models", reason="ome-zarr-models not installed")
    from ome_zarr_models import open_ome_zarr

    root = written(version)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hcs = open_ome_zarr(zarr.open_group(str(root), mode="r"), version=version)
        assert type(hcs).__name__ == "HCS"
        wells = list(hcs.well_groups)
    assert len(wells) == 6
    assert len(wells[0].ome_attributes.well.images) == 2


def test_ome_zarr_py_reads_our_plate(written):
    pytest.importorskip("ome_zarr")
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Plate, Reader

    root = written("0.5")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nodes = list(Reader(parse_url(str(root)))())
        plate_node = nodes[0]
        assert any(isinstance(s, Plate) for s in plate_node.specs)
        # the stitched plate of field 0: 2 rows x 3 columns of 20x24 fields
        full = np.asarray(plate_node.data[0])
    assert full.shape[-2:] == (2 * 20, 3 * 24)
    np.testing.assert_array_equal(full[..., 20:40, 24:48].reshape(2, 20, 24), field(4, 0))


@pytest.mark.parametrize("version", VERSIONS)
def test_explicit_layout_and_acquisitions(tmp_path, version):
    data = np.zeros((16, 16), np.uint8)
    acqs = [{"id": 0, "name": "first", "maximumfieldcount": 2},
            {"id": 1, "name": "second", "maximumfieldcount": 2}]
    root = write_plate(tmp_path / "p.zarr", {"C/10": [data, data + 1], "A/2": data},
                       rows="ABC", columns=[str(i) for i in range(1, 13)],
                       acquisitions=acqs, field_acquisitions={"C/10": [0, 1], "A/2": [1]},
                       version=version, levels=1, progress=False)
    assert ngff.validate_path(root)
    plate = open_plate(root)
    assert plate.rows == ["A", "B", "C"] and len(plate.columns) == 12
    assert plate.wells == ["A/2", "C/10"]  # plate order, not the mapping's
    assert [(w.row_index, w.column_index) for w in plate.plate.wells] == [(0, 1), (2, 9)]
    well = ngff.read_metadata(root / "C" / "10").well
    assert [im.acquisition for im in well.images] == [0, 1]
    assert plate.image("C", "10", 1).levels[0][0, 0] == 1


def test_default_row_and_column_order(tmp_path):
    data = np.zeros((8, 8), np.uint8)
    keys = ["AA/10", "B/2", "A/1", ("B", 10)]
    root = write_plate(tmp_path / "p.zarr", dict.fromkeys(keys, data), levels=1, progress=False)
    plate = open_plate(root)
    assert plate.rows == ["A", "B", "AA"] and plate.columns == ["1", "2", "10"]


def test_errors(tmp_path):
    data = np.zeros((8, 8), np.uint8)
    p = tmp_path / "p.zarr"
    cases = [
        ({}, {}, ValueError, "non-empty"),
        ({"A1": data}, {}, ValueError, "'<row>/<column>'"),
        ({("A", 1): data, "A/1": data}, {}, ValueError, "given twice"),
        ({"A/1": data}, {"rows": ["B"]}, ValueError, "row 'A' is not in rows"),
        ({"A-1/1": data}, {}, ValueError, "alphanumeric"),
        ({"A/1": []}, {}, ValueError, "at least one field"),
        ({"A/1": "x"}, {}, TypeError, "array or a list"),
        ({"A/1": data}, {"acquisitions": [{"id": 0}, {"id": 1}]}, ValueError,
         "needs an acquisition id"),
        ({"A/1": data}, {"acquisitions": [{"id": 0}], "field_acquisitions": {"A/1": [3]}},
         ValueError, "not acquisition ids"),
        ({"A/1": data}, {"version": "0.3"}, ValueError, "version"),
        ({"A/1": data}, {"data": "x"}, TypeError, "unexpected keyword"),
    ]
    for images, kw, exc, match in cases:
        with pytest.raises(exc, match=match):
            write_plate(p, images, progress=False, **kw)
        assert not p.exists()  # checked before anything is written
    write_plate(p, {"A/1": data}, levels=1, progress=False)
    with pytest.raises(FileExistsError):
        write_plate(p, {"A/1": data}, levels=1, progress=False)
    write_plate(p, {"B/1": data}, levels=1, overwrite=True, progress=False)
    assert open_plate(p).wells == ["B/1"]


@pytest.mark.parametrize("version", VERSIONS)
def test_ngff_zarr_reads_our_plate(written, version):
    nz = pytest.importorskip("ngff_zarr")
    root = written(version)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plate = nz.from_hcs_zarr(str(root), validate=True)
        img = plate.get_well("B", "2").get_image(1)
        got = np.asarray(img.images[0].data)
    assert plate.name == "screen"
    np.testing.assert_array_equal(got, field(4, 1))


@pytest.mark.parametrize("version", VERSIONS)
def test_we_open_ome_zarr_py_plate(tmp_path, version):
    pytest.importorskip("ome_zarr")
    from ome_zarr.format import FormatV04, FormatV05
    from ome_zarr.writer import write_image as oz_write_image
    from ome_zarr.writer import write_plate_metadata, write_well_metadata

    fmt = FormatV04() if version == "0.4" else FormatV05()
    root = tmp_path / "oz.zarr"
    wells = [f"{r}/{c}" for r in ROWS for c in COLS]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = zarr.open_group(str(root), mode="w", zarr_format=2 if version == "0.4" else 3)
        write_plate_metadata(g, ROWS, COLS, wells, fmt=fmt, name="theirs", field_count=1)
        for i, w in enumerate(wells):
            wg = g.require_group(w)
            write_well_metadata(wg, ["0"], fmt=fmt)
            oz_write_image(np.full((16, 16), i, np.uint8), wg.require_group("0"), axes="yx",
                           fmt=fmt, scale_factors=[2])
    assert ngff.validate_path(root)
    plate = open_plate(root)
    assert plate.wells == wells and plate.plate.name == "theirs"
    assert plate.image("B", "1").levels[0][0, 0] == 3
