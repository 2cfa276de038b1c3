/* test_fault_more.c - the io layer's other paths, with every failure
 * injected in turn (test_fault.c walks the TCP round trip).
 *
 * Each operation below (UDP, a subprocess with pipes, signals, TLS, DNS,
 * files, the stream calls) is run again and again with the nth call of one
 * system-call site failing (src/base/fault.h), or the nth allocation
 * (src/base/alloc.h), n = 1, 2, ... until a run no longer reaches it. Each
 * run must end (a timeout scope turns a hang into -ETIMEDOUT, which fails
 * the test) with 0 or the injected error (or what the other end makes of
 * it: EOF, a reset; or -ENOMEM), never with wrong data, and leave nothing
 * behind: LeakSanitizer watches, and the loop's task count must be back to
 * what it was. EINTR must be invisible where the code retries. After each
 * failing run the same operation, unarmed, must work. */
#include "../src/base/alloc.h"
#include "../src/base/fault.h"
#include "test.h"
#include "test_certs.h"
#include "test_loop.h"

#include "echo_lines.h"
#include "fault_walk.h"

#include <cio.h>
#include <cio/dns.h>
#include <cio/file.h>
#include <cio/net.h>
#include <cio/process.h>
#include <cio/signal.h>
#include <cio/tls.h>

#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_NTH 300 /* more calls than any operation here makes */

typedef int (*op_fn)(void);

static const char *const site_name[CIO__FAULT_NSITES] = {"accept", "connect", "socket", "read",
                                                         "write",  "short",   "epoll"};

/* op, bounded: a hang is -ETIMEDOUT. The fault is armed inside the scope
 * (a scope whose timer cannot be allocated expires at once, by design). */
static int bounded(op_fn op, int site, long nth, int err, long *failed) {
  cio_timeout_scope sc;
  int r = cio_timeout_begin(&sc, 20.0);
  if (r < 0) return r;
  if (nth) arm(site, nth, err);
  r = op();
  if (nth) *failed = disarm(site);
  if (cio_timeout_end(&sc)) r = -ETIMEDOUT;
  return r;
}

/* An outcome a failure may lead to: the injected error itself, or what the
 * other end sees of it (EOF, a reset), or an allocation failure. */
static int acceptable(int r, int err) {
  return r == 0 || r == -err || r == -EPIPE || r == -ECONNRESET || r == -ENOMEM;
}

/* Runs op with the nth call of site (or the nth allocation) failing with
 * err, n = 1, 2, ... until op no longer reaches it. invisible: the failure
 * must not show (EINTR). Returns the number of failing runs. */
static int walk(const char *name, op_fn op, int site, int err, bool invisible) {
  cio_loop *loop = cio_loop_current();
  size_t tasks = cio_loop_task_count(loop);
  const char *what = site == ALLOC ? "alloc" : site_name[site];
  int runs = 0;
  for (long nth = 1; nth <= MAX_NTH; nth++) {
    long failed = 0;
    int r = bounded(op, site, nth, err, &failed);
    bool ok = invisible ? r == 0 : acceptable(r, err);
    if (!ok || getenv("FAULT_VERBOSE"))
      printf("  %s: %s call %ld failing with %s: %s (%s)\n", name, what, nth,
             cio_strerror_name(-err), cio_strerror_name(r), cio_tls_last_error());
    CHECK(ok);
    CHECK_EQ(cio_loop_task_count(loop), tasks);
    if (failed == 0) {
      CHECK_EQ(r, 0); /* not reached: a plain run */
      break;
    }
    int again = bounded(op, site, 0, 0, NULL); /* and, unarmed, it works again */
    if (again != 0)
      printf("  %s: after %s call %ld failing with %s: %s\n", name, what, nth,
             cio_strerror_name(-err), cio_strerror_name(again));
    CHECK_EQ(again, 0);
    runs++;
  }
  printf("  %-10s %-6s %-12s %d runs\n", name, what, cio_strerror_name(-err), runs);
  CHECK(runs < MAX_NTH);
  return runs;
}

/* ---- UDP: a datagram there and back ---- */

static int op_udp(void) {
  cio_udp *srv = NULL, *cli = NULL;
  int r = cio_udp_open("127.0.0.1", 0, NULL, 0, &srv);
  if (r < 0) return r;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  r = cio_udp_sockname(srv, &ss, &sl);
  int port = r < 0 ? 0 : ntohs(((struct sockaddr_in *)&ss)->sin_port);
  if (r == 0) r = cio_udp_open("127.0.0.1", 0, "127.0.0.1", port, &cli);
  for (int k = 0; r == 0 && k < 3; k++) {
    char msg[32], got[64];
    int n = snprintf(msg, sizeof msg, "datagram %d", k);
    ssize_t w = cio_udp_sendto(cli, msg, (size_t)n, NULL, 0);
    struct sockaddr_storage from;
    socklen_t fl = sizeof from;
    ssize_t g = w < 0 ? w : cio_udp_recvfrom(srv, got, sizeof got, &from, &fl);
    if (g >= 0)
      g = g == n ? cio_udp_sendto(srv, got, (size_t)g, (struct sockaddr *)&from, fl) : -EPROTO;
    if (g >= 0) g = cio_udp_recvfrom(cli, got, sizeof got, NULL, NULL);
    if (w < 0)
      r = (int)w;
    else if (g < 0)
      r = (int)g;
    else if (w != n || g != n || memcmp(got, msg, (size_t)n) != 0)
      r = -EPROTO;
  }
  cio_udp_free(cli);
  cio_udp_free(srv);
  return r;
}

/* ---- a subprocess with pipes: cat echoes a line ---- */

static int op_process(void) {
  const char *argv[] = {"cat", NULL};
  cio_process_opts o = {.in = {CIO_STDIO_PIPE}, .out = {CIO_STDIO_PIPE}, .kill_on_free = 1};
  cio_process *p = NULL;
  int r = cio_process_spawn(argv, &o, &p);
  if (r < 0) return r;
  static const char msg[] = "through a pipe and back\n";
  r = cio_stream_write(cio_process_stdin(p), msg, sizeof msg - 1);
  if (r == 0) r = cio_process_close_stdin(p);
  char got[64];
  ssize_t g = r < 0 ? r : cio_stream_readline(cio_process_stdout(p), got, sizeof got);
  if (g < 0)
    r = (int)g;
  else if (g != (ssize_t)sizeof msg - 1 || memcmp(got, msg, sizeof msg - 1) != 0)
    r = g == 0 ? -EPIPE : -EPROTO;
  if (r == 0) {
    int st = cio_process_wait(p);
    r = st < 0 ? st : WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EPROTO;
  }
  cio_process_free(p);
  return r;
}

static int op_communicate(void) {
  const char *argv[] = {"cat", NULL};
  cio_process_opts o = {.in = {CIO_STDIO_PIPE}, .out = {CIO_STDIO_PIPE}, .kill_on_free = 1};
  cio_process *p = NULL;
  int r = cio_process_spawn(argv, &o, &p);
  if (r < 0) return r;
  char in[5000];
  for (size_t i = 0; i < sizeof in; i++) in[i] = (char)('a' + i % 26);
  char *out = NULL;
  size_t out_len = 0;
  int st = cio_process_communicate(p, in, sizeof in, &out, &out_len, NULL, NULL);
  if (st < 0)
    r = st;
  else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || out_len > sizeof in ||
           (out_len && memcmp(out, in, out_len) != 0))
    r = -EPROTO;
  else if (out_len < sizeof in)
    r = -EPIPE; /* stdin failed part way (not an error for communicate): cat echoed a prefix */
  free(out);
  cio_process_free(p);
  return r;
}

/* ---- signals: watch, deliver, wait, unwatch ---- */

static int op_signal(void) {
  int r = cio_signal_watch(SIGUSR1);
  if (r < 0) return r; /* not caught: raising it would kill us */
  if (kill(getpid(), SIGUSR1) < 0) r = -errno;
  if (r == 0) r = cio_signal_wait(SIGUSR1);
  int u = cio_signal_unwatch(SIGUSR1);
  return r < 0 ? r : u;
}

static int op_signal_select(void) {
  int r = cio_signal_watch(SIGUSR2);
  if (r < 0) return r;
  if (kill(getpid(), SIGUSR2) < 0) r = -errno;
  cio_case cs[] = {cio_case_signal(SIGUSR2), cio_case_after(10.0)};
  ssize_t i = r < 0 ? r : cio_select(cs, 2);
  if (i < 0)
    r = (int)i;
  else if (i != 0 || cs[0].status != 0 || (intptr_t)cs[0].item != SIGUSR2)
    r = cs[i].status < 0 ? cs[i].status : -EPROTO;
  int u = cio_signal_unwatch(SIGUSR2);
  return r < 0 ? r : u;
}

/* ---- TLS: an echo round trip over loopback ---- */

static cio_tls_ctx *server_ctx, *client_ctx;

static int op_tls(void) {
  cio_server_opts so = {.tls = server_ctx};
  cio_server *srv = NULL;
  int r = cio_start_server("127.0.0.1", 0, echo_handler, NULL, &so, &srv);
  if (r < 0) return r;
  cio_connect_opts co = {.tls = client_ctx, .server_name = "localhost"};
  cio_stream *s = NULL;
  r = cio_open_connection("127.0.0.1", cio_server_port(srv), &co, &s);
  if (r == 0) r = exchange(s);
  cio_stream_free(s);
  int c = cio_server_close(srv, 10.0);
  cio_server_free(srv);
  return r < 0 ? r : c;
}

/* ---- DNS: the names answered without a query ---- */

static int lookup(const char *host, const char *service, int flags, int family) {
  struct addrinfo hints = {.ai_flags = flags, .ai_family = family, .ai_socktype = SOCK_STREAM};
  struct addrinfo *res = NULL;
  int r = cio_getaddrinfo(host, service, &hints, &res);
  if (r == 0 && (!res || !res->ai_addr)) r = -EPROTO;
  cio_freeaddrinfo(res);
  return r;
}

static int op_dns(void) {
  int r = lookup("localhost", "80", 0, AF_UNSPEC);
  if (r == 0) r = lookup("127.0.0.1", "8080", AI_NUMERICHOST, AF_INET);
  if (r == 0) r = lookup("::1", "http", 0, AF_INET6);
  if (r == 0) r = lookup(NULL, "443", AI_PASSIVE, AF_UNSPEC);
  return r;
}

/* ---- files, through the executor ---- */

static char file_path[64];

static int op_file(void) {
  cio_file *f = NULL;
  int r = cio_file_open(file_path, O_RDWR | O_CREAT | O_TRUNC, 0600, &f);
  if (r < 0) return r;
  static const char msg[] = "a line in a file\n";
  ssize_t w = cio_file_write(f, msg, sizeof msg - 1);
  char got[64];
  ssize_t g = w < 0 ? w : cio_file_pread(f, got, sizeof got, 0);
  if (g < 0)
    r = (int)g;
  else if (w != (ssize_t)sizeof msg - 1 || g != w || memcmp(got, msg, sizeof msg - 1) != 0)
    r = -EPROTO;
  int c = cio_file_close(f);
  cio_file_free(f);
  if (r == 0) r = c;
  void *data = NULL;
  size_t len = 0;
  if (r == 0) r = cio_file_write_all(file_path, msg, sizeof msg - 1, 0);
  if (r == 0) r = cio_file_read_all(file_path, &data, &len);
  if (r == 0 && (len != sizeof msg - 1 || memcmp(data, msg, len) != 0)) r = -EPROTO;
  free(data);
  return r;
}

/* ---- the stream calls beyond readline: readexactly, readuntil, writev ---- */

static int echo_all_handler(cio_stream *s, void *arg) {
  (void)arg;
  char buf[512];
  for (;;) {
    ssize_t n = cio_stream_read(s, buf, sizeof buf);
    if (n <= 0) return (int)n;
    int r = cio_stream_write(s, buf, (size_t)n);
    if (r == 0) r = cio_stream_drain(s);
    if (r < 0) return r;
  }
}

static int op_stream(void) {
  cio_server *srv = NULL;
  int r = cio_start_server("127.0.0.1", 0, echo_all_handler, NULL, NULL, &srv);
  if (r < 0) return r;
  cio_stream *s = NULL;
  r = cio_open_connection("localhost", cio_server_port(srv), NULL, &s);
  static char a[] = "exactly16bytes..", b[] = "up to the mark;;";
  struct iovec iov[] = {{a, sizeof a - 1}, {b, sizeof b - 1}};
  if (r == 0) r = cio_stream_writev(s, iov, 2);
  if (r == 0) r = cio_stream_drain(s);
  char got[64];
  size_t have = 0;
  if (r == 0) {
    ssize_t g = cio_stream_readexactly(s, got, sizeof a - 1, &have);
    if (g < 0)
      r = (int)g;
    else if (g != (ssize_t)sizeof a - 1 || memcmp(got, a, sizeof a - 1) != 0)
      r = -EPROTO;
  }
  if (r == 0) {
    ssize_t g = cio_stream_readuntil(s, ";;", 2, got, sizeof got, NULL);
    if (g < 0)
      r = (int)g;
    else if (g != (ssize_t)sizeof b - 1 || memcmp(got, b, sizeof b - 1) != 0)
      r = -EPROTO;
  }
  if (r == 0) r = cio_stream_shutdown_write(s);
  if (r == 0) {
    ssize_t g = cio_stream_read(s, got, sizeof got);
    r = g < 0 ? (int)g : g == 0 ? 0 : -EPROTO;
  }
  cio_stream_free(s);
  int c = cio_server_close(srv, 10.0);
  cio_server_free(srv);
  return r < 0 ? r : c;
}

/* ---- the walks ---- */

LOOP_TEST(test_udp) {
  CHECK_EQ(op_udp(), 0);
  CHECK(walk("udp", op_udp, CIO__FAULT_SOCKET, EMFILE, false) > 0);
  CHECK(walk("udp", op_udp, CIO__FAULT_READ, EINTR, true) > 0);
  CHECK(walk("udp", op_udp, CIO__FAULT_READ, ECONNREFUSED, false) > 0);
  CHECK(walk("udp", op_udp, CIO__FAULT_WRITE, EINTR, true) > 0);
  CHECK(walk("udp", op_udp, CIO__FAULT_WRITE, ENOBUFS, false) > 0);
  CHECK(walk("udp", op_udp, ALLOC, ENOMEM, false) > 0);
  return 0;
}

LOOP_TEST(test_process) {
  CHECK_EQ(op_process(), 0);
  CHECK(walk("process", op_process, CIO__FAULT_SOCKET, EMFILE, false) > 0);
  CHECK(walk("process", op_process, CIO__FAULT_READ, EINTR, true) > 0);
  CHECK(walk("process", op_process, CIO__FAULT_READ, EIO, false) > 0);
  CHECK(walk("process", op_process, CIO__FAULT_WRITE, EINTR, true) > 0);
  CHECK(walk("process", op_process, CIO__FAULT_WRITE, EPIPE, false) > 0);
  CHECK(walk("process", op_process, ALLOC, ENOMEM, false) > 0);
  CHECK_EQ(op_communicate(), 0);
  CHECK(walk("communicate", op_communicate, CIO__FAULT_READ, EINTR, true) > 0);
  CHECK(walk("communicate", op_communicate, CIO__FAULT_WRITE, EINTR, true) > 0);
  CHECK(walk("communicate", op_communicate, CIO__FAULT_WRITE, EPIPE, false) > 0);
  CHECK(walk("communicate", op_communicate, ALLOC, ENOMEM, false) > 0);
  return 0;
}

/* A loop sets up its signal machinery once (an eventfd, a dispatcher task)
 * and keeps it while it catches signals, so these walks give each run a
 * loop of its own. */
struct fresh {
  op_fn op;
  int site, err;
  long nth, failed;
  int r;
};

static int fresh_main(void *arg) {
  struct fresh *f = arg;
  f->r = bounded(f->op, f->site, f->nth, f->err, &f->failed);
  return 0;
}

static int walk_fresh(const char *name, op_fn op, int site, int err) {
  const char *what = site == ALLOC ? "alloc" : site_name[site];
  int runs = 0;
  for (long nth = 1; nth <= MAX_NTH; nth++) {
    struct fresh f = {op, site, err, nth, 0, 0};
    CHECK_EQ(cio_run(fresh_main, &f), 0);
    if (!acceptable(f.r, err))
      printf("  %s: %s call %ld failing with %s: %s\n", name, what, nth, cio_strerror_name(-err),
             cio_strerror_name(f.r));
    CHECK(acceptable(f.r, err));
    if (f.failed == 0) {
      CHECK_EQ(f.r, 0);
      break;
    }
    struct fresh again = {op, site, 0, 0, 0, 0};
    CHECK_EQ(cio_run(fresh_main, &again), 0);
    CHECK_EQ(again.r, 0);
    runs++;
  }
  printf("  %-10s %-6s %-12s %d runs\n", name, what, cio_strerror_name(-err), runs);
  CHECK(runs < MAX_NTH);
  return runs;
}

static void test_signals(void) {
  CHECK(walk_fresh("signal", op_signal, CIO__FAULT_SOCKET, EMFILE) > 0);
  CHECK(walk_fresh("signal", op_signal, CIO__FAULT_EPOLL, ENOMEM) > 0);
  CHECK(walk_fresh("signal", op_signal, ALLOC, ENOMEM) > 0);
  CHECK(walk_fresh("sig-select", op_signal_select, CIO__FAULT_SOCKET, EMFILE) > 0);
  CHECK(walk_fresh("sig-select", op_signal_select, ALLOC, ENOMEM) > 0);
}

LOOP_TEST(test_tls) {
  if (certs_make() != 0) {
    printf("  SKIP: could not make the test certificates (openssl missing?)\n");
    return 0;
  }
  server_ctx = certs_server_ctx();
  client_ctx = certs_client_ctx();
  CHECK(server_ctx && client_ctx);
  CHECK_EQ(op_tls(), 0);
  CHECK(walk("tls", op_tls, CIO__FAULT_READ, EINTR, true) > 0);
  CHECK(walk("tls", op_tls, CIO__FAULT_READ, ECONNRESET, false) > 0);
  CHECK(walk("tls", op_tls, CIO__FAULT_WRITE, EINTR, true) > 0);
  CHECK(walk("tls", op_tls, CIO__FAULT_WRITE, EPIPE, false) > 0);
  CHECK(walk("tls", op_tls, ALLOC, ENOMEM, false) > 0);
  cio_tls_ctx_free(client_ctx);
  cio_tls_ctx_free(server_ctx);
  certs_remove();
  return 0;
}

LOOP_TEST(test_dns) {
  CHECK_EQ(op_dns(), 0);
  CHECK(walk("dns", op_dns, ALLOC, ENOMEM, false) > 0);
  return 0;
}

LOOP_TEST(test_files) {
  snprintf(file_path, sizeof file_path, "/tmp/cio-fault-%ld", (long)getpid());
  CHECK_EQ(op_file(), 0);
  CHECK(walk("file", op_file, ALLOC, ENOMEM, false) > 0);
  unlink(file_path);
  return 0;
}

LOOP_TEST(test_streams) {
  CHECK_EQ(op_stream(), 0);
  CHECK(walk("stream", op_stream, ALLOC, ENOMEM, false) > 0);
  CHECK(walk("stream", op_stream, CIO__FAULT_READ, EINTR, true) > 0);
  CHECK(walk("stream", op_stream, CIO__FAULT_READ, ECONNRESET, false) > 0);
  CHECK(walk("stream", op_stream, CIO__FAULT_WRITE, EINTR, true) > 0);
  CHECK(walk("stream", op_stream, CIO__FAULT_WRITE, EPIPE, false) > 0);
  return 0;
}

int main(void) {
  RUN(test_udp);
  RUN(test_process);
  RUN(test_signals);
  RUN(test_tls);
  RUN(test_dns);
  RUN(test_files);
  RUN(test_streams);
  return test_report();
}
