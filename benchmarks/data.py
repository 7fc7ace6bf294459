"""What the comparison scripts share: the package's synthetic sample generator,
the default layout for a shape, and the peak RSS of the running process."""
import json
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from omezarr_fast.samples import microscopy_like

__all__ = ["best_of_rounds", "default_layout", "microscopy_like", "ngff_zarr_pyramid", "peak_rss_mb"]


def default_layout(shape):
    """(chunks, shards) that write_image picks for a 3-D uint16 volume."""
    from omezarr_fast.pyramid.layout import default_chunks, default_shards

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


def ngff_zarr_pyramid(data, out, chunks, shards, levels):
    """The ngff-zarr peer: ITKWASM_BIN_SHRINK pyramid, sharded, zstd-3, OME-Zarr 0.5."""
    import ngff_zarr as nz

    img = nz.to_ngff_image(data, dims=["z", "y", "x"])
    ms = nz.to_multiscales(img, scale_factors=[2 ** k for k in range(1, levels)],
                           method=nz.Methods.ITKWASM_BIN_SHRINK, chunks=dict(zip("zyx", chunks)))
    nz.to_ngff_zarr(out, ms, version="0.5",
                    chunks_per_shard={d: s // c for d, s, c in zip("zyx", shards, chunks)},
                    compressors=[{"name": "zstd", "configuration": {"level": 3, "checksum": False}}])


def best_of_rounds(script, tools, rounds, worker_args, prefix) -> dict[str, dict]:
    """Runs ``script --worker TOOL --out DIR *worker_args`` for every tool, interleaved,
    ``rounds`` times, each in a fresh process; the worker prints one JSON line with at
    least "time" and "peak_mb".  Returns each tool's fastest result (failed tools are
    reported on stderr and left out)."""
    best: dict[str, dict] = {}
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        for r in range(rounds):
            for tool in tools:
                out = workdir / f"{tool}.zarr"
                shutil.rmtree(out, ignore_errors=True)
                cmd = [sys.executable, script, "--worker", tool, "--out", str(out), *worker_args]
                p = subprocess.run(cmd, capture_output=True, text=True, check=False)
                if p.returncode:
                    print(f"{tool} failed: {p.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
                    continue
                res = json.loads(p.stdout.strip().splitlines()[-1])
                print(f"round {r} {tool}: {res['time']:.2f} s, peak {res['peak_mb']:.0f} MB",
                      file=sys.stderr)
                if tool not in best or res["time"] < best[tool]["time"]:
                    best[tool] = res
                shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return best
