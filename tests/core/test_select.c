/* test_select.c - cio_select: exactly one case completes (nothing taken or
 * put by the others), the first ready case wins, waiting until one becomes
 * ready, timers, tasks, futures, events, freeing an object under a select,
 * cancellation and timeout scopes (nothing completed), bad arguments, a
 * case of another layer whose arm finds it ready. */
#include "test.h"
#include "test_loop.h"

#include <cio.h>

LOOP_TEST(test_first_ready_wins) {
  cio_queue *a = cio_queue_new(CIO_QUEUE_FIFO, 0, NULL);
  cio_queue *b = cio_queue_new(CIO_QUEUE_FIFO, 0, NULL);
  CHECK_EQ(cio_queue_put_nowait(a, ITEM(1)), 0);
  CHECK_EQ(cio_queue_put_nowait(b, ITEM(2)), 0);
  cio_case cs[] = {cio_case_get(a), cio_case_get(b)};
  CHECK_EQ(cio_select(cs, 2), 0);
  CHECK_EQ(NUM(cs[0].item), 1);
  CHECK_EQ(cs[0].status, 0);
  CHECK_EQ(cio_queue_size(b), 1); /* b's item was not taken */
  CHECK_EQ(cio_select(cs, 2), 1); /* a is empty now: b's item */
  CHECK_EQ(NUM(cs[1].item), 2);
  CHECK_EQ(cio_queue_size(b), 0);
  cio_queue_free(a);
  cio_queue_free(b);
  return 0;
}

struct sender {
  cio_queue *q;
  double delay;
  void *item;
};

static int send_later(void *arg) {
  struct sender *s = arg;
  int r = cio_sleep(s->delay);
  return r < 0 ? r : cio_queue_put(s->q, s->item);
}

LOOP_TEST(test_waits_for_the_first) {
  cio_queue *a = cio_queue_new(CIO_QUEUE_FIFO, 0, NULL);
  cio_queue *b = cio_queue_new(CIO_QUEUE_FIFO, 0, NULL);
  struct sender sa = {a, 0.05, ITEM(10)}, sb = {b, 0.01, ITEM(20)};
  cio_task *ta = cio_spawn(send_later, &sa), *tb = cio_spawn(send_later, &sb);
  cio_case cs[] = {cio_case_get(a), cio_case_get(b), cio_case_after(5)};
  CHECK_EQ(cio_select(cs, 3), 1);
  CHECK_EQ(NUM(cs[1].item), 20);
  CHECK_EQ(join(ta), 0);
  CHECK_EQ(join(tb), 0);
  /* a's item arrived while nobody selected: still there, once. */
  CHECK_EQ(cio_queue_size(a), 1);
  CHECK_EQ(cio_select(cs, 3), 0);
  CHECK_EQ(NUM(cs[0].item), 10);
  cio_queue_free(a);
  cio_queue_free(b);
  return 0;
}

/* Two items arrive at once for two cases of one select: one is taken, the
 * other stays in its queue (hand-over skips a task already woken). */
static int put_both(void *arg) {
  cio_queue **q = arg;
  CHECK_EQ(cio_queue_put_nowait(q[0], ITEM(1)), 0);
  CHECK_EQ(cio_queue_put_nowait(q[1], ITEM(2)), 0);
  return 0;
}

LOOP_TEST(test_exactly_one_completes) {
  cio_queue *q[2] = {cio_queue_new(CIO_QUEUE_FIFO, 0, NULL),
                     cio_queue_new(CIO_QUEUE_FIFO, 0, NULL)};
  cio_task *t = cio_spawn(put_both, q);
  cio_case cs[] = {cio_case_get(q[0]), cio_case_get(q[1])};
  CHECK_EQ(cio_select(cs, 2), 0);
  CHECK_EQ(NUM(cs[0].item), 1);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(cio_queue_size(q[0]), 0);
  CHECK_EQ(cio_queue_size(q[1]), 1);
  cio_queue_free(q[0]);
  cio_queue_free(q[1]);
  return 0;
}

static int get_one(void *arg) {
  void *it;
  int r = cio_queue_get(arg, &it);
  return r < 0 ? r : (int)NUM(it);
}

LOOP_TEST(test_put_case) {
  cio_queue *full = cio_queue_new(CIO_QUEUE_FIFO, 1, NULL);
  cio_queue *other = cio_queue_new(CIO_QUEUE_FIFO, 1, NULL);
  CHECK_EQ(cio_queue_put_nowait(full, ITEM(1)), 0);
  CHECK_EQ(cio_queue_put_nowait(other, ITEM(9)), 0);
  cio_task *t = cio_spawn(get_one, full); /* makes room in full, later */
  cio_case cs[] = {cio_case_put(full, ITEM(2)), cio_case_put(other, ITEM(3))};
  CHECK_EQ(cio_select(cs, 2), 0);
  CHECK_EQ(join(t), 1);
  void *it;
  CHECK_EQ(cio_queue_get_nowait(full, &it), 0);
  CHECK_EQ(NUM(it), 2);
  CHECK_EQ(cio_queue_size(other), 1); /* 3 was never put */
  cio_queue_free(full);
  cio_queue_free(other);
  return 0;
}

static int set_later(void *arg) {
  int r = cio_sleep(0.01);
  if (r == 0) cio_event_set(arg);
  return r;
}

/* Fails once `go` is set: the order of events does not depend on timers. */
static int fail_later(void *arg) {
  int r = cio_event_wait(arg);
  return r < 0 ? r : -EIO;
}

LOOP_TEST(test_event_task_future_after) {
  cio_event *e = cio_event_new();
  cio_future *f = cio_future_new();
  cio_event *go = cio_event_new();
  cio_task *setter = cio_spawn(set_later, e);
  cio_task *worker = cio_spawn(fail_later, go);
  cio_case cs[] = {cio_case_future(f), cio_case_task(worker), cio_case_event(e),
                   cio_case_after(CIO_FOREVER)};
  CHECK_EQ(cio_select(cs, 4), 2);
  CHECK_EQ(cio_select(cs, 4), 2); /* still set: ready at once */
  cio_event_clear(e);
  cio_event_set(go);
  CHECK_EQ(cio_select(cs, 4), 1);
  CHECK_EQ(cio_task_status(worker), -EIO);
  CHECK_EQ(cio_future_set_result(f, ITEM(5)), 0);
  cio_case fc[] = {cio_case_future(f)};
  CHECK_EQ(cio_select(fc, 1), 0);
  CHECK_EQ(NUM(cio_future_value(f)), 5);
  /* A timer alone, and 0 as Go's default. */
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 0, NULL);
  cio_case tc[] = {cio_case_get(q), cio_case_after(0.01)};
  double t0 = now_s();
  CHECK_EQ(cio_select(tc, 2), 1);
  CHECK(now_s() - t0 >= 0.009);
  cio_case dc[] = {cio_case_get(q), cio_case_after(0)};
  CHECK_EQ(cio_select(dc, 2), 1);
  cio_queue_free(q);
  CHECK_EQ(join(setter), 0);
  cio_task_release(worker);
  cio_future_release(f);
  cio_event_free(e);
  cio_event_free(go);
  return 0;
}

struct selector {
  cio_queue *q;
  cio_event *e;
  ssize_t r;
  int status;
  void *item;
};

static int select_two(void *arg) {
  struct selector *s = arg;
  cio_case cs[] = {cio_case_get(s->q), cio_case_event(s->e)};
  s->r = cio_select(cs, 2);
  if (s->r >= 0) {
    s->status = cs[s->r].status;
    s->item = cs[0].item;
  }
  return 0;
}

LOOP_TEST(test_cancel_and_timeout_complete_nothing) {
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 0, NULL);
  cio_event *e = cio_event_new();
  struct selector s = {q, e, 1, 1, NULL};
  cio_task *t = cio_spawn(select_two, &s);
  wait_blocked(t);
  CHECK_STR(cio_task_waiting_on(t), "select");
  cio_task_cancel(t);
  /* The item put now must not go to the cancelled select. */
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(7)), 0);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(s.r, -ECANCELED);
  CHECK_EQ(cio_queue_size(q), 1);

  void *it;
  CHECK_EQ(cio_queue_get_nowait(q, &it), 0);
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 0.01);
  cio_case cs[] = {cio_case_get(q), cio_case_event(e)};
  CHECK_EQ(cio_select(cs, 2), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&sc), 1);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(8)), 0);
  CHECK_EQ(cio_queue_size(q), 1); /* nothing left waiting in q */
  cio_queue_free(q);
  cio_event_free(e);
  return 0;
}

LOOP_TEST(test_freed_under_select) {
  struct selector s = {cio_queue_new(CIO_QUEUE_FIFO, 0, NULL), cio_event_new(), 1, 1, NULL};
  cio_task *t = cio_spawn(select_two, &s);
  wait_blocked(t);
  cio_queue_free(s.q);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(s.r, 0);
  CHECK_EQ(s.status, -EBADF);
  cio_event_free(s.e);
  return 0;
}

LOOP_TEST(test_bad_arguments) {
  cio_case none[1];
  CHECK_EQ(cio_select(NULL, 1), -EINVAL);
  CHECK_EQ(cio_select(none, 0), -EINVAL);
  none[0] = cio_case_after(0);
  none[0].ops = NULL;
  CHECK_EQ(cio_select(none, 1), -EINVAL);
  cio_case self[] = {cio_case_task(cio_current())};
  CHECK_EQ(cio_select(self, 1), 0);
  CHECK_EQ(self[0].status, -EDEADLK);
  /* A pending cancellation is reported on entry, even with a case ready. */
  cio_case ready[] = {cio_case_after(0)};
  cio_task_cancel(cio_current());
  CHECK_EQ(cio_select(ready, 1), -ECANCELED);
  return 0;
}

static void test_outside_task(void) {
  cio_case c[] = {cio_case_after(0)};
  CHECK_EQ(cio_select(c, 1), -EPERM);
}

/* ---- a case written outside the core: the arm protocol ----
 * A "flag" case is ready when *obj is set. Its arm may find it set after
 * try_now said no (here: arm sets it itself, as a racing readiness would)
 * and return 1; its finish may call a wake-up stale (returns 1). */
struct flag {
  int set;        /* the case is ready */
  int set_on_arm; /* arm finds it ready */
  int stale;      /* finishes to report as stale before the real one */
  int cancel;     /* a stale finish cancels the selecting task */
  int arms, disarms, finishes;
  cio_task *task;
  int code;
};

static int flag_try(cio_case *c) {
  struct flag *f = c->obj;
  if (!f->set) return 0;
  f->set = 0;
  return 1;
}

static int flag_arm(cio_case *c, cio_task *t, int code) {
  struct flag *f = c->obj;
  f->arms++;
  if (f->set_on_arm) {
    f->set_on_arm--;
    f->set = 1;
    return 1; /* ready after all: nothing armed */
  }
  f->task = t;
  f->code = code;
  return 0;
}

static void flag_disarm(cio_case *c) {
  struct flag *f = c->obj;
  f->disarms++;
  f->task = NULL;
}

static int flag_finish(cio_case *c) {
  struct flag *f = c->obj;
  f->finishes++;
  if (f->stale) { /* it was not ready after all */
    f->stale--;
    if (f->cancel) cio_task_cancel(cio_current());
    f->set = 0;
    return 1;
  }
  f->set = 0;
  c->status = 0;
  return 0;
}

static const cio_case_ops flag_ops = {flag_try, flag_arm, flag_disarm, flag_finish};

/* A case whose arm fails (as a registration that cannot allocate would). */
static int fail_try(cio_case *c) {
  (void)c;
  return 0;
}
static int fail_arm(cio_case *c, cio_task *t, int code) {
  (void)c, (void)t, (void)code;
  return -ENOSPC;
}
static void fail_disarm(cio_case *c) { (void)c; }
static int fail_finish(cio_case *c) {
  (void)c;
  return 0;
}
static const cio_case_ops fail_ops = {fail_try, fail_arm, fail_disarm, fail_finish};

static cio_case flag_case(struct flag *f) {
  cio_case c;
  memset(&c, 0, sizeof c);
  c.ops = &flag_ops;
  c.obj = f;
  return c;
}

static int wake_flag_later(void *arg) {
  struct flag *f = arg;
  int r = cio_sleep(0.01);
  if (r < 0) return r;
  f->set = 1;
  if (f->task) cio_task_wake(f->task, f->code);
  return 0;
}

LOOP_TEST(test_arm_finds_ready) {
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 0, NULL);
  struct flag f = {.set_on_arm = 1};
  /* The flag case is second: the queue case before it is armed, then
   * disarmed again when the flag's arm says "ready now". */
  cio_case cs[3] = {cio_case_get(q), flag_case(&f), cio_case_after(5.0)};
  CHECK_EQ(cio_select(cs, 3), 1);
  CHECK_EQ(f.arms, 1);
  CHECK_EQ(f.finishes, 1);
  CHECK_EQ(f.disarms, 0); /* its arm armed nothing */
  /* The queue case was disarmed: a put now goes to the queue, not to us. */
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(3)), 0);
  CHECK_EQ(cio_queue_size(q), 1);
  void *item;
  CHECK_EQ(cio_queue_get_nowait(q, &item), 0);
  /* Ready on arm, but stale when finished: select waits again, and the
   * real wake-up completes it. */
  f = (struct flag){.set_on_arm = 1, .stale = 1};
  cio_task *t = cio_spawn(wake_flag_later, &f);
  cs[0] = cio_case_get(q);
  cs[1] = flag_case(&f);
  cs[2] = cio_case_after(5.0);
  CHECK_EQ(cio_select(cs, 3), 1);
  CHECK_EQ(f.arms, 2);
  CHECK_EQ(f.finishes, 2);
  CHECK_EQ(join(t), 0);
  /* Cancelled on the way round (between a stale finish and the next
   * look): -ECANCELED, nothing completed, the queue case not left armed. */
  f = (struct flag){.set_on_arm = 1, .stale = 1, .cancel = 1};
  cs[0] = cio_case_get(q);
  cs[1] = flag_case(&f);
  cs[2] = cio_case_after(5.0);
  CHECK_EQ(cio_select(cs, 3), -ECANCELED);
  CHECK_EQ(f.arms, 1);
  CHECK_EQ(f.finishes, 1);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(4)), 0);
  CHECK_EQ(cio_queue_size(q), 1);
  CHECK_EQ(cio_queue_get_nowait(q, &item), 0);
  /* An arm that fails disarms the cases armed before it. */
  f = (struct flag){0};
  cs[0] = cio_case_get(q);
  cs[1] = flag_case(&f);
  cs[2] = cio_case_get(q); /* the same queue twice is fine; make it fail: */
  cs[2].ops = &fail_ops;
  CHECK_EQ(cio_select(cs, 3), 2);
  CHECK_EQ(cs[2].status, -ENOSPC);
  CHECK_EQ(f.arms, 1);
  CHECK_EQ(f.disarms, 1);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(5)), 0);
  CHECK_EQ(cio_queue_size(q), 1);
  CHECK_EQ(cio_queue_get_nowait(q, &item), 0);
  cio_queue_free(q);
  return 0;
}

int main(void) {
  RUN(test_first_ready_wins);
  RUN(test_waits_for_the_first);
  RUN(test_exactly_one_completes);
  RUN(test_put_case);
  RUN(test_event_task_future_after);
  RUN(test_cancel_and_timeout_complete_nothing);
  RUN(test_freed_under_select);
  RUN(test_bad_arguments);
  RUN(test_outside_task);
  RUN(test_arm_finds_ready);
  return test_report();
}
