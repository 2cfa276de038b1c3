#!/usr/bin/env bash
# Load from real benchmark clients, bounded in time, asserting only
# correctness (no timing): wrk (keep-alive, 50 and 256 connections) and
# h2load --h1 (plain and pipelined, -m 10), against one and two workers.
# Every request must get a 2xx and no socket error may happen.
. "$(dirname "$0")/lib.sh"
need wrk h2load

wrk_clean() { # wrk_clean CONNS PATH: no errors, no non-2xx
  local out=$WORK/wrk.txt
  timeout 60 wrk -t1 -c"$1" -d2s "http://127.0.0.1:$PORT$2" >"$out" 2>&1
  local reqs
  reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$out")
  [ -n "$reqs" ] && [ "$reqs" -gt 0 ] && ! grep -q "Socket errors" "$out" &&
    ! grep -q "Non-2xx" "$out" || { cat "$out"; return 1; }
}

h2load_clean() { # h2load_clean ARGS...: every request 2xx
  local out=$WORK/h2load.txt
  timeout 60 h2load --h1 "$@" >"$out" 2>&1
  local n
  n=$(sed -n 's/^requests: \([0-9]*\) total.*/\1/p' "$out")
  grep -q "status codes: $n 2xx, 0 3xx, 0 4xx, 0 5xx" "$out" &&
    grep -q "requests: $n total, $n started, $n done, $n succeeded, 0 failed, 0 errored" "$out" ||
    { cat "$out"; return 1; }
}

for workers in 1 2; do
  start_demo --workers "$workers"
  check "wrk -c50 / ($workers worker(s))" wrk_clean 50 /
  check "wrk -c256 /json ($workers worker(s))" wrk_clean 256 /json
  check "h2load --h1 -n 20000 -c 20" h2load_clean -n 20000 -c 20 "http://127.0.0.1:$PORT/json"
  check "h2load --h1 pipelined -m 10" h2load_clean -n 20000 -c 10 -m 10 "http://127.0.0.1:$PORT/"
  check "h2load --h1 POST bodies" h2load_clean -n 2000 -c 10 -d "$0" "http://127.0.0.1:$PORT/echo"
  stop_demo
done
finish
