"""zarr codec classes backed by the native codecs.

Each class subclasses zarr's own built-in codec of the same name, so metadata
parsing, ``to_dict``, ``evolve_from_array_spec``, ``resolve_metadata`` and
equality are zarr's; only the encoding and decoding work is replaced.  A
batch (``encode``/``decode``) is one native call with the GIL released, run on
the omezarr_fast thread pool.

zarr uses them when selected: ``omezarr_fast.enable()``, or
``zarr.config.set({"codecs.zstd": "omezarr_fast.codecs.ZstdCodec"})``.
"""
from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import Iterable
from functools import cached_property

import numpy as np
import zarr.codecs as _zc
from zarr.core.dtype.common import HasEndianness, HasItemSize
from zarr.registry import register_codec

from omezarr_fast._extension import native as _native
from omezarr_fast.dtypes import memory_endian, not_native

__all__ = ["BloscCodec", "BytesCodec", "Crc32cCodec", "GzipCodec", "TransposeCodec", "ZstdCodec"]

# Batches moving fewer bytes than this run on the event loop's thread: a hop
# to a worker thread costs more than the work.
_INLINE_BYTES = 1 << 18


async def _run(fn, nbytes: int, *args):
    if nbytes < _INLINE_BYTES:
        return fn(*args)
    return await asyncio.to_thread(fn, *args)


def _nbytes(spec) -> int | None:
    """Bytes in the decoded chunk, or None for variable-size data types."""
    if not isinstance(spec.dtype, HasItemSize):
        return None
    return math.prod(spec.shape) * spec.dtype.item_size


def _decode_limit(spec) -> int | None:
    # What a bytes->bytes codec may decode to: the chunk plus the worst-case
    # overhead of the codecs between it and the bytes codec.  Larger output
    # is corrupt data, never a reason to allocate.
    n = _nbytes(spec)
    return None if n is None else 2 * n + (1 << 16)


class _LikeZarr:
    """Equal to (and hashing like) zarr's built-in codec with the same
    configuration, as zarr compares codecs (e.g. a sharding codec's defaults,
    which are zarr's classes, against codecs read back from metadata)."""

    def _zarr_base(self) -> type:
        return next(c for c in type(self).__mro__ if c.__module__.startswith("zarr.codecs"))

    def __eq__(self, other):
        base = self._zarr_base()
        if type(other) is not type(self) and type(other) is not base:
            return NotImplemented
        names = [f.name for f in dataclasses.fields(base) if f.compare]
        return all(getattr(self, n) == getattr(other, n) for n in names)

    def __hash__(self):
        return super().__hash__()  # zarr's: by configuration (BloscCodec: unhashable)

    def __getstate__(self) -> dict:
        # Compiled native objects do not pickle; they are rebuilt on first use.
        return {k: v for k, v in self.__dict__.items() if k not in ("_native", "_chains")}


class _NativeBytesBytes(_LikeZarr):
    """Shared work of the zstd, blosc, gzip and crc32c classes."""

    @cached_property
    def _native(self) -> _native.NativeBytesCodec:
        d = self.to_dict()
        return _native.NativeBytesCodec(d["name"], dict(d.get("configuration") or {}))

    def _decode_many(self, chunks, specs):
        limits = [_decode_limit(s) for s in specs]
        if None in limits:  # variable-size data: zarr's own implementation
            return [super(_NativeBytesBytes, self)._decode_sync(c, s) for c, s in zip(chunks, specs)]
        outs = self._native.decode_batch([c.as_numpy_array() for c in chunks], limits)
        return [s.prototype.buffer.from_array_like(o) for o, s in zip(outs, specs)]

    def _encode_many(self, chunks, specs):
        outs = self._native.encode_batch([c.as_numpy_array() for c in chunks])
        return [s.prototype.buffer.from_array_like(o) for o, s in zip(outs, specs)]

    def _decode_sync(self, chunk_bytes, chunk_spec):
        return self._decode_many([chunk_bytes], [chunk_spec])[0]

    def _encode_sync(self, chunk_bytes, chunk_spec):
        return self._encode_many([chunk_bytes], [chunk_spec])[0]

    async def _decode_single(self, chunk_bytes, chunk_spec):
        return await _run(self._decode_sync, len(chunk_bytes), chunk_bytes, chunk_spec)

    async def _encode_single(self, chunk_bytes, chunk_spec):
        return await _run(self._encode_sync, len(chunk_bytes), chunk_bytes, chunk_spec)

    async def _batch(self, fn, chunks_and_specs):
        items = list(chunks_and_specs)
        idx = [i for i, (c, _) in enumerate(items) if c is not None]
        out = [None] * len(items)
        if idx:
            chunks = [items[i][0] for i in idx]
            specs = [items[i][1] for i in idx]
            done = await _run(fn, sum(len(c) for c in chunks), chunks, specs)
            for i, o in zip(idx, done):
                out[i] = o
        return out

    async def decode(self, chunks_and_specs: Iterable):
        return await self._batch(self._decode_many, chunks_and_specs)

    async def encode(self, chunks_and_specs: Iterable):
        return await self._batch(self._encode_many, chunks_and_specs)


class ZstdCodec(_NativeBytesBytes, _zc.ZstdCodec):
    """zstd, natively (libzstd, cached contexts per thread)."""


class BloscCodec(_NativeBytesBytes, _zc.BloscCodec):
    """blosc in the Blosc1 format, natively (c-blosc 1.x, no global state)."""


class GzipCodec(_NativeBytesBytes, _zc.GzipCodec):
    """gzip (RFC 1952), natively (libdeflate)."""


class Crc32cCodec(_NativeBytesBytes, _zc.Crc32cCodec):
    """crc32c checksum appended as 4 little-endian bytes, natively (SSE4.2)."""


def _native_dtype(spec) -> np.dtype | None:
    """The chunk's numpy dtype when the native codecs handle it, else None."""
    if not isinstance(spec.dtype, HasEndianness | HasItemSize):
        return None
    dtype = spec.dtype.to_native_dtype()
    return None if not_native(dtype) else dtype


class _ChainCache(_LikeZarr):
    """Compiled native chains by (codecs, shape, dtype); chunks in an array
    share a few shapes, so this stays small."""

    @cached_property
    def _chains(self) -> dict:
        return {}

    def _chain(self, codecs: list, shape: tuple, dtype: np.dtype) -> _native.NativeChain:
        key = (repr(codecs), shape, dtype.str)
        chain = self._chains.get(key)
        if chain is None:
            if len(self._chains) > 64:
                self._chains.clear()
            chain = self._chains[key] = _native.NativeChain(codecs, shape, dtype)
        return chain


class BytesCodec(_ChainCache, _zc.BytesCodec):
    """bytes (endianness), natively when a byte swap is needed.

    Without a swap zarr's zero-copy view is already optimal and is kept."""

    def _swaps(self, dtype: np.dtype) -> bool:
        return dtype.itemsize > 1 and self.endian is not None and self.endian != memory_endian(dtype)

    def _decode_sync(self, chunk_bytes, chunk_spec):
        dtype = _native_dtype(chunk_spec)
        if dtype is None or not self._swaps(dtype):
            return super()._decode_sync(chunk_bytes, chunk_spec)
        shape = tuple(chunk_spec.shape)
        chain = self._chain([self.to_dict()], shape, dtype)
        out = np.empty(shape, dtype)
        chain.decode_into(chunk_bytes.as_numpy_array(), out.reshape(-1).view(np.uint8))
        return chunk_spec.prototype.nd_buffer.from_ndarray_like(out)

    def _encode_sync(self, chunk_array, chunk_spec):
        arr = chunk_array.as_ndarray_like()
        if not isinstance(arr, np.ndarray) or not self._swaps(arr.dtype) or _native_dtype(chunk_spec) is None:
            return super()._encode_sync(chunk_array, chunk_spec)
        chain = self._chain([self.to_dict()], arr.shape, arr.dtype)
        return chunk_spec.prototype.buffer.from_array_like(chain.encode(np.ascontiguousarray(arr)))

    async def _decode_single(self, chunk_bytes, chunk_spec):
        return self._decode_sync(chunk_bytes, chunk_spec)

    async def _encode_single(self, chunk_array, chunk_spec):
        return self._encode_sync(chunk_array, chunk_spec)


class TransposeCodec(_ChainCache, _zc.TransposeCodec):
    """transpose, natively: one pass that writes the permuted chunk
    contiguously (zarr's returns a strided view that the next codec copies)."""

    def _chain_for(self, dtype: np.dtype, shape: tuple) -> _native.NativeChain:
        codecs = [self.to_dict(), {"name": "bytes", "configuration": {"endian": memory_endian(dtype)}}]
        return self._chain(codecs, shape, dtype)

    def _decode_sync(self, chunk_array, chunk_spec):
        arr = chunk_array.as_ndarray_like()
        if not isinstance(arr, np.ndarray) or _native_dtype(chunk_spec) is None:
            return super()._decode_sync(chunk_array, chunk_spec)
        shape = tuple(chunk_spec.shape)
        out = np.empty(shape, arr.dtype)
        self._chain_for(arr.dtype, shape).decode_into(np.ascontiguousarray(arr).reshape(-1).view(np.uint8),
                                                      out.reshape(-1).view(np.uint8))
        return chunk_spec.prototype.nd_buffer.from_ndarray_like(out)

    def _encode_sync(self, chunk_array, chunk_spec):
        arr = chunk_array.as_ndarray_like()
        if not isinstance(arr, np.ndarray) or _native_dtype(chunk_spec) is None:
            return super()._encode_sync(chunk_array, chunk_spec)
        enc = self._chain_for(arr.dtype, arr.shape).encode(np.ascontiguousarray(arr))
        tshape = tuple(arr.shape[o] for o in self.order)
        return chunk_spec.prototype.nd_buffer.from_ndarray_like(enc.view(arr.dtype).reshape(tshape))

    async def _decode_single(self, chunk_array, chunk_spec):
        return self._decode_sync(chunk_array, chunk_spec)

    async def _encode_single(self, chunk_array, chunk_spec):
        return self._encode_sync(chunk_array, chunk_spec)


# Registered here too, so selecting them works without installed entry points.
for _name, _cls in {"bytes": BytesCodec, "transpose": TransposeCodec, "zstd": ZstdCodec,
                    "blosc": BloscCodec, "gzip": GzipCodec, "crc32c": Crc32cCodec}.items():
    register_codec(_name, _cls)
