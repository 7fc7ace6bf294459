"""open_file: one entry point that tells the formats apart by name and opens the right reader."""
from __future__ import annotations

import os

from omezarr_fast.inputs.errors import InputError
from omezarr_fast.inputs.model import InputFile

H5_SUFFIXES = (".h5", ".hdf5", ".hdf", ".he5")
TIFF_SUFFIXES = (".tif", ".tiff", ".btf", ".tf8", ".ome.tif", ".ome.tiff")


def split_hdf5(path: str) -> tuple[str, str | None] | None:
    """"file.h5:/dataset" -> ("file.h5", "/dataset"); "file.h5" -> ("file.h5", None); else None."""
    low = path.lower()
    for ext in H5_SUFFIXES:
        i = low.find(ext + ":")
        if i >= 0:
            return path[:i + len(ext)], path[i + len(ext) + 1:] or None
    if low.endswith(H5_SUFFIXES):
        return path, None
    return None


def open_file(path: str | os.PathLike, *, axes=None, dataset: str | None = None) -> InputFile:
    """Opens an image file lazily: TIFF / OME-TIFF / ImageJ / pyramidal TIFF, HDF5, .npy, zarr / OME-Zarr.

    ``axes`` names the input's axes in its own order (e.g. "zyx") when the
    file does not (or names them wrongly); it applies to every image in the
    file. HDF5: ``file.h5:/dataset`` or ``dataset=``; without one the file
    must hold a single dataset. Close the result (or use ``with``) to close
    the file.
    """
    path = os.fspath(path)
    h5 = split_hdf5(path)
    if h5 is not None:
        from omezarr_fast.inputs.hdf5 import open_hdf5

        file, ds = h5
        if not os.path.exists(file):
            raise InputError(f"no such file: {file}")
        return open_hdf5(file, dataset or ds, axes)
    if dataset is not None:
        raise InputError(f"dataset={dataset!r} applies to HDF5 files; {path} is not one")
    if not os.path.exists(path):
        raise InputError(f"no such file or directory: {path}")
    low = path.lower().rstrip("/")
    if low.endswith(".npy"):
        from omezarr_fast.inputs.npy import open_npy

        return open_npy(path, axes)
    if low.endswith(TIFF_SUFFIXES):
        from omezarr_fast.inputs.tiff import open_tiff

        return open_tiff(path, axes)
    if os.path.isdir(path):
        from omezarr_fast.inputs.zarr_input import open_zarr

        return open_zarr(path, axes)
    raise InputError(f"cannot tell what {path} is: expected a .tif/.tiff, an HDF5 file (file.h5 or "
                     "file.h5:/dataset), a .npy or a zarr / OME-Zarr directory")
