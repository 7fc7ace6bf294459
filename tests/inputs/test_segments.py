"""The threaded tifffile reader (inputs/segments.py) for tiles and strips the native
reader does not decode, against tifffile's own whole-file decode."""
from __future__ import annotations

import numpy as np
import pytest

from omezarr_fast.inputs import InputError, open_file
from omezarr_fast.inputs.segments import TiffSegments

tifffile = pytest.importorskip("tifffile")


def _data(shape, dtype):
    rng = np.random.default_rng(3)
    return (np.cumsum(rng.integers(-3, 4, shape), axis=-1) + 1000).astype(dtype)


CASES = {
    "big-endian zlib tiles, predictor": ((3, 70, 90), "uint16",
                                         dict(byteorder=">", compression="zlib", tile=(32, 48), predictor=True)),
    "lzma strips": ((3, 70, 90), "int32", dict(compression="lzma", rowsperstrip=9)),
    "big-endian RGB zlib strips": ((50, 60, 3), "uint16",
                                   dict(byteorder=">", compression="zlib", rowsperstrip=8, photometric="rgb")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_tifffile(tmp_path, case):
    shape, dtype, kw = CASES[case]
    data = _data(shape, dtype)
    path = tmp_path / "s.tif"
    tifffile.imwrite(path, data, **({"photometric": "minisblack"} | kw))
    with open_file(str(path)) as f:
        arr = f.images[0].data
        assert isinstance(arr, TiffSegments), type(arr)
        expect = tifffile.imread(path)
        np.testing.assert_array_equal(expect, data)
        rng = np.random.default_rng(4)
        keys = [(Ellipsis,), (1,), (slice(None), slice(5, 60, 3)), (slice(1, 3), slice(31, 33), slice(40, 50))]
        for _ in range(8):
            keys.append(tuple(slice(a, int(rng.integers(a + 1, n + 1)))
                              for n in shape for a in [int(rng.integers(0, n))]))
        for key in keys:
            np.testing.assert_array_equal(arr[key], expect[key], err_msg=str(key))
    assert arr._pool is None       # the thread pool closed with the input


def test_corrupt_tile_names_file_page_and_tile(tmp_path):
    data = _data((2, 64, 64), "uint16")
    path = tmp_path / "c.tif"
    tifffile.imwrite(path, data, byteorder=">", compression="zlib", tile=(32, 32), photometric="minisblack")
    with tifffile.TiffFile(path) as tif:
        off = tif.pages[1].dataoffsets[2]
    with open(path, "r+b") as fh:
        fh.seek(off)
        fh.write(b"\xff" * 16)
    with open_file(str(path)) as f:
        with pytest.raises(InputError, match=r"c\.tif: page 1 tile 2: cannot decode"):
            f.images[0].data[...]
