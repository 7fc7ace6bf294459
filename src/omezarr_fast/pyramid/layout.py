"""Layout defaults of a pyramid: chunk and shard shapes, level count, compressors.

Inner chunks of about 1 MiB (powers of two on spatial axes, 1 on time/channel
axes) and shards of tens of MiB; every lower level uses the same shapes clipped
to its size.  The codec benchmark guesses its chunk shape with the same
halving rule (:func:`halve_to_fit`).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from omezarr_fast.downsample import output_shape

__all__ = ["CHUNK_BYTES", "CODECS", "SHARD_BYTES", "compressors", "default_chunks", "default_shards",
           "halve_to_fit", "level_layout", "num_levels", "pow2_at_least"]

CHUNK_BYTES = 1 << 20       # inner chunks of about 1 MiB
SHARD_BYTES = 32 << 20      # shards of tens of MiB
CODECS = ("zstd", "gzip", "blosc", None)


def pow2_at_least(n: int) -> int:
    return 1 << max(0, (int(n) - 1).bit_length())


def halve_to_fit(chunk: Sequence[int], itemsize: int, target_bytes: int) -> tuple[int, ...]:
    """``chunk`` with its largest side halved (rounding up; ties: the slowest axis
    first) until it holds at most ``target_bytes`` or every side is 1."""
    chunk = [int(c) for c in chunk]
    while math.prod(chunk) * itemsize > target_bytes:
        d = max(range(len(chunk)), key=lambda i: (chunk[i], -i))
        if chunk[d] == 1:
            break
        chunk[d] = -(-chunk[d] // 2)
    return tuple(chunk)


def default_chunks(shape: Sequence[int], dtype, spatial: Sequence[bool]) -> tuple[int, ...]:
    """About 1 MiB inner chunks: 1 on time/channel axes, powers of two on spatial axes
    (the largest halved first), never more than the axis needs."""
    chunk = [min(pow2_at_least(n), 1 << 30) if sp else 1 for n, sp in zip(shape, spatial)]
    return halve_to_fit(chunk, np.dtype(dtype).itemsize, CHUNK_BYTES)


def default_shards(shape: Sequence[int], dtype, chunks: Sequence[int],
                   spatial: Sequence[bool]) -> tuple[int, ...]:
    """Shards of tens of MiB: the chunk doubled on spatial axes (smallest first) until the
    shard reaches ~32 MiB or covers the axis."""
    item = np.dtype(dtype).itemsize
    shard = list(chunks)
    while math.prod(shard) * item < SHARD_BYTES:
        grow = [d for d in range(len(shard)) if spatial[d] and shard[d] < shape[d]]
        if not grow:
            break
        d = min(grow, key=lambda i: (shard[i], -i))
        shard[d] *= 2
    return tuple(shard)


def level_layout(shape, chunks, shards):
    """Chunks and shards of one level: clipped to what the level needs, shard a multiple
    of the chunk."""
    c = tuple(min(ch, pow2_at_least(n)) for ch, n in zip(chunks, shape))
    if shards is None:
        return c, None
    s = []
    for sh, ch, n in zip(shards, c, shape):
        need = max(ch, -(-n // ch) * ch)
        s.append(max(ch, min(sh // ch * ch, need)))
    return c, tuple(s)


def num_levels(shape, chunks, factors, min_size) -> int:
    """Levels (level 0 included) until every downsampled side fits one chunk, or, with
    ``min_size``, while the smallest downsampled side stays >= min_size."""
    down = [d for d, f in enumerate(factors) if f > 1]
    if not down:
        return 1
    n, s = 1, tuple(shape)
    while True:
        if min_size is None and all(s[d] <= chunks[d] for d in down):
            return n
        nxt = output_shape(s, factors)
        if min_size is not None and min(nxt[d] for d in down) < min_size:
            return n
        if nxt == s:
            return n
        s, n = nxt, n + 1


def compressors(codec, clevel, zarr_format):
    """The compressor for ``codec`` ("zstd" level 3, "gzip" 6, "blosc" zstd-5 bitshuffle,
    or None) at ``clevel``: a zarr v3 codec, or a numcodecs one for zarr v2."""
    if codec is None:
        return None
    if codec not in CODECS:
        raise ValueError(f"codec must be one of {CODECS}, got {codec!r}")
    if zarr_format == 3:
        from zarr.codecs import BloscCodec, GzipCodec, ZstdCodec
        if codec == "zstd":
            return ZstdCodec(level=3 if clevel is None else clevel)
        if codec == "gzip":
            return GzipCodec(level=6 if clevel is None else clevel)
        return BloscCodec(cname="zstd", clevel=5 if clevel is None else clevel, shuffle="bitshuffle")
    import numcodecs
    if codec == "zstd":
        return numcodecs.Zstd(level=3 if clevel is None else clevel)
    if codec == "gzip":
        return numcodecs.GZip(level=6 if clevel is None else clevel)
    return numcodecs.Blosc(cname="zstd", clevel=5 if clevel is None else clevel,
                           shuffle=numcodecs.Blosc.BITSHUFFLE)
