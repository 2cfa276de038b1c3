/* test_event.c - cio_event: set/clear/wait, waking every waiter in order,
 * cancellation and timeout safety, calls from outside a task. */
#include "test.h"
#include "test_loop.h"

#include <cio.h>

struct waiter {
  cio_event *e;
  int id;
  int *log, *nlog;
  int r, after, done;
};

static int waiter_fn(void *arg) {
  struct waiter *w = arg;
  w->r = cio_event_wait(w->e);
  if (w->r == 0 && w->log) w->log[(*w->nlog)++] = w->id;
  w->after = cio_yield();
  w->done = 1;
  return 0;
}

static struct waiter mk_waiter(cio_event *e, int id, int *log, int *nlog) {
  struct waiter w = {e, id, log, nlog, 1, 1, 0};
  return w;
}

LOOP_TEST(test_basic) {
  cio_event *e = cio_event_new();
  CHECK(e != NULL);
  CHECK_EQ(cio_event_is_set(e), 0);
  cio_event_set(e);
  CHECK_EQ(cio_event_is_set(e), 1);
  cio_event_set(e); /* idempotent */
  CHECK_EQ(cio_event_is_set(e), 1);
  CHECK_EQ(cio_event_wait(e), 0);
  CHECK_EQ(cio_event_wait(e), 0); /* stays set */
  cio_event_clear(e);
  CHECK_EQ(cio_event_is_set(e), 0);
  cio_event_clear(e);
  CHECK_EQ(cio_event_is_set(e), 0);
  cio_event_free(e);
  return 0;
}

/* Waiting on a set event never parks the task. */
LOOP_TEST(test_wait_when_set) {
  cio_event *e = cio_event_new();
  struct waiter w[3];
  cio_task *t[3];
  cio_event_set(e);
  for (int i = 0; i < 3; i++) {
    w[i] = mk_waiter(e, i, NULL, NULL);
    t[i] = cio_spawn(waiter_fn, &w[i]);
  }
  settle();
  for (int i = 0; i < 3; i++) {
    CHECK(w[i].done);
    CHECK_EQ(w[i].r, 0);
    CHECK_EQ(join(t[i]), 0);
  }
  cio_event_free(e);
  return 0;
}

LOOP_TEST(test_set_wakes_all_fifo) {
  enum { N = 6 };
  cio_event *e = cio_event_new();
  struct waiter w[N];
  cio_task *t[N];
  int log[N], nlog = 0;
  for (int i = 0; i < N; i++) w[i] = mk_waiter(e, i, log, &nlog);
  spawn_blocked(t, N, waiter_fn, w, sizeof w[0]);
  settle();
  CHECK_EQ(nlog, 0); /* nobody passes an unset event */
  cio_event_set(e);
  for (int i = 0; i < N; i++) CHECK_EQ(join(t[i]), 0);
  CHECK_EQ(nlog, N);
  for (int i = 0; i < N && i < nlog; i++) CHECK_EQ(log[i], i);
  for (int i = 0; i < N; i++) {
    CHECK_EQ(w[i].r, 0);
    CHECK_EQ(w[i].after, 0);
  }
  CHECK_EQ(cio_event_is_set(e), 1);
  cio_event_free(e);
  return 0;
}

LOOP_TEST(test_clear_blocks_again) {
  cio_event *e = cio_event_new();
  struct waiter w = mk_waiter(e, 0, NULL, NULL);
  cio_event_set(e);
  cio_event_clear(e);
  cio_task *t = cio_spawn(waiter_fn, &w);
  wait_blocked(t);
  settle();
  CHECK(!w.done);
  CHECK_EQ(cio_task_get_state(t), CIO_TASK_WAITING);
  cio_event_set(e);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w.r, 0);
  cio_event_free(e);
  return 0;
}

/* Waiters woken by set() have what they waited for even if the event is
 * cleared before they get to run. */
LOOP_TEST(test_set_then_clear_before_run) {
  cio_event *e = cio_event_new();
  struct waiter w[3];
  cio_task *t[3];
  for (int i = 0; i < 3; i++) w[i] = mk_waiter(e, i, NULL, NULL);
  spawn_blocked(t, 3, waiter_fn, w, sizeof w[0]);
  cio_event_set(e);
  cio_event_clear(e);
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(join(t[i]), 0);
    CHECK_EQ(w[i].r, 0);
  }
  /* a newcomer waits for the next set */
  struct waiter late = mk_waiter(e, 9, NULL, NULL);
  cio_task *tl = cio_spawn(waiter_fn, &late);
  wait_blocked(tl);
  CHECK(!late.done);
  cio_event_set(e);
  CHECK_EQ(join(tl), 0);
  CHECK_EQ(late.r, 0);
  cio_event_free(e);
  return 0;
}

static void set_cb(void *arg) { cio_event_set(arg); }

/* set() from a loop callback (not a task) wakes task waiters. */
LOOP_TEST(test_set_from_callback) {
  cio_event *e = cio_event_new();
  CHECK_EQ(cio_call_later(cio_loop_current(), 0.01, set_cb, e), 0);
  CHECK_EQ(cio_event_wait(e), 0);
  CHECK_EQ(cio_event_is_set(e), 1);
  cio_event_free(e);
  return 0;
}

/* ---- cancellation ---- */

LOOP_TEST(test_cancel_waiter) {
  cio_event *e = cio_event_new();
  struct waiter w[3];
  cio_task *t[3];
  int log[3], nlog = 0;
  for (int i = 0; i < 3; i++) w[i] = mk_waiter(e, i, log, &nlog);
  spawn_blocked(t, 3, waiter_fn, w, sizeof w[0]);
  CHECK_EQ(cio_task_cancel(t[1]), 1);
  settle();
  CHECK(w[1].done);
  CHECK_EQ(w[1].r, -ECANCELED);
  CHECK_EQ(w[1].after, 0);          /* cancellation fires once */
  CHECK_EQ(cio_event_is_set(e), 0); /* cancel did not touch the event */
  CHECK(!w[0].done);
  CHECK(!w[2].done);
  cio_event_set(e);
  for (int i = 0; i < 3; i++) CHECK_EQ(join(t[i]), 0);
  CHECK_EQ(w[0].r, 0);
  CHECK_EQ(w[2].r, 0);
  CHECK_EQ(nlog, 2);
  CHECK_EQ(log[0], 0);
  CHECK_EQ(log[1], 2);
  cio_event_free(e);
  return 0;
}

/* Woken by set(), then cancelled before it runs: wait returns 0, the
 * cancellation lands on the next suspension. */
LOOP_TEST(test_woken_then_cancelled) {
  cio_event *e = cio_event_new();
  struct waiter w = mk_waiter(e, 0, NULL, NULL);
  cio_task *t = cio_spawn(waiter_fn, &w);
  wait_blocked(t);
  cio_event_set(e);
  CHECK_EQ(cio_task_cancel(t), 1);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w.r, 0);
  CHECK_EQ(w.after, -ECANCELED);
  cio_event_free(e);
  return 0;
}

struct selfc {
  cio_event *e;
  int c, r, next, done;
};

static int self_cancel_fn(void *arg) {
  struct selfc *s = arg;
  s->c = cio_task_cancel(cio_current());
  s->r = cio_event_wait(s->e);
  s->next = cio_yield();
  s->done = 1;
  return 0;
}

LOOP_TEST(test_pending_cancel) {
  cio_event *e = cio_event_new();
  struct selfc s = {e, 0, 1, 1, 0};
  cio_task *t = cio_spawn(self_cancel_fn, &s);
  settle();
  CHECK(s.done); /* returned without the event */
  CHECK_EQ(s.c, 1);
  CHECK_EQ(s.r, -ECANCELED);
  CHECK_EQ(s.next, 0);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(cio_event_is_set(e), 0);
  cio_event_free(e);
  return 0;
}

/* ---- timeouts ---- */

LOOP_TEST(test_timeout) {
  cio_event *e = cio_event_new();
  cio_timeout_scope s;

  CHECK_EQ(cio_timeout_begin(&s, 0), 0);
  CHECK_EQ(cio_event_wait(e), -ETIMEDOUT);
  CHECK_EQ(cio_event_wait(e), -ETIMEDOUT); /* level-triggered */
  CHECK_EQ(cio_timeout_end(&s), 1);

  double t0 = cio_loop_time(cio_loop_current());
  CHECK_EQ(cio_timeout_begin(&s, 0.02), 0);
  CHECK_EQ(cio_event_wait(e), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&s), 1);
  CHECK(cio_loop_time(cio_loop_current()) - t0 >= 0.015); /* loose */

  /* a scope that does not expire */
  CHECK_EQ(cio_call_later(cio_loop_current(), 0.01, set_cb, e), 0);
  CHECK_EQ(cio_timeout_begin(&s, 5.0), 0);
  CHECK_EQ(cio_event_wait(e), 0);
  CHECK_EQ(cio_timeout_end(&s), 0);
  cio_event_free(e);
  return 0;
}

/* A waiter timing out leaves the other waiters waiting. */
struct tw {
  cio_event *e;
  int r;
};

static int timed_wait_fn(void *arg) {
  struct tw *w = arg;
  cio_timeout_scope s;
  cio_timeout_begin(&s, 0.02);
  w->r = cio_event_wait(w->e);
  cio_timeout_end(&s);
  return 0;
}

LOOP_TEST(test_timeout_one_of_many) {
  cio_event *e = cio_event_new();
  struct waiter a = mk_waiter(e, 0, NULL, NULL);
  struct tw b = {e, 1};
  cio_task *ta = cio_spawn(waiter_fn, &a);
  wait_blocked(ta);
  cio_task *tb = cio_spawn(timed_wait_fn, &b);
  CHECK_EQ(join(tb), 0);
  CHECK_EQ(b.r, -ETIMEDOUT);
  CHECK(!a.done);
  cio_event_set(e);
  CHECK_EQ(join(ta), 0);
  CHECK_EQ(a.r, 0);
  cio_event_free(e);
  return 0;
}

/* ---- free ---- */

/* Freeing an event tasks wait on wakes them with -EBADF; they touch
 * nothing of it afterwards (ASan judges). */
LOOP_TEST(test_free_wakes_waiters) {
  cio_event *e = cio_event_new();
  struct waiter w = mk_waiter(e, 0, NULL, NULL);
  cio_task *t = cio_spawn(waiter_fn, &w);
  wait_blocked(t);
  cio_event_free(e);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w.r, -EBADF);
  return 0;
}

/* ---- outside a task ---- */

struct cbctx {
  cio_event *e;
  int ran, r;
};

static void outside_cb(void *arg) {
  struct cbctx *c = arg;
  c->r = cio_event_wait(c->e);
  c->ran = 1;
}

LOOP_TEST(test_eperm_in_callback) {
  struct cbctx c = {cio_event_new(), 0, 1};
  CHECK_EQ(cio_call_soon(cio_loop_current(), outside_cb, &c), 0);
  settle();
  CHECK(c.ran);
  CHECK_EQ(c.r, -EPERM);
  cio_event_free(c.e);
  return 0;
}

static void test_eperm_no_loop(void) {
  cio_event *e = cio_event_new();
  CHECK(e != NULL);
  if (!e) return;
  CHECK_EQ(cio_event_wait(e), -EPERM);
  cio_event_free(e);
}

static void test_eperm_loop_no_task(void) {
  cio_loop *loop = cio_loop_new(NULL);
  CHECK(loop != NULL);
  if (!loop) return;
  cio_event *e = cio_event_new();
  CHECK_EQ(cio_event_wait(e), -EPERM);
  cio_event_free(e);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

/* Ping-pong between two tasks over two events, many rounds. */
struct pp {
  cio_event *ping, *pong;
  int rounds, count;
};

static int ponger(void *arg) {
  struct pp *p = arg;
  for (int i = 0; i < p->rounds; i++) {
    CHECK_EQ(cio_event_wait(p->ping), 0);
    cio_event_clear(p->ping);
    p->count++;
    cio_event_set(p->pong);
  }
  return 0;
}

LOOP_TEST(test_ping_pong) {
  struct pp p = {cio_event_new(), cio_event_new(), 1000, 0};
  cio_task *t = cio_spawn(ponger, &p);
  for (int i = 0; i < p.rounds; i++) {
    cio_event_set(p.ping);
    CHECK_EQ(cio_event_wait(p.pong), 0);
    cio_event_clear(p.pong);
    CHECK_EQ(p.count, i + 1);
  }
  CHECK_EQ(join(t), 0);
  cio_event_free(p.ping);
  cio_event_free(p.pong);
  return 0;
}

/* Free while a cancelled waiter has not unwound yet: safe (ASan judges). */
LOOP_TEST(test_free_with_cancelled_waiter) {
  cio_event *e = cio_event_new();
  struct waiter w = mk_waiter(e, 0, NULL, NULL);
  cio_task *t = cio_spawn(waiter_fn, &w);
  wait_blocked(t);
  CHECK_STR(cio_task_waiting_on(t), "event");
  cio_task_cancel(t);
  cio_event_set(e); /* must not resurrect the waiter */
  cio_event_free(e);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w.r, -ECANCELED);
  return 0;
}

int main(void) {
  RUN(test_eperm_no_loop);
  RUN(test_eperm_loop_no_task);
  RUN(test_basic);
  RUN(test_wait_when_set);
  RUN(test_set_wakes_all_fifo);
  RUN(test_clear_blocks_again);
  RUN(test_set_then_clear_before_run);
  RUN(test_set_from_callback);
  RUN(test_cancel_waiter);
  RUN(test_woken_then_cancelled);
  RUN(test_pending_cancel);
  RUN(test_timeout);
  RUN(test_timeout_one_of_many);
  RUN(test_free_wakes_waiters);
  RUN(test_eperm_in_callback);
  RUN(test_ping_pong);
  RUN(test_free_with_cancelled_waiter);
  return test_report();
}
