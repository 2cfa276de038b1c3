/* test_cancel.c - cancellation semantics: every suspension point is a
 * cancellation point, a cancel is delivered once, cleanup may suspend unless
 * cancelled again, and awaiting propagates cancellation to the awaited task.
 */
#include <cio.h>
#include <unistd.h>

#include "test.h"
#include "test_loop.h"

/* ---- cancellation at every suspension point ---- */

enum point { AT_YIELD, AT_SLEEP, AT_AWAIT, AT_SUSPEND, AT_EVENT, AT_FUTURE, AT_WAIT_FOR };

struct victim {
  enum point where;
  int started;
  int got;   /* what the suspension point returned */
  int after; /* a cleanup sleep after the cancellation */
  long yields;
  cio_task *inner; /* AT_AWAIT / AT_WAIT_FOR */
  cio_event *ev;
  cio_future *fut;
};

static int long_sleeper(void *arg) {
  int *unwound = arg;
  int r = cio_sleep(100);
  if (unwound) *unwound = 1;
  return r;
}

static int victim_fn(void *arg) {
  struct victim *v = arg;
  v->started = 1;
  switch (v->where) {
  case AT_YIELD:
    do {
      v->got = cio_yield();
      v->yields++;
    } while (v->got == 0 && v->yields < 10000000);
    break;
  case AT_SLEEP: v->got = cio_sleep(100); break;
  case AT_AWAIT: v->got = cio_await(v->inner); break;
  case AT_SUSPEND: v->got = cio_suspend("test"); break;
  case AT_EVENT: v->got = cio_event_wait(v->ev); break;
  case AT_FUTURE: v->got = cio_future_await(v->fut, NULL); break;
  case AT_WAIT_FOR: v->got = cio_wait_for(v->inner, 100); break;
  }
  /* Cancellation is delivered once: the cleanup may suspend again. */
  v->after = cio_sleep(0.001);
  return v->got;
}

static const char *point_name(enum point p) {
  static const char *names[] = {"yield", "sleep",  "await",   "suspend",
                                "event", "future", "wait_for"};
  return names[p];
}

static int every_point_main(void *arg) {
  for (int p = AT_YIELD; p <= AT_WAIT_FOR; p++) {
    struct victim v;
    memset(&v, 0, sizeof v);
    v.where = (enum point)p;
    v.got = v.after = 1;
    int inner_unwound = 0;
    if (p == AT_AWAIT || p == AT_WAIT_FOR) v.inner = cio_spawn(long_sleeper, &inner_unwound);
    if (p == AT_EVENT) v.ev = cio_event_new();
    if (p == AT_FUTURE) v.fut = cio_future_new();
    cio_task *t = cio_spawn(victim_fn, &v);
    CHECK(t != NULL);
    if (!t) return -ENOMEM;
    /* Let it reach its suspension point (and, for yield, go round a few times). */
    for (int i = 0; i < 3; i++) CHECK_EQ(cio_yield(), 0);
    CHECK_EQ(v.started, 1);
    CHECK_EQ(cio_task_done(t), 0);
    double t0 = now_s();
    CHECK_EQ(cio_task_cancel(t), 1);
    int r = cio_await(t);
    if (r != -ECANCELED || v.got != -ECANCELED || v.after != 0)
      fprintf(stderr, "  cancel at %s: await=%d got=%d after=%d\n", point_name(v.where), r, v.got,
              v.after);
    CHECK_EQ(r, -ECANCELED);
    CHECK_EQ(v.got, -ECANCELED);
    CHECK_EQ(v.after, 0);
    CHECK(cio_task_cancelled(t));
    CHECK(now_s() - t0 < 2.0); /* loose: promptly, not after the 100 s wait */
    if (v.where == AT_YIELD) CHECK(v.yields >= 2);
    if (v.inner) {
      /* The awaited task was cancelled with its awaiter (and had unwound). */
      CHECK(cio_task_done(v.inner));
      CHECK_EQ(inner_unwound, 1);
      CHECK_EQ(cio_task_status(v.inner), -ECANCELED);
      cio_task_release(v.inner);
    }
    if (v.ev) cio_event_free(v.ev); /* no waiter left behind */
    if (v.fut) {
      CHECK_EQ(cio_future_done(v.fut), 0); /* awaiting did not touch it */
      cio_future_release(v.fut);
    }
    cio_task_release(t);
  }
  return 0;
}

static void test_cancel_every_suspension_point(void) { run_main(every_point_main, NULL); }

/* Cancelled from a callback rather than a task. */
static void cancel_cb(void *arg) { cio_task_cancel(arg); }

static int cancel_from_callback_main(void *arg) {
  cio_task *t = cio_spawn(long_sleeper, NULL);
  CHECK_EQ(cio_call_later(cio_loop_current(), 0.01, cancel_cb, t), 0);
  double t0 = now_s();
  CHECK_EQ(cio_await(t), -ECANCELED);
  CHECK(now_s() - t0 < 2.0);
  cio_task_release(t);
  return 0;
}

static void test_cancel_from_callback(void) { run_main(cancel_from_callback_main, NULL); }

/* ---- cancel before the task ever ran ---- */

struct early {
  int ran;
  int first; /* what its first suspension returned */
};

static int early_fn(void *arg) {
  struct early *e = arg;
  e->ran = 1;
  e->first = cio_yield();
  return e->first;
}

static int early_nosuspend(void *arg) {
  *(int *)arg = 1;
  return 0;
}

static int cancel_before_run_main(void *arg) {
  struct early e = {0, 1};
  cio_task *t = cio_spawn(early_fn, &e);
  CHECK(t != NULL);
  if (!t) return -ENOMEM;
  CHECK_EQ(cio_task_cancel(t), 1); /* not done: the request is made */
  CHECK_EQ(cio_await(t), -ECANCELED);
  CHECK(cio_task_cancelled(t));
  /* The header does not say whether the body runs. Either it never ran, or
   * its first suspension returned -ECANCELED. */
  if (e.ran) CHECK_EQ(e.first, -ECANCELED);
  printf("     note: a task cancelled before it started %s its body\n",
         e.ran ? "RUNS" : "does NOT run");
  cio_task_release(t);

  /* A body that never suspends: report what happens (header is silent). */
  int ran = 0;
  t = cio_spawn(early_nosuspend, &ran);
  CHECK_EQ(cio_task_cancel(t), 1);
  int r = cio_await(t);
  CHECK(r == 0 || r == -ECANCELED);
  if (ran)
    CHECK_EQ(r, 0);
  else
    CHECK_EQ(r, -ECANCELED);
  printf("     note: non-suspending body cancelled before start: ran=%d status=%d\n", ran, r);
  cio_task_release(t);
  return 0;
}

static void test_cancel_before_run(void) { run_main(cancel_before_run_main, NULL); }

/* ---- cancel a finished task; cancel twice ---- */

static int ret_minus_eio(void *arg) { return -EIO; }

static int cancel_done_main(void *arg) {
  cio_task *t = cio_spawn(ret_minus_eio, NULL);
  CHECK_EQ(cio_await(t), -EIO);
  CHECK_EQ(cio_task_cancel(t), 0);
  CHECK_EQ(cio_task_status(t), -EIO);
  CHECK_EQ(cio_task_cancelled(t), 0);
  CHECK_EQ(cio_task_get_state(t), CIO_TASK_DONE);
  CHECK_EQ(cio_await(t), -EIO);
  cio_task_release(t);

  /* A task that finished with 0 stays a success. */
  int u = 0;
  t = cio_spawn(long_sleeper, &u);
  CHECK_EQ(cio_task_cancel(t), 1);
  CHECK_EQ(cio_await(t), -ECANCELED);
  CHECK_EQ(cio_task_cancel(t), 0);
  CHECK_EQ(cio_task_status(t), -ECANCELED);
  cio_task_release(t);
  return 0;
}

static void test_cancel_finished_is_noop(void) { run_main(cancel_done_main, NULL); }

struct twice {
  int first;
  int cleanup;
  int finished;
};

static int twice_fn(void *arg) {
  struct twice *w = arg;
  w->first = cio_sleep(100);
  /* Cleanup suspends; it must not hang either way. */
  w->cleanup = cio_sleep(0.01);
  w->finished = 1;
  return w->first;
}

static int cancel_twice_main(void *arg) {
  struct twice w = {1, 1, 0};
  cio_task *t = cio_spawn(twice_fn, &w);
  CHECK_EQ(cio_yield(), 0);
  CHECK_EQ(cio_task_cancel(t), 1);
  CHECK_EQ(cio_task_cancel(t), 1); /* still not done: request made */
  double t0 = now_s();
  CHECK_EQ(cio_await(t), -ECANCELED);
  CHECK(now_s() - t0 < 2.0);
  CHECK_EQ(w.first, -ECANCELED);
  CHECK_EQ(w.finished, 1);
  CHECK(w.cleanup == 0 || w.cleanup == -ECANCELED);
  printf("     note: two cancels before delivery -> cleanup sleep returned %d\n", w.cleanup);
  cio_task_release(t);
  return 0;
}

static void test_cancel_twice(void) { run_main(cancel_twice_main, NULL); }

/* ---- awaiter cancelled -> awaited task cancelled and unwound first ---- */

struct inner_state {
  int got;
  int cleanup;
  int unwound;
  int swallow; /* return 0 after cleanup instead of -ECANCELED */
};

static int inner_fn(void *arg) {
  struct inner_state *s = arg;
  s->got = cio_sleep(100);
  s->cleanup = cio_sleep(0.05); /* slow cleanup */
  s->unwound = 1;
  return s->swallow ? 0 : s->got;
}

struct outer_state {
  cio_task *inner;
  struct inner_state *is;
  int got;
  int inner_unwound_at_return;
  int next; /* the suspension after the cancelled await */
};

static int outer_fn(void *arg) {
  struct outer_state *o = arg;
  o->got = cio_await(o->inner);
  o->inner_unwound_at_return = o->is->unwound;
  o->next = cio_sleep(0.001);
  return o->got;
}

static int propagate_main(void *arg) {
  for (int swallow = 0; swallow <= 1; swallow++) {
    struct inner_state is = {1, 1, 0, swallow};
    struct outer_state os = {NULL, &is, 1, 0, 1};
    os.inner = cio_spawn(inner_fn, &is);
    cio_task *outer = cio_spawn(outer_fn, &os);
    CHECK_EQ(cio_sleep(0.01), 0);
    CHECK_EQ(cio_task_cancel(outer), 1);
    CHECK_EQ(cio_await(outer), -ECANCELED);
    CHECK_EQ(os.got, -ECANCELED); /* whatever the inner task returned */
    CHECK_EQ(os.inner_unwound_at_return, 1);
    CHECK_EQ(os.next, 0); /* the cancel was delivered once */
    CHECK_EQ(is.got, -ECANCELED);
    CHECK_EQ(is.cleanup, 0);
    CHECK(cio_task_done(os.inner));
    CHECK_EQ(cio_task_status(os.inner), swallow ? 0 : -ECANCELED);
    cio_task_release(os.inner);
    cio_task_release(outer);
  }
  return 0;
}

static void test_awaiter_cancel_propagates(void) { run_main(propagate_main, NULL); }

/* Cancelling the awaited task: the awaiter sees its status, and is itself not
 * cancelled. */
static int awaited_cancel_main(void *arg) {
  struct inner_state is = {1, 1, 0, 0};
  struct outer_state os = {NULL, &is, 1, 0, 1};
  os.inner = cio_spawn(inner_fn, &is);
  cio_task *outer = cio_spawn(outer_fn, &os);
  CHECK_EQ(cio_sleep(0.01), 0);
  CHECK_EQ(cio_task_cancel(os.inner), 1);
  CHECK_EQ(cio_await(outer), -ECANCELED); /* outer returned inner's status */
  CHECK_EQ(os.got, -ECANCELED);
  CHECK_EQ(os.next, 0);
  CHECK_EQ(cio_task_cancelled(outer), 1); /* finished with -ECANCELED */
  cio_task_release(os.inner);
  cio_task_release(outer);
  return 0;
}

static void test_cancel_awaited_task(void) { run_main(awaited_cancel_main, NULL); }

/* ---- cleanup with further awaits, and a second cancel during cleanup ---- */

struct cleaner {
  int got;
  int in_cleanup;
  int c1, c2, c3;
  cio_task *helper;
};

static int helper_fn(void *arg) {
  int r = cio_sleep(0.01);
  return r ? r : 11;
}

static int cleaner_fn(void *arg) {
  struct cleaner *c = arg;
  c->got = cio_sleep(100);
  c->in_cleanup = 1;
  c->c1 = cio_sleep(0.01);
  c->helper = cio_spawn(helper_fn, NULL);
  c->c2 = c->helper ? cio_await(c->helper) : -ENOMEM;
  c->c3 = cio_yield();
  return c->got;
}

static int cleanup_main(void *arg) {
  struct cleaner c = {1, 0, 1, 1, 1, NULL};
  cio_task *t = cio_spawn(cleaner_fn, &c);
  CHECK_EQ(cio_yield(), 0);
  CHECK_EQ(cio_task_cancel(t), 1);
  CHECK_EQ(cio_await(t), -ECANCELED);
  CHECK_EQ(c.got, -ECANCELED);
  CHECK_EQ(c.c1, 0);
  CHECK_EQ(c.c2, 11);
  CHECK_EQ(c.c3, 0);
  if (c.helper) cio_task_release(c.helper);
  cio_task_release(t);
  return 0;
}

static void test_cleanup_may_suspend(void) { run_main(cleanup_main, NULL); }

struct recancel {
  int first;
  int in_cleanup;
  int second;
  int third;
};

static int recancel_fn(void *arg) {
  struct recancel *r = arg;
  r->first = cio_sleep(100);
  r->in_cleanup = 1;
  r->second = cio_sleep(100); /* long cleanup, cancelled again */
  r->third = cio_sleep(0.001);
  return r->second;
}

static int recancel_main(void *arg) {
  struct recancel r = {1, 0, 1, 1};
  cio_task *t = cio_spawn(recancel_fn, &r);
  CHECK_EQ(cio_yield(), 0);
  CHECK_EQ(cio_task_cancel(t), 1);
  while (!r.in_cleanup) CHECK_EQ(cio_yield(), 0);
  CHECK_EQ(cio_yield(), 0); /* now in its cleanup sleep */
  CHECK_EQ(cio_task_done(t), 0);
  double t0 = now_s();
  CHECK_EQ(cio_task_cancel(t), 1);
  CHECK_EQ(cio_await(t), -ECANCELED);
  CHECK(now_s() - t0 < 2.0);
  CHECK_EQ(r.first, -ECANCELED);
  CHECK_EQ(r.second, -ECANCELED);
  CHECK_EQ(r.third, 0);
  cio_task_release(t);
  return 0;
}

static void test_second_cancel_interrupts_cleanup(void) { run_main(recancel_main, NULL); }

/* ---- self-cancel ---- */

struct selfc {
  int req;
  int first;
  int second;
};

static int self_cancel_fn(void *arg) {
  struct selfc *s = arg;
  s->req = cio_task_cancel(cio_current());
  s->first = cio_yield();
  s->second = cio_yield();
  return s->first;
}

static int self_cancel_main(void *arg) {
  struct selfc s = {0, 1, 1};
  cio_task *t = cio_spawn(self_cancel_fn, &s);
  CHECK_EQ(cio_await(t), -ECANCELED);
  CHECK_EQ(s.req, 1);
  CHECK_EQ(s.first, -ECANCELED);
  CHECK_EQ(s.second, 0);
  CHECK(cio_task_cancelled(t));
  cio_task_release(t);

  /* The main task can cancel itself too. */
  CHECK_EQ(cio_task_cancel(cio_current()), 1);
  CHECK_EQ(cio_sleep(100), -ECANCELED);
  CHECK_EQ(cio_yield(), 0);
  return 0;
}

static void test_self_cancel(void) { run_main(self_cancel_main, NULL); }

/* ---- woken, then cancelled before it ran: the wake wins ---- */

struct woken {
  int first;
  int second;
};

static int woken_fn(void *arg) {
  struct woken *w = arg;
  w->first = cio_suspend("woken");
  w->second = cio_yield();
  return 0;
}

static int wake_then_cancel_main(void *arg) {
  struct woken w = {1, 1};
  cio_task *t = cio_spawn(woken_fn, &w);
  CHECK_EQ(cio_yield(), 0);
  CHECK_EQ(cio_task_wake(t, 5), 1);
  /* Woken (READY) but not yet resumed: the header says a -ECANCELED from
   * cio_suspend means no wake happened, so the wake's code must win and the
   * cancellation hits the next suspension. */
  CHECK_EQ(cio_task_cancel(t), 1);
  CHECK_EQ(cio_await(t), 0);
  CHECK_EQ(w.first, 5);
  CHECK_EQ(w.second, -ECANCELED);
  cio_task_release(t);
  return 0;
}

static void test_wake_then_cancel(void) { run_main(wake_then_cancel_main, NULL); }

/* ---- the main task of cio_run cancelled from inside ---- */

static int cancels_main(void *arg) {
  cio_task *self = cio_current();
  cio_task *t = cio_spawn(long_sleeper, NULL);
  CHECK_EQ(cio_call_later(cio_loop_current(), 0.01, cancel_cb, self), 0);
  int r = cio_await(t);
  cio_task_release(t);
  return r;
}

static void test_cio_run_main_cancelled(void) { CHECK_EQ(cio_run(cancels_main, NULL), -ECANCELED); }

int main(void) {
  alarm(60); /* a hang kills the test instead of blocking CI */
  RUN(test_cancel_every_suspension_point);
  RUN(test_cancel_from_callback);
  RUN(test_cancel_before_run);
  RUN(test_cancel_finished_is_noop);
  RUN(test_cancel_twice);
  RUN(test_awaiter_cancel_propagates);
  RUN(test_cancel_awaited_task);
  RUN(test_cleanup_may_suspend);
  RUN(test_second_cancel_interrupts_cleanup);
  RUN(test_self_cancel);
  RUN(test_wake_then_cancel);
  RUN(test_cio_run_main_cancelled);
  return test_report();
}
