/* client_read.c - reading a response: heads (1xx skipped, 100-continue),
 * body framing (Content-Length, chunked, until close), decoding, and the
 * public response calls.
 *
 * The body is read where it lies in the connection's stream buffer: a run
 * of body bytes is found with peek (for chunked bodies, by the decoder of
 * cio/http_parser.h) and consumed once used, so a chunked body's data is
 * copied once, into the caller's buffer or the inflater. */
#include "client_internal.h"

#include "cio/file.h"
#include "cio/json.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

/* ---- heads ---- */

/* The next response head on c (h->headers = c->hdrs). Returns its size. */
static ssize_t next_head(cio_http_session *s, cio__hconn *c, double t, cio_http_head *h,
                         bool *got) {
  cio_http_parser p;
  cio_http_parser_init(&p);
  h->headers = c->hdrs;
  for (;;) {
    const void *d;
    size_t n = cio_stream_peek(c->s, &d);
    ssize_t used = -EAGAIN;
    if (n) {
      *got = true;
      used = cio_http_parse_response(&p, d, n, h, s->max_headers);
    }
    if (used > 0) return used;
    if (used == -E2BIG)
      return cio__hc_fail(-EMSGSIZE, "response head has more than %zu fields", s->max_headers);
    if (used != -EAGAIN)
      return cio__hc_fail(-EBADMSG, "malformed response head: %s",
                          cio_http_parser_error(&p) ? cio_http_parser_error(&p) : "?");
    ssize_t f = cio__conn_fill(c, t);
    if (f == 0)
      return cio__hc_fail(-EPIPE, n ? "connection closed in the middle of the response head"
                                    : "connection closed before the response");
    if (f == -EMSGSIZE)
      return cio__hc_fail(-EMSGSIZE, "response head larger than %zu bytes", s->max_header);
    if (f < 0) return f;
  }
}

static int make_response(cio_http_session *s, cio__hconn *c, const cio_http_head *h,
                         const char *base, size_t used, cio_http_response **out) {
  size_t hoff = (sizeof(cio_http_response) + used + alignof(cio_http_header) - 1) &
                ~(alignof(cio_http_header) - 1);
  cio_http_response *r = calloc(1, hoff + h->num_headers * sizeof(cio_http_header));
  if (!r) return cio__hc_fail(-ENOMEM, "out of memory");
  memcpy(r->mem, base, used);
  r->headers = (cio_http_header *)(void *)((char *)r + hoff);
  for (size_t i = 0; i < h->num_headers; i++) {
    const cio_http_header *x = &h->headers[i];
    r->headers[i] = (cio_http_header){r->mem + (x->name - base), x->name_len,
                                      r->mem + (x->value - base), x->value_len};
  }
  r->nheaders = h->num_headers;
  r->reason = r->mem + (h->reason - base);
  r->reason_len = h->reason_len;
  r->status = h->status;
  r->version = h->version;
  r->sess = s;
  cio__session_ref(s);
  r->conn = c;
  r->framing = h->body;
  r->remaining = h->content_length;
  r->content_length = h->flags & CIO_HTTP_F_CONTENT_LENGTH ? (int64_t)h->content_length
                      : h->body == CIO_HTTP_BODY_NONE      ? 0
                                                           : -1;
  r->keep_alive =
      h->version == 11 ? !(h->flags & CIO_HTTP_F_CLOSE) : (h->flags & CIO_HTTP_F_KEEP_ALIVE) != 0;
  if (h->body == CIO_HTTP_BODY_UNTIL_CLOSE) r->keep_alive = false;
  if ((h->flags & CIO_HTTP_F_TRANSFER_ENCODING) &&
      (h->body != CIO_HTTP_BODY_CHUNKED || (h->flags & CIO_HTTP_F_TE_OTHER)))
    r->err = -ENOTSUP; /* reported by setup, once the response is whole */
  cio_http_chunked_init(&r->chunked);
  cio_stream_consume(c->s, used);
  *out = r;
  return 0;
}

int cio__read_head(cio_http_session *s, cio__hconn *c, const cio__hreq *q, cio_http_response **out,
                   bool *got) {
  cio_http_head h;
  for (;;) {
    const void *d;
    ssize_t used = next_head(s, c, q->read_timeout, &h, got);
    if (used < 0) return (int)used;
    if (h.status >= 200) {
      cio_stream_peek(c->s, &d);
      return make_response(s, c, &h, d, (size_t)used, out);
    }
    if (h.status == 101) return cio__hc_fail(-EPROTO, "unexpected 101 Switching Protocols");
    cio_stream_consume(c->s, (size_t)used); /* 1xx: informational, skipped */
  }
}

int cio__await_continue(cio_http_session *s, cio__hconn *c, const cio__hreq *q,
                        cio_http_response **out) {
  cio_http_head h;
  bool got = false;
  for (;;) {
    cio_timeout_scope sc;
    cio_timeout_begin(&sc, s->continue_timeout);
    ssize_t used = next_head(s, c, q->read_timeout, &h, &got);
    if (cio_timeout_end(&sc) && used == -ETIMEDOUT) return 1; /* send it anyway */
    if (used < 0) return (int)used;
    if (h.status >= 200) {
      const void *d;
      cio_stream_peek(c->s, &d);
      int r = make_response(s, c, &h, d, (size_t)used, out);
      return r < 0 ? r : 0;
    }
    if (h.status == 101) return cio__hc_fail(-EPROTO, "unexpected 101 Switching Protocols");
    cio_stream_consume(c->s, (size_t)used);
    if (h.status == 100) return 1;
  }
}

int cio__response_setup(cio_http_response *r, const cio__hreq *q) {
  cio_http_session *s = r->sess;
  if (q->head) {
    r->framing = CIO_HTTP_BODY_NONE;
    r->err = 0;
  }
  if (r->err == -ENOTSUP) {
    size_t n;
    const char *te = cio_http_response_header(r, "transfer-encoding", &n);
    return cio__hc_fail(-ENOTSUP, "unsupported transfer coding '%.*s'", (int)n, te ? te : "");
  }
  if (s->cookies_on) cio__cookies_store(s, q->url, r->headers, r->nheaders);
  for (size_t i = 0; i < q->rq->num_headers; i++) { /* the caller asked to close */
    const cio_http_field *f = &q->rq->headers[i];
    if (cio__ascii_ieq(f->name, strlen(f->name), "connection") &&
        cio_http_list_has(f->value, strlen(f->value), "close"))
      r->keep_alive = false;
  }
  r->read_timeout = q->read_timeout;
  if (r->framing == CIO_HTTP_BODY_NONE) {
    r->body_done = true;
    return 0;
  }
  size_t n;
  const char *enc = s->decompress ? cio_http_response_header(r, "content-encoding", &n) : NULL;
  if (enc) {
    int e = 0;
    r->dec = cio__zdec_new(enc, n, &e);
    if (e == -ENOMEM) return cio__hc_fail(-ENOMEM, "out of memory");
  }
  return 0;
}

/* ---- the connection ---- */

void cio__response_let_go(cio_http_response *r, bool clean) {
  cio__hconn *c = r->conn;
  if (!c) return;
  r->conn = NULL;
  if (clean && r->keep_alive)
    cio__pool_release(r->sess, c);
  else
    cio__pool_discard(r->sess, c);
}

static ssize_t body_fail(cio_http_response *r, int code) {
  if (code != -ECANCELED && code != -ETIMEDOUT) {
    r->err = code;
    cio__response_let_go(r, false);
  }
  return code;
}

/* ---- raw body bytes ---- */

/* The next run of body bytes as sent (before decoding): > 0 with *p, 0 at
 * the end of the body, or an error. May suspend. */
static ssize_t raw_next(cio_http_response *r, const char **p) {
  if (r->run_len) {
    *p = r->run;
    return (ssize_t)r->run_len;
  }
  cio__hconn *c = r->conn;
  for (;;) {
    const void *d;
    size_t n = cio_stream_peek(c->s, &d);
    switch (r->framing) {
    case CIO_HTTP_BODY_NONE: return 0;
    case CIO_HTTP_BODY_LENGTH:
      if (!r->remaining) return 0;
      if (n) {
        r->run = d;
        r->run_len = n < r->remaining ? n : (size_t)r->remaining;
        *p = r->run;
        return (ssize_t)r->run_len;
      }
      break;
    case CIO_HTTP_BODY_CHUNKED:
      if (cio_http_chunked_done(&r->chunked)) return 0;
      if (n) {
        const char *data;
        size_t dlen;
        ssize_t used = cio_http_chunked_decode(&r->chunked, d, n, &data, &dlen);
        if (used < 0)
          return cio__hc_fail(-EBADMSG, "bad chunked body: %s",
                              cio_http_chunked_error(&r->chunked));
        if (dlen) {
          r->run = data;
          r->run_len = dlen;
          r->run_consume = (size_t)used;
          *p = data;
          return (ssize_t)dlen;
        }
        cio_stream_consume(c->s, (size_t)used);
        if (cio_http_chunked_done(&r->chunked)) return 0;
        if (used) continue;
      }
      break;
    case CIO_HTTP_BODY_UNTIL_CLOSE:
      if (n) {
        r->run = d;
        r->run_len = n;
        *p = r->run;
        return (ssize_t)n;
      }
      break;
    }
    ssize_t f = cio__conn_fill(c, r->read_timeout);
    if (f == 0) {
      if (r->framing == CIO_HTTP_BODY_UNTIL_CLOSE) {
        r->framing = CIO_HTTP_BODY_NONE;
        return 0;
      }
      if (r->framing == CIO_HTTP_BODY_LENGTH)
        return cio__hc_fail(-EPIPE, "connection closed after %llu of %lld body bytes",
                            (unsigned long long)r->raw_read, (long long)r->content_length);
      return cio__hc_fail(-EPIPE,
                          "connection closed in the middle of a chunked body "
                          "(after %llu bytes)",
                          (unsigned long long)r->raw_read);
    }
    if (f == -EMSGSIZE) return cio__hc_fail(-EBADMSG, "bad chunked body: framing too long");
    if (f < 0) return f;
  }
}

static void raw_consume(cio_http_response *r, size_t k) {
  r->raw_read += k;
  if (r->framing == CIO_HTTP_BODY_CHUNKED) {
    r->run += k;
    r->run_len -= k;
    if (!r->run_len) cio_stream_consume(r->conn->s, r->run_consume);
    return;
  }
  if (r->framing == CIO_HTTP_BODY_LENGTH) r->remaining -= k;
  r->run_len = 0; /* peek again: consume moves the buffer */
  cio_stream_consume(r->conn->s, k);
}

/* The body has ended: check the decoder, then let the connection go. */
static ssize_t body_end(cio_http_response *r) {
  if (r->dec) {
    bool end = false;
    size_t used;
    char x;
    cio__zdec_run(r->dec, "", 0, &used, &x, 0, &end);
    if (!end) return body_fail(r, cio__hc_fail(-EBADMSG, "compressed body cut short"));
  }
  r->body_done = true;
  cio__response_let_go(r, true);
  return 0;
}

/* Up to cap decoded body bytes into buf. */
static ssize_t read_some(cio_http_response *r, char *buf, size_t cap) {
  for (;;) {
    const char *p;
    ssize_t n = raw_next(r, &p);
    if (n < 0) return body_fail(r, (int)n);
    if (n == 0) return body_end(r);
    if (!r->dec) {
      size_t k = (size_t)n < cap ? (size_t)n : cap;
      memcpy(buf, p, k);
      raw_consume(r, k);
      return (ssize_t)k;
    }
    size_t used = 0;
    bool end = false;
    ssize_t got = cio__zdec_run(r->dec, p, (size_t)n, &used, buf, cap, &end);
    if (got < 0) return body_fail(r, cio__hc_fail((int)got, "bad compressed body"));
    raw_consume(r, used);
    if (got > 0) return got;
  }
}

/* Run fn under the whole-request deadline, if any. */
static int deadline_begin(cio_http_response *r, cio_timeout_scope *sc) {
  if (r->deadline <= 0) return 0;
  cio_timeout_begin_at(sc, r->deadline);
  return 1;
}

static ssize_t deadline_end(cio_http_response *r, cio_timeout_scope *sc, int on, ssize_t v) {
  if (on && cio_timeout_end(sc) && v == -ETIMEDOUT)
    return cio__hc_fail(-ETIMEDOUT, "request timeout: the body did not arrive in time");
  (void)r;
  return v;
}

static int read_entry(cio_http_response *r) {
  if (!r) return -EINVAL;
  if (r->closed) return cio__hc_fail(-EBADF, "the response is closed");
  if (r->err) return r->err;
  return cio_checkpoint();
}

ssize_t cio_http_response_read(cio_http_response *r, void *buf, size_t cap) {
  int e = read_entry(r);
  if (e < 0) return e;
  if (r->body_done) return 0;
  if (!cap) return -EINVAL;
  cio_timeout_scope sc;
  int on = deadline_begin(r, &sc);
  ssize_t n = read_some(r, buf, cap);
  return deadline_end(r, &sc, on, n);
}

/* Read the rest of the body into r->body. An interrupted call keeps what
 * it read (r->body, r->body_len, r->body_cap) for the next call. */
static ssize_t read_all(cio_http_response *r) {
  size_t limit = r->max_body;
  if (!r->body_cap) {
    size_t cap = 4096;
    if (r->framing == CIO_HTTP_BODY_LENGTH && !r->dec) {
      if (r->remaining > limit)
        return body_fail(r, cio__hc_fail(-EFBIG, "body of %llu bytes is larger than max_body (%zu)",
                                         (unsigned long long)r->remaining, limit));
      cap = (size_t)r->remaining + 1;
    }
    if (!(r->body = malloc(cap))) return cio__hc_fail(-ENOMEM, "out of memory");
    r->body_cap = cap;
  }
  for (;;) {
    if (!r->body_done && !r->dec && r->framing == CIO_HTTP_BODY_LENGTH && !r->remaining) {
      ssize_t e = body_end(r); /* all there: no need to grow to find out */
      if (e < 0) return e;
    }
    if (r->body_done) break;
    if (r->body_cap - r->body_len < 2) {
      size_t ncap = r->body_cap * 2;
      if (ncap > limit + 2) ncap = limit + 2;
      if (ncap <= r->body_cap)
        return body_fail(r, cio__hc_fail(-EFBIG, "body larger than max_body (%zu)", limit));
      char *nb = realloc(r->body, ncap);
      if (!nb) return cio__hc_fail(-ENOMEM, "out of memory");
      r->body = nb;
      r->body_cap = ncap;
    }
    ssize_t n = read_some(r, r->body + r->body_len, r->body_cap - 1 - r->body_len);
    if (n < 0) return n;
    if (n == 0) break;
    r->body_len += (size_t)n;
    if (r->body_len > limit)
      return body_fail(r, cio__hc_fail(-EFBIG, "body larger than max_body (%zu)", limit));
  }
  r->body[r->body_len] = '\0';
  r->body_whole = true;
  return (ssize_t)r->body_len;
}

ssize_t cio_http_response_body(cio_http_response *r, const char **data) {
  if (r && r->body_whole) {
    *data = r->body;
    return (ssize_t)r->body_len;
  }
  *data = "";
  int e = read_entry(r);
  if (e < 0) return e;
  cio_timeout_scope sc;
  int on = deadline_begin(r, &sc);
  ssize_t n = deadline_end(r, &sc, on, read_all(r));
  if (n >= 0) *data = r->body;
  return n;
}

int cio_http_response_json(cio_http_response *r, cJSON **out) {
  *out = NULL;
  const char *d;
  ssize_t n = cio_http_response_body(r, &d);
  if (n < 0) return (int)n;
  size_t at = 0;
  int e = cio_json_parse(d, (size_t)n, 0, out, &at);
  if (e == -EBADMSG) return cio__hc_fail(e, "body is not JSON (at byte %zu)", at);
  if (e == -ELOOP) return cio__hc_fail(-EBADMSG, "JSON body nested too deep");
  return e;
}

ssize_t cio_http_response_save(cio_http_response *r, cio_file *f) {
  int e = read_entry(r);
  if (e < 0) return e;
  if (!f) return -EINVAL;
  char *buf = malloc(64 * 1024);
  if (!buf) return cio__hc_fail(-ENOMEM, "out of memory");
  cio_timeout_scope sc;
  int on = deadline_begin(r, &sc);
  ssize_t total = 0, n;
  while (!r->body_done && (n = read_some(r, buf, 64 * 1024)) > 0) {
    ssize_t w = cio_file_write(f, buf, (size_t)n);
    if (w < 0) {
      total = cio__hc_fail((int)w, "writing the body to the file: %s", cio_strerror((int)w));
      break;
    }
    total += n;
  }
  if (total >= 0 && !r->body_done && n < 0) total = n;
  free(buf);
  return deadline_end(r, &sc, on, total);
}

int cio__response_drain(cio_http_response *r, size_t max) {
  size_t dropped = 0;
  for (;;) {
    if (r->err) return r->err;
    if (r->body_done || !r->conn) return 0;
    const char *p;
    ssize_t n = raw_next(r, &p);
    if (n < 0) return (int)body_fail(r, (int)n);
    if (n == 0) {
      r->body_done = true;
      cio__response_let_go(r, true);
      return 0;
    }
    if (dropped + (size_t)n > max) {
      cio__response_let_go(r, false);
      return -EMSGSIZE;
    }
    dropped += (size_t)n;
    raw_consume(r, (size_t)n);
  }
}

int cio_http_response_close(cio_http_response *r) {
  if (!r || r->closed) return 0;
  r->closed = true;
  if (!r->conn) return 0;
  cio_timeout_scope sc;
  int on = deadline_begin(r, &sc);
  int e = cio__response_drain(r, 64 * 1024);
  e = (int)deadline_end(r, &sc, on, e);
  if (r->conn) cio__response_let_go(r, false); /* interrupted, or too long */
  return e == -ECANCELED || e == -ETIMEDOUT ? e : 0;
}

void cio_http_response_free(cio_http_response *r) {
  if (!r) return;
  cio__response_let_go(r, false);
  cio__zdec_free(r->dec);
  free(r->body);
  free(r->url);
  cio_http_session *s = r->sess;
  free(r);
  cio__session_unref(s);
}

/* ---- head accessors ---- */

int cio_http_response_status(const cio_http_response *r) { return r->status; }

const char *cio_http_response_reason(const cio_http_response *r, size_t *len) {
  if (len) *len = r->reason_len;
  return r->reason;
}

int cio_http_response_version(const cio_http_response *r) { return r->version; }

const char *cio_http_response_header(const cio_http_response *r, const char *name, size_t *len) {
  for (size_t i = 0; i < r->nheaders; i++) {
    if (cio__ascii_ieq(r->headers[i].name, r->headers[i].name_len, name)) {
      if (len) *len = r->headers[i].value_len;
      return r->headers[i].value;
    }
  }
  if (len) *len = 0;
  return NULL;
}

const cio_http_header *cio_http_response_headers(const cio_http_response *r, size_t *n) {
  *n = r->nheaders;
  return r->headers;
}

const char *cio_http_response_url(const cio_http_response *r) { return r->url ? r->url : ""; }

unsigned cio_http_response_redirects(const cio_http_response *r) { return r->redirects; }

int64_t cio_http_response_content_length(const cio_http_response *r) { return r->content_length; }
