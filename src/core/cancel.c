/* cancel.c - the cancellation and shield state of a task, in one place.
 *
 * The fields (internal.h) and their transitions:
 *   ncancel            requests made and not taken back (uncancel);
 *   cancel_pending     a request waits for the task's next checkpoint;
 *   cancel_delivering  the task was woken with -ECANCELED and has not run;
 *   ndelivered         -ECANCELED deliveries (debug reports);
 *   shield             innermost shield scope: while set, a pending request
 *                      is not delivered and expired outer scopes are not
 *                      counted in nexpired (timeout.c).
 * A request on a task parked interruptibly and unshielded is delivered at
 * once (woken with -ECANCELED); otherwise it is left pending for the next
 * checkpoint (cio__checkpoint in internal.h), which consumes it. Requests
 * made before the first is delivered merge into it. */
#include "internal.h"

static void check_invariants(const cio_task *t) {
  cio__assert(!(t->cancel_pending && t->cancel_delivering));
  cio__assert(!t->cancel_delivering || t->state != CIO_TASK_WAITING);
  (void)t;
}

int cio_task_cancel(cio_task *t) {
  if (!t || t->state == CIO_TASK_DONE) return 0;
  t->ncancel++;
  /* Requests made before the first is delivered merge into it (asyncio). */
  if (t->cancel_pending || t->cancel_delivering) return 1;
  if (t->state == CIO_TASK_WAITING && t->intr && !t->shield && cio__wake(t, -ECANCELED)) {
    t->cancel_delivering = true;
    t->ndelivered++;
  } else {
    t->cancel_pending = true;
  }
  check_invariants(t);
  return 1;
}

void cio__cancel_withdraw(cio_task *t) {
  t->cancel_pending = false;
  check_invariants(t);
}

unsigned cio_task_cancelling(const cio_task *t) { return t ? t->ncancel : 0; }

unsigned cio_task_uncancel(cio_task *t) {
  if (t && t->ncancel) t->ncancel--;
  return t ? t->ncancel : 0;
}

int cio_checkpoint(void) {
  cio_task *t = cio__current();
  return t ? cio__checkpoint(t) : -EPERM;
}

/* ---- shield scopes ---- */

int cio_shield_begin(cio_shield_scope *s) {
  cio_task *t = cio__current();
  if (!t) return -EPERM;
  s->task = t;
  s->mark = t->scope;
  s->outer = t->shield;
  s->active = 1;
  t->shield = s;
  /* Every scope expired so far began before this shield. */
  t->nexpired = 0;
  return 0;
}

int cio_shield_end(cio_shield_scope *s) {
  if (!s->active) return 0;
  cio_task *t = s->task;
  cio__assert(t->shield != NULL); /* an active scope is on its task's chain */
  for (cio_shield_scope **p = &t->shield; *p; p = &(*p)->outer) {
    if (*p == s) {
      *p = s->outer;
      break;
    }
  }
  s->active = 0;
  /* Count again the expired scopes the now-innermost shield lets through. */
  const cio_timeout_scope *stop = t->shield ? t->shield->mark : NULL;
  unsigned n = 0;
  for (const cio_timeout_scope *p = t->scope; p && p != stop; p = p->outer)
    if (p->expired) n++;
  t->nexpired = n;
  return t->cancel_pending || n ? 1 : 0;
}
