/* timer.c - the loop's timers: an indexed 4-ary min-heap, and the public
 * call_later / call_at / cio_timer API on top of it.
 *
 * Each armed node knows its heap index, so cancelling is O(log n) with no
 * search; the deadline is copied into the heap array so that sifting touches
 * only the array, not the nodes. A 4-ary heap is half as deep as a binary one
 * and its children share a cache line: a million timers stay cheap.
 */
#include "internal.h"

#include <stdlib.h>

#define D 4

static inline bool before(const cio__theap_ent *a, const cio__theap_ent *b) {
  return a->when < b->when || (a->when == b->when && a->n->seq < b->n->seq);
}

static inline void put(cio__theap *h, size_t i, cio__theap_ent e) {
  h->v[i] = e;
  e.n->idx = i;
}

static void sift_up(cio__theap *h, size_t i) {
  cio__theap_ent e = h->v[i];
  while (i > 0) {
    size_t parent = (i - 1) / D;
    if (!before(&e, &h->v[parent])) break;
    put(h, i, h->v[parent]);
    i = parent;
  }
  put(h, i, e);
  cio__assert(i == 0 || !before(&h->v[i], &h->v[(i - 1) / D]));
}

static void sift_down(cio__theap *h, size_t i) {
  cio__theap_ent e = h->v[i];
  for (;;) {
    size_t first = i * D + 1;
    if (first >= h->len) break;
    size_t best = first, last = first + D < h->len ? first + D : h->len;
    for (size_t c = first + 1; c < last; c++)
      if (before(&h->v[c], &h->v[best])) best = c;
    if (!before(&h->v[best], &e)) break;
    put(h, i, h->v[best]);
    i = best;
  }
  put(h, i, e);
  cio__assert(i == 0 || !before(&h->v[i], &h->v[(i - 1) / D]));
}

int cio__theap_push(cio__theap *h, cio__tnode *n, int64_t when) {
  if (cio__tnode_armed(n)) cio__theap_remove(h, n);
  if (h->len == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 64;
    cio__theap_ent *v = cio__realloc(h->v, cap * sizeof *v);
    if (!v) return -ENOMEM;
    h->v = v;
    h->cap = cap;
  }
  n->when = when;
  n->seq = h->seq++;
  size_t i = h->len++;
  h->v[i] = (cio__theap_ent){when, n};
  n->idx = i;
  sift_up(h, i);
  return 0;
}

void cio__theap_remove(cio__theap *h, cio__tnode *n) {
  size_t i = n->idx;
  if (i == CIO__TIDLE) return;
  cio__assert(i < h->len && h->v[i].n == n); /* the node is where it says */
  n->idx = CIO__TIDLE;
  size_t last = --h->len;
  if (i == last) return;
  put(h, i, h->v[last]);
  if (i > 0 && before(&h->v[i], &h->v[(i - 1) / D]))
    sift_up(h, i);
  else
    sift_down(h, i);
}

cio__tnode *cio__theap_pop_due(cio__theap *h, int64_t now) {
  if (!h->len || h->v[0].when > now) return NULL;
  cio__tnode *n = h->v[0].n;
  cio__assert(n->idx == 0);
  cio__theap_remove(h, n);
  return n;
}

void cio__theap_free(cio__theap *h) {
  cio__free(h->v);
  h->v = NULL;
  h->len = h->cap = 0;
}

/* ---- public timers ---- */

struct cio_timer {
  cio__tnode node;
  cio_loop *loop;
  cio_callback_fn fn;
  void *arg;
  bool oneshot; /* call_later/call_at: freed after firing */
  bool firing;
  bool freed; /* cio_timer_free() from inside its own callback */
};

static void timer_fire(cio__tnode *n) {
  cio_timer *t = cio__container_of(n, cio_timer, node);
  t->firing = true;
  t->fn(t->arg);
  t->firing = false;
  if (t->oneshot || t->freed) cio__free(t);
}

cio_timer *cio_timer_new(cio_loop *loop, cio_callback_fn fn, void *arg) {
  if (!loop || !fn) {
    errno = EINVAL;
    return NULL;
  }
  cio_timer *t = cio__calloc(1, sizeof *t);
  if (!t) {
    errno = ENOMEM;
    return NULL;
  }
  cio__tnode_init(&t->node, timer_fire);
  t->loop = loop;
  t->fn = fn;
  t->arg = arg;
  return t;
}

static int timer_arm_at(cio_timer *t, int64_t when) {
  if (!t->loop || t->loop->closed) return -ESHUTDOWN;
  return cio__theap_push(&t->loop->timers, &t->node, when);
}

int cio_timer_start(cio_timer *t, double delay) { return timer_arm_at(t, cio__deadline_in(delay)); }

void cio_timer_stop(cio_timer *t) {
  if (t->loop) cio__theap_remove(&t->loop->timers, &t->node);
}

int cio_timer_active(const cio_timer *t) { return cio__tnode_armed(&t->node); }

void cio_timer_free(cio_timer *t) {
  if (!t) return;
  cio_timer_stop(t);
  if (t->firing)
    t->freed = true;
  else
    cio__free(t);
}

static int call_at_ns(cio_loop *loop, int64_t when, cio_callback_fn fn, void *arg) {
  if (!loop || !fn) return -EINVAL;
  cio_timer *t = cio_timer_new(loop, fn, arg);
  if (!t) return -ENOMEM;
  t->oneshot = true;
  int r = timer_arm_at(t, when);
  if (r < 0) cio__free(t);
  return r;
}

int cio_call_later(cio_loop *loop, double delay, cio_callback_fn fn, void *arg) {
  return call_at_ns(loop, cio__deadline_in(delay), fn, arg);
}

int cio_call_at(cio_loop *loop, double when, cio_callback_fn fn, void *arg) {
  int64_t ns = when <= 0 ? 0 : when >= 9.2e9 ? CIO__NEVER : (int64_t)(when * 1e9);
  return call_at_ns(loop, ns, fn, arg);
}

/* At loop close: one-shot timers are freed; user-owned ones are disarmed and
 * detached from the loop so that a later cio_timer_free() is still safe. */
void cio__timers_close(cio_loop *loop) {
  cio__theap *h = &loop->timers;
  while (h->len) {
    cio__tnode *n = h->v[h->len - 1].n;
    cio__theap_remove(h, n);
    if (n->fire == timer_fire) {
      cio_timer *t = cio__container_of(n, cio_timer, node);
      t->loop = NULL;
      if (t->oneshot) cio__free(t);
    }
  }
  cio__theap_free(h);
}
