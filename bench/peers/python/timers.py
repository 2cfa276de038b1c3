"""timers: N tasks each sleeping a random 0..1 s; total wall time.

overhead_per_task = (wall - 1 s) / N: the cost beyond the longest sleep,
comparable across implementations that ran different N.
"""
import asyncio
import random
from common import parse_loop, scaled, run, emit, now

N = scaled(1_000_000)


async def sleeper(d):
    await asyncio.sleep(d)


async def main():
    rng = random.Random(1)
    t0 = now()
    tasks = [asyncio.create_task(sleeper(rng.random())) for _ in range(N)]
    await asyncio.gather(*tasks)
    return now() - t0


if __name__ == "__main__":
    loop = parse_loop()
    wall = run(loop, main)
    emit("timers", loop, "wall", wall, "s", N)
    emit("timers", loop, "overhead_per_task", max(0.0, wall - 1.0) * 1e9 / N,
         "ns", N)
