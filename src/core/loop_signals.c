/* loop_signals.c - the two signals the core handles itself (cio/signal.h,
 * signals for tasks, is the io layer's src/io/signal.c):
 *
 *   SIGINT   while cio_run() runs (if SIGINT was at its default action): the
 *            first Ctrl-C cancels the main task, a second one while the
 *            first is being handled kills the process as usual.
 *   SIGQUIT  for loops in debug mode (if SIGQUIT was at its default action):
 *            print every task with its backtrace (Go's SIGQUIT dump).
 *
 * A handler only does async-signal-safe things: set a bit in the loop's
 * sig_pending, mark the loop notified and write its wake-up eventfd - the
 * same path cio_call_soon_threadsafe() takes, so the loop acts at its next
 * turn (drain_threadsafe in loop.c calls cio__signals_pending) and the hot
 * paths check nothing new. SIGQUIT also writes at once which task holds each
 * loop: if a task never suspends, the loop never turns, and that line is
 * what tells the user who is stuck.
 *
 * Loops are found through a small registry of atomic pointers. A loop leaves
 * it before it is freed, and waits until no handler is still running, so a
 * handler never touches a freed loop.
 */
#include "internal.h"

#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define MAX_QUIT_LOOPS 64

static pthread_mutex_t sig_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int in_handler; /* handlers running now, on any thread */

static void sig_enter(void) { atomic_fetch_add(&in_handler, 1); }
static void sig_leave(void) { atomic_fetch_sub(&in_handler, 1); }
/* After a loop pointer is withdrawn, wait out handlers that may hold it. */
static void sig_quiesce(void) {
  while (atomic_load(&in_handler)) sched_yield();
}

/* Ask loop to act at its next turn; async-signal-safe. */
static void sig_notify(cio_loop *loop, int bit) {
  atomic_fetch_or(&loop->sig_pending, bit);
  atomic_store(&loop->ts_notified, 1);
  uint64_t one = 1;
  ssize_t w = write(loop->wake_fd, &one, sizeof one);
  (void)w;
}

static bool is_default(int sig) {
  struct sigaction cur;
  return sigaction(sig, NULL, &cur) == 0 && !(cur.sa_flags & SA_SIGINFO) &&
         cur.sa_handler == SIG_DFL;
}

/* Put back `old` unless someone replaced our handler meanwhile. */
static void restore(int sig, void (*ours)(int, siginfo_t *, void *), const struct sigaction *old) {
  struct sigaction cur;
  if (sigaction(sig, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == ours)
    sigaction(sig, old, NULL);
}

static void install(int sig, void (*fn)(int, siginfo_t *, void *), struct sigaction *old) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fn;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, old);
}

/* ---- async-signal-safe output ---- */

static void put(const char *s) {
  ssize_t r = write(2, s, strlen(s));
  (void)r;
}

static void put_num(uint64_t v) {
  char buf[24], *e = buf + sizeof buf, *q = e;
  do {
    *--q = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  ssize_t r = write(2, q, (size_t)(e - q));
  (void)r;
}

/* ---- SIGQUIT ---- */

static _Atomic(cio_loop *) quit_loops[MAX_QUIT_LOOPS];
static int quit_users;
static bool quit_installed;
static struct sigaction quit_old;

/* On the loop's own thread: the interrupted code is that loop's, so its
 * current task cannot change or vanish under us. */
static void quit_print_holder(cio_loop *loop) {
  cio_task *t = loop->current;
  put("cio: SIGQUIT: ");
  if (!t) {
    put("the loop is in its own context (polling, callbacks); the dump follows "
        "at its next turn\n");
    return;
  }
  put("task '");
  put(t->name);
  put("' (id ");
  put_num(t->id);
  put(") holds the loop");
  int64_t held = cio__clock_ns() - t->run_start;
  if (loop->debug && held >= 0) {
    put(" and has run for ");
    put_num((uint64_t)held / 1000000);
    put(" ms without suspending");
  }
  put("; the dump follows when it suspends\n");
}

static void quit_handler(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)si;
  (void)uc;
  int saved = errno;
  sig_enter();
  pthread_t self = pthread_self();
  /* A SIGQUIT we forwarded to a loop's thread (see below) only prints that
   * loop's holder: the original delivery asked for the dumps already. */
  bool forwarded = false;
  for (int i = 0; i < MAX_QUIT_LOOPS; i++) {
    cio_loop *loop = atomic_load(&quit_loops[i]);
    if (loop && pthread_equal(loop->thread, self) && atomic_exchange(&loop->quit_fwd, 0))
      forwarded = true;
  }
  for (int i = 0; i < MAX_QUIT_LOOPS; i++) {
    cio_loop *loop = atomic_load(&quit_loops[i]);
    if (!loop) continue;
    if (pthread_equal(loop->thread, self)) {
      quit_print_holder(loop);
    } else if (!forwarded) {
      /* Only the loop's own thread can safely look at its running task. */
      atomic_store(&loop->quit_fwd, 1);
      pthread_kill(loop->thread, SIGQUIT);
    }
    if (!forwarded) sig_notify(loop, CIO__SIG_DUMP);
  }
  sig_leave();
  errno = saved;
}

void cio__sigquit_register(cio_loop *loop) {
  pthread_mutex_lock(&sig_mu);
  for (int i = 0; i < MAX_QUIT_LOOPS; i++) {
    if (atomic_load(&quit_loops[i])) continue;
    atomic_store(&quit_loops[i], loop);
    if (quit_users++ == 0 && is_default(SIGQUIT)) {
      install(SIGQUIT, quit_handler, &quit_old);
      quit_installed = true;
    }
    break;
  }
  pthread_mutex_unlock(&sig_mu);
}

void cio__sigquit_unregister(cio_loop *loop) {
  pthread_mutex_lock(&sig_mu);
  for (int i = 0; i < MAX_QUIT_LOOPS; i++) {
    if (atomic_load(&quit_loops[i]) != loop) continue;
    atomic_store(&quit_loops[i], NULL);
    sig_quiesce();
    if (--quit_users == 0 && quit_installed) {
      restore(SIGQUIT, quit_handler, &quit_old);
      quit_installed = false;
    }
    break;
  }
  pthread_mutex_unlock(&sig_mu);
}

/* ---- SIGINT ---- */

static _Atomic(cio_loop *) int_loop;
static atomic_int int_count;
static struct sigaction int_old;

static void int_handler(int sig, siginfo_t *si, void *uc) {
  (void)si;
  (void)uc;
  int saved = errno;
  sig_enter();
  cio_loop *loop = atomic_load(&int_loop);
  if (loop && atomic_fetch_add(&int_count, 1) == 0) {
    sig_notify(loop, CIO__SIG_INT);
    sig_leave();
    errno = saved;
    return;
  }
  sig_leave();
  /* Second Ctrl-C (or one arriving as cio_run ends): the default action.
   * The signal is blocked in its handler, so it lands when we return. */
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, NULL);
  raise(sig);
  errno = saved;
}

bool cio__sigint_install(cio_loop *loop) {
  bool ok = false;
  pthread_mutex_lock(&sig_mu);
  struct sigaction cur;
  /* Our own handler with no loop behind it acts as the default action: it
   * was put back by someone restoring what they had saved while cio_run ran
   * (cio/signal.h). Reuse it; int_old still holds what preceded us. */
  bool stale = sigaction(SIGINT, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
               cur.sa_sigaction == int_handler;
  if (!atomic_load(&int_loop) && (stale || is_default(SIGINT))) {
    atomic_store(&int_count, 0);
    atomic_store(&int_loop, loop);
    if (!stale) install(SIGINT, int_handler, &int_old);
    ok = true;
  }
  pthread_mutex_unlock(&sig_mu);
  return ok;
}

void cio__sigint_uninstall(cio_loop *loop) {
  pthread_mutex_lock(&sig_mu);
  if (atomic_load(&int_loop) == loop) {
    atomic_store(&int_loop, NULL);
    sig_quiesce();
    restore(SIGINT, int_handler, &int_old);
  }
  pthread_mutex_unlock(&sig_mu);
}

/* ---- the loop's side ---- */

void cio__signals_pending(cio_loop *loop, int bits) {
  if ((bits & CIO__SIG_INT) && loop->main_task) cio_task_cancel(loop->main_task);
  if (bits & CIO__SIG_DUMP) cio__debug_dump_signal(loop);
}
