"""A raw HTTP/1.1 client for the bug-tracker tests: sends exactly the bytes a
case describes and returns the response as it arrived (status line, headers
in order and case, body), so that two servers can be compared byte for
byte. Standard library only."""
import socket

# Headers that differ between any two servers or runs by nature.
VOLATILE = {"date", "server"}
# Headers whose values depend on the files' mtimes (static files): compared
# live between two servers on the same files, not against a recording.
MTIME = {"etag", "last-modified"}


class Response:
    def __init__(self, version, status, reason, headers, body, raw):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers  # [(name, value)] as received
        self.body = body
        self.raw = raw

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def record(self, keep_mtime=False):
        """The comparable part: everything but Date and Server (and, unless
        keep_mtime, the values of ETag and Last-Modified, kept as present)."""
        hs = []
        for k, v in self.headers:
            lk = k.lower()
            if lk in VOLATILE:
                continue
            if lk in MTIME and not keep_mtime:
                v = "<mtime>"
            hs.append([lk, v])
        try:
            body = {"text": self.body.decode("utf-8")}
        except UnicodeDecodeError:
            body = {"hex": self.body.hex()}
        return {"status": self.status, "reason": self.reason,
                "headers": hs, "body": body}


def build(case):
    """The request bytes of a case: {"method", "target", "headers": [[k, v]],
    "body": str, "version": "HTTP/1.1", "raw": bytes-as-latin1 str}."""
    if "raw" in case:
        return case["raw"].encode("latin-1")
    method = case.get("method", "GET")
    version = case.get("version", "HTTP/1.1")
    body = case.get("body", "").encode("utf-8")
    lines = [f"{method} {case['target']} {version}", "Host: 127.0.0.1"]
    for k, v in case.get("headers", []):
        lines.append(f"{k}: {v}")
    if body:
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def request(host, port, case, timeout=30.0):
    """Send one case on a fresh connection; read until the server closes."""
    data = build(case)
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            chunks.append(b)
    raw = b"".join(chunks)
    return parse(raw, head_only=case.get("method") == "HEAD")


def parse(raw, head_only=False):
    head, sep, rest = raw.partition(b"\r\n\r\n")
    if not sep:
        return Response("", 0, "", [], b"", raw)
    lines = head.decode("latin-1").split("\r\n")
    version, _, tail = lines[0].partition(" ")
    code, _, reason = tail.partition(" ")
    headers = []
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.append((k, v.strip(" \t")))
    r = Response(version, int(code), reason, headers, b"", raw)
    if head_only:
        return r
    te = r.header("transfer-encoding")
    if te and te.lower() == "chunked":
        r.body = dechunk(rest)
    else:
        cl = r.header("content-length")
        r.body = rest[:int(cl)] if cl is not None else rest
    return r


def dechunk(b):
    out = []
    while b:
        line, _, b = b.partition(b"\r\n")
        n = int(line.split(b";")[0], 16)
        if n == 0:
            break
        out.append(b[:n])
        b = b[n + 2:]
    return b"".join(out)
