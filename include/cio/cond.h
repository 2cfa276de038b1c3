/* cio/cond.h - asyncio.Condition.
 *
 * All belong to the loop of the thread that created them and are used only
 * by its tasks. Waiters are served in FIFO order by direct hand-off. Waits are
 * cancellation-safe: a wait that returns an error holds nothing; a wait that
 * returns 0 holds what it waited for even if a cancellation arrived right
 * after (that cancellation then hits the next suspension). Every wait returns
 * 0, -ECANCELED, -ETIMEDOUT, or -EPERM when called outside a task. Objects are
 * owned by the caller; freeing one that tasks still wait on returns -EBUSY
 * and frees nothing.
 */
#ifndef CIO_COND_H
#define CIO_COND_H

#include "lock.h"
#include "task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_cond cio_cond;

/* ---- Condition (asyncio.Condition) over a lock (NULL: it makes its own,
 * freed with it). wait: the caller must hold the lock; it is released while
 * waiting and re-acquired before returning - ALWAYS, also when returning
 * -ECANCELED / -ETIMEDOUT (re-acquisition itself is not interruptible).
 * -EPERM if the lock is not held. ---- */
CIO_API cio_cond *cio_cond_new(cio_lock *lock);
CIO_API int cio_cond_free(cio_cond *c);
CIO_API cio_lock *cio_cond_lock(cio_cond *c);
CIO_API int cio_cond_wait(cio_cond *c);
/* Wait until pred(arg) is true (checked with the lock held). */
CIO_API int cio_cond_wait_for(cio_cond *c, int (*pred)(void *arg), void *arg);
/* notify: wake up to n waiters (lock must be held: -EPERM). Returns the number
 * woken. */
CIO_API int cio_cond_notify(cio_cond *c, int n);
CIO_API int cio_cond_notify_all(cio_cond *c);

#ifdef __cplusplus
}
#endif
#endif
