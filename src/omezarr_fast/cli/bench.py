"""``omezarr-fast bench``: codec ratio and speed on the user's data, and a recommendation."""
from __future__ import annotations

import argparse
import sys

from omezarr_fast._util import require
from omezarr_fast.cli.args import PROG, UserError, int_list, positive, str_list


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
                   help="zarr array, OME-Zarr image (level 0 or --level; a directory or URL: s3://, gs://, "
                        "az://, http(s)://), .tif/.tiff, file.h5:/dataset, .npy")
    p.add_argument("--level", type=int, help="pyramid level of an OME-Zarr image (default 0)")
    p.add_argument("--chunks", help="chunk shape to measure, e.g. 1,64,256,256 (default: the input's own "
                                    "chunks, else about 1 MiB)")
    p.add_argument("--codecs", nargs="+", action="extend", metavar="JSON", default=[],
                   help="extra codec chain(s) as zarr v3 JSON lists; a chain without an array->bytes codec "
                        "gets 'bytes' added")
    p.add_argument("--grid", choices=("full", "quick", "none"),
                   help="built-in grid (default: full, or none when --codecs is given)")
    p.add_argument("--zstd-levels", type=int_list, metavar="L,..", help=f"default {fmt(ZSTD_LEVELS)}")
    p.add_argument("--blosc-cnames", type=str_list, metavar="C,..", help=f"default {fmt(BLOSC_CNAMES)}")
    p.add_argument("--blosc-shuffles", type=str_list, metavar="S,..", help=f"default {fmt(BLOSC_SHUFFLES)}")
    p.add_argument("--blosc-clevels", type=int_list, metavar="L,..", help=f"default {fmt(BLOSC_CLEVELS)}")
    p.add_argument("--gzip-levels", type=int_list, metavar="L,..", help=f"default {fmt(GZIP_LEVELS)}")
    p.add_argument("--transpose", type=int_list, action="append", metavar="ORDER",
                   help="also measure every grid chain with this transpose in front (e.g. 3,2,1,0); repeatable")
    p.add_argument("--engine", choices=("auto", "native", "zarr"), default="auto",
                   help="auto: native core where it can run the chain, zarr's codecs otherwise")
    p.add_argument("--goal", choices=GOALS, help="what to optimise in the recommendation (default balanced, "
                                                 "or ratio with --min-decode-mbps)")
    p.add_argument("--min-decode-mbps", type=positive(float), metavar="MBPS",
                   help="recommend only chains decoding at least this fast (all threads)")
    p.add_argument("--threads", type=positive(int), help="thread count for the 'all threads' columns "
                                                          "(default: omezarr_fast.get_num_threads())")
    p.add_argument("--repeats", type=positive(int), default=3, help="repetitions per measurement (default 3)")
    p.add_argument("--time-budget", type=positive(float), metavar="S",
                   help="stop starting new configurations after S seconds and say which were skipped")
    p.add_argument("--max-chunks", type=positive(int), help="sample at most this many chunks (default 16)")
    p.add_argument("--sample-mb", type=positive(float), help="sample at most this many MB (default 16.8)")
    p.add_argument("--csv", metavar="FILE", help="write one row per configuration")
    p.add_argument("--json", metavar="FILE", help="write the full report with every repetition")
    p.add_argument("--plot", metavar="FILE.png", help="write ratio vs throughput plots (decode | encode)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress (a bar on a terminal, else a line every few seconds)")
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
    from omezarr_fast.bench.errors import BenchError
    from omezarr_fast.bench.sampling import parse_chunks

    # The table and plot libraries are checked first: failing after a long run would waste it.
    require("rich.console", "the table", BenchError)
    if args.plot:
        require("matplotlib", "--plot", BenchError)
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
        if not args.no_progress:      # stderr is not a terminal (a log, CI): plain lines
            kw["progress"] = rep.progress_lines(sys.stderr)
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
        rep.plot(report, args.plot, recommended=rec)
    if rec is None:
        print(f"{PROG} bench: no recommendation: {message}", file=sys.stderr)
    return status
