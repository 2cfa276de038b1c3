/* test_mysql.c - the SQL suite on a real MariaDB (scripts/servers), and
 * what only MariaDB's driver does: ? placeholders, utf8mb4, insert ids.
 * cio-test-labels: server */
#include "sql_suite.h"

/* Native ? placeholders, $N inside strings, comments and identifiers. */
LOOP_TEST(test_mysql_placeholders) {
  cio_sql_pool *p = open_pool(1, 1);
  if (!p) return 0;
  cio_sql_conn *c;
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  cio_sql_value a[] = {cio_sql_int(6), cio_sql_int(7)};
  CHECK_EQ(scalar(c, "SELECT ? * 10 + ?", a, 2), 67);
  CHECK_EQ(scalar(c, "SELECT $2 /* $1 */ + 0 -- $1\n + $1 * 0", a, 2), 7);
  CHECK_EQ(scalar(c, "SELECT CHAR_LENGTH('it''s $1 \\' $2') + $1", a, 1), 18);
  CHECK_EQ(scalar(c, "SELECT `a$1` FROM (SELECT $1 AS `a$1`) t", a, 1), 6);
  CHECK_EQ(cio_sql_query(c, "SELECT $3", a, 2, NULL), -EINVAL);
  CHECK_EQ(cio_sql_query(c, "SELECT ?, ?", a, 1, NULL), -EINVAL);
  cio_sql_release(c);
  close_pool(p);
  return 0;
}

/* Exact text in utf8mb4, NULL apart from '', ids, unsigned 64-bit. */
LOOP_TEST(test_mysql_types) {
  cio_sql_pool *p = open_pool(1, 1);
  if (!p) return 0;
  cio_sql_conn *c;
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  CHECK_EQ(cio_sql_exec(c, "DROP TABLE IF EXISTS cio_my_t; "
                           "CREATE TABLE cio_my_t (id INT AUTO_INCREMENT PRIMARY KEY, "
                           "t LONGTEXT, d DECIMAL(10,2), ts DATETIME, u BIGINT UNSIGNED, "
                           "vb VARBINARY(10)) CHARACTER SET utf8mb4"),
           0);
  cio_sql_value a[] = {cio_sql_text(UTF), cio_sql_text("12.5"), cio_sql_text("2024-01-02 03:04:05"),
                       cio_sql_int(1), cio_sql_blob("\0\1", 2)};
  cio_sql_result *res = NULL;
  CHECK_EQ(cio_sql_query(c, "INSERT INTO cio_my_t (t, d, ts, u, vb) VALUES ($1, $2, $3, $4, $5)", a,
                         5, &res),
           0);
  CHECK_EQ(cio_sql_result_insert_id(res), 1);
  CHECK_EQ(cio_sql_result_affected(res), 1);
  cio_sql_result_free(res);
  CHECK_EQ(cio_sql_exec(c, "INSERT INTO cio_my_t (t, u) VALUES ('', 18446744073709551615)"), 0);
  /* both protocols: the text one (no parameters) and the binary one */
  const char *sqls[] = {"SELECT t, d, ts, u, vb FROM cio_my_t ORDER BY id",
                        "SELECT t, d, ts, u, vb FROM cio_my_t WHERE id > $1 ORDER BY id"};
  cio_sql_value zero[] = {cio_sql_int(0)};
  for (int k = 0; k < 2; k++) {
    CHECK_EQ(cio_sql_query(c, sqls[k], zero, (size_t)k, &res), 0);
    CHECK_EQ(cio_sql_result_nrows(res), 2);
    const cio_sql_row *r = cio_sql_result_row(res, 0);
    const char *s = NULL;
    size_t len = 0;
    double d = 0;
    CHECK_EQ(cio_sql_get_text(cio_sql_row_get(r, "t"), &s, &len), 0);
    CHECK_EQ(len, strlen(UTF));
    CHECK(s && memcmp(s, UTF, len) == 0);
    CHECK_EQ(cio_sql_get_double(cio_sql_row_get(r, "d"), &d), 0);
    CHECK(d == 12.5);
    CHECK_EQ(cio_sql_get_text(cio_sql_row_get(r, "ts"), &s, &len), 0);
    CHECK_STR(s, "2024-01-02 03:04:05");
    CHECK_EQ(cio_sql_row_get(r, "vb")->type, CIO_SQL_BLOB);
    CHECK_EQ(cio_sql_row_get(r, "vb")->len, 2);
    r = cio_sql_result_row(res, 1);
    CHECK_EQ(cio_sql_get_text(cio_sql_row_get(r, "t"), &s, &len), 0);
    CHECK_EQ(len, 0);
    CHECK_EQ(cio_sql_is_null(cio_sql_row_get(r, "d")), 1);
    CHECK_EQ(cio_sql_get_text(cio_sql_row_get(r, "u"), &s, &len), 0);
    CHECK_STR(s, "18446744073709551615");
    cio_sql_result_free(res);
  }
  /* a long text through the binary protocol */
  static char big[200000];
  memset(big, 'x', sizeof big - 1);
  cio_sql_value b[] = {cio_sql_text(big)};
  CHECK_EQ(scalar(c, "SELECT CHAR_LENGTH($1)", b, 1), (int64_t)sizeof big - 1);
  CHECK_EQ(cio_sql_exec(c, "DROP TABLE cio_my_t"), 0);
  cio_sql_release(c);
  close_pool(p);
  return 0;
}

/* The server's error after some rows were sent (a subquery that returns
 * two rows at the third row): -CIO_ESQL with the server's words, on both
 * protocols, and the pool's next statement works (the connection, whose
 * result stream Connector/C no longer tracks, is dropped, not reused). */
LOOP_TEST(test_mysql_midresult_error) {
  cio_sql_pool *p = open_pool(1, 1);
  if (!p) return 0;
  const char *sqls[] = {"SELECT IF(x = 3, (SELECT 1 UNION SELECT 2), x) FROM "
                        "(SELECT 1 x UNION ALL SELECT 2 UNION ALL SELECT 3) t",
                        "SELECT IF(x = 3, (SELECT 1 UNION SELECT 2), x + $1) FROM "
                        "(SELECT 1 x UNION ALL SELECT 2 UNION ALL SELECT 3) t"};
  cio_sql_value zero[] = {cio_sql_int(0)};
  for (int k = 0; k < 2; k++) {
    cio_sql_result *res = NULL;
    CHECK_EQ(cio_sql_pool_query(p, sqls[k], zero, (size_t)k, &res), -CIO_ESQL);
    CHECK(res == NULL);
    CHECK(strstr(cio_sql_last_error()->message, "more than 1 row") != NULL);
    for (int i = 0; i < 3; i++) {
      CHECK_EQ(cio_sql_pool_query(p, "SELECT 41 + $1", (cio_sql_value[]){cio_sql_int(1)}, 1, &res),
               0);
      int64_t v = 0;
      CHECK_EQ(cio_sql_get_int64(cio_sql_cell(res, 0, 0), &v), 0);
      CHECK_EQ(v, 42);
      cio_sql_result_free(res);
    }
  }
  close_pool(p);
  return 0;
}

int main(void) {
  db.name = "mysql";
  if (suite_server_url("CIO_TEST_MYSQL_URL", "mariadb", db.url, sizeof db.url) < 0) {
    printf("SKIP: no MariaDB: set CIO_TEST_MYSQL_URL or start one with "
           "scripts/servers start mariadb\n");
    return SUITE_SKIP;
  }
  db.create = "(id BIGINT PRIMARY KEY, txt TEXT, num DOUBLE, bin BLOB) "
              "CHARACTER SET utf8mb4";
  db.sleep_sql = "SELECT SLEEP(30)";
  db.backend_sql = "SELECT CONNECTION_ID()";
  db.kill_sql = "KILL $1";
  db.server = true;
  db.cancel_breaks = true;
  db.syntax_state = "42000";
  db.dup_state = "23000";
  static char bad[600];
  const char *at = strchr(db.url, '@');
  snprintf(bad, sizeof bad, "mysql://cio:wrong%s", at ? at : "@127.0.0.1/x");
  db.bad_login_url = bad;
  suite_run();
  RUN(test_mysql_placeholders);
  RUN(test_mysql_types);
  RUN(test_mysql_midresult_error);
  return test_report();
}
