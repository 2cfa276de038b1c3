/* reactor.c - the portable half of the reactor: the fd table behind
 * cio_wait_fd (io.c) and the io layer's readiness callbacks. The kernel's
 * readiness interface is behind reactor_backend.h; the backend's file
 * (reactor_epoll.c) is included below, so its calls inline.
 *
 * Every fd is registered with the backend once, edge-triggered for both
 * directions, the first time someone waits on it; there is no system call
 * per wait. Each fd has an entry in a table indexed by fd number (chunks
 * that never move, so an entry's address is stable while the table grows)
 * holding:
 *   ready   directions reported by the backend and not yet handed to a
 *           waiter;
 *   task    at most one task waiting per direction (cio_wait_fd, or a
 *           select case: then `code` is what it is woken with, and the
 *           readiness stays in `ready` for the case to take);
 *   cb      at most one callback per direction (streams' background flush,
 *           servers' accept).
 * An event wakes the task and runs the callback of its direction; if nobody
 * took it, it is remembered in `ready` for the next wait. Hang-ups and
 * half-closes are also remembered for good in `sticky`: they are reported
 * once, but stay true. Ready bits may be stale (the data they announced was
 * read meanwhile): callers always retry the operation, and a stale bit
 * costs one EAGAIN, never a lost wake-up.
 *
 * nwaiting counts the armed slots (tasks and callbacks) of the whole table:
 * while it is 0 the loop's "just look" polls between task runs are skipped.
 * Every slot that goes from empty to armed adds one and every slot cleared
 * takes one, so an under-count would starve waiters (the loop would stop
 * looking while tasks are ready) and is a broken invariant.
 *
 * Per-loop state hangs off the loop's poller context; a thread-local
 * pointer caches it for the thread's current loop (reset when the loop
 * closes its poller).
 *
 * Closed fds are not removed from the backend (close() does that); instead
 * each registration carries a generation in the event data, bumped by
 * cio__fd_forget, so late events for a previous user of the fd number are
 * ignored.
 */
#include "io_internal.h"
#include "reactor_backend.h"
#include CIO_REACTOR_BACKEND_SRC /* the backend, e.g. reactor_epoll.c */

#include <stdlib.h>
#include <string.h>

#define CHUNK_SHIFT 8
#define CHUNK_SIZE  (1u << CHUNK_SHIFT)
#define WAKE_TAG    UINT64_MAX

_Static_assert(CIO__EV_READ == CIO_READABLE && CIO__EV_WRITE == CIO_WRITABLE,
               "backend bits are the public ones");

enum { DIR_R = 0, DIR_W = 1 };

typedef struct fdent {
  uint32_t gen;
  uint8_t registered;
  uint8_t ready;  /* CIO_READABLE | CIO_WRITABLE */
  uint8_t sticky; /* ready for good: hang-ups (until forgotten) */
  cio_task *task[2];
  int code[2]; /* 0: woken with the ready events; else a select case's code */
  cio__fd_cb cb[2];
  void *cb_arg[2];
} fdent;

typedef struct reactor {
  cio__backend *be;
  cio_loop *loop;
  fdent **chunks;
  size_t nchunks;
  size_t nwaiting; /* armed slots (tasks + callbacks), see above */
} reactor;

_Thread_local unsigned cio__io_budget = CIO__IO_BUDGET;
static _Thread_local reactor *cur;

int cio__io_yield(void) {
  cio__io_budget = CIO__IO_BUDGET;
  int r = cio_yield();
  return r == -EPERM ? 0 : r;
}

static inline uint64_t ent_data(const fdent *e, int fd) {
  return ((uint64_t)e->gen << 32) | (uint32_t)fd;
}

/* ---- the fd table ---- */

static __attribute__((noinline)) fdent *ent_grow(reactor *r, int fd) {
  size_t c = (size_t)fd >> CHUNK_SHIFT;
  if (c >= r->nchunks) {
    size_t n = r->nchunks ? r->nchunks : 16;
    while (n <= c) n *= 2;
    fdent **v = cio__realloc(r->chunks, n * sizeof *v);
    if (!v) return NULL;
    memset(v + r->nchunks, 0, (n - r->nchunks) * sizeof *v);
    r->chunks = v;
    r->nchunks = n;
  }
  r->chunks[c] = cio__calloc(CHUNK_SIZE, sizeof(fdent));
  if (!r->chunks[c]) return NULL;
  return &r->chunks[c][fd & (CHUNK_SIZE - 1)];
}

/* The entry of fd (fd >= 0), allocating its chunk if needed. */
static inline fdent *ent_get(reactor *r, int fd) {
  size_t c = (size_t)fd >> CHUNK_SHIFT;
  if (CIO_LIKELY(c < r->nchunks && r->chunks[c])) return &r->chunks[c][fd & (CHUNK_SIZE - 1)];
  return ent_grow(r, fd);
}

/* The entry of fd if the table has one (no allocation). */
static fdent *ent_find(reactor *r, int fd) {
  size_t c = (size_t)fd >> CHUNK_SHIFT;
  if (fd < 0 || c >= r->nchunks || !r->chunks[c]) return NULL;
  return &r->chunks[c][fd & (CHUNK_SIZE - 1)];
}

static int ent_register(reactor *r, fdent *e, int fd) {
  int err = backend_add(r->be, fd, ent_data(e, fd));
  if (err < 0) return err;
  e->registered = 1;
  e->ready = 0; /* the registration itself reports what is ready now */
  e->sticky = 0;
  return 0;
}

/* Clear one armed task slot. */
static void slot_clear(reactor *r, fdent *e, int d) {
  e->task[d] = NULL;
  e->code[d] = 0;
  r->nwaiting--;
}

/* ---- the poller ---- */

/* Hand one direction's readiness to its callback (may forget the fd or
 * re-arm: the slot is cleared first). Returns 0 if the fd was forgotten. */
static int run_cb(reactor *r, fdent *e, int d, unsigned bit) {
  uint32_t gen = e->gen;
  cio__fd_cb cb = e->cb[d];
  void *arg = e->cb_arg[d];
  e->cb[d] = NULL;
  r->nwaiting--;
  cb(arg, (int)bit);
  return e->gen == gen;
}

/* Wake t for `give`: a plain waiter takes the events (they are handed
 * over as its result), a select case is woken with its code and finds them
 * in `ready`. Returns the events consumed. A task not woken (interrupted
 * meanwhile, or woken by another case) consumes nothing: the events stay
 * for the next wait. */
static inline unsigned wake_slot(cio_task *t, int code, unsigned give) {
  if (CIO_LIKELY(!code)) return cio_task_wake(t, (int)give) ? give : 0;
  cio_task_wake(t, code);
  return 0;
}

static void dispatch(reactor *r, fdent *e, unsigned bits) {
  unsigned left = bits;
  cio_task *tr = (bits & CIO_READABLE) ? e->task[DIR_R] : NULL;
  cio_task *tw = (bits & CIO_WRITABLE) ? e->task[DIR_W] : NULL;
  if (tr) {
    int code = e->code[DIR_R];
    slot_clear(r, e, DIR_R);
    unsigned give = CIO_READABLE;
    if (tr == tw && e->code[DIR_W] == code) { /* one wait for both */
      slot_clear(r, e, DIR_W);
      tw = NULL;
      give = bits;
    }
    left &= ~wake_slot(tr, code, give);
  }
  if (tw) {
    int code = e->code[DIR_W];
    slot_clear(r, e, DIR_W);
    left &= ~wake_slot(tw, code, CIO_WRITABLE);
  }
  if (CIO_UNLIKELY(e->cb[DIR_R] || e->cb[DIR_W])) {
    if ((bits & CIO_READABLE) && e->cb[DIR_R]) {
      left &= ~(unsigned)CIO_READABLE;
      if (!run_cb(r, e, DIR_R, CIO_READABLE)) return;
    }
    if ((bits & CIO_WRITABLE) && e->cb[DIR_W]) {
      left &= ~(unsigned)CIO_WRITABLE;
      if (!run_cb(r, e, DIR_W, CIO_WRITABLE)) return;
    }
  }
  e->ready |= (uint8_t)left;
}

static int handle_events(reactor *r, int n) {
  for (int i = 0; i < n; i++) {
    uint64_t data;
    unsigned bits = backend_report(r->be, i, &data);
    if (CIO_UNLIKELY(data == WAKE_TAG)) {
      cio_loop_wakeup_drain(r->loop);
      continue;
    }
    uint32_t fd = (uint32_t)data;
    size_t c = fd >> CHUNK_SHIFT;
    if (CIO_UNLIKELY(c >= r->nchunks || !r->chunks[c])) continue;
    fdent *e = &r->chunks[c][fd & (CHUNK_SIZE - 1)];
    if (CIO_UNLIKELY(e->gen != (uint32_t)(data >> 32))) continue; /* forgotten */
    /* A hang-up stays true and brings no further edge: remember it, or a
     * reader that consumed the data of this very event without reading up
     * to EOF would wait forever. (Errors are not sticky: a UDP socket's
     * error is consumed by the next receive.) */
    if (CIO_UNLIKELY(bits & (CIO__EV_HUP | CIO__EV_RDHUP)))
      e->sticky |= (bits & CIO__EV_HUP) ? CIO_READABLE | CIO_WRITABLE : CIO_READABLE;
    dispatch(r, e, bits & (CIO_READABLE | CIO_WRITABLE));
  }
  return n;
}

static int reactor_poll(void *ctx, int64_t timeout_ns) {
  reactor *r = ctx;
  /* The loop looks (timeout 0) every turn while tasks are ready; with nobody
   * waiting there is nothing to hand out, and the wake-up fd is level-
   * triggered, so the look can wait for a real sleep. */
  if (timeout_ns == 0 && r->nwaiting == 0) return 0;
  int n = backend_poll(r->be, timeout_ns);
  if (n <= 0) return n;
  return handle_events(r, n);
}

static void reactor_close(void *ctx) {
  reactor *r = ctx;
  for (size_t i = 0; i < r->nchunks; i++) cio__free(r->chunks[i]);
  cio__free(r->chunks);
  backend_close(r->be);
  if (cur == r) cur = NULL;
  cio__free(r);
}

static const cio_poller_ops reactor_ops = {reactor_poll, reactor_close};

static int reactor_install(cio_loop *loop) {
  reactor *r = cio__calloc(1, sizeof *r);
  if (!r) return -ENOMEM;
  r->loop = loop;
  int err = backend_open(cio_loop_wakeup_fd(loop), WAKE_TAG, &r->be);
  if (!err) {
    err = cio_loop_set_poller(loop, &reactor_ops, r);
    if (err) backend_close(r->be);
  }
  if (err) {
    cio__free(r);
    return err;
  }
  cur = r;
  return 0;
}

static reactor *reactor_get(int *err) {
  if (CIO_LIKELY(cur != NULL)) return cur;
  cio_loop *loop = cio_loop_current();
  if (!loop) {
    *err = -EPERM;
    return NULL;
  }
  *err = reactor_install(loop);
  return cur;
}

int cio__reactor_init(cio_loop *loop) {
  if (cur) return 0;
  return reactor_install(loop);
}

/* ---- waiting ---- */

/* Whether a slot's task really waits: one that was interrupted but has not
 * run yet to withdraw no longer counts. */
static bool slot_busy(const fdent *e, int d) {
  return e->task[d] && cio_task_get_state(e->task[d]) == CIO_TASK_WAITING;
}

/* Arm direction d for task t. A stale slot (see slot_busy) was counted
 * already and is taken over. */
static void slot_arm(reactor *r, fdent *e, int d, cio_task *t) {
  r->nwaiting += !e->task[d];
  e->task[d] = t;
  e->code[d] = 0;
}

static const char *const wait_what[4] = {NULL, "fd read", "fd write", "fd"};

int cio__fd_wait(int fd, int events) {
  cio_task *t = cio_current();
  if (!t) return -EPERM;
  events &= CIO_READABLE | CIO_WRITABLE;
  if (fd < 0 || !events) return fd < 0 ? -EBADF : -EINVAL;
  int err = 0;
  reactor *r = reactor_get(&err);
  if (!r) return err;
  fdent *e = ent_get(r, fd);
  if (CIO_UNLIKELY(!e)) return -ENOMEM;
  if (CIO_UNLIKELY(!e->registered) && (err = ent_register(r, e, fd)) < 0) return err;
  unsigned ready = (e->ready | e->sticky) & (unsigned)events;
  if (ready) {
    /* Check first: a cancelled or timed-out wait must leave the readiness
     * for the next one, or that one would wait for an edge already gone. */
    err = cio__io_checkpoint();
    if (err < 0) return err;
    e->ready &= (uint8_t)~ready;
    return (int)ready;
  }
  if (((events & CIO_READABLE) && slot_busy(e, DIR_R)) ||
      ((events & CIO_WRITABLE) && slot_busy(e, DIR_W)))
    return -EBUSY;
  if (events & CIO_READABLE) slot_arm(r, e, DIR_R, t);
  if (events & CIO_WRITABLE) slot_arm(r, e, DIR_W, t);
  backend_arm(r->be, fd, ent_data(e, fd), (unsigned)events);
  cio__io_budget = CIO__IO_BUDGET;
  int res = cio_suspend(wait_what[events]);
  /* Woken for one direction, or interrupted: leave no slot pointing at us.
   * (The table outlives every task: the loop closes its poller last.) */
  for (int d = 0; d < 2; d++)
    if (CIO_UNLIKELY(e->task[d] == t)) slot_clear(r, e, d);
  return res;
}

void cio__fd_forget(int fd) {
  reactor *r = cur;
  if (!r) return;
  fdent *e = ent_find(r, fd);
  if (!e) return;
  e->gen++;
  e->registered = 0;
  e->ready = 0;
  e->sticky = 0;
  for (int d = 0; d < 2; d++) {
    if (e->cb[d]) {
      e->cb[d] = NULL;
      r->nwaiting--;
    }
  }
  /* Only armed slots count: an fd nobody waits on changes nothing. A
   * select case is woken with its code and learns from the generation
   * that its fd is gone. */
  cio_task *tr = e->task[DIR_R], *tw = e->task[DIR_W];
  int cr = e->code[DIR_R], cw = e->code[DIR_W];
  for (int d = 0; d < 2; d++)
    if (e->task[d]) slot_clear(r, e, d);
  if (tr) cio_task_wake(tr, cr ? cr : -EBADF);
  if (tw && (tw != tr || cw != cr)) cio_task_wake(tw, cw ? cw : -EBADF);
}

/* ---- select cases ---- */

int cio__fd_arm(int fd, int events, cio_task *t, int code, uint32_t *gen) {
  events &= CIO_READABLE | CIO_WRITABLE;
  if (fd < 0) return -EBADF;
  if (!events) return -EINVAL;
  int err = 0;
  reactor *r = reactor_get(&err);
  if (!r) return err;
  fdent *e = ent_get(r, fd);
  if (!e) return -ENOMEM;
  if (!e->registered && (err = ent_register(r, e, fd)) < 0) return err;
  *gen = e->gen;
  if ((e->ready | e->sticky) & (unsigned)events) return 1;
  for (int d = 0; d < 2; d++)
    if ((events & (1 << d)) && (e->task[d] == t || slot_busy(e, d))) return -EBUSY;
  for (int d = 0; d < 2; d++) {
    if (!(events & (1 << d))) continue;
    slot_arm(r, e, d, t);
    e->code[d] = code;
  }
  backend_arm(r->be, fd, ent_data(e, fd), (unsigned)events);
  return 0;
}

void cio__fd_disarm(int fd, int events, cio_task *t, uint32_t gen) {
  reactor *r = cur;
  fdent *e = r ? ent_find(r, fd) : NULL;
  if (!e || e->gen != gen) return; /* forgotten: its slots were cleared */
  for (int d = 0; d < 2; d++)
    if ((events & (1 << d)) && e->task[d] == t && e->code[d]) slot_clear(r, e, d);
}

int cio__fd_take(int fd, int events) {
  reactor *r = cur;
  fdent *e = r ? ent_find(r, fd) : NULL;
  if (!e || !e->registered) return 0;
  unsigned ready = (e->ready | e->sticky) & (unsigned)events;
  e->ready &= (uint8_t)~ready;
  return (int)ready;
}

uint32_t cio__fd_gen(int fd) {
  reactor *r = cur;
  fdent *e = r && fd >= 0 ? ent_find(r, fd) : NULL;
  return e ? e->gen : 0;
}

/* ---- callbacks ---- */

int cio__fd_watch(int fd, int dir, cio__fd_cb cb, void *arg) {
  int err = 0;
  reactor *r = reactor_get(&err);
  if (!r) return err;
  if (fd < 0) return -EBADF;
  fdent *e = ent_get(r, fd);
  if (!e) return -ENOMEM;
  if (!e->registered && (err = ent_register(r, e, fd)) < 0) return err;
  int d = dir == CIO_READABLE ? DIR_R : DIR_W;
  if ((e->ready | e->sticky) & dir) {
    e->ready &= (uint8_t)~dir;
    return 1;
  }
  if (!e->cb[d]) {
    r->nwaiting++;
    backend_arm(r->be, fd, ent_data(e, fd), (unsigned)dir);
  }
  e->cb[d] = cb;
  e->cb_arg[d] = arg;
  return 0;
}

void cio__fd_unwatch(int fd, int dir) {
  reactor *r = cur;
  if (!r) return;
  fdent *e = ent_find(r, fd);
  int d = dir == CIO_READABLE ? DIR_R : DIR_W;
  if (e && e->cb[d]) {
    e->cb[d] = NULL;
    r->nwaiting--;
  }
}
