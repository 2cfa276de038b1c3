#!/usr/bin/env python3
"""Record what the Python original answers to every case of cases.py, on
MariaDB holding the fixture rows (make_fixture.py), into golden.jsonl: the
behaviour cio-bugtracker must reproduce. Run by hand when the cases or the
fixture change, and commit the result:

    record_golden.py MYSQL_URL [OUT]      (URL: scripts/servers url mariadb)

The database named by MYSQL_URL's path is replaced by one called
bt_golden. Each line: {"name", "request", "dbs", "response"} where response
is bt_http.Response.record() (Date and Server left out; ETag and
Last-Modified only marked as present, since they depend on the files'
mtimes). The original's log is kept beside OUT as golden.log.
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bt_http  # noqa: E402
import cases  # noqa: E402
import make_fixture  # noqa: E402
import reference  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    url = reference.with_db(sys.argv[1], "bt_golden")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "golden.jsonl")
    with tempfile.TemporaryDirectory() as tmp:
        sys.argv = ["make_fixture", tmp]
        make_fixture.main()
        reference.load_mysql(url, [os.path.join(tmp, "fixture_all.json"),
                                   os.path.join(tmp, "fixture_nul.json")])
        ref = reference.Reference(url, os.path.join(HERE, "static"),
                                  os.path.join(tmp, "work"),
                                  os.path.join(tmp, "log"))
        lines = []
        try:
            for c in cases.cases():
                if c.get("live") or "mysql" not in c.get("dbs", cases.ALL):
                    continue
                r = bt_http.request("127.0.0.1", ref.port, c)
                req = {k: v for k, v in c.items() if k not in ("name", "dbs")}
                lines.append({"name": c["name"], "request": req,
                              "dbs": list(c.get("dbs", cases.ALL)),
                              "response": r.record()})
        finally:
            ref.stop()
            log = open(os.path.join(tmp, "log"), encoding="utf-8",
                       errors="replace").read()
        with open(os.path.splitext(out)[0] + ".log", "w", encoding="utf-8") as f:
            f.write(log)
    with open(out, "w", encoding="utf-8") as f:
        for ln in lines:
            f.write(json.dumps(ln, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{len(lines)} cases recorded in {out}")


if __name__ == "__main__":
    main()
