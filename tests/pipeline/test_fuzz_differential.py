"""Differential fuzzing: omezarr_fast against zarr's own pipeline on hostile bytes.

zarr 3.4's default BatchedCodecPipeline is the oracle.  Each array is written
by zarr and opened twice, once on zarr's pipeline and once on ours.  One chunk
file (or shard file) then gets bytes from tests/helpers/fuzz_strategies.py: empty,
truncated, oversized, random, mutated valid encodings of every codec (bytes,
zstd, blosc, gzip, crc32c, transpose) and, for shards, index edits with the
index checksum recomputed, with the index at the start and at the end.  Both
read it: whole, partial (basic and orthogonal selections, LocalStore and
MemoryStore) and through omezarr_fast.read_regions.  The rule:

- zarr raises -> we raise a ChunkError that names the key;
- zarr returns data -> we return exactly the same bytes, or raise a
  ChunkError naming the key only where `excuse()` below says the bytes are
  corrupt and zarr reads them by accident;
- never any other exception, never a crash.

The oracle is guarded in one place: numcodecs' Blosc decoder (under zarr's
BloscCodec) trusts the sizes in the Blosc1 header, so a truncated blosc chunk
makes zarr return heap memory past the end of the buffer, or crash (found by
this test with numcodecs 0.17.1, c-blosc 1.21.7: a 112-byte "memcpyed" chunk
cut to 20 bytes decodes to 96 bytes, most of them not in the file).
guarded_blosc_decode makes zarr raise there instead.

Default run: a fixed set of examples per test (derandomized, no example
database), a few seconds each.  Deliberate fuzzing, random and longer:

    OMEZARR_FAST_FUZZ_EXAMPLES=20000 PYTHONPATH=src python -m pytest -n 2 \\
        tests/test_fuzz_differential.py

(the same variable lengthens tests/test_codecs_fuzz.py).  A failure prints the
bytes, the key and the selection, and a line to replay it.
"""
from __future__ import annotations

import math
import os
import warnings
import zlib
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import numpy as np
import pytest
import zarr
from helpers.fuzz_strategies import EMPTY, ShardLayout, fuzz_settings, hostile_bytes, hostile_shard
from hypothesis import given
from hypothesis import strategies as st
from numcodecs import Blosc
from numcodecs.compat import ensure_contiguous_ndarray
from zarr.codecs import BloscCodec, BytesCodec, Crc32cCodec, GzipCodec, ShardingCodec, TransposeCodec, ZstdCodec
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync
from zarr.storage import LocalStore, MemoryStore

import omezarr_fast
from omezarr_fast import read_regions
from omezarr_fast.errors import ChunkError

OURS = {"codec_pipeline.path": "omezarr_fast.CodecPipeline"}
ZARR = {"codec_pipeline.path": "zarr.core.codec_pipeline.BatchedCodecPipeline"}

SHAPE = (10, 12)          # edge chunks and shards are partial
CHUNKS = (6, 8)           # also the shard shape
INNER = (3, 4)            # 2 x 2 inner chunks per shard
FILL = 7
EXAMPLES = 100            # per test in the default run


CHECKED_INDEX = (BytesCodec(), Crc32cCodec())


def _shard(inner_codecs, at_start=False, index_codecs=CHECKED_INDEX):
    return dict(serializer=ShardingCodec(chunk_shape=INNER, codecs=inner_codecs, index_codecs=index_codecs,
                                         index_location="start" if at_start else "end"),
                compressors=None, filters=None)


def _plain(*compressors, filters=None, endian="little"):
    return dict(serializer=BytesCodec(endian=endian), compressors=list(compressors) or None, filters=filters)


ZSTD = ZstdCodec(level=1)
# name: (dtype, codecs).  Every codec, alone and combined, plain and sharded,
# both index locations, index with and without crc32c, both endiannesses.
CONFIGS = {
    "raw": ("u2", _plain()),
    "raw-big-i4": ("i4", _plain(endian="big")),
    "zstd": ("u2", _plain(ZSTD)),
    "zstd-checksum": ("u2", _plain(ZstdCodec(level=3, checksum=True))),
    "blosc-lz4-shuffle": ("u2", _plain(BloscCodec(cname="lz4", shuffle="shuffle"))),
    "blosc-zstd-bitshuffle-f4": ("f4", _plain(BloscCodec(cname="zstd", shuffle="bitshuffle"))),
    "blosc-blosclz-noshuffle": ("u2", _plain(BloscCodec(cname="blosclz", shuffle="noshuffle"))),
    "blosc-zlib": ("u2", _plain(BloscCodec(cname="zlib", shuffle="shuffle"))),
    "gzip": ("u2", _plain(GzipCodec(level=5))),
    "crc32c": ("u2", _plain(Crc32cCodec())),
    "zstd-crc32c": ("u2", _plain(ZSTD, Crc32cCodec())),
    "transpose-gzip": ("u2", _plain(GzipCodec(level=1), filters=[TransposeCodec(order=(1, 0))])),
    "transpose-raw-big-f8": ("f8", _plain(filters=[TransposeCodec(order=(1, 0))], endian="big")),
    "shard-end-raw": ("u2", _shard([BytesCodec()])),
    "shard-start-raw": ("u2", _shard([BytesCodec()], at_start=True)),
    "shard-end-zstd": ("u2", _shard([BytesCodec(), ZSTD])),
    "shard-start-zstd": ("u2", _shard([BytesCodec(), ZSTD], at_start=True)),
    "shard-end-raw-nocrc": ("u2", _shard([BytesCodec()], index_codecs=[BytesCodec()])),
    "shard-start-gzip-nocrc": ("u2", _shard([BytesCodec(), GzipCodec(level=1)], at_start=True,
                                            index_codecs=[BytesCodec()])),
    "shard-end-blosc-bigindex": ("u2", _shard([BytesCodec(), BloscCodec(cname="lz4", shuffle="shuffle")],
                                              index_codecs=[BytesCodec(endian="big"), Crc32cCodec()])),
    "shard-end-crc32c": ("u2", _shard([BytesCodec(), Crc32cCodec()])),
    "shard-start-transpose-zstd-nocrc": ("u2", _shard([TransposeCodec(order=(1, 0)), BytesCodec(), ZSTD],
                                                      at_start=True, index_codecs=[BytesCodec()])),
}


@dataclass
class Case:
    """One array written by zarr and opened on both pipelines."""
    store: zarr.abc.store.Store
    root: str | None          # LocalStore directory
    ref: zarr.Array           # zarr's BatchedCodecPipeline
    ours: zarr.Array          # omezarr_fast.CodecPipeline
    valid: dict[str, bytes]   # chunk key (in the array) -> the bytes zarr wrote
    layout: ShardLayout | None
    outer: str | None         # the chunk's (inner chunk's) last bytes -> bytes codec
    name: str                 # in CONFIGS

    def put(self, key: str, data: bytes) -> None:
        if self.root is not None:  # a plain file, as a stranger's disk would hold it
            with open(os.path.join(self.root, "arr", key), "wb") as f:
                f.write(data)
        else:
            sync(self.store.set(f"arr/{key}", default_buffer_prototype().buffer.from_bytes(data)))


def build(name: str, store, root: str | None) -> Case:
    dtype, codecs = CONFIGS[name]
    with zarr.config.set(ZARR):
        ref = zarr.create_array(store, name="arr", shape=SHAPE, chunks=CHUNKS, dtype=dtype, fill_value=FILL,
                                **codecs)
        data = np.random.default_rng(1).integers(0, 3000, SHAPE).astype(dtype)
        data[0, :3] = FILL  # some pixels equal the fill value, as in real images
        ref[:] = data
    with zarr.config.set(OURS):
        ours = zarr.open_array(store, path="arr")
    assert omezarr_fast.pipeline_info(ours) == "native", "the comparison would be zarr against zarr"
    keys = [ref.metadata.encode_chunk_key((i, j)) for i in range(2) for j in range(2)]
    valid = {}
    for k in keys:
        buf = sync(store.get(f"arr/{k}", default_buffer_prototype()))
        valid[k] = buf.to_bytes()
    layout = None
    if isinstance(codecs["serializer"], ShardingCodec):
        sc = codecs["serializer"]
        n_inner = int(np.prod([c // i for c, i in zip(CHUNKS, INNER)]))
        big = list(sc.index_codecs)[0].endian == "big"
        layout = ShardLayout(n_inner, sc.index_location == "start", len(sc.index_codecs) == 2, big)
    return Case(store, root, ref, ours, valid, layout, outermost(name), name)


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    """Arrays built on first use, one per (config, store kind)."""
    built: dict[tuple[str, str], Case] = {}

    def get(name: str, kind: str) -> Case:
        if (name, kind) not in built:
            if kind == "local":
                root = str(tmp_path_factory.mktemp(name))
                built[name, kind] = build(name, LocalStore(root), root)
            else:
                built[name, kind] = build(name, MemoryStore(), None)
        return built[name, kind]

    return get


# ---- selections ----

@st.composite
def box(draw) -> tuple:
    """A box of slices with steps >= 1, possibly empty."""
    out = []
    for n in SHAPE:
        start = draw(st.integers(0, n))
        stop = draw(st.integers(start, n))
        out.append(slice(start, stop, draw(st.sampled_from([None, 1, 2, 3]))))
    return tuple(out)


@st.composite
def selection(draw) -> tuple[str, tuple]:
    """('basic' | 'oindex', selection): whole, a box, an integer and a
    slice, or integer arrays (unsorted, repeated) on one axis."""
    kind = draw(st.sampled_from(["whole", "box", "box", "int", "oindex"]))
    if kind == "whole":
        return "basic", (Ellipsis,)
    if kind == "box":
        return "basic", draw(box())
    if kind == "int":
        axis = draw(st.integers(0, 1))
        sel = [slice(None), slice(None)]
        sel[axis] = draw(st.integers(-SHAPE[axis], SHAPE[axis] - 1))
        return "basic", tuple(sel)
    axis = draw(st.integers(0, 1))
    sel = [draw(box())[0], draw(box())[1]]
    sel[axis] = np.array(draw(st.lists(st.integers(0, SHAPE[axis] - 1), min_size=1, max_size=6)))
    return "oindex", tuple(sel)


def read(arr: zarr.Array, sel: tuple[str, tuple]) -> np.ndarray:
    kind, s = sel
    return np.asarray(arr.oindex[s] if kind == "oindex" else arr[s])


# ---- the comparison ----

ORACLE_BLOSC_MAX = 1 << 20  # decoded bytes; every chunk here is far smaller


def guarded_blosc_decode(self, buf, out=None):
    """numcodecs' Blosc.decode, refusing what it cannot decode safely.

    numcodecs (0.17.1) trusts the Blosc1 header: it allocates the decoded size
    the header declares and lets c-blosc read as many compressed bytes as the
    header declares, past the end of a shorter buffer.  A truncated chunk then
    decodes to heap memory or crashes the process (see the module docstring).
    The oracle raises instead, as any reader should: a header that declares
    more bytes than are stored, or a decoded size no chunk here has, is
    corrupt data, and zarr raises for it anyway when it does not crash."""
    b = np.frombuffer(ensure_contiguous_ndarray(buf), np.uint8)
    if len(b) < 16 or int.from_bytes(b[12:16].tobytes(), "little") > len(b):
        raise ValueError("blosc: header declares more bytes than stored (numcodecs would read past them)")
    if int.from_bytes(b[4:8].tobytes(), "little") > ORACLE_BLOSC_MAX:
        raise ValueError("blosc: header declares a decoded size larger than any chunk here")
    return _numcodecs_blosc_decode(self, buf, out)


_numcodecs_blosc_decode = Blosc.decode


@contextmanager
def oracle():
    """zarr's pipeline as the oracle: zarr's warnings (overflow on huge index
    entries) are not errors here, and its Blosc decoder is guarded."""
    Blosc.decode = guarded_blosc_decode
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        Blosc.decode = _numcodecs_blosc_decode


def outcome(fn):
    try:
        return fn(), None
    except Exception as e:  # noqa: BLE001 - any exception is part of the outcome
        return None, e


def outermost(name: str) -> str | None:
    """The last bytes -> bytes codec of the chunk (inner chunk for shards)."""
    codecs = CONFIGS[name][1]
    chain = (codecs["serializer"].codecs if isinstance(codecs["serializer"], ShardingCodec)
             else codecs["compressors"] or ())
    names = {ZstdCodec: "zstd", BloscCodec: "blosc", GzipCodec: "gzip", Crc32cCodec: "crc32c"}
    return names.get(type(chain[-1])) if chain else None


def index_problem(layout: ShardLayout, shard: bytes) -> str | None:
    """What makes a shard index invalid for every reader, though zarr only
    notices it for the inner chunks a read touches.  Overlapping inner chunks
    are NOT here: they are legal (a writer may deduplicate), and we must read
    them like zarr."""
    if len(shard) < layout.index_size:
        return None
    at = layout.index_at(shard)
    for i, (off, n) in enumerate(layout.pairs(shard).tolist()):
        if (off, n) == (EMPTY, EMPTY):
            continue
        if off == EMPTY or n == EMPTY:
            return f"inner chunk {i} is half empty"
        if off + n > len(shard):
            return f"inner chunk {i} runs past the end of the shard"
        if n == 0:
            return f"inner chunk {i} has no bytes (no codec chain decodes 0 bytes to a chunk)"
        if off < at + layout.index_size and off + n > at:
            return f"inner chunk {i} overlaps the index"
    return None


def chunk_problem(codec: str | None, chunk: bytes) -> str | None:
    """What makes one encoded chunk corrupt though zarr's codecs decode it."""
    if codec == "blosc" and len(chunk) >= 16 and int.from_bytes(chunk[12:16], "little") != len(chunk):
        # c-blosc decodes as many bytes as the header says: zarr ignores
        # trailing bytes (and without guarded_blosc_decode would copy a
        # truncated chunk from past the end of its buffer).
        return "blosc header's compressed size differs from the stored size"
    if codec == "gzip" and chunk[:2] == b"\x1f\x8b" and len(chunk) > 3 and chunk[3] & 0xE0:
        # RFC 1952 2.3.1.2: a decompressor must refuse reserved FLG bits;
        # Python's gzip ignores them, libdeflate refuses.
        return "gzip header with reserved flag bits set"
    if codec == "gzip":
        d = zlib.decompressobj(wbits=31)
        with suppress(zlib.error):
            d.decompress(chunk)
            if d.eof and d.unused_data and not d.unused_data.strip(b"\0"):
                # Python's gzip skips NUL padding after the last member
                # (tape blocks); libdeflate, like most readers, does not.
                return "gzip stream followed by NUL padding"
    return None


def too_big(case: Case, data: bytes) -> bool:
    """Far larger than any encoding of the chunk (shard) can be: twice the
    decoded size plus 1 KiB per (inner) chunk, above every codec's worst case.
    DESIGN.md: such a file is refused before it is read; zarr reads it whole
    (a shard with its index at the start ignores the bytes after its chunks)."""
    itemsize = np.dtype(CONFIGS[case.name][0]).itemsize
    if case.layout is None:
        return len(data) > 2 * math.prod(CHUNKS) * itemsize + 1024
    per_inner = 2 * math.prod(INNER) * itemsize + 1024
    return len(data) > case.layout.n_inner * per_inner + case.layout.index_size


def excuse(case: Case, key: str, data: bytes) -> str | None:
    """Why raising is right for bytes that zarr reads without error, or None
    when it is not (then our ChunkError is a bug: we refuse what zarr reads).
    Decided case by case, see too_big, index_problem and chunk_problem."""
    if too_big(case, data):
        return "the file is larger than any encoding of its chunk"
    if case.layout is None:
        return chunk_problem(case.outer, data)
    why = index_problem(case.layout, data)
    if why:
        return why
    if len(data) < case.layout.index_size:
        return None
    for off, n in case.layout.pairs(data).tolist():
        if off != EMPTY and (why := chunk_problem(case.outer, data[off:off + n])):
            return why
    return None


def names_key(e: BaseException, key: str) -> bool:
    k = getattr(e, "key", None)
    return isinstance(e, ChunkError) and k is not None and (k == key or k.endswith("/" + key)) and key in str(e)


def check(case: Case, key: str, data: bytes, ours_fn, ref_fn) -> str:
    """Runs both reads of the array holding `data` at `key`; fails on any
    difference the rule above does not allow.  Returns what happened."""
    with oracle():
        want, zerr = outcome(ref_fn)
    got, oerr = outcome(ours_fn)
    if oerr is not None:
        assert names_key(oerr, key), f"ours raised {type(oerr).__name__}: {oerr} (not a ChunkError naming {key!r})"
        if zerr is None:
            why = excuse(case, key, data)
            assert why, f"ours raised {oerr!r} where zarr reads the bytes"
            return "ours raises: " + why
        return "both raise"
    assert zerr is None, f"zarr raised {type(zerr).__name__}: {zerr}; ours returned data"
    assert isinstance(got, type(want)), (type(got), type(want))
    if isinstance(want, list):
        assert len(got) == len(want)
        pairs = list(zip(got, want))
    else:
        pairs = [(got, want)]
    for g, w in pairs:
        assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, g.shape, w.dtype, w.shape)
        assert g.tobytes() == w.tobytes(), f"different data:\nours {g!r}\nzarr {w!r}"
    return "same"


def hostile(case: Case, key: str) -> st.SearchStrategy[bytes]:
    valid = case.valid[key]
    return hostile_shard(case.layout, valid) if case.layout else hostile_bytes(valid)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_reads_match_zarr(cases, name):
    """Whole and partial reads (LocalStore and MemoryStore) of an array with
    one hostile chunk or shard file."""
    local, memory = cases(name, "local"), cases(name, "memory")

    @fuzz_settings(EXAMPLES)
    @given(st.data(), st.sampled_from(sorted(local.valid)), st.booleans(), selection())
    def run(draw, key, on_disk, sel):
        case = local if on_disk else memory
        data = draw.draw(hostile(case, key), label="bytes")
        case.put(key, data)
        try:
            check(case, key, data, lambda: read(case.ours, sel), lambda: read(case.ref, sel))
        finally:
            case.put(key, case.valid[key])

    run()


@pytest.mark.parametrize("name", list(CONFIGS))
def test_read_regions_match_zarr(cases, name):
    """read_regions (one native call for many boxes, shared decoding) against
    zarr reading each box, with one hostile chunk or shard file."""
    case = cases(name, "local")

    @fuzz_settings(EXAMPLES)
    @given(st.data(), st.sampled_from(sorted(case.valid)), st.lists(box(), min_size=1, max_size=4))
    def run(draw, key, boxes):
        data = draw.draw(hostile(case, key), label="bytes")
        case.put(key, data)
        try:
            check(case, key, data, lambda: read_regions(case.ours, boxes),
                  lambda: [np.asarray(case.ref[b]) for b in boxes])
        finally:
            case.put(key, case.valid[key])

    run()
