/* test_redis_pubsub.c - pub/sub against a real redis-server, with RESP3
 * (push frames) and RESP2 (arrays on a subscribed connection). */
#include "test.h"
#include "test_loop.h"

#include <cio/redis_pubsub.h>

#include "redis_test.h"

static cio_redis_pubsub *ps_open(int protocol) {
  cio_redis_opts o = {.protocol = protocol};
  cio_redis_pubsub *ps = NULL;
  int r = cio_redis_pubsub_open(test_redis_url(NULL), &o, &ps);
  CHECK_EQ(r, 0);
  return ps;
}

static void publish(cio_redis *c, const char *channel, const char *data, size_t len) {
  cio_redis_reply *r;
  CHECK_EQ(cio_redis_commandf(c, &r, "PUBLISH %s %b", channel, data, len), 0);
  CHECK(r && r->type == CIO_REDIS_INTEGER && r->integer >= 1);
  cio_redis_reply_free(r);
}

static void subscribe_publish_get(int protocol) {
  cio_redis_pubsub *ps = ps_open(protocol);
  cio_redis *pub = test_open(NULL);
  if (!ps || !pub) return;
  char a[64], b[64], pat[64];
  test_key(a, sizeof a, "chan-a");
  test_key(b, sizeof b, "chan-b");
  test_key(pat, sizeof pat, "pat-*");
  const char *chans[] = {a, b};
  CHECK_EQ(cio_redis_pubsub_subscribe(ps, 2, chans, NULL), 0);
  CHECK_EQ(cio_redis_pubsub_channels(ps), 2);
  const char *pats[] = {pat};
  CHECK_EQ(cio_redis_pubsub_psubscribe(ps, 1, pats, NULL), 0);
  CHECK_EQ(cio_redis_pubsub_patterns(ps), 1);

  publish(pub, a, "one", 3);
  publish(pub, b, "t\0o", 3); /* binary */
  char pc[64];
  test_key(pc, sizeof pc, "pat-x");
  publish(pub, pc, "three", 5);

  cio_redis_message m;
  CHECK_EQ(cio_redis_pubsub_get(ps, &m), 0);
  CHECK_EQ(m.kind, CIO_REDIS_MESSAGE);
  CHECK_STR(m.channel, a);
  CHECK(m.len == 3 && memcmp(m.data, "one", 3) == 0);
  CHECK(m.pattern == NULL);
  cio_redis_message_clear(&m);
  CHECK(m.reply == NULL);
  CHECK_EQ(cio_redis_pubsub_get(ps, &m), 0);
  CHECK_STR(m.channel, b);
  CHECK(m.len == 3 && memcmp(m.data, "t\0o", 3) == 0);
  cio_redis_message_clear(&m);
  CHECK_EQ(cio_redis_pubsub_get(ps, &m), 0);
  CHECK_EQ(m.kind, CIO_REDIS_PMESSAGE);
  CHECK_STR(m.pattern, pat);
  CHECK_STR(m.channel, pc);
  CHECK_STR(m.data, "three");
  cio_redis_message_clear(&m);

  CHECK_EQ(cio_redis_pubsub_ping(ps), 0); /* subscribed: RESP2 answers an array */
  const char *one[] = {a};
  CHECK_EQ(cio_redis_pubsub_unsubscribe(ps, 1, one, NULL), 0);
  CHECK_EQ(cio_redis_pubsub_channels(ps), 1);
  CHECK_EQ(cio_redis_pubsub_unsubscribe(ps, 0, NULL, NULL), 0); /* all */
  CHECK_EQ(cio_redis_pubsub_channels(ps), 0);
  CHECK_EQ(cio_redis_pubsub_patterns(ps), 1);
  CHECK_EQ(cio_redis_pubsub_punsubscribe(ps, 0, NULL, NULL), 0);
  CHECK_EQ(cio_redis_pubsub_patterns(ps), 0);
  CHECK_EQ(cio_redis_pubsub_unsubscribe(ps, 0, NULL, NULL), 0); /* none left: one reply */
  CHECK_EQ(cio_redis_pubsub_ping(ps), 0);
  CHECK_EQ(cio_redis_pubsub_subscribe(ps, 0, NULL, NULL), -EINVAL);
  cio_redis_pubsub_free(ps);
  cio_redis_free(pub);
}

LOOP_TEST(test_pubsub_resp3) {
  subscribe_publish_get(3);
  return 0;
}

LOOP_TEST(test_pubsub_resp2) {
  subscribe_publish_get(2);
  return 0;
}

typedef struct getter {
  cio_redis_pubsub *ps;
  cio_redis_message m;
  int status;
} getter;

static int get_fn(void *arg) {
  getter *g = arg;
  g->status = cio_redis_pubsub_get(g->ps, &g->m);
  return g->status;
}

/* get waits for a message while other tasks subscribe and publish. */
LOOP_TEST(test_pubsub_waiting_get) {
  cio_redis_pubsub *ps = ps_open(0);
  cio_redis *pub = test_open(NULL);
  if (!ps || !pub) return 0;
  char ch[64], ch2[64];
  test_key(ch, sizeof ch, "wait");
  test_key(ch2, sizeof ch2, "wait2");
  const char *chans[] = {ch};
  CHECK_EQ(cio_redis_pubsub_subscribe(ps, 1, chans, NULL), 0);
  getter g = {ps, {0}, 1};
  cio_task *t = cio_spawn(get_fn, &g);
  wait_blocked(t);
  /* a second getter is refused */
  cio_redis_message m;
  CHECK_EQ(cio_redis_pubsub_get(ps, &m), -EBUSY);
  /* subscribing while get reads */
  const char *more[] = {ch2};
  CHECK_EQ(cio_redis_pubsub_subscribe(ps, 1, more, NULL), 0);
  publish(pub, ch2, "hello", 5);
  CHECK_EQ(join(t), 0);
  CHECK_STR(g.m.channel, ch2);
  CHECK_STR(g.m.data, "hello");
  cio_redis_message_clear(&g.m);

  /* cancelled get: nothing lost */
  t = cio_spawn(get_fn, &g);
  wait_blocked(t);
  cio_task_cancel(t);
  CHECK_EQ(join(t), -ECANCELED);
  publish(pub, ch, "later", 5);
  CHECK_EQ(cio_redis_pubsub_get(ps, &m), 0);
  CHECK_STR(m.data, "later");
  cio_redis_message_clear(&m);

  /* a timeout scope around get */
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 0.02);
  CHECK_EQ(cio_redis_pubsub_get(ps, &m), -ETIMEDOUT);
  cio_timeout_end(&sc);
  CHECK(m.reply == NULL);
  cio_redis_pubsub_free(ps);
  cio_redis_free(pub);
  return 0;
}

/* Messages that arrive while another call reads are queued. */
LOOP_TEST(test_pubsub_queue) {
  cio_redis_pubsub *ps = ps_open(0);
  cio_redis *pub = test_open(NULL);
  if (!ps || !pub) return 0;
  char ch[64];
  test_key(ch, sizeof ch, "queue");
  const char *chans[] = {ch};
  CHECK_EQ(cio_redis_pubsub_subscribe(ps, 1, chans, NULL), 0);
  for (int i = 0; i < 5; i++) publish(pub, ch, "m", 1);
  CHECK_EQ(cio_redis_pubsub_ping(ps), 0); /* its reply comes after them */
  CHECK_EQ(cio_redis_pubsub_queued(ps), 5);
  cio_redis_message m;
  for (int i = 0; i < 5; i++) {
    CHECK_EQ(cio_redis_pubsub_get(ps, &m), 0);
    cio_redis_message_clear(&m);
  }
  CHECK_EQ(cio_redis_pubsub_queued(ps), 0);
  /* freeing with messages queued frees them */
  publish(pub, ch, "left", 4);
  CHECK_EQ(cio_redis_pubsub_ping(ps), 0);
  CHECK_EQ(cio_redis_pubsub_queued(ps), 1);
  cio_redis_pubsub_free(ps);
  cio_redis_free(pub);
  return 0;
}

/* close and free wake a waiting get; the server killing the connection
 * ends it with a clear code; a refused subscription is an error. */
LOOP_TEST(test_pubsub_unhappy) {
  cio_redis_pubsub *ps = ps_open(0);
  if (!ps) return 0;
  getter g = {ps, {0}, 1};
  cio_task *t = cio_spawn(get_fn, &g);
  wait_blocked(t);
  CHECK_EQ(cio_redis_pubsub_close(ps), 0);
  CHECK_EQ(join(t), -EBADF);
  CHECK_EQ(cio_redis_pubsub_close(ps), 0);
  CHECK_EQ(cio_redis_pubsub_ping(ps), -EBADF);
  cio_redis_pubsub_free(ps);

  ps = ps_open(0);
  if (!ps) return 0;
  g = (getter){ps, {0}, 1};
  t = cio_spawn(get_fn, &g);
  wait_blocked(t);
  cio_redis_pubsub_free(ps);
  CHECK_EQ(join(t), -EBADF);

  /* The subscriber, found by its name, killed by the server. */
  char name[64];
  snprintf(name, sizeof name, "cio-sub-%ld", (long)getpid());
  cio_redis_opts o = {.client_name = name};
  CHECK_EQ(cio_redis_pubsub_open(test_redis_url(NULL), &o, &ps), 0);
  cio_redis *admin = test_open(NULL);
  if (!ps || !admin) return 0;
  char ch[64];
  test_key(ch, sizeof ch, "killed");
  const char *chans[] = {ch};
  CHECK_EQ(cio_redis_pubsub_subscribe(ps, 1, chans, NULL), 0);
  cio_redis_reply *r;
  CHECK_EQ(cio_redis_commandf(admin, &r, "CLIENT LIST"), 0);
  long long id = -1;
  char want[80];
  snprintf(want, sizeof want, " name=%s ", name);
  for (const char *line = r ? r->str : NULL; line && *line;) {
    const char *eol = strchr(line, '\n');
    const char *hit = strstr(line, want);
    if (hit && (!eol || hit < eol)) sscanf(line, "id=%lld", &id);
    line = eol ? eol + 1 : NULL;
  }
  cio_redis_reply_free(r);
  g = (getter){ps, {0}, 1};
  t = cio_spawn(get_fn, &g);
  wait_blocked(t);
  CHECK(id > 0);
  CHECK_EQ(cio_redis_commandf(admin, NULL, "CLIENT KILL ID %lld", id), 0);
  CHECK_EQ(join(t), -ECONNRESET);
  cio_redis_pubsub_free(ps);

  /* NOPERM: a user allowed only some channels. */
  char user[64], url[256];
  snprintf(user, sizeof user, "cio-sub-%ld", (long)getpid());
  CHECK_EQ(
      cio_redis_commandf(admin, NULL, "ACL SETUSER %s on >pw resetchannels &ok-* +@all ~*", user),
      0);
  snprintf(url, sizeof url, "redis://%s:pw@127.0.0.1:%d", user, test_redis_port());
  CHECK_EQ(cio_redis_pubsub_open(url, NULL, &ps), 0);
  if (ps) {
    const char *bad[] = {"ok-1", "forbidden"};
    CHECK_EQ(cio_redis_pubsub_subscribe(ps, 2, bad, NULL), -CIO_EREDIS);
    CHECK(strncmp(cio_redis_last_error(), "NOPERM", 6) == 0);
    CHECK_EQ(cio_redis_pubsub_channels(ps), 0);
    const char *good[] = {"ok-2"};
    CHECK_EQ(cio_redis_pubsub_subscribe(ps, 1, good, NULL), 0);
    CHECK_EQ(cio_redis_pubsub_channels(ps), 1);
    cio_redis_pubsub_free(ps);
  }
  CHECK_EQ(cio_redis_commandf(admin, NULL, "ACL DELUSER %s", user), 0);
  cio_redis_free(admin);
  return 0;
}

int main(void) {
  RUN(test_pubsub_resp3);
  RUN(test_pubsub_resp2);
  RUN(test_pubsub_waiting_get);
  RUN(test_pubsub_queue);
  RUN(test_pubsub_unhappy);
  return test_report();
}
