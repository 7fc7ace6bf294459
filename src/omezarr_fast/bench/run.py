"""The benchmark run: sample, measure every configuration within the time budget, mark fronts."""
from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from omezarr_fast.bench.errors import BenchError
from omezarr_fast.bench.grid import CodecConfig, as_measured
from omezarr_fast.bench.measure import Result, Stat, measure_config, measure_memcpy
from omezarr_fast.bench.pareto import mark_fronts
from omezarr_fast.bench.runners import Runner, make_runner
from omezarr_fast.bench.sampling import Source, guess_chunk_shape, sample_chunks


@dataclass
class BenchReport:
    source: str
    synthetic: bool
    shape: tuple[int, ...]
    dtype: str
    chunk_shape: tuple[int, ...]
    sampled_chunks: list[tuple[int, ...]]
    sample_bytes: int
    threads: int
    repeats: int
    results: list[Result]
    memcpy: Result | None
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    time_budget: float | None = None
    elapsed: float = 0.0
    machine: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "source": self.source, "synthetic": self.synthetic, "shape": list(self.shape),
            "dtype": self.dtype, "chunk_shape": list(self.chunk_shape),
            "sampled_chunks": [list(p) for p in self.sampled_chunks], "sample_bytes": self.sample_bytes,
            "threads": self.threads, "repeats": self.repeats, "time_budget": self.time_budget,
            "elapsed_s": round(self.elapsed, 3), "skipped": self.skipped,
            "failed": [{"name": n, "error": e} for n, e in self.failed], "machine": self.machine,
            "units": "MB/s = 10^6 uncompressed bytes per second; ratio = uncompressed / compressed bytes",
            "memcpy": self.memcpy.to_dict() if self.memcpy else None,
            "results": [r.to_dict() for r in self.results],
        }


    @classmethod
    def from_dict(cls, d: dict) -> BenchReport:
        """A report read back from ``to_dict()`` / ``--json`` output (to re-print or re-plot it)."""
        def result(r):
            stats = {k: Stat(**r[k]) for k in ("encode_1", "decode_1", "encode_n", "decode_n")}
            return Result(r["name"], r["family"], r["codecs"], r["engine"], r["raw_bytes"], r["encoded_bytes"],
                          **stats, repeats=r.get("repeats", 1), pareto_decode=r["pareto_decode"],
                          pareto_encode=r["pareto_encode"])

        return cls(d["source"], d["synthetic"], tuple(d["shape"]), d["dtype"], tuple(d["chunk_shape"]),
                   [tuple(p) for p in d["sampled_chunks"]], d["sample_bytes"], d["threads"], d["repeats"],
                   [result(r) for r in d["results"]], result(d["memcpy"]) if d.get("memcpy") else None,
                   d.get("skipped", []), [(f["name"], f["error"]) for f in d.get("failed", [])],
                   d.get("time_budget"), d.get("elapsed_s", 0.0), d.get("machine", {}))


def machine_info() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": cpu, "cpus_available": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def run_benchmark(source: Source | np.ndarray, configs: Sequence[CodecConfig], *,
                  chunk_shape: Sequence[int] | None = None, repeats: int = 3, threads: int | None = None,
                  time_budget: float | None = None, engine: str = "auto", max_chunks: int | None = None,
                  max_sample_bytes: int | None = None, pareto_threads: str = "n",
                  runner_factory: Callable[[CodecConfig, tuple, np.dtype], Runner] | None = None,
                  progress: Callable[[str, int, int], None] | None = None) -> BenchReport:
    """Measures each configuration on chunks sampled from ``source``.

    ``threads`` is the "all threads" count (default: the library's pool
    size). Once ``time_budget`` seconds have passed, the remaining
    configurations are skipped and listed in ``report.skipped``.
    ``runner_factory(config, chunk_shape, dtype)`` replaces the engine choice
    (for tests). ``progress(name, done, total)`` is called before each
    configuration and once at the end.
    """
    if isinstance(source, np.ndarray):
        source = Source(source, f"numpy array {source.shape} {source.dtype}", None)
    if repeats < 1:
        raise BenchError(f"repeats must be >= 1, got {repeats}")
    if time_budget is not None and time_budget <= 0:
        raise BenchError(f"time budget must be > 0 seconds, got {time_budget}")
    import omezarr_fast

    pool_threads = omezarr_fast.get_num_threads()
    if threads is None:
        threads = pool_threads
    try:
        return _run(source, configs, chunk_shape, repeats, threads, time_budget, engine, max_chunks,
                    max_sample_bytes, pareto_threads, runner_factory, progress)
    finally:
        omezarr_fast.set_num_threads(pool_threads)


def _run(source, configs, chunk_shape, repeats, threads, time_budget, engine, max_chunks, max_sample_bytes,
         pareto_threads, runner_factory, progress) -> BenchReport:
    if not configs:
        raise BenchError("no codec configurations to measure")
    start = time.perf_counter()
    chunk = tuple(chunk_shape or source.chunk_shape or guess_chunk_shape(source.shape, source.dtype))
    kw = {}
    if max_chunks is not None:
        kw["max_chunks"] = max_chunks
    if max_sample_bytes is not None:
        kw["max_bytes"] = max_sample_bytes
    chunks, positions = sample_chunks(source.array, chunk, **kw)
    chunk = chunks[0].shape
    # Measure what zarr would write for this array, not a dtype-less default (blosc typesize 1).
    configs = as_measured(configs, chunk, chunks[0].dtype)

    # Every chain is compiled before any timing, so a bad one fails at once, not after minutes.
    if runner_factory is None:
        runners = [make_runner(c.codecs, chunk, chunks[0].dtype, engine) for c in configs]
    else:
        runners = [runner_factory(c, chunk, chunks[0].dtype) for c in configs]

    memcpy = measure_memcpy(chunks, threads=threads, repeats=repeats)
    results, skipped, failed = [], [], []
    for i, (cfg, runner) in enumerate(zip(configs, runners)):
        if time_budget is not None and time.perf_counter() - start > time_budget:
            skipped = [c.name for c in configs[i:]]
            break
        if progress:
            progress(cfg.name, i, len(configs))
        try:
            results.append(measure_config(cfg, chunks, threads=threads, repeats=repeats, runner=runner))
        except (ValueError, RuntimeError) as e:
            # One chain failing (a round trip that differs, a codec error) must not lose the others.
            failed.append((cfg.name, str(e)))
    if progress:
        progress("", len(configs), len(configs))
    mark_fronts(results, pareto_threads)
    return BenchReport(source.description, source.synthetic, source.shape, str(source.dtype), chunk, positions,
                       sum(c.nbytes for c in chunks), threads, repeats, results, memcpy, skipped,
                       failed, time_budget, time.perf_counter() - start, machine_info())
