"""executor: thread-pool round trips with loop.run_in_executor(None, f).

per_round_trip: one task awaits N empty jobs one after the other on the
default executor; per_job_concurrent: 64 tasks do the same at once, total
time / N."""
import asyncio
from common import parse_loop, scaled, run, emit, now

N = scaled(20_000)
REPS = 3
CONCURRENT = 64


def nop():
    return 0


async def sequential(loop):
    t0 = now()
    for _ in range(N):
        await loop.run_in_executor(None, nop)
    return now() - t0


async def worker(loop, n):
    for _ in range(n):
        await loop.run_in_executor(None, nop)


async def concurrent(loop):
    t0 = now()
    await asyncio.gather(*(worker(loop, N // CONCURRENT + (k < N % CONCURRENT))
                           for k in range(CONCURRENT)))
    return now() - t0


async def main():
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, nop)  # warm-up: start the pool
    seq = min([await sequential(loop) for _ in range(REPS)])
    conc = min([await concurrent(loop) for _ in range(REPS)])
    return seq, conc


if __name__ == "__main__":
    impl = parse_loop()
    seq, conc = run(impl, main)
    emit("executor", impl, "per_round_trip", seq * 1e6 / N, "us", N, best_of=REPS)
    emit("executor", impl, "per_job_concurrent", conc * 1e6 / N, "us", N, best_of=REPS)
