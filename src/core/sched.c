/* sched.c - switching between tasks: the ready queue, park/wake, task start
 * and finish.
 *
 * A task that suspends switches straight to the next ready task, without a
 * detour through the loop, as long as the loop's budget for this turn lasts
 * (CIO__BUDGET runs); then control returns to the loop context, which fires
 * timers, polls for I/O and hands out a new budget. So a switch is one
 * register swap, while timers and I/O are still looked at every few dozen
 * task runs. A finishing task always returns to the loop, which releases its
 * stack (a task cannot free the stack it is running on).
 */
#include "internal.h"

#include <stdio.h>

#ifdef CIO_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef CIO_TSAN
#include <sanitizer/tsan_interface.h>
#endif

_Thread_local cio_loop *cio__tls_loop;

cio_task *cio__current(void) {
  cio_loop *loop = cio__tls_loop;
  return loop ? loop->current : NULL;
}

static inline void q_push(cio__taskq *q, cio_task *t) {
  t->next = NULL;
  if (q->tail)
    q->tail->next = t;
  else
    q->head = t;
  q->tail = t;
  q->len++;
}

static inline cio_task *q_pop(cio__taskq *q) {
  cio_task *t = q->head;
  if (t) {
    q->head = t->next;
    if (!q->head) q->tail = NULL;
    q->len--;
  }
  return t;
}

void cio__ready_push(cio_loop *loop, cio_task *t) {
  cio__assert(t->state == CIO_TASK_READY && t->loop == loop);
  q_push(&loop->rq, t);
}

/* Which ready task runs next. Tasks woken by the outside world - a timer
 * fired, a descriptor became ready (cio__wake_first) - go before the FIFO
 * of new tasks, tasks that yielded and tasks woken by other tasks, much as
 * Go runs a readied goroutine next: such a task is usually about to finish
 * its work and give its stack back, while a new one is about to take
 * another. Without this a burst of spawns (a million tasks that each sleep)
 * keeps every task alive at once. Wakes by other tasks (a hand-over, an
 * awaited task's end) stay in FIFO order, as in asyncio: putting them first
 * would only add switches to spawn-then-await patterns. Fairness: after
 * CIO__WOKEN_STREAK woken tasks in a row the FIFO gets a turn, so wakes
 * that keep coming cannot starve new or yielding tasks. */
static inline cio_task *ready_pop(cio_loop *loop) {
  if (CIO_LIKELY(!loop->wq.head)) return q_pop(&loop->rq);
  if (loop->woken_streak < CIO__WOKEN_STREAK || !loop->rq.head) {
    loop->woken_streak++;
    return q_pop(&loop->wq);
  }
  loop->woken_streak = 0;
  return q_pop(&loop->rq);
}

/* Bookkeeping when a context gives up the CPU (debug mode only): the loop
 * context counts too, from the end of its last poll (loop.c). */
static void account_run(cio_loop *loop, cio_task *from, cio_task *to) {
  int64_t now = cio__clock_ns();
  int64_t start = from ? from->run_start : loop->run_start;
  if (now - start > loop->slow_ns) cio__debug_slow_task(loop, from, now - start);
  if (to)
    to->run_start = now;
  else
    loop->run_start = now;
}

/* Switch from the running context (task `from`, or the loop when NULL) to
 * task `to` (or the loop when NULL). Returns when `from` is resumed. */
static void switch_to(cio_loop *loop, cio_task *from, cio_task *to) {
  if (CIO_UNLIKELY(loop->debug)) account_run(loop, from, to);
  loop->current = to;
  cio__ctx *fc = from ? &from->ctx : &loop->sched_ctx;
  cio__ctx *tc = to ? &to->ctx : &loop->sched_ctx;
#ifdef CIO_ASAN
  void **fake = !from ? &loop->asan_fake : from->state == CIO_TASK_DONE ? NULL : &from->asan_fake;
  if (to)
    __sanitizer_start_switch_fiber(fake, to->stack->lo, to->stack->size);
  else
    __sanitizer_start_switch_fiber(fake, loop->asan_stack_lo, loop->asan_stack_size);
#endif
#ifdef CIO_TSAN
  __tsan_switch_to_fiber(to ? to->tsan_fiber : loop->tsan_fiber, 0);
#endif
  cio__ctx_swap(fc, tc);
#ifdef CIO_ASAN
  __sanitizer_finish_switch_fiber(from ? from->asan_fake : loop->asan_fake, NULL, NULL);
#endif
}

void cio__task_finish(cio_task *t, int status) {
  cio_loop *loop = t->loop;
  t->status = status;
  t->state = CIO_TASK_DONE;
  t->waiting_on = NULL;
  cio__list_remove(&t->live);
  loop->ntasks--;
  loop->ndaemon -= t->daemon;
  cio__link *l;
  while ((l = cio__list_pop_front(&t->watchers))) {
    cio__watch *w = cio__container_of(l, cio__watch, link);
    w->fn(w, t);
  }
  if (CIO_UNLIKELY(loop->debug)) cio__debug_task_done(t);
}

/* Give a task its stack before its first run. Returns false if it finished
 * instead (cancelled before it ever ran, or no stack to be had). Kept out of
 * line: inlined, it costs pick() registers on every switch. */
__attribute__((noinline)) static bool task_start(cio_loop *loop, cio_task *t) {
  if (t->cancel_pending) {
    t->cancel_pending = false;
    cio__task_finish(t, -ECANCELED);
    cio__task_unref(t);
    return false;
  }
  int err = -ENOMEM;
  t->stack = cio__stack_get(&loop->stacks, t->stack_size, &err);
  if (!t->stack) {
    cio__task_finish(t, err);
    cio__task_unref(t);
    return false;
  }
  cio__ctx_make(&t->ctx, t->stack->lo, t->stack->size);
#ifdef CIO_TSAN
  /* Costly (~0.3 ms), but reusing fibers across tasks crashes GCC 12's
   * TSan runtime; TSan builds run only the threading tests. */
  t->tsan_fiber = __tsan_create_fiber(0);
#endif
  t->started = true;
  return true;
}

/* Inlined into the switch paths: a call here costs more than its body. */
static inline __attribute__((always_inline)) cio_task *pick(cio_loop *loop) {
  cio_task *t;
  while ((t = ready_pop(loop))) {
    if (CIO_LIKELY(t->started) || task_start(loop, t)) return t;
  }
  return NULL;
}

/* The running task t has set its state (WAITING, or READY and queued):
 * run someone else until t is resumed. */
static void reschedule(cio_loop *loop, cio_task *t) {
  cio_task *next = NULL;
  if (loop->budget && !loop->stopping && !loop->soon.len) {
    next = pick(loop);
    if (next) loop->budget--;
  }
  if (next == t) {
    t->state = CIO_TASK_RUNNING;
    return;
  }
  if (next) {
    cio__assert(next->state == CIO_TASK_READY);
    next->state = CIO_TASK_RUNNING;
  }
  switch_to(loop, t, next);
}

void cio__task_entry(void) {
  cio_loop *loop = cio__tls_loop;
  cio_task *t = loop->current;
#ifdef CIO_ASAN
  __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
  int status = t->fn(t->arg);
  cio__task_finish(t, status);
  loop->zombie = t;
  switch_to(loop, t, NULL);
  cio__panic("a finished task was resumed");
}

/* Loop context: release the stack of the task that just finished. */
static void reap_zombie(cio_loop *loop) {
  cio_task *z = loop->zombie;
  if (!z) return;
  loop->zombie = NULL;
  if (CIO_UNLIKELY(loop->debug)) cio__debug_reap(loop, z);
  cio__stack_put(&loop->stacks, z->stack);
  z->stack = NULL;
#ifdef CIO_TSAN
  __tsan_destroy_fiber(z->tsan_fiber);
  z->tsan_fiber = NULL;
#endif
  cio__task_unref(z);
}

/* Loop context: run ready tasks for one turn. */
void cio__run_ready(cio_loop *loop) {
  loop->budget = CIO__BUDGET;
  while (loop->budget && !loop->stopping) {
    cio_task *t = pick(loop);
    if (!t) break;
    loop->budget--;
    t->state = CIO_TASK_RUNNING;
    switch_to(loop, NULL, t);
    reap_zombie(loop);
    if (loop->until && loop->until->state == CIO_TASK_DONE) break;
  }
}

int cio__park(cio_task *t, const char *what, int flags) {
  if (flags == CIO__PARK_INTR) {
    int r = cio__checkpoint(t);
    if (r < 0) return r;
  }
  /* Only the running task parks itself, on its own loop's thread. */
  cio__assert(t->state == CIO_TASK_RUNNING && t->loop->current == t);
  t->intr = flags == CIO__PARK_INTR;
  t->state = CIO_TASK_WAITING;
  t->waiting_on = what;
  reschedule(t->loop, t);
  cio__assert(t->state == CIO_TASK_RUNNING && t->loop->current == t);
  t->waiting_on = NULL;
  t->cancel_delivering = false;
  return t->wake_code;
}

/* Make a waiting task ready with `code` as its wait's result, at the back
 * of the queue `q`. */
static inline int wake_into(cio_task *t, int code, bool first) {
  /* Wakes come from the task's own loop: other threads go through
   * cio_call_soon_threadsafe. */
  cio__assert(t->loop == cio__tls_loop);
  if (t->state != CIO_TASK_WAITING) return 0;
  t->wake_code = code;
  t->state = CIO_TASK_READY;
  t->user_suspend = false;
  cio_loop *loop = t->loop;
  if (first) {
    if (!loop->wq.head) loop->woken_streak = 0; /* a new run of woken tasks */
    q_push(&loop->wq, t);
  } else {
    q_push(&loop->rq, t);
  }
  return 1;
}

int cio__wake(cio_task *t, int code) { return wake_into(t, code, false); }
int cio__wake_first(cio_task *t, int code) { return wake_into(t, code, true); }

int cio_yield(void) {
  cio_task *t = cio__current();
  if (!t) return -EPERM;
  int r = cio__checkpoint(t);
  if (r < 0) return r;
  t->state = CIO_TASK_READY;
  cio__ready_push(t->loop, t);
  reschedule(t->loop, t);
  return 0;
}

void cio__watch_add(cio_task *t, cio__watch *w, void (*fn)(cio__watch *, cio_task *)) {
  w->fn = fn;
  cio__list_push_back(&t->watchers, &w->link);
}

/* ---- wait lists of the synchronisation primitives ---- */

cio__waiter *cio__waiters_pop_live(cio__link *list) {
  cio__link *l;
  while ((l = cio__list_pop_front(list))) {
    cio__waiter *w = cio__container_of(l, cio__waiter, link);
    /* An interrupted waiter is READY until it runs and unlinks itself. */
    if (w->task->state == CIO_TASK_WAITING) return w;
  }
  return NULL;
}

void cio__waiters_abort(cio__link *list) {
  cio__waiter *w;
  while ((w = cio__waiters_pop_live(list))) {
    w->status = -EBADF;
    cio__wake(w->task, w->code ? w->code : -EBADF);
  }
  cio__list_detach_all(list); /* interrupted ones, not yet run */
}

bool cio__waiters_any_live(cio__link *list) {
  for (cio__link *l = list->next; l != list; l = l->next)
    if (cio__container_of(l, cio__waiter, link)->task->state == CIO_TASK_WAITING) return true;
  return false;
}

int cio__wait_on(cio__link *list, cio__waiter *w, const char *what) {
  cio_task *t = cio__current();
  if (!t) return -EPERM;
  w->task = t;
  cio__list_push_back(list, &w->link);
  int r = cio__park(t, what, CIO__PARK_INTR);
  if (r != 0) cio__list_remove(&w->link);
  return r;
}

/* ---- task dumps (debug.c): name the scheduler's own frames ---- */

const char *cio__sched_frame(uintptr_t fn, int *kind) {
  *kind = CIO__FRAME_OTHER;
  if (!fn) return NULL;
  if (fn == (uintptr_t)switch_to || fn == (uintptr_t)reschedule) {
    *kind = CIO__FRAME_SWITCH;
    return "switch_to";
  }
  if (fn == (uintptr_t)cio__park) {
    *kind = CIO__FRAME_SWITCH;
    return "cio__park";
  }
  if (fn == (uintptr_t)cio__task_entry) {
    *kind = CIO__FRAME_ENTRY;
    return "cio__task_entry";
  }
  if (fn == (uintptr_t)cio__wait_on) return "cio__wait_on";
  if (fn == (uintptr_t)cio__await_done) return "cio__await_done";
  return NULL;
}
