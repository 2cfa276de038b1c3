/* test_debug.c - debug mode: task dumps with backtraces of suspended tasks,
 * slow-task reports, the close-time report of unawaited tasks, stack
 * high-water marks, SIGQUIT.
 *
 * The functions whose names the dumps must show are non-static, and this
 * test is linked with -rdynamic (marker: cio-test-exports), so dladdr()
 * finds them. Reports on stderr are captured by pointing fd 2 at a memfd.
 */
#include <cio.h>

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

/* Keeps calls out of tail position, so each function keeps its frame. */
volatile int dbg_sink;

int dbg_leaf_sleep(void);
int dbg_sleeper(void *arg);
int dbg_event_waiter(void *arg);
int dbg_dump_main(void *arg);
int dbg_self_backtrace(void **pcs, int max);
void dbg_use_stack(int kib);
int dbg_deep_sleep(char *top, size_t size);

/* ---- helpers ---- */

static char *read_all(int fd) {
  off_t len = lseek(fd, 0, SEEK_END);
  char *s = malloc((size_t)len + 1);
  if (!s) return NULL;
  ssize_t n = pread(fd, s, (size_t)len, 0);
  s[n > 0 ? n : 0] = '\0';
  return s;
}

static int saved_stderr = -1, capture_fd = -1;

static void capture_begin(void) {
  fflush(stderr);
  capture_fd = memfd_create("stderr", 0);
  saved_stderr = dup(2);
  dup2(capture_fd, 2);
}

/* Returns what was written to stderr since capture_begin (malloc'd). */
static char *capture_end(void) {
  fflush(stderr);
  dup2(saved_stderr, 2);
  close(saved_stderr);
  char *s = read_all(capture_fd);
  close(capture_fd);
  return s;
}

/* The part of a dump about one task: from its header to the next one. */
static char *section(const char *dump, const char *name) {
  char head[128];
  snprintf(head, sizeof head, "\ntask '%s'", name);
  const char *a = strstr(dump, head);
  if (!a) return strdup("");
  const char *b = strstr(a + 1, "\ntask '");
  const char *c = strstr(a + 1, "\n===");
  if (!b || (c && c < b)) b = c;
  size_t n = b ? (size_t)(b - a) : strlen(a);
  char *s = malloc(n + 1);
  memcpy(s, a, n);
  s[n] = '\0';
  return s;
}

/* a occurs in s, and b after it. */
static int in_order(const char *s, const char *a, const char *b) {
  const char *p = strstr(s, a);
  return p && strstr(p + strlen(a), b);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void spin(double seconds) {
  double end = now_s() + seconds;
  while (now_s() < end) {
  }
}

static cio_loop *debug_loop(double slow) {
  cio_loop_opts o = {.stack_size = 0, .debug = 1, .slow_task_threshold = slow};
  return cio_loop_new(&o);
}

static cio_task *spawn_named(cio_task_fn fn, void *arg, const char *name, size_t stack) {
  cio_spawn_opts o = {.name = name, .stack_size = stack};
  return cio_spawn_ex(fn, arg, &o);
}

/* ---- tasks whose frames the dumps must show ---- */

__attribute__((noinline)) int dbg_leaf_sleep(void) {
  int r = cio_sleep(30);
  dbg_sink = r;
  return r;
}

int dbg_sleeper(void *arg) {
  (void)arg;
  int r = dbg_leaf_sleep();
  dbg_sink = r;
  return r;
}

int dbg_event_waiter(void *arg) {
  int r = cio_event_wait(arg);
  dbg_sink = r;
  return r;
}

__attribute__((noinline)) int dbg_self_backtrace(void **pcs, int max) {
  int n = cio_task_backtrace(cio_current(), pcs, max);
  dbg_sink = n;
  return n;
}

static const char *sym(void *pc) {
  Dl_info di;
  if (!dladdr((char *)pc - 1, &di) || !di.dli_sname) return "?";
  return di.dli_sname;
}

static int has_sym(void **pcs, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (strcmp(sym(pcs[i]), name) == 0) return i;
  return -1;
}

struct dump_ctx {
  char *text;
  int bt_napper[3]; /* index of cio_sleep, dbg_leaf_sleep, dbg_sleeper */
  int bt_unborn, bt_null, bt_self_fn;
};

int dbg_dump_main(void *arg) {
  struct dump_ctx *c = arg;
  cio_event *ev = cio_event_new();
  cio_task *napper = spawn_named(dbg_sleeper, NULL, "napper", 0);
  cio_task *listener = spawn_named(dbg_event_waiter, ev, "listener", 0);
  cio_yield(); /* both run and park */
  cio_task *unborn = spawn_named(dbg_sleeper, NULL, "unborn", 0);

  int fd = memfd_create("dump", 0);
  CHECK_EQ(cio_loop_dump(NULL, fd), 0);
  c->text = read_all(fd);
  close(fd);

  void *pcs[32];
  int n = cio_task_backtrace(napper, pcs, 32);
  CHECK(n >= 3);
  c->bt_napper[0] = has_sym(pcs, n, "cio_sleep");
  c->bt_napper[1] = has_sym(pcs, n, "dbg_leaf_sleep");
  c->bt_napper[2] = has_sym(pcs, n, "dbg_sleeper");
  c->bt_unborn = cio_task_backtrace(unborn, pcs, 32);
  c->bt_null = cio_task_backtrace(NULL, pcs, 32);
  n = dbg_self_backtrace(pcs, 32);
  c->bt_self_fn = n > 0 ? has_sym(pcs, n, "dbg_dump_main") : -2;

  cio_task *all[] = {napper, listener, unborn};
  for (int i = 0; i < 3; i++) cio_task_cancel(all[i]);
  for (int i = 0; i < 3; i++) {
    cio_await(all[i]);
    cio_task_release(all[i]);
  }
  cio_event_free(ev);
  return 0;
}

static void test_dump_suspended_tasks(void) {
  struct dump_ctx c = {0};
  CHECK_EQ(cio_run(dbg_dump_main, &c), 0);
  const char *d = c.text ? c.text : "";
  CHECK(strstr(d, "=== cio task dump") != NULL);
  CHECK(strstr(d, "running now: 'main'") != NULL);

  char *main_s = section(d, "main");
  CHECK(strstr(main_s, "running") != NULL);
  CHECK(strstr(main_s, "dbg_dump_main") != NULL);

  char *nap = section(d, "napper");
  CHECK(strstr(nap, "waiting on 'sleep'") != NULL);
  /* Innermost first: the suspending call, then its callers. */
  CHECK(in_order(nap, "cio_sleep", "dbg_leaf_sleep"));
  CHECK(in_order(nap, "dbg_leaf_sleep", "dbg_sleeper"));
  CHECK(strstr(nap, "stack ") != NULL);

  char *lis = section(d, "listener");
  CHECK(strstr(lis, "waiting on 'event'") != NULL);
  CHECK(in_order(lis, "cio_event_wait", "dbg_event_waiter"));

  char *unb = section(d, "unborn");
  CHECK(strstr(unb, "ready, not started") != NULL);
  CHECK(strstr(unb, "#0") == NULL);

  /* The API: from the suspending call outwards. */
  CHECK_EQ(c.bt_napper[0], 0);
  CHECK(c.bt_napper[1] > c.bt_napper[0]);
  CHECK(c.bt_napper[2] > c.bt_napper[1]);
  CHECK_EQ(c.bt_unborn, -ESRCH);
  CHECK_EQ(c.bt_null, -EINVAL);
  CHECK_EQ(c.bt_self_fn, 1); /* #0 dbg_self_backtrace, #1 its caller */
  if (test_failed_checks) fprintf(stderr, "---- dump was:\n%s----\n", d);
  free(main_s);
  free(nap);
  free(lis);
  free(unb);
  free(c.text);
}

/* ---- dump from the loop's thread outside tasks, and from another thread ---- */

static int yield_twice(void *arg) {
  (void)arg;
  cio_yield();
  return cio_yield();
}

static void *dump_from_thread(void *arg) { return (void *)(intptr_t)cio_loop_dump(arg, 1); }

static void test_dump_outside_tasks(void) {
  cio_loop *loop = cio_loop_new(NULL);
  cio_task *nap = spawn_named(dbg_sleeper, NULL, "outside_napper", 0);
  cio_task *t = cio_spawn(yield_twice, NULL);
  CHECK_EQ(cio_loop_run_until_complete(loop, t), 0);
  int fd = memfd_create("dump", 0);
  CHECK_EQ(cio_loop_dump(loop, fd), 0);
  char *d = read_all(fd);
  close(fd);
  CHECK(strstr(d, "running now: the loop itself") != NULL);
  char *s = section(d, "outside_napper");
  CHECK(in_order(s, "cio_sleep", "dbg_sleeper"));
  CHECK(strstr(d, "debug mode off") != NULL);
  free(s);
  free(d);

  pthread_t th;
  void *res = NULL;
  pthread_create(&th, NULL, dump_from_thread, loop);
  pthread_join(th, &res);
  CHECK_EQ((intptr_t)res, -EINVAL);

  cio_task_release(t);
  cio_task_release(nap);
  cio_loop_free(loop);
}

/* ---- a task with too little stack left is not unwound ---- */

__attribute__((noinline, no_sanitize_address)) int dbg_deep_sleep(char *top, size_t size) {
  volatile char buf[1024];
  buf[0] = 1;
  if ((size_t)((uintptr_t)top - (uintptr_t)buf) + 6 * 1024 < size) {
    int r = dbg_deep_sleep(top, size);
    dbg_sink = r + buf[0];
    return r;
  }
  return cio_sleep(30);
}

__attribute__((no_sanitize_address)) static int deep_task(void *arg) {
  (void)arg;
  char top;
  int r = dbg_deep_sleep(&top, 32 * 1024);
  dbg_sink = r;
  return r;
}

static int deep_main(void *arg) {
  (void)arg;
  cio_task *t = spawn_named(deep_task, NULL, "cramped", 32 * 1024);
  cio_yield();
  void *pcs[8];
  CHECK_EQ(cio_task_backtrace(t, pcs, 8), -ENOSPC);
  int fd = memfd_create("dump", 0);
  CHECK_EQ(cio_loop_dump(NULL, fd), 0);
  char *d = read_all(fd);
  close(fd);
  char *s = section(d, "cramped");
  CHECK(strstr(s, "too little stack left") != NULL);
  free(s);
  free(d);
  cio_task_cancel(t);
  CHECK_EQ(cio_await(t), -ECANCELED);
  cio_task_release(t);
  return 0;
}

static void test_no_unwind_without_room(void) { CHECK_EQ(cio_run(deep_main, NULL), 0); }

/* ---- slow tasks ---- */

static int hog_then_yield(void *arg) {
  (void)arg;
  spin(0.2);
  return cio_yield(); /* straight to the next ready task, not via the loop */
}

static int hog_then_finish(void *arg) {
  (void)arg;
  spin(0.2);
  return 0;
}

static int polite(void *arg) {
  (void)arg;
  for (int i = 0; i < 4; i++) cio_sleep(0.05);
  return 0;
}

static void hog_callback(void *arg) {
  (void)arg;
  spin(0.2);
}

static int slow_main(void *arg) {
  (void)arg;
  cio_task *t[3] = {spawn_named(hog_then_yield, NULL, "hog_yield", 0),
                    spawn_named(polite, NULL, "polite", 0),
                    spawn_named(hog_then_finish, NULL, "hog_finish", 0)};
  cio_call_soon(cio_loop_current(), hog_callback, NULL);
  for (int i = 0; i < 3; i++) {
    cio_await(t[i]);
    cio_task_release(t[i]);
  }
  return cio_sleep(0.3); /* idle polling is not "holding the loop" */
}

/* Timing: the hogs spin 0.2 s against a 0.08 s threshold; the negative
 * checks ('polite', 'main') rely on their runs between suspensions taking
 * microseconds, far from 80 ms even on a loaded machine. */
static void test_slow_task_reports(void) {
  capture_begin();
  cio_loop *loop = debug_loop(0.08);
  cio_task *t = cio_spawn(slow_main, NULL);
  int r = cio_loop_run_until_complete(loop, t);
  cio_task_release(t);
  cio_loop_free(loop);
  char *err = capture_end();
  CHECK_EQ(r, 0);
  CHECK(strstr(err, "task 'hog_yield' (id 2) held the loop for 0.") != NULL);
  CHECK(strstr(err, "task 'hog_finish' (id 4) held the loop for 0.") != NULL);
  CHECK(strstr(err, "the loop context (callbacks, timers) held the loop for 0.") != NULL);
  CHECK(strstr(err, "'polite'") == NULL);
  CHECK(strstr(err, "'main'") == NULL);
  if (test_failed_checks) fprintf(stderr, "---- stderr was:\n%s----\n", err);
  free(err);
}

/* ---- the close-time report ---- */

static int fail_eio(void *arg) {
  (void)arg;
  return -EIO;
}

static int fail_enoent(void *arg) {
  (void)arg;
  return -ENOENT;
}

/* A connection handler whose peer went away: not a failure to report. */
static int fail_epipe(void *arg) {
  (void)arg;
  return -EPIPE;
}

static int fail_econnreset(void *arg) {
  (void)arg;
  return -ECONNRESET;
}

static int succeed(void *arg) {
  (void)arg;
  return 0;
}

static int close_main(void *arg) {
  (void)arg;
  cio_task_release(spawn_named(fail_eio, NULL, "forgotten", 0));
  cio_task_release(spawn_named(dbg_sleeper, NULL, "lost_runner", 0));
  cio_detach(spawn_named(fail_enoent, NULL, "detached_failure", 0));
  cio_detach(spawn_named(fail_eio, NULL, "detached_after_done", 0)); /* detached below */
  cio_task *ok = spawn_named(succeed, NULL, "awaited_ok", 0);
  cio_task *rd = spawn_named(fail_eio, NULL, "status_read", 0);
  cio_task *dd = spawn_named(fail_eio, NULL, "done_then_detached", 0);
  CHECK_EQ(cio_await(ok), 0);
  cio_task_release(ok);
  cio_sleep(0.01);
  CHECK_EQ(cio_task_status(rd), -EIO);
  cio_task_release(rd);
  cio_detach(dd); /* already failed: reported at detach */
  cio_detach(spawn_named(fail_epipe, NULL, "peer_gone", 0));
  cio_detach(spawn_named(fail_econnreset, NULL, "peer_reset", 0));
  cio_spawn_opts svc = {.name = "service", .daemon = 1};
  cio_detach(cio_spawn_ex(dbg_sleeper, NULL, &svc));
  cio_sleep(0.01);
  return 0;
}

static void test_close_report(void) {
  capture_begin();
  cio_loop *loop = debug_loop(0);
  cio_task *t = cio_spawn(close_main, NULL);
  int r = cio_loop_run_until_complete(loop, t);
  cio_task_release(t);
  cio_loop_free(loop);
  char *err = capture_end();
  CHECK_EQ(r, 0);
  CHECK(strstr(err, "2 task(s) were never awaited") != NULL);
  CHECK(strstr(err, "'forgotten' (id 2): Input/output error") != NULL);
  CHECK(strstr(err, "'lost_runner' (id 3): cancelled") != NULL);
  CHECK(strstr(err, "detached task 'detached_failure' (id 4) failed: No such file or directory") !=
        NULL);
  CHECK(strstr(err, "'peer_gone'") == NULL);  /* -EPIPE: the peer went away */
  CHECK(strstr(err, "'peer_reset'") == NULL); /* -ECONNRESET likewise */
  CHECK(strstr(err, "'service'") == NULL);    /* a daemon: not a leftover */
  CHECK(strstr(err, "loop closed with 1 task(s) still running") != NULL);
  CHECK(strstr(err, "detached task(s) failed and nobody read the error") != NULL);
  CHECK(in_order(err, "nobody read the error", "'detached_failure'"));
  CHECK(strstr(err, "'done_then_detached' (id 8) failed") != NULL);
  CHECK(strstr(err, "'awaited_ok'") == NULL);
  CHECK(strstr(err, "'status_read'") == NULL);
  CHECK(strstr(err, "'main'") == NULL);
  if (test_failed_checks) fprintf(stderr, "---- stderr was:\n%s----\n", err);
  free(err);
}

/* Outside debug mode nothing is reported. */
static void test_no_report_without_debug(void) {
  capture_begin();
  cio_loop_opts o = {.debug = 0};
  cio_loop *loop = cio_loop_new(&o);
  cio_task *t = cio_spawn(close_main, NULL);
  cio_loop_run_until_complete(loop, t);
  cio_task_release(t);
  cio_loop_free(loop);
  char *err = capture_end();
  CHECK_STR(err, "");
  free(err);
}

/* ---- stack high-water marks ---- */

/* Touch kib KiB of stack. Not instrumented: under ASan the array must live
 * on the real stack, not on ASan's fake one. */
__attribute__((noinline, no_sanitize_address)) void dbg_use_stack(int kib) {
  volatile char buf[4096];
  for (size_t i = 0; i < sizeof buf; i += 256) buf[i] = (char)i;
  if (kib > 4) dbg_use_stack(kib - 4);
  dbg_sink = buf[100];
}

static int use_96k(void *arg) {
  (void)arg;
  dbg_use_stack(96);
  return 0;
}

static int use_64k_and_wait(void *arg) {
  dbg_use_stack(64);
  return cio_event_wait(arg);
}

static int hw_main(void *arg) {
  size_t *hw = arg;
  cio_task *deep = spawn_named(use_96k, NULL, "deep", 0);
  cio_await(deep);
  hw[0] = cio_task_stack_high_water(deep);
  hw[1] = cio_loop_stack_high_water(cio_loop_current());
  hw[2] = cio_task_stack_size(deep);
  cio_task_release(deep);
  /* The next task gets the same (cleaned) stack. */
  cio_task *shallow = spawn_named(succeed, NULL, "shallow", 0);
  cio_await(shallow);
  hw[3] = cio_task_stack_high_water(shallow);
  cio_task_release(shallow);
  cio_event *ev = cio_event_new();
  cio_task *live = spawn_named(use_64k_and_wait, ev, "live", 0);
  cio_yield();
  hw[4] = cio_task_stack_high_water(live);
  int fd = memfd_create("dump", 0);
  cio_loop_dump(NULL, fd);
  char *d = read_all(fd);
  close(fd);
  char *s = section(d, "live");
  unsigned kib = 0;
  const char *p = strstr(s, "stack ");
  if (p) sscanf(p, "stack %u KiB touched", &kib);
  hw[5] = kib;
  free(s);
  free(d);
  cio_event_set(ev);
  cio_await(live);
  cio_task_release(live);
  cio_event_free(ev);
  return 0;
}

static void test_stack_high_water(void) {
  size_t hw[6] = {0};
  cio_loop *loop = debug_loop(0);
  cio_task *t = cio_spawn(hw_main, hw);
  CHECK_EQ(cio_loop_run_until_complete(loop, t), 0);
  cio_task_release(t);
  cio_loop_free(loop);
  CHECK(hw[0] >= 96 * 1024);
  CHECK(hw[0] < 200 * 1024);
  CHECK(hw[1] >= hw[0]);
  CHECK(hw[2] >= 250 * 1024 && hw[2] <= 256 * 1024);
  CHECK(hw[3] > 0);
  CHECK(hw[3] < 48 * 1024); /* the 96 KiB of the task before were cleaned */
  CHECK(hw[4] >= 64 * 1024);
  CHECK(hw[5] >= 64 && hw[5] < 200);
  if (test_failed_checks)
    fprintf(stderr, "  high-water: %zu %zu %zu %zu %zu %zu\n", hw[0], hw[1], hw[2], hw[3], hw[4],
            hw[5]);
}

/* ---- SIGQUIT ---- */

static int is_default(int sig) {
  struct sigaction sa;
  sigaction(sig, NULL, &sa);
  return !(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_DFL;
}

static int quit_main(void *arg) {
  (void)arg;
  cio_task *nap = spawn_named(dbg_sleeper, NULL, "quit_napper", 0);
  cio_yield();
  raise(SIGQUIT);  /* handled on this thread, while 'main' holds the loop */
  cio_sleep(0.02); /* the loop turns: the dump is printed */
  cio_task_cancel(nap);
  cio_await(nap);
  cio_task_release(nap);
  return 0;
}

static void test_sigquit_dump(void) {
  CHECK(is_default(SIGQUIT));
  cio_loop_opts off = {.debug = 0};
  cio_loop *loop = cio_loop_new(&off);
  CHECK(is_default(SIGQUIT)); /* only debug loops take SIGQUIT */
  cio_loop_free(loop);

  capture_begin();
  loop = debug_loop(0);
  CHECK(!is_default(SIGQUIT));
  cio_task *t = spawn_named(quit_main, NULL, "main", 0);
  int r = cio_loop_run_until_complete(loop, t);
  cio_task_release(t);
  cio_loop_free(loop);
  char *err = capture_end();
  CHECK_EQ(r, 0);
  CHECK(is_default(SIGQUIT));
  CHECK(strstr(err, "cio: SIGQUIT: task 'main' (id 1) holds the loop") != NULL);
  CHECK(in_order(err, "holds the loop", "=== cio task dump on SIGQUIT"));
  char *s = section(err, "quit_napper");
  CHECK(in_order(s, "cio_sleep", "dbg_sleeper"));
  free(s);
  if (test_failed_checks) fprintf(stderr, "---- stderr was:\n%s----\n", err);
  free(err);
}

/* A task that never suspends: the line written from the handler names it,
 * whichever thread the kernel delivers the signal to. */
static void *quit_later(void *arg) {
  (void)arg;
  struct timespec ts = {0, 50 * 1000 * 1000};
  nanosleep(&ts, NULL);
  kill(getpid(), SIGQUIT);
  return NULL;
}

static int stuck(void *arg) {
  (void)arg;
  spin(0.4);
  return 0;
}

static void test_sigquit_names_stuck_task(void) {
  capture_begin();
  cio_loop *loop = debug_loop(10);
  cio_task *t = spawn_named(stuck, NULL, "stuck", 0);
  pthread_t th;
  pthread_create(&th, NULL, quit_later, NULL);
  cio_loop_run_until_complete(loop, t);
  pthread_join(th, NULL);
  cio_task_release(t);
  cio_loop_free(loop);
  char *err = capture_end();
  CHECK(strstr(err, "cio: SIGQUIT: task 'stuck' (id 1) holds the loop and has run for ") != NULL);
  CHECK(strstr(err, "=== cio task dump on SIGQUIT") != NULL);
  if (test_failed_checks) fprintf(stderr, "---- stderr was:\n%s----\n", err);
  free(err);
}

/* ---- a swallowed cancellation that later blocks a shutdown ---- */

static int swallower(void *arg) {
  (void)arg;
  for (int i = 0; i < 2; i++) {
    int r = cio_sleep(30);
    if (r == -ECANCELED) continue; /* swallowed */
  }
  /* close's cancellation is swallowed too: a slow shutdown */
  struct timespec ts = {0, 5000000};
  for (int i = 0; i < 300; i++) {
    if (cio_sleep(0.01) == -ECANCELED) {
      for (int k = 0; k < 20; k++) {
        nanosleep(&ts, NULL);
        cio_yield();
      }
      return 0;
    }
  }
  return 0;
}

static int swallow_main(void *arg) {
  (void)arg;
  cio_task *t = spawn_named(swallower, NULL, "swallower", 0);
  cio_sleep(0.01);
  cio_task_cancel(t);
  cio_sleep(0.01);
  cio_detach(t);
  return 0;
}

static void test_swallowed_cancellation_report(void) {
  capture_begin();
  cio_loop *loop = debug_loop(0);
  cio_task *t = cio_spawn(swallow_main, NULL);
  int r = cio_loop_run_until_complete(loop, t);
  cio_task_release(t);
  cio_loop_free(loop);
  char *err = capture_end();
  CHECK_EQ(r, 0);
  CHECK(strstr(err, "'swallower' (id 2) waiting on sleep - it swallowed 1 earlier cancellation") !=
        NULL);
  CHECK(strstr(err, "loop close is still waiting, after 1 s, for 1 task(s)") != NULL);
  CHECK(strstr(err, "- it swallowed 2 earlier cancellations") != NULL);
  free(err);
}

int main(void) {
  RUN(test_dump_suspended_tasks);
  RUN(test_dump_outside_tasks);
  RUN(test_no_unwind_without_room);
  RUN(test_slow_task_reports);
  RUN(test_close_report);
  RUN(test_swallowed_cancellation_report);
  RUN(test_no_report_without_debug);
  RUN(test_stack_high_water);
  RUN(test_sigquit_dump);
  RUN(test_sigquit_names_stuck_task);
  return test_report();
}
/* cio-test-exports */
