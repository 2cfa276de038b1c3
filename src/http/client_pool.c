/* client_pool.c - the session's connection pool.
 *
 * Connections are grouped by host entry (scheme + host + port, or the
 * proxy). A host's idle connections form a list, most recently used first:
 * reusing the warmest keeps the others aging towards idle_timeout, so a
 * pool shrinks back after a burst. Limits count every open connection,
 * connecting ones included. A task that finds the limits reached waits in
 * one FIFO for all hosts; whoever frees something (a connection back in the
 * pool, a connection closed, a failed connect) hands it over directly: a
 * pooled connection to the first waiter for that host, room for a new
 * connection to the first waiter whose host is below its limit, closing an
 * idle connection of another host if that is what stands in the way. */
#include "client_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void host_push_idle(cio__hhost *h, cio__hconn *c) {
  c->prev = NULL;
  c->next = h->idle;
  if (h->idle)
    h->idle->prev = c;
  else
    h->idle_tail = c;
  h->idle = c;
  h->nidle++;
}

static void host_unlink_idle(cio__hhost *h, cio__hconn *c) {
  if (c->prev)
    c->prev->next = c->next;
  else
    h->idle = c->next;
  if (c->next)
    c->next->prev = c->prev;
  else
    h->idle_tail = c->prev;
  c->next = c->prev = NULL;
  h->nidle--;
}

cio__hhost *cio__pool_host(cio_http_session *s, const cio__url *u) {
  bool proxied = s->proxy.host != NULL, tunnel = proxied && u->https;
  /* Plain HTTP through a proxy: one set of connections (to the proxy) for
   * every origin. Otherwise one per scheme + host + port. */
  for (cio__hhost *h = s->hosts; h; h = h->next) {
    if (proxied && !tunnel) {
      if (!h->https) return h;
    } else if (h->https == u->https && h->origin_port == u->port &&
               strcmp(h->origin_host, u->host) == 0) {
      return h;
    }
  }
  cio__buf k = {0};
  if (proxied && !tunnel) {
    cio__buf_adds(&k, "http proxy");
  } else {
    cio__buf_adds(&k, u->https ? "https://" : "http://");
    cio__url_hostport(u, &k, true);
    if (tunnel) cio__buf_adds(&k, " via proxy");
  }
  cio__buf_addc(&k, '\0');
  if (k.err) return NULL;
  cio__hhost *h = calloc(1, sizeof *h);
  const char *chost = proxied ? s->proxy.host : u->host;
  if (h) {
    h->key = k.p;
    h->host = strdup(chost);
    h->origin_host = strdup(u->host);
  }
  if (!h || !h->host || !h->origin_host) {
    if (h) {
      free(h->host);
      free(h->origin_host);
      free(h);
    }
    cio__buf_free(&k);
    return NULL;
  }
  h->port = proxied ? s->proxy.port : u->port;
  h->origin_port = u->port;
  h->https = u->https;
  h->tunnel = tunnel;
  h->next = s->hosts;
  s->hosts = h;
  return h;
}

static void conn_free(cio__hconn *c) {
  cio_stream_free(c->s);
  cio__buf_free(&c->head);
  free(c->hdrs);
  free(c);
}

/* Close the oldest idle connection of a host other than not (NULL: any). */
static bool evict_one(cio_http_session *s, const cio__hhost * not ) {
  cio__hconn *oldest = NULL;
  for (cio__hhost *h = s->hosts; h; h = h->next)
    if (h != not &&h->idle_tail && (!oldest || h->idle_tail->idle_since < oldest->idle_since))
      oldest = h->idle_tail;
  if (!oldest) return false;
  cio__hhost *h = oldest->host;
  host_unlink_idle(h, oldest);
  s->idle--;
  h->open--;
  s->open--;
  conn_free(oldest);
  return true;
}

static void waiter_unlink(cio_http_session *s, cio__hwaiter *w) {
  if (w->prev)
    w->prev->next = w->next;
  else
    s->wait_head = w->next;
  if (w->next)
    w->next->prev = w->prev;
  else
    s->wait_tail = w->prev;
  w->next = w->prev = NULL;
  w->host->waiting--;
  s->waiting--;
  w->task = NULL;
}

/* Hand out room for new connections to the waiters that can use it. */
static void grant_slots(cio_http_session *s) {
  cio__hwaiter *w = s->wait_head;
  while (w) {
    cio__hwaiter *next = w->next;
    cio__hhost *h = w->host;
    if (h->open < s->max_per_host && (s->open < s->max_conns || evict_one(s, h))) {
      if (cio_task_wake(w->task, 0)) {
        h->open++;
        s->open++;
        w->slot = true;
        waiter_unlink(s, w);
      }
    } else if (s->open >= s->max_conns && !s->idle) {
      break; /* nobody can get anything */
    }
    w = next;
  }
}

static void sweep_arm(cio_http_session *s);

static void sweep(void *arg) {
  cio_http_session *s = arg;
  int64_t now = cio_now_ns(), max_idle = (int64_t)(s->idle_timeout * 1e9);
  for (cio__hhost *h = s->hosts; h; h = h->next) {
    while (h->idle_tail && now - h->idle_tail->idle_since >= max_idle) {
      cio__hconn *c = h->idle_tail;
      host_unlink_idle(h, c);
      s->idle--;
      h->open--;
      s->open--;
      conn_free(c);
    }
  }
  /* Forget hosts nothing refers to: a crawler meets many. */
  for (cio__hhost **p = &s->hosts; *p;) {
    cio__hhost *h = *p;
    if (!h->open && !h->waiting) {
      *p = h->next;
      free(h->key);
      free(h->host);
      free(h->origin_host);
      free(h);
    } else {
      p = &h->next;
    }
  }
  grant_slots(s);
  sweep_arm(s);
}

static void sweep_arm(cio_http_session *s) {
  if (!s->idle || s->idle_timeout < 0 || s->freed) return;
  if (!s->sweep && !(s->sweep = cio_timer_new(s->loop, sweep, s))) return;
  if (cio_timer_active(s->sweep)) return;
  double every = s->idle_timeout / 2;
  cio_timer_start(s->sweep, every < 0.01 ? 0.01 : every);
}

bool cio__conn_stale(cio__hconn *c) {
  if (cio_stream_buffered(c->s)) return true;
  char b;
  ssize_t r = recv(cio_stream_fd(c->s), &b, 1, MSG_PEEK | MSG_DONTWAIT);
  /* Bytes on an idle connection are a close (TLS: a close_notify) or junk:
   * either way not the start of our answer. */
  if (r >= 0) return true;
  return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

static int new_conn(cio_http_session *s, cio__hhost *h, cio__hconn **out) {
  cio__hconn *c = calloc(1, sizeof *c);
  if (c) c->hdrs = malloc(s->max_headers * sizeof *c->hdrs);
  if (!c || !c->hdrs) {
    free(c);
    return cio__hc_fail(-ENOMEM, "out of memory");
  }
  c->host = h;
  int r = cio__conn_open(s, h, &c->s);
  if (r < 0) {
    free(c->hdrs);
    free(c);
    return r;
  }
  s->created++;
  *out = c;
  return 0;
}

/* Give back room reserved for a connection that was never made. */
static void slot_free(cio_http_session *s, cio__hhost *h) {
  h->open--;
  s->open--;
  grant_slots(s);
}

int cio__pool_acquire(cio_http_session *s, cio__hhost *h, unsigned flags, cio__hconn **out,
                      bool *reused) {
  *out = NULL;
  *reused = false;
  for (;;) {
    if (s->freed) return cio__hc_fail(-EBADF, "the session was freed");
    if (s->closed) return cio__hc_fail(-ESHUTDOWN, "the session is closed");
    while (!(flags & CIO__POOL_FRESH) && h->idle) {
      cio__hconn *c = h->idle;
      host_unlink_idle(h, c);
      s->idle--;
      if ((flags & CIO__POOL_CHECK) && cio__conn_stale(c)) {
        h->open--;
        s->open--;
        conn_free(c);
        continue;
      }
      *out = c;
      *reused = true;
      return 0;
    }
    if (h->open < s->max_per_host && (s->open < s->max_conns || evict_one(s, h))) break;
    cio__hwaiter w = {.host = h, .task = cio_current(), .prev = s->wait_tail};
    if (!w.task) return -EPERM;
    if (s->wait_tail)
      s->wait_tail->next = &w;
    else
      s->wait_head = &w;
    s->wait_tail = &w;
    h->waiting++;
    s->waiting++;
    int r = cio_suspend("http connection pool");
    if (w.task) waiter_unlink(s, &w); /* not granted: interrupted or shut down */
    if (w.conn) {
      if (r == 0) {
        *out = w.conn;
        *reused = true;
        return 0;
      }
      cio__pool_release(s, w.conn);
    } else if (w.slot) {
      if (r == 0) goto connect;
      slot_free(s, h);
    }
    if (r < 0) {
      if (r == -EBADF) return cio__hc_fail(r, "the session was freed");
      if (r == -ESHUTDOWN) return cio__hc_fail(r, "the session is closed");
      return cio__hc_fail(r, "waiting for a connection: %s", cio_strerror(r));
    }
  }
  h->open++;
  s->open++;
connect:;
  int r = new_conn(s, h, out);
  if (r < 0) slot_free(s, h);
  return r;
}

void cio__pool_release(cio_http_session *s, cio__hconn *c) {
  cio__hhost *h = c->host;
  if (s->closed || s->freed || cio_stream_buffered(c->s)) {
    cio__pool_discard(s, c);
    return;
  }
  for (cio__hwaiter *w = s->wait_head; w; w = w->next) {
    if (w->host == h && cio_task_wake(w->task, 0)) {
      w->conn = c;
      waiter_unlink(s, w);
      return;
    }
  }
  c->idle_since = cio_now_ns();
  host_push_idle(h, c);
  s->idle++;
  if (s->waiting) grant_slots(s); /* waiters for other hosts may use its room */
  sweep_arm(s);
}

void cio__pool_discard(cio_http_session *s, cio__hconn *c) {
  cio__hhost *h = c->host;
  h->open--;
  s->open--;
  conn_free(c);
  grant_slots(s);
}

void cio__pool_shutdown(cio_http_session *s, int err) {
  for (cio__hhost *h = s->hosts; h; h = h->next) {
    while (h->idle) {
      cio__hconn *c = h->idle;
      host_unlink_idle(h, c);
      s->idle--;
      h->open--;
      s->open--;
      conn_free(c);
    }
  }
  if (err) {
    while (s->wait_head) {
      cio__hwaiter *w = s->wait_head;
      cio_task_wake(w->task, err);
      waiter_unlink(s, w);
    }
  }
  if (s->sweep) cio_timer_stop(s->sweep);
}

void cio__pool_free(cio_http_session *s) {
  cio__pool_shutdown(s, -EBADF);
  while (s->hosts) {
    cio__hhost *h = s->hosts;
    s->hosts = h->next;
    free(h->key);
    free(h->host);
    free(h->origin_host);
    free(h);
  }
  cio_timer_free(s->sweep);
  s->sweep = NULL;
}
