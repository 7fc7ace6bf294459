"""Decoded shard indexes of local files, kept between reads of one array.

Each read of a sharded array from a local directory opens the shard files it
touches and needs their indexes (16 bytes per inner chunk).  Reading and
checking an index costs a pread and a parse per shard per read; on a cold disk
it is a random read that waits for the device before any inner chunk can be
asked for.  A loader of random patches touches the same few shards again and
again, so the pipeline keeps the decoded indexes of recently read shards
(bounded, least recently used out first) and reads only what changed.

Validity: an entry is used only for a file whose fstat, taken on the file
descriptor the read has just opened, matches the one the index was read under:
device, inode, size, mtime and ctime (in ns), the identity the native opener
returns (``_native.open_files(..., identity=True)``, :func:`identity` for a
stat result).  A shard replaced by rename (how
zarr stores write) is a new inode; one truncated and rewritten in place gets a
new size or new times (Linux 6.13+ stamps a change after a stat with a
fine-grained ctime, so even a same-size rewrite within one clock tick differs
there; on older kernels such a rewrite within one tick can go unnoticed, as for
every cache keyed on stat).  Only indexes are kept, never file descriptors, so
nothing stays open between reads and a forked child holds plain data.
"""
from __future__ import annotations

import os
from collections.abc import Hashable

import numpy as np

__all__ = ["ShardIndexCache", "identity"]

# Indexes of at most this many bytes are kept per array (a shard of 512 inner
# chunks has an 8 KiB index: 4096 shards).
_MAX_BYTES = 32 << 20
_MAX_ENTRIES = 4096


def identity(st: os.stat_result) -> tuple[int, ...]:
    """A file's identity as the cache compares it: device, inode, size, mtime and ctime in ns."""
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


class ShardIndexCache:
    """A shard file (any hashable name for it, such as (root, key)) -> its decoded
    index pairs, for the file as it was when they were read.

    Lock-free: every step is one dict operation (atomic under the GIL), so
    concurrent reads of one array may at worst read an index twice, and a
    child forked while another thread was inside never inherits a held lock."""

    def __init__(self, index_bytes: int):
        self._max = max(16, min(_MAX_ENTRIES, _MAX_BYTES // max(1, index_bytes)))
        self._entries: dict[Hashable, tuple[tuple[int, ...], np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, path: Hashable, ident: tuple[int, ...]) -> np.ndarray | None:
        """The pairs cached for path if the file (its :func:`identity` now) is
        still the one they were read from."""
        hit = self._entries.pop(path, None)
        if hit is None or hit[0] != ident:
            return None
        self._entries[path] = hit  # most recently used last
        return hit[1]

    def put(self, path: Hashable, ident: tuple[int, ...], pairs: np.ndarray) -> None:
        """Keeps pairs (made read-only: reads share them) for the file of that identity."""
        pairs.flags.writeable = False
        self._entries.pop(path, None)
        self._entries[path] = (ident, pairs)
        while len(self._entries) > self._max:
            try:
                self._entries.pop(next(iter(self._entries)), None)
            except (RuntimeError, StopIteration):  # changed under us by another thread: retry
                continue
