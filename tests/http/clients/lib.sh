# lib.sh - shared by the real-client tests: start and stop cio-http-demo on a
# free port of 127.0.0.1, skip when a client is missing, fail with a reason.
#
#   . "$(dirname "$0")/lib.sh"
#   need curl                   # exit 77 (CTest: skipped) if absent
#   start_demo [ARGS...]        # sets PORT and DEMO_PID; logs in $WORK/demo.err
#   ...; check "what" test ...  # fails the script with "what" when test fails
#   stop_demo                   # SIGTERM, waits, checks the exit status
#
# DEMO is the path of cio-http-demo (CTest passes it as $1). Everything
# runs under `timeout` so a hang fails instead of blocking CI.
set -u
DEMO=${DEMO:-$1}
shift || true
WORK=$(mktemp -d /tmp/cio-http-client-test.XXXXXX)
DEMO_PID=
PORT=
failures=0

cleanup() {
  if [ -n "$DEMO_PID" ] && kill -0 "$DEMO_PID" 2>/dev/null; then
    kill -KILL "$DEMO_PID" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

need() {
  for c in "$@"; do
    if ! command -v "$c" >/dev/null 2>&1; then
      echo "SKIP: $c is not installed (scripts/deps installs it)"
      exit 77
    fi
  done
}

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# check WHAT COMMAND...: run a test command, report.
check() {
  local what=$1
  shift
  if "$@"; then
    echo "ok   $what"
  else
    fail "$what"
  fi
}

# start_demo [ARGS...]: cio-http-demo on a free port; waits for "port N".
# Its log goes to $DEMO_LOG (default $WORK/demo.err).
start_demo() {
  DEMO_LOG=${DEMO_LOG:-$WORK/demo.err}
  : >"$WORK/demo.out"
  # --foreground: SIGTERM goes to the demo once (timeout would also signal
  # its process group, a second SIGTERM that may land after the demo has
  # restored the default action on its way out)
  timeout --foreground 300 "$DEMO" --port 0 "$@" >"$WORK/demo.out" 2>"$DEMO_LOG" &
  DEMO_PID=$!
  for _ in $(seq 1 100); do
    PORT=$(sed -n 's/^port //p' "$WORK/demo.out")
    [ -n "$PORT" ] && return 0
    kill -0 "$DEMO_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "FAIL: cio-http-demo did not start"
  cat "$DEMO_LOG"
  exit 1
}

# stop_demo: SIGTERM; the demo must shut down gracefully and exit 0.
stop_demo() {
  kill -TERM "$DEMO_PID"
  local rc=0
  wait "$DEMO_PID" || rc=$?
  DEMO_PID=
  check "demo exits 0 on SIGTERM (exit $rc)" [ "$rc" = 0 ]
  check "demo logs its shutdown" grep -q "Shutting down" "${DEMO_LOG:-$WORK/demo.err}"
}

finish() {
  if [ "$failures" -gt 0 ]; then
    echo "--- demo log:"
    tail -n 30 "${DEMO_LOG:-$WORK/demo.err}" 2>/dev/null
    echo "$failures check(s) failed"
    exit 1
  fi
  echo "all checks passed"
  exit 0
}
