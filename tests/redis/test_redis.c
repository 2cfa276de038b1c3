/* test_redis.c - connections against a real redis-server: open (URLs,
 * HELLO, AUTH, SELECT, unix sockets), commands, reply types of both
 * protocols, server errors, limits, pushes. */
#include "test.h"
#include "test_loop.h"

#include "redis_test.h"

#include <math.h>

LOOP_TEST(test_set_get_binary) {
  cio_redis *c = test_open(NULL);
  if (!c) return 0;
  CHECK_EQ(cio_redis_protocol(c), 3);
  char key[64];
  test_key(key, sizeof key, "bin");
  static const char val[] = "a\0b\r\nc $-1\r\n"; /* NUL, CRLF, RESP syntax */
  const char *argv[] = {"SET", key, val};
  size_t lens[] = {3, strlen(key), sizeof val - 1};
  cio_redis_reply *r;
  CHECK_EQ(cio_redis_command(c, 3, argv, lens, &r), 0);
  CHECK(r && r->type == CIO_REDIS_STATUS);
  if (r) CHECK_STR(r->str, "OK");
  cio_redis_reply_free(r);
  CHECK_EQ(cio_redis_commandf(c, &r, "GET %s", key), 0);
  CHECK(r && r->type == CIO_REDIS_STRING && r->len == sizeof val - 1);
  if (r) CHECK(memcmp(r->str, val, sizeof val) == 0); /* and the NUL after it */
  cio_redis_reply_free(r);
  /* %b takes binary data whole, spaces included */
  CHECK_EQ(cio_redis_commandf(c, NULL, "SET %s:2 %b", key, "x y\0z", (size_t)5), 0);
  CHECK_EQ(cio_redis_commandf(c, &r, "STRLEN %s:2", key), 0);
  CHECK(r && r->type == CIO_REDIS_INTEGER && r->integer == 5);
  cio_redis_reply_free(r);
  CHECK_EQ(cio_redis_commandf(c, &r, "GET %s:missing", key), 0);
  CHECK(r && r->type == CIO_REDIS_NIL);
  cio_redis_reply_free(r);
  CHECK_EQ(cio_redis_commandf(c, NULL, "DEL %s %s:2", key, key), 0);
  CHECK_EQ(cio_redis_pending(c), 0);
  CHECK_EQ(cio_redis_close(c), 0);
  CHECK_EQ(cio_redis_close(c), 0); /* idempotent */
  CHECK_EQ(cio_redis_commandf(c, NULL, "PING"), -EBADF);
  CHECK_EQ(cio_redis_status(c), -EBADF);
  cio_redis_free(c);
  return 0;
}

LOOP_TEST(test_server_errors) {
  cio_redis *c = test_open(NULL);
  if (!c) return 0;
  char key[64];
  test_key(key, sizeof key, "errors");
  CHECK_EQ(cio_redis_commandf(c, NULL, "SET %s x", key), 0);
  cio_redis_reply *r = (cio_redis_reply *)1;
  CHECK_EQ(cio_redis_commandf(c, &r, "LPUSH %s y", key), -CIO_EREDIS);
  CHECK(r == NULL);
  CHECK(strncmp(cio_redis_last_error(), "WRONGTYPE", 9) == 0);
  CHECK_EQ(cio_redis_commandf(c, NULL, "NOSUCHCOMMAND a b"), -CIO_EREDIS);
  CHECK(strstr(cio_redis_last_error(), "unknown command") != NULL);
  /* An error reply leaves the connection good. */
  CHECK_EQ(cio_redis_commandf(c, &r, "PING"), 0);
  CHECK(r && r->type == CIO_REDIS_STATUS);
  cio_redis_reply_free(r);
  /* Caller mistakes. */
  CHECK_EQ(cio_redis_commandf(c, NULL, "GET %q", 1), -EINVAL);
  CHECK_EQ(cio_redis_commandf(c, NULL, ""), -EINVAL);
  CHECK_EQ(cio_redis_command(c, 0, NULL, NULL, NULL), -EINVAL);
  CHECK_EQ(cio_redis_command(NULL, 1, NULL, NULL, NULL), -EINVAL);
  CHECK_EQ(cio_redis_commandf(c, NULL, "DEL %s", key), 0);
  CHECK_STR(cio_strerror_name(-CIO_EREDIS), "CIO_EREDIS"); /* the core knows the codes */
  CHECK_STR(cio_strerror_name(-CIO_EWATCH), "CIO_EWATCH");
  cio_redis_free(c);
  return 0;
}

/* Every RESP3 type, as Redis's DEBUG PROTOCOL sends it. */
LOOP_TEST(test_resp3_types) {
  cio_redis *c = test_open(NULL);
  if (!c) return 0;
  cio_redis_reply *r;
  CHECK_EQ(cio_redis_commandf(c, &r, "DEBUG PROTOCOL map"), 0);
  CHECK(r && r->type == CIO_REDIS_MAP && r->elements == 6);
  cio_redis_reply_free(r);
  CHECK_EQ(cio_redis_commandf(c, &r, "DEBUG PROTOCOL set"), 0);
  CHECK(r && r->type == CIO_REDIS_SET && r->elements == 3);
  cio_redis_reply_free(r);
  CHECK_EQ(cio_redis_commandf(c, &r, "DEBUG PROTOCOL double"), 0);
  CHECK(r && r->type == CIO_REDIS_DOUBLE && fabs(r->dval - 3.141) < 1e-9);
  cio_redis_reply_free(r);
  CHECK_EQ(cio_redis_commandf(c, &r, "DEBUG PROTOCOL bignum"), 0);
  CHECK(r && r->type == CIO_REDIS_BIGNUM);
  if (r) CHECK_STR(r->str, "1234567999999999999999999999999999999");
  cio_redis_reply_free(r);
  CHECK_EQ(cio_redis_commandf(c, &r, "DEBUG PROTOCOL true"), 0);
  CHECK(r && r->type == CIO_REDIS_BOOL && r->integer == 1);
  cio_redis_reply_free(r);
  CHECK_EQ(cio_redis_commandf(c, &r, "DEBUG PROTOCOL null"), 0);
  CHECK(r && r->type == CIO_REDIS_NIL);
  cio_redis_reply_free(r);
  CHECK_EQ(cio_redis_commandf(c, &r, "DEBUG PROTOCOL verbatim"), 0);
  CHECK(r && r->type == CIO_REDIS_VERB);
  if (r) {
    CHECK_STR(r->format, "txt");
    CHECK_STR(r->str, "This is a verbatim\nstring");
  }
  cio_redis_reply_free(r);
  CHECK_EQ(cio_redis_commandf(c, &r, "DEBUG PROTOCOL attrib"), 0);
  CHECK(r && r->type == CIO_REDIS_STRING && r->attribute != NULL);
  if (r && r->attribute) {
    CHECK_EQ(r->attribute->type, CIO_REDIS_ATTR);
    CHECK(cio_redis_reply_get(r->attribute, "key-popularity", 14) != NULL);
  }
  cio_redis_reply_free(r);
  /* A map from a real command, read by key. */
  char key[64];
  test_key(key, sizeof key, "hash");
  CHECK_EQ(cio_redis_commandf(c, NULL, "HSET %s f1 v1 f2 v2", key), 0);
  CHECK_EQ(cio_redis_commandf(c, &r, "HGETALL %s", key), 0);
  CHECK(r && r->type == CIO_REDIS_MAP && r->elements == 4);
  const cio_redis_reply *v = cio_redis_reply_get(r, "f2", 2);
  CHECK(v && v->type == CIO_REDIS_STRING);
  if (v) CHECK_STR(v->str, "v2");
  cio_redis_reply_free(r);
  CHECK_EQ(cio_redis_commandf(c, NULL, "DEL %s", key), 0);
  cio_redis_free(c);
  return 0;
}

LOOP_TEST(test_resp2) {
  cio_redis_opts o = {.protocol = 2};
  cio_redis *c = test_open(&o);
  if (!c) return 0;
  CHECK_EQ(cio_redis_protocol(c), 2);
  char key[64];
  test_key(key, sizeof key, "hash2");
  CHECK_EQ(cio_redis_commandf(c, NULL, "HSET %s f1 v1", key), 0);
  cio_redis_reply *r;
  CHECK_EQ(cio_redis_commandf(c, &r, "HGETALL %s", key), 0);
  CHECK(r && r->type == CIO_REDIS_ARRAY && r->elements == 2); /* a map is an array in RESP2 */
  const cio_redis_reply *v = cio_redis_reply_get(r, "f1", 2);
  CHECK(v && strcmp(v->str, "v1") == 0);
  cio_redis_reply_free(r);
  CHECK_EQ(cio_redis_commandf(c, &r, "DEBUG PROTOCOL double"), 0);
  CHECK(r && r->type == CIO_REDIS_STRING); /* RESP2: a double is a string */
  cio_redis_reply_free(r);
  CHECK_EQ(cio_redis_commandf(c, NULL, "DEL %s", key), 0);
  cio_redis_free(c);
  return 0;
}

LOOP_TEST(test_urls) {
  /* db from the path, and from ?db= on a unix socket */
  cio_redis *c;
  cio_redis_reply *r;
  CHECK_EQ(cio_redis_open(test_redis_url("/3"), NULL, &c), 0);
  if (c) {
    CHECK_EQ(cio_redis_commandf(c, &r, "CLIENT INFO"), 0);
    CHECK(r && strstr(r->str, " db=3 ") != NULL);
    cio_redis_reply_free(r);
    cio_redis_free(c);
  }
  char url[600];
  snprintf(url, sizeof url, "unix://%s?db=5", test_redis_socket());
  CHECK_EQ(cio_redis_open(url, NULL, &c), 0);
  if (c) {
    CHECK_EQ(cio_redis_commandf(c, &r, "CLIENT INFO"), 0);
    CHECK(r && strstr(r->str, " db=5 ") != NULL);
    cio_redis_reply_free(r);
    cio_redis_free(c);
  }
  /* a client name */
  cio_redis_opts o = {.client_name = "cio-test"};
  CHECK_EQ(cio_redis_open(test_redis_url(NULL), &o, &c), 0);
  if (c) {
    CHECK_EQ(cio_redis_commandf(c, &r, "CLIENT GETNAME"), 0);
    CHECK(r && strcmp(r->str, "cio-test") == 0);
    cio_redis_reply_free(r);
    cio_redis_free(c);
  }
  /* bad URLs */
  c = (cio_redis *)1;
  CHECK_EQ(cio_redis_open("http://127.0.0.1", NULL, &c), -EINVAL);
  CHECK(c == NULL);
  CHECK(strstr(cio_redis_last_error(), "scheme") != NULL);
  CHECK_EQ(cio_redis_open("redis://127.0.0.1:99999", NULL, &c), -EINVAL);
  CHECK_EQ(cio_redis_open("redis://127.0.0.1:6379/x", NULL, &c), -EINVAL);
  CHECK_EQ(cio_redis_open("redis://", NULL, &c), -EINVAL);
  CHECK_EQ(cio_redis_open("redis://[::1", NULL, &c), -EINVAL);
  CHECK_EQ(cio_redis_open("redis://a:%zz@host", NULL, &c), -EINVAL);
  CHECK_EQ(cio_redis_open("redis://host?foo=1", NULL, &c), -EINVAL);
  CHECK_EQ(cio_redis_open("unix://relative/path", NULL, &c), -EINVAL);
  CHECK_EQ(cio_redis_open(NULL, NULL, &c), -EINVAL);
  CHECK_EQ(cio_redis_open(test_redis_url(NULL), NULL, NULL), -EINVAL);
  cio_redis_opts bad = {.protocol = 4};
  CHECK_EQ(cio_redis_open(test_redis_url(NULL), &bad, &c), -EINVAL);
  /* a database that does not exist */
  CHECK_EQ(cio_redis_open(test_redis_url("/100000"), NULL, &c), -CIO_EREDIS);
  CHECK(strstr(cio_redis_last_error(), "SELECT") != NULL);
  return 0;
}

LOOP_TEST(test_auth) {
  cio_redis *admin = test_open(NULL);
  if (!admin) return 0;
  char user[64], url[256];
  snprintf(user, sizeof user, "cio-user-%ld", (long)getpid());
  CHECK_EQ(cio_redis_commandf(admin, NULL, "ACL SETUSER %s on >s3cr%%t@x ~* &* +@all", user), 0);
  /* user and password, %-encoded */
  snprintf(url, sizeof url, "redis://%s:s3cr%%25t%%40x@127.0.0.1:%d/2", user, test_redis_port());
  cio_redis *c;
  CHECK_EQ(cio_redis_open(url, NULL, &c), 0);
  if (c) {
    cio_redis_reply *r;
    CHECK_EQ(cio_redis_commandf(c, &r, "ACL WHOAMI"), 0);
    CHECK(r && strcmp(r->str, user) == 0);
    cio_redis_reply_free(r);
    cio_redis_free(c);
  }
  /* RESP2: AUTH user password */
  cio_redis_opts o2 = {.protocol = 2};
  CHECK_EQ(cio_redis_open(url, &o2, &c), 0);
  cio_redis_free(c);
  /* wrong password */
  snprintf(url, sizeof url, "redis://%s:nope@127.0.0.1:%d", user, test_redis_port());
  CHECK_EQ(cio_redis_open(url, NULL, &c), -EACCES);
  CHECK(c == NULL);
  CHECK(strstr(cio_redis_last_error(), "WRONGPASS") != NULL);
  CHECK_EQ(cio_redis_open(url, &o2, &c), -EACCES);
  CHECK_EQ(cio_redis_commandf(admin, NULL, "ACL DELUSER %s", user), 0);
  cio_redis_free(admin);
  return 0;
}

static int no_handler(cio_stream *s, void *arg) {
  (void)s;
  (void)arg;
  return 0;
}

LOOP_TEST(test_server_down) {
  /* Nobody listens: a clear error at once. Find a port that is free by
   * binding it and closing it again. */
  cio_server *srv = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, no_handler, NULL, NULL, &srv), 0);
  if (!srv) return 0;
  int port = cio_server_port(srv);
  cio_server_free(srv);
  char url[128];
  snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
  cio_redis *c;
  CHECK_EQ(cio_redis_open(url, NULL, &c), -ECONNREFUSED);
  CHECK(strstr(cio_redis_last_error(), "cannot connect") != NULL);
  char path[600];
  snprintf(path, sizeof path, "unix://%s.nothere", test_redis_socket());
  CHECK_EQ(cio_redis_open(path, NULL, &c), -ENOENT);
  return 0;
}

/* A value larger than the input buffer is read into one (grown) buffer;
 * one larger than max_reply fails its command and is skipped. */
LOOP_TEST(test_large_and_oversize) {
  cio_redis_opts o = {.max_reply = 1 << 20};
  cio_redis *c = test_open(&o);
  if (!c) return 0;
  char key[64];
  test_key(key, sizeof key, "big");
  size_t n = 3u << 20;
  char *big = malloc(n);
  for (size_t i = 0; i < n; i++) big[i] = (char)('a' + i % 26);
  const char *argv[] = {"SET", key, big};
  size_t lens[] = {3, strlen(key), n};
  CHECK_EQ(cio_redis_command(c, 3, argv, lens, NULL), 0);
  cio_redis_reply *r = (cio_redis_reply *)1;
  CHECK_EQ(cio_redis_commandf(c, &r, "GET %s", key), -EMSGSIZE);
  CHECK(r == NULL);
  CHECK(strstr(cio_redis_last_error(), "max_reply") != NULL);
  CHECK_EQ(cio_redis_status(c), 0); /* still good */
  CHECK_EQ(cio_redis_commandf(c, &r, "STRLEN %s", key), 0);
  CHECK(r && r->integer == (long long)n);
  cio_redis_reply_free(r);
  /* An oversize reply inside an aggregate. */
  CHECK_EQ(cio_redis_commandf(c, &r, "MGET %s %s", key, key), -EMSGSIZE);
  CHECK_EQ(cio_redis_commandf(c, NULL, "PING"), 0);
  cio_redis_free(c);

  /* Within the default limit: the whole value, byte for byte. */
  c = test_open(NULL);
  if (c) {
    CHECK_EQ(cio_redis_commandf(c, &r, "GET %s", key), 0);
    CHECK(r && r->len == n && memcmp(r->str, big, n) == 0 && r->str[n] == '\0');
    /* A copy outlives the connection and its buffer. */
    cio_redis_reply *copy = cio_redis_reply_copy(r);
    cio_redis_reply_free(r);
    CHECK_EQ(cio_redis_commandf(c, NULL, "DEL %s", key), 0);
    cio_redis_free(c);
    CHECK(copy && copy->len == n && memcmp(copy->str, big, n) == 0);
    cio_redis_reply_free(copy);
  }
  free(big);
  return 0;
}

/* A reply kept while many more are read: the buffer it points into stays. */
LOOP_TEST(test_replies_outlive_buffers) {
  cio_redis_opts o = {.read_buffer = 8192};
  cio_redis *c = test_open(&o);
  if (!c) return 0;
  char key[64];
  test_key(key, sizeof key, "keep");
  CHECK_EQ(cio_redis_commandf(c, NULL, "SET %s first-value", key), 0);
  cio_redis_reply *kept;
  CHECK_EQ(cio_redis_commandf(c, &kept, "GET %s", key), 0);
  char filler[3000];
  memset(filler, 'f', sizeof filler);
  for (int i = 0; i < 50; i++) {
    cio_redis_reply *r;
    CHECK_EQ(cio_redis_commandf(c, &r, "ECHO %b", filler, sizeof filler), 0);
    CHECK(r && r->len == sizeof filler);
    cio_redis_reply_free(r);
  }
  cio_redis_free(c);
  CHECK(kept && strcmp(kept->str, "first-value") == 0);
  cio_redis_reply_free(kept);
  c = test_open(NULL);
  if (c) CHECK_EQ(cio_redis_commandf(c, NULL, "DEL %s", key), 0);
  cio_redis_free(c);
  return 0;
}

/* RESP3 pushes that are not replies (client-side caching invalidations)
 * go to on_push; replies still meet their commands. */
typedef struct pushes {
  int n;
  char last[128];
} pushes;

static void on_push(cio_redis *c, cio_redis_reply *push, void *arg) {
  (void)c;
  pushes *p = arg;
  p->n++;
  if (push->elements >= 1) snprintf(p->last, sizeof p->last, "%s", push->element[0].str);
  cio_redis_reply_free(push);
}

LOOP_TEST(test_push_callback) {
  pushes seen = {0, ""};
  cio_redis_opts o = {.on_push = on_push, .push_arg = &seen};
  cio_redis *c = test_open(&o);
  cio_redis *other = test_open(NULL);
  if (!c || !other) return 0;
  char key[64];
  test_key(key, sizeof key, "tracked");
  CHECK_EQ(cio_redis_commandf(c, NULL, "CLIENT TRACKING on"), 0);
  CHECK_EQ(cio_redis_commandf(c, NULL, "GET %s", key), 0); /* now tracked */
  CHECK_EQ(cio_redis_commandf(other, NULL, "SET %s changed", key), 0);
  /* The invalidation comes before the reply to our next command. */
  cio_redis_reply *r;
  for (int i = 0; i < 100 && seen.n == 0; i++) {
    CHECK_EQ(cio_redis_commandf(c, &r, "PING"), 0);
    CHECK(r && r->type == CIO_REDIS_STATUS);
    cio_redis_reply_free(r);
    if (seen.n == 0) cio_sleep(0.01);
  }
  CHECK(seen.n >= 1);
  CHECK_STR(seen.last, "invalidate");
  CHECK_EQ(cio_redis_commandf(other, NULL, "DEL %s", key), 0);
  cio_redis_free(c);
  cio_redis_free(other);
  return 0;
}

int main(void) {
  RUN(test_set_get_binary);
  RUN(test_server_errors);
  RUN(test_resp3_types);
  RUN(test_resp2);
  RUN(test_urls);
  RUN(test_auth);
  RUN(test_server_down);
  RUN(test_large_and_oversize);
  RUN(test_replies_outlive_buffers);
  RUN(test_push_callback);
  return test_report();
}
