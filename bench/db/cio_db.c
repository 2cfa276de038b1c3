/* cio_db.c - point lookups by primary key through cio's sql layer.
 *
 *   db_cio URL LABEL [SECONDS [MODE]]
 *
 * The table is pgbench's: pgbench_accounts(aid INT PRIMARY KEY, abalance
 * INT, ...), 100,000 rows (bench/db/run_* create it; for a sqlite: URL this
 * program creates it when missing). Each mode runs SECONDS (default 3) and
 * prints two JSON lines: queries per second and the client process's CPU
 * time per query (getrusage: user + system, every thread - SQLite's
 * connection threads included):
 *   point_1       one task, a pool of one connection
 *   point_64      64 tasks, a pool of 64 connections (pgbench -c 64)
 *   pipelined_64  64 tasks sharing one connection (PostgreSQL pipelines
 *                 their statements; the others run them one at a time)
 *   batch_64      one task sending batches of 64 lookups
 *                 (cio_sql_query_batch: one round trip and one Sync per
 *                 batch on PostgreSQL, like pgx's SendBatch and pgbench's
 *                 \startpipeline)
 * For SQLite it also measures the limit without cio: one thread calling
 * sqlite3 directly with a prepared statement (impl "sqlite3-direct"). */
#include <cio.h>
#include <cio/sql.h>

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define ROWS 100000
static const char *QUERY = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";

static const char *url, *label;
static double seconds = 3;

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

static void emit(const char *impl, const char *mode, double queries, double wall, double cpu) {
  printf("{\"bench\": \"db\", \"impl\": \"%s\", \"db\": \"%s\", \"metric\": "
         "\"qps_%s\", "
         "\"value\": %.0f, \"unit\": \"q/s\", \"n\": %.0f}\n",
         impl, label, mode, queries / wall, queries);
  printf("{\"bench\": \"db\", \"impl\": \"%s\", \"db\": \"%s\", \"metric\": "
         "\"cpu_us_%s\", "
         "\"value\": %.2f, \"unit\": \"us\", \"n\": %.0f}\n",
         impl, label, mode, cpu * 1e6 / queries, queries);
  fflush(stdout);
}

typedef struct worker {
  cio_sql_pool *pool;
  cio_sql_conn *shared; /* pipelined: one connection for all */
  double until;
  unsigned seed;
  long done;
  int status;
} worker;

static int lookups(void *arg) {
  worker *w = arg;
  while (wall_now() < w->until) {
    for (int k = 0; k < 16; k++) { /* read the clock every 16 queries */
      cio_sql_value a[] = {cio_sql_int(1 + (int64_t)(rand_r(&w->seed) % ROWS))};
      cio_sql_result *res = NULL;
      int r = w->shared ? cio_sql_query(w->shared, QUERY, a, 1, &res)
                        : cio_sql_pool_query(w->pool, QUERY, a, 1, &res);
      int64_t v;
      if (r == 0 && cio_sql_get_int64(cio_sql_cell(res, 0, 0), &v) != 0) r = -EIO;
      cio_sql_result_free(res);
      if (r < 0) {
        fprintf(stderr, "query: %s: %s\n", cio_strerror(r), cio_sql_last_error()->message);
        return w->status = r;
      }
      w->done++;
    }
  }
  return 0;
}

/* One task, batches of 64 lookups on one connection. */
static int batches(void *arg) {
  worker *w = arg;
  enum { B = 64 };
  cio_sql_batch_item items[B];
  cio_sql_value args[B];
  cio_sql_result *res[B];
  while (wall_now() < w->until) {
    for (int i = 0; i < B; i++) {
      args[i] = cio_sql_int(1 + (int64_t)(rand_r(&w->seed) % ROWS));
      items[i] = (cio_sql_batch_item){QUERY, &args[i], 1};
    }
    int r = cio_sql_query_batch(w->shared, items, B, res);
    for (int i = 0; i < B && r == 0; i++) {
      int64_t v;
      if (cio_sql_get_int64(cio_sql_cell(res[i], 0, 0), &v) != 0) r = -EIO;
    }
    for (int i = 0; r == 0 && i < B; i++) cio_sql_result_free(res[i]);
    if (r < 0) {
      fprintf(stderr, "batch: %s: %s\n", cio_strerror(r), cio_sql_last_error()->message);
      return w->status = r;
    }
    w->done += B;
  }
  return 0;
}

static int run_mode(const char *mode, int tasks, int conns, bool shared) {
  cio_sql_pool_opts o = {.min_size = conns, .max_size = conns};
  cio_sql_pool *pool;
  int r = cio_sql_pool_open(url, &o, &pool);
  if (r < 0) {
    fprintf(stderr, "%s: %s: %s\n", url, cio_strerror(r), cio_sql_last_error()->message);
    return r;
  }
  cio_sql_conn *c = NULL;
  if (shared && (r = cio_sql_acquire(pool, &c)) < 0) return r;
  worker *w = calloc((size_t)tasks, sizeof *w);
  cio_task **t = calloc((size_t)tasks, sizeof *t);
  /* warm up: every connection prepares the statement */
  double warm = wall_now() + 0.3;
  for (int pass = 0; pass < 2 && r == 0; pass++) {
    double until = pass ? wall_now() + seconds : warm;
    for (int i = 0; i < tasks; i++) {
      w[i] = (worker){pool, c, until, (unsigned)(i * 7919 + 1), 0, 0};
      t[i] = cio_spawn(strcmp(mode, "batch_64") ? lookups : batches, &w[i]);
    }
    double c0 = cpu_now(), w0 = wall_now();
    r = cio_gather(t, (size_t)tasks, NULL, 0);
    double wall = wall_now() - w0, cpu = cpu_now() - c0;
    long total = 0;
    for (int i = 0; i < tasks; i++) {
      total += w[i].done;
      cio_task_release(t[i]);
    }
    if (pass && r == 0) emit("cio", mode, (double)total, wall, cpu);
  }
  free(w);
  free(t);
  cio_sql_release(c);
  cio_sql_pool_close(pool);
  cio_sql_pool_wait_closed(pool);
  cio_sql_pool_free(pool);
  return r;
}

/* For sqlite: create the table when missing. */
static int ensure_sqlite_table(void) {
  cio_sql_pool *pool;
  int r = cio_sql_pool_open(url, NULL, &pool);
  if (r < 0) return r;
  cio_sql_result *res = NULL;
  r = cio_sql_pool_query(pool, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'pgbench_accounts'",
                         NULL, 0, &res);
  int64_t n = 0;
  if (r == 0) cio_sql_get_int64(cio_sql_cell(res, 0, 0), &n);
  cio_sql_result_free(res);
  if (r == 0 && n == 0) {
    cio_sql_conn *c;
    if ((r = cio_sql_acquire(pool, &c)) == 0) {
      r = cio_sql_exec(c, "CREATE TABLE pgbench_accounts (aid INTEGER PRIMARY KEY, bid INT, "
                          "abalance INT, filler CHAR(84));"
                          "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s "
                          "WHERE x < 100000) INSERT INTO pgbench_accounts "
                          "SELECT x, 1, x % 1000, '' FROM s;");
      cio_sql_release(c);
    }
  }
  cio_sql_pool_close(pool);
  cio_sql_pool_wait_closed(pool);
  cio_sql_pool_free(pool);
  return r;
}

/* The limit for SQLite: the same statement in a plain loop, no threads. */
static void sqlite_direct(const char *path) {
  sqlite3 *db;
  sqlite3_stmt *st;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) return;
  if (sqlite3_prepare_v2(db, "SELECT abalance FROM pgbench_accounts WHERE aid = ?", -1, &st,
                         NULL)) {
    sqlite3_close(db);
    return;
  }
  unsigned seed = 1;
  long n = 0;
  double c0 = cpu_now(), w0 = wall_now(), end = w0 + seconds;
  while (wall_now() < end) {
    for (int k = 0; k < 64; k++, n++) {
      sqlite3_bind_int64(st, 1, 1 + rand_r(&seed) % ROWS);
      while (sqlite3_step(st) == SQLITE_ROW) (void)sqlite3_column_int64(st, 0);
      sqlite3_reset(st);
    }
  }
  emit("sqlite3-direct", "point_1", (double)n, wall_now() - w0, cpu_now() - c0);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

static const char *only; /* run one mode (4th argument) */

static bool want(const char *mode) { return !only || !strcmp(only, mode); }

static int main_task(void *arg) {
  (void)arg;
  int r = 0;
  if (!strncmp(url, "sqlite:", 7) && (r = ensure_sqlite_table()) < 0) {
    fprintf(stderr, "%s: %s\n", url, cio_sql_last_error()->message);
    return r;
  }
  if (want("point_1") && (r = run_mode("point_1", 1, 1, false)) < 0) return r;
  if (want("point_64") &&
      (r = run_mode("point_64", 64, strncmp(url, "sqlite:", 7) ? 64 : 2, false)) < 0)
    return r;
  if (want("pipelined_64") && (r = run_mode("pipelined_64", 64, 1, true)) < 0) return r;
  if (want("batch_64")) r = run_mode("batch_64", 1, 1, true);
  return r;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s URL LABEL [SECONDS]\n", argv[0]);
    return 2;
  }
  url = argv[1];
  label = argv[2];
  if (argc > 3) seconds = atof(argv[3]);
  if (argc > 4) only = argv[4];
  int r = cio_run(main_task, NULL);
  if (r == 0 && !strncmp(url, "sqlite://", 9)) sqlite_direct(url + 9);
  return r < 0;
}
