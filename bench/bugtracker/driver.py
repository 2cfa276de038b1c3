#!/usr/bin/env python3
"""bench/run bugtracker: cio-bugtracker against the Python original
(FastAPI 0.92 + uvicorn + aiomysql, apps/bugtracker/reference) on the same
MariaDB and the same rows, loaded by wrk.

    driver.py CIO_BUGTRACKER

bench/bugtracker/run builds cio-bugtracker and runs this.

A private MariaDB (scripts/servers, data under $CIO_BENCH_BUILD/servers)
gets the demo dataset: $CIO_BENCH_BUGTRACKER_BUGS bugs (default 20000, the
size the issue measured the seed query at; /10 with --quick). Four services
run on it in turn, each alone:

  cio      --sql default   cio-bugtracker, the query that reads one bug's rows
  cio      --sql seed      cio-bugtracker, the tutorial's query
  fastapi  seed            the original as it is
  fastapi  default         the original with the default query swapped in
                           (original_default.py), to tell the query's share
                           from the service's

The service is pinned to $CIO_BENCH_PIN's core, wrk (one thread) to the
other; MariaDB is not pinned. Cases: GET /id/<n> over existing ids at 50 and
256 connections ("found"), over ids no bug has at 50 ("missing"), and the
static page "/" at 50 ("static"). Each case: a warm-up, then three windows
of $CIO_BENCH_BUGTRACKER_SECONDS (5) seconds, the median reported; with
the seed's query, whose cost the database sets, one window of 30 s. Between
windows, a pause until the database is idle again (a slow query keeps
running after wrk has gone). Per case and service:

  req_per_s_*         requests/s (wrk)                    higher is better
  latency_p50/p90/p99_*  milliseconds (wrk --latency)
  cpu_us_per_req_*    the service's CPU time per request (every thread of
                      its process tree, /proc/<pid>/task/*/schedstat)
  db_cpu_us_per_req_* MariaDB's CPU time per request, apart

Metric names end in the query (_default, _seed) so that each line of the
table compares cio and the original running the same SQL. A service that
answers a case wrongly, or a wrk run with errors, fails the run.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
TESTS = os.path.join(ROOT, "apps", "bugtracker", "tests")
sys.path.insert(0, TESTS)
import bt_http  # noqa: E402
import reference  # noqa: E402

build = os.environ.get("CIO_BENCH_BUILD", os.path.join(ROOT, "build", "bench"))
scale = float(os.environ.get("CIO_BENCH_SCALE", "1") or 1)
nbugs = int(int(os.environ.get("CIO_BENCH_BUGTRACKER_BUGS", "20000")) * scale)
seconds = max(1, int(round(float(os.environ.get("CIO_BENCH_BUGTRACKER_SECONDS", "5")) * scale)))
client_cpu = os.environ.get("CIO_BENCH_CLIENT_CPU", "0")
wrk_pin = ["taskset", "-c", client_cpu] if client_cpu not in ("", "-1") else []
pin = os.environ.get("CIO_BENCH_PIN", "").split()
work = os.path.join(build, "bugtracker")


def note(msg):
    print("bugtracker: " + msg, file=sys.stderr, flush=True)


def emit(impl, metric, value, unit, **kw):
    rec = {"bench": "bugtracker", "impl": impl, "metric": metric, "value": value, "unit": unit}
    rec.update(kw)
    print(json.dumps(rec), flush=True)


# ---------------------------------------------------------------- CPU time

def tree(root):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                st = open(f"/proc/{d}/stat").read()
                kids.setdefault(int(st[st.rindex(")") + 2:].split()[1]), []).append(int(d))
            except (OSError, ValueError):
                pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_ns(root):
    total = 0
    for pid in tree(root):
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
        except OSError:
            pass
    return total


# ---------------------------------------------------------------- MariaDB

def servers(cmd):
    env = dict(os.environ, CIO_SERVERS_DIR=os.path.join(build, "servers"))
    r = subprocess.run([os.path.join(ROOT, "scripts", "servers"), cmd, "mariadb"], env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"driver.py: scripts/servers {cmd} mariadb: {r.stderr}")
    return r.stdout.strip()


def mariadb_pid():
    return int(open(os.path.join(build, "servers", "mariadb", "data", "mariadbd.pid")).read())


def wait_db_idle(db_pid, limit=300):
    """Until MariaDB has used less than 2% of a core for a second: queries
    wrk abandoned are still running when it exits."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        c0 = cpu_ns(db_pid)
        time.sleep(1)
        if cpu_ns(db_pid) - c0 < 2e7:
            return
    note("the database did not go idle")


# ---------------------------------------------------------------- wrk

def lua(kind):
    path = os.path.join(work, f"{kind}.lua")
    with open(path, "w") as f:
        if kind == "found":  # existing ids, in turn
            body = f"n = n % {nbugs} + 1\n  return wrk.format('GET', '/id/' .. n)"
        elif kind == "missing":  # ids no bug has
            body = f"n = n + 1\n  return wrk.format('GET', '/id/' .. ({nbugs} + 1000000 + n))"
        else:
            body = "return wrk.format('GET', '/')"
        f.write(f"local n = 0\nrequest = function()\n  {body}\nend\n")
    return path


def wrk(port, kind, conns, dur):
    out = subprocess.run(wrk_pin + ["wrk", "-t1", f"-c{conns}", f"-d{dur}s", "--timeout", "120s",
                                    "--latency", "-s", lua(kind), f"http://127.0.0.1:{port}"],
                         capture_output=True, text=True, timeout=dur + 300).stdout
    m = re.search(r"(\d+) requests in", out)
    if not m or "Socket errors" in out or "Non-2xx" in out:
        sys.exit(f"driver.py: wrk errors ({kind}, {conns} connections):\n{out}")
    lat = {}
    for p, v, u in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        lat[p] = float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[u]
    return int(m.group(1)), lat


# ---------------------------------------------------------------- services

def start_cio(binary, url, sql, log):
    port = reference.free_port()
    cmd = pin + [binary, "--db", url, "--port", str(port), "--sql", sql,
                 "--static", os.path.join(ROOT, "apps", "bugtracker", "static")]
    # The service logs a line per request, as the original does; both write
    # to a file.
    env = dict(os.environ, NO_COLOR="1")
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                         start_new_session=True)
    reference.wait_port(port, p)
    return p, port


def start_fastapi(url, sql, log):
    port = reference.free_port()
    static = os.path.join(work, "fastapi")
    os.makedirs(static, exist_ok=True)
    if not os.path.exists(os.path.join(static, "static")):
        shutil.copytree(os.path.join(ROOT, "apps", "bugtracker", "static"),
                        os.path.join(static, "static"))
    p = reference.mysql_params(url)
    env = dict(os.environ, BUGTRACKER_DB_HOST=p["host"], BUGTRACKER_DB_PORT=str(p["port"]),
               BUGTRACKER_DB_USER=p["user"], BUGTRACKER_DB_PASSWORD=p["password"],
               BUGTRACKER_DB_NAME=p["db"], NO_COLOR="1",
               PYTHONPATH=reference.REFERENCE)
    app = "demo:app" if sql == "seed" else "original_default:app"
    app_dir = reference.REFERENCE if sql == "seed" else HERE
    cmd = pin + [reference.PYTHON, "-m", "uvicorn", "--app-dir", app_dir, app,
                 "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=static, stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    reference.wait_port(port, proc)
    return proc, port


def stop(proc):
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def measure(impl, sql, proc, port, db_pid):
    # The answers first: a fast wrong service measures nothing.
    r = bt_http.request("127.0.0.1", port, {"target": "/id/1"})
    if r.status != 200 or json.loads(r.body).get("bug_id") != 1:
        sys.exit(f"driver.py: {impl} ({sql}): GET /id/1 gave {r.status} {r.body[:200]!r}")
    r = bt_http.request("127.0.0.1", port, {"target": f"/id/{nbugs + 5}"})
    if json.loads(r.body) != {"error": "未找到该 bug"}:
        sys.exit(f"driver.py: {impl} ({sql}): a missing id gave {r.body[:200]!r}")
    slow = sql == "seed"
    for kind, conns in (("found", 50), ("found", 256), ("missing", 50), ("static", 50)):
        # The seed's query takes a second or more at 20000 bugs, and the
        # database is what limits it: one long window instead of a warm-up
        # and three short ones, which would see nothing complete.
        one = slow and kind != "static"
        dur = max(10, int(30 * scale)) if one else seconds
        if not one:
            wrk(port, kind, conns, 1)
        wait_db_idle(db_pid)
        windows = []
        for _ in range(1 if one else 3):
            c0, d0, t0 = cpu_ns(proc.pid), cpu_ns(db_pid), time.monotonic()
            n, lat = wrk(port, kind, conns, dur)
            c1, d1, t1 = cpu_ns(proc.pid), cpu_ns(db_pid), time.monotonic()
            k = max(n, 1)  # a window in which nothing completed: per request, a bound
            windows.append(((c1 - c0) / 1e3 / k, n / (t1 - t0), (d1 - d0) / 1e3 / k, lat, n))
            wait_db_idle(db_pid)
        windows.sort(key=lambda w: w[1])
        us, rps, db_us, lat, n = windows[len(windows) // 2]
        spread = (windows[-1][1] - windows[0][1]) / rps if rps else 0
        tag = f"{kind}_{conns}c_{sql}"
        emit(impl, f"req_per_s_{tag}", round(rps, 1), "req/s", n=n, better="higher",
             spread=round(spread, 3))
        emit(impl, f"cpu_us_per_req_{tag}", round(us, 1), "us", n=n)
        if kind != "static":
            emit(impl, f"db_cpu_us_per_req_{tag}", round(db_us, 1), "us", n=n)
        for p in ("50", "90", "99"):
            if p in lat:
                emit(impl, f"latency_p{p}_{tag}", round(lat[p], 2), "ms", n=n)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary = sys.argv[1]
    if not shutil.which("wrk"):
        note("skipped: wrk not installed (scripts/deps bench)")
        return 0
    have_original = subprocess.run(
        [reference.PYTHON, "-c", "import fastapi, uvicorn, aiomysql, loguru"],
        capture_output=True).returncode == 0
    if not have_original:
        note("the original is skipped: python3-fastapi, -uvicorn, -aiomysql, -loguru missing")
    os.makedirs(work, exist_ok=True)
    servers("start")
    url = servers("url")
    if not url:
        note("skipped: MariaDB is not installed")
        return 0
    import pymysql
    p = reference.mysql_params(url)
    p.pop("db")
    c = pymysql.connect(autocommit=True, **p)
    c.cursor().execute("CREATE DATABASE IF NOT EXISTS bt_bench")
    c.close()
    url = reference.with_db(url, "bt_bench")
    note(f"loading {nbugs} bugs")
    r = subprocess.run([binary, "--db", url, "--init-db", "--force", "--load-only", "--bugs",
                        str(nbugs)], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"driver.py: loading failed:\n{r.stderr}")
    db_pid = mariadb_pid()
    runs = [("cio", "default"), ("cio", "seed")]
    if os.environ.get("CIO_BENCH_PEERS") == "0":
        have_original = False
    if have_original:
        runs += [("fastapi", "seed"), ("fastapi", "default")]
    try:
        for impl, sql in runs:
            note(f"{impl}, {sql} query")
            with open(os.path.join(work, f"{impl}-{sql}.log"), "wb") as log:
                proc, port = (start_cio(binary, url, sql, log) if impl == "cio"
                              else start_fastapi(url, sql, log))
                try:
                    measure(impl, sql, proc, port, db_pid)
                finally:
                    stop(proc)
        emit("cio", "bugs", nbugs, "bugs")
    finally:
        servers("stop")
    return 0


if __name__ == "__main__":
    sys.exit(main())
