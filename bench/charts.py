#!/usr/bin/python3
"""Charts of bench/run's JSON results: one PNG per benchmark, cio against
its peers.

    bench/charts.py [RESULTS.jsonl...] [--out DIR]

Default input: every bench/results/*.jsonl (the results bench/README.md
quotes, kept in the repository so that the charts can be made again);
default output: bench/charts/<bench>.png. One panel per metric, one bar per
implementation, the value written at its end; cio's bar in blue. A panel
whose values span more than 20x uses a logarithmic axis. Of latency
percentiles only the 99th is drawn, and a metric only cio reports is left
out of a benchmark whose other metrics have peers. Metrics whose
names end in a variant (bugtracker's _default / _seed: which SQL query ran)
are drawn as one panel per metric with a bar per implementation and
variant, so that cio with the default query, cio with the seed's and the
original with either sit side by side. When a file holds a benchmark twice,
its last run is used. Needs matplotlib (Debian python3-matplotlib).
"""
import glob
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
VARIANTS = ("_default", "_seed")
CIO = "#1f6feb"
PEER = "#8c959f"
PEER_ORDER = ["cio", "epoll", "libuv", "go", "node", "node-fetch", "uvloop", "uvloop-proto",
              "asyncio", "aiohttp", "fastapi", "nginx", "libcurl", "llhttp"]


def load(paths):
    """{bench: {metric: {series: record}}}, each bench from its last run."""
    out = {}
    for path in paths:
        runs = {}
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                r = json.loads(line)
                metric, series = r["metric"], r["impl"]
                for v in VARIANTS:
                    if metric.endswith(v):
                        metric, series = metric[: -len(v)], f"{r['impl']} ({v[1:]} query)"
                # one chart per server of the database suite (bench "db",
                # field "db"): its metrics' names repeat for each server
                bench = r["bench"] + ("-" + r["db"] if "db" in r else "")
                runs.setdefault(bench, {}).setdefault(metric, {})[series] = r
        out.update(runs)
    return out


def order(series):
    base = series.split(" ")[0]
    return (PEER_ORDER.index(base) if base in PEER_ORDER else 99, series)


def label(metric, unit):
    words = metric.replace("_per_", " per ").replace("_", " ")
    return f"{words} ({unit})"


def fmt(v):
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def chart(bench, metrics, out_dir):
    # Of latency percentiles, the 99th alone (the tables have the others).
    names = [m for m in metrics
             if not (m.startswith(("latency_p50", "latency_p90"))
                     and m.replace("_p50", "_p99").replace("_p90", "_p99") in metrics)]
    # A figure nobody else reports (a run's parameter) is left out when
    # others compare.
    if any(len(metrics[m]) > 1 for m in names):
        names = [m for m in names if len(metrics[m]) > 1]
    if not names:
        return None
    cols = 2 if len(names) > 3 else 1
    rows = math.ceil(len(names) / cols)
    height = sum(0.45 * len(metrics[m]) + 0.9 for m in names) / cols + 0.6
    fig, axes = plt.subplots(rows, cols, figsize=(7.5 * cols, max(2.5, height)), squeeze=False)
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    for ax, m in zip(axes.flat, names):
        series = sorted(metrics[m], key=order)
        vals = [metrics[m][s]["value"] for s in series]
        unit = metrics[m][series[0]]["unit"]
        higher = any(metrics[m][s].get("better") == "higher" for s in series)
        colors = [CIO if s.startswith("cio") else PEER for s in series]
        y = range(len(series))
        ax.barh(list(y), vals, color=colors)
        ax.set_yticks(list(y))
        ax.set_yticklabels(series, fontsize=8)
        ax.invert_yaxis()
        pos = [v for v in vals if v > 0]
        if pos and max(pos) / min(pos) > 20:
            ax.set_xscale("log")
        for i, v in enumerate(vals):
            ax.text(v, i, " " + fmt(v), va="center", fontsize=7)
        ax.set_title(label(m, unit) + (" - higher is better" if higher else ""), fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        ax.margins(x=0.25)
    fig.suptitle(f"bench/run {bench.replace('-', ' (', 1) + ')' if '-' in bench else bench}", fontsize=11)
    fig.tight_layout()
    path = os.path.join(out_dir, f"{bench}.png")
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def main():
    args = sys.argv[1:]
    out_dir = os.path.join(HERE, "charts")
    if "--out" in args:
        i = args.index("--out")
        out_dir = args[i + 1]
        del args[i:i + 2]
    paths = args or sorted(glob.glob(os.path.join(HERE, "results", "*.jsonl")))
    if not paths:
        sys.exit("charts.py: no results (run bench/run, or give RESULTS.jsonl)")
    os.makedirs(out_dir, exist_ok=True)
    for bench, metrics in sorted(load(paths).items()):
        path = chart(bench, metrics, out_dir)
        if path:
            print(path)


if __name__ == "__main__":
    main()
