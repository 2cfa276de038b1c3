/* internal.h - structures shared by the core's modules. Not installed.
 *
 * Conventions: internal symbols are cio__name (double underscore) and have
 * hidden visibility (the library is built with -fvisibility=hidden).
 */
#ifndef CIO_INTERNAL_H
#define CIO_INTERNAL_H

#include "base/alloc.h"
#include "base/assert.h"
#include "base/compiler.h"
#include "base/list.h"
#include "cio.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef CIO_USE_UCONTEXT
#include <ucontext.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define CIO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CIO_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define CIO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CIO_TSAN 1
#endif
#endif

/* ---- context switch ---- */

typedef struct cio__ctx {
#ifdef CIO_USE_UCONTEXT
  ucontext_t uc;
#else
  void *sp;
#endif
} cio__ctx;

/* Prepare c so that switching to it calls cio__task_entry() on the stack
 * [lo, lo + size). */
void cio__ctx_make(cio__ctx *c, void *lo, size_t size);
/* Save the running context into from and resume to. */
#ifdef CIO_USE_UCONTEXT
void cio__ctx_swap(cio__ctx *from, cio__ctx *to);
#else
void cio__ctx_switch(void **from_sp, void *to_sp);
static inline void cio__ctx_swap(cio__ctx *from, cio__ctx *to) {
  cio__ctx_switch(&from->sp, to->sp);
}
#endif
/* Where every task starts (called by the context trampoline). */
void cio__task_entry(void);
/* Run fn(arg) on the stack of the suspended context c, as a call made from
 * the point where c was suspended, then come back: c is left as it was.
 * Task dumps unwind a suspended task's stack this way. The caller makes the
 * sanitizer fiber annotations. */
void cio__ctx_peek(cio__ctx *c, void (*fn)(void *), void *arg);
/* Where fn's caller is on c's stack: an unwinder starting in fn finds this
 * function's start (_Unwind_GetRegionStart) in the frame that called fn, and
 * the suspended frames after it. */
extern const void *const cio__ctx_peek_marker;
/* The stack pointer saved in a suspended context. */
uintptr_t cio__ctx_sp(const cio__ctx *c);

/* ---- clock ---- */

int64_t cio__clock_ns(void);
/* Seconds to a relative duration in ns, clamped (negative -> 0, huge -> max).
 */
int64_t cio__sec_to_ns(double s);
#define CIO__NEVER INT64_MAX
/* The deadline `seconds` from now, saturating at CIO__NEVER (an infinite or
 * huge duration must not wrap into the past). */
int64_t cio__deadline_in(double seconds);

/* ---- timers: an indexed 4-ary min-heap ---- */

typedef struct cio__tnode {
  int64_t when;
  uint64_t seq; /* ties fire in arming order */
  size_t idx;   /* position in the heap, CIO__TIDLE when not armed */
  void (*fire)(struct cio__tnode *n);
} cio__tnode;
#define CIO__TIDLE SIZE_MAX

typedef struct cio__theap_ent {
  int64_t when;
  cio__tnode *n;
} cio__theap_ent;

typedef struct cio__theap {
  cio__theap_ent *v;
  size_t len, cap;
  uint64_t seq;
} cio__theap;

static inline void cio__tnode_init(cio__tnode *n, void (*fire)(cio__tnode *)) {
  n->when = 0;
  n->seq = 0;
  n->idx = CIO__TIDLE;
  n->fire = fire;
}
static inline bool cio__tnode_armed(const cio__tnode *n) { return n->idx != CIO__TIDLE; }
int cio__theap_push(cio__theap *h, cio__tnode *n, int64_t when); /* 0 / -ENOMEM */
void cio__theap_remove(cio__theap *h, cio__tnode *n);            /* no-op if idle */
cio__tnode *cio__theap_pop_due(cio__theap *h, int64_t now);      /* NULL if none */
static inline int64_t cio__theap_next(const cio__theap *h) {
  return h->len ? h->v[0].when : CIO__NEVER;
}
void cio__theap_free(cio__theap *h);

/* ---- stacks ---- */

typedef struct cio__stack {
  char *lo;       /* lowest usable byte (just above the guard) */
  size_t size;    /* usable bytes, [lo, lo + size) */
  cio__link link; /* on its class's warm or cold list while free */
  struct cio__stack_class *cls;
  unsigned vg_id; /* Valgrind stack id */
  bool cold;      /* pages were returned to the kernel */
} cio__stack;

typedef struct cio__stack_class {
  struct cio__stack_class *next;
  size_t size;    /* usable size of stacks in this class */
  cio__link warm; /* free stacks that may hold pages, most recent first */
  cio__link cold; /* free stacks whose pages were given back */
  size_t nwarm;
  char *carve;     /* next stack of the newest slab */
  char *guarded;   /* guards are installed below here */
  char *carve_end; /* end of the newest slab */
} cio__stack_class;

typedef struct cio__slab {
  struct cio__slab *next;
  void *base;
  size_t len;
} cio__slab;

typedef struct cio__stack_pool {
  cio__stack_class *classes;
  cio__slab *slabs;
  size_t excess;      /* warm free stacks beyond the warm limit: pages to give back */
  int64_t trimmed_at; /* when the loop last gave some back while busy */
  bool nohuge;        /* debug: no transparent huge pages (exact page counts) */
} cio__stack_pool;

cio__stack *cio__stack_get(cio__stack_pool *p, size_t size, int *err);
void cio__stack_put(cio__stack_pool *p, cio__stack *s);
void cio__stack_pool_free(cio__stack_pool *p);
size_t cio__stack_round(size_t size);
/* Give back the pages of a batch of the least recently used free stacks
 * beyond the warm limit (p->excess of them wait). The loop calls it while
 * idle, and now and then while busy; the batch is one system call. */
void cio__stack_trim(cio__stack_pool *p);
/* Bytes of s's pages that are resident (touched since it was last cleaned). */
size_t cio__stack_resident(const cio__stack *s);
/* Give s's pages back so that its next task starts with none touched. */
void cio__stack_clean(cio__stack *s);
/* Per-thread: alternate signal stack + process-wide SIGSEGV handler that
 * reports overflows by task name. */
int cio__overflow_guard_thread_init(void);
void cio__overflow_guard_thread_fini(void);

/* ---- tasks ---- */

/* Something to run when a task finishes (await, gather, groups...). The
 * callback runs in the finishing context and must not suspend. */
typedef struct cio__watch {
  cio__link link;
  void (*fn)(struct cio__watch *w, cio_task *done);
} cio__watch;

enum {
  CIO__PARK_INTR = 0,  /* cancellation and timeouts interrupt the wait */
  CIO__PARK_NOINTR = 1 /* they stay pending for the next suspension */
};

struct cio_task {
  cio__ctx ctx;
  cio_loop *loop;
  cio_task *next; /* ready queue */
  cio_task_fn fn;
  void *arg;
  cio__stack *stack;
  size_t stack_size;
  int status;
  int wake_code;
  uint8_t state; /* cio_task_state */
  bool started;
  bool intr; /* parked interruptibly */
  bool cancel_pending;
  bool cancel_delivering; /* woken with -ECANCELED, has not run yet */
  bool detached;
  bool awaited;        /* someone read the status (debug reports) */
  bool user_suspend;   /* parked in cio_suspend(): cio_task_wake() may wake it */
  bool orphaned;       /* debug: handle released unawaited while running */
  unsigned ncancel;    /* cancellation requests not taken back (uncancel) */
  unsigned ndelivered; /* -ECANCELED deliveries (debug: swallowed ones) */
  bool daemon;         /* a library's service task (debug reports) */
  union {
    void *p;
    int64_t i;
  } result;          /* cio_set_result */
  unsigned nexpired; /* expired timeout scopes active on this task */
  int refs;
  int hrefs; /* of refs, the user's handles */
  uint64_t id;
  const char *waiting_on;
  char *name; /* malloc'd, or autoname */
  char autoname[24];
  cio__link live;     /* loop->tasks while not done */
  cio__link watchers; /* cio__watch nodes */
  cio__tnode sleep_timer;
  cio_timeout_scope *scope; /* innermost active timeout scope */
  cio_shield_scope *shield; /* innermost active shield scope */
  int64_t run_start;        /* debug: when it got the CPU */
  size_t stack_hw;          /* debug: stack pages touched, measured when it finished */
#ifdef CIO_ASAN
  void *asan_fake;
#endif
#ifdef CIO_TSAN
  void *tsan_fiber;
#endif
};

/* A node a task leaves on a primitive's wait list while it waits. */
typedef struct cio__waiter {
  cio__link link;
  cio_task *task;
  void *item; /* queues: the item handed over */
  int code;   /* what the task is woken with when served: 0, or a select
                 case's number (select.c) */
  int status; /* -EBADF when the object was freed under it (a select case
                 learns it here: its wake code is its number) */
} cio__waiter;

/* The first waiter still actually waiting (interrupted ones are unlinked on
 * the way), unlinked; NULL if none. */
cio__waiter *cio__waiters_pop_live(cio__link *list);
bool cio__waiters_any_live(cio__link *list);
/* An object with this wait list is being freed: wake every live waiter with
 * -EBADF (after which it must not touch the object) and detach the rest. */
void cio__waiters_abort(cio__link *list);
/* Park on a primitive: link w on list, suspend, unlink on interruption. */
int cio__wait_on(cio__link *list, cio__waiter *w, const char *what);

/* cancel.c: drop a pending (not yet delivered) cancellation request. */
void cio__cancel_withdraw(cio_task *t);

/* timeout.c: does t->nexpired count scope s (not if s began before t's
 * innermost shield)? */
bool cio__scope_counted(const cio_task *t, const cio_timeout_scope *s);

/* select.c: cases that wait on a primitive's wait list. */
cio__waiter *cio__case_waiter(cio_case *c);
int cio__case_arm_list(cio_case *c, cio__link *list, cio_task *t, int code);
void cio__case_disarm_list(cio_case *c);
int cio__case_finish_list(cio_case *c);

/* Core scheduling primitives (sched.c). */
#define CIO__WOKEN_STREAK 32 /* woken tasks run in a row before a new/yielded one */
#define CIO__BUDGET       64 /* task runs per loop turn before timers/I/O are looked at */
void cio__run_ready(cio_loop *loop);
int cio__park(cio_task *t, const char *what, int flags);
/* Entry check of every call that may wait, also when it completes without
 * waiting: a pending cancellation (consumed) or an expired scope. */
static inline int cio__checkpoint(cio_task *t) {
  /* A shield keeps the cancellation pending; t->nexpired counts only the
   * expired scopes inside the innermost shield (timeout.c). */
  if (CIO_UNLIKELY(t->cancel_pending) && !t->shield) {
    t->cancel_pending = false;
    t->ndelivered++;
    return -ECANCELED;
  }
  return CIO_UNLIKELY(t->nexpired) ? -ETIMEDOUT : 0;
}
int cio__wake(cio_task *t, int code);
/* The same for wakes from outside the loop's tasks (timers, I/O): the task
 * runs before the FIFO of ready tasks (sched.c, ready_pop). */
int cio__wake_first(cio_task *t, int code);
void cio__ready_push(cio_loop *loop, cio_task *t);
void cio__task_finish(cio_task *t, int status);
/* Wait for t to finish without being interruptible. */
void cio__await_done(cio_task *t);
void cio__watch_add(cio_task *t, cio__watch *w, void (*fn)(cio__watch *, cio_task *));
static inline void cio__watch_remove(cio__watch *w) { cio__list_remove(&w->link); }
/* The current task or NULL; the current thread's loop or NULL. */
cio_task *cio__current(void);
extern _Thread_local cio_loop *cio__tls_loop;

/* ---- the loop ---- */

/* A FIFO of ready tasks, linked through cio_task.next. */
typedef struct cio__taskq {
  cio_task *head, *tail;
  size_t len;
} cio__taskq;

typedef struct cio__callback {
  cio_callback_fn fn;
  void *arg;
} cio__callback;

typedef struct cio__cbring {
  cio__callback *v;
  size_t head, len, cap; /* cap is a power of two */
} cio__cbring;

int cio__cbring_push(cio__cbring *r, cio_callback_fn fn, void *arg);

/* debug: a task whose status nobody read, reported at loop close. */
typedef struct cio__dbg_note {
  struct cio__dbg_note *next;
  uint64_t id;
  int status;    /* final, or -EINPROGRESS */
  bool detached; /* a detached failure, else never awaited */
  char name[];
} cio__dbg_note;

/* loop->sig_pending bits, set by signal handlers (loop_signals.c) */
#define CIO__SIG_INT  1
#define CIO__SIG_DUMP 2

struct cio_loop {
  cio__ctx sched_ctx;    /* the loop's own context (the thread's stack) */
  cio_task *current;     /* running task, NULL in the loop context */
  cio__taskq rq;         /* ready: new tasks, and tasks that yielded */
  cio__taskq wq;         /* ready: tasks woken from a wait (run first) */
  unsigned woken_streak; /* wq picks in a row (fairness, sched.c) */
  unsigned budget;       /* task runs left before the loop's next turn */
  cio_task *zombie;      /* finished task whose stack awaits release */
  cio__theap timers;
  cio__cbring soon;
  cio__cbring close_hooks; /* run by cio_loop_close, last added first */
  bool hooks_ran;
  cio__stack_pool stacks;
  size_t default_stack;
  cio__link tasks; /* every task not yet done */
  size_t ntasks;
  size_t ndaemon; /* of ntasks, daemon (service) tasks */
  uint64_t next_id;
  int64_t now;
  bool running;
  bool stopping;
  bool closing;
  bool closed; /* cio_loop_close finished; only freeing is left */
  int debug;
  int64_t slow_ns;
  int64_t run_start;    /* debug: when the loop context got the CPU */
  size_t stack_hw_max;  /* debug: largest stack_hw of a finished task */
  cio__dbg_note *notes; /* debug: unread statuses, reported at close */
  size_t nnotes, notes_dropped;
  cio_task *peeking;     /* task whose stack a dump is unwinding */
  const cio_task *until; /* run_until_complete target */
  cio_task *main_task;   /* cio_run's main task: Ctrl-C cancels it */
  /* cross-thread calls */
  pthread_mutex_t ts_mu;
  cio__cbring ts_queue;
  atomic_int ts_notified;
  atomic_int ts_closed;
  atomic_int sig_pending; /* CIO__SIG_* from signal handlers */
  atomic_int quit_fwd;    /* a SIGQUIT was forwarded to the loop's thread */
  int wake_fd;
  /* reactor */
  const cio_poller_ops *poller;
  void *poller_ctx;
  pthread_t thread;
#ifdef CIO_ASAN
  const void *asan_stack_lo;
  size_t asan_stack_size;
  void *asan_fake;
#endif
#ifdef CIO_TSAN
  void *tsan_fiber;
#endif
};

/* debug.c */
void cio__debug_task_failed_detached(cio_task *t);
void cio__debug_close_report(cio_loop *loop);
/* Tasks still unwinding CIO__SLOW_SHUTDOWN_NS into cio_loop_close. */
#define CIO__SLOW_SHUTDOWN_NS 1000000000
void cio__debug_slow_shutdown(cio_loop *loop);
/* A finished task's status counts as a failure for the reports: an error,
 * but not a cancellation nor a peer that went away (connection handlers). */
static inline bool cio__status_is_failure(int status) {
  return status < 0 && status != -ECANCELED && status != -ECONNRESET && status != -EPIPE;
}
/* t == NULL: the loop context (callbacks, timers) held the loop. */
void cio__debug_slow_task(cio_loop *loop, cio_task *t, int64_t held_ns);
/* The last handle of t went away: note it if its status was never read. */
void cio__debug_handle_gone(cio_task *t);
/* t finished: note it if its handle went away unread. */
void cio__debug_task_done(cio_task *t);
/* At loop close, once every task is done: print the notes, free them. */
void cio__debug_final_report(cio_loop *loop);
/* Loop context, a task just finished: measure and clean its stack. */
void cio__debug_reap(cio_loop *loop, cio_task *t);
/* sched.c: the scheduler's own frames in a backtrace, by function start:
 * kind SWITCH (the suspension machinery), ENTRY (where every task starts),
 * OTHER; returns a name for hidden core functions, or NULL. */
enum { CIO__FRAME_OTHER, CIO__FRAME_SWITCH, CIO__FRAME_ENTRY };
const char *cio__sched_frame(uintptr_t fn, int *kind);
/* Loop context: the dump SIGQUIT asked for, on stderr. */
void cio__debug_dump_signal(cio_loop *loop);

/* loop_signals.c: SIGQUIT dumps for debug loops, Ctrl-C for cio_run. */
void cio__sigquit_register(cio_loop *loop);
void cio__sigquit_unregister(cio_loop *loop);
/* Returns true if the handler was installed (SIGINT was at its default). */
bool cio__sigint_install(cio_loop *loop);
void cio__sigint_uninstall(cio_loop *loop);
/* Loop context: act on what signal handlers asked for. */
void cio__signals_pending(cio_loop *loop, int bits);

/* timer.c: remove every armed timer at loop close. */
void cio__timers_close(cio_loop *loop);
/* task.c */
void cio__task_unref(cio_task *t);

#endif
