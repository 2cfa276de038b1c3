"""The Python original (apps/bugtracker/reference: the seed's FastAPI app) as
a process the tests and the benchmark start and stop, and a loader that puts
fixture rows into MariaDB with PyMySQL - independently of cio-bugtracker's
own loader, so that the recording does not depend on the code under test."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
APP = os.path.dirname(HERE)
REFERENCE = os.path.join(APP, "reference")
SCHEMA_MYSQL = os.path.join(APP, "sql", "schema_mysql.sql")
# Debian's interpreter: the one python3-fastapi & co. are installed for (a
# python3 earlier in PATH, e.g. pyenv's, would not have them).
PYTHON = os.environ.get("CIO_PYTHON") or (
    "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable)


def mysql_params(url):
    u = urllib.parse.urlsplit(url)
    return {"host": u.hostname or "127.0.0.1", "port": u.port or 3306,
            "user": urllib.parse.unquote(u.username or "root"),
            "password": urllib.parse.unquote(u.password or ""),
            "db": u.path.lstrip("/")}


def with_db(url, db):
    u = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + db, u.query, ""))


def value(v):
    if isinstance(v, dict):
        if "hex" in v:
            return bytes.fromhex(v["hex"])
        return v["repeat"] * v["times"]
    return v


def load_mysql(url, files):
    """Create the database of url if needed, the MantisBT schema, and the
    rows of the fixture files."""
    import pymysql
    p = mysql_params(url)
    db = p.pop("db")
    conn = pymysql.connect(charset="utf8mb4", autocommit=True, **p)
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS `{db}` "
                        "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            cur.execute(f"USE `{db}`")
            sql = open(SCHEMA_MYSQL, encoding="utf-8").read()
            for stmt in split_sql(sql):
                cur.execute(stmt)
            for path in files:
                tables = json.load(open(path, encoding="utf-8"))
                for table, rows in tables.items():
                    if not rows:
                        continue
                    cols = sorted({k for r in rows for k in r})
                    q = (f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
                         f"({', '.join(['%s'] * len(cols))})")
                    cur.executemany(q, [[value(r.get(c)) for c in cols]
                                        for r in rows])
    finally:
        conn.close()


def split_sql(sql):
    """Statements of a schema file: comments dropped, split at ';' ending
    a line."""
    lines = [ln for ln in sql.splitlines() if not ln.lstrip().startswith("--")]
    out, cur = [], []
    for ln in lines:
        cur.append(ln)
        if ln.rstrip().endswith(";"):
            out.append("\n".join(cur).rstrip().rstrip(";"))
            cur = []
    return [s for s in out if s.strip()]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


class Reference:
    """uvicorn demo:app in workdir (which gets a copy of static_dir as
    "static", as the seed expects), on MariaDB url, port chosen free."""

    def __init__(self, url, static_dir, workdir, log_path, port=None,
                 verbatim=False, workers=None):
        self.port = port or free_port()
        os.makedirs(workdir, exist_ok=True)
        static = os.path.join(workdir, "static")
        if os.path.abspath(static_dir) != os.path.abspath(static):
            shutil.rmtree(static, ignore_errors=True)
            shutil.copytree(static_dir, static, copy_function=shutil.copy2)
        p = mysql_params(url)
        env = dict(os.environ, BUGTRACKER_DB_HOST=p["host"],
                   BUGTRACKER_DB_PORT=str(p["port"]),
                   BUGTRACKER_DB_USER=p["user"],
                   BUGTRACKER_DB_PASSWORD=p["password"],
                   BUGTRACKER_DB_NAME=p["db"], NO_COLOR="1")
        if verbatim:
            env["CIO_REFERENCE_VERBATIM"] = "1"
        cmd = [PYTHON, "-m", "uvicorn", "--app-dir", REFERENCE, "demo:app",
               "--host", "127.0.0.1", "--port", str(self.port)]
        if workers:
            cmd += ["--workers", str(workers)]
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=workdir, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_port(self.port, self.proc)

    def stop(self):
        """SIGINT (uvicorn's graceful shutdown: the lifespan closes the
        pool), then wait."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode
