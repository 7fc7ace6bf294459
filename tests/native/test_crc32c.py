"""crc32c: the hardware and software paths against google_crc32c."""
import google_crc32c
import numpy as np
import pytest

from omezarr_fast import _native
from omezarr_fast.native import crc32c, crc32c_hardware

# Lengths around the three-stream block sizes (3 x 256, 3 x 8192) and odd tails.
LENGTHS = [0, 1, 3, 7, 8, 9, 15, 255, 767, 768, 769, 1000, 3 * 8192 - 1, 3 * 8192, 3 * 8192 + 13,
           100_000, 1 << 20]


def test_check_value():
    assert crc32c(b"123456789") == 0xE3069283
    assert _native.crc32c_software(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0


@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("offset", [0, 1, 5])
def test_matches_google_crc32c(n, offset):
    buf = np.random.default_rng(n).integers(0, 256, n + offset, dtype=np.uint8)[offset:]
    want = google_crc32c.value(buf.tobytes())
    assert crc32c(buf) == want
    assert _native.crc32c_software(buf) == want


def test_continues_from_value():
    data = np.random.default_rng(1).integers(0, 256, 50_000, dtype=np.uint8)
    whole = crc32c(data)
    for cut in (0, 1, 777, 25_000, 49_999):
        assert crc32c(data[cut:], crc32c(data[:cut])) == whole


def test_accepts_buffers():
    a = np.arange(1000, dtype=np.uint16)
    want = google_crc32c.value(a.tobytes())
    assert crc32c(a) == crc32c(a.tobytes()) == crc32c(bytearray(a.tobytes())) == crc32c(memoryview(a)) == want


def test_hardware_flag_is_bool():
    assert isinstance(crc32c_hardware(), bool)
    with open("/proc/cpuinfo") as f:
        assert crc32c_hardware() == ("sse4_2" in f.read())
