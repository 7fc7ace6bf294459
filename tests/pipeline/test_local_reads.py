"""Local reads: the per-array cache of shard indexes (files replaced under us
are read fresh), read-ahead on and off, I/O errors naming the key, no fd
leaks, fork."""
from __future__ import annotations

import errno
import os
import sys
import threading

import numpy as np
import pytest
import zarr
from zarr.codecs import ZstdCodec
from zarr.storage import LocalStore

import omezarr_fast
from omezarr_fast import _native, read_regions
from omezarr_fast.errors import ChunkError, ChunkReadError
from omezarr_fast.pipeline import store_io
from omezarr_fast.pipeline.shard_indexes import ShardIndexCache, identity
from omezarr_fast.pipeline.store_io import ShardInFile

SHAPE = (16, 32, 32)
SHARDED = dict(chunks=(4, 8, 8), shards=(8, 16, 16), compressors=ZstdCodec(level=1))
SHARD_KEY = "c/0/0/0"


def sample(seed, shape=SHAPE):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 50, size=shape) * (seed + 1) + np.arange(np.prod(shape)).reshape(shape) % 7
            ).astype("u2")


def write(path, data, **kw):
    with omezarr_fast.enabled():
        a = zarr.create_array(LocalStore(path), shape=data.shape, dtype=data.dtype, fill_value=0,
                              overwrite=True, **(kw or SHARDED))
        a[:] = data
    return a


def open_ours(path):
    with omezarr_fast.enabled():
        return zarr.open_array(LocalStore(path), mode="r")


def cache_of(a) -> ShardIndexCache:
    plans = a._async_array.codec_pipeline.__dict__["_ozf_plans"]
    (plan,) = plans.values()
    return plan.indexes


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture(params=[True, False], ids=["readahead", "no-readahead"])
def readahead(request):
    before = _native.get_readahead()
    _native.set_readahead(request.param)
    yield request.param
    _native.set_readahead(before)


def test_readahead_switch():
    before = _native.get_readahead()
    try:
        _native.set_readahead(False)
        assert _native.get_readahead() is False
        _native.set_readahead(True)
        assert _native.get_readahead() is True
    finally:
        _native.set_readahead(before)


@pytest.mark.parametrize("layout", ["sharded", "unsharded", "index-start"])
def test_reads_same_with_and_without_readahead(tmp_path, readahead, layout):
    data = sample(0)
    kw = {"sharded": SHARDED, "unsharded": dict(chunks=(4, 8, 8), compressors=ZstdCodec(level=1)),
          "index-start": dict(SHARDED, shards={"shape": (8, 16, 16), "index_location": "start"})}[layout]
    write(tmp_path / "a", data, **kw)
    a = open_ours(tmp_path / "a")
    np.testing.assert_array_equal(a[:], data)
    np.testing.assert_array_equal(a[3:13, 5:29, 1:30], data[3:13, 5:29, 1:30])
    np.testing.assert_array_equal(a[::3, 7, ::2], data[::3, 7, ::2])
    boxes = [(slice(z, z + 5), slice(y, y + 9), slice(x, x + 11)) for z, y, x in [(0, 0, 0), (9, 20, 17), (2, 3, 4)]]
    for got, b in zip(read_regions(a, boxes), boxes):
        np.testing.assert_array_equal(got, data[b])


def test_index_cache_reused_and_bounded(tmp_path):
    data = sample(0)
    write(tmp_path / "a", data)
    a = open_ours(tmp_path / "a")
    np.testing.assert_array_equal(a[:8, :16, :16], data[:8, :16, :16])
    cache = cache_of(a)
    assert len(cache) == 1
    np.testing.assert_array_equal(a[:], data)
    assert len(cache) == 8  # every shard of the array
    # bounded: least recently used out first
    c = ShardIndexCache(1 << 40)  # huge indexes: the floor of 16 entries
    st = identity(os.stat(tmp_path / "a" / "zarr.json"))
    for i in range(40):
        c.put(f"p{i}", st, np.zeros((2, 2), np.uint64))
    assert len(c) == 16 and c.get("p0", st) is None and c.get("p39", st) is not None


def test_shard_replaced_by_rename_is_read_fresh(tmp_path):
    old, new = sample(0), sample(1)
    write(tmp_path / "a", old)
    write(tmp_path / "b", new)
    a = open_ours(tmp_path / "a")
    np.testing.assert_array_equal(a[:8, :16, :16], old[:8, :16, :16])  # index cached
    os.replace(tmp_path / "b" / SHARD_KEY, tmp_path / "a" / SHARD_KEY)
    np.testing.assert_array_equal(a[:8, :16, :16], new[:8, :16, :16])
    np.testing.assert_array_equal(a[1:7, 2:15, 3:9], new[1:7, 2:15, 3:9])
    np.testing.assert_array_equal(read_regions(a, [(slice(0, 8), slice(0, 16), slice(0, 16))])[0],
                                  new[:8, :16, :16])


def test_shard_rewritten_in_place_is_read_fresh(tmp_path):
    """Truncated and rewritten under the same inode, its mtime put back: the
    size and ctime still tell."""
    old, new = sample(0), sample(1)
    write(tmp_path / "a", old)
    write(tmp_path / "b", new)
    a = open_ours(tmp_path / "a")
    np.testing.assert_array_equal(a[:8, :16, :16], old[:8, :16, :16])
    target = tmp_path / "a" / SHARD_KEY
    st = os.stat(target)
    payload = (tmp_path / "b" / SHARD_KEY).read_bytes()
    with open(target, "r+b") as f:
        f.truncate(0)
        f.write(payload)
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(target).st_ino == st.st_ino
    np.testing.assert_array_equal(a[:8, :16, :16], new[:8, :16, :16])


def test_truncated_shard_names_key(tmp_path):
    data = sample(0)
    write(tmp_path / "a", data, **dict(SHARDED, shards={"shape": (8, 16, 16), "index_location": "start"}))
    a = open_ours(tmp_path / "a")
    np.testing.assert_array_equal(a[:8, :16, :16], data[:8, :16, :16])
    target = tmp_path / "a" / SHARD_KEY
    size = target.stat().st_size
    with open(target, "r+b") as f:
        f.truncate(size - 10)  # the last inner chunk now ends past the file
    with pytest.raises(ChunkError, match="c/0/0/0") as e:
        a[:8, :16, :16]
    assert e.value.key == SHARD_KEY


def _swap_opened(monkeypatch, name, swap):
    """The native opener's result for files called ``name`` goes through
    ``swap(fd, size) -> (fd, size)``: C opens files itself (csrc/fileio.c), so
    this is where a test makes a file look shorter or unreadable."""
    real = _native.open_files

    def open_files(root, keys, identity=False):
        got = real(root, keys, identity)
        return [(*swap(*g[:2]), *g[2:]) if g is not None and k.endswith(name) else g
                for k, g in zip(keys, got)]

    monkeypatch.setattr(store_io._native, "open_files", open_files)


def test_short_read_of_a_chunk_names_key(tmp_path, monkeypatch, readahead):
    """A chunk file that shrank after it was sized: C's pread comes up short."""
    data = sample(0)
    write(tmp_path / "a", data, chunks=(4, 8, 8), compressors=ZstdCodec(level=1))
    a = open_ours(tmp_path / "a")
    _swap_opened(monkeypatch, "c/1/2/3", lambda fd, size: (fd, size + 100))
    before = fd_count()
    with pytest.raises(ChunkError, match="c/1/2/3") as e:
        a[:]
    assert e.value.key == "c/1/2/3"
    assert fd_count() == before


def test_short_read_of_a_shard_index_names_key(tmp_path, monkeypatch):
    data = sample(0)
    write(tmp_path / "a", data)
    a = open_ours(tmp_path / "a")
    _swap_opened(monkeypatch, SHARD_KEY, lambda fd, size: (fd, size + 100))  # the index is read past the end
    before = fd_count()
    with pytest.raises(ChunkError, match="c/0/0/0"):
        a[:]
    assert fd_count() == before


@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="needs /proc/self/mem for a real EIO")
def test_eio_of_a_chunk_names_key(tmp_path, monkeypatch, readahead):
    """pread at offset 0 of /proc/self/mem fails with EIO (nothing is mapped there):
    an I/O error, not corrupt data, naming the key."""
    data = sample(0)
    write(tmp_path / "a", data, chunks=(4, 8, 8), compressors=ZstdCodec(level=1))
    a = open_ours(tmp_path / "a")

    def to_mem(fd, size):
        os.close(fd)
        return os.open("/proc/self/mem", os.O_RDONLY | os.O_CLOEXEC), 4096

    _swap_opened(monkeypatch, "c/2/1/0", to_mem)
    before = fd_count()
    with pytest.raises(ChunkReadError, match="c/2/1/0") as e:
        a[:]
    assert e.value.errno == errno.EIO and e.value.key == "c/2/1/0"
    assert fd_count() == before


def test_eio_of_a_shard_index_names_key(tmp_path, monkeypatch):
    data = sample(0)
    write(tmp_path / "a", data)
    a = open_ours(tmp_path / "a")

    def failing_pread(fd, n, offset):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "pread", failing_pread)
    before = fd_count()
    with pytest.raises(ChunkError, match="c/0/0/0.*Input/output error"):
        a[:8, :16, :16]
    assert fd_count() == before


def test_eio_in_the_kernel_reports_the_task(tmp_path):
    """The C read task itself: a pread that fails with EIO is a CodecError for that item."""
    data = sample(0)
    a = write(tmp_path / "a", data)
    plan = next(iter(a._async_array.codec_pipeline.__dict__["_ozf_plans"].values()))
    sk = plan.shard
    pairs = np.zeros((sk.n_inner, 2), np.uint64)
    pairs[:, 0] = np.arange(sk.n_inner) * 100
    pairs[:, 1] = 100
    out = np.empty((8, 16, 16), "u2")
    box = ((0, 0, 0), (1, 1, 1), (8, 16, 16), 0, out.strides)
    fd = os.open("/proc/self/mem", os.O_RDONLY)
    try:
        with pytest.raises(OSError, match="Input/output error") as e:
            sk.read([(box, ShardInFile(pairs, fd))], out)
        assert e.value.errno == errno.EIO and e.value.index == 0
    finally:
        os.close(fd)


def test_no_fd_leak(tmp_path, readahead):
    data = sample(0)
    write(tmp_path / "a", data)
    write(tmp_path / "u", data, chunks=(4, 8, 8), compressors=ZstdCodec(level=1))
    a, u = open_ours(tmp_path / "a"), open_ours(tmp_path / "u")
    a[:], u[:]  # warm up zarr's own state (its event loop and pools hold fds)
    before = fd_count()
    for arr in (a, u):
        for _ in range(3):
            np.testing.assert_array_equal(arr[:], data)
            np.testing.assert_array_equal(arr[2:11, 5:30, 7:8], data[2:11, 5:30, 7:8])
            read_regions(arr, [(slice(0, 9), slice(3, 20), slice(1, 31))] * 3)
    assert fd_count() == before


@pytest.mark.skipif(sys.platform != "linux", reason="fork")
def test_fork_child_reads_fresh_and_cached(tmp_path, readahead):
    old, new = sample(0), sample(1)
    write(tmp_path / "a", old)
    write(tmp_path / "b", new)
    a = open_ours(tmp_path / "a")
    np.testing.assert_array_equal(a[:], old)  # every index cached, read-ahead thread started
    # another thread mid-read while we fork: the child must not inherit a held lock
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            a[:8]

    t = threading.Thread(target=reader)
    t.start()
    try:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                ok = np.array_equal(a[:], old) and np.array_equal(read_regions(a, [(slice(0, 8),)])[0], old[:8])
                os.replace(tmp_path / "b" / SHARD_KEY, tmp_path / "a" / SHARD_KEY)
                ok = ok and np.array_equal(a[:8, :16, :16], new[:8, :16, :16])
                code = 0 if ok else 1
            finally:
                os._exit(code)
    finally:
        stop.set()
        t.join()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    # the parent sees the file the child replaced
    np.testing.assert_array_equal(a[:8, :16, :16], new[:8, :16, :16])


def test_small_local_reads_take_no_worker_thread(tmp_path, monkeypatch):
    """A patch, or a plane picked by an integer, decodes on zarr's loop (the
    hop to a worker thread and back cost a good part of a patch); a read of
    more than _INLINE_BYTES goes to a worker thread."""
    import asyncio

    data = sample(0)
    write(tmp_path / "a", data)
    a = open_ours(tmp_path / "a")
    hops = []
    real = asyncio.to_thread

    def to_thread(fn, *args, **kw):
        hops.append(fn.__name__)
        return real(fn, *args, **kw)

    monkeypatch.setattr(asyncio, "to_thread", to_thread)
    for sel in [(slice(1, 7), slice(3, 20), slice(2, 30)), (5, slice(0, 16), slice(4, 28)),
                (slice(0, 8), 9, slice(None))]:
        np.testing.assert_array_equal(a[sel], data[sel])
    assert hops == []
    monkeypatch.setattr("omezarr_fast.pipeline.core._INLINE_BYTES", 1024)
    np.testing.assert_array_equal(a[5, :16, 4:28], data[5, :16, 4:28])
    assert hops == ["_read_windows"]
