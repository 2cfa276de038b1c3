/* init.c - --init-db: the tables replaced and filled on one connection. */
#include "demo.h"
#include "fixture.h"
#include "load.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int fill(bt_load *l, const bt_init_opts *o, char *err, size_t cap) {
  if (o->nfiles == 0) {
    int r =
        bt_demo_load(l, o->nbugs > 0 ? o->nbugs : BT_DEMO_BUGS, o->seed ? o->seed : BT_DEMO_SEED);
    if (r < 0) snprintf(err, cap, "loading the demo dataset: %s", cio_sql_last_error()->message);
    return r;
  }
  for (size_t i = 0; i < o->nfiles; i++) {
    err[0] = '\0';
    int r = bt_fixture_load(l, o->files[i], err, cap);
    if (r < 0) {
      if (!err[0]) snprintf(err, cap, "%s: %s", o->files[i], cio_sql_last_error()->message);
      return r;
    }
  }
  return 0;
}

int bt_init_db(cio_sql_pool *pool, const bt_init_opts *o, char *err, size_t cap) {
  int db = bt_db_of(pool);
  if (db < 0) {
    snprintf(err, cap, "unsupported database %s", cio_sql_pool_driver(pool));
    return db;
  }
  cio_sql_conn *c;
  int r = cio_sql_acquire(pool, &c);
  if (r < 0) {
    snprintf(err, cap, "connecting: %s", cio_sql_last_error()->message);
    return r;
  }
  bt_load *l = NULL;
  r = bt_load_begin(c, (bt_db)db, &l);
  if (r < 0) snprintf(err, cap, "creating the tables: %s", cio_sql_last_error()->message);
  if (r == 0) r = fill(l, o, err, cap);
  if (r == 0 && (r = bt_load_end(l)) < 0)
    snprintf(err, cap, "committing: %s", cio_sql_last_error()->message);
  bt_load_free(l);
  cio_sql_release(c);
  return r;
}

long long bt_count_bugs(cio_sql_pool *pool) {
  cio_sql_result *res;
  int r = cio_sql_pool_query(pool, "SELECT COUNT(*) FROM mantis_bug_table", NULL, 0, &res);
  if (r == -CIO_ESQL) {
    /* 1146 (MariaDB), 42P01 (PostgreSQL), "no such table" (SQLite). */
    const cio_sql_error *e = cio_sql_last_error();
    if (e->errnum == 1146 || strcmp(e->sqlstate, "42P01") == 0 ||
        strstr(e->message, "no such table"))
      return -ENOENT;
  }
  if (r < 0) return r;
  int64_t n = 0;
  r = cio_sql_get_int64(cio_sql_cell(res, 0, 0), &n);
  cio_sql_result_free(res);
  return r < 0 ? r : (long long)n;
}
