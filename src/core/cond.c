/* cond.c - asyncio.Condition over a cio_lock. */
#include "internal.h"

#include <stdlib.h>

int cio__lock_acquire(cio_lock *l, bool intr);
cio_task *cio__lock_owner(const cio_lock *l);

struct cio_cond {
  cio_lock *lock;
  bool own_lock;
  cio__link waiters;
};

cio_cond *cio_cond_new(cio_lock *lock) {
  cio_cond *c = cio__calloc(1, sizeof *c);
  if (!c) {
    errno = ENOMEM;
    return NULL;
  }
  if (!lock) {
    lock = cio_lock_new();
    if (!lock) {
      cio__free(c);
      errno = ENOMEM;
      return NULL;
    }
    c->own_lock = true;
  }
  c->lock = lock;
  cio__list_init(&c->waiters);
  return c;
}

void cio_cond_free(cio_cond *c) {
  if (!c) return;
  cio__waiters_abort(&c->waiters);
  if (c->own_lock) cio_lock_free(c->lock);
  cio__free(c);
}

cio_lock *cio_cond_lock(cio_cond *c) { return c->lock; }

int cio_cond_wait(cio_cond *c) {
  cio_task *cur = cio__current();
  if (!cur) return -EPERM;
  cio_lock *l = c->lock; /* c may be freed while an interrupted waiter is queued */
  bool own_lock = c->own_lock;
  if (cio_lock_release(l) < 0) return -EPERM; /* not held by the caller */
  cio__waiter w = {.task = cur};
  int r = cio__wait_on(&c->waiters, &w, "condition");
  /* Freed meanwhile: its own lock went with it; there is nothing to take. */
  if (r == -EBADF && own_lock) return r;
  /* Re-acquire whatever happened: the caller's cleanup runs under the lock.
   * -EBADF from it: a user's lock freed under us. */
  int lr = cio__lock_acquire(l, false);
  return lr == -EBADF ? lr : r;
}

int cio_cond_wait_for(cio_cond *c, int (*pred)(void *arg), void *arg) {
  cio_task *cur = cio__current();
  if (!cur || cio__lock_owner(c->lock) != cur) return -EPERM;
  while (!pred(arg)) {
    int r = cio_cond_wait(c);
    if (r < 0) return r;
  }
  return 0;
}

ssize_t cio_cond_notify(cio_cond *c, size_t n) {
  cio_task *cur = cio__current();
  if (!cur || cio__lock_owner(c->lock) != cur) return -EPERM;
  size_t woken = 0;
  cio__waiter *w;
  while (woken < n && (w = cio__waiters_pop_live(&c->waiters))) {
    cio__wake(w->task, w->code);
    woken++;
  }
  return (ssize_t)woken;
}

ssize_t cio_cond_notify_all(cio_cond *c) { return cio_cond_notify(c, SIZE_MAX); }
