/* gen.c - generators: a task handing values to a consumer one at a time.
 *
 * Two tasks and a one-slot hand-off. The consumer asks (want), wakes the
 * generator if it is parked waiting for a request, and parks until a value
 * is in the slot or the generator has finished. The generator fills the
 * slot, wakes the consumer if it is parked, and parks until asked again. A
 * consumer that stops waiting (cancelled, timed out) simply leaves: the
 * generator fills the slot anyway, and the next request finds it full.
 * Closing cancels the generator's task and waits for it, like the unwinding
 * half of cio_await().
 */
#include "internal.h"

#include <stdlib.h>

struct cio_gen {
  cio_task *task;     /* the generator's task (our handle) */
  cio_task *consumer; /* parked in cio_gen_next, or NULL */
  cio_gen_fn fn;
  void *arg;
  void *value;
  bool full;   /* value holds a yielded value not yet taken */
  bool want;   /* the consumer asked for a value */
  bool parked; /* the generator waits for a request */
  bool closing;
  bool freed;      /* cio_gen_free was called: the memory goes once the
                      task has finished and no consumer is inside next */
  cio__watch done; /* wakes the consumer when the generator finishes */
};

/* Release g if it was freed and nothing refers to it any more. */
static void gen_release(cio_gen *g) {
  if (!g->freed || g->consumer || g->task->state != CIO_TASK_DONE) return;
  cio__watch_remove(&g->done);
  cio_task_release(g->task);
  cio__free(g);
}

static void gen_done(cio__watch *w, cio_task *t) {
  (void)t;
  cio_gen *g = cio__container_of(w, cio_gen, done);
  if (g->consumer) cio__wake(g->consumer, 0);
  /* Finishing context: the task is freed by the loop after this, and the
   * handle dropped here is only one of its references. */
  gen_release(g);
}

/* Generator side: park until the consumer wants a value or we are closed. */
static int wait_request(cio_gen *g, cio_task *self, const char *what) {
  while (!g->want) {
    if (g->closing) return -ECANCELED;
    g->parked = true;
    int r = cio__park(self, what, CIO__PARK_INTR);
    g->parked = false;
    if (r < 0) return r;
  }
  return 0;
}

static int gen_main(void *arg) {
  cio_gen *g = arg;
  int r = wait_request(g, g->task, "generator start");
  return r < 0 ? r : g->fn(g, g->arg);
}

cio_gen *cio_gen_new(cio_gen_fn fn, void *arg, const cio_spawn_opts *opts) {
  if (!fn) {
    errno = EINVAL;
    return NULL;
  }
  cio_gen *g = cio__calloc(1, sizeof *g);
  if (!g) {
    errno = ENOMEM;
    return NULL;
  }
  g->fn = fn;
  g->arg = arg;
  cio__list_init(&g->done.link);
  g->task = cio_spawn_ex(gen_main, g, opts);
  if (!g->task) {
    int err = errno;
    cio__free(g);
    errno = err;
    return NULL;
  }
  /* Its status is read through next/close: not a task to report unawaited. */
  g->task->awaited = true;
  cio__watch_add(g->task, &g->done, gen_done);
  return g;
}

cio_task *cio_gen_task(const cio_gen *g) { return g ? g->task : NULL; }

int cio_gen_yield(cio_gen *g, void *value) {
  cio_task *cur = cio__current();
  if (!g || !cur || cur != g->task) return -EPERM;
  int r = cio__checkpoint(cur);
  if (r < 0) return r;
  if (g->closing) return -ECANCELED;
  g->value = value;
  g->full = true;
  g->want = false;
  if (g->consumer) cio__wake(g->consumer, 0);
  return wait_request(g, cur, "generator yield");
}

int cio_gen_next(cio_gen *g, void **value) {
  cio_task *cur = cio__current();
  if (!cur) return -EPERM;
  if (!g) return -EINVAL;
  if (cur == g->task) return -EDEADLK;
  if (g->consumer) return -EBUSY;
  int r = cio__checkpoint(cur);
  while (r == 0) {
    if (g->full) {
      g->full = false;
      if (value) *value = g->value;
      g->value = NULL;
      return 1;
    }
    if (g->task->state == CIO_TASK_DONE) return g->task->status < 0 ? g->task->status : 0;
    g->want = true;
    if (g->parked) cio__wake(g->task, 0);
    g->consumer = cur;
    r = cio__park(cur, "generator next", CIO__PARK_INTR);
    g->consumer = NULL;
    if (g->freed) { /* freed while we waited: woken with -EBADF */
      gen_release(g);
      return -EBADF;
    }
  }
  return r;
}

int cio_gen_close(cio_gen *g) {
  if (!g) return 0;
  cio_task *cur = cio__current();
  cio_task *t = g->task;
  if (cur == t) return -EDEADLK;
  if (g->consumer) return -EBUSY;
  if (t->state != CIO_TASK_DONE) {
    g->closing = true;
    cio_task_cancel(t);
    if (!cur) return -EINPROGRESS; /* a callback cannot wait */
    cio__await_done(t);
  }
  int st = t->status;
  return st == -ECANCELED || st > 0 ? 0 : st;
}

void cio_gen_free(cio_gen *g) {
  if (!g) return;
  g->freed = true;
  if (g->task->state != CIO_TASK_DONE) {
    g->closing = true;
    cio_task_cancel(g->task);
  }
  if (g->consumer) cio__wake(g->consumer, -EBADF);
  gen_release(g);
}
