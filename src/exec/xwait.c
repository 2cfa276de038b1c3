/* xwait.c - waking a waiting task from another thread. See xwait.h. */
#include "xwait.h"

#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int cio__xwait_init(cio__xwait *w, void (*destroy)(cio__xwait *w)) {
  cio_task *t = cio_current();
  if (!t) return -EPERM;
  w->loop = cio_loop_current();
  w->task = t;
  w->state = CIO__XW_WAITING;
  w->status = 0;
  w->delivered = false;
  atomic_init(&w->refs, 1);
  w->destroy = destroy;
  return 0;
}

void cio__xwait_ref(cio__xwait *w) { atomic_fetch_add_explicit(&w->refs, 1, memory_order_relaxed); }

void cio__xwait_unref(cio__xwait *w) {
  if (atomic_fetch_sub_explicit(&w->refs, 1, memory_order_acq_rel) == 1) w->destroy(w);
}

static void deliver(void *arg) {
  cio__xwait *w = arg;
  w->delivered = true;
  if (w->task) cio_task_wake(w->task, 0);
  cio__xwait_unref(w);
}

int cio__xwait_post(cio__xwait *w, int status) {
  if (w->state != CIO__XW_WAITING) return 0;
  w->state = CIO__XW_DONE;
  w->status = status;
  cio__xwait_ref(w);
  int r;
  /* A waiting task pins its loop, so only a failed allocation can refuse
   * the call; the task must be woken, so wait for memory. */
  while ((r = cio_call_soon_threadsafe(w->loop, deliver, w)) == -ENOMEM) {
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  if (r < 0) atomic_fetch_sub_explicit(&w->refs, 1, memory_order_relaxed); /* not ours to free */
  return 1;
}

int cio__xwait_suspend(cio__xwait *w, const char *what) {
  /* Only deliver() ends the wait with 0: a stray cio_task_wake() on this
   * task (someone's stale registration) must not pass for a completion. */
  int r;
  do r = cio_suspend(what);
  while (r == 0 && !w->delivered);
  w->task = NULL;
  return r;
}

int cio__xwait_leave(cio__xwait *w) {
  if (w->state == CIO__XW_DONE) return 1;
  w->state = CIO__XW_GONE;
  return 0;
}

int cio__exec_ncpu(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}
