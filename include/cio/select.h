/* cio/select.h - wait for the first of several things (Go's select,
 * libdill's choose).
 *
 *   cio_case cs[] = {cio_case_get(inbox), cio_case_event(stop),
 *                    cio_case_after(5.0)};
 *   ssize_t i = cio_select(cs, 3);
 *   if (i == 0) handle(cs[0].item);          // a message was taken
 *   else if (i == 1) ...                      // stop was set
 *   else if (i == 2) ...                      // 5 s went by
 *   else ...                                  // -ECANCELED, -ETIMEDOUT
 *
 * Exactly one case completes per call: a queue get takes one item only if
 * its case is the one returned, a put puts only then; the other cases do
 * nothing (items stay in their queues). When several cases are ready at
 * entry, the first in array order wins (put `cio_case_after(0)` last for Go's
 * `default:`). Otherwise the call waits, and the first case to become ready
 * wins. Cancellation and timeout scopes interrupt the wait as for any call:
 * -ECANCELED / -ETIMEDOUT, no case completed.
 *
 * Cases live in the caller's array (they hold the waiting state: do not move
 * or reuse the array while cio_select runs). The io layer adds cases for
 * descriptors, streams and signals (cio_case_fd in cio/io.h,
 * cio_case_readable in cio/stream.h, cio_case_signal in cio/signal.h); any
 * library can write its own through cio_case_ops. Loop thread only.
 */
#ifndef CIO_SELECT_H
#define CIO_SELECT_H

#include "event.h"
#include "future.h"
#include "queue.h"
#include "task.h"

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_case cio_case;

/* How a kind of case works. All run on the selecting task and must not
 * suspend.
 *   try_now: complete the case now if it can: 1 = done, 0 = not ready, < 0 =
 *            it fails with that code (set c->status first). Done means the
 *            operation happened (an item taken).
 *   arm:     make sure cio_task_wake(t, code) is called when the case may
 *            be ready (or completes by hand-over). 0 = armed; 1 = it found
 *            the case ready after all (it armed nothing, or undid it):
 *            cio_select disarms the cases armed before it and calls this
 *            case's finish at once, as if it had woken the task; or a
 *            negative errno (the case completes with it).
 *   disarm:  withdraw what arm did; harmless if it fired already. Called
 *            for every case whose arm returned 0, before finish.
 *   finish:  the task was woken with this case's code: 0 = the case is
 *            complete (c->status says how), 1 = it was not really ready
 *            (a stale readiness): cio_select waits again. */
typedef struct cio_case_ops {
  int (*try_now)(cio_case *c);
  int (*arm)(cio_case *c, cio_task *t, int code);
  void (*disarm)(cio_case *c);
  int (*finish)(cio_case *c);
} cio_case_ops;

struct cio_case {
  const cio_case_ops *ops;
  void *obj;      /* the queue, event, future, task, stream... */
  void *item;     /* put: the item to put; get: the item taken */
  double seconds; /* cio_case_after */
  int fd;         /* descriptor cases; cio_case_signal: the signal */
  int events;     /* descriptor cases: CIO_READABLE / CIO_WRITABLE */
  int status;     /* after it completed: 0 (cio_case_fd: the ready events,
                     > 0), or -EBADF (its object was freed or closed), or
                     the case's own error */
  void *priv[8];  /* private: the case's waiting state */
};

/* Take an item from q (the item lands in .item). */
CIO_API cio_case cio_case_get(cio_queue *q);
/* Put item into q. */
CIO_API cio_case cio_case_put(cio_queue *q, void *item);
/* e is set. */
CIO_API cio_case cio_case_event(cio_event *e);
/* f is done (read its outcome with cio_future_status / cio_future_value). */
CIO_API cio_case cio_case_future(cio_future *f);
/* t has finished (its status: cio_task_status). */
CIO_API cio_case cio_case_task(cio_task *t);
/* `seconds` have passed since cio_select began (0: ready at once;
 * CIO_FOREVER: never). */
CIO_API cio_case cio_case_after(double seconds);

/* Wait until one of cases[0..n) completes; return its index (>= 0), with its
 * outcome in cases[i].status (and .item for a get). Returns -ECANCELED,
 * -ETIMEDOUT, -EPERM outside a task, -EINVAL (n == 0, a case without ops,
 * NULL cases), or -ENOMEM; then no case completed. May suspend. */
CIO_API ssize_t cio_select(cio_case *cases, size_t n);

#ifdef __cplusplus
}
#endif
#endif
