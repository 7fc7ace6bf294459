"""omezarr_fast: fast chunk I/O for OME-Zarr.

A compiled core (C in csrc/, bound by Cython) behind a small Python layer:
native zarr codecs, a zarr codec pipeline, downsampling and pyramids.
"""
from omezarr_fast._threads import default_num_threads, get_num_threads, set_num_threads
from omezarr_fast.downsample import downsample, downsample_levels

__version__ = "0.1.0"

set_num_threads(default_num_threads())

__all__ = ["__version__", "downsample", "downsample_levels", "get_num_threads", "set_num_threads"]
