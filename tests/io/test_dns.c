/* test_dns.c - cio_getaddrinfo: fast paths, /etc/hosts, a real DNS exchange
 * with a fake server on 127.0.0.1, failures, timeouts and cancellation.
 *
 * No network is needed: every DNS query goes to a UDP server written here
 * (answers A records, NXDOMAIN, SERVFAIL, late or never by name), or to a
 * port where nothing listens. Timing checks are loose (seconds) and only
 * say "did not hang for the c-ares default".
 */
#include "cio.h"
#include "cio/dns.h"
#include "cio/io.h"
#include "test.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- helpers ---- */

static const char *addr_str(const struct addrinfo *ai, char *buf, size_t cap) {
  const void *a = ai->ai_family == AF_INET
                      ? (const void *)&((const struct sockaddr_in *)ai->ai_addr)->sin_addr
                      : (const void *)&((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
  if (!inet_ntop(ai->ai_family, a, buf, (socklen_t)cap)) snprintf(buf, cap, "?");
  return buf;
}

static int addr_port(const struct addrinfo *ai) {
  return ai->ai_family == AF_INET ? ntohs(((const struct sockaddr_in *)ai->ai_addr)->sin_port)
                                  : ntohs(((const struct sockaddr_in6 *)ai->ai_addr)->sin6_port);
}

static int list_len(const struct addrinfo *ai) {
  int n = 0;
  for (; ai; ai = ai->ai_next) n++;
  return n;
}

/* A UDP socket on 127.0.0.1, port chosen by the kernel. */
static int udp_socket(int *port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in sin = {.sin_family = AF_INET};
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sin;
  if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
      getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(sin.sin_port);
  return fd;
}

static int use_server(int port, double timeout, size_t tries) {
  char csv[64];
  snprintf(csv, sizeof csv, "127.0.0.1:%d", port);
  cio_dns_opts o = {.timeout = timeout, .tries = tries, .servers = csv, .lookups = "b"};
  return cio_dns_configure(&o);
}

/* ---- the fake DNS server ----
 * Names under cio.test: "www" -> A 10.1.2.3 (AAAA: no data), "nx" ->
 * NXDOMAIN, "fail" -> SERVFAIL, "slow" -> A 10.9.9.9 after 0.2 s,
 * "silent" -> never answered, "tcp" -> truncated over UDP (TC bit), A
 * 10.7.7.7 over TCP. */

typedef struct fake_dns {
  int fd, port;
  int tcp_fd; /* listening on the same port number, or -1 */
  int queries, tcp_queries;
  cio_task *task, *tcp_task;
} fake_dns;

typedef struct late_reply {
  fake_dns *srv;
  struct sockaddr_in to;
  unsigned char pkt[512];
  size_t len;
} late_reply;

/* Decode the question name of a query into dotted form; returns the offset
 * after QTYPE/QCLASS or 0 if malformed. */
static size_t parse_question(const unsigned char *p, size_t n, char *name, size_t cap, int *qtype) {
  size_t off = 12, out = 0;
  while (off < n && p[off]) {
    size_t l = p[off++];
    if (l > 63 || off + l > n || out + l + 2 > cap) return 0;
    if (out) name[out++] = '.';
    memcpy(name + out, p + off, l);
    out += l;
    off += l;
  }
  name[out] = '\0';
  if (off + 5 > n) return 0;
  off++;
  *qtype = p[off] << 8 | p[off + 1];
  return off + 4;
}

static size_t build_reply(const unsigned char *q, size_t qend, int rcode, const uint8_t *ip,
                          unsigned char *out) {
  memcpy(out, q, qend);
  out[2] = 0x81;                          /* QR, RD */
  out[3] = (unsigned char)(0x80 | rcode); /* RA */
  out[4] = 0;
  out[5] = 1; /* QDCOUNT */
  out[6] = 0;
  out[7] = ip ? 1 : 0;   /* ANCOUNT */
  memset(out + 8, 0, 4); /* NSCOUNT, ARCOUNT */
  size_t n = qend;
  if (ip) {
    const unsigned char rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4};
    memcpy(out + n, rr, sizeof rr);
    n += sizeof rr;
    memcpy(out + n, ip, 4);
    n += 4;
  }
  return n;
}

static int late_reply_task(void *arg) {
  late_reply *l = arg;
  if (cio_sleep(0.2) == 0)
    sendto(l->srv->fd, l->pkt, l->len, 0, (struct sockaddr *)&l->to, sizeof l->to);
  free(l);
  return 0;
}

static void fake_answer(fake_dns *srv, const unsigned char *q, size_t n,
                        const struct sockaddr_in *from) {
  char name[256];
  int qtype;
  size_t qend = parse_question(q, n, name, sizeof name, &qtype);
  if (!qend) return;
  srv->queries++;
  static const uint8_t www[4] = {10, 1, 2, 3}, slow[4] = {10, 9, 9, 9};
  unsigned char out[512];
  size_t len;
  if (!strcasecmp(name, "www.cio.test")) {
    len = build_reply(q, qend, 0, qtype == 1 ? www : NULL, out);
  } else if (!strcasecmp(name, "tcp.cio.test")) {
    len = build_reply(q, qend, 0, NULL, out);
    out[2] |= 0x02; /* TC: ask again over TCP */
  } else if (!strcasecmp(name, "fail.cio.test")) {
    len = build_reply(q, qend, 2, NULL, out);
  } else if (!strcasecmp(name, "silent.cio.test")) {
    return;
  } else if (!strcasecmp(name, "slow.cio.test")) {
    late_reply *l = malloc(sizeof *l);
    if (!l) return;
    l->srv = srv;
    l->to = *from;
    l->len = build_reply(q, qend, 0, qtype == 1 ? slow : NULL, l->pkt);
    cio_task *t = cio_spawn(late_reply_task, l);
    if (!t) free(l);
    cio_detach(t);
    return;
  } else {
    len = build_reply(q, qend, 3, NULL, out); /* NXDOMAIN */
  }
  sendto(srv->fd, out, len, 0, (const struct sockaddr *)from, sizeof *from);
}

static int fake_dns_task(void *arg) {
  fake_dns *srv = arg;
  for (;;) {
    unsigned char buf[512];
    struct sockaddr_in from;
    socklen_t flen = sizeof from;
    ssize_t n = recvfrom(srv->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
    if (n < 0 && errno == EAGAIN) {
      int r = cio_wait_fd(srv->fd, CIO_READABLE);
      if (r < 0) return r == -ECANCELED ? 0 : r;
      continue;
    }
    if (n < 0) return -errno;
    fake_answer(srv, buf, (size_t)n, &from);
  }
}

/* DNS over TCP: 2-byte length, message; one query per connection here. */
static int fake_tcp_conn(fake_dns *srv, int c) {
  unsigned char in[514], out[600];
  size_t have = 0;
  while (have < 2 || have < 2 + (size_t)(in[0] << 8 | in[1])) {
    ssize_t n = cio_read(c, in + have, sizeof in - have);
    if (n <= 0) return n < 0 ? (int)n : -EPIPE;
    have += (size_t)n;
  }
  char name[256];
  int qtype;
  size_t qend = parse_question(in + 2, have - 2, name, sizeof name, &qtype);
  if (!qend) return -EPROTO;
  srv->tcp_queries++;
  static const uint8_t tcp_ip[4] = {10, 7, 7, 7};
  size_t len = build_reply(in + 2, qend, 0, qtype == 1 ? tcp_ip : NULL, out + 2);
  out[0] = (unsigned char)(len >> 8);
  out[1] = (unsigned char)len;
  ssize_t w = cio_write_all(c, out, len + 2);
  return w < 0 ? (int)w : 0;
}

static int fake_tcp_task(void *arg) {
  fake_dns *srv = arg;
  for (;;) {
    int c = accept4(srv->tcp_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0 && errno == EAGAIN) {
      int r = cio_wait_fd(srv->tcp_fd, CIO_READABLE);
      if (r < 0) return r == -ECANCELED ? 0 : r;
      continue;
    }
    if (c < 0) return -errno;
    /* c-ares may send both A and AAAA on one connection. */
    int r;
    while ((r = fake_tcp_conn(srv, c)) == 0) {
    }
    cio_close(c);
    if (r == -ECANCELED) return 0;
  }
}

static int tcp_listen_on(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0) return -1;
  if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(fd, 8) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int fake_dns_start(fake_dns *srv) {
  memset(srv, 0, sizeof *srv);
  /* A port number free for both UDP and TCP (TCP is nearly always free). */
  for (int i = 0; i < 20; i++) {
    srv->fd = udp_socket(&srv->port);
    if (srv->fd < 0) return -1;
    srv->tcp_fd = tcp_listen_on(srv->port);
    if (srv->tcp_fd >= 0) break;
    close(srv->fd);
  }
  if (srv->tcp_fd < 0) return -1;
  srv->task = cio_spawn(fake_dns_task, srv);
  srv->tcp_task = cio_spawn(fake_tcp_task, srv);
  return srv->task && srv->tcp_task ? 0 : -1;
}

static void fake_dns_stop(fake_dns *srv) {
  cio_task *t[2] = {srv->task, srv->tcp_task};
  for (int i = 0; i < 2; i++) {
    cio_task_cancel(t[i]);
    cio_await(t[i]);
    cio_task_release(t[i]);
  }
  cio_close(srv->fd);
  cio_close(srv->tcp_fd);
}

/* ---- fast paths (outside any loop: they never suspend) ---- */

static void test_numeric(void) {
  struct addrinfo *res = NULL, hints = {.ai_socktype = SOCK_STREAM};
  char buf[64];
  CHECK_EQ(cio_getaddrinfo("127.0.0.1", "8080", &hints, &res), 0);
  if (res) {
    CHECK_EQ(list_len(res), 1);
    CHECK_EQ(res->ai_family, AF_INET);
    CHECK_EQ(res->ai_socktype, SOCK_STREAM);
    CHECK_STR(addr_str(res, buf, sizeof buf), "127.0.0.1");
    CHECK_EQ(addr_port(res), 8080);
    CHECK_EQ(res->ai_addrlen, sizeof(struct sockaddr_in));
  }
  cio_freeaddrinfo(res);

  CHECK_EQ(cio_getaddrinfo("::1", "http", &hints, &res), 0);
  if (res) {
    CHECK_EQ(list_len(res), 1);
    CHECK_EQ(res->ai_family, AF_INET6);
    CHECK_STR(addr_str(res, buf, sizeof buf), "::1");
    CHECK_EQ(addr_port(res), 80);
  }
  cio_freeaddrinfo(res);

  /* A v4 literal asked as v6 has no address of that family. */
  hints.ai_family = AF_INET6;
  CHECK_EQ(cio_getaddrinfo("10.0.0.1", NULL, &hints, &res), -CIO_ENONAME);
  CHECK(res == NULL);
  hints.ai_family = AF_UNSPEC;

  hints.ai_flags = AI_NUMERICHOST;
  CHECK_EQ(cio_getaddrinfo("example.org", "1", &hints, &res), -CIO_ENONAME);
  hints.ai_flags = AI_NUMERICSERV;
  CHECK_EQ(cio_getaddrinfo("127.0.0.1", "http", &hints, &res), -EINVAL);
  hints.ai_flags = 0;
  CHECK_EQ(cio_getaddrinfo("127.0.0.1", "70000", &hints, &res), -EINVAL);
  CHECK_EQ(cio_getaddrinfo("127.0.0.1", "no-such-service-x", &hints, &res), -EINVAL);
  CHECK_EQ(cio_getaddrinfo(NULL, NULL, &hints, &res), -EINVAL);
  hints.ai_family = AF_UNIX;
  CHECK_EQ(cio_getaddrinfo("127.0.0.1", "1", &hints, &res), -EAFNOSUPPORT);
  CHECK_EQ(cio_getaddrinfo("127.0.0.1", "1", NULL, NULL), -EINVAL);
}

static void test_null_host(void) {
  struct addrinfo *res = NULL, hints = {.ai_flags = AI_PASSIVE, .ai_socktype = SOCK_DGRAM};
  char buf[64];
  CHECK_EQ(cio_getaddrinfo(NULL, "53", &hints, &res), 0);
  CHECK_EQ(list_len(res), 2);
  if (list_len(res) == 2) {
    CHECK_STR(addr_str(res, buf, sizeof buf), "0.0.0.0");
    CHECK_STR(addr_str(res->ai_next, buf, sizeof buf), "::");
    CHECK_EQ(addr_port(res->ai_next), 53);
    CHECK_EQ(res->ai_socktype, SOCK_DGRAM);
  }
  cio_freeaddrinfo(res);
  hints.ai_flags = 0;
  hints.ai_family = AF_INET;
  CHECK_EQ(cio_getaddrinfo(NULL, "53", &hints, &res), 0);
  CHECK_EQ(list_len(res), 1);
  if (res) CHECK_STR(addr_str(res, buf, sizeof buf), "127.0.0.1");
  cio_freeaddrinfo(res);
}

static void test_localhost(void) {
  struct addrinfo *res = NULL, hints = {.ai_flags = AI_CANONNAME};
  char buf[64];
  CHECK_EQ(cio_getaddrinfo("localhost", "7", &hints, &res), 0);
  CHECK_EQ(list_len(res), 2);
  if (res) {
    CHECK_STR(addr_str(res, buf, sizeof buf), "127.0.0.1");
    CHECK_STR(res->ai_canonname, "localhost");
    CHECK_EQ(addr_port(res), 7);
  }
  cio_freeaddrinfo(res);
  hints.ai_family = AF_INET6;
  hints.ai_flags = 0;
  CHECK_EQ(cio_getaddrinfo("app.LOCALHOST.", NULL, &hints, &res), 0);
  CHECK_EQ(list_len(res), 1);
  if (res) CHECK_STR(addr_str(res, buf, sizeof buf), "::1");
  cio_freeaddrinfo(res);
  /* Not a localhost name: goes to the resolver, which needs a task. */
  CHECK_EQ(cio_getaddrinfo("localhostx", NULL, &hints, &res), -EPERM);
}

static void test_invalid_tld(void) {
  struct addrinfo *res = (struct addrinfo *)1;
  CHECK_EQ(cio_getaddrinfo("nonexistent.invalid", "80", NULL, &res), -CIO_ENONAME);
  CHECK(res == NULL);
  CHECK_EQ(cio_getaddrinfo("", "80", NULL, &res), -CIO_ENONAME);
}

static void test_configure(void) {
  cio_dns_opts o = {.servers = "not an address"};
  CHECK_EQ(cio_dns_configure(&o), -EINVAL);
  o.servers = NULL;
  o.lookups = "fx";
  CHECK_EQ(cio_dns_configure(&o), -EINVAL);
  o.lookups = NULL;
  o.tries = 65;
  CHECK_EQ(cio_dns_configure(&o), -EINVAL);
  o.tries = 0;
  o.timeout = CIO_FOREVER; /* no limit of cio's: accepted */
  CHECK_EQ(cio_dns_configure(&o), 0);
  o.timeout = 0;
  o.servers = "127.0.0.1:5353,[::1]:53";
  CHECK_EQ(cio_dns_configure(&o), 0);
  CHECK_EQ(cio_dns_configure(NULL), 0);
}

/* ---- /etc/hosts ---- */

/* First name in /etc/hosts that is not a localhost name, with its address. */
static int hosts_entry(char *name, size_t ncap, char *addr, size_t acap) {
  FILE *f = fopen("/etc/hosts", "r");
  if (!f) return 0;
  char line[512];
  int found = 0;
  while (!found && fgets(line, sizeof line, f)) {
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    char *save, *ip = strtok_r(line, " \t\r\n", &save), *h;
    struct in_addr in4;
    if (!ip || inet_pton(AF_INET, ip, &in4) != 1) continue; /* keep to IPv4 lines */
    while ((h = strtok_r(NULL, " \t\r\n", &save))) {
      if (strcasestr(h, "localhost") || strlen(h) >= ncap || strlen(ip) >= acap) continue;
      strcpy(name, h);
      strcpy(addr, ip);
      found = 1;
      break;
    }
  }
  fclose(f);
  return found;
}

static int hosts_main(void *arg) {
  (void)arg;
  char name[256], want[64], buf[64];
  if (!hosts_entry(name, sizeof name, want, sizeof want)) {
    printf("     (no non-localhost IPv4 entry in /etc/hosts; only the file-miss path runs)\n");
  } else {
    /* Files only, then files before a DNS server that never answers: both
     * must come from /etc/hosts at once. */
    for (int pass = 0; pass < 2; pass++) {
      int port = 0;
      int silent = udp_socket(&port);
      char csv[64];
      snprintf(csv, sizeof csv, "127.0.0.1:%d", port);
      cio_dns_opts o = {.lookups = pass ? "fb" : "f", .servers = csv, .timeout = 5};
      CHECK_EQ(cio_dns_configure(&o), 0);
      struct addrinfo *res = NULL, hints = {.ai_family = AF_INET};
      double t0 = cio_loop_time(cio_loop_current());
      CHECK_EQ(cio_getaddrinfo(name, "22", &hints, &res), 0);
      CHECK(cio_loop_time(cio_loop_current()) - t0 < 2.0); /* loose: not a DNS timeout */
      if (res) {
        CHECK_STR(addr_str(res, buf, sizeof buf), want);
        CHECK_EQ(addr_port(res), 22);
      }
      cio_freeaddrinfo(res);
      close(silent);
    }
  }
  /* Files only and a miss: does not exist. */
  cio_dns_opts o = {.lookups = "f"};
  CHECK_EQ(cio_dns_configure(&o), 0);
  struct addrinfo *res = NULL;
  CHECK_EQ(cio_getaddrinfo("no-such-host-in-hosts-file", NULL, NULL, &res), -CIO_ENONAME);
  CHECK_EQ(cio_dns_configure(NULL), 0);
  return 0;
}

static void test_hosts_file(void) { CHECK_EQ(cio_run(hosts_main, NULL), 0); }

/* ---- real queries against the fake server ---- */

static int fake_main(void *arg) {
  (void)arg;
  fake_dns srv;
  CHECK_EQ(fake_dns_start(&srv), 0);
  CHECK_EQ(use_server(srv.port, 1.0, 2), 0);
  struct addrinfo *res = NULL, hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
  char buf[64];

  CHECK_EQ(cio_getaddrinfo("www.cio.test", "443", &hints, &res), 0);
  CHECK_EQ(list_len(res), 1);
  if (res) {
    CHECK_STR(addr_str(res, buf, sizeof buf), "10.1.2.3");
    CHECK_EQ(addr_port(res), 443);
    CHECK_EQ(res->ai_socktype, SOCK_STREAM);
  }
  cio_freeaddrinfo(res);
  CHECK(srv.queries >= 1);

  /* Both families asked: A answers, AAAA has no data. */
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = AI_CANONNAME;
  CHECK_EQ(cio_getaddrinfo("www.cio.test", NULL, &hints, &res), 0);
  CHECK_EQ(list_len(res), 1);
  if (res) {
    CHECK_STR(addr_str(res, buf, sizeof buf), "10.1.2.3");
    CHECK(res->ai_canonname && strcasecmp(res->ai_canonname, "www.cio.test") == 0);
  }
  cio_freeaddrinfo(res);
  hints.ai_flags = 0;

  hints.ai_family = AF_INET6;
  CHECK_EQ(cio_getaddrinfo("www.cio.test", NULL, &hints, &res), -CIO_ENONAME);
  hints.ai_family = AF_UNSPEC;
  CHECK_EQ(cio_getaddrinfo("nx.cio.test", NULL, &hints, &res), -CIO_ENONAME);
  CHECK(res == NULL);
  CHECK_EQ(cio_getaddrinfo("fail.cio.test", NULL, &hints, &res), -CIO_EDNS);
  CHECK(res == NULL);

  /* A truncated UDP answer: c-ares asks again over TCP. */
  hints.ai_family = AF_INET;
  CHECK_EQ(cio_getaddrinfo("tcp.cio.test", NULL, &hints, &res), 0);
  if (res) CHECK_STR(addr_str(res, buf, sizeof buf), "10.7.7.7");
  cio_freeaddrinfo(res);
  CHECK(srv.tcp_queries >= 1);

  fake_dns_stop(&srv);
  cio_dns_configure(NULL);
  return 0;
}

static void test_fake_server(void) { CHECK_EQ(cio_run(fake_main, NULL), 0); }

typedef struct lookup {
  const char *name;
  int family;
  int status;
  char addr[64];
} lookup;

static int lookup_task(void *arg) {
  lookup *l = arg;
  struct addrinfo *res = NULL, hints = {.ai_family = l->family};
  l->status = cio_getaddrinfo(l->name, "80", &hints, &res);
  if (res) addr_str(res, l->addr, sizeof l->addr);
  cio_freeaddrinfo(res);
  return l->status;
}

/* Many queries share one channel; answers reach the right tasks. */
static int concurrent_main(void *arg) {
  (void)arg;
  fake_dns srv;
  CHECK_EQ(fake_dns_start(&srv), 0);
  CHECK_EQ(use_server(srv.port, 1.0, 2), 0);
  enum { N = 24 };
  lookup l[N];
  cio_task *t[N];
  for (int i = 0; i < N; i++) {
    l[i] = (lookup){.name = i % 3 == 0   ? "nx.cio.test"
                            : i % 3 == 1 ? "www.cio.test"
                                         : "slow.cio.test",
                    .family = AF_INET};
    t[i] = cio_spawn(lookup_task, &l[i]);
  }
  for (int i = 0; i < N; i++) {
    cio_await(t[i]);
    cio_task_release(t[i]);
    if (i % 3 == 0) {
      CHECK_EQ(l[i].status, -CIO_ENONAME);
    } else {
      CHECK_EQ(l[i].status, 0);
      CHECK_STR(l[i].addr, i % 3 == 1 ? "10.1.2.3" : "10.9.9.9");
    }
  }
  fake_dns_stop(&srv);
  cio_dns_configure(NULL);
  return 0;
}

static void test_concurrent(void) { CHECK_EQ(cio_run(concurrent_main, NULL), 0); }

/* ---- failures ---- */

static int failures_main(void *arg) {
  (void)arg;
  struct addrinfo *res = NULL;
  cio_loop *loop = cio_loop_current();

  /* Nothing listens on the port: ICMP refusal, no 30 s hang. */
  int port = 0, fd = udp_socket(&port);
  close(fd);
  CHECK_EQ(use_server(port, 1.0, 2), 0);
  double t0 = cio_loop_time(loop);
  CHECK_EQ(cio_getaddrinfo("www.cio.test", NULL, NULL, &res), -CIO_EDNS);
  CHECK(cio_loop_time(loop) - t0 < 5.0); /* loose */

  /* A server that never answers: c-ares gives up after its own timeout. */
  int silent = udp_socket(&port);
  CHECK_EQ(use_server(port, 0.2, 1), 0);
  t0 = cio_loop_time(loop);
  CHECK_EQ(cio_getaddrinfo("www.cio.test", NULL, NULL, &res), -CIO_EDNS);
  double took = cio_loop_time(loop) - t0;
  CHECK(took >= 0.15 && took < 5.0); /* loose */

  /* The default timeout is long; a timeout scope cuts it short. */
  CHECK_EQ(use_server(port, 0, 0), 0);
  cio_timeout_scope s;
  cio_timeout_begin(&s, 0.1);
  t0 = cio_loop_time(loop);
  CHECK_EQ(cio_getaddrinfo("www.cio.test", NULL, NULL, &res), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&s), 1);
  CHECK(cio_loop_time(loop) - t0 < 1.5); /* loose */
  CHECK(res == NULL);
  close(silent);

  /* The system's servers (unreachable here, or real): any clear answer,
   * bounded by a short resolver timeout. */
  cio_dns_opts o = {.timeout = 0.3, .tries = 1};
  CHECK_EQ(cio_dns_configure(&o), 0);
  t0 = cio_loop_time(loop);
  int r = cio_getaddrinfo("nonexistent-name.cio-test-domain", NULL, NULL, &res);
  CHECK(r == -CIO_ENONAME || r == -CIO_EDNS);
  CHECK(cio_loop_time(loop) - t0 < 5.0); /* loose */
  cio_freeaddrinfo(res);
  cio_dns_configure(NULL);
  return 0;
}

static void test_failures(void) { CHECK_EQ(cio_run(failures_main, NULL), 0); }

/* Cancel one query while another on the same channel goes on; then the
 * resolver still works (a new channel after the old one was dropped). */
static int cancel_main(void *arg) {
  (void)arg;
  fake_dns srv;
  CHECK_EQ(fake_dns_start(&srv), 0);
  CHECK_EQ(use_server(srv.port, 2.0, 2), 0);
  lookup a = {.name = "silent.cio.test", .family = AF_INET};
  lookup b = {.name = "slow.cio.test", .family = AF_INET};
  cio_task *ta = cio_spawn(lookup_task, &a);
  cio_task *tb = cio_spawn(lookup_task, &b);
  cio_sleep(0.05);
  CHECK_EQ(cio_task_get_state(ta), CIO_TASK_WAITING);
  cio_task_cancel(ta);
  CHECK_EQ(cio_await(ta), -ECANCELED);
  CHECK_EQ(a.status, -ECANCELED);
  CHECK_EQ(cio_await(tb), 0);
  CHECK_STR(b.addr, "10.9.9.9");
  cio_task_release(ta);
  cio_task_release(tb);

  /* Alone: the channel goes with it. */
  ta = cio_spawn(lookup_task, &a);
  cio_sleep(0.05);
  cio_task_cancel(ta);
  CHECK_EQ(cio_await(ta), -ECANCELED);
  cio_task_release(ta);

  lookup c = {.name = "www.cio.test", .family = AF_INET};
  CHECK_EQ(lookup_task(&c), 0);
  CHECK_STR(c.addr, "10.1.2.3");

  /* Cancelled before it ever waited. */
  cio_task *self = cio_current();
  cio_task_cancel(self);
  struct addrinfo *res = NULL;
  CHECK_EQ(cio_getaddrinfo("www.cio.test", NULL, NULL, &res), -ECANCELED);
  CHECK(res == NULL);

  fake_dns_stop(&srv);
  cio_dns_configure(NULL);
  return 0;
}

static void test_cancel(void) { CHECK_EQ(cio_run(cancel_main, NULL), 0); }

/* The loop closes while a query is in flight: the task is cancelled, the
 * channel freed, nothing leaks (ASan/LSan builds check). */
static int silent_port;
static int close_main(void *arg) {
  (void)arg;
  CHECK_EQ(use_server(silent_port, 5.0, 2), 0);
  static lookup l = {.name = "www.cio.test", .family = AF_INET};
  cio_task *t = cio_spawn(lookup_task, &l);
  cio_detach(t);
  cio_sleep(0.05);
  return 0;
}

static void test_loop_close(void) {
  int fd = udp_socket(&silent_port);
  double t0 = (double)cio_now_ns() / 1e9;
  CHECK_EQ(cio_run(close_main, NULL), 0);
  CHECK((double)cio_now_ns() / 1e9 - t0 < 3.0); /* loose: close does not wait for c-ares */
  close(fd);
  cio_dns_configure(NULL);
}

int main(void) {
  RUN(test_numeric);
  RUN(test_null_host);
  RUN(test_localhost);
  RUN(test_invalid_tld);
  RUN(test_configure);
  RUN(test_hosts_file);
  RUN(test_fake_server);
  RUN(test_concurrent);
  RUN(test_failures);
  RUN(test_cancel);
  RUN(test_loop_close);
  return test_report();
}
