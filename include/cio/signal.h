/* cio/signal.h - POSIX signals delivered to tasks (asyncio's
 * loop.add_signal_handler, plus waiting for a signal from a task).
 *
 * How it works. While some loop is interested in a signal, cio installs a
 * process-wide sigaction() handler for it. The handler only counts the
 * delivery and writes to an eventfd of every interested loop (a self-pipe),
 * so it works whatever the signal masks of the process's other threads are:
 * nothing has to be blocked, and children spawned by cio/process.h start with
 * the default dispositions and an empty mask. Each interested loop runs a
 * small dispatcher task ("cio-signals") that reads the eventfd, wakes the
 * waiting tasks and schedules the handlers. It exits once the loop catches
 * no signal any more; a loop closed while it still catches some cancels it,
 * which gives the dispositions back (debug mode lists it among the tasks
 * cancelled at close). A loop closed before it ever turned once after the
 * first registration (so the dispatcher never ran) leaves them to the next
 * call of this API on the same thread.
 *
 * Several loops. A signal is a process-wide event: EVERY loop interested in
 * signo gets each delivery (its waiters wake, its handler runs), whichever
 * thread the kernel picked to run the sigaction handler.
 *
 * Coalescing. Deliveries that arrive before the loop gets to dispatch them are
 * merged into one (as the kernel merges pending standard signals): a handler
 * runs at least once after any burst, not once per kill().
 *
 * Dispositions. The previous disposition of signo is saved when the first
 * loop becomes interested and restored when the last one stops being
 * interested (handler removed, signal unwatched, or loop closed). A signal
 * registered here takes precedence over whatever was installed before, for
 * instance the SIGINT handler of cio_run() (Ctrl-C cancels the main task):
 * while a loop catches SIGINT through this API, Ctrl-C only does what the
 * loop's handler/waiters do; afterwards the previous handler is back.
 * Ctrl-C twice: once a task has taken a SIGINT (a wait returned it), a later
 * SIGINT that no task waits for and no handler wants ends the process as an
 * unhandled SIGINT would: a program that began a slow graceful shutdown on
 * the first Ctrl-C can still be stopped by the second, as with asyncio.run.
 * SIGKILL, SIGSTOP and the synchronous fault signals (SIGSEGV, SIGBUS,
 * SIGILL, SIGFPE, SIGTRAP, SIGSYS) are refused with -EINVAL.
 *
 * All calls are loop-thread only (they act on the calling thread's loop).
 * Link with cio-io.
 */
#ifndef CIO_SIGNAL_H
#define CIO_SIGNAL_H

#include "select.h"
#include "task.h"

#include <signal.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Suspend until signo is delivered. The first call for signo on a loop also
 * starts *watching* it (see cio_signal_watch): from then on the loop keeps
 * catching signo, and a delivery that arrives while no task waits is kept
 * (one, coalesced) and ends the next wait at once, so a loop such as
 *   while (cio_signal_wait(SIGHUP) == 0) reload();
 * loses no SIGHUP sent during reload() and is never killed by one. Every
 * task waiting for signo on the loop is woken by a delivery.
 * Returns 0, -ECANCELED, -ETIMEDOUT, -EINVAL (bad signo), -EPERM outside a
 * task, -ESHUTDOWN while the loop closes, -ENOSPC if more than 128 loops use
 * signals at once, or the error of a system call. May suspend. */
CIO_API int cio_signal_wait(int signo);

/* Like cio_signal_wait for any of the n signals in signos[] (all watched
 * from the call on); returns the signal number (> 0) that ended the wait.
 * n == 0 or a bad signal number is -EINVAL. May suspend. */
CIO_API int cio_signal_wait_any(const int *signos, size_t n);

/* Start catching signo on this loop without waiting yet, so that a later
 * cio_signal_wait() cannot miss a delivery in between (e.g. before starting
 * the thread or child that will send it). Idempotent. Returns 0 or an error
 * as for cio_signal_wait. Never suspends. */
CIO_API int cio_signal_watch(int signo);

/* Stop watching signo on this loop and drop a kept delivery. The previous
 * disposition comes back once nothing else (a handler, another loop) catches
 * signo. Returns 0, -ENOENT if not watched, -EBUSY while tasks wait for it,
 * -EINVAL. Never suspends. */
CIO_API int cio_signal_unwatch(int signo);

/* A cio_select case (cio/select.h): signo is delivered. It works as
 * cio_signal_wait(signo) does: cio_select starts watching signo, and a
 * delivery kept while nobody waited completes the case at once (and is
 * consumed); a delivery wakes every task of the loop waiting for signo,
 * in a wait or in a select. On completion .status is 0 and .item
 * is (void *)(intptr_t)signo; or .status is -EINVAL (bad signo),
 * -ESHUTDOWN (the loop closes), -ENOSPC, or a system call's error. Never
 * suspends (cio_select does). */
CIO_API cio_case cio_case_signal(int signo);

/* asyncio's add_signal_handler: run fn(arg) on this loop each time signo is
 * delivered (bursts coalesced, see above). Replaces this loop's previous
 * handler for signo. fn runs on the loop thread as a plain loop callback
 * (cio_call_soon), soon after the delivery: it must not suspend (waiting
 * calls return -EPERM there); it may spawn or cancel tasks, set events,
 * add or remove handlers. A handler removed before its callback runs is not
 * called. arg is borrowed until the handler is removed or the loop closes.
 * Returns 0 or an error as for cio_signal_watch. Never suspends. */
CIO_API int cio_add_signal_handler(int signo, cio_callback_fn fn, void *arg);

/* Remove this loop's handler for signo. Returns 1 if one was removed, 0 if
 * there was none (asyncio's True/False), -EINVAL for a bad signo. The
 * previous disposition comes back once nothing else catches signo.
 * Never suspends. */
CIO_API int cio_remove_signal_handler(int signo);

#ifdef __cplusplus
}
#endif
#endif
