"""Reads from stores that are not local files (pipeline/remote_io.py):
read_regions on S3 (SeaweedFS behind the counting proxy) and MemoryStore, the
requests it issues, faults, hostile shards, and the thread hops of a patch
read through zarr."""
from __future__ import annotations

import asyncio
import datetime
import itertools
import struct
import uuid

import numpy as np
import pytest
import zarr
from helpers.fuzz_strategies import ShardLayout, fuzz_settings, index_edits
from helpers.s3_server import REGION
from hypothesis import given
from hypothesis import strategies as st
from zarr.codecs import ZstdCodec
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync
from zarr.storage import MemoryStore, ObjectStore

import omezarr_fast
from omezarr_fast import read_regions
from omezarr_fast.errors import ChunkError

BUCKET = "test"
PROTO = default_buffer_prototype()


@pytest.fixture(autouse=True)
def _quick_retries():
    with zarr.config.set({"omezarr_fast.retry.attempts": 3, "omezarr_fast.retry.base_delay": 0.01}):
        yield


def _obstore(endpoint: str, prefix: str) -> ObjectStore:
    from obstore.store import S3Store

    # obstore's own retries off: the proxy's counts show ours only.
    return ObjectStore(S3Store(BUCKET, prefix=prefix, endpoint=endpoint, region=REGION, skip_signature=True,
                               client_options={"allow_http": True},
                               retry_config={"max_retries": 0,
                                             "backoff": {"init_backoff": datetime.timedelta(0),
                                                         "max_backoff": datetime.timedelta(0), "base": 2},
                                             "retry_timeout": datetime.timedelta(seconds=30)}))


@pytest.fixture
def s3store(s3, proxy, request):
    prefix = f"rr-{uuid.uuid4().hex[:10]}"
    return _obstore(proxy.endpoint, prefix), prefix


def _sample(shape, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 500, size=shape) + np.arange(np.prod(shape)).reshape(shape) % 89).astype("u2")


def _write(store, data, name="a", **kw):
    with omezarr_fast.enabled():
        a = zarr.create_array(store, name=name, shape=data.shape, dtype=data.dtype, fill_value=0,
                              compressors=ZstdCodec(level=1), **kw)
        a[:] = data
        return zarr.open_array(store, path=name, mode="r")


def _oracle(store, name, boxes):
    """zarr's default pipeline, box by box."""
    with zarr.config.set({"codec_pipeline.path": "zarr.core.codec_pipeline.BatchedCodecPipeline"}):
        a = zarr.open_array(store, path=name, mode="r")
        return [a[b] for b in boxes]


def _index(raw: bytes, n: int) -> np.ndarray:
    """(offset, nbytes) per inner chunk of a shard with its index at the end
    (bytes + crc32c), read without the pipeline."""
    return np.array(struct.unpack(f"<{2 * n}Q", raw[-(16 * n + 4):-4]), dtype=np.uint64).reshape(n, 2)


def _touched(boxes, shard, inner, shape):
    """{shard coords: set of inner linear indices} the boxes touch."""
    cps = tuple(s // c for s, c in zip(shard, inner))
    out: dict[tuple, set] = {}
    for b in boxes:
        rngs = [range(s.start // c, (min(s.stop, n) - 1) // c + 1) for s, c, n in zip(b, inner, shape)]
        for g in itertools.product(*rngs):
            sc = tuple(x // k for x, k in zip(g, cps))
            lin = int(np.ravel_multi_index(tuple(x % k for x, k in zip(g, cps)), cps))
            out.setdefault(sc, set()).add(lin)
    return out


# Overlapping boxes (one twice), none covering half a shard's inner chunks.
BOXES = [(slice(2, 9), slice(5, 20), slice(40, 50)), (slice(2, 9), slice(5, 20), slice(40, 50)),
         (slice(6, 12), slice(12, 22), slice(45, 47)), (slice(30, 32), slice(60, 64), slice(0, 3)),
         (slice(0, 5), slice(20, 25), slice(50, 55)), (slice(17, 18), slice(0, 64), slice(33, 34))]


def test_read_regions_s3_requests(s3store, proxy):
    """Each shard's index once, each touched inner chunk's bytes once, no whole
    shard, however many boxes touch them; results as zarr's pipeline reads."""
    st_, prefix = s3store
    shape, shard, inner = (32, 64, 64), (16, 32, 32), (8, 8, 8)
    data = _sample(shape)
    with zarr.config.set({"array.sharding_coalesce_max_gap_bytes": 0}):
        a = _write(st_, data, shards=shard, chunks=inner)
    proxy.reset()
    got = read_regions(a, BOXES)
    for g, b in zip(got, BOXES):
        np.testing.assert_array_equal(g, data[b])
    gets = [r for r in proxy.requests("GET") if r.key]
    n = int(np.prod([s // c for s, c in zip(shard, inner)]))
    touched = _touched(BOXES, shard, inner, shape)
    assert {r.key for r in gets} == {f"{prefix}/a/c/" + "/".join(map(str, sc)) for sc in touched}
    for sc, lins in touched.items():
        key = f"{prefix}/a/c/" + "/".join(map(str, sc))
        mine = [r for r in gets if r.key == key]
        assert [r.range for r in mine].count(f"bytes=-{16 * n + 4}") == 1, [r.range for r in mine]
        assert all(r.range for r in mine)  # nothing fetched whole
        raw = sync(st_.get(key[len(prefix) + 1:], PROTO)).to_bytes()
        pairs = _index(raw, n)
        fetched = []
        for r in mine:
            if r.range.startswith("bytes=-"):
                continue
            lo, hi = map(int, r.range[len("bytes="):].split("-"))
            fetched.append((lo, hi + 1))
        # The ranges do not overlap and cover exactly the touched chunks (gap 0).
        fetched.sort()
        assert all(a1 <= b0 for (_, a1), (b0, _) in zip(fetched, fetched[1:])), fetched
        want = sorted((int(pairs[t, 0]), int(pairs[t, 0] + pairs[t, 1])) for t in lins)
        covered = [w for w in want if any(lo <= w[0] and w[1] <= hi for lo, hi in fetched)]
        assert covered == want
        assert sum(hi - lo for lo, hi in fetched) == sum(hi - lo for lo, hi in want)
    # zarr's pipeline reads the same.
    for g, w in zip(got, _oracle(st_, "a", BOXES)):
        np.testing.assert_array_equal(g, w)


def test_read_regions_s3_unsharded_each_chunk_once(s3store, proxy):
    st_, prefix = s3store
    data = _sample((32, 64, 64), seed=2)
    a = _write(st_, data, chunks=(8, 16, 16))
    proxy.reset()
    got = read_regions(a, BOXES)
    for g, b in zip(got, BOXES):
        np.testing.assert_array_equal(g, data[b])
    keys = [r.key for r in proxy.requests("GET") if r.key]
    assert len(keys) == len(set(keys))
    want = {f"{prefix}/a/c/" + "/".join(map(str, c)) for c in _touched(BOXES, (8, 16, 16), (8, 16, 16), data.shape)}
    assert set(keys) == want


def test_read_regions_s3_concurrent_and_whole_shards(s3store, proxy):
    """Requests overlap (async.concurrency in flight), and a shard that the
    boxes mostly cover is one GET."""
    st_, prefix = s3store
    data = _sample((32, 64, 64), seed=3)
    a = _write(st_, data, shards=(8, 32, 32), chunks=(8, 16, 16))
    boxes = [(slice(z, z + 8), slice(0, 64), slice(0, 64)) for z in range(0, 32, 8)]
    proxy.reset()
    proxy.latency = 0.05
    got = read_regions(a, boxes)
    for g, b in zip(got, boxes):
        np.testing.assert_array_equal(g, data[b])
    gets = [r for r in proxy.requests("GET") if r.key]
    assert len(gets) == 16 and all(r.range is None for r in gets), [(r.key, r.range) for r in gets]
    assert proxy.max_in_flight >= 4, proxy.max_in_flight


def test_whole_shard_in_parts(s3store, proxy):
    """omezarr_fast.remote.part_bytes: a whole shard as its index plus range
    parts of about that size, fetched together."""
    st_, prefix = s3store
    data = _sample((16, 64, 64), seed=4)
    a = _write(st_, data, shards=(16, 64, 64), chunks=(8, 16, 16))
    key = f"{prefix}/a/c/0/0/0"
    raw = sync(st_.get("a/c/0/0/0", PROTO)).to_bytes()
    data_bytes = len(raw) - (16 * 32 + 4)
    part = -(-data_bytes // 4)
    proxy.reset()
    proxy.latency = 0.05
    with zarr.config.set({"omezarr_fast.remote.part_bytes": part}):
        np.testing.assert_array_equal(a[:], data)
        got = read_regions(a, [(slice(None),)])
    np.testing.assert_array_equal(got[0], data)
    gets = proxy.requests("GET", key)
    ranges = [r.range for r in gets]
    # The index once (cached for the second read), 4 or 5 parts (chunk edges) per read.
    assert ranges.count("bytes=-516") == 1, ranges
    assert len(gets) in (1 + 2 * 4, 1 + 2 * 5), ranges
    assert None not in ranges
    assert proxy.max_in_flight >= 3
    with pytest.raises(ValueError, match="part_bytes"), zarr.config.set({"omezarr_fast.remote.part_bytes": -1}):
        a[:]


@pytest.mark.parametrize("kind", ["503", "drop"])
def test_read_regions_s3_faults_retried(s3store, proxy, kind):
    st_, prefix = s3store
    data = _sample((32, 64, 64), seed=5)
    a = _write(st_, data, shards=(16, 32, 32), chunks=(8, 8, 8))
    key = f"{prefix}/a/c/0/0/1"
    proxy.reset()
    proxy.fail_next(2, kind, method="GET", key=key)  # the index, then its retry
    got = read_regions(a, BOXES)
    for g, b in zip(got, BOXES):
        np.testing.assert_array_equal(g, data[b])
    statuses = [r.status for r in proxy.requests("GET", key)]
    injected = "503*" if kind == "503" else "drop"
    assert statuses[:2] == [injected] * 2 and all(s == 206 for s in statuses[2:]), statuses


def _put(store, key, raw: bytes):
    sync(store.set(key, PROTO.buffer.from_bytes(raw)))


def _hostile_cases(raw: bytes, n: int):
    lay = ShardLayout(n, at_start=False, checksum=True, big=False)
    pairs = lay.pairs(raw).copy()
    past = pairs.copy()
    past[0] = (len(raw) + 100, 64)
    corrupt = bytearray(raw)
    o, ln = int(pairs[0, 0]), int(pairs[0, 1])
    corrupt[o:o + ln] = b"\x5a" * ln
    return {"truncated": raw[:len(raw) // 2], "shorter-than-index": raw[:100],
            "index-past-end": lay.with_index(raw, past), "garbage-chunk": bytes(corrupt),
            "bad-index-crc": lay.with_index(raw, past, fix_crc=False)}


@pytest.mark.parametrize("where", ["s3", "memory"])
@pytest.mark.parametrize("case", ["truncated", "shorter-than-index", "index-past-end", "garbage-chunk",
                                  "bad-index-crc"])
def test_hostile_remote_shard_names_key(request, where, case):
    if where == "s3":
        request.getfixturevalue("s3")
        proxy = request.getfixturevalue("proxy")
        st_ = _obstore(proxy.endpoint, f"hostile-{uuid.uuid4().hex[:10]}")
    else:
        st_ = MemoryStore()
    data = _sample((16, 32, 32), seed=6)
    a = _write(st_, data, shards=(16, 32, 32), chunks=(8, 16, 16))
    raw = sync(st_.get("a/c/0/0/0", PROTO)).to_bytes()
    _put(st_, "a/c/0/0/0", _hostile_cases(raw, 8)[case])
    for boxes in ([(slice(0, 8), slice(0, 16), slice(0, 16))], [(slice(None),)]):  # partial, whole
        with pytest.raises(ChunkError, match="a/c/0/0/0") as ei:
            read_regions(a, boxes)
        assert ei.value.key.endswith("a/c/0/0/0")
    with pytest.raises(ChunkError, match="a/c/0/0/0"):
        a[0:8, 0:16, 0:16]


@st.composite
def _boxes(draw, shape):
    out = []
    for _ in range(draw(st.integers(1, 6))):
        box = []
        for s in shape:
            lo = draw(st.integers(0, s))
            hi = draw(st.integers(lo, s))
            box.append(slice(lo, hi, draw(st.sampled_from([None, 1, 2, 3]))))
        out.append(tuple(box[:draw(st.integers(1, len(shape)))]))
    return out


_LAYOUTS = [
    dict(chunks=(4, 8, 8), shards=(8, 16, 16)),
    dict(chunks=(4, 8, 8), shards={"shape": (8, 16, 16), "index_location": "start"}),
    dict(chunks=(5, 7, 9)),
]
_SHAPE = (13, 30, 35)


def _fuzz_arrays(store):
    data = _sample(_SHAPE, seed=7)
    data[:4, :8, :8] = 0  # an all-fill chunk: not stored
    return data, [_write(store, data, name=f"l{i}", **kw) for i, kw in enumerate(_LAYOUTS)]


@fuzz_settings(40)
@given(data=st.data())
def test_fuzz_boxes_memory_store(data):
    store = MemoryStore()
    arr, arrays = _fuzz_arrays(store)
    boxes = data.draw(_boxes(_SHAPE))
    for i, a in enumerate(arrays):
        for g, w in zip(read_regions(a, boxes), _oracle(store, f"l{i}", boxes)):
            np.testing.assert_array_equal(g, w)


_S3_ARRAYS = {}


@fuzz_settings(15)
@given(data=st.data())
def test_fuzz_boxes_s3(s3, data):
    if "arrays" not in _S3_ARRAYS:  # written once per worker: the server is shared
        store = _obstore(s3.proxy.endpoint, f"fuzz-{uuid.uuid4().hex[:10]}")
        _S3_ARRAYS["store"] = store
        _S3_ARRAYS["arrays"] = _fuzz_arrays(store)[1]
    store = _S3_ARRAYS["store"]
    boxes = data.draw(_boxes(_SHAPE))
    for i, a in enumerate(_S3_ARRAYS["arrays"]):
        with omezarr_fast.enabled():
            a = zarr.open_array(store, path=f"l{i}", mode="r")
            got = read_regions(a, boxes)
        for g, w in zip(got, _oracle(store, f"l{i}", boxes)):
            np.testing.assert_array_equal(g, w)


@fuzz_settings(40)
@given(data=st.data())
def test_fuzz_index_edits_memory_store(data):
    """Rewritten index entries: a ChunkError naming the key or a read that
    finishes, never a crash."""
    store = MemoryStore()
    d = _sample((16, 32, 32), seed=8)
    a = _write(store, d, shards=(16, 32, 32), chunks=(8, 16, 16))
    raw = sync(store.get("a/c/0/0/0", PROTO)).to_bytes()
    _put(store, "a/c/0/0/0", data.draw(index_edits(ShardLayout(8, False, True, False), raw)))
    boxes = data.draw(_boxes(d.shape))
    try:
        read_regions(a, boxes)
    except ChunkError as e:
        assert e.key == "a/c/0/0/0"


def test_patch_through_zarr_takes_no_thread_hops(s3store, monkeypatch):
    """arr[patch] on an object store: zarr's own hop to its loop and back,
    nothing more (it was a worker thread plus a hop back to the loop per
    request round: three per patch)."""
    st_, _ = s3store
    data = _sample((32, 64, 64), seed=9)
    a = _write(st_, data, shards=(32, 64, 64), chunks=(8, 16, 16))
    hops = {"to_thread": 0, "run_coroutine_threadsafe": 0}
    real_tt, real_rct = asyncio.to_thread, asyncio.run_coroutine_threadsafe

    def to_thread(*args, **kw):
        hops["to_thread"] += 1
        return real_tt(*args, **kw)

    def rct(*args, **kw):
        hops["run_coroutine_threadsafe"] += 1
        return real_rct(*args, **kw)

    monkeypatch.setattr(asyncio, "to_thread", to_thread)
    monkeypatch.setattr(asyncio, "run_coroutine_threadsafe", rct)
    sel = (slice(3, 20), slice(10, 40), slice(5, 50))
    np.testing.assert_array_equal(a[sel], data[sel])
    assert hops == {"to_thread": 0, "run_coroutine_threadsafe": 1}, hops


def test_index_cache_with_if_match(s3store, proxy):
    """obstore: a shard's index is fetched once across reads; a rewritten
    shard is refused by If-Match (412), its index fetched again, and the new
    data read, never the old index against new bytes."""
    st_, prefix = s3store
    data = _sample((16, 32, 32), seed=10)
    a = _write(st_, data, shards=(16, 32, 32), chunks=(8, 8, 8))
    key = f"{prefix}/a/c/0/0/0"
    sel = (slice(0, 8), slice(0, 8), slice(8, 20))
    proxy.reset()
    np.testing.assert_array_equal(a[sel], data[sel])
    np.testing.assert_array_equal(read_regions(a, [sel])[0], data[sel])
    ranges = [r.range for r in proxy.requests("GET", key)]
    assert ranges.count("bytes=-516") == 1 and len(ranges) == 3, ranges
    with omezarr_fast.enabled():
        zarr.open_array(st_, path="a", mode="r+")[:] = data[::-1]  # another writer, another layout
    proxy.reset()
    np.testing.assert_array_equal(a[sel], data[::-1][sel])
    statuses = [(r.range, r.status) for r in proxy.requests("GET", key)]
    assert statuses[0][1] == 412 and statuses[1] == ("bytes=-516", 206), statuses
    with zarr.config.set({"omezarr_fast.remote.index_cache_bytes": 0}):
        proxy.reset()
        np.testing.assert_array_equal(a[sel], data[::-1][sel])
        np.testing.assert_array_equal(a[sel], data[::-1][sel])
    assert [r.range for r in proxy.requests("GET", key)].count("bytes=-516") == 2
