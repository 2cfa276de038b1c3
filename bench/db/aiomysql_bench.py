#!/usr/bin/env python3
"""aiomysql on uvloop: the same point lookups as bench/db/cio_db.c, on
MariaDB, the way tutorial 001 uses it (pool.acquire(), a cursor, execute
with a parameter, fetchone).

    aiomysql_bench.py URL SECONDS        (URL: mysql://user:pw@host:port/db)

Modes point_1 and point_64 (aiomysql cannot share a connection between
tasks). JSON lines like db_cio's."""
import asyncio
import json
import random
import resource
import sys
import time
from urllib.parse import urlparse

try:
    import aiomysql
    import uvloop
except ImportError as e:
    print(f"note: aiomysql peer skipped: {e}", file=sys.stderr)
    sys.exit(0)

ROWS = 100000
QUERY = "SELECT abalance FROM pgbench_accounts WHERE aid = %s"


def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


async def worker(pool, until, seed):
    rng = random.Random(seed)
    n = 0
    while time.monotonic() < until:
        for _ in range(16):
            async with pool.acquire() as conn:
                async with conn.cursor() as cur:
                    await cur.execute(QUERY, (rng.randint(1, ROWS),))
                    await cur.fetchone()
            n += 1
    return n


async def mode(u, name, tasks, conns, seconds):
    pool = await aiomysql.create_pool(host=u.hostname, port=u.port or 3306, user=u.username,
                                      password=u.password, db=u.path.lstrip("/"),
                                      charset="utf8mb4", autocommit=True,
                                      minsize=conns, maxsize=conns)
    await asyncio.gather(*(worker(pool, time.monotonic() + 0.3, i) for i in range(tasks)))
    c0, w0 = cpu(), time.monotonic()
    counts = await asyncio.gather(*(worker(pool, w0 + seconds, i + 1000) for i in range(tasks)))
    wall, used = time.monotonic() - w0, cpu() - c0
    pool.close()
    await pool.wait_closed()
    n = sum(counts)
    for metric, value, unit in ((f"qps_{name}", round(n / wall), "q/s"),
                                (f"cpu_us_{name}", round(used * 1e6 / n, 2), "us")):
        print(json.dumps({"bench": "db", "impl": "aiomysql", "db": "mysql", "metric": metric,
                          "value": value, "unit": unit, "n": n}), flush=True)


async def main(url, seconds):
    u = urlparse(url)
    await mode(u, "point_1", 1, 1, seconds)
    await mode(u, "point_64", 64, 64, seconds)


if __name__ == "__main__":
    uvloop.install()
    asyncio.run(main(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 3.0))
