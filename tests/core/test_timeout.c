/* test_timeout.c - timeout scopes: level-triggered expiry, nesting,
 * reschedule, scopes without suspensions, past deadlines, -EPERM outside
 * tasks. Timing checks are loose (never early, and well before long waits).
 */
#include <cio.h>
#include <math.h>
#include <unistd.h>

#include "test.h"
#include "test_loop.h"

static int long_sleeper(void *arg) {
  int *unwound = arg;
  int r = cio_sleep(100);
  if (unwound) {
    cio_sleep(0.005);
    *unwound = 1;
  }
  return r;
}

/* ---- expiry is level-triggered until end ---- */

static int expiry_main(void *arg) {
  cio_timeout_scope s;
  double t0 = now_s();
  CHECK_EQ(cio_timeout_begin(&s, 0.05), 0);
  CHECK_EQ(cio_timeout_expired(&s), 0);
  CHECK_EQ(cio_yield(), 0);
  CHECK_EQ(cio_sleep(100), -ETIMEDOUT);
  double took = now_s() - t0;
  CHECK(took >= 0.049);
  CHECK(took < 2.0);
  CHECK(cio_timeout_expired(&s));

  /* Every later suspension fails at once, until end. */
  double t1 = now_s();
  CHECK_EQ(cio_yield(), -ETIMEDOUT);
  CHECK_EQ(cio_sleep(0), -ETIMEDOUT);
  CHECK_EQ(cio_sleep(100), -ETIMEDOUT);
  CHECK_EQ(cio_suspend("expired"), -ETIMEDOUT);
  cio_event *ev = cio_event_new();
  if (ev) {
    CHECK_EQ(cio_event_wait(ev), -ETIMEDOUT);
    cio_event_free(ev);
  }
  cio_future *f = cio_future_new();
  if (f) {
    CHECK_EQ(cio_future_await(f, NULL), -ETIMEDOUT);
    cio_future_release(f);
  }
  CHECK(now_s() - t1 < 1.0);

  CHECK_EQ(cio_timeout_end(&s), 1);
  CHECK_EQ(cio_yield(), 0);
  CHECK_EQ(cio_sleep(0.01), 0);
  return 0;
}

static void test_expiry_level_triggered(void) { run_main(expiry_main, NULL); }

static int not_expired_main(void *arg) {
  cio_timeout_scope s;
  CHECK_EQ(cio_timeout_begin(&s, 10), 0);
  CHECK_EQ(cio_sleep(0.01), 0);
  CHECK_EQ(cio_yield(), 0);
  CHECK_EQ(cio_timeout_expired(&s), 0);
  CHECK_EQ(cio_timeout_end(&s), 0);

  /* A negative duration never expires. */
  CHECK_EQ(cio_timeout_begin(&s, -1), 0);
  CHECK_EQ(cio_sleep(0.02), 0);
  CHECK_EQ(cio_timeout_end(&s), 0);
  return 0;
}

static void test_end_returns_zero_when_not_expired(void) { run_main(not_expired_main, NULL); }

/* An awaited task is cancelled (and unwound) when the awaiter's scope
 * expires; the await returns -ETIMEDOUT. */
static int await_scope_main(void *arg) {
  int unwound = 0;
  cio_task *t = cio_spawn(long_sleeper, &unwound);
  cio_timeout_scope s;
  CHECK_EQ(cio_timeout_begin(&s, 0.03), 0);
  CHECK_EQ(cio_await(t), -ETIMEDOUT);
  CHECK(cio_task_done(t));
  CHECK_EQ(unwound, 1);
  CHECK_EQ(cio_task_status(t), -ECANCELED);
  CHECK_EQ(cio_timeout_end(&s), 1);
  cio_task_release(t);
  return 0;
}

static void test_await_in_scope(void) { run_main(await_scope_main, NULL); }

/* ---- nesting ---- */

static int nested_inner_shorter(void *arg) {
  cio_timeout_scope outer, inner;
  CHECK_EQ(cio_timeout_begin(&outer, 10), 0);
  CHECK_EQ(cio_timeout_begin(&inner, 0.03), 0);
  double t0 = now_s();
  CHECK_EQ(cio_sleep(100), -ETIMEDOUT);
  CHECK(now_s() - t0 < 2.0);
  CHECK(cio_timeout_expired(&inner));
  CHECK_EQ(cio_timeout_expired(&outer), 0);
  CHECK_EQ(cio_yield(), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&inner), 1);
  /* Outer scope still running and fine. */
  CHECK_EQ(cio_sleep(0.01), 0);
  CHECK_EQ(cio_timeout_end(&outer), 0);
  return 0;
}

static void test_nested_inner_shorter(void) { run_main(nested_inner_shorter, NULL); }

static int nested_outer_shorter(void *arg) {
  cio_timeout_scope outer, inner;
  CHECK_EQ(cio_timeout_begin(&outer, 0.03), 0);
  CHECK_EQ(cio_timeout_begin(&inner, 10), 0);
  double t0 = now_s();
  CHECK_EQ(cio_sleep(100), -ETIMEDOUT);
  CHECK(now_s() - t0 < 2.0);
  CHECK(cio_timeout_expired(&outer));
  CHECK_EQ(cio_timeout_expired(&inner), 0);
  /* The inner scope's own deadline did not pass. */
  CHECK_EQ(cio_timeout_end(&inner), 0);
  /* The outer one is still expired: suspensions keep failing. */
  CHECK_EQ(cio_yield(), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&outer), 1);
  CHECK_EQ(cio_yield(), 0);
  return 0;
}

static void test_nested_outer_shorter(void) { run_main(nested_outer_shorter, NULL); }

static int nested_three(void *arg) {
  cio_timeout_scope a, b, c;
  CHECK_EQ(cio_timeout_begin(&a, 10), 0);
  CHECK_EQ(cio_timeout_begin(&b, 0.03), 0);
  CHECK_EQ(cio_timeout_begin(&c, 5), 0);
  CHECK_EQ(cio_sleep(100), -ETIMEDOUT); /* b, the middle one, wins */
  CHECK_EQ(cio_timeout_end(&c), 0);
  CHECK_EQ(cio_timeout_end(&b), 1);
  CHECK_EQ(cio_sleep(0.005), 0);
  CHECK_EQ(cio_timeout_end(&a), 0);
  return 0;
}

static void test_nested_middle_shortest(void) { run_main(nested_three, NULL); }

/* ---- reschedule ---- */

static int reschedule_main(void *arg) {
  cio_timeout_scope s;
  CHECK_EQ(cio_timeout_begin(&s, 0.03), 0);
  cio_timeout_reschedule(&s, 0.3); /* later */
  CHECK_EQ(cio_sleep(0.1), 0);
  CHECK_EQ(cio_timeout_expired(&s), 0);
  double t0 = now_s();
  cio_timeout_reschedule(&s, 0.02); /* sooner, relative to now */
  CHECK_EQ(cio_sleep(100), -ETIMEDOUT);
  double took = now_s() - t0;
  CHECK(took >= 0.019);
  CHECK(took < 2.0);
  CHECK_EQ(cio_timeout_end(&s), 1);

  /* Reschedule to "never". */
  CHECK_EQ(cio_timeout_begin(&s, 0.02), 0);
  cio_timeout_reschedule(&s, -1);
  CHECK_EQ(cio_sleep(0.05), 0);
  CHECK_EQ(cio_timeout_end(&s), 0);

  /* Reschedule to 0: expired at once. */
  CHECK_EQ(cio_timeout_begin(&s, 10), 0);
  cio_timeout_reschedule(&s, 0);
  CHECK_EQ(cio_yield(), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&s), 1);
  return 0;
}

static void test_reschedule(void) { run_main(reschedule_main, NULL); }

/* ---- scopes with no suspension inside ---- */

static void busy_wait(double seconds) {
  double end = now_s() + seconds;
  while (now_s() < end) {
  }
}

static int no_suspension_main(void *arg) {
  cio_timeout_scope s;
  /* Ended before its deadline: 0, and nothing fires later. */
  CHECK_EQ(cio_timeout_begin(&s, 0.02), 0);
  CHECK_EQ(cio_timeout_end(&s), 0);
  CHECK_EQ(cio_sleep(0.05), 0);

  /* The deadline passes while the task computes; its yields must start
   * failing soon (the loop looks at timers every few dozen task runs, so
   * the very first yield may still succeed), and keep failing. */
  CHECK_EQ(cio_timeout_begin(&s, 0.01), 0);
  busy_wait(0.03);
  int r = 0, n = 0;
  while (r == 0 && n < 10000) {
    r = cio_yield();
    n++;
  }
  CHECK_EQ(r, -ETIMEDOUT);
  CHECK(n <= 1000);
  CHECK_EQ(cio_yield(), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&s), 1);
  CHECK_EQ(cio_yield(), 0);
  return 0;
}

static void test_scope_without_suspension(void) { run_main(no_suspension_main, NULL); }

/* timeout.h: end() "Returns 1 if its deadline passed while it was active",
 * expired() "1 if the scope's deadline has passed" - by the clock, even if
 * the task never suspended inside the scope. */
static int deadline_by_clock_main(void *arg) {
  cio_timeout_scope s;
  CHECK_EQ(cio_timeout_begin(&s, 0.01), 0);
  busy_wait(0.03);
  CHECK(cio_timeout_expired(&s));
  CHECK_EQ(cio_timeout_end(&s), 1);
  CHECK_EQ(cio_yield(), 0);
  return 0;
}

static void test_expired_reads_clock(void) { run_main(deadline_by_clock_main, NULL); }

/* A scope ended early leaves no timer pointing at its (stack) storage. */
static int __attribute__((noinline)) short_scope(void) {
  cio_timeout_scope s;
  if (cio_timeout_begin(&s, 0.01) != 0) return -1;
  int r = cio_yield();
  return cio_timeout_end(&s) == 0 ? r : -1;
}

static int __attribute__((noinline)) scribble(void) {
  volatile unsigned char junk[512];
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = 0xA5;
  return junk[7];
}

static int stale_scope_main(void *arg) {
  for (int i = 0; i < 20; i++) {
    CHECK_EQ(short_scope(), 0);
    scribble();
  }
  CHECK_EQ(cio_sleep(0.05), 0);
  CHECK_EQ(cio_yield(), 0);
  return 0;
}

static void test_ended_scope_does_not_fire(void) { run_main(stale_scope_main, NULL); }

/* ---- past deadlines ---- */

static int past_main(void *arg) {
  cio_loop *loop = cio_loop_current();
  cio_timeout_scope s;
  CHECK_EQ(cio_timeout_begin_at(&s, cio_loop_time(loop) - 1.0), 0);
  CHECK(cio_timeout_expired(&s));
  CHECK_EQ(cio_yield(), -ETIMEDOUT);
  CHECK_EQ(cio_sleep(1), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&s), 1);

  CHECK_EQ(cio_timeout_begin(&s, 0), 0); /* 0: already expired */
  CHECK(cio_timeout_expired(&s));
  CHECK_EQ(cio_sleep(1), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&s), 1);

  /* begin_at in the future works like begin. */
  /* (t0 first: the scope cannot expire before its deadline, however slow
   * the machine - a lower bound that holds, not a timing guess.) */
  double t0 = now_s();
  CHECK_EQ(cio_timeout_begin_at(&s, t0 + 0.02), 0);
  CHECK_EQ(cio_sleep(100), -ETIMEDOUT);
  CHECK(now_s() - t0 >= 0.02);
  CHECK_EQ(cio_timeout_end(&s), 1);
  CHECK_EQ(cio_yield(), 0);
  return 0;
}

static void test_deadline_in_past(void) { run_main(past_main, NULL); }

/* ---- scopes are per task ---- */

struct other {
  int r;
};

static int other_sleeper(void *arg) {
  struct other *o = arg;
  o->r = cio_sleep(0.06);
  return o->r;
}

static int per_task_main(void *arg) {
  struct other o = {1};
  cio_task *t = cio_spawn(other_sleeper, &o);
  cio_timeout_scope s;
  CHECK_EQ(cio_timeout_begin(&s, 0.02), 0);
  CHECK_EQ(cio_sleep(100), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&s), 1);
  CHECK_EQ(cio_await(t), 0); /* the other task was not affected */
  CHECK_EQ(o.r, 0);
  cio_task_release(t);
  return 0;
}

static void test_scope_is_per_task(void) { run_main(per_task_main, NULL); }

/* Cancellation inside a scope is still -ECANCELED, and consumed once. */
static int cancel_in_scope_main(void *arg) {
  cio_timeout_scope s;
  CHECK_EQ(cio_timeout_begin(&s, 10), 0);
  CHECK_EQ(cio_task_cancel(cio_current()), 1);
  CHECK_EQ(cio_sleep(1), -ECANCELED);
  CHECK_EQ(cio_yield(), 0);
  CHECK_EQ(cio_timeout_end(&s), 0);
  return 0;
}

static void test_cancel_inside_scope(void) { run_main(cancel_in_scope_main, NULL); }

/* ---- outside a task ---- */

struct cb_result {
  int begin_r, begin_at_r, ran;
};

static void scope_in_callback(void *arg) {
  struct cb_result *c = arg;
  cio_timeout_scope s;
  c->ran = 1;
  c->begin_r = cio_timeout_begin(&s, 1);
  c->begin_at_r = cio_timeout_begin_at(&s, 0);
}

static int nop_task(void *arg) { return cio_sleep(0.01); }

static void test_begin_outside_task(void) {
  cio_timeout_scope s;
  CHECK_EQ(cio_timeout_begin(&s, 1), -EPERM);
  CHECK_EQ(cio_timeout_begin_at(&s, 1), -EPERM);

  cio_loop *loop = cio_loop_new(NULL);
  CHECK(loop != NULL);
  if (!loop) return;
  CHECK_EQ(cio_timeout_begin(&s, 1), -EPERM);
  struct cb_result c = {1, 1, 0};
  CHECK_EQ(cio_call_soon(loop, scope_in_callback, &c), 0);
  cio_task *t = cio_spawn(nop_task, NULL);
  CHECK_EQ(cio_loop_run_until_complete(loop, t), 0);
  CHECK_EQ(c.ran, 1);
  CHECK_EQ(c.begin_r, -EPERM);
  CHECK_EQ(c.begin_at_r, -EPERM);
  cio_task_release(t);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

/* Infinite or huge durations saturate: they never wrap into the past. */
static int forever_child(void *arg) {
  (void)arg;
  return 5;
}

static int huge_main(void *arg) {
  (void)arg;
  cio_timeout_scope s;
  double t0 = now_s();
  CHECK_EQ(cio_timeout_begin(&s, 0.05), 0);
  CHECK_EQ(cio_sleep(1e10), -ETIMEDOUT); /* ~317 years: cut by the scope */
  CHECK_EQ(cio_sleep(INFINITY), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&s), 1);
  CHECK(now_s() - t0 >= 0.04); /* not returned at once */
  CHECK_EQ(cio_timeout_begin(&s, INFINITY), 0);
  CHECK_EQ(cio_sleep(0.01), 0); /* an infinite scope never expires */
  CHECK_EQ(cio_timeout_end(&s), 0);
  CHECK_EQ(cio_timeout_begin(&s, 1e12), 0);
  CHECK_EQ(cio_sleep(0.01), 0);
  CHECK_EQ(cio_timeout_end(&s), 0);
  cio_task *t = cio_spawn(forever_child, NULL);
  CHECK_EQ(cio_wait_for(t, 1e12), 5);
  cio_task_release(t);
  return 0;
}

static void test_huge_durations(void) { CHECK_EQ(cio_run(huge_main, NULL), 0); }

/* ---- cio_with_timeout ---- */

static int sleep_for(void *arg) { return cio_sleep(*(double *)arg); }

static int swallow_then_fail(void *arg) {
  (void)arg;
  cio_sleep(1); /* -ETIMEDOUT, ignored */
  return -EIO;  /* ...and a failure of its own: the deadline cut it short */
}

static int with_timeout_main(void *arg) {
  (void)arg;
  double quick = 0.001, slow = 5;
  CHECK_EQ(cio_with_timeout(1.0, sleep_for, &quick), 0);
  double t0 = now_s();
  CHECK_EQ(cio_with_timeout(0.02, sleep_for, &slow), -ETIMEDOUT);
  CHECK(now_s() - t0 < 2.0);
  CHECK_EQ(cio_with_timeout(0.01, swallow_then_fail, NULL), -ETIMEDOUT);
  CHECK_EQ(cio_with_timeout(CIO_FOREVER, sleep_for, &quick), 0);
  CHECK_EQ(cio_with_timeout(0, sleep_for, &quick), -ETIMEDOUT); /* 0: no time at all */
  /* the scope is gone afterwards: later waits are not affected */
  CHECK_EQ(cio_sleep(0.001), 0);
  return 0;
}

static void test_with_timeout(void) {
  CHECK_EQ(cio_run(with_timeout_main, NULL), 0);
  double d = 0;
  CHECK_EQ(cio_with_timeout(1, sleep_for, &d), -EPERM);
}

int main(void) {
  alarm(60); /* a hang kills the test instead of blocking CI */
  RUN(test_expiry_level_triggered);
  RUN(test_end_returns_zero_when_not_expired);
  RUN(test_await_in_scope);
  RUN(test_nested_inner_shorter);
  RUN(test_nested_outer_shorter);
  RUN(test_nested_middle_shortest);
  RUN(test_reschedule);
  RUN(test_scope_without_suspension);
  RUN(test_expired_reads_clock);
  RUN(test_ended_scope_does_not_fire);
  RUN(test_deadline_in_past);
  RUN(test_scope_is_per_task);
  RUN(test_cancel_inside_scope);
  RUN(test_begin_outside_task);
  RUN(test_huge_durations);
  RUN(test_with_timeout);
  return test_report();
}
