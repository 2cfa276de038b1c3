/* test_url.c - percent-decoding as Python's unquote does it (malformed
 * escapes kept, '+' only in queries, strict mode), encoding, query
 * iteration and lookup (blank values, empty pairs, encoded names, buffer
 * limits). */
#include "test.h"

#include <cio/url.h>

#include <errno.h>
#include <string.h>

static const char *dec(const char *in, unsigned flags, ssize_t *n) {
  static char out[256];
  *n = cio_url_decode(out, in, strlen(in), flags);
  if (*n >= 0) out[*n] = '\0';
  return out;
}

static void test_decode(void) {
  ssize_t n;
  CHECK_STR(dec("/a%20b%2Fc", 0, &n), "/a b/c");
  CHECK_STR(dec("a+b", 0, &n), "a+b");
  CHECK_STR(dec("a+b%2B", CIO_URL_PLUS_SPACE, &n), "a b+");
  CHECK_STR(dec("%e4%B8%AD", 0, &n), "\xe4\xb8\xad");
  CHECK_STR(dec("100%", 0, &n), "100%");
  CHECK_STR(dec("%zz%4", 0, &n), "%zz%4");
  CHECK_STR(dec("%%41", 0, &n), "%A");
  CHECK_STR(dec("%2e%2E/", 0, &n), "../");
  dec("a%00b", 0, &n);
  CHECK_EQ(n, 3);
  dec("%zz", CIO_URL_STRICT, &n);
  CHECK_EQ(n, -EINVAL);
  dec("%4", CIO_URL_STRICT, &n);
  CHECK_EQ(n, -EINVAL);
  /* In place. */
  char s[] = "x%41y";
  CHECK_EQ(cio_url_decode(s, s, 5, 0), 3);
  CHECK(memcmp(s, "xAy", 3) == 0);
}

static void test_encode(void) {
  char out[64];
  CHECK_EQ(cio_url_encode(out, sizeof out, "a b/c~", 6, 0), 10);
  CHECK_STR(out, "a%20b%2Fc~");
  CHECK_EQ(cio_url_encode(out, sizeof out, "a b/c", 5, CIO_URL_KEEP_SLASH | CIO_URL_FORM), 5);
  CHECK_STR(out, "a+b/c");
  CHECK_EQ(cio_url_encode(out, sizeof out, "\xe4\xb8\xad", 3, 0), 9);
  CHECK_STR(out, "%E4%B8%AD");
  CHECK_EQ(cio_url_encode(out, 4, "  ", 2, 0), -ENOSPC);
}

static void test_query(void) {
  const char *q = "a=1&&b&c=x+y%21&=e&a=2&%62=3";
  const char *pos = q, *end = q + strlen(q);
  cio_url_pair p;
  int n = 0;
  const char *names[] = {"a", "b", "c", "", "a", "%62"};
  const char *vals[] = {"1", "", "x+y%21", "e", "2", "3"};
  while (cio_url_query_next(&pos, end, &p)) {
    CHECK(n < 6);
    if (n >= 6) break;
    CHECK(p.name_len == strlen(names[n]) && memcmp(p.name, names[n], p.name_len) == 0);
    CHECK(p.value_len == strlen(vals[n]) && memcmp(p.value, vals[n], p.value_len) == 0);
    n++;
  }
  CHECK_EQ(n, 6);
  CHECK_EQ(cio_url_query_next(&pos, end, &p), 0);
  char out[16];
  CHECK_EQ(cio_url_query_get(q, strlen(q), "a", out, sizeof out), 1);
  CHECK_STR(out, "1");
  CHECK_EQ(cio_url_query_get(q, strlen(q), "c", out, sizeof out), 4);
  CHECK_STR(out, "x y!");
  CHECK_EQ(cio_url_query_get(q, strlen(q), "b", out, sizeof out), 0);
  CHECK_STR(out, "");
  CHECK_EQ(cio_url_query_get(q, strlen(q), "zz", out, sizeof out), -ENOENT);
  /* "b" encoded as %62 matches after the plain "b" pair. */
  CHECK_EQ(cio_url_query_get("%62=7", 5, "b", out, sizeof out), 1);
  CHECK_STR(out, "7");
  CHECK_EQ(cio_url_query_get("k=%41%41%41", 11, "k", out, 4), 3); /* decodes to fit */
  CHECK_EQ(cio_url_query_get("k=AAAA", 6, "k", out, 4), -ENOSPC);
  CHECK_EQ(cio_url_query_get("", 0, "k", out, 4), -ENOENT);
}

int main(void) {
  RUN(test_decode);
  RUN(test_encode);
  RUN(test_query);
  return test_report();
}
