"""Faults injected by the S3 proxy: passing ones are retried (omezarr_fast's retry layer, the
store's own turned off), persistent ones fail the write, and a failed remote write leaves no
OME metadata behind, so what is left never looks like an image, plate or label image."""
from __future__ import annotations

import datetime
import json

import numpy as np
import pytest
import zarr

import omezarr_fast
from omezarr_fast import open_image, upgrade_path, write_image, write_labels
from omezarr_fast.errors import StoreError
from omezarr_fast.ome.convert import convert
from omezarr_fast.samples import microscopy_like
from omezarr_fast.store import location

DATA = microscopy_like((24, 48, 64), np.uint16, seed=2)
LAYOUT = {"axes": "zyx", "chunks": (8, 16, 16), "shards": (16, 32, 32), "progress": False}
NO_STORE_RETRIES = {"retry_config": {"max_retries": 0, "retry_timeout": datetime.timedelta(seconds=30),
                                     "backoff": {"init_backoff": datetime.timedelta(0),
                                                 "max_backoff": datetime.timedelta(0), "base": 2}}}


@pytest.fixture(autouse=True)
def _quick_retries():
    with zarr.config.set({"omezarr_fast.retry.attempts": 3, "omezarr_fast.retry.base_delay": 0.01}):
        yield


@pytest.fixture
def opts(s3_url):
    return {**s3_url.options, **NO_STORE_RETRIES}


def ome_metadata(url, opts) -> list[str]:
    """Keys below ``url`` whose zarr metadata carries OME attributes."""
    loc = location(url, storage_options={k: v for k, v in opts.items() if k != "retry_config"})
    found = []
    for key in loc.keys():
        if key.rsplit("/", 1)[-1] == "zarr.json":
            data = loc.read_bytes(key)
            if data is None:   # listed while a delete was still landing
                continue
            if "ome" in json.loads(data).get("attributes", {}):
                found.append(key)
    return found


def test_reads_retry_passing_faults(s3_url, opts, proxy):
    write_image(DATA, s3_url.url, storage_options=opts, **LAYOUT)
    arr = open_image(s3_url.url, storage_options=opts).level(0)
    key = f"{s3_url.prefix}/0/c/0/0/0"
    proxy.reset()
    proxy.fail_next(2, "503", method="GET", key=key)
    np.testing.assert_array_equal(arr[:], DATA)
    statuses = [r.status for r in proxy.requests("GET", key)]
    assert statuses[:2] == ["503*", "503*"] and 206 in statuses[2:] or 200 in statuses[2:]
    proxy.fail_next(1, "drop", method="GET", key=key)
    np.testing.assert_array_equal(omezarr_fast.read_regions(arr, [np.s_[0:10, 0:20, 0:20]])[0],
                                  DATA[0:10, 0:20, 0:20])


def test_writes_retry_passing_faults(s3_url, opts, proxy):
    key = f"{s3_url.prefix}/0/c/1/0/1"
    proxy.fail_next(2, "503", method="PUT", key=key)
    write_image(DATA, s3_url.url, storage_options=opts, **LAYOUT)
    assert [r.status for r in proxy.requests("PUT", key)] == ["503*", "503*", 200]
    np.testing.assert_array_equal(open_image(s3_url.url, storage_options=opts).level(0)[:], DATA)


@pytest.mark.parametrize("deletes_fail", [False, True], ids=["cleaned-up", "cleanup-fails-too"])
def test_failed_image_write_leaves_no_metadata(s3_url, opts, proxy, deletes_fail):
    proxy.fail_key(f"{s3_url.prefix}/1/c/0/0/0", "503", method="PUT")
    if deletes_fail:   # S3 deletes one key (DELETE) or many (POST ?delete)
        proxy.fail_next(10_000, "503", method="DELETE")
        proxy.fail_next(10_000, "503", method="POST")
    with pytest.raises(StoreError, match="1/c/0/0/0"):
        write_image(DATA, s3_url.url, storage_options=opts, **LAYOUT)
    proxy.clear_faults()
    assert ome_metadata(s3_url.url, opts) == []
    keys = location(s3_url.url, storage_options=s3_url.options).keys()
    assert bool(keys) == deletes_fail     # removed, unless the store refused that too
    with pytest.raises((FileNotFoundError, ValueError)):
        open_image(s3_url.url, storage_options=opts)


def test_failed_label_write_leaves_the_image_as_it_was(s3_url, opts, proxy):
    write_image(DATA, s3_url.url, storage_options=opts, **LAYOUT)
    before = ome_metadata(s3_url.url, opts)
    proxy.fail_key(f"{s3_url.prefix}/labels/mask/0/c/0/0/0", "503", method="PUT")
    with pytest.raises(StoreError):
        write_labels((DATA > 100).astype(np.uint8), s3_url.url, "mask", storage_options=opts)
    proxy.clear_faults()
    assert ome_metadata(s3_url.url, opts) == before == ["zarr.json"]
    assert open_image(s3_url.url, storage_options=opts).labels == []


def test_failed_plate_write_leaves_no_metadata(s3_url, opts, proxy):
    proxy.fail_key(f"{s3_url.prefix}/A/2/0/0/c/0/0/0", "503", method="PUT")
    with pytest.raises(StoreError):
        omezarr_fast.write_plate(s3_url.url, {"A/1": DATA[:8], "A/2": DATA[8:16]},
                                 storage_options=opts, **LAYOUT)
    proxy.clear_faults()
    assert ome_metadata(s3_url.url, opts) == []


def test_failed_upgrade_leaves_no_metadata(tmp_path, s3_url, opts, proxy, ozp04):
    done = upgrade_path(ozp04, tmp_path / "ok.zarr", shards="auto", progress=False)
    shard = next(k for k in location(done).keys() if k.startswith("s0/c/"))
    proxy.fail_key(f"{s3_url.prefix}/{shard}", "503", method="PUT")
    with pytest.raises(StoreError):
        upgrade_path(ozp04, s3_url.url, shards="auto", storage_options=opts, progress=False)
    proxy.clear_faults()
    assert ome_metadata(s3_url.url, opts) == []


def test_failed_convert_leaves_no_metadata(tmp_path, s3_url, opts, proxy):
    tifffile = pytest.importorskip("tifffile")
    src = tmp_path / "x.tif"
    tifffile.imwrite(src, DATA, photometric="minisblack")
    proxy.fail_key(f"{s3_url.prefix}/0/c/0/0/0", "503", method="PUT")
    with pytest.raises(StoreError):
        convert(src, s3_url.url, axes="zyx", chunks=(8, 16, 16), shards=(16, 32, 32),
                storage_options=opts, progress=False)
    proxy.clear_faults()
    assert ome_metadata(s3_url.url, opts) == []
    assert not location(s3_url.url, storage_options=s3_url.options).exists()
