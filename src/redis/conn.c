/* conn.c - the connection engine: requests, the reader role, buffers,
 * flushing (see redis_internal.h for the model). */
#include "redis_internal.h"

#include <cio/tls.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/socket.h>

#define MIN_FREE  4096u      /* never read into less room than this */
#define MAX_SPARE 64u        /* recycled requests kept per connection */
#define OUT_KEEP  (1u << 20) /* an output buffer larger than this is released */

/* ---- lifetime ---- */

cio_redis *cio__redis_new(cio_stream *s, const cio_redis_opts *o) {
  cio_redis *c = cio__calloc(1, sizeof *c);
  if (!c) return NULL;
  c->s = s;
  c->loop = cio_loop_current();
  c->protocol = 2;
  c->read_buffer = o && o->read_buffer ? o->read_buffer : CIO__REDIS_DEFAULT_BUFFER;
  if (c->read_buffer < 2 * MIN_FREE) c->read_buffer = 2 * MIN_FREE;
  c->max_reply = o && o->max_reply ? o->max_reply : CIO__REDIS_DEFAULT_MAX_REPLY;
  cio__resp_scanner_init(&c->sc, c->max_reply, 0, 0);
  if (o) {
    c->on_push = o->on_push;
    c->push_arg = o->push_arg;
  }
  return c;
}

static void req_free_list(cio__redis_req *q) {
  while (q) {
    cio__redis_req *next = q->next;
    cio_redis_reply_free(q->one);
    cio__free(q);
    q = next;
  }
}

static void destroy(cio_redis *c) {
  req_free_list(c->head);
  req_free_list(c->spare);
  cio__resp_buf_unref(c->rb);
  cio__resp_out_free(&c->out);
  cio_stream_free(c->s);
  cio_tls_ctx_free(c->own_tls);
  if (c->on_destroy) c->on_destroy(c->destroy_arg);
  cio__free(c);
}

int cio__redis_enter(cio_redis *c, int check) {
  if (check) {
    if (c->freed || c->closing) return cio__redis_error(-EBADF, "the connection is closed");
    if (c->err) return cio__redis_error(c->err, "%s", c->errmsg);
  }
  c->users++;
  return 0;
}

int cio__redis_leave(cio_redis *c, int r) {
  if (--c->users == 0 && c->freed) destroy(c);
  return r;
}

void cio_redis_free(cio_redis *c) {
  if (!c || c->freed) return;
  c->freed = 1;
  if (!c->err) {
    c->err = -EBADF;
    snprintf(c->errmsg, sizeof c->errmsg, "the connection is closed");
  }
  /* Waiting tasks wake with -EBADF; the reader, inside a stream read, is
   * woken by the stream's free. */
  for (cio__redis_req *q = c->head; q; q = q->next)
    if (q->task && !q->done && q->task != c->reader) cio_task_wake(q->task, -EBADF);
  if (c->idle_waiter) cio_task_wake(c->idle_waiter, -EBADF);
  cio_stream_free(c->s);
  c->s = NULL;
  if (c->users == 0) destroy(c);
}

/* ---- requests ---- */

static cio__redis_req *req_get(cio_redis *c) {
  cio__redis_req *q = c->spare;
  if (q) {
    c->spare = q->next;
    c->nspare--;
    memset(q, 0, sizeof *q);
    return q;
  }
  return cio__calloc(1, sizeof *q);
}

static void req_put(cio_redis *c, cio__redis_req *q) {
  cio_redis_reply_free(q->one);
  q->one = NULL;
  if (c->nspare < MAX_SPARE) {
    q->next = c->spare;
    c->spare = q;
    c->nspare++;
  } else {
    cio__free(q);
  }
}

void cio__redis_req_done(cio_redis *c, cio__redis_req *q) { req_put(c, q); }

static void unlink_req(cio_redis *c, cio__redis_req *q) {
  cio__redis_req **pp = &c->head, *prev = NULL;
  while (*pp && *pp != q) {
    prev = *pp;
    pp = &(*pp)->next;
  }
  if (!*pp) return;
  *pp = q->next;
  if (c->tail == q) c->tail = prev;
  q->next = NULL;
}

/* q's replies are all in (or the connection failed): out of the FIFO, and
 * its task told. The reader notices its own request by itself. */
static void finish(cio_redis *c, cio__redis_req *q) {
  unlink_req(c, q);
  c->pending -= q->want - q->got;
  q->done = 1;
  if (!q->task)
    req_put(c, q); /* abandoned: nobody will collect it */
  else if (q->task != c->reader)
    cio_task_wake(q->task, 0);
  if (!c->head) cio__redis_wake_idle(c);
}

static void complete_one(cio_redis *c, cio__redis_req *q, cio_redis_reply *r, int status) {
  if (status && !q->status) q->status = status;
  if (q->kind == CIO__REQ_CONFIRM) { /* keeps only an error, in q->one */
    if (r && r->type == CIO_REDIS_ERROR && q->dest && !q->one)
      q->one = r;
    else
      cio_redis_reply_free(r);
  } else if (q->dest && q->got < q->want) {
    q->dest[q->got] = r;
  } else {
    cio_redis_reply_free(r);
  }
  q->got++;
  c->pending--;
  if (q->got == q->want || (q->kind == CIO__REQ_CONFIRM && r && r->type == CIO_REDIS_ERROR))
    finish(c, q);
}

void cio__redis_complete_head(cio_redis *c, cio_redis_reply *r, int status) {
  if (c->head)
    complete_one(c, c->head, r, status);
  else
    cio_redis_reply_free(r);
}

void cio__redis_finish_head(cio_redis *c) {
  if (c->head) finish(c, c->head);
}

void cio__redis_wake_idle(cio_redis *c) {
  if (c->idle_waiter && c->idle_waiter != c->reader) cio_task_wake(c->idle_waiter, 0);
}

void cio__redis_fail(cio_redis *c, int err) {
  if (c->err) return;
  c->err = err;
  snprintf(c->errmsg, sizeof c->errmsg, "%s", cio_redis_last_error());
  while (c->head) {
    cio__redis_req *q = c->head;
    if (!q->status) q->status = err;
    c->pending -= q->want - q->got;
    q->got = q->want;
    finish(c, q);
  }
  c->pending = 0;
  c->out.len = 0;
  /* A reader blocked in a read (this runs from a callback, or from another
   * task) gets EOF; the server sees the connection go. */
  if (c->s) shutdown(cio_stream_fd(c->s), SHUT_RDWR);
  cio__redis_wake_idle(c);
}

int cio__redis_append(cio_redis *c, size_t argc, const char *const *argv, const size_t *lens) {
  int r = cio__resp_append_command(&c->out, argc, argv, lens);
  if (r == -EINVAL) return cio__redis_error(r, "bad command: no words, or a NULL word");
  if (r < 0) return cio__redis_error(r, "out of memory");
  return 0;
}

/* ---- writing ---- */

static int flush(cio_redis *c) {
  if (!c->out.len) return 0;
  int r = cio_stream_write(c->s, c->out.p, c->out.len);
  c->out.len = 0;
  c->flushes++;
  if (c->out.cap > OUT_KEEP) cio__resp_out_free(&c->out);
  if (r < 0) {
    cio__redis_error(r, "connection lost: %s", cio_strerror(r));
    cio__redis_fail(c, r);
  }
  return r;
}

int cio__redis_write_now(cio_redis *c, const struct iovec *iov, int n) {
  int r = flush(c);
  if (r == 0 && (r = cio_stream_writev(c->s, iov, n)) < 0) {
    cio__redis_error(r, "connection lost: %s", cio_strerror(r));
    cio__redis_fail(c, r);
  }
  c->flushes++;
  return r;
}

static void flush_cb(void *arg) {
  cio_redis *c = arg;
  c->flush_sched = 0;
  if (!c->freed && !c->err) flush(c);
  cio__redis_leave(c, 0);
}

/* Commands were added while the reader is blocked in a read: write them on
 * the loop's next turn, with whatever other tasks add meanwhile. */
static void schedule_flush(cio_redis *c) {
  if (c->flush_sched || !c->reader || !c->reader_io) return;
  if (cio_call_soon(c->loop, flush_cb, c) == 0) {
    c->flush_sched = 1;
    c->users++;
  } else {
    flush(c);
  }
}

cio__redis_req *cio__redis_req_add(cio_redis *c, size_t want, cio_redis_reply **dest, size_t mark) {
  cio__redis_req *q = req_get(c);
  if (!q) return NULL;
  q->want = want;
  q->dest = dest ? dest : &q->one;
  q->task = cio_current();
  q->out_mark = mark;
  q->out_end = c->out.len;
  q->gen = c->flushes;
  if (c->tail)
    c->tail->next = q;
  else
    c->head = q;
  c->tail = q;
  c->pending += want;
  schedule_flush(c);
  return q;
}

/* ---- reading ---- */

/* Room for `want` more bytes after the `keep` unconsumed ones. A buffer
 * that replies still point into is never moved: the unconsumed bytes go to
 * a fresh one. */
static int make_room(cio_redis *c, size_t keep, size_t want) {
  cio__resp_buf *b = c->rb;
  size_t need = keep + want;
  if (need < keep) return -ENOMEM;
  if (b && b->refs == 1 && b->cap >= need) {
    memmove(b->data, b->data + c->rpos, keep);
  } else if (b && b->refs == 1) {
    memmove(b->data, b->data + c->rpos, keep);
    size_t cap = need > c->read_buffer ? need : c->read_buffer;
    cio__resp_buf *nb = cio__realloc(b, sizeof *b + cap);
    if (!nb) return -ENOMEM;
    nb->cap = cap;
    c->rb = nb;
  } else {
    size_t cap = need > c->read_buffer ? need : c->read_buffer;
    cio__resp_buf *nb = cio__resp_buf_new(cap);
    if (!nb) return -ENOMEM;
    if (keep) memcpy(nb->data, b->data + c->rpos, keep);
    cio__resp_buf_unref(b);
    c->rb = nb;
  }
  c->rscan -= c->rpos;
  c->rend = keep;
  c->rpos = 0;
  return 0;
}

static int read_more(cio_redis *c) {
  size_t keep = c->rend - c->rpos;
  size_t want = MIN_FREE;
  /* The rest of a long string in one read, when it is to be kept. */
  if (!c->sc.oversize && c->sc.bulk_left > want) want = c->sc.bulk_left;
  if (!c->rb || c->rb->cap - c->rend < want) {
    int r = make_room(c, keep, want);
    if (r < 0) return cio__redis_error(r, "out of memory for a %zu-byte reply", keep + want);
  }
  c->reader_io = 1;
  ssize_t n = cio_stream_read(c->s, c->rb->data + c->rend, c->rb->cap - c->rend);
  c->reader_io = 0;
  if (n > 0) {
    c->rend += (size_t)n;
    return 0;
  }
  if (n == 0) return cio__redis_error(-ECONNRESET, "connection closed by the server");
  if (n == -ECANCELED || n == -ETIMEDOUT) return (int)n;
  return cio__redis_error((int)n, "connection lost: %s", cio_strerror((int)n));
}

/* A complete reply: to the router (pub/sub), to the push callback, or to
 * the request at the head of the FIFO. */
static void deliver(cio_redis *c, cio_redis_reply *r, int top, int status) {
  if (c->route && c->route(c, r, top, status, c->route_arg)) return;
  if (top == '>') {
    if (r && c->on_push)
      c->on_push(c, r, c->push_arg);
    else
      cio_redis_reply_free(r);
    return;
  }
  if (!c->head) {
    cio_redis_reply_free(r);
    if (status) /* could not be kept, and nobody asked for it */
      cio__redis_error(status, "a reply to no command could not be kept: %s", cio_strerror(status));
    else
      cio__redis_error(-EPROTO, "protocol error: a reply to no command");
    cio__redis_fail(c, status ? status : -EPROTO);
    return;
  }
  complete_one(c, c->head, r, status);
}

/* Parse and deliver every complete reply in the buffer. */
static int drain_buffered(cio_redis *c) {
  while (c->rscan < c->rend) {
    size_t used;
    int r = cio__resp_scan(&c->sc, c->rb->data + c->rscan, c->rend - c->rscan, &used);
    if (r < 0) {
      cio__redis_error(-EPROTO, "protocol error: %s", c->sc.error);
      cio__redis_fail(c, -EPROTO);
      return -EPROTO;
    }
    c->rscan += used;
    if (r == 0) {
      if (c->sc.oversize) c->rpos = c->rscan; /* not kept: drop it as it goes */
      break;
    }
    cio_redis_reply *rep = NULL;
    int status = 0;
    if (c->sc.oversize) {
      status = -EMSGSIZE;
    } else {
      cio_redis_reply *nodes = cio__resp_reply_alloc(c->sc.nodes, c->rb);
      if (nodes)
        rep = cio__resp_build(&c->sc, c->rb->data + c->rpos, nodes);
      else
        status = -ENOMEM;
    }
    int top = c->sc.top_type;
    c->rpos = c->rscan;
    cio__resp_scanner_reset(&c->sc);
    deliver(c, rep, top, status);
    if (c->err) return c->err;
  }
  if (c->rpos == c->rend && c->rb && c->rb->refs == 1) {
    c->rpos = c->rscan = c->rend = 0;
    if (c->rb->cap > 4 * c->read_buffer) { /* back to size after a long reply */
      cio__resp_buf_unref(c->rb);
      c->rb = NULL;
    }
  }
  return 0;
}

/* The reader's loop: deliver what is buffered, write what is queued, read
 * more, until done(c, arg). */
static int pump(cio_redis *c, int (*done)(cio_redis *, void *), void *arg) {
  for (;;) {
    int r = drain_buffered(c);
    if (r < 0) return r;
    if (done(c, arg)) return 0;
    if (c->err) return c->err;
    r = flush(c);
    if (r < 0) return r;
    r = read_more(c);
    if (c->freed) return -EBADF;
    if (r < 0) {
      if (r == -ECANCELED || r == -ETIMEDOUT) return r;
      cio__redis_fail(c, r);
      return c->err;
    }
  }
}

/* The reader is done: wake a waiting task to take over. */
static void handoff(cio_redis *c) {
  for (cio__redis_req *q = c->head; q; q = q->next)
    if (q->task && !q->done && cio_task_wake(q->task, 0)) return;
  if (c->idle_waiter) cio_task_wake(c->idle_waiter, 0);
}

int cio__redis_wait_for(cio_redis *c, int (*done)(cio_redis *, void *), void *arg) {
  for (;;) {
    if (done(c, arg)) return 0;
    if (c->err) return c->err;
    if (!c->reader) {
      c->reader = cio_current();
      int r = pump(c, done, arg);
      if (c->freed) return -EBADF;
      c->reader = NULL;
      handoff(c);
      if (r < 0 && !done(c, arg)) return r;
      continue;
    }
    int r = cio_suspend("redis reply");
    if (c->freed) return -EBADF;
    if (r < 0) return r;
  }
}

static int req_is_done(cio_redis *c, void *arg) {
  (void)c;
  return ((cio__redis_req *)arg)->done;
}

/* The caller gives up on q: withdraw it if its commands were not written
 * (they are the last bytes queued), else leave it for the reader to drop
 * its replies. */
static void abandon(cio_redis *c, cio__redis_req *q) {
  if (q == c->tail && !q->written && q->got == 0 && q->gen == c->flushes &&
      q->out_end == c->out.len) {
    c->out.len = q->out_mark;
    unlink_req(c, q);
    c->pending -= q->want;
    req_put(c, q);
    return;
  }
  q->task = NULL;
  if (q->dest == &q->one) {
    cio_redis_reply_free(q->one);
    q->one = NULL;
  }
  q->dest = NULL;
}

int cio__redis_req_status(cio_redis *c, cio__redis_req *q) {
  int st = q->status;
  if (st == -EMSGSIZE)
    return cio__redis_error(st, "reply longer than max_reply (%zu bytes): read and dropped",
                            c->max_reply);
  if (st == -ENOMEM) return cio__redis_error(st, "out of memory for a reply");
  if (st < 0) return cio__redis_error(st, "%s", c->errmsg);
  return 0;
}

int cio__redis_send(cio_redis *c, const char *bytes, size_t len, size_t n, cio_redis_reply **dest) {
  size_t mark = c->out.len;
  int now = len >= CIO__REDIS_WRITE_NOW;
  if (now) {
    struct iovec iov = {(void *)(uintptr_t)bytes, len};
    int r = cio__redis_write_now(c, &iov, 1);
    if (r < 0) return r;
    mark = c->out.len;
  } else if (cio__resp_append(&c->out, bytes, len) < 0) {
    return cio__redis_error(-ENOMEM, "out of memory");
  }
  cio__redis_req *q = cio__redis_req_add(c, n, dest, mark);
  if (!q) {
    c->out.len = mark;
    if (now) { /* sent: its replies must still be read and dropped */
      cio__redis_error(-ENOMEM, "out of memory");
      cio__redis_fail(c, -ENOMEM);
    }
    return cio__redis_error(-ENOMEM, "out of memory");
  }
  q->written = (uint8_t)now;
  int r = cio__redis_wait(c, q);
  if (r < 0) return r;
  r = cio__redis_req_status(c, q);
  cio__redis_req_done(c, q);
  return r;
}

/* c was freed while q's task waited: q goes back to the connection (the
 * FIFO, or the spare list once done), which frees it with itself. */
static int freed_under(cio_redis *c, cio__redis_req *q) {
  if (q->done) req_put(c, q);
  return cio__redis_error(-EBADF, "the connection is closed");
}

int cio__redis_wait(cio_redis *c, cio__redis_req *q) {
  int r = 0;
  if (!c->reader && !q->done) {
    /* About to read: let the tasks ready now add their commands first, so
     * that they go out in the same write. */
    r = cio_yield();
    if (c->freed) return freed_under(c, q);
    if (r == 0) r = cio_checkpoint(); /* a cancellation that came meanwhile */
  }
  if (r == 0) r = cio__redis_wait_for(c, req_is_done, q);
  if (c->freed) return freed_under(c, q);
  if (r < 0) {
    if (q->done)
      req_put(c, q); /* it came, but the caller gave up first */
    else
      abandon(c, q);
    if (r == -ECANCELED || r == -ETIMEDOUT) cio__redis_error(r, "%s", cio_strerror(r));
    return r;
  }
  return 0;
}
