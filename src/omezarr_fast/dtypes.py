"""Which numpy dtypes the native core handles, and their byte order in memory.

One rule for the zarr codec classes (:mod:`omezarr_fast.codecs`) and the codec
pipeline (:mod:`omezarr_fast.pipeline`); the binding (``_codecs.pxi``) checks the
same kinds, and a test holds the two together.
"""
from __future__ import annotations

import sys

import numpy as np

__all__ = ["NATIVE_KINDS", "memory_endian", "not_native"]

# Fixed-size numbers: bool, integers, floats, complex, timedelta and datetime.
NATIVE_KINDS = "biufcmM"


def not_native(dt: np.dtype) -> str | None:
    """Why the native core cannot run ``dt`` (a reason to log), or None when it can."""
    if dt.kind not in NATIVE_KINDS or dt.fields is not None or dt.subdtype is not None:
        return f"dtype {dt} is not a fixed-size number"
    if dt.kind in "mM" and np.datetime_data(dt)[0] == "generic":
        return f"dtype {dt} has a generic time unit"
    return None


def memory_endian(dt: np.dtype) -> str:
    """"little" or "big": how ``dt``'s values lie in memory (native order: this machine's)."""
    if dt.byteorder == ">":
        return "big"
    if dt.byteorder == "<":
        return "little"
    return sys.byteorder
