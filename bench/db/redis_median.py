"""Read bench JSON lines from several rounds on stdin; print one line per
(impl, metric): the round with the median value, with "rounds" (how many)
and "spread" ((max - min) / median) added. Rounds of the implementations
were interleaved, so a disturbance on this shared machine moves one round,
not the result."""
import json
import sys


def main():
    groups = {}
    order = []
    for line in sys.stdin:
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        key = (r["impl"], r["metric"])
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(r)
    for key in order:
        rs = sorted(groups[key], key=lambda r: r["value"])
        mid = rs[len(rs) // 2]
        out = dict(mid)
        out["rounds"] = len(rs)
        if mid["value"] > 0:
            out["spread"] = round((rs[-1]["value"] - rs[0]["value"]) / mid["value"], 3)
        print(json.dumps(out))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
