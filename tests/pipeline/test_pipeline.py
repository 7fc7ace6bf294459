"""omezarr_fast.CodecPipeline against zarr's default pipeline."""
from __future__ import annotations

import os
import pickle
import sys
import threading

import numpy as np
import pytest
import zarr
from helpers.pipelines import OURS, ZARR
from zarr.codecs import BloscCodec, BytesCodec, Crc32cCodec, GzipCodec, ShardingCodec, TransposeCodec, ZstdCodec
from zarr.storage import LocalStore, MemoryStore

import omezarr_fast
from omezarr_fast.errors import ChunkError


def make(store, name, *, ours=True, **kw):
    with zarr.config.set(OURS if ours else ZARR):
        return zarr.create_array(store, name=name, **kw)


def reopen(store, name, ours=True, **kw):
    with zarr.config.set(OURS if ours else ZARR):
        return zarr.open_array(store, path=name, **kw)


@pytest.fixture(params=["memory", "local"])
def store(request, tmp_path):
    return MemoryStore() if request.param == "memory" else LocalStore(tmp_path)


LAYOUTS = {
    "plain": dict(chunks=(4, 8, 5)),
    "sharded": dict(chunks=(2, 4, 5), shards=(4, 8, 10)),
    "sharded-start": dict(chunks=(2, 4, 5), shards=None),  # built below
    "transpose-gzip": dict(chunks=(4, 8, 5)),
}


def create(store, name, layout, dtype="u2", fill=0, ours=True, order=None, **kw):
    shape = (9, 17, 23)
    extra = {}
    if layout == "sharded-start":
        extra = dict(chunks=(4, 8, 10), serializer=ShardingCodec(
            chunk_shape=(2, 4, 5), codecs=[BytesCodec(), ZstdCodec(level=1)], index_location="start"),
            compressors=None)
    elif layout == "transpose-gzip":
        extra = dict(chunks=(4, 8, 5), filters=[TransposeCodec(order=(2, 0, 1))], compressors=[GzipCodec(level=2)])
    else:
        extra = dict(LAYOUTS[layout], compressors=[ZstdCodec(level=1)])
    if order is not None:
        extra["config"] = {"order": order}
    extra.update(kw)
    return make(store, name, ours=ours, shape=shape, dtype=dtype, fill_value=fill, **extra)


def data_for(dtype, shape=(9, 17, 23), seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 100).astype(dtype)


SELECTIONS = [
    np.s_[:], np.s_[...], np.s_[1:7, 3:15, 2:20], np.s_[::2, 1::3, ::4], np.s_[3, :, 5],
    np.s_[8, 16, 22], np.s_[..., 7], np.s_[2:3, 0:0, :], np.s_[-5:-1, -3:, :-2], np.s_[0],
]


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("dtype", ["u2", ">i4", "f8", "u1", "c8", "<M8[s]", "bool"])
def test_read_write_matches_zarr(store, layout, dtype):
    data = data_for(dtype)
    ours = create(store, "ours", layout, dtype=dtype)
    ref = create(store, "ref", layout, dtype=dtype, ours=False)
    assert omezarr_fast.pipeline_info(ours) == "native"
    ours[:] = data
    ref[:] = data
    for sel in SELECTIONS:
        np.testing.assert_array_equal(ours[sel], ref[sel])
    # Each reads what the other wrote.
    np.testing.assert_array_equal(reopen(store, "ref")[:], data)
    np.testing.assert_array_equal(reopen(store, "ours", ours=False)[:], data)


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_partial_writes(store, layout):
    ours = create(store, "ours", layout, fill=3)
    ref = create(store, "ref", layout, fill=3, ours=False)
    rng = np.random.default_rng(1)
    for sel in SELECTIONS + [np.s_[1:8:3, 2:9, 4:18:5]]:
        shape = np.empty((9, 17, 23))[sel].shape
        v = rng.integers(0, 500, shape).astype("u2")
        ours[sel] = v
        ref[sel] = v
        np.testing.assert_array_equal(ours[:], ref[:], err_msg=str(sel))
    ours[2:5] = 9  # scalar broadcast
    ref[2:5] = 9
    np.testing.assert_array_equal(ours[:], ref[:])
    assert sorted(k for k in _keys(store) if k.startswith("ours/")) == \
        sorted("ours/" + k[4:] for k in _keys(store) if k.startswith("ref/"))


def _keys(store):
    from zarr.core.sync import sync

    async def collect():
        return [k async for k in store.list()]
    return sync(collect())


@pytest.mark.parametrize("layout", ["plain", "sharded"])
def test_fancy_indexing(store, layout):
    data = data_for("i4")
    ours = create(store, "ours", layout, dtype="i4")
    ref = create(store, "ref", layout, dtype="i4", ours=False)
    ours[:] = data
    ref[:] = data
    idx = np.array([0, 3, 4, 8])
    mask = np.zeros(17, bool)
    mask[[1, 5, 16]] = True
    for get in [lambda a: a.oindex[idx, :, 3], lambda a: a.oindex[idx, mask, 2:9],
                lambda a: a.vindex[idx, [1, 2, 3, 16], [0, 5, 22, 7]],
                lambda a: a.get_block_selection((1, 0, 2)), lambda a: a.blocks[0, 1:, ...],
                lambda a: a.get_mask_selection(data > 50), lambda a: a.oindex[[8, 1], 5, :]]:
        np.testing.assert_array_equal(get(ours), get(ref))
    for a in (ours, ref):
        a.oindex[idx, mask, 2:9] = -1
        a.vindex[idx, [1, 2, 3, 16], [0, 5, 22, 7]] = -2
        a.set_mask_selection(data > 200, 77)
        a.oindex[[2, 6], 4, :] = -3
        a.blocks[1, 1, 1] = 5
    np.testing.assert_array_equal(ours[:], ref[:])


@pytest.mark.parametrize("fill", [np.nan, -0.0, 1.5])
@pytest.mark.parametrize("layout", ["plain", "sharded"])
def test_fill_values_and_empty_chunks(store, layout, fill):
    ours = create(store, "ours", layout, dtype="f4", fill=fill)
    ref = create(store, "ref", layout, dtype="f4", fill=fill, ours=False)
    np.testing.assert_array_equal(ours[:], ref[:])
    assert np.signbit(ours[0, 0, 0]) == np.signbit(np.float32(fill))
    for a in (ours, ref):
        a[0:4, 0:8, 0:10] = 2.0
        a[0:4, 0:8, 0:10] = fill  # back to fill: chunks deleted
        a[5:7] = 4.0
    np.testing.assert_array_equal(ours[:], ref[:])
    ok = sorted(k[5:] for k in _keys(store) if k.startswith("ours/"))
    rk = sorted(k[4:] for k in _keys(store) if k.startswith("ref/"))
    assert ok == rk


def test_write_empty_chunks_true(store):
    ours = create(store, "ours", "plain", config={"write_empty_chunks": True})
    ref = create(store, "ref", "plain", config={"write_empty_chunks": True}, ours=False)
    ours[:] = 0
    ref[:] = 0
    assert len([k for k in _keys(store) if k.startswith("ours/c")]) == \
        len([k for k in _keys(store) if k.startswith("ref/c")]) > 0


@pytest.mark.parametrize("layout", ["plain", "sharded"])
def test_read_missing_chunks_false(store, layout):
    a = create(store, "a", layout, config={"read_missing_chunks": False})
    a[0:4, 0:8, 0:5] = 1
    assert (a[0:4, 0:8, 0:5] == 1).all()
    with pytest.raises(zarr.errors.ChunkNotFoundError):
        a[:]


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("layout", ["plain", "sharded"])
def test_order_F(store, layout, order):
    data = data_for("i2")
    a = create(store, "a", layout, dtype="i2", order=order)
    a[:] = np.asfortranarray(data)
    out = a[:]
    np.testing.assert_array_equal(out, data)
    np.testing.assert_array_equal(a[1:5, ::2, 3], data[1:5, ::2, 3])


@pytest.mark.parametrize("compressor", [None, "zstd", "blosc", "gzip"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", ["<u2", ">u2", "f8"])
def test_zarr_v2(store, compressor, order, dtype):
    import numcodecs
    comp = {None: None, "zstd": numcodecs.Zstd(level=2), "blosc": numcodecs.Blosc(cname="lz4"),
            "gzip": numcodecs.GZip(level=1)}[compressor]
    data = data_for(dtype)
    kw = dict(shape=data.shape, chunks=(4, 8, 5), dtype=dtype, zarr_format=2, compressors=comp,
              order=order, fill_value=None)
    ours = make(store, "ours", **kw)
    ref = make(store, "ref", ours=False, **kw)
    assert omezarr_fast.pipeline_info(ours) == "native"
    ours[:] = data
    ref[:] = data
    np.testing.assert_array_equal(reopen(store, "ref")[2:7, 1::3], data[2:7, 1::3])
    np.testing.assert_array_equal(reopen(store, "ours", ours=False)[:], data)
    ours[1, 2:5, :] = 6
    ref[1, 2:5, :] = 6
    np.testing.assert_array_equal(ours[:], ref[:])


def test_fallback_is_silent_and_visible(store):
    a = make(store, "s", shape=(5,), chunks=(2,), dtype=str)
    a[:] = np.array(["a", "bb", "ccc", "", "e"])
    assert list(a[:]) == ["a", "bb", "ccc", "", "e"]
    assert omezarr_fast.pipeline_info(a).startswith("fallback:")
    b = make(store, "t", shape=(5,), chunks=(2,), dtype=[("x", "i4"), ("y", "f8")])
    b[1] = (3, 2.5)
    assert b[1]["x"] == 3


def test_corrupt_chunk_names_key(store):
    a = create(store, "a", "plain")
    a[:] = 5
    store_keys = [k for k in _keys(store) if k.startswith("a/c/")]
    key = sorted(store_keys)[0]
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync
    sync(store.set(key, default_buffer_prototype().buffer.from_bytes(b"\x28\xb5\x2f\xfd garbage")))
    with pytest.raises(ChunkError, match=key.split("/", 1)[1].replace("/", ".")[:0] + "a/c"):
        a[:]


def _shard_bytes(store, key):
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync
    return bytearray(sync(store.get(key, default_buffer_prototype())).to_bytes())


def _put(store, key, data):
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync
    sync(store.set(key, default_buffer_prototype().buffer.from_bytes(bytes(data))))


# Inner chunks that share or overlap bytes are legal (issue 13): tests/test_hostile_reads.py.
@pytest.mark.parametrize("damage", ["checksum", "past_end", "truncated", "short"])
def test_corrupt_shard(store, damage):
    a = create(store, "a", "sharded")
    a[:] = data_for("u2")
    key = "a/c/0/0/0"
    raw = _shard_bytes(store, key)
    n = 2 * 2 * 2
    idx_at = len(raw) - (16 * n + 4)
    idx = np.frombuffer(bytes(raw[idx_at:idx_at + 16 * n]), "<u8").reshape(n, 2).copy()
    if damage == "checksum":
        raw[-1] ^= 0xFF
    elif damage == "short":
        raw = raw[:10]
    elif damage == "truncated":
        raw = raw[:idx_at // 2] + raw[idx_at:]
    else:
        idx[-1, 0] = len(raw) + 10
        from omezarr_fast.native import crc32c
        body = idx.astype("<u8").tobytes()
        raw[idx_at:] = body + crc32c(body).to_bytes(4, "little")
    _put(store, key, raw)
    with pytest.raises(ChunkError, match=key):
        a[:]
    with pytest.raises(ChunkError, match=key):
        a[3:4, 7:8, 9:10]
    with pytest.raises(ChunkError, match=key):
        a[0:1, 0:1, 0:1] = 3  # read-modify-write fails...
    assert _shard_bytes(store, key) == raw  # ...and leaves the shard as it was


def test_equality_and_pickle(store):
    a = create(store, "a", "sharded")
    b = reopen(store, "a")
    assert a == b
    p = a._async_array.codec_pipeline
    a[:] = 1
    q = pickle.loads(pickle.dumps(p))
    assert q == p and type(q) is type(p)
    if isinstance(store, LocalStore):
        c = pickle.loads(pickle.dumps(a))
        assert c == a
        assert (c[:] == 1).all()


def test_read_only_store(tmp_path):
    a = create(LocalStore(tmp_path), "a", "plain")
    a[:] = 1
    r = reopen(LocalStore(tmp_path, read_only=True), "a")
    with pytest.raises(ValueError, match="read"):
        r[:] = 2
    assert (a[:] == 1).all()


def test_threads(store):
    a = create(store, "a", "sharded", dtype="i4")
    data = data_for("i4")
    a[:] = data
    errors = []

    def worker(k):
        try:
            for _ in range(5):
                np.testing.assert_array_equal(a[k % 9], data[k % 9])
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors


@pytest.mark.skipif(sys.platform != "linux", reason="fork")
def test_fork(tmp_path):
    a = create(LocalStore(tmp_path), "a", "sharded", dtype="i4")
    data = data_for("i4")
    a[:] = data
    assert (a[:] == data).all()
    pid = os.fork()
    if pid == 0:
        try:
            ok = bool((a[:] == data).all())
            a[0] = 1
            os._exit(0 if ok else 1)
        except BaseException:  # noqa: BLE001
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert (a[0] == 1).all()


def test_other_codecs_and_stores(tmp_path):
    from zarr.storage import ZipStore
    data = data_for("u2")
    with ZipStore(tmp_path / "a.zip", mode="w") as zs:
        a = make(zs, "a", shape=data.shape, chunks=(4, 8, 5), shards=(4, 8, 10), dtype="u2",
                 compressors=[BloscCodec(cname="zstd", clevel=3, shuffle="shuffle")])
        a[:] = data
        np.testing.assert_array_equal(a[1:8, ::3], data[1:8, ::3])
    with ZipStore(tmp_path / "a.zip", mode="r") as zs:
        np.testing.assert_array_equal(reopen(zs, "a")[:], data)


def test_crc32c_inner_and_big_index(store):
    data = data_for("i8")
    kw = dict(shape=data.shape, chunks=(4, 8, 10), dtype="i8", compressors=None,
              serializer=ShardingCodec(chunk_shape=(2, 4, 5), codecs=[BytesCodec(endian="big"), Crc32cCodec()],
                                       index_codecs=[BytesCodec(endian="big"), Crc32cCodec()]))
    ours = make(store, "ours", **kw)
    assert omezarr_fast.pipeline_info(ours) == "native"
    ours[:] = data
    np.testing.assert_array_equal(reopen(store, "ours", ours=False)[:], data)
    np.testing.assert_array_equal(ours[3:6, 2:11, ::3], data[3:6, 2:11, ::3])


@pytest.mark.parametrize("layout", ["plain", "sharded"])
def test_small_windows(store, layout, monkeypatch):
    import omezarr_fast.pipeline.core as P
    monkeypatch.setattr(P, "_WINDOW_BYTES", 1)  # one chunk per native call, prefetch on
    monkeypatch.setattr(P, "_LOCAL_WINDOW_BYTES", 1)
    data = data_for("u2")
    a = create(store, "a", layout)
    a[:] = data
    np.testing.assert_array_equal(a[:], data)
    np.testing.assert_array_equal(a[1:8, 2:, ::3], data[1:8, 2:, ::3])
    np.testing.assert_array_equal(reopen(store, "a", ours=False)[:], data)


def test_zero_d_and_empty_arrays(store):
    a = make(store, "z", shape=(), dtype="f8", fill_value=-0.0)
    assert np.signbit(a[()])
    a[()] = 3.5
    assert a[()] == 3.5
    e = make(store, "e", shape=(0, 4), chunks=(2, 2), dtype="i4")
    assert omezarr_fast.pipeline_info(e) == "native"
    assert e[:].shape == (0, 4)


@pytest.fixture
def record_gets(monkeypatch):
    """Records the byte ranges of every batch of store reads the pipeline makes."""
    from omezarr_fast.pipeline.store_io import StoreIO

    def start():
        seen = []
        real_get = StoreIO.get

        def get(self, reqs):
            seen.append([br for _, br in reqs])
            return real_get(self, reqs)

        monkeypatch.setattr(StoreIO, "get", get)
        return seen
    return start


def test_partial_shard_read_requests(record_gets):
    """On a store that hands out bytes, a partial shard read fetches the index
    once, then the touched inner chunks, coalesced across gaps up to zarr's
    sharding_coalesce_max_gap_bytes."""
    store = MemoryStore()
    a = make(store, "p", shape=(64, 64, 64), dtype="u2", chunks=(16, 16, 16), shards=(64, 64, 64),
             compressors=None, fill_value=0)
    data = data_for("u2", (64, 64, 64))
    a[:] = data
    seen = record_gets()
    b = reopen(store, "p")
    # Where each inner chunk sits (zarr lays them out in Morton order): 8 KiB each.
    index = np.frombuffer(store.get_sync("p/c/0/0/0").to_bytes()[-(64 * 16 + 4):-4], "<u8")
    pos = (index.reshape(4, 4, 4, 2)[..., 0] // 8192).astype(int)
    # Inner chunks (0,0,0) and (0,2,0): apart by more than 1 KiB, less than 1 MiB.
    gap = abs(pos[0, 2, 0] - pos[0, 0, 0]) - 1
    assert gap >= 3
    np.testing.assert_array_equal(b[0:16, 0:48:32, 0:16], data[0:16, 0:48:32, 0:16])
    index_round, data_round = seen
    assert len(index_round) == 1 and index_round[0].suffix == 64 * 16 + 4
    spans = sorted((r.start, r.end) for r in data_round)
    assert len(spans) == 1 and spans[0][1] - spans[0][0] == (gap + 2) * 8192
    seen.clear()
    with zarr.config.set({"array.sharding_coalesce_max_gap_bytes": 1024}):
        b = reopen(store, "p")
        np.testing.assert_array_equal(b[0:16, 0:48:32, 0:16], data[0:16, 0:48:32, 0:16])
    assert sorted(r.end - r.start for r in seen[1]) == [8192, 8192]
    seen.clear()
    # Fancy reads fetch only what they touch: inner chunks (0,0,0), (3,0,0), (0,3,0).
    pts = ([1, 50, 3], [2, 2, 60], [5, 5, 5])
    with zarr.config.set({"array.sharding_coalesce_max_gap_bytes": 0}):
        b = reopen(store, "p")
        np.testing.assert_array_equal(b.vindex[pts], data[pts])
    assert len(seen[0]) == 1 and sorted(r.end - r.start for r in seen[1]) == [8192] * 3


def test_local_reads_read_only_touched_inner_chunks(tmp_path, record_gets):
    """Local files: C reads each touched inner chunk itself (pread at its
    offset), so bytes of other inner chunks are never read: here every other
    inner chunk is garbage on disk and the reads still succeed; reading the
    garbage raises an error naming the shard."""
    store = LocalStore(tmp_path)
    a = make(store, "p", shape=(64, 64, 64), dtype="u2", chunks=(16, 16, 16), shards=(64, 64, 64),
             compressors=[ZstdCodec(level=1)], fill_value=0)
    data = data_for("u2", (64, 64, 64))
    a[:] = data
    path = tmp_path / "p" / "c" / "0" / "0" / "0"
    raw = bytearray(path.read_bytes())
    index = np.frombuffer(bytes(raw[-(64 * 16 + 4):-4]), "<u8").reshape(4, 4, 4, 2)
    keep = {(0, 0, 0), (0, 2, 0), (3, 0, 0), (0, 3, 0)}
    for cell in np.ndindex(4, 4, 4):
        if cell not in keep:
            off, n = (int(v) for v in index[cell])
            raw[off:off + n] = b"\xff" * n
    path.write_bytes(bytes(raw))
    seen = record_gets()
    b = reopen(store, "p")
    np.testing.assert_array_equal(b[0:16, 0:48:32, 0:16], data[0:16, 0:48:32, 0:16])
    pts = ([1, 50, 3], [2, 2, 60], [5, 5, 5])
    np.testing.assert_array_equal(b.vindex[pts], data[pts])
    assert seen == []  # no bytes went through Python
    with pytest.raises(ChunkError, match="p/c/0/0/0"):
        b[20:24, 20:24, 20:24]


@pytest.mark.parametrize("seed", range(6))
def test_fancy_reads_of_big_shards_random(seed):
    """Random vindex/oindex/mask reads of shards with many inner chunks (the
    touched-inner-chunk path) equal numpy's answer."""
    rng = np.random.default_rng(seed)
    shape = (24, 40, 36)
    data = data_for("f4", shape, seed)
    a = make(MemoryStore(), "r", shape=shape, dtype="f4", chunks=(4, 8, 6), shards=(12, 40, 18),
             compressors=[ZstdCodec(level=1)], fill_value=0)
    a[:] = data
    a[:4, :8, :6] = 0  # an empty inner chunk in the first shard
    data[:4, :8, :6] = 0
    for _ in range(5):
        n = int(rng.integers(1, 12))
        pts = tuple(rng.integers(0, s, n) for s in shape)
        np.testing.assert_array_equal(a.vindex[pts], data[pts])
        ix = [np.unique(rng.integers(0, s, rng.integers(1, 4))) for s in shape]
        np.testing.assert_array_equal(a.oindex[ix[0], ix[1], ix[2]], data[np.ix_(*ix)])
        np.testing.assert_array_equal(a.oindex[ix[0], 3:30:7, int(ix[2][0])], data[ix[0], 3:30:7, int(ix[2][0])])
        mask = rng.random(shape) < 0.002
        np.testing.assert_array_equal(a.vindex[mask], data[mask])


def test_windows_weigh_reads_by_selection_and_writes_by_chunk(monkeypatch):
    """A partial write holds each whole shard (old and re-encoded), so writes are
    windowed by chunk size; reads only decode what they select."""
    from types import SimpleNamespace

    from omezarr_fast.pipeline import core
    monkeypatch.setattr(core, "_WINDOW_BYTES", 4 << 20)
    spec = SimpleNamespace(shape=(64, 512, 512))  # 32 MiB of uint16
    plan = SimpleNamespace(dtype=np.dtype("u2"))
    batch = [(None, spec, (slice(0, 1), slice(0, 1), slice(0, 1)), None, False)] * 10
    assert [len(w) for w in core.CodecPipeline._windows(plan, batch)] == [10]
    assert [len(w) for w in core.CodecPipeline._windows(plan, batch, whole=True)] == [1] * 10
    assert [len(w) for w in core.CodecPipeline._windows(plan, batch, 3, whole=True)] == [3, 3, 3, 1]


def test_local_reads_close_their_files(tmp_path, monkeypatch):
    """Windows of local reads hold open files; every one is closed, after
    success and after a corrupt shard stops the read half-way."""
    from omezarr_fast.pipeline import store_io
    monkeypatch.setattr(store_io, "LOCAL_MAX_FILES", 2)
    store = LocalStore(tmp_path)
    a = create(store, "a", "sharded")
    data = data_for("u2")
    a[:] = data
    fds = len(os.listdir("/proc/self/fd"))
    np.testing.assert_array_equal(reopen(store, "a")[:], data)
    np.testing.assert_array_equal(reopen(store, "a")[1:8, 2:, ::3], data[1:8, 2:, ::3])
    (tmp_path / "a" / "c" / "1" / "1" / "1").write_bytes(b"\0" * 10)  # shorter than its index
    with pytest.raises(ChunkError, match="a/c/1/1/1"):
        reopen(store, "a")[:]
    assert len(os.listdir("/proc/self/fd")) == fds
