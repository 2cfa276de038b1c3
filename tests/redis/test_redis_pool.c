/* test_redis_pool.c - the connection pool against a real redis-server:
 * 1,000 tasks over 30 connections, waits bounded by timeouts and
 * cancellation, broken connections replaced, close and free with
 * connections borrowed. */
#include "test.h"
#include "test_loop.h"

#include <cio/redis_pool.h>

#include "redis_test.h"

static cio_redis_pool *pool_open(size_t min, size_t max, double idle_check) {
  cio_redis_pool_opts o = {.min_size = min, .max_size = max, .idle_check = idle_check};
  cio_redis_pool *p = NULL;
  int r = cio_redis_pool_open(test_redis_url(NULL), &o, &p);
  if (r < 0) fprintf(stderr, "pool: %s\n", cio_redis_last_error());
  CHECK_EQ(r, 0);
  return p;
}

LOOP_TEST(test_pool_basics) {
  cio_redis_pool *p = pool_open(2, 3, 0);
  if (!p) return 0;
  cio_redis_pool_stats st;
  cio_redis_pool_get_stats(p, &st);
  CHECK(st.size == 2 && st.idle == 2 && st.in_use == 0 && st.opened == 2);
  cio_redis *a, *b, *c;
  CHECK_EQ(cio_redis_pool_acquire(p, &a), 0);
  CHECK_EQ(cio_redis_pool_acquire(p, &b), 0);
  CHECK_EQ(cio_redis_pool_acquire(p, &c), 0); /* a third is opened */
  CHECK(a != b && b != c && a != c);
  cio_redis_pool_get_stats(p, &st);
  CHECK(st.size == 3 && st.idle == 0 && st.in_use == 3 && st.opened == 3);
  cio_redis_pool_release(p, b);
  cio_redis *d;
  CHECK_EQ(cio_redis_pool_acquire(p, &d), 0);
  CHECK(d == b); /* the idle one is reused */
  cio_redis_pool_release(p, a);
  cio_redis_pool_release(p, c);
  cio_redis_pool_release(p, d);
  char key[64];
  test_key(key, sizeof key, "pool");
  cio_redis_reply *r;
  CHECK_EQ(cio_redis_pool_commandf(p, NULL, "SET %s v", key), 0);
  CHECK_EQ(cio_redis_pool_commandf(p, &r, "GET %s", key), 0);
  CHECK(r && strcmp(r->str, "v") == 0);
  cio_redis_reply_free(r);
  const char *argv[] = {"DEL", key};
  CHECK_EQ(cio_redis_pool_command(p, 2, argv, NULL, &r), 0);
  CHECK(r && r->integer == 1);
  cio_redis_reply_free(r);
  CHECK_EQ(cio_redis_pool_commandf(p, NULL, "LPUSH %s", key), -CIO_EREDIS);
  CHECK_EQ(cio_redis_pool_close(p), 0);
  CHECK_EQ(cio_redis_pool_acquire(p, &a), -EBADF);
  cio_redis_pool_get_stats(p, &st);
  CHECK(st.size == 0 && st.dropped == 0);
  cio_redis_pool_free(p);
  return 0;
}

typedef struct job {
  cio_redis_pool *p;
  const char *key;
  int failed;
} job;

static int job_fn(void *arg) {
  job *j = arg;
  for (int i = 0; i < 5; i++) {
    cio_redis *c;
    int r = cio_redis_pool_acquire(j->p, &c);
    if (r < 0) {
      j->failed++;
      continue;
    }
    if (cio_redis_commandf(c, NULL, "INCR %s", j->key) < 0) j->failed++;
    cio_yield(); /* hold it a little: others must wait */
    cio_redis_pool_release(j->p, c);
  }
  return 0;
}

/* The scenario: a pool of 30 shared by 1,000 tasks. */
LOOP_TEST(test_pool_1000_tasks) {
  cio_redis_pool *p = pool_open(1, 30, 0);
  if (!p) return 0;
  char key[64];
  test_key(key, sizeof key, "pool-count");
  enum { N = 1000 };
  static job jobs[N];
  static cio_task *t[N];
  for (int i = 0; i < N; i++) {
    jobs[i] = (job){p, key, 0};
    t[i] = cio_spawn(job_fn, &jobs[i]);
  }
  int failed = 0;
  for (int i = 0; i < N; i++) {
    CHECK_EQ(join(t[i]), 0);
    failed += jobs[i].failed;
  }
  CHECK_EQ(failed, 0);
  cio_redis_reply *r;
  CHECK_EQ(cio_redis_pool_commandf(p, &r, "GET %s", key), 0);
  CHECK(r && strcmp(r->str, "5000") == 0);
  cio_redis_reply_free(r);
  cio_redis_pool_stats st;
  cio_redis_pool_get_stats(p, &st);
  CHECK(st.size == 30 && st.opened == 30 && st.in_use == 0 && st.waiting == 0);
  CHECK(st.waits > 0);
  CHECK_EQ(cio_redis_pool_commandf(p, NULL, "DEL %s", key), 0);
  cio_redis_pool_free(p);
  return 0;
}

typedef struct acq {
  cio_redis_pool *p;
  double timeout;
  cio_redis *c;
  int status;
} acq;

static int acq_fn(void *arg) {
  acq *a = arg;
  cio_timeout_scope sc;
  if (a->timeout > 0) cio_timeout_begin(&sc, a->timeout);
  a->status = cio_redis_pool_acquire(a->p, &a->c);
  if (a->timeout > 0) cio_timeout_end(&sc);
  return 0;
}

static int close_fn(void *arg) { return cio_redis_pool_close(arg); }

/* Waits end with the scope, with cancellation, with the pool's close. */
LOOP_TEST(test_pool_wait_interrupted) {
  cio_redis_pool *p = pool_open(1, 1, 0);
  if (!p) return 0;
  cio_redis *held;
  CHECK_EQ(cio_redis_pool_acquire(p, &held), 0);
  acq a = {p, 0.02, NULL, 1};
  CHECK_EQ(join(cio_spawn(acq_fn, &a)), 0);
  CHECK_EQ(a.status, -ETIMEDOUT);
  CHECK(a.c == NULL);
  acq b = {p, 0, NULL, 1};
  cio_task *t = cio_spawn(acq_fn, &b);
  wait_blocked(t);
  cio_task_cancel(t);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(b.status, -ECANCELED);
  cio_redis_pool_stats st;
  cio_redis_pool_get_stats(p, &st);
  CHECK(st.waiting == 0 && st.in_use == 1 && st.waits == 2);
  /* a waiter gets the released connection directly */
  acq c = {p, 0, NULL, 1};
  t = cio_spawn(acq_fn, &c);
  wait_blocked(t);
  cio_redis_pool_release(p, held);
  CHECK_EQ(join(t), 0);
  CHECK(c.status == 0 && c.c == held);
  /* close wakes waiters with -EBADF and waits for the borrowed one */
  acq d = {p, 0, NULL, 1};
  t = cio_spawn(acq_fn, &d);
  wait_blocked(t);
  cio_task *closer = cio_spawn(close_fn, p);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(d.status, -EBADF);
  wait_blocked(closer);
  cio_redis_pool_release(p, c.c);
  CHECK_EQ(join(closer), 0);
  cio_redis_pool_free(p);
  return 0;
}

/* A connection killed by the server while borrowed, and one killed while
 * idle: both are replaced. */
LOOP_TEST(test_pool_replaces_broken) {
  cio_redis_pool *p = pool_open(1, 2, 1e-9); /* look at idle ones every time */
  cio_redis *admin = test_open(NULL);
  if (!p || !admin) return 0;
  cio_redis *c;
  CHECK_EQ(cio_redis_pool_acquire(p, &c), 0);
  long long id = test_client_id(c);
  CHECK_EQ(cio_redis_commandf(admin, NULL, "CLIENT KILL ID %lld", id), 0);
  CHECK_EQ(cio_redis_commandf(c, NULL, "PING"), -ECONNRESET);
  cio_redis_pool_release(p, c);
  cio_redis_pool_stats st;
  cio_redis_pool_get_stats(p, &st);
  CHECK(st.dropped == 1 && st.size == 0);
  CHECK_EQ(cio_redis_pool_commandf(p, NULL, "PING"), 0); /* a new one */

  CHECK_EQ(cio_redis_pool_acquire(p, &c), 0);
  id = test_client_id(c);
  cio_redis_pool_release(p, c);
  CHECK_EQ(cio_redis_commandf(admin, NULL, "CLIENT KILL ID %lld", id), 0);
  cio_redis *c2;
  CHECK_EQ(cio_redis_pool_acquire(p, &c2), 0);
  CHECK(test_client_id(c2) != id); /* the dead idle one was not handed out */
  cio_redis_pool_release(p, c2);
  cio_redis_pool_get_stats(p, &st);
  CHECK(st.dropped == 2 && st.opened == 3);
  cio_redis_pool_free(p);
  cio_redis_free(admin);
  return 0;
}

typedef struct blocked {
  cio_redis *c;
  const char *list;
} blocked;

static int blpop_fn(void *arg) {
  blocked *b = arg;
  return cio_redis_commandf(b->c, NULL, "BLPOP %s 0", b->list);
}

/* Released with a reply still due (its borrower was cancelled mid-BLPOP):
 * closed, so the next borrower never waits behind it. */
LOOP_TEST(test_pool_drops_pending) {
  cio_redis_pool *p = pool_open(1, 1, 0);
  if (!p) return 0;
  char list[64];
  test_key(list, sizeof list, "pool-list");
  cio_redis *c;
  CHECK_EQ(cio_redis_pool_acquire(p, &c), 0);
  blocked b = {c, list};
  cio_task *t = cio_spawn(blpop_fn, &b);
  wait_blocked(t);
  cio_task_cancel(t);
  CHECK_EQ(join(t), -ECANCELED);
  CHECK_EQ(cio_redis_pending(c), 1);
  cio_redis_pool_release(p, c);
  cio_redis_reply *r;
  CHECK_EQ(cio_redis_pool_commandf(p, &r, "ECHO ok"), 0);
  CHECK(r && strcmp(r->str, "ok") == 0);
  cio_redis_reply_free(r);
  cio_redis_pool_stats st;
  cio_redis_pool_get_stats(p, &st);
  CHECK_EQ(st.dropped, 1);
  cio_redis_pool_free(p);
  return 0;
}

/* Freed with a connection borrowed: it stays usable until released. */
LOOP_TEST(test_pool_free_while_borrowed) {
  cio_redis_pool *p = pool_open(1, 2, 0);
  if (!p) return 0;
  cio_redis *c;
  CHECK_EQ(cio_redis_pool_acquire(p, &c), 0);
  acq w = {p, 0, NULL, 1};
  cio_redis *c2;
  CHECK_EQ(cio_redis_pool_acquire(p, &c2), 0);
  cio_task *t = cio_spawn(acq_fn, &w);
  wait_blocked(t);
  cio_redis_pool_free(p);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w.status, -EBADF);
  CHECK_EQ(cio_redis_commandf(c, NULL, "PING"), 0);
  cio_redis_pool_release(p, c);
  cio_redis_pool_release(p, c2); /* the last: the pool's memory goes */
  return 0;
}

LOOP_TEST(test_pool_open_fails) {
  cio_redis_pool *p = (cio_redis_pool *)1;
  CHECK_EQ(cio_redis_pool_open("redis://127.0.0.1:1", NULL, &p), -ECONNREFUSED);
  CHECK(p == NULL);
  CHECK_EQ(cio_redis_pool_open("nope://", NULL, &p), -EINVAL);
  cio_redis_pool_opts o = {.min_size = 3, .conn = {.client_name = "pool-test"}};
  CHECK_EQ(cio_redis_pool_open(test_redis_url(NULL), &o, &p), 0);
  if (p) {
    cio_redis_reply *r;
    CHECK_EQ(cio_redis_pool_commandf(p, &r, "CLIENT GETNAME"), 0);
    CHECK(r && strcmp(r->str, "pool-test") == 0);
    cio_redis_reply_free(r);
  }
  cio_redis_pool_free(p);
  return 0;
}

int main(void) {
  RUN(test_pool_basics);
  RUN(test_pool_1000_tasks);
  RUN(test_pool_wait_interrupted);
  RUN(test_pool_replaces_broken);
  RUN(test_pool_drops_pending);
  RUN(test_pool_free_while_borrowed);
  RUN(test_pool_open_fails);
  return test_report();
}
