"""The C core's one error convention (csrc/status.h) and the mirrors of C enums on
the Python side: what the headers say, the extension compiled, and Python uses agree."""
import importlib
import os
import re
from pathlib import Path

import numpy as np
import pytest

from omezarr_fast import _native
from omezarr_fast.errors import CodecError, UnsafePathError

CSRC = Path(__file__).resolve().parents[2] / "csrc"
downsample = importlib.import_module("omezarr_fast.downsample")  # the module; the package exports a function


def c_enum(header: str, first: str) -> dict[str, int]:
    """name -> value of the explicitly numbered enum in header that holds first."""
    text = (CSRC / header).read_text()
    for body in re.findall(r"enum\s*\w*\s*\{(.*?)\}", text, re.DOTALL):
        pairs = {n: int(v) for n, v in re.findall(r"(OZF_\w+)\s*=\s*(-?\d+)", body)}
        if first in pairs:
            return pairs
    raise AssertionError(f"no enum with {first} in {header}")


def c_define(header: str, name: str) -> int:
    return int(re.search(rf"#define {name} \(?(\d+)", (CSRC / header).read_text()).group(1))


@pytest.mark.skipif(not CSRC.is_dir(), reason="needs the source tree")
def test_status_codes_match_the_header():
    want = c_enum("status.h", "OZF_OK")
    want["OZF_NSTATUS"] = c_define("status.h", "OZF_NSTATUS")
    assert _native.status_codes() == want
    assert sorted(want.values())[:-1] == list(range(want["OZF_NSTATUS"]))  # dense, every code mirrored


@pytest.mark.skipif(not CSRC.is_dir(), reason="needs the source tree")
def test_downsample_mirrors_match_the_header():
    ndim, methods, dtypes = _native.downsample_codes()
    assert ndim == c_define("downsample.h", "OZF_DS_MAX_NDIM") == downsample._MAX_NDIM
    assert methods == downsample._METHOD_CODE
    assert {n.removeprefix("OZF_DS_").lower(): v for n, v in c_enum("downsample.h", "OZF_DS_MEAN").items()} == methods
    assert {np.dtype(k): v for k, v in dtypes.items()} == downsample._DTYPE_CODE
    c = c_enum("downsample.h", "OZF_DT_U8")
    names = {"U": "uint", "I": "int", "F": "float"}
    assert {names[n[7]] + n[8:]: v for n, v in c.items()} == dtypes


def test_each_status_maps_to_one_exception(tmp_path):
    # OZF_EINVAL: the caller's mistake
    a = np.zeros((4, 4), np.uint8)
    o = np.zeros((2, 2), np.uint8)
    with pytest.raises(ValueError, match="downsample") as e:
        _native.downsample_raw(a.ctypes.data, a.shape, a.strides, o.ctypes.data, o.strides, (2, 2), 99, 0)
    assert type(e.value) is ValueError
    # OZF_EIO: the system's error, with its errno, not "corrupt"
    with pytest.raises(OSError) as e:
        _native.read_files([(tmp_path / ("x" * 300), 0, -1)])
    assert e.value.errno == 36 and not isinstance(e.value, ValueError)
    # OZF_EUNSAFE
    os.symlink("/dev/zero", tmp_path / "z")
    with pytest.raises(UnsafePathError):
        _native.open_files(tmp_path, ["z"])
    # OZF_ECORRUPT / OZF_ECHECKSUM / OZF_ESIZE: CodecError
    codec = _native.NativeBytesCodec("crc32c", {})
    with pytest.raises(CodecError, match="checksum"):
        codec.decode_batch([b"abcd\0\0\0\0"], [4])
    with pytest.raises(CodecError, match="shorter"):
        codec.decode_batch([b"ab"], [4])
