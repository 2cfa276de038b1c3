/* test_pg.c - the SQL suite on a real PostgreSQL (scripts/servers), and
 * what only PostgreSQL's driver does: pipelining, cancel requests.
 * cio-test-labels: server */
#include "sql_suite.h"

/* Statements of many tasks on one connection share round trips. */
LOOP_TEST(test_pipelining) {
  cio_sql_pool *p = open_pool(1, 1);
  if (!p) return 0;
  cio_sql_conn *c;
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  /* a failing statement in the middle of a pipeline hurts nobody else */
  enum { N = 200 };
  static worker w[N];
  static cio_task *t[N];
  for (int i = 0; i < N; i++) {
    w[i] = (worker){.p = (cio_sql_pool *)c, .id = i};
    t[i] = cio_spawn(same_conn, &w[i]);
  }
  int r = cio_sql_query(c, "SELECT 1/0", NULL, 0, NULL);
  CHECK_EQ(r, -CIO_ESQL);
  CHECK_STR(cio_sql_last_error()->sqlstate, "22012");
  int failed = 0;
  for (int i = 0; i < N; i++) failed += join(t[i]) != 0;
  CHECK_EQ(failed, 0);
  /* a pipeline inside a transaction: the error aborts the transaction */
  CHECK_EQ(cio_sql_begin(c), 0);
  CHECK_EQ(cio_sql_query(c, "SELECT 1/0", NULL, 0, NULL), -CIO_ESQL);
  CHECK_EQ(cio_sql_query(c, "SELECT 1", NULL, 0, NULL), -CIO_ESQL);
  CHECK_STR(cio_sql_last_error()->sqlstate, "25P02");
  CHECK_EQ(cio_sql_rollback(c), 0);
  CHECK_EQ(scalar(c, "SELECT 9", NULL, 0), 9);
  cio_sql_release(c);
  close_pool(p);
  return 0;
}

/* A cancelled pg_sleep is stopped on the server by a cancel request: the
 * connection comes back clean long before the sleep would end. */
LOOP_TEST(test_cancel_request) {
  cio_sql_pool *p = open_pool(1, 1);
  if (!p) return 0;
  cio_sql_conn *c;
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  sleeper s = {.c = c};
  cio_task *t = cio_spawn(run_sleep, &s);
  suite_settle();
  cio_task_cancel(t);
  CHECK_EQ(join(t), -ECANCELED);
  double t0 = now_s();
  CHECK_EQ(scalar(c, "SELECT 11", NULL, 0), 11); /* waits behind the cancelled sleep */
  CHECK(now_s() - t0 < 25);                      /* not the 30 s sleep: the cancel request worked */
  cio_sql_release(c);
  cio_sql_pool_stats st;
  cio_sql_pool_stats_get(p, &st);
  CHECK_EQ(st.broken, 0);
  CHECK_EQ(st.opened, 1);
  close_pool(p);
  return 0;
}

/* cio_sql_pool_query from many tasks on a small pool: statements share
 * the busy connections (pipelined) instead of waiting for a free one. */
static int pool_query_worker(void *arg) {
  worker *w = arg;
  cio_sql_value a[] = {cio_sql_int(w->id)};
  cio_sql_result *res = NULL;
  int r = cio_sql_pool_query(w->p, "SELECT $1 + 100", a, 1, &res);
  int64_t v = 0;
  if (r == 0 && (cio_sql_get_int64(cio_sql_cell(res, 0, 0), &v) != 0 || v != w->id + 100)) r = -EIO;
  cio_sql_result_free(res);
  return w->r = r;
}

LOOP_TEST(test_pool_query_shares) {
  enum { N = 300 };
  cio_sql_pool *p = open_pool(1, 3);
  if (!p) return 0;
  static worker w[N];
  static cio_task *t[N];
  for (int i = 0; i < N; i++) {
    w[i] = (worker){.p = p, .id = i};
    t[i] = cio_spawn(pool_query_worker, &w[i]);
  }
  cio_yield();
  cio_task_cancel(t[100]); /* a cancelled one on a shared connection */
  int failed = 0;
  for (int i = 0; i < N; i++) {
    int r = join(t[i]);
    if (i != 100) failed += r != 0;
  }
  CHECK_EQ(failed, 0);
  cio_sql_pool_stats st;
  cio_sql_pool_stats_get(p, &st);
  CHECK(st.opened <= 3);
  CHECK_EQ(st.in_use, 0);
  CHECK(st.acquires < N); /* most statements joined a shared connection */
  close_pool(p);
  return 0;
}

/* Types as PostgreSQL names them. */
LOOP_TEST(test_pg_types) {
  cio_sql_pool *p = open_pool(1, 1);
  if (!p) return 0;
  cio_sql_conn *c;
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  cio_sql_result *res = NULL;
  CHECK_EQ(cio_sql_query(c,
                         "SELECT true, 1::int2, 2::int4, 3::int8, 1.5::float4, "
                         "12.50::numeric, "
                         "'2024-01-02'::date, '\\x00ff'::bytea, 'NaN'::float8, NULL::text",
                         NULL, 0, &res),
           0);
  const cio_sql_row *r = cio_sql_result_row(res, 0);
  int64_t i = 0;
  double d = 0;
  const char *s = NULL;
  size_t len = 0;
  CHECK_EQ(cio_sql_row_at(r, 0)->type, CIO_SQL_INT);
  CHECK_EQ(cio_sql_get_int64(cio_sql_row_at(r, 0), &i), 0);
  CHECK_EQ(i, 1);
  CHECK_EQ(cio_sql_get_int64(cio_sql_row_at(r, 3), &i), 0);
  CHECK_EQ(i, 3);
  CHECK_EQ(cio_sql_row_at(r, 4)->type, CIO_SQL_FLOAT);
  CHECK_EQ(cio_sql_row_at(r, 5)->type, CIO_SQL_TEXT);
  CHECK_EQ(cio_sql_get_double(cio_sql_row_at(r, 5), &d), 0);
  CHECK(d == 12.5);
  CHECK_EQ(cio_sql_get_int64(cio_sql_row_at(r, 5), &i), -EINVAL);
  CHECK_EQ(cio_sql_get_text(cio_sql_row_at(r, 6), &s, &len), 0);
  CHECK_STR(s, "2024-01-02");
  CHECK_EQ(cio_sql_row_at(r, 7)->type, CIO_SQL_BLOB);
  CHECK_EQ(cio_sql_row_at(r, 7)->len, 2);
  CHECK_EQ(cio_sql_get_double(cio_sql_row_at(r, 8), &d), 0);
  CHECK(d != d);
  CHECK_EQ(cio_sql_is_null(cio_sql_row_at(r, 9)), 1);
  cio_sql_result_free(res);
  /* a text parameter is typed by the server from its context */
  cio_sql_value a[] = {cio_sql_text("2024-03-04"), cio_sql_text("41")};
  CHECK_EQ(scalar(c, "SELECT EXTRACT(day FROM $1::date)::int + $2::int", a, 2), 45);
  cio_sql_value z[] = {cio_sql_textn("a\0b", 3)};
  CHECK_EQ(cio_sql_query(c, "SELECT $1", z, 1, NULL), -EINVAL);
  /* the statement cache is bounded: evicted statements are deallocated */
  char sql[64];
  for (int k = 0; k < 300; k++) {
    snprintf(sql, sizeof sql, "SELECT %d + $1", k);
    cio_sql_value v[] = {cio_sql_int(1)};
    CHECK_EQ(scalar(c, sql, v, 1), k + 1);
  }
  CHECK(scalar(c, "SELECT COUNT(*) FROM pg_prepared_statements", NULL, 0) <= 257);
  cio_sql_release(c);
  close_pool(p);
  return 0;
}

int main(void) {
  db.name = "postgresql";
  if (suite_server_url("CIO_TEST_PG_URL", "pg", db.url, sizeof db.url) < 0) {
    printf("SKIP: no PostgreSQL: set CIO_TEST_PG_URL or start one with "
           "scripts/servers start pg\n");
    return SUITE_SKIP;
  }
  db.create = "(id BIGINT PRIMARY KEY, txt TEXT, num DOUBLE PRECISION, bin BYTEA)";
  db.sleep_sql = "SELECT pg_sleep(30)";
  db.backend_sql = "SELECT pg_backend_pid()";
  db.kill_sql = "SELECT pg_terminate_backend($1::int)";
  db.server = true;
  db.pipelines = true;
  db.syntax_state = "42601";
  db.dup_state = "23505";
  static char bad[600];
  /* the same URL with a wrong password */
  const char *at = strchr(db.url, '@');
  snprintf(bad, sizeof bad, "postgresql://cio:wrong%s", at ? at : "@127.0.0.1/x");
  db.bad_login_url = bad;
  suite_run();
  RUN(test_pipelining);
  RUN(test_cancel_request);
  RUN(test_pg_types);
  RUN(test_pool_query_shares);
  return test_report();
}
