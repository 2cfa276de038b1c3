/* test_stack.c - task stacks: overflow is caught and reported by task name
 * (checked in a forked child whose stderr the parent captures), deep but
 * fitting recursion works, and stacks are reused across sequential tasks.
 *
 * Under AddressSanitizer the overflow may be caught by ASan first; its
 * "stack-overflow" report is accepted too.
 */
#include <cio.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "test_loop.h"

/* 0 = unbounded. A variable, so the compiler sees a base case. */
static volatile int depth_limit;

static int __attribute__((noinline)) recurse(int depth) {
  volatile char buf[512];
  buf[0] = (char)depth;
  buf[511] = (char)depth;
  if (depth_limit && depth >= depth_limit) return 0;
  return recurse(depth + 1) + (buf[0] == buf[511]);
}

static int recurse_task(void *arg) {
  (void)arg;
  return recurse(0) >= 0 ? 0 : -EPROTO;
}

struct overflow_case {
  const char *name;
  size_t stack_size;
};

static int overflow_main(void *arg) {
  const struct overflow_case *oc = arg;
  cio_spawn_opts o = {.name = oc->name, .stack_size = oc->stack_size};
  cio_task *t = cio_spawn_ex(recurse_task, NULL, &o);
  if (!t) return -ENOMEM;
  int r = cio_await(t);
  cio_task_release(t);
  return r;
}

/* Read everything from fd into a NUL-terminated heap buffer. */
static char *slurp(int fd) {
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  if (!buf) return NULL;
  for (;;) {
    if (cap - len < 1024) {
      char *nb = realloc(buf, cap * 2);
      if (!nb) break;
      buf = nb;
      cap *= 2;
    }
    ssize_t n = read(fd, buf + len, cap - len - 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += (size_t)n;
  }
  buf[len] = '\0';
  return buf;
}

static void check_overflow(const char *name, size_t stack_size) {
  int fds[2];
  CHECK_EQ(pipe(fds), 0);
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid < 0) return;
  if (pid == 0) {
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    alarm(20);
    depth_limit = 0;
    struct overflow_case oc = {name, stack_size};
    int r = cio_run(overflow_main, &oc);
    fprintf(stderr, "child: overflow went unnoticed (status %d)\n", r);
    _exit(0);
  }
  close(fds[1]);
  char *out = slurp(fds[0]);
  close(fds[0]);
  int st = 0;
  CHECK_EQ(waitpid(pid, &st, 0), pid);
  CHECK(out != NULL);
  if (!out) return;

  int died_abort = WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
  int died_badly = WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) != 0);
  int cio_report = strstr(out, "stack overflow") != NULL && strstr(out, name) != NULL;
  int asan_report = TEST_ASAN && strstr(out, "stack-overflow") != NULL;

  if (!(cio_report || asan_report) || !died_badly) {
    fprintf(stderr, "  [%s] child status 0x%x, stderr was:\n-----\n%.4000s\n-----\n", name, st,
            out);
  }
  CHECK(cio_report || asan_report);
  printf("     %s: overflow reported by %s\n", name,
         cio_report ? "cio" : asan_report ? "ASan" : "nobody");
  if (cio_report) {
    /* cio's own handler: reported, then abort(). */
    CHECK(died_abort);
  } else {
    CHECK(died_badly);
  }
  free(out);
}

static void test_overflow_default_stack(void) { check_overflow("deep-recursion", 0); }

static void test_overflow_small_stack(void) { check_overflow("small-overflow", 16 * 1024); }

/* ---- deep recursion that fits ---- */

static int bounded_task(void *arg) {
  int want = *(int *)arg;
  return recurse(0) == want ? 0 : -EPROTO;
}

static int fitting_main(void *arg) {
  /* ~600 bytes a level: 200 levels ~ 120 KiB of a 256 KiB default stack. */
  depth_limit = 200;
  int want = 200;
  cio_task *t = cio_spawn(bounded_task, &want);
  CHECK(t != NULL);
  if (!t) return -ENOMEM;
  CHECK_EQ(cio_await(t), 0);
  cio_task_release(t);

  /* The same depth again on a reused stack, and a few at once. */
  cio_task *m[4];
  for (int i = 0; i < 4; i++) m[i] = cio_spawn(bounded_task, &want);
  for (int i = 0; i < 4; i++) {
    CHECK_EQ(cio_await(m[i]), 0);
    cio_task_release(m[i]);
  }
  depth_limit = 0;
  return 0;
}

static void test_deep_recursion_fits(void) { CHECK_EQ(cio_run(fitting_main, NULL), 0); }

/* ---- stacks are reused ---- */

#define N_SEQ 20000
#define MAX_FRAMES 64

struct frames {
  uintptr_t seen[MAX_FRAMES];
  int distinct;
  int overflowed;
};

static int note_frame(void *arg) {
  struct frames *f = arg;
  /* The real stack, not an ASan fake frame. */
  uintptr_t sp = (uintptr_t)__builtin_frame_address(0) & ~(uintptr_t)0xffff;
  for (int i = 0; i < f->distinct; i++)
    if (f->seen[i] == sp) return 0;
  if (f->distinct < MAX_FRAMES)
    f->seen[f->distinct++] = sp;
  else
    f->overflowed = 1;
  return 0;
}

static int reuse_main(void *arg) {
  struct frames f;
  memset(&f, 0, sizeof f);
  long bad = 0;
  for (int i = 0; i < N_SEQ; i++) {
    cio_task *t = cio_spawn(note_frame, &f);
    if (!t || cio_await(t) != 0) bad++;
    if (t) cio_task_release(t);
  }
  CHECK_EQ(bad, 0);
  /* 20,000 sequential tasks ran on a handful of stacks. */
  CHECK(!f.overflowed);
  CHECK(f.distinct <= 8);
  if (f.distinct > 8 || f.overflowed)
    fprintf(stderr, "  %d distinct stacks for %d sequential tasks\n", f.distinct, N_SEQ);
  return 0;
}

static void test_stacks_reused(void) { CHECK_EQ(cio_run(reuse_main, NULL), 0); }

int main(void) {
  alarm(60);   /* a hang kills the test instead of blocking CI */
  RUN(test_overflow_default_stack);
  RUN(test_overflow_small_stack);
  RUN(test_deep_recursion_fits);
  RUN(test_stacks_reused);
  return test_report();
}
