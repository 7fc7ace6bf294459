"""Cold reads: omezarr_fast vs zarr's Batched and Fused pipelines, zarrs and
tensorstore, with the page cache dropped before every timed read.

    sudo python benchmarks/compare_cold.py               # 128x1024x1024 layouts + a 1 GiB volume
    sudo python benchmarks/compare_cold.py --quick       # 64x512x512 layouts + a 256 MB volume
    python benchmarks/compare_cold.py --warm             # the same reads from the page cache

Dropping the page cache (sync, then 3 into /proc/sys/vm/drop_caches) needs root;
without it the script says so and exits with status 2 rather than print warm
numbers as cold (--warm needs no root).

Data: compare_pipeline.py's sharded and unsharded zstd-3 layouts, and a sharded
zstd-3 volume of 1 GiB.  Per data set and round, interleaved (every peer once per
round, each on an array opened before the cache is dropped):
- full read of the array (MB/s of decoded data);
- 64 random 64^3 patches read one at a time (``arr[z:z+64, ...]``) by every zarr
  pipeline and by tensorstore, and by ours with one read_regions call per patch
  (the same reads without zarr's indexing and event-loop hop);
- the same patches all at once: tensorstore's concurrent reads, ours through
  omezarr_fast.read_regions;
- the device: a plain sequential read of the same files (one file after
  another, sorted by name), the same files read by 16 threads at once, and the
  byte ranges the 64 patches need (inner chunks, or whole chunk files), all
  advised to the kernel at once and read (the I/O floor of read_regions), and
  patch by patch (the I/O floor of one patch at a time).
Prints median, min and max over the rounds, ratios of medians taken in the
same run (ours / peer as speed: > 1 means ours is faster), and the megabytes
the block device read for each (its counters in /sys/dev/block; more than the
bytes the reads need is kernel read-ahead the read did not use).

With --io-strategies, also times ways of reading the patches' byte ranges
(io_strategies.c, built with the system's cc, with liburing where installed):
pread one after another, WILLNEED then pread (what the pipeline does),
io_uring with everything submitted at once (with and without
POSIX_FADV_RANDOM), and a set of pread threads.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import zarr
from zarr.codecs import ZstdCodec

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

DROP = "/proc/sys/vm/drop_caches"
OURS = "omezarr_fast"


def can_drop_caches() -> bool:
    return os.geteuid() == 0 and os.access(DROP, os.W_OK)


def drop_caches() -> None:
    os.sync()
    with open(DROP, "w") as f:
        f.write("3\n")


def data_sets(quick: bool):
    """name -> (shape, zarr.create_array kwargs)."""
    shape = (64, 512, 512) if quick else (128, 1024, 1024)
    lay = pipeline_layouts(shape)
    out = {name: (shape, lay[name]) for name in ("sharded zstd-3", "unsharded zstd-3")}
    big = (128, 1024, 1024) if quick else (512, 1024, 1024)
    mb = int(np.prod(big)) * 2 >> 20
    out[f"sharded zstd-3 {mb} MiB"] = (big, dict(chunks=(32, 32, 32), shards=(64, 512, 512),
                                                 compressors=[ZstdCodec(level=3)]))
    return out


def volume(shape) -> np.ndarray:
    """microscopy_like data, made in slabs of 64 planes (one big call would hold
    several float copies of the whole volume: ~12 GB for 1 GiB of uint16)."""
    return np.concatenate([microscopy_like((min(64, shape[0] - z), *shape[1:]), np.uint16, seed=z)
                           for z in range(0, shape[0], 64)])


def device_counters(path: Path):
    """Bytes read and read requests completed so far by the block device
    holding path; None where there is none (tmpfs, overlay)."""
    st = os.stat(path)
    try:
        with open(f"/sys/dev/block/{os.major(st.st_dev)}:{os.minor(st.st_dev)}/stat") as f:
            fields = f.read().split()
    except OSError:
        return None
    return int(fields[2]) * 512, int(fields[0])


def timed_io(fn, path: Path):
    """(seconds, MB the device read meanwhile or None)."""
    before = device_counters(path)
    t = timed(fn)
    after = device_counters(path)
    return t, None if before is None or after is None else (after[0] - before[0]) / 1e6


def files_of(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file() and p.name != "zarr.json")


def read_files_seq(files) -> int:
    buf = bytearray(8 << 20)
    view = memoryview(buf)
    n = 0
    for p in files:
        with open(p, "rb", buffering=0) as f:
            while k := f.readinto(view):
                n += k
    return n


def read_files_parallel(files, threads=16) -> int:
    def one(p):
        with open(p, "rb", buffering=0) as f:
            return len(f.read())
    with ThreadPoolExecutor(threads) as ex:
        return sum(ex.map(one, files))


def patch_ranges(path: Path, shape, kw, corners, size=64) -> list[list[tuple[Path, int, int]]]:
    """Per patch, the (file, offset, length) byte ranges it needs: the inner
    chunks it touches (read from each shard's index, 16 bytes per inner chunk
    and a crc32c at the end of the file), or the whole chunk files."""
    chunks = kw["chunks"]
    shards = kw.get("shards")
    outer = shards or chunks
    out, indexes = [], {}
    for corner in corners:
        ranges = []
        lo = [c // u for c, u in zip(corner, outer)]
        hi = [min(c + size, n) - 1 for c, n in zip(corner, shape)]
        for cell in np.ndindex(*[h // u - a + 1 for a, h, u in zip(lo, hi, outer)]):
            sc = [a + k for a, k in zip(lo, cell)]
            f = path.joinpath("c", *map(str, sc))
            if shards is None:
                ranges.append((f, 0, f.stat().st_size))
                continue
            cps = [s // c for s, c in zip(shards, chunks)]
            if f not in indexes:
                n = int(np.prod(cps))
                raw = f.read_bytes()
                indexes[f] = np.frombuffer(raw[len(raw) - 16 * n - 4:len(raw) - 4], "<u8").reshape(n, 2)
            first = [max(c, s * u) // k for c, s, u, k in zip(corner, sc, outer, chunks)]
            last = [min(h, (s + 1) * u - 1) // k for h, s, u, k in zip(hi, sc, outer, chunks)]
            for inner in np.ndindex(*[b - a + 1 for a, b in zip(first, last)]):
                local = [a + k - s * c for a, k, s, c in zip(first, inner, sc, cps)]
                off, n = indexes[f][np.ravel_multi_index(local, cps)]
                ranges.append((f, int(off), int(n)))
        out.append(ranges)
    return out


def read_ranges(ranges) -> int:
    """Reads byte ranges the fastest plain way: all advised (WILLNEED) at once, then read."""
    fds = {f: os.open(f, os.O_RDONLY) for f in {r[0] for r in ranges}}
    try:
        todo = sorted(set(ranges))
        for f, off, n in todo:
            for o in range(off, off + n, 128 << 10):  # Linux reads <= read_ahead_kb per call
                os.posix_fadvise(fds[f], o, min(128 << 10, off + n - o), os.POSIX_FADV_WILLNEED)
        return sum(len(os.pread(fds[f], n, off)) for f, off, n in todo)
    finally:
        for fd in fds.values():
            os.close(fd)


def scenarios(peers, has_ts):
    """(scenario, peer) pairs in the order they run within a round."""
    out = [("full read", p) for p in peers]
    out += [("patches one at a time", p) for p in peers]
    out.append(("patches one at a time", OURS + " read_regions"))  # arr[...] less zarr's own per-read cost
    if has_ts:
        out.append(("patches at once", "tensorstore"))
    out.append(("patches at once", OURS + " read_regions"))
    out += [("device", "sequential"), ("device", "16 threads"), ("device", "patches' bytes, at once"),
            ("device", "patches' bytes, patch by patch")]
    return out


def opener(peer, path):
    if peer == "tensorstore":
        return ts_open(path)
    return open_zarr(path, peer.removesuffix(" read_regions"))


def run_one(scenario, peer, path, corners, data, check, cold, ranges=None):
    """Seconds for one timed read (the array opened first, the cache dropped after)."""
    if scenario == "device":
        files = files_of(path)
        if peer == "sequential":
            def fn():
                read_files_seq(files)
        elif peer == "16 threads":
            def fn():
                read_files_parallel(files)
        elif peer.endswith("at once"):
            def fn():
                read_ranges([r for rs in ranges for r in rs])
        else:
            def fn():
                for rs in ranges:
                    read_ranges(rs)
        if cold:
            drop_caches()
        return timed_io(fn, path)
    array = opener(peer, path)
    out = []
    if scenario == "full read":
        def fn():
            out.append(read_full(peer, array=array))
    elif scenario == "patches one at a time" and peer.endswith(" read_regions"):
        def fn():
            out.append(read_regions_patches(corners=corners, array=array, one_at_a_time=True))
    elif scenario == "patches one at a time":
        def fn():
            out.append(read_patches(peer, corners=corners, concurrent=False, array=array))
    elif peer == "tensorstore":
        def fn():
            out.append(read_patches(peer, corners=corners, concurrent=True, array=array))
    else:
        def fn():
            out.append(read_regions_patches(corners=corners, array=array))
    if cold:
        drop_caches()
    t = timed_io(fn, path)
    if check:
        got = out[0]
        if scenario == "full read":
            assert np.array_equal(got, data), f"{peer} read wrong data"
        else:
            for g, (z, y, x) in zip(got, corners):
                assert np.array_equal(np.asarray(g), data[z:z + 64, y:y + 64, x:x + 64]), f"{peer} wrong patch"
    return t


def fmt(times, unit_mb=None) -> str:
    med, lo, hi = statistics.median(times), min(times), max(times)
    if unit_mb is not None:
        return f"{unit_mb / med:.0f} ({unit_mb / hi:.0f}-{unit_mb / lo:.0f})"
    return f"{med * 1e3:.0f} ({lo * 1e3:.0f}-{hi * 1e3:.0f})"


def dev_mb(read_mb, key) -> str:
    """The device's megabytes read for a row: median (min-max), or n/a."""
    v = [m for m in read_mb.get(key, []) if m is not None]
    return f"{statistics.median(v):.0f} ({min(v):.0f}-{max(v):.0f})" if v else "n/a"


def report(name, shape, results, read_mb, mb, disk_mb, need_mb, cold):
    print(f"## {name}: {shape} uint16, {mb:.0f} MB decoded, {disk_mb:.0f} MB on disk; the 64 patches "
          f"need {need_mb:.0f} MB of it\n")
    full = {p: t for (s, p), t in results.items() if s == "full read"}
    if full:
        ours = statistics.median(full[OURS])
        print("| full read | MB/s median (min-max) | ours faster by (medians) | MB the device read |")
        print("|---|---|---|---|")
        for p, t in full.items():
            print(f"| {p} | {fmt(t, mb)} | {statistics.median(t) / ours:.2f}x | "
                  f"{dev_mb(read_mb, ('full read', p))} |")
        print()
    patches = {(s, p): t for (s, p), t in results.items() if s.startswith("patches")}
    if patches:
        one = statistics.median(results[("patches one at a time", OURS)])
        reg = statistics.median(results[("patches at once", OURS + " read_regions")])
        print("| 64 patches of 64^3 | ms median (min-max) | ours one at a time faster by | "
              "ours read_regions faster by | MB the device read |")
        print("|---|---|---|---|---|")
        for (s, p), t in patches.items():
            med = statistics.median(t)
            print(f"| {p}, {s.removeprefix('patches ')} | {fmt(t)} | {med / one:.2f}x | {med / reg:.2f}x | "
                  f"{dev_mb(read_mb, (s, p))} |")
        print()
    dev = {p: t for (s, p), t in results.items() if s == "device"}
    if dev:
        print(f"| device, {'caches dropped' if cold else 'from the page cache'} | median (min-max) | | "
              "MB the device read |")
        print("|---|---|---|---|")
        for p, t in dev.items():
            if p.startswith("patches"):
                print(f"| the {p} (advised at once, then read) | {fmt(t)} ms | the I/O floor of those reads | "
                      f"{dev_mb(read_mb, ('device', p))} |")
            else:
                print(f"| the files, {p} | {fmt(t, disk_mb)} MB/s on disk | "
                      f"{mb / statistics.median(t):.0f} MB/s decoded at that speed | "
                      f"{dev_mb(read_mb, ('device', p))} |")
        print()


IO_MODES = ("plain", "willneed", "uring", "uring-random", "threads:4", "threads:16")


def io_strategies(name, path: Path, ranges, rounds: int, workdir: Path) -> None:
    """Times io_strategies.c's ways of reading the patches' ranges, interleaved."""
    src = Path(__file__).resolve().parent / "io_strategies.c"
    exe = workdir / "io_strategies"
    uring = subprocess.run(["cc", "-O2", str(src), "-o", str(exe), "-lpthread", "-luring"],
                           capture_output=True).returncode == 0
    if not uring:  # no liburing: the other modes only
        subprocess.run(["cc", "-O2", "-DNO_URING", str(src), "-o", str(exe), "-lpthread"], check=True)
    listing = workdir / "ranges.txt"
    with open(listing, "w") as f:
        for rs in ranges:
            f.writelines(f"{p} {off} {n}\n" for p, off, n in sorted(rs))
            f.write("\n")
    modes = [m for m in IO_MODES if uring or not m.startswith("uring")]
    got: dict[tuple[str, str], list[float]] = {}
    read_mb: dict[tuple[str, str], list] = {}
    for _ in range(rounds):
        for scope in ("patch", "all"):
            for m in modes:
                before = device_counters(path)
                out = subprocess.run([str(exe), str(listing), m, scope], capture_output=True, text=True,
                                     check=True)
                after = device_counters(path)
                got.setdefault((scope, m), []).append(float(out.stdout) / 1e3)
                read_mb.setdefault((scope, m), []).append(None if before is None else (after[0] - before[0]) / 1e6)
    print(f"## {name}: ways to read the 64 patches' byte ranges, caches dropped (io_strategies.c"
          f"{'' if uring else '; no liburing, so no io_uring'})\n")
    print("| mode | patch by patch, ms | MB the device read | all at once, ms | MB the device read |")
    print("|---|---|---|---|---|")
    for m in modes:
        print(f"| {m} | {fmt(got[('patch', m)])} | {dev_mb(read_mb, ('patch', m))} | "
              f"{fmt(got[('all', m)])} | {dev_mb(read_mb, ('all', m))} |")
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller data (64x512x512 layouts, 256 MB volume)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--warm", action="store_true", help="read from the page cache (no drop; one untimed "
                    "read of each kind first)")
    ap.add_argument("--dir", default=None, help="where to keep the data, reused by later runs (default: "
                    "a temp dir, removed at the end)")
    ap.add_argument("--sets", default=None, help="comma-separated subset of data set names (prefixes)")
    ap.add_argument("--peers", default=None, help="comma-separated subset of peers")
    ap.add_argument("--io-strategies", action="store_true", help="also time ways of reading the patches' "
                    "bytes (io_strategies.c: WILLNEED, io_uring, pread threads; needs cc)")
    args = ap.parse_args()
    cold = not args.warm
    if cold and not can_drop_caches():
        print("compare_cold.py: dropping the page cache needs root (write access to "
              f"{DROP}); run as root, or pass --warm for page-cache numbers", file=sys.stderr)
        sys.exit(2)
    peers = list(PIPELINES) + (["tensorstore"] if ts is not None else [])
    if args.peers:
        peers = [p for p in peers if p in args.peers.split(",") or p == OURS]
    root = Path(args.dir or tempfile.mkdtemp(prefix="ozf-cold-", dir="/var/tmp"))
    load = os.getloadavg()
    print(f"# {'cold' if cold else 'warm'} reads: {args.rounds} rounds, interleaved, "
          f"{len(os.sched_getaffinity(0))} cores, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}\n")
    try:
        for name, (shape, kw) in data_sets(args.quick).items():
            if args.sets and not any(name.startswith(s) for s in args.sets.split(",")):
                continue
            data = volume(shape)
            path = root / name.replace(" ", "_")
            if args.dir is None or not (path / "zarr.json").exists():  # --dir keeps and reuses them
                shutil.rmtree(path, ignore_errors=True)
                with zarr.config.set({"codec_pipeline.path": PIPELINES[OURS]}):
                    a = zarr.create_array(zarr.storage.LocalStore(path), shape=shape, dtype="u2",
                                          fill_value=0, **kw)
                    a[:] = data
            corners = patch_corners(shape)
            ranges = patch_ranges(path, shape, kw, corners)
            disk_mb = sum(p.stat().st_size for p in files_of(path)) / 1e6
            order = scenarios(peers, ts is not None)
            results: dict[tuple[str, str], list[float]] = {sp: [] for sp in order}
            read_mb: dict[tuple[str, str], list] = {sp: [] for sp in order}
            if not cold:  # one untimed pass of each: the data in the page cache, the pools started
                for s, p in order:
                    run_one(s, p, path, corners, data, False, False, ranges)
            for r in range(args.rounds):
                for s, p in order:
                    t, m = run_one(s, p, path, corners, data, r == 0, cold, ranges)
                    results[(s, p)].append(t)
                    read_mb[(s, p)].append(m)
            need_mb = sum(n for _, _, n in {r for rs in ranges for r in rs}) / 1e6
            report(name, shape, results, read_mb, data.nbytes / 1e6, disk_mb, need_mb, cold)
            if args.io_strategies and cold:
                io_strategies(name, path, ranges, args.rounds, root)
            del data
            if args.dir is None:
                shutil.rmtree(path, ignore_errors=True)
    finally:
        if args.dir is None:
            shutil.rmtree(root, ignore_errors=True)
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    main()
