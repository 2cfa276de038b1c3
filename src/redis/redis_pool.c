/* redis_pool.c - a pool of connections (cio/redis_pool.h). */
#include "redis_internal.h"

#include <cio/redis_pool.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX        10
#define DEFAULT_IDLE_CHECK 1.0

typedef struct waiter {
  struct waiter *next;
  cio_task *task;
  cio_redis *got; /* handed over by release */
  int code;       /* -EBADF: the pool closed */
} waiter;

typedef struct idle_conn {
  cio_redis *c;
  double since;
} idle_conn;

struct cio_redis_pool {
  char *url;
  char *client_name;
  cio_redis_opts conn;
  size_t min, max;
  double idle_check;
  idle_conn *idle; /* a stack: the most recently used first out */
  size_t nidle;
  size_t size, in_use;
  waiter *whead, *wtail;
  size_t nwaiting;
  cio_task *closer;
  unsigned users; /* tasks inside calls */
  uint8_t closed, freed;
  uint64_t waits, opened, dropped;
};

static double now(void) { return (double)cio_now_ns() / 1e9; }

static void destroy(cio_redis_pool *p) {
  cio__free(p->idle);
  cio__free(p->url);
  cio__free(p->client_name);
  cio__free(p);
}

/* The memory goes when freed and nobody is inside or borrowing. */
static void maybe_destroy(cio_redis_pool *p) {
  if (p->freed && p->users == 0 && p->in_use == 0) destroy(p);
}

static int leave(cio_redis_pool *p, int r) {
  p->users--;
  maybe_destroy(p);
  return r;
}

static void wait_unlink(cio_redis_pool *p, waiter *w) {
  waiter **pp = &p->whead, *prev = NULL;
  while (*pp && *pp != w) {
    prev = *pp;
    pp = &(*pp)->next;
  }
  if (!*pp) return;
  *pp = w->next;
  if (p->wtail == w) p->wtail = prev;
  p->nwaiting--;
}

/* Wake the first waiting task: with a connection, or (c NULL) to try again
 * (a slot is free: it may open one). Returns 1 if a task took it. */
static int hand_over(cio_redis_pool *p, cio_redis *c, int code) {
  while (p->whead) {
    waiter *w = p->whead;
    wait_unlink(p, w);
    w->got = c;
    w->code = code;
    if (cio_task_wake(w->task, 0)) return 1;
    w->got = NULL; /* it was leaving (cancelled): the next one */
  }
  return 0;
}

static void wake_closer(cio_redis_pool *p) {
  if (p->closer && p->in_use == 0) cio_task_wake(p->closer, 0);
}

static void drop(cio_redis_pool *p, cio_redis *c) {
  cio_redis_free(c);
  p->size--;
  if (!p->closed) p->dropped++;
}

/* Still good to hand out? Broken ones are known; one idle for a while is
 * looked at: a socket with something to read while nobody asked for
 * anything has been closed by the server (or holds garbage). */
static int healthy(cio_redis_pool *p, const idle_conn *ic) {
  cio_redis *c = ic->c;
  if (cio_redis_status(c) != 0 || c->pending) return 0;
  if (p->idle_check < 0 || now() - ic->since < p->idle_check) return 1;
  struct pollfd pf = {cio_stream_fd(c->s), POLLIN, 0};
  return poll(&pf, 1, 0) == 0;
}

static int open_one(cio_redis_pool *p, cio_redis **out) {
  p->size++; /* reserved while it opens */
  int r = cio_redis_open(p->url, &p->conn, out);
  if (r == 0 && (p->closed || p->freed)) {
    cio_redis_free(*out);
    *out = NULL;
    r = cio__redis_error(-EBADF, "the pool is closed");
  }
  if (r < 0) {
    p->size--;
    if (!p->freed) hand_over(p, NULL, 0); /* the slot is free again */
    return r;
  }
  p->opened++;
  return 0;
}

static int acquire_loop(cio_redis_pool *p, cio_redis **out) {
  for (;;) {
    if (p->closed) return cio__redis_error(-EBADF, "the pool is closed");
    while (p->nidle) {
      idle_conn ic = p->idle[--p->nidle];
      if (healthy(p, &ic)) {
        p->in_use++;
        *out = ic.c;
        return 0;
      }
      drop(p, ic.c);
    }
    if (p->size < p->max) {
      int r = open_one(p, out);
      if (r == 0) p->in_use++;
      return r;
    }
    waiter w = {NULL, cio_current(), NULL, 0};
    if (p->wtail)
      p->wtail->next = &w;
    else
      p->whead = &w;
    p->wtail = &w;
    p->nwaiting++;
    p->waits++;
    int r = cio_suspend("redis pool acquire");
    if (r < 0) { /* no wake happened: nothing was handed to us */
      wait_unlink(p, &w);
      return cio__redis_error(r, "%s", cio_strerror(r));
    }
    if (w.got) {
      *out = w.got; /* still counted in use: it went from hand to hand */
      return 0;
    }
    if (w.code < 0) return cio__redis_error(w.code, "the pool is closed");
  }
}

int cio_redis_pool_acquire(cio_redis_pool *p, cio_redis **out) {
  if (out) *out = NULL;
  if (!p || !out) return cio__redis_error(-EINVAL, "no pool");
  int r = cio_checkpoint();
  if (r < 0) return cio__redis_error(r, "%s", cio_strerror(r));
  p->users++;
  r = acquire_loop(p, out);
  return leave(p, r);
}

void cio_redis_pool_release(cio_redis_pool *p, cio_redis *c) {
  if (!p || !c) return;
  if (p->closed || cio_redis_status(c) != 0 || c->pending || p->nidle == p->max) {
    p->in_use--;
    drop(p, c);
    if (!p->closed) hand_over(p, NULL, 0); /* a waiter may open a new one */
    wake_closer(p);
    maybe_destroy(p);
    return;
  }
  if (hand_over(p, c, 0)) return; /* borrowed again, at once */
  p->in_use--;
  p->idle[p->nidle++] = (idle_conn){c, now()};
}

int cio_redis_pool_open(const char *url, const cio_redis_pool_opts *opts, cio_redis_pool **out) {
  if (!out) return cio__redis_error(-EINVAL, "no place for the pool");
  *out = NULL;
  int r = cio_checkpoint();
  if (r < 0) return cio__redis_error(r, "%s", cio_strerror(r));
  cio__redis_url u;
  if ((r = cio__redis_url_parse(url, &u)) < 0) return r; /* check it once, early */
  cio__redis_url_free(&u);
  cio_redis_pool *p = cio__calloc(1, sizeof *p);
  if (!p) return cio__redis_error(-ENOMEM, "out of memory");
  p->min = opts && opts->min_size ? opts->min_size : 1;
  p->max = opts && opts->max_size ? opts->max_size : DEFAULT_MAX;
  if (p->max < p->min) p->max = p->min;
  p->idle_check = opts && opts->idle_check ? opts->idle_check : DEFAULT_IDLE_CHECK;
  if (opts) p->conn = opts->conn;
  p->url = cio__strdup(url);
  p->idle = cio__calloc(p->max, sizeof *p->idle);
  if (opts && opts->conn.client_name)
    p->conn.client_name = p->client_name = cio__strdup(opts->conn.client_name);
  if (!p->url || !p->idle || (opts && opts->conn.client_name && !p->client_name)) {
    destroy(p);
    return cio__redis_error(-ENOMEM, "out of memory");
  }
  p->users++;
  for (size_t i = 0; i < p->min && r == 0; i++) {
    cio_redis *c;
    r = open_one(p, &c);
    if (r == 0) p->idle[p->nidle++] = (idle_conn){c, now()};
  }
  p->users--;
  if (r < 0) {
    cio_redis_pool_free(p);
    return r;
  }
  *out = p;
  return 0;
}

static void shut(cio_redis_pool *p) {
  p->closed = 1;
  while (p->whead) {
    waiter *w = p->whead;
    wait_unlink(p, w);
    w->code = -EBADF;
    cio_task_wake(w->task, 0);
  }
  while (p->nidle) drop(p, p->idle[--p->nidle].c);
}

int cio_redis_pool_close(cio_redis_pool *p) {
  if (!p) return -EINVAL;
  if (p->freed) return -EBADF;
  shut(p);
  if (p->in_use == 0) return 0;
  if (p->closer) return cio__redis_error(-EBUSY, "another task is closing the pool");
  p->users++;
  p->closer = cio_current();
  int r = 0;
  while (r == 0 && p->in_use > 0 && !p->freed) r = cio_suspend("redis pool close");
  p->closer = NULL;
  if (r < 0) cio__redis_error(r, "%s", cio_strerror(r));
  if (p->freed && r == 0) r = -EBADF;
  return leave(p, r);
}

void cio_redis_pool_free(cio_redis_pool *p) {
  if (!p || p->freed) return;
  shut(p);
  p->freed = 1;
  if (p->closer) cio_task_wake(p->closer, -EBADF);
  maybe_destroy(p);
}

int cio_redis_pool_command(cio_redis_pool *p, size_t argc, const char *const *argv,
                           const size_t *lens, cio_redis_reply **reply) {
  if (reply) *reply = NULL;
  cio_redis *c;
  int r = cio_redis_pool_acquire(p, &c);
  if (r < 0) return r;
  r = cio_redis_command(c, argc, argv, lens, reply);
  cio_redis_pool_release(p, c);
  return r;
}

int cio_redis_pool_commandf(cio_redis_pool *p, cio_redis_reply **reply, const char *fmt, ...) {
  if (reply) *reply = NULL;
  cio_redis *c;
  int r = cio_redis_pool_acquire(p, &c);
  if (r < 0) return r;
  va_list ap;
  va_start(ap, fmt);
  r = cio_redis_vcommandf(c, reply, fmt, ap);
  va_end(ap);
  cio_redis_pool_release(p, c);
  return r;
}

void cio_redis_pool_get_stats(const cio_redis_pool *p, cio_redis_pool_stats *st) {
  if (!st) return;
  memset(st, 0, sizeof *st);
  if (!p) return;
  st->size = p->size;
  st->idle = p->nidle;
  st->in_use = p->in_use;
  st->waiting = p->nwaiting;
  st->waits = p->waits;
  st->opened = p->opened;
  st->dropped = p->dropped;
}
