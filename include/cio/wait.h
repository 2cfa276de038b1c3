/* cio/wait.h - combinators over tasks: gather, wait, wait_for,
 * as_completed, shield.
 *
 * All of them take task handles the caller owns (and keeps owning) and may
 * suspend. Every task must be non-NULL and belong to the caller's loop
 * (-EINVAL otherwise), and must not be the caller itself (-EDEADLK). Unless
 * said otherwise, when the calling task is cancelled (or its timeout scope
 * expires) while waiting, the tasks it waits for are cancelled, the call waits
 * for them to unwind and returns -ECANCELED (-ETIMEDOUT), so no task outlives
 * the call by surprise - the arguments of those tasks often live on the
 * caller's stack.
 */
#ifndef CIO_WAIT_H
#define CIO_WAIT_H

#include "task.h"

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* gather flags */
#define CIO_GATHER_ALL                                                                             \
  1 /* asyncio's return_exceptions=True: wait for every task,                                      \
       a failure cancels no sibling, report each status.                                           \
       (A cancelled caller still cancels them all.) */

/* Wait for tasks[0..n). statuses (may be NULL) receives each task's status in
 * order. Default: the first task to fail (status < 0, in completion order)
 * cancels the others; gather waits for them to unwind and returns that first
 * error. With CIO_GATHER_ALL: waits for all, cancels nobody, returns 0 (read
 * statuses). Returns 0 when all succeeded, -ENOMEM (no memory to watch
 * them: the tasks are cancelled and waited for, as after a failure), -EINVAL
 * / -EDEADLK (bad tasks: nothing done), -EPERM outside a task. Whatever it
 * returns but those three, every task is done when it returns. May suspend. */
CIO_API int cio_gather(cio_task *const *tasks, size_t n, int *statuses, int flags);

typedef enum cio_wait_mode {
  CIO_ALL_COMPLETED = 0,
  CIO_FIRST_COMPLETED,
  CIO_FIRST_EXCEPTION /* first task that finished with status < 0, else all */
} cio_wait_mode;

/* asyncio.wait(): suspend until the mode's condition holds or `timeout`
 * seconds pass (CIO_FOREVER: no limit). Nothing is cancelled, ever, and a
 * timeout is not an error: the call returns how many of the tasks are done.
 * If done_flags != NULL, done_flags[i] is set to 1 for done tasks and 0 for
 * pending ones. Returns the done count (>= 0), -ECANCELED / -ETIMEDOUT if the
 * caller is cancelled or its scope expires, -ENOMEM, -EPERM outside a task. */
CIO_API ssize_t cio_wait(cio_task *const *tasks, size_t n, cio_wait_mode mode, double timeout,
                         unsigned char *done_flags);

/* asyncio.wait_for(): await t for at most `timeout` seconds. On timeout t is
 * cancelled, the call waits for it to unwind, and returns -ETIMEDOUT.
 * Otherwise returns t's status. CIO_FOREVER means no limit. */
CIO_API int cio_wait_for(cio_task *t, double timeout);

/* asyncio.shield(): await t, but if the caller is cancelled or times out,
 * return -ECANCELED / -ETIMEDOUT at once and leave t running. */
CIO_API int cio_shield(cio_task *t);

/* asyncio.as_completed(): iterate tasks in the order they finish.
 *   cio_as_completed *it = cio_as_completed_new(tasks, n, timeout);
 *   cio_task *t;
 *   while ((r = cio_as_completed_next(it, &t)) == 1) use(cio_task_status(t));
 *   cio_as_completed_free(it);
 * next returns 1 and sets *out, 0 when every task has been returned,
 * -ETIMEDOUT once `timeout` seconds (from _new; CIO_FOREVER = none) have passed,
 * -ECANCELED when the caller is cancelled. Neither timeout nor cancel cancels
 * the tasks here (as in asyncio). _new returns NULL + errno ENOMEM/EPERM. */
typedef struct cio_as_completed cio_as_completed;
CIO_API cio_as_completed *cio_as_completed_new(cio_task *const *tasks, size_t n, double timeout);
CIO_API int cio_as_completed_next(cio_as_completed *it, cio_task **out);
CIO_API void cio_as_completed_free(cio_as_completed *it);

#ifdef __cplusplus
}
#endif
#endif
