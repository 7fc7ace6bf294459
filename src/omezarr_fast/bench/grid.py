"""Codec configurations to measure: the built-in grid and user-given chains.

A configuration is a zarr v3 ``codecs`` list (the JSON that ``create_array``
takes) plus a short name and a family, the series it belongs to in plots.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from omezarr_fast.bench.errors import BenchError

ZSTD_LEVELS = (-5, -1, 1, 3, 6, 9, 15, 19, 22)
BLOSC_CNAMES = ("lz4", "lz4hc", "blosclz", "zstd", "zlib")
BLOSC_SHUFFLES = ("noshuffle", "shuffle", "bitshuffle")
BLOSC_CLEVELS = (1, 5, 9)
GZIP_LEVELS = (1, 5, 9)

# A dozen points that span the trade-off, for a first look in seconds (no zstd 19: at
# a few MB/s it alone took most of a quick run).
QUICK = {"zstd_levels": (-1, 3, 9), "blosc_cnames": ("lz4", "zstd"), "blosc_shuffles": ("shuffle",),
         "blosc_clevels": (5,), "gzip_levels": (1, 6)}


@dataclass(frozen=True)
class CodecConfig:
    name: str
    family: str
    codecs: list[dict] = field(hash=False)

    def codecs_json(self) -> str:
        return json.dumps(self.codecs)


def bytes_codec(dtype) -> dict:
    # Single-byte types have no endianness; zarr writes the field anyway.
    return {"name": "bytes", "configuration": {"endian": "little"}}


def zstd(level: int) -> dict:
    return {"name": "zstd", "configuration": {"level": int(level), "checksum": False}}


def blosc(cname: str, shuffle: str, clevel: int, typesize: int) -> dict:
    return {"name": "blosc", "configuration": {"cname": cname, "clevel": int(clevel), "shuffle": shuffle,
                                               "typesize": int(typesize), "blocksize": 0}}


def gzip(level: int) -> dict:
    return {"name": "gzip", "configuration": {"level": int(level)}}


def transpose(order: Sequence[int]) -> dict:
    return {"name": "transpose", "configuration": {"order": [int(i) for i in order]}}


def describe(codecs: list[dict]) -> str:
    """A short human name for a chain: 'zstd 3', 'blosc lz4/shuffle/5', 'T(2,1,0) gzip 6'."""
    parts = []
    for c in codecs:
        name = c.get("name", "?")
        cfg = c.get("configuration") or {}
        if name == "bytes":
            continue
        if name == "zstd":
            parts.append(f"zstd {cfg.get('level', 0)}" + (" +ck" if cfg.get("checksum") else ""))
        elif name == "blosc":
            parts.append(f"blosc {cfg.get('cname', '?')}/{cfg.get('shuffle', '?')}/{cfg.get('clevel', '?')}")
        elif name == "gzip":
            parts.append(f"gzip {cfg.get('level', '?')}")
        elif name == "sharding_indexed":
            parts.append(f"shard[{describe(cfg.get('codecs') or [])}]")
        elif name == "transpose":
            parts.append("T(" + ",".join(str(i) for i in cfg.get("order", ())) + ")")
        else:
            parts.append(name)
    return " ".join(parts) or "uncompressed"


def family_of(codecs: list[dict]) -> str:
    """The plot series: the compressor (blosc by cname), 'T+' in front when transposed."""
    names = [c.get("name") for c in codecs]
    prefix = "T+" if "transpose" in names else ""
    if "sharding_indexed" in names:
        inner = codecs[names.index("sharding_indexed")].get("configuration") or {}
        return prefix + "shard+" + family_of(inner.get("codecs") or [])
    compressors = [c for c in codecs if c.get("name") not in ("bytes", "transpose", "crc32c")]
    if not compressors:
        return prefix + "none"
    last = compressors[-1]
    if last["name"] == "blosc":
        return f"{prefix}blosc-{(last.get('configuration') or {}).get('cname', '?')}"
    return prefix + str(last["name"])


def make_config(codecs: list[dict]) -> CodecConfig:
    return CodecConfig(describe(codecs), family_of(codecs), codecs)


def as_measured(configs: Sequence[CodecConfig], chunk_shape, dtype) -> list[CodecConfig]:
    """Each chain as zarr would write it for this chunk shape and dtype (a blosc chain without
    typesize gets the dtype's size, as zarr gives it), identical chains once, names that differ.
    """
    from omezarr_fast.bench.runners import as_written

    out, seen = [], set()
    for cfg in configs:
        try:
            codecs = as_written(cfg.codecs, chunk_shape, dtype)
        except BenchError:
            codecs = cfg.codecs    # a chain zarr refuses (e.g. bytes without endian) the native engine may run
        key = json.dumps(codecs, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        out.append(cfg if codecs == cfg.codecs else make_config(codecs))
    return distinct_names(out)


def _flat(codecs: list[dict]) -> dict[str, str]:
    """'codec.key' -> JSON value for every configuration value of a chain (a codec alone: 'codec')."""
    flat = {}
    for c in codecs:
        cfg = c.get("configuration") or {}
        flat[c.get("name", "?")] = ""
        for k, v in cfg.items():
            flat[f"{c.get('name', '?')}.{k}"] = json.dumps(v, sort_keys=True)
    return flat


def distinct_names(configs: Sequence[CodecConfig]) -> list[CodecConfig]:
    """Configurations whose short names clash get the settings that tell them apart appended,
    e.g. 'blosc lz4/shuffle/5 (typesize=1)' next to 'blosc lz4/shuffle/5 (typesize=2)'."""
    groups: dict[str, list[CodecConfig]] = {}
    for c in configs:
        groups.setdefault(c.name, []).append(c)
    out = []
    for c in configs:
        group = groups[c.name]
        if len(group) == 1:
            out.append(c)
            continue
        mine = _flat(c.codecs)
        others = [_flat(g.codecs) for g in group if g is not c]
        keys = sorted(k for k in set(mine).union(*others) if any(o.get(k) != mine.get(k) for o in others))
        parts = [f"{k.split('.', 1)[-1]}={mine[k]}" if "." in k else k for k in keys if k in mine]
        out.append(replace(c, name=f"{c.name} ({', '.join(parts) or f'#{group.index(c) + 1}'})"))
    return out


def codec_grid(dtype, ndim: int, *, zstd_levels: Iterable[int] = ZSTD_LEVELS,
               blosc_cnames: Iterable[str] = BLOSC_CNAMES, blosc_shuffles: Iterable[str] = BLOSC_SHUFFLES,
               blosc_clevels: Iterable[int] = BLOSC_CLEVELS, gzip_levels: Iterable[int] = GZIP_LEVELS,
               transposes: Iterable[Sequence[int] | None] = (None,), uncompressed: bool = True
               ) -> list[CodecConfig]:
    """The grid: uncompressed, zstd levels, blosc cname x shuffle x clevel, gzip levels.

    Every chain is repeated once per entry of ``transposes`` (None = no
    transpose codec in front); an order must be a permutation of range(ndim).
    """
    dtype = np.dtype(dtype)
    fronts = []
    for order in transposes:
        if order is None:
            fronts.append([])
            continue
        order = tuple(int(i) for i in order)
        if sorted(order) != list(range(ndim)):
            raise BenchError(f"transpose order {list(order)} is not a permutation of 0..{ndim - 1}")
        fronts.append([transpose(order)])

    tails: list[list[dict]] = []
    if uncompressed:
        tails.append([])
    tails += [[zstd(lv)] for lv in zstd_levels]
    tails += [[blosc(cn, sh, cl, dtype.itemsize)] for cn in blosc_cnames for sh in blosc_shuffles
              for cl in blosc_clevels]
    tails += [[gzip(lv)] for lv in gzip_levels]
    return [make_config(front + [bytes_codec(dtype)] + tail) for front in fronts for tail in tails]


def parse_codecs_json(text: str) -> list[dict]:
    """A user's chain: a JSON list of codec objects (a single object is a one-codec list).

    A chain without an array->bytes codec gets ``bytes`` in front of its
    compressors, as zarr's create_array does for ``compressors=``.
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        hint = "" if text.lstrip()[:1] in "[{" else " (--codecs takes every word after it: put INPUT first)"
        raise BenchError(f"--codecs is not valid JSON ({e.msg} at char {e.pos}): {text!r}{hint}") from None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not value:
        raise BenchError(f"--codecs must be a JSON list of codec objects, got {text!r}")
    for i, c in enumerate(value):
        if not isinstance(c, dict) or not isinstance(c.get("name"), str):
            raise BenchError(f"--codecs[{i}] must be an object with a string 'name', got {json.dumps(c)}")
        c.setdefault("configuration", {})
    return value


def with_bytes_codec(codecs: list[dict], dtype) -> list[dict]:
    """Inserts the bytes codec after the transposes when the chain has no array->bytes codec."""
    from omezarr_fast.bench.runners import is_array_bytes

    if any(is_array_bytes(c["name"]) for c in codecs):
        return codecs
    i = 0
    while i < len(codecs) and codecs[i]["name"] == "transpose":
        i += 1
    return codecs[:i] + [bytes_codec(dtype)] + codecs[i:]
