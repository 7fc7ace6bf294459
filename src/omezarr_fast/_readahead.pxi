# How local reads get their bytes ahead of the decode (csrc/ringread.c, csrc/readahead.c).
from omezarr_fast._lib.readahead cimport (ozf_readahead_set, ozf_readahead_get, ozf_ring_available,
                                          ozf_ring_set, ozf_ring_get)

import os as _os

# OMEZARR_FAST_IO_URING=0 turns io_uring reads off for the process (then the
# read-ahead advice thread runs, as on builds or kernels without io_uring).
if _os.environ.get("OMEZARR_FAST_IO_URING", "1").strip() == "0":
    ozf_ring_set(0)


def set_readahead(bint on):
    """Turn the kernel read-ahead advice for local reads on (the default) or off.
    It runs where io_uring reads do not (see set_io_uring)."""
    ozf_readahead_set(1 if on else 0)


def get_readahead():
    """True when local reads advise the kernel of their byte ranges first."""
    return ozf_readahead_get() != 0


def io_uring_available():
    """True when this build has io_uring reads and the kernel allows them."""
    return ozf_ring_available() != 0


def set_io_uring(bint on):
    """Read local batches' byte ranges through io_uring (on: the default, where
    available) or through each task's pread with read-ahead advice (off)."""
    ozf_ring_set(1 if on else 0)


def get_io_uring():
    """True when local reads use io_uring (switched on and available)."""
    return ozf_ring_get() != 0 and ozf_ring_available() != 0
