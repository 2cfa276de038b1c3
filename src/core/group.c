/* group.c - task groups: structured concurrency with first-failure
 * cancellation (asyncio.TaskGroup). */
#include "internal.h"

#include <stdlib.h>

typedef struct gchild {
  cio__watch w;
  cio_group *g;
  cio_task *t;
} gchild;

struct cio_group {
  cio_task *owner;
  gchild **kids;
  size_t n, cap;
  size_t running;
  int first_err;
  bool waiting; /* the owner is inside cio_group_wait */
  bool parked;
  bool waited; /* cio_group_wait has returned */
  bool cancelled_owner;
  unsigned owner_ncancel; /* owner's cancellation count when the group began */
};

static void cancel_running(cio_group *g, cio_task *except) {
  for (size_t i = 0; i < g->n; i++)
    if (g->kids[i]->t != except) cio_task_cancel(g->kids[i]->t);
}

static void child_done(cio__watch *w, cio_task *t) {
  gchild *c = cio__container_of(w, gchild, w);
  cio_group *g = c->g;
  g->running--;
  if (t->status < 0 && t->status != -ECANCELED && !g->first_err) {
    g->first_err = t->status;
    cancel_running(g, t);
    /* Stop the owner's body too, unless it is already just waiting. */
    if (!g->waiting && g->owner->state != CIO_TASK_DONE && cio_task_cancel(g->owner))
      g->cancelled_owner = true;
  }
  if (g->parked && g->running == 0) cio__wake(g->owner, 0);
}

cio_group *cio_group_new(void) {
  cio_task *cur = cio__current();
  if (!cur) {
    errno = EPERM;
    return NULL;
  }
  cio_group *g = cio__calloc(1, sizeof *g);
  if (!g) {
    errno = ENOMEM;
    return NULL;
  }
  g->owner = cur;
  g->owner_ncancel = cur->ncancel;
  return g;
}

cio_task *cio_group_spawn(cio_group *g, cio_task_fn fn, void *arg, const cio_spawn_opts *opts) {
  if (g->waited) {
    errno = EINVAL;
    return NULL;
  }
  if (g->first_err) {
    errno = ESHUTDOWN;
    return NULL;
  }
  if (g->n == g->cap) {
    size_t cap = g->cap ? g->cap * 2 : 8;
    gchild **k = cio__realloc(g->kids, cap * sizeof *k);
    if (!k) {
      errno = ENOMEM;
      return NULL;
    }
    g->kids = k;
    g->cap = cap;
  }
  gchild *c = cio__malloc(sizeof *c);
  if (!c) {
    errno = ENOMEM;
    return NULL;
  }
  cio_task *t = cio_spawn_on(g->owner->loop, fn, arg, opts);
  if (!t) {
    cio__free(c);
    return NULL;
  }
  c->g = g;
  c->t = t;
  t->awaited = true;
  cio__watch_add(t, &c->w, child_done);
  g->kids[g->n++] = c;
  g->running++;
  return t;
}

void cio_group_cancel(cio_group *g) { cancel_running(g, NULL); }

int cio_group_wait(cio_group *g) {
  cio_task *cur = cio__current();
  if (cur != g->owner) return -EPERM;
  if (g->waited) return -EINVAL;
  g->waiting = true;
  if (g->cancelled_owner) {
    /* Take back the cancellation the group itself sent (asyncio's uncancel),
     * unless someone else cancelled the owner as well. */
    if (cio_task_uncancel(cur) == g->owner_ncancel) cio__cancel_withdraw(cur);
    g->cancelled_owner = false;
  }
  /* Cancelled from outside while in the body (the body then came here to
   * clean up): take the children down and report it. */
  /* (Inside a shield the cancellation stays pending: not ours to take.) */
  int ext = !cur->shield && cur->ncancel > g->owner_ncancel ? -ECANCELED : 0;
  if (ext) {
    cur->cancel_pending = false; /* delivered by this return */
    cancel_running(g, NULL);
    for (size_t i = 0; i < g->n; i++) cio__await_done(g->kids[i]->t);
  }
  while (g->running) {
    g->parked = true;
    int r = cio__park(cur, "task group", CIO__PARK_INTR);
    g->parked = false;
    if (r < 0) {
      ext = r;
      cancel_running(g, NULL);
      for (size_t i = 0; i < g->n; i++) cio__await_done(g->kids[i]->t);
    }
  }
  g->waited = true;
  return ext ? ext : g->first_err;
}

size_t cio_group_size(const cio_group *g) { return g->n; }

cio_task *cio_group_task(const cio_group *g, size_t i) { return i < g->n ? g->kids[i]->t : NULL; }

void cio_group_free(cio_group *g) {
  if (!g) return;
  for (size_t i = 0; i < g->n; i++) {
    gchild *c = g->kids[i];
    cio__watch_remove(&c->w);
    cio_task_cancel(c->t);
    cio_detach(c->t);
    cio__free(c);
  }
  cio__free(g->kids);
  cio__free(g);
}
