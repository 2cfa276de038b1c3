/* test_redis_pipeline.c - explicit pipelines and MULTI/EXEC transactions
 * against a real redis-server. */
#include "test.h"
#include "test_loop.h"

#include "redis_test.h"

LOOP_TEST(test_pipeline_run) {
  cio_redis *c = test_open(NULL);
  cio_redis_pipeline *p = cio_redis_pipeline_new();
  if (!c || !p) return 0;
  char key[64];
  test_key(key, sizeof key, "pipe");
  enum { N = 2000 };
  for (int i = 0; i < N; i++) CHECK_EQ(cio_redis_pipeline_addf(p, "SET %s:%d v%d", key, i, i), 0);
  for (int i = 0; i < N; i++) CHECK_EQ(cio_redis_pipeline_addf(p, "GET %s:%d", key, i), 0);
  CHECK_EQ(cio_redis_pipeline_size(p), 2 * N);
  CHECK_EQ(cio_redis_pipeline_run(c, p), 0);
  for (int i = 0; i < N; i++) {
    const cio_redis_reply *r = cio_redis_pipeline_reply(p, (size_t)(N + i));
    char want[32];
    snprintf(want, sizeof want, "v%d", i);
    CHECK(r && r->type == CIO_REDIS_STRING && strcmp(r->str, want) == 0);
  }
  CHECK(cio_redis_pipeline_reply(p, 2 * N) == NULL);
  /* take: the caller owns it, the slot is empty */
  cio_redis_reply *t = cio_redis_pipeline_take(p, N);
  CHECK(t && strcmp(t->str, "v0") == 0);
  CHECK(cio_redis_pipeline_reply(p, N) == NULL);
  cio_redis_reply_free(t);
  /* reuse: reset, refill, run again */
  cio_redis_pipeline_reset(p);
  CHECK_EQ(cio_redis_pipeline_size(p), 0);
  CHECK_EQ(cio_redis_pipeline_run(c, p), -EINVAL);
  for (int i = 0; i < N; i++) {
    char k[96];
    snprintf(k, sizeof k, "%s:%d", key, i);
    const char *argv[] = {"DEL", k};
    CHECK_EQ(cio_redis_pipeline_add(p, 2, argv, NULL), 0);
  }
  CHECK_EQ(cio_redis_pipeline_run(c, p), 0);
  CHECK(cio_redis_pipeline_reply(p, 0)->integer == 1);
  /* running it again resends the same commands */
  CHECK_EQ(cio_redis_pipeline_run(c, p), 0);
  CHECK(cio_redis_pipeline_reply(p, 0)->integer == 0);
  cio_redis_pipeline_free(p);
  cio_redis_free(c);
  return 0;
}

LOOP_TEST(test_pipeline_errors) {
  cio_redis *c = test_open(NULL);
  cio_redis_pipeline *p = cio_redis_pipeline_new();
  if (!c || !p) return 0;
  char key[64];
  test_key(key, sizeof key, "pipe-err");
  CHECK_EQ(cio_redis_pipeline_addf(p, "SET %s x", key), 0);
  CHECK_EQ(cio_redis_pipeline_addf(p, "INCR %s", key), 0); /* not an integer */
  CHECK_EQ(cio_redis_pipeline_addf(p, "GET %s", key), 0);
  CHECK_EQ(cio_redis_pipeline_addf(p, "BAD %z"), -EINVAL);
  CHECK_EQ(cio_redis_pipeline_size(p), 3);
  CHECK_EQ(cio_redis_pipeline_run(c, p), -CIO_EREDIS);
  CHECK(strstr(cio_redis_last_error(), "not an integer") != NULL);
  CHECK(cio_redis_pipeline_reply(p, 1)->type == CIO_REDIS_ERROR);
  CHECK(strcmp(cio_redis_pipeline_reply(p, 2)->str, "x") == 0); /* later ones ran */
  CHECK_EQ(cio_redis_commandf(c, NULL, "DEL %s", key), 0);
  cio_redis_pipeline_free(p);
  cio_redis_free(c);
  return 0;
}

LOOP_TEST(test_transaction) {
  cio_redis *c = test_open(NULL);
  cio_redis_pipeline *p = cio_redis_pipeline_new();
  if (!c || !p) return 0;
  char key[64];
  test_key(key, sizeof key, "tx");
  CHECK_EQ(cio_redis_pipeline_addf(p, "INCR %s", key), 0);
  CHECK_EQ(cio_redis_pipeline_addf(p, "INCRBY %s 10", key), 0);
  CHECK_EQ(cio_redis_pipeline_addf(p, "GET %s", key), 0);
  CHECK_EQ(cio_redis_pipeline_exec(c, p), 0);
  CHECK(cio_redis_pipeline_reply(p, 0)->integer == 1);
  CHECK(cio_redis_pipeline_reply(p, 1)->integer == 11);
  CHECK(strcmp(cio_redis_pipeline_reply(p, 2)->str, "11") == 0);
  cio_redis_reply *t = cio_redis_pipeline_take(p, 2); /* a copy of an element */
  CHECK(t && strcmp(t->str, "11") == 0);
  cio_redis_reply_free(t);
  CHECK(cio_redis_pipeline_reply(p, 2) == NULL);

  /* A runtime error does not stop the others. */
  cio_redis_pipeline_reset(p);
  CHECK_EQ(cio_redis_pipeline_addf(p, "LPUSH %s x", key), 0); /* wrong type */
  CHECK_EQ(cio_redis_pipeline_addf(p, "INCR %s", key), 0);
  CHECK_EQ(cio_redis_pipeline_exec(c, p), -CIO_EREDIS);
  CHECK(strncmp(cio_redis_last_error(), "WRONGTYPE", 9) == 0);
  CHECK(cio_redis_pipeline_reply(p, 0)->type == CIO_REDIS_ERROR);
  CHECK(cio_redis_pipeline_reply(p, 1)->integer == 12);

  /* A command refused while queueing: nothing runs. */
  cio_redis_pipeline_reset(p);
  CHECK_EQ(cio_redis_pipeline_addf(p, "INCR %s", key), 0);
  CHECK_EQ(cio_redis_pipeline_addf(p, "NOSUCHCOMMAND"), 0);
  CHECK_EQ(cio_redis_pipeline_exec(c, p), -CIO_EREDIS);
  CHECK(strstr(cio_redis_last_error(), "unknown command") != NULL);
  CHECK(cio_redis_pipeline_reply(p, 0) == NULL);
  cio_redis_reply *r;
  CHECK_EQ(cio_redis_commandf(c, &r, "GET %s", key), 0);
  CHECK(r && strcmp(r->str, "12") == 0);
  cio_redis_reply_free(r);
  /* and the connection is out of MULTI again */
  CHECK_EQ(cio_redis_commandf(c, &r, "PING"), 0);
  CHECK(r && r->type == CIO_REDIS_STATUS && strcmp(r->str, "PONG") == 0);
  cio_redis_reply_free(r);
  CHECK_EQ(cio_redis_commandf(c, NULL, "DEL %s", key), 0);
  cio_redis_pipeline_free(p);
  cio_redis_free(c);
  return 0;
}

/* WATCH, a change from another connection, EXEC: aborted. */
LOOP_TEST(test_watch_abort) {
  cio_redis *c = test_open(NULL);
  cio_redis *other = test_open(NULL);
  cio_redis_pipeline *p = cio_redis_pipeline_new();
  if (!c || !other || !p) return 0;
  char key[64];
  test_key(key, sizeof key, "watched");
  CHECK_EQ(cio_redis_commandf(c, NULL, "SET %s 1", key), 0);
  CHECK_EQ(cio_redis_commandf(c, NULL, "WATCH %s", key), 0);
  CHECK_EQ(cio_redis_commandf(other, NULL, "SET %s 2", key), 0);
  CHECK_EQ(cio_redis_pipeline_addf(p, "SET %s 3", key), 0);
  CHECK_EQ(cio_redis_pipeline_exec(c, p), -CIO_EWATCH);
  CHECK(cio_redis_pipeline_reply(p, 0) == NULL);
  cio_redis_reply *r;
  CHECK_EQ(cio_redis_commandf(c, &r, "GET %s", key), 0);
  CHECK(r && strcmp(r->str, "2") == 0);
  cio_redis_reply_free(r);
  /* unwatched now: the same transaction goes through */
  CHECK_EQ(cio_redis_pipeline_exec(c, p), 0);
  CHECK_EQ(cio_redis_commandf(c, NULL, "DEL %s", key), 0);
  cio_redis_pipeline_free(p);
  cio_redis_free(c);
  cio_redis_free(other);
  return 0;
}

typedef struct runner {
  cio_redis *c;
  cio_redis_pipeline *p;
  int status;
} runner;

static int run_fn(void *arg) {
  runner *k = arg;
  k->status = cio_redis_pipeline_run(k->c, k->p);
  return k->status;
}

/* A pipeline cancelled midway: its remaining replies are dropped, the
 * pipeline can be freed at once, the connection goes on. */
LOOP_TEST(test_pipeline_cancel) {
  cio_redis *c = test_open(NULL);
  cio_redis_pipeline *p = cio_redis_pipeline_new();
  if (!c || !p) return 0;
  char list[64];
  test_key(list, sizeof list, "pipe-list");
  CHECK_EQ(cio_redis_pipeline_addf(p, "PING"), 0);
  CHECK_EQ(cio_redis_pipeline_addf(p, "BLPOP %s 0", list), 0);
  CHECK_EQ(cio_redis_pipeline_addf(p, "PING"), 0);
  runner k = {c, p, 1};
  cio_task *t = cio_spawn(run_fn, &k);
  wait_blocked(t);
  test_wait_pending(c, 2); /* the first PONG has come */
  cio_task_cancel(t);
  CHECK_EQ(join(t), -ECANCELED);
  CHECK(cio_redis_pipeline_reply(p, 0) != NULL); /* what came is kept */
  cio_redis_pipeline_free(p);
  cio_redis *o = test_open(NULL);
  if (o) CHECK_EQ(cio_redis_commandf(o, NULL, "RPUSH %s x", list), 0);
  cio_redis_free(o);
  cio_redis_reply *r;
  CHECK_EQ(cio_redis_commandf(c, &r, "ECHO next"), 0);
  CHECK(r && strcmp(r->str, "next") == 0);
  cio_redis_reply_free(r);
  CHECK_EQ(cio_redis_pending(c), 0);
  cio_redis_free(c);
  return 0;
}

/* A pipeline whose commands are long enough to be written at once. */
LOOP_TEST(test_pipeline_long) {
  cio_redis *c = test_open(NULL);
  cio_redis_pipeline *p = cio_redis_pipeline_new();
  if (!c || !p) return 0;
  char key[64];
  test_key(key, sizeof key, "pipe-long");
  static char val[100000];
  memset(val, 'v', sizeof val);
  CHECK_EQ(cio_redis_pipeline_addf(p, "SET %s %b", key, val, sizeof val), 0);
  CHECK_EQ(cio_redis_pipeline_addf(p, "STRLEN %s", key), 0);
  CHECK_EQ(cio_redis_pipeline_addf(p, "DEL %s", key), 0);
  CHECK_EQ(cio_redis_pipeline_run(c, p), 0);
  CHECK(cio_redis_pipeline_reply(p, 1)->integer == (long long)sizeof val);
  cio_redis_pipeline_free(p);
  cio_redis_pipeline_free(NULL);
  cio_redis_free(c);
  return 0;
}

int main(void) {
  RUN(test_pipeline_run);
  RUN(test_pipeline_errors);
  RUN(test_transaction);
  RUN(test_watch_abort);
  RUN(test_pipeline_cancel);
  RUN(test_pipeline_long);
  return test_report();
}
