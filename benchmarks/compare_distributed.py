"""Pyramid writing on a dask.distributed cluster: ours against our single-process writer
and ngff-zarr.

The source is a dask array over a sharded zarr array on disk (the microscopy-like volume
of benchmarks/data.py, cached under --cache), one dask chunk per source shard; the
output is a 5-level OME-Zarr 0.5 pyramid (factor 2 on z, y, x), our default chunks and
shards for the shape, zstd level 3.  Runs:

- ours-cluster: ``write_image(dask_array, client=client)`` on a LocalCluster of
  --workers worker processes x 1 thread (one task per output shard region);
- ours-1-process: ``write_image(dask_array, client=False)`` in this process;
- ngff-zarr-cluster: ``to_multiscales(ITKWASM_BIN_SHRINK)`` + ``to_ngff_zarr`` with the
  same chunks, shards and codec, computed on the same cluster (the default client);
- ngff-zarr-threads: the same on dask's threaded scheduler in this process.

The cluster is started once, before the timings (its start-up is not timed).  The tools
are interleaved per round and the best of --rounds is kept.  Wall time only (the work
runs in several processes).

    PYTHONPATH=src python benchmarks/compare_distributed.py [--size 64x1024x1024] [--rounds 3]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from data import default_layout, microscopy_like, ngff_zarr_pyramid  # noqa: E402

TOOLS = ("ours-cluster", "ours-1-process", "ngff-zarr-cluster", "ngff-zarr-threads")
LEVELS = 5



def prepare(shape, cache: Path) -> Path:
    """A sharded zarr copy of the microscopy-like volume (generated once)."""
    import zarr

    cache.mkdir(parents=True, exist_ok=True)
    tag = "x".join(map(str, shape))
    src = cache / f"microscopy_{tag}.zarr"
    if not src.exists():
        print(f"generating {tag} (cached in {src}) ...", file=sys.stderr)
        data = microscopy_like(shape, np.uint16, 0)
        chunks, shards = default_layout(shape)
        arr = zarr.create_array(str(src), shape=shape, dtype=np.uint16, chunks=chunks,
                                shards=shards)
        arr[:] = data
    return src


def run(tool, src, out, shape, client):
    import dask
    import dask.array as da
    import zarr

    import omezarr_fast

    chunks, shards = default_layout(shape)
    with omezarr_fast.enabled():
        z = zarr.open_array(str(src), mode="r")
    data = da.from_array(z, chunks=z.shards, inline_array=True)
    t0 = time.perf_counter()
    if tool.startswith("ours"):
        omezarr_fast.write_image(data, out, chunks=chunks, shards=shards, levels=LEVELS,
                                 codec="zstd", clevel=3, progress=False,
                                 client=client if tool == "ours-cluster" else False)
    else:
        sched = {"scheduler": client} if tool == "ngff-zarr-cluster" else {"scheduler": "threads"}
        with dask.config.set(**sched), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ngff_zarr_pyramid(data, out, chunks, shards, LEVELS)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="64x1024x1024", help="ZxYxX (default 64x1024x1024)")
    ap.add_argument("--rounds", type=int, default=3, help="best of N interleaved rounds")
    ap.add_argument("--workers", type=int, default=2, help="cluster worker processes")
    ap.add_argument("--native-threads", type=int, default=None,
                    help="native pool threads in each worker (default: every core)")
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "omezarr_fast_bench"))
    args = ap.parse_args()
    shape = tuple(int(x) for x in args.size.lower().split("x"))
    tools = [t for t in args.tools.split(",") if t]
    src = prepare(shape, Path(args.cache))

    from distributed import Client, LocalCluster

    import omezarr_fast

    best: dict[str, float] = {}
    failed: dict[str, str] = {}
    workdir = Path(tempfile.mkdtemp(prefix="dist_"))
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, \
            Client(cluster, set_as_default=False) as client:
        if args.native_threads:
            client.run(omezarr_fast.set_num_threads, args.native_threads)
        native = client.run(omezarr_fast.get_num_threads)
        try:
            for r in range(args.rounds):
                for tool in tools:
                    out = workdir / f"{tool}.zarr"
                    shutil.rmtree(out, ignore_errors=True)
                    try:
                        t = run(tool, src, out, shape, client)
                    except Exception as e:  # noqa: BLE001 - a peer failing is a result
                        root = e  # the innermost cause says why (e.g. what did not pickle)
                        while root.__cause__ or root.__context__:
                            root = root.__cause__ or root.__context__
                        msg = str(root).splitlines()[0] if str(root) else ""
                        failed[tool] = f"{type(root).__name__}: {msg}"[:120]
                        print(f"round {r} {tool} failed: {failed[tool]}", file=sys.stderr)
                        continue
                    print(f"round {r} {tool}: {t:.2f} s", file=sys.stderr)
                    best[tool] = min(best.get(tool, float("inf")), t)
                    shutil.rmtree(out, ignore_errors=True)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    chunks, shards = default_layout(shape)
    nbytes = int(np.prod(shape)) * 2
    print(f"\n{args.size} uint16 ({nbytes / 2**20:.0f} MiB) from a sharded zarr source via dask, "
          f"{LEVELS} levels, chunks {chunks}, shards {shards}, zstd-3; {os.cpu_count()} cores; "
          f"cluster: {args.workers} worker processes x 1 thread (native pool "
          f"{sorted(set(native.values()))} threads each); best of {args.rounds}\n")
    ref = best.get("ours-cluster")
    print("| tool | time (s) | ratio vs ours-cluster |")
    print("|---|---:|---:|")
    for tool in tools:
        if tool not in best:
            print(f"| {tool} | failed: {failed.get(tool, '?')} | |")
            continue
        ratio = f"{best[tool] / ref:.2f}x" if ref else "-"
        print(f"| {tool} | {best[tool]:.2f} | {ratio} |")


if __name__ == "__main__":
    main()
