/* 19_blocking_client - a blocking database client made concurrent with
 * run_in_executor, beside the native async client.
 *
 * Ports seed 000's Milvus scenario: pymilvus has a blocking API, so the
 * tutorial wraps each search in run_in_executor to run several at once:
 *
 *   async def search(vec):
 *       loop = asyncio.get_running_loop()
 *       return await loop.run_in_executor(None, collection.search, vec, ...)
 *   results = await asyncio.gather(*(search(v) for v in vectors))
 *
 * Here the blocking client is libpq's blocking API (PQconnectdb + PQexec)
 * against a real PostgreSQL, each query taking 0.2 s on the server
 * (pg_sleep). Three ways, with a ticker task showing whether the loop
 * stays free:
 *   1. blocking calls straight from a task: they run one after the other
 *      and freeze every task (the tutorial's warning);
 *   2. the same calls through the executor: concurrent, on pool threads;
 *   3. cio's own PostgreSQL client: concurrent, no threads at all.
 * Then the cost side: 2,000 point queries each way, client CPU time per
 * query - an executor hop plus a blocking round trip, against a task
 * switch and pipelined round trips.
 *
 * The server: $CIO_PG_URL if set, else a private PostgreSQL this program
 * starts (and stops) with scripts/servers; skipped when none is installed.
 */
#include <cio.h>
#include <cio/exec.h>
#include <cio/sql.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "servers.h"

enum { N = 5 };

static double now(void) { return cio_loop_time(cio_loop_current()); }

static double cpu_seconds(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/* ---- the blocking client: what a synchronous SDK does ---- */

typedef struct blocking_job {
  const char *url;
  const char *sql;
  int repeat;
  int status;
} blocking_job;

/* A job (or a plain call): connect, run sql `repeat` times, close. Heap
 * argument: it may outlive a cancelled caller (docs/EXEC.md). */
static int blocking_query(void *arg) {
  blocking_job *j = arg;
  PGconn *c = PQconnectdb(j->url);
  if (PQstatus(c) != CONNECTION_OK) {
    fprintf(stderr, "blocking connect: %s", PQerrorMessage(c));
    PQfinish(c);
    return j->status = -ECONNREFUSED;
  }
  for (int i = 0; i < j->repeat; i++) {
    PGresult *r = PQexec(c, j->sql);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    if (!ok) {
      PQfinish(c);
      return j->status = -EIO;
    }
  }
  PQfinish(c);
  return j->status = 0;
}

static int ticks;
static int ticker(void *arg) {
  (void)arg;
  for (;;) {
    int r = cio_sleep(0.05);
    if (r < 0) return r;
    ticks++;
  }
}

static int via_executor(void *arg) {
  blocking_job *j = malloc(sizeof *j);
  if (!j) return -ENOMEM;
  *j = *(blocking_job *)arg;
  /* 0: the job ran, j is ours again; else the pool frees it when done. */
  int status, r = cio_run_in_executor_ex(NULL, blocking_query, j, free, &status);
  if (r < 0) return r;
  free(j);
  return status;
}

/* ---- the native client ---- */

typedef struct native_arg {
  cio_sql_pool *pool;
  const char *sql;
  int repeat;
} native_arg;

static int native_query(void *arg) {
  native_arg *a = arg;
  for (int i = 0; i < a->repeat; i++) {
    int r = cio_sql_pool_query(a->pool, a->sql, NULL, 0, NULL);
    if (r < 0) return r;
  }
  return 0;
}

/* Run fn(arg[i]) in n tasks at once, with the ticker going; seconds. */
static double gather(cio_task_fn fn, void *args, size_t size, int n, int *status) {
  cio_task *t[64];
  ticks = 0;
  cio_task *tick = cio_spawn(ticker, NULL);
  double t0 = now();
  for (int i = 0; i < n; i++) t[i] = cio_spawn(fn, (char *)args + (size_t)i * size);
  *status = cio_gather(t, (size_t)n, NULL, 0);
  double secs = now() - t0;
  for (int i = 0; i < n; i++) cio_task_release(t[i]);
  cio_task_cancel(tick);
  cio_await(tick);
  cio_task_release(tick);
  return secs;
}

static int run(const char *url) {
  const char *sleep_sql = "SELECT pg_sleep(0.2)";
  int r;

  /* 1. blocking calls in the task itself */
  ticks = 0;
  cio_task *tick = cio_spawn(ticker, NULL);
  cio_yield();
  double t0 = now();
  for (int i = 0; i < N; i++) {
    blocking_job j = {url, sleep_sql, 1, 0};
    if ((r = blocking_query(&j)) < 0) return r;
  }
  double secs = now() - t0;
  int frozen_ticks = ticks;
  cio_task_cancel(tick);
  cio_await(tick);
  cio_task_release(tick);
  printf("blocking queries in the task:  %.2f s for %d, ticker ticked %d times "
         "(loop frozen)\n",
         secs, N, frozen_ticks);

  /* 2. the same calls through the executor */
  blocking_job jobs[N];
  for (int i = 0; i < N; i++) jobs[i] = (blocking_job){url, sleep_sql, 1, 0};
  secs = gather(via_executor, jobs, sizeof jobs[0], N, &r);
  if (r < 0) return r;
  printf("blocking queries via executor: %.2f s for %d, ticker ticked %d times\n", secs, N, ticks);

  /* 3. the native async client */
  cio_sql_pool_opts o = {.min_size = N, .max_size = N};
  cio_sql_pool *pool;
  if ((r = cio_sql_pool_open(url, &o, &pool)) < 0) return r;
  native_arg na[N];
  for (int i = 0; i < N; i++) na[i] = (native_arg){pool, sleep_sql, 1};
  secs = gather(native_query, na, sizeof na[0], N, &r);
  if (r == 0)
    printf("cio's PostgreSQL client:       %.2f s for %d, ticker ticked %d "
           "times, no threads\n",
           secs, N, ticks);

  /* the cost of each way: 2,000 point queries from 8 tasks */
  enum { TASKS = 8, EACH = 250 };
  const char *point = "SELECT 1";
  blocking_job bj[TASKS];
  for (int i = 0; i < TASKS; i++) bj[i] = (blocking_job){url, point, EACH, 0};
  double c0 = cpu_seconds();
  double w = gather(via_executor, bj, sizeof bj[0], TASKS, &r);
  double cpu_exec = cpu_seconds() - c0;
  native_arg nb[TASKS];
  for (int i = 0; i < TASKS; i++) nb[i] = (native_arg){pool, point, EACH};
  c0 = cpu_seconds();
  double w2 = r == 0 ? gather(native_query, nb, sizeof nb[0], TASKS, &r) : 0;
  double cpu_native = cpu_seconds() - c0;
  if (r == 0) {
    printf("%d point queries, blocking client via executor: %.3f s, client CPU "
           "%.1f us/query\n",
           TASKS * EACH, w, cpu_exec * 1e6 / (TASKS * EACH));
    printf("%d point queries, cio's client:                 %.3f s, client CPU "
           "%.1f us/query\n",
           TASKS * EACH, w2, cpu_native * 1e6 / (TASKS * EACH));
  }
  cio_sql_pool_close(pool);
  cio_sql_pool_wait_closed(pool);
  cio_sql_pool_free(pool);
  return r;
}

static int main_task(void *arg) {
  (void)arg;
  example_server srv;
  if (example_server_open(&srv, "pg")) return 0;
  int r = run(srv.url);
  if (r < 0) fprintf(stderr, "error: %s: %s\n", cio_strerror(r), cio_sql_last_error()->message);
  example_server_close(&srv);
  return r;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0); /* in step with the server script's stderr */
  return cio_run(main_task, NULL) == 0 ? 0 : 1;
}
