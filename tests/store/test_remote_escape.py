"""NGFF paths from metadata never leave the root, whatever the backend: local directories, S3
and HTTP get the same hostile hierarchies, and every reader refuses them with an error naming
the field, before any key outside the root is asked for."""
from __future__ import annotations

import json
import uuid
from types import SimpleNamespace

import numpy as np
import pytest

import omezarr_fast
from omezarr_fast import open_image, open_plate
from omezarr_fast.ome.info import describe, validate_hierarchy
from omezarr_fast.store import location

DATA = np.arange(16 * 24, dtype=np.uint16).reshape(16, 24)
ESCAPES = ["../secret.zarr/0", "/abs/0", "s3://evil/0", "https://evil.example/0", "a/../../secret.zarr/0",
           "..\\secret.zarr\\0"]


@pytest.fixture(params=["local", "s3", "http"])
def backend(request, tmp_path, http_server):
    """``.write`` (where hierarchies are written: a local directory or S3), ``.read`` (how
    readers name them; http serves the local directory) and ``.outside()``, the requests
    that reached the server for keys outside the root (reset on ``.reset()``).  A valid
    image "secret.zarr" sits next to every root, so a path that escaped would open it."""
    kind = request.param
    if kind == "s3":
        s3_url = request.getfixturevalue("s3_url")
        proxy = request.getfixturevalue("proxy")
        base = location(s3_url.url, storage_options=s3_url.options)
        return SimpleNamespace(
            kind=kind, write=base, read=base, reset=proxy.reset,
            # (a request for the bucket itself is a LIST of the root's own prefix)
            outside=lambda root: [r.key for r in proxy.requests() if r.key not in ("", s3_url.bucket)
                                  and not r.key.startswith(f"{s3_url.prefix}/{root}")])
    name = f"esc-{uuid.uuid4().hex[:8]}"
    if kind == "local":
        base = location(tmp_path / name)
        return SimpleNamespace(kind=kind, write=base, read=base, reset=lambda: None,
                               outside=lambda root: [])
    return SimpleNamespace(
        kind=kind, write=location(http_server.root / name),
        read=location(f"{http_server.url}/{name}"), reset=http_server.reset,
        outside=lambda root: [r.path for r in http_server.requests()
                              if not r.path.startswith(f"{name}/{root}")])


def _patch(loc, rel, change):
    """Rewrite the OME attributes in ``rel``/zarr.json below ``loc``."""
    node = loc.child(rel) if rel else loc
    meta = json.loads(node.read_bytes("zarr.json"))
    change(meta["attributes"]["ome"])
    node.write_bytes("zarr.json", json.dumps(meta).encode())


def _image(write, name):
    omezarr_fast.write_image(DATA, write.child(name), chunks=(8, 8), shards=(8, 16), levels=2)


@pytest.mark.parametrize("bad", ESCAPES)
def test_dataset_paths(backend, bad):
    write, read = backend.write, backend.read
    _image(write, "secret.zarr")
    _image(write, "victim.zarr")
    _patch(write, "victim.zarr", lambda ome: ome["multiscales"][0]["datasets"][1].update(path=bad))
    backend.reset()
    victim = read.child("victim.zarr")
    for validate in (True, False):
        with pytest.raises(ValueError, match=r"datasets|path"):
            open_image(victim, validate=validate)
    with pytest.raises(ValueError, match=r"datasets|path"):
        describe(victim)
    assert not validate_hierarchy(victim).valid
    assert backend.outside("victim.zarr") == []


@pytest.mark.parametrize("bad", ["../../secret.zarr", "/abs", "s3://evil/x"])
def test_label_paths(backend, bad):
    write, read = backend.write, backend.read
    _image(write, "secret.zarr")
    _image(write, "victim.zarr")
    omezarr_fast.write_labels((DATA > 5).astype(np.uint8), write.child("victim.zarr"), "ok")
    _patch(write, "victim.zarr/labels", lambda ome: ome.update(labels=["ok", bad]))
    backend.reset()
    img = open_image(read.child("victim.zarr"))
    with pytest.raises((ValueError, KeyError)):
        img.label(bad)
    try:
        d = describe(read.child("victim.zarr"))
    except ValueError as e:          # refused outright, naming the field
        assert "labels" in str(e)
    else:                            # or the labels group reported unreadable
        assert [p["path"] for p in d.get("labels", [])] in ([], [f"{read.url}/victim.zarr/labels/ok"])
    assert not validate_hierarchy(read.child("victim.zarr")).valid
    assert backend.outside("victim.zarr") == []


@pytest.mark.parametrize("where", ["well", "field"])
def test_plate_paths(backend, where):
    write, read = backend.write, backend.read
    _image(write, "secret.zarr")
    omezarr_fast.write_plate(write.child("plate.zarr"), {"A/1": DATA}, chunks=(8, 8), shards=(8, 16))
    if where == "well":
        _patch(write, "plate.zarr", lambda ome: ome["plate"]["wells"][0].update(path="../secret.zarr"))
    else:
        _patch(write, "plate.zarr/A/1", lambda ome: ome["well"]["images"][0].update(
            path="../../../secret.zarr"))
    backend.reset()
    plate_loc = read.child("plate.zarr")
    if where == "well":
        for validate in (True, False):   # the plate metadata itself is refused
            with pytest.raises(ValueError, match=r"wells\[0\]\.path"):
                open_plate(plate_loc, validate=validate)
        with pytest.raises(ValueError, match=r"wells\[0\]\.path"):
            describe(plate_loc)
    else:
        plate = open_plate(plate_loc)    # the plate is fine; its well names the bad field
        with pytest.raises(ValueError, match=r"images\[0\]\.path"):
            plate.image("A", "1", 0)
        well = describe(plate_loc)["wells"][0]
        assert "images[0].path" in well["error"] and "fields" not in well
    assert not validate_hierarchy(plate_loc).valid
    assert backend.outside("plate.zarr") == []
