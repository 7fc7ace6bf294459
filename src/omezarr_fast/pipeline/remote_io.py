"""Reads from stores that are not local files (object stores, fsspec, memory):
boxes grouped by the chunk or shard they touch, fetched on the event loop and
decoded group by group as their bytes arrive.

:func:`read` takes *groups*, one per chunk or shard key, each with the native
boxes (into one output array) that read it.  Per group:

- an unsharded chunk is one GET;
- a shard whose boxes touch at least half its inner chunks (or that a caller
  marks complete) is fetched whole: one GET, or, with
  ``omezarr_fast.remote.part_bytes`` > 0, its index and then its data as
  concurrent range requests of about that size;
- any other shard: its index once, then the inner chunks its boxes touch as
  ranges coalesced with zarr's ``sharding_coalesce_max_gap_bytes`` /
  ``sharding_coalesce_max_bytes``.

Every request goes through :func:`omezarr_fast.pipeline._retry.call` (retries,
StoreError naming the key), at most zarr's ``async.concurrency`` in flight for
the whole read.  A group whose bytes are in is queued for decoding; the
decoder takes everything queued at once and decodes it in one native call
(``shared``: a chunk that many boxes touch decodes once), in a worker thread
while the loop keeps the other requests going, or right on the loop when the
read is small (no thread hop at all).  At most ``2 x async.concurrency``
groups hold fetched bytes at a time, so memory stays bounded on big reads.

Shard indexes on obstore (zarr's ObjectStore) are cached between reads
(``omezarr_fast.remote.index_cache_bytes``, default 16 MiB, 0: off), with the
object's ETag: every range read through a cached index carries ``If-Match``,
so a shard rewritten since is refused by the store (412), its entry dropped
and the shard read again from a fresh index.  No stale index is ever used,
and a patch of a shard seen before costs its data ranges only.

Why parts are off by default: on SeaweedFS on 127.0.0.1 (benchmarks/
compare_s3.py) one GET of a 22 MB shard was as fast as 2 to 22 concurrent
ranges and cost one request instead of several plus an index request; object
stores that cap the bandwidth of one response (S3 itself, about 90 MB/s per
stream) gain from parts, so the knob is there.
"""
from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import zarr
from zarr.abc.store import RangeByteRequest, SuffixByteRequest
from zarr.core.buffer import default_buffer_prototype
from zarr.storage import ObjectStore

from omezarr_fast.errors import ChunkError, CodecError, StoreError
from omezarr_fast.pipeline import _retry
from omezarr_fast.pipeline.chunk_errors import chunk_error
from omezarr_fast.pipeline.store_io import EMPTY, ShardParts, coalesce

__all__ = ["INDEX_CACHE", "Group", "IndexCache", "part_bytes", "read"]


@dataclass
class Group:
    """One chunk or shard key (``sp``: its StorePath) and the native boxes
    (into the output array) that read it; ``complete``: the boxes cover it."""

    sp: Any
    boxes: list = field(default_factory=list)
    complete: bool = False


def part_bytes() -> int:
    """``omezarr_fast.remote.part_bytes`` from zarr's config (0: one GET per whole shard)."""
    v = zarr.config.get("omezarr_fast.remote.part_bytes", 0)
    try:
        n = int(v or 0)
    except (TypeError, ValueError):
        raise ValueError(f"zarr config omezarr_fast.remote.part_bytes: expected bytes, got {v!r}") from None
    if n < 0:
        raise ValueError(f"zarr config omezarr_fast.remote.part_bytes: must be >= 0, got {n}")
    return n


def _cache_budget() -> int:
    v = zarr.config.get("omezarr_fast.remote.index_cache_bytes", 16 << 20)
    try:
        n = int(v if v is not None else 0)
    except (TypeError, ValueError):
        raise ValueError(f"zarr config omezarr_fast.remote.index_cache_bytes: expected bytes, got {v!r}") from None
    return max(0, n)


class IndexCache:
    """Decoded shard indexes of obstore objects with their ETags, least
    recently used dropped beyond the byte budget.  Keyed by the obstore store
    object (held, so its id is not reused) and the key."""

    def __init__(self):
        self._d: OrderedDict[tuple[int, str], tuple[Any, str, np.ndarray]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, store, key: str) -> tuple[str, np.ndarray] | None:
        with self._lock:
            e = self._d.get((id(store), key))
            if e is None or e[0] is not store:
                return None
            self._d.move_to_end((id(store), key))
            return e[1], e[2]

    def put(self, store, key: str, etag: str, pairs: np.ndarray, budget: int) -> None:
        with self._lock:
            self._drop((id(store), key))
            if pairs.nbytes > budget:
                return
            self._d[(id(store), key)] = (store, etag, pairs)
            self._bytes += pairs.nbytes
            while self._bytes > budget:
                self._drop(next(iter(self._d)))

    def drop(self, store, key: str) -> None:
        with self._lock:
            self._drop((id(store), key))

    def clear(self) -> None:
        with self._lock:
            self._d.clear()
            self._bytes = 0

    def _drop(self, k) -> None:
        e = self._d.pop(k, None)
        if e is not None:
            self._bytes -= e[2].nbytes


INDEX_CACHE = IndexCache()


def _obstore_of(store):
    """The obstore store under zarr's ObjectStore, else None."""
    return store.store if isinstance(store, ObjectStore) else None


class _Stale(Exception):
    """A range read through a cached index found the object changed."""


class _Fetcher:
    """GETs with retries, at most async.concurrency in flight."""

    def __init__(self):
        self.sem = asyncio.Semaphore(_retry.concurrency())
        self.cfg = _retry.settings()
        self.proto = default_buffer_prototype()

    async def get(self, sp, byte_range=None) -> np.ndarray | None:
        async with self.sem:
            buf = await _retry.call(partial(sp.store.get, sp.path, self.proto, byte_range), sp.path, "GET", self.cfg)
        return None if buf is None else buf.as_numpy_array()

    async def get_obstore(self, store, key: str, rng, etag: str | None = None):
        """(bytes, ETag, object size) of a range of an obstore object, or None
        if it is missing; _Stale if ``etag`` no longer matches."""
        import obstore
        from obstore.exceptions import NotFoundError, PreconditionError

        opts: dict[str, Any] = {"range": rng}
        if etag is not None:
            opts["if_match"] = etag

        async def one():
            r = await obstore.get_async(store, key, options=opts)
            return r, await r.bytes_async()

        async with self.sem:
            try:
                r, b = await _retry.call(one, key, "GET", self.cfg)
            except PreconditionError:
                raise _Stale(key) from None
            except (NotFoundError, FileNotFoundError):
                if etag is not None:  # deleted since its index was cached
                    raise _Stale(key) from None
                return None
        return np.frombuffer(b, np.uint8), r.meta.get("e_tag"), r.meta.get("size")


async def _shard_source(plan, g: Group, out: np.ndarray, fetch: _Fetcher, gap: int, maxlen: int, part: int,
                        again: bool = True):
    """The source of one shard: None (missing), the whole shard, or ShardParts."""
    sk = plan.shard
    sp = g.sp
    key = sp.path
    touched = None
    whole = g.complete
    if not whole:
        touched = sorted({t for b in g.boxes for t in sk.touched(b, out)})
        whole = 2 * len(touched) >= sk.n_inner
    if whole and not part:
        return await fetch.get(sp)
    ob = _obstore_of(sp.store)
    budget = _cache_budget() if ob is not None else 0
    if budget:
        hit = INDEX_CACHE.get(ob, key)
        if hit is not None:
            try:
                return await _ranges(sk, key, hit[1], touched, whole, gap, maxlen, part, fetch, sp, ob, hit[0])
            except _Stale:
                INDEX_CACHE.drop(ob, key)
    etag = None
    if budget:
        got = await fetch.get_obstore(ob, key, (0, sk.index_size) if sk.index_at_start
                                      else {"suffix": sk.index_size})
        if got is None:
            return None
        idx, etag, size = got
    else:
        index_req = RangeByteRequest(0, sk.index_size) if sk.index_at_start else SuffixByteRequest(sk.index_size)
        idx = await fetch.get(sp, index_req)
        size = None
        if idx is None:
            return None
    if len(idx) != sk.index_size:
        raise ChunkError(f"chunk {key!r}: shard shorter than its index", key)
    try:
        pairs = sk.decode_index(idx, size if size and size >= sk.index_size else None)
    except CodecError as e:
        raise ChunkError(f"chunk {key!r}: {e}", key) from None
    if etag:
        INDEX_CACHE.put(ob, key, etag, pairs, budget)
    try:
        return await _ranges(sk, key, pairs, touched, whole, gap, maxlen, part, fetch, sp, ob if etag else None, etag)
    except _Stale:  # rewritten between its index and its ranges: read it again, once
        INDEX_CACHE.drop(ob, key)
        if not again:
            raise ChunkError(f"chunk {key!r}: the shard changed while it was read, twice", key) from None
        return await _shard_source(plan, g, out, fetch, gap, maxlen, part, again=False)


async def _ranges(sk, key, pairs, touched, whole, gap, maxlen, part, fetch, sp, ob, etag):
    """ShardParts of the inner chunks wanted, read by coalesced ranges (through
    obstore with If-Match when ``etag`` is given)."""
    if whole:
        # Every stored inner chunk, in parts of about `part` bytes.
        want = sorted((int(o), int(n), t) for t, (o, n) in enumerate(pairs.tolist()) if o != EMPTY and n)
        runs = coalesce(want, part, part)
    else:
        want = sorted((int(pairs[t, 0]), int(pairs[t, 1]), t) for t in touched if pairs[t, 0] != EMPTY)
        runs = coalesce(want, gap, maxlen)
    try:
        if etag is not None:
            got = await asyncio.gather(*[fetch.get_obstore(ob, key, (r[0], r[1]), etag) for r in runs])
            bufs = [None if x is None else x[0] for x in got]
        else:
            bufs = await asyncio.gather(*[fetch.get(sp, RangeByteRequest(r[0], r[1])) for r in runs])
    except (StoreError, _Stale):
        raise
    except Exception as e:
        # The index was read, its ranges are refused (e.g. 416: they reach
        # past the end of the object): a hostile or truncated shard.
        msg = (str(e).strip().splitlines() or [""])[0][:300]
        raise ChunkError(f"chunk {key!r}: reading the ranges its shard index names: {type(e).__name__}: {msg}",
                         key) from e
    parts: dict[int, Any] = {}
    for r, buf in zip(runs, bufs):
        if buf is None or len(buf) != r[1] - r[0]:
            raise ChunkError(f"chunk {key!r}: shard truncated (range {r[0]}..{r[1]})", key)
        for off, n, t in r[2]:
            parts[t] = buf[off - r[0]:off - r[0] + n]
    return ShardParts(pairs, parts)


def _decode(plan, ready: list, out: np.ndarray) -> None:
    items, keys = [], []
    for g, src in ready:
        for b in g.boxes:
            items.append((b, src))
            keys.append(g.sp.path)
    k = plan.shard or plan.kernel
    try:
        # Boxes of one group share its source object: C decodes each chunk once.
        k.read(items, out, shared=True)
    except (CodecError, OSError) as e:
        raise chunk_error(e, keys) from None


async def read(plan, groups: list[Group], out: np.ndarray, config, inline: bool = False) -> list[bool]:
    """Fills ``out`` from the groups' boxes; returns, per group, whether its
    key exists.  ``config``: the array's ArrayConfig (coalescing settings).
    ``inline``: decode on the event loop (small reads)."""
    if not groups:
        return []
    gap, maxlen = config.sharding_coalesce_max_gap_bytes, config.sharding_coalesce_max_bytes
    part = part_bytes() if plan.shard is not None else 0
    fetch = _Fetcher()
    hold = asyncio.Semaphore(2 * _retry.concurrency())
    queue: asyncio.Queue = asyncio.Queue()
    present = [False] * len(groups)

    async def produce(i: int, g: Group) -> None:
        await hold.acquire()
        if plan.shard is not None:
            src = await _shard_source(plan, g, out, fetch, gap, maxlen, part)
        else:
            src = await fetch.get(g.sp)
        present[i] = src is not None
        queue.put_nowait((g, src))

    async def consume() -> None:
        left = len(groups)
        while left:
            ready = [await queue.get()]
            while not queue.empty():
                ready.append(queue.get_nowait())
            left -= len(ready)
            if inline:
                _decode(plan, ready, out)
            else:
                job = asyncio.ensure_future(asyncio.to_thread(_decode, plan, ready, out))
                try:
                    await asyncio.shield(job)
                except asyncio.CancelledError:
                    # The thread writes into out: let it finish before the caller sees the error.
                    with suppress(BaseException):
                        await job
                    raise
            for _ in ready:  # their bytes are decoded: room for more groups
                hold.release()

    tasks = [asyncio.ensure_future(produce(i, g)) for i, g in enumerate(groups)]
    tasks.append(asyncio.ensure_future(consume()))
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for t in done:
            if t.exception() is not None:
                raise t.exception()
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return present
