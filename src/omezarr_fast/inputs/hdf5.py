"""HDF5 datasets through h5py (read lazily: slicing an h5py dataset reads only that block).

Metadata, when present:
- dimension labels (``ds.dims[i].label``, HDF5 dimension scales) name the axes;
- an attached dimension scale with two or more values gives that axis' step
  (the pixel size, or the time increment), its ``units``/``unit`` attribute the unit;
- ``element_size_um`` (Fiji, ilastik, BigDataViewer) gives the pixel size in
  micrometers of the space axes, z, y, x in order.
"""
from __future__ import annotations

import math

from omezarr_fast.inputs.axes import axes_from_labels, resolve_axes
from omezarr_fast.inputs.errors import InputError
from omezarr_fast.inputs.model import SPACE_AXES, InputFile, InputImage
from omezarr_fast.inputs.units import SPACE, TIME, normalize_unit

MAX_LISTED = 20


def _need_h5py():
    try:
        import h5py
    except ImportError:
        raise InputError("HDF5 input needs h5py: pip install 'omezarr_fast[cli]'") from None
    return h5py


def list_datasets(f) -> list[str]:
    """Every dataset path in an open h5py file, "/a/b" style."""
    h5py = _need_h5py()
    names = []
    f.visititems(lambda n, o: names.append("/" + n) if isinstance(o, h5py.Dataset) else None)
    return names


def open_hdf5(path: str, dataset: str | None = None, axes=None) -> InputFile:
    """One dataset of an HDF5 file; without ``dataset`` the file must hold exactly one."""
    h5py = _need_h5py()
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise InputError(f"cannot open {path} as HDF5: {e}") from None
    try:
        names = list_datasets(f)
        if dataset is None:
            if len(names) != 1:
                listed = ", ".join(names[:MAX_LISTED]) + (", ..." if len(names) > MAX_LISTED else "")
                raise InputError(f"{path} holds {len(names)} datasets; name one as {path}:/DATASET "
                                 f"(datasets: {listed or 'none'})")
            dataset = names[0]
        if dataset not in f or not isinstance(f[dataset], h5py.Dataset):
            listed = ", ".join(names[:MAX_LISTED]) + (", ..." if len(names) > MAX_LISTED else "")
            raise InputError(f"{path} has no dataset {dataset!r}; datasets: {listed or 'none'}")
        ds = f[dataset]
        source = f"{path}:{ds.name} (HDF5)"
        img = InputImage(ds, None, "", chunks=tuple(ds.chunks) if ds.chunks else None, source=source,
                         name=ds.name.lstrip("/") or None)
        _apply_metadata(img, ds, axes, source)
        return InputFile(path, "hdf5", [img], handles=[f])
    except BaseException:
        f.close()
        raise


def _text(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if hasattr(v, "shape") and v.shape == ():
        return _text(v[()])
    return str(v)


def _apply_metadata(img: InputImage, ds, override, source: str) -> None:
    labels = [d.label for d in ds.dims]
    img.file_axes = ",".join(labels) if any(labels) else ""
    ndim = len(ds.shape)
    esu = ds.attrs.get("element_size_um")
    if esu is not None:
        try:
            esu = [float(v) for v in (esu if hasattr(esu, "__len__") else [esu])]
        except (TypeError, ValueError):
            raise InputError(f"{source}: attribute element_size_um must be numbers, got {esu!r}") from None
        if not all(math.isfinite(v) and v > 0 for v in esu) or not 2 <= len(esu) <= 3:
            raise InputError(f"{source}: attribute element_size_um must be 2 or 3 positive sizes "
                             f"(z, y, x), got {esu}")
    from_file = axes_from_labels(labels) if any(labels) else None
    if from_file is None and (ndim == 2 or (esu is not None and len(esu) == ndim)):
        from_file = SPACE_AXES[-ndim:]      # a plain 2-D dataset, or element sizes for every axis
    img.axes = resolve_axes(from_file, ndim, override, source)
    if img.axes is None:
        return
    space = [a for a in img.axes if a in SPACE_AXES]
    if esu is not None:
        if len(esu) != len(space):
            img.notes.append(f"element_size_um has {len(esu)} sizes but the image has {len(space)} "
                             f"space axes ({''.join(space)}); the sizes are left out")
        else:
            for a, size in zip(space, esu):
                img.pixel_sizes[a], img.units[a] = size, "micrometer"
    for i, a in enumerate(img.axes):
        _apply_scale(img, ds, i, a, source)


def _apply_scale(img: InputImage, ds, i: int, axis: str, source: str) -> None:
    """Step and unit of dimension scale 0 attached to dimension i (only its first two values are read)."""
    if axis == "c" or len(ds.dims[i]) == 0:
        return
    scale = ds.dims[i][0]
    if len(scale.shape) != 1 or scale.shape[0] < 2:
        return
    try:
        v0, v1 = (float(v) for v in scale[:2])
    except (TypeError, ValueError):
        return
    step = v1 - v0
    if not (math.isfinite(step) and step > 0):
        return
    unit_text = _text(scale.attrs.get("units", scale.attrs.get("unit")))
    try:
        unit = normalize_unit(unit_text, TIME if axis == "t" else SPACE,
                              f"{source}: dimension scale {scale.name} units")
    except InputError as e:
        img.notes.append(f"{e}; the unit is left out")
        unit = None
    if axis == "t":
        img.time_increment, img.time_unit = step, unit
    else:
        img.pixel_sizes[axis] = step
        if unit is not None:
            img.units[axis] = unit
        else:
            img.units.pop(axis, None)
