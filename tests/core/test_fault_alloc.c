/* test_fault_alloc.c - out of memory at every allocation of the core's calls.
 *
 * The base layer's fault injection (src/base/alloc.h) fails the 1st, 2nd, ...
 * nth allocation from the start of an operation, until a run makes fewer
 * than n. Every failing run must come back as -ENOMEM (a constructor: NULL
 * with errno ENOMEM), leave nothing behind (LeakSanitizer, Valgrind, and the
 * loop's task count) and leave the loop working: the next operation, with no
 * fault armed, must succeed. */
#include "test.h"
#include "test_loop.h"

#include "../../src/base/alloc.h"

#include <errno.h>

typedef int (*op_fn)(void);

/* Runs op with the nth allocation failing, n = 1, 2, ... until op needs
 * fewer; each run must give 0 or -ENOMEM and the loop must be left as it
 * was. Returns the number of allocations op makes. */
static int walk(const char *name, op_fn op) {
  cio_loop *loop = cio_loop_current();
  size_t tasks = cio_loop_task_count(loop);
  int n = 1;
  for (; n < 200; n++) {
    cio__fault_alloc_fail(n, false);
    int r = op();
    long failed = cio__fault_alloc_failed();
    cio__fault_alloc_clear();
    if (r != 0 && r != -ENOMEM) {
      fprintf(stderr, "%s: allocation %d failed: %s\n", name, n, cio_strerror(r));
      CHECK(r == 0 || r == -ENOMEM);
    }
    CHECK_EQ(cio_loop_task_count(loop), tasks);
    if (failed == 0) {
      CHECK_EQ(r, 0); /* nothing failed: it must have worked */
      break;
    }
    CHECK_EQ(op(), 0); /* and the next run, with memory, works */
    CHECK_EQ(cio_loop_task_count(loop), tasks);
  }
  CHECK(n < 200);
  printf("  %-14s %d allocation(s), each failed in turn\n", name, n - 1);
  return n - 1;
}

/* NULL + errno from a constructor, as a status. */
static int no(void) { return errno ? -errno : -ENOMEM; }

static int child(void *arg) {
  (void)arg;
  return cio_set_result_int(7);
}

static int sleeper(void *arg) {
  (void)arg;
  return cio_sleep(0.001);
}

/* ---- operations ---- */

static int op_spawn(void) {
  cio_spawn_opts o = {.name = "fault-child"};
  cio_task *t = cio_spawn_ex(child, NULL, &o);
  if (!t) return no();
  int r = cio_await(t);
  if (r == 0 && cio_task_result_int(t) != 7) r = -EIO;
  cio_task_release(t);
  return r;
}

static int op_spawn_copy(void) {
  struct {
    int a, b;
  } arg = {1, 2};
  cio_task *t = cio_spawn_copy(child, &arg, sizeof arg, NULL);
  if (!t) return no();
  int r = cio_await(t);
  cio_task_release(t);
  return r;
}

static void done_cb(cio_task *t, void *arg) {
  (void)t;
  ++*(int *)arg;
}

static int op_done_callback(void) {
  cio_task *t = cio_spawn(child, NULL);
  if (!t) return no();
  int calls = 0;
  int r = cio_task_add_done_callback(t, done_cb, &calls);
  int a = cio_await(t);
  for (int i = 0; i < 200 && r == 0 && calls == 0; i++) cio_yield(); /* it runs soon after */
  cio_task_release(t);
  if (r == 0 && calls != 1) return -EIO;
  return r ? r : a;
}

static void future_cb(cio_future *f, void *arg) {
  (void)f;
  ++*(int *)arg;
}

static int op_future(void) {
  cio_future *f = cio_future_new();
  if (!f) return no();
  int calls = 0;
  int r = cio_future_add_done_callback(f, future_cb, &calls);
  cio_future_set_result(f, ITEM(3));
  void *v = NULL;
  int a = cio_future_await(f, &v);
  for (int i = 0; i < 200 && r == 0 && calls == 0; i++) cio_yield();
  cio_future_release(f);
  if (r == 0 && (calls != 1 || NUM(v) != 3)) return -EIO;
  return r ? r : a;
}

static int cmp_items(const void *a, const void *b) { return (NUM(a) > NUM(b)) - (NUM(a) < NUM(b)); }

static int op_queue(void) {
  static const cio_queue_kind kinds[] = {CIO_QUEUE_FIFO, CIO_QUEUE_LIFO, CIO_QUEUE_PRIORITY};
  for (size_t k = 0; k < 3; k++) {
    cio_queue *q = cio_queue_new(kinds[k], 0, cmp_items);
    if (!q) return no();
    int r = 0;
    for (long i = 0; i < 40 && r == 0; i++) r = cio_queue_put(q, ITEM(i + 1));
    void *it;
    while (r == 0 && !cio_queue_empty(q)) r = cio_queue_get(q, &it);
    cio_queue_free(q);
    if (r) return r;
  }
  return 0;
}

static int spawn_n(cio_task **t, size_t n, cio_task_fn fn) {
  for (size_t i = 0; i < n; i++) {
    if (!(t[i] = cio_spawn(fn, NULL))) {
      int r = no();
      for (size_t j = 0; j < i; j++) {
        cio_task_cancel(t[j]);
        cio_await(t[j]);
        cio_task_release(t[j]);
      }
      return r;
    }
  }
  return 0;
}

static int finish_n(cio_task **t, size_t n, int r) {
  for (size_t i = 0; i < n; i++) {
    if (!cio_task_done(t[i])) {
      cio_task_cancel(t[i]);
      cio_await(t[i]);
    }
    cio_task_release(t[i]);
  }
  return r;
}

static int op_gather(void) {
  cio_task *t[4];
  int r = spawn_n(t, 4, child);
  if (r) return r;
  int st[4];
  return finish_n(t, 4, cio_gather(t, 4, st, 0));
}

static int op_wait_first(void) {
  cio_task *t[3];
  int r = spawn_n(t, 3, sleeper);
  if (r) return r;
  unsigned char flags[3];
  ssize_t w = cio_wait(t, 3, CIO_FIRST_COMPLETED, CIO_FOREVER, flags);
  return finish_n(t, 3, w < 0 ? (int)w : 0);
}

static int op_as_completed(void) {
  cio_task *t[3];
  int r = spawn_n(t, 3, child);
  if (r) return r;
  cio_as_completed *it = cio_as_completed_new(t, 3, CIO_FOREVER);
  if (!it) return finish_n(t, 3, no());
  cio_task *next;
  int got = 0;
  while ((r = cio_as_completed_next(it, &next)) == 1) got++;
  cio_as_completed_free(it);
  return finish_n(t, 3, r < 0 ? r : got == 3 ? 0 : -EIO);
}

static int op_group(void) {
  cio_group *g = cio_group_new();
  if (!g) return no();
  int r = 0;
  for (int i = 0; i < 5 && r == 0; i++)
    if (!cio_group_spawn(g, child, NULL, NULL)) r = no();
  if (r) cio_group_cancel(g);
  int w = cio_group_wait(g);
  cio_group_free(g);
  return r ? r : w;
}

static int gen_fn(cio_gen *g, void *arg) {
  (void)arg;
  for (long i = 0; i < 3; i++) {
    int r = cio_gen_yield(g, ITEM(i));
    if (r) return r;
  }
  return 0;
}

static int op_gen(void) {
  cio_gen *g = cio_gen_new(gen_fn, NULL, NULL);
  if (!g) return no();
  void *v;
  int r;
  while ((r = cio_gen_next(g, &v)) == 1) {
  }
  cio_gen_free(g);
  return r < 0 ? r : 0;
}

static int op_timeout(void) {
  cio_timeout_scope s;
  int r = cio_timeout_begin(&s, 10.0);
  if (r) return r;
  int a = cio_sleep(0.001);
  int e = cio_timeout_end(&s);
  return a ? a : e;
}

static int op_select(void) {
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 0, NULL);
  if (!q) return no();
  cio_event *e = cio_event_new();
  if (!e) {
    cio_queue_free(q);
    return no();
  }
  cio_case cs[3] = {cio_case_get(q), cio_case_event(e), cio_case_after(0.001)};
  ssize_t i = cio_select(cs, 3);
  cio_event_free(e);
  cio_queue_free(q);
  return i < 0 ? (int)i : 0;
}

static int op_call_soon_cb_calls;
static void soon_cb(void *arg) {
  (void)arg;
  op_call_soon_cb_calls++;
}

static int op_call_soon(void) {
  op_call_soon_cb_calls = 0;
  int r = 0, queued = 0;
  for (int i = 0; i < 100 && r == 0; i++)
    if ((r = cio_call_soon(cio_loop_current(), soon_cb, NULL)) == 0) queued++;
  for (int i = 0; i < 200 && op_call_soon_cb_calls < queued; i++) cio_yield();
  if (op_call_soon_cb_calls != queued) return -EIO;
  return r;
}

static int op_sync_objects(void) {
  cio_lock *l = cio_lock_new();
  cio_sem *s = cio_sem_new(1);
  cio_cond *c = l ? cio_cond_new(l) : NULL;
  int r = l && s && c ? 0 : no();
  if (r == 0) r = cio_lock_acquire(l);
  if (r == 0) cio_lock_release(l);
  if (r == 0) r = cio_sem_acquire(s);
  if (r == 0) cio_sem_release(s);
  cio_cond_free(c);
  cio_sem_free(s);
  cio_lock_free(l);
  return r;
}

static const struct {
  const char *name;
  op_fn fn;
} ops[] = {
    {"spawn", op_spawn},
    {"spawn_copy", op_spawn_copy},
    {"done_callback", op_done_callback},
    {"future", op_future},
    {"queue", op_queue},
    {"gather", op_gather},
    {"wait_first", op_wait_first},
    {"as_completed", op_as_completed},
    {"group", op_group},
    {"generator", op_gen},
    {"timeout", op_timeout},
    {"select", op_select},
    {"call_soon", op_call_soon},
    {"sync", op_sync_objects},
};

LOOP_TEST(test_every_allocation) {
  (void)arg;
  int total = 0;
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) total += walk(ops[i].name, ops[i].fn);
  CHECK(total > 0);
  return 0;
}

/* A whole cio_run: the loop's own allocations. */
static int run_op_spawn(void *arg) {
  (void)arg;
  return op_spawn();
}

static void test_run(void) {
  int n = 1;
  for (; n < 200; n++) {
    cio__fault_alloc_fail(n, false);
    int r = cio_run(run_op_spawn, NULL);
    long failed = cio__fault_alloc_failed();
    cio__fault_alloc_clear();
    CHECK(r == 0 || r == -ENOMEM);
    if (failed == 0) {
      CHECK_EQ(r, 0);
      break;
    }
  }
  CHECK(n > 1 && n < 200);
  printf("  %-14s %d allocation(s), each failed in turn\n", "cio_run", n - 1);
}

int main(void) {
  RUN(test_every_allocation);
  RUN(test_run);
  return test_report();
}
