"""``.npy`` files, memory-mapped: reading a block touches only its pages."""
from __future__ import annotations

import numpy as np

from omezarr_fast.inputs.axes import resolve_axes
from omezarr_fast.inputs.errors import InputError
from omezarr_fast.inputs.model import InputFile, InputImage


def open_npy(path: str, axes=None) -> InputFile:
    """A .npy array; a 2-D one is (y, x), any other names its axes only through ``axes``."""
    try:
        a = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as e:
        raise InputError(f"cannot read {path} as .npy: {e}") from None
    source = f"{path} (npy)"
    img = InputImage(a, resolve_axes("yx" if a.ndim == 2 else None, a.ndim, axes, source), "", source=source)
    return InputFile(path, "npy", [img])
