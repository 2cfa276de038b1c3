/* test_sqlite.c - the SQL suite on SQLite (a file and :memory:), and what
 * only SQLite has: threads per connection, WAL, busy timeouts, modes.
 * cio-test-labels: threads */
#include "sql_suite.h"

#include <sys/stat.h>

static char dir[256];

/* Two connections of one file pool see each other's commits (WAL). */
LOOP_TEST(test_file_wal) {
  cio_sql_pool *p = open_pool(2, 2);
  if (!p) return 0;
  cio_sql_conn *a, *b;
  CHECK_EQ(cio_sql_acquire(p, &a), 0);
  CHECK_EQ(cio_sql_acquire(p, &b), 0);
  cio_sql_result *res = NULL;
  CHECK_EQ(cio_sql_query(a, "PRAGMA journal_mode", NULL, 0, &res), 0);
  const char *s = NULL;
  CHECK_EQ(cio_sql_get_text(cio_sql_cell(res, 0, 0), &s, NULL), 0);
  CHECK_STR(s, "wal");
  cio_sql_result_free(res);
  fresh_table(a);
  /* a reader is not blocked by an open write transaction */
  CHECK_EQ(cio_sql_begin(a), 0);
  CHECK_EQ(insert_row(a, 1, "x"), 0);
  CHECK_EQ(count_rows(b), 0);
  CHECK_EQ(cio_sql_commit(a), 0);
  CHECK_EQ(count_rows(b), 1);
  /* a second writer waits for the busy timeout, then gives up with words */
  CHECK_EQ(cio_sql_begin(a), 0);
  CHECK_EQ(insert_row(a, 2, "y"), 0);
  CHECK_EQ(cio_sql_exec(b, "BEGIN IMMEDIATE"), -CIO_ESQL);
  CHECK(strstr(cio_sql_last_error()->message, "locked") != NULL);
  CHECK_EQ(cio_sql_rollback(a), 0);
  CHECK_EQ(insert_row(a, 1, "dup"), -CIO_ESQL);
  CHECK_EQ(cio_sql_last_error()->errnum, 1555); /* SQLITE_CONSTRAINT_PRIMARYKEY */
  /* insert ids */
  char sql[128];
  snprintf(sql, sizeof sql, "INSERT INTO %s (txt) VALUES ($1)", T);
  cio_sql_value v[] = {cio_sql_text("auto")};
  CHECK_EQ(cio_sql_query(a, sql, v, 1, &res), 0);
  CHECK_EQ(cio_sql_result_insert_id(res), 2);
  cio_sql_result_free(res);
  cio_sql_release(a);
  cio_sql_release(b);
  close_pool(p);
  return 0;
}

LOOP_TEST(test_modes) {
  char url[700];
  cio_sql_pool *p = NULL;
  snprintf(url, sizeof url, "sqlite://%s/missing.db?mode=rw", dir);
  CHECK_EQ(cio_sql_pool_open(url, NULL, &p), -ENOENT);
  CHECK(strstr(cio_sql_last_error()->message, "missing.db") != NULL);
  snprintf(url, sizeof url, "sqlite://%s/x.db?mode=bogus", dir);
  CHECK_EQ(cio_sql_pool_open(url, NULL, &p), -EINVAL);
  snprintf(url, sizeof url, "sqlite://%s/x.db?busy_timeout=abc", dir);
  CHECK_EQ(cio_sql_pool_open(url, NULL, &p), -EINVAL);
  /* read-only: writes fail, reads work */
  snprintf(url, sizeof url, "%s?mode=ro", db.url);
  CHECK_EQ(cio_sql_pool_open(url, NULL, &p), 0);
  CHECK_EQ(cio_sql_pool_query(p, "CREATE TABLE ro_t (x)", NULL, 0, NULL), -CIO_ESQL);
  cio_sql_result *res = NULL;
  CHECK_EQ(cio_sql_pool_query(p, "SELECT 1", NULL, 0, &res), 0);
  cio_sql_result_free(res);
  close_pool(p);
  /* :memory: is one connection whatever max_size says */
  cio_sql_pool_opts o = {.max_size = 8};
  CHECK_EQ(cio_sql_pool_open("sqlite::memory:", &o, &p), 0);
  cio_sql_conn *c;
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  CHECK_EQ(cio_sql_exec(c, "CREATE TABLE m (x); INSERT INTO m VALUES (1)"), 0);
  cio_sql_release(c);
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  CHECK_EQ(scalar(c, "SELECT COUNT(*) FROM m", NULL, 0), 1);
  cio_sql_release(c);
  cio_sql_pool_stats st;
  cio_sql_pool_stats_get(p, &st);
  CHECK_EQ(st.opened, 1);
  close_pool(p);
  /* SQLite's own parameter styles */
  CHECK_EQ(cio_sql_pool_open("sqlite::memory:", NULL, &p), 0);
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  cio_sql_value a[] = {cio_sql_int(4), cio_sql_int(5)};
  CHECK_EQ(scalar(c, "SELECT ? * 10 + ?", a, 2), 45);
  CHECK_EQ(scalar(c, "SELECT ?2 * 10 + ?1", a, 2), 54);
  CHECK_EQ(scalar(c, "SELECT :a * 10 + :b", a, 2), 45);
  CHECK_EQ(cio_sql_query(c, "SELECT 1; SELECT 2", NULL, 0, NULL), -EINVAL);
  cio_sql_release(c);
  close_pool(p);
  return 0;
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/cio-test-sqlite-%d", (int)getpid());
  mkdir(dir, 0700);
  db.name = "sqlite";
  snprintf(db.url, sizeof db.url, "sqlite://%s/suite.db", dir);
  db.create = "(id INTEGER PRIMARY KEY, txt TEXT, num REAL, bin BLOB)";
  /* endless: only an interrupt stops it */
  db.sleep_sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                 "SELECT COUNT(*) FROM c";
  db.syntax_state = "";
  db.dup_state = "";
  suite_run();
  RUN(test_file_wal);
  RUN(test_modes);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return test_report();
}
