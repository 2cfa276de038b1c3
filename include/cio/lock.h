/* cio/lock.h - asyncio.Lock: a mutual-exclusion lock for tasks.
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
#ifndef CIO_LOCK_H
#define CIO_LOCK_H

#include "task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_lock cio_lock;

/* ---- Lock (asyncio.Lock): not reentrant; owned by the acquiring task. ---- */
CIO_API cio_lock *cio_lock_new(void);   /* NULL + errno ENOMEM */
CIO_API int cio_lock_free(cio_lock *l); /* 0 or -EBUSY */
CIO_API int
cio_lock_acquire(cio_lock *l); /* may suspend; -EDEADLK if held by caller */
/* 0, -EAGAIN if held by another task, -EDEADLK if held by the caller,
 * -EPERM outside a task. Never suspends. */
CIO_API int cio_lock_try_acquire(cio_lock *l);
/* 0, or -EPERM if the caller does not hold the lock. Never suspends. */
CIO_API int cio_lock_release(cio_lock *l);
CIO_API int cio_lock_locked(const cio_lock *l);

#ifdef __cplusplus
}
#endif
#endif
