"""Fuzz every native decoder: any input gives a result of the right size or a
CodecError, never a crash or an out-of-bounds write."""
import numpy as np
import pytest
from helpers.fuzz_strategies import fuzz_settings, mutated
from hypothesis import given
from hypothesis import strategies as st

from omezarr_fast import _native
from omezarr_fast.errors import CodecError
from omezarr_fast.native import ChunkCodec

BYTES = {"name": "bytes", "configuration": {"endian": "little"}}
DECODERS = {
    "zstd": [BYTES, {"name": "zstd", "configuration": {"level": 1, "checksum": False}}],
    "zstd-checksum": [BYTES, {"name": "zstd", "configuration": {"level": 1, "checksum": True}}],
    "blosc-lz4": [BYTES, {"name": "blosc", "configuration": {"cname": "lz4", "shuffle": "shuffle"}}],
    "blosc-zstd-bit": [BYTES, {"name": "blosc", "configuration": {"cname": "zstd", "shuffle": "bitshuffle",
                                                                  "blocksize": 256}}],
    "blosc-blosclz": [BYTES, {"name": "blosc", "configuration": {"cname": "blosclz", "shuffle": "noshuffle"}}],
    "blosc-zlib": [BYTES, {"name": "blosc", "configuration": {"cname": "zlib"}}],
    "gzip": [BYTES, {"name": "gzip", "configuration": {"level": 5}}],
    "crc32c": [BYTES, {"name": "crc32c"}],
    "numcodecs.zlib": [BYTES, {"name": "numcodecs.zlib", "configuration": {"level": 1}}],
    "numcodecs.lz4": [BYTES, {"name": "numcodecs.lz4", "configuration": {"acceleration": 1}}],
    "transpose-bytes": [{"name": "transpose", "configuration": {"order": [1, 0]}},
                        {"name": "bytes", "configuration": {"endian": "big"}}],
    "gzip-zstd": [BYTES, {"name": "zstd", "configuration": {"level": 1, "checksum": False}},
                  {"name": "gzip", "configuration": {"level": 1}}],
}
SHAPE = (24, 20)
FUZZ = fuzz_settings(400)


def valid(codecs):
    rng = np.random.default_rng(0)
    a = (np.add.outer(np.arange(SHAPE[0]), np.arange(SHAPE[1])) * 50 + rng.integers(0, 30, SHAPE)).astype("<u2")
    return ChunkCodec(codecs, SHAPE, "<u2").encode(a).tobytes()


def check(codec, data):
    try:
        out = codec.decode(data)
    except CodecError as e:
        assert str(e)
    else:
        assert out.shape == SHAPE


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_fuzz_chain_decoder(name):
    codecs = DECODERS[name]
    codec = ChunkCodec(codecs, SHAPE, "<u2")
    base = valid(codecs)

    @FUZZ
    @given(st.one_of(mutated(base), st.binary(max_size=2 * len(base))))
    def run(data):
        check(codec, data)

    run()


@pytest.mark.parametrize("name,cfg", [("zstd", {}), ("blosc", {"cname": "lz4"}), ("gzip", {}), ("crc32c", {}),
                                      ("numcodecs.zlib", {}), ("numcodecs.lz4", {})])
def test_fuzz_single_codec_decoder(name, cfg):
    codec = _native.NativeBytesCodec(name, cfg, 2)
    base = codec.encode_batch([np.arange(500, dtype="<u2").view(np.uint8)])[0].tobytes()

    @FUZZ
    @given(mutated(base), st.integers(0, 2000))
    def run(data, limit):
        try:
            out = codec.decode_batch([data], [limit])[0]
        except CodecError:
            return
        assert len(out) <= limit

    run()


def test_fuzz_batch_decoder():
    codec = ChunkCodec(DECODERS["zstd-checksum"], SHAPE, "<u2")
    base = valid(DECODERS["zstd-checksum"])

    @FUZZ
    @given(st.lists(st.one_of(st.just(base), mutated(base)), min_size=1, max_size=8))
    def run(datas):
        try:
            outs = codec.decode_batch(datas)
        except CodecError as e:
            assert e.index is not None and 0 <= e.index < len(datas)
        else:
            assert all(o.shape == SHAPE for o in outs)

    run()


@st.composite
def transposed(draw):
    ndim = draw(st.integers(1, 5))
    shape = tuple(draw(st.lists(st.integers(0 if ndim < 3 else 1, 70 if ndim <= 2 else 9),
                                min_size=ndim, max_size=ndim)))
    order = draw(st.permutations(range(ndim)))
    dtype = draw(st.sampled_from(["u1", "<u2", ">i4", "<f8", ">c16", "<c8"]))
    endian = draw(st.sampled_from(["little", "big"]))
    return shape, list(order), dtype, endian


@FUZZ
@given(transposed())
def test_transpose_any_permutation(case):
    shape, order, dtype, endian = case
    a = (np.arange(int(np.prod(shape)), dtype="i8") % 251).astype(dtype).reshape(shape)
    codecs = [{"name": "transpose", "configuration": {"order": order}},
              {"name": "bytes", "configuration": {"endian": endian}}]
    c = ChunkCodec(codecs, shape, dtype)
    enc = c.encode(a)
    stored = np.dtype(dtype).newbyteorder("<" if endian == "little" else ">")
    want = np.ascontiguousarray(a.transpose(order)).astype(stored)
    assert enc.tobytes() == want.tobytes()
    np.testing.assert_array_equal(c.decode(enc), a)
