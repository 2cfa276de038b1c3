/* test_redis_alloc.c - out of memory at every allocation of the layer's
 * calls, against a real redis-server. The base layer's fault injection
 * (src/base/alloc.h) makes the 1st, 2nd, ... nth allocation from the start
 * of a call fail, until a run makes fewer allocations than n. Each failing
 * run must come back as -ENOMEM (or succeed, when the layer could do
 * without: a flush callback it could not queue is a flush done at once; or
 * time out, when it was the core's timer of a timeout scope: the core
 * expires a scope it cannot arm rather than let it never expire),
 * leak nothing (LeakSanitizer), and leave the connection either usable, in
 * step (the next command gets its own reply), or broken with a clear code. */
#include "test.h"
#include "test_loop.h"

#include "../../src/base/alloc.h"
#include <cio/redis_pool.h>
#include <cio/redis_pubsub.h>

#include "redis_test.h"

typedef int (*op_fn)(void *arg);

/* Runs op with the nth allocation failing, n = 1, 2, ... until op needs
 * fewer. check(arg, r) verifies each outcome. Returns how many runs. */
static int walk(op_fn op, void (*check)(void *, int), void *arg) {
  int n = 1;
  for (; n < 500; n++) {
    cio__fault_alloc_fail(n, false);
    int r = op(arg);
    long failed = cio__fault_alloc_failed();
    cio__fault_alloc_clear();
    check(arg, r);
    if (failed == 0) {
      CHECK_EQ(r, 0); /* nothing failed: it must have worked */
      break;
    }
    if (r != 0 && r != -ENOMEM && r != -ETIMEDOUT) {
      fprintf(stderr, "allocation %d failed: %s (%s)\n", n, cio_strerror(r),
              cio_redis_last_error());
      CHECK(r == 0 || r == -ENOMEM || r == -ETIMEDOUT);
    }
  }
  CHECK(n > 1); /* it did allocate */
  printf("  %d allocations, each failed in turn\n", n - 1);
  return n;
}

/* ---- open ---- */

typedef struct opened {
  cio_redis *c;
} opened;

static int open_op(void *arg) {
  opened *o = arg;
  o->c = NULL;
  return cio_redis_open(test_redis_url("/1"), NULL, &o->c);
}

static void open_check(void *arg, int r) {
  opened *o = arg;
  CHECK(r == 0 ? o->c != NULL : o->c == NULL);
  if (o->c) CHECK_EQ(cio_redis_commandf(o->c, NULL, "PING"), 0);
  cio_redis_free(o->c);
}

LOOP_TEST(test_alloc_open) {
  opened o = {NULL};
  walk(open_op, open_check, &o);
  return 0;
}

/* ---- commands, formats, replies ---- */

typedef struct conn_case {
  cio_redis *c;
  char key[64];
  cio_redis_reply *reply;
} conn_case;

/* A connection that is usable again: reopened if the failure broke it. */
static void usable(conn_case *k) {
  if (k->c && cio_redis_status(k->c) == 0) return;
  cio_redis_free(k->c);
  k->c = test_open(NULL);
}

static int get_op(void *arg) {
  conn_case *k = arg;
  const char *argv[] = {"GET", k->key};
  return cio_redis_command(k->c, 2, argv, NULL, &k->reply);
}

static int getf_op(void *arg) {
  conn_case *k = arg;
  return cio_redis_commandf(k->c, &k->reply, "MGET %s %s %s", k->key, k->key, k->key);
}

static void get_check(void *arg, int r) {
  conn_case *k = arg;
  if (r == 0) {
    CHECK(k->reply && (k->reply->type == CIO_REDIS_STRING || k->reply->type == CIO_REDIS_ARRAY));
  } else {
    CHECK(k->reply == NULL);
  }
  cio_redis_reply_free(k->reply);
  k->reply = NULL;
  if (cio_redis_status(k->c) == 0) { /* still in step: its own reply next */
    cio_redis_reply *e;
    CHECK_EQ(cio_redis_commandf(k->c, &e, "ECHO in-step"), 0);
    CHECK(e && strcmp(e->str, "in-step") == 0);
    cio_redis_reply_free(e);
  } else {
    CHECK_EQ(cio_redis_status(k->c), -ENOMEM); /* broken, and says why */
  }
  usable(k);
}

static int copy_op(void *arg) {
  conn_case *k = arg;
  cio_redis_reply *r;
  int st = cio_redis_commandf(k->c, &r, "MGET %s %s", k->key, k->key);
  if (st < 0) return st;
  k->reply = cio_redis_reply_copy(r);
  cio_redis_reply_free(r);
  return k->reply ? 0 : -errno;
}

LOOP_TEST(test_alloc_commands) {
  conn_case k = {NULL, "", NULL};
  test_key(k.key, sizeof k.key, "alloc");
  k.c = test_open(NULL);
  if (!k.c) return 0;
  CHECK_EQ(cio_redis_commandf(k.c, NULL, "SET %s value", k.key), 0);
  walk(get_op, get_check, &k);
  walk(getf_op, get_check, &k);
  walk(copy_op, get_check, &k);
  usable(&k);
  CHECK_EQ(cio_redis_commandf(k.c, NULL, "DEL %s", k.key), 0);
  cio_redis_free(k.c);
  return 0;
}

/* ---- pipelines and transactions ---- */

static int pipeline_op(void *arg) {
  conn_case *k = arg;
  cio_redis_pipeline *p = cio_redis_pipeline_new();
  if (!p) return -ENOMEM;
  int r = cio_redis_pipeline_addf(p, "SET %s v", k->key);
  if (r == 0) r = cio_redis_pipeline_addf(p, "GET %s", k->key);
  if (r == 0) r = cio_redis_pipeline_run(k->c, p);
  if (r == 0) r = cio_redis_pipeline_exec(k->c, p);
  if (r == 0) {
    k->reply = cio_redis_pipeline_take(p, 1);
    if (!k->reply) r = -ENOMEM;
  }
  cio_redis_pipeline_free(p);
  return r;
}

LOOP_TEST(test_alloc_pipelines) {
  conn_case k = {NULL, "", NULL};
  test_key(k.key, sizeof k.key, "alloc-pipe");
  k.c = test_open(NULL);
  if (!k.c) return 0;
  walk(pipeline_op, get_check, &k);
  usable(&k);
  CHECK_EQ(cio_redis_commandf(k.c, NULL, "DEL %s", k.key), 0);
  cio_redis_free(k.c);
  return 0;
}

/* ---- pub/sub and the pool ---- */

typedef struct pubsub_case {
  cio_redis *pub;
  char channel[64];
} pubsub_case;

static int pubsub_op(void *arg) {
  pubsub_case *k = arg;
  cio_redis_pubsub *ps;
  int r = cio_redis_pubsub_open(test_redis_url(NULL), NULL, &ps);
  if (r < 0) return r;
  const char *ch[] = {k->channel};
  r = cio_redis_pubsub_subscribe(ps, 1, ch, NULL);
  if (r == 0) r = cio_redis_commandf(k->pub, NULL, "PUBLISH %s hello", k->channel);
  cio_redis_message m;
  if (r == 0) r = cio_redis_pubsub_get(ps, &m);
  if (r == 0) {
    CHECK_STR(m.data, "hello");
    cio_redis_message_clear(&m);
  }
  cio_redis_pubsub_free(ps);
  return r;
}

static void pubsub_check(void *arg, int r) {
  pubsub_case *k = arg;
  (void)r;
  if (cio_redis_status(k->pub) != 0) {
    cio_redis_free(k->pub);
    k->pub = test_open(NULL);
  }
}

LOOP_TEST(test_alloc_pubsub) {
  pubsub_case k = {NULL, ""};
  test_key(k.channel, sizeof k.channel, "alloc-chan");
  k.pub = test_open(NULL);
  if (!k.pub) return 0;
  walk(pubsub_op, pubsub_check, &k);
  cio_redis_free(k.pub);
  return 0;
}

static int pool_op(void *arg) {
  (void)arg;
  cio_redis_pool_opts o = {.min_size = 2, .max_size = 3, .conn = {.client_name = "alloc"}};
  cio_redis_pool *p;
  int r = cio_redis_pool_open(test_redis_url(NULL), &o, &p);
  if (r < 0) return r;
  cio_redis *a, *b, *c;
  r = cio_redis_pool_acquire(p, &a);
  if (r == 0) {
    if ((r = cio_redis_pool_acquire(p, &b)) == 0) {
      if ((r = cio_redis_pool_acquire(p, &c)) == 0) { /* a third is opened */
        r = cio_redis_commandf(c, NULL, "PING");
        cio_redis_pool_release(p, c);
      }
      cio_redis_pool_release(p, b);
    }
    cio_redis_pool_release(p, a);
  }
  if (r == 0) r = cio_redis_pool_commandf(p, NULL, "PING");
  int rc = cio_redis_pool_close(p);
  cio_redis_pool_free(p);
  return r < 0 ? r : rc;
}

static void no_check(void *arg, int r) {
  (void)arg;
  (void)r;
}

LOOP_TEST(test_alloc_pool) {
  walk(pool_op, no_check, NULL);
  return 0;
}

int main(void) {
  RUN(test_alloc_open);
  RUN(test_alloc_commands);
  RUN(test_alloc_pipelines);
  RUN(test_alloc_pubsub);
  RUN(test_alloc_pool);
  return test_report();
}
