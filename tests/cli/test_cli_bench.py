"""The `omezarr-fast bench` command, end to end on tiny inputs."""
import csv
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import omezarr_fast
from omezarr_fast import bench
from omezarr_fast.cli import main

SRC = str(Path(omezarr_fast.__file__).resolve().parents[1])
ZSTD1 = '[{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "zstd", "configuration": {"level": 1}}]'
GZIP = '[{"name": "gzip", "configuration": {"level": 1}}]'


def run_cli(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""), COLUMNS="160")
    return subprocess.run([sys.executable, "-m", "omezarr_fast.cli", *args], capture_output=True, text=True,
                          check=False, env=env, cwd=cwd, timeout=120)


@pytest.fixture
def small_npy(tmp_path):
    path = tmp_path / "small.npy"
    np.save(path, bench.synthetic_sample((2, 4, 64, 64)))
    return path


def png_size(path):
    head = Path(path).read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def test_end_to_end(small_npy, tmp_path):
    out_csv, out_json, out_png = tmp_path / "r.csv", tmp_path / "r.json", tmp_path / "r.png"
    p = run_cli("bench", str(small_npy), "--chunks", "1,2,32,32", "--codecs", ZSTD1, GZIP, "--repeats", "1",
                "--csv", str(out_csv), "--json", str(out_json), "--plot", str(out_png), "--goal", "ratio")
    assert p.returncode == 0, p.stderr
    assert "Codec benchmark" in p.stdout and "memcpy (baseline)" in p.stdout
    assert "zstd 1" in p.stdout and "gzip 1" in p.stdout and "native" in p.stdout
    assert "Recommended for goal 'ratio'" in p.stdout
    assert "Traceback" not in p.stderr

    with out_csv.open() as f:
        rows = list(csv.DictReader(f))
    assert [r["name"] for r in rows] == ["memcpy (baseline)", "zstd 1", "gzip 1"]
    for r in rows[1:]:
        assert float(r["ratio"]) > 1.2 and float(r["decode_mbps_1"]) > 0 and float(r["encode_mbps_n"]) > 0
        assert json.loads(r["codecs"])[0]["name"] == "bytes"
    assert sum(r["recommended"] == "True" for r in rows) == 1

    d = json.loads(out_json.read_text())
    assert d["chunk_shape"] == [1, 2, 32, 32] and d["shape"] == [2, 4, 64, 64]
    assert len(d["sampled_chunks"]) == 16 and d["repeats"] == 1
    assert [r["name"] for r in d["results"]] == ["zstd 1", "gzip 1"]
    rec = d["recommendation"]
    assert rec["codecs"] in [r["codecs"] for r in d["results"]]
    # What the command recommends is what zarr takes, both ways.
    import zarr

    a = zarr.create_array(store=str(tmp_path / "x.zarr"), shape=(4,), dtype="uint16", **rec["create_array"])
    a[:] = 7
    assert a[:].tolist() == [7] * 4
    assert json.loads((tmp_path / "x.zarr" / "zarr.json").read_text())["codecs"] == rec["codecs"]
    assert "zarr.create_array(..., filters=[], serializer=" in p.stdout

    assert png_size(out_png) == (1400, 560) and out_png.stat().st_size > 10_000
    # stderr is a pipe here, not a terminal: progress comes as plain lines (issue 15)
    assert "bench: 2/2 configurations measured" in p.stderr

    # The advice applies: convert writes the recommended chain as it is (inside the shards).
    (tmp_path / "rec.json").write_text(json.dumps(rec["codecs"]))
    c = run_cli("convert", str(small_npy), str(tmp_path / "o.zarr"), "--axes", "czyx",
                "--codec", f"@{tmp_path / 'rec.json'}", "--no-progress")
    assert c.returncode == 0, c.stderr
    level0 = json.loads((tmp_path / "o.zarr" / "0" / "zarr.json").read_text())
    assert level0["codecs"][0]["name"] == "sharding_indexed"
    assert level0["codecs"][0]["configuration"]["codecs"] == rec["codecs"]
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "o.zarr" / "0"))[...], np.load(small_npy))


def test_synthetic_default_says_so(capsys, monkeypatch):
    # A smaller synthetic sample keeps this quick; the command must say it used the synthetic data.
    monkeypatch.setattr(bench.sampling, "synthetic_sample", lambda: bench.synthetic_sample((2, 4, 64, 64)))
    rc = main(["bench", "--codecs", ZSTD1, "--repeats", "1", "--no-progress", "--goal", "decode"])
    out, err = capsys.readouterr()
    assert rc == 0
    assert "synthetic" in err and "synthetic microscopy-like sample" in out
    assert "Recommended for goal 'decode'" in out


def test_time_budget_reports_skipped(small_npy, capsys):
    rc = main(["bench", str(small_npy), "--chunks", "1,4,64,64", "--codecs", ZSTD1, GZIP, "--repeats", "1",
               "--time-budget", "0.000001"])
    out, err = capsys.readouterr()
    assert "time budget of 1e-06 s reached: skipped 2 configuration(s): zstd 1, gzip 1" in out
    assert rc == 1 and "no recommendation: no measured configuration" in err


def test_min_decode_mbps_unreachable(small_npy, capsys):
    rc = main(["bench", str(small_npy), "--chunks", "1,4,64,64", "--codecs", ZSTD1, "--repeats", "1",
               "--min-decode-mbps", "1e12"])
    out, err = capsys.readouterr()
    assert rc == 1 and "zstd 1" in out
    assert "no configuration decodes at 1e+12 MB/s or more; the fastest, zstd 1" in err


@pytest.mark.parametrize("make, args, message", [
    (None, ["missing.npy"], "no such file or directory: missing.npy"),
    ("garbage", ["bad.npy"], "cannot read bad.npy as .npy"),
    ("empty", ["empty.npy"], "the array is empty"),
    ("small", ["small.npy", "--codecs", '[{"name": "nosuchcodec"}]'], "unknown codec name 'nosuchcodec'"),
    ("small", ["small.npy", "--codecs", "[{"], "--codecs is not valid JSON"),
    ("small", ["--codecs", ZSTD1, "small.npy"], "'small.npy' (--codecs takes every word after it: put INPUT first)"),
    ("small", ["small.npy", "--chunks", "1,2"], "--chunks '1,2' must give 4 positive sizes"),
    ("small", ["small.npy", "--codecs", '[{"name": "zstd", "configuration": {"level": "high"}}]'], "zstd"),
    ("small", ["small.npy", "--transpose", "0,1"], "transpose order [0, 1] is not a permutation"),
    (None, ["data.h5"], "no such file: data.h5"),
    (None, [str(Path(__file__).parent)], "cannot open"),
])
def test_bad_input_one_line_exit_2(tmp_path, monkeypatch, capsys, make, args, message):
    monkeypatch.chdir(tmp_path)
    if make == "garbage":
        (tmp_path / "bad.npy").write_bytes(b"not numpy")
    elif make == "empty":
        np.save(tmp_path / "empty.npy", np.zeros((0, 5), np.uint8))
    elif make == "small":
        np.save(tmp_path / "small.npy", np.zeros((1, 2, 8, 8), np.uint16))
    rc = main(["bench", *args, "--repeats", "1", "--grid", "none" if "--codecs" in args else "quick"])
    out, err = capsys.readouterr()
    assert rc == 2, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("omezarr-fast bench: error: "), err
    assert message in lines[0]


def test_bad_input_through_the_command_has_no_traceback(tmp_path):
    np.save(tmp_path / "small.npy", np.zeros((1, 2, 8, 8), np.uint16))
    p = run_cli("bench", "small.npy", "--codecs", '[{"name": "nosuchcodec"}]', cwd=tmp_path)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr == "omezarr-fast bench: error: unknown codec name 'nosuchcodec'\n"


def test_help(capsys):
    p = run_cli("bench", "--help")
    assert p.returncode == 0 and "--min-decode-mbps" in p.stdout and "--time-budget" in p.stdout
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0 and "bench" in capsys.readouterr().out


def test_inputs_tiff_h5_zarr(tmp_path, capsys):
    tifffile = pytest.importorskip("tifffile")
    h5py = pytest.importorskip("h5py")
    import zarr

    a = bench.synthetic_sample((2, 2, 32, 32))[0]
    tifffile.imwrite(tmp_path / "a.tif", a)
    with h5py.File(tmp_path / "a.h5", "w") as f:
        f.create_dataset("grp/raw", data=a, chunks=(1, 16, 16))
    g = zarr.open_group(tmp_path / "img.ome.zarr", mode="w")
    for lv, arr in enumerate([a, a[:, ::2, ::2]]):
        g.create_array(str(lv), data=arr, chunks=(1, 8, 8))
    g.attrs["ome"] = {"version": "0.5", "multiscales": [{"datasets": [{"path": "0"}, {"path": "1"}]}]}

    src = bench.open_input(str(tmp_path / "a.tif"))
    np.testing.assert_array_equal(np.asarray(src.array), a)
    src = bench.open_input(str(tmp_path / "a.h5") + ":/grp/raw")
    assert src.chunk_shape == (1, 16, 16) and src.shape == a.shape
    src = bench.open_input(str(tmp_path / "img.ome.zarr"), level=1)
    assert src.shape == (2, 16, 16) and src.chunk_shape == (1, 8, 8) and "level 1" in src.description
    src = bench.open_input(str(tmp_path / "img.ome.zarr" / "0"))
    assert src.shape == a.shape

    with pytest.raises(bench.BenchError, match="has no dataset '/nope'; datasets: /grp/raw"):
        bench.open_input(str(tmp_path / "a.h5") + ":/nope")
    with pytest.raises(bench.BenchError, match="--level 5 is out of range"):
        bench.open_input(str(tmp_path / "img.ome.zarr"), level=5)

    rc = main(["bench", str(tmp_path / "img.ome.zarr"), "--level", "1", "--codecs", ZSTD1, "--repeats", "1"])
    out, _ = capsys.readouterr()
    assert rc == 0 and "level 1" in out and "chunks (1, 8, 8)" in out
