"""zstd level 3 on one thread: our native codec against python-zstandard,
chunk by chunk, on the same microscopy-like uint16 chunks.

    PYTHONPATH=src python benchmarks/compare_zstd.py [--rounds N]

Prints a markdown table.  MB/s are of uncompressed data; best of N rounds,
the peers interleaved within each round.  Both sides are a C library called
in a loop, so the ratio is mostly libzstd release against libzstd release:
we link the system libzstd (or Debian 13's 1.5.7, which run.sh fetches where
the system's is older), python-zstandard bundles its own (printed in the
header).  Our decode writes into preallocated arrays; zstandard's allocates
a bytes object per chunk.
"""
import argparse
import time

import numpy as np
import zstandard

import omezarr_fast
from omezarr_fast.native import ChunkCodec, zstd_version
from omezarr_fast.samples import microscopy_like

SHAPES = {"64 KiB": (32, 32, 32), "1 MiB": (64, 64, 128)}
CODECS = [{"name": "bytes", "configuration": {"endian": "little"}},
          {"name": "zstd", "configuration": {"level": 3, "checksum": False}}]


def chunks_of(image, shape):
    return [np.ascontiguousarray(image[z:z + shape[0], y:y + shape[1], x:x + shape[2]])
            for z in range(0, image.shape[0], shape[0])
            for y in range(0, image.shape[1], shape[1])
            for x in range(0, image.shape[2], shape[2])]


def measure(image, shape, rounds):
    chunks = chunks_of(image, shape)
    raw = [c.tobytes() for c in chunks]
    total = sum(len(r) for r in raw)
    ours = ChunkCodec(CODECS, shape, np.uint16)
    zc, zd = zstandard.ZstdCompressor(level=3), zstandard.ZstdDecompressor()
    encoded = [e.tobytes() for e in ours.encode_batch(chunks)]
    identical = encoded == [zc.compress(r) for r in raw]
    outs = [np.empty(shape, np.uint16) for _ in chunks]
    # serial=True: the same native calls in a plain loop on this thread.
    fns = {("encode", "ours"): lambda: ours._chain.encode_batch(chunks, serial=True),
           ("encode", "zstandard"): lambda: [zc.compress(r) for r in raw],
           ("decode", "ours"): lambda: ours._chain.decode_batch(encoded, outs, serial=True),
           ("decode", "zstandard"): lambda: [zd.decompress(e) for e in encoded]}
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t)
    rate = {k: total / v / 1e6 for k, v in best.items()}
    return rate, len(chunks), total / sum(len(e) for e in encoded), identical


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    omezarr_fast.set_num_threads(1)
    image = microscopy_like((128, 256, 256))
    print(f"# zstd level 3, one thread: ours (libzstd {zstd_version()}) vs python-zstandard "
          f"{zstandard.__version__} (bundled libzstd {'.'.join(map(str, zstandard.ZSTD_VERSION))}), "
          f"{image.nbytes >> 20} MiB microscopy-like uint16, best of {args.rounds}\n")
    print("| chunk | n | ratio | same bytes | op | ours MB/s | zstandard MB/s | ours / zstandard |")
    print("|---|--:|--:|---|---|--:|--:|--:|")
    for label, shape in SHAPES.items():
        rate, n, ratio, identical = measure(image, shape, args.rounds)
        for op in ("encode", "decode"):
            o, z = rate[op, "ours"], rate[op, "zstandard"]
            print(f"| {label} | {n} | {ratio:.2f} | {'yes' if identical else 'no'} | {op} | "
                  f"{o:.0f} | {z:.0f} | {o / z:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
