"""The streaming pyramid engine, OME-agnostic: zarr arrays in, zarr arrays out.

- :mod:`.layout`: chunk and shard defaults, level count, compressors by name;
- :mod:`.sources`: numpy, dask and zarr sources behind one read function;
- :mod:`.local`: the single-process writer (block by block, each shard written once);
- :mod:`.distributed`: the same pyramid on a dask.distributed cluster;
- :mod:`.levels`: creates a pyramid's level arrays in a group and fills them (here or
  on a cluster).

:mod:`omezarr_fast.ome` puts OME-Zarr metadata around it.
"""
