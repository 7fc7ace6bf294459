"""``omezarr-fast info`` and ``validate`` through a real subprocess."""
from __future__ import annotations

import json

import numpy as np
import pytest
from helpers.cli import run

from omezarr_fast.cli import main
from omezarr_fast.ome.image import write_image
from omezarr_fast.ome.labels import write_labels


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "img.zarr"
    data = np.arange(2 * 20 * 30, dtype=np.uint16).reshape(2, 20, 30)
    write_image(data, path, axes="cyx", levels=2, progress=False, name="img",
                units={"y": "micrometer", "x": "micrometer"})
    write_labels(np.zeros(data.shape, np.uint8), path, "cells", progress=False)
    return path


def test_info(image):
    rc, out, err = run("info", image)
    assert rc == 0, err
    assert "OME-Zarr 0.5 image 'img'" in out
    assert "(2, 20, 30)" in out and "(2, 10, 15)" in out
    assert "uint16" in out and "zstd(level=3)" in out
    assert "label image 'cells'" in out


def test_info_json(image):
    rc, out, _ = run("info", "--json", image)
    assert rc == 0
    d = json.loads(out)
    assert d["kind"] == "image"
    assert [lv["shape"] for lv in d["levels"]] == [[2, 20, 30], [2, 10, 15]]
    assert d["levels"][0]["bytes_on_disk"] > 0
    assert d["labels"][0]["name"] == "cells"


def test_info_plain_array(image, capsys):
    assert main(["info", str(image / "0")]) == 0
    out = capsys.readouterr().out
    assert "zarr v3 array" in out and "(2, 20, 30)" in out


def test_info_errors_are_one_line(tmp_path):
    rc, _, err = run("info", tmp_path / "missing")
    assert rc == 2 and "Traceback" not in err
    assert err.strip().count("\n") == 0 and "missing" in err



def test_info_not_zarr(tmp_path, capsys):
    assert main(["info", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "no zarr metadata (zarr.json, .zgroup or .zarray)" in err


def test_validate_valid(image):
    rc, out, err = run("validate", image)
    assert rc == 0, err
    assert "valid" in out
    rc, out, _ = run("validate", "--json", image)
    assert rc == 0 and json.loads(out)["valid"] is True


def test_validate_invalid(tmp_path):
    path = write_image(np.zeros((16, 16), np.uint8), tmp_path / "bad.zarr", levels=2,
                       progress=False)
    meta = json.loads((path / "zarr.json").read_text())
    meta["attributes"]["ome"]["multiscales"][0]["datasets"][1]["path"] = "nope"
    (path / "zarr.json").write_text(json.dumps(meta))
    rc, out, err = run("validate", path)
    assert rc == 1 and "Traceback" not in err and "error" in err
    rc, out, _ = run("validate", "--json", path)
    d = json.loads(out)
    assert rc == 1 and d["valid"] is False and "nope" in d["message"]


def test_validate_strict(tmp_path):
    # no units: a SHOULD the official strict schemas do not require, a warning either way
    path = write_image(np.zeros((16, 16), np.uint8), tmp_path / "s.zarr", progress=False)
    assert run("validate", path)[0] == 0
    rc, out, err = run("validate", "--strict", path)
    assert rc == 0 and "unit" in err
    # no multiscale type: required by the strict schema, so an error in strict mode only
    meta = json.loads((path / "zarr.json").read_text())
    del meta["attributes"]["ome"]["multiscales"][0]["type"]
    (path / "zarr.json").write_text(json.dumps(meta))
    assert run("validate", path)[0] == 0
    rc, out, _ = run("validate", "--strict", "--json", path)
    assert rc == 1 and "multiscales[0].type" in json.loads(out)["message"]


# --help and usage errors run in-process: argparse behaviour needs no fresh interpreter.
@pytest.mark.parametrize("cmd", [[], ["info"], ["validate"]])
def test_help(cmd, capsys):
    with pytest.raises(SystemExit) as e:
        main([*cmd, "--help"])
    assert e.value.code == 0 and "usage:" in capsys.readouterr().out


def test_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        main(["validate"])
    assert e.value.code == 2 and "usage:" in capsys.readouterr().err


# -- convert / pyramid ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def volume():
    return np.random.default_rng(5).integers(0, 999, (10, 70, 50), dtype=np.uint16)


def test_convert_npy_subprocess(tmp_path, volume):
    np.save(tmp_path / "a.npy", volume)
    rc, out, err = run("convert", tmp_path / "a.npy", tmp_path / "o.zarr", "--axes", "zyx", "--scale", "2,0.5,0.5",
                       "--units", "micrometer", "--levels", "3", "--chunks", "4,16,16")
    assert rc == 0, err
    assert "3 levels" in out
    from omezarr_fast.ome.image import open_image
    img = open_image(tmp_path / "o.zarr")
    np.testing.assert_array_equal(img.levels[0][...], volume)
    # z is 4x coarser than y/x: kept until they catch up
    assert img.multiscale.datasets[1].transforms.scale == [2.0, 1.0, 1.0]
    assert img.multiscale.datasets[2].transforms.scale == [2.0, 2.0, 2.0]
    assert [a.unit for a in img.multiscale.axes] == ["micrometer"] * 3
    rc, _, err = run("convert", tmp_path / "a.npy", tmp_path / "o.zarr", "--axes", "zyx")
    assert rc == 2 and "exists" in err and "Traceback" not in err


def test_convert_tiff_h5_and_v04(tmp_path, volume, capsys):
    tifffile = pytest.importorskip("tifffile")
    h5py = pytest.importorskip("h5py")
    from omezarr_fast import ngff
    from omezarr_fast.ome.image import open_image

    tifffile.imwrite(tmp_path / "a.tif", volume)
    with h5py.File(tmp_path / "a.h5", "w") as f:
        f["raw"] = volume
    assert main(["convert", str(tmp_path / "a.tif"), str(tmp_path / "t.zarr"), "--levels", "2",
                 "--axes", "zyx"]) == 0
    assert main(["convert", f"{tmp_path / 'a.h5'}:/raw", str(tmp_path / "h.zarr"), "--version", "0.4", "--axes", "zyx",
                 "--scale", "3,1,1", "--levels", "2"]) == 0
    # an OME-Zarr 0.4 image converts to 0.5 keeping its pixel sizes
    assert main(["convert", str(tmp_path / "h.zarr"), str(tmp_path / "h5.zarr"), "--levels", "3"]) == 0
    for name in ("t.zarr", "h.zarr", "h5.zarr"):
        np.testing.assert_array_equal(open_image(tmp_path / name).levels[0][...], volume)
        assert ngff.validate_path(tmp_path / name)
    img = open_image(tmp_path / "h5.zarr")
    assert img.version == "0.5" and len(img.levels) == 3
    assert img.multiscale.datasets[0].transforms.scale == [3.0, 1.0, 1.0]
    capsys.readouterr()
    assert main(["convert", f"{tmp_path / 'a.h5'}:/nope", str(tmp_path / "x.zarr")]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and err.strip().count("\n") == 0


def test_pyramid_rebuild(tmp_path, volume):
    from omezarr_fast import downsample, ngff
    from omezarr_fast.ome.image import open_image

    path = write_image(volume, tmp_path / "p.zarr", levels=2, chunks=(4, 16, 16),
                       shards=(8, 32, 32), progress=False)
    write_labels((volume % 3).astype(np.uint8), path, "l", progress=False)
    assert main(["pyramid", str(path), "--levels", "4", "--method", "max", "--no-progress"]) == 0
    img = open_image(path)
    assert len(img.levels) == 4 and img.multiscale.type == "max"
    want = volume
    for got in img.levels:
        np.testing.assert_array_equal(got[...], want)
        want = downsample(want, 2, "max")
    assert img.levels[0].shards == (8, 32, 32)
    assert img.labels == ["l"]
    assert not any(p.name.endswith("pyramid-tmp") for p in tmp_path.iterdir())
    lab = img.label("l")
    assert len(lab.levels) == 4 and lab.multiscale.type == "mode"
    res = ngff.validate_path(path)
    assert res, res.message
