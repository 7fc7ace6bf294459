"""The zarr integration: a CodecPipeline whose chunk work runs in C.

- :mod:`.core`: the pipeline's read and write paths (windows, prefetch, decode, encode);
- :mod:`.plan`: zarr codec objects -> a native chain, the v2 compressor map, the dtype rule;
- :mod:`.selection`: chunk selections as native boxes;
- :mod:`.store_io`: local files, store reads and writes, shard range coalescing;
- :mod:`.regions`: :func:`read_regions`, many boxes of one array in one native call;
- ``_retry``: retries of transient store failures; ``_zarr_compat``: the one importer
  of zarr's private names.

Importing this package registers :class:`CodecPipeline` with zarr under the
name ``"omezarr_fast.CodecPipeline"`` (the installed ``zarr.codec_pipeline``
entry point does the same without importing anything first).
"""
from zarr.registry import register_pipeline

from omezarr_fast.pipeline import core
from omezarr_fast.pipeline.core import pipeline_info
from omezarr_fast.pipeline.regions import read_regions

__all__ = ["CodecPipeline", "pipeline_info", "read_regions"]


class CodecPipeline(core.CodecPipeline):
    """The native zarr codec pipeline; zarr's registry key is "omezarr_fast.CodecPipeline"
    (see :mod:`omezarr_fast.pipeline.core`)."""

    # zarr's registry names a pipeline by its class's module and qualified name, and
    # pickle finds it by them: both say omezarr_fast.CodecPipeline, the public path.
    __module__ = "omezarr_fast"


register_pipeline(CodecPipeline)
