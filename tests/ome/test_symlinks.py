"""Symlinks and special files never lead out of an image (issue 13, class 2).

The one policy (omezarr_fast.safepath, csrc/fileio.h): every file and directory that
the OME layer or the native reader opens must resolve inside the root it was opened
at, and be a regular file or a directory.  Symlinks that stay inside are followed."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import zarr

import omezarr_fast
from omezarr_fast import _native, ngff, open_image, safepath, upgrade_path, write_image
from omezarr_fast.errors import ChunkError, UnsafePathError
from omezarr_fast.ome.info import describe
from omezarr_fast.pipeline.shard_indexes import identity


def cli(*args, timeout=60):
    env = dict(os.environ)  # the package as this process imports it: installed, or PYTHONPATH=src
    return subprocess.run([sys.executable, "-m", "omezarr_fast.cli", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=timeout, check=False)


def image(path: Path, value: int, version="0.5") -> Path:
    data = np.full((32, 32), value, dtype=np.uint16)
    return write_image(data, path, axes="yx", chunks=(16, 16), levels=2, progress=False,
                       version=version)


@pytest.fixture
def inside_and_outside(tmp_path):
    """An image whose level 1 is a symlink to the level 1 of another image outside it."""
    img = image(tmp_path / "img.zarr", 1)
    other = image(tmp_path / "other.zarr", 2)
    os.rename(img / "1", tmp_path / "old-level-1")
    os.symlink(other / "1", img / "1")
    return img, other


# ---- the OME layer ----

def test_open_image_refuses_a_level_symlinked_outside(inside_and_outside):
    img, _ = inside_and_outside
    with pytest.raises(UnsafePathError, match="resolves outside"):
        open_image(img)
    with pytest.raises(UnsafePathError, match="resolves outside"):
        open_image(img, validate=False)


def test_info_refuses_a_level_symlinked_outside(inside_and_outside):
    img, _ = inside_and_outside
    with pytest.raises(UnsafePathError, match="resolves outside"):
        describe(img)
    p = cli("info", img)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "resolves outside" in p.stderr and "other.zarr" not in p.stdout


def test_validate_refuses_metadata_symlinked_outside(tmp_path):
    img = image(tmp_path / "img.zarr", 1)
    other = image(tmp_path / "other.zarr", 2)
    (img / "1" / "zarr.json").unlink()
    os.symlink(other / "1" / "zarr.json", img / "1" / "zarr.json")
    res = ngff.validate_path(img)
    assert not res and "resolves outside" in res.message
    with pytest.raises(UnsafePathError):
        open_image(img)


def test_symlinks_that_stay_inside_are_followed(tmp_path):
    img = image(tmp_path / "img.zarr", 3)
    os.rename(img / "1", img / "level-1-data")
    os.symlink("level-1-data", img / "1")  # relative, inside
    got = open_image(img)
    assert int(got.level(1)[0, 0]) == 3
    assert describe(img)["levels"][1]["shape"] == [16, 16]
    assert ngff.validate_path(img)


def test_labels_symlinked_outside_are_refused(tmp_path):
    img = image(tmp_path / "img.zarr", 1)
    omezarr_fast.write_labels(np.ones((32, 32), np.uint8), img, "cells", progress=False)
    other = image(tmp_path / "other.zarr", 2)
    os.rename(img / "labels" / "cells", tmp_path / "cells-moved")
    os.symlink(other, img / "labels" / "cells")
    i = open_image(img)
    assert i.labels == ["cells"]
    with pytest.raises(UnsafePathError):
        i.label("cells")
    with pytest.raises(UnsafePathError):
        describe(img)


# ---- upgrade ----

@pytest.fixture
def v04(tmp_path):
    src = image(tmp_path / "src.zarr", 5, version="0.4")
    chunk = src / "0" / "0" / "0"
    assert chunk.is_file()
    return src, chunk


def test_upgrade_keep_refuses_a_chunk_symlinked_to_an_outside_file(tmp_path, v04):
    src, chunk = v04
    secret = tmp_path / "secret.bin"
    secret.write_bytes(chunk.read_bytes())  # a valid chunk: only the link is wrong
    chunk.unlink()
    os.symlink(secret, chunk)
    with pytest.raises(UnsafePathError, match="resolves outside"):
        upgrade_path(src, tmp_path / "out.zarr", progress=False)
    p = cli("upgrade", src, tmp_path / "out2.zarr")
    assert p.returncode == 2 and "resolves outside" in p.stderr, p.stdout + p.stderr


@pytest.mark.parametrize("shards", [None, "auto"])
def test_upgrade_refuses_a_chunk_symlinked_to_an_endless_device(tmp_path, v04, shards):
    src, chunk = v04
    chunk.unlink()
    os.symlink("/dev/zero", chunk)
    # In a subprocess with a memory cap: the old code read /dev/zero until it ran out.
    code = textwrap.dedent(f"""
        import resource
        from omezarr_fast import upgrade_path
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, resource.RLIM_INFINITY))
        try:
            upgrade_path({str(src)!r}, {str(tmp_path / 'out.zarr')!r}, shards={shards!r}, progress=False)
            print("NO ERROR")
        except Exception as e:  # the old code: MemoryError with shards, no error without
            print(type(e).__name__, e)
        """)
    env = dict(os.environ)  # the package as this process imports it: installed, or PYTHONPATH=src
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                       check=False)
    assert p.stdout.startswith("UnsafePathError"), p.stdout + p.stderr


def test_upgrade_refuses_a_chunk_larger_than_a_chunk_can_be(tmp_path, v04):
    src, chunk = v04
    with open(chunk, "r+b") as f:
        f.truncate(1 << 30)  # sparse
    with pytest.raises(UnsafePathError, match="more than"):
        upgrade_path(src, tmp_path / "out.zarr", shards="auto", progress=False)


# ---- the native reader ----

def _array(path: Path):
    with zarr.config.set({"codec_pipeline.path": "omezarr_fast.CodecPipeline"}):
        a = zarr.create_array(str(path), shape=(4, 4), chunks=(2, 2), dtype="u1", fill_value=0)
        a[...] = np.arange(16, dtype="u1").reshape(4, 4)
        return zarr.open_array(str(path), mode="r")


@pytest.mark.parametrize("target", ["outside-file", "dev-zero", "outside-dir"])
def test_native_reader_refuses_links_out_of_the_store(tmp_path, target):
    a = _array(tmp_path / "a.zarr")
    key = tmp_path / "a.zarr" / "c" / "0" / "0"
    if target == "outside-file":
        outside = tmp_path / "outside"
        outside.write_bytes(key.read_bytes())
        key.unlink()
        os.symlink(outside, key)
        bad = "c/0/0"
    elif target == "dev-zero":
        key.unlink()
        os.symlink("/dev/zero", key)
        bad = "c/0/0"
    else:  # a directory on the way leads out
        (tmp_path / "elsewhere").mkdir()
        os.rename(tmp_path / "a.zarr" / "c" / "1", tmp_path / "elsewhere" / "1")
        os.symlink(tmp_path / "elsewhere" / "1", tmp_path / "a.zarr" / "c" / "1")
        bad = "c/1/"
    for read in (lambda: a[...], lambda: a[0:1, 0:1] if bad == "c/0/0" else a[3:4, 0:1],
                 lambda: omezarr_fast.read_regions(a, [(slice(0, 4), slice(0, 4))])):
        with pytest.raises(ChunkError, match=bad):
            read()
    with zarr.config.set({"codec_pipeline.path": "omezarr_fast.CodecPipeline"}):
        w = zarr.open_array(str(tmp_path / "a.zarr"), mode="r+")
        with pytest.raises(ChunkError, match=bad):  # a partial write reads the old chunk
            if bad == "c/0/0":
                w[0:1, 0:1] = 9
            else:
                w[3:4, 0:1] = 9


def test_native_reader_follows_links_that_stay_inside(tmp_path):
    a = _array(tmp_path / "a.zarr")
    root = tmp_path / "a.zarr"
    want = np.asarray(a[...]).copy()
    # chunk (1, 1) becomes an absolute link to chunk (0, 0), and c/1 a relative link to a copy
    (root / "c" / "1" / "1").unlink()
    os.symlink(root / "c" / "0" / "0", root / "c" / "1" / "1")
    want[2:4, 2:4] = want[0:2, 0:2]
    os.rename(root / "c" / "1", root / "c" / "one")
    os.symlink("one", root / "c" / "1")
    np.testing.assert_array_equal(a[...], want)
    np.testing.assert_array_equal(omezarr_fast.read_regions(a, [(slice(1, 4), slice(1, 4))])[0], want[1:, 1:])


def test_open_files_policy(tmp_path):
    root = tmp_path / "root"
    (root / "d").mkdir(parents=True)
    (root / "f").write_bytes(b"abc")
    (tmp_path / "out").write_bytes(b"secret")
    os.symlink(tmp_path / "out", root / "abs-out")
    os.symlink("../out", root / "rel-out")
    os.symlink(root / "f", root / "abs-in")
    os.symlink("d/../f", root / "rel-in")
    os.mkfifo(root / "fifo")
    got = _native.open_files(root, ["f", "abs-in", "rel-in", "d", "missing", "f/under"])
    try:
        assert [None if g is None else g[1] for g in got] == [3, 3, 3, None, None, None]
    finally:
        for g in got:
            if g is not None:
                os.close(g[0])
    # With identity: the fstat of the file itself (through a symlink, the target's),
    # what the shard index cache checks; more keys than open inline, so on the pool.
    keys = ["f", "abs-in", "rel-in", "d", "missing"] * 3
    got = _native.open_files(root, keys, identity=True)
    try:
        want = identity(os.stat(root / "f"))
        assert [None if g is None else (g[1], g[2]) for g in got] == \
            [(3, want), (3, want), (3, want), None, None] * 3
    finally:
        for g in got:
            if g is not None:
                os.close(g[0])
    for bad, why in (("abs-out", "outside"), ("rel-out", "outside"), ("../out", "outside"),
                     ("fifo", "not a regular file")):
        with pytest.raises(UnsafePathError, match=why) as e:
            _native.open_files(root, ["f", bad])
        assert e.value.index == 1
    assert [g.tobytes() for g in _native.read_files([("abs-in", 1, -1), ("rel-in", 0, 2)], root)] == [b"bc", b"ab"]


def test_safepath_rules(tmp_path):
    root = tmp_path / "root"
    (root / "d").mkdir(parents=True)
    (root / "f").write_bytes(b"x" * 10)
    os.symlink(tmp_path, root / "up")
    os.mkfifo(root / "fifo")
    assert safepath.check_inside(root, root / "d") == (root / "d").resolve()
    assert safepath.check_inside(root, root / "missing") == (root / "missing").resolve()
    assert safepath.check_inside(root, root / "up/root/f") == (root / "f").resolve()  # out and back in
    for bad in ("up", "up/other", "../x", "fifo"):
        with pytest.raises(UnsafePathError):
            safepath.check_inside(root, root / bad)
    with safepath.open_file(root, root / "f", max_size=10) as f:
        assert f.read() == b"x" * 10
    assert safepath.open_file(root, root / "nothing") is None
    with pytest.raises(UnsafePathError, match="more than"):
        safepath.open_file(root, root / "f", max_size=9)
    with pytest.raises(UnsafePathError):
        safepath.open_file(root, root / "d")


def test_relative_roots(tmp_path, monkeypatch, inside_and_outside):
    """Paths as the caller opens them, relative to the working directory."""
    monkeypatch.chdir(tmp_path)  # inside_and_outside made tmp_path/img.zarr
    with pytest.raises(UnsafePathError, match="resolves outside"):
        open_image("img.zarr")
    with pytest.raises(UnsafePathError, match="resolves outside"):
        describe("img.zarr")
    good = image(tmp_path / "good.zarr", 4)
    assert int(open_image("good.zarr").level(1)[0, 0]) == 4
    assert safepath.check_node("good.zarr", "good.zarr/0") == (good / "0").resolve()
