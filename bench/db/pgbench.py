#!/usr/bin/env python3
"""The limit on PostgreSQL: pgbench -S -M prepared, the same point lookup
(SELECT abalance FROM pgbench_accounts WHERE aid = :aid) from C with
libpq, as JSON lines like db_cio's (impl "pgbench").

    pgbench.py PGBENCH PORT SECONDS

point_1: one client; point_64: 64 clients on one thread (-j 1, like one
event loop); batch_64: one client sending 64 lookups per pipeline
(\\startpipeline ... \\endpipeline: one Sync), the counterpart of
cio_sql_query_batch.
CPU is pgbench's own (user + system, RUSAGE_CHILDREN), connection set-up
included; q/s is pgbench's tps without connection time."""
import json
import os
import re
import resource
import shlex
import subprocess
import sys
import tempfile

pgbench, port, seconds = sys.argv[1], sys.argv[2], sys.argv[3]
pin = shlex.split(os.environ.get("CIO_BENCH_PIN", ""))
env = dict(os.environ, PGPASSWORD="cio")


def run(name, clients, script=None, per_tx=1):
    # 64 clients take seconds to log in on a busy machine: give them time
    duration = int(float(seconds)) + (3 if clients > 1 else 0)
    args = [pgbench, "-n", "-M", "prepared", "-T", str(duration), "-c", str(clients),
            "-j", "1", "-h", "127.0.0.1", "-p", port, "-U", "cio"]
    args += ["-f", script] if script else ["-S"]
    args.append("cio")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(pin + args, env=env, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    m = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out.stdout)
    n = re.search(r"number of transactions actually processed: (\d+)", out.stdout)
    if out.returncode != 0 or not m or not n:
        sys.stderr.write(out.stdout + out.stderr)
        return False
    queries = int(n.group(1)) * per_tx
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    for metric, value, unit in ((f"qps_{name}", round(float(m.group(1)) * per_tx), "q/s"),
                                (f"cpu_us_{name}", round(cpu * 1e6 / queries, 2), "us")):
        print(json.dumps({"bench": "db", "impl": "pgbench", "db": "postgresql", "metric": metric,
                          "value": value, "unit": unit, "n": queries}), flush=True)
    return True


ok = run("point_1", 1) and run("point_64", 64)
with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
    f.write("\\set aid random(1, 100000)\n\\startpipeline\n")
    f.write("SELECT abalance FROM pgbench_accounts WHERE aid = :aid;\n" * 64)
    f.write("\\endpipeline\n")
try:
    ok = run("batch_64", 1, f.name, 64) and ok
finally:
    os.unlink(f.name)
sys.exit(0 if ok else 1)
