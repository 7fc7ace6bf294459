"""``omezarr-fast info`` and ``validate`` through a real subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from omezarr_fast.cli import main
from omezarr_fast.image import write_image, write_labels

SRC = str(Path(__file__).resolve().parent.parent / "src")


def run(*args):
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    p = subprocess.run([sys.executable, "-m", "omezarr_fast.cli", *map(str, args)],
                       capture_output=True, text=True, env=env, timeout=60)
    return p.returncode, p.stdout, p.stderr


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
    rc, out, err = run("info", tmp_path / "missing")
    assert rc == 2 and "Traceback" not in err
    assert err.strip().count("\n") == 0 and "missing" in err



def test_info_not_zarr(tmp_path, capsys):
    assert main(["info", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "neither OME-Zarr metadata nor a zarr array" in err


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
    # no units: fine normally, a SHOULD violation in strict mode
    path = write_image(np.zeros((16, 16), np.uint8), tmp_path / "s.zarr", progress=False)
    assert run("validate", path)[0] == 0
    rc, out, _ = run("validate", "--strict", "--json", path)
    assert rc == 1 and "unit" in json.loads(out)["message"]


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
