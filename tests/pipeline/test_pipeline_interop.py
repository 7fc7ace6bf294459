"""Interop: omezarr_fast.CodecPipeline reads what tensorstore and zarrs write,
and they read what it writes."""
from __future__ import annotations

import numpy as np
import pytest
import zarr
from helpers.pipelines import OURS
from zarr.codecs import BloscCodec, BytesCodec, Crc32cCodec, GzipCodec, ShardingCodec, TransposeCodec, ZstdCodec
from zarr.storage import LocalStore

import omezarr_fast

ts = pytest.importorskip("tensorstore")

SHAPE = (20, 33, 47)


def data(dtype="u2"):
    rng = np.random.default_rng(3)
    return (rng.standard_normal(SHAPE) * 300 + 1000).astype(dtype)


# Codec lists in zarr v3 JSON (what tensorstore takes) and the matching zarr kwargs.
LAYOUTS = {
    "zstd": dict(chunks=(8, 16, 16), compressors=[ZstdCodec(level=3)]),
    "gzip-transpose": dict(chunks=(8, 16, 16), filters=[TransposeCodec(order=(2, 1, 0))],
                           compressors=[GzipCodec(level=4)]),
    "blosc-big": dict(chunks=(8, 16, 16), serializer=BytesCodec(endian="big"),
                      compressors=[BloscCodec(cname="lz4", clevel=5, shuffle="bitshuffle")]),
    "sharded-zstd": dict(chunks=(4, 8, 8), shards=(8, 16, 16), compressors=[ZstdCodec(level=1)]),
    "sharded-start-crc": dict(chunks=(8, 16, 16), compressors=None, serializer=ShardingCodec(
        chunk_shape=(4, 8, 8), codecs=[BytesCodec(), Crc32cCodec()], index_location="start")),
}


def ts_open(path, **kw):
    return ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": str(path)}}, **kw).result()


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_tensorstore_both_ways(tmp_path, layout):
    d = data()
    # Metadata from zarr; tensorstore writes the chunks, we read them.
    with zarr.config.set(OURS):
        zarr.create_array(LocalStore(tmp_path / "ts"), shape=SHAPE, dtype="u2", fill_value=0, **LAYOUTS[layout])
        ts_open(tmp_path / "ts").write(d).result()
        a = zarr.open_array(LocalStore(tmp_path / "ts"))
        assert omezarr_fast.pipeline_info(a) == "native"
        np.testing.assert_array_equal(a[:], d)
        np.testing.assert_array_equal(a[3:17, ::5, 40:], d[3:17, ::5, 40:])
        b = zarr.create_array(LocalStore(tmp_path / "ours"), shape=SHAPE, dtype="u2", fill_value=0,
                              **LAYOUTS[layout])
        b[:] = d
        b[2:5, 1:30, 3] = 7
    d[2:5, 1:30, 3] = 7
    np.testing.assert_array_equal(ts_open(tmp_path / "ours").read().result(), d)


@pytest.mark.parametrize("layout", ["zstd", "sharded-zstd", "sharded-start-crc", "blosc-big"])
def test_zarrs_both_ways(tmp_path, layout):
    pytest.importorskip("zarrs")
    zarrs_cfg = {"codec_pipeline.path": "zarrs.ZarrsCodecPipeline"}
    d = data("i4")
    with zarr.config.set(zarrs_cfg):
        z = zarr.create_array(LocalStore(tmp_path / "zarrs"), shape=SHAPE, dtype="i4", fill_value=0,
                              **LAYOUTS[layout])
        z[:] = d
    with zarr.config.set(OURS):
        np.testing.assert_array_equal(zarr.open_array(LocalStore(tmp_path / "zarrs"))[:], d)
        o = zarr.create_array(LocalStore(tmp_path / "ours"), shape=SHAPE, dtype="i4", fill_value=0,
                              **LAYOUTS[layout])
        o[:] = d
    with zarr.config.set(zarrs_cfg):
        np.testing.assert_array_equal(zarr.open_array(LocalStore(tmp_path / "ours"))[:], d)
