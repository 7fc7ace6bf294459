"""What the comparison scripts share: the package's synthetic sample generator,
the default layout for a shape, and the peak RSS of the running process."""
import resource

import numpy as np

from omezarr_fast.samples import microscopy_like

__all__ = ["default_layout", "microscopy_like", "peak_rss_mb"]


def default_layout(shape):
    """(chunks, shards) that write_image picks for a 3-D uint16 volume."""
    from omezarr_fast.image import default_chunks, default_shards

    chunks = default_chunks(shape, np.uint16, [True] * 3)
    return chunks, default_shards(shape, np.uint16, chunks, [True] * 3)


def peak_rss_mb() -> float:
    """Peak RSS of this process image: VmHWM, which (unlike ru_maxrss, kept across
    fork/exec on Linux) starts fresh in an exec'd worker."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
