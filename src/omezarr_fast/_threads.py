"""Size of the native thread pool."""
import os

ENV_VAR = "OMEZARR_FAST_NUM_THREADS"


def default_num_threads() -> int:
    """$OMEZARR_FAST_NUM_THREADS, else the CPUs this process may run on."""
    value = os.environ.get(ENV_VAR)
    if value:
        try:
            n = int(value)
        except ValueError:
            raise ValueError(f"{ENV_VAR} must be a positive integer, got {value!r}") from None
        if n < 1:
            raise ValueError(f"{ENV_VAR} must be a positive integer, got {value!r}")
        return n
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def set_num_threads(n: int) -> None:
    """Use n threads (the calling thread included) for native work."""
    from omezarr_fast._extension import native

    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    native.set_pool_threads(n)


def get_num_threads() -> int:
    from omezarr_fast._extension import native

    return native.get_pool_threads()
