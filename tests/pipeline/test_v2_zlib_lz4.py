"""numcodecs' Zlib and LZ4 (old OME-Zarr 0.4 data, zarr v2) run natively, byte-compatible.

numcodecs' LZ4 format is a 4-byte little-endian decoded size, then one LZ4 block
(LZ4_compress_fast with the codec's acceleration); its Zlib is one zlib stream (Python's
zlib). We read what zarr + numcodecs write, zarr reads what we write; LZ4 chunks are the
same bytes as numcodecs' when both use the same liblz4 release (checked against the liblz4
we link, through ctypes, and against numcodecs when its bundled release is ours). Zlib bytes
differ (libdeflate, not zlib, compresses): the decoded data is the same.

Hostile chunks (truncated, a wrong or huge size header, zlib bombs) raise a ChunkError naming
the key, and nothing is allocated by what a header declares."""
from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numcodecs
import numpy as np
import pytest
import zarr
from helpers.pipelines import OURS, ZARR
from zarr.codecs.numcodecs import LZ4 as V3LZ4
from zarr.codecs.numcodecs import Zlib as V3Zlib

import omezarr_fast
from omezarr_fast import _native
from omezarr_fast.errors import ChunkError, CodecError

COMPRESSORS = [numcodecs.Zlib(level=lv) for lv in (-1, 0, 1, 6, 9)] + \
    [numcodecs.LZ4(acceleration=a) for a in (-3, 0, 1, 5, 100)]
IDS = [f"{c.codec_id}-{getattr(c, 'level', getattr(c, 'acceleration', None))}" for c in COMPRESSORS]


def run_py(code: str) -> str:
    """code in a fresh interpreter (the package as this process imports it); its stdout."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, timeout=300, env=dict(os.environ), check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def data_for(dtype, shape=(9, 17, 23)):
    rng = np.random.default_rng(1)
    smooth = np.cumsum(rng.integers(-3, 4, shape), axis=-1) + 500  # compressible, not trivial
    return smooth.astype(dtype)


def create(path, comp, dtype, order="C", ours=True, fill_value=0):
    with zarr.config.set(OURS if ours else ZARR):
        return zarr.create_array(str(path), shape=(9, 17, 23), chunks=(4, 8, 5), dtype=dtype,
                                 zarr_format=2, compressors=comp, order=order, fill_value=fill_value)


def reopen(path, ours=True):
    with zarr.config.set(OURS if ours else ZARR):
        return zarr.open_array(str(path), mode="r")


def chunk_files(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if not p.name.startswith(".")}


@pytest.mark.parametrize("comp", COMPRESSORS, ids=IDS)
@pytest.mark.parametrize("dtype,order", [("<u2", "C"), (">i4", "C"), ("<f8", "F"), ("|u1", "C")])
def test_interop_both_ways(tmp_path, comp, dtype, order):
    data = data_for(dtype)
    ours = create(tmp_path / "ours", comp, dtype, order)
    ref = create(tmp_path / "ref", comp, dtype, order, ours=False)
    assert omezarr_fast.pipeline_info(ours) == "native"
    ours[:] = data
    ref[:] = data
    # we read what zarr + numcodecs wrote, zarr + numcodecs read what we wrote
    np.testing.assert_array_equal(reopen(tmp_path / "ref")[:], data)
    np.testing.assert_array_equal(reopen(tmp_path / "ours", ours=False)[:], data)
    np.testing.assert_array_equal(reopen(tmp_path / "ref")[2:7, 1::3, 4], data[2:7, 1::3, 4])
    # chunk by chunk, numcodecs itself decodes our bytes
    ours_files, ref_files = chunk_files(tmp_path / "ours"), chunk_files(tmp_path / "ref")
    assert ours_files.keys() == ref_files.keys() and len(ours_files) == 3 * 3 * 5
    for key, blob in ours_files.items():
        assert comp.decode(blob) == comp.decode(ref_files[key])
    if comp.codec_id == "lz4" and numcodecs.lz4.__version__ == _native.lz4_version():
        assert ours_files == ref_files  # same liblz4 release: the same bytes
    if comp.codec_id == "zlib":
        assert all(b[0] == 0x78 for b in ours_files.values())  # a zlib stream (RFC 1950)


def _liblz4():
    name = ctypes.util.find_library("lz4")
    if name is None:
        pytest.skip("liblz4 not found by ctypes")
    lib = ctypes.CDLL(name)
    lib.LZ4_versionString.restype = ctypes.c_char_p
    if lib.LZ4_versionString().decode() != _native.lz4_version():
        pytest.skip("ctypes finds another liblz4 than the one the extension links")
    return lib


def numcodecs_lz4_format(lib, data: bytes, acceleration: int) -> bytes:
    """numcodecs' LZ4 framing around liblz4's own block, for the liblz4 we link."""
    cap = len(data) + len(data) // 255 + 16
    out = ctypes.create_string_buffer(cap)
    n = lib.LZ4_compress_fast(data, out, len(data), cap, acceleration if acceleration > 0 else 1)
    assert n > 0
    return struct.pack("<I", len(data)) + out.raw[:n]


@pytest.mark.parametrize("acceleration", [-3, 0, 1, 2, 9, 1000])
def test_lz4_bytes_are_numcodecs_format_with_our_liblz4(acceleration):
    lib = _liblz4()
    codec = _native.NativeBytesCodec("numcodecs.lz4", {"acceleration": acceleration})
    for data in (data_for("<u2").tobytes(), bytes(1000), np.random.default_rng(2).bytes(4096),
                 b"x"):
        ours = bytes(codec.encode_batch([data])[0])
        assert ours == numcodecs_lz4_format(lib, data, acceleration)
        assert numcodecs.LZ4(acceleration).decode(ours) == data


@pytest.mark.parametrize("codec", [V3Zlib(level=4), V3LZ4(acceleration=3)], ids=["zlib", "lz4"])
def test_v3_numcodecs_codecs_run_natively(tmp_path, codec):
    data = data_for("<u2")
    with zarr.config.set(OURS):
        a = zarr.create_array(str(tmp_path / "a"), shape=data.shape, chunks=(4, 8, 5), dtype="<u2",
                              compressors=codec)
        assert omezarr_fast.pipeline_info(a) == "native"
        a[:] = data
    np.testing.assert_array_equal(reopen(tmp_path / "a", ours=False)[:], data)


def test_v2_map():
    from omezarr_fast.pipeline.plan import v2_compressor_json
    dt = np.dtype("u2")
    assert v2_compressor_json({"id": "zlib", "level": 9}, dt) == \
        {"name": "numcodecs.zlib", "configuration": {"level": 9}}
    assert v2_compressor_json({"id": "zlib"}, dt) == \
        {"name": "numcodecs.zlib", "configuration": {"level": 1}}  # numcodecs' default
    assert v2_compressor_json({"id": "lz4", "acceleration": 3}, dt) == \
        {"name": "numcodecs.lz4", "configuration": {"acceleration": 3}}
    for bad in ({"id": "zlib", "level": "x"}, {"id": "lz4", "acceleration": 1.5},
                {"id": "lz4", "acceleration": 1, "other": 2}):
        assert isinstance(v2_compressor_json(bad, dt), str)
    with pytest.raises(ValueError, match="level"):  # out of range: the kernel says so
        _native.NativeBytesCodec("numcodecs.zlib", {"level": 10})


def test_a_bad_v2_config_falls_back_to_zarr(tmp_path):
    data = data_for("<u2")
    create(tmp_path / "a", numcodecs.Zlib(level=1), "<u2")[:] = data
    meta = json.loads((tmp_path / "a" / ".zarray").read_text())
    meta["compressor"]["level"] = True  # numcodecs accepts it (zlib.compress(buf, True))
    (tmp_path / "a" / ".zarray").write_text(json.dumps(meta))
    a = reopen(tmp_path / "a")
    assert omezarr_fast.pipeline_info(a).startswith("fallback:")
    np.testing.assert_array_equal(a[:], data)


def test_upgrade_turns_them_into_zstd(tmp_path):
    """upgrade_path keeps zarr v3's own codecs only; numcodecs' zlib/lz4 become zstd-3."""
    data = data_for("<u2", (2, 16, 16))
    src = omezarr_fast.write_image(data, tmp_path / "old.zarr", axes="cyx", version="0.4",
                                   levels=1, progress=False)
    for path in src.glob("0/.zarray"):
        meta = json.loads(path.read_text())
        meta["compressor"] = {"id": "lz4", "acceleration": 1}
        path.write_text(json.dumps(meta))
        with zarr.config.set(ZARR):
            zarr.open_array(str(path.parent), mode="r+")[:] = data  # rewrite the chunks as lz4
        chunk = numcodecs.LZ4(1).decode((path.parent / "0" / "0" / "0").read_bytes())
        assert len(chunk) == int(np.prod(meta["chunks"])) * 2  # an lz4 chunk now
    np.testing.assert_array_equal(omezarr_fast.open_image(src).level(0)[:], data)
    new = omezarr_fast.upgrade_path(src, tmp_path / "new.zarr", progress=False)
    codecs = json.loads((new / "0" / "zarr.json").read_text())["codecs"]
    assert [c["name"] for c in codecs] == ["bytes", "zstd"]
    np.testing.assert_array_equal(omezarr_fast.open_image(new).level(0)[:], data)


# -- hostile chunks ----------------------------------------------------------------------------

def _hostile_lz4(good: bytes, n: int) -> dict[str, bytes]:
    block = good[4:]
    return {
        "empty": b"",
        "short header": good[:3],
        "header only": good[:4],
        "truncated block": good[:-5],
        "trailing bytes": good + b"\0\0\0",
        "size header too small": struct.pack("<I", n - 1) + block,
        "size header too large": struct.pack("<I", n + 1) + block,
        "huge size header": struct.pack("<I", 0xFFFFFFF0) + block,
        "zero size header": struct.pack("<I", 0) + block,
        "garbage block": struct.pack("<I", n) + bytes(range(256)) * 4,
    }


def _hostile_zlib(good: bytes, n: int) -> dict[str, bytes]:
    return {
        "empty": b"",
        "truncated": good[:-5],
        "bad adler32": good[:-1] + bytes([good[-1] ^ 1]),
        "bad header": b"\x78\x00" + good[2:],
        "bomb": zlib.compress(bytes(n * 64), 9),  # decodes to far more than the chunk
        "short": zlib.compress(bytes(n - 1)),
        "raw deflate": zlib.compress(bytes(n))[2:-4],
    }


@pytest.mark.parametrize("comp", [numcodecs.LZ4(1), numcodecs.Zlib(1)], ids=["lz4", "zlib"])
def test_hostile_chunks_raise_chunk_error_naming_the_key(tmp_path, comp):
    data = data_for("<u2")
    a = create(tmp_path / "a", comp, "<u2")
    a[:] = data
    key = "1.1.2"
    f = tmp_path / "a" / key
    good = f.read_bytes()
    n = 4 * 8 * 5 * 2
    cases = (_hostile_lz4 if comp.codec_id == "lz4" else _hostile_zlib)(good, n)
    for name, blob in cases.items():
        f.write_bytes(blob)
        with pytest.raises(ChunkError) as info:
            reopen(tmp_path / "a")[:]
        assert info.value.key == key and key in str(info.value), name
        assert comp.codec_id in str(info.value), (name, str(info.value))
    f.write_bytes(good)
    np.testing.assert_array_equal(reopen(tmp_path / "a")[:], data)


def test_lz4_size_header_is_checked_against_the_limit_not_allocated():
    codec = _native.NativeBytesCodec("numcodecs.lz4", {"acceleration": 1})
    block = numcodecs.LZ4(1).encode(bytes(100))[4:]
    with pytest.raises(CodecError, match="header declares 4294967280 bytes, expected at most 100"):
        codec.decode_batch([struct.pack("<I", 0xFFFFFFF0) + block], [100])
    with pytest.raises(CodecError, match="decoded 100 bytes, the header declares 99|corrupt"):
        codec.decode_batch([struct.pack("<I", 99) + block], [100])


def test_huge_declared_sizes_allocate_nothing(tmp_path):
    """With the address space capped a little above what the process uses, a header declaring
    2 GiB (lz4) or a bomb (zlib) is an error, not a MemoryError: nothing is sized by it.
    (zarr's own path, numcodecs, fails both with MemoryError under the same cap.)"""
    for comp in ("numcodecs.LZ4(1)", "numcodecs.Zlib(1)"):
        out = run_py(f"""
            import resource, struct, zlib
            import numpy as np, numcodecs, zarr
            from omezarr_fast.errors import ChunkError
            path = {str(tmp_path / "x")!r} + {comp!r}[10:13]
            with zarr.config.set({{"codec_pipeline.path": "omezarr_fast.CodecPipeline"}}):
                a = zarr.create_array(path, shape=(2048, 2048), chunks=(1024, 1024), dtype="u1",
                                      zarr_format=2, compressors={comp})
                a[:] = 1
                a[:]  # the pool's threads and their scratch exist before the cap
                comp = {comp}
                if comp.codec_id == "lz4":
                    # ~2 GiB: numcodecs (zarr's path) allocates that and fails with MemoryError
                    bad = struct.pack("<I", 0x7E000000) + comp.encode(bytes(1 << 20))[4:]
                else:
                    bad = zlib.compress(bytes(1 << 30), 9)  # 1 GiB of zeros in ~1 MiB
                    assert len(bad) < 1100 << 10  # small enough to reach the decoder
                open(path + "/0.0", "wb").write(bad)
                vm = int([l for l in open("/proc/self/status") if l.startswith("VmSize")][0].split()[1])
                cap = (vm << 10) + (192 << 20)
                resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
                try:
                    zarr.open_array(path, mode="r")[:]
                except ChunkError as e:
                    print("ChunkError", e.key)
        """)
        assert out.split() == ["ChunkError", "0.0"], comp
