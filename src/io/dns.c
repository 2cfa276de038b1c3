/* dns.c - cio_getaddrinfo: c-ares driven from the loop.
 *
 * c-ares runs without threads: it tells us (sock_state_cb) which sockets it
 * opens and what it waits for, and we feed it readiness with
 * ares_process_fd(). Each socket gets a small pump task per direction that
 * sits in cio_wait_fd(); c-ares' retry timers run from one cio_timer rearmed
 * from ares_timeout() after every call into c-ares.
 *
 * Lifetime. The channel is created by the first query of a burst and
 * destroyed by the task whose query was the last one still waited for, so
 * an idle loop holds nothing and no hook at loop close is needed (loop
 * close cancels the waiting tasks, the last of them destroys the channel).
 * A query whose task gave up (cancelled, timed out) stays in c-ares until it
 * ends or the channel is destroyed; its record is heap-allocated and shared
 * by the task and the c-ares callback (two references), so the callback
 * never touches a dead stack frame.
 */
#include "io_internal.h"
#include "cio/dns.h"
#include "cio/io.h"

#include <ares.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DNS_DEFAULT_TIMEOUT 2.0
#define DNS_DEFAULT_TRIES   2
#define DNS_SERVERS_MAX     512
#define DNS_MAX_TIMEOUT     86400.0
#define DNS_MAX_TRIES       64

typedef struct dns_state dns_state;

/* A socket c-ares opened. refs: one while c-ares has it open, one per live
 * pump task. */
typedef struct dns_sock {
  cio__link link; /* in dns_state.socks while c-ares has it open */
  dns_state *st;  /* NULL once c-ares closed the socket */
  int fd;
  int want_write;
  int reader, writer; /* a pump task runs for that direction */
  int refs;
} dns_sock;

struct dns_state {
  ares_channel ch;
  cio_timer *timer;
  cio__link socks;
  int waiters;    /* tasks suspended on a query of this channel */
  int broken;     /* a pump or the timer could not be started */
  int fail;       /* ... then every query fails with this */
  int files_only; /* lookups without 'b' */
};

/* A query, shared by the waiting task and the c-ares callback. */
typedef struct dns_query {
  cio_task *task; /* NULL once the task stopped waiting */
  struct ares_addrinfo *res;
  int status; /* ARES_* */
  int done;
  int refs;
} dns_query;

typedef struct dns_config {
  int set;
  double timeout;
  size_t tries;
  char servers[DNS_SERVERS_MAX];
  char lookups[8];
} dns_config;

/* One loop per thread, and the state lives only while tasks of that loop
 * wait on it, so per-thread is per-loop. */
static _Thread_local dns_state *dns_cur;
static _Thread_local dns_config dns_cfg;

static pthread_once_t dns_lib_once = PTHREAD_ONCE_INIT;
static int dns_lib_status;

static void dns_lib_init(void) { dns_lib_status = ares_library_init(ARES_LIB_INIT_ALL); }

/* ---- status mapping ---- */

static int dns_map_status(int status) {
  switch (status) {
  case ARES_SUCCESS: return 0;
  case ARES_ENODATA:
  case ARES_ENOTFOUND:
  case ARES_ENONAME:
  case ARES_EBADNAME: return -CIO_ENONAME;
  case ARES_ENOMEM: return -ENOMEM;
  case ARES_ECANCELLED:
  case ARES_EDESTRUCTION: return -ECANCELED;
  case ARES_EBADFAMILY: return -EAFNOSUPPORT;
  case ARES_ESERVICE:
  case ARES_EBADFLAGS:
  case ARES_EBADHINTS: return -EINVAL;
  default: return -CIO_EDNS; /* ETIMEOUT, ECONNREFUSED, SERVFAIL, EBADRESP... */
  }
}

/* ---- result lists ---- */

/* One allocation per entry: the addrinfo followed by its address. */
typedef struct dns_entry {
  struct addrinfo ai;
  struct sockaddr_storage addr;
} dns_entry;

void cio_freeaddrinfo(struct addrinfo *res) {
  while (res) {
    struct addrinfo *next = res->ai_next;
    cio__free(res->ai_canonname);
    cio__free(res);
    res = next;
  }
}

/* Append a copy of sa to the list ending at *tail. */
static int dns_append(struct addrinfo ***tail, const struct sockaddr *sa, socklen_t len,
                      const struct addrinfo *hints, int port) {
  if (len > sizeof(struct sockaddr_storage)) return -EINVAL;
  dns_entry *e = cio__calloc(1, sizeof *e);
  if (!e) return -ENOMEM;
  memcpy(&e->addr, sa, len);
  e->ai.ai_family = sa->sa_family;
  e->ai.ai_socktype = hints->ai_socktype;
  e->ai.ai_protocol = hints->ai_protocol;
  e->ai.ai_addrlen = len;
  e->ai.ai_addr = (struct sockaddr *)&e->addr;
  if (sa->sa_family == AF_INET)
    ((struct sockaddr_in *)&e->addr)->sin_port = htons((uint16_t)port);
  else if (sa->sa_family == AF_INET6)
    ((struct sockaddr_in6 *)&e->addr)->sin6_port = htons((uint16_t)port);
  **tail = &e->ai;
  *tail = &e->ai.ai_next;
  return 0;
}

static int dns_set_canon(struct addrinfo *res, const char *name) {
  if (!res || !name) return 0;
  res->ai_canonname = cio__strdup(name);
  return res->ai_canonname ? 0 : -ENOMEM;
}

/* ---- service / port ---- */

static int dns_port(const char *service, const struct addrinfo *hints, int *port) {
  *port = 0;
  if (!service || !*service) return 0;
  char *end;
  errno = 0;
  long v = strtol(service, &end, 10);
  if (*end == '\0' && isdigit((unsigned char)service[0])) {
    if (errno || v < 0 || v > 65535) return -EINVAL;
    *port = (int)v;
    return 0;
  }
  if (hints->ai_flags & AI_NUMERICSERV) return -EINVAL;
  /* /etc/services is a small local file: read it like c-ares itself would. */
  const char *proto = hints->ai_socktype == SOCK_DGRAM ? "udp" : "tcp";
  struct servent se, *found = NULL;
  char buf[1024];
  if (getservbyname_r(service, proto, &se, buf, sizeof buf, &found) != 0 || !found) return -EINVAL;
  *port = ntohs((uint16_t)found->s_port);
  return 0;
}

/* ---- fast paths (no c-ares, no suspension) ---- */

static int family_wanted(const struct addrinfo *hints, int family) {
  return hints->ai_family == AF_UNSPEC || hints->ai_family == family;
}

/* Loopback, or the wildcard address when passive: IPv4 first. */
static int dns_local(const struct addrinfo *hints, int port, int any, struct addrinfo **res) {
  struct addrinfo *head = NULL, **tail = &head;
  int r = 0;
  if (family_wanted(hints, AF_INET)) {
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(any ? INADDR_ANY : INADDR_LOOPBACK);
    r = dns_append(&tail, (struct sockaddr *)&sin, sizeof sin, hints, port);
  }
  if (r == 0 && family_wanted(hints, AF_INET6)) {
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
    sin6.sin6_addr = any ? in6addr_any : in6addr_loopback;
    r = dns_append(&tail, (struct sockaddr *)&sin6, sizeof sin6, hints, port);
  }
  if (r == 0 && (hints->ai_flags & AI_CANONNAME)) r = dns_set_canon(head, "localhost");
  if (r < 0) {
    cio_freeaddrinfo(head);
    return r;
  }
  *res = head;
  return 0;
}

/* 1 if host is numeric (answered into *res or an error in *err), 0 if not. */
static int dns_numeric(const char *host, const struct addrinfo *hints, int port,
                       struct addrinfo **res, int *err) {
  struct addrinfo h = {
      .ai_flags = AI_NUMERICHOST, .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  struct addrinfo *g = NULL;
  /* With AI_NUMERICHOST and no service glibc only parses: it never blocks. */
  if (getaddrinfo(host, NULL, &h, &g) != 0) return 0;
  struct addrinfo *head = NULL, **tail = &head;
  int r = 0;
  for (struct addrinfo *a = g; a && r == 0; a = a->ai_next)
    if (family_wanted(hints, a->ai_family))
      r = dns_append(&tail, a->ai_addr, a->ai_addrlen, hints, port);
  freeaddrinfo(g);
  if (r == 0 && !head) r = -CIO_ENONAME; /* "10.0.0.1" asked as AF_INET6 */
  if (r == 0 && (hints->ai_flags & AI_CANONNAME)) r = dns_set_canon(head, host);
  if (r < 0) {
    cio_freeaddrinfo(head);
    head = NULL;
  }
  *res = head;
  *err = r;
  return 1;
}

/* host ends with the label `label` (case-insensitive, trailing dot allowed),
 * or is exactly it. */
static int has_tld(const char *host, const char *label) {
  size_t n = strlen(host), l = strlen(label);
  if (n && host[n - 1] == '.') n--;
  if (n < l || strncasecmp(host + n - l, label, l) != 0) return 0;
  return n == l || host[n - l - 1] == '.';
}

/* ---- the channel ---- */

static void dns_after_ares(dns_state *st);

static dns_sock *sock_find(dns_state *st, int fd) {
  for (cio__link *l = st->socks.next; l != &st->socks; l = l->next) {
    dns_sock *s = cio__list_entry(l, dns_sock, link);
    if (s->fd == fd) return s;
  }
  return NULL;
}

static void sock_unref(dns_sock *s) {
  if (--s->refs == 0) cio__free(s);
}

static int fd_ready(int fd, int dir) {
  struct pollfd p = {.fd = fd, .events = dir == CIO_READABLE ? POLLIN : POLLOUT};
  return poll(&p, 1, 0) == 1;
}

static void dns_break(dns_state *st, int err);

/* Wait for one direction of a c-ares socket and hand readiness to c-ares,
 * until c-ares closes the socket (or no longer wants to write). Readiness is
 * checked with poll() before waiting: c-ares may leave data behind (one TCP
 * message per call) and may want to write on a socket whose last writable
 * edge was consumed long ago; neither produces a new edge. */
static void pump(dns_sock *s, int dir) {
  int spins = 0;
  while (s->st && (dir == CIO_READABLE || s->want_write)) {
    int r;
    if (!fd_ready(s->fd, dir)) {
      spins = 0;
      r = cio_wait_fd(s->fd, dir);
    } else {
      r = ++spins % 16 ? 0 : cio_yield(); /* stay fair if c-ares leaves it ready */
    }
    if (!s->st || r < 0) break; /* closed (-EBADF), or loop closing (-ECANCELED) */
    dns_state *st = s->st;
    ares_process_fd(st->ch, dir == CIO_READABLE ? s->fd : ARES_SOCKET_BAD,
                    dir == CIO_WRITABLE ? s->fd : ARES_SOCKET_BAD);
    dns_after_ares(st); /* st outlives this: only a waiting task frees it */
  }
}

static int pump_read(void *arg) {
  dns_sock *s = arg;
  pump(s, CIO_READABLE);
  s->reader = 0;
  sock_unref(s);
  return 0;
}

static int pump_write(void *arg) {
  dns_sock *s = arg;
  pump(s, CIO_WRITABLE);
  s->writer = 0;
  sock_unref(s);
  return 0;
}

/* Queries cannot make progress (no pump, no timer): the next
 * dns_after_ares() cancels them all and they report `err`. */
static void dns_break(dns_state *st, int err) {
  st->broken = 1;
  if (!st->fail) st->fail = err < 0 ? err : -ENOMEM;
}

static int pump_start(dns_state *st, dns_sock *s, int dir) {
  cio_spawn_opts o = {
      .name = dir == CIO_READABLE ? "dns read" : "dns write", .stack_size = 64 * 1024, .daemon = 1};
  cio_task *t = cio_spawn_ex(dir == CIO_READABLE ? pump_read : pump_write, s, &o);
  if (!t) {
    dns_break(st, -errno);
    return -1;
  }
  cio_detach(t);
  s->refs++;
  if (dir == CIO_READABLE)
    s->reader = 1;
  else
    s->writer = 1;
  return 0;
}

/* c-ares: socket fd opened, changed interest, or (0, 0) is about to be
 * closed. Runs inside c-ares calls: must not call back into c-ares. */
static void dns_sock_state(void *data, ares_socket_t fd, int readable, int writable) {
  dns_state *st = data;
  dns_sock *s = sock_find(st, fd);
  if (!readable && !writable) {
    if (!s) return;
    cio__list_remove(&s->link);
    s->st = NULL;
    cio_fd_forget(fd); /* wakes the pumps with -EBADF before the fd is reused */
    sock_unref(s);
    return;
  }
  if (!s) {
    s = cio__calloc(1, sizeof *s);
    if (!s) {
      dns_break(st, -ENOMEM);
      return;
    }
    s->fd = fd;
    s->st = st;
    s->refs = 1;
    cio__list_push_back(&st->socks, &s->link);
  }
  s->want_write = writable;
  if (readable && !s->reader) pump_start(st, s, CIO_READABLE);
  if (writable && !s->writer) pump_start(st, s, CIO_WRITABLE);
}

static void dns_timer_fired(void *arg) {
  dns_state *st = arg;
  ares_process_fd(st->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* timeouts, retries */
  dns_after_ares(st);
}

/* After any call into c-ares: rearm its timer; if a pump could not be
 * started, fail every query rather than let them hang. */
static void dns_after_ares(dns_state *st) {
  if (st->broken) {
    st->broken = 0;
    ares_cancel(st->ch);
  }
  struct timeval tv, *tvp = ares_timeout(st->ch, NULL, &tv);
  if (!tvp) {
    cio_timer_stop(st->timer);
    return;
  }
  double delay = (double)tvp->tv_sec + (double)tvp->tv_usec / 1e6;
  int r = cio_timer_start(st->timer, delay);
  if (r < 0) {
    dns_break(st, r);
    st->broken = 0;
    ares_cancel(st->ch);
  }
}

static int dns_state_new(dns_state **out) {
  pthread_once(&dns_lib_once, dns_lib_init);
  if (dns_lib_status != ARES_SUCCESS) return -ENOMEM;
  dns_state *st = cio__calloc(1, sizeof *st);
  if (!st) return -ENOMEM;
  cio__list_init(&st->socks);
  st->timer = cio_timer_new(cio_loop_current(), dns_timer_fired, st);
  if (!st->timer) {
    cio__free(st);
    return -ENOMEM;
  }
  char lookups[8];
  strcpy(lookups, dns_cfg.set && dns_cfg.lookups[0] ? dns_cfg.lookups : "fb");
  struct ares_options o;
  memset(&o, 0, sizeof o);
  o.sock_state_cb = dns_sock_state;
  o.sock_state_cb_data = st;
  double timeout = dns_cfg.set && dns_cfg.timeout != 0 ? dns_cfg.timeout : DNS_DEFAULT_TIMEOUT;
  /* No limit (CIO_FOREVER) or a huge one: a day, so that c-ares's doubling
   * per round stays far from int overflow. */
  if (timeout < 0 || timeout > DNS_MAX_TIMEOUT) timeout = DNS_MAX_TIMEOUT;
  o.timeout = (int)(timeout * 1000.0 + 0.5);
  if (o.timeout < 1) o.timeout = 1;
  o.tries = dns_cfg.set && dns_cfg.tries > 0 ? (int)dns_cfg.tries : DNS_DEFAULT_TRIES;
  o.lookups = lookups;
  st->files_only = strchr(lookups, 'b') == NULL;
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS;
  int ar = ares_init_options(&st->ch, &o, mask);
  if (ar == ARES_SUCCESS && dns_cfg.set && dns_cfg.servers[0])
    ar = ares_set_servers_ports_csv(st->ch, dns_cfg.servers);
  if (ar != ARES_SUCCESS) {
    if (st->ch) ares_destroy(st->ch);
    cio_timer_free(st->timer);
    cio__free(st);
    return ar == ARES_ENOMEM ? -ENOMEM : -CIO_EDNS;
  }
  *out = st;
  return 0;
}

/* Called by the last waiting task, outside any c-ares call. Queries whose
 * tasks gave up get ARES_EDESTRUCTION and drop their records; c-ares closes
 * its sockets through dns_sock_state, which releases the pumps. */
static void dns_state_free(dns_state *st) {
  if (dns_cur == st) dns_cur = NULL;
  ares_destroy(st->ch);
  cio_timer_free(st->timer);
  cio__free(st);
}

static void query_unref(dns_query *q) {
  if (--q->refs) return;
  if (q->res) ares_freeaddrinfo(q->res);
  cio__free(q);
}

static void dns_query_done(void *arg, int status, int timeouts, struct ares_addrinfo *res) {
  (void)timeouts;
  dns_query *q = arg;
  q->done = 1;
  q->status = status;
  q->res = res;
  if (q->task) cio_task_wake(q->task, 0);
  query_unref(q);
}

static int dns_convert(const struct ares_addrinfo *ai, const struct addrinfo *hints, int port,
                       struct addrinfo **res) {
  struct addrinfo *head = NULL, **tail = &head;
  int r = 0;
  for (const struct ares_addrinfo_node *n = ai->nodes; n && r == 0; n = n->ai_next)
    if (family_wanted(hints, n->ai_family))
      r = dns_append(&tail, n->ai_addr, n->ai_addrlen, hints, port);
  if (r == 0 && !head) r = -CIO_ENONAME;
  if (r == 0 && (hints->ai_flags & AI_CANONNAME)) {
    const char *name = ai->cnames ? ai->cnames->name : ai->name;
    r = dns_set_canon(head, name);
  }
  if (r < 0) {
    cio_freeaddrinfo(head);
    return r;
  }
  *res = head;
  return 0;
}

static int dns_query_ares(const char *host, const struct addrinfo *hints, int port,
                          struct addrinfo **res) {
  cio_task *self = cio_current();
  if (!self) return -EPERM;
  if (!dns_cur) {
    int r = dns_state_new(&dns_cur);
    if (r < 0) return r;
  }
  dns_state *st = dns_cur;
  dns_query *q = cio__calloc(1, sizeof *q);
  if (!q) {
    if (st->waiters == 0) dns_state_free(st);
    return -ENOMEM;
  }
  q->task = self;
  q->refs = 2; /* ours, and the callback's */
  struct ares_addrinfo_hints ah = {
      .ai_family = hints->ai_family,
      .ai_socktype = hints->ai_socktype,
      .ai_protocol = hints->ai_protocol,
      .ai_flags = (hints->ai_flags & AI_CANONNAME) ? ARES_AI_CANONNAME : 0,
  };
  st->waiters++;
  ares_getaddrinfo(st->ch, host, NULL, &ah, dns_query_done, q);
  dns_after_ares(st);
  int r = 0;
  if (!q->done) r = cio_suspend("getaddrinfo");
  q->task = NULL;
  if (r == 0 && q->done) {
    r = dns_map_status(q->status);
    if (q->status == ARES_ECANCELLED && st->fail) r = st->fail; /* only we cancel */
    /* c-ares 1.18 reports a miss of a files-only lookup as "could not
     * contact DNS servers": no server was asked, the name just isn't there. */
    if (q->status == ARES_ECONNREFUSED && st->files_only) r = -CIO_ENONAME;
    if (r == 0) r = dns_convert(q->res, hints, port, res);
  } else if (r == 0) {
    r = -CIO_EDNS; /* woken without an answer: cannot happen */
  }
  query_unref(q);
  if (--st->waiters == 0) dns_state_free(st);
  return r;
}

int cio_getaddrinfo(const char *host, const char *service, const struct addrinfo *hints,
                    struct addrinfo **res) {
  if (!res) return -EINVAL;
  *res = NULL;
  struct addrinfo h;
  memset(&h, 0, sizeof h);
  if (hints) {
    h.ai_flags = hints->ai_flags;
    h.ai_family = hints->ai_family;
    h.ai_socktype = hints->ai_socktype;
    h.ai_protocol = hints->ai_protocol;
  }
  if (h.ai_family != AF_UNSPEC && h.ai_family != AF_INET && h.ai_family != AF_INET6)
    return -EAFNOSUPPORT;
  if (!host && !service) return -EINVAL;
  int port, r = dns_port(service, &h, &port);
  if (r < 0) return r;
  if (!host) return dns_local(&h, port, (h.ai_flags & AI_PASSIVE) != 0, res);
  if (!*host) return -CIO_ENONAME;
  if (dns_numeric(host, &h, port, res, &r)) return r;
  if (h.ai_flags & AI_NUMERICHOST) return -CIO_ENONAME;
  if (has_tld(host, "localhost")) return dns_local(&h, port, 0, res);
  if (has_tld(host, "invalid")) return -CIO_ENONAME;
  return dns_query_ares(host, &h, port, res);
}

int cio_dns_configure(const cio_dns_opts *opts) {
  dns_config c;
  memset(&c, 0, sizeof c);
  if (opts) {
    if (opts->tries > DNS_MAX_TRIES) return -EINVAL;
    c.timeout = opts->timeout;
    c.tries = opts->tries;
    if (opts->servers) {
      if (strlen(opts->servers) >= sizeof c.servers) return -EINVAL;
      strcpy(c.servers, opts->servers);
    }
    if (opts->lookups) {
      size_t n = strlen(opts->lookups);
      if (n == 0 || n >= sizeof c.lookups || strspn(opts->lookups, "fb") != n) return -EINVAL;
      strcpy(c.lookups, opts->lookups);
    }
    c.set = 1;
  }
  if (c.servers[0]) {
    /* Parse now so a typo fails here rather than in every query. */
    pthread_once(&dns_lib_once, dns_lib_init);
    ares_channel ch;
    struct ares_options o;
    memset(&o, 0, sizeof o);
    char lookups[] = "f"; /* keeps init from reading nsswitch.conf and friends */
    o.lookups = lookups;
    int ar = ares_init_options(&ch, &o, ARES_OPT_LOOKUPS);
    if (ar != ARES_SUCCESS) return ar == ARES_ENOMEM ? -ENOMEM : -CIO_EDNS;
    ar = ares_set_servers_ports_csv(ch, c.servers);
    ares_destroy(ch);
    if (ar != ARES_SUCCESS) return ar == ARES_ENOMEM ? -ENOMEM : -EINVAL;
  }
  dns_cfg = c;
  return 0;
}
