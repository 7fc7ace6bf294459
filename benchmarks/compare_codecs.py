"""Codec throughput: omezarr_fast's batch API against numcodecs / zstandard
called chunk by chunk from Python, and against the single-thread raw codec
speed (our batch API on one thread: the library plus nothing).

    PYTHONPATH=src python benchmarks/compare_codecs.py [--quick]

Prints a markdown table.  MB/s are of uncompressed data; best of N rounds,
the peers interleaved within each round.  Goals (issue 2): at 64 KiB chunks,
batch decode of zstd and blosc >= 90% of raw x cores and >= 1.5x numcodecs;
crc32c >= 10 GB/s per core.
"""
import argparse
import os
import sys
import time

import numcodecs
import numpy as np
import zstandard

sys.path.insert(0, os.path.dirname(__file__))
from data import microscopy_like  # noqa: E402

import omezarr_fast  # noqa: E402
from omezarr_fast import _native  # noqa: E402
from omezarr_fast.native import ChunkCodec, crc32c, crc32c_hardware, zstd_version  # noqa: E402

# As zarr does (zarr/codecs/blosc.py): no blosc threads inside numcodecs.
numcodecs.blosc.use_threads = False

CHUNKS = {"4 KiB": (32, 64), "64 KiB": (128, 256), "1 MiB": (512, 1024), "8 MiB": (2048, 2048)}
BYTES = {"name": "bytes", "configuration": {"endian": "little"}}


def blosc(cname):
    return {"name": "blosc", "configuration": {"cname": cname, "clevel": 5, "shuffle": "shuffle",
                                               "typesize": 2, "blocksize": 0}}


CODECS = {
    "zstd-3": ({"name": "zstd", "configuration": {"level": 3, "checksum": False}}, numcodecs.Zstd(level=3)),
    "blosc-zstd-shuffle": (blosc("zstd"), numcodecs.Blosc("zstd", 5, numcodecs.Blosc.SHUFFLE)),
    "blosc-lz4-shuffle": (blosc("lz4"), numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE)),
    "gzip-6": ({"name": "gzip", "configuration": {"level": 6}}, numcodecs.GZip(level=6)),
    "crc32c": ({"name": "crc32c"}, numcodecs.CRC32C()),
    # numcodecs' zlib and lz4 (zarr v2 compressors of old OME-Zarr 0.4 data)
    "zlib-1": ({"name": "numcodecs.zlib", "configuration": {"level": 1}}, numcodecs.Zlib(level=1)),
    "lz4-1": ({"name": "numcodecs.lz4", "configuration": {"acceleration": 1}}, numcodecs.LZ4(1)),
}


def best(fn, rounds):
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def measure(name, label, image, threads, rounds):
    shape = CHUNKS[label]
    codec_json, peer = CODECS[name]
    tiles = [image[i:i + shape[0], j:j + shape[1]] for i in range(0, image.shape[0], shape[0])
             for j in range(0, image.shape[1], shape[1])]
    chunks = [np.ascontiguousarray(t) for t in tiles]
    raw = [c.tobytes() for c in chunks]
    total = sum(len(r) for r in raw)
    ours = ChunkCodec([BYTES, codec_json], shape, np.uint16)
    encoded = ours.encode_batch(chunks)
    enc_bytes = [e.tobytes() for e in encoded]
    outs = [np.empty(shape, np.uint16) for _ in chunks]
    zd, zc = zstandard.ZstdDecompressor(), zstandard.ZstdCompressor(level=3)

    # raw1: the same native calls, in a plain loop on this thread (resizing
    # the pool between runs would restart its threads and their caches).
    enc = {"ours": lambda: ours.encode_batch(chunks),
           "raw1": lambda: ours._chain.encode_batch(chunks, serial=True),
           "numcodecs": lambda: [peer.encode(r) for r in raw]}
    dec = {"ours": lambda: ours.decode_batch(enc_bytes, outs),
           "raw1": lambda: ours._chain.decode_batch(enc_bytes, outs, serial=True),
           "numcodecs": lambda: [peer.decode(e) for e in enc_bytes]}
    if name == "zstd-3":
        enc["zstandard"] = lambda: [zc.compress(r) for r in raw]
        dec["zstandard"] = lambda: [zd.decompress(e) for e in enc_bytes]
    results = {}
    for op, fns in (("encode", enc), ("decode", dec)):
        t = {k: float("inf") for k in fns}
        for _ in range(rounds):  # interleaved: each round runs every peer once
            for k, fn in fns.items():
                t[k] = min(t[k], best(fn, 1))
        results[op] = {k: total / v / 1e6 for k, v in t.items()}
    ratio = total / sum(len(e) for e in enc_bytes)
    return results, ratio, len(chunks)


def crc_rates(rounds):
    buf = np.random.default_rng(0).integers(0, 256, 64 << 20, dtype=np.uint8)
    hw = min(best(lambda: crc32c(buf), 1) for _ in range(rounds))
    sw = min(best(lambda: _native.crc32c_software(buf), 1) for _ in range(rounds))
    return buf.nbytes / hw / 1e9, buf.nbytes / sw / 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="less data and fewer rounds")
    ap.add_argument("--rounds", type=int, default=None)
    args = ap.parse_args()
    rounds = args.rounds or (2 if args.quick else 5)
    threads = omezarr_fast.get_num_threads()
    side = 2048 if args.quick else 4096
    image = microscopy_like((side, 2048))
    print(f"# Codec throughput: {image.nbytes >> 20} MiB of microscopy-like uint16 per cell, "
          f"{threads} threads, best of {rounds}; libzstd {zstd_version()}, "
          f"python-zstandard's {'.'.join(map(str, zstandard.ZSTD_VERSION))}; liblz4 {_native.lz4_version()}, "
          f"numcodecs' {numcodecs.lz4.__version__}\n")
    print("MB/s of uncompressed data. ours = omezarr_fast batch API; raw1 = the same on one thread "
          "(the raw library speed); eff = ours / (raw1 x threads); vs nc = ours / numcodecs chunk by chunk.\n")
    print("| codec | chunk | n | ratio | op | ours | raw1 | numcodecs | zstandard | eff | vs nc |")
    print("|---|---|--:|--:|---|--:|--:|--:|--:|--:|--:|")
    for name in CODECS:
        for label in CHUNKS:
            res, ratio, n = measure(name, label, image, threads, rounds)
            for op in ("encode", "decode"):
                r = res[op]
                zs = f"{r['zstandard']:.0f}" if "zstandard" in r else ""
                eff = r["ours"] / (r["raw1"] * threads)
                print(f"| {name} | {label} | {n} | {ratio:.2f} | {op} | {r['ours']:.0f} | {r['raw1']:.0f} | "
                      f"{r['numcodecs']:.0f} | {zs} | {eff:.0%} | {r['ours'] / r['numcodecs']:.2f}x |",
                      flush=True)
    hw, sw = crc_rates(rounds)
    print(f"\ncrc32c, one thread, 64 MiB buffer: {hw:.1f} GB/s "
          f"({'SSE4.2' if crc32c_hardware() else 'software'}); slicing-by-8 software path {sw:.2f} GB/s.")


if __name__ == "__main__":
    main()
