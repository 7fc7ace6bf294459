"""TIFF -> OME-Zarr 0.5 with a pyramid: ``omezarr-fast convert`` against the converters users pick.

The input is a multi-channel OME-TIFF (C, Z, Y, X uint16, microscopy-like,
benchmarks/data.py) carrying real metadata: physical sizes (z 1.0 µm, y/x 0.5 µm), channel
names and colours and an image name; written twice, uncompressed (one strip per plane)
and zlib-compressed in 256x256 tiles.  Every tool writes OME-Zarr 0.5 with a pyramid
from it, each with its own defaults:

- ours: ``omezarr-fast convert IN OUT`` (the command, in its own process), with its default
  codec (zstd-3) and, as rows of their own (``--ours``), zstd-1 and blosc-lz4 (shuffled), the
  codecs a user picks for speed;
- ngff-zarr: its CLI, ``ngff-zarr -i IN -o OUT --ome-zarr-version 0.5``;
- eubi-bridge-lite: its CLI, ``eubi to_zarr IN --output_path OUT --zarr_format 3``
  (it pins an older zarr, so it lives in its own virtualenv: ``--eubi PATH`` or ``EUBI=PATH``
  names its ``eubi`` executable, default /work/venvs/eubi/bin/eubi; when absent its rows say
  so; it runs its conversion in a worker process).  To install it:
  ``python3.12 -m venv /work/venvs/eubi && /work/venvs/eubi/bin/pip install eubi-bridge-lite``;
- ome-zarr-py: the script its docs show for a TIFF: ``tifffile.imread`` then
  ``ome_zarr.writer.write_image(data, group, axes="czyx")`` into a zarr v3 group (the
  metadata a user would have to copy by hand is not copied).

Each run is a fresh process (peak RSS: the largest RSS of any one of its processes, as
``getrusage(RUSAGE_CHILDREN)`` reports it); a run longer than ``--timeout`` is stopped and
reported as such; tools are interleaved
within a round and the median over rounds is reported, with ratios to ours, the machine's
load average, what each tool wrote (level 0's codecs, inner chunks and shards: eubi-bridge-lite
writes blosc-lz4, so ``ours (blosc-lz4)`` is the like-for-like row) and a metadata column:
which of the file's fields each output carries (axes named c/z/y/x, pixel sizes, units,
channel names, colours, image name, the OME-XML).

    PYTHONPATH=src python benchmarks/compare_convert.py --quick
    PYTHONPATH=src python benchmarks/compare_convert.py            # 1 GiB per file
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from data import microscopy_like  # noqa: E402

SIZES = {"quick": (2, 16, 512, 512), "full": (2, 64, 2048, 2048)}     # 16 MiB, 1 GiB
PHYSICAL = {"z": 1.0, "y": 0.5, "x": 0.5}
CHANNELS = [("DAPI", 0x0000FFFF), ("GFP", 0x00FF00FF)]    # names, RGBA colours (blue, green)
COLORS_HEX = ["0000FF", "00FF00"]
NAME = "benchmark cells"
TOOLS = ("ours", "ngff-zarr", "eubi-bridge-lite", "ome-zarr-py")
PEERS = TOOLS[1:]
# Our codec settings (--ours): extra arguments of `omezarr-fast convert`.
OURS = {
    "zstd-3": [],                    # the default
    "zstd-1": ["--clevel", "1"],
    "blosc-lz4": ["--codec", json.dumps([{"name": "blosc", "configuration": {
        "cname": "lz4", "clevel": 5, "shuffle": "shuffle", "typesize": 2}}])],
}

OME_ZARR_PY = """
import sys, tifffile, zarr
from ome_zarr.writer import write_image
data = tifffile.imread(sys.argv[1])
root = zarr.open_group(sys.argv[2], mode="w", zarr_format=3)
write_image(data, root, axes="czyx")
"""


def make_inputs(shape, cache: Path) -> dict[str, Path]:
    import tifffile

    cache.mkdir(parents=True, exist_ok=True)
    tag = "x".join(map(str, shape))
    files = {"uncompressed": cache / f"cells_{tag}.ome.tif",
             "zlib-tiled": cache / f"cells_{tag}_zlib.ome.tif"}
    if all(p.exists() for p in files.values()):
        return files
    print(f"generating {tag} OME-TIFFs in {cache} ...", file=sys.stderr)
    data = np.stack([microscopy_like(shape[1:], np.uint16, seed) for seed in range(shape[0])])
    meta = {"axes": "CZYX", "Name": NAME, "PhysicalSizeX": PHYSICAL["x"],
            "PhysicalSizeY": PHYSICAL["y"], "PhysicalSizeZ": PHYSICAL["z"],
            "PhysicalSizeXUnit": "µm", "PhysicalSizeYUnit": "µm", "PhysicalSizeZUnit": "µm",
            "Channel": {"Name": [n for n, _ in CHANNELS],
                        "Color": [c - (1 << 32) if c >= 1 << 31 else c for _, c in CHANNELS]}}
    tifffile.imwrite(files["uncompressed"], data, ome=True, metadata=meta)
    tifffile.imwrite(files["zlib-tiled"], data, ome=True, metadata=meta, tile=(256, 256),
                     compression="zlib")
    return files


def command(tool: str, src: Path, out: Path, eubi: str | None) -> list[str]:
    if tool.startswith("ours"):
        codec = tool.partition(" ")[2].strip("()") or "zstd-3"
        return [sys.executable, "-m", "omezarr_fast.cli", "convert", str(src), str(out),
                "--no-progress", *OURS[codec]]
    if tool == "ngff-zarr":
        exe = shutil.which("ngff-zarr") or str(Path(sys.executable).with_name("ngff-zarr"))
        return [exe, "-i", str(src), "-o", str(out), "--ome-zarr-version", "0.5", "-q"]
    if tool == "eubi-bridge-lite":
        return [eubi, "to_zarr", str(src), "--output_path", str(out), "--zarr_format", "3"]
    if tool == "ome-zarr-py":
        return [sys.executable, "-c", OME_ZARR_PY, str(src), str(out)]
    raise SystemExit(f"unknown tool {tool}")


def run_one(cmd: list[str], timeout: float, env: dict | None = None) -> dict:
    """The command in a child of a small worker process: wall time and the child's peak RSS."""
    worker = ("import json, resource, subprocess, sys, time\n"
              "t = time.perf_counter()\n"
              "try:\n"
              "    p = subprocess.run(sys.argv[2:], capture_output=True, text=True,"
              " timeout=float(sys.argv[1]))\n"
              "    rc, err = p.returncode, p.stderr[-2000:]\n"
              "except subprocess.TimeoutExpired:\n"
              "    rc, err = 'timeout', 'timed out'\n"
              "dt = time.perf_counter() - t\n"
              "ru = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
              "print(json.dumps({'rc': rc, 'time': dt, 'peak_mb': ru.ru_maxrss / 1024,"
              " 'cpu': ru.ru_utime + ru.ru_stime, 'err': err}))\n")
    p = subprocess.run([sys.executable, "-c", worker, str(timeout), *cmd], capture_output=True,
                       text=True, check=False, env=dict(os.environ if env is None else env, PYTHONWARNINGS="ignore"))
    return json.loads(p.stdout.strip().splitlines()[-1])


def _attrs(path: Path) -> dict:
    for name in ("zarr.json", ".zattrs"):
        f = path / name
        if f.is_file():
            d = json.loads(f.read_text())
            return d.get("attributes", {}) if name == "zarr.json" else d
    return {}


def find_image(root: Path) -> tuple[Path, dict] | None:
    """The first multiscale image group under ``root`` (itself, or a series / nested group)."""
    for p in [root, *sorted(q for q in root.rglob("*") if q.is_dir())][:200]:
        a = _attrs(p)
        ns = a.get("ome", a)
        if "multiscales" in ns:
            return p, ns
    return None


def _codec_name(c: dict) -> str | None:
    name, conf = c.get("name"), c.get("configuration") or {}
    if name in ("bytes", "crc32c", None):
        return None
    if name == "blosc":
        return f"blosc {conf.get('cname')}-{conf.get('clevel')} {conf.get('shuffle')}"
    if "level" in conf:
        return f"{name}-{conf['level']}"
    return name


def written_as(out: Path) -> str:
    """Level 0's codecs, inner chunk and shard shapes, as the output's zarr.json says."""
    found = find_image(out)
    if found is None:
        return "?"
    path, ns = found
    meta = path / ns["multiscales"][0]["datasets"][0]["path"] / "zarr.json"
    if not meta.is_file():
        return "?"
    m = json.loads(meta.read_text())
    grid = "x".join(map(str, m["chunk_grid"]["configuration"]["chunk_shape"]))
    codecs, inner = m.get("codecs", []), None
    if codecs and codecs[0].get("name") == "sharding_indexed":
        conf = codecs[0]["configuration"]
        inner, codecs = "x".join(map(str, conf["chunk_shape"])), conf["codecs"]
    names = [n for n in map(_codec_name, codecs) if n] or ["uncompressed"]
    shape = f"chunks {inner} in shards {grid}" if inner else f"chunks {grid}, no shards"
    return f"{', '.join(names)}; {shape}"


def metadata_carried(out: Path, levels_out: list) -> list[str]:
    """Which of the input's fields the output carries."""
    found = find_image(out)
    if found is None:
        return ["(no image found)"]
    path, ns = found
    ms = ns["multiscales"][0]
    names = [a.get("name") if isinstance(a, dict) else a for a in ms.get("axes", [])]
    got = []
    if names == ["c", "z", "y", "x"]:
        got.append("axes")
    scale = None
    for t in ms["datasets"][0].get("coordinateTransformations", []):
        if t.get("type") == "scale":
            scale = t["scale"]
    if scale and names == ["c", "z", "y", "x"] and all(
            abs(scale[1 + i] - PHYSICAL[a]) < 1e-9 for i, a in enumerate("zyx")):
        got.append("pixel sizes")
    units = [a.get("unit") for a in ms.get("axes", []) if isinstance(a, dict)]
    if units[1:] == ["micrometer"] * 3:
        got.append("units")
    omero = ns.get("omero") or {}
    chans = omero.get("channels") or []
    if [c.get("label") for c in chans] == [n for n, _ in CHANNELS]:
        got.append("channel names")
    if [str(c.get("color", "")).upper() for c in chans] == COLORS_HEX:
        got.append("colours")
    if ms.get("name") == NAME or omero.get("name") == NAME:
        got.append("name")
    if any(out.rglob("METADATA.ome.xml")):
        got.append("OME-XML")
    levels_out.append(len(ms["datasets"]))
    return got


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"{SIZES['quick']} (16 MiB) per file")
    ap.add_argument("--size", help="CxZxYxX instead (default 2x64x2048x2048: 1 GiB)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median reported)")
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--inputs", default="uncompressed,zlib-tiled",
                    help="which input files (uncompressed, zlib-tiled): one per run keeps a "
                         "full-size run short")
    ap.add_argument("--ours", default=",".join(OURS),
                    help=f"our codec settings, each a row ({', '.join(OURS)})")
    ap.add_argument("--eubi", default=os.environ.get("EUBI", "/work/venvs/eubi/bin/eubi"),
                    help="the eubi executable of eubi-bridge-lite (its own virtualenv)")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per run (default 900)")
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "omezarr_fast_bench"))
    args = ap.parse_args()
    shape = tuple(int(x) for x in args.size.lower().split("x")) if args.size else \
        SIZES["quick" if args.quick else "full"]
    tools = []
    for t in (t for t in args.tools.split(",") if t):
        tools += [f"ours ({c})" for c in args.ours.split(",") if c] if t == "ours" else [t]
    missing = {}
    if "eubi-bridge-lite" in tools and not Path(args.eubi).exists():
        missing["eubi-bridge-lite"] = f"not installed (no {args.eubi}; --eubi PATH or EUBI=PATH)"
        print(f"eubi-bridge-lite: {missing['eubi-bridge-lite']}", file=sys.stderr)
    ngff_exe = shutil.which("ngff-zarr") or Path(sys.executable).with_name("ngff-zarr")
    if "ngff-zarr" in tools and not Path(ngff_exe).exists():
        missing["ngff-zarr"] = "not installed (no ngff-zarr command)"
    runnable = [t for t in tools if t not in missing]
    files = make_inputs(shape, Path(args.cache))
    kinds = [k for k in args.inputs.split(",") if k]
    if not kinds or set(kinds) - set(files):
        raise SystemExit(f"--inputs: choose from {', '.join(files)}")
    files = {k: files[k] for k in kinds}
    nbytes = int(np.prod(shape)) * 2
    results: dict[tuple[str, str], list[dict]] = {}
    meta: dict[tuple[str, str], list[str]] = {}
    levels: dict[tuple[str, str], list] = {}
    layouts: dict[tuple[str, str], str] = {}
    loads = [os.getloadavg()[0]]
    timeouts: set = set()
    work = Path(tempfile.mkdtemp(prefix="convert_bench_"))
    try:
        for r in range(args.rounds):
            for kind, src in files.items():
                for tool in runnable:
                    out = work / f"{tool.replace(' ', '_')}.ome.zarr"
                    shutil.rmtree(out, ignore_errors=True)
                    # eubi-bridge-lite runs in its own venv: a PYTHONPATH=src of ours would show it our
                    # egg-info's zarr entry points, and its older zarr cannot import our codecs.
                    env = ({k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
                           if tool == "eubi-bridge-lite" else None)
                    res = run_one(command(tool, src, out, args.eubi), args.timeout, env)
                    loads.append(os.getloadavg()[0])
                    key = (kind, tool)
                    if res["rc"] == "timeout":
                        print(f"round {r} {kind} {tool}: stopped after {args.timeout:.0f} s",
                              file=sys.stderr)
                        timeouts.add(key)
                        continue
                    if res["rc"] != 0:
                        print(f"round {r} {kind} {tool}: failed: {res['err'].strip()[-400:]}",
                              file=sys.stderr)
                        continue
                    print(f"round {r} {kind} {tool}: {res['time']:.2f} s, peak "
                          f"{res['peak_mb']:.0f} MB", file=sys.stderr)
                    res["out_mb"] = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 1e6
                    results.setdefault(key, []).append(res)
                    if key not in meta:
                        levels[key] = []
                        meta[key] = metadata_carried(out, levels[key])
                        layouts[key] = written_as(out)
                    shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    import omezarr_fast

    print(f"\n{'x'.join(map(str, shape))} uint16 (c, z, y, x), {nbytes / 2**20:.0f} MiB per "
          f"file; {os.cpu_count()} cores, {omezarr_fast.get_num_threads()} threads; median of "
          f"{args.rounds} interleaved rounds; load average during the run: "
          f"min {min(loads):.1f}, median {statistics.median(loads):.1f}, max {max(loads):.1f}\n")
    print("| input | tool | time (s), median (min-max) | fastest peer / this | peak RSS (MB) | "
          "peak / image | output (MB) | levels | written as (level 0) | metadata carried |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|---|")
    summary = []
    for kind in files:
        peer_times = {t: statistics.median(x["time"] for x in results[(kind, t)])
                      for t in PEERS if results.get((kind, t))}
        fastest = min(peer_times.items(), key=lambda kv: kv[1]) if peer_times else None
        for tool in tools:
            rs = results.get((kind, tool))
            if not rs:
                what = missing.get(tool) or (f"> {args.timeout:.0f} (stopped)"
                                             if (kind, tool) in timeouts else "failed")
                print(f"| {kind} | {tool} | {what} | | | | | | | |")
                continue
            ts = [x["time"] for x in rs]
            t = statistics.median(ts)
            peak = statistics.median(x["peak_mb"] for x in rs)
            ratio = f"{fastest[1] / t:.2f}x" if fastest else "-"
            print(f"| {kind} | {tool} | {t:.2f} ({min(ts):.2f}-{max(ts):.2f}) | {ratio} | {peak:.0f} | "
                  f"{peak * 2**20 / nbytes:.0%} | {statistics.median(x['out_mb'] for x in rs):.0f} | "
                  f"{levels[(kind, tool)][0]} | {layouts[(kind, tool)]} | "
                  f"{', '.join(meta[(kind, tool)]) or 'none'} |")
            if tool.startswith("ours") and fastest:
                summary.append(f"{kind}, {tool}: {fastest[1] / t:.2f}x the fastest peer "
                               f"({fastest[0]}, {fastest[1]:.2f} s; goal >= 2x), peak RSS "
                               f"{peak * 2**20 / nbytes:.0%} of the image (goal <= 25%)")
    print("\n'fastest peer / this': the fastest peer's median time over this row's (above 1: this "
          "row is faster). Peak RSS includes each tool's interpreter and libraries (ours: ~63 MB "
          "before any data).")
    for line in summary:
        print("- " + line)


if __name__ == "__main__":
    main()
