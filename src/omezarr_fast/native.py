"""Low-level access to the native codecs, without zarr.

A :class:`ChunkCodec` compiles a zarr v3 codec chain (transpose, bytes, then
zstd / blosc / gzip / crc32c) for one chunk shape and dtype; its batch methods
encode or decode many chunks in one native call with the GIL released, on the
thread pool sized by :func:`omezarr_fast.set_num_threads`.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from omezarr_fast import _native
from omezarr_fast.errors import CodecError

__all__ = ["ChunkCodec", "CodecError", "crc32c", "crc32c_hardware", "zstd_build_version", "zstd_version"]


class ChunkCodec:
    """A compiled zarr v3 codec chain for one chunk shape and dtype.

    codecs is zarr v3 metadata JSON, e.g.
    ``[{"name": "bytes", "configuration": {"endian": "little"}},
    {"name": "zstd", "configuration": {"level": 3, "checksum": False}}]``.
    Transpose codecs may come first; a missing bytes codec means little
    endian.  Unsupported names or configuration keys raise ValueError naming
    them; corrupt input raises :class:`omezarr_fast.errors.CodecError`.
    """

    def __init__(self, codecs: list[dict], chunk_shape: tuple[int, ...], dtype):
        self.codecs = list(codecs)
        self.chunk_shape = tuple(chunk_shape)
        self.dtype = np.dtype(dtype)
        self._chain = _native.NativeChain(self.codecs, self.chunk_shape, self.dtype)

    def __repr__(self) -> str:
        return f"ChunkCodec({self.codecs!r}, {self.chunk_shape!r}, {self.dtype})"

    @property
    def nbytes(self) -> int:
        """Bytes in one decoded chunk."""
        return self._chain.nbytes

    @property
    def encode_bound(self) -> int:
        """Most bytes one encoded chunk can take."""
        return self._chain.bound

    @property
    def read_bound(self) -> int:
        """Most bytes a stored chunk may hold to be read: :attr:`encode_bound` plus slack
        for other writers' framing.  Readers refuse a larger file before reading it."""
        return self._chain.read_bound

    def _check(self, array, what: str) -> np.ndarray:
        array = np.asarray(array)
        if array.shape != self.chunk_shape:
            raise ValueError(f"{what} has shape {array.shape}, the chunk {self.chunk_shape}")
        if array.dtype != self.dtype:
            raise ValueError(f"{what} has dtype {array.dtype}, the chunk {self.dtype}")
        return np.ascontiguousarray(array)

    def _out(self, out, what: str) -> np.ndarray:
        if out is None:
            return np.empty(self.chunk_shape, self.dtype)
        if not isinstance(out, np.ndarray):
            raise TypeError(f"{what} must be a numpy array, got {type(out).__name__}")
        if out.shape != self.chunk_shape or out.dtype != self.dtype:
            raise ValueError(f"{what} must have shape {self.chunk_shape} and dtype {self.dtype}, "
                             f"got {out.shape} {out.dtype}")
        if not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError(f"{what} must be C-contiguous and writeable")
        return out

    def encode(self, array: np.ndarray) -> np.ndarray:
        """Encodes one chunk (any memory order) into a 1-d uint8 array."""
        return self._chain.encode(self._check(array, "array"))

    def decode(self, data, out: np.ndarray | None = None) -> np.ndarray:
        """Decodes one chunk into out (or a new C-ordered array) and returns it."""
        out = self._out(out, "out")
        self._chain.decode_into(data, out)
        return out

    def encode_batch(self, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Encodes many chunks in one native call; CodecError names the chunk index."""
        return self._chain.encode_batch([self._check(a, f"arrays[{i}]") for i, a in enumerate(arrays)])

    def decode_batch(self, datas: Sequence, out: Sequence[np.ndarray] | None = None) -> list[np.ndarray]:
        """Decodes many chunks in one native call; CodecError names the chunk index."""
        datas = list(datas)
        if out is None and self.chunk_shape:
            # One allocation; its rows are the chunks.
            outs = list(np.empty((len(datas), *self.chunk_shape), self.dtype))
        elif out is None:
            outs = [np.empty((), self.dtype) for _ in datas]
        else:
            outs = [self._out(o, f"out[{i}]") for i, o in enumerate(out)]
            if len(outs) != len(datas):
                raise ValueError(f"got {len(datas)} chunks but {len(outs)} output arrays")
        self._chain.decode_batch(datas, outs)
        return outs


def crc32c(data, value: int = 0) -> int:
    """CRC-32C (Castagnoli) of a C-contiguous buffer, continuing from value."""
    return _native.crc32c(data, value)


def crc32c_hardware() -> bool:
    """True when crc32c runs on the CPU's SSE4.2 instruction."""
    return _native.crc32c_hardware()


def zstd_version() -> str:
    """Version of the libzstd loaded at run time, e.g. ``"1.5.7"``.  zstd's
    encoder got about twice as fast on 64 KiB chunks in 1.5.7, so benchmarks
    print it next to zstd speeds."""
    return _native.zstd_version()


def zstd_build_version() -> str:
    """Version of the zstd headers the extension was built against.  A
    different :func:`zstd_version` means the loader found another libzstd
    than the build linked (for example a moved ``.venv/opt/libzstd``)."""
    return _native.zstd_build_version()
