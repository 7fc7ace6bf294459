"""Codec benchmarking on the user's own data.

Measures compression ratio and encode/decode speed (one thread and all
threads) of zarr v3 codec chains on chunks sampled from an array, marks the
Pareto fronts and recommends a chain for a goal::

    from omezarr_fast import bench
    src = bench.open_input("image.ome.zarr")        # or None: a synthetic sample
    configs = bench.codec_grid(src.dtype, len(src.shape))
    report = bench.run_benchmark(src, configs, time_budget=60)
    rec = bench.recommend(report.results, "balanced")
    rec.codecs   # paste into zarr.create_array(..., codecs=rec.codecs)

Chains the native core runs are timed through omezarr_fast.native; any
other chain through zarr's own codec objects (the ``engine`` of each result).
"""
from omezarr_fast.bench import report
from omezarr_fast.bench.errors import BenchError
from omezarr_fast.bench.grid import QUICK, CodecConfig, codec_grid, make_config, parse_codecs_json, with_bytes_codec
from omezarr_fast.bench.measure import Result, Stat, measure_config, measure_memcpy
from omezarr_fast.bench.pareto import GOALS, Recommendation, pareto_front, recommend
from omezarr_fast.bench.run import BenchReport, run_benchmark
from omezarr_fast.bench.runners import NativeRunner, Runner, ZarrRunner, make_runner
from omezarr_fast.bench.sampling import Source, guess_chunk_shape, open_input, sample_chunks, synthetic_sample

__all__ = ["GOALS", "QUICK", "BenchError", "BenchReport", "CodecConfig", "NativeRunner", "Recommendation",
           "Result", "Runner", "Source", "Stat", "ZarrRunner", "codec_grid", "guess_chunk_shape", "make_config",
           "make_runner", "measure_config", "measure_memcpy", "open_input", "pareto_front", "parse_codecs_json",
           "recommend", "report", "run_benchmark", "sample_chunks", "synthetic_sample", "with_bytes_codec"]
