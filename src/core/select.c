/* select.c - cio_select, and the cases that belong to no other object
 * (timers, tasks).
 *
 * Each case is armed by leaving a node on its object's wait list whose wake
 * code is the case's number (index + 1). The objects serve waiters exactly
 * as for a plain wait - hand-over first, then wake - and skip a task that
 * is no longer WAITING: so once one case has woken the task, no other case
 * can hand it anything, and exactly one case completes. */
#include "internal.h"

#include <string.h>

/* ---- the case's private area ---- */

cio__waiter *cio__case_waiter(cio_case *c) {
  _Static_assert(sizeof(cio__waiter) <= sizeof c->priv, "cio_case.priv too small");
  return (cio__waiter *)(void *)c->priv;
}

/* Arm: leave the case's node on a wait list. */
int cio__case_arm_list(cio_case *c, cio__link *list, cio_task *t, int code) {
  cio__waiter *w = cio__case_waiter(c);
  w->task = t;
  w->code = code;
  w->status = 0;
  cio__list_push_back(list, &w->link);
  return 0;
}

void cio__case_disarm_list(cio_case *c) {
  cio__waiter *w = cio__case_waiter(c);
  /* Served or aborted nodes were unlinked by the object; interrupted ones
   * are still on the list (or detached by a free): both are harmless. */
  if (w->link.next) cio__list_remove(&w->link);
}

int cio__case_finish_list(cio_case *c) {
  c->status = cio__case_waiter(c)->status;
  return 0;
}

/* ---- after ---- */

typedef struct after_node {
  cio__tnode n;
  cio_task *task;
  int code;
  int64_t deadline;
} after_node;

static after_node *after_of(cio_case *c) {
  _Static_assert(sizeof(after_node) <= sizeof c->priv, "cio_case.priv too small");
  return (after_node *)(void *)c->priv;
}

static void after_fire(cio__tnode *n) {
  after_node *a = cio__container_of(n, after_node, n);
  cio__wake_first(a->task, a->code);
}

static int after_try(cio_case *c) {
  after_node *a = after_of(c);
  return a->deadline != CIO__NEVER && a->deadline <= cio__clock_ns();
}

static int after_arm(cio_case *c, cio_task *t, int code) {
  after_node *a = after_of(c);
  if (a->deadline == CIO__NEVER) return 0;
  cio__tnode_init(&a->n, after_fire);
  a->task = t;
  a->code = code;
  return cio__theap_push(&t->loop->timers, &a->n, a->deadline);
}

static void after_disarm(cio_case *c) {
  after_node *a = after_of(c);
  if (a->deadline != CIO__NEVER && a->task) cio__theap_remove(&a->task->loop->timers, &a->n);
}

static int after_finish(cio_case *c) {
  c->status = 0;
  return 0;
}

static const cio_case_ops after_ops = {after_try, after_arm, after_disarm, after_finish};

cio_case cio_case_after(double seconds) {
  cio_case c;
  memset(&c, 0, sizeof c);
  c.ops = &after_ops;
  c.seconds = seconds;
  /* The deadline is fixed by cio_select (from when it begins). */
  return c;
}

/* ---- task done ---- */

typedef struct task_node {
  cio__watch w;
  cio_task *waiter;
  int code;
} task_node;

static task_node *task_of(cio_case *c) {
  _Static_assert(sizeof(task_node) <= sizeof c->priv, "cio_case.priv too small");
  return (task_node *)(void *)c->priv;
}

static void task_fire(cio__watch *w, cio_task *done) {
  (void)done;
  task_node *n = cio__container_of(w, task_node, w);
  cio__wake(n->waiter, n->code);
}

static int task_try(cio_case *c) {
  cio_task *t = c->obj;
  if (t->loop != cio__tls_loop) return c->status = -EINVAL;
  if (t == cio__current()) return c->status = -EDEADLK;
  return t->state == CIO_TASK_DONE;
}

static int task_arm(cio_case *c, cio_task *t, int code) {
  task_node *n = task_of(c);
  n->waiter = t;
  n->code = code;
  cio__watch_add(c->obj, &n->w, task_fire);
  return 0;
}

static void task_disarm(cio_case *c) {
  task_node *n = task_of(c);
  if (n->w.link.next) cio__watch_remove(&n->w);
}

static int task_finish(cio_case *c) {
  ((cio_task *)c->obj)->awaited = true;
  c->status = 0;
  return 0;
}

static const cio_case_ops task_ops = {task_try, task_arm, task_disarm, task_finish};

cio_case cio_case_task(cio_task *t) {
  cio_case c;
  memset(&c, 0, sizeof c);
  c.ops = &task_ops;
  c.obj = t;
  return c;
}

/* ---- select ---- */

static void disarm_all(cio_case *cases, size_t n) {
  for (size_t i = 0; i < n; i++) cases[i].ops->disarm(&cases[i]);
}

/* A case ready (or failing) without waiting: its index, or -1. */
static ssize_t first_ready(cio_case *cases, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int r = cases[i].ops->try_now(&cases[i]);
    if (r == 1) return (ssize_t)i;
    if (r < 0) {
      cases[i].status = r;
      return (ssize_t)i;
    }
  }
  return -1;
}

/* Arm every case. Returns -1 when all are armed, else the index of the
 * case whose arm failed (its status set) or found it ready (*ready set):
 * then the cases before it are disarmed again. */
static ssize_t arm_all(cio_case *cases, size_t n, cio_task *t, bool *ready) {
  for (size_t k = 0; k < n; k++) {
    int r = cases[k].ops->arm(&cases[k], t, (int)k + 1);
    if (r == 0) continue;
    disarm_all(cases, k);
    if (r < 0)
      cases[k].status = r;
    else
      *ready = true; /* nothing armed: finish it as if it had woken us */
    return (ssize_t)k;
  }
  return -1;
}

ssize_t cio_select(cio_case *cases, size_t n) {
  cio_task *t = cio__current();
  if (!t) return -EPERM;
  if (!cases || n == 0 || n > INT32_MAX - 1) return -EINVAL;
  for (size_t i = 0; i < n; i++) {
    if (!cases[i].ops) return -EINVAL;
    cases[i].status = 0;
    memset(cases[i].priv, 0, sizeof cases[i].priv);
    if (cases[i].ops == &after_ops)
      after_of(&cases[i])->deadline =
          cases[i].seconds < 0 ? CIO__NEVER : cio__deadline_in(cases[i].seconds);
  }
  int r = cio__checkpoint(t);
  if (r < 0) return r;
  for (;;) {
    ssize_t i = first_ready(cases, n);
    if (i >= 0) return i;
    bool ready = false;
    i = arm_all(cases, n, t, &ready);
    if (i >= 0 && !ready) return i; /* an arm failed: that case's outcome */
    if (i < 0) {
      t->user_suspend = true; /* cases of other layers wake with cio_task_wake */
      r = cio__park(t, "select", CIO__PARK_INTR);
      t->user_suspend = false;
      disarm_all(cases, n);
      if (r <= 0) return r < 0 ? r : -EINVAL; /* interrupted: nothing completed */
      i = r - 1;
      if (i >= (ssize_t)n) return -EINVAL;
    }
    if (cases[i].ops->finish(&cases[i]) == 0) return i;
    /* A stale readiness: look again, then wait again. */
    r = cio__checkpoint(t);
    if (r < 0) return r;
  }
}
