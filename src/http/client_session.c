/* client_session.c - sessions, and cio_http_open: one request, its retry
 * on a fresh connection when a pooled one turns out dead, and redirects. */
#include "client_internal.h"

#include "cio/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REDIRECT_DRAIN                                                                             \
  (64 * 1024) /* a longer 3xx body closes the connection                                           \
               */

/* ---- sessions ---- */

static double duration(double v, double def) {
  if (v == 0) return def;
  return v < 0 ? -1 : v;
}

static int copy_str(char **dst, const char *src) {
  *dst = NULL;
  if (!src) return 0;
  return (*dst = strdup(src)) ? 0 : -ENOMEM;
}

static void destroy(cio_http_session *s) {
  cio__pool_free(s);
  cio__cookies_free(s);
  if (s->own_tls) cio_tls_ctx_free(s->tls);
  cio__url_free(&s->proxy);
  free(s->proxy_auth);
  free(s->user_agent);
  free(s->ca_file);
  free(s->cert_file);
  free(s->key_file);
  free(s);
}

void cio__session_ref(cio_http_session *s) { s->refs++; }

void cio__session_unref(cio_http_session *s) {
  if (--s->refs == 0) destroy(s);
}

cio_http_session *cio_http_session_new(const cio_http_session_opts *o) {
  static const cio_http_session_opts none;
  if (!o) o = &none;
  cio_loop *loop = cio_loop_current();
  if (!loop) {
    errno = ENOENT;
    return NULL;
  }
  cio_http_session *s = calloc(1, sizeof *s);
  if (!s) {
    errno = ENOMEM;
    return NULL;
  }
  s->loop = loop;
  s->refs = 1;
  s->max_conns = o->max_connections ? o->max_connections : 100;
  s->max_per_host = o->max_per_host ? o->max_per_host : s->max_conns;
  s->idle_timeout = duration(o->idle_timeout, 15);
  s->connect_timeout = duration(o->connect_timeout, 30);
  s->read_timeout = duration(o->read_timeout, 60);
  s->timeout = duration(o->timeout, -1);
  s->continue_timeout = duration(o->continue_timeout, 1);
  s->max_redirects = o->max_redirects ? (o->max_redirects < 0 ? -1 : o->max_redirects) : 10;
  s->max_body = o->max_body ? o->max_body : (size_t)64 << 20;
  s->max_header = o->max_header_size ? o->max_header_size : 64 * 1024;
  s->max_headers = o->max_headers ? o->max_headers : 100;
  s->decompress = !o->no_decompress;
  s->cookies_on = o->cookies != 0;
  s->family = o->family;
  s->tls = o->tls;
  s->insecure = o->insecure != 0;
  int e = 0;
  if (o->user_agent) {
    e = copy_str(&s->user_agent, o->user_agent);
  } else if ((s->user_agent = malloc(32))) {
    snprintf(s->user_agent, 32, "cio/%s", cio_version());
  } else {
    e = -ENOMEM;
  }
  if (e == 0) e = copy_str(&s->ca_file, o->ca_file);
  if (e == 0) e = copy_str(&s->cert_file, o->cert_file);
  if (e == 0) e = copy_str(&s->key_file, o->key_file);
  if (e == 0 && o->proxy) {
    e = cio__url_parse(&s->proxy, o->proxy, NULL, 0);
    if (e == 0 && s->proxy.https) e = cio__hc_fail(-EINVAL, "an https:// proxy is not supported");
    if (e < 0 && e != -ENOMEM) e = -EINVAL;
    if (e == 0 && s->proxy.user &&
        !(s->proxy_auth = cio__basic_auth(s->proxy.user, s->proxy.password)))
      e = -ENOMEM;
  }
  if (e < 0) {
    destroy(s);
    errno = -e;
    return NULL;
  }
  return s;
}

int cio_http_session_close(cio_http_session *s) {
  if (!s || s->closed) return 0;
  s->closed = true;
  cio__pool_shutdown(s, -ESHUTDOWN);
  return 0;
}

void cio_http_session_free(cio_http_session *s) {
  if (!s) return;
  s->closed = true;
  s->freed = true;
  cio__pool_shutdown(s, -EBADF);
  cio__session_unref(s);
}

void cio_http_session_stats(const cio_http_session *s, cio_http_pool_stats *out) {
  *out = (cio_http_pool_stats){.open = s->open,
                               .idle = s->idle,
                               .waiting = s->waiting,
                               .created = s->created,
                               .reused = s->reused,
                               .retried = s->retried};
}

ssize_t cio_http_session_cookies(cio_http_session *s, const char *url, char *buf, size_t cap) {
  if (!s->cookies_on) return -ENOTSUP;
  cio__url u;
  int r = cio__url_parse(&u, url, NULL, 0);
  if (r < 0) return r == -ENOMEM ? r : -EINVAL;
  cio__buf b = {0};
  cio__cookies_header(s, &u, &b);
  cio__url_free(&u);
  if (b.err) {
    cio__buf_free(&b);
    return -ENOMEM;
  }
  size_t n = b.len ? b.len - 10 : 0; /* "Cookie: " ... "\r\n" */
  if (n + 1 > cap) {
    cio__buf_free(&b);
    return -ENOSPC;
  }
  if (n) memcpy(buf, b.p + 8, n);
  buf[n] = '\0';
  cio__buf_free(&b);
  return (ssize_t)n;
}

int cio_http_session_set_cookie(cio_http_session *s, const char *url, const char *set_cookie) {
  if (!s->cookies_on) return -ENOTSUP;
  if (!set_cookie) return -EINVAL;
  cio__url u;
  int r = cio__url_parse(&u, url, NULL, 0);
  if (r < 0) return r == -ENOMEM ? r : -EINVAL;
  r = cio__cookie_set(s, &u, set_cookie, strlen(set_cookie));
  cio__url_free(&u);
  return r;
}

/* ---- one exchange on one connection ---- */

static bool has_body(const cio__hreq *q) {
  return q->send_body && q->rq->body.kind != CIO__BODY_NONE;
}

static int send_and_read(cio_http_session *s, cio__hconn *c, const cio__hreq *q,
                         cio_http_response **res, bool *got, bool *started) {
  int r;
  if (q->expect) {
    r = cio__write_request(s, c, q, false, started);
    if (r == 0) r = cio__await_continue(s, c, q, res);
    if (r == 0) { /* a final answer before the body: not sent */
      (*res)->keep_alive = false;
      return 0;
    }
    if (r == 1) r = cio__write_body(s, c, q, started);
  } else {
    r = cio__write_request(s, c, q, true, started);
  }
  if (r < 0) {
    /* A server may answer (413, 401...) and close before taking the whole
     * body: its answer is worth more than our write error. */
    if ((r == -EPIPE || r == -ECONNRESET) && has_body(q)) {
      char why[256];
      snprintf(why, sizeof why, "%s", cio_http_client_last_error());
      if (cio__read_head(s, c, q, res, got) == 0) {
        (*res)->keep_alive = false;
        return 0;
      }
      cio__hc_fail(r, "%s", why);
    }
    return r;
  }
  return cio__read_head(s, c, q, res, got);
}

static int exchange(cio_http_session *s, const cio__hreq *q0, cio_http_response **out) {
  cio__hreq q = *q0;
  bool started = false;
  for (int attempt = 0;; attempt++) {
    cio__hhost *h = cio__pool_host(s, q.url);
    if (!h) return cio__hc_fail(-ENOMEM, "out of memory");
    unsigned flags = attempt ? CIO__POOL_FRESH : q.idempotent ? 0 : CIO__POOL_CHECK;
    cio__hconn *c;
    bool reused, got = false;
    int r = cio__pool_acquire(s, h, flags, &c, &reused);
    if (r < 0) return r;
    if (reused) s->reused++;
    cio_http_response *res = NULL;
    r = send_and_read(s, c, &q, &res, &got, &started);
    if (r == 0 && res->status == 417 && q.expect) { /* RFC 9110 10.1.1: again, without */
      cio_http_response_free(res);
      q.expect = false;
      continue;
    }
    if (r == 0) {
      r = cio__response_setup(res, &q);
      if (r < 0) {
        cio_http_response_free(res);
        return r;
      }
      if (res->body_done) cio__response_let_go(res, true);
      *out = res;
      return 0;
    }
    cio__pool_discard(s, c);
    if (attempt == 0 && reused && !got && q.idempotent && !started &&
        (r == -EPIPE || r == -ECONNRESET)) {
      s->retried++;
      continue;
    }
    return r;
  }
}

/* ---- requests ---- */

static bool method_is(const char *m, size_t n, const char *x) {
  return strlen(x) == n && memcmp(m, x, n) == 0;
}

static bool is_idempotent(const char *m, size_t n) {
  return method_is(m, n, "GET") || method_is(m, n, "HEAD") || method_is(m, n, "PUT") ||
         method_is(m, n, "DELETE") || method_is(m, n, "OPTIONS") || method_is(m, n, "TRACE");
}

/* Follow the redirect res points to? Then *next is where, and q is
 * updated for it. 0: no; 1: yes; < 0: error. */
static int redirect(cio_http_response *res, cio__hreq *q, const cio__url *cur, cio__url *next) {
  int st = res->status;
  if (st != 301 && st != 302 && st != 303 && st != 307 && st != 308) return 0;
  size_t n;
  const char *loc = cio_http_response_header(res, "location", &n);
  if (!loc) return 0;
  bool to_get = (st == 303 && !q->head) ||
                ((st == 301 || st == 302) && method_is(q->method, q->method_len, "POST"));
  if (!to_get && has_body(q) && q->rq->body.kind == CIO__BODY_STREAM) return 0; /* cannot resend */
  int r = cio__url_resolve(next, cur, loc, n);
  if (r < 0) return r;
  if (to_get) {
    q->method = "GET";
    q->method_len = 3;
    q->idempotent = true;
    q->send_body = false;
    q->expect = false;
  }
  return 1;
}

static int open_in_scope(cio_http_session *s, const cio_http_request *rq, const char *method,
                         cio__url *url, cio_http_response **out) {
  size_t mlen = strlen(method);
  int max_redirects =
      rq->max_redirects ? (rq->max_redirects < 0 ? -1 : rq->max_redirects) : s->max_redirects;
  char *auth = NULL;
  const char *user = rq->user ? rq->user : url->user;
  const char *pass = rq->user ? rq->password : url->password;
  if (user && !(auth = cio__basic_auth(user, pass))) return cio__hc_fail(-ENOMEM, "out of memory");
  cio__url origin = *url; /* credentials go to this origin only */
  cio__url cur = *url, next;
  *url = (cio__url){0};
  cio__hreq q = {.method = method,
                 .method_len = mlen,
                 .head = method_is(method, mlen, "HEAD"),
                 .idempotent = is_idempotent(method, mlen),
                 .rq = rq,
                 .send_body = true,
                 .read_timeout = duration(rq->read_timeout, s->read_timeout)};
  q.expect = rq->expect_continue && has_body(&q);
  unsigned redirects = 0;
  bool home = true;
  int r;
  for (;;) {
    q.url = &cur;
    /* Once a redirect has left the origin, no later hop gets them back. */
    home = home && cio__url_same_origin(&cur, &origin);
    q.send_auth = home;
    q.auth = q.send_auth ? auth : NULL;
    q.absolute = s->proxy.host && !cur.https;
    cio_http_response *res = NULL;
    r = exchange(s, &q, &res);
    if (r < 0) break;
    int f = max_redirects < 0 ? 0 : redirect(res, &q, &cur, &next);
    if (f == 0) {
      res->url = cio__url_string(&cur);
      res->redirects = redirects;
      if (!res->url) {
        cio_http_response_free(res);
        r = cio__hc_fail(-ENOMEM, "out of memory");
        break;
      }
      *out = res;
      break;
    }
    if (f > 0 && redirects >= (unsigned)max_redirects) {
      cio__url_free(&next);
      f = cio__hc_fail(-ELOOP, "more than %d redirects (the last to %.200s)", max_redirects,
                       cio_http_response_header(res, "location", NULL));
    }
    if (f > 0) {
      r = cio__response_drain(res, REDIRECT_DRAIN);
      if (r == -ECANCELED || r == -ETIMEDOUT) {
        cio__url_free(&next);
        f = r;
      }
    }
    cio_http_response_free(res);
    if (f < 0) {
      r = f;
      break;
    }
    if (cur.mem != origin.mem) cio__url_free(&cur);
    cur = next;
    redirects++;
  }
  if (cur.mem != origin.mem) cio__url_free(&cur);
  cio__url_free(&origin);
  if (auth) {
    memset(auth, 0, strlen(auth));
    free(auth);
  }
  return r;
}

int cio_http_open(cio_http_session *s, const cio_http_request *rq, cio_http_response **out) {
  if (!out) return -EINVAL;
  *out = NULL;
  if (!s || !rq) return cio__hc_fail(-EINVAL, "no session or request");
  if (s->loop != cio_loop_current()) return cio__hc_fail(-EPERM, "not the session's loop");
  int r = cio_checkpoint();
  if (r < 0) return cio__hc_fail(r, "%s", cio_strerror(r));
  if (s->freed) return cio__hc_fail(-EBADF, "the session was freed");
  if (s->closed) return cio__hc_fail(-ESHUTDOWN, "the session is closed");
  const char *method = rq->method ? rq->method : "GET";
  if (!cio__is_token(method, strlen(method)))
    return cio__hc_fail(-EINVAL, "bad method '%.40s'", method);
  cio__url url;
  if ((r = cio__url_parse(&url, rq->url, rq->query, rq->num_query)) < 0) return r;
  double t = duration(rq->timeout, s->timeout);
  double deadline = t >= 0 ? cio__loop_now() + t : 0;
  cio__session_ref(s);
  cio_timeout_scope sc;
  if (t >= 0) cio_timeout_begin(&sc, t);
  r = open_in_scope(s, rq, method, &url, out);
  if (t >= 0 && cio_timeout_end(&sc) && r == -ETIMEDOUT)
    cio__hc_fail(r, "request timeout (%.3g s)", t);
  if (r == 0) {
    cio_http_response *res = *out;
    res->deadline = deadline;
    res->read_timeout = duration(rq->read_timeout, s->read_timeout);
    res->max_body = rq->max_body ? rq->max_body : s->max_body;
  }
  cio__url_free(&url);
  cio__session_unref(s);
  return r;
}
