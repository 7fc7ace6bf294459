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
        k.split(data)
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


def reference_shard(k, a, order, start, checksum):
    """The shard built by hand: each inner chunk encoded alone, laid out in order."""
    parts = {}
    for lin in range(4):
        i, j = divmod(lin, 2)
        c = np.ascontiguousarray(a[2 * i:2 * i + 2, 3 * j:3 * j + 3])
        (enc,) = k.inner.write([(full_box((2, 3), c), None)], c, False)
        parts[lin] = None if enc is None else bytes(enc)
    body, index, pos = b"", [(2**64 - 1, 2**64 - 1)] * 4, 16 * 4 + 4 * checksum if start else 0
    for lin in order:
        if parts[lin] is not None:
            index[lin] = (pos, len(parts[lin]))
            body += parts[lin]
            pos += len(parts[lin])
    idx = b"".join(o.to_bytes(8, "little") + n.to_bytes(8, "little") for o, n in index)
    if checksum:
        from omezarr_fast._native import crc32c
        idx += crc32c(idx).to_bytes(4, "little")
    return idx + body if start else body + idx


@pytest.mark.parametrize("start", [False, True])
@pytest.mark.parametrize("order", [[0, 1, 2, 3], [3, 1, 2, 0], [0, 2, 1, 3]])
def test_in_place_assembly_matches_a_hand_built_shard(start, order):
    # New shards are encoded into slots of one buffer and packed forward in place.
    k = kernel(start, True, False)
    k.set_order(order)
    rng = np.random.default_rng(1)
    a = rng.integers(0, 9, (8, 6), dtype="u2")  # two shards, written in one call
    a[2:4, :3] = 0  # an all-fill inner chunk in the first shard
    a[4:, 3:] = rng.integers(0, 60000, (4, 3))  # a poorly compressing one in the second
    old = k.write([(full_box((4, 6), a[:4]), None)], a[:4], False)[0]
    boxes = [((0, 0), (1, 1), (4, 6), 0, a.strides), ((0, 0), (1, 1), (4, 6), 4 * a.strides[0], a.strides)]
    want = [reference_shard(k, a[:4], order, start, True), reference_shard(k, a[4:], order, start, True)]
    assert [bytes(s) for s in k.write([(boxes[0], None), (boxes[1], None)], a, False)] == want
    # A shard with old bytes (assembled from a separate buffer) next to a new one.
    got = k.write([(boxes[0], old), (boxes[1], None)], a, False)
    assert [bytes(s) for s in got] == want
