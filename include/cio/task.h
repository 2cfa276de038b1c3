/* cio/task.h - tasks: stackful coroutines scheduled by the loop.
 *
 * Ownership. cio_spawn() returns a handle owned by the caller. The loop holds
 * its own reference while the task runs, so the handle may be released at any
 * time with cio_task_release() (the task keeps running) or cio_detach() (the
 * same, and says "nobody will await this": failures are then reported in
 * debug mode). A handle stays valid, with its status, until released.
 *
 * Cancellation. cio_task_cancel() makes the task's current or next suspension
 * return -ECANCELED, once: cleanup code may suspend again (to close a
 * connection, say) unless it is cancelled again. Requests made before the
 * first one is delivered merge into it. A task cancelled before it ever ran
 * finishes with -ECANCELED without running at all (its fn is never called).
 * A task is "cancelled" when it finished with status -ECANCELED. Cleanup that
 * must run to completion even if the task is cancelled again (or its timeout
 * scope has expired) goes in a shield scope (cio_shield_begin, timeout.h);
 * the pattern for resources (asyncio's `async with`) is in docs/RESOURCES.md.
 *
 * NULL handles: cio_task_release, cio_detach and cio_task_cancel accept NULL
 * and do nothing; cio_await(NULL) returns -EINVAL.
 *
 * Stacks are allocated when a task first runs; if that fails the task
 * finishes with -ENOMEM without running. A stack overflow is caught by a
 * guard region and reported with the task's name, then the process aborts.
 */
#ifndef CIO_TASK_H
#define CIO_TASK_H

#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cio_task_state {
  CIO_TASK_READY = 0, /* waiting for its turn to run (or to start) */
  CIO_TASK_RUNNING,   /* the task executing now */
  CIO_TASK_WAITING,   /* suspended, waiting for something */
  CIO_TASK_DONE       /* finished; cio_task_status() is final */
} cio_task_state;

typedef struct cio_spawn_opts {
  const char *name;  /* copied; NULL = "task-<id>" */
  size_t stack_size; /* bytes, rounded up to pages; 0 = the loop's default */
  int daemon;        /* 1 = a service task of a library (an accept loop, a
                        pool's health check): cancelled at loop close like
                        any task, but not reported as a leftover in debug
                        mode */
} cio_spawn_opts;

/* Start fn(arg) as a new task on the current thread's loop. It runs when the
 * loop next schedules it; the caller does not suspend. arg is borrowed: it
 * must stay valid until the task is done (await it, or keep arg alive).
 * Returns a handle (see Ownership) or NULL with errno: ENOENT when the thread
 * has no loop, ENOMEM, ESHUTDOWN when the loop is closing. */
CIO_API cio_task *cio_spawn(cio_task_fn fn, void *arg);
CIO_API cio_task *cio_spawn_ex(cio_task_fn fn, void *arg, const cio_spawn_opts *opts);
/* Spawn on a given loop (which must be the calling thread's). */
CIO_API cio_task *cio_spawn_on(cio_loop *loop, cio_task_fn fn, void *arg,
                               const cio_spawn_opts *opts);

/* Spawn with an argument passed by value: the `size` bytes at arg are
 * copied into storage owned by the task (suitably aligned for any type), and
 * fn gets a pointer to the copy, valid until the task's handle is released
 * (the loop's own reference included). So a loop can spawn tasks with a
 * small struct built on the spot, with nothing to keep alive:
 *   for (int i = 0; i < n; i++)
 *     t[i] = cio_spawn_copy(fetch, &(struct req){.id = i}, sizeof(struct req), NULL);
 * opts may be NULL. Errors as cio_spawn. Never suspends. */
CIO_API cio_task *cio_spawn_copy(cio_task_fn fn, const void *arg, size_t size,
                                 const cio_spawn_opts *opts);

/* Suspend until t has finished; return t's status. If the caller is cancelled
 * or its timeout scope expires while waiting, t is cancelled too (as asyncio
 * does), the caller waits for t to unwind, and -ECANCELED / -ETIMEDOUT is
 * returned whatever t returned. Use cio_shield() to wait without cancelling
 * t. Returns -EDEADLK if t is the calling task, -EPERM outside a task.
 * Does not consume the handle. May suspend. */
CIO_API int cio_await(cio_task *t);

/* Request cancellation (see above). Returns 1 if the request was made, 0 if
 * t is already done. Never suspends; callable from tasks and callbacks. */
CIO_API int cio_task_cancel(cio_task *t);

/* The number of cancellation requests made on t and not taken back with
 * cio_task_uncancel() (asyncio's Task.cancelling()). A task that got
 * -ECANCELED and chose to go on can see here that it was asked to stop:
 * `if (cio_task_cancelling(cio_current())) return -ECANCELED;`. */
CIO_API unsigned cio_task_cancelling(const cio_task *t);
/* Take back one request (asyncio's Task.uncancel()): for code that cancels
 * a task itself and absorbs that cancellation (a timeout, a group). Returns
 * the count left. Does not withdraw a cancellation already pending. */
CIO_API unsigned cio_task_uncancel(cio_task *t);

/* ---- results ----
 * A task returns its status; a value goes in its result slot (asyncio's
 * `return value`), read by whoever holds its handle once it is done:
 *   static int square(void *arg) {
 *     int x = *(int *)arg;
 *     return cio_set_result_int((int64_t)x * x);   // returns 0
 *   }
 *   ... cio_gather(t, n, NULL, 0); sum += cio_task_result_int(t[i]); ...
 * One slot: the last set wins; pointer and integer share it. What a pointer
 * result points to is owned as the task and its awaiter agree. */

/* Set the calling task's result. Return 0 (so `return cio_set_result(p);`
 * works), -EPERM outside a task. Never suspend. */
CIO_API int cio_set_result(void *value);
CIO_API int cio_set_result_int(int64_t value);
/* t's result: NULL / 0 until it was set. */
CIO_API void *cio_task_result(const cio_task *t);
CIO_API int64_t cio_task_result_int(const cio_task *t);

CIO_API int cio_task_done(const cio_task *t);
/* 1 if t finished with -ECANCELED. */
CIO_API int cio_task_cancelled(const cio_task *t);
/* Final status once done; -EINPROGRESS before. Reading a final status
 * counts as awaiting t for the debug-mode reports. */
CIO_API int cio_task_status(const cio_task *t);
CIO_API cio_task_state cio_task_get_state(const cio_task *t);
/* The task's name; valid while the handle is held. */
CIO_API const char *cio_task_name(const cio_task *t);
CIO_API uint64_t cio_task_id(const cio_task *t);
/* What a waiting task waits on ("sleep", "lock", "queue get", ...), or NULL. */
CIO_API const char *cio_task_waiting_on(const cio_task *t);

/* Run fn(t, arg) on the loop once t has finished (asyncio's
 * Task.add_done_callback): scheduled with cio_call_soon when t finishes, or
 * at once if it already has. Also runs for a task cancelled before it ever
 * ran, so it is the place to free an arg the task owned. The callback holds
 * its own reference to t. Returns 0, -ENOMEM, -EINVAL. Never suspends. */
typedef void (*cio_task_done_fn)(cio_task *t, void *arg);
CIO_API int cio_task_add_done_callback(cio_task *t, cio_task_done_fn fn, void *arg);

/* The entry check of every waiting call, without waiting: returns
 * -ECANCELED (consuming a pending cancellation), -ETIMEDOUT (an expired
 * timeout scope), or 0; -EPERM outside a task. Lets a long computation that
 * never suspends stay cancellable. Never suspends. */
CIO_API int cio_checkpoint(void);

/* Take another reference / drop one. The last release frees the handle; a
 * task still running keeps running. In debug mode, releasing the last handle
 * of a task nobody awaited (and that is not detached) is reported at loop
 * close as "never awaited": use cio_detach() for fire-and-forget tasks. */
CIO_API cio_task *cio_task_ref(cio_task *t);
CIO_API void cio_task_release(cio_task *t);
/* Release the handle and declare the task fire-and-forget. */
CIO_API void cio_detach(cio_task *t);

/* The task calling this, or NULL outside tasks (in callbacks, or outside the
 * loop). */
CIO_API cio_task *cio_current(void);

/* Let other ready tasks run (asyncio.sleep(0)). Returns 0, -ECANCELED or
 * -ETIMEDOUT; -EPERM outside a task. Suspends. */
CIO_API int cio_yield(void);

/* Suspend for at least `seconds` (<= 0 behaves as cio_yield). Returns 0,
 * -ECANCELED, -ETIMEDOUT, or -EPERM outside a task. */
CIO_API int cio_sleep(double seconds);

/* ---- building blocks for awaitables written outside the core ----
 *
 * The io layer (and any user adapting a callback API) suspends the current
 * task with cio_suspend() and resumes it with cio_task_wake(). */

/* Suspend the calling task until cio_task_wake() is called on it, or it is
 * cancelled, or its timeout scope expires. `what` (static string) is shown in
 * task dumps. Returns the code given to cio_task_wake(), or -ECANCELED /
 * -ETIMEDOUT (in which case no wake happened: the caller must withdraw its
 * registration so no later cio_task_wake() targets it). -EPERM outside a task.
 */
CIO_API int cio_suspend(const char *what);

/* Resume a task suspended in cio_suspend() with `code`. Returns 1 if it was
 * woken, 0 if it was not suspended (already woken, cancelled or timed out).
 * Loop thread only; never suspends. */
CIO_API int cio_task_wake(cio_task *t, int code);

#ifdef __cplusplus
}
#endif
#endif
