/* cio/cond.h - asyncio.Condition over a lock.
 *
 * Objects belong to the loop of the thread that created them and are used
 * only by its tasks (loop thread only). Waiters are served in FIFO order by
 * direct hand-off. Waits are cancellation-safe: a wait that returns an error
 * holds nothing; a wait that returns 0 holds what it waited for even if a
 * cancellation arrived right after (that cancellation then hits the next
 * suspension). Every wait returns 0, -ECANCELED, -ETIMEDOUT, -EPERM outside a
 * task, or -EBADF if the object was freed while the task waited (it must not
 * touch it then). The caller owns what _new returns; _free always frees
 * (tasks still waiting are woken with -EBADF) and never suspends.
 */
#ifndef CIO_COND_H
#define CIO_COND_H

#include "lock.h"
#include "task.h"

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_cond cio_cond;

/* A condition over `lock`, borrowed (it must outlive the condition); NULL:
 * the condition makes its own lock, freed with it. NULL + errno ENOMEM.
 * Never suspends. */
CIO_API cio_cond *cio_cond_new(cio_lock *lock);
/* Free c (and its own lock; NULL: no-op). Waiters get -EBADF; if the lock
 * was the condition's own, they return without it. */
CIO_API void cio_cond_free(cio_cond *c);
/* The lock (borrowed). */
CIO_API cio_lock *cio_cond_lock(cio_cond *c);
/* Wait for a notification. The caller must hold the lock (-EPERM
 * otherwise); it is released while waiting and re-acquired before returning
 * - ALWAYS, also when returning -ECANCELED / -ETIMEDOUT (re-acquisition is
 * not interruptible) - except after -EBADF (freed). May suspend. */
CIO_API int cio_cond_wait(cio_cond *c);
/* Wait until pred(arg) is true (checked with the lock held). 0 or a wait
 * error. May suspend. */
CIO_API int cio_cond_wait_for(cio_cond *c, int (*pred)(void *arg), void *arg);
/* Wake up to n waiters (the lock must be held: -EPERM otherwise). Returns
 * the number woken. Never suspends. */
CIO_API ssize_t cio_cond_notify(cio_cond *c, size_t n);
CIO_API ssize_t cio_cond_notify_all(cio_cond *c);

#ifdef __cplusplus
}
#endif
#endif
