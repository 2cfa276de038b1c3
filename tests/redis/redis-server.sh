#!/bin/sh
# Start or stop the private redis-server the redis tests talk to.
#
#   redis-server.sh start DIR    start one on 127.0.0.1, a free port, data in
#                                DIR (nothing saved: no RDB, no AOF); write its
#                                port to DIR/port, its unix socket is DIR/sock
#   redis-server.sh stop DIR     stop it and remove DIR
#
# Without redis-server installed, start only says so: the tests then skip
# (they look for DIR/port). CTest runs this as the fixture of the redis
# tests (tests/redis/tests.cmake); bench/db/run_redis uses it too, with
# CIO_REDIS_SERVER_PREFIX (e.g. "taskset -c 0") put before the server's
# command line.
set -eu
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

stop() {
  if [ -f "$dir/pid" ]; then
    pid=$(cat "$dir/pid")
    kill "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

case "$cmd" in
  stop) stop; exit 0 ;;
  start) ;;
  *) echo "$0: unknown command $cmd" >&2; exit 2 ;;
esac

stop
mkdir -p "$dir"
if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis-server not installed: the redis tests that need it will be skipped"
  exit 0
fi

# A port from the dynamic range nobody listens on; retried if taken meanwhile.
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  port=$(( 20000 + ($$ * 7 + attempt * 7919 + $(date +%N | sed 's/^0*//;s/^$/0/') ) % 40000 ))
  ${CIO_REDIS_SERVER_PREFIX:-} redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
    --unixsocket "$dir/sock" --unixsocketperm 700 --protected-mode no \
    --enable-debug-command yes --logfile "$dir/log" --daemonize no \
    --maxclients 4000 >/dev/null 2>&1 &
  pid=$!
  echo $pid >"$dir/pid"
  i=0
  while [ $i -lt 100 ]; do
    if ! kill -0 $pid 2>/dev/null; then break; fi
    if [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; then
      echo "$port" >"$dir/port"
      echo "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on 127.0.0.1:$port (pid $pid, $dir)"
      exit 0
    fi
    sleep 0.05
    i=$((i + 1))
  done
  kill -9 $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
done
echo "could not start redis-server; its log:" >&2
cat "$dir/log" >&2 || true
exit 1
