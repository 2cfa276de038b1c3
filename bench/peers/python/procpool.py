"""procpool: process-pool round trips with loop.run_in_executor(pool, f, x)
on a ProcessPoolExecutor of two workers.

per_round_trip: one task awaits N jobs one after the other (8 bytes in, 8
bytes out); per_mib_round_trip: a 1 MiB bytes input echoed back, per job."""
import asyncio
import concurrent.futures
from common import parse_loop, scaled, run, emit, now

N = scaled(5_000)
BIG_N = max(1, N // 20)
REPS = 3


def echo(x):
    return x


async def round_trips(loop, pool, n, payload):
    t0 = now()
    for _ in range(n):
        r = await loop.run_in_executor(pool, echo, payload)
        assert len(r) == len(payload)
    return now() - t0


async def main():
    loop = asyncio.get_running_loop()
    small, big = b"x" * 8, bytes(1 << 20)
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
        await round_trips(loop, pool, 10, small)  # warm-up: start the workers
        best = best_big = None
        for _ in range(REPS):
            dt = await round_trips(loop, pool, N, small)
            best = dt if best is None else min(best, dt)
            dt = await round_trips(loop, pool, BIG_N, big)
            best_big = dt if best_big is None else min(best_big, dt)
    return best, best_big


if __name__ == "__main__":
    impl = parse_loop()
    best, best_big = run(impl, main)
    emit("procpool", impl, "per_round_trip", best * 1e6 / N, "us", N, best_of=REPS)
    emit("procpool", impl, "per_mib_round_trip", best_big * 1e6 / BIG_N, "us", BIG_N,
         best_of=REPS)
