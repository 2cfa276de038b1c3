/* mysql_api.c - MariaDB Connector/C's two ways to not block, measured.
 *
 *   db_mysql_api URL [N [hook|cont]]
 *
 * The same point lookup (text protocol, SELECT abalance FROM
 * pgbench_accounts WHERE aid = <n>) N times (default 20000) from one task,
 * both ways driven by cio_wait_fd:
 *   hook   the plain API with MARIADB_OPT_IO_WAIT: the connector calls our
 *          hook when a socket would block; the hook suspends the task
 *   cont   the non-blocking API (mysql_real_query_start/_cont, ...): the
 *          connector runs the call on a coroutine stack of its own, returns
 *          MYSQL_WAIT_READ/WRITE, and the task waits and continues it
 * Prints the client CPU time per query and q/s for each, as JSON lines
 * (bench "db_mysql_api"). docs/DB.md uses the figures. */
#include <cio.h>
#include <cio/io.h>

#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double cpu_now(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char host[64], user[32] = "cio", pw[32] = "cio", dbname[32] = "cio";
static unsigned port = 3306;
static int n = 20000;
static const char *only; /* "hook" or "cont": just that one, once */

static int hook(my_socket fd, my_bool is_read, int timeout) {
  (void)timeout;
  return cio_wait_fd(fd, is_read ? CIO_READABLE : CIO_WRITABLE) > 0;
}

/* The non-blocking API: wait for what the connector asks, then continue. */
static int wait_status(MYSQL *m, int status) {
  int ev = (status & MYSQL_WAIT_READ ? CIO_READABLE : 0) |
           (status & MYSQL_WAIT_WRITE ? CIO_WRITABLE : 0);
  int r = cio_wait_fd(mysql_get_socket(m), ev ? ev : CIO_READABLE);
  if (r < 0) return 0;
  return (r & CIO_READABLE ? MYSQL_WAIT_READ : 0) | (r & CIO_WRITABLE ? MYSQL_WAIT_WRITE : 0);
}

static void emit(const char *impl, int count, double wall, double cpu) {
  printf("{\"bench\": \"db_mysql_api\", \"impl\": \"%s\", \"db\": \"mysql\", "
         "\"metric\": "
         "\"cpu_us_point_1\", \"value\": %.2f, \"unit\": \"us\", \"n\": %d}\n",
         impl, cpu * 1e6 / count, count);
  printf("{\"bench\": \"db_mysql_api\", \"impl\": \"%s\", \"db\": \"mysql\", "
         "\"metric\": "
         "\"qps_point_1\", \"value\": %.0f, \"unit\": \"q/s\", \"n\": %d}\n",
         impl, count / wall, count);
  fflush(stdout);
}

static int run_hook(void) {
  MYSQL *m = mysql_init(NULL);
  mysql_optionsv(m, MARIADB_OPT_IO_WAIT, (void *)hook);
  if (!mysql_real_connect(m, host, user, pw, dbname, port, NULL, 0)) {
    fprintf(stderr, "hook connect: %s\n", mysql_error(m));
    return -1;
  }
  unsigned seed = 1;
  double c0 = cpu_now(), w0 = wall_now();
  for (int i = 0; i < n; i++) {
    char q[96];
    int len = snprintf(q, sizeof q, "SELECT abalance FROM pgbench_accounts WHERE aid = %d",
                       1 + rand_r(&seed) % 100000);
    if (mysql_real_query(m, q, (unsigned long)len)) return -1;
    MYSQL_RES *res = mysql_store_result(m);
    if (!res || !mysql_fetch_row(res)) return -1;
    mysql_free_result(res);
  }
  emit("plain+io_wait hook", n, wall_now() - w0, cpu_now() - c0);
  cio_fd_forget(mysql_get_socket(m)); /* the next connection may reuse the number */
  mysql_close(m);
  return 0;
}

static int run_cont(void) {
  MYSQL *m = mysql_init(NULL), *ret;
  mysql_options(m, MYSQL_OPT_NONBLOCK, 0);
  int st = mysql_real_connect_start(&ret, m, host, user, pw, dbname, port, NULL, 0);
  while (st) st = mysql_real_connect_cont(&ret, m, wait_status(m, st));
  if (!ret) {
    fprintf(stderr, "cont connect: %s\n", mysql_error(m));
    return -1;
  }
  unsigned seed = 1;
  double c0 = cpu_now(), w0 = wall_now();
  for (int i = 0; i < n; i++) {
    char q[96];
    int len = snprintf(q, sizeof q, "SELECT abalance FROM pgbench_accounts WHERE aid = %d",
                       1 + rand_r(&seed) % 100000);
    int err;
    st = mysql_real_query_start(&err, m, q, (unsigned long)len);
    while (st) st = mysql_real_query_cont(&err, m, wait_status(m, st));
    if (err) return -1;
    MYSQL_RES *res;
    st = mysql_store_result_start(&res, m);
    while (st) st = mysql_store_result_cont(&res, m, wait_status(m, st));
    if (!res || !mysql_fetch_row(res)) return -1;
    mysql_free_result(res);
  }
  emit("nonblocking start/cont", n, wall_now() - w0, cpu_now() - c0);
  cio_fd_forget(mysql_get_socket(m));
  mysql_close(m);
  return 0;
}

static int main_task(void *arg) {
  (void)arg;
  if (only) return !strcmp(only, "hook") ? run_hook() : run_cont();
  /* both twice, interleaved: the machine is shared */
  for (int round = 0; round < 2; round++)
    if (run_hook() < 0 || run_cont() < 0) return -1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2 || sscanf(argv[1], "mysql://%31[^:]:%31[^@]@%63[^:]:%u/%31s", user, pw, host, &port,
                         dbname) != 5) {
    fprintf(stderr, "usage: %s mysql://user:pw@host:port/db [N]\n", argv[0]);
    return 2;
  }
  if (argc > 2) n = atoi(argv[2]);
  if (argc > 3) only = argv[3];
  return cio_run(main_task, NULL) == 0 ? 0 : 1;
}
