"""Print bench/run's JSON lines as a table: cio against each peer.

usage: table.py RESULTS.jsonl [--markdown]

Each peer cell shows the peer's value and, in brackets, how many times better
cio is: peer/cio for lower-is-better metrics (times and sizes: every metric
unless its record says "better": "higher"), cio/peer otherwise. [12x] means
cio is 12 times faster (or smaller); [0.5x] means the peer is twice as good.

Metrics named per_* or *_per_* are per operation and compare across
different N; any other metric (a wall time, a peak RSS) is a total, and gets
a ratio only when both sides ran the same N.
"""
import json
import sys

PEER_ORDER = ["asyncio", "uvloop", "uvloop-proto", "aiohttp", "go", "node", "node-fetch", "libcurl",
              "libuv", "epoll"]


def fmt(v):
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def per_op(metric):
    # bench/db: qps_* and cpu_us_* (per query) compare across different N
    return (metric.startswith("per_") or "_per_" in metric or metric.startswith("qps_")
            or metric.startswith("cpu_us_"))


def higher_better(r, metric):
    return r.get("better") == "higher" or metric.startswith("qps_")


def load(path):
    rows, impls, ns = {}, [], {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            if "db" in r:  # bench/db: one row per server
                r["bench"] = f'{r["bench"]} {r["db"]}'
            rows.setdefault((r["bench"], r["metric"]), {"unit": r["unit"]})[r["impl"]] = r
            ns.setdefault(r["bench"], {}).setdefault(r["impl"], r.get("n"))
            if r["impl"] != "cio" and r["impl"] not in impls:
                impls.append(r["impl"])
    impls.sort(key=lambda i: (PEER_ORDER.index(i) if i in PEER_ORDER else 99, i))
    return rows, impls, ns


def cell(row, metric, impl):
    r = row.get(impl)
    if r is None:
        return "-"
    s = fmt(r["value"])
    base = row.get("cio")
    if impl == "cio" or not base or base["value"] <= 0 or r["value"] <= 0:
        return s
    if not per_op(metric) and base.get("n") != r.get("n"):
        return s + " [n differs]"
    if higher_better(r, metric):
        ratio = base["value"] / r["value"]
    else:
        ratio = r["value"] / base["value"]
    return s + f" [{ratio:.3g}x]"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    rows, impls, ns = load(sys.argv[1])
    head = ["bench", "metric", "unit", "cio"] + impls
    body = [[bench, metric, row["unit"]] + [cell(row, metric, i) for i in ["cio"] + impls]
            for (bench, metric), row in rows.items()]
    if "--markdown" in sys.argv[2:]:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---" for _ in head) + "|")
        for b in body:
            print("| " + " | ".join(b) + " |")
    else:
        w = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
        for b in [head] + body:
            print("  ".join(x.ljust(w[i]) for i, x in enumerate(b)).rstrip())
    print()
    print("[Nx] = how many times better cio is than that peer (peer/cio for times "
          "and sizes): >1 cio is better, <1 the peer is better.")
    for bench, by_impl in ns.items():
        if len(set(by_impl.values())) > 1 and not bench.startswith("db "):
            print(f"n for {bench}: " + ", ".join(
                f"{i} {by_impl[i]:,}" if isinstance(by_impl[i], int) else f"{i} ?" for i in ["cio"] + impls if i in by_impl))


if __name__ == "__main__":
    main()
