"""upgrade_path / ``omezarr-fast upgrade``: OME-Zarr 0.4 hierarchies rewritten as 0.5."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import zarr
from helpers.cli import run
from helpers.ome import COLORS, PROPS, levels_of
from helpers.pipelines import ZARR

from omezarr_fast import (
    ngff,
    open_image,
    open_plate,
    upgrade_path,
    write_image,
    write_plate,
)
from omezarr_fast.ome import upgrade as up


def test_ome_zarr_py_image_with_labels(tmp_path, ozp04):
    out = upgrade_path(ozp04, tmp_path / "new.zarr", progress=False)
    res = ngff.validate_path(out)
    assert res, res.message
    assert res.version == "0.5"
    img = open_image(out)
    assert img.version == "0.5" and img.axes == list("czyx")
    old = ngff.read_metadata(ozp04).multiscales[0]
    assert [d.scale for d in img.multiscale.datasets] == [d.scale for d in old.datasets]
    assert [d.path for d in img.multiscale.datasets] == ["s0", "s1", "s2"]
    for got, want in zip(img.levels, levels_of(ozp04), strict=True):
        assert got.metadata.zarr_format == 3
        assert got.metadata.dimension_names == ("c", "z", "y", "x")
        assert got.chunks == (1, 4, 32, 32)  # as the source's
        assert got.shards is None
        np.testing.assert_array_equal(got[...], want)
    assert levels_of(ozp04, chunks=True) == [(1, 4, 32, 32)] * 3
    lab = img.label("cells")
    il = lab.attributes["ome"]["image-label"]
    assert il["colors"] == COLORS and il["properties"] == PROPS and "version" not in il
    for got, want in zip(lab.levels, levels_of(ozp04 / "labels" / "cells"), strict=True):
        assert got.metadata.dimension_names == ("c", "z", "y", "x")
        np.testing.assert_array_equal(got[...], want)


def test_rechunk_and_shard_then_peers_open_it(tmp_path, ozp04):
    out = upgrade_path(ozp04, tmp_path / "new.zarr", chunks={"z": 4, "y": 16, "x": 16},
                       shards={"z": 8, "y": 32, "x": 32}, codec="blosc", progress=False)
    img = open_image(out)
    assert img.levels[0].chunks == (1, 4, 16, 16) and img.levels[0].shards == (1, 8, 32, 32)
    # lower levels: the same shapes clipped to the level
    assert img.levels[2].chunks == (1, 4, 16, 16) and img.levels[2].shards == (1, 8, 16, 16)
    for got, want in zip(img.levels, levels_of(ozp04), strict=True):
        np.testing.assert_array_equal(got[...], want)
    ozm = pytest.importorskip("ome_zarr_models")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        group = ozm.open_ome_zarr(zarr.open_group(str(out), mode="r"), version="0.5")
        labels = ozm.open_ome_zarr(zarr.open_group(str(out / "labels" / "cells"), mode="r"),
                                   version="0.5")
    assert type(group).__name__ == "Image"
    assert type(labels).__name__ == "ImageLabel"


def test_plate(tmp_path):
    data = {f"{r}/{c}": [np.full((20, 16), i * 2 + f, np.uint16) for f in range(2)]
            for i, (r, c) in enumerate((r, c) for r in "AB" for c in "123")}
    src = write_plate(tmp_path / "p04.zarr", data, name="p", version="0.4", levels=2,
                      chunks=(8, 8), progress=False)
    out = upgrade_path(src, tmp_path / "p05.zarr", shards="auto", progress=False)
    assert ngff.validate_path(out).version == "0.5"
    plate = open_plate(out)
    assert plate.wells == [f"{r}/{c}" for r in "AB" for c in "123"]
    assert plate.plate.name == "p"
    img = plate.image("B", "2", 1)
    assert img.version == "0.5" and img.levels[0].shards is not None
    np.testing.assert_array_equal(img.levels[0][...], data["B/2"][1])
    assert img.levels[1].shape == (10, 8)
    ozm = pytest.importorskip("ome_zarr_models")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hcs = ozm.open_ome_zarr(zarr.open_group(str(out), mode="r"), version="0.5")
    assert type(hcs).__name__ == "HCS"


def test_bioformats2raw_container(tmp_path):
    root = tmp_path / "bf.zarr"
    g = zarr.open_group(str(root), mode="w", zarr_format=2)
    g.attrs.put(ngff.bioformats2raw_attributes(version="0.4"))
    for s in ("0", "1"):
        write_image(np.full((16, 16), int(s) + 5, np.uint8), root / s, levels=2, version="0.4",
                    progress=False)
    ome = g.create_group("OME")
    ome.attrs.put(ngff.series_attributes(["0", "1"], version="0.4"))
    (root / "OME" / "METADATA.ome.xml").write_text("<OME/>")
    out = upgrade_path(root, tmp_path / "bf05.zarr", progress=False)
    res = ngff.validate_path(out)
    assert res and res.version == "0.5", res.message
    top = json.loads((out / "zarr.json").read_text())["attributes"]
    assert top == {"ome": {"version": "0.5", "bioformats2raw.layout": 3}}
    assert open_image(out / "1").levels[0][0, 0] == 6
    assert (out / "OME" / "METADATA.ome.xml").read_text() == "<OME/>"


def test_errors_write_nothing(tmp_path, ozp04):
    dst = tmp_path / "d.zarr"
    new = write_image(np.zeros((8, 8), np.uint8), tmp_path / "v05.zarr", progress=False)
    cases = [
        ((new, dst), {}, ValueError, "can only upgrade OME-Zarr 0.4, found OME-Zarr 0.5"),
        ((tmp_path / "missing", dst), {}, FileNotFoundError, "no such directory"),
        ((ozp04, ozp04 / "sub"), {}, ValueError, "must not be src"),
        ((ozp04, dst), {"chunks": (1, 2, 3)}, ValueError, "3 entries"),
        ((ozp04, dst), {"chunks": {"y": 16}, "shards": {"y": 24}}, ValueError, "multiples"),
        ((ozp04, dst), {"shards": "big"}, ValueError, "'auto'"),
        ((ozp04, dst), {"codec": "lzma"}, ValueError, "codec"),
    ]
    for args, kw, exc, match in cases:
        with pytest.raises(exc, match=match):
            upgrade_path(*args, progress=False, **kw)
        assert not dst.exists()
        assert not (ozp04 / "sub").exists()


def test_invalid_source_is_refused(tmp_path):
    src = write_image(np.zeros((8, 8), np.uint8), tmp_path / "s.zarr", levels=2, version="0.4",
                      progress=False)
    attrs = json.loads((src / ".zattrs").read_text())
    attrs["multiscales"][0]["datasets"][1]["path"] = "missing"
    (src / ".zattrs").write_text(json.dumps(attrs))
    with pytest.raises(ValueError, match="not valid OME-Zarr 0.4"):
        upgrade_path(src, tmp_path / "d.zarr", progress=False)
    assert not (tmp_path / "d.zarr").exists()


@pytest.mark.parametrize("copier,codec", [("_copy", "zstd"), ("_copy_raw", "keep")])
def test_metadata_is_written_last(tmp_path, ozp04, monkeypatch, copier, codec):
    calls = []
    real = getattr(up, copier)

    def failing(*args):
        calls.append(args)
        if len(calls) == 3:
            raise OSError("disk full")
        real(*args)

    monkeypatch.setattr(up, copier, failing)
    with pytest.raises(OSError, match="disk full"):
        upgrade_path(ozp04, tmp_path / "d.zarr", codec=codec, progress=False)
    top = json.loads((tmp_path / "d.zarr" / "zarr.json").read_text())
    assert "ome" not in top.get("attributes", {})  # not mistaken for a finished image


def test_cli(tmp_path, ozp04):
    rc, out, err = run("upgrade", ozp04, tmp_path / "c.zarr", "--chunks", "auto",
                       "--shards", "auto", "--codec", "gzip", "--clevel", "1", "--no-progress")
    assert rc == 0, err
    assert "OME-Zarr 0.5" in out
    level0 = open_image(tmp_path / "c.zarr").levels[0]
    assert level0.shards is not None
    assert [(type(c).__name__, c.level) for c in level0.compressors] == [("GzipCodec", 1)]
    rc, out, err = run("upgrade", ozp04, tmp_path / "c.zarr")
    assert rc == 2 and err.count("\n") == 1 and "exists" in err



def test_cli_in_process(tmp_path, ozp04, capsys):
    from omezarr_fast.cli import main

    with pytest.raises(SystemExit) as e:
        main(["upgrade", str(ozp04), str(tmp_path / "e.zarr"), "--chunks", "y=x"])
    assert e.value.code == 2 and "expected 'auto'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["upgrade", "--help"])
    assert e.value.code == 0 and "--shards" in capsys.readouterr().out
    assert main(["upgrade", str(ozp04), str(tmp_path / "e.zarr"), "--chunks", "1,2,3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("omezarr-fast upgrade: error: chunks has 3 entries") and \
        err.count("\n") == 1
    assert not (tmp_path / "e.zarr").exists()


@pytest.mark.parametrize("shards", [None, (1, 4, 48, 32)])
def test_many_blocks_and_unaligned_chunks(tmp_path, ozp04, monkeypatch, shards):
    # Tiny blocks: many per array, edge blocks, old chunks (1, 4, 32, 32) not dividing the
    # new chunks/shards, so blocks fall back to the write unit and re-read source chunks.
    monkeypatch.setattr(up, "BLOCK_BYTES", 4096)
    out = upgrade_path(ozp04, tmp_path / "n.zarr", chunks=(1, 2, 24, 16), shards=shards,
                       progress=False)
    img = open_image(out)
    for got, want in zip(img.levels, levels_of(ozp04), strict=True):
        np.testing.assert_array_equal(got[...], want)
    np.testing.assert_array_equal(img.label("cells").levels[1][...],
                                  levels_of(ozp04 / "labels" / "cells")[1])
    assert up.copy_block_shape((2, 8, 64, 48), (1, 4, 48, 32), (1, 4, 32, 32), 2) == [1, 4, 48, 32]
    assert up.copy_block_shape((2, 8, 64, 48), (1, 4, 16, 16), (1, 4, 32, 32), 2) == [1, 4, 32, 32]


def zarr_default_read(path):
    """Read with zarr's own codec pipeline (not ours): checks the shard layout we wrote."""
    with zarr.config.set(ZARR):
        return zarr.open_array(str(path), mode="r")[...]


def test_keep_copies_encoded_chunks_as_they_are(tmp_path, ozp04):
    out = upgrade_path(ozp04, tmp_path / "k.zarr", progress=False)
    arr = zarr.open_array(str(out / "s0"), mode="r")
    assert [type(c).__name__ for c in arr.compressors] == ["ZstdCodec"]
    old = (ozp04 / "s0" / "1" / "1" / "0" / "1").read_bytes()
    assert (out / "s0" / "c" / "1" / "1" / "0" / "1").read_bytes() == old  # not re-encoded
    np.testing.assert_array_equal(zarr_default_read(out / "s0"), levels_of(ozp04)[0])


@pytest.mark.parametrize("codec", ["zstd", "gzip", "blosc", None])
def test_keep_gathers_encoded_chunks_into_shards(tmp_path, codec):
    rng = np.random.default_rng(9)
    data = rng.integers(0, 3000, (5, 37, 45), dtype=np.uint16)
    data[:, :16, :16] = 0  # an all-zero chunk, which zarr does not store: empty in the shard
    src = write_image(data, tmp_path / "s.zarr", chunks=(2, 8, 16), levels=2, version="0.4",
                      codec=codec, progress=False)
    assert not (src / "0" / "0" / "0" / "0").exists()  # what the test is about
    out = upgrade_path(src, tmp_path / "k.zarr", shards={"z": 4, "y": 16, "x": 32},
                       progress=False)
    arr = zarr.open_array(str(out / "0"), mode="r")
    assert arr.chunks == (2, 8, 16) and arr.shards == (4, 16, 32)
    want = {"zstd": ["ZstdCodec"], "gzip": ["GzipCodec"], "blosc": ["BloscCodec"], None: []}
    assert [type(c).__name__ for c in arr.compressors] == want[codec]
    for k, level in zip(("0", "1"), levels_of(src), strict=True):
        np.testing.assert_array_equal(zarr_default_read(out / k), level)
        np.testing.assert_array_equal(open_image(out).levels[int(k)][...], level)
    ts = pytest.importorskip("tensorstore")
    got = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": str(out / "0")}},
                  open=True).result().read().result()
    np.testing.assert_array_equal(got, data)


def test_keep_re_encodes_what_v3_cannot_hold(tmp_path):
    import numcodecs

    root = tmp_path / "s.zarr"
    data = np.arange(20 * 24, dtype=np.int32).reshape(20, 24)
    g = zarr.open_group(str(root), mode="w", zarr_format=2)
    # zlib (no v3 codec), a filter, Fortran order: each forces decoding and re-encoding
    g.create_array("0", shape=data.shape, dtype=data.dtype, chunks=(8, 8),
                   compressors=numcodecs.Zlib(level=1))[...] = data
    g.create_array("1", shape=data.shape, dtype=data.dtype, chunks=(8, 8),
                   filters=[numcodecs.Delta(dtype="i4")], compressors=numcodecs.Zstd(level=1),
                   order="F")[...] = data
    ms = ngff.build_multiscale(ngff.make_axes("yx"), [1.0, 1.0], [[1, 1]])
    g.attrs.put(ngff.image_attributes(ms, version="0.4"))
    out = upgrade_path(root, tmp_path / "k.zarr", shards=(16, 16), validate=False,
                       progress=False)
    a0, a1 = (zarr.open_array(str(out / k), mode="r") for k in "01")
    assert [type(c).__name__ for c in a0.compressors] == ["ZstdCodec"]
    assert a0.compressors[0].level == 3
    assert [type(c).__name__ for c in a1.compressors] == ["ZstdCodec"]
    np.testing.assert_array_equal(a0[...], data)
    np.testing.assert_array_equal(a1[...], data)


def test_shards_fit_each_arrays_kept_chunks(tmp_path, ozp04):
    # image chunks (1, 4, 32, 32), label chunks (1, 8, 64, 48) (ome-zarr-py's): x=64 is
    # rounded down to 48 for the label, and ngff-zarr reads the result
    out = upgrade_path(ozp04, tmp_path / "n.zarr", shards={"z": 8, "y": 64, "x": 64},
                       progress=False)
    img = open_image(out)
    assert img.levels[0].shards == (1, 8, 64, 64)
    assert img.label("cells").levels[0].shards == (1, 8, 64, 48)
    nz = pytest.importorskip("ngff_zarr")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ms = nz.from_ngff_zarr(str(out), validate=True)
        got = [np.asarray(i.data) for i in ms.images]
    for g, w in zip(got, levels_of(ozp04), strict=True):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("shards", [None, (16, 32)])
def test_keep_with_flat_v2_chunk_keys(tmp_path, shards):
    import numcodecs

    root = tmp_path / "s.zarr"
    data = np.random.default_rng(3).integers(0, 255, (20, 40), dtype=np.uint8)
    g = zarr.open_group(str(root), mode="w", zarr_format=2)
    g.create_array("0", shape=data.shape, dtype=data.dtype, chunks=(8, 16),
                   chunk_key_encoding={"name": "v2", "separator": "."},
                   compressors=numcodecs.Zstd(level=5))[...] = data
    assert (root / "0" / "1.2").is_file()
    ms = ngff.build_multiscale(ngff.make_axes("yx"), [1.0, 1.0], [])
    g.attrs.put(ngff.image_attributes(ms, version="0.4"))
    out = upgrade_path(root, tmp_path / "k.zarr", shards=shards, progress=False)
    if shards is None:
        assert (out / "0" / "c" / "1" / "2").read_bytes() == (root / "0" / "1.2").read_bytes()
    np.testing.assert_array_equal(zarr_default_read(out / "0"), data)
