/* queue.c - FIFO, LIFO and priority queues between tasks.
 *
 * Hand-off keeps waits exact and fair: a put with a getter waiting gives the
 * item straight to that getter (the queue is then necessarily empty), and a
 * get from a full queue with putters waiting moves the first putter's item in
 * and wakes it. A woken waiter therefore never has to re-check or retry.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct pent {
  void *item;
  uint64_t seq;
} pent;

struct cio_queue {
  cio_queue_kind kind;
  size_t maxsize;
  int (*cmp)(const void *, const void *);
  void **ring; /* FIFO / LIFO: power-of-two ring */
  size_t head, len, cap;
  pent *heap; /* PRIORITY: binary min-heap by (cmp, seq) */
  size_t hcap;
  uint64_t seq;
  size_t unfinished;
  cio__link getters, putters, joiners;
};

cio_queue *cio_queue_new(cio_queue_kind kind, size_t maxsize,
                         int (*cmp)(const void *a, const void *b)) {
  if ((kind != CIO_QUEUE_FIFO && kind != CIO_QUEUE_LIFO && kind != CIO_QUEUE_PRIORITY) ||
      (kind == CIO_QUEUE_PRIORITY && !cmp)) {
    errno = EINVAL;
    return NULL;
  }
  cio_queue *q = cio__calloc(1, sizeof *q);
  if (!q) {
    errno = ENOMEM;
    return NULL;
  }
  q->kind = kind;
  q->maxsize = maxsize;
  q->cmp = cmp;
  cio__list_init(&q->getters);
  cio__list_init(&q->putters);
  cio__list_init(&q->joiners);
  return q;
}

void cio_queue_free(cio_queue *q) {
  if (!q) return;
  cio__waiters_abort(&q->getters);
  cio__waiters_abort(&q->putters);
  cio__waiters_abort(&q->joiners);
  cio__free(q->ring);
  cio__free(q->heap);
  cio__free(q);
}

size_t cio_queue_size(const cio_queue *q) { return q->len; }
size_t cio_queue_maxsize(const cio_queue *q) { return q->maxsize; }
int cio_queue_empty(const cio_queue *q) { return q->len == 0; }
int cio_queue_full(const cio_queue *q) { return q->maxsize && q->len >= q->maxsize; }

/* ---- storage ---- */

static bool pless(const cio_queue *q, const pent *a, const pent *b) {
  int c = q->cmp(a->item, b->item);
  return c < 0 || (c == 0 && a->seq < b->seq);
}

static int heap_push(cio_queue *q, void *item) {
  if (q->len == q->hcap) {
    size_t cap = q->hcap ? q->hcap * 2 : 16;
    pent *h = cio__realloc(q->heap, cap * sizeof *h);
    if (!h) return -ENOMEM;
    q->heap = h;
    q->hcap = cap;
  }
  pent e = {item, q->seq++};
  size_t i = q->len++;
  while (i > 0 && pless(q, &e, &q->heap[(i - 1) / 2])) {
    q->heap[i] = q->heap[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  q->heap[i] = e;
  return 0;
}

static void *heap_pop(cio_queue *q) {
  void *top = q->heap[0].item;
  pent e = q->heap[--q->len];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= q->len) break;
    if (c + 1 < q->len && pless(q, &q->heap[c + 1], &q->heap[c])) c++;
    if (!pless(q, &q->heap[c], &e)) break;
    q->heap[i] = q->heap[c];
    i = c;
  }
  if (q->len) q->heap[i] = e;
  return top;
}

static int ring_push(cio_queue *q, void *item) {
  if (q->len == q->cap) {
    size_t cap = q->cap ? q->cap * 2 : 16;
    void **v = cio__malloc(cap * sizeof *v);
    if (!v) return -ENOMEM;
    for (size_t i = 0; i < q->len; i++) v[i] = q->ring[(q->head + i) & (q->cap - 1)];
    cio__free(q->ring);
    q->ring = v;
    q->head = 0;
    q->cap = cap;
  }
  q->ring[(q->head + q->len++) & (q->cap - 1)] = item;
  return 0;
}

static void *ring_pop(cio_queue *q) {
  void *item;
  if (q->kind == CIO_QUEUE_LIFO) {
    item = q->ring[(q->head + --q->len) & (q->cap - 1)];
  } else {
    item = q->ring[q->head];
    q->head = (q->head + 1) & (q->cap - 1);
    q->len--;
  }
  return item;
}

static int store(cio_queue *q, void *item) {
  int r = q->kind == CIO_QUEUE_PRIORITY ? heap_push(q, item) : ring_push(q, item);
  if (r == 0) q->unfinished++;
  return r;
}

static void *take(cio_queue *q) {
  return q->kind == CIO_QUEUE_PRIORITY ? heap_pop(q) : ring_pop(q);
}

/* ---- put / get ---- */

int cio_queue_put_nowait(cio_queue *q, void *item) {
  cio__waiter *w = cio__waiters_pop_live(&q->getters);
  if (w) {
    w->item = item;
    q->unfinished++;
    cio__wake(w->task, w->code);
    return 0;
  }
  if (cio_queue_full(q)) return -EAGAIN;
  return store(q, item);
}

int cio_queue_put(cio_queue *q, void *item) {
  cio_task *cur = cio__current();
  if (!cur) return -EPERM;
  int r = cio__checkpoint(cur);
  if (r < 0) return r;
  r = cio_queue_put_nowait(q, item);
  if (r != -EAGAIN) return r;
  cio__waiter w = {.task = cur, .item = item};
  return cio__wait_on(&q->putters, &w, "queue put");
}

int cio_queue_get_nowait(cio_queue *q, void **item) {
  if (!q->len) return -EAGAIN;
  *item = take(q);
  cio__waiter *w = cio__waiters_pop_live(&q->putters);
  if (w) {
    /* Room for exactly one: just taken, so this cannot need memory. */
    store(q, w->item);
    cio__wake(w->task, w->code);
  }
  return 0;
}

int cio_queue_get(cio_queue *q, void **item) {
  cio_task *cur = cio__current();
  if (!cur) return -EPERM;
  int r = cio__checkpoint(cur);
  if (r < 0) return r;
  if (q->len) return cio_queue_get_nowait(q, item);
  cio__waiter w = {.task = cur, .item = NULL};
  r = cio__wait_on(&q->getters, &w, "queue get");
  if (r == 0) *item = w.item;
  return r;
}

/* ---- task_done / join ---- */

int cio_queue_task_done(cio_queue *q) {
  if (!q->unfinished) return -EINVAL;
  if (--q->unfinished == 0) {
    cio__waiter *w;
    while ((w = cio__waiters_pop_live(&q->joiners))) cio__wake(w->task, w->code);
  }
  return 0;
}

int cio_queue_join(cio_queue *q) {
  cio_task *cur = cio__current();
  if (!cur) return -EPERM;
  int r = cio__checkpoint(cur);
  if (r < 0 || !q->unfinished) return r;
  cio__waiter w = {.task = cur};
  return cio__wait_on(&q->joiners, &w, "queue join");
}

/* ---- select cases ---- */

static int get_try(cio_case *c) { return cio_queue_get_nowait(c->obj, &c->item) == 0; }

static int get_arm(cio_case *c, cio_task *t, int code) {
  cio_queue *q = c->obj;
  return cio__case_arm_list(c, &q->getters, t, code);
}

static int get_finish(cio_case *c) {
  c->item = cio__case_waiter(c)->item;
  return cio__case_finish_list(c);
}

static const cio_case_ops get_ops = {get_try, get_arm, cio__case_disarm_list, get_finish};

cio_case cio_case_get(cio_queue *q) {
  cio_case c;
  memset(&c, 0, sizeof c);
  c.ops = &get_ops;
  c.obj = q;
  return c;
}

static int put_try(cio_case *c) {
  int r = cio_queue_put_nowait(c->obj, c->item);
  if (r == -EAGAIN) return 0;
  if (r < 0) c->status = r;
  return r < 0 ? r : 1;
}

static int put_arm(cio_case *c, cio_task *t, int code) {
  cio_queue *q = c->obj;
  int r = cio__case_arm_list(c, &q->putters, t, code);
  cio__case_waiter(c)->item = c->item;
  return r;
}

static const cio_case_ops put_ops = {put_try, put_arm, cio__case_disarm_list,
                                     cio__case_finish_list};

cio_case cio_case_put(cio_queue *q, void *item) {
  cio_case c;
  memset(&c, 0, sizeof c);
  c.ops = &put_ops;
  c.obj = q;
  c.item = item;
  return c;
}
