"""Pareto fronts and the recommendation for a stated goal.

Both objectives are maximised: compression ratio and throughput. A point is
on the front when no other point is at least as good on both and better on
one. Ties (identical points) all stay on the front.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from omezarr_fast.bench.errors import BenchError

GOALS = ("ratio", "decode", "encode", "balanced")
# Configurations that do not compress by at least this much are not
# recommended for speed goals: otherwise "uncompressed" always wins them.
MIN_USEFUL_RATIO = 1.05


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the non-dominated (ratio, speed) points, in input order."""
    front = []
    for i, (r, s) in enumerate(points):
        dominated = any(r2 >= r and s2 >= s and (r2 > r or s2 > s) for j, (r2, s2) in enumerate(points) if j != i)
        if not dominated:
            front.append(i)
    return front


def mark_fronts(results, threads: str = "n") -> None:
    """Sets pareto_decode / pareto_encode on each result (speeds on 1 or on all threads)."""
    for direction in ("decode", "encode"):
        pts = [(r.ratio, r.speed(direction, threads)) for r in results]
        on = set(pareto_front(pts))
        for i, r in enumerate(results):
            setattr(r, f"pareto_{direction}", i in on)


@dataclass
class Recommendation:
    result: object
    goal: str
    reason: str

    @property
    def codecs(self) -> list[dict]:
        """The chain as zarr.json's ``codecs`` (also ``zarr.create(codecs=...)``)."""
        return self.result.codecs

    def create_array_kwargs(self) -> dict:
        """The chain split the way ``zarr.create_array`` takes it: filters, serializer, compressors."""
        from omezarr_fast.bench.runners import codec_kind

        kinds = [codec_kind(c["name"]) for c in self.codecs]
        return {"filters": [c for c, k in zip(self.codecs, kinds) if k == "array_array"],
                "serializer": next(c for c, k in zip(self.codecs, kinds) if k == "array_bytes"),
                "compressors": [c for c, k in zip(self.codecs, kinds) if k == "bytes_bytes"]}


def recommend(results, goal: str = "balanced", *, min_decode_mbps: float | None = None,
              threads: str = "n") -> Recommendation:
    """The configuration that best meets ``goal``, among those decoding at least ``min_decode_mbps``.

    - ratio: the highest ratio (ties: the faster decoder).
    - decode / encode: the fastest in that direction among configurations
      that compress (ratio >= 1.05), or among all when none does.
    - balanced: the configuration closest to the ideal corner, after scaling
      ratio, log decode speed and log encode speed each to 0..1 over the
      candidates (the knee of the front, with encode speed counted too).
    With min_decode_mbps and no goal of its own, the goal is ratio: the best
    compression that still decodes that fast.
    """
    if goal not in GOALS:
        raise BenchError(f"goal must be one of {', '.join(GOALS)}, got {goal!r}")
    cands = [r for r in results if r.codecs is not None]
    if not cands:
        raise BenchError("no measured configuration to recommend from")
    note = ""
    if min_decode_mbps is not None:
        cands = [r for r in cands if r.speed("decode", threads) >= min_decode_mbps]
        if not cands:
            best = max((r for r in results if r.codecs is not None), key=lambda r: r.speed("decode", threads))
            raise BenchError(f"no configuration decodes at {min_decode_mbps:g} MB/s or more; "
                             f"the fastest, {best.name}, decodes at {best.speed('decode', threads):.0f} MB/s")
        note = f", decoding at >= {min_decode_mbps:g} MB/s"
    if goal == "ratio":
        best = max(cands, key=lambda r: (r.ratio, r.speed("decode", threads)))
        return Recommendation(best, goal, f"highest ratio ({best.ratio:.2f}){note}")
    useful = [r for r in cands if r.ratio >= MIN_USEFUL_RATIO] or cands
    if goal in ("decode", "encode"):
        best = max(useful, key=lambda r: (r.speed(goal, threads), r.ratio))
        return Recommendation(best, goal, f"fastest {goal} ({best.speed(goal, threads):.0f} MB/s) "
                                          f"among configurations that compress{note}")

    def scaled(values):
        lo, hi = min(values), max(values)
        return [(v - lo) / (hi - lo) if hi > lo else 1.0 for v in values]

    axes = [scaled([r.ratio for r in useful]),
            scaled([math.log(max(r.speed("decode", threads), 1e-9)) for r in useful]),
            scaled([math.log(max(r.speed("encode", threads), 1e-9)) for r in useful])]
    dist = [math.dist((1.0, 1.0, 1.0), p) for p in zip(*axes)]
    i = min(range(len(useful)), key=lambda k: (dist[k], -useful[k].ratio))
    best = useful[i]
    return Recommendation(best, goal, f"best balance of ratio ({best.ratio:.2f}), decode "
                                      f"({best.speed('decode', threads):.0f} MB/s) and encode "
                                      f"({best.speed('encode', threads):.0f} MB/s){note}")
