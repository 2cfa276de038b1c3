/* test_resp.c - the RESP scanner, builder and encoder, without sockets. */
#include "test.h"

#include "../../src/redis/resp.h"

#include <cio/redis_reply.h>
#include <math.h>
#include <stdarg.h>

/* Parse one reply from in[0..n-1] feeding it `chunk` bytes at a time (as a
 * socket might deliver it). Returns 1 and the reply (*out, a block the
 * caller frees) with its length in *len; 0 if incomplete; or the error. */
static int parse(const char *in, size_t n, size_t chunk, size_t max, cio_redis_reply **out,
                 size_t *len, const char **why) {
  cio__resp_scanner s;
  cio__resp_scanner_init(&s, max, 0, 0);
  size_t pos = 0, have = 0;
  *out = NULL;
  for (;;) {
    size_t more = have + chunk <= n ? chunk : n - have;
    have += more;
    size_t used;
    int r = cio__resp_scan(&s, in + pos, have - pos, &used);
    pos += used;
    if (r < 0) {
      if (why) *why = s.error;
      return r;
    }
    if (r == 1) {
      *len = s.total;
      if (s.oversize) return 2;
      cio__resp_buf *b = cio__resp_buf_new(s.total);
      memcpy(b->data, in + pos - s.total, s.total);
      cio_redis_reply *nodes = cio__resp_reply_alloc(s.nodes, b);
      cio__resp_buf_unref(b);
      *out = cio__resp_build(&s, b->data, nodes);
      return 1;
    }
    if (have == n && more == 0) return 0;
  }
}

static cio_redis_reply *one(const char *in, size_t chunk) {
  cio_redis_reply *r;
  size_t len;
  int st = parse(in, strlen(in), chunk, 0, &r, &len, NULL);
  CHECK_EQ(st, 1);
  if (st == 1) CHECK_EQ(len, strlen(in));
  return r;
}

static const char *why_bad(const char *in) {
  cio_redis_reply *r;
  size_t len;
  const char *why = NULL;
  int st = parse(in, strlen(in), 1, 0, &r, &len, &why);
  CHECK_EQ(st, -EPROTO);
  return why ? why : "";
}

static void test_resp2_types(void) {
  for (size_t chunk = 1; chunk <= 64; chunk *= 4) {
    cio_redis_reply *r = one("+OK\r\n", chunk);
    CHECK_EQ(r->type, CIO_REDIS_STATUS);
    CHECK_STR(r->str, "OK");
    CHECK_EQ(r->len, 2);
    cio_redis_reply_free(r);

    r = one("-ERR wrong\r\n", chunk);
    CHECK_EQ(r->type, CIO_REDIS_ERROR);
    CHECK_STR(r->str, "ERR wrong");
    cio_redis_reply_free(r);

    r = one(":-9223372036854775808\r\n", chunk);
    CHECK_EQ(r->type, CIO_REDIS_INTEGER);
    CHECK(r->integer == INT64_MIN);
    cio_redis_reply_free(r);

    r = one("$5\r\nhe\r\no\r\n", chunk); /* CRLF inside a bulk string is data */
    CHECK_EQ(r->type, CIO_REDIS_STRING);
    CHECK_EQ(r->len, 5);
    CHECK(memcmp(r->str, "he\r\no", 6) == 0); /* NUL-terminated */
    cio_redis_reply_free(r);

    r = one("$0\r\n\r\n", chunk);
    CHECK_EQ(r->type, CIO_REDIS_STRING);
    CHECK_EQ(r->len, 0);
    CHECK_STR(r->str, "");
    cio_redis_reply_free(r);

    r = one("$-1\r\n", chunk);
    CHECK_EQ(r->type, CIO_REDIS_NIL);
    cio_redis_reply_free(r);
    r = one("*-1\r\n", chunk);
    CHECK_EQ(r->type, CIO_REDIS_NIL);
    cio_redis_reply_free(r);

    r = one("*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n*0\r\n", chunk);
    CHECK_EQ(r->type, CIO_REDIS_ARRAY);
    CHECK_EQ(r->elements, 3);
    CHECK_EQ(r->element[0].integer, 1);
    CHECK_EQ(r->element[1].type, CIO_REDIS_ARRAY);
    CHECK_EQ(r->element[1].elements, 2);
    CHECK_STR(r->element[1].element[0].str, "a");
    CHECK_EQ(r->element[1].element[1].type, CIO_REDIS_NIL);
    CHECK_EQ(r->element[2].type, CIO_REDIS_ARRAY);
    CHECK_EQ(r->element[2].elements, 0);
    CHECK(r->element[2].element == NULL);
    cio_redis_reply_free(r);
  }
}

static void test_resp3_types(void) {
  cio_redis_reply *r = one("_\r\n", 1);
  CHECK_EQ(r->type, CIO_REDIS_NIL);
  cio_redis_reply_free(r);

  r = one(",3.25\r\n", 2);
  CHECK_EQ(r->type, CIO_REDIS_DOUBLE);
  CHECK(r->dval == 3.25);
  CHECK_STR(r->str, "3.25");
  cio_redis_reply_free(r);
  r = one(",-inf\r\n", 1);
  CHECK(isinf(r->dval) && r->dval < 0);
  cio_redis_reply_free(r);
  r = one(",nan\r\n", 1);
  CHECK(isnan(r->dval));
  cio_redis_reply_free(r);

  r = one("#t\r\n", 1);
  CHECK_EQ(r->type, CIO_REDIS_BOOL);
  CHECK_EQ(r->integer, 1);
  cio_redis_reply_free(r);

  r = one("(3492890328409238509324850943850943825024385\r\n", 3);
  CHECK_EQ(r->type, CIO_REDIS_BIGNUM);
  CHECK_STR(r->str, "3492890328409238509324850943850943825024385");
  cio_redis_reply_free(r);

  static char longnum[1024]; /* arbitrary precision: longer than any header */
  memset(longnum, '7', 700);
  longnum[0] = '(';
  memcpy(longnum + 700, "\r\n", 3);
  r = one(longnum, 64);
  CHECK(r && r->type == CIO_REDIS_BIGNUM && r->len == 699);
  cio_redis_reply_free(r);

  r = one("!21\r\nSYNTAX invalid syntax\r\n", 1);
  CHECK_EQ(r->type, CIO_REDIS_ERROR);
  CHECK_STR(r->str, "SYNTAX invalid syntax");
  cio_redis_reply_free(r);

  r = one("=15\r\ntxt:Some string\r\n", 1);
  CHECK_EQ(r->type, CIO_REDIS_VERB);
  CHECK_STR(r->format, "txt");
  CHECK_STR(r->str, "Some string");
  CHECK_EQ(r->len, 11);
  cio_redis_reply_free(r);

  r = one("%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n#f\r\n", 1);
  CHECK_EQ(r->type, CIO_REDIS_MAP);
  CHECK_EQ(r->elements, 4);
  const cio_redis_reply *v = cio_redis_reply_get(r, "second", 6);
  CHECK(v && v->type == CIO_REDIS_BOOL && v->integer == 0);
  v = cio_redis_reply_get(r, "first", 5);
  CHECK(v && v->integer == 1);
  CHECK(cio_redis_reply_get(r, "third", 5) == NULL);
  cio_redis_reply_free(r);

  r = one("~2\r\n:1\r\n:2\r\n", 1);
  CHECK_EQ(r->type, CIO_REDIS_SET);
  CHECK_EQ(r->elements, 2);
  cio_redis_reply_free(r);

  r = one(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n", 5);
  CHECK_EQ(r->type, CIO_REDIS_PUSH);
  CHECK_STR(r->element[2].str, "hi");
  cio_redis_reply_free(r);
}

static void test_attributes(void) {
  /* An attribute before the reply, and one before an element. */
  cio_redis_reply *r =
      one("|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*2\r\n:1\r\n|0\r\n:2\r\n", 1);
  CHECK_EQ(r->type, CIO_REDIS_ARRAY);
  CHECK_EQ(r->elements, 2);
  CHECK(r->attribute != NULL);
  if (r->attribute) {
    CHECK_EQ(r->attribute->type, CIO_REDIS_ATTR);
    const cio_redis_reply *pop = cio_redis_reply_get(r->attribute, "key-popularity", 14);
    CHECK(pop && pop->type == CIO_REDIS_MAP);
    if (pop) CHECK(cio_redis_reply_get(pop, "a", 1)->dval == 0.19);
  }
  CHECK(r->element[0].attribute == NULL);
  CHECK(r->element[1].attribute != NULL);
  CHECK_EQ(r->element[1].integer, 2);

  cio_redis_reply *c = cio_redis_reply_copy(r);
  cio_redis_reply_free(r);
  CHECK(c && c->attribute && c->element[1].integer == 2);
  if (c && c->attribute)
    CHECK(cio_redis_reply_get(cio_redis_reply_get(c->attribute, "key-popularity", 14), "a", 1)
              ->dval == 0.19);
  cio_redis_reply_free(c);
}

static void test_copy(void) {
  cio_redis_reply *r = one("*2\r\n$3\r\nabc\r\n*1\r\n=8\r\nmkd:# hi\r\n", 1);
  cio_redis_reply *c = cio_redis_reply_copy(&r->element[1]); /* an element */
  cio_redis_reply_free(r);
  CHECK(c != NULL);
  CHECK_EQ(c->type, CIO_REDIS_ARRAY);
  CHECK_EQ(c->element[0].type, CIO_REDIS_VERB);
  CHECK_STR(c->element[0].format, "mkd");
  CHECK_STR(c->element[0].str, "# hi");
  cio_redis_reply_free(c);
  cio_redis_reply_free(NULL);
  CHECK(cio_redis_reply_copy(NULL) == NULL);
  CHECK_STR(cio_redis_type_name(CIO_REDIS_VERB), "verbatim");
  CHECK_STR(cio_redis_type_name(99), "unknown");
}

static void test_malformed(void) {
  CHECK_STR(why_bad("?\r\n"), "bad reply type byte");
  CHECK_STR(why_bad(":12a\r\n"), "bad integer");
  CHECK_STR(why_bad(":\r\n"), "bad integer");
  CHECK_STR(why_bad(":+5\r\n"), "bad integer"); /* Redis never writes these */
  CHECK_STR(why_bad(":007\r\n"), "bad integer");
  CHECK_STR(why_bad(":-0\r\n"), "bad integer");
  CHECK_STR(why_bad(":99999999999999999999\r\n"), "bad integer");
  CHECK_STR(why_bad("$3\r\nabcd\r\n"), "bulk string not followed by CRLF");
  CHECK_STR(why_bad("$-2\r\n"), "bad length");
  CHECK_STR(why_bad("%-1\r\n"), "bad length");
  CHECK_STR(why_bad("#x\r\n"), "bad boolean");
  CHECK_STR(why_bad("_x\r\n"), "bad null");
  CHECK_STR(why_bad(", 1\r\n"), "bad double");
  CHECK_STR(why_bad(",0x10\r\n"), "bad double");
  CHECK_STR(why_bad(",infinity\r\n"), "bad double");
  CHECK_STR(why_bad("(12x\r\n"), "bad big number");
  CHECK_STR(why_bad("=3\r\ntxt\r\n"), "verbatim string without its format");
  CHECK_STR(why_bad("=5\r\ntxtxy\r\n"), "verbatim string without its format");
  CHECK_STR(why_bad("*1152921504606846977\r\n"), "aggregate too large");
  char deep[1024] = "";
  for (int i = 0; i <= CIO__RESP_MAX_DEPTH; i++) strcat(deep, "*1\r\n");
  CHECK_STR(why_bad(deep), "aggregates nested too deep");
  /* A header line that never ends is garbage, whatever its length. */
  char longline[600];
  memset(longline, '1', sizeof longline);
  longline[0] = '*';
  longline[sizeof longline - 1] = '\0';
  CHECK_STR(why_bad(longline), "header line too long");

  /* RESP3 types in a RESP2 scanner. */
  cio__resp_scanner s;
  cio__resp_scanner_init(&s, 0, 0, 1);
  size_t used;
  CHECK_EQ(cio__resp_scan(&s, "%0\r\n", 4, &used), -EPROTO);
  cio__resp_scanner_init(&s, 0, 0, 0);
  CHECK_EQ(cio__resp_scan(&s, "%0\r\n", 4, &used), 1);
}

static void test_incomplete_and_sequence(void) {
  cio__resp_scanner s;
  cio__resp_scanner_init(&s, 0, 0, 0);
  size_t used;
  /* A line without its CRLF is not consumed. */
  CHECK_EQ(cio__resp_scan(&s, "+OK\r", 4, &used), 0);
  CHECK_EQ(used, 0);
  CHECK_EQ(cio__resp_scan(&s, "+OK\r\n:1\r\n", 10, &used), 1);
  CHECK_EQ(used, 5); /* stops at the end of the first reply */
  cio__resp_scanner_reset(&s);
  CHECK_EQ(cio__resp_scan(&s, ":1\r\n", 4, &used), 1);
  CHECK_EQ(s.top_type, ':');
  /* A bulk payload is consumed as it arrives. */
  cio__resp_scanner_reset(&s);
  CHECK_EQ(cio__resp_scan(&s, "$10\r\nabc", 8, &used), 0);
  CHECK_EQ(used, 8);
  CHECK_EQ(cio__resp_scan(&s, "defghij\r", 8, &used), 0);
  CHECK_EQ(cio__resp_scan(&s, "\n", 1, &used), 1);
  CHECK_EQ(s.total, 17);
  /* The top type of a push with an attribute ahead of it. */
  cio__resp_scanner_reset(&s);
  CHECK_EQ(cio__resp_scan(&s, "|0\r\n>1\r\n:1\r\n", 12, &used), 1);
  CHECK_EQ(s.top_type, '>');
}

static void test_oversize(void) {
  /* A bulk string beyond the limit is scanned to its end, marked. */
  char big[200];
  memset(big, 'x', sizeof big);
  char in[256];
  int n = snprintf(in, sizeof in, "$150\r\n%.150s\r\n", big);
  cio_redis_reply *r;
  size_t len;
  CHECK_EQ(parse(in, (size_t)n, 7, 100, &r, &len, NULL), 2);
  CHECK_EQ(len, (size_t)n);
  /* A simple line too long to keep is skipped up to its CRLF. */
  n = snprintf(in, sizeof in, "-%.150s\r\n", big);
  CHECK_EQ(parse(in, (size_t)n, 10, 100, &r, &len, NULL), 2);
  CHECK_EQ(len, (size_t)n);
  /* Inside an aggregate. */
  n = snprintf(in, sizeof in, "*2\r\n+%.120s\r\n:5\r\n", big);
  CHECK_EQ(parse(in, (size_t)n, 1, 100, &r, &len, NULL), 2);
  CHECK_EQ(len, (size_t)n);
  /* Within the limit it is built. */
  n = snprintf(in, sizeof in, "$90\r\n%.90s\r\n", big);
  CHECK_EQ(parse(in, (size_t)n, 7, 100, &r, &len, NULL), 1);
  CHECK(r && r->len == 90);
  cio_redis_reply_free(r);
}

static int vfmt(cio__resp_out *o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = cio__resp_append_vformat(o, fmt, ap);
  va_end(ap);
  return r;
}

static void test_encode(void) {
  cio__resp_out o = {NULL, 0, 0};
  const char *argv[] = {"SET", "k", "a b"};
  CHECK_EQ(cio__resp_append_command(&o, 3, argv, NULL), 0);
  const char w1[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na b\r\n";
  CHECK(o.len == sizeof w1 - 1 && memcmp(o.p, w1, o.len) == 0);
  o.len = 0;
  size_t lens[] = {3, 1, 0};
  CHECK_EQ(cio__resp_append_command(&o, 3, argv, lens), 0);
  const char w2[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n";
  CHECK(o.len == sizeof w2 - 1 && memcmp(o.p, w2, o.len) == 0);
  o.len = 0;
  CHECK_EQ(cio__resp_append_command(&o, 0, argv, NULL), -EINVAL);
  const char *bad[] = {"GET", NULL};
  CHECK_EQ(cio__resp_append_command(&o, 2, bad, NULL), -EINVAL);
  CHECK_EQ(o.len, 0);

  /* Formats: spaces split arguments, conversions never do. */
  CHECK_EQ(vfmt(&o, "SET key:%d %b", 42, "v a\0l", (size_t)5), 0);
  const char want[] = "*3\r\n$3\r\nSET\r\n$6\r\nkey:42\r\n$5\r\nv a\0l\r\n";
  CHECK(o.len == sizeof want - 1 && memcmp(o.p, want, o.len) == 0);
  o.len = 0;
  CHECK_EQ(vfmt(&o, "  ECHO %s  %lld%% %zu %g ", "", -5LL, (size_t)7, 0.5), 0);
  const char want2[] = "*5\r\n$4\r\nECHO\r\n$0\r\n\r\n$3\r\n-5%\r\n$1\r\n7\r\n$3\r\n0.5\r\n";
  CHECK(o.len == sizeof want2 - 1 && memcmp(o.p, want2, o.len) == 0);
  o.len = 0;
  CHECK_EQ(vfmt(&o, "GET %q", 1), -EINVAL);
  CHECK_EQ(vfmt(&o, "   "), -EINVAL);
  CHECK_EQ(vfmt(&o, "GET %s", (const char *)NULL), -EINVAL);
  CHECK_EQ(o.len, 0);
  cio__resp_out_free(&o);
}

int main(void) {
  RUN(test_resp2_types);
  RUN(test_resp3_types);
  RUN(test_attributes);
  RUN(test_copy);
  RUN(test_malformed);
  RUN(test_incomplete_and_sequence);
  RUN(test_oversize);
  RUN(test_encode);
  return test_report();
}
