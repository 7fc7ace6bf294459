"""Output of a run: a rich table, CSV, JSON and a PNG plot."""
from __future__ import annotations

import csv
import json
import math
import textwrap

from omezarr_fast._util import require
from omezarr_fast.bench.errors import BenchError

CSV_FIELDS = ["name", "family", "engine", "ratio", "raw_bytes", "encoded_bytes",
              "encode_mbps_1", "encode_mbps_1_min", "encode_mbps_1_max",
              "decode_mbps_1", "decode_mbps_1_min", "decode_mbps_1_max",
              "encode_mbps_n", "encode_mbps_n_min", "encode_mbps_n_max",
              "decode_mbps_n", "decode_mbps_n_min", "decode_mbps_n_max",
              "threads_n", "repeats", "pareto_decode", "pareto_encode", "recommended", "codecs"]


def _need(module: str):
    return require(module, "this output", BenchError)


def rows(report, recommended=None) -> list[dict]:
    out = []
    for r in ([report.memcpy] if report.memcpy else []) + report.results:
        row = {"name": r.name, "family": r.family, "engine": r.engine, "ratio": round(r.ratio, 4),
               "raw_bytes": r.raw_bytes, "encoded_bytes": r.encoded_bytes, "threads_n": report.threads,
               "repeats": r.repeats,
               "pareto_decode": r.pareto_decode, "pareto_encode": r.pareto_encode,
               "recommended": recommended is not None and r is recommended.result,
               "codecs": json.dumps(r.codecs) if r.codecs is not None else ""}
        for d in ("encode", "decode"):
            for t in ("1", "n"):
                s = getattr(r, f"{d}_{t}")
                row[f"{d}_mbps_{t}"], row[f"{d}_mbps_{t}_min"], row[f"{d}_mbps_{t}_max"] = (
                    round(s.median, 1), round(s.min, 1), round(s.max, 1))
        out.append(row)
    return out


def write_csv(report, path, recommended=None) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        w.writeheader()
        w.writerows(rows(report, recommended))


def write_json(report, path, recommended=None) -> None:
    d = report.to_dict()
    if recommended is not None:
        d["recommendation"] = {"name": recommended.result.name, "goal": recommended.goal,
                               "reason": recommended.reason, "codecs": recommended.codecs,
                               "create_array": recommended.create_array_kwargs()}
    with open(path, "w") as f:
        json.dump(d, f, indent=1)
        f.write("\n")


def _mbps(stat, show_spread: bool) -> str:
    text = f"{stat.median:,.0f}" if stat.median >= 10 else f"{stat.median:.1f}"
    if show_spread:
        text += f" ±{stat.spread * 100:.0f}%" if len(stat.samples) > 1 else "     "
    return text


def print_table(report, recommended=None, console=None) -> None:
    """The results as a rich table: Pareto marks, spread, the recommendation and its JSON."""
    rich_console = _need("rich.console")
    rich_table = _need("rich.table")
    if console is None:
        console = rich_console.Console()
    spread = report.repeats > 1
    n = report.threads
    console.print(f"[bold]Input[/]: {report.source}")
    console.print(f"shape {report.shape} {report.dtype}, chunks {report.chunk_shape}; sampled "
                  f"{len(report.sampled_chunks)} chunks ({report.sample_bytes / 1e6:.1f} MB) spread over the "
                  f"array; {report.repeats} repeat(s), median shown" + (", ± half the min-max range" if spread
                                                                          else ""))
    console.print(f"machine: {report.machine.get('cpu', '?')}, {n} thread(s) for 'all'")
    t = rich_table.Table(title="Codec benchmark (MB/s of uncompressed data)", title_justify="left")
    t.add_column("front", justify="center", no_wrap=True)
    t.add_column("configuration", no_wrap=True)
    t.add_column("engine")
    t.add_column("ratio", justify="right")
    t.add_column("encode 1t", justify="right", no_wrap=True)
    t.add_column(f"encode {n}t", justify="right", no_wrap=True)
    t.add_column("decode 1t", justify="right", no_wrap=True)
    t.add_column(f"decode {n}t", justify="right", no_wrap=True)
    results = sorted(report.results, key=lambda r: -r.ratio)
    for r in ([report.memcpy] if report.memcpy else []) + results:
        mark = ("D" if r.pareto_decode else "") + ("E" if r.pareto_encode else "")
        is_rec = recommended is not None and r is recommended.result
        style = "bold green" if is_rec else ("dim" if r.codecs is None else None)
        t.add_row(mark, ("→ " if is_rec else "") + r.name, r.engine, f"{r.ratio:.2f}",
                  _mbps(r.encode_1, spread), _mbps(r.encode_n, spread),
                  _mbps(r.decode_1, spread), _mbps(r.decode_n, spread), style=style)
    console.print(t)
    console.print("front: D = on the Pareto front of ratio vs decode speed, E = ratio vs encode speed "
                  f"(speeds on {n} thread(s))")
    fewer = [r.name for r in report.results if r.repeats < report.repeats]
    if fewer:
        console.print(f"slow to encode, so fewer repeats (no spread shown): {', '.join(fewer)}")
    for name, error in report.failed:
        console.print(f"[red]failed: {name}: {error}[/]", markup=True, highlight=False)
    if report.skipped:
        console.print(f"[yellow]time budget of {report.time_budget:g} s reached: skipped "
                      f"{len(report.skipped)} configuration(s): {', '.join(report.skipped)}[/]")
    if recommended is not None:
        console.print(f"[bold]Recommended for goal '{recommended.goal}'[/]: {recommended.result.name} — "
                      f"{recommended.reason}")
        kw = recommended.create_array_kwargs()
        console.print("zarr.create_array(..., " + ", ".join(f"{k}={json.dumps(v)}" for k, v in kw.items()) + ")",
                      soft_wrap=True, markup=False, highlight=False)
        console.print('zarr.json "codecs": ' + json.dumps(recommended.codecs), soft_wrap=True, markup=False,
                      highlight=False)


def _label_front(ax, front, report) -> None:
    """Names front points, skipping any too close to one already named (in axis fractions)."""
    xs = [math.log10(max(r.speed(d), 1e-9)) for r in report.results for d in ("decode", "encode")]
    ys = [r.ratio for r in report.results]
    xspan, yspan = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    placed = []
    for x, y, name in sorted(front, key=lambda p: -p[1]):
        fx, fy = (math.log10(max(x, 1e-9)) - min(xs)) / xspan, (y - min(ys)) / yspan
        if any(abs(fx - px) < 0.18 and abs(fy - py) < 0.06 for px, py in placed):
            continue
        placed.append((fx, fy))
        right = fx > 0.7   # near the right edge: text to the left of the point
        ax.annotate(name, (x, y), xytext=(-6 if right else 6, 4), textcoords="offset points", fontsize=7,
                    ha="right" if right else "left", zorder=5)


def plot(report, path, width_px: int = 1400, height_px: int = 560, dpi: int = 100) -> None:
    """Ratio (y) against throughput (log x) on all threads: decode left, encode right.

    One marker colour per codec family; Pareto-front points are ringed,
    joined and named; the memcpy speed is a dashed vertical line.
    """
    matplotlib = _need("matplotlib")
    matplotlib.use("Agg")
    plt = _need("matplotlib.pyplot")

    fig, axes = plt.subplots(1, 2, figsize=(width_px / dpi, height_px / dpi), dpi=dpi, sharey=True)
    families = sorted({r.family for r in report.results})
    cmap = plt.get_cmap("tab20" if len(families) > 10 else "tab10")
    colors = {f: cmap(i % cmap.N) for i, f in enumerate(families)}
    for ax, direction in zip(axes, ("decode", "encode")):
        for fam in families:
            pts = [(r.speed(direction), r.ratio) for r in report.results if r.family == fam]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "o", ms=5, alpha=0.85, color=colors[fam], label=fam)
        front = sorted((r.speed(direction), r.ratio, r.name) for r in report.results
                       if getattr(r, f"pareto_{direction}"))
        if front:
            ax.plot([p[0] for p in front], [p[1] for p in front], "-", color="black", lw=1.2, zorder=3,
                    label="Pareto front")
            ax.scatter([p[0] for p in front], [p[1] for p in front], s=90, facecolors="none",
                       edgecolors="black", linewidths=1.5, zorder=4)
            _label_front(ax, front, report)
        if report.memcpy is not None:
            ax.axvline(report.memcpy.speed(direction), color="grey", ls="--", lw=1, label="memcpy")
        ax.set_xscale("log")
        ax.margins(x=0.12)   # room for the names of the fastest front points
        ax.set_xlabel(f"{direction} throughput, MB/s of uncompressed data ({report.threads} threads)")
        ax.set_title(f"ratio vs {direction} speed")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("compression ratio")
    axes[1].legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    title = textwrap.shorten(report.source, 120, placeholder="...")
    fig.suptitle(f"{title}\n{report.dtype} {report.shape}, chunks {report.chunk_shape}, "
                 f"{len(report.sampled_chunks)} chunks sampled; median of {report.repeats} repeat(s)", fontsize=9)
    fig.subplots_adjust(left=0.06, right=0.84, bottom=0.11, top=0.86, wspace=0.06)
    fig.savefig(path, dpi=dpi)   # no bbox_inches="tight": the file keeps the asked-for pixel size
    plt.close(fig)
