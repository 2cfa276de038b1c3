/* test_net.c - open_connection and servers over loopback TCP (IPv4, IPv6)
 * and Unix sockets: echo, connect errors, connect timeout and cancellation,
 * names that do not resolve, graceful close with a grace period, close
 * interrupted while handlers that use the closing task's stack unwind,
 * serve_forever, idle timeouts, EMFILE on accept, peers resetting
 * mid-message, half-close through a server, output flushed after the
 * handler returns, SO_REUSEPORT, freeing a busy server. */
#include "test.h"
#include "test_loop.h"

#include <cio.h>
#include <cio/net.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- handlers ---- */

struct stats {
  int started, finished, cancelled, errors;
};

/* Line echo: "x\n" -> "echo: x\n" until EOF. */
static int echo_handler(cio_stream *s, void *arg) {
  struct stats *st = arg;
  if (st) st->started++;
  char line[256];
  int r = 0;
  for (;;) {
    ssize_t n = cio_stream_readline(s, line, sizeof line);
    if (n <= 0) {
      r = (int)n;
      break;
    }
    if ((r = cio_stream_write(s, "echo: ", 6)) < 0 ||
        (r = cio_stream_write(s, line, (size_t)n)) < 0 || (r = cio_stream_drain(s)) < 0)
      break;
  }
  if (st) {
    if (r == -ECANCELED)
      st->cancelled++;
    else if (r < 0)
      st->errors++;
    st->finished++;
  }
  return r;
}

static int roundtrip(cio_stream *c, const char *msg) {
  char buf[300], want[300];
  int wl = snprintf(want, sizeof want, "echo: %s\n", msg);
  if (cio_stream_write(c, msg, strlen(msg)) < 0 || cio_stream_write(c, "\n", 1) < 0) return -1;
  ssize_t n = cio_stream_readline(c, buf, sizeof buf);
  if (n != wl || memcmp(buf, want, (size_t)wl) != 0) return -1;
  return 0;
}

LOOP_TEST(test_echo_ipv4) {
  struct stats st = {0};
  cio_server *srv = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, echo_handler, &st, NULL, &srv), 0);
  int port = cio_server_port(srv);
  CHECK(port > 0);
  cio_stream *c = NULL;
  CHECK_EQ(cio_open_connection("127.0.0.1", port, NULL, &c), 0);
  CHECK_EQ(roundtrip(c, "hello"), 0);
  CHECK_EQ(roundtrip(c, "again"), 0);
  CHECK_EQ(cio_server_connections(srv), 1);
  char name[64];
  CHECK_EQ(cio_stream_peer_string(c, name, sizeof name), 0);
  char want[64];
  snprintf(want, sizeof want, "127.0.0.1:%d", port);
  CHECK_STR(name, want);
  /* "localhost" resolves without DNS. */
  cio_stream *c2 = NULL;
  CHECK_EQ(cio_open_connection("localhost", port, NULL, &c2), 0);
  CHECK_EQ(roundtrip(c2, "local"), 0);
  cio_stream_free(c2);
  cio_stream_free(c);
  CHECK_EQ(cio_server_close(srv, 1.0), 0);
  CHECK_EQ(st.started, 2);
  CHECK_EQ(st.finished, 2);
  CHECK_EQ(st.cancelled, 0);
  CHECK_EQ(cio_server_connections(srv), 0);
  cio_server_free(srv);
  return 0;
}

static int have_ipv6(void) {
  int fd = socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

LOOP_TEST(test_echo_ipv6) {
  if (!have_ipv6()) {
    printf("skip test_echo_ipv6: no IPv6 loopback\n");
    return 0;
  }
  cio_server *srv = NULL;
  CHECK_EQ(cio_start_server("::1", 0, echo_handler, NULL, NULL, &srv), 0);
  int port = cio_server_port(srv);
  cio_stream *c = NULL;
  CHECK_EQ(cio_open_connection("::1", port, NULL, &c), 0);
  CHECK_EQ(roundtrip(c, "six"), 0);
  char name[80], want[80];
  CHECK_EQ(cio_stream_peer_string(c, name, sizeof name), 0);
  snprintf(want, sizeof want, "[::1]:%d", port);
  CHECK_STR(name, want);
  cio_stream_free(c);
  /* "localhost" is 127.0.0.1 then ::1: the first is refused (nothing
   * listens there on this port), the second answers. */
  CHECK_EQ(cio_open_connection("localhost", port, NULL, &c), 0);
  CHECK_EQ(roundtrip(c, "second address"), 0);
  cio_stream_free(c);
  /* Family forced to IPv6 on "localhost". */
  cio_connect_opts o = {.family = AF_INET6};
  CHECK_EQ(cio_open_connection("localhost", port, &o, &c), 0);
  CHECK_EQ(roundtrip(c, "six again"), 0);
  cio_stream_free(c);
  cio_server_free(srv);
  /* The wildcard server is dual-stack: reachable over both families. */
  CHECK_EQ(cio_start_server(NULL, 0, echo_handler, NULL, NULL, &srv), 0);
  port = cio_server_port(srv);
  CHECK_EQ(cio_open_connection("127.0.0.1", port, NULL, &c), 0);
  CHECK_EQ(roundtrip(c, "v4"), 0);
  cio_stream_free(c);
  CHECK_EQ(cio_open_connection("::1", port, NULL, &c), 0);
  CHECK_EQ(roundtrip(c, "v6"), 0);
  cio_stream_free(c);
  CHECK_EQ(cio_server_close(srv, 0), 0);
  cio_server_free(srv);
  return 0;
}

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  bind(fd, (struct sockaddr *)&a, sizeof a);
  getsockname(fd, (struct sockaddr *)&a, &al);
  close(fd);
  return ntohs(a.sin_port);
}

LOOP_TEST(test_connect_errors) {
  cio_stream *c = (cio_stream *)1;
  CHECK_EQ(cio_open_connection("127.0.0.1", free_port(), NULL, &c), -ECONNREFUSED);
  CHECK(c == NULL);
  CHECK_EQ(cio_open_connection("no-such-host.invalid", 80, NULL, &c), -CIO_ENONAME);
  CHECK_EQ(cio_open_connection("127.0.0.1", 70000, NULL, &c), -EINVAL);
  CHECK_EQ(cio_open_connection("127.0.0.1", 1, NULL, NULL), -EINVAL);
  CHECK_EQ(cio_open_unix_connection("/nonexistent/cio-test.sock", NULL, &c), -ENOENT);
  cio_server *srv = (cio_server *)1;
  CHECK_EQ(cio_start_server("no-such-host.invalid", 0, echo_handler, NULL, NULL, &srv),
           -CIO_ENONAME);
  CHECK(srv == NULL);
  CHECK_EQ(cio_start_server("127.0.0.1", 0, NULL, NULL, NULL, &srv), -EINVAL);
  CHECK_EQ(cio_start_server("127.0.0.1", 70000, echo_handler, NULL, NULL, &srv), -EINVAL);
  CHECK_EQ(cio_start_server("127.0.0.1", 0, echo_handler, NULL, NULL, NULL), -EINVAL);
  CHECK_EQ(cio_start_unix_server("", echo_handler, NULL, NULL, &srv), -EINVAL);
  CHECK(srv == NULL);
  /* Cancellation is checked on entry: nothing is started. */
  cio_task_cancel(cio_current());
  CHECK_EQ(cio_start_server("127.0.0.1", 0, echo_handler, NULL, NULL, &srv), -ECANCELED);
  CHECK(srv == NULL);
  return 0;
}

/* A listener that never accepts, with its queue full: further SYNs are
 * dropped, so a connect hangs until its timeout. */
static int clogged_listener(int *port, int extra[8]) {
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  bind(l, (struct sockaddr *)&a, sizeof a);
  listen(l, 0);
  getsockname(l, (struct sockaddr *)&a, &al);
  *port = ntohs(a.sin_port);
  for (int i = 0; i < 8; i++) {
    extra[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    connect(extra[i], (struct sockaddr *)&a, sizeof a);
  }
  usleep(50000);
  return l;
}

struct conn_call {
  int port;
  double timeout;
  int r;
  cio_stream *c;
};

static int connect_task(void *arg) {
  struct conn_call *cc = arg;
  cio_connect_opts o = {.timeout = cc->timeout};
  cc->r = cio_open_connection("127.0.0.1", cc->port, &o, &cc->c);
  return 0;
}

LOOP_TEST(test_connect_timeout_and_cancel) {
  int port, extra[8];
  int l = clogged_listener(&port, extra);
  struct conn_call cc = {port, 0.15, 1, NULL};
  double t0 = cio_loop_time(cio_loop_current());
  connect_task(&cc);
  double dt = cio_loop_time(cio_loop_current()) - t0;
  CHECK_EQ(cc.r, -ETIMEDOUT);
  CHECK(cc.c == NULL);
  CHECK(dt >= 0.14 && dt < 3.0); /* loose */
  /* Cancelled while connecting. */
  struct conn_call c2 = {port, 0, 1, NULL};
  cio_task *t = cio_spawn(connect_task, &c2);
  cio_sleep(0.05);
  CHECK_EQ(c2.r, 1);
  cio_task_cancel(t);
  join(t);
  CHECK_EQ(c2.r, -ECANCELED);
  /* An outer timeout scope works the same. */
  struct conn_call c3 = {port, 0, 1, NULL};
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 0.05);
  connect_task(&c3);
  CHECK_EQ(cio_timeout_end(&sc), 1);
  CHECK_EQ(c3.r, -ETIMEDOUT);
  for (int i = 0; i < 8; i++) close(extra[i]);
  close(l);
  return 0;
}

LOOP_TEST(test_unix_sockets) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/cio-test-%d.sock", (int)getpid());
  struct stats st = {0};
  cio_server *srv = NULL;
  CHECK_EQ(cio_start_unix_server(path, echo_handler, &st, NULL, &srv), 0);
  struct stat sb;
  CHECK_EQ(stat(path, &sb), 0);
  cio_stream *c = NULL;
  CHECK_EQ(cio_open_unix_connection(path, NULL, &c), 0);
  CHECK_EQ(roundtrip(c, "unix"), 0);
  char name[128];
  CHECK_EQ(cio_stream_peer_string(c, name, sizeof name), 0);
  char want[128];
  snprintf(want, sizeof want, "unix:%s", path);
  CHECK_STR(name, want);
  cio_stream_free(c);
  CHECK_EQ(cio_server_close(srv, 1), 0);
  CHECK(stat(path, &sb) < 0); /* removed */
  cio_server_free(srv);
  /* A stale socket file from an earlier run is replaced. */
  CHECK_EQ(cio_start_unix_server(path, echo_handler, &st, NULL, &srv), 0);
  cio_server_free(srv);
  CHECK_EQ(cio_start_unix_server(path, echo_handler, &st, NULL, &srv), 0);
  cio_server_free(srv);
  unlink(path);
  /* Abstract namespace. */
  char abs[64];
  snprintf(abs, sizeof abs, "@cio-test-%d", (int)getpid());
  CHECK_EQ(cio_start_unix_server(abs, echo_handler, &st, NULL, &srv), 0);
  CHECK_EQ(cio_open_unix_connection(abs, NULL, &c), 0);
  CHECK_EQ(roundtrip(c, "abstract"), 0);
  cio_stream_free(c);
  CHECK_EQ(cio_server_close(srv, 1), 0);
  cio_server_free(srv);
  CHECK_EQ(st.errors, 0);
  return 0;
}

/* ---- graceful close ---- */

struct slowh {
  double work; /* seconds a handler works before answering */
  int done, cancelled;
};

static int slow_handler(cio_stream *s, void *arg) {
  struct slowh *h = arg;
  char buf[8];
  ssize_t n = cio_stream_read(s, buf, 1);
  if (n <= 0) return (int)n;
  int r = cio_sleep(h->work);
  if (r == -ECANCELED) {
    h->cancelled++;
    return r;
  }
  cio_stream_write(s, "done\n", 5);
  h->done++;
  return 0;
}

static int poke(cio_stream *c) { return cio_stream_write(c, "x", 1); }

LOOP_TEST(test_close_grace) {
  /* Handlers finishing within the grace period complete normally. */
  struct slowh h = {0.05, 0, 0};
  cio_server *srv = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, slow_handler, &h, NULL, &srv), 0);
  int port = cio_server_port(srv);
  cio_stream *c[3];
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(cio_open_connection("127.0.0.1", port, NULL, &c[i]), 0);
    poke(c[i]);
  }
  settle_io();
  CHECK_EQ(cio_server_connections(srv), 3);
  CHECK_EQ(cio_server_close(srv, 2.0), 0);
  CHECK_EQ(h.done, 3);
  CHECK_EQ(h.cancelled, 0);
  char buf[8];
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(cio_stream_readline(c[i], buf, sizeof buf), 5);
    cio_stream_free(c[i]);
  }
  /* No longer accepting. */
  cio_stream *late = NULL;
  CHECK_EQ(cio_open_connection("127.0.0.1", port, NULL, &late), -ECONNREFUSED);
  cio_server_free(srv);

  /* Handlers that outlast the grace period are cancelled after it. */
  struct slowh h2 = {30.0, 0, 0};
  CHECK_EQ(cio_start_server("127.0.0.1", 0, slow_handler, &h2, NULL, &srv), 0);
  port = cio_server_port(srv);
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(cio_open_connection("127.0.0.1", port, NULL, &c[i]), 0);
    poke(c[i]);
  }
  settle_io();
  double t0 = cio_loop_time(cio_loop_current());
  CHECK_EQ(cio_server_close(srv, 0.1), 0);
  double dt = cio_loop_time(cio_loop_current()) - t0;
  CHECK(dt >= 0.09 && dt < 5.0); /* loose */
  CHECK_EQ(h2.cancelled, 3);
  CHECK_EQ(cio_server_connections(srv), 0);
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(cio_stream_read(c[i], buf, sizeof buf), 0); /* closed by the server */
    cio_stream_free(c[i]);
  }
  CHECK_EQ(cio_server_close(srv, 0), 0); /* again: fine */
  cio_server_free(srv);

  /* CIO_FOREVER: the handlers take as long as they need, none cancelled. */
  struct slowh h3 = {0.05, 0, 0};
  CHECK_EQ(cio_start_server("127.0.0.1", 0, slow_handler, &h3, NULL, &srv), 0);
  port = cio_server_port(srv);
  for (int i = 0; i < 2; i++) {
    CHECK_EQ(cio_open_connection("127.0.0.1", port, NULL, &c[i]), 0);
    poke(c[i]);
  }
  settle_io();
  CHECK_EQ(cio_server_close(srv, CIO_FOREVER), 0);
  CHECK_EQ(h3.done, 2);
  CHECK_EQ(h3.cancelled, 0);
  for (int i = 0; i < 2; i++) cio_stream_free(c[i]);
  cio_server_free(srv);
  return 0;
}

/* ---- handler tasks are named after their peer ---- */

static int name_handler(cio_stream *s, void *arg) {
  (void)s;
  snprintf(arg, 128, "%s", cio_task_name(cio_current()));
  return 0;
}

/* Until the server has accepted the connection and run the handler. */
static void wait_named(const char *got) {
  for (int i = 0; i < 2500 && !got[0]; i++) cio_sleep(0.002);
}

LOOP_TEST(test_handler_names) {
  char got[128] = "", want[128];
  cio_server *srv = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, name_handler, got, NULL, &srv), 0);
  cio_stream *c = NULL;
  CHECK_EQ(cio_open_connection("127.0.0.1", cio_server_port(srv), NULL, &c), 0);
  char me[64];
  struct sockaddr_storage ss;
  socklen_t len;
  CHECK_EQ(cio_stream_sockname(c, &ss, &len), 0);
  snprintf(me, sizeof me, "%u", ntohs(((struct sockaddr_in *)&ss)->sin_port));
  wait_named(got);
  CHECK_EQ(cio_server_close(srv, CIO_FOREVER), 0);
  snprintf(want, sizeof want, "conn 127.0.0.1:%s", me);
  CHECK_STR(got, want);
  cio_stream_free(c);
  cio_server_free(srv);
  /* Unix-domain clients have no name of their own: the server's path. */
  char path[64];
  snprintf(path, sizeof path, "/tmp/cio-test-names-%d.sock", (int)getpid());
  CHECK_EQ(cio_start_unix_server(path, name_handler, got, NULL, &srv), 0);
  got[0] = '\0';
  CHECK_EQ(cio_open_unix_connection(path, NULL, &c), 0);
  wait_named(got);
  CHECK_EQ(cio_server_close(srv, CIO_FOREVER), 0);
  snprintf(want, sizeof want, "conn unix:%s", path);
  CHECK_STR(got, want);
  cio_stream_free(c);
  cio_server_free(srv);
  snprintf(path, sizeof path, "@cio-test-names-%d", (int)getpid());
  CHECK_EQ(cio_start_unix_server(path, name_handler, got, NULL, &srv), 0);
  got[0] = '\0';
  CHECK_EQ(cio_open_unix_connection(path, NULL, &c), 0);
  wait_named(got);
  CHECK_EQ(cio_server_close(srv, CIO_FOREVER), 0);
  snprintf(want, sizeof want, "conn unix:%s", path);
  CHECK_STR(got, want);
  cio_stream_free(c);
  cio_server_free(srv);
  return 0;
}

/* ---- close interrupted: no handler outlives the arg ----
 *
 * The handler's arg lives on the stack of the function that closes the
 * server. Once cancelled, the handler unwinds with a cleanup that suspends
 * (shielded), then writes to its arg. cio_server_close() interrupted by a
 * timeout scope or a cancellation must still wait for it: otherwise the
 * write lands in a dead frame (ASan: stack-use-after-return) and the checks
 * below see the handler still running. */
struct lingering {
  int running, cleaned;
};

static int lingering_handler(cio_stream *s, void *arg) {
  struct lingering *l = arg;
  l->running++;
  char c;
  int r = (int)cio_stream_read(s, &c, 1);
  if (r > 0) r = cio_sleep(30);
  cio_shield_scope sh;
  cio_shield_begin(&sh);
  cio_sleep(0.05); /* cleanup that talks to someone */
  cio_shield_end(&sh);
  l->cleaned++;
  l->running--;
  return r;
}

static int cancel_task(void *arg) { return cio_task_cancel(arg); }

/* how: 0 = a timeout scope expires during close's final wait, 1 = during
 * its grace period, 2 = the closing task is cancelled during the grace
 * period. Returns close's status. */
static __attribute__((noinline)) int close_with_stack_arg(int how) {
  struct lingering l = {0, 0};
  cio_server *srv = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, lingering_handler, &l, NULL, &srv), 0);
  if (!srv) return -errno;
  cio_stream *c[2];
  for (int i = 0; i < 2; i++) {
    CHECK_EQ(cio_open_connection("127.0.0.1", cio_server_port(srv), NULL, &c[i]), 0);
    CHECK_EQ(poke(c[i]), 0);
  }
  for (int i = 0; i < 100 && l.running < 2; i++) settle_io();
  CHECK_EQ(l.running, 2);
  int r;
  if (how < 2) {
    cio_timeout_scope sc;
    cio_timeout_begin(&sc, 0.01);
    r = cio_server_close(srv, how == 0 ? 0 : 5.0);
    CHECK_EQ(cio_timeout_end(&sc), 1);
  } else {
    cio_task *killer = cio_spawn(cancel_task, cio_current());
    r = cio_server_close(srv, 5.0);
    join(killer);
  }
  /* Whatever interrupted close, the handlers are done. */
  CHECK_EQ(l.running, 0);
  CHECK_EQ(l.cleaned, 2);
  CHECK_EQ(cio_server_connections(srv), 0);
  for (int i = 0; i < 2; i++) cio_stream_free(c[i]);
  cio_server_free(srv);
  return r;
}

LOOP_TEST(test_close_interrupted_waits_for_handlers) {
  CHECK_EQ(close_with_stack_arg(0), -ETIMEDOUT);
  cio_sleep(0.1); /* a handler left running would write to the dead frame now */
  CHECK_EQ(close_with_stack_arg(1), -ETIMEDOUT);
  cio_sleep(0.1);
  CHECK_EQ(close_with_stack_arg(2), -ECANCELED);
  cio_sleep(0.1);
  return 0;
}

struct forever {
  cio_server *srv;
  int r;
};

static int forever_task(void *arg) {
  struct forever *f = arg;
  f->r = cio_server_serve_forever(f->srv);
  return 0;
}

LOOP_TEST(test_serve_forever) {
  cio_server *srv = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, echo_handler, NULL, NULL, &srv), 0);
  struct forever f1 = {srv, 1}, f2 = {srv, 1};
  cio_task *t1 = cio_spawn(forever_task, &f1), *t2 = cio_spawn(forever_task, &f2);
  settle_io();
  CHECK_EQ(f1.r, 1);
  CHECK_STR(cio_task_waiting_on(t1), "serve forever");
  cio_stream *c = NULL;
  CHECK_EQ(cio_open_connection("127.0.0.1", cio_server_port(srv), NULL, &c), 0);
  CHECK_EQ(roundtrip(c, "while serving"), 0);
  cio_task_cancel(t2);
  join(t2);
  CHECK_EQ(f2.r, -ECANCELED);
  CHECK_EQ(cio_server_close(srv, 0.5), 0);
  join(t1);
  CHECK_EQ(f1.r, 0);
  CHECK_EQ(cio_server_serve_forever(srv), 0); /* closed: at once */
  cio_stream_free(c);
  cio_server_free(srv);
  return 0;
}

/* A handler may close its own server (a "shutdown" command): it is
 * neither cancelled nor waited for by that call. */
struct quitter {
  cio_server *srv;
  int close_r, others_cancelled;
};

static int quit_handler(cio_stream *s, void *arg) {
  struct quitter *q = arg;
  char line[32];
  ssize_t n = cio_stream_readline(s, line, sizeof line);
  if (n == 5 && memcmp(line, "quit\n", 5) == 0) {
    q->close_r = cio_server_close(q->srv, 0.05);
    cio_stream_write(s, "bye\n", 4);
    return 0;
  }
  if (n == -ECANCELED) q->others_cancelled++;
  return (int)n;
}

LOOP_TEST(test_close_from_handler) {
  struct quitter q = {NULL, 1, 0};
  CHECK_EQ(cio_start_server("127.0.0.1", 0, quit_handler, &q, NULL, &q.srv), 0);
  int port = cio_server_port(q.srv);
  cio_stream *idle = NULL, *boss = NULL;
  CHECK_EQ(cio_open_connection("127.0.0.1", port, NULL, &idle), 0);
  CHECK_EQ(cio_open_connection("127.0.0.1", port, NULL, &boss), 0);
  struct forever f = {q.srv, 1};
  cio_task *t = cio_spawn(forever_task, &f);
  CHECK_EQ(cio_stream_write(boss, "quit\n", 5), 0);
  char buf[8];
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 5.0);
  CHECK_EQ(cio_stream_readline(boss, buf, sizeof buf), 4);
  join(t);
  cio_timeout_end(&sc);
  CHECK_EQ(f.r, 0);
  CHECK_EQ(q.close_r, 0);
  CHECK_EQ(q.others_cancelled, 1);
  CHECK_EQ(cio_server_close(q.srv, 1), 0);
  CHECK_EQ(cio_server_connections(q.srv), 0);
  cio_stream_free(idle);
  cio_stream_free(boss);
  cio_server_free(q.srv);
  return 0;
}

/* ---- idle timeout ---- */

LOOP_TEST(test_idle_timeout) {
  struct stats st = {0};
  cio_server_opts so = {.idle_timeout = 0.2};
  cio_server *srv = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, echo_handler, &st, &so, &srv), 0);
  int port = cio_server_port(srv);
  cio_stream *quiet = NULL, *chatty = NULL;
  CHECK_EQ(cio_open_connection("127.0.0.1", port, NULL, &quiet), 0);
  CHECK_EQ(cio_open_connection("127.0.0.1", port, NULL, &chatty), 0);
  double t0 = cio_loop_time(cio_loop_current());
  /* The chatty one talks every 50 ms for 0.6 s and survives. */
  for (int i = 0; i < 12; i++) {
    CHECK_EQ(roundtrip(chatty, "still here"), 0);
    cio_sleep(0.05);
  }
  /* The quiet one was closed by the server meanwhile. */
  char buf[8];
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 2.0);
  CHECK_EQ(cio_stream_read(quiet, buf, sizeof buf), 0);
  cio_timeout_end(&sc);
  double dt = cio_loop_time(cio_loop_current()) - t0;
  CHECK(dt < 3.0);
  CHECK_EQ(st.cancelled, 1);
  CHECK_EQ(cio_server_connections(srv), 1);
  cio_stream_free(quiet);
  cio_stream_free(chatty);
  cio_server_close(srv, 1);
  cio_server_free(srv);
  return 0;
}

/* ---- EMFILE on accept ---- */

LOOP_TEST(test_emfile_backoff) {
  struct stats st = {0};
  cio_server *srv = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, echo_handler, &st, NULL, &srv), 0);
  int port = cio_server_port(srv);
  struct rlimit old, lim;
  getrlimit(RLIMIT_NOFILE, &old);
  /* Use up every fd but one, under a low limit. */
  lim = old;
  lim.rlim_cur = 64;
  CHECK_EQ(setrlimit(RLIMIT_NOFILE, &lim), 0);
  int ballast[64], nb = 0;
  for (;;) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) break;
    ballast[nb++] = fd;
  }
  CHECK(nb > 0);
  close(ballast[--nb]); /* room for the client socket only */
  cio_stream *c = NULL;
  CHECK_EQ(cio_open_connection("127.0.0.1", port, NULL, &c), 0);
  CHECK_EQ(cio_stream_write(c, "first\n", 6), 0);
  /* The server cannot accept (EMFILE) and backs off; it stays alive. */
  cio_sleep(0.15);
  CHECK_EQ(st.started, 0);
  CHECK_EQ(cio_server_connections(srv), 0);
  /* fds free up: the queued connection is served. */
  while (nb > 0) close(ballast[--nb]);
  char buf[64];
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 3.0);
  CHECK_EQ(cio_stream_readline(c, buf, sizeof buf), 12);
  CHECK(memcmp(buf, "echo: first\n", 12) == 0);
  CHECK_EQ(roundtrip(c, "after EMFILE"), 0);
  cio_timeout_end(&sc);
  CHECK_EQ(st.started, 1);
  /* And new connections too. */
  cio_stream *c2 = NULL;
  CHECK_EQ(cio_open_connection("127.0.0.1", port, NULL, &c2), 0);
  CHECK_EQ(roundtrip(c2, "new one"), 0);
  cio_stream_free(c2);
  cio_stream_free(c);
  setrlimit(RLIMIT_NOFILE, &old);
  cio_server_close(srv, 1);
  cio_server_free(srv);
  return 0;
}

/* ---- peers resetting mid-message ---- */

static void abortive_close(cio_stream *c) {
  struct linger lg = {1, 0};
  setsockopt(cio_stream_fd(c), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  cio_stream_free(c);
}

/* Reads fixed 1000-byte records and echoes them. */
static int record_handler(cio_stream *s, void *arg) {
  struct stats *st = arg;
  char rec[1000];
  for (;;) {
    ssize_t n = cio_stream_readexactly(s, rec, sizeof rec, NULL);
    if (n < 0) {
      if (n != -EPIPE) st->errors++;
      return n == -EPIPE ? 0 : (int)n;
    }
    if (cio_stream_write(s, rec, sizeof rec) < 0) {
      st->errors++;
      return -1;
    }
    if (cio_stream_drain(s) < 0) {
      st->errors++;
      return -1;
    }
  }
}

struct client {
  int port, id, rounds, reset_midway, ok;
};

static int record_client(void *arg) {
  struct client *cl = arg;
  cio_stream *c = NULL;
  if (cio_open_connection("127.0.0.1", cl->port, NULL, &c) < 0) return -1;
  char rec[1000], back[1000];
  for (int i = 0; i < cl->rounds; i++) {
    for (size_t k = 0; k < sizeof rec; k++) rec[k] = (char)(cl->id * 31 + i * 7 + (int)k);
    if (cl->reset_midway && i == cl->rounds / 2) {
      cio_stream_write(c, rec, 500); /* half a record, then RST */
      cio_stream_flush(c);
      abortive_close(c);
      cl->ok = 1;
      return 0;
    }
    if (cio_stream_write(c, rec, sizeof rec) < 0) break;
    if (cio_stream_readexactly(c, back, sizeof back, NULL) != (ssize_t)sizeof back) break;
    if (memcmp(rec, back, sizeof rec) != 0) break;
    cio_sleep(0.001);
    if (i == cl->rounds - 1) cl->ok = 1;
  }
  cio_stream_free(c);
  return 0;
}

LOOP_TEST(test_reset_peers_do_not_disturb) {
  struct stats st = {0};
  cio_server *srv = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, record_handler, &st, NULL, &srv), 0);
  int port = cio_server_port(srv);
  enum { N = 20 };
  struct client cl[N];
  cio_task *t[N];
  for (int i = 0; i < N; i++) {
    cl[i] = (struct client){port, i, 40, i % 4 == 0, 0};
    t[i] = cio_spawn(record_client, &cl[i]);
  }
  int ok = 0;
  for (int i = 0; i < N; i++) {
    join(t[i]);
    ok += cl[i].ok;
  }
  CHECK_EQ(ok, N);
  CHECK_EQ(cio_server_close(srv, 1.0), 0);
  /* The reset connections ended their handlers with an error; no other. */
  CHECK(st.errors <= N / 4);
  cio_server_free(srv);
  return 0;
}

/* ---- half-close through a server; output after the handler returns ---- */

static int count_then_reply(cio_stream *s, void *arg) {
  (void)arg;
  char buf[4096];
  size_t total = 0;
  for (;;) {
    ssize_t n = cio_stream_read(s, buf, sizeof buf);
    if (n < 0) return (int)n;
    if (n == 0) break;
    total += (size_t)n;
  }
  /* Client half-closed: reply with a big body and return at once; the
   * server flushes it after we are gone. */
  char head[64];
  int hl = snprintf(head, sizeof head, "%zu\n", total);
  cio_stream_write(s, head, (size_t)hl);
  static char body[3 * 1024 * 1024];
  memset(body, 'b', sizeof body);
  return cio_stream_write(s, body, sizeof body);
}

LOOP_TEST(test_half_close_and_flush_after_return) {
  cio_server *srv = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, count_then_reply, NULL, NULL, &srv), 0);
  cio_stream *c = NULL;
  CHECK_EQ(cio_open_connection("127.0.0.1", cio_server_port(srv), NULL, &c), 0);
  char data[10000];
  memset(data, 'd', sizeof data);
  CHECK_EQ(cio_stream_write(c, data, sizeof data), 0);
  CHECK_EQ(cio_stream_shutdown_write(c), 0);
  char line[32];
  CHECK_EQ(cio_stream_readline(c, line, sizeof line), 6);
  CHECK(memcmp(line, "10000\n", 6) == 0);
  size_t got = 0;
  char buf[65536];
  for (;;) {
    ssize_t n = cio_stream_read(c, buf, sizeof buf);
    if (n <= 0) {
      CHECK_EQ(n, 0);
      break;
    }
    got += (size_t)n;
  }
  CHECK_EQ(got, 3 * 1024 * 1024);
  cio_stream_free(c);
  CHECK_EQ(cio_server_close(srv, 1), 0);
  cio_server_free(srv);
  return 0;
}

LOOP_TEST(test_reuseport) {
  cio_server_opts so = {.reuseport = 1};
  cio_server *a = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, echo_handler, NULL, &so, &a), 0);
  int port = cio_server_port(a);
  cio_server *b = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", port, echo_handler, NULL, &so, &b), 0);
  cio_server *c = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", port, echo_handler, NULL, NULL, &c), -EADDRINUSE);
  CHECK(c == NULL);
  cio_stream *s = NULL;
  CHECK_EQ(cio_open_connection("127.0.0.1", port, NULL, &s), 0);
  CHECK_EQ(roundtrip(s, "either"), 0);
  cio_stream_free(s);
  cio_server_free(a);
  cio_server_free(b);
  settle_io(); /* the handler free cancelled unwinds */
  return 0;
}

/* Freeing a server with live connections (and handlers that never got to
 * run) never suspends and leaks nothing. */
LOOP_TEST(test_free_busy_server) {
  struct stats st = {0};
  cio_server *srv = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, echo_handler, &st, NULL, &srv), 0);
  int port = cio_server_port(srv);
  cio_stream *c[4];
  for (int i = 0; i < 4; i++) CHECK_EQ(cio_open_connection("127.0.0.1", port, NULL, &c[i]), 0);
  CHECK_EQ(roundtrip(c[0], "one"), 0);
  /* c[1..3] may or may not be accepted yet. */
  cio_server_free(srv);
  settle_io();
  char buf[8];
  for (int i = 0; i < 4; i++) {
    ssize_t n = cio_stream_read(c[i], buf, sizeof buf);
    CHECK(n == 0 || n == -ECONNRESET);
    cio_stream_free(c[i]);
  }
  CHECK_EQ(st.started, st.finished);
  return 0;
}

/* The loop closes with a server still open and handlers running: they are
 * cancelled; the server is freed afterwards. */
static cio_server *leftover;
static int start_and_leave(void *arg) {
  (void)arg;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, echo_handler, NULL, NULL, &leftover), 0);
  cio_stream *c = NULL;
  if (cio_open_connection("127.0.0.1", cio_server_port(leftover), NULL, &c) < 0) return -1;
  if (roundtrip(c, "x") < 0) return -1;
  cio_stream_free(c);
  return 0;
}

static void test_server_outlives_loop(void) {
  CHECK_EQ(cio_run(start_and_leave, NULL), 0);
  cio_server_free(leftover);
}

int main(void) {
  RUN(test_echo_ipv4);
  RUN(test_echo_ipv6);
  RUN(test_connect_errors);
  RUN(test_connect_timeout_and_cancel);
  RUN(test_unix_sockets);
  RUN(test_close_grace);
  RUN(test_handler_names);
  RUN(test_close_interrupted_waits_for_handlers);
  RUN(test_serve_forever);
  RUN(test_close_from_handler);
  RUN(test_idle_timeout);
  RUN(test_emfile_backoff);
  RUN(test_reset_peers_do_not_disturb);
  RUN(test_half_close_and_flush_after_return);
  RUN(test_reuseport);
  RUN(test_free_busy_server);
  RUN(test_server_outlives_loop);
  return test_report();
}
