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
 *   - cio_run_in_executor_ex() is the safe way for a caller that may be
 *     cancelled, also to get results back: pass heap memory and its
 *     destructor. When the call returns 0, the job ran to its end, its status
 *     is in *status and arg is the caller's again - read the results, then
 *     free it; release is not called. When it returns an error, the caller
 *     gave the job up (or it never ran): release(arg) is called exactly once,
 *     at once if fn never runs, else on the pool thread right after fn
 *     returns, possibly after the caller has resumed; the caller must not
 *     touch arg again. release must not touch the caller's stack.
 *
 *     struct query *q = query_new(sql);     // heap: the job may outlive us
 *     int st;
 *     int r = cio_run_in_executor_ex(NULL, run_query, q, query_free, &st);
 *     if (r < 0) return r;                  // q is the pool's: hands off
 *     use(q->rows, st);                     // q is ours again
 *     query_free(q);
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
/* CIO_EXEC_WAIT: run them all (concurrent.futures' default).
 * CIO_EXEC_CANCEL: drop them: fn never runs, their tasks get -ECANCELED
 * (cancel_futures=True). */
#define CIO_EXEC_WAIT   0
#define CIO_EXEC_CANCEL 1

/* A new pool of at most max_threads threads (0 = min(32, ncpu + 4)). No
 * thread starts before the first job. Returns NULL with errno EINVAL
 * (max_threads above 65,536) or ENOMEM. The caller owns the pool:
 * cio_executor_shutdown() it, then cio_executor_free() it (free alone
 * does both). Any thread; never suspends. */
CIO_API cio_executor *cio_executor_new(size_t max_threads);

/* The process's default pool, created on first use (NULL + errno ENOMEM if
 * that fails). Owned by cio: never free it. Any thread; never suspends. */
CIO_API cio_executor *cio_executor_default(void);

/* Run fn(arg) on a thread of ex (NULL = the default pool) and suspend until
 * it returns. Returns fn's status; -ECANCELED / -ETIMEDOUT if the caller was
 * cancelled or its scope expired (see Cancellation above: arg must outlive
 * the job); -ESHUTDOWN if ex is shut down; -EAGAIN if no thread could be
 * started; -ENOMEM; -EINVAL (fn NULL); -EPERM outside a task. Loop
 * thread (any loop's). May suspend. */
CIO_API int cio_run_in_executor(cio_executor *ex, cio_job_fn fn, void *arg);

/* Run fn(arg) on a thread of ex (NULL = the default pool), suspend until it
 * returns, and give arg back to the caller only if the caller saw the job
 * finish (see Cancellation above):
 *   0        fn ran to its end; its status is in *status (status may be
 *            NULL); arg is the caller's again and release was not called;
 *   < 0      the job was given up or never ran, and release(arg) is called
 *            exactly once (already, or on the pool thread after fn):
 *            -ECANCELED / -ETIMEDOUT (the caller was interrupted, or a
 *            cio_executor_shutdown(CIO_EXEC_CANCEL) dropped the queued job:
 *            -ECANCELED), -ESHUTDOWN, -EAGAIN (no thread), -ENOMEM, -EINVAL
 *            (fn NULL), -EPERM outside a task.
 * release may be NULL when arg needs no cleanup. Loop thread (any loop's).
 * May suspend. */
CIO_API int cio_run_in_executor_ex(cio_executor *ex, cio_job_fn fn, void *arg,
                                   void (*release)(void *arg), int *status);

/* asyncio.to_thread(): cio_run_in_executor(NULL, fn, arg). May suspend. */
CIO_API int cio_to_thread(cio_job_fn fn, void *arg);

/* Stop accepting jobs (later calls fail with -ESHUTDOWN), treat queued jobs
 * as `how` says (CIO_EXEC_WAIT or CIO_EXEC_CANCEL), then wait until every
 * job has finished and the pool's threads have exited. In a task the wait
 * suspends the task and the loop keeps running; elsewhere it blocks the
 * thread. Calling it again is allowed (CANCEL after WAIT drops what is still
 * queued). Returns 0; -EINVAL for a bad `how` or the default pool;
 * -ECANCELED / -ETIMEDOUT if the calling task was cancelled while waiting
 * (the shutdown goes on; cio_executor_free() finishes it); -ENOMEM (in a
 * task: the shutdown has begun but is not waited for); -EDEADLK when called
 * from one of the pool's own jobs (nothing waited for). Never frees ex.
 * Any thread; may suspend in a task, blocks elsewhere. */
CIO_API int cio_executor_shutdown(cio_executor *ex, int how);

/* Shut down with CIO_EXEC_WAIT if not done yet, wait for the threads to exit
 * (blocking the thread: in a task, await cio_executor_shutdown() first so
 * the loop keeps running) and free the pool. Tasks still waiting for jobs
 * of the pool (their jobs have finished by then) resume normally. NULL is a
 * no-op; the default pool and a call from the pool's own jobs are ignored.
 * Any thread; blocks, never suspends. */
CIO_API void cio_executor_free(cio_executor *ex);

/* The pool's maximum thread count, and the threads started so far. Any
 * thread; never suspends. */
CIO_API size_t cio_executor_max_threads(const cio_executor *ex);
CIO_API size_t cio_executor_threads(cio_executor *ex);

#ifdef __cplusplus
}
#endif
#endif
