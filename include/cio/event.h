/* cio/event.h - asyncio.Event: a flag tasks can wait for.
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
#ifndef CIO_EVENT_H
#define CIO_EVENT_H

#include "task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_event cio_event;

/* ---- Event (asyncio.Event) ---- */
CIO_API cio_event *cio_event_new(void);
CIO_API int cio_event_free(cio_event *e);
CIO_API void cio_event_set(cio_event *e); /* wakes every waiter */
CIO_API void cio_event_clear(cio_event *e);
CIO_API int cio_event_is_set(const cio_event *e);
CIO_API int cio_event_wait(cio_event *e); /* returns at once if set */

#ifdef __cplusplus
}
#endif
#endif
