/* cio/timeout.h - timeout scopes (asyncio.timeout(), trio.move_on_after).
 *
 *   cio_timeout_scope s;
 *   cio_timeout_begin(&s, 2.0);
 *   r = do_many_things();          // every suspension inside returns
 *                                  // -ETIMEDOUT once 2 s have passed
 *   if (cio_timeout_end(&s)) ...   // 1 if this scope's deadline passed
 *
 * The scope lives in the caller's storage (normally its stack); begin and end
 * must pair up on the same task, innermost first. Scopes nest: the earliest
 * deadline wins. Unlike cancellation, an expired scope is level-triggered:
 * every suspension until cio_timeout_end() returns -ETIMEDOUT at once.
 * Neither call suspends.
 */
#ifndef CIO_TIMEOUT_H
#define CIO_TIMEOUT_H

#include "task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_timeout_scope {
  /* private */
  struct cio_timeout_scope *outer;
  cio_task *task;
  int64_t deadline;
  void *timer[6];
  int expired;
  int active;
} cio_timeout_scope;

/* Start a scope on the calling task expiring `seconds` from now (CIO_FOREVER
 * or any negative value: never; 0: already expired). Returns 0, -EPERM
 * outside a task. */
CIO_API int cio_timeout_begin(cio_timeout_scope *s, double seconds);
/* Same with an absolute deadline in cio_loop_time() seconds. */
CIO_API int cio_timeout_begin_at(cio_timeout_scope *s, double when);
/* Move the deadline of an active scope (asyncio Timeout.reschedule). */
CIO_API void cio_timeout_reschedule(cio_timeout_scope *s, double seconds);
/* Close the scope. Returns 1 if its deadline passed while it was active, else
 * 0. */
CIO_API int cio_timeout_end(cio_timeout_scope *s);
/* 1 if the scope's deadline has passed. */
CIO_API int cio_timeout_expired(const cio_timeout_scope *s);

/* Bound one call without a task: run fn(arg) on the calling task inside a
 * timeout scope of `seconds` (CIO_FOREVER: none; 0: already expired) and
 * return its status, or -ETIMEDOUT when the scope expired and fn failed
 * (whatever code fn returned then: it was cut short by the deadline). A fn
 * that succeeds returns 0 even if the deadline passed just after its last
 * suspension. asyncio's `async with asyncio.timeout(s): await fn()`.
 * Returns -EPERM outside a task. May suspend (as fn does). */
CIO_API int cio_with_timeout(double seconds, cio_task_fn fn, void *arg);

/* ---- shield scopes: cleanup that must run to completion ----
 *
 *   r = use(res);                  // may return -ECANCELED / -ETIMEDOUT
 *   cio_shield_scope sh;
 *   cio_shield_begin(&sh);
 *   int rr = release(res);         // may suspend: not interrupted
 *   cio_shield_end(&sh);           // a cancellation / expiry that arrived
 *                                  // meanwhile hits the next suspension
 *
 * Inside a shield, cancellation requests and the expiry of timeout scopes
 * begun before the shield do not interrupt anything: they stay pending until
 * cio_shield_end(), then the next suspension reports them as usual (trio's
 * shielded cancel scope; asyncio has no equivalent short of a shielded
 * task). Timeout scopes begun inside the shield still work: use one to bound
 * a cleanup that talks to a peer that may never answer. Why it is needed:
 * after one cancellation, cleanup may suspend - but a second cancellation,
 * or an expired timeout scope (level-triggered: it fails every suspension
 * until it ends), would cut it short. Keep shielded sections short and
 * bounded: cio_loop_close() waits for them. See docs/RESOURCES.md.
 *
 * The scope lives in the caller's storage; begin and end pair up on the same
 * task, innermost first, also with timeout scopes (a timeout scope begun
 * inside the shield ends inside it). Neither call suspends. */
typedef struct cio_shield_scope {
  /* private */
  struct cio_shield_scope *outer;
  cio_task *task;
  cio_timeout_scope *mark; /* the task's innermost timeout scope at begin */
  int active;
} cio_shield_scope;

/* Start shielding the calling task. Returns 0, -EPERM outside a task. */
CIO_API int cio_shield_begin(cio_shield_scope *s);
/* End the shield. Returns 1 if a cancellation or an expired outer timeout
 * is now pending (the next suspension will report it), else 0. */
CIO_API int cio_shield_end(cio_shield_scope *s);

#ifdef __cplusplus
}
#endif
#endif
