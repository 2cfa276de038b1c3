/* response.c - building responses: headers kept serialized, bodies in a
 * per-connection buffer (or a file), heads written into the connection's
 * output buffer so that pipelined responses leave in one write; streamed
 * bodies chunked, with back-pressure and a send timeout. */
#include "http_internal.h"

#include "cio/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <unistd.h>

#define INLINE_BODY (16u * 1024u)   /* bodies up to this are copied after the head */
#define SEND_SLICE  (256u * 1024u)  /* larger ones leave in slices, drained between */
#define FILE_SLICE  (1024u * 1024u) /* sendfile per call, so progress resets the timeout */

void cio__http_res_reset(cio_http_res *r, cio__conn *c) {
  if (r->file_fd >= 0 && r->c) close(r->file_fd);
  memset(r, 0, offsetof(cio_http_res, json)); /* the writer is set up when used */
  r->c = c;
  r->status = 200;
  r->file_fd = -1;
  cio__buf_clear(&c->res_hdrs);
  cio__buf_clear(&c->res_body);
}

int cio_http_res_status(cio_http_res *r, int status) {
  if (r->started) return -EALREADY;
  if (status < 200 || status > 599) return -EINVAL;
  r->status = status;
  return 0;
}

int cio_http_res_get_status(const cio_http_res *r) { return r->status; }

int cio_http_res_started(const cio_http_res *r) { return r->started; }

/* ---- headers ---- */

static int tchar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int valid_name(const char *n, size_t len) {
  if (!len) return 0;
  for (size_t i = 0; i < len; i++)
    if (!tchar((unsigned char)n[i])) return 0;
  return 1;
}

static int valid_value(const char *v, size_t len) {
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)v[i];
    if ((c < 0x20 && c != '\t') || c == 0x7f) return 0;
  }
  return 1;
}

static int name_is(const char *n, size_t len, const char *lit) {
  return strlen(lit) == len && strncasecmp(n, lit, len) == 0;
}

/* Remove every header line called name. */
static void remove_header(cio_http_res *r, const char *name, size_t nlen) {
  cio__buf *h = &r->c->res_hdrs;
  size_t i = 0;
  while (i < h->len) {
    char *line = h->p + i;
    char *end = memchr(line, '\n', h->len - i);
    size_t ll = (size_t)(end - line) + 1;
    char *colon = memchr(line, ':', ll);
    if (colon && (size_t)(colon - line) == nlen && strncasecmp(line, name, nlen) == 0) {
      memmove(line, line + ll, h->len - i - ll);
      h->len -= ll;
    } else {
      i += ll;
    }
  }
}

/* The framework's own types are literals: kept as they are, unchecked. */
static void set_type_literal(cio_http_res *r, const char *t, size_t n) {
  r->type = t;
  r->type_len = n;
  r->has_type = 1;
}
#define SET_TYPE_LITERAL(r, lit) set_type_literal(r, lit, sizeof lit - 1)

static int set_type(cio_http_res *r, const char *t, size_t n) {
  char *copy = cio__arena_strndup(&r->c->arena, t, n);
  if (!copy) return -ENOMEM;
  r->type = copy;
  r->type_len = n;
  r->has_type = 1;
  return 0;
}

int cio_http_res_header_n(cio_http_res *r, const char *name, size_t nlen, const char *value,
                          size_t vlen) {
  if (r->started) return -EALREADY;
  if (!valid_name(name, nlen) || !valid_value(value, vlen)) return -EINVAL;
  /* the framing headers are the framework's */
  if (name_is(name, nlen, "content-length")) {
    uint64_t v = 0;
    if (!vlen) return -EINVAL;
    for (size_t i = 0; i < vlen; i++) {
      if (value[i] < '0' || value[i] > '9' || v > (UINT64_C(1) << 60)) return -EINVAL;
      v = v * 10 + (uint64_t)(value[i] - '0');
    }
    r->has_length = 1;
    r->length = v;
    return 0;
  }
  if (name_is(name, nlen, "transfer-encoding")) return -EINVAL;
  if (name_is(name, nlen, "connection")) {
    if (cio_http_list_has(value, vlen, "close")) r->close = 1;
    return 0;
  }
  if (name_is(name, nlen, "content-type")) return set_type(r, value, vlen);
  if (name_is(name, nlen, "date")) r->has_date = 1;
  if (name_is(name, nlen, "server")) r->has_server = 1;
  cio__buf *h = &r->c->res_hdrs;
  cio__buf_reserve(h, nlen + vlen + 4);
  cio__buf_add(h, name, nlen);
  cio__buf_add(h, ": ", 2);
  cio__buf_add(h, value, vlen);
  cio__buf_add(h, "\r\n", 2);
  return h->err;
}

int cio_http_res_header(cio_http_res *r, const char *name, const char *value) {
  if (!name || !value) return -EINVAL;
  return cio_http_res_header_n(r, name, strlen(name), value, strlen(value));
}

int cio_http_res_set_header(cio_http_res *r, const char *name, const char *value) {
  if (!name || !value) return -EINVAL;
  if (r->started) return -EALREADY;
  size_t nlen = strlen(name), vlen = strlen(value);
  if (!valid_name(name, nlen) || !valid_value(value, vlen)) return -EINVAL;
  remove_header(r, name, nlen);
  return cio_http_res_header_n(r, name, nlen, value, vlen);
}

const char *cio_http_res_get_header(const cio_http_res *r, const char *name) {
  const cio__buf *h = &r->c->res_hdrs;
  size_t nlen = strlen(name), i = 0;
  if (name_is(name, nlen, "content-type")) return r->type;
  while (i < h->len) {
    const char *line = h->p + i;
    const char *end = memchr(line, '\n', h->len - i);
    size_t ll = (size_t)(end - line) + 1;
    if (ll > nlen + 2 && line[nlen] == ':' && strncasecmp(line, name, nlen) == 0)
      return cio__arena_strndup(&r->c->arena, line + nlen + 2, ll - nlen - 4);
    i += ll;
  }
  return NULL;
}

int cio_http_res_content_type(cio_http_res *r, const char *type) {
  if (r->started) return -EALREADY;
  if (!type) {
    r->type = NULL;
    r->has_type = 0;
    return 0;
  }
  size_t n = strlen(type);
  if (!valid_value(type, n)) return -EINVAL;
  return set_type(r, type, n);
}

/* ---- bodies ---- */

static void drop_body(cio_http_res *r) {
  cio__buf_clear(&r->c->res_body);
  r->json_used = 0;
  if (r->file_fd >= 0) {
    close(r->file_fd);
    r->file_fd = -1;
  }
}

int cio_http_res_body(cio_http_res *r, const void *data, size_t n) {
  if (r->started) return -EALREADY;
  if (r->file_fd >= 0) return -EINVAL;
  cio__buf_add(&r->c->res_body, data, n);
  return r->c->res_body.err;
}

int cio_http_res_printf(cio_http_res *r, const char *fmt, ...) {
  if (r->started) return -EALREADY;
  cio__buf *b = &r->c->res_body;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return -EINVAL;
  if (cio__buf_reserve(b, (size_t)n + 1) < 0) return b->err;
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return 0;
}

int cio_http_res_send(cio_http_res *r, int status, const char *type, const void *data, size_t n) {
  int e = cio_http_res_status(r, status);
  if (e < 0) return e;
  drop_body(r);
  if (type && (e = cio_http_res_content_type(r, type)) < 0) return e;
  return cio_http_res_body(r, data, n);
}

int cio_http_res_text(cio_http_res *r, int status, const char *text) {
  int e = cio_http_res_send(r, status, NULL, text, text ? strlen(text) : 0);
  if (e == 0) SET_TYPE_LITERAL(r, "text/plain; charset=utf-8");
  return e;
}

cio_json *cio_http_res_json(cio_http_res *r, int status) {
  if (cio_http_res_status(r, status) < 0) {
    errno = EINVAL;
    return NULL;
  }
  SET_TYPE_LITERAL(r, "application/json");
  drop_body(r);
  cio__json_init(&r->json, &r->c->res_body);
  r->json_used = 1;
  return &r->json;
}

int cio_http_res_error(cio_http_res *r, int status, const char *detail) {
  cio_json *j = cio_http_res_json(r, status);
  if (!j) return -EINVAL;
  cio_json_object(j);
  cio_json_key(j, "detail");
  cio_json_str(j, detail);
  return cio_json_object_end(j);
}

void cio__http_res_rewind(cio_http_res *r) {
  cio__buf *h = &r->c->res_hdrs;
  if (r->hdr_mark < h->len) h->len = r->hdr_mark;
  r->has_type = r->has_date = r->has_server = 0;
  r->type = NULL;
  r->has_length = 0;
  for (size_t i = 0; i < h->len;) {
    const char *line = h->p + i;
    const char *end = memchr(line, '\n', h->len - i);
    const char *colon = memchr(line, ':', (size_t)(end - line));
    size_t nl = colon ? (size_t)(colon - line) : 0;
    if (name_is(line, nl, "date")) r->has_date = 1;
    if (name_is(line, nl, "server")) r->has_server = 1;
    i += (size_t)(end - line) + 1;
  }
}

void cio__http_res_fail(cio_http_res *r, int status, const char *detail) {
  r->status = status;
  r->has_length = 0;
  drop_body(r);
  if (detail) {
    cio_http_res_error(r, status, detail);
  } else {
    r->type = NULL;
    r->has_type = 0;
  }
}

int cio_http_res_redirect(cio_http_res *r, int status, const char *location) {
  if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308)
    return -EINVAL;
  int e = cio_http_res_status(r, status);
  if (e == 0) e = cio_http_res_set_header(r, "Location", location);
  if (e == 0) drop_body(r);
  return e;
}

int cio_http_res_file(cio_http_res *r, int fd, off_t offset, size_t count) {
  if (r->started || fd < 0 || offset < 0) {
    if (fd >= 0) close(fd);
    return r->started ? -EALREADY : -EINVAL;
  }
  drop_body(r);
  r->file_fd = fd;
  r->file_off = offset;
  r->file_len = count;
  return 0;
}

/* ---- sending ---- */

static int head_request(const cio_http_res *r) { return r->c->req.head.method_id == CIO_HTTP_HEAD; }

static int bodiless_status(int s) { return s < 200 || s == 204 || s == 304; }

enum { F_NONE, F_LENGTH, F_CHUNKED, F_CLOSE };

static void add_status_line(cio__buf *o, int status) {
  char line[64];
  memcpy(line, "HTTP/1.1 ", 9);
  line[9] = (char)('0' + status / 100);
  line[10] = (char)('0' + status / 10 % 10);
  line[11] = (char)('0' + status % 10);
  line[12] = ' ';
  const char *reason = cio_http_status_reason(status);
  size_t rl = strlen(reason);
  memcpy(line + 13, reason, rl);
  memcpy(line + 13 + rl, "\r\n", 2);
  cio__buf_add(o, line, 15 + rl);
}

/* The head, into c->out. */
static int build_head(cio_http_res *r, int framing, uint64_t length) {
  cio__conn *c = r->c;
  cio__buf *o = &c->out;
  cio__buf_reserve(o, 256 + c->res_hdrs.len);
  add_status_line(o, r->status);
  if (!r->has_date) {
    const char *d;
    size_t dl = cio__http_date_line(&d);
    cio__buf_add(o, d, dl);
  }
  if (!r->has_server) cio__buf_add(o, c->app->server_line, c->app->server_line_len);
  if (r->type) {
    cio__buf_add(o, "Content-Type: ", 14);
    cio__buf_add(o, r->type, r->type_len);
    cio__buf_add(o, "\r\n", 2);
  }
  cio__buf_add(o, c->res_hdrs.p, c->res_hdrs.len);
  if (framing == F_LENGTH) {
    cio__buf_add(o, "Content-Length: ", 16);
    cio__buf_add_u64(o, length);
    cio__buf_add(o, "\r\n", 2);
  } else if (framing == F_CHUNKED) {
    cio__buf_add(o, "Transfer-Encoding: chunked\r\n", 28);
  }
  if (c->srv && c->srv->closing) c->closing = 1; /* shutting down: this is the last */
  if (r->close || c->closing)
    cio__buf_add(o, "Connection: close\r\n", 19);
  else if (c->req.head.version == 10)
    cio__buf_add(o, "Connection: keep-alive\r\n", 24);
  cio__buf_add(o, "\r\n", 2);
  r->started = 1;
  return o->err;
}

/* Wait while more than the stream's high-water mark is queued, bounded by
 * the send timeout. When the kernel took everything (the usual case) there
 * is nothing to wait for, and no timer is armed. */
static int drain(cio__conn *c) {
  if (!cio_stream_write_buffered(c->s)) return 0;
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, c->app->o.send_timeout);
  int e = cio_stream_drain(c->s);
  cio_timeout_end(&sc);
  return e;
}

/* Send c->out, then drain. */
static int send_out(cio__conn *c) {
  if (c->out.len) {
    int e = cio_stream_write(c->s, c->out.p, c->out.len);
    cio__buf_clear(&c->out);
    if (e < 0) return e;
  }
  return drain(c);
}

int cio__http_flush(cio__conn *c) {
  if (!c->out.len) return 0;
  return send_out(c);
}

static int send_iov(cio__conn *c, const void *data, size_t n) {
  struct iovec iov[2] = {{c->out.p, c->out.len}, {(void *)(uintptr_t)data, n}};
  int e = cio_stream_writev(c->s, iov, 2);
  cio__buf_clear(&c->out);
  if (e < 0) return e;
  return drain(c);
}

/* A large body: the head and the first slice together, then slice by
 * slice, so at most about one slice is ever copied into the stream. */
static int send_large(cio__conn *c, const char *p, size_t n) {
  size_t first = n < SEND_SLICE ? n : SEND_SLICE;
  int e = send_iov(c, p, first);
  for (size_t off = first; e == 0 && off < n; off += SEND_SLICE) {
    size_t k = n - off < SEND_SLICE ? n - off : SEND_SLICE;
    e = send_iov(c, p + off, k);
  }
  return e;
}

static int send_file(cio_http_res *r) {
  cio__conn *c = r->c;
  int e = cio__http_flush(c);
  size_t done = 0;
  while (e == 0 && done < r->file_len) {
    size_t k = r->file_len - done < FILE_SLICE ? r->file_len - done : FILE_SLICE;
    size_t sent = 0;
    cio_timeout_scope sc;
    cio_timeout_begin(&sc, c->app->o.send_timeout);
    ssize_t n = cio_stream_sendfile(c->s, r->file_fd, r->file_off + (off_t)done, k, &sent);
    cio_timeout_end(&sc);
    if (n < 0)
      e = (int)n;
    else if ((size_t)n < k)
      e = -EIO; /* the file shrank under us: the promised length is a lie */
    done += sent;
  }
  r->bytes = done;
  return e;
}

int cio__http_res_finish(cio_http_res *r) {
  cio__conn *c = r->c;
  if (r->json_used && !cio_json_complete(&r->json)) {
    cio_log_error("response JSON of %.*s %.*s is %s (%s): answering 500",
                  (int)c->req.head.method_len, c->req.head.method, (int)c->req.raw_path_len,
                  c->req.raw_path, cio_json_error(&r->json) ? "in error" : "incomplete",
                  cio_strerror(cio_json_error(&r->json)));
    cio__http_res_fail(r, 500, "Internal Server Error");
  }
  if (c->closing) r->close = 1;
  int no_body = bodiless_status(r->status);
  int head_only = head_request(r) || no_body;
  if (r->file_fd >= 0 && !no_body) {
    int e = build_head(r, F_LENGTH, r->file_len);
    if (e == 0 && !head_only) e = send_file(r);
    close(r->file_fd);
    r->file_fd = -1;
    return e;
  }
  cio__buf *b = &c->res_body;
  if (b->err) {
    cio_log_error("response body of %.*s %.*s: %s: answering 500", (int)c->req.head.method_len,
                  c->req.head.method, (int)c->req.raw_path_len, c->req.raw_path,
                  cio_strerror(b->err));
    cio__http_res_fail(r, 500, "Internal Server Error");
  }
  int e = build_head(r, no_body ? F_NONE : F_LENGTH, b->len);
  if (e < 0) return e;
  if (head_only) return 0;
  r->bytes = b->len;
  if (b->len <= INLINE_BODY) {
    cio__buf_add(&c->out, b->p, b->len);
    return c->out.err;
  }
  return send_large(c, b->p, b->len);
}

int cio_http_res_start(cio_http_res *r) {
  if (r->started) return 0;
  cio__conn *c = r->c;
  int framing;
  if (r->has_length) {
    framing = F_LENGTH;
  } else if (c->req.head.version >= 11) {
    framing = F_CHUNKED;
    r->chunked = 1;
  } else {
    framing = F_CLOSE;
    r->until_close = 1;
    r->close = 1;
    c->closing = 1;
  }
  if (bodiless_status(r->status)) framing = F_NONE;
  drop_body(r);
  int e = build_head(r, framing, r->length);
  if (e == 0) e = send_out(c);
  return e;
}

int cio_http_res_write(cio_http_res *r, const void *data, size_t n) {
  int e = r->started ? 0 : cio_http_res_start(r);
  if (e < 0) return e;
  if (r->ended) return -EINVAL;
  if (n == 0 || head_request(r) || bodiless_status(r->status)) return 0;
  cio__conn *c = r->c;
  if (r->has_length && r->sent + n > r->length) return -EINVAL;
  if (r->chunked) {
    char hex[20];
    int hl = snprintf(hex, sizeof hex, "%zx\r\n", n);
    static char crlf[] = "\r\n";
    struct iovec iov[3] = {{hex, (size_t)hl}, {(void *)(uintptr_t)data, n}, {crlf, 2}};
    e = cio_stream_writev(c->s, iov, 3);
  } else {
    e = cio_stream_write(c->s, data, n);
  }
  if (e < 0) return e;
  r->sent += n;
  r->bytes += n;
  return drain(c);
}

int cio_http_res_end(cio_http_res *r) {
  int e = r->started ? 0 : cio_http_res_start(r);
  if (e < 0) return e;
  if (r->ended) return 0;
  r->ended = 1;
  cio__conn *c = r->c;
  if (r->chunked && !head_request(r) && !bodiless_status(r->status)) {
    e = cio_stream_write(c->s, "0\r\n\r\n", 5);
  } else if (r->has_length && r->sent < r->length && !head_request(r) &&
             !bodiless_status(r->status)) {
    c->closing = 1; /* fewer bytes than promised: only closing tells the client */
    e = -EPIPE;
  }
  return e;
}
