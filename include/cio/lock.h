/* cio/lock.h - asyncio.Lock: a mutual-exclusion lock for tasks.
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
#ifndef CIO_LOCK_H
#define CIO_LOCK_H

#include "task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_lock cio_lock;

/* A new unlocked lock (not reentrant; owned by the task that acquires it).
 * NULL + errno ENOMEM. Never suspends. */
CIO_API cio_lock *cio_lock_new(void);
/* Free l (NULL: no-op); a task holding it must not release it afterwards. */
CIO_API void cio_lock_free(cio_lock *l);
/* Acquire, waiting while another task holds it. 0, -EDEADLK if the caller
 * holds it already, or a wait error (above). May suspend. */
CIO_API int cio_lock_acquire(cio_lock *l);
/* 0, -EAGAIN if held by another task, -EDEADLK if held by the caller,
 * -EPERM outside a task. Never suspends. */
CIO_API int cio_lock_try_acquire(cio_lock *l);
/* 0, or -EPERM if the caller does not hold the lock. Hands the lock to the
 * first waiter, if any. Never suspends. */
CIO_API int cio_lock_release(cio_lock *l);
/* 1 if some task holds it. */
CIO_API int cio_lock_locked(const cio_lock *l);

#ifdef __cplusplus
}
#endif
#endif
