"""OME-Zarr 0.4 -> 0.5 upgrade with sharding: omezarr_fast.upgrade_path against peers.

The source is a 0.4 image (zarr v2, zstd-3, chunks of ~1 MiB) of a microscopy-like
uint16 volume (benchmarks/data.py) with 3 levels.  Every tool rewrites all levels as zarr
v3 with the same inner chunks, our default shards and zstd-3 (the pyramid is copied,
not rebuilt), in blocks of whole shards:

- ours: ``omezarr_fast.upgrade_path(src, dst, shards=...)`` (metadata too) with the
  default ``codec="keep"``: same chunks and compressor, so the encoded chunks are gathered
  into shards without decoding;
- ours-reencode: the same with ``codec="zstd"``: every chunk decoded and encoded again
  (what the peers do);
- tensorstore: the ome2024-ngff-challenge resave tool's engine, ``zarr`` -> ``zarr3``
  driver with ``sharding_indexed``, one write per shard-aligned block;
- zarr-python: ``zarr.create_array(..., shards=...)`` and ``dst[block] = src[block]``
  with zarr's default codec pipeline.

Each run is its own subprocess (peak RSS = its VmHWM); tools are interleaved per round
and the best of N rounds is kept.

    PYTHONPATH=src python benchmarks/compare_upgrade.py [--size 64x1024x1024] [--rounds 3]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from data import best_of_rounds, default_layout, microscopy_like, peak_rss_mb  # noqa: E402

TOOLS = ("ours", "ours-reencode", "tensorstore", "zarr-python")
LEVELS = 3



def blocks(shape, shards):
    """Shard-aligned blocks of ~64 MiB (what upgrade_path uses too)."""
    from omezarr_fast.ome.upgrade import copy_block_shape

    block = copy_block_shape(shape, shards, shards, 2)
    for idx in np.ndindex(*[-(-n // b) for n, b in zip(shape, block)]):
        yield tuple(slice(i * b, min((i + 1) * b, n)) for i, b, n in zip(idx, block, shape))


def level_layout(shape, chunks, shards):
    from omezarr_fast.pyramid.layout import level_layout

    return level_layout(shape, chunks, shards)


def worker(tool, src, out, shape):
    import warnings

    warnings.simplefilter("ignore")
    import zarr

    chunks, shards = default_layout(shape)
    levels = [zarr.open_array(f"{src}/{k}", mode="r") for k in range(LEVELS)]
    if tool.startswith("ours"):
        import omezarr_fast  # noqa: F401
    elif tool == "tensorstore":
        import tensorstore as ts
    base = peak_rss_mb()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = ru.ru_utime + ru.ru_stime
    t0 = time.perf_counter()
    if tool.startswith("ours"):
        from omezarr_fast import upgrade_path
        upgrade_path(src, out, chunks=chunks, shards=shards,
                     codec="keep" if tool == "ours" else "zstd", clevel=3, validate=False,
                     progress=False)
    elif tool == "tensorstore":
        for k, a in enumerate(levels):
            c, s = level_layout(a.shape, chunks, shards)
            spec_src = {"driver": "zarr", "kvstore": {"driver": "file", "path": f"{src}/{k}"}}
            spec_dst = {
                "driver": "zarr3", "kvstore": {"driver": "file", "path": f"{out}/{k}"},
                "metadata": {
                    "shape": list(a.shape), "data_type": "uint16",
                    "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(s)}},
                    "dimension_names": ["z", "y", "x"],
                    "codecs": [{"name": "sharding_indexed", "configuration": {
                        "chunk_shape": list(c),
                        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                                   {"name": "zstd", "configuration": {"level": 3}}],
                        "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                                         {"name": "crc32c"}]}}]},
                "create": True}
            s_ts = ts.open(spec_src).result()
            d_ts = ts.open(spec_dst).result()
            for sl in blocks(a.shape, s):
                d_ts[sl].write(s_ts[sl].read().result()).result()
    elif tool == "zarr-python":
        from zarr.codecs import ZstdCodec
        for k, a in enumerate(levels):
            c, s = level_layout(a.shape, chunks, shards)
            d = zarr.create_array(f"{out}/{k}", shape=a.shape, dtype=a.dtype, chunks=c, shards=s,
                                  compressors=ZstdCodec(level=3), dimension_names=["z", "y", "x"])
            for sl in blocks(a.shape, s):
                d[sl] = a[sl]
    else:
        raise SystemExit(f"unknown tool {tool}")
    dt = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"time": dt, "cpu": ru.ru_utime + ru.ru_stime - cpu0,
                      "peak_mb": peak_rss_mb(), "base_mb": base}))


def prepare(shape, cache: Path) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    tag = "x".join(map(str, shape))
    src = cache / f"microscopy_{tag}_v04.ome.zarr"
    if not (src / ".zattrs").exists():
        shutil.rmtree(src, ignore_errors=True)
        from omezarr_fast import write_image
        print(f"generating {tag} 0.4 source (cached in {src}) ...", file=sys.stderr)
        chunks, _ = default_layout(shape)
        write_image(microscopy_like(shape, np.uint16, 0), src, chunks=chunks, levels=LEVELS,
                    codec="zstd", clevel=3, version="0.4", progress=False)
    return src


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="64x1024x1024", help="ZxYxX (default 64x1024x1024)")
    ap.add_argument("--rounds", type=int, default=3, help="best of N interleaved rounds")
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "omezarr_fast_bench"))
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--src", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    shape = tuple(int(x) for x in args.size.lower().split("x"))
    if args.worker:
        worker(args.worker, args.src, args.out, shape)
        return
    tools = [t for t in args.tools.split(",") if t]
    src = prepare(shape, Path(args.cache))
    import omezarr_fast
    nbytes = sum(math.prod(-(-n // 2 ** k) for n in shape) for k in range(LEVELS)) * 2
    best = best_of_rounds(__file__, tools, args.rounds, ["--src", str(src), "--size", args.size],
                          "upg_")
    chunks, shards = default_layout(shape)
    cores = os.cpu_count() or 1
    print(f"\n{args.size} uint16, {LEVELS} levels ({nbytes / 2**20:.0f} MiB in all), 0.4 zstd-3 "
          f"chunks {chunks} -> 0.5 shards {shards}, zstd-3; {cores} cores, "
          f"{omezarr_fast.get_num_threads()} threads; best of {args.rounds}\n")
    ours = best.get("ours", {}).get("time")
    ours_cpu = best.get("ours", {}).get("cpu")
    print("| tool | time (s) | MB/s | time vs ours | CPU (s) | CPU vs ours | "
          "peak RSS - libs (MB) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for tool in tools:
        if tool not in best:
            print(f"| {tool} | failed | | | | | |")
            continue
        b = best[tool]
        ratio = f"{b['time'] / ours:.2f}x" if ours else "-"
        cratio = f"{b['cpu'] / ours_cpu:.2f}x" if ours_cpu else "-"
        print(f"| {tool} | {b['time']:.2f} | {nbytes / b['time'] / 1e6:.0f} | {ratio} | "
              f"{b['cpu']:.2f} | {cratio} | {b['peak_mb'] - b['base_mb']:.0f} |")


if __name__ == "__main__":
    main()
