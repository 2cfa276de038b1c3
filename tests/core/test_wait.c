/* test_wait.c - combinators: gather, wait, wait_for, as_completed, shield.
 *
 * Jobs are tasks that sleep for a given time and then return a given status;
 * when cancelled they clean up (with a suspension of their own) and record
 * that they unwound, so a test can check a combinator returned only after
 * its victims finished unwinding. Timing checks are loose.
 */
#include <cio.h>
#include <unistd.h>

#include "test.h"
#include "test_loop.h"

struct job {
  double delay;
  int status;  /* returned after the delay */
  int got;     /* what the sleep returned */
  int cleaned; /* cleanup after cancellation finished */
  double done_at;
};

static int job_fn(void *arg) {
  struct job *j = arg;
  j->got = cio_sleep(j->delay);
  if (j->got != 0) {
    cio_sleep(0.005); /* cleanup that suspends */
    j->cleaned = 1;
    j->done_at = now_s();
    return j->got;
  }
  j->done_at = now_s();
  return j->status;
}

static struct job job(double delay, int status) {
  struct job j = {delay, status, 1, 0, 0};
  return j;
}

static void spawn_jobs(cio_task **t, struct job *j, size_t n) {
  for (size_t i = 0; i < n; i++) {
    t[i] = cio_spawn(job_fn, &j[i]);
    CHECK(t[i] != NULL);
  }
}

/* Cancel anything still running, wait for it, release every handle. */
static void reap(cio_task **t, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!t[i]) continue;
    cio_task_cancel(t[i]);
    cio_await(t[i]);
    cio_task_release(t[i]);
  }
}

/* ---- gather ---- */

static int gather_ok_main(void *arg) {
  /* Finish in reverse order; statuses come back in argument order. */
  struct job j[4] = {job(0.04, 4), job(0.03, 3), job(0.02, 2), job(0.01, 0)};
  cio_task *t[4];
  int st[4] = {9, 9, 9, 9};
  spawn_jobs(t, j, 4);
  CHECK_EQ(cio_gather(t, 4, st, 0), 0);
  CHECK_EQ(st[0], 4);
  CHECK_EQ(st[1], 3);
  CHECK_EQ(st[2], 2);
  CHECK_EQ(st[3], 0);
  for (int i = 0; i < 4; i++) CHECK(cio_task_done(t[i]));
  /* Again on finished tasks, and with statuses == NULL. */
  CHECK_EQ(cio_gather(t, 4, NULL, 0), 0);
  CHECK_EQ(cio_gather(t, 0, NULL, 0), 0);
  reap(t, 4);
  return 0;
}

static void test_gather_ordered_statuses(void) { run_main(gather_ok_main, NULL); }

static int gather_fail_main(void *arg) {
  struct job j[4] = {job(0.02, -EIO), job(100, 0), job(0.0, 0), job(0.05, -EPIPE)};
  cio_task *t[4];
  int st[4] = {9, 9, 9, 9};
  spawn_jobs(t, j, 4);
  double t0 = now_s();
  CHECK_EQ(cio_gather(t, 4, st, 0), -EIO);
  CHECK(now_s() - t0 < 2.0);
  CHECK_EQ(st[0], -EIO);
  CHECK_EQ(st[1], -ECANCELED);
  CHECK_EQ(st[2], 0);
  CHECK_EQ(st[3], -ECANCELED);
  /* Siblings were cancelled and had unwound before gather returned. */
  CHECK_EQ(j[1].cleaned, 1);
  CHECK_EQ(j[3].cleaned, 1);
  for (int i = 0; i < 4; i++) CHECK(cio_task_done(t[i]));
  reap(t, 4);

  /* The first failure in completion order wins, not in argument order. */
  struct job k[2] = {job(0.05, -EIO), job(0.01, -EPIPE)};
  cio_task *u[2];
  spawn_jobs(u, k, 2);
  CHECK_EQ(cio_gather(u, 2, NULL, 0), -EPIPE);
  CHECK_EQ(cio_task_status(u[0]), -ECANCELED);
  reap(u, 2);
  return 0;
}

static void test_gather_first_error_cancels_siblings(void) { run_main(gather_fail_main, NULL); }

static int gather_all_main(void *arg) {
  struct job j[3] = {job(0.0, -EIO), job(0.05, 0), job(0.02, -EPIPE)};
  cio_task *t[3];
  int st[3] = {9, 9, 9};
  spawn_jobs(t, j, 3);
  CHECK_EQ(cio_gather(t, 3, st, CIO_GATHER_ALL), 0);
  CHECK_EQ(st[0], -EIO);
  CHECK_EQ(st[1], 0);
  CHECK_EQ(st[2], -EPIPE);
  CHECK_EQ(j[1].got, 0); /* nobody was cancelled */
  CHECK_EQ(j[1].cleaned, 0);
  reap(t, 3);
  return 0;
}

static void test_gather_all(void) { run_main(gather_all_main, NULL); }

struct gatherer {
  cio_task **tasks;
  size_t n;
  int flags;
  int r;
  int all_done_at_return;
};

static int gatherer_fn(void *arg) {
  struct gatherer *g = arg;
  g->r = cio_gather(g->tasks, g->n, NULL, g->flags);
  g->all_done_at_return = 1;
  for (size_t i = 0; i < g->n; i++)
    if (!cio_task_done(g->tasks[i])) g->all_done_at_return = 0;
  return g->r;
}

static int gather_cancelled_main(void *arg) {
  struct job j[3] = {job(100, 0), job(100, 0), job(0.0, 0)};
  cio_task *t[3];
  spawn_jobs(t, j, 3);
  struct gatherer g = {t, 3, 0, 1, 0};
  cio_task *gt = cio_spawn(gatherer_fn, &g);
  CHECK_EQ(cio_sleep(0.02), 0);
  CHECK_EQ(cio_task_cancel(gt), 1);
  CHECK_EQ(cio_await(gt), -ECANCELED);
  CHECK_EQ(g.r, -ECANCELED);
  /* The children were cancelled and had unwound before gather returned. */
  CHECK_EQ(g.all_done_at_return, 1);
  CHECK_EQ(j[0].cleaned, 1);
  CHECK_EQ(j[1].cleaned, 1);
  CHECK_EQ(cio_task_status(t[0]), -ECANCELED);
  CHECK_EQ(cio_task_status(t[2]), 0);
  cio_task_release(gt);
  reap(t, 3);

  /* CIO_GATHER_ALL "cancels nobody" on failures; whether a cancelled caller
   * cancels the children (the wait.h general rule, asyncio's behaviour) is
   * not spelled out for it: only the return value is checked. */
  struct job k[2] = {job(100, 0), job(0.0, -EIO)};
  cio_task *u[2];
  spawn_jobs(u, k, 2);
  struct gatherer h = {u, 2, CIO_GATHER_ALL, 1, 0};
  gt = cio_spawn(gatherer_fn, &h);
  CHECK_EQ(cio_sleep(0.02), 0);
  CHECK_EQ(cio_task_cancel(gt), 1);
  CHECK_EQ(cio_await(gt), -ECANCELED);
  CHECK_EQ(h.r, -ECANCELED);
  printf("     note: GATHER_ALL, caller cancelled: children %s\n",
         h.all_done_at_return ? "cancelled and awaited" : "left running");
  cio_task_release(gt);
  reap(u, 2);
  return 0;
}

static void test_gather_caller_cancelled(void) { run_main(gather_cancelled_main, NULL); }

static int gather_scope_main(void *arg) {
  struct job j[2] = {job(100, 0), job(0.0, 0)};
  cio_task *t[2];
  spawn_jobs(t, j, 2);
  cio_timeout_scope s;
  CHECK_EQ(cio_timeout_begin(&s, 0.03), 0);
  double t0 = now_s();
  CHECK_EQ(cio_gather(t, 2, NULL, 0), -ETIMEDOUT);
  CHECK(now_s() - t0 < 2.0);
  CHECK_EQ(cio_timeout_end(&s), 1);
  CHECK_EQ(j[0].cleaned, 1);
  CHECK(cio_task_done(t[0]));
  reap(t, 2);
  return 0;
}

static void test_gather_in_timeout_scope(void) { run_main(gather_scope_main, NULL); }

static void test_gather_outside_task(void) {
  CHECK_EQ(cio_gather(NULL, 0, NULL, 0), -EPERM);
  cio_loop *loop = cio_loop_new(NULL);
  if (!loop) return;
  struct job j = job(0, 0);
  cio_task *t = cio_spawn(job_fn, &j);
  CHECK_EQ(cio_gather(&t, 1, NULL, 0), -EPERM);
  CHECK_EQ(cio_wait(&t, 1, CIO_ALL_COMPLETED, -1, NULL), -EPERM);
  errno = 0;
  CHECK(cio_as_completed_new(&t, 1, -1) == NULL);
  CHECK_EQ(errno, EPERM);
  CHECK_EQ(cio_loop_run_until_complete(loop, t), 0);
  cio_task_release(t);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

/* ---- wait ---- */

static int wait_all_main(void *arg) {
  struct job j[3] = {job(0.03, 0), job(0.01, -EIO), job(0.02, 1)};
  cio_task *t[3];
  unsigned char done[3] = {9, 9, 9};
  spawn_jobs(t, j, 3);
  CHECK_EQ(cio_wait(t, 3, CIO_ALL_COMPLETED, -1, done), 3);
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(done[i], 1);
    CHECK(cio_task_done(t[i]));
  }
  CHECK_EQ(cio_task_status(t[1]), -EIO); /* a failure does not stop ALL */
  reap(t, 3);

  /* With a timeout: returns the done count, cancels nothing. */
  struct job k[3] = {job(0.01, 0), job(100, 0), job(0.0, -EIO)};
  cio_task *u[3];
  spawn_jobs(u, k, 3);
  double t0 = now_s();
  CHECK_EQ(cio_wait(u, 3, CIO_ALL_COMPLETED, 0.05, done), 2);
  double took = now_s() - t0;
  CHECK(took >= 0.049);
  CHECK(took < 2.0);
  CHECK_EQ(done[0], 1);
  CHECK_EQ(done[1], 0);
  CHECK_EQ(done[2], 1);
  CHECK_EQ(cio_task_done(u[1]), 0); /* still running */
  CHECK_EQ(cio_yield(), 0);         /* the caller is not cancelled either */
  CHECK_EQ(cio_task_done(u[1]), 0);
  CHECK_EQ(k[1].got, 1);
  reap(u, 3);

  /* Zero timeout: just look. */
  struct job z[2] = {job(100, 0), job(100, 0)};
  cio_task *v[2];
  spawn_jobs(v, z, 2);
  CHECK_EQ(cio_wait(v, 2, CIO_ALL_COMPLETED, 0, done), 0);
  CHECK_EQ(done[0], 0);
  CHECK_EQ(done[1], 0);
  reap(v, 2);
  return 0;
}

static void test_wait_all_completed(void) { run_main(wait_all_main, NULL); }

static int wait_first_completed_main(void *arg) {
  struct job j[3] = {job(100, 0), job(0.02, 7), job(100, 0)};
  cio_task *t[3];
  unsigned char done[3] = {9, 9, 9};
  spawn_jobs(t, j, 3);
  double t0 = now_s();
  CHECK_EQ(cio_wait(t, 3, CIO_FIRST_COMPLETED, -1, done), 1);
  CHECK(now_s() - t0 < 2.0);
  CHECK_EQ(done[0], 0);
  CHECK_EQ(done[1], 1);
  CHECK_EQ(done[2], 0);
  CHECK_EQ(cio_task_status(t[1]), 7);
  CHECK_EQ(cio_task_done(t[0]), 0);
  CHECK_EQ(cio_task_done(t[2]), 0);
  /* Already one done: returns at once. */
  CHECK_EQ(cio_wait(t, 3, CIO_FIRST_COMPLETED, -1, NULL), 1);
  reap(t, 3);

  /* With a timeout that expires first: 0 done, nothing cancelled. */
  struct job k[2] = {job(100, 0), job(100, 0)};
  cio_task *u[2];
  spawn_jobs(u, k, 2);
  CHECK_EQ(cio_wait(u, 2, CIO_FIRST_COMPLETED, 0.02, done), 0);
  CHECK_EQ(done[0], 0);
  CHECK_EQ(done[1], 0);
  CHECK_EQ(cio_task_done(u[0]), 0);
  CHECK_EQ(k[0].got, 1);
  reap(u, 2);
  return 0;
}

static void test_wait_first_completed(void) { run_main(wait_first_completed_main, NULL); }

static int wait_first_exception_main(void *arg) {
  struct job j[4] = {job(0.01, 0), job(0.03, -EIO), job(100, 0), job(0.0, 3)};
  cio_task *t[4];
  unsigned char done[4] = {9, 9, 9, 9};
  spawn_jobs(t, j, 4);
  CHECK_EQ(cio_wait(t, 4, CIO_FIRST_EXCEPTION, -1, done), 3);
  CHECK_EQ(done[0], 1);
  CHECK_EQ(done[1], 1);
  CHECK_EQ(done[2], 0);
  CHECK_EQ(done[3], 1);
  CHECK_EQ(cio_task_done(t[2]), 0); /* not cancelled */
  reap(t, 4);

  /* No failure: behaves as ALL_COMPLETED. */
  struct job k[2] = {job(0.01, 0), job(0.03, 5)};
  cio_task *u[2];
  spawn_jobs(u, k, 2);
  CHECK_EQ(cio_wait(u, 2, CIO_FIRST_EXCEPTION, -1, done), 2);
  CHECK_EQ(done[0], 1);
  CHECK_EQ(done[1], 1);
  reap(u, 2);

  /* Timeout before any failure. */
  struct job m[2] = {job(0.01, 0), job(100, -EIO)};
  cio_task *w[2];
  spawn_jobs(w, m, 2);
  CHECK_EQ(cio_wait(w, 2, CIO_FIRST_EXCEPTION, 0.05, done), 1);
  CHECK_EQ(done[0], 1);
  CHECK_EQ(done[1], 0);
  CHECK_EQ(cio_task_done(w[1]), 0);
  reap(w, 2);
  return 0;
}

static void test_wait_first_exception(void) { run_main(wait_first_exception_main, NULL); }

struct waiter {
  cio_task **tasks;
  size_t n;
  int r;
};

static int waiter_fn(void *arg) {
  struct waiter *w = arg;
  w->r = cio_wait(w->tasks, w->n, CIO_ALL_COMPLETED, -1, NULL);
  return w->r;
}

static int wait_cancelled_main(void *arg) {
  struct job j[2] = {job(100, 0), job(100, 0)};
  cio_task *t[2];
  spawn_jobs(t, j, 2);
  struct waiter w = {t, 2, 1};
  cio_task *wt = cio_spawn(waiter_fn, &w);
  CHECK_EQ(cio_sleep(0.01), 0);
  CHECK_EQ(cio_task_cancel(wt), 1);
  CHECK_EQ(cio_await(wt), -ECANCELED);
  CHECK_EQ(w.r, -ECANCELED);
  /* "Nothing is cancelled, ever." */
  CHECK_EQ(cio_task_done(t[0]), 0);
  CHECK_EQ(cio_task_done(t[1]), 0);
  cio_task_release(wt);

  /* In an expiring timeout scope: -ETIMEDOUT, still nothing cancelled. */
  cio_timeout_scope s;
  CHECK_EQ(cio_timeout_begin(&s, 0.02), 0);
  CHECK_EQ(cio_wait(t, 2, CIO_ALL_COMPLETED, -1, NULL), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&s), 1);
  CHECK_EQ(cio_task_done(t[0]), 0);
  reap(t, 2);
  return 0;
}

static void test_wait_caller_cancelled(void) { run_main(wait_cancelled_main, NULL); }

/* ---- wait_for ---- */

static int wait_for_timeout_main(void *arg) {
  struct job j = job(3.0, 0);
  cio_task *t = cio_spawn(job_fn, &j);
  double t0 = now_s();
  CHECK_EQ(cio_wait_for(t, 1.0), -ETIMEDOUT);
  double took = now_s() - t0;
  CHECK(took >= 0.99);
  CHECK(took < 2.0); /* loose: well before the job's 3 s */
  /* The job was cancelled and had unwound before wait_for returned. */
  CHECK(cio_task_done(t));
  CHECK_EQ(j.got, -ECANCELED);
  CHECK_EQ(j.cleaned, 1);
  CHECK(j.done_at <= now_s());
  CHECK_EQ(cio_task_status(t), -ECANCELED);
  /* The caller itself is not cancelled afterwards. */
  CHECK_EQ(cio_sleep(0.001), 0);
  cio_task_release(t);
  return 0;
}

static void test_wait_for_timeout(void) { run_main(wait_for_timeout_main, NULL); }

static int wait_for_in_time_main(void *arg) {
  struct job j = job(0.01, -EPROTO);
  cio_task *t = cio_spawn(job_fn, &j);
  CHECK_EQ(cio_wait_for(t, 2.0), -EPROTO);
  cio_task_release(t);

  j = job(0.01, 6);
  t = cio_spawn(job_fn, &j);
  CHECK_EQ(cio_wait_for(t, -1), 6);  /* no limit */
  CHECK_EQ(cio_wait_for(t, 0.5), 6); /* finished already */
  cio_task_release(t);

  j = job(0.01, 0);
  t = cio_spawn(job_fn, &j);
  CHECK_EQ(cio_wait_for(t, 1.0), 0);
  cio_task_release(t);
  return 0;
}

static void test_wait_for_in_time(void) { run_main(wait_for_in_time_main, NULL); }

/* ---- as_completed ---- */

static int as_completed_main(void *arg) {
  struct job j[4] = {job(0.04, 0), job(0.01, -EIO), job(0.03, 2), job(0.02, 3)};
  cio_task *t[4];
  spawn_jobs(t, j, 4);
  cio_as_completed *it = cio_as_completed_new(t, 4, -1);
  CHECK(it != NULL);
  if (!it) return -ENOMEM;
  static const int order[4] = {1, 3, 2, 0};
  cio_task *out;
  for (int i = 0; i < 4; i++) {
    out = NULL;
    CHECK_EQ(cio_as_completed_next(it, &out), 1);
    CHECK(out == t[order[i]]);
    if (out) CHECK(cio_task_done(out));
  }
  CHECK_EQ(cio_as_completed_next(it, &out), 0);
  CHECK_EQ(cio_as_completed_next(it, &out), 0);
  cio_as_completed_free(it);
  reap(t, 4);

  /* Already finished tasks come out at once; n = 0 ends at once. */
  struct job k[2] = {job(0, 0), job(0, 1)};
  cio_task *u[2];
  spawn_jobs(u, k, 2);
  CHECK_EQ(cio_sleep(0.01), 0);
  it = cio_as_completed_new(u, 2, -1);
  CHECK(it != NULL);
  if (it) {
    int seen = 0;
    while (cio_as_completed_next(it, &out) == 1) seen++;
    CHECK_EQ(seen, 2);
    cio_as_completed_free(it);
  }
  it = cio_as_completed_new(u, 0, -1);
  CHECK(it != NULL);
  if (it) {
    CHECK_EQ(cio_as_completed_next(it, &out), 0);
    cio_as_completed_free(it);
  }
  reap(u, 2);
  return 0;
}

static void test_as_completed_order(void) { run_main(as_completed_main, NULL); }

static int as_completed_timeout_main(void *arg) {
  struct job j[3] = {job(0.01, 0), job(100, 0), job(100, 0)};
  cio_task *t[3];
  spawn_jobs(t, j, 3);
  double t0 = now_s();
  cio_as_completed *it = cio_as_completed_new(t, 3, 0.1);
  CHECK(it != NULL);
  if (!it) return -ENOMEM;
  cio_task *out = NULL;
  CHECK_EQ(cio_as_completed_next(it, &out), 1);
  CHECK(out == t[0]);
  CHECK_EQ(cio_as_completed_next(it, &out), -ETIMEDOUT);
  double took = now_s() - t0;
  CHECK(took >= 0.099);
  CHECK(took < 2.0);
  /* The timeout cancels nothing. */
  CHECK_EQ(cio_task_done(t[1]), 0);
  CHECK_EQ(cio_task_done(t[2]), 0);
  CHECK_EQ(cio_sleep(0.001), 0);
  cio_as_completed_free(it);
  reap(t, 3);
  return 0;
}

static void test_as_completed_timeout(void) { run_main(as_completed_timeout_main, NULL); }

struct iterer {
  cio_task **tasks;
  size_t n;
  int r;
  int first;
};

static int iterer_fn(void *arg) {
  struct iterer *w = arg;
  cio_as_completed *it = cio_as_completed_new(w->tasks, w->n, -1);
  if (!it) return -errno;
  cio_task *out;
  w->first = cio_as_completed_next(it, &out);
  w->r = cio_as_completed_next(it, &out);
  cio_as_completed_free(it);
  return w->r;
}

static int as_completed_cancel_main(void *arg) {
  struct job j[2] = {job(0.0, 0), job(100, 0)};
  cio_task *t[2];
  spawn_jobs(t, j, 2);
  struct iterer w = {t, 2, 1, 9};
  cio_task *wt = cio_spawn(iterer_fn, &w);
  CHECK_EQ(cio_sleep(0.02), 0);
  CHECK_EQ(cio_task_cancel(wt), 1);
  CHECK_EQ(cio_await(wt), -ECANCELED);
  CHECK_EQ(w.first, 1);
  CHECK_EQ(w.r, -ECANCELED);
  CHECK_EQ(cio_task_done(t[1]), 0); /* not cancelled */
  cio_task_release(wt);
  reap(t, 2);
  return 0;
}

static void test_as_completed_caller_cancelled(void) { run_main(as_completed_cancel_main, NULL); }

/* ---- shield ---- */

struct shielder {
  cio_task *inner;
  int r;
};

static int shielder_fn(void *arg) {
  struct shielder *s = arg;
  s->r = cio_shield(s->inner);
  return s->r;
}

static int shield_main(void *arg) {
  struct job j = job(0.2, 7);
  cio_task *inner = cio_spawn(job_fn, &j);
  struct shielder s = {inner, 1};
  cio_task *outer = cio_spawn(shielder_fn, &s);
  CHECK_EQ(cio_sleep(0.02), 0);
  CHECK_EQ(cio_task_cancel(outer), 1);
  CHECK_EQ(cio_await(outer), -ECANCELED);
  CHECK_EQ(s.r, -ECANCELED);
  /* The outer returned at once; the inner keeps running... */
  CHECK_EQ(cio_task_done(inner), 0);
  CHECK_EQ(j.got, 1);
  /* ...and finishes normally. */
  CHECK_EQ(cio_await(inner), 7);
  CHECK_EQ(j.got, 0);
  CHECK_EQ(cio_task_cancelled(inner), 0);
  cio_task_release(outer);
  cio_task_release(inner);

  /* Not cancelled: shield returns the inner status. */
  j = job(0.01, -EIO);
  inner = cio_spawn(job_fn, &j);
  CHECK_EQ(cio_shield(inner), -EIO);
  cio_task_release(inner);

  /* A timeout scope around shield: -ETIMEDOUT, inner untouched. */
  j = job(0.1, 3);
  inner = cio_spawn(job_fn, &j);
  cio_timeout_scope sc;
  CHECK_EQ(cio_timeout_begin(&sc, 0.02), 0);
  CHECK_EQ(cio_shield(inner), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&sc), 1);
  CHECK_EQ(cio_task_done(inner), 0);
  CHECK_EQ(cio_await(inner), 3);
  cio_task_release(inner);
  return 0;
}

static void test_shield(void) { run_main(shield_main, NULL); }

int main(void) {
  alarm(60); /* a hang kills the test instead of blocking CI */
  RUN(test_gather_ordered_statuses);
  RUN(test_gather_first_error_cancels_siblings);
  RUN(test_gather_all);
  RUN(test_gather_caller_cancelled);
  RUN(test_gather_in_timeout_scope);
  RUN(test_gather_outside_task);
  RUN(test_wait_all_completed);
  RUN(test_wait_first_completed);
  RUN(test_wait_first_exception);
  RUN(test_wait_caller_cancelled);
  RUN(test_wait_for_timeout);
  RUN(test_wait_for_in_time);
  RUN(test_as_completed_order);
  RUN(test_as_completed_timeout);
  RUN(test_as_completed_caller_cancelled);
  RUN(test_shield);
  return test_report();
}
