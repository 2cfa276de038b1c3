"""redis-py's asyncio client (Debian python3-redis) on uvloop: the same
workload as cio_redis.c, printing the same JSON lines with impl
"redis-py".

usage: redis_py_bench.py --url URL --op get|set --tasks T [--pool P] [--depth D]
                  [-n N] --case MODE [--loop uvloop|asyncio]

--pool P: the client's connection pool holds at most P connections (each
concurrent command takes one, as redis-py does); --depth D: D commands per
round trip in a pipeline (transaction=False).
"""
import argparse
import asyncio
import json
import random
import sys
import time

import redis.asyncio as aioredis

KEYS = [f"key:{i:012d}" for i in range(10000)]


async def worker(r, op, per_task, depth, seed):
    rnd = random.Random(seed)
    if depth <= 1:
        if op == "get":
            for _ in range(per_task):
                await r.get(KEYS[rnd.randrange(10000)])
        else:
            for _ in range(per_task):
                await r.set(KEYS[rnd.randrange(10000)], "xxx")
        return
    done = 0
    while done < per_task:
        pipe = r.pipeline(transaction=False)
        for _ in range(min(depth, per_task - done)):
            if op == "get":
                pipe.get(KEYS[rnd.randrange(10000)])
            else:
                pipe.set(KEYS[rnd.randrange(10000)], "xxx")
            done += 1
        await pipe.execute()


async def one_pass(r, a, per_task):
    await asyncio.gather(*(worker(r, a.op, per_task, a.depth, i) for i in range(a.tasks)))


async def main(a):
    r = aioredis.from_url(a.url, max_connections=a.pool or a.tasks)
    per_task = a.n // a.tasks
    total = per_task * a.tasks
    await one_pass(r, a, per_task // 10 + 1)  # warm-up, connections opened
    c0, t0 = time.process_time(), time.perf_counter()
    await one_pass(r, a, per_task)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    await r.close()
    await r.connection_pool.disconnect()
    base = {"bench": "db", "impl": "redis-py", "db": "redis", "n": total, "loop": a.loop}
    print(json.dumps(dict(base, metric=f"qps_{a.case}", value=round(total / wall, 1),
                          unit="q/s", better="higher")))
    print(json.dumps(dict(base, metric=f"cpu_us_{a.case}",
                          value=round(cpu * 1e6 / total, 3), unit="us")))
    sys.stdout.flush()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--op", choices=["get", "set"], default="get")
    p.add_argument("--tasks", type=int, default=1)
    p.add_argument("--pool", type=int, default=0)
    p.add_argument("--depth", type=int, default=1)
    p.add_argument("-n", type=int, default=20000)
    p.add_argument("--case", required=True)
    p.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    a = p.parse_args()
    if a.loop == "uvloop":
        import uvloop
        uvloop.install()
    asyncio.run(main(a))
