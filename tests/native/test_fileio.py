"""The batched native file reader behind the pipeline's LocalStore path:
same bytes and same "missing" answers as zarr's LocalStore."""
import os

import numpy as np
import pytest
import zarr
from zarr.abc.store import OffsetByteRequest, RangeByteRequest, SuffixByteRequest
from zarr.core.buffer import default_buffer_prototype

from omezarr_fast import _native
from omezarr_fast.pipeline.store_io import span as _span

DATA = bytes(range(256)) * 5  # 1280 bytes


@pytest.fixture
def store(tmp_path):
    (tmp_path / "f").write_bytes(DATA)
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "dir").mkdir()
    return zarr.storage.LocalStore(tmp_path)


REQUESTS = [None, RangeByteRequest(0, 10), RangeByteRequest(100, 1000), RangeByteRequest(1200, 5000),
            RangeByteRequest(2000, 3000), OffsetByteRequest(7), OffsetByteRequest(5000),
            SuffixByteRequest(9), SuffixByteRequest(5000), SuffixByteRequest(0)]


@pytest.mark.parametrize("key", ["f", "empty", "missing", "dir", "f/under-a-file"])
def test_read_files_matches_local_store(store, key):
    want = [store.get_sync(key, prototype=default_buffer_prototype(), byte_range=r) for r in REQUESTS]
    got = _native.read_files([(store.root / key, *_span(r)) for r in REQUESTS])
    for r, w, g in zip(REQUESTS, want, got):
        if w is None:
            assert g is None, r
        else:
            assert g is not None and g.dtype == np.uint8
            assert g.tobytes() == w.to_bytes(), r


def test_read_files_many_and_empty_batch(tmp_path):
    assert _native.read_files([]) == []
    files = []
    for i in range(200):
        p = tmp_path / f"c{i}"
        p.write_bytes(os.urandom(i * 37))
        files.append(p)
    got = _native.read_files([(p, 0, -1) for p in files])
    assert [g.tobytes() for g in got] == [p.read_bytes() for p in files]


def test_read_files_error_other_than_missing_raises_naming_path(tmp_path):
    # ENAMETOOLONG is an error, not "no such key" (the same rule as LocalStore).
    p = tmp_path / ("x" * 300)
    with pytest.raises(OSError, match="xxxx") as e:
        _native.read_files([(tmp_path / "ok", 0, -1), (p, 0, -1)])
    assert e.value.errno == 36


def test_read_files_bad_path_type_raises():
    with pytest.raises(TypeError):
        _native.read_files([(123, 0, -1)])

