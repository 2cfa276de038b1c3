"""threadsafe: run_coroutine_threadsafe round trips to a loop running on
another thread (the same loop implementation on both sides).

per_round_trip: a task of loop A awaits asyncio.wrap_future(
run_coroutine_threadsafe(coro(), loop_b)); per_round_trip_sync: a plain
thread blocks on run_coroutine_threadsafe(coro(), loop_b).result()."""
import asyncio
import threading
from common import parse_loop, scaled, run, emit, now

N = scaled(20_000)
REPS = 3


async def nop():
    return 0


def start_loop_thread(impl):
    if impl == "uvloop":
        import uvloop
        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    t = threading.Thread(target=loop.run_forever, daemon=True)
    t.start()
    return loop, t


def stop_loop_thread(loop, t):
    loop.call_soon_threadsafe(loop.stop)
    t.join()
    loop.close()


async def from_task(target):
    t0 = now()
    for _ in range(N):
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(nop(), target))
    return now() - t0


async def main(target):
    return min([await from_task(target) for _ in range(REPS)])


def from_thread(target):
    t0 = now()
    for _ in range(N):
        asyncio.run_coroutine_threadsafe(nop(), target).result()
    return now() - t0


if __name__ == "__main__":
    impl = parse_loop()
    target, thread = start_loop_thread(impl)
    best = run(impl, lambda: main(target))
    emit("threadsafe", impl, "per_round_trip", best * 1e6 / N, "us", N, best_of=REPS)
    best = min(from_thread(target) for _ in range(REPS))
    emit("threadsafe", impl, "per_round_trip_sync", best * 1e6 / N, "us", N, best_of=REPS)
    stop_loop_thread(target, thread)
