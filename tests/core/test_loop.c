/* test_loop.c - the event loop: cio_run, explicit loops, call_soon /
 * call_later / call_at, cancellable timers, cross-thread calls, one loop per
 * thread, and cio_loop_close() reaping leftover tasks.
 *
 * Timing checks are deliberately loose: a timer must never fire early (that
 * is a correctness property), and upper bounds only guard against "never
 * fired" or "slept for the full long timeout".
 */
#include <cio.h>
#include <stdint.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "test.h"
#include "test_loop.h"

static int return_arg(void *arg) { return *(int *)arg; }

/* ---- cio_run ---- */

struct run_probe {
  cio_loop *loop;
  cio_task *self;
  cio_task_state state;
};

static int probe_fn(void *arg) {
  struct run_probe *p = arg;
  p->loop = cio_loop_current();
  p->self = cio_current();
  p->state = p->self ? cio_task_get_state(p->self) : CIO_TASK_DONE;
  return 7;
}

static void test_run_returns_main_status(void) {
  struct run_probe p = {0};
  int v = -EIO;

  CHECK(cio_loop_current() == NULL);
  CHECK_EQ(cio_run(return_arg, &v), -EIO);
  v = 0;
  CHECK_EQ(cio_run(return_arg, &v), 0);
  CHECK_EQ(cio_run(probe_fn, &p), 7);
  CHECK(p.loop != NULL);
  CHECK(p.self != NULL);
  CHECK_EQ(p.state, CIO_TASK_RUNNING);
  CHECK(cio_loop_current() == NULL);
  CHECK(cio_current() == NULL);
}

struct leftover {
  int started;
  int got;     /* what the long sleep returned */
  int cleanup; /* what the suspending cleanup returned */
  int finished;
};

/* Sleeps "forever"; when cancelled, cleans up with a suspension of its own. */
static int leftover_fn(void *arg) {
  struct leftover *l = arg;
  l->started = 1;
  l->got = cio_sleep(100);
  l->cleanup = cio_sleep(0.01);
  if (l->cleanup == 0) l->cleanup = cio_yield();
  l->finished = 1;
  return l->got;
}

static int run_leaves_tasks(void *arg) {
  struct leftover *l = arg;
  for (int i = 0; i < 3; i++) {
    cio_task *t = cio_spawn(leftover_fn, &l[i]);
    if (!t) return -errno;
    if (i == 0)
      cio_detach(t);
    else
      cio_task_release(t);
  }
  return cio_yield(); /* let them start and park in their sleep */
}

static void test_run_cancels_leftovers(void) {
  struct leftover l[3];
  memset(l, 0, sizeof l);
  l[0].got = l[1].got = l[2].got = 1;
  double t0 = now_s();
  CHECK_EQ(cio_run(run_leaves_tasks, l), 0);
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(l[i].started, 1);
    CHECK_EQ(l[i].got, -ECANCELED);
    CHECK_EQ(l[i].cleanup, 0);
    CHECK_EQ(l[i].finished, 1);
  }
  CHECK(now_s() - t0 < 5.0); /* loose: did not sleep the 100 s */
}

static int run_nested(void *arg) {
  int v = 0;
  int *out = arg;
  out[0] = cio_run(return_arg, &v);
  errno = 0;
  cio_loop *l = cio_loop_new(NULL);
  out[1] = l == NULL;
  out[2] = errno;
  if (l) cio_loop_free(l);
  return 0;
}

static void test_run_inside_task_is_ebusy(void) {
  int out[3] = {1, 0, 0};
  CHECK_EQ(cio_run(run_nested, out), 0);
  CHECK_EQ(out[0], -EBUSY);
  CHECK_EQ(out[1], 1);
  CHECK_EQ(out[2], EBUSY);
}

/* ---- explicit loops ---- */

static void stop_cb(void *arg) { cio_loop_stop(arg); }

static void test_explicit_loop_lifecycle(void) {
  cio_loop *loop = cio_loop_new(NULL);
  CHECK(loop != NULL);
  if (!loop) return;
  CHECK(cio_loop_current() == loop);
  CHECK(cio_current() == NULL);

  int v = 5;
  cio_task *t = cio_spawn_on(loop, return_arg, &v, NULL);
  CHECK(t != NULL);
  CHECK_EQ(cio_task_status(t), -EINPROGRESS);
  CHECK_EQ(cio_task_get_state(t), CIO_TASK_READY);
  CHECK_EQ(cio_loop_run_until_complete(loop, t), 5);
  CHECK_EQ(cio_task_status(t), 5);
  CHECK_EQ(cio_task_get_state(t), CIO_TASK_DONE);
  /* Does not consume t, and a finished task completes at once. */
  CHECK_EQ(cio_loop_run_until_complete(loop, t), 5);
  cio_task_release(t);

  int w = -EPIPE;
  t = cio_spawn(return_arg, &w); /* cio_spawn uses the thread's loop */
  CHECK(t != NULL);
  CHECK_EQ(cio_loop_run_until_complete(loop, t), -EPIPE);
  cio_task_release(t);

  /* run_forever twice, stopped by a callback each time. */
  CHECK_EQ(cio_call_soon(loop, stop_cb, loop), 0);
  CHECK_EQ(cio_loop_run_forever(loop), 0);
  CHECK_EQ(cio_call_later(loop, 0.01, stop_cb, loop), 0);
  CHECK_EQ(cio_loop_run_forever(loop), 0);

  CHECK_EQ(cio_loop_close(loop), 0);

  cio_loop_free(loop);
  CHECK(cio_loop_current() == NULL);

  /* The thread may have a new loop after closing the old one. */
  loop = cio_loop_new(NULL);
  CHECK(loop != NULL);
  if (loop) {
    CHECK_EQ(cio_loop_close(loop), 0);
    cio_loop_free(loop);
  }
}

static void test_loop_opts(void) {
  cio_loop_opts o = {0};
  o.debug = 0;
  cio_loop *loop = cio_loop_new(&o);
  CHECK(loop != NULL);
  if (!loop) return;
  CHECK_EQ(cio_loop_debug(loop), 0);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);

  o.debug = 1;
  o.stack_size = 64 * 1024;
  loop = cio_loop_new(&o);
  CHECK(loop != NULL);
  if (!loop) return;
  CHECK(cio_loop_debug(loop) != 0);
  int v = 3;
  cio_task *t = cio_spawn(return_arg, &v);
  CHECK_EQ(cio_loop_run_until_complete(loop, t), 3);
  cio_task_release(t);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

struct stopper {
  cio_loop *loop;
  int ran;
};

static int stop_from_task(void *arg) {
  struct stopper *s = arg;
  int r = cio_sleep(0.01);
  s->ran = 1;
  cio_loop_stop(s->loop);
  return r;
}

static void test_run_forever_stopped_by_task(void) {
  cio_loop *loop = cio_loop_new(NULL);
  CHECK(loop != NULL);
  if (!loop) return;
  struct stopper s = {loop, 0};
  cio_task *t = cio_spawn(stop_from_task, &s);
  CHECK(t != NULL);
  CHECK_EQ(cio_loop_run_forever(loop), 0);
  CHECK_EQ(s.ran, 1);
  /* The task may or may not have returned yet; finishing it is still possible. */
  CHECK_EQ(cio_loop_run_until_complete(loop, t), 0);
  cio_task_release(t);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

struct nested_calls {
  cio_loop *loop;
  int forever, until, close_r;
};

static int nested_loop_calls(void *arg) {
  struct nested_calls *n = arg;
  n->forever = cio_loop_run_forever(n->loop);
  n->until = cio_loop_run_until_complete(n->loop, cio_current());
  n->close_r = cio_loop_close(n->loop);
  cio_loop_free(n->loop); /* running: refused, nothing freed */
  return 0;
}

static void test_reentrant_calls_are_ebusy(void) {
  cio_loop *loop = cio_loop_new(NULL);
  CHECK(loop != NULL);
  if (!loop) return;
  struct nested_calls n = {loop, 1, 1, 1};
  cio_task *t = cio_spawn(nested_loop_calls, &n);
  CHECK_EQ(cio_loop_run_until_complete(loop, t), 0);
  CHECK_EQ(n.forever, -EBUSY);
  CHECK_EQ(n.until, -EBUSY);
  CHECK_EQ(n.close_r, -EBUSY);
  cio_task_release(t);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

/* A second thread owns a loop and a task; the main thread checks that its
 * own loop refuses them. */
struct foreign {
  pthread_barrier_t ready, done;
  cio_loop *loop;
  cio_task *task;
  int close_r;
};

static int foreign_task(void *arg) { return 0; }

static void *foreign_thread(void *arg) {
  struct foreign *f = arg;
  f->loop = cio_loop_new(NULL);
  f->task = f->loop ? cio_spawn(foreign_task, NULL) : NULL;
  pthread_barrier_wait(&f->ready);
  pthread_barrier_wait(&f->done);
  if (f->loop) {
    if (f->task) {
      cio_loop_run_until_complete(f->loop, f->task);
      cio_task_release(f->task);
    }
    f->close_r = cio_loop_close(f->loop);
    cio_loop_free(f->loop);
  }
  return NULL;
}

static void test_foreign_loop_and_task(void) {
  struct foreign f;
  memset(&f, 0, sizeof f);
  f.close_r = 1;
  pthread_barrier_init(&f.ready, NULL, 2);
  pthread_barrier_init(&f.done, NULL, 2);
  pthread_t th;
  CHECK_EQ(pthread_create(&th, NULL, foreign_thread, &f), 0);
  pthread_barrier_wait(&f.ready);
  CHECK(f.loop != NULL);
  CHECK(f.task != NULL);

  /* Two threads, two loops at once. */
  cio_loop *mine = cio_loop_new(NULL);
  CHECK(mine != NULL);
  CHECK(mine != f.loop);
  if (mine && f.task) {
    CHECK_EQ(cio_loop_run_until_complete(mine, f.task), -EINVAL);
    CHECK_EQ(cio_loop_close(f.loop), -EINVAL); /* wrong thread */
  }
  if (mine) {
    CHECK_EQ(cio_loop_close(mine), 0);
    cio_loop_free(mine);
  }

  pthread_barrier_wait(&f.done);
  pthread_join(th, NULL);
  CHECK_EQ(f.close_r, 0);
  pthread_barrier_destroy(&f.ready);
  pthread_barrier_destroy(&f.done);
}

/* ---- one loop per thread ---- */

static void test_one_loop_per_thread(void) {
  cio_loop *loop = cio_loop_new(NULL);
  CHECK(loop != NULL);
  if (!loop) return;
  errno = 0;
  CHECK(cio_loop_new(NULL) == NULL);
  CHECK_EQ(errno, EBUSY);
  int v = 0;
  CHECK_EQ(cio_run(return_arg, &v), -EBUSY);
  CHECK(cio_loop_current() == loop);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
  CHECK(cio_loop_current() == NULL);
  CHECK_EQ(cio_run(return_arg, &v), 0);
}

static void test_no_loop(void) {
  CHECK(cio_loop_current() == NULL);
  errno = 0;
  CHECK(cio_spawn(return_arg, NULL) == NULL);
  CHECK_EQ(errno, ENOENT);
}

/* ---- call_soon / call_later / call_at ---- */

#define MAX_SEQ 128

struct seq {
  cio_loop *loop;
  int ids[MAX_SEQ];
  double at[MAX_SEQ];
  int n;
};

struct seq_item {
  struct seq *s;
  int id;
  double due;             /* absolute now_s() time before which it must not run */
  struct seq_item *chain; /* scheduled with call_soon from the callback */
};

static void seq_cb(void *arg) {
  struct seq_item *it = arg;
  struct seq *s = it->s;
  if (s->n < MAX_SEQ) {
    s->at[s->n] = now_s();
    s->ids[s->n] = it->id;
  }
  s->n++;
  if (it->chain) cio_call_soon(s->loop, seq_cb, it->chain);
}

static void test_call_soon_fifo(void) {
  cio_loop *loop = cio_loop_new(NULL);
  CHECK(loop != NULL);
  if (!loop) return;
  struct seq s;
  memset(&s, 0, sizeof s);
  s.loop = loop;
  struct seq_item items[60];
  for (int i = 0; i < 50; i++) {
    items[i] = (struct seq_item){&s, i, 0, NULL};
    CHECK_EQ(cio_call_soon(loop, seq_cb, &items[i]), 0);
  }
  /* A callback scheduled from a callback runs after everything queued
   * before it: item 0 chains item 50. */
  items[50] = (struct seq_item){&s, 50, 0, NULL};
  items[0].chain = &items[50];
  CHECK_EQ(cio_call_later(loop, 0.01, stop_cb, loop), 0);
  CHECK_EQ(cio_loop_run_forever(loop), 0);
  CHECK_EQ(s.n, 51);
  for (int i = 0; i < 51 && i < s.n; i++) CHECK_EQ(s.ids[i], i);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

static void test_call_later_ordering(void) {
  cio_loop *loop = cio_loop_new(NULL);
  CHECK(loop != NULL);
  if (!loop) return;
  struct seq s;
  memset(&s, 0, sizeof s);
  s.loop = loop;
  static const double delays[] = {0.06, 0.01, 0.04, 0.0, 0.02};
  static const int expect[] = {3, 1, 5, 4, 2, 0};
  struct seq_item items[6];
  double base = now_s();
  for (int i = 0; i < 5; i++) {
    items[i] = (struct seq_item){&s, i, base + delays[i], NULL};
    CHECK_EQ(cio_call_later(loop, delays[i], seq_cb, &items[i]), 0);
  }
  /* call_at on the loop clock, between the 0.01 and 0.02 timers. */
  double lt = cio_loop_time(loop);
  items[5] = (struct seq_item){&s, 5, now_s() + 0.015, NULL};
  CHECK_EQ(cio_call_at(loop, lt + 0.015, seq_cb, &items[5]), 0);
  CHECK_EQ(cio_call_later(loop, 0.1, stop_cb, loop), 0);
  double t0 = now_s();
  CHECK_EQ(cio_loop_run_forever(loop), 0);
  double elapsed = now_s() - t0;
  CHECK_EQ(s.n, 6);
  for (int i = 0; i < 6 && i < s.n; i++) {
    CHECK_EQ(s.ids[i], expect[i]);
    /* never early (1 ms of slack for the clock read before scheduling) */
    CHECK(s.at[i] >= items[s.ids[i]].due - 0.001);
  }
  CHECK(elapsed >= 0.099);
  CHECK(elapsed < 3.0); /* loose */
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

static void test_call_at_past_runs(void) {
  cio_loop *loop = cio_loop_new(NULL);
  CHECK(loop != NULL);
  if (!loop) return;
  struct seq s;
  memset(&s, 0, sizeof s);
  s.loop = loop;
  struct seq_item it = {&s, 9, 0, NULL};
  CHECK_EQ(cio_call_at(loop, cio_loop_time(loop) - 10.0, seq_cb, &it), 0);
  CHECK_EQ(cio_call_later(loop, -1.0, seq_cb, &it), 0);
  CHECK_EQ(cio_call_later(loop, 0.02, stop_cb, loop), 0);
  CHECK_EQ(cio_loop_run_forever(loop), 0);
  CHECK_EQ(s.n, 2);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

/* ---- cio_timer ---- */

struct tstate {
  cio_loop *loop;
  cio_timer *timer;
  int fired;
  int restarts; /* how many more times the callback re-arms itself */
  int free_self;
  int stop_loop;
  double at[8];
};

static void timer_cb(void *arg) {
  struct tstate *s = arg;
  if (s->fired < 8) s->at[s->fired] = now_s();
  s->fired++;
  if (s->restarts > 0) {
    s->restarts--;
    cio_timer_start(s->timer, 0.005);
    return;
  }
  if (s->free_self) {
    cio_timer_free(s->timer);
    s->timer = NULL;
  }
  if (s->stop_loop) cio_loop_stop(s->loop);
}

/* Gives s (zeroed but for its flags) a fresh loop and a timer calling
 * timer_cb(s). Returns the loop, or NULL after a failed check. */
static cio_loop *timer_setup(struct tstate *s) {
  cio_loop *loop = cio_loop_new(NULL);
  CHECK(loop != NULL);
  if (!loop) return NULL;
  s->loop = loop;
  s->timer = cio_timer_new(loop, timer_cb, s);
  CHECK(s->timer != NULL);
  if (!s->timer) {
    cio_loop_free(loop);
    return NULL;
  }
  return loop;
}

static void test_timer_fire_and_active(void) {
  struct tstate s = {.stop_loop = 1};
  cio_loop *loop = timer_setup(&s);
  if (!loop) return;
  CHECK_EQ(cio_timer_active(s.timer), 0);
  double t0 = now_s();
  cio_timer_start(s.timer, 0.02);
  CHECK(cio_timer_active(s.timer) != 0);
  CHECK_EQ(cio_loop_run_forever(loop), 0);
  CHECK_EQ(s.fired, 1);
  CHECK(s.at[0] - t0 >= 0.019);
  CHECK_EQ(cio_timer_active(s.timer), 0); /* one-shot */

  /* Stop before it fires: it never fires. */
  cio_timer_start(s.timer, 0.01);
  cio_timer_stop(s.timer);
  CHECK_EQ(cio_timer_active(s.timer), 0);
  cio_timer_stop(s.timer); /* no-op when not armed */
  CHECK_EQ(cio_call_later(loop, 0.04, stop_cb, loop), 0);
  CHECK_EQ(cio_loop_run_forever(loop), 0);
  CHECK_EQ(s.fired, 1);

  /* The timer can be used again after a stop. */
  cio_timer_start(s.timer, 0.0);
  CHECK_EQ(cio_loop_run_forever(loop), 0);
  CHECK_EQ(s.fired, 2);
  cio_timer_free(s.timer);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

static void check_not_fired(void *arg) {
  struct tstate *s = arg;
  CHECK_EQ(s->fired, 0);
}

static void test_timer_restart_rearms(void) {
  struct tstate s = {0};
  cio_loop *loop = timer_setup(&s);
  if (!loop) return;
  double t0 = now_s();
  cio_timer_start(s.timer, 0.01);
  cio_timer_start(s.timer, 0.06); /* re-arm: the 0.01 s deadline is gone */
  CHECK_EQ(cio_call_later(loop, 0.03, check_not_fired, &s), 0);
  CHECK_EQ(cio_call_later(loop, 0.12, stop_cb, loop), 0);
  CHECK_EQ(cio_loop_run_forever(loop), 0);
  CHECK_EQ(s.fired, 1); /* once, not twice */
  CHECK(s.at[0] - t0 >= 0.059);
  cio_timer_free(s.timer);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

static void test_timer_restart_from_callback(void) {
  struct tstate s = {.restarts = 3, .stop_loop = 1};
  cio_loop *loop = timer_setup(&s);
  if (!loop) return;
  cio_timer_start(s.timer, 0.005);
  CHECK_EQ(cio_loop_run_forever(loop), 0);
  CHECK_EQ(s.fired, 4);
  for (int i = 1; i < 4; i++) CHECK(s.at[i] - s.at[i - 1] >= 0.0045);
  CHECK_EQ(cio_timer_active(s.timer), 0);
  cio_timer_free(s.timer);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

static void test_timer_free_inside_callback(void) {
  struct tstate s = {.free_self = 1, .stop_loop = 1};
  cio_loop *loop = timer_setup(&s);
  if (!loop) return;
  cio_timer_start(s.timer, 0.0);
  CHECK_EQ(cio_loop_run_forever(loop), 0);
  CHECK_EQ(s.fired, 1);
  CHECK(s.timer == NULL);
  /* The loop goes on working after the timer freed itself. */
  CHECK_EQ(cio_call_later(loop, 0.01, stop_cb, loop), 0);
  CHECK_EQ(cio_loop_run_forever(loop), 0);
  CHECK_EQ(s.fired, 1);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

static void test_timer_free_armed(void) {
  cio_loop *loop = cio_loop_new(NULL);
  CHECK(loop != NULL);
  if (!loop) return;
  struct tstate s;
  memset(&s, 0, sizeof s);
  s.loop = loop;
  cio_timer *a = cio_timer_new(loop, timer_cb, &s);
  cio_timer *b = cio_timer_new(loop, timer_cb, &s);
  CHECK(a && b);
  if (!a || !b) {
    cio_loop_free(loop);
    return;
  }
  cio_timer_start(a, 0.005);
  cio_timer_start(b, 0.005);
  cio_timer_free(a); /* armed: freeing stops it */
  cio_timer_free(b);
  CHECK_EQ(cio_call_later(loop, 0.03, stop_cb, loop), 0);
  CHECK_EQ(cio_loop_run_forever(loop), 0);
  CHECK_EQ(s.fired, 0);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

/* ---- cross-thread calls ---- */

#define TS_THREADS 4
#define TS_CALLS   25000

struct ts_shared {
  cio_loop *loop;
  long count; /* touched on the loop thread only */
  long total;
};

struct ts_thread {
  struct ts_shared *sh;
  pthread_t th;
  long failed;
};

static void ts_cb(void *arg) {
  struct ts_shared *s = arg;
  if (++s->count == s->total) cio_loop_stop(s->loop);
}

static void *ts_main(void *arg) {
  struct ts_thread *t = arg;
  for (int i = 0; i < TS_CALLS; i++) {
    int r = cio_call_soon_threadsafe(t->sh->loop, ts_cb, t->sh);
    if (r != 0) t->failed++;
    if ((i & 1023) == 0) usleep(100); /* let the loop sleep now and then */
  }
  return NULL;
}

static void test_threadsafe_many_threads(void) {
  cio_loop *loop = cio_loop_new(NULL);
  CHECK(loop != NULL);
  if (!loop) return;
  struct ts_shared sh = {loop, 0, (long)TS_THREADS * TS_CALLS};
  struct ts_thread th[TS_THREADS];
  for (int i = 0; i < TS_THREADS; i++) {
    th[i].sh = &sh;
    th[i].failed = 0;
    CHECK_EQ(pthread_create(&th[i].th, NULL, ts_main, &th[i]), 0);
  }
  CHECK_EQ(cio_loop_run_forever(loop), 0);
  for (int i = 0; i < TS_THREADS; i++) {
    pthread_join(th[i].th, NULL);
    CHECK_EQ(th[i].failed, 0);
  }
  CHECK_EQ(sh.count, sh.total);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

struct waker {
  cio_loop *loop;
  double delay;
  int r;
};

static void *waker_main(void *arg) {
  struct waker *w = arg;
  usleep((useconds_t)(w->delay * 1e6));
  w->r = cio_call_soon_threadsafe(w->loop, stop_cb, w->loop);
  return NULL;
}

static void never_cb(void *arg) { *(int *)arg = 1; }

static void test_threadsafe_wakes_sleeping_loop(void) {
  cio_loop *loop = cio_loop_new(NULL);
  CHECK(loop != NULL);
  if (!loop) return;
  /* Nothing to do at all: the loop sleeps without a timeout. */
  struct waker w = {loop, 0.05, 1};
  pthread_t th;
  double t0 = now_s();
  CHECK_EQ(pthread_create(&th, NULL, waker_main, &w), 0);
  CHECK_EQ(cio_loop_run_forever(loop), 0);
  pthread_join(th, NULL);
  CHECK_EQ(w.r, 0);
  CHECK(now_s() - t0 < 5.0);

  /* A far timer pending: the loop sleeps until it, and must still wake. */
  int fired = 0;
  CHECK_EQ(cio_call_later(loop, 100.0, never_cb, &fired), 0);
  w.r = 1;
  t0 = now_s();
  CHECK_EQ(pthread_create(&th, NULL, waker_main, &w), 0);
  CHECK_EQ(cio_loop_run_forever(loop), 0);
  pthread_join(th, NULL);
  CHECK_EQ(w.r, 0);
  CHECK_EQ(fired, 0);
  CHECK(now_s() - t0 < 5.0);
  CHECK_EQ(cio_loop_close(loop), 0); /* frees the pending 100 s timer */
  cio_loop_free(loop);
}

/* ---- cio_loop_close with leftover tasks ---- */

struct closing {
  cio_loop *loop;
  int got;
  int cleanup_sleep;
  int cleanup_yield;
  int threadsafe_r;
  int spawn_errno;
  int finished;
};

/* Callbacks queued from other threads while close reaps tasks. */
static int late_cb_runs;
static void late_cb(void *arg) { late_cb_runs++; }
static int noop_task(void *arg) { return 0; }

static int closing_task(void *arg) {
  struct closing *c = arg;
  c->got = cio_sleep(100);
  /* Cleanup that suspends, during cio_loop_close(). */
  c->cleanup_sleep = cio_sleep(0.005);
  c->cleanup_yield = cio_yield();
  c->threadsafe_r = cio_call_soon_threadsafe(c->loop, late_cb, NULL);
  errno = 0;
  cio_task *t = cio_spawn(noop_task, NULL);
  c->spawn_errno = t ? 0 : errno;
  if (t) cio_task_release(t);
  c->finished = 1;
  return c->got;
}

static int short_sleep(void *arg) { return cio_sleep(0.01); }

static int never_started(void *arg) {
  int *ran = arg;
  *ran = 1;
  return cio_yield(); /* the suspension a cancel must hit if the body runs */
}

#define N_CLOSING 10

static void test_close_reaps_leftovers(void) {
  cio_loop_opts o = {0};
  o.debug = 1; /* leftovers are reported on stderr: that is expected */
  cio_loop *loop = cio_loop_new(&o);
  CHECK(loop != NULL);
  if (!loop) return;
  struct closing c[N_CLOSING];
  cio_task *t[N_CLOSING];
  memset(c, 0, sizeof c);
  for (int i = 0; i < N_CLOSING; i++) {
    c[i].loop = loop;
    c[i].got = c[i].cleanup_sleep = c[i].cleanup_yield = 1;
    t[i] = cio_spawn(closing_task, &c[i]);
    CHECK(t[i] != NULL);
  }
  cio_task *s = cio_spawn(short_sleep, NULL);
  CHECK_EQ(cio_loop_run_until_complete(loop, s), 0);
  cio_task_release(s);
  /* One task that never got to run before close. */
  int ran = 0;
  cio_task *ns = cio_spawn(never_started, &ran);
  CHECK(ns != NULL);

  late_cb_runs = 0;
  double t0 = now_s();
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
  CHECK(now_s() - t0 < 5.0);
  CHECK(cio_loop_current() == NULL);
  /* loop.h says -ESHUTDOWN "once cio_loop_close() has begun (fn will not
   * run)"; the core accepts calls while it reaps tasks (cleanup may need a
   * wake-up from another thread) and runs them. Either way none is lost. */
  int accepted = 0;
  for (int i = 0; i < N_CLOSING; i++) {
    CHECK(c[i].threadsafe_r == 0 || c[i].threadsafe_r == -ESHUTDOWN);
    accepted += c[i].threadsafe_r == 0;
  }
  CHECK_EQ(late_cb_runs, accepted);
  for (int i = 0; i < N_CLOSING; i++) {
    CHECK_EQ(c[i].got, -ECANCELED);
    CHECK_EQ(c[i].cleanup_sleep, 0);
    CHECK_EQ(c[i].cleanup_yield, 0);
    CHECK_EQ(c[i].spawn_errno, ESHUTDOWN);
    CHECK_EQ(c[i].finished, 1);
    /* Handles held by the user stay valid after close. */
    if (t[i]) {
      CHECK(cio_task_done(t[i]));
      CHECK_EQ(cio_task_status(t[i]), -ECANCELED);
      CHECK(cio_task_cancelled(t[i]));
      cio_task_release(t[i]);
    }
  }
  if (ns) {
    CHECK(cio_task_done(ns));
    CHECK_EQ(cio_task_status(ns), -ECANCELED);
    cio_task_release(ns);
  }
}

/* ---- clocks ---- */

static int clock_task(void *arg) {
  cio_loop *loop = cio_loop_current();
  double prev = cio_loop_time(loop);
  int64_t prev_ns = cio_now_ns();
  int bad = 0;
  for (int i = 0; i < 10000; i++) {
    double t = cio_loop_time(loop);
    int64_t ns = cio_now_ns();
    if (t < prev || ns < prev_ns) bad++;
    prev = t;
    prev_ns = ns;
    if ((i % 1000) == 0 && cio_yield() != 0) bad++;
  }
  CHECK_EQ(bad, 0);
  double t0 = cio_loop_time(loop);
  CHECK_EQ(cio_sleep(0.02), 0);
  double t1 = cio_loop_time(loop);
  CHECK(t1 - t0 >= 0.02 - 1e-6); /* a sleep never ends early on the loop clock */
  CHECK(t1 - t0 < 5.0);
  return 0;
}

static void test_loop_time_monotonic(void) {
  CHECK(cio_now_ns() > 0);
  CHECK_EQ(cio_run(clock_task, NULL), 0);
}

static void test_strerror(void) {
  CHECK(cio_strerror(0) != NULL);
  CHECK(cio_strerror(-ECANCELED) != NULL);
  CHECK(cio_strerror(-ETIMEDOUT) != NULL);
  CHECK(cio_strerror(ETIMEDOUT) != NULL);
  CHECK(cio_strerror(-123456) != NULL);
  CHECK(strcmp(cio_strerror(-ECANCELED), cio_strerror(-ETIMEDOUT)) != 0);
  CHECK_STR(cio_strerror_name(-ECANCELED), "ECANCELED");
  CHECK_STR(cio_strerror_name(ETIMEDOUT), "ETIMEDOUT");
  CHECK_STR(cio_strerror_name(-ECONNRESET), "ECONNRESET"); /* from libc's table */
  CHECK_STR(cio_strerror_name(-CIO_ETLS), "CIO_ETLS");
  CHECK_STR(cio_strerror_name(-CIO_ESQL), "CIO_ESQL");
  CHECK_STR(cio_strerror_name(-CIO_EREDIS), "CIO_EREDIS");
  CHECK_STR(cio_strerror_name(0), "0");
  CHECK_STR(cio_strerror_name(-123456), "E?");
  CHECK(strstr(cio_strerror(-CIO_ESQL), "database") != NULL);
  char v[32];
  snprintf(v, sizeof v, "%d.%d.%d", CIO_VERSION_MAJOR, CIO_VERSION_MINOR, CIO_VERSION_PATCH);
  CHECK_STR(cio_version(), v);
}

/* ---- close vs free ---- */

static int count_main(void *arg) {
  cio_task *sleeper = arg;
  (void)sleeper;
  return (int)cio_loop_task_count(cio_loop_current());
}

static int sleep_long(void *arg) {
  (void)arg;
  return cio_sleep(60);
}

static void on_threadsafe(void *arg) { (*(int *)arg)++; }

static void test_close_then_free(void) {
  cio_loop *loop = cio_loop_new(NULL);
  CHECK(loop != NULL);
  cio_task *s = cio_spawn(sleep_long, NULL);
  cio_spawn_opts d = {.name = "svc", .daemon = 1};
  cio_task *svc = cio_spawn_ex(sleep_long, NULL, &d);
  cio_task *m = cio_spawn(count_main, s);
  CHECK_EQ(cio_loop_run_until_complete(loop, m), 2); /* the daemon is not counted */
  CHECK_EQ(cio_loop_task_count(loop), 1);
  CHECK_EQ(cio_loop_close(loop), 0);
  /* closed, not freed: queries work, new work is refused */
  CHECK(cio_loop_current() == NULL);
  CHECK_EQ(cio_loop_task_count(loop), 0);
  CHECK_EQ(cio_task_status(s), -ECANCELED);
  CHECK_EQ(cio_task_status(svc), -ECANCELED);
  CHECK_EQ(cio_loop_close(loop), 0); /* again: nothing to do */
  int runs = 0;
  CHECK_EQ(cio_call_soon(loop, on_threadsafe, &runs), -ESHUTDOWN);
  CHECK_EQ(cio_call_soon_threadsafe(loop, on_threadsafe, &runs), -ESHUTDOWN);
  CHECK_EQ(cio_call_later(loop, 0.1, on_threadsafe, &runs), -ESHUTDOWN);
  /* the thread may have a new loop while the old one awaits its free */
  cio_loop *next = cio_loop_new(NULL);
  CHECK(next != NULL);
  cio_loop_free(loop);
  cio_loop_free(next); /* free alone closes too */
  CHECK(cio_loop_current() == NULL);
  CHECK_EQ(runs, 0);
  cio_task_release(s);
  cio_task_release(svc);
  cio_task_release(m);
  cio_loop_free(NULL);
}

/* ---- close hooks ---- */

static int hook_order[3], hook_n, hook_cleanup_seen, hook_readd;
static int cleanup_done;
static cio_loop *hook_loop;

static void hook_fn(void *arg) {
  int id = (int)(intptr_t)arg;
  if (hook_n < 3) hook_order[hook_n] = id;
  hook_n++;
  hook_cleanup_seen = cleanup_done;
  hook_readd = cio_loop_add_close_hook(hook_loop, hook_fn, arg);
}

static int sleeps_then_cleans(void *arg) {
  (void)arg;
  int r = cio_sleep(60);
  cleanup_done = cio_sleep(0.001) == 0; /* cleanup that suspends */
  return r;
}

static int ticker(void *arg) {
  (void)arg;
  return cio_sleep(0.01);
}

static void test_close_hooks(void) {
  hook_loop = cio_loop_new(NULL);
  CHECK(hook_loop != NULL);
  if (!hook_loop) return;
  CHECK_EQ(cio_loop_add_close_hook(hook_loop, NULL, NULL), -EINVAL);
  for (intptr_t i = 1; i <= 3; i++)
    CHECK_EQ(cio_loop_add_close_hook(hook_loop, hook_fn, (void *)i), 0);
  cio_task *t = cio_spawn(sleeps_then_cleans, NULL);
  cio_task *tick = cio_spawn(ticker, NULL); /* let t start and park */
  CHECK_EQ(cio_loop_run_until_complete(hook_loop, tick), 0);
  cio_task_release(tick);
  CHECK_EQ(cio_loop_close(hook_loop), 0);
  cio_loop_free(hook_loop);
  CHECK_EQ(hook_n, 3);
  CHECK_EQ(hook_order[0], 3); /* last added first */
  CHECK_EQ(hook_order[1], 2);
  CHECK_EQ(hook_order[2], 1);
  CHECK_EQ(hook_cleanup_seen, 1); /* tasks had unwound, cleanup included */
  CHECK_EQ(hook_readd, -ESHUTDOWN);
  CHECK_EQ(cio_task_status(t), -ECANCELED);
  cio_task_release(t);
}

int main(void) {
  alarm(60); /* a hung loop kills the test instead of blocking CI */
  RUN(test_run_returns_main_status);
  RUN(test_run_cancels_leftovers);
  RUN(test_run_inside_task_is_ebusy);
  RUN(test_explicit_loop_lifecycle);
  RUN(test_loop_opts);
  RUN(test_run_forever_stopped_by_task);
  RUN(test_reentrant_calls_are_ebusy);
  RUN(test_foreign_loop_and_task);
  RUN(test_one_loop_per_thread);
  RUN(test_no_loop);
  RUN(test_call_soon_fifo);
  RUN(test_call_later_ordering);
  RUN(test_call_at_past_runs);
  RUN(test_timer_fire_and_active);
  RUN(test_timer_restart_rearms);
  RUN(test_timer_restart_from_callback);
  RUN(test_timer_free_inside_callback);
  RUN(test_timer_free_armed);
  RUN(test_threadsafe_many_threads);
  RUN(test_threadsafe_wakes_sleeping_loop);
  RUN(test_close_reaps_leftovers);
  RUN(test_loop_time_monotonic);
  RUN(test_strerror);
  RUN(test_close_then_free);
  RUN(test_close_hooks);
  return test_report();
}
