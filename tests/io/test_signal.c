/* test_signal.c - signals that wake tasks: cio_signal_wait from kill() and
 * raise() in other threads, handlers, several signals, kept deliveries,
 * cancellation and timeouts while waiting, restored dispositions, precedence
 * over an earlier handler (cio_run's SIGINT), two loops in two threads.
 * cio-test-labels: threads */
#include "test.h"
#include "test_loop.h"

#include <cio.h>
#include <cio/signal.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Sleep in small steps until *flag >= want or ~3 s passed (a bound, not a
 * timing assertion). */
static void wait_count(const int *flag, int want) {
  for (int i = 0; i < 300 && *flag < want; i++) cio_sleep(0.01);
}

/* ---- a thread that sends a signal ---- */

struct sender {
  pthread_t th;
  int signo;
  int use_raise; /* raise() in the thread: thread-directed, to a thread that is not the loop's */
  double delay;
};

static void *sender_main(void *arg) {
  struct sender *s = arg;
  usleep((useconds_t)(s->delay * 1e6));
  if (s->use_raise)
    raise(s->signo);
  else
    kill(getpid(), s->signo);
  return NULL;
}

static void send_from_thread(struct sender *s, int signo, int use_raise, double delay) {
  s->signo = signo;
  s->use_raise = use_raise;
  s->delay = delay;
  CHECK_EQ(pthread_create(&s->th, NULL, sender_main, s), 0);
}

static int disposition_is(int signo, void (*h)(int)) {
  struct sigaction cur;
  sigaction(signo, NULL, &cur);
  return !(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == h;
}

/* ---- tests ---- */

LOOP_TEST(test_wait_kill_from_thread) {
  struct sender s;
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 5);
  CHECK_EQ(cio_signal_watch(SIGUSR1), 0); /* no delivery can be missed from here */
  send_from_thread(&s, SIGUSR1, 0, 0.02);
  CHECK_EQ(cio_signal_wait(SIGUSR1), 0);
  pthread_join(s.th, NULL);
  CHECK_EQ(cio_timeout_end(&sc), 0);
  CHECK_EQ(cio_signal_unwatch(SIGUSR1), 0);
  CHECK_EQ(cio_signal_unwatch(SIGUSR1), -ENOENT);
  CHECK(disposition_is(SIGUSR1, SIG_DFL));
  return 0;
}

LOOP_TEST(test_wait_raise_from_thread) {
  struct sender s;
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 5);
  /* No watch first: the first wait starts watching; the sender waits long
   * enough that we are suspended by then (if not, the delivery is kept
   * anyway: the wait starts watching before it suspends). */
  send_from_thread(&s, SIGUSR2, 1, 0.05);
  CHECK_EQ(cio_signal_wait(SIGUSR2), 0);
  pthread_join(s.th, NULL);
  CHECK_EQ(cio_timeout_end(&sc), 0);
  CHECK_EQ(cio_signal_unwatch(SIGUSR2), 0);
  return 0;
}

static int usr1_count, usr2_count;
static void on_usr1(void *arg) { usr1_count += arg ? *(int *)arg : 1; }
static void on_usr2(void *arg) {
  (void)arg;
  usr2_count++;
}

LOOP_TEST(test_handlers_multiple_signals) {
  int weight = 1;
  usr1_count = usr2_count = 0;
  CHECK_EQ(cio_add_signal_handler(SIGUSR1, on_usr1, &weight), 0);
  CHECK_EQ(cio_add_signal_handler(SIGUSR2, on_usr2, NULL), 0);
  kill(getpid(), SIGUSR1);
  kill(getpid(), SIGUSR2);
  wait_count(&usr1_count, 1);
  wait_count(&usr2_count, 1);
  CHECK_EQ(usr1_count, 1);
  CHECK_EQ(usr2_count, 1);
  /* One delivery at a time: each runs the handler once. */
  for (int i = 0; i < 3; i++) {
    kill(getpid(), SIGUSR1);
    wait_count(&usr1_count, 2 + i);
  }
  CHECK_EQ(usr1_count, 4);
  CHECK_EQ(usr2_count, 1);
  /* A burst runs the handler at least once (coalescing is allowed). */
  for (int i = 0; i < 10; i++) kill(getpid(), SIGUSR2);
  wait_count(&usr2_count, 2);
  CHECK(usr2_count >= 2 && usr2_count <= 11);
  /* Replacing a handler: the new one runs, not the old. */
  weight = 100;
  int before = usr1_count;
  CHECK_EQ(cio_add_signal_handler(SIGUSR1, on_usr1, &weight), 0);
  kill(getpid(), SIGUSR1);
  wait_count(&usr1_count, before + 100);
  CHECK_EQ(usr1_count, before + 100);
  CHECK_EQ(cio_remove_signal_handler(SIGUSR1), 1);
  CHECK_EQ(cio_remove_signal_handler(SIGUSR1), 0);
  CHECK_EQ(cio_remove_signal_handler(SIGUSR2), 1);
  CHECK(disposition_is(SIGUSR1, SIG_DFL));
  CHECK(disposition_is(SIGUSR2, SIG_DFL));
  return 0;
}

struct setw {
  int signos[2];
  int r;
};

static int wait_set_fn(void *arg) {
  struct setw *w = arg;
  w->r = cio_signal_wait_any(w->signos, 2);
  return 0;
}

static int wait_one_fn(void *arg) {
  int *io = arg; /* in: signo, out: result */
  *io = cio_signal_wait(*io);
  return 0;
}

LOOP_TEST(test_wait_set_and_many_waiters) {
  struct setw w = {{SIGUSR1, SIGUSR2}, 0};
  int a = SIGUSR2, b = SIGUSR2, c = SIGUSR1;
  cio_task *tw = cio_spawn(wait_set_fn, &w);
  cio_task *ta = cio_spawn(wait_one_fn, &a);
  cio_task *tb = cio_spawn(wait_one_fn, &b);
  cio_task *tc = cio_spawn(wait_one_fn, &c);
  wait_blocked(tw);
  wait_blocked(ta);
  wait_blocked(tb);
  wait_blocked(tc);
  kill(getpid(), SIGUSR2);
  /* Every waiter for SIGUSR2 wakes; the SIGUSR1 waiter does not. */
  CHECK_EQ(join(tw), 0);
  CHECK_EQ(w.r, SIGUSR2);
  CHECK_EQ(join(ta), 0);
  CHECK_EQ(a, 0);
  CHECK_EQ(join(tb), 0);
  CHECK_EQ(b, 0);
  cio_sleep(0.02);
  CHECK_EQ(cio_task_done(tc), 0);
  kill(getpid(), SIGUSR1);
  CHECK_EQ(join(tc), 0);
  CHECK_EQ(c, 0);
  cio_signal_unwatch(SIGUSR1);
  cio_signal_unwatch(SIGUSR2);
  CHECK_EQ(cio_signal_wait_any(w.signos, 0), -EINVAL);
  int bad[2] = {SIGUSR1, SIGKILL};
  CHECK_EQ(cio_signal_wait_any(bad, 2), -EINVAL);
  return 0;
}

LOOP_TEST(test_cancel_and_timeout_while_waiting) {
  int a = SIGUSR1;
  cio_task *t = cio_spawn(wait_one_fn, &a);
  wait_blocked(t);
  CHECK_EQ(cio_signal_unwatch(SIGUSR1), -EBUSY); /* a task waits on it */
  cio_task_cancel(t);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(a, -ECANCELED);

  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 0.05);
  CHECK_EQ(cio_signal_wait(SIGUSR1), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&sc), 1);

  /* A cancelled waiter consumed nothing: the next delivery still wakes the
   * next waiter. */
  a = SIGUSR1;
  t = cio_spawn(wait_one_fn, &a);
  wait_blocked(t);
  kill(getpid(), SIGUSR1);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(a, 0);
  CHECK_EQ(cio_signal_unwatch(SIGUSR1), 0);
  return 0;
}

LOOP_TEST(test_kept_delivery) {
  /* Watched, nobody waiting: the delivery is kept for the next wait. */
  CHECK_EQ(cio_signal_watch(SIGUSR1), 0);
  CHECK_EQ(cio_signal_watch(SIGUSR1), 0); /* idempotent */
  kill(getpid(), SIGUSR1);
  kill(getpid(), SIGUSR1);
  cio_sleep(0.05); /* let the dispatcher see both */
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 5);
  CHECK_EQ(cio_signal_wait(SIGUSR1), 0);
  CHECK_EQ(cio_timeout_end(&sc), 0);
  /* Only one is kept (coalesced): the next wait sleeps. */
  cio_timeout_begin(&sc, 0.05);
  CHECK_EQ(cio_signal_wait(SIGUSR1), -ETIMEDOUT);
  cio_timeout_end(&sc);
  /* A kept delivery still honours a pending cancellation. */
  kill(getpid(), SIGUSR1);
  cio_sleep(0.05);
  cio_task_cancel(cio_current());
  CHECK_EQ(cio_signal_wait(SIGUSR1), -ECANCELED);
  CHECK_EQ(cio_signal_wait(SIGUSR1), 0); /* and the delivery is still there */
  /* Unwatching drops a kept delivery. */
  kill(getpid(), SIGUSR1);
  cio_sleep(0.05);
  CHECK_EQ(cio_signal_unwatch(SIGUSR1), 0);
  CHECK_EQ(cio_signal_watch(SIGUSR1), 0);
  cio_timeout_begin(&sc, 0.05);
  CHECK_EQ(cio_signal_wait(SIGUSR1), -ETIMEDOUT);
  cio_timeout_end(&sc);
  CHECK_EQ(cio_signal_unwatch(SIGUSR1), 0);
  return 0;
}

static volatile sig_atomic_t plain_hits;
static void plain_handler(int signo) {
  (void)signo;
  plain_hits++;
}

LOOP_TEST(test_removal_restores_disposition) {
  struct sigaction mine, old;
  memset(&mine, 0, sizeof mine);
  mine.sa_handler = plain_handler;
  sigemptyset(&mine.sa_mask);
  sigaction(SIGUSR1, &mine, &old);
  plain_hits = 0;
  usr1_count = 0;

  CHECK_EQ(cio_add_signal_handler(SIGUSR1, on_usr1, NULL), 0);
  CHECK(!disposition_is(SIGUSR1, plain_handler));
  kill(getpid(), SIGUSR1);
  wait_count(&usr1_count, 1);
  CHECK_EQ(usr1_count, 1);
  CHECK_EQ(plain_hits, 0); /* ours takes precedence, no chaining */
  /* A watch keeps it caught after the handler goes. */
  CHECK_EQ(cio_signal_watch(SIGUSR1), 0);
  CHECK_EQ(cio_remove_signal_handler(SIGUSR1), 1);
  CHECK(!disposition_is(SIGUSR1, plain_handler));
  CHECK_EQ(cio_signal_unwatch(SIGUSR1), 0);
  CHECK(disposition_is(SIGUSR1, plain_handler)); /* back, at once */
  kill(getpid(), SIGUSR1);
  CHECK_EQ(plain_hits, 1); /* a process-directed signal to a single thread */
  CHECK_EQ(usr1_count, 1);
  /* Someone replaces our disposition meanwhile: removal leaves theirs. */
  CHECK_EQ(cio_add_signal_handler(SIGUSR1, on_usr1, NULL), 0);
  struct sigaction theirs = mine;
  theirs.sa_handler = SIG_IGN;
  sigaction(SIGUSR1, &theirs, NULL);
  CHECK_EQ(cio_remove_signal_handler(SIGUSR1), 1);
  CHECK(disposition_is(SIGUSR1, SIG_IGN));
  sigaction(SIGUSR1, &old, NULL);
  return 0;
}

/* cio_run may install its own SIGINT handler (Ctrl-C cancels the main
 * task); one registered here takes precedence and the main task is not
 * cancelled; afterwards the earlier disposition is back. */
static int sigint_hits;
static void on_sigint(void *arg) {
  (void)arg;
  sigint_hits++;
}

LOOP_TEST(test_sigint_precedence) {
  struct sigaction before, after;
  sigaction(SIGINT, NULL, &before);
  sigint_hits = 0;
  CHECK_EQ(cio_add_signal_handler(SIGINT, on_sigint, NULL), 0);
  raise(SIGINT);
  wait_count(&sigint_hits, 1);
  CHECK_EQ(sigint_hits, 1);
  CHECK_EQ(cio_sleep(0.01), 0); /* not cancelled */
  CHECK_EQ(cio_remove_signal_handler(SIGINT), 1);
  sigaction(SIGINT, NULL, &after);
  CHECK(after.sa_handler == before.sa_handler);
  CHECK_EQ(after.sa_flags, before.sa_flags);
  return 0;
}

static int handler_sleep_r;
static void remove_self(void *arg) {
  (*(int *)arg)++;
  handler_sleep_r = cio_sleep(0.01); /* a callback, not a task */
  cio_remove_signal_handler(SIGUSR2);
}

LOOP_TEST(test_handler_removes_itself) {
  int hits = 0;
  CHECK_EQ(cio_add_signal_handler(SIGUSR2, remove_self, &hits), 0);
  kill(getpid(), SIGUSR2);
  wait_count(&hits, 1);
  CHECK_EQ(hits, 1);
  CHECK_EQ(handler_sleep_r, -EPERM);
  CHECK(disposition_is(SIGUSR2, SIG_DFL));
  return 0;
}

/* ---- two loops in two threads: each gets the delivery ---- */

static atomic_int watching;

static int thread_loop_main(void *arg) {
  int *res = arg;
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 5);
  int r = cio_signal_watch(SIGUSR1);
  atomic_fetch_add(&watching, 1);
  if (r == 0) r = cio_signal_wait(SIGUSR1);
  cio_timeout_end(&sc);
  *res = r;
  cio_signal_unwatch(SIGUSR1);
  return 0;
}

static void *thread_loop(void *arg) {
  cio_run(thread_loop_main, arg);
  return NULL;
}

static void test_two_loops(void) {
  pthread_t th[2];
  int res[2] = {1, 1};
  atomic_store(&watching, 0);
  for (int i = 0; i < 2; i++) CHECK_EQ(pthread_create(&th[i], NULL, thread_loop, &res[i]), 0);
  for (int i = 0; i < 500 && atomic_load(&watching) < 2; i++) usleep(10000);
  kill(getpid(), SIGUSR1); /* once, to the process */
  for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
  CHECK_EQ(res[0], 0);
  CHECK_EQ(res[1], 0);
  CHECK(disposition_is(SIGUSR1, SIG_DFL));
}

LOOP_TEST(test_errors) {
  CHECK_EQ(cio_signal_wait(SIGKILL), -EINVAL);
  CHECK_EQ(cio_signal_wait(SIGSTOP), -EINVAL);
  CHECK_EQ(cio_signal_wait(SIGSEGV), -EINVAL);
  CHECK_EQ(cio_signal_wait(0), -EINVAL);
  CHECK_EQ(cio_signal_wait(NSIG), -EINVAL);
  CHECK_EQ(cio_add_signal_handler(SIGUSR1, NULL, NULL), -EINVAL);
  CHECK_EQ(cio_add_signal_handler(SIGKILL, on_usr1, NULL), -EINVAL);
  CHECK_EQ(cio_remove_signal_handler(SIGUSR1), 0);
  CHECK_EQ(cio_signal_unwatch(SIGUSR1), -ENOENT);
  return 0;
}

static int outside_cb_ran, outside_cb_r;
static void outside_cb(void *arg) {
  (void)arg;
  outside_cb_ran = 1;
  outside_cb_r = cio_signal_wait(SIGUSR1); /* a callback is not a task */
}

LOOP_TEST(test_outside_task) {
  cio_call_soon(cio_loop_current(), outside_cb, NULL);
  cio_sleep(0.01);
  CHECK_EQ(outside_cb_ran, 1);
  CHECK_EQ(outside_cb_r, -EPERM);
  return 0;
}

static void test_no_loop(void) {
  CHECK_EQ(cio_signal_wait(SIGUSR1), -EPERM);
  CHECK_EQ(cio_add_signal_handler(SIGUSR1, on_usr1, NULL), -ENOENT);
  CHECK_EQ(cio_signal_watch(SIGUSR1), -ENOENT);
}

/* The loop closes while a handler is registered and a task waits: the
 * dispositions come back and the waiter unwinds. */
static int closing_waiter_r;
static int closing_waiter(void *arg) {
  (void)arg;
  closing_waiter_r = cio_signal_wait(SIGUSR2);
  return closing_waiter_r;
}

static int close_main(void *arg) {
  (void)arg;
  CHECK_EQ(cio_add_signal_handler(SIGUSR1, on_usr1, NULL), 0);
  cio_task *t = cio_spawn(closing_waiter, NULL);
  wait_blocked(t);
  cio_task_release(t); /* left running: cio_run cancels it */
  return 0;
}

static void test_close_with_registrations(void) {
  closing_waiter_r = 1;
  CHECK_EQ(cio_run(close_main, NULL), 0);
  CHECK(closing_waiter_r < 0);
  CHECK(disposition_is(SIGUSR1, SIG_DFL));
  CHECK(disposition_is(SIGUSR2, SIG_DFL));
}

/* Registered and closed before the dispatcher task ever ran: the next use
 * on this thread cleans up what was left. */
static int quick_main(void *arg) {
  (void)arg;
  return cio_add_signal_handler(SIGUSR1, on_usr1, NULL);
}

static int quick_main2(void *arg) {
  (void)arg;
  CHECK_EQ(cio_add_signal_handler(SIGUSR2, on_usr2, NULL), 0);
  CHECK_EQ(cio_remove_signal_handler(SIGUSR2), 1);
  CHECK(disposition_is(SIGUSR1, SIG_DFL));
  return 0;
}

static void test_close_before_dispatcher_ran(void) {
  CHECK_EQ(cio_run(quick_main, NULL), 0);
  CHECK_EQ(cio_run(quick_main2, NULL), 0);
  CHECK(disposition_is(SIGUSR1, SIG_DFL));
  CHECK(disposition_is(SIGUSR2, SIG_DFL));
}

/* ---- Ctrl-C twice during a slow shutdown ---- */

static int slow_shutdown_main(void *arg) {
  int *ready = arg;
  CHECK_EQ(cio_signal_watch(SIGINT), 0);
  ssize_t w = write(ready[1], "r", 1);
  (void)w;
  if (cio_signal_wait(SIGINT) < 0) return 1;
  w = write(ready[1], "s", 1); /* the graceful shutdown begins */
  (void)w;
  cio_sleep(20); /* a slow one: only a second Ctrl-C ends it early */
  return 0;
}

static void test_second_sigint_during_shutdown(void) {
#ifdef __SANITIZE_THREAD__
  /* ThreadSanitizer holds asynchronous signals back until its own delivery
   * points; under load the second SIGINT was seen to arrive only after the
   * 20 s shutdown. The other builds (Release, ASan, Valgrind) check this. */
  printf("  skipped under ThreadSanitizer\n");
  return;
#endif
  int p[2];
  CHECK_EQ(pipe(p), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    alarm(30);
    _exit(cio_run(slow_shutdown_main, p) == 0 ? 0 : 2);
  }
  close(p[1]);
  char c;
  CHECK_EQ(read(p[0], &c, 1), 1); /* watching */
  kill(pid, SIGINT);
  CHECK_EQ(read(p[0], &c, 1), 1); /* took the first one */
  CHECK_EQ(c, 's');
  kill(pid, SIGINT);
  int st = 0;
  CHECK_EQ(waitpid(pid, &st, 0), pid);
  CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT);
  close(p[0]);
}

/* ---- a select case when the loop closes ---- */

struct shut_case {
  ssize_t idx;
  int status, wait_status;
  bool woken;
};

/* Shielded, so the closing loop's cancellation does not interrupt the
 * select: what ends it is the loop giving its signals back. */
static int select_through_close(void *arg) {
  struct shut_case *sc = arg;
  cio_shield_scope sh;
  cio_shield_begin(&sh);
  cio_case cs[] = {cio_case_signal(SIGUSR2)};
  sc->idx = cio_select(cs, 1);
  sc->status = cs[0].status;
  sc->wait_status = cio_signal_wait(SIGUSR2); /* and waiting again is refused */
  sc->woken = true;
  cio_shield_end(&sh);
  return 0;
}

static int close_with_select_waiter(void *arg) {
  cio_task *t = cio_spawn(select_through_close, arg);
  CHECK(t != NULL);
  wait_blocked(t);
  cio_detach(t);
  return 0; /* the loop closes with t waiting */
}

static void test_case_signal_shutdown(void) {
  struct shut_case sc = {-100, -100, -100, false};
  CHECK_EQ(cio_run(close_with_select_waiter, &sc), 0);
  CHECK(sc.woken);
  CHECK_EQ(sc.idx, 0);             /* the case completed... */
  CHECK_EQ(sc.status, -ESHUTDOWN); /* ...with the loop's shutdown */
  CHECK(sc.wait_status < 0);
  struct sigaction sa;
  CHECK_EQ(sigaction(SIGUSR2, NULL, &sa), 0);
  CHECK(sa.sa_handler == SIG_DFL); /* the disposition is back */
}

int main(void) {
  RUN(test_errors);
  RUN(test_no_loop);
  RUN(test_outside_task);
  RUN(test_wait_kill_from_thread);
  RUN(test_wait_raise_from_thread);
  RUN(test_handlers_multiple_signals);
  RUN(test_wait_set_and_many_waiters);
  RUN(test_cancel_and_timeout_while_waiting);
  RUN(test_kept_delivery);
  RUN(test_removal_restores_disposition);
  RUN(test_sigint_precedence);
  RUN(test_handler_removes_itself);
  RUN(test_two_loops);
  RUN(test_close_with_registrations);
  RUN(test_close_before_dispatcher_ran);
  RUN(test_second_sigint_during_shutdown);
  RUN(test_case_signal_shutdown);
  return test_report();
}
