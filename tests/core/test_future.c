/* test_future.c - cio_future: set once, await, done callbacks, cancel,
 * cancellation/timeout of awaiters, reference counting, completion from
 * another thread, and wrapping a callback-style API ("promisify"). */
/* cio-test-labels: threads */
#include "test.h"
#include "test_loop.h"

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include <cio.h>

struct awaiter {
  cio_future *f;
  int id;
  int *log, *nlog;
  void *value;
  int r, after, done;
};

static int awaiter_fn(void *arg) {
  struct awaiter *a = arg;
  a->r = cio_future_await(a->f, &a->value);
  if (a->log) a->log[(*a->nlog)++] = a->id;
  a->after = cio_yield();
  a->done = 1;
  return 0;
}

static struct awaiter mk_awaiter(cio_future *f, int id) {
  struct awaiter a = {f, id, NULL, NULL, NULL, 1, 1, 0};
  return a;
}

/* ---- set once ---- */

LOOP_TEST(test_set_result_once) {
  cio_future *f = cio_future_new();
  CHECK(f != NULL);
  CHECK_EQ(cio_future_done(f), 0);
  CHECK_EQ(cio_future_status(f), -EINPROGRESS);
  CHECK(cio_future_value(f) == NULL);
  CHECK_EQ(cio_future_set_result(f, ITEM(7)), 0);
  CHECK_EQ(cio_future_done(f), 1);
  CHECK_EQ(cio_future_status(f), 0);
  CHECK_EQ(NUM(cio_future_value(f)), 7);
  CHECK_EQ(cio_future_set_result(f, ITEM(8)), -EALREADY);
  CHECK_EQ(cio_future_set_error(f, -EIO), -EALREADY);
  CHECK_EQ(cio_future_cancel(f), -EALREADY);
  CHECK_EQ(cio_future_status(f), 0);
  CHECK_EQ(NUM(cio_future_value(f)), 7); /* first value kept */

  /* awaiting a completed future returns its value at once */
  void *v = NULL;
  CHECK_EQ(cio_future_await(f, &v), 0);
  CHECK_EQ(NUM(v), 7);
  CHECK_EQ(cio_future_await(f, NULL), 0); /* value pointer optional */
  cio_future_release(f);
  return 0;
}

LOOP_TEST(test_set_error_once) {
  cio_future *f = cio_future_new();
  CHECK_EQ(cio_future_set_error(f, -EIO), 0);
  CHECK_EQ(cio_future_done(f), 1);
  CHECK_EQ(cio_future_status(f), -EIO);
  CHECK(cio_future_value(f) == NULL);
  CHECK_EQ(cio_future_set_error(f, -ENOENT), -EALREADY);
  CHECK_EQ(cio_future_set_result(f, ITEM(1)), -EALREADY);
  CHECK_EQ(cio_future_status(f), -EIO);
  CHECK(cio_future_value(f) == NULL);
  CHECK_EQ(cio_future_await(f, NULL), -EIO);
  cio_future_release(f);

  /* NULL is a legitimate result */
  f = cio_future_new();
  CHECK_EQ(cio_future_set_result(f, NULL), 0);
  CHECK_EQ(cio_future_status(f), 0);
  void *v = ITEM(5);
  CHECK_EQ(cio_future_await(f, &v), 0);
  CHECK(v == NULL);
  cio_future_release(f);
  return 0;
}

/* ---- awaiting ---- */

static void set_cb(void *arg) { CHECK_EQ(cio_future_set_result(arg, ITEM(99)), 0); }

LOOP_TEST(test_await_pending) {
  cio_future *f = cio_future_new();
  struct awaiter a = mk_awaiter(f, 0);
  cio_task *t = cio_spawn(awaiter_fn, &a);
  wait_blocked(t);
  CHECK(cio_task_waiting_on(t) != NULL);
  settle();
  CHECK(!a.done);
  CHECK_EQ(cio_future_set_result(f, ITEM(42)), 0);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(a.r, 0);
  CHECK_EQ(NUM(a.value), 42);
  CHECK_EQ(a.after, 0);
  cio_future_release(f);

  /* completed by a timer callback while we wait */
  f = cio_future_new();
  void *v = NULL;
  CHECK_EQ(cio_call_later(cio_loop_current(), 0.01, set_cb, f), 0);
  CHECK_EQ(cio_future_await(f, &v), 0);
  CHECK_EQ(NUM(v), 99);
  cio_future_release(f);
  return 0;
}

LOOP_TEST(test_many_awaiters) {
  enum { N = 50 };
  static struct awaiter a[N];
  cio_task *t[N];
  int log[N], nlog = 0;
  cio_future *f = cio_future_new();
  for (int i = 0; i < N; i++) {
    a[i] = mk_awaiter(f, i);
    a[i].log = log;
    a[i].nlog = &nlog;
    t[i] = cio_spawn(awaiter_fn, &a[i]);
    wait_blocked(t[i]);
  }
  CHECK_EQ(cio_future_set_result(f, ITEM(3)), 0);
  for (int i = 0; i < N; i++) CHECK_EQ(join(t[i]), 0);
  int ok = 1;
  for (int i = 0; i < N; i++) ok &= a[i].r == 0 && NUM(a[i].value) == 3;
  CHECK(ok);
  CHECK_EQ(nlog, N); /* each woken exactly once */
  cio_future_release(f);

  /* an error reaches every awaiter too */
  f = cio_future_new();
  for (int i = 0; i < 5; i++) a[i] = mk_awaiter(f, i);
  spawn_blocked(t, 5, awaiter_fn, a, sizeof a[0]);
  CHECK_EQ(cio_future_set_error(f, -ECONNRESET), 0);
  for (int i = 0; i < 5; i++) {
    CHECK_EQ(join(t[i]), 0);
    CHECK_EQ(a[i].r, -ECONNRESET);
  }
  cio_future_release(f);
  return 0;
}

/* ---- done callbacks ---- */

struct cbrec {
  cio_future *expect;
  int calls, in_task, saw_done, order[8], norder;
  long value;
};

static struct cbrec *g_rec;

static void record_cb(cio_future *f, void *arg) {
  struct cbrec *r = g_rec;
  CHECK(f == r->expect);
  r->calls++;
  if (cio_current() != NULL) r->in_task++;
  if (cio_future_done(f)) r->saw_done++;
  r->value = NUM(cio_future_value(f));
  if (r->norder < 8) r->order[r->norder++] = (int)NUM(arg);
}

/* A new future whose callbacks record_cb() checks against rec, zeroed. */
static cio_future *recorded_future(struct cbrec *rec) {
  memset(rec, 0, sizeof *rec);
  g_rec = rec;
  rec->expect = cio_future_new();
  return rec->expect;
}

LOOP_TEST(test_done_callbacks) {
  struct cbrec rec;
  cio_future *f = recorded_future(&rec);
  CHECK_EQ(cio_future_add_done_callback(f, record_cb, ITEM(1)), 0);
  CHECK_EQ(cio_future_add_done_callback(f, record_cb, ITEM(2)), 0);
  CHECK_EQ(cio_future_add_done_callback(f, record_cb, ITEM(3)), 0);
  settle();
  CHECK_EQ(rec.calls, 0); /* not before completion */
  CHECK_EQ(cio_future_set_result(f, ITEM(11)), 0);
  CHECK_EQ(rec.calls, 0); /* scheduled, not run inside set */
  settle();
  CHECK_EQ(rec.calls, 3);
  CHECK_EQ(rec.in_task, 0); /* run by the loop, not a task */
  CHECK_EQ(rec.saw_done, 3);
  CHECK_EQ(rec.value, 11);
  CHECK_EQ(rec.norder, 3);
  CHECK_EQ(rec.order[0], 1); /* registration order */
  CHECK_EQ(rec.order[1], 2);
  CHECK_EQ(rec.order[2], 3);

  /* registered after completion: still runs, on the loop, soon */
  CHECK_EQ(cio_future_add_done_callback(f, record_cb, ITEM(4)), 0);
  CHECK_EQ(rec.calls, 3);
  settle();
  CHECK_EQ(rec.calls, 4);
  CHECK_EQ(rec.order[3], 4);
  CHECK_EQ(rec.in_task, 0);
  settle();
  CHECK_EQ(rec.calls, 4); /* each runs exactly once */
  cio_future_release(f);
  return 0;
}

LOOP_TEST(test_callbacks_on_error_and_cancel) {
  struct cbrec rec;
  cio_future *f = recorded_future(&rec);
  CHECK_EQ(cio_future_add_done_callback(f, record_cb, ITEM(1)), 0);
  CHECK_EQ(cio_future_cancel(f), 0);
  CHECK_EQ(cio_future_status(f), -ECANCELED);
  settle();
  CHECK_EQ(rec.calls, 1);
  cio_future_release(f);

  f = recorded_future(&rec);
  CHECK_EQ(cio_future_add_done_callback(f, record_cb, ITEM(1)), 0);
  CHECK_EQ(cio_future_set_error(f, -EPIPE), 0);
  settle();
  CHECK_EQ(rec.calls, 1);
  CHECK_EQ(rec.saw_done, 1);
  cio_future_release(f);
  return 0;
}

LOOP_TEST(test_remove_done_callback) {
  struct cbrec rec;
  cio_future *f = recorded_future(&rec);
  CHECK_EQ(cio_future_add_done_callback(f, record_cb, ITEM(1)), 0);
  CHECK_EQ(cio_future_add_done_callback(f, record_cb, ITEM(2)), 0);
  CHECK_EQ(cio_future_add_done_callback(f, record_cb, ITEM(1)), 0);
  CHECK_EQ(cio_future_add_done_callback(f, record_cb, ITEM(3)), 0);
  CHECK_EQ(cio_future_remove_done_callback(f, record_cb, ITEM(1)), 1); /* first one */
  CHECK_EQ(cio_future_remove_done_callback(f, record_cb, ITEM(3)), 1);
  CHECK_EQ(cio_future_remove_done_callback(f, record_cb, ITEM(3)), 0);
  CHECK_EQ(cio_future_remove_done_callback(f, record_cb, ITEM(9)), 0);
  CHECK_EQ(cio_future_set_result(f, ITEM(5)), 0);
  settle();
  CHECK_EQ(rec.calls, 2);
  CHECK_EQ(rec.norder, 2);
  CHECK_EQ(rec.order[0], 2);
  CHECK_EQ(rec.order[1], 1);
  CHECK_EQ(cio_future_remove_done_callback(f, record_cb, ITEM(1)), 0); /* ran */
  CHECK_EQ(cio_future_remove_done_callback(f, record_cb, ITEM(2)), 0);
  cio_future_release(f);
  return 0;
}

/* future.h: remove_done_callback removes only callbacks "not scheduled
 * yet"; once set_result has scheduled them (asyncio call_soon semantics)
 * removal returns 0 and they still run. */
LOOP_TEST(test_remove_after_scheduled) {
  struct cbrec rec;
  cio_future *f = recorded_future(&rec);
  CHECK_EQ(cio_future_add_done_callback(f, record_cb, ITEM(1)), 0);
  CHECK_EQ(cio_future_set_result(f, ITEM(5)), 0);
  CHECK_EQ(cio_future_remove_done_callback(f, record_cb, ITEM(1)), 0);
  settle();
  CHECK_EQ(rec.calls, 1);
  cio_future_release(f);
  return 0;
}

/* The last reference dropped right after set: the future stays alive until
 * its callbacks have run (ASan would flag a use after free). */
LOOP_TEST(test_callbacks_keep_future_alive) {
  struct cbrec rec;
  cio_future *f = recorded_future(&rec);
  CHECK_EQ(cio_future_add_done_callback(f, record_cb, ITEM(1)), 0);
  CHECK_EQ(cio_future_add_done_callback(f, record_cb, ITEM(2)), 0);
  CHECK_EQ(cio_future_set_result(f, ITEM(8)), 0);
  cio_future_release(f);
  settle();
  CHECK_EQ(rec.calls, 2);
  CHECK_EQ(rec.value, 8);

  /* same with a callback added after completion */
  f = recorded_future(&rec);
  CHECK_EQ(cio_future_set_result(f, ITEM(9)), 0);
  CHECK_EQ(cio_future_add_done_callback(f, record_cb, ITEM(1)), 0);
  cio_future_release(f);
  settle();
  CHECK_EQ(rec.calls, 1);
  CHECK_EQ(rec.value, 9);
  return 0;
}

/* Callbacks chaining futures: f's callback completes g. */
static void chain_cb(cio_future *f, void *arg) {
  cio_future *g = arg;
  CHECK_EQ(cio_future_set_result(g, ITEM(NUM(cio_future_value(f)) * 2)), 0);
  cio_future_release(g);
}

LOOP_TEST(test_chain) {
  cio_future *f = cio_future_new(), *g = cio_future_new();
  CHECK_EQ(cio_future_add_done_callback(f, chain_cb, cio_future_ref(g)), 0);
  CHECK_EQ(cio_call_later(cio_loop_current(), 0.005, set_cb, f), 0);
  void *v = NULL;
  CHECK_EQ(cio_future_await(g, &v), 0);
  CHECK_EQ(NUM(v), 198);
  cio_future_release(f);
  cio_future_release(g);
  return 0;
}

/* ---- cancellation ---- */

LOOP_TEST(test_cancel_future) {
  cio_future *f = cio_future_new();
  struct awaiter a[3];
  cio_task *t[3];
  for (int i = 0; i < 3; i++) a[i] = mk_awaiter(f, i);
  spawn_blocked(t, 3, awaiter_fn, a, sizeof a[0]);
  CHECK_EQ(cio_future_cancel(f), 0);
  CHECK_EQ(cio_future_done(f), 1);
  CHECK_EQ(cio_future_status(f), -ECANCELED);
  CHECK_EQ(cio_future_cancel(f), -EALREADY);
  CHECK_EQ(cio_future_set_result(f, ITEM(1)), -EALREADY);
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(join(t[i]), 0);
    CHECK_EQ(a[i].r, -ECANCELED);
    CHECK_EQ(a[i].after, 0); /* the tasks themselves were not cancelled */
  }
  CHECK_EQ(cio_future_await(f, NULL), -ECANCELED);
  cio_future_release(f);
  return 0;
}

/* Cancelling a task that awaits a future leaves the future pending; other
 * awaiters still get the value later. */
LOOP_TEST(test_cancel_awaiter_leaves_future) {
  cio_future *f = cio_future_new();
  struct awaiter a = mk_awaiter(f, 0), b = mk_awaiter(f, 1);
  cio_task *ta = cio_spawn(awaiter_fn, &a);
  wait_blocked(ta);
  cio_task *tb = cio_spawn(awaiter_fn, &b);
  wait_blocked(tb);
  CHECK_EQ(cio_task_cancel(ta), 1);
  CHECK_EQ(join(ta), 0);
  CHECK_EQ(a.r, -ECANCELED);
  CHECK_EQ(cio_future_done(f), 0);
  CHECK_EQ(cio_future_status(f), -EINPROGRESS);
  settle();
  CHECK(!b.done);
  CHECK_EQ(cio_future_set_result(f, ITEM(6)), 0);
  CHECK_EQ(join(tb), 0);
  CHECK_EQ(b.r, 0);
  CHECK_EQ(NUM(b.value), 6);
  cio_future_release(f);
  return 0;
}

/* Completed first, cancelled before the awaiter ran: the await returns the
 * result; the cancellation hits the next suspension. */
LOOP_TEST(test_completed_then_cancelled) {
  cio_future *f = cio_future_new();
  struct awaiter a = mk_awaiter(f, 0);
  cio_task *t = cio_spawn(awaiter_fn, &a);
  wait_blocked(t);
  CHECK_EQ(cio_future_set_result(f, ITEM(4)), 0);
  CHECK_EQ(cio_task_cancel(t), 1);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(a.r, 0);
  CHECK_EQ(NUM(a.value), 4);
  CHECK_EQ(a.after, -ECANCELED);
  cio_future_release(f);
  return 0;
}

LOOP_TEST(test_pending_cancel) {
  cio_future *f = cio_future_new();
  CHECK_EQ(cio_task_cancel(cio_current()), 1);
  void *v = ITEM(1);
  CHECK_EQ(cio_future_await(f, &v), -ECANCELED);
  CHECK_EQ(cio_future_done(f), 0);
  CHECK_EQ(cio_yield(), 0); /* consumed */
  CHECK_EQ(cio_future_set_result(f, ITEM(2)), 0);
  CHECK_EQ(cio_future_await(f, &v), 0);
  CHECK_EQ(NUM(v), 2);
  cio_future_release(f);
  return 0;
}

LOOP_TEST(test_timeout) {
  cio_future *f = cio_future_new();
  cio_timeout_scope s;
  CHECK_EQ(cio_timeout_begin(&s, 0.02), 0);
  CHECK_EQ(cio_future_await(f, NULL), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&s), 1);
  CHECK_EQ(cio_future_done(f), 0);

  CHECK_EQ(cio_timeout_begin(&s, 0), 0);
  CHECK_EQ(cio_future_await(f, NULL), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&s), 1);
  CHECK_EQ(cio_future_done(f), 0);

  CHECK_EQ(cio_call_later(cio_loop_current(), 0.01, set_cb, f), 0);
  CHECK_EQ(cio_timeout_begin(&s, 5.0), 0);
  void *v = NULL;
  CHECK_EQ(cio_future_await(f, &v), 0);
  CHECK_EQ(cio_timeout_end(&s), 0);
  CHECK_EQ(NUM(v), 99);
  cio_future_release(f);
  return 0;
}

/* ---- reference counting ---- */

LOOP_TEST(test_refcount) {
  cio_future *f = cio_future_new();
  CHECK(cio_future_ref(f) == f);
  CHECK(cio_future_ref(f) == f);
  cio_future_release(f);
  cio_future_release(f);
  CHECK_EQ(cio_future_status(f), -EINPROGRESS); /* one reference left */
  CHECK_EQ(cio_future_set_result(f, ITEM(1)), 0);
  cio_future_release(f); /* freed: ASan/LSan judge */

  /* many futures created and dropped, completed or not */
  for (int i = 0; i < 1000; i++) {
    cio_future *g = cio_future_new();
    if (i % 3 == 0) cio_future_set_result(g, ITEM(i));
    if (i % 3 == 1) cio_future_set_error(g, -EIO);
    cio_future_release(g);
  }
  return 0;
}

/* The awaiter gives up (timeout), then the last holder drops the future
 * while it is still pending: nothing left behind. */
LOOP_TEST(test_release_pending_after_abandoned_await) {
  cio_future *f = cio_future_new();
  cio_timeout_scope s;
  cio_timeout_begin(&s, 0.005);
  CHECK_EQ(cio_future_await(f, NULL), -ETIMEDOUT);
  cio_timeout_end(&s);
  cio_future_release(f);
  return 0;
}

/* ---- from other threads ---- */

struct ts {
  cio_future *f;
  long value;
  int err;
  long delay_ns;
  int rc;
};

static void *ts_thread(void *arg) {
  struct ts *x = arg;
  struct timespec d = {0, x->delay_ns};
  if (x->delay_ns) nanosleep(&d, NULL);
  x->rc = x->err ? cio_future_set_error_threadsafe(x->f, x->err)
                 : cio_future_set_result_threadsafe(x->f, ITEM(x->value));
  return NULL;
}

LOOP_TEST(test_threadsafe) {
  enum { N = 8 };
  cio_future *f[N];
  struct ts x[N];
  pthread_t th[N];
  for (int i = 0; i < N; i++) {
    f[i] = cio_future_new();
    x[i].f = cio_future_ref(f[i]); /* given up by the threadsafe call */
    x[i].value = 100 + i;
    x[i].err = i == 3 ? -EHOSTUNREACH : 0;
    x[i].delay_ns = (long)(N - i) * 2000000L;
    x[i].rc = 1;
    CHECK_EQ(pthread_create(&th[i], NULL, ts_thread, &x[i]), 0);
  }
  for (int i = 0; i < N; i++) {
    void *v = NULL;
    int r = cio_future_await(f[i], &v);
    if (i == 3) {
      CHECK_EQ(r, -EHOSTUNREACH);
    } else {
      CHECK_EQ(r, 0);
      CHECK_EQ(NUM(v), 100 + i);
    }
  }
  for (int i = 0; i < N; i++) {
    pthread_join(th[i], NULL);
    CHECK_EQ(x[i].rc, 0);
    cio_future_release(f[i]);
  }
  return 0;
}

/* Two threads race to complete one future: exactly one value wins and
 * both references are given back (LSan checks). */
LOOP_TEST(test_threadsafe_race) {
  for (int round = 0; round < 20; round++) {
    cio_future *f = cio_future_new();
    struct ts a = {cio_future_ref(f), 1, 0, 0, 1};
    struct ts b = {cio_future_ref(f), 0, -EIO, 0, 1};
    pthread_t ta, tb;
    CHECK_EQ(pthread_create(&ta, NULL, ts_thread, &a), 0);
    CHECK_EQ(pthread_create(&tb, NULL, ts_thread, &b), 0);
    void *v = NULL;
    int r = cio_future_await(f, &v);
    CHECK(r == 0 || r == -EIO);
    if (r == 0) CHECK_EQ(NUM(v), 1);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK_EQ(a.rc, 0);
    CHECK_EQ(b.rc, 0);
    /* let the loser's completion (and its release) be processed */
    CHECK_EQ(cio_sleep(0.002), 0);
    CHECK_EQ(cio_future_status(f), r);
    cio_future_release(f);
  }
  return 0;
}

/* Many completions from one thread, awaited in order. */
struct burst {
  cio_future **f;
  int n;
};

static void *burst_thread(void *arg) {
  struct burst *b = arg;
  for (int i = 0; i < b->n; i++) cio_future_set_result_threadsafe(b->f[i], ITEM(i + 1));
  return NULL;
}

LOOP_TEST(test_threadsafe_burst) {
  enum { N = 500 };
  static cio_future *f[N], *refs[N];
  for (int i = 0; i < N; i++) {
    f[i] = cio_future_new();
    refs[i] = cio_future_ref(f[i]);
  }
  struct burst b = {refs, N};
  pthread_t th;
  CHECK_EQ(pthread_create(&th, NULL, burst_thread, &b), 0);
  int ok = 1;
  for (int i = 0; i < N; i++) {
    void *v = NULL;
    ok &= cio_future_await(f[i], &v) == 0 && NUM(v) == i + 1;
  }
  CHECK(ok);
  pthread_join(th, NULL);
  for (int i = 0; i < N; i++) cio_future_release(f[i]);
  return 0;
}

/* ---- promisify: a callback-style API made awaitable ---- */

typedef void (*fake_done_fn)(int err, char *data, void *user);

struct fake_req {
  fake_done_fn done;
  void *user;
  int err;
  char *data;
};

static int fake_fired;

static void fake_fire(void *arg) {
  struct fake_req *r = arg;
  fake_fired++;
  r->done(r->err, r->data, r->user);
  free(r);
}

/* "Starts" an operation that completes after `delay` seconds via callback. */
static int fake_read_async(double delay, int err, char *data, fake_done_fn done, void *user) {
  struct fake_req *r = malloc(sizeof *r);
  if (!r) return -ENOMEM;
  r->done = done;
  r->user = user;
  r->err = err;
  r->data = data;
  int rc = cio_call_later(cio_loop_current(), delay, fake_fire, r);
  if (rc) free(r);
  return rc;
}

static void on_fake_done(int err, char *data, void *user) {
  cio_future *f = user; /* the callback's own reference */
  if (err)
    cio_future_set_error(f, err);
  else
    cio_future_set_result(f, data);
  cio_future_release(f);
}

/* The awaitable wrapper users would write. */
static int fake_read(double delay, int err, char *data, char **out) {
  cio_future *f = cio_future_new();
  if (!f) return -errno;
  int r = fake_read_async(delay, err, data, on_fake_done, cio_future_ref(f));
  if (r) {
    cio_future_release(f);
    cio_future_release(f);
    return r;
  }
  void *v = NULL;
  r = cio_future_await(f, &v);
  cio_future_release(f);
  if (r == 0) *out = v;
  return r;
}

static char hello[] = "hello";
static char world[] = "world";

struct reader {
  int r;
  char *out;
  double delay;
};

static int reader_fn(void *arg) {
  struct reader *x = arg;
  x->r = fake_read(x->delay, 0, world, &x->out);
  return 0;
}

LOOP_TEST(test_promisify) {
  fake_fired = 0;
  char *out = NULL;
  CHECK_EQ(fake_read(0.005, 0, hello, &out), 0);
  CHECK(out == hello);
  CHECK_EQ(fake_read(0.001, -ECONNREFUSED, NULL, &out), -ECONNREFUSED);

  /* several in flight at once, completing in reverse order */
  struct reader rd[4];
  cio_task *t[4];
  for (int i = 0; i < 4; i++) {
    rd[i].r = 1;
    rd[i].out = NULL;
    rd[i].delay = 0.002 * (4 - i);
    t[i] = cio_spawn(reader_fn, &rd[i]);
  }
  for (int i = 0; i < 4; i++) {
    CHECK_EQ(join(t[i]), 0);
    CHECK_EQ(rd[i].r, 0);
    CHECK(rd[i].out == world);
  }

  /* the awaiting task is cancelled; the operation still completes later and
   * sets a future nobody awaits (the callback's reference keeps it valid) */
  struct reader c = {1, NULL, 0.01};
  cio_task *tc = cio_spawn(reader_fn, &c);
  wait_blocked(tc);
  cio_task_cancel(tc);
  CHECK_EQ(join(tc), 0);
  CHECK_EQ(c.r, -ECANCELED);
  CHECK(c.out == NULL);
  CHECK_EQ(cio_sleep(0.03), 0); /* let the late callback fire */
  CHECK_EQ(fake_fired, 7);
  return 0;
}

/* ---- outside a task ---- */

struct cbctx {
  cio_future *f;
  int ran, r;
};

static void outside_cb(void *arg) {
  struct cbctx *c = arg;
  c->r = cio_future_await(c->f, NULL);
  c->ran = 1;
}

LOOP_TEST(test_eperm_in_callback) {
  struct cbctx c = {cio_future_new(), 0, 1};
  CHECK_EQ(cio_call_soon(cio_loop_current(), outside_cb, &c), 0);
  settle();
  CHECK(c.ran);
  CHECK_EQ(c.r, -EPERM);
  CHECK_EQ(cio_future_done(c.f), 0);
  cio_future_release(c.f);
  return 0;
}

static void test_eperm_outside_loop(void) {
  errno = 0;
  CHECK(cio_future_new() == NULL); /* no loop on this thread */
  CHECK_EQ(errno, ENOENT);

  cio_loop *loop = cio_loop_new(NULL);
  CHECK(loop != NULL);
  if (!loop) return;
  cio_future *f = cio_future_new();
  CHECK(f != NULL);
  CHECK_EQ(cio_future_await(f, NULL), -EPERM);
  CHECK_EQ(cio_future_set_result(f, ITEM(1)), 0); /* setting needs no task */
  cio_future_release(f);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

int main(void) {
  RUN(test_eperm_outside_loop);
  RUN(test_set_result_once);
  RUN(test_set_error_once);
  RUN(test_await_pending);
  RUN(test_many_awaiters);
  RUN(test_done_callbacks);
  RUN(test_callbacks_on_error_and_cancel);
  RUN(test_remove_done_callback);
  RUN(test_remove_after_scheduled);
  RUN(test_callbacks_keep_future_alive);
  RUN(test_chain);
  RUN(test_cancel_future);
  RUN(test_cancel_awaiter_leaves_future);
  RUN(test_completed_then_cancelled);
  RUN(test_pending_cancel);
  RUN(test_timeout);
  RUN(test_refcount);
  RUN(test_release_pending_after_abandoned_await);
  RUN(test_threadsafe);
  RUN(test_threadsafe_race);
  RUN(test_threadsafe_burst);
  RUN(test_promisify);
  RUN(test_eperm_in_callback);
  return test_report();
}
