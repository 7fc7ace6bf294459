"""Hypothesis strategies for hostile chunk and shard bytes, shared by the
decoder fuzz tests (test_codecs_fuzz.py) and the differential fuzz tests
against zarr's own pipeline (test_fuzz_differential.py).

`fuzz_settings` bounds every fuzz test: a fixed number of examples, derandomized
and with no example database, so CI runs the same cases every time.  Set
OMEZARR_FAST_FUZZ_EXAMPLES=N to run N examples per test instead, drawn at random
(a failure prints the seed and a `@reproduce_failure` line to replay it).
"""
from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from omezarr_fast.native import crc32c

EMPTY = 0xFFFFFFFFFFFFFFFF


def fuzz_settings(default: int) -> settings:
    """`default` examples, the same ones every run, unless
    OMEZARR_FAST_FUZZ_EXAMPLES asks for a longer random run."""
    long_run = os.environ.get("OMEZARR_FAST_FUZZ_EXAMPLES")
    return settings(max_examples=int(long_run) if long_run else default, deadline=None,
                    derandomize=not long_run, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


@st.composite
def mutated(draw, base: bytes) -> bytes:
    """base with one to four flips, sets, truncations, insertions or deletions."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set", "truncate", "insert", "delete"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[i] = draw(st.sampled_from([0, 0xFF, 0x7F, 0x80, draw(st.integers(0, 255))]))
        elif op == "truncate":
            del data[i:]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[i:i + draw(st.integers(1, 16))]
    return bytes(data)


def hostile_bytes(valid: bytes) -> st.SearchStrategy[bytes]:
    """What a stranger's chunk file may hold instead of `valid`: nothing, a
    prefix, `valid` with bytes after it (a few, or megabytes), random bytes,
    or `valid` mutated.  Mutations get the most weight: they reach deepest."""
    return st.one_of(
        st.just(b""),
        st.integers(0, max(len(valid) - 1, 0)).map(lambda n: valid[:n]),
        st.tuples(st.sampled_from([1, 7, 4096, 1 << 20]), st.sampled_from([b"\0", b"\xff", b"\x5a"]))
          .map(lambda t: valid + t[1] * t[0]),
        st.binary(max_size=2 * len(valid) + 16),
        mutated(valid),
        mutated(valid),
        mutated(valid),
    )


class ShardLayout:
    """Where the index of a sharding_indexed shard sits and how it is encoded."""

    def __init__(self, n_inner: int, at_start: bool, checksum: bool, big: bool):
        self.n_inner, self.at_start, self.checksum, self.big = n_inner, at_start, checksum, big
        self.index_size = 16 * n_inner + (4 if checksum else 0)

    def index_at(self, shard: bytes) -> int:
        return 0 if self.at_start else len(shard) - self.index_size

    def pairs(self, shard: bytes) -> np.ndarray:
        """The index as n x 2 (offset, length) uint64."""
        at = self.index_at(shard)
        raw = shard[at:at + 16 * self.n_inner]
        return np.frombuffer(raw, ">u8" if self.big else "<u8").reshape(self.n_inner, 2).astype(np.uint64)

    def encode_index(self, pairs: np.ndarray, fix_crc: bool = True, old_crc: bytes = b"") -> bytes:
        body = pairs.astype(">u8" if self.big else "<u8").tobytes()
        if not self.checksum:
            return body
        return body + (crc32c(body).to_bytes(4, "little") if fix_crc else old_crc)

    def with_index(self, shard: bytes, pairs: np.ndarray, fix_crc: bool = True) -> bytes:
        at = self.index_at(shard)
        old_crc = shard[at + 16 * self.n_inner:at + self.index_size]
        index = self.encode_index(pairs, fix_crc, old_crc)
        return shard[:at] + index + shard[at + self.index_size:]


@st.composite
def index_edits(draw, layout: ShardLayout, shard: bytes) -> bytes:
    """shard with one to three index entries rewritten, the index checksum
    recomputed (mostly) so the edit reaches the index checks and the reader:
    entries pointing at another entry's bytes or overlapping them, zero
    lengths, ranges past the end or into the index, half-empty or empty
    markers, swapped entries, and random numbers."""
    pairs, at = layout.pairs(shard).copy(), layout.index_at(shard)
    n, size = layout.n_inner, len(shard)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, n - 1))
        j = draw(st.integers(0, n - 1))
        off, ln = int(pairs[j, 0]), int(pairs[j, 1])
        op = draw(st.sampled_from(["same", "overlap", "zero", "past_end", "into_index", "half_empty",
                                   "empty", "swap", "huge", "random"]))
        if op == "same":
            pairs[i] = pairs[j]
        elif op == "overlap" and off != EMPTY:
            shift = draw(st.integers(-(ln // 2), ln // 2))
            pairs[i] = (max(0, off + shift), ln)
        elif op == "zero":
            pairs[i] = (draw(st.sampled_from([0, size, off if off != EMPTY else 0])), 0)
        elif op == "past_end":
            pairs[i] = (draw(st.integers(max(0, size - 8), size + 8)), draw(st.integers(1, 64)))
        elif op == "into_index":
            pairs[i] = (at + draw(st.integers(0, max(layout.index_size - 1, 0))), draw(st.integers(1, 32)))
        elif op == "half_empty":
            pairs[i] = draw(st.sampled_from([(EMPTY, 8), (0, EMPTY)]))
        elif op == "empty":
            pairs[i] = (EMPTY, EMPTY)
        elif op == "swap":
            pairs[[i, j]] = pairs[[j, i]]
        elif op == "huge":
            pairs[i] = draw(st.sampled_from([(1, EMPTY - 1), (EMPTY - 1, 2), (1 << 63, 1 << 63), (0, 1 << 40)]))
        else:
            pairs[i] = (draw(st.integers(0, size + 16)), draw(st.integers(0, size + 16)))
    return layout.with_index(shard, pairs, fix_crc=draw(st.booleans()) or draw(st.booleans()))


def hostile_shard(layout: ShardLayout, valid: bytes) -> st.SearchStrategy[bytes]:
    """hostile_bytes of a shard, plus index edits that keep its checksum right."""
    return st.one_of(hostile_bytes(valid), index_edits(layout, valid), index_edits(layout, valid))
