"""omezarr_fast: fast chunk I/O for OME-Zarr.

A compiled core (C in csrc/, bound by Cython) behind a small Python layer:
native zarr codecs, a zarr codec pipeline, downsampling and pyramids.
"""
from omezarr_fast._threads import default_num_threads, get_num_threads, set_num_threads
from omezarr_fast.downsample import downsample, downsample_levels
from omezarr_fast.config import disable, enable, enabled

from omezarr_fast import pipeline as _pipeline
from omezarr_fast.pipeline import pipeline_info

__version__ = "0.1.0"


class CodecPipeline(_pipeline.CodecPipeline):
    """The native zarr codec pipeline; zarr's registry key is
    "omezarr_fast.CodecPipeline" (see omezarr_fast.pipeline)."""


def _register() -> None:
    from zarr.registry import register_pipeline

    register_pipeline(CodecPipeline)


_register()

set_num_threads(default_num_threads())

from omezarr_fast.image import open_image, open_plate, write_image, write_labels  # noqa: E402
from omezarr_fast.plate_writer import write_plate  # noqa: E402
from omezarr_fast.regions import read_regions  # noqa: E402
from omezarr_fast.upgrade import upgrade_path  # noqa: E402

__all__ = [
    "CodecPipeline", "__version__", "disable", "downsample", "downsample_levels", "enable",
    "enabled", "get_num_threads", "open_image", "open_plate", "pipeline_info", "read_regions", "set_num_threads",
    "upgrade_path", "write_image", "write_labels", "write_plate",
]
