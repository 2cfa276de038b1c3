"""pingpong: two tasks exchanging a value through two asyncio.Queues."""
import asyncio
from common import parse_loop, scaled, run, emit, now

N = scaled(100_000)   # round trips
REPS = 3


async def pong(qin, qout, n):
    for _ in range(n):
        v = await qin.get()
        await qout.put(v + 1)


async def main():
    best = None
    for _ in range(REPS):
        ping, back = asyncio.Queue(), asyncio.Queue()
        t = asyncio.create_task(pong(ping, back, N))
        t0 = now()
        v = 0
        for _ in range(N):
            await ping.put(v)
            v = await back.get()
        dt = now() - t0
        await t
        assert v == N
        best = dt if best is None or dt < best else best
    return best


if __name__ == "__main__":
    loop = parse_loop()
    best = run(loop, main)
    emit("pingpong", loop, "per_round_trip", best * 1e9 / N, "ns", N,
         best_of=REPS)
