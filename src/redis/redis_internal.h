/* redis_internal.h - the connection engine shared by connections, pipelines,
 * pub/sub and pools (internal, hidden).
 *
 * A connection keeps a FIFO of requests: each is a command (or several: a
 * pipeline, a transaction, a subscription waiting for its confirmations)
 * whose replies have not all arrived. Replies come back in order, so each
 * one completes the request at the head.
 *
 * Reading is done by whichever waiting task needs a reply: the first to
 * wait becomes the reader, reads and parses, and hands every complete reply
 * to its request, waking its task. When its own request is done it stops
 * and wakes another waiting task to take over. A request whose task gave
 * up (cancelled, timed out) stays in the FIFO, abandoned: its replies are
 * read and dropped when they come, so the replies that follow still meet
 * their own requests.
 *
 * Writing: commands are encoded into c->out. The task about to become the
 * reader first yields once, so that tasks ready in the same loop turn add
 * their commands, then writes them all (one send). Commands added while the
 * reader is blocked in a read are written by a callback on the loop's next
 * turn (one send for all of them).
 */
#ifndef CIO_REDIS_INTERNAL_H
#define CIO_REDIS_INTERNAL_H

#include <cio.h>
#include <cio/net.h>
#include <cio/redis.h>

#include "resp.h"

#include <sys/uio.h>

#define CIO__REDIS_DEFAULT_BUFFER    (64u * 1024u)
#define CIO__REDIS_DEFAULT_MAX_REPLY ((size_t)512 << 20)

typedef struct cio__redis_req cio__redis_req;

enum { CIO__REQ_PLAIN = 0, CIO__REQ_CONFIRM = 1 };

struct cio__redis_req {
  cio__redis_req *next;
  cio_task *task;         /* the task waiting for it; NULL: abandoned */
  cio_redis_reply **dest; /* replies go to dest[0..want-1]; NULL: dropped */
  cio_redis_reply *one;   /* dest of a single command */
  size_t want, got;
  int status; /* first failure: -EMSGSIZE, -ENOMEM, or the
                 connection's error */
  uint8_t done;
  uint8_t kind;             /* CIO__REQ_CONFIRM: pub/sub confirmations;
                               an error reply completes it */
  uint8_t written;          /* its commands went out at once (write_now) */
  uint8_t all;              /* pub/sub "from all": done when none is left */
  const char *confirm;      /* the confirmation it counts ("subscribe"...) */
  size_t out_mark, out_end; /* its bytes in c->out */
  uint64_t gen;             /* c->flushes when they were added */
};

/* Routes a complete reply before the request FIFO sees it: returns 1 if it
 * took the reply (pub/sub messages, confirmations). r is NULL for a reply
 * that could not be kept: status says why (-EMSGSIZE, -ENOMEM). */
typedef int (*cio__redis_route_fn)(cio_redis *c, cio_redis_reply *r, int top_type, int status,
                                   void *arg);

struct cio_redis {
  cio_stream *s;
  cio_loop *loop;
  int err;             /* sticky: why the connection is unusable (or -EBADF) */
  uint8_t closing;     /* cio_redis_close called */
  uint8_t freed;       /* cio_redis_free called; the last user frees */
  uint8_t reader_io;   /* the reader is inside a stream read */
  uint8_t flush_sched; /* a flush callback is queued */
  uint8_t protocol;    /* 2 or 3 */
  unsigned users;      /* tasks inside calls, and the queued flush callback */
  /* output */
  cio__resp_out out;
  uint64_t flushes;
  /* input: rb->data[rpos..rend) unconsumed; scanning has reached rscan */
  cio__resp_buf *rb;
  size_t rpos, rscan, rend;
  size_t read_buffer, max_reply;
  cio__resp_scanner sc;
  /* requests */
  cio__redis_req *head, *tail, *spare;
  size_t pending, nspare;
  cio_task *reader;      /* the task reading, or NULL */
  cio_task *idle_waiter; /* a task waiting without a request (pub/sub get,
                            close) that may take over reading */
  cio__redis_route_fn route;
  void *route_arg;
  cio_redis_push_fn on_push;
  void *push_arg;
  cio_tls_ctx *own_tls;          /* a default TLS context made for rediss:// */
  void (*on_destroy)(void *arg); /* the owner's memory goes with c (pub/sub) */
  void *destroy_arg;
  char errmsg[256]; /* the words for err */
};

/* ---- lifetime (conn.c) ---- */
cio_redis *cio__redis_new(cio_stream *s, const cio_redis_opts *o);
/* Entry and exit of every call that may suspend: users count, and the
 * checks (-EBADF once closed or freed, the sticky error). enter never
 * fails when check is 0. leave returns r, freeing c if it was the last
 * user of a freed connection. */
int cio__redis_enter(cio_redis *c, int check);
int cio__redis_leave(cio_redis *c, int r);
/* Break the connection for good: every request completes with err, waiting
 * tasks wake. */
void cio__redis_fail(cio_redis *c, int err);

/* ---- requests (conn.c) ---- */
/* Encode a command into c->out. 0, -EINVAL, -ENOMEM (nothing added). */
int cio__redis_append(cio_redis *c, size_t argc, const char *const *argv, const size_t *lens);
/* Commands this long are written at once with cio_stream_writev, from
 * the caller's memory, instead of being copied into c->out. */
#define CIO__REDIS_WRITE_NOW (64u * 1024u)
/* Write what c->out holds, then iov[0..n-1], now. 0 or the error (the
 * connection is then broken). */
int cio__redis_write_now(cio_redis *c, const struct iovec *iov, int n);
/* Queue a request for the next `want` replies, owned by the calling task;
 * its commands are the bytes added to c->out since `mark`. dest NULL: the
 * replies go to q->one (want must be 1). NULL on ENOMEM. */
cio__redis_req *cio__redis_req_add(cio_redis *c, size_t want, cio_redis_reply **dest, size_t mark);
/* Wait until q is done (then 0; q->status says how it went) or the caller
 * gives up (the error; q is then abandoned, or withdrawn with its commands
 * if they were not written yet). Either way q belongs to the connection
 * again afterwards unless 0 is returned: then release it with req_done. */
int cio__redis_wait(cio_redis *c, cio__redis_req *q);
void cio__redis_req_done(cio_redis *c, cio__redis_req *q);
/* q->status, with the last error set to words for it. */
int cio__redis_req_status(cio_redis *c, cio__redis_req *q);
/* Send n commands encoded in bytes[0..len-1] and wait for their n replies,
 * which go to dest[0..n-1] (the caller's, zeroed; replies that arrived stay
 * there whatever the result). Returns 0 or the failure (with words). */
int cio__redis_send(cio_redis *c, const char *bytes, size_t len, size_t n, cio_redis_reply **dest);
/* Hand a reply to the head request (pub/sub routing). */
void cio__redis_complete_head(cio_redis *c, cio_redis_reply *r, int status);
/* The head request is done, however many replies it still expected. */
void cio__redis_finish_head(cio_redis *c);
/* Wait until done(c, arg) holds, reading as needed, with *slot pointing to
 * the waiting task while it sleeps (cio_task_wake(*slot) wakes it to look
 * again). 0 or an error. */
int cio__redis_wait_for(cio_redis *c, int (*done)(cio_redis *, void *), void *arg);
/* Wake the task in c->idle_waiter (a message arrived, a request ended). */
void cio__redis_wake_idle(cio_redis *c);

/* ---- commands (redis.c) ---- */
/* Send a command and wait for its reply: the body of cio_redis_command,
 * between enter and leave. */
int cio__redis_call(cio_redis *c, size_t argc, const char *const *argv, const size_t *lens,
                    cio_redis_reply **reply);

/* ---- URLs (url.c) ---- */
typedef struct cio__redis_url {
  char *mem;        /* owns the strings below */
  const char *host; /* NULL for unix */
  const char *path; /* unix socket path, else NULL */
  const char *user; /* NULL when not given */
  const char *pass; /* NULL when not given */
  int port;
  long db;
  int tls;
} cio__redis_url;
/* 0 or -EINVAL (the last error says why) / -ENOMEM. */
int cio__redis_url_parse(const char *url, cio__redis_url *u);
void cio__redis_url_free(cio__redis_url *u);

/* ---- errors (error.c) ---- */
/* Set this thread's last error (printf-like); returns code. */
int cio__redis_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The last error from a server error reply; returns -CIO_EREDIS. */
int cio__redis_error_reply(const cio_redis_reply *r);

#endif
