#!/usr/bin/env python3
"""asyncpg on uvloop: the same point lookups as bench/db/cio_db.c.

    asyncpg_bench.py URL SECONDS

Modes point_1 (one task, a pool of one) and point_64 (64 tasks, a pool of
64); asyncpg cannot share one connection between tasks, so it has no
pipelined mode. Prints JSON lines like db_cio: q/s and the process's CPU
time per query (user + system)."""
import asyncio
import json
import random
import resource
import sys
import time

try:
    import asyncpg
    import uvloop
except ImportError as e:
    print(f"note: asyncpg peer skipped: {e}", file=sys.stderr)
    sys.exit(0)

ROWS = 100000
QUERY = "SELECT abalance FROM pgbench_accounts WHERE aid = $1"


def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


async def worker(pool, until, seed):
    rng = random.Random(seed)
    n = 0
    while time.monotonic() < until:
        for _ in range(16):
            await pool.fetchval(QUERY, rng.randint(1, ROWS))
            n += 1
    return n


async def mode(url, name, tasks, conns, seconds):
    pool = await asyncpg.create_pool(url, min_size=conns, max_size=conns)
    await asyncio.gather(*(worker(pool, time.monotonic() + 0.3, i) for i in range(tasks)))
    c0, w0 = cpu(), time.monotonic()
    counts = await asyncio.gather(
        *(worker(pool, w0 + seconds, i + 1000) for i in range(tasks)))
    wall, used = time.monotonic() - w0, cpu() - c0
    await pool.close()
    n = sum(counts)
    for metric, value, unit in ((f"qps_{name}", round(n / wall), "q/s"),
                                (f"cpu_us_{name}", round(used * 1e6 / n, 2), "us")):
        print(json.dumps({"bench": "db", "impl": "asyncpg", "db": "postgresql",
                          "metric": metric, "value": value, "unit": unit, "n": n}), flush=True)


async def main(url, seconds):
    await mode(url, "point_1", 1, 1, seconds)
    await mode(url, "point_64", 64, 64, seconds)


if __name__ == "__main__":
    uvloop.install()
    asyncio.run(main(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 3.0))
