"""The native TIFF tile/strip reader (inputs/tiles.py, csrc/tiff_tiles.c) against
tifffile's own decoding of real tifffile-written files, and on hostile variants of them."""
from __future__ import annotations

import pickle
import struct
import zlib

import numpy as np
import pytest

from omezarr_fast.errors import CodecError
from omezarr_fast.inputs import open_file
from omezarr_fast.inputs.tiles import TiffTiles, native_level

tifffile = pytest.importorskip("tifffile")


def _data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    # Smooth plus noise (what the predictor is for); negative values wrap around the
    # type (differences across the wrap test the predictor's modular arithmetic).
    base = np.cumsum(rng.integers(-3, 4, shape), axis=-1) + rng.integers(0, 50, shape)
    return base.astype(np.int64).astype(dtype)


def _native(path, series=0, level=0):
    with tifffile.TiffFile(path) as tif:
        return native_level(path, tif.series[series].levels[level])


def _blocks(shape, rng, n=6):
    """Random blocks (slices and integers) of an array of ``shape``, the whole array first."""
    yield (Ellipsis,)
    for _ in range(n):
        key = []
        for d in shape:
            if rng.random() < 0.2:
                key.append(int(rng.integers(0, d)))
            else:
                a = int(rng.integers(0, d))
                key.append(slice(a, int(rng.integers(a + 1, d + 1))))
        yield tuple(key)


CASES = {
    "zlib tiled": dict(compression="zlib", tile=(32, 48)),
    "zlib tiled predictor": dict(compression="zlib", tile=(32, 48), predictor=True),
    "zlib strips": dict(compression="zlib", rowsperstrip=7),
    "zlib strips predictor": dict(compression="zlib", rowsperstrip=7, predictor=True),
    "none tiled": dict(tile=(16, 32)),
    "none strips": dict(rowsperstrip=7),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int16", "uint32", "float32", "uint64"])
def test_matches_tifffile(tmp_path, case, dtype):
    kw = CASES[case]
    if kw.get("predictor") and (np.dtype(dtype).kind == "f" or np.dtype(dtype).itemsize == 8):
        kw = dict(kw, predictor=False)     # tifffile writes predictor 3 / none for these
    data = _data((4, 100, 130), dtype)
    path = tmp_path / "a.tif"
    tifffile.imwrite(path, data, photometric="minisblack", **kw)
    arr = _native(path)
    assert isinstance(arr, TiffTiles), case
    expect = tifffile.imread(path)
    np.testing.assert_array_equal(expect, data)
    rng = np.random.default_rng(1)
    for key in [*_blocks(arr.shape, rng), (slice(None), slice(3, 90), slice(5, 9)),
                (0, slice(None), slice(1, 129))]:
        np.testing.assert_array_equal(arr[key], expect[key], err_msg=f"{case} {dtype} {key}")
    assert pickle.loads(pickle.dumps(arr))[1:3, 5:70].tolist() == expect[1:3, 5:70].tolist()


@pytest.mark.parametrize("shape, dtype", [
    ((2, 1100, 40), "uint16"),      # more rows than one preadv takes (512)
    ((2, 5, 20000), "uint8"),       # gaps wider than the sink: row by row
    ((1, 9, 4000), "uint32"),       # 16 KB rows: gaps just under the sink size
])
def test_uncompressed_column_ranges(tmp_path, shape, dtype):
    """Uncompressed strips read straight into the block, column range by column range."""
    data = _data(shape, dtype)
    path = tmp_path / "s.tif"
    tifffile.imwrite(path, data, photometric="minisblack", rowsperstrip=shape[1])
    arr = _native(path)
    assert isinstance(arr, TiffTiles)
    w = shape[2]
    for key in [(slice(None), slice(None), slice(3, 20)), (1 % shape[0], slice(2, None), slice(w - 7, w)),
                (slice(None), slice(1, 4), slice(w // 3, w // 3 + 1)), (Ellipsis, slice(0, w - 1))]:
        np.testing.assert_array_equal(arr[key], data[key], err_msg=str(key))


@pytest.mark.parametrize("kw", [dict(compression="zlib", tile=(32, 32), predictor=True),
                                dict(compression="zlib", rowsperstrip=5)])
def test_rgb_samples(tmp_path, kw):
    data = _data((70, 90, 3), "uint8")
    path = tmp_path / "rgb.tif"
    tifffile.imwrite(path, data, photometric="rgb", **kw)
    arr = _native(path)
    assert arr is not None and arr.shape == (70, 90, 3)
    for key in _blocks(arr.shape, np.random.default_rng(2)):
        np.testing.assert_array_equal(arr[key], data[key], err_msg=str(key))


def test_zstd_tiles(tmp_path):
    zstandard = pytest.importorskip("zstandard")
    data = _data((64, 96), "uint16")
    tiles = [zstandard.ZstdCompressor().compress(np.ascontiguousarray(data[y:y + 32, x:x + 32]).tobytes())
             for y in (0, 32) for x in (0, 32, 64)]
    path = tmp_path / "z.tif"
    with tifffile.TiffWriter(path) as tw:      # segments written as given, already compressed
        tw.write(iter(tiles), shape=data.shape, dtype=data.dtype, tile=(32, 32), compression=50000)
    arr = _native(path)
    assert arr is not None
    np.testing.assert_array_equal(arr[...], data)
    np.testing.assert_array_equal(arr[10:50, 20:90], data[10:50, 20:90])


def test_ome_tiff_channels_pages_and_pyramid(tmp_path):
    data = _data((2, 5, 96, 80), "uint16")
    path = tmp_path / "p.ome.tif"
    with tifffile.TiffWriter(path) as tw:
        opts = dict(tile=(32, 32), compression="zlib", predictor=True)
        tw.write(data, subifds=1, metadata={"axes": "CZYX"}, **opts)
        tw.write(data[..., ::2, ::2], subfiletype=1, **opts)
    with open_file(str(path)) as f:
        img = f.images[0]
        assert img.axes == "czyx"
        assert [type(lv) for lv in img.levels] == [TiffTiles, TiffTiles]
        np.testing.assert_array_equal(img.levels[0][...], data)
        np.testing.assert_array_equal(img.levels[1][...], data[..., ::2, ::2])
        np.testing.assert_array_equal(img.data[1, 2:4, 10:70, 33:34], data[1, 2:4, 10:70, 33:34])
        assert all(isinstance(h, TiffTiles) for h in f.handles)     # no TiffFile kept open
    assert img.levels[0]._fd is None        # closed with the input


@pytest.mark.parametrize("dtype, kw", [
    ("uint16", dict(byteorder=">", compression="zlib", tile=(16, 16))),
    ("uint16", dict(compression="lzma", tile=(16, 16))),
])
def test_falls_back_where_not_native(tmp_path, dtype, kw):
    """Big-endian files and other codecs stay with tifffile's reader, and read right."""
    data = _data((40, 50), dtype)
    path = tmp_path / "be.tif"
    tifffile.imwrite(path, data, **kw)
    assert _native(path) is None
    with open_file(str(path)) as f:
        assert not isinstance(f.images[0].data, TiffTiles)
        np.testing.assert_array_equal(f.images[0].data[...], data)


# --- hostile files: real files with bytes patched --------------------------------------------


def _tag_values(path, name):
    """(file offset of the tag's values, struct format of one value, values) of page 0."""
    with tifffile.TiffFile(path) as tif:
        tag = tif.pages[0].tags[name]
        size = {3: 2, 4: 4, 16: 8}[int(tag.dtype)]      # SHORT, LONG, LONG8
        fmt = tif.byteorder + {2: "H", 4: "I", 8: "Q"}[size]
        offset = tag.valueoffset
        return offset, fmt, list(tag.value)


def _patch_value(path, name, index, value):
    offset, fmt, _ = _tag_values(path, name)
    with open(path, "r+b") as fh:
        fh.seek(offset + index * struct.calcsize(fmt))
        fh.write(struct.pack(fmt, value))


@pytest.fixture
def tiled(tmp_path):
    data = _data((64, 96), "uint16")
    path = tmp_path / "t.tif"
    tifffile.imwrite(path, data, compression="zlib", tile=(32, 32))
    return path, data


def _read_fails(path, match):
    arr = _native(path)
    assert arr is not None
    with pytest.raises((CodecError, OSError)) as info:
        arr[...]
    msg = str(info.value)
    assert str(path) in msg and "tile" in msg, msg
    assert match in msg, msg
    return info.value


def test_hostile_offset_past_eof(tiled):
    path, _ = tiled
    _patch_value(path, "TileOffsets", 2, path.stat().st_size - 10)
    err = _read_fails(path, "past the end of the file")
    assert "page 0 tile 2" in str(err)


def test_hostile_bytecount_past_eof(tiled):
    path, _ = tiled
    _patch_value(path, "TileByteCounts", 4, 60000)     # the file has ~12 kB
    _read_fails(path, "tile 4")


def test_hostile_bytecount_above_bound(tmp_path):
    # Bytes inside the file (a long description) but more than a 512-byte tile can take.
    data = _data((64, 96), "uint16")
    path = tmp_path / "big.tif"
    tifffile.imwrite(path, data, compression="zlib", tile=(16, 16), description="x" * 20000)
    _patch_value(path, "TileOffsets", 0, 8)
    _patch_value(path, "TileByteCounts", 0, 16000)
    _read_fails(path, "more than a tile")


def test_hostile_corrupt_deflate(tiled):
    path, _ = tiled
    _, _, offsets = _tag_values(path, "TileOffsets")
    with open(path, "r+b") as fh:
        fh.seek(offsets[1] + 2)
        fh.write(b"\xff" * 64)
    _read_fails(path, "tile 1")


def test_hostile_decoded_size_mismatch(tiled):
    path, _ = tiled
    _, _, offsets = _tag_values(path, "TileOffsets")
    short = zlib.compress(b"\0" * 100)
    with open(path, "r+b") as fh:
        fh.seek(offsets[3])
        fh.write(short)
    _patch_value(path, "TileByteCounts", 3, len(short))
    _read_fails(path, "decodes to 100 bytes")


def test_uncompressed_short_tile(tmp_path):
    data = _data((64, 96), "uint16")
    path = tmp_path / "u.tif"
    tifffile.imwrite(path, data, tile=(32, 32))
    _patch_value(path, "TileByteCounts", 0, 100)
    _read_fails(path, "stores 100 bytes")


def test_missing_tile_reads_zeros(tiled):
    """A tile with byte count 0 is not stored: zeros, as tifffile fills it."""
    path, data = tiled
    _patch_value(path, "TileByteCounts", 5, 0)
    expect = tifffile.imread(path)
    np.testing.assert_array_equal(_native(path)[...], expect)
    assert not expect[32:64, 64:96].any()


@pytest.mark.parametrize("kw", [{"compression": "zlib", "tile": (32, 32)}, {"tile": (32, 32)}, {}],
                         ids=["zlib-tiles", "raw-tiles", "raw-strips"])
def test_file_shrinks_after_open(tmp_path, kw):
    """A file cut short between opening and reading (offsets checked at open) is an error
    naming the page and tile, never zeros or stale bytes (the size is checked again when the
    file is opened for the read, so the short-read path behind it is rarely reached)."""
    data = _data((64, 96), "uint16")
    path = tmp_path / "s.tif"
    tifffile.imwrite(path, data, **kw)
    arr = _native(path)
    assert arr is not None
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        first = min(o for o, n in zip(page.dataoffsets, page.databytecounts) if n)
    with open(path, "r+b") as fh:
        fh.truncate(first + 10)
    with pytest.raises((CodecError, OSError)) as info:
        arr[...]
    msg = str(info.value)
    assert "page 0 tile" in msg and ("the file ended" in msg or "past the end" in msg), msg
