/* cio/group.h - task groups (asyncio.TaskGroup, trio nurseries).
 *
 *   cio_group *g = cio_group_new();
 *   cio_group_spawn(g, fetch, &a, NULL);
 *   cio_group_spawn(g, fetch, &b, NULL);
 *   int r = cio_group_wait(g);   // waits for all; first failure or 0
 *   cio_group_free(g);
 *
 * The first child to fail (status < 0 other than -ECANCELED) cancels its
 * siblings and, if the owner has not reached cio_group_wait() yet, the owner
 * too (so the owner's body stops promptly, as in asyncio). cio_group_wait()
 * absorbs that cancellation and returns the child's error instead. The group
 * owns its children's handles.
 */
#ifndef CIO_GROUP_H
#define CIO_GROUP_H

#include "task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_group cio_group;

/* New group owned by the calling task (NULL + errno: EPERM outside a task,
 * ENOMEM). */
CIO_API cio_group *cio_group_new(void);

/* Spawn a child. The returned handle is borrowed: valid until
 * cio_group_free(). NULL + errno: ENOMEM, ESHUTDOWN if the group is already
 * waiting-and-failed or has been waited for (EINVAL). */
CIO_API cio_task *cio_group_spawn(cio_group *g, cio_task_fn fn, void *arg,
                                  const cio_spawn_opts *opts);

/* Cancel every child still running (does not suspend). */
CIO_API void cio_group_cancel(cio_group *g);

/* Wait for every child. Returns 0 if none failed, the first failure's status,
 * or -ECANCELED / -ETIMEDOUT if the owner was cancelled / timed out from
 * outside the group (the children are then cancelled and waited for). After
 * it returns no child is running. Call it once, from the owner. May suspend. */
CIO_API int cio_group_wait(cio_group *g);

/* Number of children, and the i-th one (borrowed). */
CIO_API size_t cio_group_size(const cio_group *g);
CIO_API cio_task *cio_group_task(const cio_group *g, size_t i);

/* Free the group and its children's handles. Children still running (wait was
 * never called) are cancelled and detached. Never suspends. */
CIO_API void cio_group_free(cio_group *g);

#ifdef __cplusplus
}
#endif
#endif
