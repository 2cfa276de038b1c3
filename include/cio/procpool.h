/* cio/procpool.h - a pool of worker processes for CPU-bound work
 * (concurrent.futures.ProcessPoolExecutor).
 *
 * Threads of one process share one GIL-free CPU budget in C, so a thread pool
 * already runs C code in parallel; a process pool adds isolation: a job that
 * crashes, leaks or corrupts memory takes down only its worker, which is
 * reported as an error for that job and replaced, and the pool keeps serving.
 *
 *   static int sum_squares(const void *in, size_t len, void **out, size_t *out_len);
 *   cio_procpool *pool = cio_procpool_new(0);     // in main(), before threads
 *   ...
 *   r = cio_procpool_run(pool, sum_squares, &n, sizeof n, &out, &out_len);
 *
 * How it works. cio_procpool_new() forks a small "zygote" process: a copy of
 * the program as it is at that moment. The zygote forks the workers, at
 * creation and whenever one must be replaced, so new workers never come from
 * the caller's (possibly multi-threaded) process. Each worker serves one job
 * at a time over a private socket: the function pointer, the input bytes,
 * then back a status and the output bytes. The caller's side of each job is
 * blocking I/O on one of the pool's own threads (a cio_executor with one
 * thread per worker), so the calling task just suspends.
 *
 * Rules for the function, which runs in a worker process:
 *   - it must be part of the program or of a library loaded before
 *     cio_procpool_new(): workers are forks of that moment, so function
 *     pointers (and any global state) are those of that moment;
 *   - create the pool early, in main() before starting threads and outside
 *     any loop, as with Python's "fork" start method: a fork copies only the
 *     forking thread, so state guarded by other threads' locks may be
 *     unusable in the worker (glibc's malloc and stdio are fork-safe);
 *   - it runs in a plain process with no cio loop (it may start one with
 *     cio_run()); it must not use the parent's loops, pools, or fds;
 *   - it sets *out to NULL or to memory from malloc() (the worker frees it
 *     after sending) and *out_len to its length, and returns 0 or a
 *     non-negative value for success, a negative errno for failure.
 * Workers exit with _exit() (no atexit handlers, no leak checks); their
 * stdout/stderr are the parent's and are flushed after every job.
 */
#ifndef CIO_PROCPOOL_H
#define CIO_PROCPOOL_H

#include "exec.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_procpool cio_procpool;

/* A job run in a worker process: in/in_len is a copy of the caller's input. */
typedef int (*cio_proc_fn)(const void *in, size_t in_len, void **out, size_t *out_len);

/* cio_procpool_shutdown(): besides CIO_EXEC_WAIT and CIO_EXEC_CANCEL (see
 * exec.h), KILL also kills the workers running jobs; those jobs fail with
 * -ECANCELED. */
#define CIO_EXEC_KILL 2

/* Start a pool of nworkers processes (0 = the CPUs this process may use).
 * Blocks until the workers are forked. Flushes every stdio stream first
 * (fflush(NULL)): the workers inherit the buffers, and output still
 * buffered would otherwise come out once per worker. Returns NULL with errno EINVAL
 * (nworkers above 65,536), ENOMEM, or the error of a failed
 * fork/socketpair. The caller owns the pool: cio_procpool_shutdown(), then
 * cio_procpool_free() (free alone does both). Any thread; never suspends. */
CIO_API cio_procpool *cio_procpool_new(size_t nworkers);

/* Run fn on a worker with a copy of in[0..in_len) and suspend until it
 * returns. On success returns fn's status (>= 0) and, if out is not NULL,
 * stores in *out a malloc'd copy of fn's output (NULL when empty; the caller
 * frees it) and its length in *out_len (may be NULL). When fn fails
 * (status < 0) its output is discarded. Other returns, with *out = NULL:
 *   -EOWNERDEAD  the worker died during the job (crash, signal, exit); it is
 *                replaced and the pool goes on;
 *   -ECANCELED / -ETIMEDOUT  the caller was cancelled or its scope expired:
 *                a queued job never runs, a running one finishes in its
 *                worker and its output is dropped (in was copied, so the
 *                caller's buffers are free to go);
 *   -ECANCELED   also: dropped by a cancelling shutdown;
 *   -EAGAIN      no worker could be started (the zygote is gone);
 *   -ESHUTDOWN   the pool is shut down; -ENOMEM; -EPERM outside a task;
 *   -EIO         the worker broke the protocol (its output was lost);
 *   -EINVAL      pool or fn NULL, or in NULL with in_len > 0.
 * in is copied; *out is the caller's. Loop thread (any loop's). May
 * suspend. */
CIO_API int cio_procpool_run(cio_procpool *pool, cio_proc_fn fn, const void *in, size_t in_len,
                             void **out, size_t *out_len);

/* Stop accepting jobs and wait for the pool's jobs as `how` says:
 * CIO_EXEC_WAIT runs the queued jobs, CIO_EXEC_CANCEL drops them (their
 * callers get -ECANCELED), CIO_EXEC_KILL drops them and kills the workers
 * running jobs. Suspends in a task, blocks elsewhere. The worker processes
 * stay until cio_procpool_free(). Never frees the pool. Returns 0,
 * -EINVAL, or -ECANCELED / -ETIMEDOUT if the calling task was interrupted
 * (the shutdown goes on). Any thread. */
CIO_API int cio_procpool_shutdown(cio_procpool *pool, int how);

/* Shut down with CIO_EXEC_WAIT if not done yet (blocking), end the worker
 * processes and the zygote and reap them. NULL is a no-op. Blocks; never
 * suspends. */
CIO_API void cio_procpool_free(cio_procpool *pool);

/* The number of worker processes; how many were replaced after dying.
 * Any thread; never suspend. */
CIO_API size_t cio_procpool_size(const cio_procpool *pool);
CIO_API size_t cio_procpool_replaced(cio_procpool *pool);

#ifdef __cplusplus
}
#endif
#endif
