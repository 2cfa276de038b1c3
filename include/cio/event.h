/* cio/event.h - asyncio.Event: a flag tasks can wait for.
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
#ifndef CIO_EVENT_H
#define CIO_EVENT_H

#include "task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_event cio_event;

/* A new event, not set. NULL + errno ENOMEM. Never suspends. */
CIO_API cio_event *cio_event_new(void);
/* Free e (NULL: no-op). */
CIO_API void cio_event_free(cio_event *e);
/* Set the flag and wake every waiter (each returns 0). Never suspends;
 * callable from callbacks. */
CIO_API void cio_event_set(cio_event *e);
/* Clear the flag; later waits wait again. Never suspends. */
CIO_API void cio_event_clear(cio_event *e);
CIO_API int cio_event_is_set(const cio_event *e);
/* Wait until the flag is set: returns 0 at once (after the entry check) if
 * it is, else a wait result. May suspend. */
CIO_API int cio_event_wait(cio_event *e);

#ifdef __cplusplus
}
#endif
#endif
