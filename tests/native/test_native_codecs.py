"""omezarr_fast.native.ChunkCodec: round trips, interop, errors, threads."""
import threading

import numcodecs
import numpy as np
import pytest
import zstandard

from omezarr_fast.errors import CodecError
from omezarr_fast.native import ChunkCodec

DTYPES = ["bool", "i1", "u1", "<i2", ">i2", "<u2", ">u2", "<i4", ">u4", "<i8", ">u8", "<f2", ">f2",
          "<f4", ">f4", "<f8", ">f8", "<c8", ">c8", "<c16", ">c16", "<M8[s]", "<m8[ms]"]
SHAPES = [(), (0,), (1,), (7,), (3, 5), (4, 1, 6), (2, 3, 4, 5)]


def bytes_codec(endian="little"):
    return {"name": "bytes", "configuration": {"endian": endian}}


def sample(shape, dtype, seed=0):
    return np.asarray(_sample(shape, dtype, seed)).astype(dtype)


def _sample(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.integers(0, 2, shape).astype(dt)
    if dt.kind in "mM":
        return rng.integers(0, 10_000, shape).astype("i8").view(dt)
    if dt.kind == "c":
        return (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype(dt)
    if dt.kind == "f":
        return (rng.normal(size=shape) * 100).astype(dt)
    info = np.iinfo(dt)
    return rng.integers(info.min, info.max, shape, dtype=dt.newbyteorder("="), endpoint=True).astype(dt)


def reference_bytes(a, endian, order=None):
    """What the bytes (and transpose) codecs must produce, by numpy."""
    if order is not None:
        a = a.transpose(order)
    return np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<" if endian == "little" else ">")).tobytes()


BB = [
    [],
    [{"name": "zstd", "configuration": {"level": 3, "checksum": False}}],
    [{"name": "zstd", "configuration": {"level": -5, "checksum": True}}],
    [{"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle", "typesize": 2,
                                         "blocksize": 0}}],
    [{"name": "gzip", "configuration": {"level": 6}}],
    [{"name": "crc32c"}],
    [{"name": "zstd", "configuration": {"level": 1, "checksum": False}}, {"name": "crc32c"}],
    [{"name": "numcodecs.zlib", "configuration": {"level": 6}}],
    [{"name": "numcodecs.lz4", "configuration": {"acceleration": 1}}],
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("endian", ["little", "big"])
def test_bytes_codec_is_byte_identical(dtype, endian):
    a = sample((4, 5), dtype)
    c = ChunkCodec([bytes_codec(endian)], a.shape, a.dtype)
    enc = c.encode(a)
    assert enc.dtype == np.uint8 and enc.ndim == 1
    assert enc.tobytes() == reference_bytes(a, endian)
    np.testing.assert_array_equal(c.decode(enc), a)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("bb", BB, ids=lambda b: "+".join(x["name"] for x in b) or "none")
@pytest.mark.parametrize("dtype", ["u1", "<u2", ">i4", "<f8", ">c16", "bool"])
def test_round_trip_shapes(shape, bb, dtype):
    a = sample(shape, dtype, seed=len(shape))
    c = ChunkCodec([bytes_codec("big")] + bb, shape, dtype)
    out = c.decode(c.encode(a))
    assert out.shape == shape and out.dtype == a.dtype
    np.testing.assert_array_equal(out, a)


@pytest.mark.parametrize("order", [(0,), (1, 0), (2, 0, 1), (1, 2, 0), (3, 1, 0, 2)])
@pytest.mark.parametrize("dtype", ["u1", "<u2", ">f4", "<c16", ">c8"])
def test_transpose_is_byte_identical(order, dtype):
    shape = (3, 4, 5, 6)[: len(order)]
    a = sample(shape, dtype)
    codecs = [{"name": "transpose", "configuration": {"order": list(order)}}, bytes_codec("little")]
    c = ChunkCodec(codecs, shape, dtype)
    enc = c.encode(a)
    assert enc.tobytes() == reference_bytes(a, "little", order)
    np.testing.assert_array_equal(c.decode(enc), a)


def test_two_transposes_compose():
    a = sample((2, 3, 4), "<u2")
    codecs = [{"name": "transpose", "configuration": {"order": [1, 2, 0]}},
              {"name": "transpose", "configuration": {"order": [2, 0, 1]}}, bytes_codec()]
    c = ChunkCodec(codecs, a.shape, a.dtype)
    assert c.encode(a).tobytes() == a.transpose(1, 2, 0).transpose(2, 0, 1).tobytes()


def test_fortran_order_input_encodes_like_c_order():
    a = sample((30, 20), "<u2")
    c = ChunkCodec([bytes_codec(), {"name": "crc32c"}], a.shape, a.dtype)
    assert c.encode(np.asfortranarray(a)).tobytes() == c.encode(a).tobytes()
    assert c.encode(a.T.copy().T).tobytes() == c.encode(a).tobytes()


@pytest.mark.parametrize("level", [-131072, -1, 0, 1, 3, 9, 19, 22])
@pytest.mark.parametrize("checksum", [False, True])
def test_zstd_params(level, checksum):
    a = sample((64, 64), "<u2")
    c = ChunkCodec([bytes_codec(), {"name": "zstd", "configuration": {"level": level, "checksum": checksum}}],
                   a.shape, a.dtype)
    enc = c.encode(a)
    # zstd frame header: the checksum flag is bit 2 of the frame header descriptor.
    assert bool(enc[4] & 4) == checksum
    assert zstandard.ZstdDecompressor().decompress(enc.tobytes()) == a.tobytes()
    assert numcodecs.Zstd().decode(enc.tobytes()) == a.tobytes()
    np.testing.assert_array_equal(c.decode(enc), a)


@pytest.mark.parametrize("cname", ["lz4", "lz4hc", "blosclz", "zstd", "zlib"])
@pytest.mark.parametrize("shuffle", ["noshuffle", "shuffle", "bitshuffle"])
@pytest.mark.parametrize("clevel", [0, 1, 5, 9])
def test_blosc_params(cname, shuffle, clevel):
    a = sample((50, 60), "<u2")
    cfg = {"cname": cname, "clevel": clevel, "shuffle": shuffle, "typesize": 2, "blocksize": 0}
    c = ChunkCodec([bytes_codec(), {"name": "blosc", "configuration": cfg}], a.shape, a.dtype)
    enc = c.encode(a)
    assert enc[0] == 2  # Blosc1 format version
    assert numcodecs.Blosc().decode(enc.tobytes()) == a.tobytes()
    np.testing.assert_array_equal(c.decode(enc), a)
    # and theirs decodes with ours
    theirs = numcodecs.Blosc(cname=cname, clevel=clevel, shuffle=["noshuffle", "shuffle", "bitshuffle"].index(shuffle),
                             typesize=2).encode(a.tobytes())
    np.testing.assert_array_equal(c.decode(theirs), a)


@pytest.mark.parametrize("typesize,blocksize", [(1, 0), (4, 0), (255, 0), (2, 4096), (8, 65536), (400, 0)])
def test_blosc_typesize_blocksize(typesize, blocksize):
    a = sample((100, 80), "<u4")
    cfg = {"cname": "zstd", "clevel": 3, "shuffle": "bitshuffle", "typesize": typesize, "blocksize": blocksize}
    c = ChunkCodec([bytes_codec(), {"name": "blosc", "configuration": cfg}], a.shape, a.dtype)
    enc = c.encode(a)
    assert enc[3] == (typesize if typesize <= 255 else 1)  # as c-blosc does
    assert numcodecs.Blosc().decode(enc.tobytes()) == a.tobytes()
    np.testing.assert_array_equal(c.decode(enc), a)


@pytest.mark.parametrize("level", range(10))
def test_gzip_levels(level):
    a = sample((40, 70), "<i2")
    c = ChunkCodec([bytes_codec(), {"name": "gzip", "configuration": {"level": level}}], a.shape, a.dtype)
    enc = c.encode(a)
    assert enc[:3].tobytes() == b"\x1f\x8b\x08"  # RFC 1952 magic, deflate
    assert numcodecs.GZip().decode(enc.tobytes()) == a.tobytes()
    import gzip
    assert gzip.decompress(enc.tobytes()) == a.tobytes()
    np.testing.assert_array_equal(c.decode(numcodecs.GZip(level).encode(a.tobytes())), a)
    np.testing.assert_array_equal(c.decode(enc), a)


def test_gzip_multi_member():
    import gzip
    a = sample((1000,), "<u2")
    raw = a.tobytes()
    data = gzip.compress(raw[:700]) + gzip.compress(raw[700:])
    c = ChunkCodec([bytes_codec(), {"name": "gzip", "configuration": {"level": 5}}], a.shape, a.dtype)
    np.testing.assert_array_equal(c.decode(data), a)


def test_theirs_decode_with_ours():
    a = sample((128, 64), "<u2")
    raw = a.tobytes()
    cases = [
        ({"name": "zstd", "configuration": {"level": 3, "checksum": False}}, zstandard.compress(raw)),
        ({"name": "zstd", "configuration": {"level": 3, "checksum": False}},
         zstandard.ZstdCompressor(write_content_size=False, write_checksum=True).compress(raw)),
        ({"name": "zstd", "configuration": {"level": 3, "checksum": False}}, numcodecs.Zstd(5).encode(raw)),
        ({"name": "gzip", "configuration": {"level": 5}}, numcodecs.GZip(5).encode(raw)),
        ({"name": "crc32c"}, numcodecs.CRC32C().encode(raw)),
    ]
    for codec, data in cases:
        c = ChunkCodec([bytes_codec(), codec], a.shape, a.dtype)
        np.testing.assert_array_equal(c.decode(data), a, err_msg=codec["name"])


def test_crc32c_matches_numcodecs_byte_for_byte():
    a = sample((33, 17), "<f4")
    c = ChunkCodec([bytes_codec(), {"name": "crc32c"}], a.shape, a.dtype)
    assert c.encode(a).tobytes() == bytes(numcodecs.CRC32C().encode(a.tobytes()))


def test_zstd_matches_numcodecs_byte_for_byte():
    # Same libzstd parameters; numcodecs bundles its own libzstd, so compare
    # only when the versions agree.
    a = sample((64, 64), "<u2")
    c = ChunkCodec([bytes_codec(), {"name": "zstd", "configuration": {"level": 3, "checksum": False}}],
                   a.shape, a.dtype)
    ours, theirs = c.encode(a).tobytes(), bytes(numcodecs.Zstd(3).encode(a.tobytes()))
    assert numcodecs.Zstd().decode(ours) == numcodecs.Zstd().decode(theirs)


def test_batch_matches_single():
    arrays = [sample((32, 32), "<u2", seed=i) for i in range(20)]
    codecs = [bytes_codec(), {"name": "blosc", "configuration": {"cname": "zstd", "clevel": 3, "shuffle": "shuffle",
                                                                 "typesize": 2, "blocksize": 0}}]
    c = ChunkCodec(codecs, (32, 32), "<u2")
    encoded = c.encode_batch(arrays)
    assert [e.tobytes() for e in encoded] == [c.encode(a).tobytes() for a in arrays]
    outs = [np.empty((32, 32), "<u2") for _ in arrays]
    decoded = c.decode_batch(encoded, outs)
    assert all(d is o for d, o in zip(decoded, outs))
    for a, d in zip(arrays, decoded):
        np.testing.assert_array_equal(a, d)
    assert c.decode_batch([]) == [] and c.encode_batch([]) == []


@pytest.mark.parametrize("bb", BB[1:], ids=lambda b: "+".join(x["name"] for x in b))
def test_encode_does_not_mutate_input(bb):
    for codecs in ([bytes_codec("big")] + bb,
                   [{"name": "transpose", "configuration": {"order": [1, 0]}}, bytes_codec("big")] + bb):
        a = sample((20, 30), "<u4")
        keep = a.copy()
        c = ChunkCodec(codecs, a.shape, a.dtype)
        c.encode(a)
        c.encode_batch([a, a])
        np.testing.assert_array_equal(a, keep)


def test_batch_error_names_chunk_index():
    c = ChunkCodec([bytes_codec(), {"name": "zstd", "configuration": {"level": 3, "checksum": False}}], (8,), "<u2")
    good = c.encode(np.arange(8, dtype="<u2"))
    with pytest.raises(CodecError, match=r"chunk 2: zstd") as e:
        c.decode_batch([good, good, b"garbage!", good])
    assert e.value.index == 2


def test_bad_config_names_key():
    bad = [
        ([{"name": "lzma"}], "lzma"),
        ([bytes_codec(), {"name": "zstd", "configuration": {"level": 3, "speed": 1}}], "speed"),
        ([bytes_codec(), {"name": "zstd", "configuration": {"level": 23}}], "level"),
        ([bytes_codec(), {"name": "zstd", "configuration": {"checksum": 1}}], "checksum"),
        ([bytes_codec(), {"name": "blosc", "configuration": {"cname": "snappy"}}], "cname"),
        ([bytes_codec(), {"name": "blosc", "configuration": {"shuffle": "bits"}}], "shuffle"),
        ([bytes_codec(), {"name": "blosc", "configuration": {"typesize": 0}}], "typesize"),
        ([bytes_codec(), {"name": "blosc", "configuration": {"typesize": 2**31}}], "typesize"),
        ([bytes_codec(), {"name": "gzip", "configuration": {"level": 10}}], "level"),
        ([{"name": "bytes", "configuration": {"endian": "middle"}}], "endian"),
        ([{"name": "transpose", "configuration": {"order": [0, 0]}}], "order"),
        ([bytes_codec(), {"name": "transpose", "configuration": {"order": [1, 0]}}], "transpose"),
        ([{"name": "sharding_indexed", "configuration": {}}], "sharding_indexed"),
    ]
    for codecs, key in bad:
        with pytest.raises(ValueError, match=key):
            ChunkCodec(codecs, (4, 4), "<u2")
    with pytest.raises(ValueError, match="dtype"):
        ChunkCodec([bytes_codec()], (4,), "U4")
    for shape in [(-1,), (2**64,), (2**40, 2**40), (1.5,)]:
        with pytest.raises(ValueError, match="chunk"):
            ChunkCodec([bytes_codec()], shape, "<u2")


def test_wrong_array_shape_or_dtype():
    c = ChunkCodec([bytes_codec()], (4, 4), "<u2")
    with pytest.raises(ValueError, match="shape"):
        c.encode(np.zeros((4, 5), "<u2"))
    with pytest.raises(ValueError, match="dtype"):
        c.encode(np.zeros((4, 4), "<u4"))
    with pytest.raises(ValueError, match="out"):
        c.decode(b"\0" * 32, out=np.zeros((4, 4), "<u2")[:, ::2])


ALL = [[bytes_codec()] + bb for bb in BB] + [[bytes_codec(), {"name": "gzip", "configuration": {"level": 1}},
                                               {"name": "crc32c"}]]


@pytest.mark.parametrize("codecs", ALL, ids=lambda c: "+".join(x["name"] for x in c))
def test_bad_input_raises(codecs):
    a = sample((32, 32), "<u2")
    c = ChunkCodec(codecs, a.shape, a.dtype)
    enc = c.encode(a).tobytes()
    rng = np.random.default_rng(0)
    bad = [b"", enc[:-1], enc[: len(enc) // 2], enc + b"\0", enc[1:], b"\0" * 10]
    for _ in range(30):
        flipped = bytearray(enc)
        flipped[rng.integers(len(enc))] ^= 1 << int(rng.integers(8))
        bad.append(bytes(flipped))
    for data in bad:
        try:
            out = c.decode(data)
        except CodecError as e:
            assert str(e)
        else:
            # A flip that survives decoding (no checksum in the chain) must
            # still give a whole chunk, never a short one.
            assert out.shape == a.shape


def test_checksum_mismatch_message():
    c = ChunkCodec([bytes_codec(), {"name": "crc32c"}], (4,), "<u2")
    enc = bytearray(c.encode(np.arange(4, dtype="<u2")).tobytes())
    enc[-1] ^= 0xFF
    with pytest.raises(CodecError, match="crc32c: checksum mismatch"):
        c.decode(bytes(enc))
    zc = ChunkCodec([bytes_codec(), {"name": "zstd", "configuration": {"level": 3, "checksum": True}}], (400,), "<u2")
    enc = bytearray(zc.encode(np.arange(400, dtype="<u2")).tobytes())
    enc[-2] ^= 0xFF
    with pytest.raises(CodecError, match="zstd"):
        zc.decode(bytes(enc))


def test_wrong_decoded_size():
    small = ChunkCodec([bytes_codec(), {"name": "zstd", "configuration": {"level": 3, "checksum": False}}], (4,), "<u2")
    big = ChunkCodec([bytes_codec(), {"name": "zstd", "configuration": {"level": 3, "checksum": False}}], (8,), "<u2")
    with pytest.raises(CodecError, match="expected"):
        big.decode(small.encode(np.arange(4, dtype="<u2")))
    with pytest.raises(CodecError, match="expected"):
        small.decode(big.encode(np.arange(8, dtype="<u2")))
    plain = ChunkCodec([bytes_codec()], (4,), "<u2")
    with pytest.raises(CodecError, match="bytes: decoded 6 bytes, expected 8"):
        plain.decode(b"\0" * 6)


def test_huge_declared_size_does_not_allocate():
    # A zstd frame claiming 2**40 bytes, a blosc header claiming 2 GB.
    c = ChunkCodec([bytes_codec(), {"name": "zstd", "configuration": {"level": 3, "checksum": False}}], (4,), "<u2")
    frame = bytearray(zstandard.compress(b"\0" * 8))
    with pytest.raises(CodecError):
        c.decode(bytes(frame[:5]) + (2**40).to_bytes(8, "little") + bytes(frame[6:]))
    b = ChunkCodec([bytes_codec(), {"name": "blosc", "configuration": {"cname": "lz4"}}], (4,), "<u2")
    hdr = bytearray(b.encode(np.arange(4, dtype="<u2")).tobytes())
    hdr[4:8] = (2**31 - 100).to_bytes(4, "little")
    with pytest.raises(CodecError):
        b.decode(bytes(hdr))


def test_many_python_threads():
    codecs = [bytes_codec("big"), {"name": "zstd", "configuration": {"level": 1, "checksum": True}},
              {"name": "crc32c"}]
    c = ChunkCodec(codecs, (64, 64), "<u2")
    errors = []

    def work(seed):
        try:
            arrays = [sample((64, 64), "<u2", seed=seed * 100 + i) for i in range(8)]
            for _ in range(5):
                enc = c.encode_batch(arrays)
                dec = c.decode_batch(enc)
                for a, d in zip(arrays, dec):
                    np.testing.assert_array_equal(a, d)
                np.testing.assert_array_equal(c.decode(c.encode(arrays[0])), arrays[0])
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_accepts_zarr_codec_objects():
    import zarr.codecs as zc
    a = sample((6, 7), "<u2")
    objs = [zc.TransposeCodec(order=(1, 0)), zc.BytesCodec(endian="big"), zc.ZstdCodec(level=2)]
    dicts = [o.to_dict() for o in objs]
    from_objects = ChunkCodec(objs, a.shape, a.dtype).encode(a).tobytes()
    assert from_objects == ChunkCodec(dicts, a.shape, a.dtype).encode(a).tobytes()


def test_zstd_version_is_the_loaded_library():
    import ctypes
    import ctypes.util
    import re

    from omezarr_fast.native import zstd_version

    v = zstd_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", v), v
    assert tuple(map(int, v.split("."))) >= (1, 4, 0)  # ZSTD_compress2 and the CCtx parameter API
    lib = ctypes.util.find_library("zstd")
    if lib:  # the same shared object our extension loaded
        f = ctypes.CDLL(lib).ZSTD_versionString
        f.restype = ctypes.c_char_p
        assert f().decode() == v


def test_zstd_loaded_is_the_one_built_against():
    # run.sh may link a newer libzstd from .venv/opt with an rpath; if the
    # loader found another copy instead, zstd encodes at half speed silently.
    from omezarr_fast.native import zstd_build_version, zstd_version

    assert zstd_version() == zstd_build_version()
