"""Codec throughput per codec and chunk size (pytest-benchmark).

    PYTHONPATH=src python -m pytest benchmarks/bench_codecs.py --benchmark-group-by=group

Each group (codec, chunk size, encode/decode) holds our batch API, the same
native calls on one thread (raw library speed) and numcodecs chunk by chunk.
compare_codecs.py prints the same comparison as one table with ratios.
"""
import os
import sys

import numcodecs
import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from data import microscopy_like  # noqa: E402

from omezarr_fast.native import ChunkCodec  # noqa: E402

numcodecs.blosc.use_threads = False  # as zarr does

TOTAL = 8 << 20  # bytes of image per benchmark
CHUNKS = {"4KiB": (32, 64), "64KiB": (128, 256), "1MiB": (512, 1024), "8MiB": (2048, 2048)}
BYTES = {"name": "bytes", "configuration": {"endian": "little"}}
CODECS = {
    "zstd-3": ({"name": "zstd", "configuration": {"level": 3, "checksum": False}}, numcodecs.Zstd(level=3)),
    "blosc-zstd": ({"name": "blosc", "configuration": {"cname": "zstd", "clevel": 5, "shuffle": "shuffle",
                                                       "typesize": 2, "blocksize": 0}},
                   numcodecs.Blosc("zstd", 5, numcodecs.Blosc.SHUFFLE)),
    "blosc-lz4": ({"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle",
                                                      "typesize": 2, "blocksize": 0}},
                  numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE)),
    "gzip-6": ({"name": "gzip", "configuration": {"level": 6}}, numcodecs.GZip(level=6)),
    "crc32c": ({"name": "crc32c"}, numcodecs.CRC32C()),
}


@pytest.fixture(scope="module")
def image():
    return microscopy_like((TOTAL // 2 // 2048, 2048))


def _setup(image, codec, chunk):
    shape = CHUNKS[chunk]
    chunks = [np.ascontiguousarray(image[i:i + shape[0], j:j + shape[1]])
              for i in range(0, image.shape[0], shape[0]) for j in range(0, image.shape[1], shape[1])]
    ours = ChunkCodec([BYTES, CODECS[codec][0]], shape, np.uint16)
    encoded = [e.tobytes() for e in ours.encode_batch(chunks)]
    return ours, chunks, encoded


IMPLS = ["ours-batch", "ours-1thread", "numcodecs"]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("chunk", list(CHUNKS))
@pytest.mark.parametrize("codec", list(CODECS))
def test_decode(benchmark, image, codec, chunk, impl):
    ours, chunks, encoded = _setup(image, codec, chunk)
    benchmark.group = f"decode {codec} {chunk}"
    benchmark.extra_info["MB"] = image.nbytes / 1e6
    outs = [np.empty_like(c) for c in chunks]
    if impl == "ours-batch":
        benchmark(ours.decode_batch, encoded, outs)
    elif impl == "ours-1thread":
        benchmark(ours._chain.decode_batch, encoded, outs, serial=True)
    else:
        peer = CODECS[codec][1]
        benchmark(lambda: [peer.decode(e) for e in encoded])
    np.testing.assert_array_equal(ours.decode(encoded[0]), chunks[0])


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("chunk", list(CHUNKS))
@pytest.mark.parametrize("codec", list(CODECS))
def test_encode(benchmark, image, codec, chunk, impl):
    ours, chunks, _ = _setup(image, codec, chunk)
    benchmark.group = f"encode {codec} {chunk}"
    benchmark.extra_info["MB"] = image.nbytes / 1e6
    if impl == "ours-batch":
        out = benchmark(ours.encode_batch, chunks)
    elif impl == "ours-1thread":
        out = benchmark(ours._chain.encode_batch, chunks, serial=True)
    else:
        peer = CODECS[codec][1]
        raw = [c.tobytes() for c in chunks]
        out = benchmark(lambda: [peer.encode(r) for r in raw])
    assert len(out) == len(chunks)
