"""Layout defaults of a pyramid: chunk and shard shapes, level count and factors, codecs.

Inner chunks of about 1 MiB (powers of two on spatial axes, 1 on time/channel
axes) and shards of tens of MiB.  Every lower level uses the same chunk shape
clipped to its size, and as its shard the level-0 shard's footprint at that level
(whole chunks, at least one): each level-0 shard then fills one shard of every level
(while those are larger than a chunk), so the streaming writer holds no partly filled
shard of a lower level.  The codec benchmark guesses its chunk shape with the same
halving rule (:func:`halve_to_fit`).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from omezarr_fast.downsample import output_shape

__all__ = ["CHUNK_BYTES", "CODECS", "COARSE_RATIO", "SHARD_BYTES", "codec_arguments", "compressors",
           "default_chunks", "default_shards", "halve_to_fit", "level_layout", "num_levels",
           "pow2_at_least", "pyramid_factors"]

CHUNK_BYTES = 1 << 20       # inner chunks of about 1 MiB
SHARD_BYTES = 32 << 20      # shards of tens of MiB
CODECS = ("zstd", "gzip", "blosc", None)
# An axis whose pixel is more than this many times the finest one is left alone by a
# level (not downsampled) until the others catch up.
COARSE_RATIO = 1.5


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


def level_layout(shape, chunks, shards, factor=None):
    """Chunks and shards of one level: clipped to what the level needs, shard a multiple
    of the chunk.  ``factor``: the level's cumulative downsampling factor from level 0,
    whose ``shards`` then become their footprint at this level (``ceil(shard / factor)``
    rounded down to whole chunks, at least one)."""
    c = tuple(min(ch, pow2_at_least(n)) for ch, n in zip(chunks, shape))
    if shards is None:
        return c, None
    if factor is not None:
        shards = [-(-sh // f) for sh, f in zip(shards, factor)]
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


def pyramid_factors(shape, chunks, downsampled, *, sizes=None, levels=None, min_size=None,
                    coarse_ratio: float = COARSE_RATIO) -> list[tuple[int, ...]]:
    """Per-level factors (one tuple per level step) of a default pyramid.

    downsampled[i]: axis i may be downsampled (a space axis). sizes: the pixel size of
    every axis in one unit (None: isotropic). A level halves every such axis whose
    current pixel size is at most ``coarse_ratio`` times the finest one (and which is
    longer than 1), so a z sampled 5x coarser than y/x is kept until y/x are 4x
    coarser, then halved with them, as anisotropic pipelines do.

    levels: the number of levels, level 0 included; else, with ``min_size``, levels
    while every downsampled side stays >= min_size; else until every downsampled side
    fits one chunk."""
    ndim = len(shape)
    cur = [float(sizes[i]) if sizes is not None else 1.0 for i in range(ndim)]
    s = tuple(int(n) for n in shape)
    out: list[tuple[int, ...]] = []
    while True:
        live = [d for d in range(ndim) if downsampled[d] and s[d] > 1]
        if not live and levels is not None:     # as many levels as asked: sides stay 1
            live = [d for d in range(ndim) if downsampled[d]]
        if not live:
            break
        finest = min(cur[d] for d in live)
        f = tuple(2 if d in live and cur[d] <= coarse_ratio * finest else 1 for d in range(ndim))
        down = [d for d in range(ndim) if f[d] > 1]
        nxt = output_shape(s, f)
        if levels is not None:
            if len(out) + 1 >= levels:
                break
        elif min_size is not None:
            if min(nxt[d] for d in down) < min_size:
                break
        elif all(s[d] <= chunks[d] for d in range(ndim) if downsampled[d]):
            break
        out.append(f)
        cur = [c * x for c, x in zip(cur, f)]
        s = nxt
    if levels is not None and len(out) + 1 < levels:
        raise ValueError(f"levels={levels}: no axis can be downsampled (shape {tuple(shape)})")
    return out


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


def _codec_list(codec):
    if isinstance(codec, str):
        import json

        try:
            value = json.loads(codec)
        except ValueError:
            raise ValueError(f"codec must be one of {CODECS[:-1]}, None, or a zarr codec list "
                             f"(JSON), got {codec!r}") from None
        return _codec_list(value)
    if isinstance(codec, dict) or not isinstance(codec, (list, tuple)):
        return [codec]
    if not codec:
        raise ValueError("codec: an empty codec list; give None for no compression")
    return list(codec)


def _v3_codec(item, i):
    from zarr.abc.codec import Codec
    from zarr.registry import get_codec_class

    if isinstance(item, Codec):
        return item
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise ValueError(f"codec[{i}] must be a zarr codec or a codec object "
                         f"{{\"name\": ..., \"configuration\": {{...}}}}, got {item!r}")
    try:
        cls = get_codec_class(item["name"])
    except (KeyError, ValueError):    # zarr 3.4: UnknownCodecError, a ValueError
        raise ValueError(f"codec[{i}]: zarr knows no codec named {item['name']!r}") from None
    try:
        return cls.from_dict({"name": item["name"], "configuration": item.get("configuration", {})})
    except (TypeError, ValueError) as e:
        raise ValueError(f"codec[{i}] ({item['name']}): {e}") from None


def codec_arguments(codec, clevel, zarr_format, ndim: int | None = None) -> dict:
    """``zarr.create_array`` keywords (``compressors``, and ``filters``/``serializer``
    when the chain has them) for ``codec``:

    - a name, "zstd" (level 3), "gzip" (6) or "blosc" (zstd-5 bitshuffle), at ``clevel``;
      None (or "none") for no compression;
    - a zarr v3 codec chain: a list of codec objects or of their JSON dicts (what
      ``omezarr-fast bench`` recommends, ``bytes`` included or not), or that list as a
      JSON string.  A ``sharding_indexed`` codec in it gives its inner codecs (the shard
      shape is the writer's).  OME-Zarr 0.4 (zarr v2) takes one zstd, gzip or blosc
      compressor from such a chain.
    """
    if codec is None or codec == "none":
        return {"compressors": None}
    if isinstance(codec, str) and codec in CODECS:
        return {"compressors": compressors(codec, clevel, zarr_format)}
    items = _codec_list(codec)
    if clevel is not None:
        raise ValueError("clevel applies to a codec name (zstd, gzip, blosc); a codec chain "
                         "carries its own levels")
    if zarr_format == 2:
        return {"compressors": _v2_compressor(items)}
    from zarr.abc.codec import ArrayArrayCodec, ArrayBytesCodec, BytesBytesCodec
    from zarr.codecs import ShardingCodec

    codecs = [_v3_codec(c, i) for i, c in enumerate(items)]
    if len(codecs) == 1 and isinstance(codecs[0], ShardingCodec):
        codecs = list(codecs[0].codecs)
    filters = [c for c in codecs if isinstance(c, ArrayArrayCodec)]
    serializer = [c for c in codecs if isinstance(c, ArrayBytesCodec)]
    comps = [c for c in codecs if isinstance(c, BytesBytesCodec)]
    if any(isinstance(c, ShardingCodec) for c in codecs):
        raise ValueError("codec: a sharding_indexed codec must be the whole chain (its inner "
                         "codecs are used; the shard shape is set with shards)")
    if len(serializer) > 1:
        raise ValueError(f"codec: {len(serializer)} array->bytes codecs in one chain")
    order = filters + serializer + comps
    if order != codecs:
        raise ValueError("codec: a chain is array->array codecs, then one array->bytes codec, "
                         "then bytes->bytes codecs, in that order")
    if ndim is not None:
        for c in filters:
            perm = getattr(c, "order", None)
            if perm is not None and len(perm) != ndim:
                raise ValueError(f"codec: transpose order {tuple(perm)} is for {len(perm)} "
                                 f"dimensions; the image has {ndim}")
    out: dict = {"compressors": comps or None}
    if filters:
        out["filters"] = filters
    if serializer:
        out["serializer"] = serializer[0]
    return out


def _v2_compressor(items):
    import numcodecs

    names = []
    for i, item in enumerate(items):
        if isinstance(item, dict):
            name, conf = item.get("name"), item.get("configuration", {}) or {}
        else:
            name, conf = getattr(item, "codec_name", None) or type(item).__name__, \
                (item.to_dict().get("configuration", {}) if hasattr(item, "to_dict") else {})
        if name in ("bytes", "BytesCodec"):
            continue
        names.append((i, name, conf))
    if not names:
        return None
    if len(names) > 1:
        raise ValueError("codec: OME-Zarr 0.4 (zarr v2) takes one compressor; the chain has "
                         f"{len(names)}: {[n for _, n, _ in names]}")
    i, name, conf = names[0]
    name = {"ZstdCodec": "zstd", "GzipCodec": "gzip", "BloscCodec": "blosc"}.get(name, name)
    if name == "zstd":
        return numcodecs.Zstd(level=int(conf.get("level", 3)))
    if name == "gzip":
        return numcodecs.GZip(level=int(conf.get("level", 6)))
    if name == "blosc":
        shuffle = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}.get(conf.get("shuffle", "bitshuffle"), 2)
        return numcodecs.Blosc(cname=conf.get("cname", "zstd"), clevel=int(conf.get("clevel", 5)),
                               shuffle=shuffle, blocksize=int(conf.get("blocksize", 0)))
    raise ValueError(f"codec[{i}]: OME-Zarr 0.4 (zarr v2) is written with zstd, gzip or blosc, "
                     f"not {name!r}")
