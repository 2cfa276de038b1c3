/* 17_aiomysql - a MariaDB connection pool: tutorial 003's aiomysql snippet and
 * seed 001's bug lookup.
 *
 * Ports tutorial 003 ("asynchronous MySQL with aiomysql"):
 *
 *   pool = await aiomysql.create_pool(host='127.0.0.1', port=3306,
 *                                     user='root', password='password',
 * db='test') async with pool.acquire() as conn: async with conn.cursor() as
 * cur: await cur.execute("SELECT 1 + 1") result = await cur.fetchone()
 *           print(f"查询结果: {result}")          # "query result: (2,)"
 *   pool.close()
 *   await pool.wait_closed()
 *
 * and tutorial 001's service query: a pool with minsize=1, maxsize=30,
 * charset utf8mb4, and per request
 *
 *   async with pool.acquire() as conn:
 *       async with conn.cursor(aiomysql.DictCursor) as cursor:
 *           await cursor.execute(SQL, (bug_id,))
 *           row = await cursor.fetchone()
 *
 * on a MantisBT-shaped schema (the seed's own SQL, GROUP_CONCAT and all),
 * then 200 lookups from 200 tasks sharing the 30 connections.
 *
 * The server: $CIO_MYSQL_URL if set, else a private MariaDB this program
 * starts (and stops) with scripts/servers; skipped when none is installed.
 */
#include <cio.h>
#include <cio/sql.h>
#include <stdio.h>

#include "servers.h"

/* The seed's query, verbatim but for the placeholder (%s -> $1). */
static const char SQL[] = "SELECT mbt.id, mbt.summary, mbt.version, mbtt.steps_to_reproduce, "
                          "mbtt.additional_information, notes.notes, revisions.revision_values "
                          "FROM mantis_bug_table mbt "
                          "LEFT JOIN mantis_bug_text_table mbtt ON mbt.id = mbtt.id "
                          "LEFT JOIN (SELECT mbn.bug_id, GROUP_CONCAT(mbnt.note ORDER BY "
                          "mbn.date_submitted "
                          "SEPARATOR '\\n---\\n') AS notes FROM mantis_bugnote_table mbn "
                          "JOIN mantis_bugnote_text_table mbnt ON mbnt.id = mbn.bugnote_text_id "
                          "GROUP BY mbn.bug_id) notes ON notes.bug_id = mbt.id "
                          "LEFT JOIN (SELECT bug_id, GROUP_CONCAT(value ORDER BY id SEPARATOR ',') "
                          "AS revision_values "
                          "FROM mantis_bug_revision_table GROUP BY bug_id) revisions ON "
                          "revisions.bug_id = mbt.id "
                          "WHERE mbt.id = $1";

static const char SCHEMA[] =
    "DROP TABLE IF EXISTS mantis_bug_table, mantis_bug_text_table, "
    "mantis_bugnote_table, "
    "mantis_bugnote_text_table, mantis_bug_revision_table;"
    "CREATE TABLE mantis_bug_table (id INT PRIMARY KEY, summary VARCHAR(128), "
    "version VARCHAR(64));"
    "CREATE TABLE mantis_bug_text_table (id INT PRIMARY KEY, "
    "steps_to_reproduce LONGTEXT, "
    "additional_information LONGTEXT);"
    "CREATE TABLE mantis_bugnote_table (id INT PRIMARY KEY, bug_id INT, "
    "bugnote_text_id INT, "
    "date_submitted INT);"
    "CREATE TABLE mantis_bugnote_text_table (id INT PRIMARY KEY, note "
    "LONGTEXT);"
    "CREATE TABLE mantis_bug_revision_table (id INT PRIMARY KEY, bug_id INT, "
    "value LONGTEXT);"
    "INSERT INTO mantis_bug_table VALUES (1, '登录页面崩溃', '2.3.1'), (2, "
    "'Export hangs', NULL);"
    "INSERT INTO mantis_bug_text_table VALUES (1, '1. 打开登录页\\n2. "
    "输入空密码', "
    "'问题原因分析：密码为空时未做校验。修改方案描述：增加非空校验。'), (2, "
    "'', NULL);"
    "INSERT INTO mantis_bugnote_text_table VALUES (1, '已复现'), (2, "
    "'已修复，待验证');"
    "INSERT INTO mantis_bugnote_table VALUES (1, 1, 1, 100), (2, 1, 2, 200);"
    "INSERT INTO mantis_bug_revision_table VALUES (1, 2, 'r1'), (2, 2, 'r2');";

/* Text as Python's repr() shows it: newlines escaped. */
static void print_text(const char *s, size_t len) {
  putchar('\'');
  for (size_t i = 0; i < len; i++)
    if (s[i] == '\n')
      fputs("\\n", stdout);
    else
      putchar(s[i]);
  putchar('\'');
}

/* The row as the seed's DictCursor would print it: name -> value. */
static void print_row(const cio_sql_row *row) {
  const cio_sql_result *res = cio_sql_row_result(row);
  printf("{");
  for (size_t i = 0; i < cio_sql_result_ncols(res); i++) {
    const cio_sql_value *v = cio_sql_row_at(row, i);
    const char *s;
    size_t len;
    int64_t n;
    printf("%s'%s': ", i ? ", " : "", cio_sql_result_colname(res, i));
    if (cio_sql_is_null(v) == 1)
      printf("None");
    else if (cio_sql_get_text(v, &s, &len) == 0)
      print_text(s, len);
    else if (cio_sql_get_int64(v, &n) == 0)
      printf("%lld", (long long)n);
  }
  printf("}\n");
}

typedef struct lookup {
  cio_sql_pool *pool;
  int64_t bug_id;
  int found;
} lookup;

/* get_bug_by_id(): acquire, execute with a bound parameter, fetchone. */
static int get_bug_by_id(void *arg) {
  lookup *l = arg;
  cio_sql_conn *conn;
  int r = cio_sql_acquire(l->pool, &conn); /* async with pool.acquire() */
  if (r < 0) return r;
  cio_sql_value args[] = {cio_sql_int(l->bug_id)};
  cio_sql_result *res;
  r = cio_sql_query(conn, SQL, args, 1, &res); /* await cursor.execute(SQL, (bug_id,)) */
  cio_sql_release(conn);                       /* leaving the async with */
  if (r < 0) return r;
  l->found = cio_sql_result_row(res, 0) != NULL; /* await cursor.fetchone() */
  cio_sql_result_free(res);
  return 0;
}

static int run(const char *url) {
  /* tutorial 003 */
  cio_sql_pool *pool;
  int r = cio_sql_pool_open(url, NULL, &pool);
  if (r < 0) return r;
  cio_sql_conn *conn;
  if ((r = cio_sql_acquire(pool, &conn)) == 0) {
    cio_sql_result *res;
    if ((r = cio_sql_query(conn, "SELECT 1 + 1", NULL, 0, &res)) == 0) {
      int64_t v = 0;
      cio_sql_get_int64(cio_sql_cell(res, 0, 0), &v);
      printf("查询结果: (%lld,)\n", (long long)v);
      cio_sql_result_free(res);
    }
    cio_sql_release(conn);
  }
  cio_sql_pool_close(pool);
  cio_sql_pool_wait_closed(pool);
  cio_sql_pool_free(pool);
  if (r < 0) return r;

  /* tutorial 001: minsize 1, maxsize 30, utf8mb4 (cio's default charset) */
  cio_sql_pool_opts opts = {.min_size = 1, .max_size = 30};
  if ((r = cio_sql_pool_open(url, &opts, &pool)) < 0) return r;
  if ((r = cio_sql_acquire(pool, &conn)) == 0) {
    r = cio_sql_exec(conn, SCHEMA);
    cio_sql_release(conn);
  }
  for (int64_t id = 1; r == 0 && id <= 3; id++) {
    cio_sql_value args[] = {cio_sql_int(id)};
    cio_sql_result *res;
    if ((r = cio_sql_pool_query(pool, SQL, args, 1, &res)) < 0) break;
    const cio_sql_row *row = cio_sql_result_row(res, 0);
    printf("bug %lld: ", (long long)id);
    if (row)
      print_row(row);
    else
      printf("None (未找到该 bug)\n");
    cio_sql_result_free(res);
  }
  /* 200 requests at once share the 30 connections */
  enum { N = 200 };
  static lookup l[N];
  static cio_task *t[N];
  double t0 = cio_loop_time(cio_loop_current());
  for (int i = 0; r == 0 && i < N; i++) {
    l[i] = (lookup){pool, 1 + i % 3, 0};
    t[i] = cio_spawn(get_bug_by_id, &l[i]);
  }
  int found = 0, failed = 0;
  for (int i = 0; r == 0 && i < N; i++) {
    failed += cio_await(t[i]) != 0;
    found += l[i].found;
    cio_task_release(t[i]);
  }
  cio_sql_pool_stats st;
  cio_sql_pool_stats_get(pool, &st);
  if (r == 0)
    printf("%d lookups from %d tasks: %d found, %d failed, %zu connections, "
           "%llu waits, %.3f s\n",
           N, N, found, failed, st.size, (unsigned long long)st.waits,
           cio_loop_time(cio_loop_current()) - t0);
  cio_sql_pool_close(pool); /* lifespan's close_db() */
  cio_sql_pool_wait_closed(pool);
  cio_sql_pool_free(pool);
  return r;
}

static int main_task(void *arg) {
  (void)arg;
  example_server srv;
  if (example_server_open(&srv, "mariadb")) return 0;
  int r = run(srv.url);
  if (r < 0) fprintf(stderr, "error: %s: %s\n", cio_strerror(r), cio_sql_last_error()->message);
  example_server_close(&srv);
  return r;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0); /* in step with the server script's stderr */
  return cio_run(main_task, NULL) == 0 ? 0 : 1;
}
