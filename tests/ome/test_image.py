"""write_image / write_labels / open_image: round trips, streaming, metadata, interop."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import zarr
from helpers.pyramid import SPATIAL, oracle

from omezarr_fast import ngff
from omezarr_fast.ome.image import open_image, write_image
from omezarr_fast.ome.labels import write_labels

VERSIONS = ("0.4", "0.5")


def small_layout(axes):
    # Small chunks/shards so the tests exercise many blocks, partial edge shards and
    # lower-level shards assembled from several blocks.
    chunks = tuple(8 if a in SPATIAL else 1 for a in axes)
    shards = tuple(16 if a in SPATIAL else 1 for a in axes)
    return chunks, shards


AXES_SHAPES = [
    ("yx", (67, 45)),
    ("zyx", (21, 37, 19)),
    ("cyx", (2, 33, 41)),
    ("tyx", (3, 17, 40)),
    ("czyx", (2, 9, 35, 23)),
    ("tzyx", (2, 11, 18, 17)),
    ("tcyx", (2, 3, 20, 31)),
    ("tczyx", (2, 2, 7, 19, 26)),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("axes,shape", AXES_SHAPES)
def test_round_trip_levels_equal_oracle(tmp_path, version, axes, shape):
    rng = np.random.default_rng(len(axes))
    data = rng.integers(0, 60000, shape, dtype=np.uint16)
    chunks, shards = small_layout(axes)
    path = write_image(data, tmp_path / "img.zarr", axes=axes, chunks=chunks, shards=shards,
                       levels=3, version=version, progress=False)
    img = open_image(path)
    assert img.version == version
    assert img.axes == list(axes)
    assert len(img.levels) == 3
    for got, want in zip(img.levels, oracle(data, axes, 3), strict=True):
        np.testing.assert_array_equal(got[...], want)
    res = ngff.validate_path(path)
    assert res, res.message


@pytest.mark.parametrize("version", VERSIONS)
def test_zarr_and_dask_sources_equal_numpy(tmp_path, version):
    rng = np.random.default_rng(7)
    data = rng.normal(100, 20, (13, 70, 51)).astype(np.float32)
    src = zarr.create_array(str(tmp_path / "src.zarr"), shape=data.shape, dtype=data.dtype,
                            chunks=(5, 9, 11))
    src[...] = data
    kw = {"chunks": (4, 8, 8), "shards": (8, 16, 16), "levels": 4, "version": version,
          "progress": False}
    a = open_image(write_image(data, tmp_path / "np.zarr", **kw))
    b = open_image(write_image(zarr.open_array(str(tmp_path / "src.zarr")), tmp_path / "z.zarr",
                               **kw))
    want = oracle(data, "zyx", 4)
    for la, lb, w in zip(a.levels, b.levels, want, strict=True):
        np.testing.assert_array_equal(la[...], w)
        np.testing.assert_array_equal(lb[...], w)
    da = pytest.importorskip("dask.array")
    c = open_image(write_image(da.from_array(data, chunks=(6, 20, 20)), tmp_path / "d.zarr", **kw))
    for lc, w in zip(c.levels, want, strict=True):
        np.testing.assert_array_equal(lc[...], w)
    np.testing.assert_array_equal(c.to_dask(2).compute(), want[2])


@pytest.mark.parametrize("version", VERSIONS)
def test_metadata(tmp_path, version):
    data = np.zeros((2, 6, 40, 30), dtype=np.uint8)
    path = write_image(data, tmp_path / "m.zarr", axes="czyx", scale={"z": 2.0, "y": 0.5, "x": 0.5},
                       units={"z": "micrometer", "y": "micrometer", "x": "micrometer"},
                       translation=[0, 10.0, 0, 0], levels=3, name="cells",
                       channel_names=["dapi", "gfp"], channel_colors=["0000FF", "00FF00"],
                       version=version, progress=False)
    img = open_image(path)
    ms = img.multiscale
    assert ms.name == "cells" and ms.type == "mean"
    assert [a.unit for a in ms.axes] == [None, "micrometer", "micrometer", "micrometer"]
    # z is 4x coarser than y/x: it is kept until they catch up (issue 15)
    assert [d.transforms.scale for d in ms.datasets] == [
        [1.0, 2.0, 0.5, 0.5], [1.0, 2.0, 1.0, 1.0], [1.0, 2.0, 2.0, 2.0]]
    assert ms.datasets[2].transforms.translation == [0.0, 10.0, 0.75, 0.75]
    assert [a.shape for a in img.levels] == [(2, 6, 40, 30), (2, 6, 20, 15), (2, 6, 10, 8)]
    assert [c.label for c in img.metadata.omero.channels] == ["dapi", "gfp"]
    if version == "0.5":
        meta = json.loads((path / "0" / "zarr.json").read_text())
        assert meta["dimension_names"] == ["c", "z", "y", "x"]
        assert meta["codecs"][0]["name"] == "sharding_indexed"
        inner = [c["name"] for c in meta["codecs"][0]["configuration"]["codecs"]]
        assert inner == ["bytes", "zstd"]
    else:
        meta = json.loads((path / "0" / ".zarray").read_text())
        assert meta["dimension_separator"] == "/"
        assert meta["compressor"]["id"] == "zstd"
    assert ngff.validate_path(path, strict=True), ngff.validate_path(path, strict=True).message


def test_default_write_small(tmp_path):
    data = np.ones((3, 300, 260), dtype=np.int16)
    img = open_image(write_image(data, tmp_path / "d.zarr", progress=False))
    # levels until every downsampled side fits one chunk
    last = img.levels[-1]
    assert all(s <= c for s, c in zip(last.shape[1:], last.chunks[1:]))
    assert img.levels[0].metadata.dimension_names == ("z", "y", "x")


@pytest.mark.parametrize("version", VERSIONS)
def test_labels(tmp_path, version):
    rng = np.random.default_rng(3)
    data = rng.integers(0, 255, (9, 41, 35), dtype=np.uint8)
    path = write_image(data, tmp_path / "i.zarr", chunks=(4, 8, 8), shards=(8, 16, 16), levels=3,
                       version=version, progress=False)
    labels = rng.integers(0, 4, data.shape, dtype=np.uint32)
    write_labels(labels, path, "cells", colors={1: (255, 0, 0, 255)},
                 properties={1: {"class": "nucleus"}}, chunks=(4, 8, 8), shards=(8, 16, 16),
                 progress=False)
    write_labels(labels > 2, path, "mask", progress=False)
    img = open_image(path)
    assert img.labels == ["cells", "mask"]
    lab = img.label("cells")
    assert len(lab.levels) == len(img.levels)
    assert [a.shape for a in lab.levels] == [a.shape for a in img.levels]
    for got, want in zip(lab.levels, oracle(labels, "zyx", 3, "mode"), strict=True):
        np.testing.assert_array_equal(got[...], want)
    il = lab.metadata.image_label
    assert il.colors[0].label_value == 1 and il.source == {"image": "../../"}
    assert img.label("mask").levels[0].dtype == np.uint8
    res = ngff.validate_path(path)
    assert res, res.message
    with pytest.raises(KeyError, match="nope"):
        img.label("nope")
    with pytest.raises(FileExistsError):
        write_labels(labels, path, "cells", progress=False)
    with pytest.raises(TypeError, match="integer"):
        write_labels(labels.astype(np.float32), path, "f", progress=False)
    with pytest.raises(ValueError, match="shape"):
        write_labels(labels[:3], path, "s", progress=False)


def test_overwrite_and_bad_input(tmp_path):
    data = np.zeros((20, 20), np.uint8)
    p = write_image(data, tmp_path / "o.zarr", progress=False)
    with pytest.raises(FileExistsError, match="overwrite"):
        write_image(data, p, progress=False)
    write_image(data + 1, p, overwrite=True, progress=False)
    assert open_image(p).levels[0][0, 0] == 1
    with pytest.raises(ValueError, match="axes"):
        write_image(data, tmp_path / "a.zarr", axes="zyx")
    with pytest.raises(ValueError, match="method"):
        write_image(data, tmp_path / "b.zarr", method="bogus")
    with pytest.raises(ValueError, match="version"):
        write_image(data, tmp_path / "c.zarr", version="0.3")
    with pytest.raises(ValueError, match="multiples"):
        write_image(data, tmp_path / "d.zarr", chunks=(8, 8), shards=(12, 16))
    with pytest.raises(ValueError, match="dimensions"):
        write_image(np.zeros(5), tmp_path / "e.zarr")
    with pytest.raises(ValueError, match="codec"):
        write_image(data, tmp_path / "f.zarr", codec="lzma")
    with pytest.raises(ValueError, match="unknown axis"):
        write_image(data, tmp_path / "g.zarr", scale={"q": 1.0})
    assert not (tmp_path / "a.zarr").exists()  # validation happens before anything is written


@pytest.mark.parametrize("codec", ["gzip", "blosc", None])
def test_other_codecs(tmp_path, codec):
    data = np.arange(50 * 60, dtype=np.uint16).reshape(50, 60)
    img = open_image(write_image(data, tmp_path / "c.zarr", codec=codec, levels=2, progress=False))
    np.testing.assert_array_equal(img.levels[0][...], data)


# -- interop --------------------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_ome_zarr_models_reads_ours(tmp_path, version):
    ozm = pytest.importorskip("ome_zarr_models")
    data = np.zeros((2, 5, 30, 20), dtype=np.uint16)
    path = write_image(data, tmp_path / "x.zarr", axes="czyx", levels=2, version=version,
                       progress=False)
    write_labels(np.zeros(data.shape, np.uint8), path, "l", progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        group = ozm.open_ome_zarr(zarr.open_group(str(path), mode="r"), version=version)
    assert type(group).__name__ == "Image"


@pytest.mark.parametrize("version", VERSIONS)
def test_ngff_zarr_reads_ours(tmp_path, version):
    nz = pytest.importorskip("ngff_zarr")
    data = np.random.default_rng(1).integers(0, 100, (6, 33, 20), dtype=np.uint8)
    path = write_image(data, tmp_path / "x.zarr", levels=3, version=version, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ms = nz.from_ngff_zarr(str(path), validate=True)
        got = [np.asarray(i.data) for i in ms.images]
    for g, w in zip(got, oracle(data, "zyx", 3), strict=True):
        np.testing.assert_array_equal(g, w)


def test_ome_zarr_py_reads_ours(tmp_path):
    pytest.importorskip("ome_zarr")
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    data = np.random.default_rng(2).integers(0, 100, (3, 40, 24), dtype=np.uint16)
    path = write_image(data, tmp_path / "x.zarr", axes="cyx", levels=2, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nodes = list(Reader(parse_url(str(path)))())
        got = [np.asarray(d) for d in nodes[0].data]
    for g, w in zip(got, oracle(data, "cyx", 2), strict=True):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("version", VERSIONS)
def test_we_open_ngff_zarr_output(tmp_path, version):
    nz = pytest.importorskip("ngff_zarr")
    data = np.random.default_rng(4).integers(0, 100, (2, 9, 33, 47), dtype=np.uint16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        img = nz.to_ngff_image(data, dims=["c", "z", "y", "x"])
        ms = nz.to_multiscales(img, scale_factors=[2, 4], method=nz.Methods.DASK_BIN_SHRINK)
        nz.to_ngff_zarr(str(tmp_path / "n.zarr"), ms, version=version)
    ours = open_image(tmp_path / "n.zarr")
    assert ours.version == version and len(ours.levels) == 3
    np.testing.assert_array_equal(ours.levels[0][...], data)


@pytest.mark.parametrize("version", VERSIONS)
def test_plate_2x3(tmp_path, version):
    from omezarr_fast.ome.plate import open_plate

    root = tmp_path / "plate.zarr"
    rows, cols = ["A", "B"], ["1", "2", "3"]
    wells = [f"{r}/{c}" for r in rows for c in cols]
    zf = 3 if version == "0.5" else 2
    g = zarr.open_group(str(root), mode="w-", zarr_format=zf)
    for i, w in enumerate(wells):
        for f in range(2):
            write_image(np.full((2, 16, 16), 10 * i + f, np.uint8), root / w / str(f), axes="cyx",
                        levels=2, version=version, progress=False)
        wg = zarr.open_group(str(root / w), mode="a", zarr_format=zf)
        wg.attrs.update(ngff.well_attributes(ngff.build_well(["0", "1"]), version=version))
    for r in rows:
        zarr.open_group(str(root / r), mode="a", zarr_format=zf)
    g.attrs.update(ngff.plate_attributes(ngff.build_plate(rows, cols, wells, name="p",
                                                          field_count=2), version=version))
    res = ngff.validate_path(root)
    assert res, res.message
    plate = open_plate(root)
    assert plate.rows == rows and plate.columns == cols and plate.wells == wells
    assert plate.fields("B", "2") == ["0", "1"]
    assert plate.image("B", "2", 1).levels[0][0, 0, 0] == 10 * 4 + 1
    with pytest.raises(KeyError):
        plate.fields("C", "1")
    with pytest.raises(IndexError):
        plate.image("A", "1", 2)
    with pytest.raises(ValueError, match="not a plate"):
        open_plate(root / "A" / "1")


def test_progress_bar_forced(tmp_path, capsys):
    data = np.zeros((40, 40), np.uint8)
    write_image(data, tmp_path / "p.zarr", chunks=(8, 8), shards=(16, 16), levels=2,
                progress=True)
    assert capsys.readouterr().out == ""  # the bar goes to stderr, never stdout
    assert open_image(tmp_path / "p.zarr").levels[1].shape == (20, 20)
