/* event.c - asyncio.Event. */
#include "internal.h"

#include <stdlib.h>

struct cio_event {
  bool set;
  cio__link waiters;
};

cio_event *cio_event_new(void) {
  cio_event *e = cio__calloc(1, sizeof *e);
  if (!e) {
    errno = ENOMEM;
    return NULL;
  }
  cio__list_init(&e->waiters);
  return e;
}

void cio_event_free(cio_event *e) {
  if (!e)
    return;
  cio__waiters_abort(&e->waiters);
  cio__free(e);
}

void cio_event_set(cio_event *e) {
  e->set = true;
  cio__waiter *w;
  while ((w = cio__waiters_pop_live(&e->waiters)))
    cio__wake(w->task, 0);
}

void cio_event_clear(cio_event *e) { e->set = false; }
int cio_event_is_set(const cio_event *e) { return e->set; }

int cio_event_wait(cio_event *e) {
  cio_task *cur = cio__current();
  if (!cur)
    return -EPERM;
  if (e->set)
    return cio__checkpoint(cur);
  cio__waiter w = {.task = cur};
  return cio__wait_on(&e->waiters, &w, "event");
}
