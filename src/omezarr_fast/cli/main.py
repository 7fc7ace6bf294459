"""The ``omezarr-fast`` command.

Each subcommand is a ``register_<name>(subparsers)`` function that adds its
parser and sets ``func``; ``main`` parses and dispatches. Subcommands are thin:
they parse arguments and call the library's API. User errors (bad input,
unknown codec, unreadable file) print one line on stderr and exit with 2.
"""
from __future__ import annotations

import argparse
import sys

PROG = "omezarr-fast"


class UserError(Exception):
    """An error the user can fix: printed as one line, exit code 2."""


def _int_list(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _str_list(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def _positive(kind):
    def parse(text):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if v <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return v
    return parse


def register_bench(sub) -> None:
    from omezarr_fast.bench.grid import BLOSC_CLEVELS, BLOSC_CNAMES, BLOSC_SHUFFLES, GZIP_LEVELS, ZSTD_LEVELS
    from omezarr_fast.bench.pareto import GOALS

    def fmt(v):
        return ",".join(str(x) for x in v)

    p = sub.add_parser(
        "bench", help="measure codec ratio and speed on your data; recommend a codec chain",
        description="Measure compression ratio and encode/decode speed (1 thread and all threads) of zarr "
                    "codec chains on chunks sampled across INPUT, mark the Pareto fronts and recommend a "
                    "chain for a goal. Without INPUT a built-in synthetic microscopy-like sample is used.",
        epilog="examples:\n"
               f"  {PROG} bench image.ome.zarr --level 1 --plot codecs.png\n"
               f"  {PROG} bench stack.tif --chunks 1,64,256,256 --goal decode --csv out.csv\n"
               f"  {PROG} bench data.h5:/raw --codecs '[{{\"name\":\"zstd\",\"configuration\":{{\"level\":5}}}}]'\n"
               f"  {PROG} bench --grid quick --time-budget 30",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", nargs="?", metavar="INPUT",
                   help="zarr array, OME-Zarr image (level 0 or --level), .tif/.tiff, file.h5:/dataset, .npy")
    p.add_argument("--level", type=int, help="pyramid level of an OME-Zarr image (default 0)")
    p.add_argument("--chunks", help="chunk shape to measure, e.g. 1,64,256,256 (default: the input's own "
                                    "chunks, else about 1 MiB)")
    p.add_argument("--codecs", nargs="+", action="extend", metavar="JSON", default=[],
                   help="extra codec chain(s) as zarr v3 JSON lists; a chain without an array->bytes codec "
                        "gets 'bytes' added")
    p.add_argument("--grid", choices=("full", "quick", "none"),
                   help="built-in grid (default: full, or none when --codecs is given)")
    p.add_argument("--zstd-levels", type=_int_list, metavar="L,..", help=f"default {fmt(ZSTD_LEVELS)}")
    p.add_argument("--blosc-cnames", type=_str_list, metavar="C,..", help=f"default {fmt(BLOSC_CNAMES)}")
    p.add_argument("--blosc-shuffles", type=_str_list, metavar="S,..", help=f"default {fmt(BLOSC_SHUFFLES)}")
    p.add_argument("--blosc-clevels", type=_int_list, metavar="L,..", help=f"default {fmt(BLOSC_CLEVELS)}")
    p.add_argument("--gzip-levels", type=_int_list, metavar="L,..", help=f"default {fmt(GZIP_LEVELS)}")
    p.add_argument("--transpose", type=_int_list, action="append", metavar="ORDER",
                   help="also measure every grid chain with this transpose in front (e.g. 3,2,1,0); repeatable")
    p.add_argument("--engine", choices=("auto", "native", "zarr"), default="auto",
                   help="auto: native core where it can run the chain, zarr's codecs otherwise")
    p.add_argument("--goal", choices=GOALS, help="what to optimise in the recommendation (default balanced, "
                                                 "or ratio with --min-decode-mbps)")
    p.add_argument("--min-decode-mbps", type=_positive(float), metavar="MBPS",
                   help="recommend only chains decoding at least this fast (all threads)")
    p.add_argument("--threads", type=_positive(int), help="thread count for the 'all threads' columns "
                                                          "(default: omezarr_fast.get_num_threads())")
    p.add_argument("--repeats", type=_positive(int), default=3, help="repetitions per measurement (default 3)")
    p.add_argument("--time-budget", type=_positive(float), metavar="S",
                   help="stop starting new configurations after S seconds and say which were skipped")
    p.add_argument("--max-chunks", type=_positive(int), help="sample at most this many chunks (default 16)")
    p.add_argument("--sample-mb", type=_positive(float), help="sample at most this many MB (default 16.8)")
    p.add_argument("--csv", metavar="FILE", help="write one row per configuration")
    p.add_argument("--json", metavar="FILE", help="write the full report with every repetition")
    p.add_argument("--plot", metavar="FILE.png", help="write ratio vs throughput plots (decode | encode)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (off anyway when not a TTY)")
    p.set_defaults(func=cmd_bench)


def _configs(args, src, chains):
    from omezarr_fast.bench import QUICK, codec_grid, make_config, with_bytes_codec
    from omezarr_fast.bench.runners import canonical

    grid = args.grid or ("none" if args.codecs else "full")
    configs = []
    if grid != "none":
        kw = dict(QUICK) if grid == "quick" else {}
        for name in ("zstd_levels", "blosc_cnames", "blosc_shuffles", "blosc_clevels", "gzip_levels"):
            if getattr(args, name) is not None:
                kw[name] = getattr(args, name)
        kw["transposes"] = [None] + (args.transpose or [])
        configs = codec_grid(src.dtype, len(src.shape), **kw)
    for chain in chains:
        configs.append(make_config(canonical(with_bytes_codec(chain, src.dtype))))
    if not configs:
        raise UserError("nothing to measure: --grid none and no --codecs")
    return configs


def cmd_bench(args) -> int:
    from omezarr_fast import bench
    from omezarr_fast.bench import report as rep
    from omezarr_fast.bench.sampling import parse_chunks

    # The table and plot libraries are checked first: failing after a long run would waste it.
    rep._need("rich.console")
    if args.plot:
        rep._need("matplotlib")
    chains = [bench.parse_codecs_json(text) for text in args.codecs]   # JSON errors before any reading
    src = bench.open_input(args.input, args.level)
    chunks = parse_chunks(args.chunks, len(src.shape)) if args.chunks else None
    configs = _configs(args, src, chains)
    if src.synthetic:
        print("No INPUT given: measuring the built-in synthetic microscopy-like sample.", file=sys.stderr)

    from rich.console import Console

    out = Console()
    if not out.is_terminal:
        out = Console(width=150)
    progress = None
    if not args.no_progress and sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        progress = Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=Console(stderr=True), transient=True)
    kw = {"chunk_shape": chunks, "repeats": args.repeats, "threads": args.threads,
          "time_budget": args.time_budget, "engine": args.engine, "max_chunks": args.max_chunks,
          "max_sample_bytes": int(args.sample_mb * 1e6) if args.sample_mb else None}
    if progress is None:
        report = bench.run_benchmark(src, configs, **kw)
    else:
        with progress:
            task = progress.add_task("sampling", total=len(configs))
            report = bench.run_benchmark(
                src, configs, **kw,
                progress=lambda name, done, total: progress.update(task, completed=done, description=name))

    status = 0
    goal = args.goal or ("ratio" if args.min_decode_mbps else "balanced")
    try:
        rec = bench.recommend(report.results, goal, min_decode_mbps=args.min_decode_mbps)
    except bench.BenchError as e:
        rec, status = None, 1
        message = str(e)
    rep.print_table(report, rec, console=out)
    if args.csv:
        rep.write_csv(report, args.csv, rec)
    if args.json:
        rep.write_json(report, args.json, rec)
    if args.plot:
        rep.plot(report, args.plot)
    if rec is None:
        print(f"{PROG} bench: no recommendation: {message}", file=sys.stderr)
    return status


def register_info(sub) -> None:
    p = sub.add_parser(
        "info", help="show an OME-Zarr hierarchy: levels, shapes, dtypes, chunks/shards, codecs, sizes",
        description="Describe an OME-Zarr image, label image, plate, well or bioformats2raw container "
                    "(or a plain zarr array): every level's shape, dtype, chunks, shards, codecs, bytes "
                    "on disk and compression ratio, and the labels inside.")
    p.add_argument("path", metavar="PATH", help="OME-Zarr group or zarr array directory")
    p.add_argument("--json", action="store_true", help="print the description as JSON")
    p.set_defaults(func=cmd_info)


def cmd_info(args) -> int:
    import json

    from omezarr_fast.info import describe, format_description

    try:
        d = describe(args.path)
    except FileNotFoundError as e:
        raise UserError(str(e)) from None
    except ValueError as e:
        raise UserError(str(e).splitlines()[0]) from None
    print(json.dumps(d, indent=2) if args.json else format_description(d))
    return 0


def register_validate(sub) -> None:
    p = sub.add_parser(
        "validate", help="check an OME-Zarr 0.4/0.5 hierarchy against the spec (exit 0 valid, 1 invalid)",
        description="Validate the OME-Zarr metadata of PATH and everything under it (arrays included) "
                    "against the 0.4/0.5 specification: the JSON schemas' rules plus the semantic "
                    "rules of the spec text. Exit status 0 when valid, 1 when not.")
    p.add_argument("path", metavar="PATH", help="OME-Zarr group directory (or its zarr.json/.zattrs)")
    p.add_argument("--strict", action="store_true", help="also fail on the spec's SHOULDs (warnings)")
    p.add_argument("--json", action="store_true",
                   help='print {"valid": bool, "message": str} (the ngff-spec conformance format)')
    p.set_defaults(func=cmd_validate)


def cmd_validate(args) -> int:
    import json

    from omezarr_fast.ngff import validate_path

    result = validate_path(args.path, strict=args.strict)
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        if result.valid:
            print(f"{args.path}: {result.message} (OME-Zarr {result.version})")
        else:
            print(f"{args.path}: invalid", file=sys.stderr)
            for e in result.errors:
                print(f"  error: {e}", file=sys.stderr)
        for w in result.warnings:
            print(f"  warning: {w}", file=sys.stderr)
    return 0 if result.valid else 1


def _factors(text: str):
    """``2,2,1`` (one per axis) or ``z=1,y=2`` (by axis name; the others keep the default)."""
    parts = [x.strip() for x in text.split(",") if x.strip()]
    try:
        if any("=" in x for x in parts):
            out = {}
            for x in parts:
                name, _, value = x.partition("=")
                out[name.strip()] = int(value)
            return out
        return [int(x) for x in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers per axis (2,2,1) or by axis name (z=1,y=2,x=2), got {text!r}") from None


def _pyramid_options(p) -> None:
    p.add_argument("--levels", type=_positive(int), help="number of levels, level 0 included "
                   "(default: until every downsampled side fits one chunk)")
    p.add_argument("--min-size", type=_positive(int), metavar="N",
                   help="instead of --levels: stop before a downsampled side gets below N")
    p.add_argument("--method", default=None,
                   help="downsampling method: mean (default), mode (labels), median, min, max, stride")
    p.add_argument("--factors", type=_factors, metavar="F,..|AXIS=F,..",
                   help="downsampling factor per axis and level, e.g. z=1 to keep z (anisotropic "
                        "stacks) or 1,2,2 (default: 2 on space axes, 1 on t/c)")
    p.add_argument("--codec", choices=("zstd", "gzip", "blosc", "none"), default="zstd")
    p.add_argument("--clevel", type=int, help="compression level (default: zstd 3, gzip 6, blosc 5)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (off anyway when not a TTY)")


def register_convert(sub) -> None:
    p = sub.add_parser(
        "convert", help="write TIFF, HDF5, .npy or (OME-)Zarr as an OME-Zarr image with a pyramid",
        description="Convert INPUT to an OME-Zarr image at OUTPUT (0.5: zarr v3, sharded, zstd-3 by "
                    "default) with a multiscale pyramid, streaming shard by shard. INPUT: .tif/.tiff "
                    "(tifffile), file.h5:/dataset (h5py), .npy, a zarr array, or an OME-Zarr 0.4/0.5 "
                    "image (its axes, pixel sizes, units and name are kept, and its label images are "
                    "copied with their colors, properties and source, their pyramids rebuilt to "
                    "match). --labels attaches label images from files. To move a 0.4 image to 0.5 "
                    f"keeping its levels as they are, use '{PROG} upgrade'.",
        epilog="examples:\n"
               f"  {PROG} convert stack.tif out.ome.zarr --axes zyx --scale 2,0.5,0.5 --units micrometer\n"
               f"  {PROG} convert old_v04.ome.zarr new.ome.zarr\n"
               f"  {PROG} convert stack.tif out.ome.zarr --labels cells=cells.tif --labels nuclei=seg.h5:/nuclei\n"
               f"  {PROG} convert data.h5:/raw out.ome.zarr --chunks 32,128,128 --shards 64,1024,1024",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", metavar="INPUT")
    p.add_argument("output", metavar="OUTPUT")
    p.add_argument("--axes", help="axis names, e.g. tczyx (default by ndim: yx, zyx, czyx, tczyx)")
    p.add_argument("--scale", help="level-0 pixel size per axis, comma-separated")
    p.add_argument("--units", help="one unit for every space axis (e.g. micrometer), or one per axis "
                                   "comma-separated (empty for none)")
    p.add_argument("--chunks", type=_int_list, help="inner chunk shape (default about 1 MiB)")
    p.add_argument("--shards", type=_int_list, help="shard shape, a multiple of the chunks (default ~32 MiB)")
    p.add_argument("--version", choices=("0.4", "0.5"), default="0.5", dest="ngff_version",
                   help="OME-Zarr version to write (default 0.5)")
    p.add_argument("--name", help="multiscale name (default: the input's, else 'image')")
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    p.add_argument("--labels", action="append", default=[], metavar="NAME=FILE",
                   help="add label image NAME from FILE (integer .tif, .npy, file.h5:/dataset, zarr "
                        "array or OME-Zarr label image) shaped like the image, or 1 on some axes; "
                        "repeatable")
    p.add_argument("--no-labels", action="store_true",
                   help="do not copy the label images of an OME-Zarr INPUT")
    _pyramid_options(p)
    p.set_defaults(func=cmd_convert)


def _floats(text, what):
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise UserError(f"--{what}: expected comma-separated numbers, got {text!r}") from None


def cmd_convert(args) -> int:
    from pathlib import Path

    import numpy as np

    from omezarr_fast import ngff
    from omezarr_fast.bench.sampling import open_input
    from omezarr_fast.image import image_layout, open_image, write_image

    kw = {}
    src = Path(args.input)
    img = None
    extra = []
    for item in args.labels:
        name, sep, file = item.partition("=")
        if not sep or not name or not file:
            raise UserError(f"--labels: expected NAME=FILE, got {item!r}")
        if name in (n for n, _ in extra):
            raise UserError(f"--labels: label image {name!r} is given twice")
        extra.append((name, file))
    if src.is_dir() and ngff.detect_version(_attrs_or_empty(src)):
        img = open_image(src)
        data = img.levels[0]
        kw = image_layout(img)
        if not args.no_labels:
            for name in img.labels:  # opened (and validated) before anything is written
                img.label(name)
        clash = {n for n, _ in extra} & set(img.labels) if not args.no_labels else set()
        if clash:
            raise UserError(f"--labels {min(clash)}: {args.input} already has a label image "
                            "of that name (use --no-labels to drop the input's labels)")
    else:
        data = open_input(args.input).array
    ndim = len(data.shape)
    if args.axes:
        kw["axes"] = args.axes
        kw.pop("scale", None), kw.pop("units", None), kw.pop("translation", None)
    axes = kw.get("axes") or {2: "yx", 3: "zyx", 4: "czyx", 5: "tczyx"}.get(ndim)
    if axes is None:
        raise UserError(f"{args.input} has {ndim} dimensions; OME-Zarr images have 2 to 5")
    if args.scale:
        kw["scale"] = _floats(args.scale, "scale")
    if args.units:
        parts = args.units.split(",")
        if len(parts) == 1:
            kw["units"] = {a: parts[0] for a in axes if a in "zyx"}
        else:
            kw["units"] = [u or None for u in parts]
    if args.name:
        kw["name"] = args.name
    # Label files are opened and checked before anything is written.
    from omezarr_fast.labels_io import open_label_source

    sources = []
    for name, file in extra:
        if "/" in name or name in (".", ".."):
            raise UserError(f"--labels {name}={file}: NAME must be a single path component")
        array, image_label = open_label_source(file)
        shape, dtype = tuple(array.shape), np.dtype(array.dtype)
        if len(shape) != ndim or any(n not in (m, 1) for n, m in zip(shape, data.shape)):
            raise UserError(f"--labels {name}={file}: shape {shape} does not match the image's "
                            f"{tuple(data.shape)} (each dimension equal, or 1)")
        if dtype.kind not in "biu":
            raise UserError(f"--labels {name}={file}: labels need an integer dtype, got {dtype}")
        sources.append((name, array, image_label))
    method = args.method or "mean"
    codec = None if args.codec == "none" else args.codec
    progress = False if args.no_progress else None
    write_image(data, args.output, **kw, chunks=args.chunks, shards=args.shards, codec=codec,
                clevel=args.clevel, levels=args.levels, min_size=args.min_size, method=method,
                factors=args.factors, version=args.ngff_version, overwrite=args.overwrite,
                progress=progress)
    labels = []
    if img is not None and not args.no_labels:
        from omezarr_fast.labels_io import copy_labels

        labels = copy_labels(img, args.output, codec=codec, clevel=args.clevel, progress=progress)
    if sources:
        from omezarr_fast.image import write_labels

        for name, array, image_label in sources:
            write_labels(array, args.output, name, image_label=image_label, codec=codec,
                         clevel=args.clevel, progress=progress)
            labels.append(name)
    out = open_image(args.output)
    print(f"{args.output}: OME-Zarr {out.version}, {len(out.levels)} levels, "
          f"shapes {', '.join(str(a.shape) for a in out.levels)}"
          + (f"; labels {', '.join(labels)}" if labels else ""))
    return 0


def _attrs_or_empty(path):
    from omezarr_fast import ngff

    try:
        return ngff.read_attributes(path)
    except (ValueError, OSError):
        return {}


def register_pyramid(sub) -> None:
    p = sub.add_parser(
        "pyramid", help="rebuild the lower levels of an OME-Zarr image from its level 0",
        description="Replace every level but 0 of the image at PATH with a pyramid streamed from "
                    "level 0 (to add levels, change the method or fix a broken pyramid). Level 0, "
                    "omero metadata and labels are kept.")
    p.add_argument("path", metavar="PATH")
    _pyramid_options(p)
    p.set_defaults(func=cmd_pyramid)


def cmd_pyramid(args) -> int:
    from omezarr_fast.image import rebuild_pyramid

    img = rebuild_pyramid(args.path, levels=args.levels, min_size=args.min_size, method=args.method,
                          factors=args.factors,
                          codec=None if args.codec == "none" else args.codec, clevel=args.clevel,
                          progress=False if args.no_progress else None)
    print(f"{args.path}: {len(img.levels)} levels, shapes {', '.join(str(a.shape) for a in img.levels)}")
    return 0


def _layout_arg(text: str):
    """``auto``, ``1,64,256,256`` (one per dimension) or ``z=64,y=256,x=256`` (by axis name)."""
    if text.strip() == "auto":
        return "auto"
    try:
        return _factors(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected 'auto', integers per dimension (1,64,256,256) or by axis name "
            f"(z=64,y=256,x=256), got {text!r}") from None


def register_upgrade(sub) -> None:
    p = sub.add_parser(
        "upgrade", help="rewrite an OME-Zarr 0.4 hierarchy as 0.5 (arrays too), optionally sharded",
        description="Rewrite the OME-Zarr 0.4 hierarchy at SRC (zarr v2) as OME-Zarr 0.5 at DST "
                    "(zarr v3 with dimension_names): every image level, label image, plate/well "
                    "field and bioformats2raw series, re-encoded and optionally re-chunked and "
                    "sharded. Pyramid levels are copied as they are (no downsampling); with the "
                    "chunks and compressor kept (the default), encoded chunks are copied without "
                    "decoding. SRC is validated first and DST after; metadata is written last.",
        epilog="examples:\n"
               f"  {PROG} upgrade old.ome.zarr new.ome.zarr\n"
               f"  {PROG} upgrade old.ome.zarr new.ome.zarr --chunks auto --shards auto\n"
               f"  {PROG} upgrade plate.zarr plate05.zarr --chunks y=256,x=256 --shards y=2048,x=2048",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("src", metavar="SRC")
    p.add_argument("dst", metavar="DST")
    p.add_argument("--chunks", type=_layout_arg, metavar="auto|C,..|AXIS=C,..",
                   help="new inner chunks (default: keep each array's)")
    p.add_argument("--shards", type=_layout_arg, metavar="auto|S,..|AXIS=S,..",
                   help="shard shape, multiples of the chunks (default: no sharding)")
    p.add_argument("--codec", choices=("keep", "zstd", "gzip", "blosc", "none"), default="keep",
                   help="keep (default): each array's own compressor (zstd, gzip, blosc; others "
                        "become zstd-3), its encoded chunks copied without decoding when the "
                        "chunks are kept; or re-encode everything with the codec given")
    p.add_argument("--clevel", type=int, help="compression level when re-encoding "
                                              "(default: zstd 3, gzip 6, blosc 5)")
    p.add_argument("--overwrite", action="store_true", help="replace DST if it exists")
    p.add_argument("--no-validate", action="store_true",
                   help="skip validating SRC before and DST after")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (off anyway when not a TTY)")
    p.set_defaults(func=cmd_upgrade)


def cmd_upgrade(args) -> int:
    from omezarr_fast.upgrade import upgrade_path

    out = upgrade_path(args.src, args.dst, chunks=args.chunks, shards=args.shards,
                       codec=None if args.codec == "none" else args.codec, clevel=args.clevel,
                       overwrite=args.overwrite, validate=not args.no_validate,
                       progress=False if args.no_progress else None)
    print(f"{out}: OME-Zarr 0.5 (upgraded from {args.src})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Fast zarr v3 / OME-Zarr tools.")
    from omezarr_fast import __version__

    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    register_bench(sub)
    register_info(sub)
    register_validate(sub)
    register_convert(sub)
    register_pyramid(sub)
    register_upgrade(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from omezarr_fast.bench.errors import BenchError

    try:
        return args.func(args)
    except (BenchError, UserError, ValueError, TypeError, KeyError, FileExistsError) as e:
        print(f"{PROG} {args.command}: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a file we could not read or write
        print(f"{PROG} {args.command}: error: {e.strerror or e}: {e.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
