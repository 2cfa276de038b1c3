"""spawn: create N trivial tasks, then await them all."""
import asyncio
from common import parse_loop, scaled, run, emit, now, peak_rss_bytes

N = scaled(1_000_000)


async def nop():
    pass


async def main():
    t0 = now()
    tasks = [asyncio.create_task(nop()) for _ in range(N)]
    for t in tasks:
        await t
    return now() - t0


if __name__ == "__main__":
    loop = parse_loop()
    dt = run(loop, main)
    emit("spawn", loop, "per_task", dt * 1e9 / N, "ns", N)
    emit("spawn", loop, "peak_rss", peak_rss_bytes() / 2**20, "MiB", N)
