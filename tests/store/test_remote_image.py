"""Every public entry point on S3 (SeaweedFS on 127.0.0.1 through the counting proxy): what
it writes is byte for byte what it writes locally, and what it reads equals the local read."""
from __future__ import annotations

import numpy as np
import pytest

import omezarr_fast
from omezarr_fast import open_image, open_plate, rebuild_pyramid, upgrade_path, write_image, write_labels
from omezarr_fast.ome.convert import convert
from omezarr_fast.ome.info import describe, validate_hierarchy
from omezarr_fast.ome.labels import copy_labels
from omezarr_fast.samples import microscopy_like
from omezarr_fast.store import location

DATA = microscopy_like((24, 64, 80), np.uint16, seed=11)
LAYOUT = {"axes": "zyx", "chunks": (8, 16, 16), "shards": (16, 32, 32), "scale": [2.0, 0.5, 0.5],
          "units": ["micrometer"] * 3, "channel_names": ["dapi"]}


def tree(where, **kw) -> dict[str, bytes]:
    """Every object below a location, by key."""
    loc = location(where, **kw)
    return {k: loc.read_bytes(k, None) for k in loc.keys()}


def assert_same_tree(local, remote, options):
    a, b = tree(local), tree(remote, storage_options=options)
    assert sorted(a) == sorted(b)
    differ = [k for k in a if a[k] != b[k]]
    assert differ == []


def assert_same_image(a, b):
    assert a.attributes == b.attributes
    assert len(a.levels) == len(b.levels)
    for x, y in zip(a.levels, b.levels):
        assert (x.shape, x.chunks, x.shards, x.dtype) == (y.shape, y.chunks, y.shards, y.dtype)
        np.testing.assert_array_equal(x[:], y[:])


def test_write_and_open_image(tmp_path, s3_url):
    local = write_image(DATA, tmp_path / "img.zarr", **LAYOUT)
    out = write_image(DATA, s3_url.url, storage_options=s3_url.options, **LAYOUT)
    assert out == s3_url.url
    assert_same_tree(local, s3_url.url, s3_url.options)
    img = open_image(s3_url.url, storage_options=s3_url.options)
    assert img.path == s3_url.url and repr(img).startswith(f"Image({s3_url.url!r}")
    assert_same_image(open_image(local), img)
    np.testing.assert_array_equal(img.level(0)[:], DATA)


def test_labels_write_and_copy(tmp_path, s3_url):
    labels = (DATA > np.percentile(DATA, 90)).astype(np.uint8)
    opts = s3_url.options
    local = write_image(DATA, tmp_path / "img.zarr", **LAYOUT)
    write_labels(labels, local, "bright")
    remote = write_image(DATA, s3_url.url, storage_options=opts, **LAYOUT)
    got = write_labels(labels, remote, "bright", storage_options=opts)
    assert got == f"{s3_url.url}/labels/bright"
    assert_same_tree(local, remote, opts)
    img = open_image(remote, storage_options=opts)
    assert img.labels == ["bright"]
    assert_same_image(open_image(local).label("bright"), img.label("bright"))
    # copy_labels both ways: S3 -> local, local -> S3
    other = write_image(DATA, tmp_path / "other.zarr", **LAYOUT)
    assert copy_labels(img, other) == ["bright"]
    np.testing.assert_array_equal(open_image(other).label("bright").level(0)[:], labels)
    second = f"{s3_url.url}-second"
    write_image(DATA, second, storage_options=opts, **LAYOUT)
    assert copy_labels(local, second, storage_options=opts) == ["bright"]
    assert_same_tree(local, second, opts)


def test_rebuild_pyramid(tmp_path, s3_url):
    opts = s3_url.options
    local = write_image(DATA, tmp_path / "img.zarr", levels=2, **LAYOUT)
    write_labels((DATA > 2000).astype(np.uint8), local, "mask")
    remote = write_image(DATA, s3_url.url, levels=2, storage_options=opts, **LAYOUT)
    write_labels((DATA > 2000).astype(np.uint8), remote, "mask", storage_options=opts)
    a = rebuild_pyramid(local, levels=3, method="max")
    b = rebuild_pyramid(remote, levels=3, method="max", storage_options=opts)
    assert len(b.levels) == 3 and len(b.label("mask").levels) == 3
    assert_same_image(a, b)
    assert_same_tree(local, remote, opts)
    # the temporary image next to it is gone
    assert not location(f"s3://{s3_url.bucket}/.{s3_url.prefix}.pyramid-tmp",
                        storage_options=opts).exists()


def test_plate(tmp_path, s3_url):
    opts = s3_url.options
    fields = {"A/1": [DATA[:8], DATA[8:16]], "B/2": DATA[16:]}
    kw = {"axes": "zyx", "chunks": (8, 16, 16), "shards": (8, 32, 32)}
    local = omezarr_fast.write_plate(tmp_path / "plate.zarr", fields, name="p", **kw)
    remote = omezarr_fast.write_plate(s3_url.url, fields, name="p", storage_options=opts, **kw)
    assert remote == s3_url.url
    assert_same_tree(local, remote, opts)
    plate = open_plate(remote, storage_options=opts)
    assert plate.wells == ["A/1", "B/2"] and plate.fields("A", "1") == ["0", "1"]
    np.testing.assert_array_equal(plate.image("A", "1", 1).level(0)[:], DATA[8:16])
    assert_same_image(open_plate(local).image("B", "2"), plate.image("B", "2"))


@pytest.mark.parametrize("layout", [{}, {"shards": "auto"}, {"codec": "gzip", "chunks": "auto"}],
                         ids=["raw-chunks", "raw-shards", "re-encoded"])
def test_upgrade_local_to_s3_and_back(tmp_path, s3_url, ozp04, layout):
    opts = s3_url.options
    local = upgrade_path(ozp04, tmp_path / "up.zarr", progress=False, **layout)
    remote = upgrade_path(ozp04, s3_url.url, progress=False, storage_options=opts, **layout)
    assert remote == s3_url.url
    assert_same_tree(local, remote, opts)
    # a 0.4 source on S3, upgraded to a local directory
    src04 = f"{s3_url.url}-04"
    location(ozp04).copy_to(location(src04, storage_options=opts))
    back = upgrade_path(src04, tmp_path / "back.zarr", progress=False, storage_options=opts, **layout)
    assert tree(back) == tree(local)


def test_upgrade_refuses_overlap_on_s3(s3_url, ozp04):
    opts = s3_url.options
    location(ozp04).copy_to(location(s3_url.url, storage_options=opts))
    with pytest.raises(ValueError, match="must not be src or lie inside"):
        upgrade_path(s3_url.url, f"{s3_url.url}/inside", storage_options=opts, progress=False)


def test_describe_and_validate(tmp_path, s3_url):
    opts = s3_url.options
    local = write_image(DATA, tmp_path / "img.zarr", **LAYOUT)
    write_labels((DATA > 2000).astype(np.uint8), local, "mask")
    location(local).copy_to(location(s3_url.url, storage_options=opts))

    def strip(d):
        if isinstance(d, dict):
            return {k: strip(v) for k, v in d.items() if k != "path"}
        if isinstance(d, list):
            return [strip(x) for x in d]
        return d

    a, b = describe(local), describe(s3_url.url, storage_options=opts)
    assert b["path"] == s3_url.url and b["levels"][1]["path"] == f"{s3_url.url}/1"
    assert strip(a) == strip(b)
    assert b["levels"][0]["bytes_on_disk"] > 0
    va, vb = validate_hierarchy(local), validate_hierarchy(s3_url.url, storage_options=opts)
    assert vb.valid and vb.version == "0.5"
    assert (va.to_json()["valid"], len(va.warnings)) == (vb.to_json()["valid"], len(vb.warnings))


def test_validate_reports_a_broken_remote_image(s3_url):
    opts = s3_url.options
    write_image(DATA, s3_url.url, storage_options=opts, **LAYOUT)
    location(s3_url.url, storage_options=opts).child("1").remove()
    res = validate_hierarchy(s3_url.url, storage_options=opts)
    assert not res.valid and "'1' not found" in res.message


def test_convert_a_local_tiff_to_s3(tmp_path, s3_url):
    tifffile = pytest.importorskip("tifffile")
    src = tmp_path / "stack.tif"
    tifffile.imwrite(src, DATA, imagej=True, resolution=(2.0, 2.0), metadata={"axes": "ZYX", "spacing": 3.0,
                                                                              "unit": "um"})
    kw = {"chunks": (8, 16, 16), "shards": (16, 32, 32), "progress": False}
    a = convert(src, tmp_path / "out.zarr", **kw)
    b = convert(src, s3_url.url, storage_options=s3_url.options, **kw)
    assert b.path == s3_url.url and b.layout == "image"
    assert_same_tree(a.path, s3_url.url, s3_url.options)


def test_read_regions_and_to_dask(tmp_path, s3_url):
    opts = s3_url.options
    write_image(DATA, s3_url.url, storage_options=opts, **LAYOUT)
    arr = open_image(s3_url.url, storage_options=opts).level(0)
    rng = np.random.default_rng(0)
    corners = rng.integers(0, [s - 10 for s in DATA.shape], size=(12, 3))
    boxes = [tuple(slice(c, c + 10) for c in corner) for corner in corners]
    for got, box in zip(omezarr_fast.read_regions(arr, boxes), boxes):
        np.testing.assert_array_equal(got, DATA[box])
    d = open_image(s3_url.url, storage_options=opts).to_dask(0)
    np.testing.assert_array_equal(d[3:20, 10:50].compute(scheduler="threads"), DATA[3:20, 10:50])


def test_overwrite_on_s3(s3_url):
    opts = s3_url.options
    write_image(DATA, s3_url.url, storage_options=opts, **LAYOUT)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_image(DATA[:8], s3_url.url, storage_options=opts, **LAYOUT)
    write_image(DATA[:8], s3_url.url, storage_options=opts, overwrite=True, **LAYOUT)
    img = open_image(s3_url.url, storage_options=opts)
    np.testing.assert_array_equal(img.level(0)[:], DATA[:8])


def test_credentials_and_endpoint_from_the_environment(monkeypatch, s3_url):
    for k, v in s3_url.env.items():
        monkeypatch.setenv(k, v)
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(k, raising=False)
    write_image(DATA[:8], s3_url.url, **LAYOUT)      # anonymous, endpoint from AWS_ENDPOINT_URL
    np.testing.assert_array_equal(open_image(s3_url.url).level(0)[:], DATA[:8])
