/* sql_suite.h - the behaviour every SQL driver must show, run by
 * test_pg.c, test_mysql.c and test_sqlite.c against a real database.
 *
 * A driver's test fills `db` (its URL and the few statements whose
 * spelling differs) and calls suite_run(). URLs of servers come from
 * CIO_TEST_PG_URL / CIO_TEST_MYSQL_URL, or from the files scripts/servers
 * writes under $CIO_SERVERS_DIR; with neither, the test exits with 77
 * (skipped) and says why. */
#ifndef CIO_SQL_SUITE_H
#define CIO_SQL_SUITE_H

#include "test.h"
#include "test_loop.h"

#include <cio/io.h>
#include <cio/sql.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct suite_db {
  const char *name;
  char url[512];
  const char *create;        /* "(id ..., txt ..., num ..., bin ...)" */
  const char *sleep_sql;     /* runs until interrupted (or for ~30 s) */
  const char *backend_sql;   /* the server's id for this connection */
  const char *kill_sql;      /* kill backend $1 (NULL: no server) */
  bool server;               /* a server process (not SQLite) */
  bool cancel_breaks;        /* a cancelled statement drops the connection */
  bool pipelines;            /* several tasks on one connection are pipelined */
  const char *syntax_state;  /* SQLSTATE of a syntax error ("" if none) */
  const char *dup_state;     /* SQLSTATE of a duplicate key */
  const char *bad_login_url; /* same server, wrong password (NULL: none) */
} suite_db;

static suite_db db;
static const char *const T = "cio_suite_t";

#define SUITE_SKIP 77

/* Timing checks here are one-sided and wide: an upper bound only tells
 * "returned instead of hanging" (far below the 30 s statement or the 10 s
 * default connect timeout a hang would take), a lower bound that a timeout
 * did not fire early. The machine may be loaded or under Valgrind. */

/* The URL for a server, or NULL: env var, else $CIO_SERVERS_DIR/<name>/url. */
static TEST_UNUSED int suite_server_url(const char *env, const char *name, char *out, size_t cap) {
  const char *u = getenv(env);
  if (u && *u) {
    snprintf(out, cap, "%s", u);
    return 0;
  }
  const char *dir = getenv("CIO_SERVERS_DIR");
  if (!dir) return -1;
  char path[1024];
  snprintf(path, sizeof path, "%s/%s/url", dir, name);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  int ok = fgets(out, (int)cap, f) != NULL;
  fclose(f);
  if (!ok) return -1;
  out[strcspn(out, "\r\n")] = '\0';
  return 0;
}

/* ---------------------------------------------------------------- helpers */

static cio_sql_pool *open_pool(int min, int max) {
  cio_sql_pool_opts o = {.min_size = min, .max_size = max, .connect_timeout = 10};
  cio_sql_pool *p = NULL;
  int r = cio_sql_pool_open(db.url, &o, &p);
  if (r < 0)
    fprintf(stderr, "pool_open(%s): %s: %s\n", db.url, cio_strerror(r),
            cio_sql_last_error()->message);
  CHECK_EQ(r, 0);
  return p;
}

static void close_pool(cio_sql_pool *p) {
  if (!p) return;
  CHECK_EQ(cio_sql_pool_close(p), 0);
  CHECK_EQ(cio_sql_pool_wait_closed(p), 0);
  cio_sql_pool_stats st;
  cio_sql_pool_stats_get(p, &st);
  CHECK_EQ(st.size, 0);
  cio_sql_pool_free(p);
}

static int q0(cio_sql_conn *c, const char *sql) {
  int r = cio_sql_query(c, sql, NULL, 0, NULL);
  if (r < 0)
    fprintf(stderr, "query '%s': %s: %s\n", sql, cio_strerror(r), cio_sql_last_error()->message);
  return r;
}

/* The single integer a statement returns. */
static int64_t scalar(cio_sql_conn *c, const char *sql, const cio_sql_value *args, size_t n) {
  cio_sql_result *res = NULL;
  int64_t v = -1;
  int r = cio_sql_query(c, sql, args, n, &res);
  if (r < 0)
    fprintf(stderr, "query '%s': %s: %s\n", sql, cio_strerror(r), cio_sql_last_error()->message);
  CHECK_EQ(r, 0);
  CHECK_EQ(cio_sql_get_int64(cio_sql_cell(res, 0, 0), &v), 0);
  cio_sql_result_free(res);
  return v;
}

static void fresh_table(cio_sql_conn *c) {
  char sql[512];
  snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", T);
  CHECK_EQ(q0(c, sql), 0);
  snprintf(sql, sizeof sql, "CREATE TABLE %s %s", T, db.create);
  CHECK_EQ(q0(c, sql), 0);
}

static int64_t count_rows(cio_sql_conn *c) {
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", T);
  return scalar(c, sql, NULL, 0);
}

static int insert_row(cio_sql_conn *c, int64_t id, const char *txt) {
  char sql[160];
  snprintf(sql, sizeof sql, "INSERT INTO %s (id, txt) VALUES ($1, $2)", T);
  cio_sql_value a[] = {cio_sql_int(id), cio_sql_text(txt)};
  return cio_sql_query(c, sql, a, 2, NULL);
}

/* ---------------------------------------------------------------- values */

/* Text that must come back byte for byte: CJK, a 4-byte emoji, quotes. */
static const char UTF[] = "问题原因分析：空指针。\xF0\x9F\x98\x80 'q' \"dq\" \\ $1 ?";

LOOP_TEST(test_values) {
  cio_sql_pool *p = open_pool(1, 2);
  if (!p) return 0;
  cio_sql_conn *c;
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  fresh_table(c);
  char sql[256];
  snprintf(sql, sizeof sql, "INSERT INTO %s (id, txt, num, bin) VALUES ($1, $2, $3, $4)", T);
  static const unsigned char bin[] = {0, 1, 2, 0xff, 0, 'x'};
  cio_sql_value a[] = {cio_sql_int(1), cio_sql_text(UTF), cio_sql_float(2.5),
                       cio_sql_blob(bin, sizeof bin)};
  cio_sql_result *res = NULL;
  CHECK_EQ(cio_sql_query(c, sql, a, 4, &res), 0);
  CHECK_EQ(cio_sql_result_affected(res), 1);
  CHECK_EQ(cio_sql_result_nrows(res), 0);
  cio_sql_result_free(res);
  /* empty string and NULL are different things */
  cio_sql_value b[] = {cio_sql_int(2), cio_sql_text(""), cio_sql_null(), cio_sql_blob("", 0)};
  CHECK_EQ(cio_sql_query(c, sql, b, 4, NULL), 0);
  cio_sql_value n[] = {cio_sql_int(3), cio_sql_null(), cio_sql_float(-1e300), cio_sql_null()};
  CHECK_EQ(cio_sql_query(c, sql, n, 4, NULL), 0);

  snprintf(sql, sizeof sql, "SELECT id, txt, num, bin FROM %s ORDER BY id", T);
  CHECK_EQ(cio_sql_query(c, sql, NULL, 0, &res), 0);
  CHECK_EQ(cio_sql_result_nrows(res), 3);
  CHECK_EQ(cio_sql_result_ncols(res), 4);
  CHECK_STR(cio_sql_result_colname(res, 1), "txt");
  CHECK_EQ(cio_sql_result_colindex(res, "num"), 2);
  CHECK_EQ(cio_sql_result_colindex(res, "nope"), -ENOENT);
  const cio_sql_row *row = cio_sql_result_row(res, 0);
  int64_t id = 0;
  const char *s = NULL;
  size_t len = 0;
  double d = 0;
  const void *bp = NULL;
  CHECK_EQ(cio_sql_get_int64(cio_sql_row_get(row, "id"), &id), 0);
  CHECK_EQ(id, 1);
  CHECK_EQ(cio_sql_row_get(row, "id")->type, CIO_SQL_INT);
  CHECK_EQ(cio_sql_get_text(cio_sql_row_get(row, "txt"), &s, &len), 0);
  CHECK_EQ(len, strlen(UTF));
  CHECK(s && memcmp(s, UTF, len) == 0 && s[len] == '\0');
  CHECK_EQ(cio_sql_row_get(row, "txt")->type, CIO_SQL_TEXT);
  CHECK_EQ(cio_sql_get_double(cio_sql_row_get(row, "num"), &d), 0);
  CHECK(d == 2.5);
  CHECK_EQ(cio_sql_get_blob(cio_sql_row_at(row, 3), &bp, &len), 0);
  CHECK_EQ(len, sizeof bin);
  CHECK(bp && memcmp(bp, bin, sizeof bin) == 0);
  CHECK_EQ(cio_sql_row_at(row, 3)->type, CIO_SQL_BLOB);
  CHECK(cio_sql_row_at(row, 4) == NULL);
  CHECK(cio_sql_row_get(row, "missing") == NULL);
  CHECK_EQ(cio_sql_get_int64(cio_sql_row_get(row, "missing"), &id), -ENOENT);
  CHECK_EQ(cio_sql_get_int64(cio_sql_row_get(row, "txt"), &id), -EINVAL);

  row = cio_sql_result_row(res, 1);
  CHECK_EQ(cio_sql_is_null(cio_sql_row_get(row, "txt")), 0);
  CHECK_EQ(cio_sql_get_text(cio_sql_row_get(row, "txt"), &s, &len), 0);
  CHECK_EQ(len, 0);
  CHECK_STR(s, "");
  CHECK_EQ(cio_sql_is_null(cio_sql_row_get(row, "num")), 1);
  CHECK_EQ(cio_sql_get_double(cio_sql_row_get(row, "num"), &d), -ENODATA);
  CHECK_EQ(cio_sql_get_blob(cio_sql_row_get(row, "bin"), &bp, &len), 0);
  CHECK_EQ(len, 0);

  row = cio_sql_result_row(res, 2);
  CHECK_EQ(cio_sql_is_null(cio_sql_row_get(row, "txt")), 1);
  CHECK_EQ(cio_sql_get_text(cio_sql_row_get(row, "txt"), &s, &len), -ENODATA);
  CHECK_EQ(cio_sql_get_double(cio_sql_row_get(row, "num"), &d), 0);
  CHECK(d == -1e300);
  CHECK(cio_sql_result_row(res, 3) == NULL);
  CHECK_EQ(cio_sql_row_result(row) == res, 1);
  cio_sql_result_free(res);

  /* integers at the edges, and a float in full precision */
  cio_sql_value e[] = {cio_sql_int(INT64_MIN), cio_sql_int(INT64_MAX), cio_sql_float(0.1)};
  CHECK_EQ(cio_sql_query(c, "SELECT $1, $2, $3", e, 3, &res), 0);
  CHECK_EQ(cio_sql_get_int64(cio_sql_cell(res, 0, 0), &id), 0);
  CHECK(id == INT64_MIN);
  CHECK_EQ(cio_sql_get_int64(cio_sql_cell(res, 0, 1), &id), 0);
  CHECK(id == INT64_MAX);
  CHECK_EQ(cio_sql_get_double(cio_sql_cell(res, 0, 2), &d), 0);
  CHECK(d == 0.1);
  cio_sql_result_free(res);
  cio_sql_release(c);
  close_pool(p);
  return 0;
}

/* $N in any order and repeated; placeholders inside literals stay text. */
LOOP_TEST(test_placeholders) {
  cio_sql_pool *p = open_pool(1, 1);
  if (!p) return 0;
  cio_sql_conn *c;
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  cio_sql_value a[] = {cio_sql_int(10), cio_sql_int(3)};
  CHECK_EQ(scalar(c, "SELECT $2 * 100 + $1 - $2", a, 2), 307);
  cio_sql_result *res = NULL;
  CHECK_EQ(cio_sql_query(c, "SELECT '$1 ?', $1", a, 1, &res), 0);
  const char *s = NULL;
  size_t len;
  CHECK_EQ(cio_sql_get_text(cio_sql_cell(res, 0, 0), &s, &len), 0);
  CHECK_STR(s, "$1 ?");
  cio_sql_result_free(res);
  /* too few arguments: an error, not a crash */
  int r = cio_sql_query(c, "SELECT $1 + $2", a, 1, NULL);
  CHECK(r == -EINVAL || r == -CIO_ESQL);
  CHECK(strlen(cio_sql_last_error()->message) > 0);
  cio_sql_release(c);
  close_pool(p);
  return 0;
}

/* ---------------------------------------------------------------- errors */

LOOP_TEST(test_sql_errors) {
  cio_sql_pool *p = open_pool(1, 1);
  if (!p) return 0;
  cio_sql_conn *c;
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  fresh_table(c);
  cio_sql_result *res = (cio_sql_result *)&res;
  int r = cio_sql_query(c, "SELEKT 1", NULL, 0, &res);
  CHECK_EQ(r, -CIO_ESQL);
  CHECK(res == NULL);
  const cio_sql_error *e = cio_sql_last_error();
  CHECK_EQ(e->code, -CIO_ESQL);
  CHECK_STR(e->sqlstate, db.syntax_state);
  CHECK_STR(e->driver, db.name);
  CHECK(strlen(e->message) > 5);
  r = cio_sql_query(c, "SELECT * FROM no_such_table_here", NULL, 0, NULL);
  CHECK_EQ(r, -CIO_ESQL);
  CHECK(strstr(cio_sql_last_error()->message, "no_such_table_here") != NULL);
  CHECK_EQ(insert_row(c, 1, "a"), 0);
  CHECK_EQ(insert_row(c, 1, "b"), -CIO_ESQL);
  CHECK_STR(cio_sql_last_error()->sqlstate, db.dup_state);
  /* the connection is fine after errors */
  CHECK_EQ(count_rows(c), 1);
  CHECK_EQ(cio_sql_conn_broken(c), 0);
  /* a script of several statements */
  char sql[512];
  snprintf(sql, sizeof sql,
           "INSERT INTO %s (id, txt) VALUES (2, 'x'); INSERT INTO %s (id, txt) "
           "VALUES (3, 'y');",
           T, T);
  CHECK_EQ(cio_sql_exec(c, sql), 0);
  CHECK_EQ(count_rows(c), 3);
  CHECK_EQ(cio_sql_exec(c, "SELEKT 2"), -CIO_ESQL);
  /* prepare reports errors early and then serves queries */
  CHECK_EQ(cio_sql_prepare(c, "SELECT * FROM no_such_table_here"), -CIO_ESQL);
  snprintf(sql, sizeof sql, "SELECT txt FROM %s WHERE id = $1", T);
  CHECK_EQ(cio_sql_prepare(c, sql), 0);
  cio_sql_value a[] = {cio_sql_int(3)};
  CHECK_EQ(cio_sql_query(c, sql, a, 1, &res), 0);
  const char *s = NULL;
  CHECK_EQ(cio_sql_get_text(cio_sql_cell(res, 0, 0), &s, NULL), 0);
  CHECK_STR(s, "y");
  cio_sql_result_free(res);
  /* bad arguments */
  CHECK_EQ(cio_sql_query(c, NULL, NULL, 0, NULL), -EINVAL);
  CHECK_EQ(cio_sql_query(c, "SELECT 1", NULL, 1, NULL), -EINVAL);
  cio_sql_release(c);
  close_pool(p);
  return 0;
}

LOOP_TEST(test_bad_urls) {
  cio_sql_pool *p = (cio_sql_pool *)&p;
  CHECK_EQ(cio_sql_pool_open("nosuch://x", NULL, &p), -EPROTONOSUPPORT);
  CHECK(p == NULL);
  CHECK(strstr(cio_sql_last_error()->message, "nosuch") != NULL);
  CHECK_EQ(cio_sql_pool_open("postgresql://h:99999/x", NULL, &p), -EINVAL);
  CHECK_EQ(cio_sql_pool_open("mysql://h:%zz/x", NULL, &p), -EINVAL);
  CHECK_EQ(cio_sql_pool_open("no scheme", NULL, &p), -EINVAL);
  cio_sql_pool_opts o = {.min_size = 5, .max_size = 2};
  CHECK_EQ(cio_sql_pool_open(db.url, &o, &p), -EINVAL);
  if (db.bad_login_url) {
    CHECK_EQ(cio_sql_pool_open(db.bad_login_url, NULL, &p), -EACCES);
    CHECK(strlen(cio_sql_last_error()->message) > 0);
    CHECK(p == NULL);
  }
  return 0;
}

/* A server that is down: refused at once, with words. */
LOOP_TEST(test_server_down) {
  if (!db.server) return 0;
  /* a port nobody listens on: bind one, learn it, close it */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  CHECK_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  CHECK_EQ(getsockname(fd, (struct sockaddr *)&a, &al), 0);
  close(fd);
  char url[256];
  snprintf(url, sizeof url, "%s://u:p@127.0.0.1:%d/x",
           strcmp(db.name, "mysql") ? "postgresql" : "mysql", ntohs(a.sin_port));
  cio_sql_pool *p = NULL;
  double t0 = now_s();
  int r = cio_sql_pool_open(url, NULL, &p);
  CHECK_EQ(r, -ECONNREFUSED);
  if (r != -ECONNREFUSED) fprintf(stderr, "server down: %s\n", cio_sql_last_error()->message);
  CHECK(now_s() - t0 < 9); /* refused, not the 10 s connect timeout */
  CHECK(strlen(cio_sql_last_error()->message) > 0);
  CHECK(p == NULL);
  /* a name that does not resolve */
  snprintf(url, sizeof url, "%s://u:p@no-such-host.invalid:5432/x",
           strcmp(db.name, "mysql") ? "postgresql" : "mysql");
  CHECK_EQ(cio_sql_pool_open(url, NULL, &p), -CIO_ENONAME);
  return 0;
}

/* A server that accepts TCP but never speaks: the connect timeout ends it. */
LOOP_TEST(test_server_mute) {
  if (!db.server) return 0;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  CHECK_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  CHECK_EQ(listen(fd, 16), 0);
  CHECK_EQ(getsockname(fd, (struct sockaddr *)&a, &al), 0);
  char url[256];
  snprintf(url, sizeof url, "%s://u:p@127.0.0.1:%d/x",
           strcmp(db.name, "mysql") ? "postgresql" : "mysql", ntohs(a.sin_port));
  cio_sql_pool_opts o = {.connect_timeout = 0.3};
  cio_sql_pool *p = NULL;
  double t0 = now_s();
  CHECK_EQ(cio_sql_pool_open(url, &o, &p), -ETIMEDOUT);
  double took = now_s() - t0;
  CHECK(took >= 0.25 && took < 15); /* the 0.3 s timeout, not a hang */
  CHECK(strstr(cio_sql_last_error()->message, "timed out") != NULL);
  /* and an enclosing scope works the same */
  cio_timeout_scope s;
  cio_timeout_begin(&s, 0.2);
  CHECK_EQ(cio_sql_pool_open(url, NULL, &p), -ETIMEDOUT);
  cio_timeout_end(&s);
  close(fd);
  return 0;
}

/* Cancelling pool_open while it connects, and wait_closed while it waits:
 * both return at once and leave nothing behind. */
typedef struct opener {
  const char *url;
  int r;
} opener;

static int open_and_free(void *arg) {
  opener *o = arg;
  cio_sql_pool *p = NULL;
  cio_sql_pool_opts opts = {.connect_timeout = -1};
  o->r = cio_sql_pool_open(o->url, &opts, &p);
  cio_sql_pool_free(p);
  return o->r;
}

LOOP_TEST(test_cancel_open_and_wait) {
  if (db.server) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    CHECK_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    CHECK_EQ(listen(fd, 16), 0);
    CHECK_EQ(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    char url[256];
    snprintf(url, sizeof url, "%s://u:p@127.0.0.1:%d/x",
             strcmp(db.name, "mysql") ? "postgresql" : "mysql", ntohs(a.sin_port));
    opener o = {url, 1};
    cio_task *t = cio_spawn(open_and_free, &o);
    cio_sleep(0.1);
    double t0 = now_s();
    cio_task_cancel(t);
    CHECK_EQ(join(t), -ECANCELED);
    CHECK(now_s() - t0 < 15); /* not the endless connect */
    close(fd);
  }
  /* wait_closed with a connection borrowed: a timeout scope bounds it */
  cio_sql_pool *p = open_pool(1, 1);
  if (!p) return 0;
  cio_sql_conn *c;
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  CHECK_EQ(cio_sql_pool_wait_closed(p), -EINVAL); /* not closed yet */
  CHECK_EQ(cio_sql_pool_close(p), 0);
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 0.1);
  CHECK_EQ(cio_sql_pool_wait_closed(p), -ETIMEDOUT);
  cio_timeout_end(&sc);
  /* the borrowed connection still works until it is released */
  CHECK_EQ(scalar(c, "SELECT 4", NULL, 0), 4);
  cio_sql_release(c);
  CHECK_EQ(cio_sql_pool_wait_closed(p), 0);
  cio_sql_pool_free(p);
  return 0;
}

/* ---------------------------------------------------------------- transactions
 */

static int tx_insert_fail(cio_sql_conn *c, void *arg) {
  (void)arg;
  int r = insert_row(c, 50, "in tx");
  CHECK_EQ(r, 0);
  return -EIO;
}

static int tx_insert_ok(cio_sql_conn *c, void *arg) {
  (void)arg;
  return insert_row(c, 51, "in tx");
}

LOOP_TEST(test_transactions) {
  cio_sql_pool *p = open_pool(1, 1);
  if (!p) return 0;
  cio_sql_conn *c;
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  fresh_table(c);
  CHECK_EQ(cio_sql_begin(c), 0);
  CHECK_EQ(insert_row(c, 1, "a"), 0);
  CHECK_EQ(cio_sql_rollback(c), 0);
  CHECK_EQ(count_rows(c), 0);
  CHECK_EQ(cio_sql_begin(c), 0);
  CHECK_EQ(insert_row(c, 2, "b"), 0);
  CHECK_EQ(cio_sql_commit(c), 0);
  CHECK_EQ(count_rows(c), 1);
  CHECK_EQ(cio_sql_transaction(c, tx_insert_fail, NULL), -EIO);
  CHECK_EQ(count_rows(c), 1);
  CHECK_EQ(cio_sql_transaction(c, tx_insert_ok, NULL), 0);
  CHECK_EQ(count_rows(c), 2);
  /* released inside a transaction: rolled back before anyone reuses it */
  CHECK_EQ(cio_sql_begin(c), 0);
  CHECK_EQ(insert_row(c, 3, "c"), 0);
  cio_sql_release(c);
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  CHECK_EQ(count_rows(c), 2);
  cio_sql_release(c);
  close_pool(p);
  return 0;
}

/* Batches: one unit, all or nothing. */
LOOP_TEST(test_batch) {
  cio_sql_pool *p = open_pool(1, 1);
  if (!p) return 0;
  cio_sql_conn *c;
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  fresh_table(c);
  char ins[128], cnt[128];
  snprintf(ins, sizeof ins, "INSERT INTO %s (id, txt) VALUES ($1, $2)", T);
  snprintf(cnt, sizeof cnt, "SELECT COUNT(*) FROM %s", T);
  cio_sql_value a1[] = {cio_sql_int(1), cio_sql_text("one")};
  cio_sql_value a2[] = {cio_sql_int(2), cio_sql_text("two")};
  cio_sql_value a3[] = {cio_sql_int(3), cio_sql_null()};
  cio_sql_batch_item ok[] = {{ins, a1, 2}, {ins, a2, 2}, {ins, a3, 2}, {cnt, NULL, 0}};
  cio_sql_result *res[4];
  CHECK_EQ(cio_sql_query_batch(c, ok, 4, res), 0);
  int64_t n = 0;
  CHECK_EQ(cio_sql_result_affected(res[0]), 1);
  CHECK_EQ(cio_sql_get_int64(cio_sql_cell(res[3], 0, 0), &n), 0);
  CHECK_EQ(n, 3);
  for (int i = 0; i < 4; i++) cio_sql_result_free(res[i]);
  /* a duplicate in the middle: nothing of the batch stays */
  cio_sql_value a4[] = {cio_sql_int(4), cio_sql_text("four")};
  cio_sql_batch_item bad[] = {{ins, a4, 2}, {ins, a1, 2}, {cnt, NULL, 0}};
  CHECK_EQ(cio_sql_query_batch(c, bad, 3, res), -CIO_ESQL);
  CHECK_STR(cio_sql_last_error()->sqlstate, db.dup_state);
  CHECK(res[0] == NULL && res[1] == NULL && res[2] == NULL);
  CHECK_EQ(count_rows(c), 3);
  /* inside the caller's transaction, the caller decides */
  CHECK_EQ(cio_sql_begin(c), 0);
  CHECK_EQ(cio_sql_query_batch(c, bad, 1, NULL), 0);
  CHECK_EQ(cio_sql_rollback(c), 0);
  CHECK_EQ(count_rows(c), 3);
  /* many lookups in one go */
  enum { K = 100 };
  cio_sql_batch_item many[K];
  cio_sql_value args[K];
  cio_sql_result *out[K];
  for (int i = 0; i < K; i++) {
    args[i] = cio_sql_int(i);
    many[i] = (cio_sql_batch_item){"SELECT $1 * 3", &args[i], 1};
  }
  CHECK_EQ(cio_sql_query_batch(c, many, K, out), 0);
  int wrong = 0;
  for (int i = 0; i < K; i++) {
    wrong += cio_sql_get_int64(cio_sql_cell(out[i], 0, 0), &n) != 0 || n != 3 * i;
    cio_sql_result_free(out[i]);
  }
  CHECK_EQ(wrong, 0);
  CHECK_EQ(cio_sql_query_batch(c, NULL, 0, NULL), 0);
  cio_sql_batch_item nul[] = {{NULL, NULL, 0}};
  CHECK_EQ(cio_sql_query_batch(c, nul, 1, NULL), -EINVAL);
  cio_sql_release(c);
  close_pool(p);
  return 0;
}

/* ---------------------------------------------------------------- cancellation
 */

typedef struct sleeper {
  cio_sql_conn *c;
  int r;
  bool started;
} sleeper;

static int run_sleep(void *arg) {
  sleeper *s = arg;
  s->started = true;
  s->r = cio_sql_query(s->c, db.sleep_sql, NULL, 0, NULL);
  return s->r;
}

/* Let a statement reach the server before interrupting it. */
static void suite_settle(void) { cio_sleep(0.2); }

LOOP_TEST(test_cancel_query) {
  cio_sql_pool *p = open_pool(1, 1);
  if (!p) return 0;
  cio_sql_conn *c;
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  sleeper s = {.c = c};
  cio_task *t = cio_spawn(run_sleep, &s);
  suite_settle();
  double t0 = now_s();
  cio_task_cancel(t);
  CHECK_EQ(join(t), -ECANCELED);
  CHECK(now_s() - t0 < 15); /* not the 30 s statement */
  CHECK_EQ(cio_sql_conn_broken(c), db.cancel_breaks);
  cio_sql_release(c);
  /* the pool hands out a working connection: the same one cleaned up, or a
   * new one */
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  CHECK_EQ(scalar(c, "SELECT 42", NULL, 0), 42);
  cio_sql_release(c);
  cio_sql_pool_stats st;
  cio_sql_pool_stats_get(p, &st);
  /* Where a cancel keeps the connection, it normally comes back clean; but
   * the cancel request travels on a connection of its own, from a pool
   * thread, and on a machine loaded enough to delay it past the statement's
   * start or end the clean-up may fail and the pool replace the connection
   * (seen once in ~25 full runs, under two concurrent builds). Either way
   * the next statement works, checked above. */
  if (db.cancel_breaks)
    CHECK_EQ(st.broken, 1);
  else
    CHECK(st.broken <= 1);
  close_pool(p);
  return 0;
}

LOOP_TEST(test_timeout_query) {
  cio_sql_pool *p = open_pool(1, 1);
  if (!p) return 0;
  cio_sql_conn *c;
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 0.3);
  double t0 = now_s();
  CHECK_EQ(cio_sql_query(c, db.sleep_sql, NULL, 0, NULL), -ETIMEDOUT);
  CHECK(now_s() - t0 < 15); /* not the 30 s statement */
  CHECK_EQ(cio_sql_last_error()->code, -ETIMEDOUT);
  /* level-triggered: the next call fails on entry, having done nothing */
  CHECK_EQ(cio_sql_query(c, "SELECT 1", NULL, 0, NULL), -ETIMEDOUT);
  cio_timeout_end(&sc);
  if (!db.cancel_breaks) CHECK_EQ(scalar(c, "SELECT 7", NULL, 0), 7);
  cio_sql_release(c);
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  CHECK_EQ(scalar(c, "SELECT 8", NULL, 0), 8);
  cio_sql_release(c);
  close_pool(p);
  return 0;
}

/* A transaction whose task is cancelled midway leaves no trace. */
typedef struct txjob {
  cio_sql_pool *p;
  bool inserted;
} txjob;

static int tx_then_sleep(void *arg) {
  txjob *j = arg;
  cio_sql_conn *c;
  int r = cio_sql_acquire(j->p, &c);
  if (r < 0) return r;
  r = cio_sql_begin(c);
  if (r == 0) r = insert_row(c, 99, "uncommitted");
  j->inserted = r == 0;
  if (r == 0) r = cio_sql_query(c, db.sleep_sql, NULL, 0, NULL);
  if (r == 0) r = cio_sql_commit(c);
  if (r < 0) cio_sql_rollback(c); /* after a cancellation: shielded */
  cio_sql_release(c);
  return r;
}

static int tx_then_sleep_norollback(void *arg) {
  txjob *j = arg;
  cio_sql_conn *c;
  int r = cio_sql_acquire(j->p, &c);
  if (r < 0) return r;
  r = cio_sql_begin(c);
  if (r == 0) r = insert_row(c, 98, "uncommitted");
  j->inserted = r == 0;
  if (r == 0) r = cio_sql_query(c, db.sleep_sql, NULL, 0, NULL);
  cio_sql_release(c); /* the pool rolls back */
  return r;
}

LOOP_TEST(test_cancel_transaction) {
  cio_sql_pool *p = open_pool(1, 2);
  if (!p) return 0;
  cio_sql_conn *c;
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  fresh_table(c);
  cio_sql_release(c);
  cio_task_fn fns[] = {tx_then_sleep, tx_then_sleep_norollback};
  for (int i = 0; i < 2; i++) {
    txjob j = {.p = p};
    cio_task *t = cio_spawn(fns[i], &j);
    suite_settle();
    cio_task_cancel(t);
    CHECK_EQ(join(t), -ECANCELED);
    CHECK(j.inserted);
    CHECK_EQ(cio_sql_acquire(p, &c), 0);
    CHECK_EQ(count_rows(c), 0);
    cio_sql_release(c);
  }
  close_pool(p);
  return 0;
}

/* A cancelled acquire holds nothing. */
typedef struct acq {
  cio_sql_pool *p;
  int r;
} acq;

static int acquire_release(void *arg) {
  acq *a = arg;
  cio_sql_conn *c;
  a->r = cio_sql_acquire(a->p, &c);
  if (a->r == 0) cio_sql_release(c);
  return a->r;
}

LOOP_TEST(test_cancel_acquire) {
  cio_sql_pool *p = open_pool(1, 1);
  if (!p) return 0;
  cio_sql_conn *c;
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  acq a[3] = {{p, 1}, {p, 1}, {p, 1}};
  cio_task *t[3];
  spawn_blocked(t, 3, acquire_release, a, sizeof a[0]);
  cio_sql_pool_stats st;
  cio_sql_pool_stats_get(p, &st);
  CHECK_EQ(st.waiting, 3);
  cio_task_cancel(t[0]);
  CHECK_EQ(join(t[0]), -ECANCELED);
  /* a timeout scope on another one */
  cio_sql_pool_stats_get(p, &st);
  CHECK_EQ(st.waiting, 2);
  cio_sql_release(c);
  CHECK_EQ(join(t[1]), 0);
  CHECK_EQ(join(t[2]), 0);
  cio_sql_pool_stats_get(p, &st);
  CHECK_EQ(st.in_use, 0);
  CHECK_EQ(st.idle, 1);
  CHECK_EQ(st.waiting, 0);
  /* an acquire bounded by a scope while the pool is exhausted */
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 0.1);
  cio_sql_conn *c2 = (cio_sql_conn *)&c2;
  CHECK_EQ(cio_sql_acquire(p, &c2), -ETIMEDOUT);
  CHECK(c2 == NULL);
  cio_timeout_end(&sc);
  cio_sql_release(c);
  close_pool(p);
  return 0;
}

/* ---------------------------------------------------------------- the pool */

typedef struct worker {
  cio_sql_pool *p;
  int id;
  int r;
} worker;

static int pool_worker(void *arg) {
  worker *w = arg;
  cio_sql_conn *c;
  int r = cio_sql_acquire(w->p, &c);
  if (r < 0) return w->r = r;
  cio_sql_value a[] = {cio_sql_int(w->id)};
  cio_sql_result *res = NULL;
  r = cio_sql_query(c, "SELECT $1 + 1", a, 1, &res);
  int64_t v = 0;
  if (r == 0 && cio_sql_get_int64(cio_sql_cell(res, 0, 0), &v) == 0 && v != w->id + 1) r = -EIO;
  cio_sql_result_free(res);
  if (r == 0 && (w->id % 7) == 0) r = cio_sleep(0.001); /* hold it a little */
  cio_sql_release(c);
  return w->r = r;
}

LOOP_TEST(test_pool_1000_tasks) {
  enum { N = 1000 };
  cio_sql_pool *p = open_pool(1, db.server ? 30 : 4);
  if (!p) return 0;
  static worker w[N];
  static cio_task *t[N];
  for (int i = 0; i < N; i++) {
    w[i] = (worker){.p = p, .id = i};
    t[i] = cio_spawn(pool_worker, &w[i]);
  }
  int failed = 0;
  for (int i = 0; i < N; i++) failed += join(t[i]) != 0;
  CHECK_EQ(failed, 0);
  cio_sql_pool_stats st;
  cio_sql_pool_stats_get(p, &st);
  CHECK(st.size <= (db.server ? 30u : 4u));
  CHECK(st.opened <= (db.server ? 30u : 4u));
  CHECK_EQ(st.in_use, 0);
  CHECK_EQ(st.waiting, 0);
  CHECK(st.waits > 0);
  CHECK_EQ(st.acquires, N);
  close_pool(p);
  return 0;
}

/* Several tasks on one connection at once. */
static int same_conn(void *arg) {
  worker *w = arg;
  cio_sql_value a[] = {cio_sql_int(w->id)};
  cio_sql_result *res = NULL;
  int r = cio_sql_query((cio_sql_conn *)w->p, "SELECT $1 * 2", a, 1, &res);
  int64_t v = 0;
  if (r == 0 && (cio_sql_get_int64(cio_sql_cell(res, 0, 0), &v) != 0 || v != w->id * 2)) r = -EIO;
  cio_sql_result_free(res);
  return w->r = r;
}

LOOP_TEST(test_shared_connection) {
  enum { N = 64 };
  cio_sql_pool *p = open_pool(1, 1);
  if (!p) return 0;
  cio_sql_conn *c;
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  worker w[N];
  cio_task *t[N];
  for (int i = 0; i < N; i++) {
    w[i] = (worker){.p = (cio_sql_pool *)c, .id = i};
    t[i] = cio_spawn(same_conn, &w[i]);
  }
  /* cancel a few in flight: the others still get their own answers */
  cio_yield();
  cio_task_cancel(t[5]);
  cio_task_cancel(t[40]);
  int failed = 0;
  for (int i = 0; i < N; i++) {
    int r = join(t[i]);
    if (i == 5 || i == 40)
      CHECK(r == 0 || r == -ECANCELED);
    else
      failed += r != 0;
  }
  CHECK_EQ(failed, 0);
  if (!db.cancel_breaks || !cio_sql_conn_broken(c)) CHECK_EQ(scalar(c, "SELECT 3", NULL, 0), 3);
  cio_sql_release(c);
  close_pool(p);
  return 0;
}

/* close + wait_closed waits for borrowed connections. */
static int hold_then_release(void *arg) {
  cio_sql_conn *c = arg;
  cio_sleep(0.1);
  cio_sql_release(c);
  return 0;
}

LOOP_TEST(test_close_wait) {
  cio_sql_pool *p = open_pool(2, 2);
  if (!p) return 0;
  cio_sql_conn *c, *c1;
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  CHECK_EQ(cio_sql_acquire(p, &c1), 0);
  acq a = {p, 1};
  cio_task *waiter = cio_spawn(acquire_release, &a);
  wait_blocked(waiter); /* the pool is exhausted */
  cio_task *h = cio_spawn(hold_then_release, c);
  CHECK_EQ(cio_sql_pool_close(p), 0);
  CHECK_EQ(cio_sql_pool_close(p), 0);
  CHECK_EQ(join(waiter), -ESHUTDOWN);
  cio_sql_conn *c2;
  CHECK_EQ(cio_sql_acquire(p, &c2), -ESHUTDOWN);
  cio_sql_release(c1);
  double t0 = now_s();
  CHECK_EQ(cio_sql_pool_wait_closed(p), 0);
  CHECK(now_s() - t0 >= 0.05);
  CHECK_EQ(join(h), 0);
  cio_sql_pool_stats st;
  cio_sql_pool_stats_get(p, &st);
  CHECK_EQ(st.size, 0);
  CHECK_EQ(st.closed, st.opened);
  cio_sql_pool_free(p);
  /* free with a connection still borrowed and a waiter: nothing leaks */
  p = open_pool(1, 1);
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  a.p = p;
  waiter = cio_spawn(acquire_release, &a);
  wait_blocked(waiter);
  cio_sql_pool_free(p);
  CHECK_EQ(join(waiter), -EBADF);
  return 0;
}

/* ---------------------------------------------------------------- server kills
 */

typedef struct killer {
  cio_sql_pool *p;
  int64_t victim;
} killer;

static int kill_backend(void *arg) {
  killer *k = arg;
  cio_sleep(0.2);
  cio_sql_conn *c;
  int r = cio_sql_acquire(k->p, &c);
  if (r < 0) return r;
  cio_sql_value a[] = {cio_sql_int(k->victim)};
  r = cio_sql_query(c, db.kill_sql, a, 1, NULL);
  if (r < 0) fprintf(stderr, "kill: %s\n", cio_sql_last_error()->message);
  cio_sql_release(c);
  return r;
}

LOOP_TEST(test_killed_midquery) {
  if (!db.kill_sql) return 0;
  cio_sql_pool *p = open_pool(2, 2);
  if (!p) return 0;
  cio_sql_conn *c;
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  killer k = {.p = p, .victim = scalar(c, db.backend_sql, NULL, 0)};
  cio_task *t = cio_spawn(kill_backend, &k);
  double t0 = now_s();
  int r = cio_sql_query(c, db.sleep_sql, NULL, 0, NULL);
  CHECK_EQ(r, -ECONNRESET);
  if (r != -ECONNRESET)
    fprintf(stderr, "got %s: %s\n", cio_strerror(r), cio_sql_last_error()->message);
  CHECK(now_s() - t0 < 25); /* not the 30 s statement */
  CHECK(strlen(cio_sql_last_error()->message) > 0);
  CHECK_EQ(cio_sql_conn_broken(c), 1);
  CHECK_EQ(cio_sql_query(c, "SELECT 1", NULL, 0, NULL), -ECONNRESET);
  CHECK_EQ(join(t), 0);
  cio_sql_release(c);
  /* replaced: the pool keeps serving */
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(cio_sql_acquire(p, &c), 0);
    CHECK_EQ(scalar(c, "SELECT 5", NULL, 0), 5);
    cio_sql_release(c);
  }
  cio_sql_pool_stats st;
  cio_sql_pool_stats_get(p, &st);
  CHECK_EQ(st.broken, 1);
  close_pool(p);
  return 0;
}

/* Killed while idle in the pool: noticed at acquire, replaced. */
LOOP_TEST(test_killed_idle) {
  if (!db.kill_sql) return 0;
  cio_sql_pool *p = open_pool(2, 2);
  if (!p) return 0;
  cio_sql_conn *c, *c2;
  CHECK_EQ(cio_sql_acquire(p, &c), 0);
  CHECK_EQ(cio_sql_acquire(p, &c2), 0);
  int64_t victim = scalar(c, db.backend_sql, NULL, 0);
  cio_sql_release(c); /* idle now */
  cio_sql_value a[] = {cio_sql_int(victim)};
  CHECK_EQ(cio_sql_query(c2, db.kill_sql, a, 1, NULL), 0);
  cio_sql_release(c2);
  cio_sleep(0.2);
  for (int i = 0; i < 4; i++) {
    CHECK_EQ(cio_sql_acquire(p, &c), 0);
    cio_sql_result *res = NULL;
    int r = cio_sql_query(c, "SELECT 6", NULL, 0, &res);
    CHECK_EQ(r, 0);
    if (r) fprintf(stderr, "after idle kill: %s\n", cio_sql_last_error()->message);
    cio_sql_result_free(res);
    cio_sql_release(c);
  }
  close_pool(p);
  return 0;
}

/* ---------------------------------------------------------------- driver */

static int suite_run(void) {
  RUN(test_values);
  RUN(test_placeholders);
  RUN(test_sql_errors);
  RUN(test_bad_urls);
  RUN(test_server_down);
  RUN(test_server_mute);
  RUN(test_cancel_open_and_wait);
  RUN(test_transactions);
  RUN(test_batch);
  RUN(test_cancel_query);
  RUN(test_timeout_query);
  RUN(test_cancel_transaction);
  RUN(test_cancel_acquire);
  RUN(test_pool_1000_tasks);
  RUN(test_shared_connection);
  RUN(test_close_wait);
  RUN(test_killed_midquery);
  RUN(test_killed_idle);
  return 0;
}

#endif
