"""Engines that run one codec chain over a batch of chunks.

A runner has ``engine`` (a name shown in the output) and two methods,
``encode_batch(arrays, threads)`` and ``decode_batch(datas, threads)``; the
measuring layer knows nothing else, so tests can drive it with a fake.

- ``native``: omezarr_fast.native.ChunkCodec, one native call per batch on the
  library's thread pool.
- ``zarr``: zarr's own codec objects (the synchronous ``ChunkTransform`` chain
  its FusedCodecPipeline uses), chunk by chunk, on a Python thread pool when
  threads > 1. It runs any codec chain zarr knows, so chains the native core
  cannot run are still measured.
"""
from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import numpy as np

from omezarr_fast.bench.errors import BenchError

ENGINES = ("auto", "native", "zarr")


@functools.cache
def thread_pool(n: int) -> ThreadPoolExecutor:
    """Python threads for the zarr engine and the memcpy baseline, made once so timing excludes start-up."""
    return ThreadPoolExecutor(n, thread_name_prefix="omezarr-bench")


class Runner(Protocol):
    engine: str

    def encode_batch(self, arrays: list[np.ndarray], threads: int) -> list: ...

    def decode_batch(self, datas: list, threads: int) -> list[np.ndarray]: ...


def _zarr_codec_class(name: str):
    from zarr.errors import UnknownCodecError
    from zarr.registry import get_codec_class

    try:
        return get_codec_class(name)
    except (KeyError, UnknownCodecError):
        raise BenchError(f"unknown codec name {name!r}") from None


def codec_kind(name: str) -> str:
    """'array_array', 'array_bytes' or 'bytes_bytes': where the codec sits in a chain."""
    from zarr.abc.codec import ArrayArrayCodec, ArrayBytesCodec

    cls = _zarr_codec_class(name)
    if issubclass(cls, ArrayArrayCodec):
        return "array_array"
    return "array_bytes" if issubclass(cls, ArrayBytesCodec) else "bytes_bytes"


# Configuration keys zarr fills in from the array's dtype when a chain leaves them out
# (BloscCodec.evolve_from_array_spec): left out here, filled in by as_written().
DTYPE_DEPENDENT = {"blosc": ("typesize", "shuffle")}


def canonical(codecs: list[dict]) -> list[dict]:
    """The chain with zarr's defaults filled in, checked by zarr's codec classes.

    Keys whose default depends on the array's dtype (blosc's typesize and
    shuffle) stay out when the chain leaves them out: zarr would write the
    dtype's values, not the codec's dtype-less default (typesize 1), and
    :func:`as_written` fills them in once the dtype is known.
    """
    out = []
    for i, c in enumerate(codecs):
        try:
            d = _zarr_codec_class(c["name"]).from_dict(c).to_dict()
        except (ValueError, TypeError, KeyError) as e:
            raise BenchError(f"codec {c['name']!r} (codecs[{i}]) has a bad configuration: {e}") from None
        given = c.get("configuration") or {}
        for key in DTYPE_DEPENDENT.get(c["name"], ()):
            if key not in given:
                (d.get("configuration") or {}).pop(key, None)
        out.append(d)
    return out


def zarr_chain(codecs: list[dict], chunk_shape, dtype):
    """zarr's codec objects for a chain, evolved for the chunk as zarr does, with their ArraySpec."""
    from zarr.core.array_spec import ArrayConfig, ArraySpec
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.codec_pipeline import codecs_from_list, evolve_codecs
    from zarr.core.dtype import get_data_type_from_native_dtype

    objs = []
    for i, c in enumerate(codecs):
        cls = _zarr_codec_class(c["name"])
        try:
            objs.append(cls.from_dict(c))
        except (ValueError, TypeError, KeyError) as e:
            raise BenchError(f"codec {c['name']!r} (codecs[{i}]) has a bad configuration: {e}") from None
    try:
        codecs_from_list(objs)
        zdtype = get_data_type_from_native_dtype(np.dtype(dtype))
        spec = ArraySpec(shape=tuple(chunk_shape), dtype=zdtype, fill_value=zdtype.default_scalar(),
                         config=ArrayConfig.from_dict({}), prototype=default_buffer_prototype())
        return tuple(evolve_codecs(tuple(objs), spec)), spec
    except (ValueError, TypeError) as e:
        raise BenchError(f"zarr cannot run the codec chain {[c['name'] for c in codecs]}: {e}") from None


def as_written(codecs: list[dict], chunk_shape, dtype) -> list[dict]:
    """The chain as zarr would write it to zarr.json for an array of this chunk shape and dtype."""
    evolved, _ = zarr_chain(codecs, chunk_shape, dtype)
    return [c.to_dict() for c in evolved]


def is_array_bytes(name: str) -> bool:
    return codec_kind(name) == "array_bytes"


class NativeRunner:
    engine = "native"

    def __init__(self, codecs: list[dict], chunk_shape: tuple[int, ...], dtype):
        from omezarr_fast.native import ChunkCodec

        self._codec = ChunkCodec(codecs, chunk_shape, dtype)
        self._outs = None

    def encode_batch(self, arrays, threads):
        use_threads(threads)
        return self._codec.encode_batch(arrays)

    def decode_batch(self, datas, threads):
        # Decoding into the same buffers each time times the codec, not page faults of fresh memory.
        if self._outs is None or len(self._outs) != len(datas):
            self._outs = [np.empty(self._codec.chunk_shape, self._codec.dtype) for _ in datas]
        use_threads(threads)
        return self._codec.decode_batch(datas, out=self._outs)


def use_threads(n: int) -> None:
    # Not restored after each call: resizing retires the pool's workers, and
    # that cost must stay out of the timed loops. run_benchmark restores the
    # caller's setting at the end.
    import omezarr_fast

    if omezarr_fast.get_num_threads() != n:
        omezarr_fast.set_num_threads(n)


class ZarrRunner:
    engine = "zarr"

    def __init__(self, codecs: list[dict], chunk_shape: tuple[int, ...], dtype):
        from zarr.core.chunk_utils import ChunkTransform

        evolved, self._spec = zarr_chain(codecs, chunk_shape, dtype)
        self._proto = self._spec.prototype
        self._transform = ChunkTransform(codecs=evolved)

    def _map(self, fn, items, threads):
        if threads <= 1:
            return [fn(x) for x in items]
        return list(thread_pool(threads).map(fn, items))

    def encode_batch(self, arrays, threads):
        def one(a):
            buf = self._transform.encode_chunk(self._proto.nd_buffer.from_numpy_array(a), self._spec)
            return buf.as_numpy_array()

        return self._map(one, arrays, threads)

    def decode_batch(self, datas, threads):
        def one(d):
            nd = self._transform.decode_chunk(self._proto.buffer.from_array_like(d), self._spec)
            return nd.as_numpy_array()

        return self._map(one, datas, threads)


def make_runner(codecs: list[dict], chunk_shape, dtype, engine: str = "auto") -> Runner:
    """The native runner when it can run the chain (engine auto/native), else zarr's."""
    if engine not in ENGINES:
        raise BenchError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    for c in codecs:  # unknown names fail the same way whichever engine runs
        _zarr_codec_class(c["name"])
    if engine in ("auto", "native"):
        try:
            return NativeRunner(codecs, tuple(chunk_shape), dtype)
        except (ValueError, TypeError, ImportError) as e:
            if engine == "native":
                raise BenchError(f"the native engine cannot run this chain: {e}") from None
    return ZarrRunner(codecs, tuple(chunk_shape), dtype)
