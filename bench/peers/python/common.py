"""Shared helpers for the Python peers (asyncio and uvloop).

Every benchmark script takes `--loop asyncio|uvloop` and prints JSON lines in
the format bench/run expects. CIO_BENCH_SCALE (a float, default 1) scales
every default N, so `bench/run --quick` stays quick.
"""
import asyncio
import json
import os
import resource
import sys
import time


def parse_loop():
    loop = "asyncio"
    if len(sys.argv) >= 3 and sys.argv[1] == "--loop":
        loop = sys.argv[2]
    return loop


def scaled(n):
    return max(1, int(n * float(os.environ.get("CIO_BENCH_SCALE", "1"))))


def run(loop, main):
    """asyncio.run(main()) on the requested event loop implementation."""
    if loop == "uvloop":
        import uvloop
        # uvloop.run() appeared in 0.18; Debian's may be older.
        policy = uvloop.EventLoopPolicy()
        asyncio.set_event_loop_policy(policy)
    return asyncio.run(main())


def emit(bench, impl, metric, value, unit, n, **extra):
    rec = {"bench": bench, "impl": impl, "metric": metric,
           "value": round(value, 3), "unit": unit, "n": n}
    rec.update(extra)
    print(json.dumps(rec), flush=True)


def now():
    return time.perf_counter()


def rss_bytes():
    """Resident set size now, from /proc/self/statm."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def status_bytes(key):
    """A "Key:  123 kB" field of /proc/self/status, in bytes (VmPTE...)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_s():
    """CPU time (user + system) the process has used so far, in seconds."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime
