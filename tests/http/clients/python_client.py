#!/usr/bin/env python3
"""Python's http.client against cio-http-demo: several requests on one
kept-alive connection, a chunked upload (encode_chunked), HEAD, a large
body, JSON, and raw-socket pipelining (ten requests in one send, ten
answers in order)."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

demo = sys.argv[1]
proc = subprocess.Popen([demo, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
failures = 0


def check(what, cond):
    global failures
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures += 1


try:
    line = proc.stdout.readline().decode()
    port = int(line.split()[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/")
    r = conn.getresponse()
    check("GET / 200", r.status == 200 and r.read() == b"Hello, World!")
    sock = conn.sock
    conn.request("GET", "/json")
    r = conn.getresponse()
    check("GET /json", json.loads(r.read()) == {"message": "Hello, World!"})
    check("same connection kept alive", conn.sock is sock)
    check("content-type json", r.getheader("content-type") == "application/json")

    def gen():
        for i in range(100):
            yield (b"%05d" % i) * 100
    conn.request("POST", "/echo", body=gen(), encode_chunked=True,
                 headers={"Content-Type": "application/x-test"})
    r = conn.getresponse()
    body = r.read()
    check("chunked upload echoed", body == b"".join(gen()))
    check("echo keeps the type", r.getheader("content-type") == "application/x-test")
    big = os.urandom(700000)
    conn.request("POST", "/echo", body=big)
    r = conn.getresponse()
    check("700 KB body echoed", r.read() == big)
    conn.request("HEAD", "/json")
    r = conn.getresponse()
    check("HEAD: length, no body", r.getheader("content-length") == "27" and r.read() == b"")
    check("still the same connection", conn.sock is sock)
    conn.request("GET", "/missing")
    r = conn.getresponse()
    check("404 detail", r.status == 404 and json.loads(r.read()) == {"detail": "Not Found"})
    conn.close()

    # pipelining: ten requests in one send
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    reqs = b"".join(b"GET /json HTTP/1.1\r\nHost: x\r\n\r\n" if i % 2 else
                    b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n%02d" % i
                    for i in range(10))
    s.sendall(reqs)
    data = b""
    deadline = time.time() + 10
    while data.count(b"HTTP/1.1 200 OK") < 10 and time.time() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    # parse the answers in order
    bodies = []
    rest = data
    while rest:
        head, _, rest = rest.partition(b"\r\n\r\n")
        length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0].split(b":")[1])
        bodies.append(rest[:length])
        rest = rest[length:]
    want = [b"%02d" % i if i % 2 == 0 else b'{"message":"Hello, World!"}' for i in range(10)]
    check("ten pipelined answers, in order", bodies == want)
    s.close()
finally:
    proc.send_signal(signal.SIGINT)  # Ctrl-C: the same graceful stop as SIGTERM
    try:
        rc = proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = -1
    check("demo exits 0 on SIGINT", rc == 0)

print("all checks passed" if not failures else "%d check(s) failed" % failures)
sys.exit(1 if failures else 0)
