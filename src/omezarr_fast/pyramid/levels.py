"""A pyramid's level arrays in a zarr group, filled from a source here or on a cluster."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from omezarr_fast.pyramid import distributed, local
from omezarr_fast.pyramid.factors import cumulative, level_factors, level_shapes
from omezarr_fast.pyramid.layout import level_layout
from omezarr_fast.pyramid.sources import as_source

__all__ = ["write_levels"]


def write_levels(group, data, *, names, factors, nlevels, chunks, unit, compressors, method,
                 zarr_format, progress, client=None, codecs=None, source_chunks=None,
                 on_block=None) -> list:
    """Create the level arrays "0".."n-1" in ``group`` and stream ``data`` into them;
    returns ``[(array, write unit), ...]``.

    ``factors``: per axis (the same at every level) or one tuple per level step.
    ``unit`` is the level-0 shard (v3) or, for v2 which has no shards, the block of whole
    chunks each write covers; lower levels get its footprint (see
    :func:`omezarr_fast.pyramid.layout.level_layout`).  ``codecs``: ``create_array`` keywords (filters,
    serializer, compressors) from :func:`omezarr_fast.pyramid.layout.codec_arguments`,
    instead of ``compressors``.  ``source_chunks``: the source's storage chunks, which
    the read blocks follow.  ``on_block(origin, data)``: sees every level-0 block read
    (in this process only).  ``client``: as for :func:`omezarr_fast.write_image`."""
    client = distributed.resolve_client(client, data)
    src, read = as_source(data)
    shape, dtype = tuple(src.shape), np.dtype(src.dtype)
    steps = level_factors(factors, nlevels)
    codec_kw = dict(codecs) if codecs is not None else {"compressors": compressors}
    arrays = []
    cum = cumulative(steps, len(shape))
    for lvl, s in enumerate(level_shapes(shape, steps)):
        c, u = level_layout(s, chunks, unit, cum[lvl])
        kw: dict[str, Any] = {"name": str(lvl), "shape": s, "dtype": dtype, "chunks": c,
                              "fill_value": 0, **codec_kw}
        if zarr_format == 3:
            kw.update(shards=u, dimension_names=list(names))
        else:
            kw.update(chunk_key_encoding={"name": "v2", "separator": "/"})
        arrays.append((group.create_array(**kw), u))
    if math.prod(shape) == 0:
        return arrays
    if client is not None:
        distributed.write_pyramid(client, data, arrays, steps, method, progress)
        return arrays
    block = local.block_shape(shape, arrays[0][1], arrays[0][0].chunks, steps, nlevels,
                              source_chunks)
    in_flight = local.WRITES_IN_FLIGHT["view" if isinstance(src, np.ndarray) else "copy"]
    local.write_pyramid(read, shape, dtype, arrays, steps, method, block, progress, in_flight,
                        on_block=on_block)
    return arrays
