"""timers: N tasks each sleeping a random 0..1 s; total wall time.

overhead_per_task = (wall - 1 s) / N: the cost beyond the longest sleep,
comparable across implementations that ran different N. Also the CPU time
used meanwhile, and the peak RSS.
"""
import asyncio
import random
from common import parse_loop, scaled, run, emit, now, cpu_s, peak_rss_bytes

N = scaled(1_000_000)


async def sleeper(d):
    await asyncio.sleep(d)


async def main():
    rng = random.Random(1)
    cpu0 = cpu_s()
    t0 = now()
    tasks = [asyncio.create_task(sleeper(rng.random())) for _ in range(N)]
    await asyncio.gather(*tasks)
    return now() - t0, cpu_s() - cpu0


if __name__ == "__main__":
    loop = parse_loop()
    wall, cpu = run(loop, main)
    emit("timers", loop, "wall", wall, "s", N)
    emit("timers", loop, "overhead_per_task", max(0.0, wall - 1.0) * 1e9 / N,
         "ns", N)
    emit("timers", loop, "cpu", cpu, "s", N)
    emit("timers", loop, "peak_rss", peak_rss_bytes() / 2**20, "MiB", N)
