/* bugtracker: cio-bugtracker against the Python original (FastAPI +
 * uvicorn + aiomysql) on the same MariaDB and rows, under wrk; requests/s,
 * latency, the service's CPU time per request and the database's apart,
 * with the seed's query and the default one. See bench/README.md,
 * "bugtracker", and bench/bugtracker/driver.py, which does the work: this
 * program runs it with the service built beside it.
 */
#include "bench.h"

#include <limits.h>

int main(void) {
  char cmd[PATH_MAX * 3];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/bugtracker/driver.py' '%s'", CIO_BENCH_SRC_DIR,
           CIO_BUGTRACKER);
  int r = system(cmd);
  return r == 0 ? 0 : 1;
}
