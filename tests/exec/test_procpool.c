/* test_procpool.c - the process pool: results, errors, big buffers, crashed
 * workers replaced, cancellation, timeouts, shutdown (wait, cancel, kill).
 * Under a sanitizer, the worker that segfaults on purpose prints a report.
 * cio-test-labels: threads */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "cio.h"
#include "cio/procpool.h"
#include "test.h"

static cio_procpool *pool; /* two workers, created in main() before threads */

/* ---- functions run in the workers ---- */

/* in: uint64 n; out: uint64 sum of i*i for i < n (mod 2^64), then the pid. */
static int sum_squares(const void *in, size_t len, void **out, size_t *out_len) {
  uint64_t n, s = 0;
  if (len != sizeof n) return -EINVAL;
  memcpy(&n, in, sizeof n);
  for (uint64_t i = 0; i < n; i++) s += i * i;
  uint64_t *o = malloc(2 * sizeof *o);
  o[0] = s;
  o[1] = (uint64_t)getpid();
  *out = o;
  *out_len = 2 * sizeof *o;
  return 0;
}

/* Returns the input with every byte complemented. */
static int complement(const void *in, size_t len, void **out, size_t *out_len) {
  unsigned char *o = malloc(len ? len : 1);
  const unsigned char *p = in;
  for (size_t i = 0; i < len; i++) o[i] = (unsigned char)~p[i];
  *out = o;
  *out_len = len;
  return (int)(len & 0x7fff);
}

static int fail_einval(const void *in, size_t len, void **out, size_t *out_len) {
  *out = malloc(16); /* discarded: the job failed */
  *out_len = 16;
  return -EINVAL;
}

static int crash_abort(const void *in, size_t len, void **out, size_t *out_len) { abort(); }

static int crash_segv(const void *in, size_t len, void **out, size_t *out_len) {
  raise(SIGSEGV);
  return 0;
}

static int crash_exit(const void *in, size_t len, void **out, size_t *out_len) { _exit(3); }

/* in: double seconds. */
static int sleeper(const void *in, size_t len, void **out, size_t *out_len) {
  double s;
  memcpy(&s, in, sizeof s);
  usleep((useconds_t)(s * 1e6));
  return 1;
}

static int inner(void *unused) { return cio_sleep(0.001) == 0 ? 5 : -1; }

/* A worker is a plain process: it may run a loop of its own. */
static int runs_loop(const void *in, size_t len, void **out, size_t *out_len) {
  return cio_run(inner, NULL);
}

/* ---- helpers ---- */

static uint64_t expect_sum(uint64_t n) {
  uint64_t s = 0;
  for (uint64_t i = 0; i < n; i++) s += i * i;
  return s;
}

static int run_sum(uint64_t n, uint64_t *sum, pid_t *pid) {
  void *out;
  size_t out_len;
  int r = cio_procpool_run(pool, sum_squares, &n, sizeof n, &out, &out_len);
  if (r == 0) {
    uint64_t o[2];
    if (out_len != sizeof o) {
      free(out);
      return -EPROTO;
    }
    memcpy(o, out, sizeof o);
    *sum = o[0];
    if (pid) *pid = (pid_t)o[1];
    free(out);
  }
  return r;
}

/* ---- tests ---- */

static int basic_main(void *unused) {
  uint64_t s = 0;
  pid_t pid = 0;
  CHECK_EQ(run_sum(1000, &s, &pid), 0);
  CHECK(s == expect_sum(1000));
  CHECK(pid != getpid() && pid > 0);
  void *out = (void *)1;
  size_t out_len = 99;
  CHECK_EQ(cio_procpool_run(pool, fail_einval, NULL, 0, &out, &out_len), -EINVAL);
  CHECK(out == NULL && out_len == 0);
  CHECK_EQ(cio_procpool_run(pool, sum_squares, NULL, 0, NULL, NULL), -EINVAL);
  CHECK_EQ(cio_procpool_run(pool, runs_loop, NULL, 0, NULL, NULL), 5);
  /* out == NULL: the output is dropped. */
  char b[3] = {1, 2, 3};
  CHECK_EQ(cio_procpool_run(pool, complement, b, 3, NULL, NULL), 3);
  return 0;
}

static void test_basic(void) {
  CHECK_EQ(cio_run(basic_main, NULL), 0);
  CHECK_EQ(cio_procpool_size(pool), 2);
  uint64_t n = 1;
  CHECK_EQ(cio_procpool_run(pool, sum_squares, &n, sizeof n, NULL, NULL), -EPERM);
}

static int big_main(void *unused) {
  size_t len = 8u << 20;
  unsigned char *in = malloc(len);
  for (size_t i = 0; i < len; i++) in[i] = (unsigned char)(i * 2654435761u >> 13);
  void *out;
  size_t out_len;
  CHECK_EQ(cio_procpool_run(pool, complement, in, len, &out, &out_len), (int)(len & 0x7fff));
  CHECK_EQ(out_len, len);
  size_t bad = 0;
  const unsigned char *o = out;
  for (size_t i = 0; out && i < len; i++) bad += o[i] != (unsigned char)~in[i];
  CHECK_EQ(bad, 0);
  free(out);
  free(in);
  return 0;
}

static void test_big_buffers(void) { CHECK_EQ(cio_run(big_main, NULL), 0); }

static int crash_main(void *unused) {
  size_t before = cio_procpool_replaced(pool);
  cio_proc_fn crashers[] = {crash_abort, crash_segv, crash_exit};
  for (int i = 0; i < 3; i++) {
    void *out = (void *)1;
    CHECK_EQ(cio_procpool_run(pool, crashers[i], NULL, 0, &out, NULL), -EOWNERDEAD);
    CHECK(out == NULL);
    uint64_t s = 0;
    CHECK_EQ(run_sum(100, &s, NULL), 0); /* the pool keeps serving */
    CHECK(s == expect_sum(100));
  }
  CHECK_EQ(cio_procpool_replaced(pool), before + 3);
  return 0;
}

static void test_worker_crash(void) { CHECK_EQ(cio_run(crash_main, NULL), 0); }

typedef struct sum_arg {
  uint64_t n, sum;
  pid_t pid;
} sum_arg;

static int sum_task(void *p) {
  sum_arg *a = p;
  return run_sum(a->n, &a->sum, &a->pid);
}

static int many_main(void *unused) {
  enum { N = 24 };
  sum_arg a[N];
  cio_task *ts[N];
  for (int i = 0; i < N; i++) {
    a[i] = (sum_arg){(uint64_t)(1000 + 37 * i), 0, 0};
    ts[i] = cio_spawn(sum_task, &a[i]);
  }
  CHECK_EQ(cio_gather(ts, N, NULL, 0), 0);
  pid_t pids[N];
  int npids = 0;
  for (int i = 0; i < N; i++) {
    CHECK(a[i].sum == expect_sum(a[i].n));
    int seen = 0;
    for (int k = 0; k < npids; k++) seen |= pids[k] == a[i].pid;
    if (!seen) pids[npids++] = a[i].pid;
    cio_task_release(ts[i]);
  }
  CHECK(npids >= 1 && npids <= 2); /* never more workers than the pool has */
  return 0;
}

static void test_many_tasks(void) { CHECK_EQ(cio_run(many_main, NULL), 0); }

static int sleep_task(void *p) {
  return cio_procpool_run(pool, sleeper, p, sizeof(double), NULL, NULL);
}

static int cancel_main(void *unused) {
  static double secs = 0.3;
  cio_task *t = cio_spawn(sleep_task, &secs);
  CHECK_EQ(cio_sleep(0.05), 0);
  int64_t t0 = cio_now_ns();
  cio_task_cancel(t);
  CHECK_EQ(cio_await(t), -ECANCELED);
  CHECK((double)(cio_now_ns() - t0) / 1e9 < 0.2); /* loose: at once, not 0.25 s later */
  cio_task_release(t);

  cio_timeout_scope s;
  cio_timeout_begin(&s, 0.05);
  double d = 0.3;
  CHECK_EQ(cio_procpool_run(pool, sleeper, &d, sizeof d, NULL, NULL), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&s), 1);
  uint64_t sum = 0;
  CHECK_EQ(run_sum(10, &sum, NULL), 0); /* served by the other worker or later */
  CHECK(sum == expect_sum(10));
  return 0;
}

static void test_cancel_and_timeout(void) { CHECK_EQ(cio_run(cancel_main, NULL), 0); }

/* in: a marked_sleep. Creates the file `mark` (if not "") when it starts,
 * so the parent knows the job runs rather than guessing from a delay. */
typedef struct marked_sleep {
  double secs;
  char mark[64];
} marked_sleep;

static int marked_sleeper(const void *in, size_t len, void **out, size_t *out_len) {
  marked_sleep m;
  memcpy(&m, in, sizeof m);
  if (m.mark[0]) {
    int fd = open(m.mark, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) close(fd);
  }
  usleep((useconds_t)(m.secs * 1e6));
  return 1;
}

typedef struct shut_arg {
  cio_procpool *p;
  marked_sleep in;
  int status;
} shut_arg;

static int shut_job(void *p) {
  shut_arg *a = p;
  a->status = cio_procpool_run(a->p, marked_sleeper, &a->in, sizeof a->in, NULL, NULL);
  return 0;
}

static cio_procpool *shut_pool;

static int shutdown_main(void *p) {
  int how = *(int *)p;
  enum { N = 4 };
  shut_arg a[N];
  cio_task *ts[N];
  char mark[64];
  snprintf(mark, sizeof mark, "/tmp/cio-procpool-mark-%d", (int)getpid());
  unlink(mark);
  for (int i = 0; i < N; i++) {
    /* One worker: job 0 runs (long enough to be seen running), 1..3
     * queue. KILL must not wait 10 s. */
    double secs = i > 0 ? 0.05 : how == CIO_EXEC_KILL ? 10.0 : 0.5;
    a[i] = (shut_arg){shut_pool, {secs, ""}, 1};
    if (i == 0) snprintf(a[i].in.mark, sizeof a[i].in.mark, "%s", mark);
    ts[i] = cio_spawn(shut_job, &a[i]);
  }
  /* Shut down once job 0 is running (the others are queued behind it). */
  for (int i = 0; i < 10000 && access(mark, F_OK) != 0; i++) cio_sleep(0.001);
  CHECK_EQ(access(mark, F_OK), 0);
  unlink(mark);
  int64_t t0 = cio_now_ns();
  CHECK_EQ(cio_procpool_shutdown(shut_pool, how), 0);
  CHECK((double)(cio_now_ns() - t0) / 1e9 < 5.0); /* loose */
  CHECK_EQ(cio_gather(ts, N, NULL, 0), 0);
  CHECK_EQ(a[0].status, how == CIO_EXEC_KILL ? -ECANCELED : 1);
  for (int i = 1; i < N; i++) CHECK_EQ(a[i].status, how == CIO_EXEC_WAIT ? 1 : -ECANCELED);
  double d = 0;
  CHECK_EQ(cio_procpool_run(shut_pool, sleeper, &d, sizeof d, NULL, NULL), -ESHUTDOWN);
  for (int i = 0; i < N; i++) cio_task_release(ts[i]);
  return 0;
}

static void shutdown_case(int how) {
  shut_pool = cio_procpool_new(1);
  CHECK(shut_pool != NULL);
  if (!shut_pool) return;
  CHECK_EQ(cio_run(shutdown_main, &how), 0);
  cio_procpool_free(shut_pool);
}

static void test_shutdown_wait(void) { shutdown_case(CIO_EXEC_WAIT); }
static void test_shutdown_cancel(void) { shutdown_case(CIO_EXEC_CANCEL); }
static void test_shutdown_kill(void) { shutdown_case(CIO_EXEC_KILL); }

/* A pool created from inside a task still gives workers a clean thread. */
static int new_in_task_main(void *unused) {
  cio_procpool *p = cio_procpool_new(1);
  CHECK(p != NULL);
  if (!p) return -1;
  CHECK_EQ(cio_procpool_run(p, runs_loop, NULL, 0, NULL, NULL), 5);
  CHECK_EQ(cio_procpool_shutdown(p, CIO_EXEC_WAIT), 0);
  cio_procpool_free(p);
  return 0;
}

static void test_new_in_task(void) { CHECK_EQ(cio_run(new_in_task_main, NULL), 0); }

static void test_bad_args(void) {
  CHECK(cio_procpool_new((size_t)-1) == NULL && errno == EINVAL);
  CHECK_EQ(cio_procpool_shutdown(NULL, CIO_EXEC_WAIT), -EINVAL);
  cio_procpool_free(NULL);
}

int main(void) {
  pool = cio_procpool_new(2);
  if (!pool) {
    perror("cio_procpool_new");
    return 1;
  }
  RUN(test_basic);
  RUN(test_big_buffers);
  RUN(test_worker_crash);
  RUN(test_many_tasks);
  RUN(test_cancel_and_timeout);
  RUN(test_shutdown_wait);
  RUN(test_shutdown_cancel);
  RUN(test_shutdown_kill);
  RUN(test_new_in_task);
  RUN(test_bad_args);
  cio_procpool_free(pool);
  return test_report();
}
