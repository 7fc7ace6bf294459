"""The quick-start demo: write and read a sharded OME-Zarr image, zarr's way and ours.

    python -m omezarr_fast.demo [--shape Z Y X] [--out DIR] [--keep]

Writes the same microscopy-like uint16 volume as a one-level OME-Zarr 0.5 image
(zstd level 3, 32^3 chunks inside shards) twice: once with zarr's default codec
pipeline and once with omezarr_fast's, then reads each back whole and as random
patches, checks that every read matches the source, and prints the timings.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import zarr
from zarr.codecs import ZstdCodec

import omezarr_fast
import omezarr_fast.pipeline  # registers "omezarr_fast.CodecPipeline" with zarr, installed or not
from omezarr_fast import ngff
from omezarr_fast.native import zstd_version
from omezarr_fast.samples import microscopy_like

DEFAULT_PIPELINE = "zarr.core.codec_pipeline.BatchedCodecPipeline"
FUSED_PIPELINE = "zarr.core.codec_pipeline.FusedCodecPipeline"  # zarr's faster opt-in pipeline
OUR_PIPELINE = "omezarr_fast.CodecPipeline"


def write_image(path: Path, data: np.ndarray, shards: tuple[int, ...]) -> float:
    """Writes data as level 0 of an OME-Zarr 0.5 image; returns the seconds taken."""
    axes = ngff.make_axes("zyx", units={a: "micrometer" for a in "zyx"})
    multiscale = ngff.build_multiscale(axes, [1.0, 0.5, 0.5], [], name="demo")
    group = zarr.open_group(path, mode="w", zarr_format=3)
    group.attrs.update(ngff.image_attributes(multiscale, version="0.5"))
    array = group.create_array("0", shape=data.shape, dtype=data.dtype, chunks=(32, 32, 32), shards=shards,
                               compressors=ZstdCodec(level=3), dimension_names=list("zyx"))
    start = time.perf_counter()
    array[...] = data
    return time.perf_counter() - start


def read_all(path: Path) -> tuple[float, np.ndarray]:
    array = zarr.open_array(path / "0", mode="r")
    start = time.perf_counter()
    out = array[...]
    return time.perf_counter() - start, out


def read_patches(path: Path, data: np.ndarray, n: int = 64, size: int = 64,
                 all_at_once: bool = False) -> float:
    """Seconds to read n random size^3 patches: one zarr call each, or all in
    one omezarr_fast.read_regions call."""
    array = zarr.open_array(path / "0", mode="r")
    rng = np.random.default_rng(1)
    corners = [tuple(int(rng.integers(0, max(s - size, 0) + 1)) for s in data.shape) for _ in range(n)]
    boxes = [tuple(slice(c, c + size) for c in corner) for corner in corners]
    start = time.perf_counter()
    patches = omezarr_fast.read_regions(array, boxes) if all_at_once else [array[b] for b in boxes]
    seconds = time.perf_counter() - start
    for box, patch in zip(boxes, patches):
        if not np.array_equal(patch, data[box]):
            raise SystemExit(f"demo: patch at {box} differs from the source")
    return seconds


def run(pipeline: str, path: Path, data: np.ndarray, shards) -> dict[str, float]:
    with zarr.config.set({"codec_pipeline.path": pipeline}):
        write_s = write_image(path, data, shards)
        read_s, back = read_all(path)
        if not np.array_equal(back, data):
            raise SystemExit(f"demo: {pipeline} read back different data")
        result = {"write": write_s, "read": read_s, "patches": read_patches(path, data)}
        if pipeline == OUR_PIPELINE:
            result["regions"] = read_patches(path, data, all_at_once=True)
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m omezarr_fast.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs=3, default=(64, 512, 1024), metavar=("Z", "Y", "X"))
    parser.add_argument("--out", type=Path, default=None, help="where to write (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the written images")
    args = parser.parse_args(argv)

    shape = tuple(args.shape)
    shards = tuple(min(s, c) for s, c in zip(shape, (64, 256, 256)))
    shards = tuple(max(32, s - s % 32) for s in shards)
    print(f"omezarr_fast {omezarr_fast.__version__}, zarr {zarr.__version__}, "
          f"{omezarr_fast.get_num_threads()} native threads")
    print(f"making a microscopy-like uint16 volume {shape} ({np.prod(shape) * 2 / 2**20:.0f} MiB) ...")
    data = microscopy_like(shape, np.uint16, seed=0)

    root = args.out or Path(tempfile.mkdtemp(prefix="omezarr_fast_demo_"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        results = {}
        for label, pipeline in (("zarr default", DEFAULT_PIPELINE), ("zarr fused", FUSED_PIPELINE),
                                ("omezarr_fast", OUR_PIPELINE)):
            path = root / f"{label.replace(' ', '_')}.ome.zarr"
            print(f"writing and reading {path.name} with {pipeline} ...")
            results[label] = run(pipeline, path, data, shards)
        on_disk = sum(f.stat().st_size for f in (root / "omezarr_fast.ome.zarr").rglob("*") if f.is_file())
        report(results, data.nbytes, on_disk, shards)
        valid = ngff.validate_path(root / "omezarr_fast.ome.zarr")
        print(f"OME-Zarr validation of our image: {'valid' if valid else valid.message}")
    finally:
        if args.keep or args.out:
            print(f"images kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def report(results, nbytes: int, on_disk: int, shards) -> None:
    mib = nbytes / 2**20
    print(f"\nsharded zstd-3, shards {shards} of 32^3 chunks, ratio {nbytes / on_disk:.2f}; all reads verified; "
          f"our libzstd {zstd_version()}\n")
    print(f"{'':16} {'write MiB/s':>12} {'read MiB/s':>12} {'64 patches s':>13}")
    for label, r in results.items():
        print(f"{label:16} {mib / r['write']:12.0f} {mib / r['read']:12.0f} {r['patches']:13.3f}")
    ours = results["omezarr_fast"]
    for label in ("zarr default", "zarr fused"):
        theirs = results[label]
        print(f"{'vs ' + label:16} {theirs['write'] / ours['write']:11.1f}x {theirs['read'] / ours['read']:11.1f}x "
              f"{theirs['patches'] / ours['patches']:12.1f}x")
    print(f"\nthe same 64 patches in one omezarr_fast.read_regions call: {ours['regions']:.3f} s "
          f"({results['zarr fused']['patches'] / ours['regions']:.1f}x zarr fused one at a time)")


if __name__ == "__main__":
    main()
