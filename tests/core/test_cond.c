/* test_cond.c - cio_cond: wait releases and re-acquires the lock, notify
 * order and counts, wait_for, -EPERM without the lock, and the rule that a
 * wait always returns holding the lock (also when cancelled or timed out). */
#include "test.h"
#include "test_loop.h"

#include <cio.h>

/* Takes the lock, waits on the condition (optionally for a predicate, under
 * a timeout), logs its id while still holding the lock, then records
 * whether it held the lock on return (its release must succeed). */
struct waiter {
  cio_cond *c;
  int id;
  int *log, *nlog;
  int (*pred)(void *);
  void *parg;
  double timeout; /* < 0: none */
  int r, held, after, done, expired;
};

static int waiter_fn(void *arg) {
  struct waiter *w = arg;
  cio_lock *l = cio_cond_lock(w->c);
  cio_timeout_scope s;
  CHECK_EQ(cio_lock_acquire(l), 0);
  if (w->timeout >= 0) cio_timeout_begin(&s, w->timeout);
  w->r = w->pred ? cio_cond_wait_for(w->c, w->pred, w->parg) : cio_cond_wait(w->c);
  if (w->timeout >= 0) w->expired = cio_timeout_end(&s);
  if (w->log) w->log[(*w->nlog)++] = w->id;
  w->held = cio_lock_release(l) == 0;
  w->after = cio_yield();
  w->done = 1;
  return 0;
}

static struct waiter mk_waiter(cio_cond *c, int id, int *log, int *nlog) {
  struct waiter w = {c, id, log, nlog, NULL, NULL, -1, 1, 0, 1, 0, -1};
  return w;
}

LOOP_TEST(test_basic) {
  cio_cond *c = cio_cond_new(NULL); /* makes and owns its lock */
  CHECK(c != NULL);
  CHECK(cio_cond_lock(c) != NULL);
  CHECK_EQ(cio_lock_locked(cio_cond_lock(c)), 0);
  cio_cond_free(c);

  cio_lock *l = cio_lock_new();
  c = cio_cond_new(l);
  CHECK(cio_cond_lock(c) == l);
  CHECK_EQ(cio_lock_acquire(l), 0);
  CHECK_EQ(cio_cond_notify(c, 1), 0); /* nobody waiting */
  CHECK_EQ(cio_cond_notify_all(c), 0);
  CHECK_EQ(cio_lock_release(l), 0);
  cio_cond_free(c);
  /* the user's lock survives the condition */
  CHECK_EQ(cio_lock_acquire(l), 0);
  CHECK_EQ(cio_lock_release(l), 0);
  cio_lock_free(l);
  return 0;
}

/* Two conditions may share one lock. */
LOOP_TEST(test_shared_lock) {
  cio_lock *l = cio_lock_new();
  cio_cond *a = cio_cond_new(l), *b = cio_cond_new(l);
  struct waiter wa = mk_waiter(a, 0, NULL, NULL), wb = mk_waiter(b, 1, NULL, NULL);
  cio_task *ta = cio_spawn(waiter_fn, &wa), *tb = cio_spawn(waiter_fn, &wb);
  wait_blocked(ta);
  wait_blocked(tb);
  CHECK_EQ(cio_lock_acquire(l), 0);
  CHECK_EQ(cio_cond_notify_all(b), 1); /* wakes only b's waiter */
  CHECK_EQ(cio_lock_release(l), 0);
  CHECK_EQ(join(tb), 0);
  CHECK_EQ(wb.r, 0);
  CHECK(wb.held);
  settle();
  CHECK(!wa.done);
  CHECK_EQ(cio_lock_acquire(l), 0);
  CHECK_EQ(cio_cond_notify(a, 1), 1);
  CHECK_EQ(cio_lock_release(l), 0);
  CHECK_EQ(join(ta), 0);
  CHECK_EQ(wa.r, 0);
  CHECK(wa.held);
  cio_cond_free(a);
  cio_cond_free(b);
  cio_lock_free(l);
  return 0;
}

/* wait releases the lock while waiting and holds it again on return; a
 * notified waiter cannot return before the notifier lets go of the lock. */
LOOP_TEST(test_wait_releases_and_reacquires) {
  cio_cond *c = cio_cond_new(NULL);
  cio_lock *l = cio_cond_lock(c);
  struct waiter w = mk_waiter(c, 0, NULL, NULL);
  cio_task *t = cio_spawn(waiter_fn, &w);
  wait_blocked(t);
  CHECK_EQ(cio_lock_locked(l), 0); /* released while waiting */
  CHECK_EQ(cio_lock_try_acquire(l), 0);
  CHECK_EQ(cio_cond_notify(c, 1), 1);
  settle();
  CHECK(!w.done); /* needs the lock back first */
  CHECK_EQ(cio_task_get_state(t), CIO_TASK_WAITING);
  CHECK_EQ(cio_lock_release(l), 0);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w.r, 0);
  CHECK(w.held);
  CHECK_EQ(w.after, 0);
  CHECK_EQ(cio_lock_locked(l), 0);
  cio_cond_free(c);
  return 0;
}

LOOP_TEST(test_notify_n_fifo) {
  enum { N = 6 };
  cio_cond *c = cio_cond_new(NULL);
  cio_lock *l = cio_cond_lock(c);
  struct waiter w[N];
  cio_task *t[N];
  int log[N], nlog = 0;
  for (int i = 0; i < N; i++) w[i] = mk_waiter(c, i, log, &nlog);
  spawn_blocked(t, N, waiter_fn, w, sizeof w[0]);
  CHECK_EQ(cio_lock_acquire(l), 0);
  CHECK_EQ(cio_cond_notify(c, 2), 2);
  CHECK_EQ(cio_cond_notify(c, 0), 0);
  CHECK_EQ(cio_lock_release(l), 0);
  settle();
  CHECK_EQ(nlog, 2);
  if (nlog >= 2) {
    CHECK_EQ(log[0], 0);
    CHECK_EQ(log[1], 1);
  }
  for (int i = 2; i < N; i++) CHECK(!w[i].done);

  CHECK_EQ(cio_lock_acquire(l), 0);
  CHECK_EQ(cio_cond_notify(c, 1), 1);
  CHECK_EQ(cio_lock_release(l), 0);
  settle();
  CHECK_EQ(nlog, 3);
  if (nlog >= 3) CHECK_EQ(log[2], 2);

  CHECK_EQ(cio_lock_acquire(l), 0);
  CHECK_EQ(cio_cond_notify(c, 100), N - 3); /* only as many as wait */
  CHECK_EQ(cio_cond_notify(c, 1), 0);
  CHECK_EQ(cio_lock_release(l), 0);
  for (int i = 0; i < N; i++) CHECK_EQ(join(t[i]), 0);
  CHECK_EQ(nlog, N);
  for (int i = 0; i < N && i < nlog; i++) CHECK_EQ(log[i], i);
  for (int i = 0; i < N; i++) {
    CHECK_EQ(w[i].r, 0);
    CHECK(w[i].held);
  }
  cio_cond_free(c);
  return 0;
}

LOOP_TEST(test_notify_all) {
  enum { N = 5 };
  cio_cond *c = cio_cond_new(NULL);
  cio_lock *l = cio_cond_lock(c);
  struct waiter w[N];
  cio_task *t[N];
  int log[N], nlog = 0;
  for (int i = 0; i < N; i++) w[i] = mk_waiter(c, i, log, &nlog);
  spawn_blocked(t, N, waiter_fn, w, sizeof w[0]);
  CHECK_EQ(cio_lock_acquire(l), 0);
  CHECK_EQ(cio_cond_notify_all(c), N);
  CHECK_EQ(cio_cond_notify_all(c), 0);
  CHECK_EQ(cio_lock_release(l), 0);
  for (int i = 0; i < N; i++) CHECK_EQ(join(t[i]), 0);
  CHECK_EQ(nlog, N);
  for (int i = 0; i < N && i < nlog; i++) CHECK_EQ(log[i], i);
  cio_cond_free(c);
  return 0;
}

/* ---- -EPERM without the lock ---- */

struct holder {
  cio_lock *l;
  int go;
};

static int hold_fn(void *arg) {
  struct holder *h = arg;
  CHECK_EQ(cio_lock_acquire(h->l), 0);
  /* Hold until told (bounded: 10 s); sleeping, not yielding, so the bound
   * does not depend on how fast a yield is. */
  for (int i = 0; i < 10000 && !h->go; i++) cio_sleep(0.001);
  CHECK_EQ(cio_lock_release(h->l), 0);
  return 0;
}

LOOP_TEST(test_eperm_without_lock) {
  cio_cond *c = cio_cond_new(NULL);
  cio_lock *l = cio_cond_lock(c);
  CHECK_EQ(cio_cond_wait(c), -EPERM);
  CHECK_EQ(cio_cond_notify(c, 1), -EPERM);
  CHECK_EQ(cio_cond_notify_all(c), -EPERM);
  CHECK_EQ(cio_lock_locked(l), 0);

  /* held by another task is not held by us */
  struct holder h = {l, 0};
  cio_task *t = cio_spawn(hold_fn, &h);
  settle();
  CHECK_EQ(cio_lock_locked(l), 1);
  CHECK_EQ(cio_cond_wait(c), -EPERM);
  CHECK_EQ(cio_cond_notify(c, 1), -EPERM);
  CHECK_EQ(cio_cond_notify_all(c), -EPERM);
  CHECK_EQ(cio_lock_locked(l), 1); /* untouched */
  h.go = 1;
  CHECK_EQ(join(t), 0);
  cio_cond_free(c);
  return 0;
}

/* -EPERM on wait_for without the lock, even if the predicate is true. */
static int always_true(void *arg) { return 1; }

LOOP_TEST(test_eperm_wait_for) {
  cio_cond *c = cio_cond_new(NULL);
  CHECK_EQ(cio_cond_wait_for(c, always_true, NULL), -EPERM);
  CHECK_EQ(cio_lock_locked(cio_cond_lock(c)), 0);
  cio_cond_free(c);
  return 0;
}

/* ---- cancellation: a wait always returns holding the lock ---- */

LOOP_TEST(test_cancel_waiter_holds_lock) {
  cio_cond *c = cio_cond_new(NULL);
  cio_lock *l = cio_cond_lock(c);
  struct waiter w = mk_waiter(c, 0, NULL, NULL);
  cio_task *t = cio_spawn(waiter_fn, &w);
  wait_blocked(t);
  CHECK_EQ(cio_lock_acquire(l), 0);
  CHECK_EQ(cio_task_cancel(t), 1);
  settle();
  CHECK(!w.done); /* re-acquiring: we hold the lock */
  CHECK_EQ(cio_lock_release(l), 0);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w.r, -ECANCELED);
  CHECK(w.held);
  CHECK_EQ(w.after, 0); /* cancellation fires once */
  CHECK_EQ(cio_lock_locked(l), 0);
  cio_cond_free(c);
  return 0;
}

/* A cancelled waiter does not swallow a notification: notify(1) after the
 * first waiter was cancelled wakes the second. */
LOOP_TEST(test_cancel_does_not_eat_notify) {
  cio_cond *c = cio_cond_new(NULL);
  cio_lock *l = cio_cond_lock(c);
  struct waiter a = mk_waiter(c, 0, NULL, NULL), b = mk_waiter(c, 1, NULL, NULL);
  cio_task *ta = cio_spawn(waiter_fn, &a);
  wait_blocked(ta);
  cio_task *tb = cio_spawn(waiter_fn, &b);
  wait_blocked(tb);
  CHECK_EQ(cio_task_cancel(ta), 1);
  CHECK_EQ(cio_lock_acquire(l), 0);
  CHECK_EQ(cio_cond_notify(c, 1), 1);
  CHECK_EQ(cio_lock_release(l), 0);
  CHECK_EQ(join(ta), 0);
  CHECK_EQ(join(tb), 0);
  CHECK_EQ(a.r, -ECANCELED);
  CHECK(a.held);
  CHECK_EQ(b.r, 0);
  CHECK(b.held);
  cio_cond_free(c);
  return 0;
}

/* Notified, then cancelled before it runs: the wait succeeded (returns 0,
 * holding the lock); the cancellation hits the next suspension. */
LOOP_TEST(test_notified_then_cancelled) {
  cio_cond *c = cio_cond_new(NULL);
  cio_lock *l = cio_cond_lock(c);
  struct waiter w = mk_waiter(c, 0, NULL, NULL);
  cio_task *t = cio_spawn(waiter_fn, &w);
  wait_blocked(t);
  CHECK_EQ(cio_lock_acquire(l), 0);
  CHECK_EQ(cio_cond_notify(c, 1), 1);
  CHECK_EQ(cio_task_cancel(t), 1);
  CHECK_EQ(cio_lock_release(l), 0);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w.r, 0);
  CHECK(w.held);
  CHECK_EQ(w.after, -ECANCELED);
  cio_cond_free(c);
  return 0;
}

struct counter {
  cio_cond *c;
  int value, target, pred_calls, pred_unlocked;
};

static int reached(void *arg) {
  struct counter *k = arg;
  k->pred_calls++;
  if (!cio_lock_locked(cio_cond_lock(k->c))) k->pred_unlocked++;
  return k->value >= k->target;
}

struct selfc {
  cio_cond *c;
  int cr, r, held, next;
};

static int self_cancel_fn(void *arg) {
  struct selfc *s = arg;
  cio_lock *l = cio_cond_lock(s->c);
  CHECK_EQ(cio_lock_acquire(l), 0);
  s->cr = cio_task_cancel(cio_current());
  s->r = cio_cond_wait(s->c);
  s->held = cio_lock_release(l) == 0;
  s->next = cio_yield();
  return 0;
}

LOOP_TEST(test_pending_cancel) {
  cio_cond *c = cio_cond_new(NULL);
  struct selfc s = {c, 0, 1, 0, 1};
  cio_task *t = cio_spawn(self_cancel_fn, &s);
  CHECK_EQ(join(t), 0); /* nobody notifies: must not hang */
  CHECK_EQ(s.cr, 1);
  CHECK_EQ(s.r, -ECANCELED);
  CHECK(s.held);
  CHECK_EQ(s.next, 0);
  CHECK_EQ(cio_lock_locked(cio_cond_lock(c)), 0);

  /* wait_for with a false predicate, cancellation already pending */
  struct counter k = {c, 0, 1, 0, 0};
  CHECK_EQ(cio_lock_acquire(cio_cond_lock(c)), 0);
  CHECK_EQ(cio_task_cancel(cio_current()), 1);
  CHECK_EQ(cio_cond_wait_for(c, reached, &k), -ECANCELED);
  CHECK_EQ(cio_lock_release(cio_cond_lock(c)), 0); /* held on return */
  CHECK_EQ(cio_yield(), 0);
  cio_cond_free(c);
  return 0;
}

/* ---- timeouts ---- */

LOOP_TEST(test_timeout) {
  cio_cond *c = cio_cond_new(NULL);
  cio_lock *l = cio_cond_lock(c);
  struct waiter w = mk_waiter(c, 0, NULL, NULL);
  w.timeout = 0.02;
  CHECK_EQ(join(cio_spawn(waiter_fn, &w)), 0);
  CHECK_EQ(w.r, -ETIMEDOUT);
  CHECK_EQ(w.expired, 1);
  CHECK(w.held);

  /* already expired scope */
  struct waiter w0 = mk_waiter(c, 0, NULL, NULL);
  w0.timeout = 0;
  CHECK_EQ(join(cio_spawn(waiter_fn, &w0)), 0);
  CHECK_EQ(w0.r, -ETIMEDOUT);
  CHECK(w0.held);
  CHECK_EQ(cio_lock_locked(l), 0);
  cio_cond_free(c);
  return 0;
}

/* The scope expires while another task holds the lock: the waiter returns
 * -ETIMEDOUT only once it has the lock again. */
LOOP_TEST(test_timeout_reacquire_waits) {
  cio_cond *c = cio_cond_new(NULL);
  cio_lock *l = cio_cond_lock(c);
  struct waiter w = mk_waiter(c, 0, NULL, NULL);
  w.timeout = 0.02;
  cio_task *t = cio_spawn(waiter_fn, &w);
  wait_blocked(t);
  CHECK_EQ(cio_lock_acquire(l), 0);
  CHECK_EQ(cio_sleep(0.06), 0); /* scope expires meanwhile */
  CHECK(!w.done);
  CHECK_EQ(cio_lock_release(l), 0);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w.r, -ETIMEDOUT);
  CHECK(w.held);
  cio_cond_free(c);
  return 0;
}

/* ---- wait_for ---- */

static int bumper(void *arg) {
  struct counter *k = arg;
  cio_lock *l = cio_cond_lock(k->c);
  for (int i = 0; i < 5; i++) {
    CHECK_EQ(cio_lock_acquire(l), 0);
    k->value++;
    CHECK(cio_cond_notify_all(k->c) >= 0);
    CHECK_EQ(cio_lock_release(l), 0);
    cio_yield();
  }
  return 0;
}

LOOP_TEST(test_wait_for) {
  cio_cond *c = cio_cond_new(NULL);
  struct counter k = {c, 0, 3, 0, 0};
  struct waiter w = mk_waiter(c, 0, NULL, NULL);
  w.pred = reached;
  w.parg = &k;
  cio_task *t = cio_spawn(waiter_fn, &w);
  wait_blocked(t);
  cio_task *b = cio_spawn(bumper, &k);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w.r, 0);
  CHECK(w.held);
  CHECK(k.value >= 3);
  CHECK(k.pred_calls >= 2);     /* false first, true at the end */
  CHECK_EQ(k.pred_unlocked, 0); /* always checked under the lock */
  CHECK_EQ(join(b), 0);
  cio_cond_free(c);
  return 0;
}

/* A predicate already true returns at once, with no notify at all. */
LOOP_TEST(test_wait_for_already_true) {
  cio_cond *c = cio_cond_new(NULL);
  struct counter k = {c, 5, 3, 0, 0};
  CHECK_EQ(cio_lock_acquire(cio_cond_lock(c)), 0);
  CHECK_EQ(cio_cond_wait_for(c, reached, &k), 0);
  CHECK_EQ(k.pred_calls, 1);
  CHECK_EQ(cio_lock_release(cio_cond_lock(c)), 0);
  cio_cond_free(c);
  return 0;
}

LOOP_TEST(test_wait_for_timeout_and_cancel) {
  cio_cond *c = cio_cond_new(NULL);
  struct counter k = {c, 0, 1000, 0, 0};
  struct waiter w = mk_waiter(c, 0, NULL, NULL);
  w.pred = reached;
  w.parg = &k;
  w.timeout = 0.02;
  CHECK_EQ(join(cio_spawn(waiter_fn, &w)), 0);
  CHECK_EQ(w.r, -ETIMEDOUT);
  CHECK(w.held);

  /* notifications that do not satisfy the predicate keep it waiting;
   * cancellation ends it, holding the lock */
  struct waiter w2 = mk_waiter(c, 1, NULL, NULL);
  w2.pred = reached;
  w2.parg = &k;
  cio_task *t = cio_spawn(waiter_fn, &w2);
  wait_blocked(t);
  cio_task *b = cio_spawn(bumper, &k);
  CHECK_EQ(join(b), 0);
  settle();
  CHECK(!w2.done);
  CHECK_EQ(cio_task_get_state(t), CIO_TASK_WAITING);
  cio_task_cancel(t);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w2.r, -ECANCELED);
  CHECK(w2.held);
  CHECK_EQ(k.pred_unlocked, 0);
  cio_cond_free(c);
  return 0;
}

/* ---- free ---- */

/* Freeing a condition tasks wait on wakes them with -EBADF; over a lock of
 * the caller's, they take it back first (ASan judges the rest). */
LOOP_TEST(test_free_wakes_waiters) {
  cio_lock *l = cio_lock_new();
  cio_cond *c = cio_cond_new(l);
  struct waiter w = mk_waiter(c, 0, NULL, NULL);
  cio_task *t = cio_spawn(waiter_fn, &w);
  wait_blocked(t);
  cio_cond_free(c);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w.r, -EBADF);
  CHECK(w.held);
  cio_lock_free(l);
  return 0;
}

static int own_lock_waiter(void *arg) {
  cio_cond *c = arg;
  CHECK_EQ(cio_lock_acquire(cio_cond_lock(c)), 0);
  return cio_cond_wait(c); /* the lock goes with c: nothing to release */
}

LOOP_TEST(test_free_own_lock_with_waiter) {
  cio_cond *c = cio_cond_new(NULL);
  cio_task *t = cio_spawn(own_lock_waiter, c);
  wait_blocked(t);
  cio_cond_free(c);
  CHECK_EQ(join(t), -EBADF);
  return 0;
}

/* ---- outside a task ---- */

struct cbctx {
  cio_cond *c;
  int ran, rw, rn, rna;
};

static void outside_cb(void *arg) {
  struct cbctx *x = arg;
  x->rw = cio_cond_wait(x->c);
  x->rn = cio_cond_notify(x->c, 1);
  x->rna = cio_cond_notify_all(x->c);
  x->ran = 1;
}

LOOP_TEST(test_eperm_in_callback) {
  struct cbctx x = {cio_cond_new(NULL), 0, 1, 1, 1};
  CHECK_EQ(cio_call_soon(cio_loop_current(), outside_cb, &x), 0);
  settle();
  CHECK(x.ran);
  CHECK_EQ(x.rw, -EPERM);
  CHECK_EQ(x.rn, -EPERM);
  CHECK_EQ(x.rna, -EPERM);
  cio_cond_free(x.c);
  return 0;
}

static void test_eperm_loop_no_task(void) {
  cio_loop *loop = cio_loop_new(NULL);
  CHECK(loop != NULL);
  if (!loop) return;
  cio_cond *c = cio_cond_new(NULL);
  CHECK(c != NULL);
  CHECK_EQ(cio_cond_wait(c), -EPERM);
  CHECK_EQ(cio_cond_notify(c, 1), -EPERM);
  cio_cond_free(c);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

/* ---- a bounded buffer built on two conditions over one lock ---- */

enum { BUF = 4, PRODUCERS = 3, CONSUMERS = 2, PER = 2000 };

struct bb {
  cio_lock *l;
  cio_cond *not_full, *not_empty;
  int buf[BUF], head, count;
  long sum;
  int taken, stop;
};

static int bb_has_room(void *arg) { return ((struct bb *)arg)->count < BUF; }
static int bb_has_item(void *arg) {
  struct bb *b = arg;
  return b->count > 0 || b->stop;
}

static int bb_producer(void *arg) {
  struct bb *b = arg;
  for (int i = 1; i <= PER; i++) {
    CHECK_EQ(cio_lock_acquire(b->l), 0);
    CHECK_EQ(cio_cond_wait_for(b->not_full, bb_has_room, b), 0);
    CHECK(b->count < BUF);
    b->buf[(b->head + b->count) % BUF] = i;
    b->count++;
    CHECK(cio_cond_notify(b->not_empty, 1) >= 0);
    CHECK_EQ(cio_lock_release(b->l), 0);
  }
  return 0;
}

static int bb_consumer(void *arg) {
  struct bb *b = arg;
  for (;;) {
    CHECK_EQ(cio_lock_acquire(b->l), 0);
    CHECK_EQ(cio_cond_wait_for(b->not_empty, bb_has_item, b), 0);
    if (b->count == 0) { /* stop and drained */
      CHECK_EQ(cio_lock_release(b->l), 0);
      return 0;
    }
    b->sum += b->buf[b->head];
    b->head = (b->head + 1) % BUF;
    b->count--;
    b->taken++;
    CHECK(cio_cond_notify(b->not_full, 1) >= 0);
    CHECK_EQ(cio_lock_release(b->l), 0);
    if (b->taken % 7 == 0) cio_yield();
  }
}

LOOP_TEST(test_bounded_buffer) {
  struct bb b;
  memset(&b, 0, sizeof b);
  b.l = cio_lock_new();
  b.not_full = cio_cond_new(b.l);
  b.not_empty = cio_cond_new(b.l);
  cio_task *p[PRODUCERS], *c[CONSUMERS];
  for (int i = 0; i < CONSUMERS; i++) c[i] = cio_spawn(bb_consumer, &b);
  for (int i = 0; i < PRODUCERS; i++) p[i] = cio_spawn(bb_producer, &b);
  for (int i = 0; i < PRODUCERS; i++) CHECK_EQ(join(p[i]), 0);
  CHECK_EQ(cio_lock_acquire(b.l), 0);
  b.stop = 1;
  CHECK(cio_cond_notify_all(b.not_empty) >= 0);
  CHECK_EQ(cio_lock_release(b.l), 0);
  for (int i = 0; i < CONSUMERS; i++) CHECK_EQ(join(c[i]), 0);
  CHECK_EQ(b.taken, PRODUCERS * PER);
  CHECK_EQ(b.sum, (long)PRODUCERS * PER * (PER + 1) / 2);
  cio_cond_free(b.not_full);
  cio_cond_free(b.not_empty);
  cio_lock_free(b.l);
  return 0;
}

/* Notified first, then the scope expires while re-acquiring the lock: the
 * wait succeeded (0, lock held); the scope reports it expired. */
LOOP_TEST(test_notified_then_timeout) {
  cio_cond *c = cio_cond_new(NULL);
  cio_lock *l = cio_cond_lock(c);
  struct waiter w = mk_waiter(c, 0, NULL, NULL);
  w.timeout = 0.02;
  cio_task *t = cio_spawn(waiter_fn, &w);
  wait_blocked(t);
  CHECK_STR(cio_task_waiting_on(t), "condition");
  CHECK_EQ(cio_lock_acquire(l), 0);
  CHECK_EQ(cio_cond_notify(c, 1), 1);
  CHECK_EQ(cio_sleep(0.05), 0); /* the scope expires meanwhile */
  CHECK(!w.done);
  CHECK_EQ(cio_lock_release(l), 0);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w.r, 0);
  CHECK(w.held);
  CHECK_EQ(w.expired, 1);
  cio_cond_free(c);
  return 0;
}

/* Free while a cancelled waiter is still re-acquiring: -EBUSY or 0 are both
 * acceptable answers, memory safety is what is checked (ASan). */
LOOP_TEST(test_free_with_cancelled_waiter) {
  cio_lock *l = cio_lock_new();
  cio_cond *c = cio_cond_new(l);
  struct waiter w = mk_waiter(c, 0, NULL, NULL);
  cio_task *t = cio_spawn(waiter_fn, &w);
  wait_blocked(t);
  cio_task_cancel(t);
  CHECK_EQ(cio_lock_acquire(l), 0);
  CHECK_EQ(cio_cond_notify(c, 1), 0); /* the cancelled one is not woken */
  cio_cond_free(c);
  CHECK_EQ(cio_lock_release(l), 0);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w.r, -ECANCELED);
  CHECK(w.held);
  cio_lock_free(l);
  return 0;
}

int main(void) {
  RUN(test_eperm_loop_no_task);
  RUN(test_basic);
  RUN(test_shared_lock);
  RUN(test_wait_releases_and_reacquires);
  RUN(test_notify_n_fifo);
  RUN(test_notify_all);
  RUN(test_eperm_without_lock);
  RUN(test_eperm_wait_for);
  RUN(test_cancel_waiter_holds_lock);
  RUN(test_cancel_does_not_eat_notify);
  RUN(test_notified_then_cancelled);
  RUN(test_pending_cancel);
  RUN(test_timeout);
  RUN(test_timeout_reacquire_waits);
  RUN(test_wait_for);
  RUN(test_wait_for_already_true);
  RUN(test_wait_for_timeout_and_cancel);
  RUN(test_free_wakes_waiters);
  RUN(test_free_own_lock_with_waiter);
  RUN(test_eperm_in_callback);
  RUN(test_bounded_buffer);
  RUN(test_notified_then_timeout);
  RUN(test_free_with_cancelled_waiter);
  return test_report();
}
