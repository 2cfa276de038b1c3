#!/usr/bin/env python3
"""upstream.py PORTFILE - the Python upstream nginx proxies /up/ to in the
HTTP client's tests (tests/http/client/site.sh). Stdlib only. Writes the
port it listens on (127.0.0.1, chosen by the kernel) to PORTFILE.

  /echo      JSON: method, path, headers, body (the request as received)
  /chunked   a chunked body of N pieces ("piece 0\\n" ...), ?n=N&delay=S
  /slow      the answer after ?delay=S seconds
  /drip      a chunked body of ?n=N bytes, one every ?delay=S seconds
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _args(self):
        q = parse_qs(urlsplit(self.path).query)
        return {k: v[0] for k, v in q.items()}

    def _body(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def handle_any(self):
        path = urlsplit(self.path).path
        a = self._args()
        body = self._body()
        if path == "/echo":
            out = {"method": self.command, "path": self.path,
                   "headers": {k.lower(): v for k, v in self.headers.items()},
                   "body": body.decode("latin-1")}
            self._send(200, json.dumps(out).encode())
        elif path in ("/chunked", "/drip"):
            n = int(a.get("n", "5"))
            delay = float(a.get("delay", "0"))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(n):
                self._chunk(b"x" if path == "/drip" else b"piece %d\n" % i)
                if delay:
                    time.sleep(delay)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        elif path == "/slow":
            time.sleep(float(a.get("delay", "1")))
            self._send(200, b"slow\n", "text/plain")
        else:
            self._send(404, b"no such upstream path\n", "text/plain")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
