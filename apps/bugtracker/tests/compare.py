#!/usr/bin/env python3
"""Request by request: cio-bugtracker and the Python original (FastAPI +
uvicorn + aiomysql, apps/bugtracker/reference) on the same MariaDB database,
the same rows and the same static files, every case of cases.py sent to
both, the answers compared (bt_compare.py: status, body and the headers that
carry behaviour must be equal; Date, Server, ETag... are only noted).

    compare.py BINARY MYSQL_URL WORK_DIR [--sql seed|default] [--data demo]

MYSQL_URL names a server (its database part is replaced by bt_compare); "-"
is the MariaDB the tests' servers fixture started ($CIO_SERVERS_DIR).
--data demo also compares every bug of a generated demo dataset. Exit
status 0 when nothing differs beyond expected_differences.json, 77 when
the server or the original's Python packages are missing.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bt_compare  # noqa: E402
import bt_db  # noqa: E402
import bt_http  # noqa: E402
import bt_service  # noqa: E402
import cases  # noqa: E402
import make_fixture  # noqa: E402
import reference  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def have_python_deps():
    import subprocess
    r = subprocess.run([reference.PYTHON, "-c",
                        "import fastapi, uvicorn, aiomysql, loguru, pymysql"],
                       capture_output=True)
    return r.returncode == 0


def send(port, case):
    """One case; a case with etag_of first asks for that file's ETag and
    sends it back in If-None-Match (each server its own)."""
    if case.get("etag_of"):
        first = bt_http.request("127.0.0.1", port, {"method": "GET", "target": case["etag_of"]})
        case = dict(case, headers=[["If-None-Match", first.header("etag") or ""]])
    return bt_http.request("127.0.0.1", port, case)


def run_cases(ref, svc, case_list, tally):
    for c in case_list:
        a = send(ref.port, c).record(keep_mtime=True)
        b = send(svc.port, c).record(keep_mtime=True)
        tally.check(c["name"], a, b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("mysql_url")
    ap.add_argument("work")
    ap.add_argument("--sql", default="default")
    ap.add_argument("--data", default="fixture", choices=["fixture", "demo"])
    ap.add_argument("--bugs", type=int, default=400)
    a = ap.parse_args()
    if a.mysql_url == "-":
        a.mysql_url = bt_db.server_url("mariadb")
        if not a.mysql_url:
            print("skip: no MariaDB server")
            return 77
    if not have_python_deps():
        print("skip: the original's packages (python3-fastapi, -uvicorn, -aiomysql, "
              "-loguru) are not installed")
        return 77
    os.makedirs(a.work, exist_ok=True)
    url = reference.with_db(a.mysql_url, "bt_compare")
    # The database itself (the loader replaces tables, not databases).
    import pymysql
    p = reference.mysql_params(a.mysql_url)
    p.pop("db")
    conn = pymysql.connect(autocommit=True, **p)
    conn.cursor().execute("CREATE DATABASE IF NOT EXISTS bt_compare "
                          "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    conn.close()

    if a.data == "demo":
        bt_service.load(a.binary, url, nbugs=a.bugs)
        case_list = [cases.get(f"demo-{i}", f"/id/{i}") for i in range(0, a.bugs + 2)]
    else:
        fx = os.path.join(a.work, "fixture")
        sys.argv = ["make_fixture", fx]
        make_fixture.main()
        bt_service.load(a.binary, url, [os.path.join(fx, "fixture_all.json"),
                                        os.path.join(fx, "fixture_nul.json")])
        case_list = [c for c in cases.cases() if "mysql" in c.get("dbs", cases.ALL)]

    # Both serve the same copy of the static files (same mtimes).
    workdir = os.path.join(a.work, "reference")
    ref = reference.Reference(url, os.path.join(HERE, "static"), workdir,
                              os.path.join(a.work, "reference.log"))
    svc = None
    try:
        svc = bt_service.Service(a.binary, url, os.path.join(workdir, "static"),
                                 os.path.join(a.work, "service.log"), sql=a.sql)
        tally = bt_compare.Tally(f"compare ({a.data}, --sql {a.sql})")
        run_cases(ref, svc, case_list, tally)
    finally:
        ref.stop()
        if svc:
            svc.stop()
    ok = tally.report({c["name"] for c in case_list})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
