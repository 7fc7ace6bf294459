"""The native shard kernels on their own: index round trip, corrupt input."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omezarr_fast import _native
from omezarr_fast.errors import CodecError

ZSTD = [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "zstd", "configuration": {"level": 1}}]


def kernel(index_at_start=False, checksum=True, big=False):
    inner = _native.ChunkKernel(ZSTD, (2, 3), np.dtype("u2"), b"\0\0")
    return _native.ShardKernel(inner, (4, 6), index_at_start, checksum, big)


def full_box(shape, arr):
    return (0,) * len(shape), (1,) * len(shape), tuple(shape), 0, tuple(arr.strides)


@pytest.mark.parametrize("start", [False, True])
@pytest.mark.parametrize("big", [False, True])
@pytest.mark.parametrize("checksum", [False, True])
def test_shard_round_trip(start, big, checksum):
    k = kernel(start, checksum, big)
    a = np.arange(24, dtype="u2").reshape(4, 6)
    a[2:, 3:] = 0  # one all-fill inner chunk: stored as the empty marker
    (shard,) = k.write([(full_box((4, 6), a), None)], a, False)
    pairs = k.split(shard)
    assert pairs.shape == (4, 2)
    assert (pairs[3] == 2**64 - 1).all() and (pairs[:3] != 2**64 - 1).all()
    out = np.full((4, 6), 99, "u2")
    k.read([(full_box((4, 6), out), shard)], out)
    np.testing.assert_array_equal(out, a)
    # A stepped box into an F-ordered output.
    out = np.zeros((2, 3), "u2", order="F")
    k.read([(((1, 0), (2, 2), (2, 3), 0, out.strides), shard)], out)
    np.testing.assert_array_equal(out, a[1::2, ::2])


def test_box_outside_array_is_rejected():
    k = kernel()
    out = np.zeros((2, 2), "u2")
    with pytest.raises(ValueError, match="outside"):
        k.read([(((0, 0), (1, 1), (4, 6), 0, out.strides), None)], out)
    with pytest.raises(ValueError, match="past the chunk"):
        k.read([(((3, 0), (1, 1), (2, 1), 0, out.strides), None)], out)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=200), st.booleans())
def test_split_random_bytes_never_crashes(data, start):
    k = kernel(start)
    try:
        pairs = k.split(data)
    except CodecError:
        return
    out = np.zeros((4, 6), "u2")
    try:
        k.read([(full_box((4, 6), out), data)], out)
    except CodecError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 300), st.integers(0, 300)), min_size=4, max_size=4))
def test_decode_index_bounds(entries):
    k = kernel(checksum=False)
    idx = np.array(entries, dtype="<u8").tobytes()
    try:
        pairs = k.decode_index(idx, 300)
    except CodecError:
        spans = sorted(entries)
        bad = any(o + n > 300 for o, n in entries) or any(
            a[1] and b[1] and a[0] + a[1] > b[0] for a, b in zip(spans, spans[1:])) or any(
            o + n > 300 - k.index_size and n for o, n in entries)
        assert bad
        return
    for o, n in pairs.tolist():
        assert o + n <= 300
