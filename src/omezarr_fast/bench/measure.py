"""Timing: ratio, encode and decode throughput per configuration, and the memcpy baseline.

Throughput is decoded (uncompressed) bytes per second, MB = 10^6 bytes, for
both directions, as lzbench reports it. Each repetition times one batch over
all sampled chunks, looping the batch until it lasts at least ``min_time``
so fast codecs are not timed at the clock's resolution; the median over
repetitions is reported with the min and max.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from omezarr_fast.bench.errors import BenchError
from omezarr_fast.bench.grid import CodecConfig
from omezarr_fast.bench.runners import Runner, make_runner, use_threads

MIN_TIME = 0.05
# A configuration whose repetitions would take longer than this gets fewer of them
# (at least one): zstd 22 on 16 MB is minutes otherwise. Result.repeats says how many.
MAX_CONFIG_SECONDS = 15.0


@dataclass
class Stat:
    """MB/s over repetitions."""
    median: float
    min: float
    max: float
    samples: list[float] = field(default_factory=list)

    @classmethod
    def of(cls, samples: list[float]) -> Stat:
        return cls(statistics.median(samples), min(samples), max(samples), list(samples))

    @property
    def spread(self) -> float:
        """Half the min-max range relative to the median (0.03 = +-3%)."""
        return (self.max - self.min) / 2 / self.median if self.median else 0.0


@dataclass
class Result:
    name: str
    family: str
    codecs: list[dict] | None
    engine: str
    raw_bytes: int
    encoded_bytes: int
    encode_1: Stat
    decode_1: Stat
    encode_n: Stat
    decode_n: Stat
    repeats: int = 1
    pareto_decode: bool = False
    pareto_encode: bool = False

    @property
    def ratio(self) -> float:
        return self.raw_bytes / self.encoded_bytes if self.encoded_bytes else float("inf")

    def speed(self, direction: str, threads: str = "n") -> float:
        return getattr(self, f"{direction}_{threads}").median

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ratio"] = self.ratio
        return d


def _timed(fn: Callable[[], object], nbytes: int, min_time: float) -> float:
    loops, start = 0, time.perf_counter()
    while True:
        fn()
        loops += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return nbytes * loops / elapsed / 1e6


def measure_config(config: CodecConfig, chunks: list[np.ndarray], *, threads: int, repeats: int = 3,
                   runner: Runner | None = None, engine: str = "auto", min_time: float = MIN_TIME,
                   max_seconds: float = MAX_CONFIG_SECONDS) -> Result:
    """Ratio and encode/decode MB/s on 1 and on ``threads`` threads, after checking the round trip.

    When one round trip of the sample is so slow that the repetitions would
    exceed ``max_seconds``, fewer repetitions are made (at least one).
    """
    if not chunks:
        raise BenchError("no chunks to measure")
    if runner is None:
        runner = make_runner(config.codecs, chunks[0].shape, chunks[0].dtype, engine)
    raw = sum(c.nbytes for c in chunks)
    t0 = time.perf_counter()
    encoded = runner.encode_batch(chunks, threads)
    decoded = runner.decode_batch(encoded, threads)
    # One round trip on all threads; on one thread it takes up to `threads` times longer.
    round_trip = (time.perf_counter() - t0) * (1 + (threads if threads > 1 else 0))
    repeats = max(1, min(repeats, int(max_seconds // max(round_trip, 1e-9))))
    for i, (a, b) in enumerate(zip(chunks, decoded)):
        if not np.array_equal(np.asarray(b).reshape(a.shape), a, equal_nan=a.dtype.kind in "fc"):
            raise BenchError(f"{config.name} ({runner.engine}) did not round-trip chunk {i}")
    enc_size = sum(len(memoryview(e).cast("B")) for e in encoded)

    stats = {}
    for label, n in (("1", 1), ("n", threads)):
        if n == 1 and label == "n" and "encode_1" in stats:
            stats["encode_n"], stats["decode_n"] = stats["encode_1"], stats["decode_1"]
            continue
        enc, dec = [], []
        for _ in range(repeats):
            enc.append(_timed(lambda n=n: runner.encode_batch(chunks, n), raw, min_time))
            dec.append(_timed(lambda n=n: runner.decode_batch(encoded, n), raw, min_time))
        stats[f"encode_{label}"], stats[f"decode_{label}"] = Stat.of(enc), Stat.of(dec)
    return Result(config.name, config.family, config.codecs, runner.engine, raw, enc_size, **stats,
                  repeats=repeats)


def measure_memcpy(chunks: list[np.ndarray], *, threads: int, repeats: int = 3,
                   min_time: float = MIN_TIME) -> Result:
    """The machine's copy speed on the same chunks: the ceiling any codec is compared with.

    The copies run where the native codecs run: one native call per batch on
    the library's thread pool (an uncompressed ``bytes`` chain decodes with one
    memcpy per item), so the 1-thread and n-thread figures are measured the
    way the codecs' are, not through Python threads. Each chunk is cut into n
    equal pieces so n threads share the work even with one chunk; the few
    bytes left over (fewer than n per chunk) are copied by numpy.
    """
    import omezarr_fast
    from omezarr_fast.native import ChunkCodec

    raw = sum(c.nbytes for c in chunks)
    srcs = [np.ascontiguousarray(c).reshape(-1).view(np.uint8) for c in chunks]
    dsts = [np.empty_like(s) for s in srcs]

    def plan(n):
        """(piece size -> codec, sources, outputs) and the left-over (dst, src) pairs, for n threads."""
        batches, tails = {}, []
        for d, s in zip(dsts, srcs):
            piece = len(s) // n
            if piece == 0:
                tails.append((d, s))
                continue
            if piece not in batches:
                batches[piece] = (ChunkCodec([{"name": "bytes"}], (piece,), np.uint8), [], [])
            _, ins, outs = batches[piece]
            for i in range(n):
                ins.append(s[i * piece:(i + 1) * piece])
                outs.append(d[i * piece:(i + 1) * piece])
            if piece * n < len(s):
                tails.append((d[piece * n:], s[piece * n:]))
        return list(batches.values()), tails

    plans = {n: plan(n) for n in {1, threads}}

    def copy(n):
        use_threads(n)
        batches, tails = plans[n]
        for codec, ins, outs in batches:
            codec.decode_batch(ins, out=outs)
        for d, s in tails:
            np.copyto(d, s)

    pool = omezarr_fast.get_num_threads()
    try:
        copy(threads)
        if not all(np.array_equal(d, s) for d, s in zip(dsts, srcs)):
            raise BenchError("the memcpy baseline did not copy its chunks")
        stats = {}
        for label, n in (("1", 1), ("n", threads)):
            samples = [_timed(lambda n=n: copy(n), raw, min_time) for _ in range(repeats)]
            stats[label] = Stat.of(samples)
    finally:
        omezarr_fast.set_num_threads(pool)
    return Result("memcpy (baseline)", "memcpy", None, "native", raw, raw,
                  stats["1"], stats["1"], stats["n"], stats["n"], repeats=repeats)
