"""switch: two tasks yielding to each other with asyncio.sleep(0)."""
import asyncio
from common import parse_loop, scaled, run, emit, now

N = scaled(200_000)   # switches per repetition (asyncio is ~100x slower than cio)
REPS = 3


async def yielder(k):
    for _ in range(k):
        await asyncio.sleep(0)


async def main():
    best = None
    for _ in range(REPS):
        t0 = now()
        await asyncio.gather(yielder(N // 2), yielder(N // 2))
        dt = now() - t0
        best = dt if best is None or dt < best else best
    return best


if __name__ == "__main__":
    loop = parse_loop()
    best = run(loop, main)
    emit("switch", loop, "per_switch", best * 1e9 / N, "ns", N, best_of=REPS)
