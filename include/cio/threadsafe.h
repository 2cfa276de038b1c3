/* cio/threadsafe.h - loops on other threads, and running a task on a loop
 * from another thread (asyncio.run_coroutine_threadsafe).
 *
 * Any thread may run its own loop: cio_run() on a new thread is all it takes
 * (one loop per thread). A loop started with cio_loop_thread_start() runs on
 * a thread of its own until stopped: the common shape for "a background loop
 * that synchronous code hands work to".
 *
 *   cio_loop_thread *lt = cio_loop_thread_start(NULL);
 *   cio_xtask *x = cio_run_coroutine_threadsafe(cio_loop_thread_loop(lt), fetch, req);
 *   int r = cio_xtask_wait(x, 5.0);     // fetch's status, or -ETIMEDOUT
 *   cio_xtask_free(x);
 *   cio_loop_thread_free(lt);           // stops the loop, joins, frees
 *
 * Lifetimes. A loop pointer handed to another thread is valid until the
 * loop's owner closes it (cio_loop_close(), the end of cio_run(),
 * cio_loop_thread_stop()); submitting to a loop that is being closed is
 * safe and fails cleanly, submitting to one already freed is not: coordinate
 * with the owner. An xtask handle, on the other hand, stays valid in every
 * thread until cio_xtask_free(), whatever happens to the loop.
 *
 * What the task's fn(arg) sees: it is an ordinary task of the target loop.
 * arg is borrowed and must stay valid until the task has finished - which,
 * after a wait that timed out or a free, the caller may not know: give such
 * tasks heap memory that the task frees itself.
 */
#ifndef CIO_THREADSAFE_H
#define CIO_THREADSAFE_H

#include "task.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- a loop on a thread of its own ---- */

typedef struct cio_loop_thread cio_loop_thread;

/* Start a thread running a new loop (opts may be NULL; copied) until
 * cio_loop_thread_stop(). Returns once the loop exists: a handle owned by
 * the caller (cio_loop_thread_free), or NULL with errno (ENOMEM, EAGAIN, or
 * cio_loop_new()'s error). Any thread; blocks briefly, never suspends. */
CIO_API cio_loop_thread *cio_loop_thread_start(const cio_loop_opts *opts);

/* The thread's loop (borrowed): valid until cio_loop_thread_stop(), NULL
 * afterwards. Use it with cio_run_coroutine_threadsafe() and
 * cio_call_soon_threadsafe(). Any thread; never suspends. */
CIO_API cio_loop *cio_loop_thread_loop(const cio_loop_thread *lt);

/* Stop the loop, close it (tasks still alive are cancelled and unwind, as at
 * the end of cio_run()) and join the thread. Never frees lt
 * (cio_loop_thread_free does). Tasks on the loop that call cio_loop_stop()
 * do not end it: only this call does. Returns 0 (also when stopped
 * already), -EINVAL (lt NULL), or -EDEADLK from the loop's own thread
 * (nothing done). Any other thread, one at a time; blocks the caller while
 * the loop's tasks unwind, never suspends (from a task of another loop,
 * that loop stalls meanwhile: run it through cio_to_thread() if it may take
 * long). */
CIO_API int cio_loop_thread_stop(cio_loop_thread *lt);

/* Stop the loop thread if cio_loop_thread_stop() has not, then free lt.
 * NULL is a no-op; from the loop's own thread nothing is done (it cannot
 * wait for itself). Blocks as stop does; never suspends. */
CIO_API void cio_loop_thread_free(cio_loop_thread *lt);

/* ---- run_coroutine_threadsafe ---- */

typedef struct cio_xtask cio_xtask;

/* From any thread: start fn(arg) as a task of `loop` (it is spawned from a
 * callback on the loop's next turn). Returns a handle owned by the caller
 * (cio_xtask_free()), or NULL with errno: EINVAL, ENOMEM, ESHUTDOWN when the
 * loop is closed. A loop that closes before the task could start completes
 * the handle with -ESHUTDOWN; one that closes while the task runs cancels
 * the task like any other, and the handle gets the task's status. Never
 * suspends. */
CIO_API cio_xtask *cio_run_coroutine_threadsafe(cio_loop *loop, cio_task_fn fn, void *arg);

/* From a thread that is not the target loop's: block until the task has
 * finished, or `timeout` seconds (CIO_FOREVER, any negative value: no
 * limit; 0: do not wait, only look). Returns the task's status,
 * -ESHUTDOWN (see above), -ETIMEDOUT (the task goes on; wait again or
 * cancel), or -EDEADLK when called on the target loop's own thread (it would
 * block the loop that must run the task). Blocks; never suspends - in a task
 * of another loop use cio_xtask_await(). */
CIO_API int cio_xtask_wait(cio_xtask *x, double timeout);

/* From a task of any loop (the target's too): suspend until the task has
 * finished and return its status (or -ESHUTDOWN). If the caller is cancelled
 * or its timeout scope expires, the remote task is cancelled and waited for
 * until it has finished, whatever happens meanwhile (as cio_await() does: a
 * remote task that ignores its cancellation holds the call up), then
 * -ECANCELED / -ETIMEDOUT is returned; so when this returns, the remote task
 * no longer uses an arg on the caller's stack. To poll without cancelling,
 * use cio_xtask_wait(x, 0) or cio_xtask_done(). Returns -EBUSY if another
 * task already awaits x, -ENOMEM, -EPERM outside a task. May suspend. */
CIO_API int cio_xtask_await(cio_xtask *x);

/* From any thread: ask the target loop to cancel the task (before it starts:
 * it never runs and finishes with -ECANCELED). Returns 1 if the request was
 * sent, 0 if the task already finished, or the error of
 * cio_call_soon_threadsafe() (-ESHUTDOWN: the loop closed, so the handle is
 * finished or about to be). Never suspends. */
CIO_API int cio_xtask_cancel(cio_xtask *x);

/* 1 once the task has finished (a status is available), else 0. Any
 * thread; never suspends. */
CIO_API int cio_xtask_done(cio_xtask *x);

/* Final status once done; -EINPROGRESS before. Any thread; never
 * suspends. */
CIO_API int cio_xtask_status(cio_xtask *x);

/* Drop the caller's handle, from any thread. A task still running goes on
 * (fire and forget); it is not cancelled. NULL is a no-op. Never
 * suspends. */
CIO_API void cio_xtask_free(cio_xtask *x);

#ifdef __cplusplus
}
#endif
#endif
