/* net.c - TCP and Unix-domain connections and servers.
 *
 * A server has no task of its own: accepting runs from a readable-callback
 * of the reactor, which takes a burst of connections (at most ACCEPT_BURST
 * per loop turn, so a flood cannot starve the handlers) and spawns one
 * handler task per connection. EMFILE/ENFILE and friends leave the pending
 * connections queued in the kernel and retry from a timer, backing off from
 * 10 to 100 ms. Idle connections are found by a coarse sweep timer that
 * compares each stream's byte counters (received, and taken for sending)
 * with the previous sweep: no per-read or per-write cost. A TLS handshake
 * runs under a timeout scope of its own.
 *
 * Lifetime: the user's handle and every live connection hold a reference
 * (as does each task suspended in serve_forever/close); the last one frees
 * the server. A handler task cancelled before it ever ran never runs (the
 * core guarantees it), so whoever cancels such a task cleans its connection
 * up. cio_server_close() returns only once the handlers it waits for have
 * finished, also when it is interrupted: they may use the server's arg,
 * which often lives on the closing task's stack.
 */
#include "io_internal.h"

#include "cio/dns.h"
#include "cio/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define ACCEPT_BURST      64
#define BACKOFF_MIN       0.010
#define BACKOFF_MAX       0.100
#define HANDSHAKE_TIMEOUT 60.0 /* handshake_timeout = 0 (asyncio's default) */

/* ---- addresses ---- */

int cio__resolve(const char *host, int port, int family, int socktype, int passive,
                 struct addrinfo **res) {
  char service[16];
  snprintf(service, sizeof service, "%d", port);
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = family;
  hints.ai_socktype = socktype;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  if (host && !*host) host = NULL;
  return cio_getaddrinfo(host, service, &hints, res);
}

void cio__resolve_free(struct addrinfo *res) { cio_freeaddrinfo(res); }

int cio__addr_string(const struct sockaddr *sa, socklen_t len, char *buf, size_t cap) {
  char ip[INET6_ADDRSTRLEN];
  int n;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
    inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
    n = snprintf(buf, cap, "%s:%u", ip, ntohs(in->sin_port));
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
    inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
    n = snprintf(buf, cap, "[%s]:%u", ip, ntohs(in6->sin6_port));
  } else if (sa->sa_family == AF_UNIX) {
    const struct sockaddr_un *un = (const struct sockaddr_un *)(const void *)sa;
    size_t plen = len > offsetof(struct sockaddr_un, sun_path)
                      ? len - offsetof(struct sockaddr_un, sun_path)
                      : 0;
    if (plen && un->sun_path[0] == '\0') /* abstract: shown as @name */
      n = snprintf(buf, cap, "unix:@%.*s", (int)(plen - 1), un->sun_path + 1);
    else
      n = snprintf(buf, cap, "unix:%.*s", (int)strnlen(un->sun_path, plen), un->sun_path);
  } else {
    return -EAFNOSUPPORT;
  }
  return n < 0 ? -EINVAL : (size_t)n >= cap ? -ENOSPC : 0;
}

/* "@name" is Linux's abstract namespace. */
static int unix_addr(const char *path, struct sockaddr_un *un, socklen_t *len) {
  if (!path || !*path) return -EINVAL;
  size_t n = strlen(path);
  if (n >= sizeof un->sun_path) return -ENAMETOOLONG;
  memset(un, 0, sizeof *un);
  un->sun_family = AF_UNIX;
  memcpy(un->sun_path, path, n);
  if (path[0] == '@') {
    un->sun_path[0] = '\0';
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
  } else {
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
  }
  return 0;
}

/* ---- connecting ---- */

static int connect_fd(int fd, const struct sockaddr *sa, socklen_t len) {
  if (!cio__fault_errno(CIO__FAULT_CONNECT) && connect(fd, sa, len) == 0) return 0;
  if (errno != EINPROGRESS && errno != EINTR) return -errno;
  for (;;) {
    int r = cio_wait_fd(fd, CIO_WRITABLE);
    if (r < 0) return r;
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0) return -errno;
    if (err) return -err;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) return 0;
    if (errno != ENOTCONN) return -errno;
    /* Still in progress (a stale readiness report): wait again. */
  }
}

static void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Wrap a connected socket; with TLS, run the client handshake (verifying
 * opts->server_name, else `name`). */
static int finish_connection(int fd, const char *name, const cio_connect_opts *opts,
                             cio_stream **out) {
  cio_stream *s = cio__stream_new_socket(fd, opts ? &opts->stream : NULL);
  if (!s) {
    cio_close(fd);
    return -ENOMEM;
  }
  if (opts && opts->tls) {
    int r = cio_stream_start_tls(s, opts->tls, opts->server_name ? opts->server_name : name);
    if (r < 0) {
      cio_stream_free(s);
      return r;
    }
  }
  *out = s;
  return 0;
}

static int open_tcp(const char *host, int port, const cio_connect_opts *opts, cio_stream **out) {
  struct addrinfo *res = NULL;
  int r = cio__resolve(host, port, opts ? opts->family : AF_UNSPEC, SOCK_STREAM, 0, &res);
  if (r < 0) return r;
  int fd = -1;
  r = -EHOSTUNREACH;
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    fd = cio__fault_errno(CIO__FAULT_SOCKET)
             ? -1
             : socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      r = -errno;
      continue;
    }
    r = connect_fd(fd, ai->ai_addr, ai->ai_addrlen);
    if (r == 0) break;
    cio_close(fd);
    fd = -1;
    if (r == -ECANCELED || r == -ETIMEDOUT) break;
  }
  cio__resolve_free(res);
  if (fd < 0) return r;
  set_nodelay(fd);
  return finish_connection(fd, host, opts, out);
}

int cio_open_connection(const char *host, int port, const cio_connect_opts *opts,
                        cio_stream **out) {
  if (!out) return -EINVAL;
  *out = NULL;
  if (!cio_current()) return -EPERM;
  if (port < 0 || port > 65535) return -EINVAL;
  if (opts && opts->timeout > 0) {
    cio_timeout_scope sc;
    cio_timeout_begin(&sc, opts->timeout);
    int r = open_tcp(host, port, opts, out);
    cio_timeout_end(&sc);
    return r;
  }
  return open_tcp(host, port, opts, out);
}

static int open_unix(const char *path, const cio_connect_opts *opts, cio_stream **out) {
  struct sockaddr_un un;
  socklen_t len = 0;
  int r = unix_addr(path, &un, &len);
  if (r < 0) return r;
  int fd = cio__fault_errno(CIO__FAULT_SOCKET)
               ? -1
               : socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  double backoff = 0.001;
  for (;;) {
    r = connect_fd(fd, (struct sockaddr *)&un, len);
    if (r != -EAGAIN) break;
    /* The listener's backlog is full: nothing is in progress, retry. */
    r = cio_sleep(backoff);
    if (r < 0) break;
    if (backoff < BACKOFF_MAX) backoff *= 2;
  }
  if (r < 0) {
    cio_close(fd);
    return r;
  }
  return finish_connection(fd, NULL, opts, out); /* a path is no TLS name */
}

int cio_open_unix_connection(const char *path, const cio_connect_opts *opts, cio_stream **out) {
  if (!out) return -EINVAL;
  *out = NULL;
  if (!cio_current()) return -EPERM;
  if (opts && opts->timeout > 0) {
    cio_timeout_scope sc;
    cio_timeout_begin(&sc, opts->timeout);
    int r = open_unix(path, opts, out);
    cio_timeout_end(&sc);
    return r;
  }
  return open_unix(path, opts, out);
}

/* ---- servers ---- */

typedef struct waiter {
  cio__link link;
  cio_task *task;
} waiter;

typedef struct conn {
  cio__link link;
  cio_server *srv;
  cio_stream *s;
  cio_task *task;
  uint64_t last_moved; /* bytes received + bytes sent at the last sweep */
  double idle_since;   /* 0: not looked at yet */
  uint8_t started;
  uint8_t cancelled;
} conn;

struct cio_server {
  int lfd;
  int port;
  unsigned refs;
  uint8_t closing; /* no longer accepting */
  uint8_t freed;
  uint8_t armed;        /* accept callback armed */
  uint8_t cancel_phase; /* past the grace period */
  cio_conn_handler handler;
  void *arg;
  cio_server_opts opts;
  char *unix_path;   /* the Unix server's path as given ('@' = abstract) */
  uint8_t unix_file; /* unix_path is a file, removed at close if still ours */
  dev_t unix_dev;
  ino_t unix_ino;
  cio__link conns;
  size_t nconns;
  cio_timer *retry; /* accept backoff, or the rest of a burst */
  double backoff;
  cio_timer *sweep; /* idle timeouts */
  double sweep_period;
  cio_loop *loop;
  cio__link forever; /* tasks in serve_forever */
  cio__link closers; /* tasks waiting for the last connection */
};

static void srv_unref(cio_server *srv) {
  if (--srv->refs > 0) return;
  cio_timer_free(srv->retry);
  cio_timer_free(srv->sweep);
  cio__free(srv->unix_path);
  cio__free(srv);
}

static void wake_all(cio__link *list, int code) {
  while (!cio__list_empty(list)) {
    waiter *w = cio__list_entry(list->next, waiter, link);
    cio__list_remove(&w->link);
    cio_task_wake(w->task, code);
  }
}

/* Suspend on list. The caller holds a reference meanwhile. */
static int wait_on(cio__link *list, const char *what) {
  waiter w;
  w.task = cio_current();
  if (!w.task) return -EPERM;
  cio__list_push_back(list, &w.link);
  int r = cio_suspend(what);
  cio__list_remove(&w.link);
  return r;
}

static void conn_free(conn *c) {
  cio_server *srv = c->srv;
  cio__list_remove(&c->link);
  cio_stream_free(c->s);
  cio_detach(c->task);
  cio__free(c);
  srv->nconns--;
  wake_all(&srv->closers, 0); /* they re-check what they wait for */
  srv_unref(srv);
}

/* The server side of the TLS handshake, bounded by handshake_timeout. */
static int handshake(conn *c) {
  cio_server *srv = c->srv;
  double limit = srv->opts.handshake_timeout;
  if (limit == 0) limit = HANDSHAKE_TIMEOUT;
  if (limit < 0) return cio_stream_start_tls(c->s, srv->opts.tls, NULL);
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, limit);
  int r = cio_stream_start_tls(c->s, srv->opts.tls, NULL);
  cio_timeout_end(&sc);
  return r;
}

static int conn_main(void *arg) {
  conn *c = arg;
  cio_server *srv = c->srv;
  c->started = 1;
  int r = srv->opts.tls ? handshake(c) : 0;
  if (r == 0) r = srv->handler(c->s, srv->arg);
  /* A peer that went away is how connections end, not a failure to report
   * (the task is detached: debug mode reports negative statuses). */
  if (r == -ECONNRESET || r == -EPIPE) r = 0;
  /* What the handler wrote but the peer has not taken yet still goes out,
   * unless the connection is being cancelled (then it is dropped). */
  if (cio_stream_write_buffered(c->s) && !c->cancelled && !srv->cancel_phase) {
    cio_stream_close(c->s);
    cio_stream_wait_closed(c->s);
  }
  conn_free(c);
  return r;
}

static void cancel_conn(conn *c) {
  if (c->cancelled) return;
  c->cancelled = 1;
  cio_task_cancel(c->task);
  /* Cancelled before it ever ran: it never will, clean up for it. */
  if (!c->started) conn_free(c);
}

/* Cancel every handler but the calling task's own. */
static void cancel_all(cio_server *srv) {
  srv->cancel_phase = 1;
  cio_task *self = cio_current();
  cio__link *l = srv->conns.next;
  while (l != &srv->conns) {
    conn *c = cio__list_entry(l, conn, link);
    l = l->next; /* c may be freed */
    if (c->task != self) cancel_conn(c);
  }
}

/* 1 if the calling task is one of srv's handlers (it cannot wait for
 * itself), else 0. */
static size_t own_conns(cio_server *srv) {
  cio_task *self = cio_current();
  for (cio__link *l = srv->conns.next; l != &srv->conns; l = l->next)
    if (cio__list_entry(l, conn, link)->task == self) return 1;
  return 0;
}

static void sweep_fire(void *arg) {
  cio_server *srv = arg;
  double idle = srv->opts.idle_timeout;
  double now = cio_loop_time(cio_loop_current());
  for (cio__link *l = srv->conns.next, *next; l != &srv->conns; l = next) {
    next = l->next;
    conn *c = cio__list_entry(l, conn, link);
    if (!c->started || c->cancelled) continue;
    /* Progress either way: a long response to a slow reader is not idle. */
    uint64_t moved = cio__stream_rx_bytes(c->s) + cio__stream_tx_bytes(c->s);
    if (moved != c->last_moved || c->idle_since == 0) {
      c->last_moved = moved;
      c->idle_since = now;
    } else if (now - c->idle_since >= idle) {
      cancel_conn(c);
    }
  }
  if (srv->nconns) cio_timer_start(srv->sweep, srv->sweep_period);
}

/* "conn <peer>": the handler task's name, for task dumps and debug reports.
 * A Unix-domain client is usually unnamed: the server's path stands in. */
static void conn_name(const cio_server *srv, const struct sockaddr_storage *ss, socklen_t len,
                      char *buf, size_t cap) {
  memcpy(buf, "conn ", 6);
  if (ss->ss_family == AF_UNIX && srv->unix_path &&
      len <= (socklen_t)offsetof(struct sockaddr_un, sun_path) + 1)
    snprintf(buf + 5, cap - 5, "unix:%s", srv->unix_path);
  else if (cio__addr_string((const struct sockaddr *)ss, len, buf + 5, cap - 5) < 0)
    buf[4] = '\0';
}

static void start_conn(cio_server *srv, int fd, const struct sockaddr_storage *ss, socklen_t len) {
  conn *c = cio__calloc(1, sizeof *c);
  cio_stream *s = c ? cio__stream_new_socket(fd, &srv->opts.stream) : NULL;
  if (!s) {
    cio__free(c);
    close(fd);
    return;
  }
  c->srv = srv;
  c->s = s;
  char name[128];
  conn_name(srv, ss, len, name, sizeof name);
  cio_spawn_opts so = {.name = name, .stack_size = srv->opts.stack_size};
  c->task = cio_spawn_ex(conn_main, c, &so);
  if (!c->task) {
    cio_stream_free(s);
    cio__free(c);
    return;
  }
  cio__list_push_back(&srv->conns, &c->link);
  srv->nconns++;
  srv->refs++;
  if (srv->sweep && !cio_timer_active(srv->sweep)) cio_timer_start(srv->sweep, srv->sweep_period);
}

static void accept_ready(void *arg, int res);

static void accept_some(cio_server *srv) {
  for (int i = 0; i < ACCEPT_BURST; i++) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = cio__fault_errno(CIO__FAULT_ACCEPT)
                 ? -1
                 : accept4(srv->lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      srv->backoff = BACKOFF_MIN;
      start_conn(srv, fd, &ss, len);
      continue;
    }
    switch (errno) {
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case EPERM: /* refused by a firewall rule: that connection only */ continue;
    case EAGAIN: {
      int r = cio__fd_watch(srv->lfd, CIO_READABLE, accept_ready, srv);
      if (r == 1) continue; /* reported ready meanwhile: try again */
      if (r == 0) {
        srv->armed = 1;
        return;
      }
      break; /* could not arm: retry from the timer */
    }
    default: break; /* EMFILE, ENFILE, ENOBUFS, ENOMEM...: back off */
    }
    cio_timer_start(srv->retry, srv->backoff);
    srv->backoff = srv->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : srv->backoff * 2;
    return;
  }
  cio_timer_start(srv->retry, 0); /* more may be queued: go on next turn */
}

static void accept_ready(void *arg, int res) {
  cio_server *srv = arg;
  (void)res;
  srv->armed = 0;
  accept_some(srv);
}

static void retry_fire(void *arg) {
  cio_server *srv = arg;
  if (!srv->closing && !srv->armed) accept_some(srv);
}

/* Timers of a loop that has closed may only be freed. */
static void timer_stop(cio_server *srv, cio_timer *t) {
  if (t && srv->loop == cio_loop_current()) cio_timer_stop(t);
}

static void stop_accepting(cio_server *srv) {
  if (srv->closing) return;
  srv->closing = 1;
  timer_stop(srv, srv->retry);
  if (srv->armed) cio__fd_unwatch(srv->lfd, CIO_READABLE);
  srv->armed = 0;
  if (srv->unix_file) {
    struct stat st;
    if (stat(srv->unix_path, &st) == 0 && st.st_dev == srv->unix_dev && st.st_ino == srv->unix_ino)
      unlink(srv->unix_path);
  }
  cio_close(srv->lfd);
  srv->lfd = -1;
  wake_all(&srv->forever, 0);
}

static int listen_fd(int family, const struct sockaddr *sa, socklen_t len, const cio_server_opts *o,
                     int v6only) {
  int fd = cio__fault_errno(CIO__FAULT_SOCKET)
               ? -1
               : socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1, r = 0;
  if (family != AF_UNIX) {
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (o && o->reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
      r = -errno;
    if (family == AF_INET6 && v6only >= 0)
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    /* Accepted sockets inherit it: no setsockopt per connection. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  int backlog = !o || !o->backlog ? 511 : o->backlog > INT_MAX ? INT_MAX : (int)o->backlog;
  if (!r && (bind(fd, sa, len) < 0 || listen(fd, backlog) < 0)) r = -errno;
  if (r) {
    close(fd);
    return r;
  }
  return fd;
}

/* Takes lfd (closed on failure). Returns 0 or -ENOMEM. */
static int server_new(int lfd, cio_conn_handler handler, void *arg, const cio_server_opts *opts,
                      cio_server **out) {
  cio_server *srv = cio__calloc(1, sizeof *srv);
  if (!srv) goto fail;
  srv->lfd = lfd;
  srv->refs = 1;
  srv->handler = handler;
  srv->arg = arg;
  if (opts) srv->opts = *opts;
  srv->backoff = BACKOFF_MIN;
  cio__list_init(&srv->conns);
  cio__list_init(&srv->forever);
  cio__list_init(&srv->closers);
  cio_loop *loop = cio_loop_current();
  srv->loop = loop;
  srv->retry = cio_timer_new(loop, retry_fire, srv);
  if (!srv->retry) goto fail;
  if (srv->opts.idle_timeout > 0) {
    double p = srv->opts.idle_timeout / 4;
    srv->sweep_period = p < 0.005 ? 0.005 : p > 1.0 ? 1.0 : p;
    srv->sweep = cio_timer_new(loop, sweep_fire, srv);
    if (!srv->sweep) goto fail;
  }
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getsockname(lfd, (struct sockaddr *)&ss, &sl) == 0) {
    if (ss.ss_family == AF_INET) srv->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) srv->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  }
  *out = srv;
  return 0;
fail:
  if (srv) {
    cio_timer_free(srv->retry);
    cio_timer_free(srv->sweep);
    cio__free(srv);
  }
  close(lfd);
  return -ENOMEM;
}

/* The checks both starts make first; a cancellation point. */
static int check_server_args(cio_conn_handler handler, cio_server **out) {
  if (!out) return -EINVAL;
  *out = NULL;
  if (!handler) return -EINVAL;
  if (!cio_loop_current()) return -EPERM;
  int r = cio__io_checkpoint();
  if (r < 0) return r;
  return cio_io_init(cio_loop_current());
}

/* Bind the wildcard: dual-stack IPv6 when the host has IPv6, else IPv4. */
static int listen_any(int port, const cio_server_opts *opts) {
  struct sockaddr_in6 a6;
  memset(&a6, 0, sizeof a6);
  a6.sin6_family = AF_INET6;
  a6.sin6_addr = in6addr_any;
  a6.sin6_port = htons((uint16_t)port);
  int fd = listen_fd(AF_INET6, (struct sockaddr *)&a6, sizeof a6, opts, 0);
  if (fd >= 0 || (fd != -EAFNOSUPPORT && fd != -EADDRNOTAVAIL)) return fd;
  struct sockaddr_in a4;
  memset(&a4, 0, sizeof a4);
  a4.sin_family = AF_INET;
  a4.sin_addr.s_addr = htonl(INADDR_ANY);
  a4.sin_port = htons((uint16_t)port);
  return listen_fd(AF_INET, (struct sockaddr *)&a4, sizeof a4, opts, -1);
}

int cio_start_server(const char *host, int port, cio_conn_handler handler, void *arg,
                     const cio_server_opts *opts, cio_server **out) {
  int r = check_server_args(handler, out);
  if (r < 0) return r;
  if (port < 0 || port > 65535) return -EINVAL;
  int fd;
  if (!host || !*host) {
    fd = listen_any(port, opts);
  } else {
    struct addrinfo *res = NULL;
    fd = cio__resolve(host, port, AF_UNSPEC, SOCK_STREAM, 1, &res);
    if (fd == 0) {
      fd = -EADDRNOTAVAIL;
      for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = listen_fd(ai->ai_family, ai->ai_addr, ai->ai_addrlen, opts, 1);
        if (fd >= 0) break;
      }
    }
    cio__resolve_free(res);
  }
  if (fd < 0) return fd;
  cio_server *srv;
  if ((r = server_new(fd, handler, arg, opts, &srv)) < 0) return r;
  accept_some(srv);
  *out = srv;
  return 0;
}

int cio_start_unix_server(const char *path, cio_conn_handler handler, void *arg,
                          const cio_server_opts *opts, cio_server **out) {
  struct sockaddr_un un;
  socklen_t len = 0;
  int r = check_server_args(handler, out);
  if (r < 0) return r;
  if ((r = unix_addr(path, &un, &len)) < 0) return r;
  int file = path[0] != '@';
  char *copy = cio__strdup(path);
  if (!copy) return -ENOMEM;
  struct stat st;
  /* A socket file left by a previous run is stale (asyncio removes it too). */
  if (file && stat(path, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path);
  int fd = listen_fd(AF_UNIX, (struct sockaddr *)&un, len, opts, -1);
  if (fd < 0) {
    cio__free(copy);
    return fd;
  }
  if (file && stat(path, &st) < 0) {
    r = -errno;
    close(fd);
    cio__free(copy);
    return r;
  }
  cio_server *srv;
  if ((r = server_new(fd, handler, arg, opts, &srv)) < 0) {
    if (file) unlink(path);
    cio__free(copy);
    return r;
  }
  srv->unix_path = copy;
  srv->unix_file = (uint8_t)file;
  if (file) {
    srv->unix_dev = st.st_dev;
    srv->unix_ino = st.st_ino;
  }
  accept_some(srv);
  *out = srv;
  return 0;
}

int cio_server_port(const cio_server *srv) { return srv->port; }
size_t cio_server_connections(const cio_server *srv) { return srv->nconns; }

int cio_server_serve_forever(cio_server *srv) {
  int r = cio__io_checkpoint();
  if (r < 0) return r;
  if (srv->closing) return 0;
  srv->refs++; /* a concurrent cio_server_free must not pull it away */
  r = wait_on(&srv->forever, "serve forever");
  srv_unref(srv);
  return r;
}

/* Wait until every connection is gone, ignoring cancellation and timeouts
 * (they stay pending for the caller's next suspension). */
static void wait_shielded(cio_server *srv) {
  cio_shield_scope sh;
  cio_shield_begin(&sh);
  while (srv->nconns > 0) wait_on(&srv->closers, "server close (handlers unwinding)");
  cio_shield_end(&sh);
}

int cio_server_close(cio_server *srv, double grace) {
  if (!cio_current()) return -EPERM;
  srv->refs++;
  stop_accepting(srv);
  size_t mine = own_conns(srv); /* called from a handler: do not wait for it */
  int r = 0;
  if (srv->nconns > mine && grace != 0 && !srv->cancel_phase) {
    cio_timeout_scope sc; /* grace < 0 (CIO_FOREVER): as long as they take */
    if (grace > 0) cio_timeout_begin(&sc, grace);
    while (srv->nconns > mine && r == 0) r = wait_on(&srv->closers, "server close (grace)");
    if (grace > 0 && cio_timeout_end(&sc) && r == -ETIMEDOUT) r = 0;
  }
  cancel_all(srv);
  while (r == 0 && srv->nconns > mine) r = wait_on(&srv->closers, "server close");
  /* Interrupted: every handler has been cancelled, but some are still
   * unwinding with the server's arg, which may live on our stack. Wait for
   * them as cio_await() does. A handler closing its own server returns at
   * once instead: the others' close may cancel it while they wait for it,
   * and the arg was not its to give. */
  if (r < 0 && !mine) wait_shielded(srv);
  srv_unref(srv);
  return r;
}

void cio_server_free(cio_server *srv) {
  if (!srv || srv->freed) return;
  srv->freed = 1;
  stop_accepting(srv);
  cancel_all(srv);
  timer_stop(srv, srv->sweep);
  srv_unref(srv);
}
