/* test_sem.c - cio_sem: counting, FIFO hand-off, try_acquire, the bounded
 * variant's -EOVERFLOW, cancellation and timeout safety, outside a task. */
#include "test.h"
#include "test_loop.h"

#include <cio.h>

/* Acquires one permit, logs, records the next suspension's result. Keeps
 * the permit (the test decides what happens to it). */
struct waiter {
  cio_sem *s;
  int id;
  int *log, *nlog;
  int r, after, done;
};

static int waiter_fn(void *arg) {
  struct waiter *w = arg;
  w->r = cio_sem_acquire(w->s);
  if (w->r == 0 && w->log) w->log[(*w->nlog)++] = w->id;
  w->after = cio_yield();
  w->done = 1;
  return 0;
}

static struct waiter mk_waiter(cio_sem *s, int id, int *log, int *nlog) {
  struct waiter w = {s, id, log, nlog, 1, 1, 0};
  return w;
}

LOOP_TEST(test_basic) {
  cio_sem *s = cio_sem_new(2);
  CHECK(s != NULL);
  CHECK_EQ(cio_sem_value(s), 2);
  CHECK_EQ(cio_sem_locked(s), 0);
  CHECK_EQ(cio_sem_acquire(s), 0);
  CHECK_EQ(cio_sem_value(s), 1);
  CHECK_EQ(cio_sem_locked(s), 0);
  CHECK_EQ(cio_sem_try_acquire(s), 0);
  CHECK_EQ(cio_sem_value(s), 0);
  CHECK_EQ(cio_sem_locked(s), 1);
  CHECK_EQ(cio_sem_try_acquire(s), -EAGAIN);
  CHECK_EQ(cio_sem_value(s), 0);
  CHECK_EQ(cio_sem_release(s), 0);
  CHECK_EQ(cio_sem_value(s), 1);
  CHECK_EQ(cio_sem_release(s), 0);
  CHECK_EQ(cio_sem_release(s), 0); /* unbounded: above the initial value */
  CHECK_EQ(cio_sem_value(s), 3);
  CHECK_EQ(cio_sem_locked(s), 0);
  cio_sem_free(s);

  s = cio_sem_new(0);
  CHECK(s != NULL);
  CHECK_EQ(cio_sem_value(s), 0);
  CHECK_EQ(cio_sem_locked(s), 1);
  CHECK_EQ(cio_sem_try_acquire(s), -EAGAIN);
  cio_sem_free(s);
  return 0;
}

LOOP_TEST(test_bounded) {
  cio_sem *s = cio_sem_new_bounded(2);
  CHECK(s != NULL);
  CHECK_EQ(cio_sem_value(s), 2);
  CHECK_EQ(cio_sem_release(s), -EOVERFLOW);
  CHECK_EQ(cio_sem_value(s), 2);
  CHECK_EQ(cio_sem_acquire(s), 0);
  CHECK_EQ(cio_sem_acquire(s), 0);
  CHECK_EQ(cio_sem_locked(s), 1);
  CHECK_EQ(cio_sem_release(s), 0);
  CHECK_EQ(cio_sem_release(s), 0);
  CHECK_EQ(cio_sem_value(s), 2);
  CHECK_EQ(cio_sem_release(s), -EOVERFLOW);
  CHECK_EQ(cio_sem_value(s), 2);
  cio_sem_free(s);

  s = cio_sem_new_bounded(0);
  CHECK(s != NULL);
  CHECK_EQ(cio_sem_release(s), -EOVERFLOW);
  CHECK_EQ(cio_sem_value(s), 0);
  CHECK_EQ(cio_sem_locked(s), 1);
  cio_sem_free(s);
  return 0;
}

/* A bounded semaphore at 0 with a waiter: release hands the permit over and
 * is not an overflow. */
LOOP_TEST(test_bounded_handoff) {
  cio_sem *s = cio_sem_new_bounded(1);
  CHECK_EQ(cio_sem_acquire(s), 0);
  struct waiter w = mk_waiter(s, 0, NULL, NULL);
  cio_task *t = cio_spawn(waiter_fn, &w);
  wait_blocked(t);
  CHECK_EQ(cio_sem_release(s), 0);
  CHECK_EQ(cio_sem_value(s), 0); /* went straight to the waiter */
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w.r, 0);
  CHECK_EQ(cio_sem_release(s), 0); /* the waiter's permit back */
  CHECK_EQ(cio_sem_value(s), 1);
  CHECK_EQ(cio_sem_release(s), -EOVERFLOW);
  cio_sem_free(s);
  return 0;
}

/* ---- counting: never more than `value` holders at once ---- */

struct cnt {
  cio_sem *s;
  int inside, max_inside, total;
};

static int cnt_worker(void *arg) {
  struct cnt *c = arg;
  for (int i = 0; i < 20; i++) {
    CHECK_EQ(cio_sem_acquire(c->s), 0);
    c->inside++;
    if (c->inside > c->max_inside) c->max_inside = c->inside;
    for (int k = 0; k < 3; k++) cio_yield();
    c->inside--;
    c->total++;
    CHECK_EQ(cio_sem_release(c->s), 0);
  }
  return 0;
}

LOOP_TEST(test_counting) {
  for (unsigned v = 1; v <= 3; v++) {
    struct cnt c = {cio_sem_new_bounded(v), 0, 0, 0};
    cio_task *t[6];
    for (int i = 0; i < 6; i++) t[i] = cio_spawn(cnt_worker, &c);
    for (int i = 0; i < 6; i++) CHECK_EQ(join(t[i]), 0);
    CHECK_EQ(c.max_inside, (int)v); /* reached, never exceeded */
    CHECK_EQ(c.total, 120);
    CHECK_EQ(cio_sem_value(c.s), v);
    cio_sem_free(c.s);
  }
  return 0;
}

/* ---- FIFO hand-off ---- */

LOOP_TEST(test_fifo) {
  enum { N = 6 };
  cio_sem *s = cio_sem_new(0);
  struct waiter w[N];
  cio_task *t[N];
  int log[N], nlog = 0;
  for (int i = 0; i < N; i++) w[i] = mk_waiter(s, i, log, &nlog);
  spawn_blocked(t, N, waiter_fn, w, sizeof w[0]);
  /* one at a time */
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(cio_sem_release(s), 0);
    settle();
    CHECK_EQ(nlog, i + 1);
  }
  /* the rest in one burst */
  for (int i = 3; i < N; i++) CHECK_EQ(cio_sem_release(s), 0);
  CHECK_EQ(cio_sem_value(s), 0);
  for (int i = 0; i < N; i++) CHECK_EQ(join(t[i]), 0);
  CHECK_EQ(nlog, N);
  for (int i = 0; i < N && i < nlog; i++) CHECK_EQ(log[i], i);
  CHECK_EQ(cio_sem_value(s), 0);
  cio_sem_free(s);
  return 0;
}

/* The releaser cannot take the permit back from a queued waiter: release
 * hands it over, the value stays 0. */
LOOP_TEST(test_no_barging) {
  cio_sem *s = cio_sem_new(0);
  struct waiter w = mk_waiter(s, 1, NULL, NULL);
  cio_task *t = cio_spawn(waiter_fn, &w);
  wait_blocked(t);
  CHECK_EQ(cio_sem_release(s), 0);
  CHECK_EQ(cio_sem_value(s), 0);
  CHECK_EQ(cio_sem_locked(s), 1);
  CHECK_EQ(cio_sem_try_acquire(s), -EAGAIN);
  CHECK(!w.done);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w.r, 0);
  CHECK_EQ(w.after, 0);
  CHECK_EQ(cio_sem_value(s), 0); /* the waiter kept its permit */
  cio_sem_free(s);
  return 0;
}

/* ---- cancellation ---- */

LOOP_TEST(test_cancel_waiter_takes_no_permit) {
  for (int victim = 0; victim < 3; victim++) {
    cio_sem *s = cio_sem_new(0);
    struct waiter w[3];
    cio_task *t[3];
    int log[3], nlog = 0;
    for (int i = 0; i < 3; i++) w[i] = mk_waiter(s, i, log, &nlog);
    spawn_blocked(t, 3, waiter_fn, w, sizeof w[0]);
    CHECK_EQ(cio_task_cancel(t[victim]), 1);
    settle();
    CHECK(w[victim].done);
    CHECK_EQ(w[victim].r, -ECANCELED);
    CHECK_EQ(w[victim].after, 0);
    CHECK_EQ(cio_sem_value(s), 0);
    CHECK_EQ(cio_sem_release(s), 0);
    CHECK_EQ(cio_sem_release(s), 0);
    for (int i = 0; i < 3; i++) CHECK_EQ(join(t[i]), 0);
    CHECK_EQ(nlog, 2);
    int k = 0;
    for (int i = 0; i < 3; i++) {
      if (i == victim) continue;
      CHECK_EQ(w[i].r, 0);
      if (k < nlog) CHECK_EQ(log[k], i);
      k++;
    }
    CHECK_EQ(cio_sem_value(s), 0); /* both permits went to survivors */
    CHECK_EQ(cio_sem_release(s), 0);
    CHECK_EQ(cio_sem_value(s), 1);
    cio_sem_free(s);
  }
  return 0;
}

/* Permit handed over, waiter cancelled before it runs: it keeps the permit
 * (acquire returns 0), the cancellation lands on its next suspension. */
LOOP_TEST(test_handoff_then_cancel) {
  cio_sem *s = cio_sem_new(0);
  struct waiter w = mk_waiter(s, 0, NULL, NULL);
  cio_task *t = cio_spawn(waiter_fn, &w);
  wait_blocked(t);
  CHECK_EQ(cio_sem_release(s), 0);
  CHECK_EQ(cio_task_cancel(t), 1);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w.r, 0);
  CHECK_EQ(w.after, -ECANCELED);
  CHECK_EQ(cio_sem_value(s), 0); /* the permit is the waiter's */
  cio_sem_free(s);
  return 0;
}

struct selfc {
  cio_sem *s;
  int c, r, next, done;
};

static int self_cancel_fn(void *arg) {
  struct selfc *x = arg;
  x->c = cio_task_cancel(cio_current());
  x->r = cio_sem_acquire(x->s);
  x->next = cio_yield();
  x->done = 1;
  return 0;
}

LOOP_TEST(test_pending_cancel) {
  cio_sem *s = cio_sem_new(0);
  struct selfc x = {s, 0, 1, 1, 0};
  cio_task *t = cio_spawn(self_cancel_fn, &x);
  settle();
  CHECK(x.done);
  CHECK_EQ(x.c, 1);
  CHECK_EQ(x.r, -ECANCELED);
  CHECK_EQ(x.next, 0);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(cio_sem_value(s), 0);
  cio_sem_free(s);
  return 0;
}

/* ---- timeouts ---- */

struct tmo {
  cio_sem *s;
  double secs;
  int r, expired;
};

static int timed_acquire(void *arg) {
  struct tmo *m = arg;
  cio_timeout_scope sc;
  CHECK_EQ(cio_timeout_begin(&sc, m->secs), 0);
  m->r = cio_sem_acquire(m->s);
  m->expired = cio_timeout_end(&sc);
  return 0;
}

LOOP_TEST(test_timeout) {
  cio_sem *s = cio_sem_new(0);
  struct tmo a = {s, 0, 1, -1};
  CHECK_EQ(join(cio_spawn(timed_acquire, &a)), 0);
  CHECK_EQ(a.r, -ETIMEDOUT);
  CHECK_EQ(a.expired, 1);

  struct tmo b = {s, 0.02, 1, -1};
  CHECK_EQ(join(cio_spawn(timed_acquire, &b)), 0);
  CHECK_EQ(b.r, -ETIMEDOUT);
  CHECK_EQ(b.expired, 1);
  CHECK_EQ(cio_sem_value(s), 0);

  /* the timed-out waiters took nothing: one release, one permit */
  CHECK_EQ(cio_sem_release(s), 0);
  CHECK_EQ(cio_sem_value(s), 1);

  struct tmo c = {s, 5.0, 1, -1};
  CHECK_EQ(join(cio_spawn(timed_acquire, &c)), 0);
  CHECK_EQ(c.r, 0);
  CHECK_EQ(c.expired, 0);
  CHECK_EQ(cio_sem_value(s), 0);
  cio_sem_free(s);
  return 0;
}

LOOP_TEST(test_timeout_middle_waiter) {
  cio_sem *s = cio_sem_new(0);
  int log[3], nlog = 0;
  struct waiter a = mk_waiter(s, 1, log, &nlog), c = mk_waiter(s, 3, log, &nlog);
  struct tmo b = {s, 0.02, 1, -1};
  cio_task *ta = cio_spawn(waiter_fn, &a);
  wait_blocked(ta);
  cio_task *tb = cio_spawn(timed_acquire, &b);
  wait_blocked(tb);
  cio_task *tc = cio_spawn(waiter_fn, &c);
  wait_blocked(tc);
  CHECK_EQ(join(tb), 0);
  CHECK_EQ(b.r, -ETIMEDOUT);
  CHECK_EQ(cio_sem_release(s), 0);
  CHECK_EQ(cio_sem_release(s), 0);
  CHECK_EQ(join(ta), 0);
  CHECK_EQ(join(tc), 0);
  CHECK_EQ(nlog, 2);
  CHECK_EQ(log[0], 1);
  CHECK_EQ(log[1], 3);
  CHECK_EQ(cio_sem_value(s), 0);
  cio_sem_free(s);
  return 0;
}

/* ---- free ---- */

/* Freeing a semaphore tasks wait on wakes them with -EBADF (ASan judges
 * that they touch nothing of it afterwards). */
LOOP_TEST(test_free_wakes_waiters) {
  cio_sem *s = cio_sem_new(0);
  struct waiter w = mk_waiter(s, 0, NULL, NULL);
  cio_task *t = cio_spawn(waiter_fn, &w);
  wait_blocked(t);
  cio_sem_free(s);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w.r, -EBADF);
  return 0;
}

/* ---- outside a task ---- */

struct cbctx {
  cio_sem *s;
  int ran, r;
};

static void outside_cb(void *arg) {
  struct cbctx *c = arg;
  c->r = cio_sem_acquire(c->s);
  c->ran = 1;
}

LOOP_TEST(test_eperm_in_callback) {
  struct cbctx c = {cio_sem_new(0), 0, 1};
  CHECK_EQ(cio_call_soon(cio_loop_current(), outside_cb, &c), 0);
  settle();
  CHECK(c.ran);
  CHECK_EQ(c.r, -EPERM);
  CHECK_EQ(cio_sem_value(c.s), 0);
  cio_sem_free(c.s);
  return 0;
}

static void test_eperm_no_loop(void) {
  cio_sem *s = cio_sem_new(0);
  CHECK(s != NULL);
  if (!s) return;
  CHECK_EQ(cio_sem_acquire(s), -EPERM);
  cio_sem_free(s);
}

static void test_eperm_loop_no_task(void) {
  cio_loop *loop = cio_loop_new(NULL);
  CHECK(loop != NULL);
  if (!loop) return;
  cio_sem *s = cio_sem_new_bounded(0);
  CHECK_EQ(cio_sem_acquire(s), -EPERM);
  CHECK_EQ(cio_sem_value(s), 0);
  cio_sem_free(s);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

/* A cancelled waiter that has not run yet does not receive a permit, and
 * freeing the semaphore before it unwinds is safe (ASan judges). */
LOOP_TEST(test_free_with_cancelled_waiter) {
  cio_sem *s = cio_sem_new(0);
  struct waiter w = mk_waiter(s, 0, NULL, NULL);
  cio_task *t = cio_spawn(waiter_fn, &w);
  wait_blocked(t);
  CHECK_STR(cio_task_waiting_on(t), "semaphore");
  cio_task_cancel(t);
  CHECK_EQ(cio_sem_release(s), 0);
  CHECK_EQ(cio_sem_value(s), 1); /* not handed to the cancelled one */
  cio_sem_free(s);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w.r, -ECANCELED);
  return 0;
}

/* ---- chaos: random cancellation, permits conserved ---- */

enum { CHAOS_WORKERS = 8, CHAOS_ROUNDS = 400, CHAOS_PERMITS = 3 };

struct chaos {
  cio_sem *s;
  int inside, max_inside, entries, bad_release;
};

static int chaos_worker(void *arg) {
  struct chaos *c = arg;
  for (;;) {
    if (cio_sem_acquire(c->s) < 0) return 0;
    c->inside++;
    c->entries++;
    if (c->inside > c->max_inside) c->max_inside = c->inside;
    int y = cio_yield();
    c->inside--;
    if (cio_sem_release(c->s) != 0) c->bad_release++;
    if (y < 0 || cio_yield() < 0) return 0;
  }
}

static unsigned rng_next(unsigned *x) {
  *x = *x * 1103515245u + 12345u;
  return *x >> 16;
}

LOOP_TEST(test_chaos_cancel) {
  struct chaos c = {cio_sem_new_bounded(CHAOS_PERMITS), 0, 0, 0, 0};
  cio_task *t[CHAOS_WORKERS];
  unsigned x = 7;
  for (int i = 0; i < CHAOS_WORKERS; i++) t[i] = cio_spawn(chaos_worker, &c);
  for (int round = 0; round < CHAOS_ROUNDS; round++) {
    for (unsigned k = rng_next(&x) % 4; k > 0; k--) cio_yield();
    int i = (int)(rng_next(&x) % CHAOS_WORKERS);
    cio_task_cancel(t[i]);
    if (rng_next(&x) % 2) cio_yield();
    int r = join(t[i]);
    CHECK(r == 0 || r == -ECANCELED);
    t[i] = cio_spawn(chaos_worker, &c);
  }
  for (int i = 0; i < CHAOS_WORKERS; i++) {
    cio_task_cancel(t[i]);
    int r = join(t[i]);
    CHECK(r == 0 || r == -ECANCELED);
  }
  CHECK_EQ(c.max_inside, CHAOS_PERMITS);
  CHECK_EQ(c.inside, 0);
  CHECK_EQ(c.bad_release, 0);
  CHECK(c.entries > CHAOS_ROUNDS / 4);
  CHECK_EQ(cio_sem_value(c.s), CHAOS_PERMITS); /* every permit came back */
  CHECK_EQ(cio_sem_release(c.s), -EOVERFLOW);
  cio_sem_free(c.s);
  return 0;
}

int main(void) {
  RUN(test_eperm_no_loop);
  RUN(test_eperm_loop_no_task);
  RUN(test_basic);
  RUN(test_bounded);
  RUN(test_bounded_handoff);
  RUN(test_counting);
  RUN(test_fifo);
  RUN(test_no_barging);
  RUN(test_cancel_waiter_takes_no_permit);
  RUN(test_handoff_then_cancel);
  RUN(test_pending_cancel);
  RUN(test_timeout);
  RUN(test_timeout_middle_waiter);
  RUN(test_free_wakes_waiters);
  RUN(test_eperm_in_callback);
  RUN(test_free_with_cancelled_waiter);
  RUN(test_chaos_cancel);
  return test_report();
}
