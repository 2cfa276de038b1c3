/* redis.c - connections: open (URL, connect, HELLO/AUTH/SELECT), commands,
 * close (cio/redis.h). */
#include "redis_internal.h"

#include <cio/tls.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_CONNECT_TIMEOUT 10.0

/* ---- commands ---- */

/* The command at c->out[mark...] (or already written): queue its request,
 * wait for the reply. */
static int call_queued(cio_redis *c, size_t mark, int written, cio_redis_reply **reply) {
  cio__redis_req *q = cio__redis_req_add(c, 1, NULL, mark);
  if (!q) {
    c->out.len = mark;
    cio__redis_error(-ENOMEM, "out of memory");
    if (written) cio__redis_fail(c, -ENOMEM); /* its reply would meet another */
    return -ENOMEM;
  }
  q->written = (uint8_t)written;
  int r = cio__redis_wait(c, q);
  if (r < 0) return r;
  r = cio__redis_req_status(c, q);
  cio_redis_reply *rep = q->one;
  q->one = NULL;
  cio__redis_req_done(c, q);
  if (rep && rep->type == CIO_REDIS_ERROR) {
    r = cio__redis_error_reply(rep);
    cio_redis_reply_free(rep);
    rep = NULL;
  }
  if (reply)
    *reply = rep;
  else
    cio_redis_reply_free(rep);
  return r;
}

#define WRITE_NOW_MAX_ARGS 64

/* A command with long arguments (a big SET) goes out at once from the
 * caller's memory, gathered, instead of being copied into c->out first.
 * Returns 1 when written, 0 when the command is not such a one, or the
 * error. */
static int write_long_command(cio_redis *c, size_t argc, const char *const *argv,
                              const size_t *lens) {
  if (argc < 1 || argc > WRITE_NOW_MAX_ARGS || !argv) return 0;
  size_t total = 0;
  for (size_t i = 0; i < argc; i++) {
    if (!argv[i]) return 0; /* the ordinary path reports it */
    total += lens ? lens[i] : strlen(argv[i]);
  }
  if (total < CIO__REDIS_WRITE_NOW) return 0;
  static const char crlf[] = "\r\n";
  char heads[WRITE_NOW_MAX_ARGS + 1][24];
  struct iovec iov[3 * WRITE_NOW_MAX_ARGS + 1];
  int n = 0;
  iov[n++] = (struct iovec){heads[0], (size_t)snprintf(heads[0], 24, "*%zu\r\n", argc)};
  for (size_t i = 0; i < argc; i++) {
    size_t len = lens ? lens[i] : strlen(argv[i]);
    iov[n++] = (struct iovec){heads[i + 1], (size_t)snprintf(heads[i + 1], 24, "$%zu\r\n", len)};
    iov[n++] = (struct iovec){(void *)(uintptr_t)argv[i], len};
    iov[n++] = (struct iovec){(void *)(uintptr_t)crlf, 2};
  }
  int r = cio__redis_write_now(c, iov, n);
  return r < 0 ? r : 1;
}

int cio__redis_call(cio_redis *c, size_t argc, const char *const *argv, const size_t *lens,
                    cio_redis_reply **reply) {
  size_t mark = c->out.len;
  int r = write_long_command(c, argc, argv, lens);
  if (r == 0) r = cio__redis_append(c, argc, argv, lens);
  if (r < 0) return r;
  return call_queued(c, r == 1 ? c->out.len : mark, r == 1, reply);
}

int cio_redis_command(cio_redis *c, size_t argc, const char *const *argv, const size_t *lens,
                      cio_redis_reply **reply) {
  if (reply) *reply = NULL;
  if (!c) return cio__redis_error(-EINVAL, "no connection");
  int r = cio__redis_enter(c, 1);
  if (r < 0) return r;
  r = cio_checkpoint();
  if (r == 0) r = cio__redis_call(c, argc, argv, lens, reply);
  return cio__redis_leave(c, r);
}

int cio_redis_vcommandf(cio_redis *c, cio_redis_reply **reply, const char *fmt, va_list ap) {
  if (reply) *reply = NULL;
  if (!c) return cio__redis_error(-EINVAL, "no connection");
  int r = cio__redis_enter(c, 1);
  if (r < 0) return r;
  r = cio_checkpoint();
  size_t mark = c->out.len;
  if (r == 0 && (r = cio__resp_append_vformat(&c->out, fmt, ap)) < 0) {
    c->out.len = mark;
    if (r == -EINVAL)
      cio__redis_error(r, "bad command format \"%s\"", fmt ? fmt : "(null)");
    else
      cio__redis_error(r, "out of memory");
  }
  if (r == 0) r = call_queued(c, mark, 0, reply);
  return cio__redis_leave(c, r);
}

int cio_redis_commandf(cio_redis *c, cio_redis_reply **reply, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = cio_redis_vcommandf(c, reply, fmt, ap);
  va_end(ap);
  return r;
}

/* ---- opening ---- */

static int starts_with(const cio_redis_reply *r, const char *prefix) {
  size_t n = strlen(prefix);
  return r && r->type == CIO_REDIS_ERROR && r->len >= n && strncmp(r->str, prefix, n) == 0;
}

static int auth_failure(const cio_redis_reply *r) {
  return starts_with(r, "WRONGPASS") || starts_with(r, "NOAUTH") || starts_with(r, "NOPERM") ||
         starts_with(r, "ERR invalid password") || starts_with(r, "ERR AUTH");
}

/* An error reply of the handshake: its words, and the code for it. */
static int handshake_error(const cio_redis_reply *r, const char *what) {
  cio__redis_error_reply(r);
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", cio_redis_last_error());
  int code = auth_failure(r) ? -EACCES : -CIO_EREDIS;
  return cio__redis_error(code, "%s: %s", what, msg);
}

static void free_replies(cio_redis_reply **r, size_t n) {
  for (size_t i = 0; i < n; i++) {
    cio_redis_reply_free(r[i]);
    r[i] = NULL;
  }
}

typedef struct handshake {
  const cio__redis_url *u;
  const char *name;
  char db[24];
} handshake;

/* Queue the commands of one handshake round: HELLO 3 (with AUTH and
 * SETNAME) when hello, else AUTH and CLIENT SETNAME; then SELECT. Returns
 * how many, or -ENOMEM. kinds[] says which is which. */
enum { K_HELLO, K_AUTH, K_NAME, K_SELECT };

static int queue_round(const handshake *h, int hello, cio__resp_out *o, int *kinds) {
  const char *argv[8];
  size_t argc = 0;
  int n = 0, r = 0;
  const char *user = h->u->user ? h->u->user : "default";
  if (hello) {
    argv[argc++] = "HELLO";
    argv[argc++] = "3";
    if (h->u->pass) {
      argv[argc++] = "AUTH";
      argv[argc++] = user;
      argv[argc++] = h->u->pass;
    }
    if (h->name) {
      argv[argc++] = "SETNAME";
      argv[argc++] = h->name;
    }
    r = cio__resp_append_command(o, argc, argv, NULL);
    kinds[n++] = K_HELLO;
  } else {
    if (h->u->pass) {
      argv[argc++] = "AUTH";
      if (h->u->user) argv[argc++] = h->u->user;
      argv[argc++] = h->u->pass;
      r = cio__resp_append_command(o, argc, argv, NULL);
      kinds[n++] = K_AUTH;
    }
    if (r == 0 && h->name) {
      const char *setname[] = {"CLIENT", "SETNAME", h->name};
      r = cio__resp_append_command(o, 3, setname, NULL);
      kinds[n++] = K_NAME;
    }
  }
  if (r == 0 && h->u->db) {
    const char *select[] = {"SELECT", h->db};
    r = cio__resp_append_command(o, 2, select, NULL);
    kinds[n++] = K_SELECT;
  }
  return r < 0 ? r : n;
}

/* One round trip: HELLO 3 or AUTH, SETNAME, SELECT. *retry is set when the
 * server does not know HELLO (Redis < 6) and RESP2 is acceptable. */
static int handshake_round(cio_redis *c, const handshake *h, int hello, int may_fall_back,
                           int *retry) {
  cio__resp_out o = {NULL, 0, 0};
  int kinds[4];
  cio_redis_reply *rep[4] = {NULL, NULL, NULL, NULL};
  int n = queue_round(h, hello, &o, kinds);
  int r = n;
  *retry = 0;
  if (n == 0) return 0;
  if (n > 0) r = cio__redis_send(c, o.p, o.len, (size_t)n, rep);
  cio__resp_out_free(&o);
  if (r == -ENOMEM && n < 0) r = cio__redis_error(-ENOMEM, "out of memory");
  for (int i = 0; r == 0 && i < n; i++) {
    if (!rep[i] || rep[i]->type != CIO_REDIS_ERROR) {
      if (kinds[i] == K_HELLO) c->protocol = 3;
      continue;
    }
    if (kinds[i] == K_HELLO && may_fall_back &&
        (starts_with(rep[i], "NOPROTO") || starts_with(rep[i], "ERR unknown command"))) {
      *retry = 1;
      break;
    }
    r = handshake_error(rep[i], kinds[i] == K_HELLO  ? "HELLO 3"
                                : kinds[i] == K_AUTH ? "AUTH"
                                : kinds[i] == K_NAME ? "CLIENT SETNAME"
                                                     : "SELECT");
  }
  free_replies(rep, 4);
  return r;
}

static int handshake_run(cio_redis *c, const cio__redis_url *u, const cio_redis_opts *o) {
  handshake h = {u, o ? o->client_name : NULL, ""};
  snprintf(h.db, sizeof h.db, "%ld", u->db);
  int protocol = o ? o->protocol : 0;
  if (protocol != 0 && protocol != 2 && protocol != 3)
    return cio__redis_error(-EINVAL, "protocol must be 2 or 3");
  int retry;
  int r = handshake_round(c, &h, protocol != 2, protocol == 0, &retry);
  if (r == 0 && retry) r = handshake_round(c, &h, 0, 0, &retry);
  return r;
}

static int connect_stream(const cio__redis_url *u, const cio_redis_opts *o, cio_tls_ctx **own_tls,
                          cio_stream **s) {
  cio_connect_opts co;
  memset(&co, 0, sizeof co);
  /* The connection reads into its own buffer (replies point into it), so
   * the stream's needs no size: reads of 64 bytes and more bypass it. */
  co.stream.read_buffer = 256;
  if (u->tls) {
    co.tls = o ? o->tls : NULL;
    if (!co.tls) {
      co.tls = *own_tls = cio_tls_ctx_new_client(NULL);
      if (!co.tls) return cio__redis_error(-errno, "TLS: %s", cio_tls_last_error());
    }
  }
  int r = u->path ? cio_open_unix_connection(u->path, &co, s)
                  : cio_open_connection(u->host, u->port, &co, s);
  if (r == -CIO_ECERT || r == -CIO_ETLS)
    return cio__redis_error(r, "TLS: %s", cio_tls_last_error());
  if (r < 0 && u->path)
    return cio__redis_error(r, "cannot connect to %s: %s", u->path, cio_strerror(r));
  if (r < 0)
    return cio__redis_error(r, "cannot connect to %s:%d: %s", u->host, u->port, cio_strerror(r));
  return 0;
}

static int open_within(const cio__redis_url *u, const cio_redis_opts *o, cio_redis **out) {
  cio_tls_ctx *own_tls = NULL;
  cio_stream *s = NULL;
  int r = connect_stream(u, o, &own_tls, &s);
  if (r < 0) {
    cio_tls_ctx_free(own_tls);
    return r;
  }
  cio_redis *c = cio__redis_new(s, o);
  if (!c) {
    cio_stream_free(s);
    cio_tls_ctx_free(own_tls);
    return cio__redis_error(-ENOMEM, "out of memory");
  }
  c->own_tls = own_tls;
  cio__redis_enter(c, 0);
  r = handshake_run(c, u, o);
  cio__redis_leave(c, r);
  if (r < 0) {
    cio_redis_free(c);
    return r;
  }
  *out = c;
  return 0;
}

int cio_redis_open(const char *url, const cio_redis_opts *opts, cio_redis **out) {
  if (!out) return cio__redis_error(-EINVAL, "no place for the connection");
  *out = NULL;
  int r = cio_checkpoint();
  if (r < 0) return cio__redis_error(r, "%s", cio_strerror(r));
  cio__redis_url u;
  r = cio__redis_url_parse(url, &u);
  if (r < 0) return r;
  double limit = opts && opts->connect_timeout ? opts->connect_timeout : DEFAULT_CONNECT_TIMEOUT;
  cio_timeout_scope sc;
  int scoped = limit >= 0 && cio_timeout_begin(&sc, limit) == 0;
  r = open_within(&u, opts, out);
  if (scoped && cio_timeout_end(&sc) && r == -ETIMEDOUT)
    cio__redis_error(r, "no ready server within %g s", limit);
  cio__redis_url_free(&u);
  return r;
}

/* ---- closing ---- */

static int fifo_empty(cio_redis *c, void *arg) {
  (void)arg;
  return c->head == NULL;
}

int cio_redis_close(cio_redis *c) {
  if (!c) return -EINVAL;
  if (c->freed) return -EBADF;
  int first = !c->closing;
  c->closing = 1;
  if (!first || !c->s) return c->err == -EBADF ? 0 : c->err;
  cio__redis_enter(c, 0);
  int r = 0;
  if (!c->err && c->head) {
    if (c->idle_waiter) {
      r = -EBUSY;
    } else {
      c->idle_waiter = cio_current();
      r = cio__redis_wait_for(c, fifo_empty, NULL);
      if (!c->freed) c->idle_waiter = NULL;
    }
  }
  if (!c->freed) {
    if (r == 0 && c->err) r = c->err;
    if (r < 0 && c->head) { /* interrupted: the rest fail */
      cio__redis_error(-EBADF, "the connection was closed");
      cio__redis_fail(c, -EBADF);
    }
    if (!c->err) {
      c->err = -EBADF;
      snprintf(c->errmsg, sizeof c->errmsg, "the connection is closed");
    }
    cio_stream_close(c->s); /* queued output still goes, in the background */
  }
  return cio__redis_leave(c, r);
}

int cio_redis_status(const cio_redis *c) {
  if (!c) return -EINVAL;
  if (c->freed || c->closing) return -EBADF;
  return c->err;
}

int cio_redis_protocol(const cio_redis *c) { return c ? c->protocol : 0; }

size_t cio_redis_pending(const cio_redis *c) { return c ? c->pending : 0; }
