"""Every ``omezarr-fast`` command with S3 and HTTP locations, run as a user runs it (a fresh
interpreter; the S3 endpoint from AWS_ENDPOINT_URL, anonymous)."""
from __future__ import annotations

import json
import shutil
import uuid

import numpy as np
import pytest
from helpers.cli import run

from omezarr_fast import open_image, write_image
from omezarr_fast.samples import microscopy_like
from omezarr_fast.store import location

DATA = microscopy_like((16, 64, 72), np.uint16, seed=4)


@pytest.fixture
def env(monkeypatch, s3_url):
    for k, v in s3_url.env.items():
        monkeypatch.setenv(k, v)
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(k, raising=False)
    return s3_url


def _strip(d):
    if isinstance(d, dict):
        return {k: _strip(v) for k, v in d.items() if k != "path"}
    if isinstance(d, list):
        return [_strip(x) for x in d]
    return d


def test_convert_info_validate_pyramid_on_s3(tmp_path, env):
    tifffile = pytest.importorskip("tifffile")
    src = tmp_path / "stack.tif"
    tifffile.imwrite(src, DATA, photometric="minisblack")
    url = f"{env.url}/out.ome.zarr"
    args = ["--axes", "zyx", "--chunks", "8,16,16", "--shards", "16,32,32", "--no-progress"]
    rc, out, err = run("convert", src, url, *args)
    assert rc == 0, err
    assert out.startswith(f"{url}: OME-Zarr 0.5")
    rc, _, err = run("convert", src, tmp_path / "out.ome.zarr", *args)
    assert rc == 0, err
    rc, out, err = run("info", url, "--json")
    assert rc == 0, err
    rc2, local, _ = run("info", tmp_path / "out.ome.zarr", "--json")
    assert json.loads(out)["path"] == url
    assert _strip(json.loads(out)) == _strip(json.loads(local))
    rc, out, err = run("info", url)
    assert rc == 0 and url in out and "total on disk" in out, err
    rc, out, err = run("validate", url)
    assert rc == 0 and "valid OME-Zarr 0.5" in out, err
    rc, out, err = run("pyramid", url, "--levels", "2", "--method", "max", "--no-progress")
    assert rc == 0, err
    img = open_image(url, storage_options=env.options)
    assert len(img.levels) == 2 and img.multiscale.type == "max"
    np.testing.assert_array_equal(img.level(0)[:], DATA)
    rc, out, err = run("convert", src, url, *args)
    assert rc == 2 and "already exists; add --overwrite" in err


def test_upgrade_both_ways(tmp_path, env, ozp04):
    url = f"{env.url}/up.zarr"
    rc, out, err = run("upgrade", ozp04, url, "--shards", "auto", "--no-progress")
    assert rc == 0 and url in out, err
    rc, _, err = run("upgrade", ozp04, tmp_path / "local.zarr", "--shards", "auto", "--no-progress")
    assert rc == 0, err
    a, b = location(url, storage_options=env.options), location(tmp_path / "local.zarr")
    assert a.keys() == b.keys()
    assert all(a.read_bytes(k, None) == b.read_bytes(k, None) for k in a.keys())
    src04 = f"{env.url}/src04.zarr"
    location(ozp04).copy_to(location(src04, storage_options=env.options))
    rc, out, err = run("upgrade", src04, tmp_path / "back.zarr", "--shards", "auto", "--no-progress")
    assert rc == 0, err
    c = location(tmp_path / "back.zarr")
    assert c.keys() == b.keys() and all(c.read_bytes(k, None) == b.read_bytes(k, None) for k in b.keys())


def test_bench_reads_s3(env):
    url = f"{env.url}/img.zarr"
    write_image(DATA, url, storage_options=env.options, axes="zyx", chunks=(8, 16, 16),
                shards=(16, 32, 32))
    rc, out, err = run("bench", url, "--level", "1", "--grid", "none", "--codecs",
                       '[{"name":"zstd","configuration":{"level":1}}]', "--repeats", "1",
                       "--max-chunks", "2", "--no-progress")
    assert rc == 0, err
    assert "zstd" in out


def test_http_reads_and_refuses_writes(tmp_path, http_server):
    name = f"cli-{uuid.uuid4().hex[:8]}.zarr"
    write_image(DATA, http_server.root / name, axes="zyx", chunks=(8, 16, 16), shards=(16, 32, 32))
    url = f"{http_server.url}/{name}"
    rc, out, err = run("info", url)
    assert rc == 0 and f"{url}: OME-Zarr 0.5 image" in out, err
    assert "total on disk: -" in out          # an HTTP server cannot list its objects
    rc, out, err = run("validate", url, "--json")
    assert rc == 0 and json.loads(out)["valid"], err
    rc, out, err = run("pyramid", url, "--levels", "2", "--no-progress")
    assert rc == 2 and f"{url}: this location is read-only" in err
    tifffile = pytest.importorskip("tifffile")
    tifffile.imwrite(tmp_path / "x.tif", DATA[:2], photometric="minisblack")
    rc, out, err = run("convert", tmp_path / "x.tif", f"{http_server.url}/new.zarr", "--no-progress")
    assert rc == 2 and "read-only" in err
    rc, out, err = run("info", f"{http_server.url}/missing.zarr")
    assert rc == 2 and "no such file" in err
    shutil.rmtree(http_server.root / name)
