"""omezarr_fast: fast chunk I/O for OME-Zarr.

A compiled core (C in csrc/, bound by Cython) behind a small Python layer:
native zarr codecs, a zarr codec pipeline, downsampling and pyramids.

The names below load on first use (PEP 562): ``import omezarr_fast.ngff`` reads
metadata without loading zarr or the native extension.  The pipeline registers
itself with zarr as "omezarr_fast.CodecPipeline" when it loads, which zarr makes
happen through the installed ``zarr.codec_pipeline`` entry point, or
:func:`enable`, or any use of the names here.
"""
import sys
from importlib import import_module
from types import ModuleType

from omezarr_fast._threads import default_num_threads
from omezarr_fast._version import __version__

# A bad OMEZARR_FAST_NUM_THREADS fails here, naming the variable, not at the
# first native call.
default_num_threads()

# Public name -> the module that defines it.
_LAZY = {
    "CodecPipeline": "omezarr_fast.pipeline",
    "pipeline_info": "omezarr_fast.pipeline",
    "read_regions": "omezarr_fast.pipeline",
    "disable": "omezarr_fast.config",
    "enable": "omezarr_fast.config",
    "enabled": "omezarr_fast.config",
    "downsample": "omezarr_fast.downsample",
    "downsample_levels": "omezarr_fast.downsample",
    "get_num_threads": "omezarr_fast._threads",
    "set_num_threads": "omezarr_fast._threads",
    "open_image": "omezarr_fast.ome.image",
    "write_image": "omezarr_fast.ome.image",
    "write_labels": "omezarr_fast.ome.labels",
    "open_plate": "omezarr_fast.ome.plate",
    "write_plate": "omezarr_fast.ome.plate",
    "upgrade_path": "omezarr_fast.ome.upgrade",
    "rebuild_pyramid": "omezarr_fast.ome.image",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


class _Package(ModuleType):
    """The package module.  ``omezarr_fast.downsample`` is the function, as the
    package's public name, though a module has that name too: when the import
    system sets the loaded submodule on the package, the function takes its place
    (``from omezarr_fast.downsample import ...`` still finds the module)."""

    def __setattr__(self, name: str, value) -> None:
        if name == "downsample" and isinstance(value, ModuleType):
            value = value.downsample
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
