"""Downsampling: omezarr_fast against numpy, scikit-image, tensorstore and tinybrain.

Every implementation runs in this one process on the same arrays, interleaved
(one run of each per round), and the best of N rounds is kept, so the ratios
hold even on a busy machine.  Prints a markdown table.

    PYTHONPATH=src python benchmarks/compare_downsample.py [--rounds 5] [--quick]

Columns: best time of each implementation; peer/ours ratios (> 1: we are
faster); input G voxels/s per core (ours, all threads, divided by threads; and
one thread by wall time and by the thread's CPU time, which other processes
on a shared machine cannot inflate);
"% bw": our input bytes/s over numpy's copy speed (np.copyto of the same
array, same run) -- a memory-bandwidth yardstick; "4 lv / 1": the cost of
downsample_levels(..., 4) over one downsample() (wall time, all threads; and
"CPU": one thread, CPU time).

Peers: numpy reshape + mean (even shapes), skimage.transform.downscale_local_mean
(float64 out), tensorstore's downsample driver over ts.array (its own thread
pool), tinybrain (single-threaded; downsample_with_averaging /
downsample_segmentation, given the same memory as Fortran order as its fast
paths need).  tensorstore and tinybrain differ from us at odd edges; the
shapes here are even.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

import omezarr_fast
from omezarr_fast import downsample, downsample_levels

try:
    import tensorstore as ts
except ImportError:  # pragma: no cover
    ts = None
try:
    import tinybrain
except ImportError:  # pragma: no cover
    tinybrain = None
try:
    from skimage.transform import downscale_local_mean
except ImportError:  # pragma: no cover
    downscale_local_mean = None


def label_volume(shape, n_labels=300, dtype=np.uint64, seed=0, coarse=4):
    """Segmentation-like labels: Voronoi cells of n_labels random seeds (blobs
    tens of voxels across) with large random ids, and boundaries made jagged
    by jittering every voxel's lookup by up to `coarse` voxels."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    nd = len(shape)
    cshape = tuple(-(-s // coarse) + 1 for s in shape)
    seeds = rng.random((n_labels, nd)) * np.array(cshape)
    grid = np.stack(np.meshgrid(*[np.arange(c) + 0.5 for c in cshape], indexing="ij"), -1)
    _, nearest = cKDTree(seeds).query(grid.reshape(-1, nd))
    ids = rng.integers(1, 2**31, n_labels).astype(dtype)
    coarse_labels = ids[nearest].reshape(cshape)
    index = []
    for ax, s in enumerate(shape):
        pos = np.arange(s).reshape([-1 if a == ax else 1 for a in range(nd)])
        jitter = rng.integers(0, coarse, shape, dtype=np.int16)
        index.append((pos + jitter) // coarse)
    return np.ascontiguousarray(coarse_labels[tuple(index)])


def image(shape, dtype, seed=1):
    """Smooth-ish image data: a gradient plus noise, in the dtype's range."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape, dtype=np.float32) * 20 + 100
    if np.dtype(dtype).kind == "u":
        x = x * (np.iinfo(dtype).max / 255)
        return np.clip(x, 0, np.iinfo(dtype).max).astype(dtype)
    return x.astype(dtype)


def numpy_mean(x, f):
    shape = []
    for n, k in zip(x.shape, f):
        shape += [n // k, k]
    return x.reshape(shape).mean(axis=tuple(range(1, 2 * x.ndim, 2))).astype(x.dtype)


def make_peers(x, f, method):
    peers = {}
    if method == "mean":
        peers["numpy"] = lambda: numpy_mean(x, f)
        if downscale_local_mean is not None:
            peers["skimage"] = lambda: downscale_local_mean(x, f)
    if ts is not None:
        src = ts.array(x)
        peers["tensorstore"] = lambda: ts.downsample(src, list(f), method).read().result()
    if tinybrain is not None:
        xf = np.asfortranarray(x.T)  # same bytes, the axis order tinybrain wants
        if method == "mean" and x.dtype in (np.uint8, np.uint16, np.float32, np.float64):
            peers["tinybrain"] = lambda: tinybrain.downsample_with_averaging(xf, f[::-1])
        elif method == "mode":
            peers["tinybrain"] = lambda: tinybrain.downsample_segmentation(xf, f[::-1])
    return peers


def best_of(funcs, rounds):
    best = {name: float("inf") for name in funcs}
    for _ in range(rounds):
        for name, fn in funcs.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def run_case(label, x, f, method, rounds, threads):
    copy_dst = np.empty_like(x)

    cpu = {"1": float("inf"), "4": float("inf")}

    def one_thread(key, fn):
        def run():
            omezarr_fast.set_num_threads(1)
            try:
                c0 = time.thread_time()
                fn()
                # CPU time of the one working thread: robust to other processes
                # taking the core away (wall times on a shared machine are not).
                cpu[key] = min(cpu[key], time.thread_time() - c0)
            finally:
                omezarr_fast.set_num_threads(threads)
        return run

    funcs = {
        "ours": lambda: downsample(x, f, method),
        "ours 1 thread": one_thread("1", lambda: downsample(x, f, method)),
        "ours 4 levels": lambda: downsample_levels(x, f, 4, method),
        "ours 4 levels 1 thread": one_thread("4", lambda: downsample_levels(x, f, 4, method)),
        "copy": lambda: np.copyto(copy_dst, x),
        **make_peers(x, f, method),
    }
    funcs["ours"]()  # warm the pool and the page cache of the allocator
    t = best_of(funcs, rounds)
    ours = t["ours"]
    row = {
        "case": label,
        "ours ms": ours * 1e3,
        "1 thr ms": t["ours 1 thread"] * 1e3,
        "Gvox/s/core": x.size / ours / 1e9 / threads,
        "Gvox/s 1 thr": x.size / t["ours 1 thread"] / 1e9,
        "Gvox/s 1 thr CPU": x.size / cpu["1"] / 1e9,
        "% bw": 100 * (x.nbytes / ours) / (x.nbytes / t["copy"]),
        "4 lv / 1": t["ours 4 levels"] / ours,
        "4 lv / 1 CPU": cpu["4"] / cpu["1"],
    }
    for peer in ("numpy", "skimage", "tensorstore", "tinybrain"):
        row[peer] = t[peer] / ours if peer in t else None
    return row


def fmt(v, nd=2):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if v >= 100:
        return f"{v:.0f}"
    return f"{v:.{nd}f}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: small arrays (in cache, smaller label blobs), 2 rounds")
    args = ap.parse_args(argv)
    rounds = 2 if args.quick else args.rounds
    threads = omezarr_fast.get_num_threads()
    s2, s3 = ((2048, 2048), (64, 256, 256)) if args.quick else ((6144, 6144), (128, 512, 512))

    cases = []
    for dtype in (np.uint8, np.uint16, np.float32):
        cases.append((f"mean 2D 2x2 {np.dtype(dtype).name}", lambda d=dtype: image(s2, d), (2, 2), "mean"))
        cases.append((f"mean 3D 2x2x2 {np.dtype(dtype).name}", lambda d=dtype: image(s3, d), (2, 2, 2), "mean"))
    labels2 = labels3 = None
    for dtype in (np.uint32, np.uint64):
        cases.append((f"mode 2D 2x2 {np.dtype(dtype).name}",
                      lambda d=dtype: labels2.astype(d), (2, 2), "mode"))
        cases.append((f"mode 3D 2x2x2 {np.dtype(dtype).name}",
                      lambda d=dtype: labels3.astype(d), (2, 2, 2), "mode"))

    t0 = time.perf_counter()
    labels2 = label_volume(s2)
    labels3 = label_volume(s3)
    rows = []
    for label, make, f, method in cases:
        x = make()
        rows.append(run_case(label, x, f, method, rounds, threads))
        print(f"  {label}: {rows[-1]['ours ms']:.2f} ms", file=sys.stderr)
        del x

    cols = ["case", "ours ms", "1 thr ms", "numpy", "skimage", "tensorstore", "tinybrain",
            "Gvox/s/core", "Gvox/s 1 thr", "Gvox/s 1 thr CPU", "% bw", "4 lv / 1",
            "4 lv / 1 CPU"]
    print(f"\nomezarr_fast downsample, {threads} threads, {os.cpu_count()} CPUs, best of {rounds} "
          f"interleaved rounds; 2D {s2}, 3D {s3}; peer columns = peer time / our time\n")
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(fmt(r[c], 1 if c in ("% bw",) else 2) for c in cols) + " |")

    mean_rows = [r for r in rows if r["case"].startswith("mean")]
    mode_rows = [r for r in rows if r["case"].startswith("mode")]

    def all_ok(rs, key, bar):
        vals = [r[key] for r in rs if r[key] is not None]
        return bool(vals) and min(vals) >= bar, min(vals) if vals else None

    print("\nGoals (issue 4):")
    for text, (ok, worst) in [
        ("mean >= 10x numpy", all_ok(mean_rows, "numpy", 10)),
        ("mean >= 2x tensorstore", all_ok(mean_rows, "tensorstore", 2)),
        ("mean >= tinybrain", all_ok(mean_rows, "tinybrain", 1)),
        ("mean >= 50% of copy bandwidth", all_ok(mean_rows, "% bw", 50)),
        ("mode >= 1 G input voxels/s per core (wall, all threads)", all_ok(mode_rows, "Gvox/s/core", 1)),
        ("mode >= 1 G input voxels/s per core (1 thread, CPU time)", all_ok(mode_rows, "Gvox/s 1 thr CPU", 1)),
        ("mode >= 5x tensorstore", all_ok(mode_rows, "tensorstore", 5)),
    ]:
        print(f"- {text}: {'met' if ok else 'NOT met'} (worst {fmt(worst)})")
    for key, how in (("4 lv / 1", "wall, all threads"), ("4 lv / 1 CPU", "1 thread, CPU time")):
        worst_lv = max(r[key] for r in rows)
        print(f"- 4 levels <= 1.3x one level ({how}): {'met' if worst_lv <= 1.3 else 'NOT met'} "
              f"(worst {worst_lv:.2f})")
    print(f"\n(total {time.perf_counter() - t0:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
