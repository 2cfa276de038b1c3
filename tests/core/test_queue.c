/* test_queue.c - cio_queue: FIFO/LIFO/PRIORITY ordering, bounded back-
 * pressure, the nowait forms, task_done/join, cancellation and timeout
 * safety (no item lost, none put twice), and many producers/consumers. */
#include "test.h"
#include "test_loop.h"

#include <stdint.h>

#include <cio.h>

static int cmp_num(const void *a, const void *b) {
  uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
  return x < y ? -1 : x > y;
}

struct prio_item {
  int prio, seq;
};

static int cmp_prio(const void *a, const void *b) {
  const struct prio_item *x = a, *y = b;
  return (x->prio > y->prio) - (x->prio < y->prio);
}

/* One get (or put) in a task, with what it returned. */
struct getter {
  cio_queue *q;
  int id;
  int *log, *nlog;
  void *item;
  int r, after, done;
};

static int getter_fn(void *arg) {
  struct getter *g = arg;
  g->r = cio_queue_get(g->q, &g->item);
  if (g->r == 0 && g->log) g->log[(*g->nlog)++] = g->id;
  g->after = cio_yield();
  g->done = 1;
  return 0;
}

static struct getter mk_getter(cio_queue *q, int id, int *log, int *nlog) {
  struct getter g = {q, id, log, nlog, NULL, 1, 1, 0};
  return g;
}

struct putter {
  cio_queue *q;
  void *item;
  int r, after, done;
};

static int putter_fn(void *arg) {
  struct putter *p = arg;
  p->r = cio_queue_put(p->q, p->item);
  p->after = cio_yield();
  p->done = 1;
  return 0;
}

static struct putter mk_putter(cio_queue *q, void *item) {
  struct putter p = {q, item, 1, 1, 0};
  return p;
}

/* ---- construction ---- */

LOOP_TEST(test_new_and_accessors) {
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 0, NULL);
  CHECK(q != NULL);
  CHECK_EQ(cio_queue_size(q), 0);
  CHECK_EQ(cio_queue_maxsize(q), 0);
  CHECK_EQ(cio_queue_empty(q), 1);
  CHECK_EQ(cio_queue_full(q), 0);
  for (int i = 1; i <= 1000; i++) CHECK_EQ(cio_queue_put_nowait(q, ITEM(i)), 0);
  CHECK_EQ(cio_queue_full(q), 0); /* unbounded is never full */
  CHECK_EQ(cio_queue_size(q), 1000);
  CHECK_EQ(cio_queue_empty(q), 0);
  cio_queue_free(q); /* non-empty: items not ours */

  q = cio_queue_new(CIO_QUEUE_LIFO, 3, cmp_num); /* cmp ignored */
  CHECK(q != NULL);
  CHECK_EQ(cio_queue_maxsize(q), 3);
  cio_queue_free(q);

  errno = 0;
  CHECK(cio_queue_new(CIO_QUEUE_PRIORITY, 0, NULL) == NULL);
  CHECK_EQ(errno, EINVAL);
  errno = 0;
  CHECK(cio_queue_new(CIO_QUEUE_PRIORITY, 4, NULL) == NULL);
  CHECK_EQ(errno, EINVAL);
  errno = 0;
  CHECK(cio_queue_new((cio_queue_kind)99, 0, NULL) == NULL);
  CHECK_EQ(errno, EINVAL);
  return 0;
}

/* ---- ordering ---- */

LOOP_TEST(test_fifo_order) {
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 0, NULL);
  void *it;
  for (int i = 1; i <= 100; i++) CHECK_EQ(cio_queue_put(q, ITEM(i)), 0);
  for (int i = 1; i <= 100; i++) {
    CHECK_EQ(cio_queue_get(q, &it), 0);
    CHECK_EQ(NUM(it), i);
  }
  /* interleaved, wrapping around whatever ring is inside */
  int next_in = 1, next_out = 1;
  for (int round = 0; round < 50; round++) {
    for (int k = 0; k < 7; k++) CHECK_EQ(cio_queue_put_nowait(q, ITEM(next_in++)), 0);
    for (int k = 0; k < 5; k++) {
      CHECK_EQ(cio_queue_get_nowait(q, &it), 0);
      CHECK_EQ(NUM(it), next_out++);
    }
  }
  while (cio_queue_get_nowait(q, &it) == 0) CHECK_EQ(NUM(it), next_out++);
  CHECK_EQ(next_out, next_in);
  CHECK_EQ(cio_queue_get_nowait(q, &it), -EAGAIN);
  cio_queue_free(q);
  return 0;
}

LOOP_TEST(test_lifo_order) {
  cio_queue *q = cio_queue_new(CIO_QUEUE_LIFO, 0, NULL);
  void *it;
  for (int i = 1; i <= 100; i++) CHECK_EQ(cio_queue_put(q, ITEM(i)), 0);
  for (int i = 100; i >= 1; i--) {
    CHECK_EQ(cio_queue_get(q, &it), 0);
    CHECK_EQ(NUM(it), i);
  }
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(1)), 0);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(2)), 0);
  CHECK_EQ(cio_queue_get_nowait(q, &it), 0);
  CHECK_EQ(NUM(it), 2);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(3)), 0);
  CHECK_EQ(cio_queue_get_nowait(q, &it), 0);
  CHECK_EQ(NUM(it), 3);
  CHECK_EQ(cio_queue_get_nowait(q, &it), 0);
  CHECK_EQ(NUM(it), 1);
  CHECK_EQ(cio_queue_get_nowait(q, &it), -EAGAIN);
  cio_queue_free(q);
  return 0;
}

LOOP_TEST(test_priority_order) {
  enum { N = 500 };
  cio_queue *q = cio_queue_new(CIO_QUEUE_PRIORITY, 0, cmp_num);
  CHECK(q != NULL);
  void *it;
  /* a fixed pseudo-random permutation of 1..N */
  unsigned x = 12345;
  static int vals[N];
  for (int i = 0; i < N; i++) vals[i] = i + 1;
  for (int i = N - 1; i > 0; i--) {
    x = x * 1103515245u + 12345u;
    int j = (int)((x >> 8) % (unsigned)(i + 1));
    int tmp = vals[i];
    vals[i] = vals[j];
    vals[j] = tmp;
  }
  for (int i = 0; i < N; i++) CHECK_EQ(cio_queue_put_nowait(q, ITEM(vals[i])), 0);
  CHECK_EQ(cio_queue_size(q), N);
  int sorted = 1;
  for (int i = 1; i <= N; i++) {
    CHECK_EQ(cio_queue_get(q, &it), 0);
    sorted &= NUM(it) == i;
  }
  CHECK(sorted);
  /* interleaved: the smallest present always comes out */
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(50)), 0);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(10)), 0);
  CHECK_EQ(cio_queue_get_nowait(q, &it), 0);
  CHECK_EQ(NUM(it), 10);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(70)), 0);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(20)), 0);
  CHECK_EQ(cio_queue_get_nowait(q, &it), 0);
  CHECK_EQ(NUM(it), 20);
  CHECK_EQ(cio_queue_get_nowait(q, &it), 0);
  CHECK_EQ(NUM(it), 50);
  CHECK_EQ(cio_queue_get_nowait(q, &it), 0);
  CHECK_EQ(NUM(it), 70);
  cio_queue_free(q);
  return 0;
}

/* Equal priorities come out in insertion order, also when interleaved with
 * other priorities and with gets in between. */
LOOP_TEST(test_priority_ties) {
  enum { N = 300 };
  static struct prio_item items[N];
  cio_queue *q = cio_queue_new(CIO_QUEUE_PRIORITY, 0, cmp_prio);
  void *it;
  for (int i = 0; i < N; i++) {
    items[i].prio = (i * 7) % 5;
    items[i].seq = i;
    CHECK_EQ(cio_queue_put_nowait(q, &items[i]), 0);
  }
  int ok = 1, last_prio = -1, last_seq = -1;
  for (int i = 0; i < N; i++) {
    CHECK_EQ(cio_queue_get_nowait(q, &it), 0);
    const struct prio_item *p = it;
    if (p->prio < last_prio) ok = 0;
    if (p->prio == last_prio && p->seq <= last_seq) ok = 0;
    last_prio = p->prio;
    last_seq = p->seq;
  }
  CHECK(ok);

  /* ties with gets in between: seq must still rise within a priority */
  int seen_seq[5] = {-1, -1, -1, -1, -1};
  int in = 0;
  ok = 1;
  for (int round = 0; round < 60; round++) {
    for (int k = 0; k < 5 && in < N; k++, in++) {
      items[in].prio = in % 2; /* two priorities, many ties */
      items[in].seq = in;
      CHECK_EQ(cio_queue_put_nowait(q, &items[in]), 0);
    }
    for (int k = 0; k < 3; k++) {
      if (cio_queue_get_nowait(q, &it) != 0) break;
      const struct prio_item *p = it;
      if (p->seq <= seen_seq[p->prio]) ok = 0;
      seen_seq[p->prio] = p->seq;
    }
  }
  while (cio_queue_get_nowait(q, &it) == 0) {
    const struct prio_item *p = it;
    if (p->seq <= seen_seq[p->prio]) ok = 0;
    seen_seq[p->prio] = p->seq;
  }
  CHECK(ok);
  cio_queue_free(q);
  return 0;
}

/* ---- nowait forms and bounded queues ---- */

LOOP_TEST(test_nowait_bounded) {
  cio_queue_kind kinds[3] = {CIO_QUEUE_FIFO, CIO_QUEUE_LIFO, CIO_QUEUE_PRIORITY};
  for (int k = 0; k < 3; k++) {
    cio_queue *q = cio_queue_new(kinds[k], 2, cmp_num);
    void *it = ITEM(77);
    CHECK_EQ(cio_queue_get_nowait(q, &it), -EAGAIN);
    CHECK_EQ(NUM(it), 77); /* untouched on failure */
    CHECK_EQ(cio_queue_put_nowait(q, ITEM(1)), 0);
    CHECK_EQ(cio_queue_full(q), 0);
    CHECK_EQ(cio_queue_put_nowait(q, ITEM(2)), 0);
    CHECK_EQ(cio_queue_full(q), 1);
    CHECK_EQ(cio_queue_size(q), 2);
    CHECK_EQ(cio_queue_put_nowait(q, ITEM(3)), -EAGAIN);
    CHECK_EQ(cio_queue_size(q), 2);
    CHECK_EQ(cio_queue_get_nowait(q, &it), 0);
    CHECK_EQ(NUM(it), kinds[k] == CIO_QUEUE_LIFO ? 2 : 1);
    CHECK_EQ(cio_queue_full(q), 0);
    CHECK_EQ(cio_queue_get_nowait(q, &it), 0);
    CHECK_EQ(NUM(it), kinds[k] == CIO_QUEUE_LIFO ? 1 : 2);
    CHECK_EQ(cio_queue_empty(q), 1);
    CHECK_EQ(cio_queue_get_nowait(q, &it), -EAGAIN);
    cio_queue_free(q);
  }
  return 0;
}

/* put blocks on a full queue and resumes once a get makes room; the freed
 * slot belongs to the waiting putter (no barging by put_nowait). */
LOOP_TEST(test_put_blocks_when_full) {
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 2, NULL);
  void *it;
  CHECK_EQ(cio_queue_put(q, ITEM(1)), 0);
  CHECK_EQ(cio_queue_put(q, ITEM(2)), 0);
  struct putter p3 = mk_putter(q, ITEM(3)), p4 = mk_putter(q, ITEM(4));
  cio_task *t3 = cio_spawn(putter_fn, &p3);
  wait_blocked(t3);
  CHECK(cio_task_waiting_on(t3) != NULL);
  cio_task *t4 = cio_spawn(putter_fn, &p4);
  wait_blocked(t4);
  settle();
  CHECK(!p3.done);
  CHECK(!p4.done);
  CHECK_EQ(cio_queue_size(q), 2);

  CHECK_EQ(cio_queue_get_nowait(q, &it), 0);
  CHECK_EQ(NUM(it), 1);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(99)), -EAGAIN); /* slot is p3's */
  settle();
  CHECK(p3.done);
  CHECK_EQ(p3.r, 0);
  CHECK(!p4.done);

  CHECK_EQ(cio_queue_get(q, &it), 0);
  CHECK_EQ(NUM(it), 2);
  CHECK_EQ(join(t4), 0);
  CHECK_EQ(p4.r, 0);
  CHECK_EQ(cio_queue_get(q, &it), 0);
  CHECK_EQ(NUM(it), 3);
  CHECK_EQ(cio_queue_get(q, &it), 0);
  CHECK_EQ(NUM(it), 4);
  CHECK_EQ(cio_queue_empty(q), 1);
  CHECK_EQ(join(t3), 0);
  cio_queue_free(q);
  return 0;
}

/* get blocks on an empty queue; getters are served FIFO, and an item put
 * while a getter waits goes to it, not to a get_nowait right after. */
LOOP_TEST(test_get_blocks_when_empty) {
  enum { N = 4 };
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 0, NULL);
  struct getter g[N];
  cio_task *t[N];
  int log[N], nlog = 0;
  void *it;
  for (int i = 0; i < N; i++) {
    g[i] = mk_getter(q, i, log, &nlog);
    t[i] = cio_spawn(getter_fn, &g[i]);
    wait_blocked(t[i]);
    CHECK_STR(cio_task_waiting_on(t[i]), "queue get");
  }
  settle();
  CHECK_EQ(nlog, 0);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(100)), 0);
  CHECK_EQ(cio_queue_get_nowait(q, &it), -EAGAIN); /* handed to g[0] */
  CHECK_EQ(cio_queue_put(q, ITEM(101)), 0);
  for (int i = 2; i < N; i++) CHECK_EQ(cio_queue_put_nowait(q, ITEM(100 + i)), 0);
  for (int i = 0; i < N; i++) CHECK_EQ(join(t[i]), 0);
  CHECK_EQ(nlog, N);
  for (int i = 0; i < N; i++) {
    CHECK_EQ(g[i].r, 0);
    CHECK_EQ(NUM(g[i].item), 100 + i);
    if (i < nlog) CHECK_EQ(log[i], i);
  }
  CHECK_EQ(cio_queue_empty(q), 1);
  cio_queue_free(q);
  return 0;
}

/* A waiting getter on a LIFO / PRIORITY queue gets the item put for it. */
LOOP_TEST(test_waiting_getter_other_kinds) {
  cio_queue *ql = cio_queue_new(CIO_QUEUE_LIFO, 1, NULL);
  cio_queue *qp = cio_queue_new(CIO_QUEUE_PRIORITY, 1, cmp_num);
  struct getter gl = mk_getter(ql, 0, NULL, NULL), gp = mk_getter(qp, 0, NULL, NULL);
  cio_task *tl = cio_spawn(getter_fn, &gl), *tp = cio_spawn(getter_fn, &gp);
  wait_blocked(tl);
  wait_blocked(tp);
  CHECK_EQ(cio_queue_put(ql, ITEM(5)), 0);
  CHECK_EQ(cio_queue_put(qp, ITEM(6)), 0);
  CHECK_EQ(join(tl), 0);
  CHECK_EQ(join(tp), 0);
  CHECK_EQ(NUM(gl.item), 5);
  CHECK_EQ(NUM(gp.item), 6);
  cio_queue_free(ql);
  cio_queue_free(qp);
  return 0;
}

/* Bounded priority queue: a blocked putter's item lands in priority order. */
LOOP_TEST(test_priority_bounded_put) {
  cio_queue *q = cio_queue_new(CIO_QUEUE_PRIORITY, 2, cmp_num);
  void *it;
  CHECK_EQ(cio_queue_put(q, ITEM(30)), 0);
  CHECK_EQ(cio_queue_put(q, ITEM(20)), 0);
  struct putter p = mk_putter(q, ITEM(10));
  cio_task *t = cio_spawn(putter_fn, &p);
  wait_blocked(t);
  CHECK_EQ(cio_queue_get(q, &it), 0);
  CHECK_EQ(NUM(it), 20);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(p.r, 0);
  CHECK_EQ(cio_queue_get(q, &it), 0);
  CHECK_EQ(NUM(it), 10);
  CHECK_EQ(cio_queue_get(q, &it), 0);
  CHECK_EQ(NUM(it), 30);
  cio_queue_free(q);
  return 0;
}

/* ---- task_done / join ---- */

struct joiner {
  cio_queue *q;
  int r, done;
};

static int joiner_fn(void *arg) {
  struct joiner *j = arg;
  j->r = cio_queue_join(j->q);
  j->done = 1;
  return 0;
}

LOOP_TEST(test_join) {
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 0, NULL);
  void *it;
  CHECK_EQ(cio_queue_task_done(q), -EINVAL); /* nothing was put */
  CHECK_EQ(cio_queue_join(q), 0);            /* nothing unfinished */

  for (int i = 1; i <= 3; i++) CHECK_EQ(cio_queue_put(q, ITEM(i)), 0);
  struct joiner j1 = {q, 1, 0}, j2 = {q, 1, 0};
  cio_task *t1 = cio_spawn(joiner_fn, &j1), *t2 = cio_spawn(joiner_fn, &j2);
  wait_blocked(t1);
  wait_blocked(t2);
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(cio_queue_get(q, &it), 0);
    settle();
    CHECK(!j1.done); /* taken is not done */
    CHECK_EQ(cio_queue_task_done(q), 0);
    settle();
    if (i < 2) {
      CHECK(!j1.done);
      CHECK(!j2.done);
    }
  }
  CHECK_EQ(join(t1), 0);
  CHECK_EQ(join(t2), 0);
  CHECK_EQ(j1.r, 0);
  CHECK_EQ(j2.r, 0);
  CHECK_EQ(cio_queue_task_done(q), -EINVAL); /* one too many */
  CHECK_EQ(cio_queue_join(q), 0);

  /* items handed straight to a waiting getter count too */
  struct getter g = mk_getter(q, 0, NULL, NULL);
  cio_task *tg = cio_spawn(getter_fn, &g);
  wait_blocked(tg);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(9)), 0);
  CHECK_EQ(join(tg), 0);
  struct joiner j3 = {q, 1, 0};
  cio_task *t3 = cio_spawn(joiner_fn, &j3);
  wait_blocked(t3);
  CHECK_EQ(cio_queue_task_done(q), 0);
  CHECK_EQ(join(t3), 0);
  CHECK_EQ(j3.r, 0);
  CHECK_EQ(cio_queue_task_done(q), -EINVAL);
  cio_queue_free(q);
  return 0;
}

LOOP_TEST(test_join_cancel_timeout) {
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 0, NULL);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(1)), 0);
  struct joiner j = {q, 1, 0};
  cio_task *t = cio_spawn(joiner_fn, &j);
  wait_blocked(t);
  cio_task_cancel(t);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(j.r, -ECANCELED);

  cio_timeout_scope s;
  CHECK_EQ(cio_timeout_begin(&s, 0.02), 0);
  CHECK_EQ(cio_queue_join(q), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&s), 1);

  CHECK_EQ(cio_task_cancel(cio_current()), 1);
  CHECK_EQ(cio_queue_join(q), -ECANCELED);
  CHECK_EQ(cio_yield(), 0);

  void *it;
  CHECK_EQ(cio_queue_get_nowait(q, &it), 0);
  CHECK_EQ(cio_queue_task_done(q), 0);
  CHECK_EQ(cio_queue_join(q), 0);
  cio_queue_free(q);
  return 0;
}

/* ---- cancellation: no item lost, none put by a failed put ---- */

/* Getters on an empty queue are cancelled, then items are put: each item
 * goes to the next getter that was not cancelled. */
LOOP_TEST(test_cancel_waiting_getters_then_put) {
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 0, NULL);
  struct getter g[4];
  cio_task *t[4];
  for (int i = 0; i < 4; i++) g[i] = mk_getter(q, i, NULL, NULL);
  spawn_blocked(t, 4, getter_fn, g, sizeof g[0]);
  /* cancel 0 and 2, and put at once, before the cancelled ones run */
  CHECK_EQ(cio_task_cancel(t[0]), 1);
  CHECK_EQ(cio_task_cancel(t[2]), 1);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(1)), 0);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(2)), 0);
  for (int i = 0; i < 4; i++) CHECK_EQ(join(t[i]), 0);
  CHECK_EQ(g[0].r, -ECANCELED);
  CHECK_EQ(g[2].r, -ECANCELED);
  CHECK(g[0].item == NULL);
  CHECK(g[2].item == NULL);
  CHECK_EQ(g[1].r, 0);
  CHECK_EQ(NUM(g[1].item), 1);
  CHECK_EQ(g[3].r, 0);
  CHECK_EQ(NUM(g[3].item), 2);
  CHECK_EQ(cio_queue_empty(q), 1);

  /* cancelled and already unwound, then put: nobody left, item stays */
  struct getter h = mk_getter(q, 9, NULL, NULL);
  cio_task *th = cio_spawn(getter_fn, &h);
  wait_blocked(th);
  cio_task_cancel(th);
  CHECK_EQ(join(th), 0);
  CHECK_EQ(h.r, -ECANCELED);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(3)), 0);
  CHECK_EQ(cio_queue_size(q), 1);
  cio_queue_free(q);
  return 0;
}

/* An item is handed to a waiting getter, and the getter is cancelled
 * before it runs. Either it returns 0 with the item, or it returns an error
 * and the item is still available: never lost, never duplicated. */
LOOP_TEST(test_cancel_getter_after_put) {
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 0, NULL);
  struct getter g1 = mk_getter(q, 1, NULL, NULL), g2 = mk_getter(q, 2, NULL, NULL);
  cio_task *t1 = cio_spawn(getter_fn, &g1);
  wait_blocked(t1);
  cio_task *t2 = cio_spawn(getter_fn, &g2);
  wait_blocked(t2);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(10)), 0);
  CHECK_EQ(cio_task_cancel(t1), 1);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(20)), 0);
  CHECK_EQ(join(t1), 0);
  CHECK_EQ(join(t2), 0);

  int count[3] = {0, 0, 0}; /* [1] = item 10, [2] = item 20 */
  if (g1.r == 0) {
    CHECK(NUM(g1.item) == 10 || NUM(g1.item) == 20);
    count[NUM(g1.item) / 10]++;
    CHECK_EQ(g1.after, -ECANCELED); /* the cancellation was not lost */
  } else {
    CHECK_EQ(g1.r, -ECANCELED);
  }
  CHECK_EQ(g2.r, 0);
  if (g2.r == 0) count[NUM(g2.item) / 10]++;
  void *it;
  while (cio_queue_get_nowait(q, &it) == 0) count[NUM(it) / 10]++;
  CHECK_EQ(count[1], 1);
  CHECK_EQ(count[2], 1);
  cio_queue_free(q);
  return 0;
}

/* A put waiting on a full queue is cancelled: nothing is put. */
LOOP_TEST(test_cancel_put) {
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 1, NULL);
  void *it;
  CHECK_EQ(cio_queue_put(q, ITEM(1)), 0);
  struct putter a = mk_putter(q, ITEM(2)), b = mk_putter(q, ITEM(3));
  cio_task *ta = cio_spawn(putter_fn, &a);
  wait_blocked(ta);
  cio_task *tb = cio_spawn(putter_fn, &b);
  wait_blocked(tb);
  CHECK_EQ(cio_task_cancel(ta), 1);
  settle();
  CHECK(a.done);
  CHECK_EQ(a.r, -ECANCELED);
  CHECK_EQ(a.after, 0);
  CHECK_EQ(cio_queue_size(q), 1);
  CHECK_EQ(cio_queue_get(q, &it), 0);
  CHECK_EQ(NUM(it), 1);
  CHECK_EQ(join(tb), 0); /* the next putter moved up */
  CHECK_EQ(b.r, 0);
  CHECK_EQ(cio_queue_get(q, &it), 0);
  CHECK_EQ(NUM(it), 3);
  CHECK_EQ(cio_queue_get_nowait(q, &it), -EAGAIN); /* 2 never went in */
  CHECK_EQ(join(ta), 0);
  CHECK_EQ(cio_queue_task_done(q), 0);
  CHECK_EQ(cio_queue_task_done(q), 0);
  CHECK_EQ(cio_queue_task_done(q), -EINVAL); /* the cancelled put counted not */
  cio_queue_free(q);
  return 0;
}

/* A slot is freed for a waiting putter, which is cancelled before it runs:
 * its put returned 0 exactly when its item is in the queue. */
LOOP_TEST(test_cancel_putter_after_get) {
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 1, NULL);
  void *it;
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(1)), 0);
  struct putter p = mk_putter(q, ITEM(2));
  cio_task *t = cio_spawn(putter_fn, &p);
  wait_blocked(t);
  CHECK_EQ(cio_queue_get_nowait(q, &it), 0);
  CHECK_EQ(NUM(it), 1);
  CHECK_EQ(cio_task_cancel(t), 1);
  CHECK_EQ(join(t), 0);
  int in_queue = 0;
  while (cio_queue_get_nowait(q, &it) == 0) {
    CHECK_EQ(NUM(it), 2);
    in_queue++;
  }
  if (p.r == 0) {
    CHECK_EQ(in_queue, 1);
    CHECK_EQ(p.after, -ECANCELED);
  } else {
    CHECK_EQ(p.r, -ECANCELED);
    CHECK_EQ(in_queue, 0);
  }
  cio_queue_free(q);
  return 0;
}

struct selfc {
  cio_queue *q;
  int c, r, next, done;
  void *item;
};

static int self_cancel_get(void *arg) {
  struct selfc *s = arg;
  s->c = cio_task_cancel(cio_current());
  s->r = cio_queue_get(s->q, &s->item);
  s->next = cio_yield();
  s->done = 1;
  return 0;
}

/* Cancellation requested before the call: get on an empty queue and put on
 * a full one return -ECANCELED at once, taking and putting nothing. */
LOOP_TEST(test_pending_cancel) {
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 1, NULL);
  void *it;
  struct selfc s = {q, 0, 1, 1, 0, NULL};
  cio_task *t = cio_spawn(self_cancel_get, &s);
  settle();
  CHECK(s.done);
  CHECK_EQ(s.c, 1);
  CHECK_EQ(s.r, -ECANCELED);
  CHECK(s.item == NULL);
  CHECK_EQ(s.next, 0);
  CHECK_EQ(join(t), 0);

  CHECK_EQ(cio_queue_put_nowait(q, ITEM(1)), 0);
  CHECK_EQ(cio_task_cancel(cio_current()), 1);
  CHECK_EQ(cio_queue_put(q, ITEM(2)), -ECANCELED);
  CHECK_EQ(cio_yield(), 0);
  CHECK_EQ(cio_queue_size(q), 1);
  CHECK_EQ(cio_queue_get_nowait(q, &it), 0);
  CHECK_EQ(NUM(it), 1);

  CHECK_EQ(cio_task_cancel(cio_current()), 1);
  it = NULL;
  CHECK_EQ(cio_queue_get(q, &it), -ECANCELED);
  CHECK(it == NULL);
  CHECK_EQ(cio_yield(), 0);
  cio_queue_free(q);
  return 0;
}

/* ---- timeouts ---- */

LOOP_TEST(test_timeouts) {
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 1, NULL);
  cio_timeout_scope s;
  void *it = NULL;

  CHECK_EQ(cio_timeout_begin(&s, 0.02), 0);
  CHECK_EQ(cio_queue_get(q, &it), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&s), 1);
  CHECK(it == NULL);

  CHECK_EQ(cio_queue_put(q, ITEM(1)), 0);
  CHECK_EQ(cio_timeout_begin(&s, 0.02), 0);
  CHECK_EQ(cio_queue_put(q, ITEM(2)), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&s), 1);
  CHECK_EQ(cio_queue_size(q), 1);

  CHECK_EQ(cio_timeout_begin(&s, 0), 0); /* already expired */
  CHECK_EQ(cio_queue_put(q, ITEM(3)), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&s), 1);

  CHECK_EQ(cio_queue_get(q, &it), 0);
  CHECK_EQ(NUM(it), 1);
  CHECK_EQ(cio_queue_get_nowait(q, &it), -EAGAIN); /* 2 and 3 never in */

  CHECK_EQ(cio_timeout_begin(&s, 0), 0);
  CHECK_EQ(cio_queue_get(q, &it), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&s), 1);

  /* a scope that does not expire */
  CHECK_EQ(cio_timeout_begin(&s, 5.0), 0);
  CHECK_EQ(cio_queue_put(q, ITEM(4)), 0);
  CHECK_EQ(cio_queue_get(q, &it), 0);
  CHECK_EQ(cio_timeout_end(&s), 0);
  CHECK_EQ(NUM(it), 4);
  cio_queue_free(q);
  return 0;
}

/* A timed-out getter in the middle leaves the others served in order. */
struct tget {
  cio_queue *q;
  int r;
  void *item;
};

static int timed_get_fn(void *arg) {
  struct tget *g = arg;
  cio_timeout_scope s;
  cio_timeout_begin(&s, 0.02);
  g->r = cio_queue_get(g->q, &g->item);
  cio_timeout_end(&s);
  return 0;
}

LOOP_TEST(test_timeout_middle_getter) {
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 0, NULL);
  struct getter a = mk_getter(q, 0, NULL, NULL), c = mk_getter(q, 2, NULL, NULL);
  struct tget b = {q, 1, NULL};
  cio_task *ta = cio_spawn(getter_fn, &a);
  wait_blocked(ta);
  cio_task *tb = cio_spawn(timed_get_fn, &b);
  wait_blocked(tb);
  cio_task *tc = cio_spawn(getter_fn, &c);
  wait_blocked(tc);
  CHECK_EQ(join(tb), 0);
  CHECK_EQ(b.r, -ETIMEDOUT);
  CHECK(b.item == NULL);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(1)), 0);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(2)), 0);
  CHECK_EQ(join(ta), 0);
  CHECK_EQ(join(tc), 0);
  CHECK_EQ(NUM(a.item), 1);
  CHECK_EQ(NUM(c.item), 2);
  cio_queue_free(q);
  return 0;
}

/* ---- free ---- */

/* Freeing a queue tasks wait on wakes every getter, putter and joiner with
 * -EBADF (ASan judges that they touch nothing of it afterwards). */
LOOP_TEST(test_free_wakes_waiters) {
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 1, NULL);
  struct getter g = mk_getter(q, 0, NULL, NULL);
  cio_task *tg = cio_spawn(getter_fn, &g);
  wait_blocked(tg);
  cio_queue_free(q);
  CHECK_EQ(join(tg), 0);
  CHECK_EQ(g.r, -EBADF);

  q = cio_queue_new(CIO_QUEUE_FIFO, 1, NULL);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(2)), 0);
  struct putter p = mk_putter(q, ITEM(3));
  cio_task *tp = cio_spawn(putter_fn, &p);
  wait_blocked(tp);
  struct joiner j = {q, 1, 0};
  cio_task *tj = cio_spawn(joiner_fn, &j);
  wait_blocked(tj);
  cio_queue_free(q); /* item 2 still inside: dropped, not ours to free */
  CHECK_EQ(join(tp), 0);
  CHECK_EQ(join(tj), 0);
  CHECK_EQ(p.r, -EBADF);
  CHECK_EQ(j.r, -EBADF);
  return 0;
}

/* ---- outside a task ---- */

struct cbctx {
  cio_queue *q;
  int ran, rget, rput, rjoin, rnow;
  void *item;
};

static void outside_cb(void *arg) {
  struct cbctx *c = arg;
  c->rget = cio_queue_get(c->q, &c->item);       /* empty */
  c->rnow = cio_queue_put_nowait(c->q, ITEM(1)); /* allowed from callbacks */
  c->rput = cio_queue_put(c->q, ITEM(2));        /* full */
  c->rjoin = cio_queue_join(c->q);               /* one unfinished */
  c->ran = 1;
}

LOOP_TEST(test_eperm_in_callback) {
  struct cbctx c = {cio_queue_new(CIO_QUEUE_FIFO, 1, NULL), 0, 1, 1, 1, 1, NULL};
  CHECK_EQ(cio_call_soon(cio_loop_current(), outside_cb, &c), 0);
  settle();
  CHECK(c.ran);
  CHECK_EQ(c.rget, -EPERM);
  CHECK(c.item == NULL);
  CHECK_EQ(c.rnow, 0);
  CHECK_EQ(c.rput, -EPERM);
  CHECK_EQ(c.rjoin, -EPERM);
  CHECK_EQ(cio_queue_size(c.q), 1);
  void *it;
  CHECK_EQ(cio_queue_get_nowait(c.q, &it), 0);
  CHECK_EQ(NUM(it), 1);
  cio_queue_free(c.q);
  return 0;
}

/* put_nowait from a timer callback wakes a waiting getter. */
static void put_cb(void *arg) { CHECK_EQ(cio_queue_put_nowait(arg, ITEM(42)), 0); }

LOOP_TEST(test_put_from_callback) {
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 0, NULL);
  void *it = NULL;
  CHECK_EQ(cio_call_later(cio_loop_current(), 0.01, put_cb, q), 0);
  CHECK_EQ(cio_queue_get(q, &it), 0);
  CHECK_EQ(NUM(it), 42);
  cio_queue_free(q);
  return 0;
}

static void test_eperm_loop_no_task(void) {
  cio_loop *loop = cio_loop_new(NULL);
  CHECK(loop != NULL);
  if (!loop) return;
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 1, NULL);
  void *it = NULL;
  CHECK_EQ(cio_queue_get(q, &it), -EPERM);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(1)), 0);
  CHECK_EQ(cio_queue_put(q, ITEM(2)), -EPERM);
  CHECK_EQ(cio_queue_join(q), -EPERM);
  CHECK_EQ(cio_queue_size(q), 1);
  cio_queue_free(q);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

/* ---- many producers and consumers ---- */

enum { PRODUCERS = 4, PER_PRODUCER = 10000, CONSUMERS = 3 };
#define STOP_ITEM ITEM((uintptr_t)1 << 40)

struct mpmc {
  cio_queue *q;
  int check_order;
  unsigned char seen[PRODUCERS][PER_PRODUCER];
  long sum;
  int count, dup, consumed_by[CONSUMERS];
};

struct prod {
  struct mpmc *m;
  int id;
};

/* item = producer * PER + i + 1: all distinct, none NULL */
static int producer_fn(void *arg) {
  struct prod *p = arg;
  for (int i = 0; i < PER_PRODUCER; i++) {
    CHECK_EQ(cio_queue_put(p->m->q, ITEM((long)p->id * PER_PRODUCER + i + 1)), 0);
    if (i % 97 == 0) cio_yield();
  }
  return 0;
}

static int consumer_fn(void *arg) {
  struct prod *c = arg;
  struct mpmc *m = c->m;
  long last[PRODUCERS];
  for (int i = 0; i < PRODUCERS; i++) last[i] = -1;
  for (;;) {
    void *it;
    int r = cio_queue_get(m->q, &it);
    CHECK_EQ(r, 0);
    if (r != 0) return r;
    CHECK_EQ(cio_queue_task_done(m->q), 0);
    if (it == STOP_ITEM) return 0;
    long v = NUM(it) - 1;
    int pid = (int)(v / PER_PRODUCER), i = (int)(v % PER_PRODUCER);
    if (pid < 0 || pid >= PRODUCERS) {
      m->dup++;
      continue;
    }
    if (m->seen[pid][i]) m->dup++;
    m->seen[pid][i] = 1;
    /* FIFO: each consumer sees each producer's items in order */
    if (m->check_order) CHECK(i > last[pid]);
    last[pid] = i;
    m->sum += v + 1;
    m->count++;
    m->consumed_by[c->id]++;
    if (m->count % 53 == 0) cio_yield();
  }
}

static int run_mpmc(cio_queue_kind kind, size_t maxsize) {
  static struct mpmc m;
  memset(&m, 0, sizeof m);
  m.q = cio_queue_new(kind, maxsize, cmp_num);
  m.check_order = kind == CIO_QUEUE_FIFO;
  struct prod pa[PRODUCERS], ca[CONSUMERS];
  cio_task *pt[PRODUCERS], *ct[CONSUMERS];
  for (int i = 0; i < CONSUMERS; i++) {
    ca[i].m = &m;
    ca[i].id = i;
    ct[i] = cio_spawn(consumer_fn, &ca[i]);
  }
  for (int i = 0; i < PRODUCERS; i++) {
    pa[i].m = &m;
    pa[i].id = i;
    pt[i] = cio_spawn(producer_fn, &pa[i]);
  }
  for (int i = 0; i < PRODUCERS; i++) CHECK_EQ(join(pt[i]), 0);
  CHECK_EQ(cio_queue_join(m.q), 0);
  /* join returned: every item has been taken and marked done */
  CHECK_EQ(m.count, PRODUCERS * PER_PRODUCER);
  CHECK_EQ(cio_queue_size(m.q), 0);
  for (int i = 0; i < CONSUMERS; i++) CHECK_EQ(cio_queue_put(m.q, STOP_ITEM), 0);
  for (int i = 0; i < CONSUMERS; i++) CHECK_EQ(join(ct[i]), 0);
  long n = (long)PRODUCERS * PER_PRODUCER;
  CHECK_EQ(m.count, n);
  CHECK_EQ(m.sum, n * (n + 1) / 2);
  CHECK_EQ(m.dup, 0);
  int missing = 0;
  for (int p = 0; p < PRODUCERS; p++)
    for (int i = 0; i < PER_PRODUCER; i++) missing += !m.seen[p][i];
  CHECK_EQ(missing, 0);
  if (maxsize)
    for (int i = 0; i < CONSUMERS; i++) CHECK(m.consumed_by[i] > 0);
  CHECK_EQ(cio_queue_task_done(m.q), -EINVAL);
  CHECK_EQ(cio_queue_empty(m.q), 1);
  cio_queue_free(m.q);
  return 0;
}

LOOP_TEST(test_mpmc_fifo_bounded) { return run_mpmc(CIO_QUEUE_FIFO, 16); }
LOOP_TEST(test_mpmc_fifo_unbounded) { return run_mpmc(CIO_QUEUE_FIFO, 0); }
LOOP_TEST(test_mpmc_lifo_bounded) { return run_mpmc(CIO_QUEUE_LIFO, 8); }
LOOP_TEST(test_mpmc_priority_bounded) { return run_mpmc(CIO_QUEUE_PRIORITY, 32); }

/* Free with cancelled (not yet unwound) getters and putters: either answer
 * is fine, memory safety is what is checked (ASan). */
LOOP_TEST(test_free_with_cancelled_waiters) {
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 1, NULL);
  struct getter g = mk_getter(q, 0, NULL, NULL);
  cio_task *tg = cio_spawn(getter_fn, &g);
  wait_blocked(tg);
  cio_task_cancel(tg);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(1)), 0); /* not to the cancelled one */
  CHECK_EQ(cio_queue_size(q), 1);
  struct putter p = mk_putter(q, ITEM(2));
  cio_task *tp = cio_spawn(putter_fn, &p);
  wait_blocked(tp);
  cio_task_cancel(tp);
  void *it;
  CHECK_EQ(cio_queue_get_nowait(q, &it), 0);
  CHECK_EQ(NUM(it), 1);
  CHECK_EQ(cio_queue_size(q), 0); /* 2 was not moved in */
  cio_queue_free(q);
  CHECK_EQ(join(tg), 0);
  CHECK_EQ(join(tp), 0);
  CHECK_EQ(g.r, -ECANCELED);
  CHECK_EQ(p.r, -ECANCELED);
  return 0;
}

/* ---- chaos: producers and consumers cancelled at random while items
 * flow through a small bounded queue. Every put that returned 0 is received
 * exactly once (by a consumer or by the final drain); every put that failed
 * is never received. ---- */

enum { CH_ITEMS = 20000, CH_PROD = 2, CH_CONS = 3, CH_TASKS = CH_PROD + CH_CONS };

struct chaos {
  cio_queue *q;
  int next_item;
  unsigned char put_ok[CH_ITEMS], got[CH_ITEMS];
  int bad;
};

static int ch_producer(void *arg) {
  struct chaos *c = arg;
  while (c->next_item < CH_ITEMS) {
    int id = c->next_item++;
    int r = cio_queue_put(c->q, ITEM(id + 1));
    if (r == 0) {
      c->put_ok[id] = 1;
    } else {
      if (r != -ECANCELED) c->bad++;
      return 0;
    }
    if (id % 5 == 0 && cio_yield() < 0) return 0;
  }
  return 0;
}

static void ch_receive(struct chaos *c, void *it) {
  long id = NUM(it) - 1;
  if (id < 0 || id >= CH_ITEMS) {
    c->bad++;
    return;
  }
  c->got[id]++;
}

static int ch_consumer(void *arg) {
  struct chaos *c = arg;
  for (;;) {
    void *it = NULL;
    int r = cio_queue_get(c->q, &it);
    if (r < 0) {
      if (r != -ECANCELED || it != NULL) c->bad++;
      return 0;
    }
    ch_receive(c, it);
    if (NUM(it) % 3 == 0 && cio_yield() < 0) return 0;
  }
}

static unsigned rng_next(unsigned *x) {
  *x = *x * 1103515245u + 12345u;
  return *x >> 16;
}

static void run_chaos(cio_queue_kind kind, size_t maxsize) {
  static struct chaos c;
  memset(&c, 0, sizeof c);
  c.q = cio_queue_new(kind, maxsize, cmp_num);
  cio_task *t[CH_TASKS];
  unsigned x = 99;
  for (int i = 0; i < CH_TASKS; i++) t[i] = cio_spawn(i < CH_PROD ? ch_producer : ch_consumer, &c);
  int rounds = 0;
  while (c.next_item < CH_ITEMS && rounds < 100000) {
    rounds++;
    for (unsigned k = rng_next(&x) % 8; k > 0; k--) cio_yield();
    int i = (int)(rng_next(&x) % CH_TASKS);
    cio_task_cancel(t[i]);
    if (rng_next(&x) % 2) cio_yield();
    int r = join(t[i]);
    CHECK(r == 0 || r == -ECANCELED);
    t[i] = cio_spawn(i < CH_PROD ? ch_producer : ch_consumer, &c);
  }
  CHECK(rounds > 100);
  for (int i = 0; i < CH_TASKS; i++) {
    cio_task_cancel(t[i]);
    int r = join(t[i]);
    CHECK(r == 0 || r == -ECANCELED);
  }
  void *it;
  while (cio_queue_get_nowait(c.q, &it) == 0) ch_receive(&c, it);
  int lost = 0, dup = 0, ghost = 0, ok = 0;
  for (int i = 0; i < c.next_item && i < CH_ITEMS; i++) {
    if (c.put_ok[i] && c.got[i] == 0) lost++;
    if (c.got[i] > 1) dup++;
    if (!c.put_ok[i] && c.got[i]) ghost++;
    ok += c.put_ok[i];
  }
  CHECK_EQ(c.bad, 0);
  CHECK_EQ(lost, 0);
  CHECK_EQ(dup, 0);
  CHECK_EQ(ghost, 0);
  CHECK(ok > CH_ITEMS / 2);
  cio_queue_free(c.q);
}

LOOP_TEST(test_chaos_fifo) {
  run_chaos(CIO_QUEUE_FIFO, 4);
  return 0;
}
LOOP_TEST(test_chaos_lifo) {
  run_chaos(CIO_QUEUE_LIFO, 2);
  return 0;
}
LOOP_TEST(test_chaos_priority) {
  run_chaos(CIO_QUEUE_PRIORITY, 3);
  return 0;
}
LOOP_TEST(test_chaos_unbounded) {
  run_chaos(CIO_QUEUE_FIFO, 0);
  return 0;
}

int main(void) {
  RUN(test_eperm_loop_no_task);
  RUN(test_new_and_accessors);
  RUN(test_fifo_order);
  RUN(test_lifo_order);
  RUN(test_priority_order);
  RUN(test_priority_ties);
  RUN(test_nowait_bounded);
  RUN(test_put_blocks_when_full);
  RUN(test_get_blocks_when_empty);
  RUN(test_waiting_getter_other_kinds);
  RUN(test_priority_bounded_put);
  RUN(test_join);
  RUN(test_join_cancel_timeout);
  RUN(test_cancel_waiting_getters_then_put);
  RUN(test_cancel_getter_after_put);
  RUN(test_cancel_put);
  RUN(test_cancel_putter_after_get);
  RUN(test_pending_cancel);
  RUN(test_timeouts);
  RUN(test_timeout_middle_getter);
  RUN(test_free_wakes_waiters);
  RUN(test_eperm_in_callback);
  RUN(test_put_from_callback);
  RUN(test_mpmc_fifo_bounded);
  RUN(test_mpmc_fifo_unbounded);
  RUN(test_mpmc_lifo_bounded);
  RUN(test_mpmc_priority_bounded);
  RUN(test_free_with_cancelled_waiters);
  RUN(test_chaos_fifo);
  RUN(test_chaos_lifo);
  RUN(test_chaos_priority);
  RUN(test_chaos_unbounded);
  return test_report();
}
