"""Output of a run: a rich table, CSV, JSON and a PNG plot."""
from __future__ import annotations

import csv
import json
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


# What write_image / convert compress with unless told otherwise: labelled in the plot.
DEFAULT_COMPRESSOR = {"name": "zstd", "configuration": {"level": 3, "checksum": False}}
DEFAULT_LABEL = "library default"


def is_library_default(result) -> bool:
    """True for the chain the library writes by default: bytes + zstd level 3, nothing else."""
    if not result.codecs:
        return False
    others = [c for c in result.codecs if c.get("name") != "bytes"]
    return len(others) == 1 and others[0].get("name") == "zstd" and \
        {"checksum": False, **(others[0].get("configuration") or {})} == DEFAULT_COMPRESSOR["configuration"]


# Where a label may go relative to its point, in points, tried in this order.
_OFFSETS = [(6, 4), (6, -11), (-6, 4), (-6, -11), (6, 15), (6, -22), (-6, 15), (-6, -22),
            (6, 26), (6, -33), (-6, 26), (-6, -33), (6, 37), (6, -44), (-6, 37), (-6, -44)]
_FONT = 7


def place_labels(ax, items) -> list:
    """Annotates every (x, y, text) item, choosing for each an offset where its text overlaps no
    label placed before it (the highest ratio first); when none is free, the least crowded one,
    with a leader line. Returns the annotations."""
    fig = ax.figure
    ax.autoscale_view()
    px_per_pt = fig.dpi / 72.0
    frame = ax.get_window_extent()
    marker = 6 * px_per_pt     # the ringed markers are obstacles too
    placed = [(px - marker, py - marker, px + marker, py + marker)
              for px, py in (ax.transData.transform((x, y)) for x, y, _ in items)]
    notes = []
    for x, y, text in sorted(items, key=lambda it: -it[1]):
        px, py = ax.transData.transform((x, y))
        w, h = (0.62 * _FONT * len(text) + 2) * px_per_pt, (_FONT + 2) * px_per_pt
        best = None
        for dx, dy in _OFFSETS:
            x0 = px + dx * px_per_pt - (w if dx < 0 else 0)
            y0 = py + dy * px_per_pt
            box = (x0, y0, x0 + w, y0 + h)
            outside = box[0] < frame.x0 or box[2] > frame.x1 or box[1] < frame.y0 or box[3] > frame.y1
            overlap = sum(max(0, min(box[2], b[2]) - max(box[0], b[0])) *
                          max(0, min(box[3], b[3]) - max(box[1], b[1])) for b in placed)
            cost = overlap + (w * h if outside else 0)
            if best is None or cost < best[0]:
                best = (cost, dx, dy, box)
            if cost == 0:
                break
        _, dx, dy, box = best
        placed.append(box)
        far = abs(dy) > 11
        notes.append(ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=_FONT,
                                 ha="right" if dx < 0 else "left", va="bottom", zorder=7,
                                 bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7},
                                 arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "grey"} if far else None))
    return notes


def figure(report, recommended=None, width_px: int = 1400, height_px: int = 560, dpi: int = 100):
    """The matplotlib Figure of :func:`plot` (for callers that want to change it before saving)."""
    matplotlib = _need("matplotlib")
    matplotlib.use("Agg")
    plt = _need("matplotlib.pyplot")

    fig, axes = plt.subplots(1, 2, figsize=(width_px / dpi, height_px / dpi), dpi=dpi, sharey=True)
    families = sorted({r.family for r in report.results})
    cmap = plt.get_cmap("tab20" if len(families) > 10 else "tab10")
    colors = {f: cmap(i % cmap.N) for i, f in enumerate(families)}
    rec = recommended.result if recommended is not None else None
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
        if rec is not None:
            ax.plot([rec.speed(direction)], [rec.ratio], "*", ms=17, color="gold", markeredgecolor="black",
                    zorder=6, label=f"recommended ({recommended.goal})")
        if report.memcpy is not None:
            ax.axvline(report.memcpy.speed(direction), color="grey", ls="--", lw=1, label="memcpy")
        ax.set_xscale("log")
        ax.margins(x=0.12)   # room for the names of the fastest front points
        ax.set_xlabel(f"{direction} throughput, MB/s of uncompressed data ({report.threads} threads)")
        ax.set_title(f"ratio vs {direction} speed")
        ax.grid(True, which="both", alpha=0.3)
        # Every front point, the library default and the recommendation are named.
        labels = {}
        for r in report.results:
            if getattr(r, f"pareto_{direction}") or r is rec or is_library_default(r):
                extra = [DEFAULT_LABEL] if is_library_default(r) else []
                extra += ["recommended"] if r is rec else []
                labels[id(r)] = (r.speed(direction), r.ratio,
                                 r.name + (f" ({', '.join(extra)})" if extra else ""))
        place_labels(ax, list(labels.values()))
    axes[0].set_ylabel("compression ratio")
    axes[1].legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    title = textwrap.shorten(report.source, 120, placeholder="...")
    fig.suptitle(f"{title}\n{report.dtype} {report.shape}, chunks {report.chunk_shape}, "
                 f"{len(report.sampled_chunks)} chunks sampled; median of {report.repeats} repeat(s)", fontsize=9)
    fig.subplots_adjust(left=0.06, right=0.84, bottom=0.11, top=0.86, wspace=0.06)
    return fig


def plot(report, path, width_px: int = 1400, height_px: int = 560, dpi: int = 100, recommended=None) -> None:
    """Ratio (y) against throughput (log x) on all threads: decode left, encode right.

    One marker colour per codec family; Pareto-front points are ringed,
    joined and all named; the library's default chain (zstd 3) is named as
    such; ``recommended`` (a :class:`Recommendation`) is a gold star; the
    memcpy speed is a dashed vertical line.
    """
    plt = _need("matplotlib.pyplot")
    fig = figure(report, recommended, width_px, height_px, dpi)
    fig.savefig(path, dpi=dpi)   # no bbox_inches="tight": the file keeps the asked-for pixel size
    plt.close(fig)


def progress_lines(stream=None, every: float = 2.0):
    """A ``run_benchmark(progress=...)`` callback that prints plain lines, for a stderr that is not
    a terminal (CI logs, ``2> log``): one line per configuration, at most one every ``every`` s,
    and always the last."""
    import sys
    import time

    out = stream if stream is not None else sys.stderr
    last = [-float("inf")]

    def progress(name: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < every:
            return
        last[0] = now
        text = f"bench: {done}/{total} configurations measured" + (f"; next: {name}" if name else "")
        print(text, file=out, flush=True)

    return progress
