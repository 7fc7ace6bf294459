"""The single-process pyramid engine (omezarr_fast.pyramid.local and .layout), driven
through write_image: each shard written once, bounded buffers, errors raised, writes in
flight; the layout defaults."""
from __future__ import annotations

import math

import numpy as np
import pytest
import zarr
from helpers.pyramid import oracle

from omezarr_fast.ome.image import open_image, write_image
from omezarr_fast.pyramid import local
from omezarr_fast.pyramid.layout import default_chunks, default_shards, num_levels


def test_each_shard_written_once_and_bounded_buffers(tmp_path, monkeypatch):
    coverage: dict[str, np.ndarray] = {}
    regions: list[tuple[str, tuple]] = []
    peak = [0]
    put = local.LevelSink.put

    def counting_put(self, origin, data):
        put(self, origin, data)
        peak[0] = max(peak[0], len(self.pending))

    class Spy:
        def __init__(self, arr):
            self.arr = arr
            self.shape = arr.shape
            coverage[arr.path] = np.zeros(arr.shape, np.int32)

        def __setitem__(self, key, value):
            coverage[self.arr.path][key] += 1
            regions.append((self.arr.path, key))
            self.arr[key] = value

    init = local.LevelSink.__init__

    def spy_init(self, array, unit):
        init(self, Spy(array), unit)

    monkeypatch.setattr(local.LevelSink, "put", counting_put)
    monkeypatch.setattr(local.LevelSink, "__init__", spy_init)
    data = np.arange(96 * 128, dtype=np.uint32).reshape(96, 128)
    img = open_image(write_image(data, tmp_path / "a.zarr", chunks=(8, 8), shards=(16, 16),
                                 levels=4, progress=False))
    # every element of every level written exactly once, in whole shards
    assert len(coverage) == 4
    for cov in coverage.values():
        assert (cov == 1).all()
    for path, key in regions:
        arr = img.levels[int(path)]
        for sl, u, n in zip(key, arr.shards, arr.shape, strict=True):
            assert sl.start % u == 0 and (sl.stop % u == 0 or sl.stop == n)
    # nested block order: at most one partly filled shard per level at any time
    assert peak[0] <= 1
    for got, want in zip(img.levels, oracle(data, "yx", 4), strict=True):
        np.testing.assert_array_equal(got[...], want)


def test_lower_level_shards_are_the_level0_footprint(tmp_path, monkeypatch):
    """A lower level's shard is the level-0 shard's footprint (whole chunks, at least one):
    each block fills whole shards of every level above the chunk floor, none held pending."""
    held: dict[str, int] = {}
    put = local.LevelSink.put

    def counting_put(self, origin, data):
        put(self, origin, data)
        held[self.array.path] = max(held.get(self.array.path, 0), len(self.pending))

    monkeypatch.setattr(local.LevelSink, "put", counting_put)
    data = np.random.default_rng(0).integers(0, 4000, (16, 96, 128), dtype=np.uint16)
    img = open_image(write_image(data, tmp_path / "a.zarr", chunks=(4, 8, 8), shards=(8, 32, 32),
                                 levels=4, progress=False))
    assert [a.shards for a in img.levels] == [(8, 32, 32), (4, 16, 16), (4, 8, 8), (2, 8, 8)]
    assert [a.chunks for a in img.levels] == [(4, 8, 8)] * 3 + [(2, 8, 8)]   # clipped to (2, 12, 16)
    assert held["0"] == held["1"] == 0     # footprints of whole chunks: nothing held
    assert held["2"] <= 1 and held["3"] <= 1    # footprints (2, 8, 8), (1, 4, 4): below a chunk
    for got, want in zip(img.levels, oracle(data, "zyx", 4), strict=True):
        np.testing.assert_array_equal(got[...], want)


def test_defaults():
    shape, spatial = (128, 2048, 2048), [True] * 3
    chunks = default_chunks(shape, np.uint16, spatial)
    shards = default_shards(shape, np.uint16, chunks, spatial)
    assert math.prod(chunks) * 2 == 1 << 20
    assert 16 << 20 <= math.prod(shards) * 2 <= 64 << 20
    assert all(s % c == 0 for s, c in zip(shards, chunks))
    assert default_chunks((3, 2, 500, 600), np.float32, [False, False, True, True])[:2] == (1, 1)
    n = num_levels(shape, chunks, (2, 2, 2), None)
    last = [-(-s // 2 ** (n - 1)) for s in shape]
    before = [-(-s // 2 ** (n - 2)) for s in shape]
    assert all(s <= c for s, c in zip(last, chunks))
    assert any(s > c for s, c in zip(before, chunks))
    assert num_levels((100, 100), (8, 8), (2, 2), 20) == 3


def test_a_failing_shard_write_is_raised(tmp_path, monkeypatch):
    # Shard writes run on helper threads; an error there reaches the caller.
    class Failing:
        def __init__(self, arr):
            self.arr, self.shape = arr, arr.shape

        def __setitem__(self, key, value):
            if self.arr.path == "2":
                raise RuntimeError("disk full")
            self.arr[key] = value

    init = local.LevelSink.__init__
    monkeypatch.setattr(local.LevelSink, "__init__", lambda self, a, u: init(self, Failing(a), u))
    data = np.arange(96 * 128, dtype=np.uint16).reshape(96, 128)
    with pytest.raises(RuntimeError, match="disk full"):
        write_image(data, tmp_path / "a.zarr", chunks=(8, 8), shards=(16, 16), levels=4,
                    progress=False)


def test_writes_in_flight_by_source_kind(tmp_path, monkeypatch):
    """A numpy source's blocks are views: two blocks' writes may overlap.  A zarr
    source's blocks are copies: one, to bound memory."""
    seen = []
    real = local.write_pyramid

    def spy(*args, **kw):
        seen.append(args[-1] if len(args) > 8 else kw.get("in_flight"))
        return real(*args, **kw)

    monkeypatch.setattr(local, "write_pyramid", spy)
    data = np.arange(32 * 40 * 48, dtype="u2").reshape(32, 40, 48)
    write_image(data, tmp_path / "a.ome.zarr", chunks=(8, 8, 8), shards=(16, 16, 16), progress=False)
    src = zarr.create_array(str(tmp_path / "src.zarr"), shape=data.shape, dtype=data.dtype, chunks=(8, 8, 8))
    src[:] = data
    write_image(src, tmp_path / "b.ome.zarr", chunks=(8, 8, 8), shards=(16, 16, 16), progress=False)
    assert seen == [2, 1]
    a, b = open_image(tmp_path / "a.ome.zarr"), open_image(tmp_path / "b.ome.zarr")
    for la, lb in zip(a.levels, b.levels):
        np.testing.assert_array_equal(la[:], lb[:])
