"""read_regions: many boxes of one array in one native call, each chunk decoded once."""
from __future__ import annotations

import os

import numpy as np
import pytest
import zarr
from zarr.codecs import BloscCodec, ZstdCodec
from zarr.storage import LocalStore, MemoryStore

import omezarr_fast
from omezarr_fast import _native, read_regions
from omezarr_fast.errors import ChunkError, CodecError

ZSTD = [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "zstd", "configuration": {"level": 1}}]


def sample(shape, dtype="u2", seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 1000, size=shape) + np.arange(np.prod(shape)).reshape(shape) % 97).astype(dtype)


def random_boxes(shape, n, seed=1, max_size=20):
    rng = np.random.default_rng(seed)
    boxes = []
    for _ in range(n):
        box = []
        for s in shape:
            a = int(rng.integers(0, s))
            b = int(rng.integers(a, min(s, a + max_size) + 1))
            box.append(slice(a, b))
        boxes.append(tuple(box))
    return boxes


LAYOUTS = {
    "sharded": dict(chunks=(4, 8, 8), shards=(8, 16, 16), compressors=ZstdCodec(level=1)),
    "sharded-index-start-blosc": dict(chunks=(4, 8, 8), shards=(8, 16, 16),
                                      compressors=BloscCodec(cname="zstd", clevel=3, shuffle="shuffle")),
    "unsharded": dict(chunks=(5, 7, 9), compressors=ZstdCodec(level=1)),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("order", ["C", "F"])
def test_same_as_one_box_at_a_time(tmp_path, layout, order):
    data = sample((19, 37, 41))
    kw = dict(LAYOUTS[layout])
    if layout == "sharded-index-start-blosc":
        kw["shards"] = {"shape": kw["shards"], "index_location": "start"}
    with omezarr_fast.enabled():
        a = zarr.create_array(LocalStore(tmp_path / "a"), shape=data.shape, dtype=data.dtype,
                              fill_value=7, config={"order": order}, **kw)
        a[:] = data
        a[:4, :8, :8] = 7  # an all-fill chunk: not stored
        data[:4, :8, :8] = 7
        boxes = random_boxes(data.shape, 40)
        # overlapping, stepped, edge, empty, whole and short (fewer slices) boxes
        boxes += [boxes[0], (slice(0, 19, 3), slice(1, 37, 5), slice(None)), (slice(15, 19),),
                  (slice(3, 3), slice(0, 5), slice(0, 5)), (slice(None),) * 3, (slice(2, 9),)]
        got = read_regions(a, boxes)
    assert len(got) == len(boxes)
    for box, g in zip(boxes, got):
        np.testing.assert_array_equal(g, data[box])
        assert g.dtype == data.dtype


def test_zarr_v2_and_big_endian(tmp_path):
    data = sample((30, 50), ">u2")
    with omezarr_fast.enabled():
        a = zarr.create_array(LocalStore(tmp_path / "a"), shape=data.shape, dtype=data.dtype, chunks=(7, 11),
                              zarr_format=2, fill_value=0)
        a[:] = data
        boxes = random_boxes(data.shape, 25)
        for box, g in zip(boxes, read_regions(a, boxes)):
            np.testing.assert_array_equal(g, data[box])


def test_missing_shards_read_as_fill(tmp_path):
    with omezarr_fast.enabled():
        a = zarr.create_array(LocalStore(tmp_path / "a"), shape=(16, 32), dtype="f4", chunks=(4, 8),
                              shards=(8, 16), fill_value=np.nan)
        a[:8, :16] = 1.5
        (g,) = read_regions(a, [(slice(4, 12), slice(10, 20))])
    expect = np.full((8, 10), np.nan, "f4")
    expect[:4, :6] = 1.5
    np.testing.assert_array_equal(g, expect)


def test_more_files_than_one_group_opens(tmp_path):
    # 400 chunk files, one box per file plus boxes across many: several groups
    # of at most _LOCAL_MAX_FILES open files.
    data = sample((20, 20, 20), "i4")
    with omezarr_fast.enabled():
        a = zarr.create_array(LocalStore(tmp_path / "a"), shape=data.shape, dtype=data.dtype, chunks=(2, 2, 5))
        a[:] = data
        boxes = [(slice(z, z + 2), slice(y, y + 2), slice(x, x + 5))
                 for z in range(0, 20, 2) for y in range(0, 20, 2) for x in range(0, 20, 5)]
        boxes += random_boxes(data.shape, 30, max_size=20)
        got = read_regions(a, boxes)
    for box, g in zip(boxes, got):
        np.testing.assert_array_equal(g, data[box])


def test_other_stores_and_pipelines_read_box_by_box(tmp_path):
    data = sample((12, 12))
    boxes = random_boxes(data.shape, 10)
    a = zarr.create_array(MemoryStore(), shape=data.shape, dtype=data.dtype, chunks=(5, 5))
    a[:] = data
    with omezarr_fast.enabled():
        m = zarr.open_array(a.store, mode="r")
    for arr in (a, m):  # zarr's own pipeline; ours on a MemoryStore
        for box, g in zip(boxes, read_regions(arr, boxes)):
            np.testing.assert_array_equal(g, data[box])


def test_read_missing_chunks_false_is_honoured(tmp_path):
    with omezarr_fast.enabled():
        a = zarr.create_array(LocalStore(tmp_path / "a"), shape=(8, 8), dtype="u1", chunks=(4, 4),
                              config={"read_missing_chunks": False})
        with pytest.raises(Exception, match="c/1/1|missing"):
            read_regions(a, [(slice(4, 8), slice(4, 8))])


def small_sharded(tmp_path, data):
    """data written as shards of 8x8 (inner chunks 4x4), opened on our pipeline."""
    with omezarr_fast.enabled():
        a = zarr.create_array(LocalStore(tmp_path / "a"), shape=data.shape, dtype=data.dtype, chunks=(4, 4),
                              shards=(8, 8))
    a[:] = data
    return a


def test_corrupt_chunk_names_its_key(tmp_path):
    data = sample((8, 16))
    a = small_sharded(tmp_path, data)
    with omezarr_fast.enabled():
        path = tmp_path / "a" / "c" / "0" / "1"
        raw = bytearray(path.read_bytes())
        raw[:20] = b"\xff" * 20  # first inner chunk's frame (index at the end)
        path.write_bytes(bytes(raw))
        (ok,) = read_regions(a, [(slice(0, 8), slice(0, 8))])  # the other shard still reads
        np.testing.assert_array_equal(ok, data[:, :8])
        with pytest.raises(ChunkError, match="c/0/1"):
            read_regions(a, [(slice(0, 2), slice(0, 8)), (slice(0, 2), slice(8, 10)), (slice(1, 3), slice(8, 12))])


def test_open_files_are_closed(tmp_path):
    data = sample((8, 16))
    a = small_sharded(tmp_path, data)
    with omezarr_fast.enabled():
        before = len(os.listdir("/proc/self/fd"))
        read_regions(a, random_boxes(data.shape, 20))
        assert len(os.listdir("/proc/self/fd")) == before


@pytest.mark.parametrize("regions, err, match", [
    ((slice(0, 2), slice(0, 2)), TypeError, "sequence of boxes"),
    ([(0, slice(0, 2))], TypeError, r"regions\[0\].*slices"),
    ([(slice(0, 2),), (slice(None, None, -1),)], ValueError, r"regions\[1\].*steps"),
    ([(slice(0, 2),) * 3], IndexError, r"regions\[0\] has 3 slices"),
    ([3], TypeError, r"regions\[0\].*slices, got int"),
])
def test_bad_regions(tmp_path, regions, err, match):
    with omezarr_fast.enabled():
        a = zarr.create_array(LocalStore(tmp_path / "a"), shape=(8, 8), dtype="u1", chunks=(4, 4))
    with pytest.raises(err, match=match):
        read_regions(a, regions)


def test_array_must_be_a_zarr_array():
    with pytest.raises(TypeError, match="array must be a zarr.Array"):
        read_regions(np.zeros((4, 4)), [(slice(0, 2),)])


# ---- the native grouping under read_regions: tasks naming the same bytes ----

def test_chunk_kernel_decodes_a_shared_source_into_every_box():
    k = _native.ChunkKernel(ZSTD, (4, 6), np.dtype("u2"), b"\0\0")
    a = np.arange(24, dtype="u2").reshape(4, 6)
    enc = np.asarray(k.write([(((0, 0), (1, 1), (4, 6), 0, a.strides), None)], a, True)[0])
    other = np.asarray(k.write([(((0, 0), (1, 1), (4, 6), 0, a.strides), None)], a + 1, True)[0])
    out = np.full((6, 4, 6), 9, "u2")
    items = []
    for i in range(5):  # boxes 0, 2, 4 share enc; 1, 3 share other; a missing chunk in slot 5
        src = enc if i % 2 == 0 else other
        items.append((((0, 0), (1, 1), (4, 6), i * out.strides[0], out.strides[1:]), src))
    items.append((((1, 2), (1, 1), (2, 3), 5 * out.strides[0], out.strides[1:]), None))
    k.read(items, out, shared=True)
    expect = np.stack([a if i % 2 == 0 else a + 1 for i in range(5)] + [np.full((4, 6), 9, "u2")])
    expect[5, :2, :3] = 0
    np.testing.assert_array_equal(out, expect)


def test_shared_corrupt_source_fails_every_item_of_its_group():
    k = _native.ChunkKernel(ZSTD, (4, 6), np.dtype("u2"), b"\0\0")
    bad = np.frombuffer(b"\x28\xb5\x2f\xfd" + b"\x01" * 20, np.uint8)
    out = np.zeros((4, 6), "u2")
    box = ((0, 0), (1, 1), (4, 6), 0, out.strides)
    with pytest.raises(CodecError) as e:
        k.read([(box, bad), (box, bad)], out, shared=True)
    assert e.value.index in (0, 1)
