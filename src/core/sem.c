/* sem.c - asyncio.Semaphore and BoundedSemaphore, FIFO hand-off. */
#include "internal.h"

#include <stdlib.h>

struct cio_sem {
  size_t value;
  size_t held; /* permits acquired and not released (bounded check) */
  bool bounded;
  cio__link waiters;
};

static cio_sem *sem_new(size_t value, bool bounded) {
  cio_sem *s = cio__calloc(1, sizeof *s);
  if (!s) {
    errno = ENOMEM;
    return NULL;
  }
  s->value = value;
  s->bounded = bounded;
  cio__list_init(&s->waiters);
  return s;
}

cio_sem *cio_sem_new(size_t value) { return sem_new(value, false); }
cio_sem *cio_sem_new_bounded(size_t value) { return sem_new(value, true); }

void cio_sem_free(cio_sem *s) {
  if (!s) return;
  cio__waiters_abort(&s->waiters);
  cio__free(s);
}

int cio_sem_try_acquire(cio_sem *s) {
  if (!s->value) return -EAGAIN;
  s->value--;
  s->held++;
  return 0;
}

int cio_sem_acquire(cio_sem *s) {
  cio_task *cur = cio__current();
  if (!cur) return -EPERM;
  int r = cio__checkpoint(cur);
  if (r < 0) return r;
  if (s->value) {
    s->value--;
    s->held++;
    return 0;
  }
  /* A release hands its permit straight to the waiter that wakes. */
  cio__waiter w = {.task = cur};
  r = cio__wait_on(&s->waiters, &w, "semaphore");
  if (r == 0) s->held++;
  return r;
}

int cio_sem_release(cio_sem *s) {
  /* Bounded: the value may never exceed its initial value, i.e. every
   * release must match an acquisition. */
  if (s->bounded && s->held == 0) return -EOVERFLOW;
  cio__waiter *w = cio__waiters_pop_live(&s->waiters);
  if (s->held) s->held--;
  if (w) {
    cio__wake(w->task, w->code);
    return 0;
  }
  if (s->value == SIZE_MAX) return -EOVERFLOW;
  s->value++;
  return 0;
}

size_t cio_sem_value(const cio_sem *s) { return s->value; }
int cio_sem_locked(const cio_sem *s) { return s->value == 0; }
