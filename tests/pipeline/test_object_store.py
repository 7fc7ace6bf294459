"""omezarr_fast's pipeline on a real S3 server: SeaweedFS on 127.0.0.1 (see
s3_server.py), reached through a counting, fault-injecting proxy (s3_proxy.py),
with zarr's ObjectStore (obstore) and FsspecStore (s3fs).

The stores' own retry layers are turned off here so the request counts show
omezarr_fast's retries (omezarr_fast.pipeline._retry) and nothing else.
"""
from __future__ import annotations

import datetime
import itertools
import struct
import uuid

import numpy as np
import pytest
import zarr
from helpers.s3_server import REGION
from zarr.core.sync import sync
from zarr.storage import FsspecStore, ObjectStore

import omezarr_fast
from omezarr_fast.errors import StoreError
from omezarr_fast.samples import microscopy_like

BUCKET = "test"
ATTEMPTS = 3


@pytest.fixture(autouse=True)
def _quick_retries(native_pipeline):
    with zarr.config.set({"omezarr_fast.retry.attempts": ATTEMPTS, "omezarr_fast.retry.base_delay": 0.01}):
        yield


def _obstore(endpoint: str, prefix: str) -> ObjectStore:
    from obstore.store import S3Store

    st = S3Store(BUCKET, prefix=prefix, endpoint=endpoint, region=REGION, skip_signature=True,
                 client_options={"allow_http": True},
                 retry_config={"max_retries": 0, "backoff": {"init_backoff": datetime.timedelta(0),
                                                             "max_backoff": datetime.timedelta(0),
                                                             "base": 2},
                               "retry_timeout": datetime.timedelta(seconds=30)})
    return ObjectStore(st)


class _Fsspec:
    """FsspecStore over s3fs, whose aiohttp session is closed at the end."""

    def __init__(self, endpoint: str, prefix: str):
        import s3fs

        self.fs = s3fs.S3FileSystem(anon=True, endpoint_url=endpoint, asynchronous=True,
                                    skip_instance_cache=True,
                                    config_kwargs={"retries": {"total_max_attempts": 1, "mode": "standard"},
                                                   "region_name": REGION})
        self.fs.retries = 1  # s3fs's own retry loop: one attempt
        self.store = FsspecStore(self.fs, path=f"{BUCKET}/{prefix}")

    def close(self):
        async def close():
            if self.fs._s3 is not None:
                await self.fs._s3.__aexit__(None, None, None)
        sync(close())


@pytest.fixture(params=["obstore", "fsspec"])
def store(request, s3, proxy):
    """(zarr store, key prefix as the proxy sees it)."""
    prefix = f"{request.node.name[:40]}-{uuid.uuid4().hex[:8]}".replace("[", "-").replace("]", "")
    if request.param == "obstore":
        yield _obstore(proxy.endpoint, prefix), prefix
    else:
        f = _Fsspec(proxy.endpoint, prefix)
        yield f.store, prefix
        f.close()


def _gets(proxy, key=None):
    return [r for r in proxy.requests("GET", key) if r.key]


DATA = microscopy_like((40, 48, 56), np.uint16, seed=3)


@pytest.mark.parametrize("sharded", [False, True], ids=["chunked", "sharded"])
def test_round_trip(store, sharded):
    st, _ = store
    kw = {"shards": (20, 32, 32), "chunks": (10, 16, 16)} if sharded else {"chunks": (16, 16, 16)}
    a = zarr.create_array(st, name="ours", shape=DATA.shape, dtype=DATA.dtype,
                          compressors=zarr.codecs.ZstdCodec(level=3), **kw)
    assert omezarr_fast.pipeline_info(a) == "native"
    a[:] = DATA
    np.testing.assert_array_equal(a[:], DATA)
    np.testing.assert_array_equal(a[3:37, 5:40:3, 50:], DATA[3:37, 5:40:3, 50:])
    a[1:5, 2:30, 7] = 9
    want = DATA.copy()
    want[1:5, 2:30, 7] = 9
    np.testing.assert_array_equal(a[:], want)
    # zarr's own pipeline reads what we wrote, and we read what it wrote.
    with omezarr_fast.enabled():
        omezarr_fast.disable()
        np.testing.assert_array_equal(zarr.open_array(st, path="ours", mode="r")[:], want)
        b = zarr.create_array(st, name="theirs", shape=DATA.shape, dtype=DATA.dtype,
                              compressors=zarr.codecs.ZstdCodec(level=3), **kw)
        b[:] = DATA
    b = zarr.open_array(st, path="theirs", mode="r")
    assert omezarr_fast.pipeline_info(b) == "native"
    np.testing.assert_array_equal(b[:], DATA)
    np.testing.assert_array_equal(b[11:13, :, 40:41], DATA[11:13, :, 40:41])


def _index(raw: bytes, n: int) -> np.ndarray:
    """(offset, nbytes) per inner chunk, from a shard with the index at the
    end (bytes codec + crc32c): read independently of the pipeline."""
    idx = raw[-(16 * n + 4):-4]
    return np.array(struct.unpack(f"<{2 * n}Q", idx), dtype=np.uint64).reshape(n, 2)


def _runs(spans: list[tuple[int, int]], gap: int, maxlen: int) -> int:
    runs: list[list[int]] = []
    for off, n in sorted(spans):
        if runs and off - runs[-1][1] <= gap and off + n - runs[-1][0] <= maxlen and off >= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], off + n)
        else:
            runs.append([off, off + n])
    return len(runs)


@pytest.mark.parametrize("gap", [0, 1 << 20], ids=["no-gap", "default-gap"])
def test_partial_shard_read_requests(store, proxy, gap):
    """One index request, then one request per run of nearby touched chunks."""
    st, prefix = store
    shape, inner = (32, 64, 64), (8, 16, 16)
    data = microscopy_like(shape, np.uint16, seed=5)
    a = zarr.create_array(st, name="p", shape=shape, dtype=data.dtype, shards=shape, chunks=inner,
                          compressors=zarr.codecs.ZstdCodec(level=3))
    a[:] = data
    key = f"{prefix}/p/c/0/0/0"
    cps = tuple(s // c for s, c in zip(shape, inner))
    n = int(np.prod(cps))
    raw = sync(st.get("p/c/0/0/0", zarr.core.buffer.default_buffer_prototype())).to_bytes()
    pairs = _index(raw, n)
    # x chunks 1..2 are not a morton-aligned pair: their bytes are apart.
    sel = (slice(5, 14), slice(10, 20), slice(20, 40))
    ranges = [range(s.start // c, (s.stop - 1) // c + 1) for s, c in zip(sel, inner)]
    touched = [int(np.ravel_multi_index(c, cps)) for c in itertools.product(*ranges)]
    assert len(touched) == 8
    want_runs = _runs([(int(pairs[t, 0]), int(pairs[t, 1])) for t in touched], gap, 16 << 20)
    proxy.reset()
    with zarr.config.set({"array.sharding_coalesce_max_gap_bytes": gap}):
        b = zarr.open_array(st, path="p", mode="r")
        proxy.reset()
        np.testing.assert_array_equal(b[sel], data[sel])
    gets = _gets(proxy, key)
    index_gets = [r for r in gets if r.range == f"bytes=-{16 * n + 4}"]
    assert len(index_gets) == 1, [(r.range, r.status) for r in gets]
    assert len(gets) - 1 == want_runs, [(r.range, r.status) for r in gets]
    assert all(r.range for r in gets)  # nothing fetched whole
    assert want_runs == 1 if gap else want_runs > 1
    # A read covering the whole shard: one GET, no index request.
    proxy.reset()
    np.testing.assert_array_equal(b[:], data)
    gets = _gets(proxy, key)
    assert len(gets) == 1 and gets[0].range is None, [(r.range, r.status) for r in gets]


@pytest.mark.parametrize("window", ["default", "one-shard"])
def test_many_shards_fetched_concurrently(store, proxy, window, monkeypatch):
    """Concurrent within a window of the batch and, with windows of one
    shard each (the case for big shards), across windows."""
    if window == "one-shard":
        monkeypatch.setattr(omezarr_fast.pipeline.core, "_WINDOW_BYTES", 4 * 32 * 32 * 2)
    st, _ = store
    shape = (16, 64, 64)
    data = microscopy_like(shape, np.uint16, seed=7)
    a = zarr.create_array(st, name="m", shape=shape, dtype=data.dtype, shards=(4, 32, 32),
                          chunks=(4, 16, 16), compressors=zarr.codecs.ZstdCodec(level=1))
    a[:] = data
    proxy.reset()
    proxy.latency = 0.05
    np.testing.assert_array_equal(a[:], data)
    gets = _gets(proxy)
    assert len({r.key for r in gets}) == 16
    assert proxy.max_in_flight >= 4, proxy.max_in_flight
    # Partial reads of many shards: index and data requests concurrent too.
    proxy.reset()
    np.testing.assert_array_equal(a[:, 8:24, 8:24], data[:, 8:24, 8:24])
    assert proxy.max_in_flight >= 4, proxy.max_in_flight


def _shard_array(st, name="r"):
    data = microscopy_like((16, 32, 32), np.uint16, seed=11)
    a = zarr.create_array(st, name=name, shape=data.shape, dtype=data.dtype, shards=(16, 32, 32),
                          chunks=(8, 16, 16), compressors=zarr.codecs.ZstdCodec(level=3))
    a[:] = data
    return a, data


@pytest.mark.parametrize("kind", ["503", "drop"])
@pytest.mark.parametrize("partial", [False, True], ids=["whole", "partial"])
def test_transient_read_errors_retried(store, proxy, kind, partial):
    st, prefix = store
    a, data = _shard_array(st)
    key = f"{prefix}/r/c/0/0/0"
    sel = (slice(0, 3), slice(0, 5), slice(20, 30)) if partial else slice(None)
    proxy.reset()
    proxy.fail_next(ATTEMPTS - 1, kind, method="GET", key=key)
    np.testing.assert_array_equal(a[sel], data[sel])
    statuses = [r.status for r in _gets(proxy, key)]
    injected = "503*" if kind == "503" else "drop"
    assert statuses[:ATTEMPTS - 1] == [injected] * (ATTEMPTS - 1), statuses
    assert statuses[ATTEMPTS - 1:] == [206 if partial else 200] * (len(statuses) - ATTEMPTS + 1), statuses


def test_store_retry_layer_kept(s3, proxy):
    """obstore with its default retries: it absorbs the fault itself, our
    layer sees one successful call."""
    from obstore.store import S3Store

    st = ObjectStore(S3Store(BUCKET, prefix=f"defaults-{uuid.uuid4().hex[:8]}", endpoint=proxy.endpoint,
                             region=REGION, skip_signature=True, client_options={"allow_http": True}))
    a, data = _shard_array(st)
    proxy.reset()
    proxy.fail_next(ATTEMPTS + 1, "503", method="GET")  # more than our layer alone would survive
    np.testing.assert_array_equal(a[:], data)
    assert [r.status for r in _gets(proxy)] == ["503*"] * (ATTEMPTS + 1) + [200]


@pytest.mark.parametrize("kind", ["503", "drop"])
def test_persistent_read_error_names_key(store, proxy, kind):
    st, prefix = store
    a, data = _shard_array(st)
    key = f"{prefix}/r/c/0/0/0"
    proxy.reset()
    proxy.fail_key(key, kind, method="GET")
    with pytest.raises(StoreError, match="r/c/0/0/0") as ei:
        a[2:4, 3:9, 1:2]
    assert ei.value.key.endswith("r/c/0/0/0")
    assert ei.value.__cause__ is not None
    n = len(_gets(proxy, key))
    # aiohttp (under s3fs) itself resends once when a kept-alive connection
    # closes without an answer.
    assert n == ATTEMPTS or (kind == "drop" and n == 2 * ATTEMPTS), n
    proxy.clear_faults()
    np.testing.assert_array_equal(a[:], data)


@pytest.mark.parametrize("kind", ["503", "drop"])
def test_transient_write_errors_retried(store, proxy, kind):
    st, prefix = store
    a, data = _shard_array(st)
    key = f"{prefix}/r/c/0/0/0"
    proxy.reset()
    proxy.fail_next(ATTEMPTS - 1, kind, method="PUT", key=key)
    a[:] = data[::-1]
    puts = [r.status for r in proxy.requests("PUT", key)]
    assert len(puts) == ATTEMPTS and puts[-1] == 200, puts
    np.testing.assert_array_equal(a[:], data[::-1])


def test_failed_write_keeps_old_data(store, proxy):
    st, prefix = store
    a, data = _shard_array(st)
    key = f"{prefix}/r/c/0/0/0"
    proxy.reset()
    proxy.fail_key(key, "503", method="PUT")
    with pytest.raises(StoreError, match="r/c/0/0/0"):
        a[:] = 7
    with pytest.raises(StoreError, match="r/c/0/0/0"):
        a[0:2, 0:2, 0:2] = 1
    assert len(proxy.requests("PUT", key)) == 2 * ATTEMPTS
    proxy.clear_faults()
    np.testing.assert_array_equal(a[:], data)
