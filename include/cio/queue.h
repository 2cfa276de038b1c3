/* cio/queue.h - queues between tasks (asyncio.Queue, LifoQueue, PriorityQueue).
 *
 * Items are void pointers, not owned by the queue (freeing a non-empty queue
 * frees none of them). A queue belongs to its loop. Waiters are served in
 * FIFO order by direct hand-off: a get that returns 0 has its item, a get
 * that returns an error has taken none (a cancelled get loses no item); a
 * put that returns an error has put nothing. Puts and gets allocate nothing
 * once the queue has grown to its working size.
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

/* maxsize 0 = unbounded. cmp is required for CIO_QUEUE_PRIORITY (returns <0,
 * 0, >0 like strcmp; it receives the items themselves, not pointers to
 * them as qsort's would) and ignored otherwise. NULL + errno: EINVAL, ENOMEM.
 */
CIO_API cio_queue *cio_queue_new(cio_queue_kind kind, size_t maxsize,
                                 int (*cmp)(const void *a, const void *b));
/* 0, or -EBUSY if tasks wait on it (nothing freed). */
CIO_API int cio_queue_free(cio_queue *q);

/* Put an item, suspending while the queue is full. 0, -ECANCELED, -ETIMEDOUT,
 * -EPERM outside a task. */
CIO_API int cio_queue_put(cio_queue *q, void *item);
/* Put without waiting: 0, -EAGAIN when full, -ENOMEM. Callable from callbacks.
 */
CIO_API int cio_queue_put_nowait(cio_queue *q, void *item);
/* Take an item, suspending while empty. */
CIO_API int cio_queue_get(cio_queue *q, void **item);
/* Take without waiting: 0 or -EAGAIN when empty. */
CIO_API int cio_queue_get_nowait(cio_queue *q, void **item);

CIO_API size_t cio_queue_size(const cio_queue *q);
CIO_API size_t cio_queue_maxsize(const cio_queue *q);
CIO_API int cio_queue_empty(const cio_queue *q);
CIO_API int cio_queue_full(const cio_queue *q);

/* Mark one earlier-taken item processed. 0, or -EINVAL if called more times
 * than items were put. */
CIO_API int cio_queue_task_done(cio_queue *q);
/* Suspend until every item put has been marked task_done. */
CIO_API int cio_queue_join(cio_queue *q);

#ifdef __cplusplus
}
#endif
#endif
