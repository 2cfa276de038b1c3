/* 18_sqlite_lookup - the same bug lookup on SQLite: no server at all.
 *
 * Example 17 runs tutorial 001's lookup on MariaDB. The same program runs
 * on SQLite by changing the URL (and the SQL's dialect: SQLite has no
 * GROUP_CONCAT ... ORDER BY ... SEPARATOR, so the notes are ordered in a
 * subquery and joined with group_concat(x, sep)):
 *
 *   pool = await create_pool("sqlite:///tmp/bugs.db", minsize=1, maxsize=4)
 *   async with pool.acquire() as conn: ... fetchone()
 *
 * SQLite runs off the loop: each pooled connection is a thread of its own
 * with its prepared statements; finished statements wake the loop once per
 * batch. Then 10,000 lookups from 100 tasks, timed.
 */
#include <cio.h>
#include <cio/sql.h>
#include <stdio.h>
#include <unistd.h>

static const char SQL[] =
    "SELECT mbt.id, mbt.summary, mbt.version, mbtt.steps_to_reproduce, "
    "mbtt.additional_information, "
    "(SELECT group_concat(note, char(10) || '---' || char(10)) FROM "
    "  (SELECT mbnt.note FROM mantis_bugnote_table mbn "
    "   JOIN mantis_bugnote_text_table mbnt ON mbnt.id = mbn.bugnote_text_id "
    "   WHERE mbn.bug_id = mbt.id ORDER BY mbn.date_submitted)) AS notes, "
    "(SELECT group_concat(value, ',') FROM "
    "  (SELECT value FROM mantis_bug_revision_table WHERE bug_id = mbt.id "
    "ORDER BY id)) "
    "  AS revision_values "
    "FROM mantis_bug_table mbt LEFT JOIN mantis_bug_text_table mbtt ON mbt.id "
    "= mbtt.id "
    "WHERE mbt.id = $1";

static const char SCHEMA[] =
    "CREATE TABLE mantis_bug_table (id INTEGER PRIMARY KEY, summary TEXT, "
    "version TEXT);"
    "CREATE TABLE mantis_bug_text_table (id INTEGER PRIMARY KEY, "
    "steps_to_reproduce TEXT, "
    "additional_information TEXT);"
    "CREATE TABLE mantis_bugnote_table (id INTEGER PRIMARY KEY, bug_id INT, "
    "bugnote_text_id INT, "
    "date_submitted INT);"
    "CREATE TABLE mantis_bugnote_text_table (id INTEGER PRIMARY KEY, note "
    "TEXT);"
    "CREATE TABLE mantis_bug_revision_table (id INTEGER PRIMARY KEY, bug_id "
    "INT, value TEXT);"
    "INSERT INTO mantis_bug_table VALUES (1, '登录页面崩溃', '2.3.1'), (2, "
    "'Export hangs', NULL);"
    "INSERT INTO mantis_bug_text_table VALUES (1, '1. 打开登录页' || char(10) "
    "|| '2. 输入空密码', "
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

/* The row as a DictCursor would print it: name -> value. */
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

typedef struct client {
  cio_sql_pool *pool;
  int n, found;
} client;

static int lookups(void *arg) {
  client *c = arg;
  for (int i = 0; i < c->n; i++) {
    cio_sql_conn *conn;
    int r = cio_sql_acquire(c->pool, &conn);
    if (r < 0) return r;
    cio_sql_value args[] = {cio_sql_int(1 + i % 3)};
    cio_sql_result *res;
    r = cio_sql_query(conn, SQL, args, 1, &res);
    cio_sql_release(conn);
    if (r < 0) return r;
    c->found += cio_sql_result_row(res, 0) != NULL;
    cio_sql_result_free(res);
  }
  return 0;
}

static int main_task(void *arg) {
  const char *url = arg;
  cio_sql_pool_opts opts = {.min_size = 1, .max_size = 4};
  cio_sql_pool *pool;
  int r = cio_sql_pool_open(url, &opts, &pool);
  if (r < 0) goto out;
  cio_sql_conn *conn;
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
  enum { TASKS = 100, EACH = 100 };
  static client c[TASKS];
  static cio_task *t[TASKS];
  double t0 = cio_loop_time(cio_loop_current());
  for (int i = 0; r == 0 && i < TASKS; i++) {
    c[i] = (client){pool, EACH, 0};
    t[i] = cio_spawn(lookups, &c[i]);
  }
  int found = 0, failed = 0;
  for (int i = 0; r == 0 && i < TASKS; i++) {
    failed += cio_await(t[i]) != 0;
    found += c[i].found;
    cio_task_release(t[i]);
  }
  double secs = cio_loop_time(cio_loop_current()) - t0;
  if (r == 0)
    printf("%d lookups from %d tasks on 4 SQLite threads: %d found, %d failed, "
           "%.3f s (%.1f us each)\n",
           TASKS * EACH, TASKS, found, failed, secs, secs * 1e6 / (TASKS * EACH));
  cio_sql_pool_close(pool);
  cio_sql_pool_wait_closed(pool);
  cio_sql_pool_free(pool);
out:
  if (r < 0) fprintf(stderr, "error: %s: %s\n", cio_strerror(r), cio_sql_last_error()->message);
  return r;
}

int main(void) {
  char path[128], url[160];
  snprintf(path, sizeof path, "/tmp/cio-example-18-%d.db", (int)getpid());
  snprintf(url, sizeof url, "sqlite://%s", path);
  int r = cio_run(main_task, url);
  const char *suffix[] = {"", "-wal", "-shm"};
  for (int i = 0; i < 3; i++) {
    char f[160];
    snprintf(f, sizeof f, "%s%s", path, suffix[i]);
    unlink(f);
  }
  return r == 0 ? 0 : 1;
}
