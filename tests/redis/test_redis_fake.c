/* test_redis_fake.c - servers that misbehave, written here with cio's own
 * server API: malformed replies, replies nobody asked for, a connection
 * closed mid-reply, a server that never answers (timeouts and cancellation
 * while opening), a server without HELLO (RESP2 fallback). */
#include "test.h"
#include "test_loop.h"

#include <cio/net.h>
#include <cio/redis.h>

#define HELLO_OK "%1\r\n$6\r\nserver\r\n$4\r\nfake\r\n"
#define SILENT   ""        /* read the command, never answer */
#define CLOSE    "<close>" /* at the end of an answer: then close */

typedef struct script {
  const char *const *steps; /* one answer per command read, NULL-ended */
  char seen[4096];          /* every byte the client sent */
  size_t nseen;
} script;

static int fake_handler(cio_stream *s, void *arg) {
  script *sc = arg;
  for (const char *const *step = sc->steps; *step; step++) {
    char buf[1024];
    ssize_t n = cio_stream_read(s, buf, sizeof buf);
    if (n <= 0) return (int)n;
    size_t keep = (size_t)n < sizeof sc->seen - sc->nseen ? (size_t)n : sizeof sc->seen - sc->nseen;
    memcpy(sc->seen + sc->nseen, buf, keep);
    sc->nseen += keep;
    if (strcmp(*step, SILENT) == 0) return cio_sleep(3600);
    size_t len = strlen(*step);
    int close = len >= strlen(CLOSE) && strcmp(*step + len - strlen(CLOSE), CLOSE) == 0;
    if (close) len -= strlen(CLOSE);
    int r = cio_stream_write(s, *step, len);
    if (r < 0 || close) return r;
  }
  char buf[64];
  while (cio_stream_read(s, buf, sizeof buf) > 0) {
  }
  return 0;
}

typedef struct fake {
  cio_server *srv;
  script sc;
  char url[128];
} fake;

static int fake_start(fake *f, const char *const *steps, const char *suffix) {
  memset(f, 0, sizeof *f);
  f->sc.steps = steps;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, fake_handler, &f->sc, NULL, &f->srv), 0);
  if (!f->srv) return -1;
  snprintf(f->url, sizeof f->url, "redis://127.0.0.1:%d%s", cio_server_port(f->srv),
           suffix ? suffix : "");
  return 0;
}

static void fake_stop(fake *f) {
  cio_server_close(f->srv, 0.1);
  cio_server_free(f->srv);
}

static cio_redis *fake_open(fake *f, const char *const *steps) {
  if (fake_start(f, steps, NULL) < 0) return NULL;
  cio_redis *c = NULL;
  CHECK_EQ(cio_redis_open(f->url, NULL, &c), 0);
  return c;
}

LOOP_TEST(test_bad_type_byte) {
  static const char *const steps[] = {HELLO_OK, "?what\r\n", NULL};
  fake f;
  cio_redis *c = fake_open(&f, steps);
  if (c) {
    CHECK_EQ(cio_redis_protocol(c), 3);
    CHECK_EQ(cio_redis_commandf(c, NULL, "GET k"), -EPROTO);
    CHECK_STR(cio_redis_last_error(), "protocol error: bad reply type byte");
    CHECK_EQ(cio_redis_status(c), -EPROTO);
    CHECK_EQ(cio_redis_commandf(c, NULL, "PING"), -EPROTO);
    CHECK_STR(cio_redis_last_error(), "protocol error: bad reply type byte");
  }
  cio_redis_free(c);
  fake_stop(&f);
  return 0;
}

LOOP_TEST(test_bad_replies) {
  static const char *const bad[][3] = {
      {HELLO_OK, ":12x\r\n", NULL},
      {HELLO_OK, "$3\r\nabcde\r\n", NULL},
      {HELLO_OK, "*1\r\n#maybe\r\n", NULL},
      {HELLO_OK, "%1\r\n+key\r\n!x\r\n", NULL},
  };
  static const char *const why[] = {"bad integer", "bulk string not followed by CRLF",
                                    "bad boolean", "bad length"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    fake f;
    cio_redis *c = fake_open(&f, bad[i]);
    if (c) {
      CHECK_EQ(cio_redis_commandf(c, NULL, "GET k"), -EPROTO);
      char want[128];
      snprintf(want, sizeof want, "protocol error: %s", why[i]);
      CHECK_STR(cio_redis_last_error(), want);
    }
    cio_redis_free(c);
    fake_stop(&f);
  }
  return 0;
}

/* Nesting deeper than the parser takes, and a header line that never ends. */
LOOP_TEST(test_too_deep_and_endless) {
  static char deep[4096];
  strcpy(deep, "");
  for (int i = 0; i < 100; i++) strcat(deep, "*1\r\n");
  strcat(deep, ":1\r\n");
  static const char *const s1[] = {HELLO_OK, deep, NULL};
  fake f;
  cio_redis *c = fake_open(&f, s1);
  if (c) {
    CHECK_EQ(cio_redis_commandf(c, NULL, "GET k"), -EPROTO);
    CHECK_STR(cio_redis_last_error(), "protocol error: aggregates nested too deep");
  }
  cio_redis_free(c);
  fake_stop(&f);

  static char endless[2048];
  memset(endless, '7', sizeof endless - 1);
  endless[0] = ':';
  static const char *const s2[] = {HELLO_OK, endless, NULL};
  c = fake_open(&f, s2);
  if (c) {
    CHECK_EQ(cio_redis_commandf(c, NULL, "GET k"), -EPROTO);
    CHECK_STR(cio_redis_last_error(), "protocol error: header line too long");
  }
  cio_redis_free(c);
  fake_stop(&f);
  return 0;
}

/* Two replies to one command: the command gets the first, the connection
 * is broken (it cannot know which command the second belongs to). */
LOOP_TEST(test_reply_to_nothing) {
  static const char *const steps[] = {HELLO_OK, "+OK\r\n+EXTRA\r\n", NULL};
  fake f;
  cio_redis *c = fake_open(&f, steps);
  if (c) {
    cio_redis_reply *r;
    CHECK_EQ(cio_redis_commandf(c, &r, "SET k v"), 0);
    CHECK(r && strcmp(r->str, "OK") == 0);
    cio_redis_reply_free(r);
    CHECK_EQ(cio_redis_commandf(c, NULL, "PING"), -EPROTO);
    CHECK_STR(cio_redis_last_error(), "protocol error: a reply to no command");
  }
  cio_redis_free(c);
  fake_stop(&f);
  return 0;
}

/* A RESP3 push with no callback is dropped; the reply still meets its
 * command. */
LOOP_TEST(test_push_dropped) {
  static const char *const steps[] = {HELLO_OK, ">2\r\n+inval\r\n+k\r\n+OK\r\n", NULL};
  fake f;
  cio_redis *c = fake_open(&f, steps);
  if (c) {
    cio_redis_reply *r;
    CHECK_EQ(cio_redis_commandf(c, &r, "SET k v"), 0);
    CHECK(r && r->type == CIO_REDIS_STATUS && strcmp(r->str, "OK") == 0);
    cio_redis_reply_free(r);
  }
  cio_redis_free(c);
  fake_stop(&f);
  return 0;
}

LOOP_TEST(test_closed_mid_reply) {
  static const char *const steps[] = {HELLO_OK, "$10\r\nabc" CLOSE, NULL};
  fake f;
  cio_redis *c = fake_open(&f, steps);
  if (c) {
    CHECK_EQ(cio_redis_commandf(c, NULL, "GET k"), -ECONNRESET);
    CHECK_STR(cio_redis_last_error(), "connection closed by the server");
    CHECK_EQ(cio_redis_status(c), -ECONNRESET);
  }
  cio_redis_free(c);
  fake_stop(&f);
  return 0;
}

/* Redis before 6 has no HELLO: RESP2 with AUTH, unless 3 was required. */
LOOP_TEST(test_hello_fallback) {
  /* HELLO and SELECT go together; then AUTH and SELECT; then PING. */
  static const char *const steps[] = {"-ERR unknown command 'HELLO'\r\n-NOAUTH x\r\n",
                                      "+OK\r\n+OK\r\n", "+PONG\r\n", NULL};
  fake f;
  if (fake_start(&f, steps, NULL) < 0) return 0;
  char url[160];
  snprintf(url, sizeof url, "redis://:pw@%s/2", f.url + strlen("redis://"));
  cio_redis *c = NULL;
  CHECK_EQ(cio_redis_open(url, NULL, &c), 0);
  if (c) {
    CHECK_EQ(cio_redis_protocol(c), 2);
    CHECK_EQ(cio_redis_commandf(c, NULL, "PING"), 0);
  }
  f.sc.seen[f.sc.nseen < sizeof f.sc.seen ? f.sc.nseen : sizeof f.sc.seen - 1] = '\0';
  CHECK(strstr(f.sc.seen, "HELLO") && strstr(f.sc.seen, "$4\r\nAUTH\r\n$2\r\npw\r\n") &&
        strstr(f.sc.seen, "$6\r\nSELECT\r\n$1\r\n2\r\n"));
  cio_redis_free(c);
  fake_stop(&f);

  static const char *const steps3[] = {"-ERR unknown command 'HELLO'\r\n", NULL};
  if (fake_start(&f, steps3, NULL) < 0) return 0;
  cio_redis_opts o = {.protocol = 3};
  CHECK_EQ(cio_redis_open(f.url, &o, &c), -CIO_EREDIS);
  CHECK(strstr(cio_redis_last_error(), "HELLO 3") != NULL);
  fake_stop(&f);
  return 0;
}

/* A server that accepts and never answers: open ends at its timeout. */
LOOP_TEST(test_silent_server_timeout) {
  static const char *const steps[] = {SILENT, NULL};
  fake f;
  if (fake_start(&f, steps, NULL) < 0) return 0;
  cio_redis_opts o = {.connect_timeout = 0.1};
  cio_redis *c = (cio_redis *)1;
  CHECK_EQ(cio_redis_open(f.url, &o, &c), -ETIMEDOUT);
  CHECK(c == NULL);
  CHECK(strstr(cio_redis_last_error(), "no ready server within") != NULL);
  /* An enclosing scope works too. */
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 0.05);
  o.connect_timeout = CIO_FOREVER;
  CHECK_EQ(cio_redis_open(f.url, &o, &c), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&sc), 1);
  fake_stop(&f);
  return 0;
}

typedef struct opener {
  const char *url;
  cio_redis *c;
} opener;

static int open_fn(void *arg) {
  opener *o = arg;
  return cio_redis_open(o->url, NULL, &o->c);
}

LOOP_TEST(test_cancel_open) {
  static const char *const steps[] = {SILENT, NULL};
  fake f;
  if (fake_start(&f, steps, NULL) < 0) return 0;
  opener o = {f.url, (cio_redis *)1};
  cio_task *t = cio_spawn(open_fn, &o);
  wait_blocked(t); /* connecting or waiting for HELLO's reply */
  settle_io();
  cio_task_cancel(t);
  CHECK_EQ(join(t), -ECANCELED);
  CHECK(o.c == NULL);
  /* cancelled before it started: nothing done */
  o.c = (cio_redis *)1;
  t = cio_spawn(open_fn, &o);
  cio_task_cancel(t);
  CHECK_EQ(join(t), -ECANCELED);
  fake_stop(&f);
  return 0;
}

int main(void) {
  RUN(test_bad_type_byte);
  RUN(test_bad_replies);
  RUN(test_too_deep_and_endless);
  RUN(test_reply_to_nothing);
  RUN(test_push_dropped);
  RUN(test_closed_mid_reply);
  RUN(test_hello_fallback);
  RUN(test_silent_server_timeout);
  RUN(test_cancel_open);
  return test_report();
}
