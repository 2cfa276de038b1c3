/* request.c - the request object: accessors over the parsed head (which
 * stays in the stream's input buffer), decoded path, parameters and query
 * values in the per-request arena, and the body: read in place when it
 * fits in the stream's buffer, else into memory, or streamed. */
#include "http_internal.h"
#include "utf8.h"

#include "cio/json.h"
#include "cio/url.h"

#include <errno.h>
#include <string.h>

#define DISCARD_MAX CIO__HTTP_INBUF_BODY /* unread body skipped to keep a connection */

void cio__http_req_reset(cio_http_req *r, cio__conn *c) {
  memset(r, 0, offsetof(cio_http_req, params)); /* the parameters are counted */
  r->c = c;
  r->head.headers = c->hdrs;
}

cio_http_method cio_http_req_method(const cio_http_req *r) { return r->head.method_id; }

const char *cio_http_req_method_str(const cio_http_req *r, size_t *len) {
  if (len) *len = r->head.method_len;
  return r->head.method;
}

int cio_http_req_version(const cio_http_req *r) { return r->head.version; }

const char *cio_http_req_scheme(const cio_http_req *r) {
  return r->c->srv && r->c->srv->tls ? "https" : "http";
}

const char *cio_http_req_target(const cio_http_req *r, size_t *len) {
  if (len) *len = r->head.target_len;
  return r->head.target;
}

const char *cio_http_req_path(const cio_http_req *r, size_t *len) {
  if (len) *len = r->path_len;
  return r->path;
}

const char *cio_http_req_raw_path(const cio_http_req *r, size_t *len) {
  if (len) *len = r->raw_path_len;
  return r->raw_path;
}

const char *cio_http_req_mount_path(const cio_http_req *r, size_t *len) {
  if (r->mount_path) {
    if (len) *len = r->mount_path_len;
    return r->mount_path;
  }
  return cio_http_req_path(r, len);
}

const char *cio_http_req_query_string(const cio_http_req *r, size_t *len) {
  if (len) *len = r->query_len;
  return r->query_len ? r->query : "";
}

/* Decode a query part: '+' is a space, %XX, then invalid UTF-8 replaced
 * (Python's unquote(errors="replace")). NUL-terminated, in the arena. */
static char *decode_part(cio__arena *a, const char *s, size_t n, size_t *len) {
  char *tmp = cio__arena_alloc(a, n + 1);
  if (!tmp) return NULL;
  ssize_t d = cio_url_decode(tmp, s, n, CIO_URL_PLUS_SPACE);
  size_t valid = cio__utf8_valid_prefix(tmp, (size_t)d);
  if (valid == (size_t)d) {
    tmp[d] = '\0';
    *len = (size_t)d;
    return tmp;
  }
  char *out = cio__arena_alloc(a, 3 * (size_t)d + 1);
  if (!out) return NULL;
  *len = cio__utf8_repair(out, tmp, (size_t)d);
  out[*len] = '\0';
  return out;
}

const char *cio_http_req_query(cio_http_req *r, const char *name, size_t *len) {
  const char *pos = r->query, *end = r->query + r->query_len;
  cio_url_pair p;
  size_t dummy;
  if (!len) len = &dummy;
  cio__arena *a = &r->c->arena;
  size_t want = strlen(name);
  while (r->query_len && cio_url_query_next(&pos, end, &p)) {
    size_t nl;
    /* cheap test first: an undecoded name of another length cannot match
     * unless it holds escapes or '+' */
    if (p.name_len != want && !memchr(p.name, '%', p.name_len) && !memchr(p.name, '+', p.name_len))
      continue;
    char *n = decode_part(a, p.name, p.name_len, &nl);
    if (!n) {
      *len = 0;
      errno = ENOMEM;
      return NULL;
    }
    if (nl != want || memcmp(n, name, nl) != 0) continue;
    char *v = decode_part(a, p.value, p.value_len, len);
    if (!v) {
      *len = 0;
      errno = ENOMEM;
    }
    return v;
  }
  *len = 0;
  errno = ENOENT;
  return NULL;
}

const char *cio_http_req_header(const cio_http_req *r, const char *name, size_t *len) {
  return cio_http_head_header(&r->head, name, len);
}

const cio_http_header *cio_http_req_headers(const cio_http_req *r, size_t *n) {
  *n = r->head.num_headers;
  return r->head.headers;
}

static const cio__param *find_param(const cio_http_req *r, const char *name) {
  for (size_t i = 0; i < r->nparams; i++)
    if (strcmp(r->params[i].name, name) == 0) return &r->params[i];
  return NULL;
}

const char *cio_http_req_param(const cio_http_req *r, const char *name, size_t *len) {
  const cio__param *p = find_param(r, name);
  if (len) *len = p ? p->len : 0;
  if (!p) return NULL;
  return p->value;
}

int cio_http_req_param_int(const cio_http_req *r, const char *name, int64_t *out) {
  const cio__param *p = find_param(r, name);
  if (!p) return -ENOENT;
  if (p->type != P_INT) return -EINVAL;
  if (p->range) return -ERANGE;
  *out = p->i;
  return 0;
}

int cio_http_req_param_double(const cio_http_req *r, const char *name, double *out) {
  const cio__param *p = find_param(r, name);
  if (!p) return -ENOENT;
  if (p->type != P_FLOAT) return -EINVAL;
  *out = p->d;
  return 0;
}

int cio_http_req_client(const cio_http_req *r, char *buf, size_t cap) {
  return cio_stream_peer_string(r->c->s, buf, cap);
}

void *cio_http_req_state(const cio_http_req *r) { return r->c->srv ? r->c->srv->state : NULL; }
void cio_http_req_set_user(cio_http_req *r, void *p) { r->user = p; }
void *cio_http_req_user(const cio_http_req *r) { return r->user; }
cio_http_app *cio_http_req_app(const cio_http_req *r) { return r->c->app; }

/* ---- the head in the stream buffer ---- */

void cio__http_req_rebase(cio_http_req *r, const char *from, const char *to) {
  if (from == to) return;
  uintptr_t f = (uintptr_t)from, t = (uintptr_t)to;
#define MOVE(p)                                                                                    \
  if (p) p = (const char *)(t + ((uintptr_t)(p)-f))
  MOVE(r->head.method);
  MOVE(r->head.target);
  MOVE(r->raw_path);
  MOVE(r->query);
  for (size_t i = 0; i < r->head.num_headers; i++) {
    MOVE(r->head.headers[i].name);
    MOVE(r->head.headers[i].value);
  }
  if (r->body_state == BODY_WHOLE && r->inbuf_body) MOVE(r->body);
#undef MOVE
  r->base = to;
}

/* The stream buffer may have moved (a fill): follow it. */
static void follow(cio_http_req *r) {
  if (r->detached) return;
  const void *p;
  cio_stream_peek(r->c->s, &p);
  cio__http_req_rebase(r, r->base, p);
}

int cio__http_req_detach(cio_http_req *r) {
  if (r->detached) return 0;
  follow(r);
  size_t n = r->head_len + r->inbuf_body;
  char *copy = cio__arena_alloc(&r->c->arena, n ? n : 1);
  if (!copy) return -ENOMEM;
  memcpy(copy, r->base, n);
  cio__http_req_rebase(r, r->base, copy);
  int e = cio_stream_consume(r->c->s, n);
  if (e < 0) return e;
  r->detached = 1;
  return 0;
}

/* ---- reading the body ---- */

/* Wait for more input under the app's body timeout. > 0, 0 at EOF, < 0. */
static ssize_t fill_body(cio_http_req *r) {
  cio__conn *c = r->c;
  int e = cio__http_flush(c); /* responses before ours must not wait on us */
  if (e < 0) return e;
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, c->app->o.body_timeout);
  ssize_t n = cio_stream_fill(c->s);
  cio_timeout_end(&sc);
  follow(r);
  return n;
}

/* "100 Continue" when the client waits for it, before the first read. */
static int send_continue(cio_http_req *r) {
  if (r->continue_sent || !(r->head.flags & CIO_HTTP_F_EXPECT_CONTINUE) || r->head.version < 11 ||
      r->c->res.started)
    return 0;
  r->continue_sent = 1;
  static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
  cio__buf_add(&r->c->out, msg, sizeof msg - 1);
  if (r->c->out.err) return r->c->out.err;
  return cio__http_flush(r->c);
}

static ssize_t body_error(cio_http_req *r, ssize_t e) {
  if (e == 0) e = -EPIPE; /* the client closed before the end */
  r->c->closing = 1;      /* the framing is lost: no next request */
  return e;
}

/* A chunked body, decoded into c->body, at most max bytes. */
static ssize_t read_chunked(cio_http_req *r, size_t max, cio__buf *into) {
  cio__conn *c = r->c;
  while (!cio_http_chunked_done(&r->chunked)) {
    const void *p;
    size_t n = cio_stream_peek(c->s, &p);
    if (n == 0) {
      ssize_t f = fill_body(r);
      if (f <= 0) return body_error(r, f);
      continue;
    }
    const char *d;
    size_t dl;
    ssize_t used = cio_http_chunked_decode(&r->chunked, p, n, &d, &dl);
    if (used < 0) return body_error(r, used == -EMSGSIZE ? -EMSGSIZE : -EBADMSG);
    if (into) {
      if (into->len + dl > max) return body_error(r, -EMSGSIZE);
      cio__buf_add(into, d, dl);
      if (into->err) return body_error(r, into->err);
    }
    int e = cio_stream_consume(c->s, (size_t)used);
    if (e < 0) return body_error(r, e);
    if (used == 0 && !cio_http_chunked_done(&r->chunked)) {
      ssize_t f = fill_body(r);
      if (f <= 0) return body_error(r, f);
    }
  }
  return 0;
}

ssize_t cio_http_req_body(cio_http_req *r, const char **data) {
  cio__conn *c = r->c;
  *data = NULL;
  if (r->body_state == BODY_WHOLE) {
    follow(r);
    *data = r->body;
    return (ssize_t)r->body_len;
  }
  if (r->body_state != BODY_UNTOUCHED) return -EBUSY;
  if (r->head.body == CIO_HTTP_BODY_NONE) {
    r->body_state = BODY_WHOLE;
    r->body = "";
    *data = r->body;
    return 0;
  }
  size_t max = c->app->o.max_body;
  int e = send_continue(r);
  if (e < 0) return body_error(r, e);
  if (r->head.body == CIO_HTTP_BODY_LENGTH) {
    if (r->head.content_length > max) return -EMSGSIZE; /* unread: the connection closes */
    size_t cl = (size_t)r->head.content_length;
    int in_place = !r->detached && r->head_len + cl <= c->app->o.max_head + CIO__HTTP_INBUF_BODY;
    while (in_place) {
      /* in place, after the head, if the stream's buffer may hold both */
      const void *p;
      size_t n = cio_stream_peek(c->s, &p);
      if (n >= r->head_len + cl) break;
      ssize_t f = fill_body(r);
      if (f == -EMSGSIZE)
        in_place = 0; /* a stream with a smaller limit: copy */
      else if (f <= 0)
        return body_error(r, f);
    }
    if (in_place) {
      r->inbuf_body = cl;
      r->body_left = 0;
      r->body = r->base + r->head_len;
    } else {
      if ((e = cio__http_req_detach(r)) < 0) return body_error(r, e);
      cio__buf_clear(&c->body);
      if (cio__buf_reserve(&c->body, cl + 1) < 0) return body_error(r, -ENOMEM);
      cio_timeout_scope sc;
      if ((e = cio__http_flush(c)) < 0) return body_error(r, e);
      cio_timeout_begin(&sc, c->app->o.body_timeout);
      size_t got = 0;
      ssize_t n = cio_stream_readexactly(c->s, c->body.p, cl, &got);
      cio_timeout_end(&sc);
      if (n < 0) return body_error(r, n == -EPIPE && got < cl ? -EPIPE : n);
      c->body.len = cl;
      r->body_left = 0;
      r->body = c->body.p;
    }
    r->body_len = cl;
  } else {
    if ((e = cio__http_req_detach(r)) < 0) return body_error(r, e);
    cio__buf_clear(&c->body);
    ssize_t n = read_chunked(r, max, &c->body);
    if (n < 0) return n;
    cio__buf_addc(&c->body, '\0'); /* readers like a terminator */
    if (c->body.err) return body_error(r, c->body.err);
    c->body.len--;
    r->body = c->body.p;
    r->body_len = c->body.len;
  }
  r->body_state = BODY_WHOLE;
  *data = r->body;
  return (ssize_t)r->body_len;
}

ssize_t cio_http_req_read(cio_http_req *r, void *buf, size_t cap) {
  cio__conn *c = r->c;
  if (r->body_state == BODY_WHOLE) return -EBUSY;
  if (r->body_state == BODY_DONE || r->head.body == CIO_HTTP_BODY_NONE) return 0;
  if (cap == 0) return 0;
  int e;
  if (r->body_state == BODY_UNTOUCHED) {
    if ((e = send_continue(r)) < 0 || (e = cio__http_req_detach(r)) < 0) return body_error(r, e);
    r->body_state = BODY_STREAMING;
    r->body_left = r->head.content_length;
    cio__buf_clear(&c->body); /* decoded chunk data not yet handed out */
    r->body_len = 0;          /* how much of c->body was handed out */
  }
  if (r->head.body == CIO_HTTP_BODY_LENGTH) {
    if (r->body_left == 0) {
      r->body_state = BODY_DONE;
      return 0;
    }
    size_t want = cap < r->body_left ? cap : (size_t)r->body_left;
    if ((e = cio__http_flush(c)) < 0) return body_error(r, e);
    cio_timeout_scope sc;
    cio_timeout_begin(&sc, c->app->o.body_timeout);
    ssize_t n = cio_stream_read(c->s, buf, want);
    cio_timeout_end(&sc);
    if (n <= 0) return body_error(r, n);
    r->body_left -= (uint64_t)n;
    return n;
  }
  /* chunked: hand out what was decoded and kept, else decode more */
  for (;;) {
    if (r->body_len < c->body.len) {
      size_t n = c->body.len - r->body_len;
      if (n > cap) n = cap;
      memcpy(buf, c->body.p + r->body_len, n);
      r->body_len += n;
      if (r->body_len == c->body.len) {
        cio__buf_clear(&c->body);
        r->body_len = 0;
      }
      return (ssize_t)n;
    }
    if (cio_http_chunked_done(&r->chunked)) {
      r->body_state = BODY_DONE;
      return 0;
    }
    const void *p;
    size_t n = cio_stream_peek(c->s, &p);
    if (n == 0) {
      ssize_t f = fill_body(r);
      if (f <= 0) return body_error(r, f);
      continue;
    }
    const char *d;
    size_t dl;
    ssize_t used = cio_http_chunked_decode(&r->chunked, p, n, &d, &dl);
    if (used < 0) return body_error(r, used == -EMSGSIZE ? -EMSGSIZE : -EBADMSG);
    size_t direct = dl < cap ? dl : cap;
    if (direct) memcpy(buf, d, direct);
    if (dl > direct) cio__buf_add(&c->body, d + direct, dl - direct); /* the rest: next call */
    if (c->body.err) return body_error(r, c->body.err);
    if ((e = cio_stream_consume(c->s, (size_t)used)) < 0) return body_error(r, e);
    if (direct) return (ssize_t)direct;
    if (used == 0 && !cio_http_chunked_done(&r->chunked)) {
      ssize_t f = fill_body(r);
      if (f <= 0) return body_error(r, f);
    }
  }
}

int cio_http_req_json(cio_http_req *r, cJSON **out) {
  *out = NULL;
  const char *d;
  ssize_t n = cio_http_req_body(r, &d);
  if (n < 0) return (int)n;
  return cio_json_parse(d, (size_t)n, 0, out, NULL);
}

/* ---- the end of a request ---- */

int cio__http_req_discard(cio_http_req *r) {
  cio__conn *c = r->c;
  if (!r->detached) {
    /* the usual case: head (and a body read in place) leave together */
    follow(r);
    int e = cio_stream_consume(c->s, r->head_len + r->inbuf_body);
    if (e < 0) return e;
    r->detached = 1;
    if (r->body_state == BODY_UNTOUCHED) r->body_left = r->head.content_length;
  }
  if (r->head.body == CIO_HTTP_BODY_NONE || r->body_state == BODY_WHOLE ||
      r->body_state == BODY_DONE)
    return 0;
  if (c->closing) return -EPIPE;
  /* A client waiting for "100 Continue" that it never got may not send
   * its body: the next bytes cannot be trusted to be a request. */
  if ((r->head.flags & CIO_HTTP_F_EXPECT_CONTINUE) && !r->continue_sent) return -EPIPE;
  if (r->head.body == CIO_HTTP_BODY_LENGTH) {
    if (r->body_left > DISCARD_MAX) return -EMSGSIZE;
    while (r->body_left) {
      const void *p;
      size_t n = cio_stream_peek(c->s, &p);
      if (n == 0) {
        ssize_t f = fill_body(r);
        if (f <= 0) return f == 0 ? -EPIPE : (int)f;
        continue;
      }
      size_t k = n < r->body_left ? n : (size_t)r->body_left;
      int e = cio_stream_consume(c->s, k);
      if (e < 0) return e;
      r->body_left -= k;
    }
    return 0;
  }
  /* chunked: decode and drop at most DISCARD_MAX bytes of data */
  cio__buf_clear(&c->body);
  ssize_t n = read_chunked(r, DISCARD_MAX, &c->body);
  cio__buf_clear(&c->body);
  return n < 0 ? (int)n : 0;
}
