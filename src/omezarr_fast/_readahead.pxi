# Read-ahead of local file ranges before read tasks run (csrc/readahead.c).
from omezarr_fast._lib.readahead cimport ozf_readahead_set, ozf_readahead_get


def set_readahead(bint on):
    """Turn the kernel read-ahead advice for local reads on (the default) or off."""
    ozf_readahead_set(1 if on else 0)


def get_readahead():
    """True when local reads advise the kernel of their byte ranges first."""
    return ozf_readahead_get() != 0
