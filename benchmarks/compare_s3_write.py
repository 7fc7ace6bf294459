"""Pyramid writing to S3: omezarr_fast.write_image("s3://...") against ngff-zarr
and zarr's default pipeline, on a local S3 server (SeaweedFS on 127.0.0.1).

A 5-level pyramid (factor 2 on z, y and x per level, mean) of a microscopy-like
uint16 volume (benchmarks/data.py; default 128x2048x2048, 1 GiB), OME-Zarr 0.5,
our default chunks and shards for the shape, zstd-3, written by:

- ours: ``write_image(data, "s3://bench/...", storage_options=...)`` (obstore);
- ngff-zarr: ``to_multiscales(ITKWASM_BIN_SHRINK)`` + ``to_ngff_zarr``.  Its
  writer (the zarrista backend) takes local directories only, so it writes to
  a local directory (page cache, /tmp) and the tree is then uploaded with
  obstore, 16 PUTs in flight; the time is both, and both are shown;
- zarr: the levels computed in memory (our native mean, so the write is what
  differs), each written whole (``arr[:] = level``) by zarr's default
  BatchedCodecPipeline through zarr's ObjectStore (obstore).

Each run is a fresh subprocess writing to a fresh SeaweedFS server (so no
run sees another's garbage).  The input is loaded into memory (np.load, not a
memmap) before the clock starts; "RSS - input" is the run's peak RSS (VmHWM)
minus the peak right after loading the input and importing the tool.  Rounds
are interleaved; the table gives medians and min-max.  With ``--counts`` one
more untimed run per tool goes through a counting proxy (requests by method).

    python benchmarks/compare_s3_write.py --prepare-only        # generate and cache the input
    python benchmarks/compare_s3_write.py [--size 128x2048x2048] [--rounds 3] [--counts]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from data import default_layout, microscopy_like, ngff_zarr_pyramid, peak_rss_mb  # noqa: E402

TOOLS = ("ours", "ngff-zarr", "zarr")
LEVELS = 5
BUCKET = "bench"
REGION = "us-east-1"
UPLOAD_IN_FLIGHT = 16


def _s3store(endpoint, prefix=""):
    from obstore.store import S3Store

    return S3Store(BUCKET, prefix=prefix or None, endpoint=endpoint, region=REGION, skip_signature=True,
                   client_options={"allow_http": True})


async def _upload(root: Path, store) -> int:
    """Every file under root PUT to store (UPLOAD_IN_FLIGHT at a time); returns the bytes."""
    import obstore

    files = [p for p in root.rglob("*") if p.is_file()]
    sem = asyncio.Semaphore(UPLOAD_IN_FLIGHT)

    async def put(p: Path) -> int:
        async with sem:
            body = p.read_bytes()
            await obstore.put_async(store, p.relative_to(root).as_posix(), body)
            return len(body)

    return sum(await asyncio.gather(*(put(p) for p in files)))


def worker(tool, npy, endpoint, shape):
    import warnings

    warnings.simplefilter("ignore")
    chunks, shards = default_layout(shape)
    # Import the tool first so "RSS - input" measures working memory, not code.
    if tool == "ours":
        import omezarr_fast.ome.image  # noqa: F401
    elif tool == "ngff-zarr":
        import ngff_zarr  # noqa: F401
        import obstore  # noqa: F401
    else:
        import zarr  # noqa: F401
        from zarr.storage import ObjectStore  # noqa: F401

        import omezarr_fast.downsample  # noqa: F401
    data = np.load(npy)  # in memory
    base = peak_rss_mb()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = ru.ru_utime + ru.ru_stime
    extra = {}
    t0 = time.perf_counter()
    if tool == "ours":
        from omezarr_fast.ome.image import write_image

        write_image(data, f"s3://{BUCKET}/img.ome.zarr", storage_options={"endpoint": endpoint, "region": REGION},
                    chunks=chunks, shards=shards, levels=LEVELS, codec="zstd", clevel=3, progress=False)
    elif tool == "ngff-zarr":
        with tempfile.TemporaryDirectory(prefix="ngffzarr-", dir=os.environ.get("BENCH_LOCAL_DIR")) as tmp:
            out = Path(tmp) / "img.ome.zarr"
            ngff_zarr_pyramid(data, out, chunks, shards, LEVELS)
            extra["local_write"] = time.perf_counter() - t0
            t1 = time.perf_counter()
            extra["uploaded_mb"] = asyncio.run(_upload(out, _s3store(endpoint, "img.ome.zarr"))) / 1e6
            extra["upload"] = time.perf_counter() - t1
    elif tool == "zarr":
        import zarr
        from zarr.codecs import ZstdCodec
        from zarr.storage import ObjectStore

        from omezarr_fast.downsample import downsample_levels

        with zarr.config.set({"codec_pipeline.path": "zarr.core.codec_pipeline.BatchedCodecPipeline"}):
            store = ObjectStore(_s3store(endpoint))
            levels = [data, *downsample_levels(data, (2, 2, 2), LEVELS - 1, "mean")]
            for k, lev in enumerate(levels):
                a = zarr.create_array(store, name=f"img.ome.zarr/{k}", shape=lev.shape, dtype=lev.dtype,
                                      chunks=tuple(min(c, s) for c, s in zip(chunks, lev.shape)),
                                      shards=tuple(min(c, s) for c, s in zip(shards, lev.shape)),
                                      compressors=[ZstdCodec(level=3)], fill_value=0)
                a[:] = lev
            extra["pipeline"] = zarr.config.get("codec_pipeline.path")
    else:
        raise SystemExit(f"unknown tool {tool}")
    dt = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"time": dt, "cpu": ru.ru_utime + ru.ru_stime - cpu0, "peak_mb": peak_rss_mb(),
                      "base_mb": base, **extra}))


def prepare(shape, cache: Path) -> Path:
    """The input as .npy (shared with compare_pyramid.py's cache)."""
    cache.mkdir(parents=True, exist_ok=True)
    tag = "x".join(map(str, shape))
    npy = cache / f"microscopy_{tag}.npy"
    if not npy.exists():
        print(f"generating {tag} (cached in {npy}) ...", file=sys.stderr)
        tmp = npy.with_suffix(".tmp.npy")
        np.save(tmp, microscopy_like(shape, np.uint16, 0))
        tmp.rename(npy)
    return npy


def run_one(tool, npy, endpoint, size) -> dict | None:
    cmd = [sys.executable, __file__, "--worker", tool, "--data", str(npy), "--endpoint", endpoint, "--size", size]
    p = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if p.returncode:
        print(f"{tool} failed: {p.stderr.strip().splitlines()[-3:]}", file=sys.stderr)
        return None
    return json.loads(p.stdout.strip().splitlines()[-1])


def count_requests(tool, npy, size, server) -> dict:
    from helpers.s3_proxy import S3Proxy

    proxy = S3Proxy(server.port, BUCKET).start()
    try:
        run_one(tool, npy, proxy.endpoint, size)
        out: dict[str, int] = {}
        for r in proxy.requests():
            out[r.method] = out.get(r.method, 0) + 1
        out["in flight"] = proxy.max_in_flight
        return out
    finally:
        proxy.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="128x2048x2048", help="ZxYxX (default 128x2048x2048, 1 GiB)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--counts", action="store_true", help="one more untimed run per tool, requests counted")
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "omezarr_fast_bench"))
    ap.add_argument("--prepare-only", action="store_true", help="generate and cache the input, then stop")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--endpoint", help=argparse.SUPPRESS)
    args = ap.parse_args()
    shape = tuple(int(x) for x in args.size.lower().split("x"))
    if args.worker:
        worker(args.worker, args.data, args.endpoint, shape)
        return
    npy = prepare(shape, Path(args.cache))
    if args.prepare_only:
        return
    from helpers.s3_server import SeaweedFS

    tools = [t for t in args.tools.split(",") if t]
    runs: dict[str, list[dict]] = {t: [] for t in tools}
    counts: dict[str, dict] = {}
    loads = []
    work = Path(tempfile.mkdtemp(prefix="ozf-s3w-"))
    try:
        for r in range(args.rounds + (1 if args.counts else 0)):
            counting = r == args.rounds
            if not counting:
                loads.append(open("/proc/loadavg").read().split()[0])
            for tool in tools:
                with SeaweedFS(work / f"{tool}{r}", bucket=BUCKET) as server:
                    if counting:
                        counts[tool] = count_requests(tool, npy, args.size, server)
                        continue
                    res = run_one(tool, npy, server.endpoint, args.size)
                if res is None:
                    continue
                runs[tool].append(res)
                print(f"round {r} {tool}: {res['time']:.2f} s, peak {res['peak_mb']:.0f} MB, "
                      f"base {res['base_mb']:.0f} MB", file=sys.stderr)
                shutil.rmtree(work / f"{tool}{r}", ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    import omezarr_fast

    chunks, shards = default_layout(shape)
    nbytes = int(np.prod(shape)) * 2
    print(f"\n# Pyramid to S3: {args.size} uint16 ({nbytes / 2**20:.0f} MiB), {LEVELS} levels, chunks {chunks}, "
          f"shards {shards}, zstd-3, OME-Zarr 0.5; SeaweedFS on 127.0.0.1 (fresh per run); "
          f"{os.cpu_count()} cores, {omezarr_fast.get_num_threads()} threads; {args.rounds} interleaved rounds, "
          f"median (min-max); load average at round starts: {', '.join(loads)}\n")
    print("| tool | time (s) | ngff-zarr or zarr time / ours | CPU (s) | peak RSS (MB) | RSS - input (MB) | "
          "(RSS - input) / image |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    ours = [x["time"] for x in runs.get("ours", [])]
    for tool in tools:
        v = runs[tool]
        if not v:
            print(f"| {tool} | failed | | | | | |")
            continue
        t = [x["time"] for x in v]
        med = statistics.median(t)
        ratio = f"{med / statistics.median(ours):.2f}x" if ours else "-"
        extra = max(x["peak_mb"] - x["base_mb"] for x in v)
        peak = max(x["peak_mb"] for x in v)
        cpu = statistics.median(x["cpu"] for x in v)
        label = tool
        if tool == "ngff-zarr":
            lw = statistics.median(x["local_write"] for x in v)
            up = statistics.median(x["upload"] for x in v)
            label = f"ngff-zarr (local write {lw:.2f} s + upload {up:.2f} s)"
        print(f"| {label} | {med:.2f} ({min(t):.2f}-{max(t):.2f}) | {ratio} | {cpu:.1f} | {peak:.0f} | "
              f"{extra:.0f} | {extra * 2**20 / nbytes:.0%} |")
    print("\n(peak RSS and RSS - input: the largest over rounds; the input is in memory, "
          f"{nbytes / 2**20:.0f} MiB, and is subtracted.)")
    if counts:
        print("\nRequests of one untimed run per tool (counting proxy):\n")
        methods = sorted({m for c in counts.values() for m in c if m != "in flight"})
        print("| tool | " + " | ".join(methods) + " | most in flight |")
        print("|---|" + "--:|" * (len(methods) + 1))
        for tool, c in counts.items():
            print(f"| {tool} | " + " | ".join(str(c.get(m, 0)) for m in methods) + f" | {c['in flight']} |")


if __name__ == "__main__":
    main()
