/* test_task.c - tasks: spawn/await/status, names and ids, states, yield
 * order, sleep, handles (detach/release/ref), custom stacks,
 * cio_suspend/cio_task_wake. The large-scale tests (100k and 1M tasks) are
 * in test_task_scale.c, labelled slow.
 */
#include <cio.h>
#include <stdint.h>
#include <unistd.h>

#include "test.h"
#include "test_loop.h"

static int zero; /* a status-0 argument that outlives every task */

static int return_arg(void *arg) { return *(int *)arg; }

/* ---- spawn / await / status ---- */

static int sleeper(void *arg) {
  int r = cio_sleep(0.01);
  return r ? r : *(int *)arg;
}

static int spawn_await_main(void *arg) {
  int a = 0, b = -EIO, c = 17;
  cio_task *ta = cio_spawn(sleeper, &a);
  cio_task *tb = cio_spawn(sleeper, &b);
  cio_task *tc = cio_spawn(return_arg, &c);
  CHECK(ta && tb && tc);
  if (!ta || !tb || !tc) return -ENOMEM;
  CHECK_EQ(cio_task_status(ta), -EINPROGRESS);
  CHECK_EQ(cio_task_done(ta), 0);
  CHECK_EQ(cio_task_cancelled(ta), 0);
  CHECK_EQ(cio_await(ta), 0);
  CHECK_EQ(cio_await(tb), -EIO);
  CHECK_EQ(cio_await(tc), 17);
  CHECK(cio_task_done(ta) && cio_task_done(tb) && cio_task_done(tc));
  CHECK_EQ(cio_task_status(tb), -EIO);
  CHECK_EQ(cio_task_cancelled(tb), 0);
  CHECK_EQ(cio_task_status(tc), 17);
  /* Awaiting again gives the same status. */
  CHECK_EQ(cio_await(tb), -EIO);
  cio_task_release(ta);
  cio_task_release(tb);
  cio_task_release(tc);
  return 0;
}

static void test_spawn_await_status(void) { run_main(spawn_await_main, NULL); }

struct awaiter {
  cio_task *target;
  int got;
};

static int await_target(void *arg) {
  struct awaiter *w = arg;
  w->got = cio_await(w->target);
  return 0;
}

static int two_awaiters_main(void *arg) {
  int v = -EPIPE;
  cio_task *target = cio_spawn(sleeper, &v);
  struct awaiter w1 = {target, 1}, w2 = {target, 1};
  cio_task *a = cio_spawn(await_target, &w1);
  cio_task *b = cio_spawn(await_target, &w2);
  CHECK_EQ(cio_await(a), 0);
  CHECK_EQ(cio_await(b), 0);
  CHECK_EQ(w1.got, -EPIPE);
  CHECK_EQ(w2.got, -EPIPE);
  cio_task_release(a);
  cio_task_release(b);
  cio_task_release(target);
  return 0;
}

static void test_two_awaiters(void) { run_main(two_awaiters_main, NULL); }

/* ---- names and ids ---- */

static int names_main(void *arg) {
  char expect[64];
  cio_task *t = cio_spawn(return_arg, &zero);
  CHECK(t != NULL);
  if (!t) return -ENOMEM;
  snprintf(expect, sizeof expect, "task-%llu", (unsigned long long)cio_task_id(t));
  CHECK_STR(cio_task_name(t), expect);

  /* The name is copied. */
  char buf[32];
  snprintf(buf, sizeof buf, "worker-%d", 42);
  cio_spawn_opts o = {.name = buf, .stack_size = 0};
  cio_task *n = cio_spawn_ex(return_arg, &zero, &o);
  CHECK(n != NULL);
  memset(buf, 'x', sizeof buf - 1);
  if (n) CHECK_STR(cio_task_name(n), "worker-42");

  /* NULL name in opts means the default name. */
  cio_spawn_opts d = {.name = NULL, .stack_size = 0};
  cio_task *dn = cio_spawn_ex(return_arg, &zero, &d);
  CHECK(dn != NULL);
  if (dn) {
    snprintf(expect, sizeof expect, "task-%llu", (unsigned long long)cio_task_id(dn));
    CHECK_STR(cio_task_name(dn), expect);
  }
  /* NULL opts too, and cio_spawn_on with the current loop. */
  cio_task *e = cio_spawn_ex(return_arg, &zero, NULL);
  cio_spawn_opts oo = {.name = "spawned-on", .stack_size = 0};
  cio_task *on = cio_spawn_on(cio_loop_current(), return_arg, &zero, &oo);
  CHECK(e != NULL);
  CHECK(on != NULL);
  if (on) CHECK_STR(cio_task_name(on), "spawned-on");

  /* The name survives the task finishing while the handle is held. */
  CHECK_EQ(cio_await(t), 0);
  if (n) CHECK_EQ(cio_await(n), 0);
  snprintf(expect, sizeof expect, "task-%llu", (unsigned long long)cio_task_id(t));
  CHECK_STR(cio_task_name(t), expect);
  if (n) CHECK_STR(cio_task_name(n), "worker-42");

  /* The main task has a name too. */
  CHECK(cio_task_name(cio_current()) != NULL);

  cio_task *all[] = {t, n, dn, e, on};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    if (!all[i]) continue;
    cio_await(all[i]);
    cio_task_release(all[i]);
  }
  return 0;
}

static void test_names(void) { run_main(names_main, NULL); }

#define N_IDS 200

static int ids_main(void *arg) {
  cio_task *t[N_IDS];
  uint64_t main_id = cio_task_id(cio_current());
  int dup = 0;
  for (int i = 0; i < N_IDS; i++) {
    t[i] = cio_spawn(return_arg, &zero);
    CHECK(t[i] != NULL);
    if (!t[i]) return -ENOMEM;
  }
  for (int i = 0; i < N_IDS; i++) {
    if (cio_task_id(t[i]) == main_id) dup++;
    for (int j = 0; j < i; j++)
      if (cio_task_id(t[i]) == cio_task_id(t[j])) dup++;
  }
  CHECK_EQ(dup, 0);
  for (int i = 0; i < N_IDS; i++) {
    uint64_t id = cio_task_id(t[i]);
    cio_await(t[i]);
    CHECK_EQ(cio_task_id(t[i]), id); /* stable */
    cio_task_release(t[i]);
  }
  return 0;
}

static void test_ids_unique(void) { run_main(ids_main, NULL); }

/* ---- states, cio_current ---- */

struct probe {
  cio_task *seen_current;
  cio_task_state seen_state;
  int phase;
};

static int probed(void *arg) {
  struct probe *p = arg;
  p->seen_current = cio_current();
  p->seen_state = p->seen_current ? cio_task_get_state(p->seen_current) : CIO_TASK_DONE;
  p->phase = 1;
  int r = cio_sleep(0.02);
  p->phase = 2;
  if (r) return r;
  r = cio_yield();
  p->phase = 3;
  if (r) return r;
  return cio_yield();
}

static int states_main(void *arg) {
  struct probe p = {0};
  cio_task *self = cio_current();
  CHECK(self != NULL);
  if (self) CHECK_EQ(cio_task_get_state(self), CIO_TASK_RUNNING);
  cio_task *t = cio_spawn(probed, &p);
  CHECK(t != NULL);
  if (!t) return -ENOMEM;
  CHECK_EQ(cio_task_get_state(t), CIO_TASK_READY);
  CHECK(cio_task_waiting_on(t) == NULL);
  CHECK_EQ(cio_yield(), 0);
  /* It ran and is now sleeping. */
  CHECK_EQ(p.phase, 1);
  CHECK(p.seen_current == t);
  CHECK_EQ(p.seen_state, CIO_TASK_RUNNING);
  CHECK_EQ(cio_task_get_state(t), CIO_TASK_WAITING);
  CHECK(cio_task_waiting_on(t) != NULL);
  /* Wait until it has yielded once: then it sits in the ready queue. */
  while (p.phase < 2) CHECK_EQ(cio_yield(), 0);
  CHECK_EQ(p.phase, 2);
  CHECK_EQ(cio_task_get_state(t), CIO_TASK_READY);
  CHECK_EQ(cio_await(t), 0);
  CHECK_EQ(cio_task_get_state(t), CIO_TASK_DONE);
  CHECK(cio_task_waiting_on(t) == NULL);
  CHECK(cio_current() == self);
  cio_task_release(t);
  return 0;
}

static void test_states(void) {
  CHECK(cio_current() == NULL);
  run_main(states_main, NULL);
  CHECK(cio_current() == NULL);
}

/* ---- yield order ---- */

#define RR_TASKS  4
#define RR_ROUNDS 5

struct rr {
  int seq[RR_TASKS * RR_ROUNDS];
  int n;
};

struct rr_arg {
  struct rr *rr;
  int id;
};

static int rr_task(void *arg) {
  struct rr_arg *a = arg;
  for (int i = 0; i < RR_ROUNDS; i++) {
    a->rr->seq[a->rr->n++] = a->id;
    int r = cio_yield();
    if (r) return r;
  }
  return 0;
}

static int yield_order_main(void *arg) {
  struct rr rr = {{0}, 0};
  struct rr_arg a[RR_TASKS];
  cio_task *t[RR_TASKS];
  for (int i = 0; i < RR_TASKS; i++) {
    a[i] = (struct rr_arg){&rr, i};
    t[i] = cio_spawn(rr_task, &a[i]);
  }
  for (int i = 0; i < RR_TASKS; i++) {
    CHECK_EQ(cio_await(t[i]), 0);
    cio_task_release(t[i]);
  }
  CHECK_EQ(rr.n, RR_TASKS * RR_ROUNDS);
  /* Round robin, FIFO: 0 1 2 3 0 1 2 3 ... */
  for (int i = 0; i < rr.n; i++) CHECK_EQ(rr.seq[i], i % RR_TASKS);
  return 0;
}

static void test_yield_round_robin(void) { run_main(yield_order_main, NULL); }

/* ---- sleep ---- */

struct slept {
  double seconds;
  double took;
  int r;
};

static int timed_sleep(void *arg) {
  struct slept *s = arg;
  double t0 = now_s();
  s->r = cio_sleep(s->seconds);
  s->took = now_s() - t0;
  return s->r;
}

static int sleep_main(void *arg) {
  struct slept a = {0.3, 0, 1}, b = {0.3, 0, 1}, c = {0.1, 0, 1};
  double t0 = now_s();
  cio_task *ta = cio_spawn(timed_sleep, &a);
  cio_task *tb = cio_spawn(timed_sleep, &b);
  cio_task *tc = cio_spawn(timed_sleep, &c);
  CHECK_EQ(cio_await(ta), 0);
  CHECK_EQ(cio_await(tb), 0);
  CHECK_EQ(cio_await(tc), 0);
  double total = now_s() - t0;
  /* Never early; two 0.3 s sleeps in parallel take well under 0.6 s (loose). */
  CHECK(a.took >= 0.3 - 1e-3);
  CHECK(b.took >= 0.3 - 1e-3);
  CHECK(c.took >= 0.1 - 1e-3);
  CHECK(total < 0.57);
  /* The shorter sleep ended first. */
  CHECK(cio_task_done(tc));
  cio_task_release(ta);
  cio_task_release(tb);
  cio_task_release(tc);

  /* sleep(0) and negative sleeps behave as cio_yield. */
  CHECK_EQ(cio_sleep(0), 0);
  CHECK_EQ(cio_sleep(-1.0), 0);
  return 0;
}

static void test_sleep_timing(void) { run_main(sleep_main, NULL); }

static int sleep_zero_yields(void *arg) {
  int *ticks = arg;
  for (int i = 0; i < 3; i++) {
    (*ticks)++;
    if (cio_yield()) return -1;
  }
  return 0;
}

static int sleep0_main(void *arg) {
  int ticks = 0;
  cio_task *t = cio_spawn(sleep_zero_yields, &ticks);
  CHECK_EQ(cio_sleep(0), 0);
  CHECK_EQ(ticks, 1); /* sleep(0) let the other task run */
  CHECK_EQ(cio_sleep(-0.5), 0);
  CHECK_EQ(ticks, 2);
  CHECK_EQ(cio_await(t), 0);
  cio_task_release(t);
  return 0;
}

static void test_sleep_zero_is_yield(void) { run_main(sleep0_main, NULL); }

/* ---- await edge cases ---- */

static int ticker(void *arg) {
  int *ticks = arg;
  for (;;) {
    (*ticks)++;
    if (cio_yield()) return 0;
  }
}

static int await_done_main(void *arg) {
  int v = -EPROTO;
  cio_task *t = cio_spawn(return_arg, &v);
  CHECK_EQ(cio_await(t), -EPROTO);
  int ticks = 0;
  cio_task *tk = cio_spawn(ticker, &ticks);
  CHECK_EQ(cio_yield(), 0);
  int before = ticks;
  /* t is done: await returns at once, without letting the ticker run. */
  CHECK_EQ(cio_await(t), -EPROTO);
  CHECK_EQ(ticks, before);
  cio_task_cancel(tk);
  CHECK_EQ(cio_await(tk), 0);
  cio_task_release(tk);
  cio_task_release(t);
  return 0;
}

static void test_await_finished_returns_at_once(void) { run_main(await_done_main, NULL); }

static int await_self(void *arg) {
  CHECK_EQ(cio_await(cio_current()), -EDEADLK);
  return 0;
}

static void test_await_self(void) { run_main(await_self, NULL); }

/* Calls that may only run inside a task return -EPERM elsewhere. */
struct outside {
  cio_task *t;
  int yield_r, sleep_r, await_r, suspend_r;
  cio_task *current;
  int ran;
};

static void outside_cb(void *arg) {
  struct outside *o = arg;
  o->ran = 1;
  o->current = cio_current();
  o->yield_r = cio_yield();
  o->sleep_r = cio_sleep(0.01);
  o->await_r = cio_await(o->t);
  o->suspend_r = cio_suspend("outside");
}

static int yields_once(void *arg) { return cio_yield(); }

static void test_outside_task_eperm(void) {
  /* No loop at all. */
  CHECK_EQ(cio_yield(), -EPERM);
  CHECK_EQ(cio_sleep(0.01), -EPERM);
  CHECK_EQ(cio_sleep(0), -EPERM);
  CHECK_EQ(cio_suspend("nothing"), -EPERM);
  CHECK(cio_current() == NULL);

  /* A loop, but not inside a task (before it runs, and inside a callback). */
  cio_loop *loop = cio_loop_new(NULL);
  CHECK(loop != NULL);
  if (!loop) return;
  cio_task *t = cio_spawn(yields_once, NULL);
  CHECK(t != NULL);
  CHECK_EQ(cio_await(t), -EPERM);
  CHECK_EQ(cio_yield(), -EPERM);
  CHECK_EQ(cio_sleep(0.01), -EPERM);
  CHECK_EQ(cio_suspend("nothing"), -EPERM);
  struct outside o = {t, 1, 1, 1, 1, t, 0}; /* current: non-NULL sentinel */
  CHECK_EQ(cio_call_soon(loop, outside_cb, &o), 0);
  CHECK_EQ(cio_loop_run_until_complete(loop, t), 0);
  CHECK_EQ(o.ran, 1);
  CHECK(o.current == NULL);
  CHECK_EQ(o.yield_r, -EPERM);
  CHECK_EQ(o.sleep_r, -EPERM);
  CHECK_EQ(o.await_r, -EPERM);
  CHECK_EQ(o.suspend_r, -EPERM);
  cio_task_release(t);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

/* ---- handles: detach, release, ref ---- */

struct bg {
  int phase;
};

static int background(void *arg) {
  struct bg *b = arg;
  b->phase = 1;
  int r = cio_sleep(0.01);
  if (r) return r;
  r = cio_yield();
  b->phase = 2;
  return r;
}

static int handles_main(void *arg) {
  struct bg d = {0}, r = {0}, f = {0};
  cio_task *td = cio_spawn(background, &d);
  cio_task *tr = cio_spawn(background, &r);
  CHECK(td && tr);
  if (!td || !tr) return -ENOMEM;
  cio_detach(td);
  CHECK_EQ(cio_yield(), 0);
  CHECK_EQ(d.phase, 1);
  CHECK_EQ(r.phase, 1);
  cio_task_release(tr); /* before completion: the task keeps running */
  CHECK_EQ(cio_sleep(0.05), 0);
  CHECK_EQ(d.phase, 2);
  CHECK_EQ(r.phase, 2);

  /* Detach and release before the task ever ran. */
  struct bg d2 = {0}, r2 = {0};
  cio_detach(cio_spawn(background, &d2));
  cio_task_release(cio_spawn(background, &r2));
  CHECK_EQ(cio_sleep(0.05), 0);
  CHECK_EQ(d2.phase, 2);
  CHECK_EQ(r2.phase, 2);

  /* ref: two references, each released once. */
  cio_task *tf = cio_spawn(background, &f);
  CHECK(tf != NULL);
  if (!tf) return -ENOMEM;
  cio_task *again = cio_task_ref(tf);
  CHECK(again == tf);
  cio_task_release(tf);
  CHECK_EQ(cio_await(again), 0);
  CHECK_EQ(f.phase, 2);
  CHECK_EQ(cio_task_status(again), 0);
  cio_task_release(again);
  return 0;
}

static void test_detach_release_ref(void) { run_main(handles_main, NULL); }

/* ---- custom stacks ---- */

/* Each level keeps ~256 bytes live on the stack. */
static int recurse(int depth) {
  volatile char buf[256];
  buf[0] = (char)depth;
  buf[255] = (char)depth;
  if (depth <= 0) return 0;
  return recurse(depth - 1) + (buf[0] == buf[255]);
}

static int recurse_task(void *arg) {
  int depth = *(int *)arg;
  return recurse(depth) == depth ? 0 : -EPROTO;
}

static int stacks_main(void *arg) {
  /* 16 KiB, ~24 levels x ~300 bytes (~7 KiB; ASan frames are larger). */
  int small_depth = 24;
  cio_spawn_opts small = {.name = "small-stack", .stack_size = 16 * 1024};
  cio_task *a = cio_spawn_ex(recurse_task, &small_depth, &small);
  /* Default stack (256 KiB): ~400 levels (~120 KiB). */
  int default_depth = 400;
  cio_task *b = cio_spawn(recurse_task, &default_depth);
  /* A large custom stack: 4 MiB, ~4000 levels (~1.2 MiB). */
  int big_depth = 4000;
  cio_spawn_opts big = {.name = "big-stack", .stack_size = 4u * 1024 * 1024};
  cio_task *c = cio_spawn_ex(recurse_task, &big_depth, &big);
  /* An odd size is rounded up to pages. */
  int odd_depth = 8;
  cio_spawn_opts odd = {.name = "odd-stack", .stack_size = 20000};
  cio_task *d = cio_spawn_ex(recurse_task, &odd_depth, &odd);
  CHECK(a && b && c && d);
  if (!a || !b || !c || !d) return -ENOMEM;
  CHECK_EQ(cio_await(a), 0);
  CHECK_EQ(cio_await(b), 0);
  CHECK_EQ(cio_await(c), 0);
  CHECK_EQ(cio_await(d), 0);
  CHECK_STR(cio_task_name(a), "small-stack");
  cio_task_release(a);
  cio_task_release(b);
  cio_task_release(c);
  cio_task_release(d);
  return 0;
}

static void test_custom_stacks(void) { run_main(stacks_main, NULL); }

/* A loop-wide default stack size applies to tasks spawned without one. */
static void test_loop_default_stack(void) {
  cio_loop_opts o = {0};
  o.stack_size = 1024 * 1024;
  cio_loop *loop = cio_loop_new(&o);
  CHECK(loop != NULL);
  if (!loop) return;
  int depth = 2000; /* ~600 KiB: does not fit the 256 KiB default */
  cio_task *t = cio_spawn(recurse_task, &depth);
  CHECK(t != NULL);
  if (t) {
    CHECK_EQ(cio_loop_run_until_complete(loop, t), 0);
    cio_task_release(t);
  }
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

/* ---- cio_suspend / cio_task_wake ---- */

struct susp {
  int r;
  int phase;
};

static int suspender(void *arg) {
  struct susp *s = arg;
  s->phase = 1;
  s->r = cio_suspend("custom thing");
  s->phase = 2;
  return 0;
}

static int wake_main(void *arg) {
  struct susp s = {1, 0};
  cio_task *t = cio_spawn(suspender, &s);
  CHECK_EQ(cio_task_wake(t, 5), 0); /* not suspended yet */
  CHECK_EQ(cio_yield(), 0);
  CHECK_EQ(s.phase, 1);
  CHECK_EQ(cio_task_get_state(t), CIO_TASK_WAITING);
  CHECK_STR(cio_task_waiting_on(t), "custom thing");
  CHECK_EQ(cio_yield(), 0);
  CHECK_EQ(s.phase, 1); /* nothing wakes it but cio_task_wake */
  CHECK_EQ(cio_task_wake(t, 42), 1);
  CHECK_EQ(cio_task_wake(t, 43), 0); /* already woken */
  CHECK_EQ(cio_await(t), 0);
  CHECK_EQ(s.phase, 2);
  CHECK_EQ(s.r, 42);
  CHECK_EQ(cio_task_wake(t, 1), 0); /* done */
  cio_task_release(t);

  /* Negative codes pass through too. */
  struct susp s2 = {1, 0};
  t = cio_spawn(suspender, &s2);
  CHECK_EQ(cio_yield(), 0);
  CHECK_EQ(cio_task_wake(t, -ECONNRESET), 1);
  CHECK_EQ(cio_await(t), 0);
  CHECK_EQ(s2.r, -ECONNRESET);
  cio_task_release(t);

  /* Cancelled while suspended: -ECANCELED, and a later wake is refused. */
  struct susp s3 = {1, 0};
  t = cio_spawn(suspender, &s3);
  CHECK_EQ(cio_yield(), 0);
  CHECK_EQ(cio_task_cancel(t), 1);
  CHECK_EQ(cio_task_wake(t, 9), 0);
  CHECK_EQ(cio_await(t), 0);
  CHECK_EQ(s3.r, -ECANCELED);
  cio_task_release(t);
  return 0;
}

static void test_suspend_wake(void) { run_main(wake_main, NULL); }

/* A wake from a callback (the io-layer pattern). */
struct cb_wake {
  cio_task *t;
  int woke;
};

static void wake_cb(void *arg) {
  struct cb_wake *w = arg;
  w->woke = cio_task_wake(w->t, 3);
}

static int suspend_for_callback(void *arg) {
  struct cb_wake *w = arg;
  w->t = cio_current();
  if (cio_call_later(cio_loop_current(), 0.01, wake_cb, w) != 0) return -ENOMEM;
  return cio_suspend("callback");
}

static void test_wake_from_callback(void) {
  struct cb_wake w = {NULL, 0};
  CHECK_EQ(cio_run(suspend_for_callback, &w), 3);
  CHECK_EQ(w.woke, 1);
}

/* ---- done callbacks, checkpoint, threadsafe stop ---- */

struct done_log {
  int calls;
  int status_seen;
  int order[4];
};

static void on_done(cio_task *t, void *arg) {
  struct done_log *d = arg;
  CHECK(cio_task_done(t));
  d->status_seen = cio_task_status(t);
  d->order[d->calls < 4 ? d->calls : 3] = (int)cio_task_id(t);
  d->calls++;
}

static int done_cb_main(void *arg) {
  (void)arg;
  struct done_log d = {0};
  int st = -EIO;
  cio_task *t = cio_spawn(sleeper, &st);
  CHECK_EQ(cio_task_add_done_callback(t, on_done, &d), 0);
  CHECK_EQ(cio_await(t), -EIO);
  CHECK_EQ(d.calls, 0); /* scheduled with call_soon, not run inline */
  CHECK_EQ(cio_sleep(0.001), 0);
  CHECK_EQ(d.calls, 1);
  CHECK_EQ(d.status_seen, -EIO);
  /* Registered after completion: still runs, once. */
  CHECK_EQ(cio_task_add_done_callback(t, on_done, &d), 0);
  CHECK_EQ(cio_sleep(0.001), 0);
  CHECK_EQ(d.calls, 2);
  /* The callback keeps its own reference: releasing the handle first is fine. */
  cio_task *u = cio_spawn(sleeper, &zero);
  CHECK_EQ(cio_task_add_done_callback(u, on_done, &d), 0);
  cio_task_release(u);
  CHECK_EQ(cio_sleep(0.05), 0);
  CHECK_EQ(d.calls, 3);
  CHECK_EQ(d.status_seen, 0);
  /* A task cancelled before it ever ran still reports, so it can free its arg. */
  cio_task *v = cio_spawn(sleeper, &zero);
  CHECK_EQ(cio_task_add_done_callback(v, on_done, &d), 0);
  CHECK_EQ(cio_task_cancel(v), 1);
  CHECK_EQ(cio_await(v), -ECANCELED);
  CHECK_EQ(cio_sleep(0.001), 0);
  CHECK_EQ(d.calls, 4);
  CHECK_EQ(d.status_seen, -ECANCELED);
  CHECK_EQ(cio_task_add_done_callback(NULL, on_done, &d), -EINVAL);
  CHECK_EQ(cio_task_add_done_callback(t, NULL, &d), -EINVAL);
  cio_task_release(t);
  cio_task_release(v);
  return 0;
}

static void test_done_callbacks(void) { run_main(done_cb_main, NULL); }

static int busy_until_cancelled(void *arg) {
  long *spins = arg;
  /* A computation that never suspends, polling for cancellation. */
  for (;;) {
    int r = cio_checkpoint();
    if (r < 0) return r;
    if (++*spins > 100000000L) return -EIO;
    if (*spins % 1000 == 0) cio_yield();
  }
}

static int checkpoint_main(void *arg) {
  (void)arg;
  CHECK_EQ(cio_checkpoint(), 0);
  CHECK_EQ(cio_task_cancel(cio_current()), 1);
  CHECK_EQ(cio_checkpoint(), -ECANCELED);
  CHECK_EQ(cio_checkpoint(), 0); /* consumed: one-shot */
  long spins = 0;
  cio_task *t = cio_spawn(busy_until_cancelled, &spins);
  CHECK_EQ(cio_sleep(0.01), 0);
  cio_task_cancel(t);
  CHECK_EQ(cio_await(t), -ECANCELED);
  CHECK(spins > 0);
  cio_timeout_scope s;
  CHECK_EQ(cio_timeout_begin(&s, 0), 0);
  CHECK_EQ(cio_checkpoint(), -ETIMEDOUT);
  CHECK_EQ(cio_checkpoint(), -ETIMEDOUT); /* level-triggered */
  CHECK_EQ(cio_timeout_end(&s), 1);
  CHECK_EQ(cio_checkpoint(), 0);
  cio_task_release(t);
  return 0;
}

static void test_checkpoint(void) {
  CHECK_EQ(cio_checkpoint(), -EPERM);
  run_main(checkpoint_main, NULL);
}

#include <pthread.h>

static void *stopper_thread(void *arg) {
  usleep(20000);
  CHECK_EQ(cio_loop_stop_threadsafe(arg), 0);
  return NULL;
}

static void test_stop_threadsafe(void) {
  cio_loop *loop = cio_loop_new(NULL);
  CHECK(loop != NULL);
  if (!loop) return;
  pthread_t th;
  pthread_create(&th, NULL, stopper_thread, loop);
  double t0 = now_s();
  CHECK_EQ(cio_loop_run_forever(loop), 0); /* returns once the thread stops it */
  CHECK(now_s() - t0 < 5.0);
  pthread_join(th, NULL);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

/* ---- by-value arguments and results ---- */

struct req {
  int id;
  char tag[40];
};

static int square_req(void *arg) {
  struct req *r = arg;
  /* the copy is the task's own: aligned, and intact after the spawner's
   * variable went away */
  CHECK_EQ((uintptr_t)arg % _Alignof(max_align_t), 0);
  int rr = cio_sleep(0.001);
  if (rr < 0) return rr;
  CHECK_EQ((int)strlen(r->tag), 3);
  return cio_set_result_int((int64_t)r->id * r->id);
}

static int ptr_result(void *arg) {
  (void)arg;
  static char word[] = "result";
  return cio_set_result(word);
}

static int copy_main(void *arg) {
  (void)arg;
  enum { N = 50 };
  cio_task *t[N];
  for (int i = 0; i < N; i++) {
    struct req r = {.id = i};
    memcpy(r.tag, "req", 4);
    t[i] = cio_spawn_copy(square_req, &r, sizeof r, NULL);
    CHECK(t[i] != NULL);
    memset(&r, 0xff, sizeof r); /* the task has its own copy */
  }
  CHECK_EQ(cio_gather(t, N, NULL, 0), 0);
  int64_t sum = 0;
  for (int i = 0; i < N; i++) {
    sum += cio_task_result_int(t[i]);
    cio_task_release(t[i]);
  }
  CHECK_EQ(sum, (int64_t)(N - 1) * N * (2 * N - 1) / 6);
  cio_task *p = cio_spawn(ptr_result, NULL);
  CHECK(cio_task_result(p) == NULL); /* not set yet */
  CHECK_EQ(cio_await(p), 0);
  CHECK_STR((const char *)cio_task_result(p), "result");
  cio_task_release(p);
  /* size 0 is a plain spawn of arg; NULL with a size is refused */
  cio_task *z = cio_spawn_copy(ptr_result, NULL, 0, NULL);
  CHECK_EQ(cio_await(z), 0);
  cio_task_release(z);
  errno = 0;
  CHECK(cio_spawn_copy(ptr_result, NULL, 8, NULL) == NULL);
  CHECK_EQ(errno, EINVAL);
  return 0;
}

static void test_spawn_copy_and_results(void) {
  CHECK_EQ(cio_run(copy_main, NULL), 0);
  CHECK_EQ(cio_set_result(NULL), -EPERM);
  CHECK_EQ(cio_set_result_int(1), -EPERM);
  errno = 0;
  int x = 1;
  CHECK(cio_spawn_copy(ptr_result, &x, sizeof x, NULL) == NULL); /* no loop */
  CHECK_EQ(errno, ENOENT);
}

/* A task that swallows -ECANCELED can still see it was asked to stop. */
static int stubborn(void *arg) {
  int *seen = arg;
  int r = cio_sleep(10);
  if (r != -ECANCELED) return -EIO;
  seen[0] = (int)cio_task_cancelling(cio_current());
  r = cio_sleep(0.001); /* goes on: not interrupted again */
  seen[1] = r;
  seen[2] = (int)cio_task_uncancel(cio_current());
  return cio_task_cancelling(cio_current()) ? -ECANCELED : 0;
}

static int cancelling_main(void *arg) {
  (void)arg;
  int seen[3] = {-1, -1, -1};
  cio_task *t = cio_spawn(stubborn, seen);
  CHECK_EQ(cio_task_cancelling(t), 0);
  cio_yield();
  cio_task_cancel(t);
  cio_task_cancel(t); /* merged into the first delivery, but counted */
  CHECK_EQ(cio_task_cancelling(t), 2);
  CHECK_EQ(cio_await(t), -ECANCELED);
  CHECK_EQ(seen[0], 2);
  CHECK_EQ(seen[1], 0);
  CHECK_EQ(seen[2], 1);
  cio_task_release(t);
  CHECK_EQ(cio_task_uncancel(NULL), 0);
  CHECK_EQ(cio_task_cancelling(NULL), 0);
  return 0;
}

static void test_cancelling(void) { CHECK_EQ(cio_run(cancelling_main, NULL), 0); }

int main(void) {
  alarm(60); /* a hung loop kills the test instead of blocking CI */
  RUN(test_spawn_await_status);
  RUN(test_two_awaiters);
  RUN(test_names);
  RUN(test_ids_unique);
  RUN(test_states);
  RUN(test_yield_round_robin);
  RUN(test_sleep_timing);
  RUN(test_sleep_zero_is_yield);
  RUN(test_await_finished_returns_at_once);
  RUN(test_await_self);
  RUN(test_outside_task_eperm);
  RUN(test_detach_release_ref);
  RUN(test_custom_stacks);
  RUN(test_loop_default_stack);
  RUN(test_suspend_wake);
  RUN(test_wake_from_callback);
  RUN(test_done_callbacks);
  RUN(test_checkpoint);
  RUN(test_stop_threadsafe);
  RUN(test_spawn_copy_and_results);
  RUN(test_cancelling);
  return test_report();
}
