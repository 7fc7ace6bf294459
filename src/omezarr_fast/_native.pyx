# cython: language_level=3
"""The native core: one extension so the process has one thread pool.

Each concern lives in its own include file; this module only stitches them
together.  Rule of the house: validate and allocate in Python-visible code,
call C with the GIL released, map C errors to Python exceptions.
"""
include "_common.pxi"
include "_pool.pxi"
include "_downsample.pxi"
include "_codecs.pxi"
include "_shard.pxi"
include "_fileio.pxi"
include "_readahead.pxi"
include "_tiff.pxi"
