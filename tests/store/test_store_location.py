"""omezarr_fast.store: what the user gives becomes a Location (no server needed here)."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import zarr
from zarr.storage import LocalStore, MemoryStore, StorePath

import omezarr_fast
from omezarr_fast.errors import OutputExistsError, ReadOnlyLocationError
from omezarr_fast.ngff import NgffError
from omezarr_fast.store import Location, LocationStore, location


@pytest.mark.parametrize("given,kind,url", [
    ("s3://bucket/a/img.zarr", "s3", "s3://bucket/a/img.zarr"),
    ("s3://bucket/a/img.zarr/", "s3", "s3://bucket/a/img.zarr"),
    ("S3A://bucket/x", "s3", "s3a://bucket/x"),
    ("gs://bucket/x.zarr", "gs", "gs://bucket/x.zarr"),
    ("az://container/x.zarr", "az", "az://container/x.zarr"),
    ("https://host.example/data/x.zarr", "http", "https://host.example/data/x.zarr"),
    ("http://127.0.0.1:8000/x.zarr", "http", "http://127.0.0.1:8000/x.zarr"),
])
def test_urls(given, kind, url):
    loc = location(given)
    assert (loc.kind, loc.url, loc.is_local, loc.local_path) == (kind, url, False, None)
    assert loc.read_only == (kind == "http")


def test_paths_and_file_urls(tmp_path):
    for given in (tmp_path / "a.zarr", str(tmp_path / "a.zarr"), f"file://{tmp_path}/a.zarr",
                  f"file://localhost{tmp_path}/a.zarr"):
        loc = location(given)
        assert loc.is_local and loc.local_path == tmp_path / "a.zarr", given
    assert location("relative/dir").local_path == Path("relative/dir")
    assert location(f"file://{tmp_path}/with%20space").local_path == tmp_path / "with space"


@pytest.mark.parametrize("given,match", [
    ("ftp://host/x", "unknown URL scheme 'ftp'"),
    ("s3:///x", "names no bucket"),
    ("file://otherhost/x", "must name a local path"),
])
def test_bad_urls(given, match):
    with pytest.raises(ValueError, match=match):
        location(given)


def test_storage_options_only_for_urls(tmp_path):
    # a local path ignores them (one call may name a local source and a remote destination)
    assert location(tmp_path, storage_options={"region": "x"}).local_path == tmp_path
    with pytest.raises(TypeError, match="storage_options are for URLs"):
        location(MemoryStore(), storage_options={"region": "x"})
    assert location("s3://b/x", storage_options={"region": "x"}).storage_options == {"region": "x"}


def test_zarr_stores(tmp_path):
    assert location(LocalStore(str(tmp_path))).local_path == tmp_path
    assert location(StorePath(LocalStore(str(tmp_path)), "a/b")).local_path == tmp_path / "a" / "b"
    mem = MemoryStore()
    loc = location(StorePath(mem, "img"))
    assert (loc.kind, loc.path, loc.base) == ("store", "img", mem)
    sp = loc.child("0").store_path()
    assert sp.store is mem and sp.path == "img/0"


@pytest.mark.parametrize("bad", ["../x", "a/../../x", "/abs", "C:x", "a\\b", "s3://evil/x",
                                 "https://evil/x", "", "a//b", "./a", "x\x00"])
@pytest.mark.parametrize("base", ["/tmp/root.zarr", "s3://bucket/root.zarr",
                                  "https://host/root.zarr"])
def test_child_rejects_escapes_on_every_backend(base, bad):
    with pytest.raises(NgffError, match="datasets"):
        location(base).child(bad, "datasets[0].path")


def test_child_joins_and_shares_the_store():
    root = location("s3://bucket/plate.zarr")
    well = root.child("B/3")
    field = well.child("0")
    assert field.url == "s3://bucket/plate.zarr/B/3/0"
    assert field._shared is root._shared


def test_pickles_as_its_description():
    loc = location("s3://bucket/x.zarr", storage_options={"region": "eu-west-1"}).child("0")
    back = pickle.loads(pickle.dumps(loc))
    assert back == loc and back.url == "s3://bucket/x.zarr/0"
    assert back.storage_options == {"region": "eu-west-1"}


def test_location_store_pickles_as_its_location():
    pytest.importorskip("obstore")
    loc = location("s3://bucket/x.zarr", storage_options={"endpoint": "http://127.0.0.1:1",
                                                         "region": "us-east-1"})
    store = loc.store_path().store
    assert isinstance(store, LocationStore) and store.location == loc
    data = pickle.dumps(store)
    assert b"127.0.0.1:1" in data   # the description travels, not a live client
    back = pickle.loads(data)
    assert isinstance(back, LocationStore) and back.location == loc
    assert pickle.loads(data) is back   # one store per description in a process
    assert location(StorePath(store, "0")) == loc.child("0")


def test_anonymous_unless_credentials(monkeypatch):
    from omezarr_fast import store as st

    for v in st._CREDENTIAL_ENV["s3"]:
        monkeypatch.delenv(v, raising=False)
    assert st._wants_anonymous("s3", {})
    assert not st._wants_anonymous("s3", {"access_key_id": "a", "secret_access_key": "b"})
    assert not st._wants_anonymous("s3", {"skip_signature": False})
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "a")
    assert not st._wants_anonymous("s3", {})
    assert not st._wants_anonymous("http", {})


def test_http_is_read_only():
    loc = location("https://host/x.zarr")
    with pytest.raises(ReadOnlyLocationError, match="https://host/x.zarr.*read-only"):
        loc.require_writable()
    with pytest.raises(ReadOnlyLocationError, match="https://host/x.zarr"):
        omezarr_fast.write_image(np.zeros((8, 8), np.uint8), "https://host/x.zarr")
    with pytest.raises(ReadOnlyLocationError, match="https://host/x.zarr/labels"):
        loc.child("labels").write_bytes("zarr.json", b"{}")


def test_memory_store_round_trip():
    """A zarr store given as it is: the whole image layer runs on it."""
    mem = MemoryStore()
    data = np.arange(24 * 40, dtype=np.uint16).reshape(24, 40)
    out = omezarr_fast.write_image(data, StorePath(mem, "img"), chunks=(8, 8), shards=(16, 16))
    assert isinstance(out, StorePath)
    img = omezarr_fast.open_image(out)
    np.testing.assert_array_equal(img.level(0)[:], data)
    assert len(img.levels) > 1
    with pytest.raises(OutputExistsError):
        omezarr_fast.write_image(data, StorePath(mem, "img"))
    assert zarr.open_group(StorePath(mem, "img"), mode="r").attrs["ome"]["version"] == "0.5"


def test_location_is_a_location():
    loc = Location("s3", "s3://b/x")
    assert location(loc) is loc
