"""The native extension, its thread pool sized when it is first loaded.

The C pool starts with one thread.  Importing the extension from here sizes it
once per process from ``OMEZARR_FAST_NUM_THREADS`` (else the CPUs this process
may run on), so every Python module that does native work imports it as
``from omezarr_fast._extension import native`` and the package's own
``__init__`` need not load it (``import omezarr_fast.ngff`` stays pure Python).
"""
from omezarr_fast import _native as native
from omezarr_fast._threads import default_num_threads

__all__ = ["native"]

native.set_pool_threads(default_num_threads())
