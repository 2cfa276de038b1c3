#!/usr/bin/env python3
"""cio-bugtracker end to end on one database: the fixture's rows loaded with
--init-db --data, the service started, every case of golden.jsonl that this
database can hold sent and the answer compared with what the Python original
answered (bt_compare.py's rules), the log lines checked; then the command
line itself (SQLite only: the first run that creates the demo database, a
second run that keeps it, --init-db without --force on a full database,
bad options, two workers).

    e2e.py BINARY sqlite|mariadb|pg WORK_DIR [--sql seed|default]

Exit status 0, 1 on a difference, 77 when the database server is missing.
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bt_compare  # noqa: E402
import bt_db  # noqa: E402
import bt_http  # noqa: E402
import bt_service  # noqa: E402
import make_fixture  # noqa: E402
import reference  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = {"sqlite": "sqlite", "mariadb": "mysql", "pg": "postgresql"}
failures = []


def check(cond, what):
    print(("ok     " if cond else "FAIL   ") + what)
    if not cond:
        failures.append(what)


def golden():
    with open(os.path.join(HERE, "golden.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def fixture_files(kind, work):
    fx = os.path.join(work, "fixture")
    sys.argv = ["make_fixture", fx]
    make_fixture.main()
    files = ["fixture_all.json"]
    if kind != "pg":
        files.append("fixture_nul.json")
    if kind == "sqlite":
        files.append("fixture_sqlite.json")
    return [os.path.join(fx, f) for f in files]


def run_golden(binary, kind, url, work, sql):
    svc = bt_service.Service(binary, url, os.path.join(HERE, "static"),
                             os.path.join(work, f"service-{kind}.log"), sql=sql)
    tally = bt_compare.Tally(f"{kind} against the original (--sql {sql})")
    names = set()
    try:
        for g in golden():
            if DRIVER[kind] not in g["dbs"]:
                continue
            names.add(g["name"])
            got = bt_http.request("127.0.0.1", svc.port, g["request"]).record()
            tally.check(g["name"], g["response"], got)
        # The SQLite-only rows (invalid UTF-8) have no recording: the
        # original cannot hold them. What they must give:
        if kind == "sqlite":
            r = bt_http.request("127.0.0.1", svc.port, {"target": "/id/60"})
            body = json.loads(r.body)
            check(body["step"] == "a\ufffdb\ufffd" and
                  body["reply"] == {"cause_of_bug": "来自备注", "bug_solution": "备注方案"},
                  "invalid UTF-8: U+FFFD in the JSON, no match in that text, notes used")
            r = bt_http.request("127.0.0.1", svc.port, {"target": "/id/61"})
            check(json.loads(r.body)["reply"]["cause_of_bug"] == "修订",
                  "invalid UTF-8 in the notes: the revisions' cause")
    finally:
        status = svc.stop()
    check(tally.report(names), f"every recorded answer on {kind}")
    check(status == 0, f"exit status 0 after SIGTERM (got {status})")
    log = svc.log_text()
    check("数据库连接池已启动" in log, "log: 数据库连接池已启动 at startup")
    check("数据库连接池已关闭" in log, "log: 数据库连接池已关闭 at shutdown")
    check("| INFO     | service:search_:" in log and "收到查询请求: 1\n" in log,
          "log: 收到查询请求 per request, loguru's format")
    check("收到查询请求: " + "9" * 4300 + "\n" in log,
          "log: an id beyond 64 bits as Python prints it")
    check("收到查询请求: 7\n" in log, "log: '007' as 7")
    check('"GET /id/1 HTTP/1.1" 200' in log, "log: an access line per request")


def run_cli(binary, work):
    """The command line on SQLite."""
    xdg = os.path.join(work, "xdg")
    subprocess.run(["rm", "-rf", xdg])
    env = dict(os.environ, XDG_DATA_HOME=xdg, NO_COLOR="1")
    db = os.path.join(xdg, "cio-bugtracker", "bugtracker.db")

    # First run: creates the file with the demo dataset.
    port = reference.free_port()
    log = os.path.join(work, "first.log")
    with open(log, "wb") as f:
        p = subprocess.Popen([binary, "--port", str(port)], env=env, stdout=f,
                             stderr=subprocess.STDOUT)
    try:
        reference.wait_port(port, p, timeout=120)
        r = bt_http.request("127.0.0.1", port, {"target": "/id/1"})
        check(r.status == 200 and json.loads(r.body)["bug_id"] == 1,
              "first run: the demo database is created and served")
        r = bt_http.request("127.0.0.1", port, {"target": "/id/77"})
        check(json.loads(r.body)["reply"]["cause_of_bug"] == "导出时逐行拼接字符串",
              "demo bug 77: notes cut at group_concat_max_len, the revisions' cause")
        r = bt_http.request("127.0.0.1", port, {"target": "/"})
        check(r.status == 200 and b'id="bug-id"' in r.body, "/ serves the default page")
    finally:
        p.terminate()
        p.wait(60)
    check(os.path.exists(db), f"the database is {db}")
    text = open(log, encoding="utf-8").read()
    check("5000 bugs loaded" in text and "cio:***" not in text, "first run log")

    # Second run: the file is kept (not reloaded).
    mtime = os.stat(db).st_mtime
    port = reference.free_port()
    with open(os.path.join(work, "second.log"), "wb") as f:
        p = subprocess.Popen([binary, "--port", str(port), "--workers", "2"], env=env,
                             stdout=f, stderr=subprocess.STDOUT)
    try:
        reference.wait_port(port, p, timeout=60)
        ok = all(bt_http.request("127.0.0.1", port, {"target": f"/id/{i}"}).status == 200
                 for i in range(1, 40))
        check(ok, "second run, two workers: answers")
    finally:
        p.terminate()
        p.wait(60)
    check(os.stat(db).st_mtime == mtime and "loading" not in
          open(os.path.join(work, "second.log"), encoding="utf-8").read(),
          "second run: the database is not reloaded")

    # --init-db on a database that holds bugs needs --force.
    url = "sqlite://" + db
    r = subprocess.run([binary, "--db", url, "--init-db", "--load-only"], env=env,
                       capture_output=True, text=True)
    check(r.returncode == 1 and "--force" in r.stderr, "--init-db refuses to replace bugs")
    r = subprocess.run([binary, "--db", url, "--init-db", "--load-only", "--force",
                        "--bugs", "10"], env=env, capture_output=True, text=True)
    check(r.returncode == 0 and "10 bugs loaded" in r.stderr, "--init-db --force --bugs 10")

    # Bad command lines: status 2 and a word about it.
    for args in (["--port", "70000"], ["--sql", "fast"], ["--workers", "0"], ["--bogus"],
                 ["--force"], ["extra"]):
        r = subprocess.run([binary] + args, env=env, capture_output=True, text=True)
        check(r.returncode == 2 and r.stderr, f"bad command line {args}: status 2")
    r = subprocess.run([binary, "--help"], capture_output=True, text=True)
    check(r.returncode == 0 and "--init-db" in r.stdout, "--help")
    # A database that cannot be opened: a clear failure, not a hang.
    r = subprocess.run([binary, "--db", "mysql://cio:cio@127.0.0.1:1/none", "--port", "0"],
                       env=env, capture_output=True, text=True, timeout=120)
    check(r.returncode == 1 and "数据库连接池启动失败" in r.stderr,
          "an unreachable database stops the start")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("db", choices=["sqlite", "mariadb", "pg"])
    ap.add_argument("work")
    ap.add_argument("--sql", default="default")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    url = bt_db.create(a.db, "bt_e2e", a.work)
    if not url:
        print(f"skip: no {a.db} server")
        return 77
    bt_service.load(a.binary, url, fixture_files(a.db, a.work))
    run_golden(a.binary, a.db, url, a.work, a.sql)
    if a.db == "sqlite" and a.sql == "default":
        run_cli(a.binary, a.work)
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
