"""Reading over plain HTTP(S) (our Range-capable test server on 127.0.0.1): every reader gives
what it gives locally, every writer refuses, naming the URL."""
from __future__ import annotations

import http.client
import shutil
import uuid

import numpy as np
import pytest

import omezarr_fast
from omezarr_fast import open_image, open_plate, rebuild_pyramid, upgrade_path, write_image, write_labels
from omezarr_fast.errors import ReadOnlyLocationError
from omezarr_fast.ome.convert import convert
from omezarr_fast.ome.info import describe, validate_hierarchy
from omezarr_fast.samples import microscopy_like
from omezarr_fast.store import location

DATA = microscopy_like((20, 48, 56), np.uint16, seed=5)
LAYOUT = {"axes": "zyx", "chunks": (8, 16, 16), "shards": (16, 32, 32)}


@pytest.fixture(scope="module")
def served(http_server, tmp_path_factory):
    """A local image with labels and a plate, and the same served over HTTP."""
    name = f"site-{uuid.uuid4().hex[:8]}"
    root = http_server.root / name
    img = write_image(DATA, root / "img.zarr", **LAYOUT)
    write_labels((DATA > 1500).astype(np.uint8), img, "mask")
    omezarr_fast.write_plate(root / "plate.zarr", {"A/1": [DATA[:8], DATA[8:]]}, axes="zyx",
                             chunks=(8, 16, 16), shards=(8, 32, 32))
    return root, f"{http_server.url}/{name}"


def _request(srv, method, path, headers=None):
    host, port = srv.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request(method, path, body=b"x" if method == "PUT" else None, headers=headers or {})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, dict(r.getheaders()), body


def test_the_server_serves_ranges(http_server):
    (http_server.root / "bytes.bin").write_bytes(bytes(range(100)))
    assert _request(http_server, "GET", "/bytes.bin")[2] == bytes(range(100))
    status, headers, body = _request(http_server, "GET", "/bytes.bin", {"Range": "bytes=10-19"})
    assert (status, headers["Content-Range"], body) == (206, "bytes 10-19/100", bytes(range(10, 20)))
    assert _request(http_server, "GET", "/bytes.bin", {"Range": "bytes=-5"})[2] == bytes(range(95, 100))
    assert _request(http_server, "GET", "/bytes.bin", {"Range": "bytes=90-"})[2] == bytes(range(90, 100))
    assert _request(http_server, "GET", "/bytes.bin", {"Range": "bytes=100-"})[0] == 416
    status, headers, body = _request(http_server, "HEAD", "/bytes.bin")
    assert (status, headers["Content-Length"], body) == (200, "100", b"")
    assert _request(http_server, "PUT", "/bytes.bin")[0] == 405
    assert _request(http_server, "GET", "/../../etc/passwd")[0] == 404
    assert _request(http_server, "GET", "/missing")[0] == 404


def test_open_image_and_labels(served, http_server):
    local, url = served
    http_server.reset()
    img = open_image(f"{url}/img.zarr")
    ref = open_image(local / "img.zarr")
    assert img.attributes == ref.attributes and img.labels == ["mask"]
    for a, b in zip(img.levels, ref.levels):
        np.testing.assert_array_equal(a[:], b[:])
    np.testing.assert_array_equal(img.label("mask").level(0)[:], (DATA > 1500).astype(np.uint8))
    # partial reads: shard indexes and chunks as byte ranges
    arr = img.level(0)
    http_server.reset()
    np.testing.assert_array_equal(arr[2:5, 3:9, 4:10], DATA[2:5, 3:9, 4:10])
    ranged = [r for r in http_server.requests("GET") if r.range]
    assert ranged and all(r.status == 206 for r in ranged)
    assert {r.method for r in http_server.requests()} <= {"GET", "HEAD"}


def test_read_regions_and_to_dask(served):
    _, url = served
    arr = open_image(f"{url}/img.zarr").level(0)
    boxes = [(slice(0, 8), slice(5, 30), slice(7, 40)), (slice(12, 20), slice(0, 48), slice(50, 56))]
    for got, box in zip(omezarr_fast.read_regions(arr, boxes), boxes):
        np.testing.assert_array_equal(got, DATA[box])
    d = open_image(f"{url}/img.zarr").to_dask(1)
    np.testing.assert_array_equal(d.compute(scheduler="threads"), open_image(served[0] / "img.zarr").level(1)[:])


def test_plate(served):
    local, url = served
    plate = open_plate(f"{url}/plate.zarr")
    assert plate.wells == ["A/1"] and plate.fields("A", "1") == ["0", "1"]
    np.testing.assert_array_equal(plate.image("A", "1", 1).level(0)[:], DATA[8:])


def test_describe_and_validate(served):
    local, url = served

    def strip(d):
        if isinstance(d, dict):
            return {k: strip(v) for k, v in d.items() if k not in ("path", "bytes_on_disk", "ratio")}
        if isinstance(d, list):
            return [strip(x) for x in d]
        return d

    for name in ("img.zarr", "plate.zarr"):
        assert strip(describe(f"{url}/{name}")) == strip(describe(local / name))
        res = validate_hierarchy(f"{url}/{name}")
        assert res.valid, res.message
    with pytest.raises(FileNotFoundError, match="no such file"):
        describe(f"{url}/missing.zarr")
    res = validate_hierarchy(f"{url}/missing.zarr")
    assert not res.valid and "no zarr metadata" in res.message


def test_upgrade_from_http(served, http_server, ozp04, tmp_path):
    name = f"up-{uuid.uuid4().hex[:8]}.zarr"
    shutil.copytree(ozp04, http_server.root / name)
    a = upgrade_path(ozp04, tmp_path / "a.zarr", shards="auto", progress=False)
    b = upgrade_path(f"{http_server.url}/{name}", tmp_path / "b.zarr", shards="auto", progress=False)
    la, lb = location(a), location(b)
    assert la.keys() == lb.keys()
    assert [la.read_bytes(k, None) for k in la.keys()] == [lb.read_bytes(k, None) for k in lb.keys()]


def test_every_writer_refuses_http(served, http_server, tmp_path, ozp04):
    local, url = served
    tifffile = pytest.importorskip("tifffile")
    tif = tmp_path / "x.tif"
    tifffile.imwrite(tif, DATA[:4], photometric="minisblack")
    http_server.reset()
    target = f"{url}/new.zarr"
    calls = [
        lambda: write_image(DATA, target),
        lambda: write_labels(DATA > 0, f"{url}/img.zarr", "more"),
        lambda: rebuild_pyramid(f"{url}/img.zarr", levels=2),
        lambda: upgrade_path(ozp04, target, progress=False),
        lambda: convert(tif, target, progress=False),
        lambda: omezarr_fast.write_plate(target, {"A/1": DATA}),
        lambda: omezarr_fast.ome.labels.copy_labels(local / "img.zarr", f"{url}/img.zarr"),
    ]
    for call in calls:
        with pytest.raises(ReadOnlyLocationError, match=f"{url}/(new|img).zarr.*read-only"):
            call()
    assert {r.method for r in http_server.requests()} <= {"GET", "HEAD"}
    assert not (local / "new.zarr").exists()


def test_bench_reads_a_url(served):
    from omezarr_fast.bench.sampling import open_input

    _, url = served
    src = open_input(f"{url}/img.zarr", 1)
    assert src.shape == open_image(served[0] / "img.zarr").level(1).shape
    assert "level 1 (OME-Zarr)" in src.description
    np.testing.assert_array_equal(np.asarray(src.array[:]), open_image(served[0] / "img.zarr").level(1)[:])
