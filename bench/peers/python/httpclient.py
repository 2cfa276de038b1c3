"""httpclient: many small keep-alive GETs with aiohttp's ClientSession
against the nginx of bench/httpclient/with-nginx ($CIO_BENCH_URL), from 1
and 64 tasks; requests/s and the process's CPU time per request. One
session; its connector pools connections (limit 64). Runs on uvloop only
(bench/peers/python/run): impl "aiohttp"."""
import asyncio
import os
import resource
import sys

from common import emit, now, parse_loop, run, scaled


def cpu_seconds():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


async def round_of(session, url, conc, n):
    async def worker(k):
        for _ in range(k):
            async with session.get(url) as resp:
                body = await resp.read()
                if resp.status != 200 or len(body) != 13:
                    raise RuntimeError("status %d, %d bytes" % (resp.status, len(body)))

    t0, c0 = now(), cpu_seconds()
    await asyncio.gather(*(worker(n // conc + (i < n % conc)) for i in range(conc)))
    return now() - t0, cpu_seconds() - c0


async def main():
    import aiohttp

    url = os.environ["CIO_BENCH_URL"]
    n, reps = scaled(2000), 3
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector) as session:
        for conc in (1, 64):
            total = n if conc == 1 else 4 * n
            await round_of(session, url, conc, total // 10 + conc)
            best_rps, best_cpu = 0.0, 1e9
            for _ in range(reps):
                wall, cpu = await round_of(session, url, conc, total)
                best_rps = max(best_rps, total / wall)
                best_cpu = min(best_cpu, cpu / total)
            emit("httpclient", "aiohttp", "cpu_us_per_req_c%d" % conc, best_cpu * 1e6, "us",
                 total, best_of=reps)
            emit("httpclient", "aiohttp", "req_per_s_c%d" % conc, best_rps, "req/s", total,
                 best_of=reps, better="higher")


if __name__ == "__main__":
    if "CIO_BENCH_URL" not in os.environ:
        sys.exit("httpclient: no CIO_BENCH_URL (run it under bench/httpclient/with-nginx)")
    run(parse_loop(), main)
