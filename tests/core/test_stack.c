/* test_stack.c - task stacks: overflow is caught and reported by task name
 * (checked in a forked child whose stderr the parent captures) on the first
 * stack, on one carved late from a later slab and guard batch, and on a
 * reused stack whose pages were given back; deep but fitting recursion works;
 * stacks are reused across sequential tasks; and free stacks beyond the warm
 * limit give their pages back, both when the loop goes idle and while it
 * stays busy (seen in /proc/self/smaps_rollup's LazyFree, where the kernel
 * shows it).
 *
 * Under AddressSanitizer the overflow may be caught by ASan first; its
 * "stack-overflow" report is accepted too.
 */
#include <cio.h>
#include <alloca.h>
#include <signal.h>
#include <sys/mman.h>
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

/* ---- tasks that hold stacks ---- */

#define TOUCH_BYTES (32 * 1024)

struct holders {
  cio_event *ev;
  long started;
};

/* Dirty TOUCH_BYTES of stack, then park until the event is set. alloca, so
 * the bytes are on the task's stack even when ASan moves fixed-size frames
 * to its fake stacks. */
static int touch_and_park(void *arg) {
  struct holders *h = arg;
  volatile char *buf = alloca(TOUCH_BYTES);
  for (size_t i = 0; i < TOUCH_BYTES; i += 1024) buf[i] = 1;
  h->started++;
  return cio_event_wait(h->ev) + (buf[0] != 1);
}

/* Spawn n tasks and let each take a stack and park. */
static int hold_stacks(struct holders *h, cio_task **t, long n) {
  h->started = 0;
  for (long i = 0; i < n; i++) {
    t[i] = cio_spawn(touch_and_park, h);
    if (!t[i]) return -ENOMEM;
  }
  for (int i = 0; i < 100 && h->started < n; i++) cio_yield();
  return h->started == n ? 0 : -EAGAIN;
}

/* Wake the n tasks and await them; returns how many failed. */
static long release_stacks(struct holders *h, cio_task **t, long n) {
  long bad = 0;
  cio_event_set(h->ev);
  for (long i = 0; i < n; i++) {
    if (cio_await(t[i]) != 0) bad++;
    cio_task_release(t[i]);
  }
  return bad;
}

/* n stack-touching tasks parked at once, then finished: their stacks go
 * back to the pool. Returns how many failed. */
static long cycle_stacks(long n) {
  struct holders h = {cio_event_new(), 0};
  cio_task **t = calloc((size_t)n, sizeof *t);
  long bad = n;
  if (h.ev && t && hold_stacks(&h, t, n) == 0) bad = release_stacks(&h, t, n);
  free(t);
  cio_event_free(h.ev);
  return bad;
}

/* ---- overflow ---- */

struct overflow_case {
  const char *name;
  size_t stack_size;
  long recycled; /* first, tasks run (touching pages) and finished */
  long holders;  /* then, tasks left parked, holding stacks */
};

static int overflow_main(void *arg) {
  const struct overflow_case *oc = arg;
  if (oc->recycled) {
    if (cycle_stacks(oc->recycled) != 0) return -EPROTO;
    /* Idle: the loop gives back the pages of the stacks beyond the warm
     * limit, which go to the back of the pool. */
    cio_sleep(0.05);
  }
  struct holders h = {cio_event_new(), 0};
  cio_task **held = calloc((size_t)oc->holders + 1, sizeof *held);
  if (!h.ev || !held || hold_stacks(&h, held, oc->holders) != 0) return -ENOMEM;
  cio_spawn_opts o = {.name = oc->name, .stack_size = oc->stack_size};
  cio_task *t = cio_spawn_ex(recurse_task, NULL, &o);
  if (!t) return -ENOMEM;
  int r = cio_await(t);
  cio_task_release(t);
  /* Only reached when the overflow went unnoticed: the parent fails then. */
  release_stacks(&h, held, oc->holders);
  free(held);
  cio_event_free(h.ev);
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

static void check_overflow_case(const struct overflow_case *oc) {
  const char *name = oc->name;
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
    int r = cio_run(overflow_main, (void *)(uintptr_t)oc);
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
         cio_report    ? "cio"
         : asan_report ? "ASan"
                       : "nobody");
  if (cio_report) {
    /* cio's own handler: reported, then abort(). */
    CHECK(died_abort);
  } else {
    CHECK(died_badly);
  }
  free(out);
}

static void check_overflow(const char *name, size_t stack_size) {
  struct overflow_case oc = {name, stack_size, 0, 0};
  check_overflow_case(&oc);
}

static void test_overflow_default_stack(void) { check_overflow("deep-recursion", 0); }

static void test_overflow_small_stack(void) { check_overflow("small-overflow", 16 * 1024); }

/* Valgrind's scan of memory at exit reads guard regions 8 bytes at a time,
 * each read a fault: ~40 ms per stack left mapped by an aborting child. */
static int under_valgrind(void) {
  const char *p = getenv("LD_PRELOAD");
  return p && strstr(p, "vgpreload") != NULL;
}

/* The 1,501st stack: from a later slab, in the middle of a guard batch
 * (under Valgrind the 41st, from the third slab). */
static void test_overflow_late_stack(void) {
  struct overflow_case oc = {"late-overflow", 0, 0, under_valgrind() ? 40 : 1500};
  check_overflow_case(&oc);
}

/* 1,100 stacks go back to the pool: 1,024 stay warm, the rest give their
 * pages back while the loop idles. 1,024 parked tasks take the warm ones,
 * so the overflowing task gets a stack whose pages were given back. */
static void test_overflow_reused_stack(void) {
  struct overflow_case oc = {"reused-overflow", 0, 1100, 1024};
  if (under_valgrind()) {
    printf("     skipped under Valgrind: 2,100 stacks for its exit scan\n");
    return;
  }
  check_overflow_case(&oc);
}

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

#define N_SEQ      20000
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

/* ---- pages of free stacks beyond the warm limit are given back ---- */

#define WARM_LIMIT 1024 /* stack.c's WARM_MAX */
#define CYCLED     1100

/* Lazily freed bytes of the process (MADV_FREE'd, not yet reclaimed), or
 * -1 where the kernel does not say. */
static long lazyfree_bytes(void) {
  FILE *f = fopen("/proc/self/smaps_rollup", "r");
  char line[256];
  long kb = -1;
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "LazyFree:", 9) == 0) kb = atol(line + 9);
  fclose(f);
  return kb < 0 ? -1 : kb * 1024;
}

/* Does MADV_FREE show in LazyFree here? Not under qemu-user, which ignores
 * the advice, nor on kernels without the field. */
static int lazyfree_observable(void) {
  size_t len = 256 * 4096;
  char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return 0;
  memset(p, 1, len);
  long before = lazyfree_bytes();
  int ok = before >= 0 && madvise(p, len, MADV_FREE) == 0 && lazyfree_bytes() > before;
  munmap(p, len);
  return ok;
}

/* Each of the CYCLED - WARM_LIMIT stacks beyond the limit had TOUCH_BYTES
 * dirtied below its top page; expect at least half of that to show (the
 * kernel moves pages to its lazy-free list in per-CPU batches). */
static long expected_lazyfree(void) { return (CYCLED - WARM_LIMIT) * (long)TOUCH_BYTES / 2; }

static void report_lazyfree(const char *when, long grown) {
  printf("     %s: LazyFree grew by %ld KiB (at least %ld KiB expected)\n", when, grown / 1024,
         expected_lazyfree() / 1024);
}

static int idle_trim_main(void *arg) {
  int observable = *(int *)arg;
  long before = lazyfree_bytes();
  CHECK_EQ(cycle_stacks(CYCLED), 0);
  /* The loop goes idle during the sleep, and gives pages back first. */
  CHECK_EQ(cio_sleep(0.05), 0);
  if (observable) {
    long grown = lazyfree_bytes() - before;
    report_lazyfree("after 50 ms idle", grown);
    CHECK(grown >= expected_lazyfree());
  }
  /* Every stack is still usable, warm or not. */
  CHECK_EQ(cycle_stacks(CYCLED), 0);
  return 0;
}

static void test_idle_loop_gives_pages_back(void) {
  int observable = lazyfree_observable();
  if (!observable) printf("     (LazyFree not observable here: pages not checked)\n");
  CHECK_EQ(cio_run(idle_trim_main, &observable), 0);
}

static int busy_trim_main(void *arg) {
  int observable = *(int *)arg;
  long before = lazyfree_bytes();
  CHECK_EQ(cycle_stacks(CYCLED), 0);
  /* Never idle: this task always has the CPU and the loop gets its turns
   * only between budgets. It still gives a batch back now and then. The
   * bound only keeps a broken build from spinning forever. */
  long grown = 0;
  double t0 = now_s();
  do {
    for (int i = 0; i < 10000; i++) cio_yield();
    if (observable) grown = lazyfree_bytes() - before;
  } while (observable && grown < expected_lazyfree() && now_s() - t0 < 30);
  if (observable) {
    report_lazyfree("while busy", grown);
    CHECK(grown >= expected_lazyfree());
  }
  CHECK_EQ(cycle_stacks(CYCLED), 0);
  return 0;
}

static void test_busy_loop_gives_pages_back(void) {
  int observable = lazyfree_observable();
  CHECK_EQ(cio_run(busy_trim_main, &observable), 0);
}

int main(void) {
  alarm(120); /* a hang kills the test instead of blocking CI */
  RUN(test_overflow_default_stack);
  RUN(test_overflow_small_stack);
  RUN(test_overflow_late_stack);
  RUN(test_overflow_reused_stack);
  RUN(test_deep_recursion_fits);
  RUN(test_stacks_reused);
  RUN(test_idle_loop_gives_pages_back);
  RUN(test_busy_loop_gives_pages_back);
  return test_report();
}
