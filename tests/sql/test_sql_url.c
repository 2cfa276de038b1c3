/* test_sql_url.c - the sql layer's pieces that need no database: URLs, the
 * $N rewriting for MariaDB, number parsing and the typed getters, the
 * statement cache. */
#include "test.h"

#include "../../src/sql/sql_internal.h"

static void test_urls(void) {
  cio__sql_url u;
  CHECK_EQ(cio__sql_url_parse("postgresql://us%40er:p%3Aw@db.example:6543/"
                              "my%20db?sslmode=require&application_name=x",
                              &u),
           0);
  CHECK_STR(u.scheme, "postgresql");
  CHECK_STR(u.user, "us@er");
  CHECK_STR(u.password, "p:w");
  CHECK_STR(u.host, "db.example");
  CHECK_EQ(u.port, 6543);
  CHECK_STR(u.path, "my db");
  CHECK_STR(cio__sql_url_param(&u, "sslmode"), "require");
  CHECK_STR(cio__sql_url_param(&u, "application_name"), "x");
  CHECK(cio__sql_url_param(&u, "nope") == NULL);
  cio__sql_url_free(&u);
  CHECK_EQ(cio__sql_url_parse("MySQL://root@[::1]:3306/bugs", &u), 0);
  CHECK_STR(u.scheme, "mysql");
  CHECK_STR(u.user, "root");
  CHECK(u.password == NULL);
  CHECK_STR(u.host, "::1");
  CHECK_EQ(u.port, 3306);
  cio__sql_url_free(&u);
  CHECK_EQ(cio__sql_url_parse("mariadb://h", &u), 0);
  CHECK_STR(u.host, "h");
  CHECK(u.path == NULL && u.port == 0 && u.user == NULL);
  cio__sql_url_free(&u);
  CHECK_EQ(cio__sql_url_parse("sqlite:///tmp/a b.db?mode=ro", &u), 0);
  CHECK_STR(u.path, "/tmp/a b.db");
  CHECK_STR(cio__sql_url_param(&u, "mode"), "ro");
  cio__sql_url_free(&u);
  CHECK_EQ(cio__sql_url_parse("sqlite://rel/x.db", &u), 0);
  CHECK_STR(u.path, "rel/x.db");
  cio__sql_url_free(&u);
  CHECK_EQ(cio__sql_url_parse("sqlite::memory:", &u), 0);
  CHECK_STR(u.path, ":memory:");
  cio__sql_url_free(&u);
  CHECK_EQ(cio__sql_url_parse("sqlite:file.db", &u), 0);
  CHECK_STR(u.path, "file.db");
  cio__sql_url_free(&u);
  const char *bad[] = {"",
                       "nocolon",
                       ":x",
                       "pg://h:0/x",
                       "pg://h:70000/x",
                       "pg://h:12a/x",
                       "pg://[::1/x",
                       "pg://u%zz@h/x",
                       "pg://h:/x",
                       "pg://[::1]x/y"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    int r = cio__sql_url_parse(bad[i], &u);
    CHECK_EQ(r, -EINVAL);
    if (r != -EINVAL)
      fprintf(stderr, "accepted: %s\n", bad[i]);
    else
      CHECK(strstr(cio_sql_last_error()->message, "bad database URL") != NULL);
  }
}

static void check_rewrite(const char *in, size_t n, const char *want, const char *order) {
  char *out;
  size_t *ord, k;
  int r = cio__sql_rewrite_dollar(in, n, &out, &ord, &k);
  CHECK_EQ(r, 0);
  if (r) return;
  CHECK_STR(out ? out : in, want);
  char got[32] = "";
  for (size_t i = 0; i < k && i < sizeof got - 1; i++) got[i] = (char)('1' + ord[i]);
  got[k < sizeof got ? k : sizeof got - 1] = '\0';
  CHECK_STR(got, order);
  free(out);
  free(ord);
}

static void test_rewrite(void) {
  check_rewrite("SELECT 1", 0, "SELECT 1", "");
  check_rewrite("SELECT $1, $2", 2, "SELECT ?, ?", "12");
  check_rewrite("SELECT $2 + $1 + $2", 2, "SELECT ? + ? + ?", "212");
  check_rewrite("SELECT '$1', \"$2\", `$1`, $1", 1, "SELECT '$1', \"$2\", `$1`, ?", "1");
  check_rewrite("SELECT 'it''s \\' $1', $1", 1, "SELECT 'it''s \\' $1', ?", "1");
  check_rewrite("SELECT a$1, $1abc, $1", 1, "SELECT a$1, $1abc, ?", "1");
  check_rewrite("SELECT $1 -- $2\n, $1 # $2\n, /* $2 */ $1", 1,
                "SELECT ? -- $2\n, ? # $2\n, /* $2 */ ?", "111");
  check_rewrite("SELECT 1--$1", 1, "SELECT 1--?", "1"); /* "--" without a blank is minus minus */
  check_rewrite("SELECT ? + $1", 1, "SELECT ? + ?", "1");
  check_rewrite("SELECT '$1 unterminated", 1, "SELECT '$1 unterminated", "");
  char *out;
  size_t *ord, k;
  CHECK_EQ(cio__sql_rewrite_dollar("SELECT $0", 1, &out, &ord, &k), -EINVAL);
  CHECK_EQ(cio__sql_rewrite_dollar("SELECT $3", 2, &out, &ord, &k), -EINVAL);
}

static void test_numbers_and_getters(void) {
  int64_t i;
  double d;
  CHECK_EQ(cio__sql_parse_int64("-9223372036854775808", 20, &i), 0);
  CHECK(i == INT64_MIN);
  CHECK_EQ(cio__sql_parse_int64("9223372036854775808", 19, &i), -ERANGE);
  CHECK_EQ(cio__sql_parse_int64("12x", 3, &i), -EINVAL);
  CHECK_EQ(cio__sql_parse_int64("", 0, &i), -EINVAL);
  CHECK_EQ(cio__sql_parse_int64("-", 1, &i), -EINVAL);
  CHECK_EQ(cio__sql_parse_double("1e3", 3, &d), 0);
  CHECK(d == 1000);
  CHECK_EQ(cio__sql_parse_double(" 1", 2, &d), -EINVAL);
  CHECK_EQ(cio__sql_parse_double("0x10", 4, &d), -EINVAL);
  CHECK_EQ(cio__sql_parse_double("1e999", 5, &d), -ERANGE);
  cio_sql_value v = cio_sql_float(3.0);
  CHECK_EQ(cio_sql_get_int64(&v, &i), 0);
  CHECK_EQ(i, 3);
  v = cio_sql_float(3.5);
  CHECK_EQ(cio_sql_get_int64(&v, &i), -EINVAL);
  v = cio_sql_float(1e300);
  CHECK_EQ(cio_sql_get_int64(&v, &i), -ERANGE);
  v = cio_sql_text("42.000");
  CHECK_EQ(cio_sql_get_int64(&v, &i), 0);
  CHECK_EQ(i, 42);
  v = cio_sql_blob("1", 1);
  CHECK_EQ(cio_sql_get_int64(&v, &i), -EINVAL);
  CHECK_EQ(cio_sql_get_double(&v, &d), -EINVAL);
  v = cio_sql_int(7);
  const char *s;
  CHECK_EQ(cio_sql_get_text(&v, &s, NULL), -EINVAL);
  CHECK_EQ(cio_sql_get_double(&v, &d), 0);
  CHECK(d == 7);
  v = cio_sql_text(NULL);
  CHECK_EQ(cio_sql_is_null(&v), 1);
  CHECK_EQ(cio_sql_is_null(NULL), -ENOENT);
  CHECK_EQ(cio_sql_get_text(NULL, &s, NULL), -ENOENT);
  /* results: NULL-safe accessors */
  CHECK_EQ(cio_sql_result_nrows(NULL), 0);
  CHECK(cio_sql_result_row(NULL, 0) == NULL);
  CHECK(cio_sql_row_get(NULL, "x") == NULL);
  cio_sql_result_free(NULL);
}

static int evicted;
static void on_evict(void *ctx, cio__sql_centry *e) {
  (void)ctx;
  evicted += (int)(intptr_t)e->stmt;
}

static void test_cache(void) {
  cio__sql_cache c;
  cio__sql_cache_init(&c, 3, on_evict, NULL);
  CHECK(cio__sql_cache_put(&c, "a", 1, (void *)1) != NULL);
  CHECK(cio__sql_cache_put(&c, "b", 1, (void *)10) != NULL);
  CHECK(cio__sql_cache_put(&c, "c", 1, (void *)100) != NULL);
  CHECK(cio__sql_cache_get(&c, "a", 1) != NULL); /* a is now the most recent */
  CHECK(cio__sql_cache_put(&c, "d", 1, (void *)1000) != NULL);
  CHECK_EQ(evicted, 10); /* b went */
  CHECK(cio__sql_cache_get(&c, "b", 1) == NULL);
  cio__sql_centry *e = cio__sql_cache_get(&c, "c", 1);
  CHECK(e && e->stmt == (void *)100);
  cio__sql_cache_remove(&c, e); /* no evict call */
  CHECK_EQ(evicted, 10);
  CHECK_EQ(c.count, 2);
  cio__sql_cache_clear(&c);
  CHECK_EQ(evicted, 1011);
  cio__sql_cache_init(&c, -1, on_evict, NULL);
  CHECK(cio__sql_cache_put(&c, "a", 1, (void *)1) == NULL);
  cio__sql_cache_clear(&c);
}

int main(void) {
  RUN(test_urls);
  RUN(test_rewrite);
  RUN(test_numbers_and_getters);
  RUN(test_cache);
  return test_report();
}
