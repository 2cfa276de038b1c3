# bench/db/common.sh - shared by the run_* scripts (sourced, not run).
# Sets: here root build secs pin[] py servers; CIO_SERVERS_DIR exported.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${CIO_BENCH_BUILD:-$root/build/bench}
export CIO_SERVERS_DIR=${CIO_SERVERS_DIR:-$build/servers}
secs=${CIO_BENCH_DB_SECONDS:-3}
# shellcheck disable=SC2206 # a command prefix, word-split on purpose
pin=(${CIO_BENCH_PIN:-})
py=/usr/bin/python3
[ -x $py ] || py=$(command -v python3)
servers=$root/scripts/servers
# The client is pinned (bench/run: CIO_BENCH_CPU, default core 1); the
# server is left to the scheduler unless CIO_BENCH_SERVER_CPU names a core.
# Pinned to one core of this shared 2-core machine, MariaDB's 64 threads
# made every client's point_64 figure swing by 4x (bench/README.md).
server_cpu=${CIO_BENCH_SERVER_CPU:-none}
started=()

# start_server NAME: start it unless running; remembered to stop at exit.
start_server() {
  if "$servers" status "$1" | grep -q ': running'; then return 0; fi
  "$servers" start "$1" >&2 || return 1
  "$servers" url "$1" >/dev/null 2>&1 || return 1
  started+=("$1")
}

stop_started() {
  local n
  for n in "${started[@]}"; do "$servers" stop "$n" >&2; done
}
trap stop_started EXIT

# pin_pid PID: move a server's process (and its threads) to server_cpu.
pin_pid() {
  [ "$server_cpu" != none ] || return 0
  command -v taskset >/dev/null 2>&1 || return 0
  taskset -apc "$server_cpu" "$1" >/dev/null 2>&1 || true
}
