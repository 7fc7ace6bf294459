"""omezarr_fast.CodecPipeline vs zarr's Batched and Fused pipelines, zarrs and
tensorstore, on one microscopy-like uint16 volume in a local directory.

    python benchmarks/compare_pipeline.py                 # 128x1024x1024 (256 MB)
    python benchmarks/compare_pipeline.py --shape 64,512,512 --repeat 2

Layouts: sharded (shards 64x512x512, inner 32^3, zstd 3), unsharded (chunks
64x256x256, zstd 3), sharded blosc (zstd clevel 5, shuffle).  Per layout:
full read and full write (MB/s of uncompressed data) and 64 random 64^3
patch reads (seconds; tensorstore's concurrently, its own way, and also one
at a time as zarr users read them; ours also all at once with
omezarr_fast.read_regions).  Peers run interleaved (A B C D E, A B C D E, ...),
--repeat rounds; prints the median and the spread (min-max) of each, and ratios
of medians (a lead that holds only in a best-of is not a lead).  Also the codec limit: single-thread zstd-3 (python
zstandard) on the same 32^3 chunks, times the cores.  Prints markdown.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import zarr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import (
    PIPELINES,
    microscopy_like,
    open_zarr,
    patch_corners,
    pipeline_layouts,
    read_full,
    read_patches,
    read_regions_patches,
    timed,
    ts,
    ts_open,
)

import omezarr_fast  # noqa: F401  (registers the pipeline)


def write_full(peer, path, template, data):
    if path.exists():
        shutil.rmtree(path)
    shutil.copytree(template, path)  # metadata only
    if peer == "tensorstore":
        ts_open(path).write(data).result()
    else:
        open_zarr(path, peer)[:] = data


def codec_limit(data):
    import zstandard
    chunks = [np.ascontiguousarray(data[z:z + 32, y:y + 32, x:x + 32])
              for z in range(0, min(64, data.shape[0]), 32)
              for y in range(0, min(256, data.shape[1]), 32) for x in range(0, min(256, data.shape[2]), 32)]
    nbytes = sum(c.nbytes for c in chunks)
    cc, dc = zstandard.ZstdCompressor(level=3), zstandard.ZstdDecompressor()
    enc = [cc.compress(c.tobytes()) for c in chunks]
    te = min(timed(lambda: [cc.compress(c.tobytes()) for c in chunks]) for _ in range(3))
    td = min(timed(lambda: [dc.decompress(e, max_output_size=c.nbytes) for e, c in zip(enc, chunks)])
             for _ in range(3))
    cores = len(os.sched_getaffinity(0))
    return nbytes / td / 1e6 * cores, nbytes / te / 1e6 * cores, cores, nbytes / sum(map(len, enc))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", default="128,1024,1024")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", default=None, help="where to write (default: a temp dir)")
    ap.add_argument("--layouts", default=None, help="comma-separated subset of layout names")
    args = ap.parse_args()
    shape = tuple(int(x) for x in args.shape.split(","))
    peers = list(PIPELINES) + (["tensorstore"] if ts is not None else [])
    root = Path(args.dir or tempfile.mkdtemp(prefix="ozf-bench-"))
    data = microscopy_like(shape, np.uint16, seed=0)
    mb = data.nbytes / 1e6
    corners = patch_corners(shape)
    dec_lim, enc_lim, cores, ratio = codec_limit(data)
    load = os.getloadavg()
    print(f"# pipeline comparison: {shape} uint16 ({mb:.0f} MB), {cores} cores, {args.repeat} rounds, "
          f"interleaved, medians (min-max); zstd-3 ratio {ratio:.2f}; load average {load[0]:.1f} "
          f"{load[1]:.1f} {load[2]:.1f}\n")
    print(f"codec limit (single-thread zstd-3 on 32^3 chunks x {cores}): decode {dec_lim:.0f} MB/s, "
          f"encode {enc_lim:.0f} MB/s\n")
    chosen = pipeline_layouts(shape)
    if args.layouts:
        chosen = {k: v for k, v in chosen.items() if k in args.layouts.split(",")}
    for name, kw in chosen.items():
        ref = root / name.replace(" ", "_")
        template = root / (name.replace(" ", "_") + "_template")
        for p in (ref, template):
            if p.exists():
                shutil.rmtree(p)
        with zarr.config.set({"codec_pipeline.path": PIPELINES["omezarr_fast"]}):
            zarr.create_array(zarr.storage.LocalStore(template), shape=shape, dtype="u2", fill_value=0, **kw)
            a = zarr.create_array(zarr.storage.LocalStore(ref), shape=shape, dtype="u2", fill_value=0, **kw)
            a[:] = data
        times: dict[str, dict[str, list[float]]] = {p: {} for p in peers}

        def add(p, what, t):
            times[p].setdefault(what, []).append(t)
        for _ in range(args.repeat):
            for p in peers:
                out = None

                def r():
                    nonlocal out
                    out = read_full(p, ref)
                add(p, "read", timed(r))
                assert np.array_equal(out, data), f"{p} read wrong data"
                del out
                wpath = root / f"w_{p.replace(' ', '_')}"
                add(p, "write", timed(lambda: write_full(p, wpath, template, data)))
                add(p, "patches", timed(lambda: read_patches(p, ref, corners)))
                if p in ("tensorstore", "omezarr_fast"):  # ours: `patches` is already one at a time
                    add(p, "one_by_one", timed(lambda: read_patches(p, ref, corners, False)))
                if p == "omezarr_fast":  # all 64 boxes in one call, like tensorstore's concurrent reads
                    add(p, "regions", timed(lambda: read_regions_patches(ref, corners, data)))
                    # and one call per box: arr[...] less zarr's own per-read cost
                    add(p, "regions_one", timed(lambda: read_regions_patches(ref, corners, data,
                                                                             one_at_a_time=True)))
            check = read_full("omezarr_fast", root / "w_tensorstore") if ts is not None else None
            if check is not None:
                assert np.array_equal(check, data), "omezarr_fast cannot read what tensorstore wrote"
        med = {p: {k: statistics.median(v) for k, v in t.items()} for p, t in times.items()}

        def mbs(p, k):
            v = times[p][k]
            return f"{mb / med[p][k]:.0f} ({mb / max(v):.0f}-{mb / min(v):.0f})"

        def secs(p, k):
            v = times[p][k]
            return f"{med[p][k]:.3f} ({min(v):.3f}-{max(v):.3f})"
        o = med["omezarr_fast"]
        print(f"## {name}\n")
        print("| peer | read MB/s | write MB/s | 64 patches s | ours/read | ours/write | ours/patches |")
        print("|---|---|---|---|---|---|---|")
        for p in peers:
            b = med[p]
            print(f"| {p} | {mbs(p, 'read')} | {mbs(p, 'write')} | {secs(p, 'patches')} | "
                  f"{b['read'] / o['read']:.2f}x | {b['write'] / o['write']:.2f}x | "
                  f"{b['patches'] / o['patches']:.2f}x |")
        if "tensorstore" in med:
            t1 = med["tensorstore"]["one_by_one"]
            tc = med["tensorstore"]["patches"]
            print(f"\ntensorstore's patches are read concurrently; one at a time (as the others read them): "
                  f"{secs('tensorstore', 'one_by_one')} s; ours one at a time {secs('omezarr_fast', 'one_by_one')}"
                  f" s (ours faster by {t1 / o['one_by_one']:.2f}x)")
            print(f"ours with omezarr_fast.read_regions (all 64 in one call): {secs('omezarr_fast', 'regions')} s "
                  f"(tensorstore concurrent / ours: {tc / o['regions']:.2f}x)")
            print(f"ours with read_regions one patch per call (arr[...] without zarr's indexing and event-loop "
                  f"hop): {secs('omezarr_fast', 'regions_one')} s (tensorstore one at a time / ours: "
                  f"{t1 / o['regions_one']:.2f}x; zarr's share of a patch through arr[...]: "
                  f"{(o['one_by_one'] - o['regions_one']) / len(corners) * 1e3:.2f} ms)")
        print(f"\nours vs codec limit: read {mb / o['read'] / dec_lim:.0%}, write {mb / o['write'] / enc_lim:.0%}\n",
              flush=True)
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    if args.dir is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
