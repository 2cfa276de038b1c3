"""park: N tasks suspended at once on one asyncio.Event; resident bytes each."""
import asyncio
from common import parse_loop, scaled, run, emit, rss_bytes, status_bytes

N = scaled(200_000)
parked = 0


async def waiter(ev):
    global parked
    parked += 1
    await ev.wait()


async def main():
    ev = asyncio.Event()
    before, pte_before = rss_bytes(), status_bytes("VmPTE")
    tasks = [asyncio.create_task(waiter(ev)) for _ in range(N)]
    while parked < N:
        await asyncio.sleep(0)
    during, pte_during = rss_bytes(), status_bytes("VmPTE")
    ev.set()
    await asyncio.gather(*tasks)
    return (during - before) / N, (pte_during - pte_before) / N


if __name__ == "__main__":
    loop = parse_loop()
    per, pte = run(loop, main)
    emit("park", loop, "per_parked_task", per, "B", N)
    emit("park", loop, "pagetables_per_parked_task", pte, "B", N)
