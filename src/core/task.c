/* task.c - the public task API: spawn, await, cancel, queries, handles,
 * sleep, and the suspend/wake building blocks. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static void sleep_fire(cio__tnode *n) {
  cio__wake_first(cio__container_of(n, cio_task, sleep_timer), 0);
}

static void set_autoname(cio_task *t) {
  char digits[21], *q = digits + sizeof digits;
  uint64_t v = t->id;
  *--q = '\0';
  do {
    *--q = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  memcpy(t->autoname, "task-", 5);
  memcpy(t->autoname + 5, q, (size_t)(digits + sizeof digits - q));
  t->name = t->autoname;
}

/* A new task; with extra > 0, that many bytes of argument storage follow
 * it and arg is copied there (cio_spawn_copy). */
static cio_task *spawn(cio_loop *loop, cio_task_fn fn, const void *arg, size_t extra,
                       const cio_spawn_opts *opts) {
  if (!loop) {
    errno = ENOENT;
    return NULL;
  }
  if (!fn || loop != cio__tls_loop) {
    errno = EINVAL;
    return NULL;
  }
  if (loop->closing) {
    errno = ESHUTDOWN;
    return NULL;
  }
  /* The copy starts on a max_align_t boundary after the task. */
  size_t head = (sizeof(cio_task) + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);
  if (extra > SIZE_MAX - head) {
    errno = ENOMEM;
    return NULL;
  }
  cio_task *t = cio__calloc(1, extra ? head + extra : sizeof *t);
  if (!t) {
    errno = ENOMEM;
    return NULL;
  }
  t->loop = loop;
  t->fn = fn;
  if (extra) {
    t->arg = (char *)t + head;
    memcpy(t->arg, arg, extra);
  } else {
    t->arg = (void *)(uintptr_t)arg;
  }
  t->daemon = opts && opts->daemon;
  t->id = loop->next_id++;
  t->refs = 2; /* the caller's handle + the loop's, dropped when it finishes */
  t->hrefs = 1;
  t->state = CIO_TASK_READY;
  t->stack_size =
      opts && opts->stack_size ? cio__stack_round(opts->stack_size) : loop->default_stack;
  if (opts && opts->name) {
    t->name = cio__strdup(opts->name);
    if (!t->name) {
      cio__free(t);
      errno = ENOMEM;
      return NULL;
    }
  } else {
    set_autoname(t);
  }
  cio__list_init(&t->watchers);
  cio__tnode_init(&t->sleep_timer, sleep_fire);
  cio__list_push_back(&loop->tasks, &t->live);
  loop->ntasks++;
  loop->ndaemon += t->daemon;
  cio__ready_push(loop, t);
  return t;
}

cio_task *cio_spawn_on(cio_loop *loop, cio_task_fn fn, void *arg, const cio_spawn_opts *opts) {
  return spawn(loop, fn, arg, 0, opts);
}

cio_task *cio_spawn_copy(cio_task_fn fn, const void *arg, size_t size, const cio_spawn_opts *opts) {
  if (size && !arg) {
    errno = EINVAL;
    return NULL;
  }
  return spawn(cio__tls_loop, fn, arg, size, opts);
}

cio_task *cio_spawn_ex(cio_task_fn fn, void *arg, const cio_spawn_opts *opts) {
  return cio_spawn_on(cio__tls_loop, fn, arg, opts);
}

cio_task *cio_spawn(cio_task_fn fn, void *arg) {
  return cio_spawn_on(cio__tls_loop, fn, arg, NULL);
}

void cio__task_unref(cio_task *t) {
  if (--t->refs > 0) return;
  if (t->name != t->autoname) cio__free(t->name);
  cio__free(t);
}

cio_task *cio_task_ref(cio_task *t) {
  t->refs++;
  t->hrefs++;
  return t;
}

void cio_task_release(cio_task *t) {
  if (!t) return;
  if (--t->hrefs == 0 && !t->awaited && !t->detached) cio__debug_handle_gone(t);
  cio__task_unref(t);
}

void cio_detach(cio_task *t) {
  if (!t) return;
  t->detached = true;
  t->hrefs--;
  if (t->state == CIO_TASK_DONE && cio__status_is_failure(t->status) && !t->awaited)
    cio__debug_task_failed_detached(t);
  cio__task_unref(t);
}

/* ---- await ---- */

typedef struct await_node {
  cio__watch w;
  cio_task *waiter;
} await_node;

static void await_fire(cio__watch *w, cio_task *done) {
  (void)done;
  cio__wake(cio__container_of(w, await_node, w)->waiter, 0);
}

void cio__await_done(cio_task *t) {
  cio_task *cur = cio__current();
  while (t->state != CIO_TASK_DONE) {
    await_node n = {.waiter = cur};
    cio__watch_add(t, &n.w, await_fire);
    cio__park(cur, "await (unwinding)", CIO__PARK_NOINTR);
    cio__watch_remove(&n.w);
  }
}

/* Await t; on interruption either take t down with us (cio_await) or leave
 * it running (cio_shield). */
static int await_task(cio_task *t, bool cancel_on_interrupt) {
  cio_task *cur = cio__current();
  if (!cur) return -EPERM;
  if (!t || t->loop != cur->loop) return -EINVAL;
  if (t == cur) return -EDEADLK;
  t->awaited = true;
  int r = cio__checkpoint(cur);
  while (r == 0 && t->state != CIO_TASK_DONE) {
    await_node n = {.waiter = cur};
    cio__watch_add(t, &n.w, await_fire);
    r = cio__park(cur, "await", CIO__PARK_INTR);
    cio__watch_remove(&n.w);
    if (r < 0) break;
  }
  if (r == 0) return t->status;
  if (cancel_on_interrupt) {
    cio_task_cancel(t);
    cio__await_done(t);
  }
  return r;
}

int cio_await(cio_task *t) { return await_task(t, true); }
int cio_shield(cio_task *t) { return await_task(t, false); }

/* ---- cancellation, queries ---- */

int cio_set_result(void *value) {
  cio_task *t = cio__current();
  if (!t) return -EPERM;
  t->result.p = value;
  return 0;
}

int cio_set_result_int(int64_t value) {
  cio_task *t = cio__current();
  if (!t) return -EPERM;
  t->result.i = value;
  return 0;
}

void *cio_task_result(const cio_task *t) { return t->result.p; }
int64_t cio_task_result_int(const cio_task *t) { return t->result.i; }

int cio_task_done(const cio_task *t) { return t->state == CIO_TASK_DONE; }
int cio_task_cancelled(const cio_task *t) {
  return t->state == CIO_TASK_DONE && t->status == -ECANCELED;
}
int cio_task_status(const cio_task *t) {
  if (t->state != CIO_TASK_DONE) return -EINPROGRESS;
  /* Reading the final status counts as awaiting, for the debug reports. */
  ((cio_task *)(uintptr_t)t)->awaited = true;
  return t->status;
}
cio_task_state cio_task_get_state(const cio_task *t) { return (cio_task_state)t->state; }
const char *cio_task_name(const cio_task *t) { return t->name; }
uint64_t cio_task_id(const cio_task *t) { return t->id; }
const char *cio_task_waiting_on(const cio_task *t) {
  return t->state == CIO_TASK_WAITING ? t->waiting_on : NULL;
}
cio_task *cio_current(void) { return cio__current(); }

/* ---- done callbacks ---- */

typedef struct done_cb {
  cio__watch w;
  cio_task *t;
  cio_task_done_fn fn;
  void *arg;
} done_cb;

static void done_cb_run(void *p) {
  done_cb *d = p;
  d->fn(d->t, d->arg);
  cio__task_unref(d->t);
  cio__free(d);
}

static void done_cb_fire(cio__watch *w, cio_task *t) {
  done_cb *d = cio__container_of(w, done_cb, w);
  if (cio_call_soon(t->loop, done_cb_run, d) < 0) done_cb_run(d); /* no memory: now */
}

int cio_task_add_done_callback(cio_task *t, cio_task_done_fn fn, void *arg) {
  if (!t || !fn) return -EINVAL;
  done_cb *d = cio__malloc(sizeof *d);
  if (!d) return -ENOMEM;
  *d = (done_cb){.t = cio_task_ref(t), .fn = fn, .arg = arg};
  cio__list_init(&d->w.link);
  if (t->state != CIO_TASK_DONE) {
    cio__watch_add(t, &d->w, done_cb_fire);
    return 0;
  }
  int r = cio_call_soon(t->loop, done_cb_run, d);
  if (r < 0) {
    cio__task_unref(t);
    cio__free(d);
  }
  return r;
}

/* ---- sleep, suspend ---- */

int cio_sleep(double seconds) {
  cio_task *t = cio__current();
  if (!t) return -EPERM;
  int64_t ns = cio__sec_to_ns(seconds);
  if (ns == 0) return cio_yield();
  int r = cio__checkpoint(t);
  if (r < 0) return r;
  if (cio__theap_push(&t->loop->timers, &t->sleep_timer, cio__deadline_in(seconds)) < 0)
    return -ENOMEM;
  r = cio__park(t, "sleep", CIO__PARK_INTR);
  if (r != 0) cio__theap_remove(&t->loop->timers, &t->sleep_timer);
  return r;
}

int cio_suspend(const char *what) {
  cio_task *t = cio__current();
  if (!t) return -EPERM;
  t->user_suspend = true;
  int r = cio__park(t, what ? what : "suspend", CIO__PARK_INTR);
  t->user_suspend = false;
  return r;
}

int cio_task_wake(cio_task *t, int code) {
  if (!t || t->state != CIO_TASK_WAITING || !t->user_suspend) return 0;
  return cio__wake_first(t, code); /* I/O readiness, callbacks: the outside */
}
