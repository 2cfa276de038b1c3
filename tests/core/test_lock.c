/* test_lock.c - cio_lock: mutual exclusion, FIFO hand-off, ownership errors,
 * cancellation and timeout safety, and calls from outside a task. */
#include "test.h"
#include "test_loop.h"

#include <cio.h>

/* A task that takes the lock, logs its id, holds it across a suspension,
 * then records what the next suspension returned and releases. */
struct locker {
  cio_lock *l;
  int id;
  int *log, *nlog;
  int r;     /* cio_lock_acquire() */
  int after; /* the suspension right after a successful acquire */
  int rel;   /* cio_lock_release() (also tried after a failed acquire) */
  int done;
};

static int locker_fn(void *arg) {
  struct locker *w = arg;
  w->r = cio_lock_acquire(w->l);
  if (w->r == 0) {
    if (w->log) w->log[(*w->nlog)++] = w->id;
    w->after = cio_yield();
  }
  w->rel = cio_lock_release(w->l);
  w->done = 1;
  return 0;
}

static struct locker mk_locker(cio_lock *l, int id, int *log, int *nlog) {
  struct locker w = {l, id, log, nlog, 1, 1, 1, 0};
  return w;
}

/* Holds the lock until told to let go. */
struct holder {
  cio_lock *l;
  int held, go, r;
};

static int holder_fn(void *arg) {
  struct holder *h = arg;
  h->r = cio_lock_acquire(h->l);
  h->held = 1;
  /* Hold until told (bounded: 10 s); sleeping, not yielding, so the bound
   * does not depend on how fast a yield is. */
  for (int i = 0; i < 10000 && !h->go; i++) cio_sleep(0.001);
  if (h->r == 0) CHECK_EQ(cio_lock_release(h->l), 0);
  return 0;
}

LOOP_TEST(test_basic) {
  cio_lock *l = cio_lock_new();
  CHECK(l != NULL);
  CHECK_EQ(cio_lock_locked(l), 0);
  CHECK_EQ(cio_lock_acquire(l), 0);
  CHECK_EQ(cio_lock_locked(l), 1);
  CHECK_EQ(cio_lock_release(l), 0);
  CHECK_EQ(cio_lock_locked(l), 0);
  CHECK_EQ(cio_lock_release(l), -EPERM); /* not held by anyone */
  CHECK_EQ(cio_lock_try_acquire(l), 0);
  CHECK_EQ(cio_lock_locked(l), 1);
  CHECK_EQ(cio_lock_release(l), 0);
  cio_lock_free(l);
  return 0;
}

/* lock.h: try_acquire by the holder reports the self-deadlock, like acquire. */
LOOP_TEST(test_try_acquire_by_holder) {
  cio_lock *l = cio_lock_new();
  CHECK_EQ(cio_lock_acquire(l), 0);
  CHECK_EQ(cio_lock_try_acquire(l), -EDEADLK);
  CHECK_EQ(cio_lock_locked(l), 1);
  CHECK_EQ(cio_lock_release(l), 0);
  cio_lock_free(l);
  return 0;
}

LOOP_TEST(test_edeadlk) {
  cio_lock *l = cio_lock_new();
  CHECK_EQ(cio_lock_acquire(l), 0);
  CHECK_EQ(cio_lock_acquire(l), -EDEADLK); /* not reentrant, no self-deadlock */
  CHECK_EQ(cio_lock_locked(l), 1);
  CHECK_EQ(cio_lock_release(l), 0); /* one acquire, one release */
  CHECK_EQ(cio_lock_locked(l), 0);
  CHECK_EQ(cio_lock_release(l), -EPERM);
  cio_lock_free(l);
  return 0;
}

/* ---- mutual exclusion across suspensions ---- */

struct mx {
  cio_lock *l;
  int inside, max_inside, total;
};

static int mx_worker(void *arg) {
  struct mx *m = arg;
  for (int i = 0; i < 50; i++) {
    CHECK_EQ(cio_lock_acquire(m->l), 0);
    m->inside++;
    if (m->inside > m->max_inside) m->max_inside = m->inside;
    cio_yield();
    cio_sleep(0);
    m->total++;
    m->inside--;
    CHECK_EQ(cio_lock_release(m->l), 0);
    if (i % 3 == 0) cio_yield();
  }
  return 0;
}

LOOP_TEST(test_mutual_exclusion) {
  struct mx m = {cio_lock_new(), 0, 0, 0};
  cio_task *t[5];
  for (int i = 0; i < 5; i++) t[i] = cio_spawn(mx_worker, &m);
  for (int i = 0; i < 5; i++) CHECK_EQ(join(t[i]), 0);
  CHECK_EQ(m.max_inside, 1);
  CHECK_EQ(m.total, 250);
  CHECK_EQ(cio_lock_locked(m.l), 0);
  cio_lock_free(m.l);
  return 0;
}

/* ---- FIFO fairness ---- */

LOOP_TEST(test_fifo) {
  enum { N = 8 };
  cio_lock *l = cio_lock_new();
  int log[N + 1], nlog = 0;
  struct locker w[N];
  cio_task *t[N];
  CHECK_EQ(cio_lock_acquire(l), 0);
  for (int i = 0; i < N; i++) {
    w[i] = mk_locker(l, i, log, &nlog);
    t[i] = cio_spawn(locker_fn, &w[i]);
    wait_blocked(t[i]); /* arrival order = i */
    CHECK_STR(cio_task_waiting_on(t[i]), "lock");
  }
  CHECK_EQ(nlog, 0);
  CHECK_EQ(cio_lock_release(l), 0);
  for (int i = 0; i < N; i++) CHECK_EQ(join(t[i]), 0);
  CHECK_EQ(nlog, N);
  for (int i = 0; i < N && i < nlog; i++) CHECK_EQ(log[i], i);
  for (int i = 0; i < N; i++) {
    CHECK_EQ(w[i].r, 0);
    CHECK_EQ(w[i].after, 0);
    CHECK_EQ(w[i].rel, 0);
  }
  CHECK_EQ(cio_lock_locked(l), 0);
  cio_lock_free(l);
  return 0;
}

/* The releaser calling acquire right away queues behind the waiters: the
 * release handed the lock to the first waiter directly. */
LOOP_TEST(test_no_barging) {
  cio_lock *l = cio_lock_new();
  int log[4], nlog = 0;
  struct locker w1, w2;
  cio_task *t1, *t2;
  CHECK_EQ(cio_lock_acquire(l), 0);
  w1 = mk_locker(l, 1, log, &nlog);
  w2 = mk_locker(l, 2, log, &nlog);
  t1 = cio_spawn(locker_fn, &w1);
  wait_blocked(t1);
  t2 = cio_spawn(locker_fn, &w2);
  wait_blocked(t2);
  CHECK_EQ(cio_lock_release(l), 0);
  CHECK_EQ(cio_lock_locked(l), 1); /* owned by w1 now */
  CHECK_EQ(cio_lock_try_acquire(l), -EAGAIN);
  CHECK_EQ(cio_lock_release(l), -EPERM); /* no longer ours */
  CHECK_EQ(cio_lock_acquire(l), 0);
  log[nlog++] = 99;
  CHECK_EQ(nlog, 3);
  CHECK_EQ(log[0], 1);
  CHECK_EQ(log[1], 2);
  CHECK_EQ(log[2], 99);
  CHECK_EQ(cio_lock_release(l), 0);
  CHECK_EQ(join(t1), 0);
  CHECK_EQ(join(t2), 0);
  cio_lock_free(l);
  return 0;
}

/* try_acquire also respects queued waiters while the lock is held and right
 * after a hand-off. */
LOOP_TEST(test_try_acquire) {
  cio_lock *l = cio_lock_new();
  struct holder h = {l, 0, 0, 1};
  cio_task *th = cio_spawn(holder_fn, &h);
  settle();
  CHECK(h.held);
  CHECK_EQ(cio_lock_try_acquire(l), -EAGAIN);
  CHECK_EQ(cio_lock_locked(l), 1);
  h.go = 1;
  CHECK_EQ(join(th), 0);
  CHECK_EQ(cio_lock_locked(l), 0);
  CHECK_EQ(cio_lock_try_acquire(l), 0);
  CHECK_EQ(cio_lock_release(l), 0);
  cio_lock_free(l);
  return 0;
}

/* ---- ownership ---- */

LOOP_TEST(test_release_by_non_owner) {
  cio_lock *l = cio_lock_new();
  struct holder h = {l, 0, 0, 1};
  cio_task *th = cio_spawn(holder_fn, &h);
  settle();
  CHECK(h.held);
  CHECK_EQ(h.r, 0);
  CHECK_EQ(cio_lock_release(l), -EPERM);
  CHECK_EQ(cio_lock_locked(l), 1); /* still the holder's */
  h.go = 1;
  CHECK_EQ(join(th), 0);
  CHECK_EQ(cio_lock_locked(l), 0);
  cio_lock_free(l);
  return 0;
}

/* ---- cancellation ---- */

/* Cancel one of three queued waiters (each position in turn): it returns
 * -ECANCELED holding nothing, the other two still get the lock in order. */
LOOP_TEST(test_cancel_waiter_keeps_queue) {
  /* immediate: release right after the cancel, before the victim has run */
  for (int immediate = 0; immediate < 2; immediate++)
    for (int victim = 0; victim < 3; victim++) {
      cio_lock *l = cio_lock_new();
      int log[4], nlog = 0;
      struct locker w[3];
      cio_task *t[3];
      CHECK_EQ(cio_lock_acquire(l), 0);
      for (int i = 0; i < 3; i++) w[i] = mk_locker(l, i, log, &nlog);
      spawn_blocked(t, 3, locker_fn, w, sizeof w[0]);
      CHECK_EQ(cio_task_cancel(t[victim]), 1);
      if (!immediate) {
        settle();
        CHECK(w[victim].done);
        CHECK_EQ(w[victim].r, -ECANCELED);
        CHECK_EQ(cio_lock_locked(l), 1); /* still ours */
        CHECK_EQ(nlog, 0);
      }
      CHECK_EQ(cio_lock_release(l), 0);
      for (int i = 0; i < 3; i++) CHECK_EQ(join(t[i]), 0);
      CHECK_EQ(w[victim].r, -ECANCELED);
      CHECK_EQ(w[victim].rel, -EPERM); /* it holds nothing */
      CHECK_EQ(nlog, 2);
      int k = 0;
      for (int i = 0; i < 3; i++) {
        if (i == victim) continue;
        CHECK_EQ(w[i].r, 0);
        CHECK_EQ(w[i].rel, 0);
        CHECK_EQ(w[i].after, 0);
        if (k < nlog) CHECK_EQ(log[k], i);
        k++;
      }
      CHECK_EQ(cio_lock_locked(l), 0);
      cio_lock_free(l);
    }
  return 0;
}

/* The lock is handed to W by release; W is cancelled before it gets to run.
 * W's acquire still returns 0 and W owns the lock; the cancellation hits
 * W's next suspension. */
LOOP_TEST(test_handoff_then_cancel) {
  cio_lock *l = cio_lock_new();
  int log[2], nlog = 0;
  struct locker w = mk_locker(l, 7, log, &nlog);
  struct locker w2 = mk_locker(l, 8, log, &nlog);
  cio_task *t, *t2;
  CHECK_EQ(cio_lock_acquire(l), 0);
  t = cio_spawn(locker_fn, &w);
  wait_blocked(t);
  t2 = cio_spawn(locker_fn, &w2);
  wait_blocked(t2);
  CHECK_EQ(cio_lock_release(l), 0);
  CHECK_EQ(cio_task_cancel(t), 1);
  CHECK_EQ(cio_lock_locked(l), 1);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w.r, 0);
  CHECK_EQ(w.after, -ECANCELED);
  CHECK_EQ(w.rel, 0);
  CHECK_EQ(join(t2), 0); /* the queue moved on */
  CHECK_EQ(w2.r, 0);
  CHECK_EQ(w2.after, 0);
  CHECK_EQ(nlog, 2);
  CHECK_EQ(log[0], 7);
  CHECK_EQ(log[1], 8);
  CHECK_EQ(cio_lock_locked(l), 0);
  cio_lock_free(l);
  return 0;
}

/* A cancellation requested before the call: acquire of a held lock returns
 * -ECANCELED at once and consumes the request. */
struct selfc {
  cio_lock *l;
  int c, r, next, done;
};

static int self_cancel_fn(void *arg) {
  struct selfc *s = arg;
  s->c = cio_task_cancel(cio_current());
  s->r = cio_lock_acquire(s->l);
  s->next = cio_yield();
  s->done = 1;
  return 0;
}

LOOP_TEST(test_pending_cancel) {
  cio_lock *l = cio_lock_new();
  struct selfc s = {l, 0, 1, 1, 0};
  CHECK_EQ(cio_lock_acquire(l), 0);
  cio_task *t = cio_spawn(self_cancel_fn, &s);
  settle();
  CHECK(s.done); /* did not wait for the lock */
  CHECK_EQ(s.c, 1);
  CHECK_EQ(s.r, -ECANCELED);
  CHECK_EQ(s.next, 0); /* cancellation fires once */
  CHECK_EQ(cio_lock_release(l), 0);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(cio_lock_locked(l), 0);
  cio_lock_free(l);
  return 0;
}

/* Cancelling the holder's body (it's suspended while holding) does not
 * release the lock by itself; the holder's own cleanup does. */
static int hold_then_sleep(void *arg) {
  struct locker *w = arg;
  w->r = cio_lock_acquire(w->l);
  w->after = cio_sleep(10);
  w->rel = cio_lock_release(w->l);
  return 0;
}

LOOP_TEST(test_cancel_holder) {
  cio_lock *l = cio_lock_new();
  struct locker w = mk_locker(l, 0, NULL, NULL);
  cio_task *t = cio_spawn(hold_then_sleep, &w);
  wait_blocked(t);
  CHECK_EQ(cio_lock_locked(l), 1);
  cio_task_cancel(t);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w.r, 0);
  CHECK_EQ(w.after, -ECANCELED);
  CHECK_EQ(w.rel, 0);
  CHECK_EQ(cio_lock_locked(l), 0);
  cio_lock_free(l);
  return 0;
}

/* ---- timeouts ---- */

struct tmo {
  cio_lock *l;
  double secs;
  int r, expired, rel;
};

static int timed_acquire(void *arg) {
  struct tmo *m = arg;
  cio_timeout_scope s;
  CHECK_EQ(cio_timeout_begin(&s, m->secs), 0);
  m->r = cio_lock_acquire(m->l);
  m->expired = cio_timeout_end(&s);
  m->rel = cio_lock_release(m->l);
  return 0;
}

LOOP_TEST(test_timeout) {
  cio_lock *l = cio_lock_new();
  CHECK_EQ(cio_lock_acquire(l), 0);

  /* already expired scope */
  struct tmo a = {l, 0, 1, -1, 1};
  CHECK_EQ(join(cio_spawn(timed_acquire, &a)), 0);
  CHECK_EQ(a.r, -ETIMEDOUT);
  CHECK_EQ(a.expired, 1);
  CHECK_EQ(a.rel, -EPERM);

  /* expires while queued */
  struct tmo b = {l, 0.02, 1, -1, 1};
  double t0 = cio_loop_time(cio_loop_current());
  CHECK_EQ(join(cio_spawn(timed_acquire, &b)), 0);
  CHECK_EQ(b.r, -ETIMEDOUT);
  CHECK_EQ(b.expired, 1);
  CHECK_EQ(b.rel, -EPERM);
  CHECK(cio_loop_time(cio_loop_current()) - t0 >= 0.015); /* loose */
  CHECK_EQ(cio_lock_locked(l), 1);

  CHECK_EQ(cio_lock_release(l), 0);

  /* a scope that does not expire does not disturb a normal acquire */
  struct tmo c = {l, 5.0, 1, -1, 1};
  CHECK_EQ(join(cio_spawn(timed_acquire, &c)), 0);
  CHECK_EQ(c.r, 0);
  CHECK_EQ(c.expired, 0);
  CHECK_EQ(c.rel, 0);
  cio_lock_free(l);
  return 0;
}

/* A waiter timing out in the middle of the queue leaves the others in order. */
LOOP_TEST(test_timeout_middle_waiter) {
  cio_lock *l = cio_lock_new();
  int log[4], nlog = 0;
  struct locker a, c;
  struct tmo b = {l, 0.02, 1, -1, 1};
  cio_task *ta, *tb, *tc;
  CHECK_EQ(cio_lock_acquire(l), 0);
  a = mk_locker(l, 1, log, &nlog);
  c = mk_locker(l, 3, log, &nlog);
  ta = cio_spawn(locker_fn, &a);
  wait_blocked(ta);
  tb = cio_spawn(timed_acquire, &b);
  wait_blocked(tb);
  tc = cio_spawn(locker_fn, &c);
  wait_blocked(tc);
  CHECK_EQ(join(tb), 0);
  CHECK_EQ(b.r, -ETIMEDOUT);
  CHECK_EQ(cio_lock_release(l), 0);
  CHECK_EQ(join(ta), 0);
  CHECK_EQ(join(tc), 0);
  CHECK_EQ(nlog, 2);
  CHECK_EQ(log[0], 1);
  CHECK_EQ(log[1], 3);
  CHECK_EQ(cio_lock_locked(l), 0);
  cio_lock_free(l);
  return 0;
}

/* ---- free ---- */

static int acquire_only_fn(void *arg) {
  struct locker *w = arg;
  w->r = cio_lock_acquire(w->l); /* touches nothing of the lock after */
  return 0;
}

/* Freeing a lock tasks wait on wakes them with -EBADF (ASan judges that
 * they touch nothing of it afterwards). */
LOOP_TEST(test_free_wakes_waiters) {
  cio_lock *l = cio_lock_new();
  struct locker w = mk_locker(l, 0, NULL, NULL);
  CHECK_EQ(cio_lock_acquire(l), 0);
  cio_task *t = cio_spawn(acquire_only_fn, &w);
  wait_blocked(t);
  cio_lock_free(l);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w.r, -EBADF);
  return 0;
}

/* ---- outside a task ---- */

struct cbctx {
  cio_lock *l;
  int ran, r_acq, r_rel;
};

static void outside_cb(void *arg) {
  struct cbctx *c = arg;
  CHECK(cio_current() == NULL);
  c->r_acq = cio_lock_acquire(c->l);
  c->r_rel = cio_lock_release(c->l);
  c->ran = 1;
}

LOOP_TEST(test_eperm_in_callback) {
  struct cbctx c = {cio_lock_new(), 0, 1, 1};
  CHECK_EQ(cio_call_soon(cio_loop_current(), outside_cb, &c), 0);
  settle();
  CHECK(c.ran);
  CHECK_EQ(c.r_acq, -EPERM);
  CHECK_EQ(c.r_rel, -EPERM);
  CHECK_EQ(cio_lock_locked(c.l), 0);

  /* also while a task holds it */
  CHECK_EQ(cio_lock_acquire(c.l), 0);
  c.ran = 0;
  CHECK_EQ(cio_call_soon(cio_loop_current(), outside_cb, &c), 0);
  settle();
  CHECK(c.ran);
  CHECK_EQ(c.r_acq, -EPERM);
  CHECK_EQ(c.r_rel, -EPERM);
  CHECK_EQ(cio_lock_locked(c.l), 1);
  CHECK_EQ(cio_lock_release(c.l), 0);
  cio_lock_free(c.l);
  return 0;
}

static void test_eperm_no_loop(void) {
  cio_lock *l = cio_lock_new();
  CHECK(l != NULL);
  if (!l) return;
  CHECK_EQ(cio_lock_acquire(l), -EPERM);
  CHECK_EQ(cio_lock_locked(l), 0);
  CHECK_EQ(cio_lock_release(l), -EPERM);
  cio_lock_free(l);
}

static void test_eperm_loop_no_task(void) {
  cio_loop *loop = cio_loop_new(NULL);
  CHECK(loop != NULL);
  if (!loop) return;
  cio_lock *l = cio_lock_new();
  CHECK_EQ(cio_lock_acquire(l), -EPERM);
  CHECK_EQ(cio_lock_locked(l), 0);
  cio_lock_free(l);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

/* Many waiters, many rounds: the hand-off chain never skips or repeats. */
LOOP_TEST(test_many_waiters) {
  enum { N = 200 };
  static struct locker w[N];
  static cio_task *t[N];
  static int log[N];
  int nlog = 0;
  cio_lock *l = cio_lock_new();
  CHECK_EQ(cio_lock_acquire(l), 0);
  for (int i = 0; i < N; i++) w[i] = mk_locker(l, i, log, &nlog);
  spawn_blocked(t, N, locker_fn, w, sizeof w[0]);
  CHECK_EQ(cio_lock_release(l), 0);
  for (int i = 0; i < N; i++) CHECK_EQ(join(t[i]), 0);
  CHECK_EQ(nlog, N);
  int inorder = 1;
  for (int i = 0; i < N; i++) inorder &= (log[i] == i);
  CHECK(inorder);
  cio_lock_free(l);
  return 0;
}

/* A waiter cancelled (not yet run) while the lock is freed: the free may
 * succeed (nobody waits any more) or say -EBUSY, but the cancelled task
 * unwinding afterwards must not touch freed memory (ASan judges). */

LOOP_TEST(test_free_with_cancelled_waiter) {
  cio_lock *l = cio_lock_new();
  struct locker w = mk_locker(l, 0, NULL, NULL);
  CHECK_EQ(cio_lock_acquire(l), 0);
  cio_task *t = cio_spawn(acquire_only_fn, &w);
  wait_blocked(t);
  cio_task_cancel(t);
  CHECK_EQ(cio_lock_release(l), 0); /* must skip the cancelled one */
  CHECK_EQ(cio_lock_locked(l), 0);
  cio_lock_free(l);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w.r, -ECANCELED);
  return 0;
}

/* ---- chaos: random cancellation of lock users, mutual exclusion kept ---- */

enum { CHAOS_WORKERS = 6, CHAOS_ROUNDS = 400 };

struct chaos {
  cio_lock *l;
  int inside, max_inside, entries, bad_release;
};

static int chaos_worker(void *arg) {
  struct chaos *c = arg;
  for (;;) {
    int r = cio_lock_acquire(c->l);
    if (r < 0) {
      if (cio_lock_release(c->l) != -EPERM) c->bad_release++;
      return 0;
    }
    c->inside++;
    c->entries++;
    if (c->inside > c->max_inside) c->max_inside = c->inside;
    int y = cio_yield(); /* may be the cancellation point */
    c->inside--;
    if (cio_lock_release(c->l) != 0) c->bad_release++;
    if (y < 0) return 0;
    if (cio_yield() < 0) return 0;
  }
}

static unsigned rng_next(unsigned *x) {
  *x = *x * 1103515245u + 12345u;
  return *x >> 16;
}

LOOP_TEST(test_chaos_cancel) {
  struct chaos c = {cio_lock_new(), 0, 0, 0, 0};
  cio_task *t[CHAOS_WORKERS];
  unsigned x = 42;
  for (int i = 0; i < CHAOS_WORKERS; i++) t[i] = cio_spawn(chaos_worker, &c);
  for (int round = 0; round < CHAOS_ROUNDS; round++) {
    for (unsigned k = rng_next(&x) % 4; k > 0; k--) cio_yield();
    int i = (int)(rng_next(&x) % CHAOS_WORKERS);
    cio_task_cancel(t[i]);
    if (rng_next(&x) % 2) cio_yield(); /* let it unwind among the others */
    int r = join(t[i]);
    CHECK(r == 0 || r == -ECANCELED); /* -ECANCELED: never got to run */
    t[i] = cio_spawn(chaos_worker, &c);
  }
  for (int i = 0; i < CHAOS_WORKERS; i++) {
    cio_task_cancel(t[i]);
    int r = join(t[i]);
    CHECK(r == 0 || r == -ECANCELED);
  }
  CHECK_EQ(c.max_inside, 1);
  CHECK_EQ(c.inside, 0);
  CHECK_EQ(c.bad_release, 0);
  CHECK(c.entries > CHAOS_ROUNDS / 4);
  CHECK_EQ(cio_lock_locked(c.l), 0);
  cio_lock_free(c.l);
  return 0;
}

int main(void) {
  RUN(test_eperm_no_loop);
  RUN(test_eperm_loop_no_task);
  RUN(test_basic);
  RUN(test_try_acquire_by_holder);
  RUN(test_edeadlk);
  RUN(test_mutual_exclusion);
  RUN(test_fifo);
  RUN(test_no_barging);
  RUN(test_try_acquire);
  RUN(test_release_by_non_owner);
  RUN(test_cancel_waiter_keeps_queue);
  RUN(test_handoff_then_cancel);
  RUN(test_pending_cancel);
  RUN(test_cancel_holder);
  RUN(test_timeout);
  RUN(test_timeout_middle_waiter);
  RUN(test_free_wakes_waiters);
  RUN(test_eperm_in_callback);
  RUN(test_many_waiters);
  RUN(test_free_with_cancelled_waiter);
  RUN(test_chaos_cancel);
  return test_report();
}
