/* threadsafe.c - loop threads and run_coroutine_threadsafe.
 *
 * An xtask is shared by the submitting side and the target loop; its mutex
 * guards the result and the awaiter. References: the caller's, the wrapper
 * task's (dropped when it finishes, or by the check callback when it never
 * started), one per callback in flight.
 *
 * Why a check callback: a task the loop cancels before it ever ran finishes
 * without running its function (that is what cio_loop_close() does to the
 * tasks it finds), and the core offers no public "task finished" callback.
 * So after spawning the wrapper, a callback looks every loop turn until the
 * wrapper has started or finished; normally it has started by the next turn.
 *
 * Why a mutex held while posting: the target loop cannot finish closing
 * while the xtask is not done (the wrapper, the check callback, or the start
 * callback is still pending there), and completing it needs the mutex; so a
 * thread holding the mutex of an unfinished xtask may still call into the
 * loop.
 */
#include "cio/threadsafe.h"
#include "xwait.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

/* ---- loop threads ---- */

struct cio_loop_thread {
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  cio_loop *loop;
  cio_loop_opts opts;
  bool has_opts;
  bool ready;       /* under mu */
  int err;          /* under mu */
  bool stop_posted; /* under mu */
  bool joined;      /* the owner's: stopped and joined */
  bool running;     /* loop thread only */
  bool stopping;    /* loop thread only */
};

static void lt_stop_cb(void *arg) {
  cio_loop_thread *lt = arg;
  lt->stopping = true;
  if (lt->running) cio_loop_stop(lt->loop);
}

static void *lt_main(void *arg) {
  cio_loop_thread *lt = arg;
  cio_loop *loop = cio_loop_new(lt->has_opts ? &lt->opts : NULL);
  pthread_mutex_lock(&lt->mu);
  lt->loop = loop;
  lt->err = loop ? 0 : errno;
  lt->ready = true;
  pthread_cond_broadcast(&lt->cv);
  pthread_mutex_unlock(&lt->mu);
  if (!loop) return NULL;
  while (!lt->stopping) {
    lt->running = true;
    cio_loop_run_forever(loop);
    lt->running = false;
  }
  /* The stopper may still be inside cio_call_soon_threadsafe(), which
   * touches the loop after queuing: close only once it has returned. */
  pthread_mutex_lock(&lt->mu);
  while (!lt->stop_posted) pthread_cond_wait(&lt->cv, &lt->mu);
  pthread_mutex_unlock(&lt->mu);
  cio_loop_free(loop);
  return NULL;
}

static void lt_destroy(cio_loop_thread *lt) {
  pthread_cond_destroy(&lt->cv);
  pthread_mutex_destroy(&lt->mu);
  cio__free(lt);
}

cio_loop_thread *cio_loop_thread_start(const cio_loop_opts *opts) {
  cio_loop_thread *lt = cio__calloc(1, sizeof *lt);
  if (!lt) {
    errno = ENOMEM;
    return NULL;
  }
  if (opts) {
    lt->opts = *opts;
    lt->has_opts = true;
  }
  pthread_mutex_init(&lt->mu, NULL);
  pthread_cond_init(&lt->cv, NULL);
  int err = pthread_create(&lt->th, NULL, lt_main, lt);
  if (err) {
    lt_destroy(lt);
    errno = err;
    return NULL;
  }
  pthread_mutex_lock(&lt->mu);
  while (!lt->ready) pthread_cond_wait(&lt->cv, &lt->mu);
  err = lt->err;
  pthread_mutex_unlock(&lt->mu);
  if (err) {
    pthread_join(lt->th, NULL);
    lt_destroy(lt);
    errno = err;
    return NULL;
  }
  return lt;
}

cio_loop *cio_loop_thread_loop(const cio_loop_thread *lt) { return lt->loop; }

int cio_loop_thread_stop(cio_loop_thread *lt) {
  if (!lt) return -EINVAL;
  if (lt->joined) return 0;
  if (cio_loop_current() == lt->loop) return -EDEADLK;
  /* Only this call closes the loop, so it is still open here. */
  int r;
  while ((r = cio_call_soon_threadsafe(lt->loop, lt_stop_cb, lt)) == -ENOMEM) {
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  pthread_mutex_lock(&lt->mu);
  lt->stop_posted = true;
  pthread_cond_broadcast(&lt->cv);
  pthread_mutex_unlock(&lt->mu);
  pthread_join(lt->th, NULL);
  lt->joined = true;
  lt->loop = NULL;
  return 0;
}

void cio_loop_thread_free(cio_loop_thread *lt) {
  if (!lt || cio_loop_thread_stop(lt) < 0) return;
  lt_destroy(lt);
}

/* ---- run_coroutine_threadsafe ---- */

struct cio_xtask {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  atomic_int refs;
  cio_loop *loop;
  cio_task_fn fn;
  void *arg;
  /* target loop thread only */
  cio_task *spawned; /* the wrapper's handle, until it started or finished */
  cio_task *running; /* the wrapper while it runs */
  bool started;
  bool cancel_req;
  /* under mu */
  bool done;
  int status;
  cio__xwait *awaiter;
};

static void xt_ref(cio_xtask *x) { atomic_fetch_add_explicit(&x->refs, 1, memory_order_relaxed); }

static void xt_unref(cio_xtask *x) {
  if (atomic_fetch_sub_explicit(&x->refs, 1, memory_order_acq_rel) != 1) return;
  pthread_cond_destroy(&x->cv);
  pthread_mutex_destroy(&x->mu);
  cio__free(x);
}

static void xt_complete(cio_xtask *x, int status) {
  pthread_mutex_lock(&x->mu);
  if (!x->done) {
    x->done = true;
    x->status = status;
    pthread_cond_broadcast(&x->cv);
    if (x->awaiter) cio__xwait_post(x->awaiter, status);
  }
  pthread_mutex_unlock(&x->mu);
}

static int xt_body(void *arg) {
  cio_xtask *x = arg;
  x->started = true;
  x->running = cio_current();
  int r = x->cancel_req ? -ECANCELED : x->fn(x->arg);
  x->running = NULL;
  xt_complete(x, r);
  xt_unref(x);
  /* The status travels through x; the wrapper is detached, so returning it
   * here would have debug mode report every failure twice. */
  return 0;
}

static void xt_check(void *arg) {
  cio_xtask *x = arg;
  if (!x->started && !cio_task_done(x->spawned)) {
    /* run_soon popped us, so the ring has room: this cannot fail. */
    if (cio_call_soon(cio_loop_current(), xt_check, x) == 0) return;
    cio_detach(x->spawned);
    x->spawned = NULL;
    xt_unref(x);
    return;
  }
  if (!x->started) {
    /* Finished without running: cancelled by the loop's close (or no
     * stack could be had). */
    int st = cio_task_status(x->spawned);
    xt_complete(x, st == -ECANCELED ? -ESHUTDOWN : st);
    xt_unref(x); /* the wrapper's */
  }
  cio_detach(x->spawned);
  x->spawned = NULL;
  xt_unref(x);
}

static void xt_start(void *arg) {
  cio_xtask *x = arg;
  cio_task *t = cio_spawn(xt_body, x);
  if (!t) {
    /* ESHUTDOWN when the loop is closing: then no callback queued now
     * would run, so none is. */
    xt_complete(x, -errno);
    xt_unref(x); /* the wrapper's */
    return;
  }
  x->spawned = t;
  xt_ref(x);
  if (cio_call_soon(cio_loop_current(), xt_check, x) < 0) {
    /* Out of memory: unwatched, a wrapper the loop cancels before it
     * starts would leave x pending. */
    cio_detach(t);
    x->spawned = NULL;
    xt_unref(x);
  }
}

static void xt_cancel_cb(void *arg) {
  cio_xtask *x = arg;
  if (x->running)
    cio_task_cancel(x->running);
  else if (!x->started)
    x->cancel_req = true;
  xt_unref(x);
}

cio_xtask *cio_run_coroutine_threadsafe(cio_loop *loop, cio_task_fn fn, void *arg) {
  if (!loop || !fn) {
    errno = EINVAL;
    return NULL;
  }
  cio_xtask *x = cio__calloc(1, sizeof *x);
  if (!x) {
    errno = ENOMEM;
    return NULL;
  }
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_mutex_init(&x->mu, NULL);
  pthread_cond_init(&x->cv, &ca);
  pthread_condattr_destroy(&ca);
  atomic_init(&x->refs, 2); /* the caller's and the wrapper's */
  x->loop = loop;
  x->fn = fn;
  x->arg = arg;
  x->status = -EINPROGRESS;
  int r = cio_call_soon_threadsafe(loop, xt_start, x);
  if (r < 0) {
    xt_unref(x);
    xt_unref(x);
    errno = -r;
    return NULL;
  }
  return x;
}

int cio_xtask_wait(cio_xtask *x, double timeout) {
  if (!x) return -EINVAL;
  pthread_mutex_lock(&x->mu);
  if (!x->done && cio_loop_current() == x->loop) {
    pthread_mutex_unlock(&x->mu);
    return -EDEADLK;
  }
  struct timespec deadline;
  if (timeout >= 0) {
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    double s = (double)deadline.tv_sec + (double)deadline.tv_nsec / 1e9 + timeout;
    deadline.tv_sec = (time_t)s;
    deadline.tv_nsec = (long)((s - (double)deadline.tv_sec) * 1e9);
    if (deadline.tv_nsec >= 1000000000) deadline.tv_nsec = 999999999;
  }
  while (!x->done) {
    if (timeout < 0) {
      pthread_cond_wait(&x->cv, &x->mu);
    } else if (pthread_cond_timedwait(&x->cv, &x->mu, &deadline) == ETIMEDOUT && !x->done) {
      pthread_mutex_unlock(&x->mu);
      return -ETIMEDOUT;
    }
  }
  int st = x->status;
  pthread_mutex_unlock(&x->mu);
  return st;
}

static void xwait_free(cio__xwait *w) { cio__free(w); }
static void xwait_keep(cio__xwait *w) { (void)w; }

/* Register w as x's awaiter and suspend. Returns x's status, -EBUSY, or
 * the interruption (-ECANCELED / -ETIMEDOUT) with *interrupted set; w's
 * references are settled either way. */
static int await_once(cio_xtask *x, cio__xwait *w, bool *interrupted) {
  *interrupted = false;
  pthread_mutex_lock(&x->mu);
  if (x->done || x->awaiter) {
    int st = x->done ? x->status : -EBUSY;
    pthread_mutex_unlock(&x->mu);
    cio__xwait_unref(w);
    return st;
  }
  x->awaiter = w;
  cio__xwait_ref(w); /* x's */
  pthread_mutex_unlock(&x->mu);

  int r = cio__xwait_suspend(w, "xtask");
  pthread_mutex_lock(&x->mu);
  if (r == 0)
    r = w->status;
  else
    *interrupted = !cio__xwait_leave(w); /* not posted meanwhile */
  x->awaiter = NULL;
  pthread_mutex_unlock(&x->mu);
  cio__xwait_unref(w); /* x's */
  cio__xwait_unref(w);
  return r;
}

int cio_xtask_await(cio_xtask *x) {
  if (!x) return -EINVAL;
  if (!cio_current()) return -EPERM;
  /* On the heap: a post racing with an interruption queues a wake-up
   * callback that may run after we have returned. */
  cio__xwait *w = cio__malloc(sizeof *w);
  if (!w) return -ENOMEM;
  cio__xwait_init(w, xwait_free);
  bool interrupted;
  int r = await_once(x, w, &interrupted);
  if (!interrupted) return r;
  /* As cio_await(): cancel the remote task and wait, shielded, until it
   * has finished - its arg may live on our stack. Inside the shield only a
   * post ends the wait, and the wake-up callback has run by the time the
   * task resumes, so the record can live on our stack. */
  cio_xtask_cancel(x);
  cio_shield_scope sh;
  cio_shield_begin(&sh);
  while (!cio_xtask_done(x)) {
    cio__xwait last;
    cio__xwait_init(&last, xwait_keep);
    bool again;
    if (await_once(x, &last, &again) == -EBUSY && !cio_xtask_done(x))
      cio_sleep(0.001); /* a task of another loop awaits x too: look again */
  }
  cio_shield_end(&sh);
  return r;
}

int cio_xtask_cancel(cio_xtask *x) {
  if (!x) return -EINVAL;
  pthread_mutex_lock(&x->mu);
  if (x->done) {
    pthread_mutex_unlock(&x->mu);
    return 0;
  }
  xt_ref(x);
  int r = cio_call_soon_threadsafe(x->loop, xt_cancel_cb, x);
  if (r < 0)
    atomic_fetch_sub_explicit(&x->refs, 1, memory_order_relaxed); /* the caller holds one */
  pthread_mutex_unlock(&x->mu);
  return r < 0 ? r : 1;
}

int cio_xtask_done(cio_xtask *x) {
  pthread_mutex_lock(&x->mu);
  int d = x->done;
  pthread_mutex_unlock(&x->mu);
  return d;
}

int cio_xtask_status(cio_xtask *x) {
  pthread_mutex_lock(&x->mu);
  int st = x->status;
  pthread_mutex_unlock(&x->mu);
  return st;
}

void cio_xtask_free(cio_xtask *x) {
  if (x) xt_unref(x);
}
