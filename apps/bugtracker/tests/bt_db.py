"""Databases for the bug-tracker's Python tests: the servers the ctest
fixture started (scripts/servers writes their URLs under $CIO_SERVERS_DIR;
CIO_TEST_PG_URL / CIO_TEST_MYSQL_URL override), a database of the test's
own on each, or an SQLite file."""
import os
import subprocess
import urllib.parse

import reference


def server_url(name):
    """"pg" / "mariadb": the URL, or None."""
    env = os.environ.get("CIO_TEST_PG_URL" if name == "pg" else "CIO_TEST_MYSQL_URL")
    if env:
        return env
    d = os.environ.get("CIO_SERVERS_DIR")
    if not d:
        return None
    try:
        return open(os.path.join(d, name, "url")).read().strip() or None
    except OSError:
        return None


def create(kind, db, work):
    """The URL of database db: "sqlite" (a fresh file in work), "mariadb" or
    "pg" (created on the server if needed). None when there is no server."""
    if kind == "sqlite":
        path = os.path.join(os.path.abspath(work), db + ".sqlite")
        if os.path.exists(path):
            os.remove(path)
        return "sqlite://" + path
    base = server_url(kind)
    if not base:
        return None
    if kind == "mariadb":
        import pymysql
        p = reference.mysql_params(base)
        p.pop("db")
        conn = pymysql.connect(autocommit=True, **p)
        conn.cursor().execute(f"CREATE DATABASE IF NOT EXISTS {db} "
                              "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        conn.close()
    else:
        u = urllib.parse.urlsplit(base)
        env = dict(os.environ, PGPASSWORD=urllib.parse.unquote(u.password or ""))
        args = ["psql", "-h", u.hostname, "-p", str(u.port or 5432), "-U",
                urllib.parse.unquote(u.username or "postgres"), "-d", u.path.lstrip("/"),
                "-Atqc"]
        have = subprocess.run(args + [f"SELECT 1 FROM pg_database WHERE datname = '{db}'"],
                              env=env, capture_output=True, text=True, check=True)
        if "1" not in have.stdout:
            subprocess.run(args + [f"CREATE DATABASE {db}"], env=env, check=True,
                           capture_output=True)
    return reference.with_db(base, db)
