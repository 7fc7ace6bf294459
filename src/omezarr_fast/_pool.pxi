# Thread pool controls (csrc/threadpool.c).
from omezarr_fast._lib.threadpool cimport ozf_pool_set_threads, ozf_pool_get_threads


def set_pool_threads(int n):
    """Set the threads one native call may use (caller included)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    ozf_pool_set_threads(n)


def get_pool_threads():
    return ozf_pool_get_threads()
