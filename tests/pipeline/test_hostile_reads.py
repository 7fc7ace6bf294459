"""Hostile chunk and shard files (issue 13, classes 1, 3, 4 and 5): a read either fills every
output byte from the file (or the fill value) or raises a ChunkError naming the key; no file
or metadata makes us read, allocate or keep memory the bytes do not justify; and shards
whose index entries share or overlap bytes read as zarr reads them.

Cases that depend on a thread's state (per-thread buffers not yet allocated, the memory a
process keeps) run in a fresh subprocess, so each one sees the state it tests."""
from __future__ import annotations

import itertools
import json
import os
import struct
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
import zarr
from zarr.codecs import BytesCodec, Crc32cCodec, ShardingCodec, ZstdCodec

from omezarr_fast import _native, read_regions
from omezarr_fast.errors import CodecError

EMPTY = 0xFFFFFFFFFFFFFFFF


def run_py(code: str, timeout: float = 120, env: dict | None = None) -> str:
    """Runs code in a fresh interpreter (our src first on the path); returns its stdout."""
    e = dict(os.environ)  # the package as this process imports it: installed, or PYTHONPATH=src
    e.update(env or {})
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, timeout=timeout, env=e, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def zarr_default(path: Path):
    """The array at path, read by zarr's own pipeline (the oracle)."""
    with zarr.config.set({"codec_pipeline.path": "zarr.core.codec_pipeline.BatchedCodecPipeline"}):
        return zarr.open_array(str(path), mode="r")


def ours(path: Path):
    with zarr.config.set({"codec_pipeline.path": "omezarr_fast.CodecPipeline"}):
        return zarr.open_array(str(path), mode="r")


def make_array(path: Path, *, sharded: bool, compressor: bool):
    """A 4x4 uint8 array of 2x2 chunks (or one 4x4 shard of 2x2 inner chunks), all written."""
    with zarr.config.set({"codec_pipeline.path": "omezarr_fast.CodecPipeline"}):
        kw = {"shape": (4, 4), "chunks": (2, 2), "dtype": "u1", "fill_value": 7}
        if sharded:
            kw["shards"] = (4, 4)
        a = zarr.create_array(str(path), compressors=ZstdCodec(level=1) if compressor else None, **kw)
        a[...] = np.arange(16, dtype="u1").reshape(4, 4) + 100
    return path


def shard_index_end(path: Path, key: str):
    """(data, pairs) of the shard file at key, index at the end with crc32c."""
    b = (path / key).read_bytes()
    n = len(b) - 4
    raw = b[n - 64:n]
    return b, np.frombuffer(raw, "<u8").reshape(-1, 2).copy()


def write_shard(path: Path, key: str, data: bytes, pairs) -> None:
    from omezarr_fast.native import crc32c
    index = np.asarray(pairs, dtype="<u8").tobytes()
    (path / key).write_bytes(data + index + crc32c(index).to_bytes(4, "little"))


# ---- class 1: zero-length chunk data never becomes pixels ----

ZERO_CASES = {
    # name: how the hostile key is made from a 4x4 array with 2x2 chunks (or one shard)
    "raw-empty-file": {"sharded": False, "compressor": False, "make": "empty"},
    "zstd-empty-file": {"sharded": False, "compressor": True, "make": "empty"},
    "fifo": {"sharded": False, "compressor": True, "make": "fifo"},
    "shard-entry-len0": {"sharded": True, "compressor": False, "make": "len0"},
    "zstd-shard-entry-len0": {"sharded": True, "compressor": True, "make": "len0"},
}


def hostile_zero(tmp_path: Path, name: str) -> tuple[Path, str]:
    case = ZERO_CASES[name]
    path = make_array(tmp_path / f"{name}.zarr", sharded=case["sharded"], compressor=case["compressor"])
    key = "c/0/0"
    if case["make"] == "empty":
        (path / key).write_bytes(b"")
    elif case["make"] == "fifo":
        (path / key).unlink()
        os.mkfifo(path / key)
    else:
        data, pairs = shard_index_end(path, key)
        pairs[0] = (0, 0)  # inner chunk (0, 0): zero bytes at offset 0
        write_shard(path, key, data[:len(data) - 68], pairs)
    return path, key


@pytest.mark.parametrize("name", sorted(ZERO_CASES))
@pytest.mark.parametrize("how", ["whole", "partial", "regions"])
def test_zero_length_chunk_data_raises_naming_the_key(tmp_path, name, how):
    path, key = hostile_zero(tmp_path, name)
    if ZERO_CASES[name]["make"] != "fifo":  # zarr itself would block on the FIFO
        with pytest.raises(Exception):  # noqa: B017 - zarr raises several types; it raises
            zarr_default(path)[...]
    # A fresh process: its threads have no per-thread buffers yet, the state in
    # which the old code returned without reading or failing.
    out = run_py(f"""
        import zarr, numpy as np
        import omezarr_fast
        from omezarr_fast import read_regions
        from omezarr_fast.errors import ChunkError
        omezarr_fast.enable()
        a = zarr.open_array({str(path)!r}, mode="r")
        try:
            how = {how!r}
            if how == "whole":
                got = a[...]
            elif how == "partial":
                got = a[0:1, 1:2]
            else:
                got = read_regions(a, [(slice(0, 2), slice(0, 2)), (slice(1, 3), slice(0, 4))])
            print("NO ERROR", np.asarray(got).tolist() if how != "regions" else [g.tolist() for g in got])
        except ChunkError as e:
            print("ChunkError", e.key, "|", e)
        """, timeout=30)
    assert out.startswith("ChunkError"), out
    assert f"ChunkError {key} |" in out and repr(key) in out, out


def test_zero_length_source_on_a_fresh_thread_fails_in_the_kernel(tmp_path):
    """The kernel alone: a zero-length file span read by a thread that never read before."""
    f = tmp_path / "empty"
    f.write_bytes(b"")
    chain = [{"name": "bytes", "configuration": {"endian": "little"}}]
    result = {}

    def work(kernel_args, items_of):
        old = _native.get_pool_threads()
        _native.set_pool_threads(1)  # the calling (fresh) thread runs every task
        fd = os.open(f, os.O_RDONLY)
        try:
            k = _native.ChunkKernel(*kernel_args)
            out = np.full((4,), 0xAB, dtype="u1")
            try:
                k.read(items_of(fd, out), out, shared=True)
                result["got"] = out.tolist()
            except CodecError as e:
                result["error"] = str(e)
        finally:
            os.close(fd)
            _native.set_pool_threads(old)

    box = ((0,), (1,), (4,), 0, (1,))
    for items_of in (lambda fd, out: [(box, (fd, 0, 0))],
                     lambda fd, out: [(box, (fd, 0, 0)), (((0,), (1,), (2,), 0, (1,)), (fd, 0, 0))]):
        result.clear()
        t = threading.Thread(target=work, args=((chain, (4,), "u1", b"\0"), items_of))
        t.start()
        t.join()
        assert "error" in result, result


# ---- class 3: a hostile file size is refused before it is read, and memory goes back ----

def test_huge_file_for_a_small_chunk_is_refused_before_reading(tmp_path):
    path = tmp_path / "a.zarr"
    with zarr.config.set({"codec_pipeline.path": "omezarr_fast.CodecPipeline"}):
        a = zarr.create_array(str(path), shape=(16384,), chunks=(8192,), dtype="u1",
                              compressors=ZstdCodec(level=1))
        a[...] = 1
    with open(path / "c" / "0", "r+b") as f:
        f.truncate(1 << 30)  # sparse: 1 GiB of zeros standing for an 8 KiB chunk
    out = run_py(f"""
        import resource, zarr
        import omezarr_fast
        from omezarr_fast.errors import ChunkError
        omezarr_fast.enable()
        def rss():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * resource.getpagesize()
        a = zarr.open_array({str(path)!r}, mode="r")
        a[8192:]  # the other chunk: the pipeline and its threads are warm
        before, peak0 = rss(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        for sel in (slice(None), slice(0, 10)):
            try:
                a[sel]
                print("NO ERROR")
            except ChunkError as e:
                print("ChunkError", e.key, e)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print("GROWTH", rss() - before, max(0, peak - peak0))
        """, timeout=60)
    lines = out.splitlines()
    assert lines[0].startswith("ChunkError c/0") and lines[1].startswith("ChunkError c/0"), out
    grown, peak_grown = map(int, lines[2].split()[1:])
    assert grown < 64 << 20 and peak_grown < 128 << 20, out


def test_per_thread_scratch_above_the_bound_is_released(tmp_path):
    """A legitimate 64 MiB chunk read in part: the decode buffers it needs are freed after."""
    path = tmp_path / "big.zarr"
    out = run_py(f"""
        import gc, resource, zarr, numpy as np
        import omezarr_fast
        omezarr_fast.enable()
        def rss():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * resource.getpagesize()
        a = zarr.create_array({str(path)!r}, shape=(4096, 4096), chunks=(4096, 4096), dtype="u4",
                              compressors=None)
        a[0:8, 0:8] = 5   # a small write first: threads and pipeline warm
        gc.collect()
        before = rss()
        data = np.arange(4096 * 4096, dtype="u4").reshape(4096, 4096)
        a[...] = data
        del data
        gc.collect()
        after_write = rss()
        got = a[100:102, 7:9]
        assert got.tolist() == [[100 * 4096 + 7, 100 * 4096 + 8], [101 * 4096 + 7, 101 * 4096 + 8]], got
        gc.collect()
        print(after_write - before, rss() - before)
        """, timeout=120)
    after_write, after_read = map(int, out.split())
    assert after_write < 48 << 20, out
    assert after_read < 48 << 20, out


# ---- class 4: metadata alone allocates nothing sized by it ----

CAPPED_READ = """
    import resource, zarr, numpy as np
    import omezarr_fast
    from omezarr_fast.errors import ChunkError
    omezarr_fast.enable()
    a = zarr.open_array({path!r}, mode="r")
    with open("/proc/self/status") as f:
        vm = [int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize")][0]
    # Room for the threads and a little work, not for anything sized by 2^28 inner chunks.
    resource.setrlimit(resource.RLIMIT_AS, (vm + {room}, resource.RLIM_INFINITY))
    try:
        print("GOT", np.asarray(a[{sel}]).tolist())
    except ChunkError as e:
        print("ChunkError", e.key, "|", e)
    except MemoryError as e:
        print("MemoryError", e)
"""


def test_tiny_shard_with_a_huge_declared_index_raises_without_allocating(tmp_path):
    path = tmp_path / "huge.zarr"
    zarr.create_array(str(path), shape=(1 << 14, 1 << 14), shards=(1 << 14, 1 << 14), chunks=(1, 1),
                      dtype="u1", compressors=None)
    (path / "c").mkdir()
    (path / "c" / "0").mkdir()
    (path / "c" / "0" / "0").write_bytes(bytes(64))
    out = run_py(CAPPED_READ.format(path=str(path), room=768 << 20, sel="5, 7"), timeout=120)
    assert out.startswith("ChunkError c/0/0 |"), out
    assert "shorter than its index" in out, out


def test_one_element_of_a_sparse_shard_with_many_inner_chunks(tmp_path):
    """2^20 inner chunks per shard, one written: reading it allocates by what the read touches
    (the index itself, which the file holds, aside), not by the inner-chunk count."""
    path = tmp_path / "sparse.zarr"
    zarr.create_array(str(path), shape=(1024, 1024), shards=(1024, 1024), chunks=(1, 1), dtype="u2",
                      compressors=None, fill_value=3)
    n = 1024 * 1024
    pairs = np.full((n, 2), EMPTY, dtype="<u8")
    lin = 5 * 1024 + 7
    pairs[lin] = (0, 2)
    (path / "c" / "0").mkdir(parents=True)
    write_shard(path, "c/0/0", struct.pack("<H", 4242), pairs)
    assert zarr_default(path)[5, 7] == 4242
    out = run_py(CAPPED_READ.format(path=str(path), room=512 << 20, sel="5, 6:8"), timeout=120)
    assert out.strip() == "GOT [3, 4242]", out


def test_plans_do_not_grow_with_inner_chunks_per_shard(tmp_path):
    """The shard layout order (a write-time table) is not built for a read."""
    import tracemalloc

    path = tmp_path / "p.zarr"
    zarr.create_array(str(path), shape=(1 << 10, 1 << 10), shards=(1 << 10, 1 << 10), chunks=(1, 1),
                      dtype="u1", compressors=None)
    a = ours(path)
    tracemalloc.start()
    try:
        assert a[1, 2] == 0  # missing shard: the fill value
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, peak  # 2^20 inner chunks: an order table alone takes more


# ---- class 5: inner chunks that share or overlap bytes are read ----

def overlapping_shard(tmp_path: Path, index_location: str) -> Path:
    path = tmp_path / f"overlap-{index_location}.zarr"
    codec = ShardingCodec(chunk_shape=(2, 2), codecs=[BytesCodec()],
                          index_codecs=[BytesCodec(), Crc32cCodec()], index_location=index_location)
    zarr.create_array(str(path), shape=(4, 6), dtype="u1", chunks=(4, 6), serializer=codec,
                      compressors=None, fill_value=9)
    meta = json.loads((path / "zarr.json").read_text())
    assert meta["codecs"][0]["name"] == "sharding_indexed"
    data = bytes(range(10, 22))  # 12 bytes
    n = 6  # 2 x 3 inner chunks of 2x2
    base = 16 * n + 4 if index_location == "start" else 0
    pairs = [(base + 0, 4),  # inner 0
             (base + 0, 4),  # inner 1: the same bytes as inner 0 (a deduplicating writer)
             (base + 2, 4),  # inner 2: overlaps inner 0 and 3
             (base + 4, 4),  # inner 3
             (EMPTY, EMPTY),  # inner 4: empty, fill value
             (base + 8, 4)]  # inner 5
    from omezarr_fast.native import crc32c
    index = np.asarray(pairs, dtype="<u8").tobytes()
    index += crc32c(index).to_bytes(4, "little")
    (path / "c").mkdir()
    (path / "c" / "0").mkdir()
    (path / "c" / "0" / "0").write_bytes(index + data if index_location == "start" else data + index)
    return path


@pytest.mark.parametrize("index_location", ["start", "end"])
def test_inner_chunks_sharing_or_overlapping_bytes_read_like_zarr(tmp_path, index_location):
    path = overlapping_shard(tmp_path, index_location)
    want = zarr_default(path)[...]
    assert want[0:2, 0:2].tolist() == want[0:2, 2:4].tolist() == [[10, 11], [12, 13]]
    a = ours(path)
    np.testing.assert_array_equal(a[...], want)
    np.testing.assert_array_equal(a[1:4, 1:5], want[1:4, 1:5])
    np.testing.assert_array_equal(a[[0, 3], [1, 5]], want[[0, 3], [1, 5]])
    for g, box in zip(read_regions(a, [(slice(0, 2), slice(0, 6)), (slice(1, 3), slice(2, 5))]),
                      [(slice(0, 2), slice(0, 6)), (slice(1, 3), slice(2, 5))]):
        np.testing.assert_array_equal(g, want[box])


def test_writing_into_an_overlapping_shard_writes_a_non_overlapping_one(tmp_path):
    path = overlapping_shard(tmp_path, "end")
    want = np.array(zarr_default(path)[...])
    with zarr.config.set({"codec_pipeline.path": "omezarr_fast.CodecPipeline"}):
        a = zarr.open_array(str(path), mode="r+")
        a[3, 5] = 99
    want[3, 5] = 99
    np.testing.assert_array_equal(zarr_default(path)[...], want)
    b = (path / "c" / "0" / "0").read_bytes()
    pairs = np.frombuffer(b[-100:-4], "<u8").reshape(-1, 2)
    spans = sorted((int(o), int(o + n)) for o, n in pairs if o != EMPTY)
    assert all(x[1] <= y[0] for x, y in itertools.pairwise(spans)), spans


def test_index_decode_accepts_overlap_and_keeps_bounds_checks():
    inner = _native.ChunkKernel([{"name": "bytes"}], (2,), "u1", b"\0")
    sk = _native.ShardKernel(inner, (4,), False, False, False)
    idx = np.array([[0, 2], [1, 2]], dtype="<u8").tobytes()
    assert sk.decode_index(idx, 3 + 32).tolist() == [[0, 2], [1, 2]]
    past = np.array([[0, 2], [30, 8]], dtype="<u8").tobytes()
    with pytest.raises(CodecError, match="past the end"):
        sk.decode_index(past, 3 + 32)
    into_index = np.array([[0, 2], [2, 4]], dtype="<u8").tobytes()
    with pytest.raises(CodecError, match="overlaps the index"):
        sk.decode_index(into_index, 4 + 32)
