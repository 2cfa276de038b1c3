/* cio/sem.h - asyncio.Semaphore and BoundedSemaphore.
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
#ifndef CIO_SEM_H
#define CIO_SEM_H

#include "task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_sem cio_sem;

/* ---- Semaphore / BoundedSemaphore ---- */
/* value >= 0. A bounded semaphore refuses to be released above its initial
 * value. NULL + errno (EINVAL, ENOMEM). */
CIO_API cio_sem *cio_sem_new(unsigned value);
CIO_API cio_sem *cio_sem_new_bounded(unsigned value);
CIO_API int cio_sem_free(cio_sem *s);
CIO_API int cio_sem_acquire(cio_sem *s);     /* may suspend */
CIO_API int cio_sem_try_acquire(cio_sem *s); /* 0 or -EAGAIN */
/* 0, or -EOVERFLOW for a bounded semaphore already at its initial value. */
CIO_API int cio_sem_release(cio_sem *s);
CIO_API unsigned cio_sem_value(const cio_sem *s);
CIO_API int cio_sem_locked(const cio_sem *s); /* 1 if acquire would wait */

#ifdef __cplusplus
}
#endif
#endif
