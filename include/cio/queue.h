/* cio/queue.h - asyncio.Queue, LifoQueue and PriorityQueue.
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
#ifndef CIO_QUEUE_H
#define CIO_QUEUE_H

#include "task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_queue cio_queue;

typedef enum cio_queue_kind {
  CIO_QUEUE_FIFO = 0,
  CIO_QUEUE_LIFO,
  CIO_QUEUE_PRIORITY /* smallest first by cmp; ties in insertion order */
} cio_queue_kind;

/* Items are void * handed over as they are (ownership as the producer and
 * consumer agree). maxsize 0 = unbounded. cmp is required for
 * CIO_QUEUE_PRIORITY (returns <0, 0, >0 like strcmp; it receives the items
 * themselves, not pointers to them as qsort's would) and ignored otherwise.
 * NULL + errno: EINVAL, ENOMEM. Never suspends. */
CIO_API cio_queue *cio_queue_new(cio_queue_kind kind, size_t maxsize,
                                 int (*cmp)(const void *a, const void *b));
/* Free q (NULL: no-op); items still in it are dropped (not freed). */
CIO_API void cio_queue_free(cio_queue *q);

/* Put an item, waiting while the queue is full. 0, -ENOMEM, or a wait
 * error (then nothing was put). May suspend. */
CIO_API int cio_queue_put(cio_queue *q, void *item);
/* Put without waiting: 0, -EAGAIN when full, -ENOMEM. Never suspends;
 * callable from callbacks. */
CIO_API int cio_queue_put_nowait(cio_queue *q, void *item);
/* Take an item into *item, waiting while empty. 0 or a wait error (then
 * nothing was taken). May suspend. */
CIO_API int cio_queue_get(cio_queue *q, void **item);
/* Take without waiting: 0 or -EAGAIN when empty. Never suspends. */
CIO_API int cio_queue_get_nowait(cio_queue *q, void **item);

CIO_API size_t cio_queue_size(const cio_queue *q);
CIO_API size_t cio_queue_maxsize(const cio_queue *q);
CIO_API int cio_queue_empty(const cio_queue *q);
CIO_API int cio_queue_full(const cio_queue *q);

/* Mark one earlier-taken item processed. 0, or -EINVAL if called more times
 * than items were put. Never suspends. */
CIO_API int cio_queue_task_done(cio_queue *q);
/* Wait until every item put has been marked task_done. 0 or a wait error.
 * May suspend. */
CIO_API int cio_queue_join(cio_queue *q);

#ifdef __cplusplus
}
#endif
#endif
