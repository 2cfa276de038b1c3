/* cio/sem.h - asyncio.Semaphore and BoundedSemaphore.
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
#ifndef CIO_SEM_H
#define CIO_SEM_H

#include "task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_sem cio_sem;

/* A semaphore holding `value` permits. A bounded one refuses to be released
 * above its initial value (every release must match an acquisition).
 * NULL + errno ENOMEM. Never suspends. */
CIO_API cio_sem *cio_sem_new(size_t value);
CIO_API cio_sem *cio_sem_new_bounded(size_t value);
/* Free s (NULL: no-op). */
CIO_API void cio_sem_free(cio_sem *s);
/* Take a permit, waiting while there is none. 0 or a wait error. May
 * suspend. */
CIO_API int cio_sem_acquire(cio_sem *s);
/* Take a permit if one is free: 0 or -EAGAIN. Never suspends. */
CIO_API int cio_sem_try_acquire(cio_sem *s);
/* Give a permit back (to the first waiter, if any). 0, or -EOVERFLOW for a
 * bounded semaphore already at its initial value (or a count at SIZE_MAX).
 * Never suspends; callable from callbacks. */
CIO_API int cio_sem_release(cio_sem *s);
/* Free permits now. */
CIO_API size_t cio_sem_value(const cio_sem *s);
/* 1 if an acquire would wait. */
CIO_API int cio_sem_locked(const cio_sem *s);

#ifdef __cplusplus
}
#endif
#endif
