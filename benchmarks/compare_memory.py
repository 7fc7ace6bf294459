"""Peak memory of whole-array reads and chunk-by-chunk copies: omezarr_fast
against zarr's pipelines, zarrs and tensorstore.

    python benchmarks/compare_memory.py                    # 128x1024x1024 uint16 (256 MiB)
    python benchmarks/compare_memory.py --shape 64,512,512

Each measurement runs in a fresh process; the peak RSS (VmHWM) is reset
after the array is opened, so the number is
what the operation itself adds (the imports and the open array are the
baseline):

- read: ``a[:]`` (a new array).  Reported as the peak added / output size
  (the output itself is 1.0x; the goal is <= 1.15x).
- copy: one array to another, one write unit at a time (``dst[sl] = src[sl]``
  over the source's shards, or chunks when unsharded).  Reported as the peak
  added / array size (goal < 10%).  A shard is a hard floor: the block in
  hand is one shard (12.5% of the default 128x1024x1024 array with 64x512x512
  shards), so the sharded copy goal needs shards below a tenth of the array.

Layouts: sharded (shards 64x512x512, inner 32^3) and unsharded (chunks
64x256x256), zstd-3.  Prints markdown.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

PIPELINES = {
    "omezarr_fast": "omezarr_fast.CodecPipeline",
    "zarr Batched": "zarr.core.codec_pipeline.BatchedCodecPipeline",
    "zarr Fused": "zarr.core.codec_pipeline.FusedCodecPipeline",
    "zarrs": "zarrs.ZarrsCodecPipeline",
}

# Run in a child: prints {"base": kib, "peak": kib} around one operation.
CHILD = r"""
import json, sys
import numpy as np, zarr
import omezarr_fast
peer, op, src, dst = sys.argv[1:5]
pipelines = json.loads(sys.argv[5])
def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
def reset_peak():  # ru_maxrss would carry the launching process's peak across exec
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return status("VmRSS")
if peer == "tensorstore":
    import tensorstore as ts
    a = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": src}}).result()
    shape, unit = a.shape, a.chunk_layout.write_chunk.shape
else:
    if peer == "zarrs":
        import zarrs  # noqa: F401
    zarr.config.set({"codec_pipeline.path": pipelines[peer]})
    a = zarr.open_array(src, mode="r")
    shape, unit = a.shape, a.shards or a.chunks
if op == "read":
    base = reset_peak()
    out = a.read().result() if peer == "tensorstore" else a[:]
else:
    if peer == "tensorstore":
        b = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": dst}}).result()
    else:
        b = zarr.open_array(dst, mode="r+")
    base = reset_peak()
    import itertools
    for idx in itertools.product(*(range(0, n, u) for n, u in zip(shape, unit))):
        sl = tuple(slice(i, i + u) for i, u in zip(idx, unit))
        if peer == "tensorstore":
            b[sl].write(a[sl].read().result()).result()
        else:
            b[sl] = a[sl]
print(json.dumps({"base": base, "peak": status("VmHWM")}))
"""


def layouts(shape):
    from zarr.codecs import ZstdCodec
    zstd = [ZstdCodec(level=3)]
    return {
        "sharded zstd-3": dict(chunks=(32, 32, 32), shards=tuple(min(a, b) for a, b in zip(shape, (64, 512, 512))),
                               compressors=zstd),
        "unsharded zstd-3": dict(chunks=tuple(min(a, b) for a, b in zip(shape, (64, 256, 256))), compressors=zstd),
    }


def measure(peer, op, src, dst):
    out = subprocess.run([sys.executable, "-c", CHILD, peer, op, str(src), str(dst), json.dumps(PIPELINES)],
                         capture_output=True, text=True, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    return (r["peak"] - r["base"]) * 1024  # bytes added by the operation


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", default="128,1024,1024")
    ap.add_argument("--peers", default=None, help="comma-separated subset")
    args = ap.parse_args()
    import zarr

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from data import microscopy_like

    import omezarr_fast  # noqa: F401

    shape = tuple(int(x) for x in args.shape.split(","))
    peers = list(PIPELINES) + ["tensorstore"]
    if args.peers:
        peers = [p for p in peers if p in args.peers.split(",")]
    data = microscopy_like(shape, np.uint16, seed=0)
    size = data.nbytes
    root = Path(tempfile.mkdtemp(prefix="ozf-mem-"))
    print(f"# peak memory: {shape} uint16 ({size / 2**20:.0f} MiB); a fresh process per cell\n")
    print("| layout | peer | read: peak / output | copy: added / array |")
    print("|---|---|---|---|")
    try:
        for name, kw in layouts(shape).items():
            src = root / "src"
            with zarr.config.set({"codec_pipeline.path": PIPELINES["omezarr_fast"]}):
                zarr.create_array(str(src), shape=shape, dtype="u2", fill_value=0, **kw)[:] = data
            for p in peers:
                dst = root / "dst"
                shutil.rmtree(dst, ignore_errors=True)
                zarr.create_array(str(dst), shape=shape, dtype="u2", fill_value=0, **kw)
                read = measure(p, "read", src, dst)
                copy = measure(p, "copy", src, dst)
                print(f"| {name} | {p} | {read / size:.2f}x | {copy / size:.1%} |", flush=True)
            shutil.rmtree(src)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
