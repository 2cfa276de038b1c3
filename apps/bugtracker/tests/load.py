#!/usr/bin/env python3
"""cio-bugtracker under load, and its database restarted under it.

A private MariaDB (scripts/servers with a directory of this test's own, so
restarting it disturbs no other test) holds a demo dataset; the service
serves it with the default pool (at most 30 connections) to wrk's 64
concurrent connections over existing ids:

 1. steady: for a bounded time, every answer is 200, no socket error, no
    request left unanswered (a pool that deadlocked when its 30 connections
    are all borrowed and 34 more tasks wait would leave wrk timing out);
 2. restart: wrk runs again while the database is stopped and started; a
    prober asks for a bug every 50 ms and records (time, status, latency).
    While the database is down requests must fail cleanly - 500, at once,
    never a hang - and once it is back they must succeed again, without
    restarting the service.

    load.py BINARY WORK_DIR [--duration SECONDS]

Exit status 0, 1 on failure, 77 when MariaDB or wrk is missing.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bt_http  # noqa: E402
import bt_service  # noqa: E402
import reference  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
NBUGS = 2000
failures = []


def check(cond, what):
    print(("ok     " if cond else "FAIL   ") + what, flush=True)
    if not cond:
        failures.append(what)


def servers(cmd, work):
    env = dict(os.environ, CIO_SERVERS_DIR=os.path.join(work, "servers"))
    r = subprocess.run([os.path.join(ROOT, "scripts", "servers"), cmd, "mariadb"], env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"scripts/servers {cmd}: {r.stderr}")
    return r.stdout.strip()


def wrk_script(work):
    path = os.path.join(work, "ids.lua")
    with open(path, "w") as f:
        f.write("-- existing ids, in turn\n"
                "local n = 0\n"
                "request = function()\n"
                f"  n = n % {NBUGS} + 1\n"
                "  return wrk.format('GET', '/id/' .. n)\n"
                "end\n")
    return path


def wrk(port, seconds, work, timeout=10):
    out = subprocess.run(["wrk", "-t", "2", "-c", "64", "-d", f"{seconds}s", "--timeout",
                          f"{timeout}s", "--latency", "-s", wrk_script(work),
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True).stdout
    res = {"text": out}
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["socket"] = tuple(int(x) for x in m.groups()) if m else (0, 0, 0, 0)
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else 0.0
    return res


class Prober(threading.Thread):
    """GET /id/<n> every 50 ms on its own connection: (t, status, seconds)."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.samples = []
        self.stop = threading.Event()

    def run(self):
        i = 0
        while not self.stop.is_set():
            i = i % NBUGS + 1
            t0 = time.monotonic()
            try:
                status = bt_http.request("127.0.0.1", self.port, {"target": f"/id/{i}"},
                                         timeout=60).status
            except OSError:
                status = -1
            self.samples.append((t0, status, time.monotonic() - t0))
            time.sleep(0.05)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("work")
    ap.add_argument("--duration", type=int, default=10)
    a = ap.parse_args()
    if not shutil.which("wrk"):
        print("skip: wrk is not installed")
        return 77
    work = os.path.abspath(a.work)
    os.makedirs(work, exist_ok=True)
    servers("start", work)
    url = servers("url", work)
    if not url:
        print("skip: MariaDB is not installed")
        return 77
    import pymysql
    p = reference.mysql_params(url)
    p.pop("db")
    c = pymysql.connect(autocommit=True, **p)
    c.cursor().execute("CREATE DATABASE IF NOT EXISTS bt_load")
    c.close()
    url = reference.with_db(url, "bt_load")
    bt_service.load(a.binary, url, nbugs=NBUGS)
    svc = bt_service.Service(a.binary, url, None, os.path.join(work, "service.log"))
    try:
        # 1. Steady load.
        r = wrk(svc.port, a.duration, work)
        print(r["text"])
        check(r["requests"] > 0 and r["non2xx"] == 0 and r["socket"] == (0, 0, 0, 0),
              f"64 connections for {a.duration} s: {r['requests']} requests, all 200, "
              f"no socket error ({r['rps']:.0f}/s)")
        check(bt_http.request("127.0.0.1", svc.port, {"target": "/id/1"}).status == 200,
              "the service answers after the load")

        # 2. The database restarted under load.
        prober = Prober(svc.port)
        prober.start()
        result = {}
        load = threading.Thread(target=lambda: result.update(wrk(svc.port, 3 * a.duration, work)))
        load.start()
        time.sleep(a.duration / 2)
        t_stop = time.monotonic()
        servers("stop", work)
        t_down = time.monotonic()
        time.sleep(a.duration / 2)
        t_start = time.monotonic()
        servers("start", work)
        t_up = time.monotonic()
        load.join()
        time.sleep(1)
        prober.stop.set()
        prober.join()
        r = result
        print(r.get("text", ""))
        down = [s for s in prober.samples if t_down <= s[0] and s[0] + s[2] <= t_start]
        after = [s for s in prober.samples if s[0] > t_up + 2]
        check(r.get("requests", 0) > 0 and r.get("socket", (1,))[3] == 0,
              f"restart: {r.get('requests')} requests, no wrk timeout "
              f"({r.get('non2xx')} non-2xx while the database was away)")
        check(down and all(s[1] == 500 for s in down),
              f"database down: the prober's {len(down)} requests got 500")
        check(down and max(s[2] for s in down) < 5.0,
              f"database down: failures are quick (slowest {max((s[2] for s in down), default=0):.3f} s)")
        check(after and all(s[1] == 200 for s in after),
              f"database back: the prober's {len(after)} requests got 200 again")
        check(all(s[1] in (200, 500) for s in prober.samples),
              "every probe got an answer (200 or 500), none a broken connection")
        print(f"database stopped in {t_down - t_stop:.1f} s, started in {t_up - t_start:.1f} s")
    finally:
        status = svc.stop()
        servers("stop", work)
    check(status == 0, "the service stops cleanly afterwards")
    log = svc.log_text()
    check("查询 bug" in log and "失败" in log, "failures are logged (ERROR lines)")
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
