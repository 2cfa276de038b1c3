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

/* Start a scope on the calling task expiring `seconds` from now (< 0: never;
 * 0: already expired). Returns 0, -EPERM outside a task. */
CIO_API int cio_timeout_begin(cio_timeout_scope *s, double seconds);
/* Same with an absolute deadline in cio_loop_time() seconds. */
CIO_API int cio_timeout_begin_at(cio_timeout_scope *s, double when);
/* Move the deadline of an active scope (asyncio Timeout.reschedule). */
CIO_API void cio_timeout_reschedule(cio_timeout_scope *s, double seconds);
/* Close the scope. Returns 1 if its deadline passed while it was active, else 0. */
CIO_API int cio_timeout_end(cio_timeout_scope *s);
/* 1 if the scope's deadline has passed. */
CIO_API int cio_timeout_expired(const cio_timeout_scope *s);

#ifdef __cplusplus
}
#endif
#endif
