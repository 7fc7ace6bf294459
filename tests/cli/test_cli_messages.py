"""What a new user sees: each mistake or odd input gets one clear line naming the thing."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from helpers.cli import SRC, run

from omezarr_fast import ngff
from omezarr_fast.ome.image import write_image
from omezarr_fast.ome.labels import write_labels
from omezarr_fast.ome.plate import write_plate


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """A 0.5 image without units: valid, with two warnings."""
    path = tmp_path_factory.mktemp("msg") / "img.zarr"
    write_image(np.arange(2 * 32 * 32, dtype=np.uint16).reshape(2, 32, 32), path, axes="cyx",
                chunks=(1, 16, 16), levels=2, progress=False)
    return path


def _one_line(err: str) -> str:
    assert "Traceback" not in err
    assert err.strip().count("\n") == 0, err
    return err.strip()


def test_validate_missing_path_names_it(tmp_path):
    missing = tmp_path / "nothere.zarr"
    for extra in ([], ["--json"]):
        rc, out, err = run("validate", *extra, missing)
        line = _one_line(err)
        assert rc == 2 and out == ""
        assert f"{missing}: no such file or directory" in line and "''" not in line
    # the API names it too
    res = ngff.validate_path(missing)
    assert not res and res.errors[0].message == f"{missing}: no such file or directory"
    (tmp_path / "empty").mkdir()
    res = ngff.validate_path(tmp_path / "empty")
    assert "no zarr metadata" in res.message and str(tmp_path / "empty") in res.message


def test_validate_json_has_the_warnings(image):
    rc, out, err = run("validate", "--json", image)
    assert rc == 0 and err == ""
    d = json.loads(out)
    assert d["valid"] is True and d["version"] == "0.5" and d["errors"] == []
    paths = [w["path"] for w in d["warnings"]]
    assert paths == ["ome.multiscales[0].axes[1].unit", "ome.multiscales[0].axes[2].unit"]
    assert all("unit" in w["message"] and w["node"] == "" for w in d["warnings"])
    rc, out, err = run("validate", image)
    assert rc == 0 and out.strip() == f"{image}: valid OME-Zarr 0.5 (2 warnings)"
    assert err.count("warning: ome.multiscales[0].axes") == 2


def test_validate_json_invalid_lists_errors(image, tmp_path):
    bad = tmp_path / "bad.zarr"
    shutil.copytree(image, bad)
    shutil.rmtree(bad / "1")
    rc, out, _ = run("validate", "--json", bad)
    d = json.loads(out)
    assert rc == 1 and d["valid"] is False
    assert d["errors"] == [{"node": "", "path": "ome.multiscales[0].datasets[1].path",
                            "message": "'1' not found"}]
    rc, out, err = run("validate", bad)
    assert rc == 1 and err.splitlines()[0] == f"{bad}: invalid OME-Zarr 0.5: 1 error (2 warnings)"


def test_info_into_a_closed_pipe_is_quiet(image):
    """``omezarr-fast info x | head``: the reader is gone before we write; no error line."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write now fails with EPIPE, as after head exits
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        p = subprocess.run([sys.executable, "-m", "omezarr_fast.cli", "info", str(image)],
                           stdout=write_end, stderr=subprocess.PIPE, text=True, env=env,
                           timeout=60, check=False)
    finally:
        os.close(write_end)
    assert p.stderr == ""
    assert p.returncode == 141  # 128 + SIGPIPE, as a Unix tool killed by SIGPIPE


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    path = tmp_path_factory.mktemp("plate") / "plate.zarr"
    im = np.ones((2, 32, 32), np.uint16)
    write_plate(path, {"A/1": [im, im], "B/3": [im]}, rows="ABC", columns=["1", "2", "3"],
                name="screen", acquisitions=[{"id": 0, "name": "run 1"}, {"id": 1, "name": "run 2"}],
                field_acquisitions={"A/1": [0, 1], "B/3": [1]}, axes="cyx", chunks=(1, 16, 16),
                levels=2, progress=False)
    return path


def test_info_plate_shows_the_plate(plate):
    rc, out, err = run("info", plate)
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == f"{plate}: OME-Zarr 0.5 plate 'screen'"
    assert "rows: A, B, C (3)" in out and "columns: 1, 2, 3 (3)" in out
    assert "wells: 2 of 9; fields: 3" in out
    assert "acquisitions: 0 'run 1', 1 'run 2'" in out
    rows = [line.split() for line in lines if line.strip().startswith(("A/1", "B/3"))]
    # well, field, acquisition, axes, levels, level-0 shape .. last shape
    assert [r[:5] for r in rows] == [["A/1", "0", "0", "cyx", "2"], ["A/1", "1", "1", "cyx", "2"],
                                     ["B/3", "0", "1", "cyx", "2"]]
    assert all("(2, 32, 32) .. (2, 16, 16)" in line for line in lines
               if line.strip().startswith(("A/1", "B/3")))
    rc, out, _ = run("info", "--json", plate)
    d = json.loads(out)
    assert d["rows"] == ["A", "B", "C"] and d["columns"] == ["1", "2", "3"]
    assert [a["id"] for a in d["acquisitions"]] == [0, 1]
    w = d["wells"][0]
    assert (w["path"], w["row"], w["column"]) == ("A/1", "A", "1")
    assert [f["acquisition"] for f in w["fields"]] == [0, 1]
    assert [lv["shape"] for lv in w["fields"][1]["image"]["levels"]] == [[2, 32, 32], [2, 16, 16]]


def test_info_well(plate):
    rc, out, err = run("info", plate / "A" / "1")
    assert rc == 0, err
    assert "fields: 2" in out and "(2, 32, 32) .. (2, 16, 16)" in out


def _interrupted(tmp_path, image, how):
    p = tmp_path / f"{how}.zarr"
    shutil.copytree(image, p)
    meta = json.loads((p / "zarr.json").read_text())
    if how == "group_without_ome":
        meta["attributes"] = {}
        (p / "zarr.json").write_text(json.dumps(meta))
    elif how == "arrays_only":
        (p / "zarr.json").unlink()
    elif how == "level_missing":
        shutil.rmtree(p / "1")
    elif how == "truncated_json":
        text = (p / "zarr.json").read_text()
        (p / "zarr.json").write_text(text[: len(text) // 2])
    elif how == "half_multiscales":
        del meta["attributes"]["ome"]["multiscales"][0]["datasets"]
        (p / "zarr.json").write_text(json.dumps(meta))
    elif how == "level_metadata_broken":
        (p / "1" / "zarr.json").write_text(json.dumps({"zarr_format": 3, "node_type": "array"}))
    return p


@pytest.mark.parametrize("how,expected", [
    ("group_without_ome", "a zarr group without OME-Zarr metadata; it holds 0, 1"),
    ("arrays_only", "no zarr metadata (zarr.json, .zgroup or .zarray); it holds 0, 1"),
    ("level_missing", "level 1 ('1') is in the metadata but not on disk"),
    ("truncated_json", "zarr.json: not valid JSON"),
    ("half_multiscales", "datasets: must be a non-empty list"),
    ("level_metadata_broken", "zarr cannot open the array"),
])
def test_info_on_interrupted_output(tmp_path, image, how, expected):
    p = _interrupted(tmp_path, image, how)
    rc, out, err = run("info", p)
    line = _one_line(err)
    assert rc == 2 and out == ""
    assert expected in line and str(p) in line
    for noise in ("pydantic", "Failed to parse", "validation error", "node_type"):
        assert noise not in line


def test_info_broken_label_does_not_hide_the_image(tmp_path, image):
    p = tmp_path / "withlabel.zarr"
    shutil.copytree(image, p)
    write_labels(np.zeros((2, 32, 32), np.uint8), p, "cells", progress=False)
    shutil.rmtree(p / "labels" / "cells" / "1")
    rc, out, err = run("info", p)
    assert rc == 0, err
    assert "OME-Zarr 0.5 image" in out
    assert "cells: error: " in out and "level 1 ('1') is in the metadata but not on disk" in out


def test_exists_error_speaks_the_callers_language(tmp_path, image):
    out = tmp_path / "out.zarr"
    out.mkdir()
    rc, _, err = run("convert", image, out)
    line = _one_line(err)
    assert rc == 2 and f"{out} already exists; add --overwrite to replace it" in line
    assert "overwrite=True" not in line
    with pytest.raises(FileExistsError) as info:
        write_image(np.zeros((8, 8), np.uint8), out, progress=False)
    assert str(info.value) == f"{out} already exists; pass overwrite=True to replace it"


def test_convert_hdf5_without_dataset_lists_them(tmp_path):
    h5py = pytest.importorskip("h5py")
    f = tmp_path / "d.h5"
    with h5py.File(f, "w") as h:
        h["raw"] = np.zeros((4, 16, 16), np.uint8)
        h.create_group("g")["seg"] = np.zeros((4, 16, 16), np.uint8)
    rc, _, err = run("convert", f, tmp_path / "o.zarr")
    line = _one_line(err)
    assert rc == 2 and str(f) in line and "/raw" in line and "/g/seg" in line
    assert not (tmp_path / "o.zarr").exists()
