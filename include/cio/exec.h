/* cio/exec.h - thread-pool executors (asyncio's run_in_executor, to_thread).
 *
 * A blocking or CPU-heavy function would stall every task of the loop. Run it
 * on a pool thread instead: the calling task suspends until the function has
 * returned, and the loop keeps running its other tasks meanwhile.
 *
 *   static int read_config(void *arg) { ... blocking calls ... return 0; }
 *   int r = cio_run_in_executor(NULL, read_config, &cfg);  // default pool
 *
 * Jobs. A job is `int fn(void *arg)`, run on one of the pool's threads. It is
 * a plain function, not a task: it must not call cio functions that suspend
 * (it has no loop). It returns 0 or a non-negative value for success, or a
 * negative errno, which the waiting task gets back.
 *
 * Cancellation and the rule for arg. A waiting task that is cancelled (or
 * whose timeout scope expires) resumes at once with -ECANCELED (-ETIMEDOUT).
 * A job still queued is then withdrawn and never runs. A job already running
 * cannot be stopped: it runs to its end and its status is dropped. So:
 *   - with cio_run_in_executor(), arg must stay valid until the job has
 *     finished, even if the caller is cancelled or times out: static storage,
 *     or memory the job itself frees. Memory on the caller's stack is only
 *     safe when the caller cannot be cancelled or time out;
 *   - with cio_run_in_executor_ex(), the pool calls release(arg) exactly once,
 *     on a pool thread or on the caller's thread, whatever the call returns:
 *     after fn returns, or instead of fn when fn never runs. A caller that may
 *     be cancelled passes heap memory and free (or its own destructor) and
 *     reads results only when the call returned the job's status. release
 *     has run by the time the call returns only if fn never ran; otherwise it
 *     runs on the pool thread right after fn, possibly after the caller has
 *     resumed - it must not touch the caller's stack.
 *
 * Threads. A pool starts threads on demand, up to its maximum, and keeps them
 * until shutdown. Pool threads block every asynchronous signal, so
 * process-directed signals go to other threads. Pools do not survive fork():
 * in a child, use new pools (the default pool is re-created there).
 *
 * The default pool exists once per process, created on first use with
 * min(32, ncpu + 4) threads (Python's sizing), ncpu counted from the CPU
 * affinity mask. It is shut down at exit(): queued jobs are dropped and
 * running ones waited for. Do not call exit() while other threads still
 * submit jobs (the same holds for any pool freed while in use).
 *
 * Loop close. A loop closing with tasks waiting on jobs cancels those tasks as
 * any others: they withdraw from their jobs, which finish on their own.
 */
#ifndef CIO_EXEC_H
#define CIO_EXEC_H

#include "task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_executor cio_executor;

/* A job: a plain function run on a pool thread. */
typedef int (*cio_job_fn)(void *arg);

/* How cio_executor_shutdown() treats jobs still queued. */
#define CIO_EXEC_WAIT 0 /* run them all (concurrent.futures' default) */
#define CIO_EXEC_CANCEL                                                                            \
  1 /* drop them: fn never runs, their tasks get                                                   \
       -ECANCELED (cancel_futures=True) */

/* A new pool of at most max_threads threads (0 = min(32, ncpu + 4)). No
 * thread starts before the first job. Returns NULL with errno EINVAL
 * (max_threads < 0) or ENOMEM. The caller owns the pool: cio_executor_free().
 * Any thread; does not suspend. */
CIO_API cio_executor *cio_executor_new(int max_threads);

/* The process's default pool, created on first use (NULL + errno ENOMEM if
 * that fails). Owned by cio: never free it. Any thread. */
CIO_API cio_executor *cio_executor_default(void);

/* Run fn(arg) on a thread of ex (NULL = the default pool) and suspend until
 * it returns. Returns fn's status; -ECANCELED / -ETIMEDOUT if the caller was
 * cancelled or its scope expired (see Cancellation above: arg must outlive
 * the job); -ESHUTDOWN if ex is shut down; -EAGAIN if no thread could be
 * started; -ENOMEM; -EPERM outside a task. May suspend. */
CIO_API int cio_run_in_executor(cio_executor *ex, cio_job_fn fn, void *arg);

/* The same, and release(arg) is called exactly once whatever the outcome
 * (release may be NULL). See Cancellation above. May suspend. */
CIO_API int cio_run_in_executor_ex(cio_executor *ex, cio_job_fn fn, void *arg,
                                   void (*release)(void *arg));

/* asyncio.to_thread(): cio_run_in_executor(NULL, fn, arg). May suspend. */
CIO_API int cio_to_thread(cio_job_fn fn, void *arg);

/* Stop accepting jobs (later calls fail with -ESHUTDOWN), treat queued jobs
 * as `how` says (CIO_EXEC_WAIT or CIO_EXEC_CANCEL), then wait until every
 * job has finished and the pool's threads have exited. In a task the wait
 * suspends the task and the loop keeps running; elsewhere it blocks the
 * thread. Calling it again is allowed (CANCEL after WAIT drops what is still
 * queued). Returns 0; -EINVAL for a bad `how` or the default pool;
 * -ECANCELED / -ETIMEDOUT if the calling task was cancelled while waiting
 * (the shutdown goes on; cio_executor_free() finishes it); -EDEADLK when
 * called from one of the pool's own jobs (nothing waited for). */
CIO_API int cio_executor_shutdown(cio_executor *ex, int how);

/* Shut down with CIO_EXEC_WAIT if not done yet, wait for the threads to exit
 * (blocking the thread: in a task, await cio_executor_shutdown() first so
 * the loop keeps running) and free the pool. Tasks still waiting for jobs
 * of the pool (their jobs have finished by then) resume normally. NULL is a
 * no-op; the default pool and a call from the pool's own jobs are ignored.
 * Never suspends. */
CIO_API void cio_executor_free(cio_executor *ex);

/* The pool's maximum thread count, and the threads started so far. */
CIO_API int cio_executor_max_threads(const cio_executor *ex);
CIO_API int cio_executor_threads(cio_executor *ex);

#ifdef __cplusplus
}
#endif
#endif
