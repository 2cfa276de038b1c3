/* xwait.h - waking a waiting task from another thread (private to exec).
 *
 * The waiting task and the completing thread share a cio__xwait, guarded by
 * a mutex that belongs to the owner (the pool, the handle). The rules that
 * keep it safe against cancellation and loop close:
 *
 *   - The completer, holding the owner's mutex, calls cio__xwait_post(): if
 *     the task still waits, the state becomes DONE and a wake-up callback is
 *     queued on the task's loop with call_soon_threadsafe.
 *   - A task that stops waiting for another reason (-ECANCELED, -ETIMEDOUT)
 *     takes the owner's mutex and, if the state is still WAITING, marks it
 *     GONE: nobody posts to it any more.
 *   - So a post only ever happens while the task is inside its wait, and a
 *     loop cannot finish closing while one of its tasks is alive: the loop is
 *     valid for the whole call_soon_threadsafe, which runs under the mutex
 *     the task needs to leave.
 *   - The wake-up callback runs on the loop thread and wakes w->task only if
 *     it is set; the task clears it as soon as cio_suspend() returns, so a
 *     late callback never wakes a later, unrelated suspension.
 *
 * References: the waiting task holds one, a queued callback holds one, and
 * the owner adds its own as it sees fit; the last unref calls destroy.
 */
#ifndef CIO_EXEC_XWAIT_H
#define CIO_EXEC_XWAIT_H

#include <stdatomic.h>
#include <stdbool.h>

#include "base/alloc.h"
#include "base/compiler.h"
#include "base/list.h"
#include "cio.h"

enum { CIO__XW_WAITING = 0, CIO__XW_DONE, CIO__XW_GONE };

typedef struct cio__xwait {
  cio_loop *loop;
  cio_task *task; /* loop thread only; NULL once the task stopped waiting */
  bool delivered; /* loop thread only: deliver() ran for this post */
  int state;      /* under the owner's mutex */
  int status;     /* set with DONE */
  atomic_int refs;
  void (*destroy)(struct cio__xwait *w);
} cio__xwait;

/* Bind w to the calling task (one reference). Returns 0 or -EPERM outside a
 * task. */
int cio__xwait_init(cio__xwait *w, void (*destroy)(cio__xwait *w));
void cio__xwait_ref(cio__xwait *w);
void cio__xwait_unref(cio__xwait *w);

/* Owner's mutex held, any thread: complete a waiting w with status and wake
 * its task. Returns 1 if posted, 0 if w was not WAITING. */
int cio__xwait_post(cio__xwait *w, int status);

/* Suspend the calling task (bound to w) until posted, cancelled or timed out;
 * then w->task is cleared. Returns 0 when woken by a post, else the error of
 * cio_suspend(); the caller then settles the state under its mutex with
 * cio__xwait_leave(). */
int cio__xwait_suspend(cio__xwait *w, const char *what);

/* Owner's mutex held, the task's thread: the task gives up waiting. Returns
 * 1 if w had been posted (DONE) anyway, 0 if it is now GONE. */
int cio__xwait_leave(cio__xwait *w);

/* The most threads (or workers) one pool may have. */
#define CIO__EXEC_MAX_THREADS 65536u

/* Number of CPUs this process may run on (affinity mask), at least 1. */
int cio__exec_ncpu(void);

#endif
