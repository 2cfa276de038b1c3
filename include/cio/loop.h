/* cio/loop.h - the event loop: one per thread.
 *
 * A loop owns its tasks, timers and callbacks. All of them run on the thread
 * that created the loop; other threads talk to a loop only through
 * cio_call_soon_threadsafe(). No function here suspends the calling task.
 */
#ifndef CIO_LOOP_H
#define CIO_LOOP_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_loop cio_loop;
typedef struct cio_task cio_task;
typedef struct cio_timer cio_timer;

/* A task body: returns 0 for success or a negative errno (like raising). */
typedef int (*cio_task_fn)(void *arg);
/* A plain callback run by the loop (not a task: it must not suspend). */
typedef void (*cio_callback_fn)(void *arg);

/* Default stack size of a task: 256 KiB of address space. Pages are committed
 * only when touched, so a task that uses 3 KiB of stack costs one page. */
#define CIO_DEFAULT_STACK_SIZE (256u * 1024u)

/* Debug mode (reports on stderr, SIGQUIT task dumps, exact stack high-water
 * marks) is described in cio/debug.h and docs/DEBUGGING.md. */
typedef struct cio_loop_opts {
  size_t stack_size;          /* default stack size for tasks of this loop; 0 = default */
  int debug;                  /* 1 = debug mode, 0 = off, -1 = from CIO_DEBUG env */
  double slow_task_threshold; /* debug: report a task holding the loop longer
                                 (s); 0 = 0.1 */
} cio_loop_opts;

/* Create a loop and make it the calling thread's current loop. opts may be
 * NULL. Returns NULL with errno set: EBUSY if this thread already has a loop,
 * ENOMEM, or the error of a failed system call. The caller owns the loop:
 * cio_loop_close() it on this thread, then cio_loop_free() it (free alone
 * does both). */
CIO_API cio_loop *cio_loop_new(const cio_loop_opts *opts);

/* The calling thread's current loop, or NULL. */
CIO_API cio_loop *cio_loop_current(void);

/* asyncio.run(): create a loop, run fn(arg) as the main task until it returns,
 * cancel every task still alive and wait for them to unwind, close the loop.
 * Those leftover tasks unwind after fn has returned: they must not use
 * arguments that lived on the main task's stack (await or cancel them in fn).
 * Returns the main task's status, or a negative errno if the loop could not be
 * created (-EBUSY when the thread already runs a loop). Blocks the thread.
 * The loop's debug mode comes from the CIO_DEBUG environment variable.
 *
 * Ctrl-C: while the main task runs, if SIGINT is at its default action
 * (no handler installed, not ignored) and no other cio_run() has taken it,
 * cio_run installs its own handler. The first SIGINT cancels the main task:
 * its current or next suspension returns -ECANCELED, its cleanup may still
 * suspend, and cio_run returns its status (normally -ECANCELED; 0 if fn chose
 * to finish normally). A second SIGINT before fn returns gets the default
 * action: the process dies, as with asyncio.run(). The previous disposition
 * is restored when fn returns, before the leftover tasks are cancelled. Other
 * tasks are not cancelled by the signal: the main task decides. */
CIO_API int cio_run(cio_task_fn fn, void *arg);

/* Run the loop until task t has finished; returns t's status. Must be called
 * from the loop's thread, outside any task. Does not consume t. Returns
 * -EINVAL for a task of another loop (or the wrong thread), -EBUSY if the
 * loop is already running, -EINTR if cio_loop_stop() ended the run first. */
CIO_API int cio_loop_run_until_complete(cio_loop *loop, cio_task *t);

/* Run until cio_loop_stop() is called. Returns 0, or -EBUSY if already running.
 */
CIO_API int cio_loop_run_forever(cio_loop *loop);

/* Make run_forever / run_until_complete return after the current iteration.
 * Callable from tasks and callbacks of the loop. */
CIO_API void cio_loop_stop(cio_loop *loop);
/* The same from any thread (through cio_call_soon_threadsafe). Returns 0,
 * -ENOMEM, or -ESHUTDOWN when the loop is closing. */
CIO_API int cio_loop_stop_threadsafe(cio_loop *loop);

/* Close the loop (asyncio's loop.close() with asyncio.run's shutdown): cancel
 * every task still alive, run the loop until they have all finished, run the
 * close hooks, close the reactor and the timers (one-shot ones are freed,
 * user timers are disarmed). The loop stops being the thread's current loop,
 * so the thread may create another; the memory stays until cio_loop_free(),
 * and queries on it still work. Task handles still held by the user stay
 * valid until cio_task_release(). Returns 0 (also when already closed),
 * -EBUSY if called while the loop runs, -EINVAL from the wrong thread. In
 * debug mode, tasks that had to be cancelled are reported, and so are tasks
 * whose handle was released without being awaited or detached and detached
 * tasks whose failure nobody read (see cio/debug.h). A debug loop must be
 * closed before its thread exits (it is registered for SIGQUIT). Blocks the
 * thread while leftover tasks unwind. */
CIO_API int cio_loop_close(cio_loop *loop);

/* Free the loop, closing it first if needed (then from its own thread, not
 * while it runs: otherwise nothing is freed and a message says why). After
 * close, any thread may free it, once no other thread can still call
 * cio_call_soon_threadsafe() on it. NULL is a no-op. */
CIO_API void cio_loop_free(cio_loop *loop);

/* Tasks of the loop that have not finished yet (asyncio.all_tasks()),
 * daemon tasks (cio_spawn_opts.daemon: libraries' service tasks) left out. */
CIO_API size_t cio_loop_task_count(const cio_loop *loop);

/* Run fn(arg) when the loop closes: after every task has finished and the
 * pending callbacks have run, before the reactor is closed; hooks run last
 * added first and must not start new work (spawning fails by then). For
 * layers and libraries that keep per-loop state (a resolver channel, signal
 * watchers). Returns 0, -ENOMEM, -EINVAL (loop or fn NULL), or -ESHUTDOWN
 * once the hooks are running. Loop thread only; never suspends. */
CIO_API int cio_loop_add_close_hook(cio_loop *loop, cio_callback_fn fn, void *arg);

/* Monotonic time of the loop in seconds (asyncio's loop.time()). */
CIO_API double cio_loop_time(cio_loop *loop);
/* Monotonic clock in nanoseconds (CLOCK_MONOTONIC). Any thread. */
CIO_API int64_t cio_now_ns(void);

/* Whether debug mode is on for this loop. */
CIO_API int cio_loop_debug(cio_loop *loop);

/* Schedule fn(arg) to run on the loop's next iteration, in FIFO order.
 * Returns 0 or -ENOMEM. Loop thread only. */
CIO_API int cio_call_soon(cio_loop *loop, cio_callback_fn fn, void *arg);

/* Schedule fn(arg) from ANY thread; wakes the loop if it is sleeping.
 * Returns 0, -ENOMEM, or -ESHUTDOWN once cio_loop_close() has finished
 * running the loop's remaining tasks (fn will not run). Calls accepted
 * before that run, also while close is still cancelling tasks. The loop pointer
 * must stay valid: the caller must not use it after cio_loop_free() (coordinate
 * lifetimes with the loop's owner). */
CIO_API int cio_call_soon_threadsafe(cio_loop *loop, cio_callback_fn fn, void *arg);

/* Fire-and-forget timers: run fn(arg) after delay seconds / at loop time
 * `when` (seconds, cio_loop_time() scale). Returns 0 or -ENOMEM. Loop thread.
 */
CIO_API int cio_call_later(cio_loop *loop, double delay, cio_callback_fn fn, void *arg);
CIO_API int cio_call_at(cio_loop *loop, double when, cio_callback_fn fn, void *arg);

/* Cancellable timers. cio_timer_new returns a stopped timer owned by the
 * caller (NULL + errno ENOMEM, EINVAL). start (re)arms it: fn(arg) runs once
 * after delay seconds; it returns 0, -ENOMEM, or -ESHUTDOWN after the loop
 * closed. stop disarms it (no-op if not armed); free stops and frees it (also
 * allowed from inside its own callback, and after the loop has closed: a
 * timer that outlives its loop can only be freed). Loop thread only. */
CIO_API cio_timer *cio_timer_new(cio_loop *loop, cio_callback_fn fn, void *arg);
CIO_API int cio_timer_start(cio_timer *t, double delay);
CIO_API void cio_timer_stop(cio_timer *t);
CIO_API int cio_timer_active(const cio_timer *t);
CIO_API void cio_timer_free(cio_timer *t);

/* ---- Reactor plug-in (used by the io layer; most users never call this) ----
 *
 * The loop sleeps by calling poller->poll(ctx, timeout_ns) when no task is
 * ready: timeout_ns is -1 (until woken), 0 (just look) or a positive bound.
 * The poller must also watch cio_loop_wakeup_fd() for readability (a
 * threadsafe call arrived) and call cio_loop_wakeup_drain() when it fires.
 * poll() wakes tasks for the events it finds and returns how many it handled
 * or a negative errno. Without a poller the loop uses poll(2) on the wake-up
 * fd alone. close() runs from cio_loop_close(). */
typedef struct cio_poller_ops {
  int (*poll)(void *ctx, int64_t timeout_ns);
  void (*close)(void *ctx);
} cio_poller_ops;

/* Install a poller; returns 0, or -EBUSY if one is installed already. */
CIO_API int cio_loop_set_poller(cio_loop *loop, const cio_poller_ops *ops, void *ctx);
CIO_API void *cio_loop_poller_ctx(cio_loop *loop);
CIO_API int cio_loop_wakeup_fd(cio_loop *loop);
CIO_API void cio_loop_wakeup_drain(cio_loop *loop);

#ifdef __cplusplus
}
#endif
#endif
