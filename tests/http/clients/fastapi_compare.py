#!/usr/bin/env python3
"""Serve tests/http/clients/fastapi_app.py with uvicorn (FastAPI, Debian's
python3-fastapi) and its C twin (tests/http/fastapi_twin.c) on the same
static directory, send both the same requests, and compare status, body
and Content-Type byte for byte (and the CORS headers). The requests cover
what a port of a FastAPI app must answer the same way: typed parameters
(valid, invalid: 422 bodies, beyond int64), 404 and 405 (routes and the
static mount), HEAD, static files, html=True directories and redirects,
traversal attempts, CORS preflights and simple requests, JSON escapes."""
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

twin = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
try:
    import fastapi  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as e:
    print("SKIP: %s (scripts/deps installs python3-fastapi and python3-uvicorn)" % e)
    sys.exit(77)

work = tempfile.mkdtemp(prefix="cio-fastapi-compare-")
static = os.path.join(work, "static")
os.makedirs(os.path.join(static, "sub"))
os.makedirs(os.path.join(static, "noindex"))
with open(os.path.join(static, "index.html"), "w") as f:
    f.write("<!doctype html><h1>home</h1>\n")
with open(os.path.join(static, "sub", "index.html"), "w") as f:
    f.write("<p>sub</p>")
with open(os.path.join(static, "app.js"), "w") as f:
    f.write("console.log('x')")
with open(os.path.join(static, "data.json"), "w") as f:
    f.write('{"a": 1}')


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


procs = []
failures = 0
try:
    env = dict(os.environ, TWIN_STATIC=static, PYTHONPATH=here)
    py_port = free_port()
    py = subprocess.Popen([sys.executable, "-m", "uvicorn", "fastapi_app:app", "--host", "127.0.0.1",
                           "--port", str(py_port), "--log-level", "warning"],
                          env=env, cwd=here, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    procs.append(py)
    c = subprocess.Popen([twin, static], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    procs.append(c)
    c_port = int(c.stdout.readline().split()[1])
    deadline = time.time() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", py_port), timeout=1).close()
            break
        except OSError:
            if time.time() > deadline or py.poll() is not None:
                print("FAIL: uvicorn did not start:", py.stderr.read().decode()[-2000:])
                sys.exit(1)
            time.sleep(0.1)

    def ask(port, method, path, headers=None, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", "127.0.0.1:%d" % port)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        conn.close()
        return r.status, data, hdrs

    origin = {"Origin": "http://elsewhere.test"}
    preflight = {"Origin": "http://elsewhere.test", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type, x-custom"}
    cases = [
        ("GET", "/", None), ("GET", "/items/5", None), ("GET", "/items/007", None),
        ("GET", "/items/-3", None), ("GET", "/items/+4", None), ("GET", "/items/1_000", None),
        ("GET", "/items/%20%208%20", None), ("GET", "/items/%EF%BC%91%EF%BC%92", None),
        ("GET", "/items/abc", None), ("GET", "/items/1.5", None), ("GET", "/items/1e3", None),
        ("GET", "/items/0x10", None), ("GET", "/items/%FF", None), ("GET", "/items/5%0A", None),
        ("GET", "/items/99999999999999999999999999", None),
        ("GET", "/items/-99999999999999999999999999", None),
        ("GET", "/items/", None), ("GET", "/items/5/", None), ("GET", "/items", None),
        ("GET", "/id/1", None), ("GET", "/id/404", None), ("GET", "/id/x", None),
        ("GET", "/files/a/b/c.txt", None), ("GET", "/files/%E4%B8%AD%E6%96%87", None),
        ("GET", "/files/", None),
        ("POST", "/", None), ("DELETE", "/items/5", None), ("PUT", "/id/abc", None),
        ("PATCH", "/nothing/here", None),
        ("HEAD", "/", None), ("HEAD", "/items/9", None), ("HEAD", "/index.html", None),
        ("GET", "/index.html", None), ("GET", "/app.js", None), ("GET", "/data.json", None),
        ("GET", "/sub/", None), ("GET", "/sub/index.html", None), ("GET", "/noindex/", None),
        ("GET", "/missing.css", None), ("GET", "/a/b/c", None),
        ("GET", "/%2e%2e/%2e%2e/etc/passwd", None), ("GET", "/sub/../index.html", None),
        ("GET", "/", origin), ("GET", "/items/x", origin), ("GET", "/nope", origin),
        ("OPTIONS", "/items/1", preflight), ("OPTIONS", "/", preflight),
        ("OPTIONS", "/items/1", None),
    ]
    compared = ["content-type", "access-control-allow-origin", "access-control-allow-methods",
                "access-control-allow-headers", "access-control-max-age", "access-control-allow-credentials",
                "vary", "location", "content-length"]
    for method, path, headers in cases:
        a = ask(py_port, method, path, headers)
        b = ask(c_port, method, path, headers)
        what = "%s %s%s" % (method, path, " (%s)" % ",".join(headers) if headers else "")
        problems = []
        if a[0] != b[0]:
            problems.append("status %d vs %d" % (a[0], b[0]))
        if a[1] != b[1]:
            problems.append("body %r vs %r" % (a[1][:200], b[1][:200]))
        for h in compared:
            va, vb = a[2].get(h), b[2].get(h)
            if h == "location" and va and vb:  # both absolute: compare the path
                va, vb = va.split(str(py_port), 1)[-1], vb.split(str(c_port), 1)[-1]
            if va != vb:
                problems.append("%s: %r vs %r" % (h, va, vb))
        if problems:
            failures += 1
            print("FAIL %s: FastAPI / cio: %s" % (what, "; ".join(problems)))
        else:
            print("ok   %s -> %d" % (what, a[0]))
finally:
    for p in procs:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
    shutil.rmtree(work, ignore_errors=True)

print("all %d requests answered the same" % len(cases) if not failures else "%d difference(s)" % failures)
sys.exit(1 if failures else 0)
