"""The requests the bug-tracker service is checked with, against the Python
original (compare.py, live) and against its recorded answers (golden.jsonl,
e2e.py). Each case is a dict for bt_http.build() plus:

    name     unique, stable (the golden file is keyed by it)
    dbs      the databases whose fixture holds the rows the case needs
             (default: all three)
    live     only compared live against the original, never recorded
             (answers that depend on the run, e.g. the ETag of a file)
"""

ALL = ("mysql", "postgresql", "sqlite")
NUL = ("mysql", "sqlite")

COMMON_IDS = list(range(1, 37)) + [2147483647]
NUL_IDS = [50, 4294967295]
SQLITE_IDS = [60, 61]


def get(name, target, **kw):
    c = {"name": name, "method": "GET", "target": target}
    c.update(kw)
    return c


def cases():
    out = []
    for i in COMMON_IDS:
        out.append(get(f"found-{i}", f"/id/{i}"))
    for i in NUL_IDS:
        out.append(get(f"found-{i}", f"/id/{i}", dbs=NUL))
    for i in SQLITE_IDS:
        out.append(get(f"found-{i}", f"/id/{i}", dbs=("sqlite",)))

    # Ids no bug has.
    for i in ["0", "37", "99", "1000000", "2147483646", "-1", "-2147483648",
              "4294967296", "9223372036854775807", "-9223372036854775808"]:
        out.append(get(f"missing-{i}", f"/id/{i}"))
    # Beyond 64 bits: Python's int takes them, pydantic v1 refuses strings
    # longer than 4300 characters, MariaDB compares and finds nothing.
    big = {
        "2^63": "9223372036854775808",
        "-2^63-1": "-9223372036854775809",
        "2^64-1": "18446744073709551615",
        "2^64": "18446744073709551616",
        "1e30": "1" + "0" * 30,
        "4300-nines": "9" * 4300,
        "minus-4299-nines": "-" + "9" * 4299,
        "4301-nines": "9" * 4301,
        "minus-4300-nines": "-" + "9" * 4300,
        "space-4300-nines": "%20" + "9" * 4300,
        "4300-zeros-1": "0" * 4299 + "1",
    }
    for k, v in big.items():
        out.append(get(f"huge-{k}", f"/id/{v}"))

    # What Python's int() accepts, and what it does not.
    forms = {
        "plus": "+1", "zeros": "007", "minus-zero": "-0", "plus-zero": "+0",
        "double-zero": "00", "lead-space": "%201", "trail-space": "1%20",
        "tab": "%091", "underscore": "1_0", "two-underscores": "1__0",
        "lead-underscore": "_1", "trail-underscore": "1_", "fullwidth": "%EF%BC%91",
        "arabic-indic": "%D9%A3", "devanagari": "%E0%A5%A7%E0%A5%A8",
        "em-space": "%E2%80%831", "nel": "%C2%851", "fs": "%1C1",
        "ideographic-space": "%E3%80%801%E3%80%80", "nul": "%001",
        "float": "1.0", "exp": "1e3", "hex": "0x10", "bin": "0b1",
        "word": "abc", "bad-utf8": "%FF", "sign-only": "-", "plus-minus": "+-1",
        "space-only": "%20", "inner-space": "1%202", "comma": "1,2",
        "chinese": "%E4%B8%80", "superscript": "%C2%B9", "roman": "%E2%85%A0",
    }
    for k, v in forms.items():
        out.append(get(f"int-{k}", f"/id/{v}"))

    # Paths that are not the route.
    for k, v in {
        "id": "/id", "id-slash": "/id/", "id-1-slash": "/id/1/",
        "id-1-encoded-slash": "/id/1%2F", "upper": "/ID/1",
        "double-slash": "//id/1", "extra": "/id/1/extra", "nope": "/nope",
        "query": "/id/1?x=1&y", "query-only": "/id/1?",
        "encoded-route": "/%69%64/1", "dotdot": "/id/../id/1",
        "traversal": "/../../etc/passwd", "traversal-encoded": "/%2e%2e/%2e%2e/etc/passwd",
        "static-missing": "/missing.html", "static-dir-missing": "/nodir/",
    }.items():
        out.append(get(f"path-{k}", v))

    # FastAPI's own routes.
    for k, v in {"docs": "/docs", "openapi": "/openapi.json", "redoc": "/redoc",
                 "oauth2-redirect": "/docs/oauth2-redirect", "docs-slash": "/docs/",
                 "openapi-query": "/openapi.json?x=1"}.items():
        out.append(get(f"fastapi-{k}", v))
    for m in ("HEAD", "POST", "DELETE"):
        out.append({"name": f"fastapi-openapi-{m}", "method": m, "target": "/openapi.json"})

    # Static files (tests/static).
    for k, v in {"root": "/", "index": "/index.html", "css": "/style.css",
                 "json": "/data.json", "sub-noslash": "/sub", "sub": "/sub/",
                 "sub-index": "/sub/index.html", "unicode-name": "/%E7%A9%BA%E6%A0%BC%20%E6%96%87%E4%BB%B6.txt",
                 "query": "/?id=1", "dir-no-index": "/empty/"}.items():
        out.append(get(f"static-{k}", v))
    out.append(get("static-range", "/style.css", headers=[["Range", "bytes=0-3"]]))
    out.append(get("static-ims-future", "/style.css",
                   headers=[["If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT"]]))
    out.append(get("static-inm-star", "/style.css", headers=[["If-None-Match", "*"]]))
    out.append(get("static-inm-other", "/style.css", headers=[["If-None-Match", '"nope"']]))
    out.append(get("static-inm-match", "/style.css", etag_of="/style.css", live=True))

    # Methods.
    for m, t in [("POST", "/id/1"), ("PUT", "/id/1"), ("DELETE", "/id/1"),
                 ("PATCH", "/id/1"), ("OPTIONS", "/id/1"), ("POST", "/"),
                 ("DELETE", "/nope"), ("POST", "/id/abc"), ("TRACE", "/id/1")]:
        out.append({"name": f"method-{m}-{t}", "method": m, "target": t})
    out.append({"name": "method-POST-body", "method": "POST", "target": "/id/1",
                "body": '{"a": 1}', "headers": [["Content-Type", "application/json"]]})
    for t in ["/id/1", "/id/99", "/id/abc", "/", "/nope", "/style.css"]:
        out.append({"name": f"head-{t}", "method": "HEAD", "target": t})
    out.append(get("get-with-body", "/id/1", body="ignored"))
    out.append(get("http10", "/id/1", version="HTTP/1.0"))

    # CORS.
    o = ["Origin", "https://example.com"]
    acrm = ["Access-Control-Request-Method", "GET"]
    for k, t, hs in [
        ("preflight", "/id/1", [o, acrm, ["Access-Control-Request-Headers", "X-Custom, Content-Type"]]),
        ("preflight-no-acrh", "/id/1", [o, acrm]),
        ("preflight-unknown-path", "/nope", [o, acrm]),
        ("preflight-post", "/id/1", [o, ["Access-Control-Request-Method", "POST"]]),
        ("preflight-bad-method", "/id/1", [o, ["Access-Control-Request-Method", "FOO"]]),
        ("preflight-lower-method", "/id/1", [o, ["Access-Control-Request-Method", "get"]]),
        ("options-no-acrm", "/id/1", [o]),
        ("options-no-origin", "/id/1", [acrm]),
    ]:
        out.append({"name": f"cors-{k}", "method": "OPTIONS", "target": t, "headers": hs})
    for k, t, hs in [
        ("get-found", "/id/1", [o]), ("get-missing", "/id/99", [o]),
        ("get-422", "/id/abc", [o]), ("get-404", "/nope", [o]),
        ("get-static", "/", [o]), ("get-cookie", "/id/1", [o, ["Cookie", "a=b"]]),
        ("get-null-origin", "/id/2", [["Origin", "null"]]),
    ]:
        out.append(get(f"cors-{k}", t, headers=hs))
    out.append({"name": "cors-post-405", "method": "POST", "target": "/id/1", "headers": [o]})
    out.append({"name": "cors-head", "method": "HEAD", "target": "/id/1", "headers": [o]})
    return out
