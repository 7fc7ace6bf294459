"""dask.distributed on S3: worker processes open the store from the pickled location (its
URL and storage_options), for reads (Image.to_dask) and for the distributed pyramid writer."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from omezarr_fast import open_image, write_image
from omezarr_fast.samples import microscopy_like
from omezarr_fast.store import LocationStore

distributed = pytest.importorskip("distributed")

DATA = microscopy_like((20, 72, 90), np.uint16, seed=9)
LAYOUT = {"axes": "zyx", "chunks": (8, 16, 16), "shards": (16, 32, 32), "progress": False}


def test_to_dask_on_s3(client, s3_url):
    write_image(DATA, s3_url.url, storage_options=s3_url.options, **LAYOUT)
    img = open_image(s3_url.url, storage_options=s3_url.options)
    store = img.level(0).store
    assert isinstance(store, LocationStore)
    assert s3_url.options["endpoint"].encode() in pickle.dumps(store)   # the description travels
    d = img.to_dask(0)
    np.testing.assert_array_equal(client.compute(d).result(), DATA)
    np.testing.assert_array_equal(client.compute(img.to_dask(1)).result(), img.level(1)[:])
    # each worker read through its own store: a process opens it from the location
    pids = client.run(lambda: __import__("os").getpid())
    assert len(set(pids.values())) == 2


def test_distributed_writer_on_s3(client, s3_url, tmp_path):
    da = pytest.importorskip("dask.array")
    src = da.from_array(DATA, chunks=(10, 36, 45))
    out = write_image(src, s3_url.url, storage_options=s3_url.options, client=client, **LAYOUT)
    local = write_image(DATA, tmp_path / "local.zarr", client=False, **LAYOUT)
    a, b = open_image(out, storage_options=s3_url.options), open_image(local)
    assert a.attributes == b.attributes and len(a.levels) == len(b.levels)
    for x, y in zip(a.levels, b.levels):
        np.testing.assert_array_equal(x[:], y[:])
