/* test_sigint.c - Ctrl-C under cio_run(): the first SIGINT cancels the main
 * task, a second one while that is handled kills the process, the previous
 * disposition comes back when cio_run returns, and a handler the program
 * installed itself is left alone. */
#include <cio.h>

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

static int is_default(void) {
  struct sigaction sa;
  sigaction(SIGINT, NULL, &sa);
  return !(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_DFL;
}

struct result {
  int sleep_r;
  int cleanup_r;
  int child_r;
  double slept;
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int child_sleep(void *arg) {
  (void)arg;
  return cio_sleep(0.05);
}

/* Ctrl-C arrives while main runs: its next suspension is cancelled, and its
 * cleanup may still suspend (one cancellation is delivered once). Other
 * tasks are not cancelled by the signal itself. */
static int ctrl_c_main(void *arg) {
  struct result *res = arg;
  CHECK(!is_default());
  cio_task *child = cio_spawn(child_sleep, NULL);
  raise(SIGINT);
  double t0 = now_s();
  res->sleep_r = cio_sleep(5);
  res->slept = now_s() - t0;
  res->cleanup_r = cio_sleep(0.01);
  res->child_r = cio_await(child);
  cio_task_release(child);
  return res->sleep_r;
}

static void test_ctrl_c_cancels_main(void) {
  CHECK(is_default());
  struct result res = {0};
  CHECK_EQ(cio_run(ctrl_c_main, &res), -ECANCELED);
  CHECK_EQ(res.sleep_r, -ECANCELED);
  CHECK(res.slept < 2.0); /* loose: the 5 s sleep was cut short */
  CHECK_EQ(res.cleanup_r, 0);
  CHECK_EQ(res.child_r, 0);
  CHECK(is_default()); /* restored */
}

/* From another thread (the kernel may deliver it to any thread). */
static void *kill_later(void *arg) {
  (void)arg;
  struct timespec ts = {0, 50 * 1000 * 1000};
  nanosleep(&ts, NULL);
  kill(getpid(), SIGINT);
  return NULL;
}

static int wait_main(void *arg) {
  (void)arg;
  pthread_t th;
  pthread_create(&th, NULL, kill_later, NULL);
  int r = cio_sleep(5);
  pthread_join(th, NULL);
  return r;
}

static void test_ctrl_c_from_another_thread(void) {
  double t0 = now_s();
  CHECK_EQ(cio_run(wait_main, NULL), -ECANCELED);
  CHECK(now_s() - t0 < 2.0);
  CHECK(is_default());
}

/* main may treat Ctrl-C as a request and finish normally. */
static int graceful_main(void *arg) {
  (void)arg;
  raise(SIGINT);
  int r = cio_sleep(5);
  return r == -ECANCELED ? 0 : -EINVAL;
}

static void test_main_may_absorb_it(void) {
  CHECK_EQ(cio_run(graceful_main, NULL), 0);
  CHECK(is_default());
}

/* A second Ctrl-C while the first is being handled: the default action. */
static int twice_main(void *arg) {
  (void)arg;
  raise(SIGINT);
  if (cio_sleep(5) != -ECANCELED) return -EINVAL;
  raise(SIGINT); /* in the cleanup: the process dies here */
  return cio_sleep(0.5);
}

static void test_second_ctrl_c_kills(void) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    int r = cio_run(twice_main, NULL);
    _exit(r == 0 ? 3 : 4);
  }
  int st = 0;
  CHECK_EQ(waitpid(pid, &st, 0), pid);
  CHECK(WIFSIGNALED(st));
  if (WIFSIGNALED(st)) CHECK_EQ(WTERMSIG(st), SIGINT);
}

/* A program's own SIGINT handler (or SIG_IGN) is not replaced. */
static volatile sig_atomic_t own_hits;
static void own_handler(int sig) {
  (void)sig;
  own_hits++;
}

static int untouched_main(void *arg) {
  (void)arg;
  raise(SIGINT);
  return cio_sleep(0.02);
}

static void test_own_handler_kept(void) {
  struct sigaction sa, old, cur;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = own_handler;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old);
  CHECK_EQ(cio_run(untouched_main, NULL), 0);
  CHECK_EQ(own_hits, 1);
  sigaction(SIGINT, NULL, &cur);
  CHECK(cur.sa_handler == own_handler);

  signal(SIGINT, SIG_IGN);
  CHECK_EQ(cio_run(untouched_main, NULL), 0);
  sigaction(SIGINT, NULL, &cur);
  CHECK(cur.sa_handler == SIG_IGN);
  sigaction(SIGINT, &old, NULL);
  CHECK(is_default());
}

/* A loop made by hand is not affected: only cio_run() takes SIGINT. */
static void test_manual_loop_untouched(void) {
  cio_loop *loop = cio_loop_new(NULL);
  CHECK(is_default());
  cio_task *t = cio_spawn(child_sleep, NULL);
  CHECK_EQ(cio_loop_run_until_complete(loop, t), 0);
  CHECK(is_default());
  cio_task_release(t);
  cio_loop_free(loop);
}

/* Someone saves SIGINT's disposition while cio_run runs (cio's own handler)
 * and puts it back after: the next cio_run must still turn Ctrl-C into a
 * cancellation rather than let it kill the process. */
static struct sigaction saved_during_run;

static int save_disposition_main(void *arg) {
  (void)arg;
  sigaction(SIGINT, NULL, &saved_during_run);
  return 0;
}

static void test_stale_handler_put_back(void) {
  CHECK(is_default());
  CHECK_EQ(cio_run(save_disposition_main, NULL), 0);
  sigaction(SIGINT, &saved_during_run, NULL); /* the stale copy comes back */
  struct result res = {0};
  CHECK_EQ(cio_run(ctrl_c_main, &res), -ECANCELED);
  CHECK_EQ(res.sleep_r, -ECANCELED);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGINT, &dfl, NULL);
}

int main(void) {
  RUN(test_ctrl_c_cancels_main);
  RUN(test_ctrl_c_from_another_thread);
  RUN(test_main_may_absorb_it);
  RUN(test_second_ctrl_c_kills);
  RUN(test_own_handler_kept);
  RUN(test_manual_loop_untouched);
  RUN(test_stale_handler_put_back);
  return test_report();
}
