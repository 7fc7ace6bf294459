"""Every private name of zarr-python that omezarr_fast uses, in one place.

zarr's public API does not (yet) offer these; when a zarr release renames or
removes one, this module is the only one to change.  Nothing outside
:mod:`omezarr_fast.pipeline` imports it: the other layers get what they need
through the pipeline's public functions.
"""
from __future__ import annotations

import re
from typing import Any

from zarr.abc.store import _store_supports_sync_io
from zarr.codecs._v2 import V2Codec
from zarr.core.array import _get_chunk_spec
from zarr.core.buffer import default_buffer_prototype
from zarr.core.chunk_utils import _merge_chunk_array
from zarr.storage._common import StorePath

__all__ = ["LOCAL_PARTIAL", "StorePath", "V2Codec", "async_array", "check_writable", "chunk_grid",
           "ensure_open", "first_chunk_spec", "has_subchunk_order", "merge_chunk_array", "subchunk_order",
           "supports_sync_io"]

# zarr's LocalStore writes ``<key>.<uuid4 hex>.partial`` and renames it into place.
LOCAL_PARTIAL = re.compile(r"\.[0-9a-f]{32}\.partial$")


def supports_sync_io(store) -> bool:
    """True when ``store`` has zarr's synchronous get/set/delete (no event loop needed)."""
    return _store_supports_sync_io(store)


def ensure_open(store) -> None:
    store._ensure_open_sync()


def check_writable(store) -> None:
    store._check_writable()


def merge_chunk_array(existing, value, out_selection, spec, chunk_selection, is_complete, drop_axes):
    """zarr's merge of a write's value into a chunk's existing data (fancy selections)."""
    return _merge_chunk_array(existing, value, out_selection, spec, chunk_selection, is_complete,
                              drop_axes)


def async_array(array) -> Any:
    """The AsyncArray behind a zarr.Array (or the AsyncArray itself)."""
    return getattr(array, "_async_array", array)


def chunk_grid(aa) -> Any:
    return aa._chunk_grid


def first_chunk_spec(aa):
    """The ArraySpec of chunk (0, ..., 0); IndexError for an array without chunks."""
    return _get_chunk_spec(aa.metadata, aa._chunk_grid, (0,) * aa.metadata.ndim, aa.config,
                           default_buffer_prototype())


def has_subchunk_order(sharding_codec) -> bool:
    """Whether this zarr version lays inner chunks out in an order of its own."""
    return hasattr(sharding_codec, "_subchunk_order_iter")


def subchunk_order(sharding_codec, chunks_per_shard, order: str):
    """The inner-chunk coordinates in the order zarr lays them out in a shard
    (an iterator; see :func:`has_subchunk_order`)."""
    return sharding_codec._subchunk_order_iter(chunks_per_shard, order)
