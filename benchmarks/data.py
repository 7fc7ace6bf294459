"""What the comparison scripts share: the package's synthetic sample generator,
the default layout for a shape, the peak RSS of the running process, and the
pipeline peers (zarr's Batched and Fused pipelines, zarrs, tensorstore) with the
layouts and reads that compare_pipeline.py and compare_cold.py both time."""
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from omezarr_fast.samples import microscopy_like

__all__ = ["PIPELINES", "best_of_rounds", "default_layout", "microscopy_like", "ngff_zarr_pyramid",
           "open_zarr", "patch_corners", "peak_rss_mb", "pipeline_layouts", "read_full", "read_patches",
           "read_regions_patches", "timed", "ts", "ts_open"]

# zarr codec pipelines by peer name; "tensorstore" is the other peer (ts, None if absent).
PIPELINES = {
    "omezarr_fast": "omezarr_fast.CodecPipeline",
    "zarr Batched": "zarr.core.codec_pipeline.BatchedCodecPipeline",
    "zarr Fused": "zarr.core.codec_pipeline.FusedCodecPipeline",
}
try:
    import zarrs  # noqa: F401
    PIPELINES["zarrs"] = "zarrs.ZarrsCodecPipeline"
except ImportError:
    pass
try:
    import tensorstore as ts
except ImportError:
    ts = None


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


def pipeline_layouts(shape):
    """compare_pipeline.py's layouts, clipped to shape: name -> zarr.create_array kwargs."""
    from zarr.codecs import BloscCodec, ZstdCodec

    s = tuple(min(a, b) for a, b in zip(shape, (64, 512, 512)))
    c = tuple(min(a, b) for a, b in zip(shape, (64, 256, 256)))
    zstd = [ZstdCodec(level=3)]
    return {
        "sharded zstd-3": dict(chunks=(32, 32, 32), shards=s, compressors=zstd),
        "unsharded zstd-3": dict(chunks=c, compressors=zstd),
        "sharded blosc-zstd-5": dict(chunks=(32, 32, 32), shards=s,
                                     compressors=[BloscCodec(cname="zstd", clevel=5, shuffle="shuffle")]),
    }


def patch_corners(shape, n=64, size=64, seed=1) -> list[tuple[int, ...]]:
    """n random corners of size^3 patches inside shape (the same for every script)."""
    rng = np.random.default_rng(seed)
    return [tuple(int(rng.integers(0, max(1, s - size + 1))) for s in shape) for _ in range(n)]


def open_zarr(path, peer):
    import zarr

    with zarr.config.set({"codec_pipeline.path": PIPELINES[peer]}):
        return zarr.open_array(zarr.storage.LocalStore(path), mode="r+")


def ts_open(path):
    return ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": str(path)}}).result()


def read_full(peer, path=None, array=None):
    """The whole array, opened from path or given (an open zarr array or tensorstore)."""
    if peer == "tensorstore":
        return (array if array is not None else ts_open(path)).read().result()
    return (array if array is not None else open_zarr(path, peer))[:]


def read_patches(peer, path=None, corners=(), concurrent=True, array=None, size=64):
    """size^3 patches at corners, one at a time (zarr peers; tensorstore with
    concurrent=False) or all in flight at once (tensorstore's own way, where
    concurrent reads of one chunk share its decode)."""
    if peer == "tensorstore":
        a = array if array is not None else ts_open(path)
        if not concurrent:
            return [a[z:z + size, y:y + size, x:x + size].read().result() for z, y, x in corners]
        futs = [a[z:z + size, y:y + size, x:x + size].read() for z, y, x in corners]
        return [f.result() for f in futs]
    a = array if array is not None else open_zarr(path, peer)
    return [a[z:z + size, y:y + size, x:x + size] for z, y, x in corners]


def read_regions_patches(path=None, corners=(), data=None, array=None, size=64, one_at_a_time=False):
    """The same patches through omezarr_fast.read_regions, all in one call (or,
    one_at_a_time, one call per patch: the same reads as ``arr[...]`` without
    zarr's indexing and event-loop hop); checks the first four against data
    when given."""
    import omezarr_fast

    boxes = [(slice(z, z + size), slice(y, y + size), slice(x, x + size)) for z, y, x in corners]
    a = array if array is not None else open_zarr(path, "omezarr_fast")
    if one_at_a_time:
        out = [omezarr_fast.read_regions(a, [b])[0] for b in boxes]
    else:
        out = omezarr_fast.read_regions(a, boxes)
    if data is not None:
        assert all(np.array_equal(o, data[b]) for o, b in zip(out[:4], boxes)), "read_regions read wrong data"
    return out


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t
