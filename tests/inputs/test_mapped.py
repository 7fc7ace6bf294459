"""Memory-mapped inputs read block by block: FileBlocks (preadv) and ReleasingMap equal the map."""
from __future__ import annotations

import numpy as np
import pytest

from omezarr_fast.inputs.mapped import FileBlocks, ReleasingMap, streamed


@pytest.fixture
def mapped(tmp_path):
    data = np.random.default_rng(0).integers(0, 60000, (3, 5, 37, 29), dtype=np.uint16)
    np.save(tmp_path / "a.npy", data)
    return data, np.load(tmp_path / "a.npy", mmap_mode="r")


def test_blocks_equal_the_map(mapped):
    data, mm = mapped
    reader = streamed(mm)
    assert isinstance(reader, FileBlocks) and reader.shape == data.shape
    rel = ReleasingMap(mm)
    rng = np.random.default_rng(1)
    keys = [(...,), (0,), (slice(1, 3), slice(None), slice(5, 9), slice(None)),
            (2, 4, slice(36, 37), slice(0, 29)), (slice(0, 0),), (-1, slice(2, 4))]
    for _ in range(40):
        key = []
        for n in data.shape:
            a = int(rng.integers(0, n))
            b = int(rng.integers(a, n + 1))
            key.append(slice(a, b) if rng.random() < 0.8 else a)
        keys.append(tuple(key))
    for key in keys:
        want = data[key]
        for r in (reader, rel):
            got = r[key]
            assert got.shape == want.shape, key
            np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.asarray(reader), data)
    with pytest.raises(IndexError):
        reader[3]
    with pytest.raises(IndexError):
        reader[::2]


def test_truncated_file_is_an_error(tmp_path):
    data = np.arange(100, dtype=np.uint16)
    (tmp_path / "raw").write_bytes(data.tobytes()[:150])
    with pytest.raises(OSError, match="end of file"):
        FileBlocks(tmp_path / "raw", 0, (100,), np.uint16)[...]
