"""How a zarr array's codecs run natively: zarr codec objects -> one native chain.

A :class:`Plan` holds the compiled kernels for one chunk spec: a ``ChunkKernel``
for the stored chunk (the inner chunk when sharded) and, for ``sharding_indexed``,
a ``ShardKernel`` around it.  Anything the native core does not run (other codecs,
numcodecs filters, nested sharding, dtypes that are not fixed-size numbers) gets a
reason string instead, and zarr's own pipeline runs that array.

The zarr v2 compressor map (numcodecs ``zstd``/``gzip``/``blosc``/``zlib``/``lz4``
configuration -> zarr v3 codec JSON) lives here too: the pipeline reads and writes v2
arrays with it (old OME-Zarr 0.4 data), and :func:`omezarr_fast.upgrade_path` keeps a
v2 array's compressor with it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from zarr.codecs import BloscCodec, BytesCodec, Crc32cCodec, GzipCodec, ShardingCodec, TransposeCodec, ZstdCodec
from zarr.codecs.numcodecs import LZ4 as NumcodecsLZ4
from zarr.codecs.numcodecs import Zlib as NumcodecsZlib

from omezarr_fast._extension import native as _native
from omezarr_fast.dtypes import memory_endian, not_native
from omezarr_fast.pipeline._zarr_compat import V2Codec, has_subchunk_order, subchunk_order
from omezarr_fast.pipeline.shard_indexes import ShardIndexCache

__all__ = ["BLOSC_SHUFFLES", "Plan", "make_plan", "native_dtype", "v2_compressor_json"]

# numcodecs' zlib and lz4 as zarr v3 codecs ("numcodecs.zlib", "numcodecs.lz4") run
# natively too, byte-compatible with numcodecs.
_BYTES_TO_BYTES = (ZstdCodec, BloscCodec, GzipCodec, Crc32cCodec, NumcodecsZlib, NumcodecsLZ4)
_BLOSC_CNAMES = ("lz4", "lz4hc", "blosclz", "zstd", "zlib")
# numcodecs' Blosc shuffle numbers -> zarr v3 names (-1: numcodecs' AUTOSHUFFLE).
BLOSC_SHUFFLES = {0: "noshuffle", 1: "shuffle", 2: "bitshuffle"}


@dataclass(frozen=True, slots=True)
class Plan:
    """How one chunk spec runs natively."""

    kernel: Any  # ChunkKernel for the stored chunk (the inner chunk if sharded)
    shard: Any  # ShardKernel, or None for an unsharded array
    dtype: np.dtype
    # Local shard files' decoded indexes, shared by all reads of the array
    # (a ShardIndexCache; None for an unsharded array).
    indexes: Any = None


def _is(codec: Any, classes: tuple[type, ...]) -> bool:
    # zarr's own classes and omezarr_fast's native subclasses; any other
    # subclass may change behaviour, so it goes to zarr's path.
    t = type(codec)
    return t in classes or (t.__module__ == "omezarr_fast.codecs" and isinstance(codec, classes))


def native_dtype(spec) -> np.dtype | str:
    """The numpy dtype of a chunk spec when the native core runs it, else the reason not."""
    try:
        dt = np.dtype(spec.dtype.to_native_dtype())
    except Exception as e:  # noqa: BLE001 - any dtype zarr has but numpy cannot name
        return f"dtype {spec.dtype}: {e}"
    return not_native(dt) or dt


def _chain_json(codecs) -> list[dict] | str:
    out = []
    for c in codecs:
        if _is(c, (TransposeCodec, BytesCodec) + _BYTES_TO_BYTES):
            out.append(c.to_dict())
        else:
            return f"codec {type(c).__module__}.{type(c).__qualname__}"
    return out


def v2_compressor_json(config: Mapping[str, Any], dt: np.dtype) -> dict | str:
    """A zarr v2 (numcodecs) compressor configuration, e.g. ``{"id": "zstd", "level": 3}``,
    as the zarr v3 codec JSON that reads and writes the same bytes, or the reason there
    is none."""
    cid = config.get("id")
    if cid == "zstd":
        if config.get("checksum", False) not in (False, True):
            return "zstd config"
        return {"name": "zstd", "configuration": {"level": int(config.get("level", 0)),
                                                  "checksum": bool(config.get("checksum", False))}}
    if cid == "gzip":
        return {"name": "gzip", "configuration": {"level": int(config.get("level", 1))}}
    # numcodecs' Zlib (zlib stream) and LZ4 (4-byte size header + LZ4 block): the zarr v3
    # names numcodecs registers for them, which the native chain runs byte-compatibly
    for v2_id, name, key in (("zlib", "numcodecs.zlib", "level"),
                             ("lz4", "numcodecs.lz4", "acceleration")):
        if cid == v2_id:
            value = config.get(key, 1)  # numcodecs' default for both
            if set(config) - {"id", key} or isinstance(value, bool) or not isinstance(value, int):
                return f"{v2_id} config {dict(config)}"
            return {"name": name, "configuration": {key: value}}
    if cid == "blosc":
        number = config.get("shuffle", 1)
        shuffle = ("bitshuffle" if dt.itemsize == 1 else "shuffle") if number == -1 \
            else BLOSC_SHUFFLES.get(number)
        cname = config.get("cname", "lz4")
        if shuffle is None or cname not in _BLOSC_CNAMES:
            return f"blosc config {dict(config)}"
        return {"name": "blosc", "configuration": {
            "cname": cname, "clevel": int(config.get("clevel", 5)), "shuffle": shuffle,
            "typesize": min(dt.itemsize, 255), "blocksize": int(config.get("blocksize", 0))}}
    return f"zarr v2 compressor {cid!r}"


def _v2_chain_json(codec: V2Codec, dt: np.dtype, order: str) -> list[dict | None] | str:
    if codec.filters:
        return "zarr v2 filters"
    chain: list[dict | None] = []
    if order == "F":
        chain.append(None)  # placeholder, filled per chunk shape
    chain.append({"name": "bytes", "configuration": {"endian": memory_endian(dt)}})
    comp = codec.compressor
    if comp is None:
        return chain
    if not type(comp).__module__.startswith("numcodecs"):
        return f"zarr v2 compressor {type(comp).__module__}.{type(comp).__qualname__}"
    json = v2_compressor_json(comp.get_config(), dt)
    if isinstance(json, str):
        return json
    chain.append(json)
    return chain


def _kernel(json: list, shape: tuple[int, ...], dt: np.dtype, fill: bytes):
    if json and json[0] is None:  # v2 F order
        json = [{"name": "transpose", "configuration": {"order": list(range(len(shape)))[::-1]}},
                *json[1:]]
    return _native.ChunkKernel(json, tuple(shape), dt, fill)


def make_plan(codecs, spec, dt_out: np.dtype, fill) -> Plan | str:
    """The native plan of an array with these codecs for this chunk spec, read into or
    written from buffers of ``dt_out``; or the reason zarr's pipeline runs it."""
    dt = native_dtype(spec)
    if isinstance(dt, str):
        return dt
    if dt_out.newbyteorder("=") != dt.newbyteorder("=") or dt_out.itemsize != dt.itemsize:
        return f"buffer dtype {dt_out} differs from the array's {dt}"
    fill_bytes = np.array(fill, dtype=dt_out).tobytes()
    codecs = list(codecs)
    if len(codecs) == 1 and isinstance(codecs[0], V2Codec):
        json = _v2_chain_json(codecs[0], dt_out, spec.order)
        if isinstance(json, str):
            return json
        return Plan(_kernel(json, spec.shape, dt_out, fill_bytes), None, dt_out)
    shard = [c for c in codecs if getattr(c, "codec_name", None) == "sharding_indexed"
             or type(c) is ShardingCodec]
    if not shard:
        json = _chain_json(codecs)
        if isinstance(json, str):
            return json
        return Plan(_kernel(json, spec.shape, dt_out, fill_bytes), None, dt_out)
    sc = shard[0]
    if len(codecs) != 1 or type(sc) is not ShardingCodec:
        return "sharding combined with other codecs"
    inner = _chain_json(sc.codecs)
    if isinstance(inner, str):
        return f"inner {inner}"
    idx = list(sc.index_codecs)
    if not idx or not _is(idx[0], (BytesCodec,)) or len(idx) > 2 or (
            len(idx) == 2 and not _is(idx[1], (Crc32cCodec,))):
        return "shard index codecs other than bytes + crc32c"
    big = getattr(idx[0], "endian", None) is not None and \
        str(getattr(idx[0].endian, "value", idx[0].endian)) == "big"
    loc = getattr(sc.index_location, "value", sc.index_location)
    kernel = _kernel(inner, tuple(sc.chunk_shape), dt_out, fill_bytes)
    shard_kernel = _native.ShardKernel(kernel, tuple(spec.shape), loc == "start", len(idx) == 2, big)
    # Lay inner chunks out like zarr does (morton by default): readers do
    # not care, but zarr's tests and byte-for-byte comparisons do.
    cps = shard_kernel.chunks_per_shard
    order = getattr(sc, "subchunk_write_order", "lexicographic")
    if order != "lexicographic" and has_subchunk_order(sc):
        # A table of every inner chunk: built on the first write, never for a
        # read (a read must not allocate by the inner-chunk count, #13).
        shard_kernel.set_order(lambda: [int(np.ravel_multi_index(c, cps))
                                        for c in subchunk_order(sc, cps, order)])
    return Plan(kernel, shard_kernel, dt_out, ShardIndexCache(shard_kernel.index_size))
