/* timeout.c - timeout scopes.
 *
 * A scope arms one timer for its deadline. When it fires, the scope counts
 * as expired on its task (t->nexpired) and the task, if waiting, is woken
 * with -ETIMEDOUT. Every interruptible suspension checks t->nexpired, so an
 * expired scope costs nothing per suspension and no clock read. */
#include "internal.h"

_Static_assert(sizeof(cio__tnode) <= sizeof(((cio_timeout_scope *)0)->timer),
               "cio_timeout_scope.timer too small for a timer node");

static cio__tnode *scope_node(cio_timeout_scope *s) { return (cio__tnode *)(void *)s->timer; }

/* Does t->nexpired count s? Not if s began before t's innermost shield. */
bool cio__scope_counted(const cio_task *t, const cio_timeout_scope *s) {
  if (CIO_LIKELY(!t->shield)) return true;
  for (const cio_timeout_scope *p = t->shield->mark; p; p = p->outer)
    if (p == s) return false;
  return true;
}

static void scope_expire(cio_timeout_scope *s) {
  if (s->expired) return;
  s->expired = 1;
  cio_task *t = s->task;
  if (!cio__scope_counted(t, s)) return; /* shielded: counted again at cio_shield_end */
  t->nexpired++;
  if (t->state == CIO_TASK_WAITING && t->intr) cio__wake_first(t, -ETIMEDOUT);
}

static void scope_fire(cio__tnode *n) {
  scope_expire(cio__container_of((void *)n, cio_timeout_scope, timer));
}

static void scope_arm(cio_timeout_scope *s, int64_t deadline) {
  s->deadline = deadline;
  if (deadline == CIO__NEVER) return;
  if (deadline <= cio__clock_ns() ||
      cio__theap_push(&s->task->loop->timers, scope_node(s), deadline) < 0)
    scope_expire(s); /* no room for the timer: expire now rather than never */
}

static int scope_begin_ns(cio_timeout_scope *s, int64_t deadline) {
  cio_task *t = cio__current();
  if (!t) return -EPERM;
  s->task = t;
  s->expired = 0;
  s->active = 1;
  cio__tnode_init(scope_node(s), scope_fire);
  s->outer = t->scope;
  t->scope = s;
  scope_arm(s, deadline);
  return 0;
}

int cio_timeout_begin(cio_timeout_scope *s, double seconds) {
  int64_t d = seconds < 0 ? CIO__NEVER : cio__deadline_in(seconds);
  return scope_begin_ns(s, d);
}

int cio_timeout_begin_at(cio_timeout_scope *s, double when) {
  int64_t d = when <= 0 ? 0 : when >= 9.2e9 ? CIO__NEVER : (int64_t)(when * 1e9);
  return scope_begin_ns(s, d);
}

void cio_timeout_reschedule(cio_timeout_scope *s, double seconds) {
  if (!s->active) return;
  cio_task *t = s->task;
  cio__theap_remove(&t->loop->timers, scope_node(s));
  if (s->expired) {
    s->expired = 0;
    if (cio__scope_counted(t, s)) t->nexpired--;
  }
  scope_arm(s, seconds < 0 ? CIO__NEVER : cio__deadline_in(seconds));
}

/* The timer fires at the loop's next turn; the deadline itself may have
 * passed already, which is what callers ask about. */
static void catch_up(cio_timeout_scope *s) {
  if (s->active && !s->expired && s->deadline != CIO__NEVER && cio__clock_ns() >= s->deadline)
    scope_expire(s);
}

int cio_timeout_end(cio_timeout_scope *s) {
  if (!s->active) return s->expired;
  catch_up(s);
  cio_task *t = s->task;
  cio__theap_remove(&t->loop->timers, scope_node(s));
  if (s->expired && cio__scope_counted(t, s)) t->nexpired--;
  /* Unlink wherever it is, so a scope ended out of order breaks nothing. */
  for (cio_timeout_scope **p = &t->scope; *p; p = &(*p)->outer) {
    if (*p == s) {
      *p = s->outer;
      break;
    }
  }
  s->active = 0;
  return s->expired;
}

int cio_timeout_expired(const cio_timeout_scope *s) {
  return s->expired || (s->active && s->deadline != CIO__NEVER && cio__clock_ns() >= s->deadline);
}

int cio_with_timeout(double seconds, cio_task_fn fn, void *arg) {
  cio_timeout_scope s;
  int r = cio_timeout_begin(&s, seconds);
  if (r < 0) return r;
  r = fn(arg);
  /* A body that swallowed the expiry and failed otherwise still timed out;
   * one that succeeded did its job (asyncio: a result beats a late expiry). */
  if (cio_timeout_end(&s) && r < 0) r = -ETIMEDOUT;
  return r;
}
