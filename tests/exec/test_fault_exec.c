/* test_fault_exec.c - the exec layer with every allocation failing in turn,
 * and the process pool's system calls failing in turn.
 *
 * Each operation (a job on a new executor, on the default one through
 * cio_to_thread and cio_run_in_executor_ex, a job on a new process pool, a
 * coroutine on a loop thread through cio_run_coroutine_threadsafe) is run
 * with the nth allocation (src/base/alloc.h) or the nth call of a
 * system-call site (src/base/fault.h: the pool's socketpair, its reads and
 * sends to the zygote and the workers) failing, n = 1, 2, ... until a run no
 * longer reaches it. Each run must end with 0 or an error the call
 * documents (-ENOMEM; for the pool, a worker taken for dead: -EOWNERDEAD,
 * -EIO), never with a wrong result, a hang (a timeout scope turns it into
 * -ETIMEDOUT, which fails) or a leak (LeakSanitizer), and the operation,
 * unarmed, must work afterwards. EINTR must be invisible. The counter is
 * shared by all threads, so a pool thread's allocations are walked too. */
#include "../src/base/alloc.h"
#include "../src/base/fault.h"
#include "test.h"
#include "test_loop.h"

#include "fault_walk.h"

#include <cio.h>
#include <cio/exec.h>
#include <cio/procpool.h>
#include <cio/threadsafe.h>

#include <stdlib.h>
#include <string.h>

#define MAX_NTH 300

typedef int (*op_fn)(void);

/* op inside a timeout scope (a hang is -ETIMEDOUT), armed inside it. */
static int bounded(op_fn op, int site, long nth, int err, long *failed) {
  cio_timeout_scope sc;
  int r = cio_timeout_begin(&sc, 30.0);
  if (r < 0) return r;
  if (nth) arm(site, nth, err);
  r = op();
  if (nth) *failed = disarm(site);
  if (cio_timeout_end(&sc)) r = -ETIMEDOUT;
  return r;
}

static int acceptable(int r, int err) {
  /* -EAGAIN: a pool whose zygote channel failed cannot start workers. */
  return r == 0 || r == -err || r == -ENOMEM || r == -EOWNERDEAD || r == -EIO || r == -EAGAIN;
}

static int walk(const char *name, op_fn op, int site, int err, bool invisible) {
  static const char *const site_name[CIO__FAULT_NSITES] = {"accept", "connect", "socket", "read",
                                                           "write",  "short",   "epoll"};
  cio_loop *loop = cio_loop_current();
  size_t tasks = cio_loop_task_count(loop);
  const char *what = site == ALLOC ? "alloc" : site_name[site];
  int runs = 0;
  for (long nth = 1; nth <= MAX_NTH; nth++) {
    long failed = 0;
    int r = bounded(op, site, nth, err, &failed);
    bool ok = invisible ? r == 0 : acceptable(r, err);
    if (!ok || getenv("FAULT_VERBOSE"))
      printf("  %s: %s call %ld failing with %s: %s\n", name, what, nth, cio_strerror_name(-err),
             cio_strerror_name(r));
    CHECK(ok);
    CHECK_EQ(cio_loop_task_count(loop), tasks);
    if (failed == 0) {
      CHECK_EQ(r, 0);
      break;
    }
    int again = bounded(op, site, 0, 0, NULL);
    if (again != 0)
      printf("  %s: after %s call %ld failing: %s\n", name, what, nth, cio_strerror_name(again));
    CHECK_EQ(again, 0);
    runs++;
  }
  printf("  %-12s %-6s %-10s %d runs\n", name, what, cio_strerror_name(-err), runs);
  CHECK(runs < MAX_NTH);
  return runs;
}

/* ---- the operations ---- */

static int add_one(void *arg) {
  ++*(int *)arg;
  return 7;
}

static int check_job(int r, int v) {
  if (r < 0) return r;
  return r == 7 && v == 1 ? 0 : -EPROTO;
}

static int op_executor(void) {
  cio_executor *ex = cio_executor_new(2);
  if (!ex) return -errno;
  int v = 0;
  int r = cio_run_in_executor(ex, add_one, &v);
  r = check_job(r, v);
  int s = cio_executor_shutdown(ex, CIO_EXEC_WAIT);
  cio_executor_free(ex);
  return r < 0 ? r : s;
}

static void release_flag(void *arg) { *(int *)arg = 100; }

static int op_default(void) {
  int v = 0;
  int r = cio_to_thread(add_one, &v);
  r = check_job(r, v);
  if (r < 0) return r;
  v = 0;
  int status = 0;
  r = cio_run_in_executor_ex(NULL, add_one, &v, release_flag, &status);
  if (r == 0) return check_job(status, v);
  return v == 100 || v == 101 ? r : -EPROTO; /* given up: released exactly once */
}

static int complement(const void *in, size_t len, void **out, size_t *out_len) {
  unsigned char *o = malloc(len);
  if (!o) return -ENOMEM;
  for (size_t i = 0; i < len; i++) o[i] = (unsigned char)~((const unsigned char *)in)[i];
  *out = o;
  *out_len = len;
  return 3;
}

static int op_procpool(void) {
  cio_procpool *pool = cio_procpool_new(1);
  if (!pool) return -errno;
  unsigned char in[3000];
  for (size_t i = 0; i < sizeof in; i++) in[i] = (unsigned char)(i * 7);
  int r = 0;
  for (int k = 0; k < 2 && r == 0; k++) {
    void *out = NULL;
    size_t len = 0;
    r = cio_procpool_run(pool, complement, in, sizeof in, &out, &len);
    if (r >= 0) {
      bool right = r == 3 && len == sizeof in;
      for (size_t i = 0; right && i < len; i++)
        right = ((unsigned char *)out)[i] == (unsigned char)~in[i];
      r = right ? 0 : -EPROTO;
    }
    free(out);
  }
  int s = cio_procpool_shutdown(pool, CIO_EXEC_WAIT);
  cio_procpool_free(pool);
  return r < 0 ? r : s;
}

static int remote(void *arg) {
  ++*(int *)arg;
  return cio_set_result_int(5);
}

static int op_threadsafe(void) {
  cio_loop_thread *lt = cio_loop_thread_start(NULL);
  if (!lt) return -errno;
  int v = 0;
  cio_xtask *x = cio_run_coroutine_threadsafe(cio_loop_thread_loop(lt), remote, &v);
  int r = x ? cio_xtask_await(x) : -errno;
  if (r == 0 && v != 1) r = -EPROTO;
  cio_xtask_free(x);
  int s = cio_loop_thread_stop(lt);
  cio_loop_thread_free(lt);
  return r < 0 ? r : s;
}

/* ---- the walks ---- */

LOOP_TEST(test_executors) {
  CHECK_EQ(op_executor(), 0);
  CHECK(walk("executor", op_executor, ALLOC, ENOMEM, false) > 0);
  CHECK_EQ(op_default(), 0);
  CHECK(walk("default", op_default, ALLOC, ENOMEM, false) > 0);
  return 0;
}

LOOP_TEST(test_procpool) {
  CHECK_EQ(op_procpool(), 0);
  CHECK(walk("procpool", op_procpool, ALLOC, ENOMEM, false) > 0);
  CHECK(walk("procpool", op_procpool, CIO__FAULT_SOCKET, EMFILE, false) > 0);
  CHECK(walk("procpool", op_procpool, CIO__FAULT_READ, EINTR, true) > 0);
  CHECK(walk("procpool", op_procpool, CIO__FAULT_READ, ECONNRESET, false) > 0);
  CHECK(walk("procpool", op_procpool, CIO__FAULT_READ, EIO, false) > 0);
  CHECK(walk("procpool", op_procpool, CIO__FAULT_WRITE, EINTR, true) > 0);
  CHECK(walk("procpool", op_procpool, CIO__FAULT_WRITE, EPIPE, false) > 0);
  return 0;
}

LOOP_TEST(test_threadsafe) {
  CHECK_EQ(op_threadsafe(), 0);
  CHECK(walk("threadsafe", op_threadsafe, ALLOC, ENOMEM, false) > 0);
  return 0;
}

int main(void) {
  RUN(test_executors);
  RUN(test_procpool);
  RUN(test_threadsafe);
  return test_report();
}
