/* signal.c - signals that wake tasks and run handlers on the loop.
 *
 * Design (see cio/signal.h for the contract):
 *
 * - One process-wide sigaction() handler, on_signal(), for every signal some
 *   loop is interested in. It is async-signal-safe by construction: it only
 *   touches lock-free atomics and calls write() on an eventfd.
 * - Each interested loop owns a slot in a fixed table: an eventfd, a bit mask
 *   of the signals it wants and one delivery counter per signal. The handler
 *   bumps the counter of every slot that wants the signal, then writes the
 *   slot's eventfd. The counters carry the information, the eventfd is only a
 *   wake-up, so a full eventfd (impossible in practice) loses nothing.
 * - A dispatcher task per loop waits on the eventfd with cio_wait_fd(), takes
 *   the counters and delivers: wakes waiting tasks, keeps one pending
 *   delivery for watched signals nobody waits for, schedules the handlers
 *   (cio_call_soon). It is a task, not a reactor callback, only so that
 *   cio_loop_close() tells it (by cancelling it) to give the dispositions
 *   back: the core has no loop-close hook for the io layer. It owns the
 *   loop's state and frees it when the loop loses interest in every signal or
 *   when it is cancelled (the loop is closing).
 *
 * A self-pipe was chosen over signalfd because signalfd needs the signal
 * blocked in every thread of the process (thread pools, threads of other
 * libraries), and the blocked mask would leak into spawned children.
 *
 * Reusing a slot: the handler may run on any thread at any time, so before a
 * slot's eventfd is closed (its number could then be reused by an unrelated
 * file the handler would write into) the slot is unpublished and we wait for
 * handlers in flight (a counter) to leave.
 */
#include "cio/signal.h"
#include "cio/io.h"
#include "io_internal.h"
#include "os_internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MAX_SLOTS  128
#define MASK_WORDS ((NSIG + 63) / 64)

/* ---- process-wide part (shared by all loops and the signal handler) ---- */

struct slot {
  atomic_int fd1;                         /* eventfd + 1; 0 = unpublished */
  atomic_uint_least64_t mask[MASK_WORDS]; /* bit signo: this loop wants it */
  atomic_uint count[NSIG];                /* deliveries not yet dispatched */
  bool used;                              /* under sig_mu */
};

static struct slot slots[MAX_SLOTS];
static atomic_int slots_hwm;  /* slots the handler must scan */
static atomic_int in_handler; /* handlers running right now */
static pthread_mutex_t sig_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned loops_for[NSIG];     /* loops interested, under sig_mu */
static struct sigaction saved[NSIG]; /* disposition before ours */

static void on_signal(int signo) {
  int saved_errno = errno;
  atomic_fetch_add(&in_handler, 1);
  if (signo > 0 && signo < NSIG) {
    uint_least64_t bit = (uint_least64_t)1 << (signo % 64);
    int n = atomic_load(&slots_hwm);
    for (int i = 0; i < n; i++) {
      struct slot *s = &slots[i];
      if (!(atomic_load(&s->mask[signo / 64]) & bit)) continue;
      int fd = atomic_load(&s->fd1) - 1;
      if (fd < 0) continue;
      atomic_fetch_add(&s->count[signo], 1);
      uint64_t one = 1;
      ssize_t w = write(fd, &one, sizeof one);
      (void)w; /* EAGAIN: the counter already tells */
    }
  }
  atomic_fetch_sub(&in_handler, 1);
  errno = saved_errno;
}

static bool signo_ok(int signo) {
  if (signo <= 0 || signo >= NSIG) return false;
  switch (signo) {
  case SIGKILL:
  case SIGSTOP:
  case SIGSEGV:
  case SIGBUS:
  case SIGILL:
  case SIGFPE:
  case SIGTRAP:
  case SIGSYS: return false;
  default: return true;
  }
}

/* Slot i starts/stops wanting signo; the first/last loop installs/restores
 * the sigaction. */
static int slot_want(int i, int signo) {
  int r = 0;
  pthread_mutex_lock(&sig_mu);
  if (loops_for[signo] == 0) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART | SA_ONSTACK;
    sigfillset(&sa.sa_mask);
    if (sigaction(signo, &sa, &saved[signo]) < 0) r = -errno;
  }
  if (r == 0) {
    loops_for[signo]++;
    atomic_fetch_or(&slots[i].mask[signo / 64], (uint_least64_t)1 << (signo % 64));
  }
  pthread_mutex_unlock(&sig_mu);
  return r;
}

static void slot_unwant(int i, int signo) {
  pthread_mutex_lock(&sig_mu);
  atomic_fetch_and(&slots[i].mask[signo / 64], ~((uint_least64_t)1 << (signo % 64)));
  atomic_store(&slots[i].count[signo], 0);
  if (--loops_for[signo] == 0) {
    /* Give the old disposition back unless someone replaced ours since
     * (then theirs stays, as the core does for its own handlers). */
    struct sigaction cur;
    if (sigaction(signo, NULL, &cur) == 0 && !(cur.sa_flags & SA_SIGINFO) &&
        cur.sa_handler == on_signal)
      sigaction(signo, &saved[signo], NULL);
  }
  pthread_mutex_unlock(&sig_mu);
}

static int slot_alloc(int efd) {
  int found = -ENOSPC;
  pthread_mutex_lock(&sig_mu);
  for (int i = 0; i < MAX_SLOTS; i++) {
    if (slots[i].used) continue;
    slots[i].used = true;
    for (int s = 0; s < NSIG; s++) atomic_store(&slots[i].count[s], 0);
    atomic_store(&slots[i].fd1, efd + 1);
    if (i >= atomic_load(&slots_hwm)) atomic_store(&slots_hwm, i + 1);
    found = i;
    break;
  }
  pthread_mutex_unlock(&sig_mu);
  return found;
}

/* The slot must want nothing any more. Returns once no handler can still
 * write to its eventfd, which the caller may then close. */
static void slot_free(int i) {
  pthread_mutex_lock(&sig_mu);
  atomic_store(&slots[i].fd1, 0);
  slots[i].used = false;
  pthread_mutex_unlock(&sig_mu);
  while (atomic_load(&in_handler) > 0) sched_yield();
}

int cio__signal_ignore_sigpipe(void) {
  int r = 0;
  pthread_mutex_lock(&sig_mu);
  if (loops_for[SIGPIPE] == 0) { /* a loop catching SIGPIPE decides itself */
    struct sigaction cur;
    if (sigaction(SIGPIPE, NULL, &cur) == 0 && !(cur.sa_flags & SA_SIGINFO) &&
        cur.sa_handler == SIG_DFL) {
      struct sigaction ign;
      memset(&ign, 0, sizeof ign);
      ign.sa_handler = SIG_IGN;
      if (sigaction(SIGPIPE, &ign, NULL) < 0) r = -errno;
    }
  }
  pthread_mutex_unlock(&sig_mu);
  return r;
}

/* ---- per-loop part (loop thread only) ---- */

/* A task in cio_signal_wait_any (public), cio__signal_wait_seq (internal)
 * or a select case (cio_case_signal: in the case's private area). Lives on
 * the waiting task's stack; only its own links are touched after wake-up,
 * and teardown unlinks every waiter first. */
struct waiter {
  cio__link link;
  cio_task *task;
  const sigset_t *set; /* the signals waited for; NULL: only signo */
  int signo;
  int code;   /* 0: woken with the signal; a select case: its code */
  int status; /* a select case: 0, or -ESHUTDOWN (the loop closes) */
  bool internal;
};

static bool waits_for(const struct waiter *w, int signo) {
  return w->set ? sigismember(w->set, signo) == 1 : w->signo == signo;
}

/* Wake a waiter (already unlinked). Returns what cio_task_wake does. */
static int wake_waiter(struct waiter *w, int signo, int status) {
  w->status = status;
  return cio_task_wake(w->task, w->code ? w->code : status ? status : signo);
}

struct sigloop {
  cio_loop *loop;
  int efd;
  int slot;
  cio_task *dispatcher; /* our handle, so a never-run dispatcher is seen */
  uint64_t gen;         /* tells a state from a later one at the same address */
  bool kicked;          /* a teardown check is due */
  bool ran;             /* the dispatcher started (it may not: no stack) */
  cio__link waiters;
  bool watched[NSIG];
  bool pending[NSIG];      /* watched, delivered while nobody waited */
  unsigned internal[NSIG]; /* internal users (process.c's SIGCHLD) */
  uint64_t seq[NSIG];      /* deliveries dispatched so far */
  bool due[NSIG];          /* handler to run from the scheduled callback */
  bool cb_scheduled;
  bool sigint_taken; /* a task took a SIGINT: the program is stopping */
  cio_callback_fn fn[NSIG];
  void *arg[NSIG];
};

static _Thread_local struct sigloop *tl_sig;
static _Thread_local uint64_t tl_gen;

/* The calling thread's live loop state, or NULL. */
static struct sigloop *sigloop_peek(void) {
  struct sigloop *sl = tl_sig;
  if (!sl || sl->loop != cio_loop_current() || cio_task_done(sl->dispatcher)) return NULL;
  return sl;
}

static bool interested(const struct sigloop *sl, int signo) {
  return sl->watched[signo] || sl->fn[signo] || sl->internal[signo];
}

static bool any_interest(const struct sigloop *sl) {
  for (int s = 1; s < NSIG; s++)
    if (interested(sl, s)) return true;
  return false;
}

/* Called after signo gained its first interest on this loop. */
static int gained(struct sigloop *sl, int signo) { return slot_want(sl->slot, signo); }

/* Wake the dispatcher so that it checks whether it is still needed. */
static void kick(struct sigloop *sl) {
  if (sl->kicked) return;
  uint64_t one = 1;
  ssize_t w = write(sl->efd, &one, sizeof one);
  (void)w;
  sl->kicked = true;
}

/* Called when signo lost an interest on this loop: the last one gives the
 * signal back. */
static void maybe_lost(struct sigloop *sl, int signo) {
  if (interested(sl, signo)) return;
  sl->pending[signo] = false;
  slot_unwant(sl->slot, signo);
  kick(sl);
}

/* Handlers run as plain loop callbacks (as asyncio's do), so a handler that
 * tries to suspend gets -EPERM instead of stalling the dispatcher. The
 * argument is the state's generation: a state torn down meanwhile (or
 * replaced) is never touched. */
static void run_handlers(void *arg) {
  struct sigloop *sl = sigloop_peek();
  if (!sl || (uintptr_t)sl->gen != (uintptr_t)arg) return;
  sl->cb_scheduled = false;
  for (int s = 1; s < NSIG; s++) {
    if (!sl->due[s]) continue;
    sl->due[s] = false;
    if (sl->fn[s]) /* a handler may remove or replace others: re-read each */
      sl->fn[s](sl->arg[s]);
    if (sigloop_peek() != sl) return;
  }
}

/* Ctrl-C again while the program is stopping: a task took the first SIGINT
 * (to begin a graceful shutdown) and waits for no other, and no handler
 * wants it. Keeping it would leave the user no way out of a slow shutdown;
 * die as an unhandled SIGINT does (asyncio.run does the same on a second
 * Ctrl-C). */
static void second_ctrl_c(void) {
  static const char msg[] = "cio: second SIGINT during shutdown: exiting\n";
  ssize_t w = write(2, msg, sizeof msg - 1);
  (void)w;
  signal(SIGINT, SIG_DFL);
  raise(SIGINT);
}

static void deliver(struct sigloop *sl, int signo) {
  sl->seq[signo]++;
  int woke = 0;
  cio__link *l = sl->waiters.next;
  while (l != &sl->waiters) {
    struct waiter *w = cio__list_entry(l, struct waiter, link);
    l = l->next;
    if (!waits_for(w, signo)) continue;
    cio__list_remove(&w->link);
    if (wake_waiter(w, signo, 0) && !w->internal) woke++;
  }
  if (signo == SIGINT && woke)
    sl->sigint_taken = true;
  else if (signo == SIGINT && !sl->fn[signo] && sl->sigint_taken)
    second_ctrl_c();
  if (!woke && sl->watched[signo]) sl->pending[signo] = true;
  if (sl->fn[signo]) {
    sl->due[signo] = true;
    if (!sl->cb_scheduled && cio_call_soon(sl->loop, run_handlers, (void *)(uintptr_t)sl->gen) == 0)
      sl->cb_scheduled = true;
  }
}

static void dispatch(struct sigloop *sl) {
  for (int s = 1; s < NSIG; s++) {
    if (atomic_exchange(&slots[sl->slot].count[s], 0) && interested(sl, s)) deliver(sl, s);
  }
}

/* Give everything back: dispositions, slot, eventfd; wake leftover waiters
 * (their loop is closing) and free the state. registered: the eventfd went
 * through cio_wait_fd (so it is forgotten by the reactor before closing). */
static void teardown(struct sigloop *sl, int code, bool registered) {
  for (int s = 1; s < NSIG; s++) {
    bool had = interested(sl, s);
    sl->watched[s] = false;
    sl->fn[s] = NULL;
    sl->internal[s] = 0;
    if (had) slot_unwant(sl->slot, s);
  }
  cio__link *l;
  while ((l = cio__list_pop_front(&sl->waiters)))
    wake_waiter(cio__list_entry(l, struct waiter, link), 0, code);
  slot_free(sl->slot);
  if (registered)
    cio_close(sl->efd);
  else
    close(sl->efd);
  if (tl_sig == sl) tl_sig = NULL;
  cio_detach(sl->dispatcher); /* nobody awaits it: no debug report */
  cio__free(sl);
}

static int dispatcher(void *arg) {
  struct sigloop *sl = arg;
  sl->ran = true;
  for (;;) {
    int r = cio_wait_fd(sl->efd, CIO_READABLE);
    if (r < 0) {
      /* Cancelled: the loop is closing (nobody else has our handle). Any
       * other error (the reactor could not watch the eventfd: -ENOMEM...)
       * ends the catching too, and the waiters learn why. */
      teardown(sl, r == -ECANCELED ? -ESHUTDOWN : r, true);
      return 0;
    }
    uint64_t v;
    while (read(sl->efd, &v, sizeof v) > 0) {
    }
    sl->kicked = false;
    dispatch(sl);
    if (!any_interest(sl) && cio__list_empty(&sl->waiters)) {
      teardown(sl, -ESHUTDOWN, true);
      return 0;
    }
  }
}

/* The dispatcher finished. If it never ran (no memory for its stack, or
 * cancelled first by a closing loop), nobody else will wake the tasks
 * already waiting for a signal: give everything back now, telling them why.
 * arg is the state's generation (a later state is left alone). */
static void dispatcher_done(cio_task *t, void *arg) {
  struct sigloop *sl = tl_sig;
  if (!sl || sl->ran || (uintptr_t)sl->gen != (uintptr_t)arg) return;
  int st = cio_task_status(t);
  teardown(sl, st == -ECANCELED || st == 0 ? -ESHUTDOWN : st, false);
}

/* The calling thread's loop state, created on first use. */
static int sigloop_get(struct sigloop **out) {
  cio_loop *loop = cio_loop_current();
  if (!loop) return -ENOENT;
  if (tl_sig) {
    if (tl_sig->loop == loop && !cio_task_done(tl_sig->dispatcher)) {
      *out = tl_sig;
      return 0;
    }
    /* Our loop closed (cancelling the dispatcher) before the dispatcher
     * ever ran: clean up what it could not. */
    teardown(tl_sig, -ESHUTDOWN, false);
  }
  struct sigloop *sl = cio__calloc(1, sizeof *sl);
  if (!sl) return -ENOMEM;
  sl->loop = loop;
  cio__list_init(&sl->waiters);
  sl->efd = cio__fault_errno(CIO__FAULT_SOCKET) ? -1 : eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (sl->efd < 0) {
    int r = -errno;
    cio__free(sl);
    return r;
  }
  sl->slot = slot_alloc(sl->efd);
  if (sl->slot < 0) {
    int r = sl->slot;
    close(sl->efd);
    cio__free(sl);
    return r;
  }
  cio_spawn_opts so = {.name = "cio-signals", .stack_size = 64 * 1024, .daemon = 1};
  cio_task *t = cio_spawn_ex(dispatcher, sl, &so);
  if (!t) {
    int r = -errno;
    slot_free(sl->slot);
    close(sl->efd);
    cio__free(sl);
    return r;
  }
  sl->dispatcher = t;
  sl->gen = ++tl_gen;
  int r = cio_task_add_done_callback(t, dispatcher_done, (void *)(uintptr_t)sl->gen);
  if (r < 0) {
    cio_task_cancel(t); /* not started: it never runs, so never touches sl */
    cio_detach(t);
    slot_free(sl->slot);
    close(sl->efd);
    cio__free(sl);
    return r;
  }
  tl_sig = sl;
  *out = sl;
  return 0;
}

static int add_watch(struct sigloop *sl, int signo) {
  if (sl->watched[signo]) return 0;
  bool had = interested(sl, signo);
  sl->watched[signo] = true;
  if (!had) {
    int r = gained(sl, signo);
    if (r < 0) {
      sl->watched[signo] = false;
      kick(sl);
      return r;
    }
  }
  return 0;
}

int cio_signal_watch(int signo) {
  if (!signo_ok(signo)) return -EINVAL;
  struct sigloop *sl;
  int r = sigloop_get(&sl);
  if (r < 0) return r;
  return add_watch(sl, signo);
}

int cio_signal_unwatch(int signo) {
  if (!signo_ok(signo)) return -EINVAL;
  struct sigloop *sl = sigloop_peek();
  if (!sl || !sl->watched[signo]) return -ENOENT;
  for (cio__link *l = sl->waiters.next; l != &sl->waiters; l = l->next) {
    struct waiter *w = cio__list_entry(l, struct waiter, link);
    if (!w->internal && waits_for(w, signo)) return -EBUSY;
  }
  sl->watched[signo] = false;
  sl->pending[signo] = false;
  maybe_lost(sl, signo);
  return 0;
}

static int wait_set(const sigset_t *set) {
  struct sigloop *sl;
  int r = sigloop_get(&sl);
  if (r < 0) return r;
  for (int s = 1; s < NSIG; s++) {
    if (sigismember(set, s) == 1 && (r = add_watch(sl, s)) < 0)
      return r; /* what got watched stays watched: harmless, idempotent */
  }
  for (;;) {
    int got = 0;
    for (int s = 1; s < NSIG && !got; s++)
      if (sl->pending[s] && sigismember(set, s) == 1) got = s;
    if (!got) break;
    /* A kept delivery: still a cancellation point. */
    uint64_t gen = sl->gen;
    r = cio_yield();
    if (r < 0) return r;
    if (sigloop_peek() != sl || sl->gen != gen) return -ESHUTDOWN;
    if (sl->pending[got]) {
      sl->pending[got] = false;
      if (got == SIGINT) sl->sigint_taken = true;
      return got;
    }
  }
  struct waiter w = {.task = cio_current(), .set = set};
  cio__list_push_back(&sl->waiters, &w.link);
  r = cio_suspend("signal");
  cio__list_remove(&w.link);
  return r;
}

int cio_signal_wait_any(const int *signos, size_t n) {
  if (!signos || n == 0) return -EINVAL;
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < n; i++) {
    if (!signo_ok(signos[i])) return -EINVAL;
    sigaddset(&set, signos[i]);
  }
  if (!cio_current()) return -EPERM;
  return wait_set(&set);
}

int cio_signal_wait(int signo) {
  int r = cio_signal_wait_any(&signo, 1);
  return r > 0 ? 0 : r;
}

int cio_add_signal_handler(int signo, cio_callback_fn fn, void *arg) {
  if (!signo_ok(signo) || !fn) return -EINVAL;
  struct sigloop *sl;
  int r = sigloop_get(&sl);
  if (r < 0) return r;
  bool had = interested(sl, signo);
  sl->fn[signo] = fn;
  sl->arg[signo] = arg;
  if (!had && (r = gained(sl, signo)) < 0) {
    sl->fn[signo] = NULL;
    sl->arg[signo] = NULL;
    kick(sl);
  }
  return r;
}

int cio_remove_signal_handler(int signo) {
  if (!signo_ok(signo)) return -EINVAL;
  struct sigloop *sl = sigloop_peek();
  if (!sl || !sl->fn[signo]) return 0;
  sl->fn[signo] = NULL;
  sl->arg[signo] = NULL;
  sl->due[signo] = false;
  maybe_lost(sl, signo);
  return 1;
}

/* ---- internal interface (process.c) ---- */

int cio__signal_ref(int signo) {
  struct sigloop *sl;
  int r = sigloop_get(&sl);
  if (r < 0) return r;
  bool had = interested(sl, signo);
  sl->internal[signo]++;
  if (!had && (r = gained(sl, signo)) < 0) {
    sl->internal[signo]--;
    kick(sl);
  }
  return r;
}

void cio__signal_unref(int signo) {
  struct sigloop *sl = sigloop_peek();
  if (!sl || !sl->internal[signo]) return;
  sl->internal[signo]--;
  maybe_lost(sl, signo);
}

uint64_t cio__signal_seq(int signo) {
  struct sigloop *sl = sigloop_peek();
  return sl ? sl->seq[signo] : 0;
}

int cio__signal_wait_seq(int signo, uint64_t seq) {
  struct sigloop *sl = sigloop_peek();
  if (!sl || !interested(sl, signo)) return -ESHUTDOWN;
  if (sl->seq[signo] != seq) return cio_yield();
  struct waiter w = {.task = cio_current(), .signo = signo, .internal = true};
  cio__list_push_back(&sl->waiters, &w.link);
  int r = cio_suspend("signal");
  cio__list_remove(&w.link);
  return r < 0 ? r : 0;
}

/* ---- the select case ---- */

static struct waiter *case_waiter(cio_case *c) {
  _Static_assert(sizeof(struct waiter) <= sizeof c->priv, "cio_case.priv too small");
  return (struct waiter *)(void *)c->priv;
}

/* A kept delivery of signo ends the case at once, as it ends a wait. */
static int sig_try(cio_case *c) {
  int signo = c->fd;
  if (!signo_ok(signo)) return c->status = -EINVAL;
  struct sigloop *sl;
  int r = sigloop_get(&sl);
  if (r == 0) r = add_watch(sl, signo);
  if (r < 0) return c->status = r;
  if (!sl->pending[signo]) return 0;
  sl->pending[signo] = false;
  if (signo == SIGINT) sl->sigint_taken = true;
  c->item = (void *)(intptr_t)signo;
  return 1;
}

static int sig_arm(cio_case *c, cio_task *t, int code) {
  struct sigloop *sl = sigloop_peek();
  if (!sl) return -ESHUTDOWN;
  struct waiter *w = case_waiter(c);
  *w = (struct waiter){.task = t, .signo = c->fd, .code = code};
  cio__list_push_back(&sl->waiters, &w->link);
  return 0;
}

static void sig_disarm(cio_case *c) {
  struct waiter *w = case_waiter(c);
  /* Delivered or torn down: unlinked (self-linked) already. */
  if (w->link.next) cio__list_remove(&w->link);
}

static int sig_finish(cio_case *c) {
  struct waiter *w = case_waiter(c);
  c->status = w->status;
  if (w->status == 0) {
    c->item = (void *)(intptr_t)w->signo;
    struct sigloop *sl = sigloop_peek();
    if (w->signo == SIGINT && sl) sl->sigint_taken = true;
  }
  return 0;
}

static const cio_case_ops sig_ops = {sig_try, sig_arm, sig_disarm, sig_finish};

cio_case cio_case_signal(int signo) {
  cio_case c;
  memset(&c, 0, sizeof c);
  c.ops = &sig_ops;
  c.fd = signo;
  return c;
}
