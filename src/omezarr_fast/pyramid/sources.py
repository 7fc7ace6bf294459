"""What a pyramid is built from: numpy, dask and zarr arrays behind one read function."""
from __future__ import annotations

import itertools
from contextlib import suppress

import numpy as np
import zarr
from zarr.core.buffer.cpu import NDBuffer

from omezarr_fast.config import enabled

__all__ = ["as_source", "read_zarr"]


def as_source(data):
    """(array-like with shape/dtype/__getitem__, reader(slices) -> ndarray)."""
    mod = type(data).__module__
    if mod.startswith("dask"):
        return data, lambda sl: np.asarray(data[sl].compute())
    if isinstance(data, zarr.Array):
        # Read through our pipeline (decoding in our pool, fewer buffers); keep the
        # array as given if it cannot be reopened.
        with suppress(Exception), enabled():
            data = zarr.open_array(data.store, path=data.path, mode="r")
        return data, lambda sl: read_zarr(data, sl)
    if isinstance(data, np.ndarray) or hasattr(data, "__array__") and hasattr(data, "shape"):
        if not isinstance(data, np.ndarray) and not hasattr(data, "dtype"):
            data = np.asarray(data)
        return data, lambda sl: np.asarray(data[sl])
    data = np.asarray(data)
    return data, lambda sl: data[sl]


def read_zarr(src: zarr.Array, sl: tuple[slice, ...]) -> np.ndarray:
    """Read a region one source shard (or chunk) at a time, each straight into its
    place in one buffer: zarr's read of a large region holds every touched shard's
    bytes and decoded chunks at once, several times the region's size."""
    unit = src.shards if src.shards is not None else src.chunks
    out = np.empty(tuple(s.stop - s.start for s in sl), src.dtype)
    ranges = [range(s.start // u * u, s.stop, u) for s, u in zip(sl, unit)]
    for starts in itertools.product(*ranges):
        piece = tuple(slice(max(a, s.start), min(a + u, s.stop))
                      for a, s, u in zip(starts, sl, unit))
        view = out[tuple(slice(p.start - s.start, p.stop - s.start) for p, s in zip(piece, sl))]
        src.get_basic_selection(piece, out=NDBuffer.from_numpy_array(view))
    return out
