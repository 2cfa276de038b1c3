"""sleep0: the tutorial's benchmark, one task doing N asyncio.sleep(0)."""
import asyncio
from common import parse_loop, scaled, run, emit, now

N = scaled(300_000)
REPS = 3


async def main():
    best = None
    for _ in range(REPS):
        t0 = now()
        for _ in range(N):
            await asyncio.sleep(0)
        dt = now() - t0
        best = dt if best is None or dt < best else best
    return best


if __name__ == "__main__":
    loop = parse_loop()
    best = run(loop, main)
    emit("sleep0", loop, "per_sleep0", best * 1e9 / N, "ns", N, best_of=REPS)
