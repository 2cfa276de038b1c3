/* lock.c - asyncio.Lock with FIFO hand-off. */
#include "internal.h"

#include <stdlib.h>

struct cio_lock {
  cio_task *owner;
  cio__link waiters;
};

cio_lock *cio_lock_new(void) {
  cio_lock *l = cio__calloc(1, sizeof *l);
  if (!l) {
    errno = ENOMEM;
    return NULL;
  }
  cio__list_init(&l->waiters);
  return l;
}

void cio_lock_free(cio_lock *l) {
  if (!l) return;
  cio__waiters_abort(&l->waiters);
  cio__free(l);
}

int cio_lock_try_acquire(cio_lock *l) {
  cio_task *cur = cio__current();
  if (!cur) return -EPERM;
  if (l->owner) return l->owner == cur ? -EDEADLK : -EAGAIN;
  l->owner = cur;
  return 0;
}

/* Acquire; with intr false the wait cannot be interrupted (Condition's
 * re-acquisition), cancellation then stays pending. */
int cio__lock_acquire(cio_lock *l, bool intr);
int cio__lock_acquire(cio_lock *l, bool intr) {
  cio_task *cur = cio__current();
  if (!cur) return -EPERM;
  if (l->owner == cur) return -EDEADLK;
  if (intr) {
    int r = cio__checkpoint(cur);
    if (r < 0) return r;
  }
  if (!l->owner) {
    l->owner = cur;
    return 0;
  }
  if (intr) return cio__wait_on(&l->waiters, &(cio__waiter){.task = cur}, "lock");
  cio__waiter w = {.task = cur};
  while (l->owner != cur) {
    cio__list_push_back(&l->waiters, &w.link);
    int r = cio__park(cur, "lock (re-acquire)", CIO__PARK_NOINTR);
    cio__list_remove(&w.link);
    if (r == -EBADF) return r; /* the lock was freed: l is gone */
  }
  return 0;
}

int cio_lock_acquire(cio_lock *l) { return cio__lock_acquire(l, true); }

int cio_lock_release(cio_lock *l) {
  cio_task *cur = cio__current();
  if (!l->owner || l->owner != cur) return -EPERM;
  cio__waiter *w = cio__waiters_pop_live(&l->waiters);
  l->owner = w ? w->task : NULL;
  if (w) cio__wake(w->task, w->code);
  return 0;
}

int cio_lock_locked(const cio_lock *l) { return l->owner != NULL; }

cio_task *cio__lock_owner(const cio_lock *l);
cio_task *cio__lock_owner(const cio_lock *l) { return l->owner; }
