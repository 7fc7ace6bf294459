"""Pyramid writing: omezarr_fast.write_image against ome-zarr-py and ngff-zarr.

A 5-level pyramid (factor 2 on z, y and x per level) of a microscopy-like uint16
volume (benchmarks/data.py), sharded, zstd level 3, OME-Zarr 0.5, written by:

- ours (numpy input), and ours streaming from a zarr array on disk;
- ome-zarr-py ``write_image`` with ``Methods.LOCAL_MEAN`` (dask);
- ngff-zarr ``to_multiscales(ITKWASM_BIN_SHRINK)`` + ``to_ngff_zarr``.

Every tool gets the same chunks and shards (our defaults for the shape) and zstd-3.
Each run is its own subprocess (peak RSS = its VmHWM, that run alone); the
tools are interleaved per round and the best of N rounds is kept.  "RSS - input" is
the peak minus the RSS right after loading the input.  The codec limit is the
single-thread zstd-3 encode time of all levels' bytes (level-0 speed measured on the
same data in this run) divided by the core count.  CPU (s) is user+system time of
the run, all threads: on a shared machine it is steadier than wall time.

    PYTHONPATH=src python benchmarks/compare_pyramid.py [--size 64x1024x1024] [--rounds 2]

The default size is the issue's 128x2048x2048 (1 GiB; the input is generated once
and cached as .npy under --cache, which takes minutes).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from data import best_of_rounds, default_layout, microscopy_like, ngff_zarr_pyramid, peak_rss_mb  # noqa: E402

TOOLS = ("ours", "ours-zarr-src", "ome-zarr-py", "ngff-zarr")
LEVELS = 5



def worker(tool, data_path, src_zarr, out, shape):
    import warnings

    warnings.simplefilter("ignore")
    chunks, shards = default_layout(shape)
    # Import the tool first so "RSS - input" measures working memory, not code.
    if tool.startswith("ours"):
        import omezarr_fast.ome.image  # noqa: F401
    elif tool == "ome-zarr-py":
        import ome_zarr.writer  # noqa: F401
    else:
        import ngff_zarr  # noqa: F401
    if tool == "ours-zarr-src":
        import zarr
        data = zarr.open_array(src_zarr, mode="r")
    else:
        data = np.load(data_path)
    base = peak_rss_mb()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = ru.ru_utime + ru.ru_stime
    t0 = time.perf_counter()
    if tool.startswith("ours"):
        from omezarr_fast.ome.image import write_image
        write_image(data, out, chunks=chunks, shards=shards, levels=LEVELS, codec="zstd",
                    clevel=3, progress=False)
    elif tool == "ome-zarr-py":
        import zarr
        from ome_zarr.scale import Methods
        from ome_zarr.writer import write_image as oz_write
        from zarr.codecs import ZstdCodec
        group = zarr.open_group(out, mode="w", zarr_format=3)
        factors = [{"z": 2 ** k, "y": 2 ** k, "x": 2 ** k} for k in range(1, LEVELS)]
        oz_write(data, group, axes="zyx", scale_factors=factors, method=Methods.LOCAL_MEAN,
                 storage_options={"chunks": chunks, "shards": shards,
                                  "compressor": ZstdCodec(level=3)})
    elif tool == "ngff-zarr":
        ngff_zarr_pyramid(data, out, chunks, shards, LEVELS)
    else:
        raise SystemExit(f"unknown tool {tool}")
    dt = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    cpu = ru.ru_utime + ru.ru_stime - cpu0
    print(json.dumps({"time": dt, "cpu": cpu, "peak_mb": peak_rss_mb(), "base_mb": base}))


def prepare(shape, cache: Path):
    cache.mkdir(parents=True, exist_ok=True)
    tag = "x".join(map(str, shape))
    npy = cache / f"microscopy_{tag}.npy"
    src = cache / f"microscopy_{tag}.zarr"
    if not npy.exists():
        print(f"generating {tag} (cached in {npy}) ...", file=sys.stderr)
        np.save(npy, microscopy_like(shape, np.uint16, 0))
    if not src.exists():
        import zarr
        data = np.load(npy, mmap_mode="r")
        chunks, shards = default_layout(shape)
        arr = zarr.create_array(str(src), shape=shape, dtype=np.uint16, chunks=chunks,
                                shards=shards)
        for z in range(0, shape[0], shards[0]):
            arr[z:z + shards[0]] = data[z:z + shards[0]]
    return npy, src


def codec_limit(npy, shape, cores):
    """Seconds to zstd-3-encode every level's bytes: 1 thread speed x cores."""
    import zstandard

    data = np.load(npy, mmap_mode="r")
    chunks, _ = default_layout(shape)
    sample = np.ascontiguousarray(data[: chunks[0], : 8 * chunks[1], : 4 * chunks[2]])
    pieces = [np.ascontiguousarray(sample[:, i:i + chunks[1], j:j + chunks[2]]).tobytes()
              for i in range(0, sample.shape[1], chunks[1])
              for j in range(0, sample.shape[2], chunks[2])]
    c = zstandard.ZstdCompressor(level=3)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for p in pieces:
            c.compress(p)
        best = min(best, time.perf_counter() - t0)
    speed = sum(len(p) for p in pieces) / best
    total = sum(np.prod([-(-s // 2 ** k) for s in shape]) * 2 for k in range(LEVELS))
    return total / speed / cores, speed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="128x2048x2048", help="ZxYxX (default 128x2048x2048)")
    ap.add_argument("--rounds", type=int, default=1, help="best of N interleaved rounds")
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "omezarr_fast_bench"))
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--src", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    shape = tuple(int(x) for x in args.size.lower().split("x"))
    if args.worker:
        worker(args.worker, args.data, args.src, args.out, shape)
        return
    tools = [t for t in args.tools.split(",") if t]
    npy, src = prepare(shape, Path(args.cache))
    import omezarr_fast
    cores = os.cpu_count() or 1
    limit, speed = codec_limit(npy, shape, cores)
    nbytes = int(np.prod(shape)) * 2
    best = best_of_rounds(__file__, tools, args.rounds,
                          ["--data", str(npy), "--src", str(src), "--size", args.size], "pyr_")
    chunks, shards = default_layout(shape)
    print(f"\n{args.size} uint16 ({nbytes / 2**20:.0f} MiB), {LEVELS} levels, chunks {chunks}, "
          f"shards {shards}, zstd-3; {cores} cores, {omezarr_fast.get_num_threads()} threads; "
          f"best of {args.rounds}\n")
    print(f"codec limit: {limit:.2f} s (zstd-3 1-thread {speed / 1e6:.0f} MB/s x {cores})\n")
    ours = best.get("ours", {}).get("time")
    ours_cpu = best.get("ours", {}).get("cpu")
    print("| tool | time (s) | ratio vs ours | CPU (s) | CPU ratio vs ours | peak RSS (MB) | "
          "RSS - input (MB) | (RSS - input) / image |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for tool in tools:
        if tool not in best:
            print(f"| {tool} | failed | | | | | | |")
            continue
        b = best[tool]
        extra = b["peak_mb"] - b["base_mb"]
        ratio = f"{b['time'] / ours:.2f}x" if ours else "-"
        cratio = f"{b['cpu'] / ours_cpu:.2f}x" if ours_cpu else "-"
        print(f"| {tool} | {b['time']:.2f} | {ratio} | {b['cpu']:.2f} | {cratio} | "
              f"{b['peak_mb']:.0f} | {extra:.0f} | {extra * 2**20 / nbytes:.0%} |")
    if ours:
        print(f"\nours vs codec limit: {limit / ours:.0%} of the limit")
    print("\n(ours-zarr-src: 'RSS - input' is the peak RSS minus the RSS with the libraries imported.)")


if __name__ == "__main__":
    main()
