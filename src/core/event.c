/* event.c - asyncio.Event. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

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
  if (!e) return;
  cio__waiters_abort(&e->waiters);
  cio__free(e);
}

void cio_event_set(cio_event *e) {
  e->set = true;
  cio__waiter *w;
  while ((w = cio__waiters_pop_live(&e->waiters))) cio__wake(w->task, w->code);
}

void cio_event_clear(cio_event *e) { e->set = false; }
int cio_event_is_set(const cio_event *e) { return e->set; }

int cio_event_wait(cio_event *e) {
  cio_task *cur = cio__current();
  if (!cur) return -EPERM;
  if (e->set) return cio__checkpoint(cur);
  cio__waiter w = {.task = cur};
  return cio__wait_on(&e->waiters, &w, "event");
}

/* ---- select case ---- */

static int ev_try(cio_case *c) { return cio_event_is_set(c->obj); }

static int ev_arm(cio_case *c, cio_task *t, int code) {
  cio_event *e = c->obj;
  return cio__case_arm_list(c, &e->waiters, t, code);
}

static const cio_case_ops event_ops = {ev_try, ev_arm, cio__case_disarm_list,
                                       cio__case_finish_list};

cio_case cio_case_event(cio_event *e) {
  cio_case c;
  memset(&c, 0, sizeof c);
  c.ops = &event_ops;
  c.obj = e;
  return c;
}
