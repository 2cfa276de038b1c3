/* conn.c - one HTTP/1.1 connection: a task that parses requests where they
 * arrive (the stream's input buffer), runs the middleware chain and the
 * route, and queues the responses; pipelined requests are answered in one
 * write. Every wait is bounded: the first byte of a request (keep-alive or
 * head timeout), the rest of its head (head timeout: 408), its body (body
 * timeout), the peer taking our output (send timeout). */
#include "http_internal.h"

#include "cio/log.h"
#include "cio/url.h"
#include "utf8.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define OUT_FLUSH_AT (64u * 1024u) /* pipelined answers queued before a write */

enum { HEAD_CLOSE = 0, HEAD_OK = 1 };

/* Answer a request that cannot be served (malformed, too large, too slow)
 * and close. */
static int answer_and_close(cio__conn *c, int status) {
  cio_http_res *res = &c->res;
  cio__http_res_reset(res, c);
  c->closing = 1;
  cio__http_res_fail(res, status, cio_http_status_reason(status));
  res->close = 1;
  cio__http_res_finish(res);
  return HEAD_CLOSE;
}

static int parse_error(cio__conn *c, ssize_t r) {
  int status = r == -E2BIG ? 431 : r == -EPROTONOSUPPORT ? 505 : r == -ENOTSUP ? 501 : 400;
  cio_log_debug("refused request: %s (%d)", cio_http_parser_error(&c->parser), status);
  return answer_and_close(c, status);
}

/* Wait for, then parse, the next request head. */
static int read_head(cio__conn *c, unsigned nreq) {
  const cio_http_app_opts *o = &c->app->o;
  const void *p;
  size_t n = cio_stream_peek(c->s, &p);
  if (n == 0) {
    if (c->srv->closing || cio__http_flush(c) < 0) return HEAD_CLOSE;
    /* Bounded by the server's sweep (server.c), not a timer per wait: a
     * kept-alive connection costs nothing per request for its timeout. */
    c->idle = 1;
    c->idle_gen++;
    c->idle_limit = cio__http_idle_ticks(c->srv, nreq ? o->keepalive_timeout : o->head_timeout);
    ssize_t f = cio_stream_fill(c->s);
    c->idle = 0;
    if (f <= 0) return HEAD_CLOSE; /* gone, quiet, or we are shutting down */
    n = cio_stream_peek(c->s, &p);
  }
  cio_http_req *req = &c->req;
  cio__http_req_reset(req, c);
  cio_http_parser_init(&c->parser);
  /* The head timeout runs from the first byte; a head that came whole
   * (nearly always) never needs its timer: it starts at the first wait. */
  cio_timeout_scope sc;
  int scoped = 0, verdict;
  for (;;) {
    size_t lim = n < o->max_head ? n : o->max_head;
    ssize_t r = cio_http_parse_request(&c->parser, p, lim, &req->head, o->max_headers);
    if (r > 0) {
      req->head_len = (size_t)r;
      req->base = p;
      verdict = HEAD_OK;
      break;
    }
    if (r != -EAGAIN) {
      verdict = parse_error(c, r);
      break;
    }
    if (n >= o->max_head) {
      verdict = answer_and_close(c, c->parser.line_done ? 431 : 414);
      break;
    }
    if (!scoped) {
      cio_timeout_begin(&sc, o->head_timeout);
      scoped = 1;
    }
    ssize_t f = cio__http_flush(c);
    if (f == 0) f = cio_stream_fill(c->s);
    if (f <= 0) {
      int expired = cio_timeout_expired(&sc);
      cio_timeout_end(&sc);
      if (f == -ETIMEDOUT && expired) return answer_and_close(c, 408);
      if (f == -EMSGSIZE) return answer_and_close(c, 431);
      return HEAD_CLOSE; /* EOF mid-head, a reset, a cancellation */
    }
    n = cio_stream_peek(c->s, &p);
  }
  if (scoped) cio_timeout_end(&sc);
  return verdict;
}

/* Split the target into path and query; decode the path. */
static int setup_target(cio_http_req *req) {
  const char *t = req->head.target;
  size_t n = req->head.target_len, ps = 0, pe;
  if (t[0] != '/' && req->head.method_id != CIO_HTTP_CONNECT && !(n == 1 && t[0] == '*')) {
    /* absolute-form: scheme "://" authority [path] */
    const char *a = memchr(t, ':', n);
    ps = (size_t)(a - t) + 3;
    while (ps < n && t[ps] != '/' && t[ps] != '?') ps++;
  }
  const char *q = memchr(t + ps, '?', n - ps);
  pe = q ? (size_t)(q - t) : n;
  req->raw_path = t + ps;
  req->raw_path_len = pe - ps;
  req->query = q ? q + 1 : t + n;
  req->query_len = q ? n - pe - 1 : 0;
  cio__arena *a = &req->c->arena;
  size_t rl = req->raw_path_len;
  char *d = cio__arena_alloc(a, rl + 2);
  if (!d) return -ENOMEM;
  ssize_t dl = cio_url_decode(d, req->raw_path, rl, 0);
  if (dl == 0) d[dl++] = '/'; /* "http://host" */
  size_t valid = cio__utf8_valid_prefix(d, (size_t)dl);
  if (valid < (size_t)dl) {
    char *fixed = cio__arena_alloc(a, 3 * (size_t)dl + 1);
    if (!fixed) return -ENOMEM;
    dl = (ssize_t)cio__utf8_repair(fixed, d, (size_t)dl);
    d = fixed;
  }
  d[dl] = '\0';
  req->path = d;
  req->path_len = (size_t)dl;
  return 0;
}

static void access_log(cio__conn *c) {
  cio_http_req *req = &c->req;
  char peer[64];
  if (cio_stream_peer_string(c->s, peer, sizeof peer) < 0) snprintf(peer, sizeof peer, "-");
  double ms = (double)(cio_now_ns() - req->t0) / 1e6;
  cio_log_info("%s - \"%.*s %.*s HTTP/1.%d\" %d %s %lluB %.2fms", peer, (int)req->head.method_len,
               req->head.method, (int)req->head.target_len, req->head.target,
               req->head.version - 10, c->res.status, cio_http_status_reason(c->res.status),
               (unsigned long long)c->res.bytes, ms);
}

/* What a failed body read means for the client. */
static int body_status(int e) {
  switch (e) {
  case -EMSGSIZE: return 413;
  case -ETIMEDOUT: return 408;
  case -EBADMSG: return 400;
  default: return 0;
  }
}

static void handle(cio__conn *c) {
  cio_http_req *req = &c->req;
  cio_http_res *res = &c->res;
  const cio_http_head *h = &req->head;
  if (c->app->o.access_log) req->t0 = cio_now_ns();
  if (h->body == CIO_HTTP_BODY_CHUNKED) cio_http_chunked_init(&req->chunked);
  cio__http_res_reset(res, c);
  int keep = h->version == 11
                 ? !(h->flags & CIO_HTTP_F_CLOSE)
                 : (h->flags & CIO_HTTP_F_KEEP_ALIVE) && !(h->flags & CIO_HTTP_F_CLOSE);
  if (!keep || c->srv->closing) c->closing = 1;
  int r = setup_target(req);
  if (r < 0) {
    cio__http_res_fail(res, 500, "Internal Server Error");
  } else if (h->version == 11 &&
             (!(h->flags & CIO_HTTP_F_HOST) || (h->flags & CIO_HTTP_F_HOST_MANY))) {
    /* RFC 9112 3.2: exactly one Host in HTTP/1.1 */
    c->closing = 1;
    cio__http_res_fail(res, 400, "Bad Request");
  } else if (h->flags & CIO_HTTP_F_EXPECT_OTHER) {
    c->closing = 1;
    cio__http_res_fail(res, 417, "Expectation Failed");
  } else {
    req->mw_next = 0;
    r = cio_http_next(req, res);
    if (r < 0 && !res->started) {
      int st = body_status(r);
      if (r == -ECANCELED || (r == -EPIPE && c->closing)) {
        c->closing = 1; /* cancelled (shutdown), or the client went away */
        return;
      }
      if (st) {
        c->closing = 1;
        cio__http_res_rewind(res);
        cio__http_res_fail(res, st, cio_http_status_reason(st));
      } else {
        cio_log_error("%.*s %.*s: handler failed: %s", (int)h->method_len, h->method,
                      (int)h->target_len, h->target, cio_strerror(r));
        cio__http_res_rewind(res);
        cio__http_res_fail(res, 500, "Internal Server Error");
      }
    } else if (r < 0) {
      c->closing = 1; /* a started response cannot be repaired */
      cio_log_error("%.*s %.*s: handler failed after the response began: %s", (int)h->method_len,
                    h->method, (int)h->target_len, h->target, cio_strerror(r));
    }
  }
  int e = 0;
  if (!res->started)
    e = cio__http_res_finish(res);
  else if (!res->ended && r >= 0)
    e = cio_http_res_end(res);
  if (e < 0) c->closing = 1;
  if (c->app->o.access_log) access_log(c);
  if (!c->closing && cio__http_req_discard(req) < 0) c->closing = 1;
}

/* Give up on a peer that does not take our output: later writes fail at
 * once, so nothing waits on it any more, and the close that follows resets
 * the connection, so the kernel drops what it still held for it too
 * (nginx's reset_timedout_connection). */
static void abandon(cio__conn *c) {
  int fd = cio_stream_fd(c->s);
  struct linger lg = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  shutdown(fd, SHUT_RDWR);
}

static cio__conn *conn_new(cio_http_server *srv, cio_stream *s) {
  cio__conn *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->hdrs = malloc(srv->app->o.max_headers * sizeof *c->hdrs);
  if (!c->hdrs) {
    free(c);
    return NULL;
  }
  c->srv = srv;
  c->app = srv->app;
  c->s = s;
  c->task = cio_current();
  c->res.file_fd = -1;
  return c;
}

static void conn_free(cio__conn *c) {
  cio__http_res_reset(&c->res, c);
  cio__arena_free(&c->arena);
  cio__buf_free(&c->body);
  cio__buf_free(&c->res_hdrs);
  cio__buf_free(&c->res_body);
  cio__buf_free(&c->out);
  free(c->hdrs);
  free(c);
}

int cio__http_conn_main(cio_stream *s, void *arg) {
  cio_http_server *srv = arg;
  cio__conn *c = conn_new(srv, s);
  if (!c) return -ENOMEM;
  srv->refs++;
  cio__hlist_push(&srv->conns, &c->link);
  srv->nconns++;
  if (srv->sweep && !cio_timer_active(srv->sweep)) cio_timer_start(srv->sweep, srv->sweep_period);
  for (unsigned nreq = 0; !c->closing; nreq++) {
    if (read_head(c, nreq) != HEAD_OK) break;
    handle(c);
    cio__arena_reset(&c->arena);
    if (c->out.len >= OUT_FLUSH_AT && cio__http_flush(c) < 0) break;
  }
  /* What is still queued goes out, within the send timeout. */
  int e = cio__http_flush(c);
  if (e == 0 && cio_stream_write_buffered(s)) {
    cio_timeout_scope sc;
    cio_timeout_begin(&sc, c->app->o.send_timeout);
    e = cio_stream_flush(s);
    cio_timeout_end(&sc);
  }
  if (e < 0 && e != -ECANCELED) abandon(c);
  cio__hlist_remove(&c->link);
  srv->nconns--;
  conn_free(c);
  cio__http_server_unref(srv);
  return 0;
}
