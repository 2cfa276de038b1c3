"""redis-benchmark (Debian redis-tools), the limit: run it, read its --csv
line, and print the same JSON lines as cio_redis.c with impl
"redis-benchmark". Its CPU time is the child's (getrusage of children).

usage: redis_benchmark.py --host H --port P --op get|set --clients C
                          [--depth D] [-n N] --case MODE [-- PIN...]
"""
import argparse
import csv
import io
import json
import resource
import subprocess
import sys


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--op", choices=["get", "set"], default="get")
    p.add_argument("--clients", type=int, default=1)
    p.add_argument("--depth", type=int, default=1)
    p.add_argument("-n", type=int, default=100000)
    p.add_argument("--case", required=True)
    p.add_argument("pin", nargs="*")
    a = p.parse_args()
    cmd = a.pin + ["redis-benchmark", "-h", a.host, "-p", str(a.port), "-c", str(a.clients),
                   "-n", str(a.n), "-P", str(a.depth), "-t", a.op, "-r", "10000", "-d", "3",
                   "--csv"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rows = [r for r in csv.reader(io.StringIO(out)) if r and r[0] == a.op.upper()]
    if not rows:
        sys.exit(f"redis_benchmark.py: no {a.op.upper()} line in: {out!r}")
    rps = float(rows[0][1])
    base = {"bench": "db", "impl": "redis-benchmark", "db": "redis", "n": a.n}
    print(json.dumps(dict(base, metric=f"qps_{a.case}", value=rps, unit="q/s",
                          better="higher")))
    # CPU over the whole run (connecting and its own set-up included: a
    # slight overestimate per query).
    print(json.dumps(dict(base, metric=f"cpu_us_{a.case}",
                          value=round(cpu * 1e6 / a.n, 3), unit="us")))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
