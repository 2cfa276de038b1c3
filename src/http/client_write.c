/* client_write.c - sending a request: the head, then the body from a
 * buffer, a file (sendfile) or a stream (chunked), every wait for the
 * server bounded by the read timeout. */
#include "client_internal.h"

#include "cio/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#define PIECE (64 * 1024) /* buffer bodies are written in pieces this big */

cio_http_body cio_http_body_buffer(const void *data, size_t len, const char *content_type) {
  return (cio_http_body){
      .kind = CIO__BODY_BUFFER, .data = data, .len = len, .content_type = content_type};
}

cio_http_body cio_http_body_file(int fd, off_t offset, size_t len, const char *content_type) {
  return (cio_http_body){
      .kind = CIO__BODY_FILE, .fd = fd, .offset = offset, .len = len, .content_type = content_type};
}

cio_http_body cio_http_body_stream(cio_http_body_fn fn, void *arg, const char *content_type) {
  return (cio_http_body){
      .kind = CIO__BODY_STREAM, .fn = fn, .arg = arg, .content_type = content_type};
}

cio_http_body cio_http_body_json(cio_json *j) {
  return (cio_http_body){.kind = CIO__BODY_JSON, .json = j, .content_type = "application/json"};
}

/* A wait on the stream bounded by the read timeout. */
static int io_wait(cio__hconn *c, int (*fn)(cio_stream *), double t, const char *what) {
  cio_timeout_scope sc;
  if (t >= 0) cio_timeout_begin(&sc, t);
  int r = fn(c->s);
  if (t >= 0 && cio_timeout_end(&sc) && r == -ETIMEDOUT)
    return cio__hc_fail(r, "read timeout (%.3g s) %s", t, what);
  if (r < 0) cio__hc_fail_io(r, what);
  return r;
}

ssize_t cio__conn_fill(cio__hconn *c, double t) {
  cio_timeout_scope sc;
  if (t >= 0) cio_timeout_begin(&sc, t);
  ssize_t r = cio_stream_fill(c->s);
  if (t >= 0 && cio_timeout_end(&sc) && r == -ETIMEDOUT)
    return cio__hc_fail(-ETIMEDOUT, "read timeout (%.3g s): the server sent nothing", t);
  if (r < 0 && r != -EMSGSIZE) cio__hc_fail_io((int)r, "reading the response");
  return r;
}

static bool user_header_ok(const cio_http_field *f) {
  if (!f->name || !f->value || !cio__is_token(f->name, strlen(f->name))) return false;
  for (const char *v = f->value; *v; v++)
    if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f) return false;
  return true;
}

/* Defaults a user header replaces. */
enum { H_HOST = 1, H_UA = 2, H_ACCEPT = 4, H_AE = 8, H_CT = 16, H_AUTH = 32, H_COOKIE = 64 };

static unsigned replaced_by(const char *name) {
  static const struct {
    const char *n;
    unsigned bit;
  } t[] = {{"host", H_HOST},          {"user-agent", H_UA},   {"accept", H_ACCEPT},
           {"accept-encoding", H_AE}, {"content-type", H_CT}, {"authorization", H_AUTH},
           {"cookie", H_COOKIE}};
  size_t n = strlen(name);
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (cio__ascii_ieq(name, n, t[i].n)) return t[i].bit;
  return 0;
}

/* Whether user header f is sent on this attempt. */
static bool user_header_sent(const cio__hreq *q, const cio_http_field *f) {
  size_t n = strlen(f->name);
  if (!q->send_auth &&
      (cio__ascii_ieq(f->name, n, "authorization") || cio__ascii_ieq(f->name, n, "cookie")))
    return false;
  if (!q->send_body && n > 8 && cio__ascii_ieq(f->name, 8, "content-")) return false;
  return true;
}

static bool has_body(const cio__hreq *q) {
  return q->send_body && q->rq->body.kind != CIO__BODY_NONE;
}

static int body_len(const cio__hreq *q, const char **data, size_t *len) {
  const cio_http_body *b = &q->rq->body;
  *data = NULL;
  *len = b->len;
  if (b->kind == CIO__BODY_BUFFER) {
    if (!b->data && b->len) return cio__hc_fail(-EINVAL, "body buffer is NULL");
    *data = b->data;
  } else if (b->kind == CIO__BODY_JSON) {
    if (!b->json || cio_json_error(b->json) || !cio_json_complete(b->json))
      return cio__hc_fail(-EINVAL, "JSON body with an error or an incomplete value");
    *data = cio_json_data(b->json, len);
  } else if (b->kind == CIO__BODY_FILE) {
    if (b->fd < 0 || b->offset < 0) return cio__hc_fail(-EINVAL, "bad file body");
  } else if (b->kind == CIO__BODY_STREAM) {
    if (!b->fn) return cio__hc_fail(-EINVAL, "stream body without a function");
  } else if (b->kind != CIO__BODY_NONE) {
    return cio__hc_fail(-EINVAL, "bad body");
  }
  return 0;
}

static void build_head(cio_http_session *s, cio__buf *b, const cio__hreq *q, const char *data,
                       size_t len) {
  const cio_http_request *rq = q->rq;
  unsigned replaced = 0;
  for (size_t i = 0; i < rq->num_headers; i++)
    if (user_header_sent(q, &rq->headers[i])) replaced |= replaced_by(rq->headers[i].name);
  cio__buf_add(b, q->method, q->method_len);
  cio__buf_addc(b, ' ');
  if (q->absolute) {
    cio__buf_adds(b, "http://");
    cio__url_hostport(q->url, b, false);
  }
  cio__buf_adds(b, q->url->target);
  cio__buf_adds(b, " HTTP/1.1\r\n");
  if (!(replaced & H_HOST)) {
    cio__buf_adds(b, "Host: ");
    cio__url_hostport(q->url, b, false);
    cio__buf_adds(b, "\r\n");
  }
  if (!(replaced & H_UA)) {
    cio__buf_adds(b, "User-Agent: ");
    cio__buf_adds(b, s->user_agent);
    cio__buf_adds(b, "\r\n");
  }
  if (!(replaced & H_ACCEPT)) cio__buf_adds(b, "Accept: */*\r\n");
  if (!(replaced & H_AE) && s->decompress && !q->head)
    cio__buf_adds(b, "Accept-Encoding: gzip, deflate\r\n");
  if (q->auth && !(replaced & H_AUTH)) {
    cio__buf_adds(b, "Authorization: ");
    cio__buf_adds(b, q->auth);
    cio__buf_adds(b, "\r\n");
  }
  if (q->absolute && s->proxy_auth) {
    cio__buf_adds(b, "Proxy-Authorization: ");
    cio__buf_adds(b, s->proxy_auth);
    cio__buf_adds(b, "\r\n");
  }
  if (s->cookies_on && !(replaced & H_COOKIE)) cio__cookies_header(s, q->url, b);
  if (has_body(q)) {
    const cio_http_body *body = &rq->body;
    if (body->content_type && !(replaced & H_CT)) {
      cio__buf_adds(b, "Content-Type: ");
      cio__buf_adds(b, body->content_type);
      cio__buf_adds(b, "\r\n");
    }
    if (body->kind == CIO__BODY_STREAM) {
      cio__buf_adds(b, "Transfer-Encoding: chunked\r\n");
    } else {
      cio__buf_adds(b, "Content-Length: ");
      cio__buf_add_u64(b, len);
      cio__buf_adds(b, "\r\n");
    }
    if (q->expect) cio__buf_adds(b, "Expect: 100-continue\r\n");
  } else if ((q->method_len == 4 && memcmp(q->method, "POST", 4) == 0) ||
             (q->method_len == 3 && memcmp(q->method, "PUT", 3) == 0) ||
             (q->method_len == 5 && memcmp(q->method, "PATCH", 5) == 0)) {
    cio__buf_adds(b, "Content-Length: 0\r\n"); /* RFC 9110 8.6 */
  }
  for (size_t i = 0; i < rq->num_headers; i++) {
    const cio_http_field *f = &rq->headers[i];
    if (!user_header_sent(q, f)) continue;
    cio__buf_adds(b, f->name);
    cio__buf_adds(b, ": ");
    cio__buf_adds(b, f->value);
    cio__buf_adds(b, "\r\n");
  }
  cio__buf_adds(b, "\r\n");
  (void)data;
}

static int check_headers(const cio_http_request *rq) {
  for (size_t i = 0; i < rq->num_headers; i++) {
    const cio_http_field *f = &rq->headers[i];
    if (!user_header_ok(f)) return cio__hc_fail(-EINVAL, "bad request header #%zu", i);
    size_t n = strlen(f->name);
    if (cio__ascii_ieq(f->name, n, "content-length") ||
        cio__ascii_ieq(f->name, n, "transfer-encoding"))
      return cio__hc_fail(-EINVAL, "%s is set by the client from the body", f->name);
  }
  return 0;
}

static int send_buffer(cio__hconn *c, const cio__hreq *q, const char *data, size_t len) {
  while (len) {
    size_t n = len < PIECE ? len : PIECE;
    int r = cio_stream_write(c->s, data, n);
    if (r < 0) return cio__hc_fail_io(r, "sending the body");
    if ((r = io_wait(c, cio_stream_drain, q->read_timeout, "sending the body")) < 0) return r;
    data += n;
    len -= n;
  }
  return 0;
}

static int send_file(cio__hconn *c, const cio__hreq *q) {
  const cio_http_body *b = &q->rq->body;
  size_t done = 0;
  while (done < b->len) {
    size_t n = b->len - done < 4 * PIECE ? b->len - done : 4 * PIECE, sent = 0;
    cio_timeout_scope sc;
    double t = q->read_timeout;
    if (t >= 0) cio_timeout_begin(&sc, t);
    ssize_t r = cio_stream_sendfile(c->s, b->fd, b->offset + (off_t)done, n, &sent);
    if (t >= 0 && cio_timeout_end(&sc) && r == -ETIMEDOUT)
      return cio__hc_fail(-ETIMEDOUT, "read timeout (%.3g s) sending the body", t);
    if (r < 0) return cio__hc_fail_io((int)r, "sending the body file");
    if ((size_t)r < n)
      return cio__hc_fail(-EIO, "file shorter than the body (%zu of %zu bytes)", done + (size_t)r,
                          b->len);
    done += n;
  }
  return 0;
}

static int send_chunked(cio__hconn *c, const cio__hreq *q, bool *started) {
  const cio_http_body *b = &q->rq->body;
  char *buf = malloc(16 * 1024);
  if (!buf) return cio__hc_fail(-ENOMEM, "out of memory");
  int r = 0;
  for (;;) {
    *started = true;
    ssize_t n = b->fn(b->arg, buf, 16 * 1024);
    if (n < 0) {
      r = cio__hc_fail((int)n, "the body stream failed: %s", cio_strerror((int)n));
      break;
    }
    if (n == 0) {
      r = cio_stream_write(c->s, "0\r\n\r\n", 5);
      if (r < 0) cio__hc_fail_io(r, "sending the body");
      break;
    }
    char size[24], crlf[2] = {'\r', '\n'};
    int sl = snprintf(size, sizeof size, "%zx\r\n", (size_t)n);
    struct iovec v[3] = {{size, (size_t)sl}, {buf, (size_t)n}, {crlf, 2}};
    r = cio_stream_writev(c->s, v, 3);
    if (r < 0) {
      cio__hc_fail_io(r, "sending the body");
      break;
    }
    if ((r = io_wait(c, cio_stream_drain, q->read_timeout, "sending the body")) < 0) break;
  }
  free(buf);
  return r;
}

int cio__write_body(cio_http_session *s, cio__hconn *c, const cio__hreq *q, bool *started) {
  (void)s;
  const char *data;
  size_t len;
  int r = body_len(q, &data, &len);
  if (r < 0) return r;
  switch (q->rq->body.kind) {
  case CIO__BODY_BUFFER:
  case CIO__BODY_JSON: return send_buffer(c, q, data, len);
  case CIO__BODY_FILE: return send_file(c, q);
  case CIO__BODY_STREAM: return send_chunked(c, q, started);
  default: return 0;
  }
}

int cio__write_request(cio_http_session *s, cio__hconn *c, const cio__hreq *q, bool with_body,
                       bool *started) {
  const char *data;
  size_t len;
  int r = check_headers(q->rq);
  if (r == 0 && has_body(q))
    r = body_len(q, &data, &len);
  else
    data = NULL, len = 0;
  if (r < 0) return r;
  cio__buf *b = &c->head;
  cio__buf_clear(b);
  build_head(s, b, q, data, len);
  if (b->err) return cio__hc_fail(-ENOMEM, "out of memory");
  c->requests++;
  if (has_body(q) && with_body && data && len <= PIECE) { /* head and body in one write */
    struct iovec v[2] = {{b->p, b->len}, {(void *)(uintptr_t)data, len}};
    r = cio_stream_writev(c->s, v, 2);
    if (r < 0) return cio__hc_fail_io(r, "sending the request");
    return 0;
  }
  r = cio_stream_write(c->s, b->p, b->len);
  if (r < 0) return cio__hc_fail_io(r, "sending the request");
  if (!has_body(q)) return 0;
  if (!with_body) return io_wait(c, cio_stream_flush, q->read_timeout, "sending the request");
  return cio__write_body(s, c, q, started);
}
