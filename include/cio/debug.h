/* cio/debug.h - looking inside a running loop: task dumps, backtraces of
 * suspended tasks, stack high-water marks. See docs/DEBUGGING.md.
 *
 * Debug mode (cio_loop_opts.debug = 1, or CIO_DEBUG=1 in the environment
 * with debug = -1, which is what cio_run() uses) adds, at a cost paid only in
 * debug mode:
 *   - a report on stderr when a task runs longer than slow_task_threshold
 *     (default 0.1 s) without suspending, or when the loop's own callbacks
 *     and timers hold it that long;
 *   - at cio_loop_close(): the tasks whose handle was released without
 *     cio_await() or cio_detach() ("never awaited"), and detached tasks that
 *     failed with nobody reading the error (also reported when they fail);
 *   - SIGQUIT (Ctrl-\) prints every task of every debug loop on stderr,
 *     with its backtrace, as Go does - but does not kill the process. It is
 *     installed only if SIGQUIT is at its default action, from the first
 *     debug loop's creation until the last one closes. The line saying which
 *     task holds the loop is written at once, from the signal handler; the
 *     dump itself is printed at the loop's next turn (a task that never
 *     suspends stops the loop from turning: that line names it);
 *   - every finished task's stack is measured (pages touched) and cleaned,
 *     so high-water marks are exact to the page.
 *
 * Backtraces use the compiler's unwinder (_Unwind_Backtrace, libgcc) and
 * name functions with dladdr(): only exported symbols have names, so link
 * executables with -rdynamic (CMake: ENABLE_EXPORTS) to see their own
 * functions; static functions and others print as module+offset, which
 * `addr2line -f -e module offset` turns into function and line.
 *
 * All functions here: loop thread only, never suspend.
 */
#ifndef CIO_DEBUG_H
#define CIO_DEBUG_H

#include "task.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Write a dump of every live task of `loop` (NULL = the current thread's
 * loop) to file descriptor fd: name, id, state, what it waits on, pending
 * cancellation, stack use, and the backtrace of each task that has run
 * (the calling task's from its caller on; a suspended task's from where it
 * suspended). Works in and out of debug mode, from a task or from the loop's
 * thread outside tasks. Suspended tasks are unwound on their own stacks; one
 * with less than 8 KiB of stack left is listed without a backtrace. Returns
 * 0, -EINVAL from a thread that is not the loop's, -EBUSY if called from
 * inside another dump. The format is for people, not parsers. */
CIO_API int cio_loop_dump(cio_loop *loop, int fd);

/* Store up to max return addresses of task t's stack in pcs, innermost
 * first: for the calling task, from the caller of this function; for a
 * suspended task, from the call that suspended it. Returns how many, or
 * -EINVAL (NULL, t of another loop or thread), -ESRCH (t has not started or
 * is done), -ENOSPC (t has too little stack left to unwind safely). */
CIO_API int cio_task_backtrace(const cio_task *t, void **pcs, int max);

/* Bytes of t's stack touched so far (a live task; whole pages, counting the
 * top page where cio keeps a small descriptor), or the figure measured when
 * it finished (debug mode). 0 for a task that has not started, or finished
 * outside debug mode. Outside debug mode stacks are reused without being
 * cleaned, so a live task's figure may include pages touched by earlier
 * tasks on the same stack: an upper bound. Size stacks from debug runs. */
CIO_API size_t cio_task_stack_high_water(const cio_task *t);

/* The usable size of t's stack (its requested size until it starts). */
CIO_API size_t cio_task_stack_size(const cio_task *t);

/* Debug mode: the largest high-water mark of any task of this loop that has
 * finished so far; 0 outside debug mode. */
CIO_API size_t cio_loop_stack_high_water(const cio_loop *loop);

#ifdef __cplusplus
}
#endif
#endif
