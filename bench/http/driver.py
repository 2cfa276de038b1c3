#!/usr/bin/env python3
"""The HTTP benchmark's driver: start one server, load it with wrk, measure
the server's CPU time per request and requests/s, print JSON lines.

  driver.py --impl NAME [--workers N] -- COMMAND... ({port} is replaced)

The server runs the command given (already prefixed with the pinning taskset
by the caller); wrk runs pinned to the other core ($CIO_BENCH_CLIENT_CPU,
default 0) with one thread. Cases: the plaintext hello world (GET /, 13
bytes) and the small JSON body (GET /json, {"message":"Hello, World!"}),
each at 50 and 256 keep-alive connections. Each case: a warm-up second, then
three windows of $CIO_BENCH_HTTP_SECONDS (default 3, /10 with --quick)
seconds; the median window is reported, with spread = (max - min) / median,
server_cpu = the share of a core the server used, and wrk_timeouts when wrk
gave up on requests (a saturated server on a busy machine; other socket
errors and non-2xx answers fail the run).

Server CPU time is the sum, over every thread of the server's process and
its descendants (nginx's workers, uvicorn's), of the time the kernel
accounts them (/proc/<pid>/task/<tid>/schedstat), over the window, divided
by the requests wrk completed in it. A server that answers wrongly, or
errors under wrk (non-2xx, socket errors), fails the run."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

args = sys.argv[1:]
impl = "?"
workers = 1
while args and args[0] != "--":
    if args[0] == "--impl":
        impl = args[1]
        args = args[2:]
    elif args[0] == "--workers":
        workers = int(args[1])
        args = args[2:]
    else:
        sys.exit("driver.py: unknown option " + args[0])
cmd_template = args[1:]
scale = float(os.environ.get("CIO_BENCH_SCALE", "1") or 1)
seconds = max(1, int(round(float(os.environ.get("CIO_BENCH_HTTP_SECONDS", "3")) * scale)))
client_cpu = os.environ.get("CIO_BENCH_CLIENT_CPU", "0")
wrk_pin = ["taskset", "-c", client_cpu] if client_cpu not in ("", "-1") else []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def tree(root):
    """root and its descendants."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
            ppid = int(st[st.rindex(")") + 2:].split()[1])
            kids.setdefault(ppid, []).append(int(d))
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
            for tid in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                    total += int(f.read().split()[0])
        except OSError:
            pass
    return total


def fetch(port, path):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % path).encode())
    data = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    if b"chunked" in head.lower():
        out, rest = b"", body
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size.split(b";")[0], 16)
            if n == 0:
                break
            out, rest = out + rest[:n], rest[n + 2:]
        body = out
    return head.split(b"\r\n")[0], body


def wrk(port, path, conns, dur):
    url = "http://127.0.0.1:%d%s" % (port, path)
    out = subprocess.run(wrk_pin + ["wrk", "-t1", "-c%d" % conns, "-d%ds" % dur, url],
                         capture_output=True, text=True, timeout=dur + 60).stdout
    m = re.search(r"(\d+) requests in", out)
    e = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    hard = e and (int(e.group(1)) or int(e.group(2)) or int(e.group(3)))
    if not m or hard or "Non-2xx" in out:
        sys.exit("driver.py: %s: wrk errors on %s:\n%s" % (impl, url, out))
    # wrk's own 2 s timeouts happen to a saturated server on a busy machine:
    # counted and reported, not fatal
    return int(m.group(1)), int(e.group(4)) if e else 0


port = free_port()
cmd = [a.replace("{port}", str(port)) for a in cmd_template]
log = open(os.path.join(os.environ.get("CIO_BENCH_BUILD", "/tmp"), "http-%s.log" % impl), "w")
server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
try:
    deadline = time.time() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.time() > deadline:
                sys.exit("driver.py: %s did not start: %s" % (impl, " ".join(cmd)))
            time.sleep(0.05)
    status, body = fetch(port, "/")
    if not status.endswith(b"200 OK") or body != b"Hello, World!":
        sys.exit("driver.py: %s: GET / gave %r %r" % (impl, status, body))
    status, body = fetch(port, "/json")
    if json.loads(body) != {"message": "Hello, World!"}:
        sys.exit("driver.py: %s: GET /json gave %r %r" % (impl, status, body))
    suffix = "_w%d" % workers if workers > 1 else ""
    # CIO_BENCH_HTTP_CASES=plain_50c,json_256c restricts the cases
    only = [c for c in os.environ.get("CIO_BENCH_HTTP_CASES", "").split(",") if c]
    for case, path in (("plain", "/"), ("json", "/json")):
        for conns in (50, 256):
            if only and "%s_%dc" % (case, conns) not in only:
                continue
            wrk(port, path, conns, 1)  # warm-up: connections made, caches warm
            windows = []
            timeouts = 0
            for _ in range(3):
                c0, t0 = cpu_ns(server.pid), time.monotonic()
                n, to = wrk(port, path, conns, seconds)
                c1, t1 = cpu_ns(server.pid), time.monotonic()
                timeouts += to
                windows.append((n, (c1 - c0) / 1e3 / n, n / (t1 - t0), (c1 - c0) / 1e9 / (t1 - t0)))
            windows.sort(key=lambda w: w[1])
            n, us, rps, load = windows[1]
            spread = (windows[2][1] - windows[0][1]) / us if us else 0
            tag = "%s_%dc%s" % (case, conns, suffix)
            rec = {"bench": "http", "impl": impl, "metric": "cpu_us_per_req_" + tag,
                   "value": round(us, 3), "unit": "us", "n": n, "spread": round(spread, 3),
                   "server_cpu": round(load, 2)}
            if timeouts:
                rec["wrk_timeouts"] = timeouts
            print(json.dumps(rec), flush=True)
            print(json.dumps({"bench": "http", "impl": impl, "metric": "req_per_s_" + tag,
                              "value": round(rps, 1), "unit": "req/s", "n": n, "better": "higher"}),
                  flush=True)
finally:
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    log.close()
