/* test_server_limits.c - what bounds slow and stalled peers of a server:
 * the TLS handshake timeout (stalled and half-sent handshakes are dropped,
 * real clients served, CIO_FOREVER keeps them), the idle timeout counting
 * progress both ways (a slow reader of a long response is not idle, a
 * reader that stopped is), and the per-request deadline protocol layers put
 * around reading a request (a client trickling a byte at a time is answered
 * and dropped; a kept-alive connection waiting between requests is not).
 *
 * Real clients over loopback TCP; the only time checks are "was dropped"
 * and "was not dropped", each bounded by a generous scope so that a broken
 * server fails instead of hanging. */
#include "test.h"
#include "test_loop.h"

#include "test_certs.h"

#include <cio.h>
#include <cio/net.h>
#include <cio/tls.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- clients ---- */

/* A plain TCP client of 127.0.0.1:port whose receive buffer is rcvbuf
 * bytes (0: the kernel's default), as a stream. */
static cio_stream *raw_client(int port, int rcvbuf) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return NULL;
  if (rcvbuf) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    close(fd);
    return NULL;
  }
  cio_stream *s = cio_stream_new(fd, NULL);
  if (!s) close(fd);
  return s;
}

/* 1 if the server closed the connection (EOF or reset) within 10 s,
 * discarding whatever it sent before. */
static int dropped(cio_stream *s) {
  char buf[4096];
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 10.0);
  ssize_t n;
  while ((n = cio_stream_read(s, buf, sizeof buf)) > 0) {
  }
  cio_timeout_end(&sc);
  return n == 0 || n == -ECONNRESET;
}

/* 1 if the connection is still open and nothing arrived (no EOF). */
static int still_open(cio_stream *s) {
  char c;
  return recv(cio_stream_fd(s), &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && errno == EAGAIN;
}

/* ---- the TLS handshake timeout ---- */

struct hits {
  int started, finished;
};

static int echo_line_handler(cio_stream *s, void *arg) {
  struct hits *h = arg;
  h->started++;
  char line[128];
  ssize_t n;
  int r = 0;
  while ((n = cio_stream_readline(s, line, sizeof line)) > 0)
    if ((r = cio_stream_write(s, line, (size_t)n)) < 0 || (r = cio_stream_drain(s)) < 0) break;
  h->finished++;
  return n < 0 ? (int)n : r;
}

LOOP_TEST(test_handshake_timeout) {
  cio_tls_ctx *sc = certs_server_ctx(), *cc = certs_client_ctx();
  CHECK(sc && cc);
  struct hits hq = {0, 0}, hn = {0, 0}, hd = {0, 0};
  cio_server_opts quick = {.tls = sc, .handshake_timeout = 0.2};
  cio_server_opts never = {.tls = sc, .handshake_timeout = CIO_FOREVER};
  cio_server_opts dflt = {.tls = sc}; /* 60 s */
  cio_server *sq = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, echo_line_handler, &hq, &quick, &sq), 0);
  cio_server *sn = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, echo_line_handler, &hn, &never, &sn), 0);
  cio_server *sd = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, echo_line_handler, &hd, &dflt, &sd), 0);
  CHECK(sq && sn && sd);
  int pq = cio_server_port(sq), pn = cio_server_port(sn), pd = cio_server_port(sd);
  /* Stalled before the ClientHello, and in the middle of it (a record
   * header announcing 512 bytes that never come). */
  cio_stream *silent = raw_client(pq, 0), *partial = raw_client(pq, 0);
  cio_stream *silent_n = raw_client(pn, 0);
  CHECK(silent && partial && silent_n);
  CHECK_EQ(cio_stream_write(partial, "\x16\x03\x01\x02\x00", 5), 0);
  /* A real client is served meanwhile, by a server with the default limit
   * (a handshake that outlasted 0.2 s on a loaded machine would make the
   * quick server drop it, rightly). */
  cio_connect_opts co = {.tls = cc, .timeout = 30};
  cio_stream *good = NULL;
  CHECK_EQ(cio_open_connection("localhost", pd, &co, &good), 0);
  char buf[16];
  CHECK_EQ(cio_stream_write(good, "hi\n", 3), 0);
  CHECK_EQ(cio_stream_readline(good, buf, sizeof buf), 3);
  /* The stalled ones are dropped without their handler ever running. */
  CHECK(dropped(silent));
  CHECK(dropped(partial));
  CHECK_EQ(hq.started, 0);
  CHECK_EQ(cio_server_connections(sq), 0);
  /* Without a limit the stalled client is still there, after the others
   * were dropped. */
  CHECK(still_open(silent_n));
  CHECK_EQ(cio_server_connections(sn), 1);
  CHECK_EQ(hn.started, 0);
  /* The good one was not dropped either. */
  CHECK_EQ(cio_stream_write(good, "again\n", 6), 0);
  CHECK_EQ(cio_stream_readline(good, buf, sizeof buf), 6);
  CHECK_EQ(hd.started, 1);
  cio_stream_free(good);
  cio_stream_free(silent);
  cio_stream_free(partial);
  cio_stream_free(silent_n);
  CHECK_EQ(cio_server_close(sq, 1.0), 0);
  CHECK_EQ(cio_server_close(sn, 1.0), 0);
  CHECK_EQ(cio_server_close(sd, 1.0), 0);
  cio_server_free(sq);
  cio_server_free(sn);
  cio_server_free(sd);
  cio_tls_ctx_free(sc);
  cio_tls_ctx_free(cc);
  return 0;
}

/* ---- the idle timeout counts progress both ways ---- */

#define REPLY_BYTES (1024 * 1024)

struct replier {
  int started, finished, status;
  size_t sent;
};

/* Reads a request line, then answers REPLY_BYTES with write + drain from a
 * small send buffer, so the reply moves at the pace of the client. */
static int big_reply_handler(cio_stream *s, void *arg) {
  struct replier *rp = arg;
  rp->started++;
  int small = 4096;
  setsockopt(cio_stream_fd(s), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  char line[64], chunk[8192];
  memset(chunk, 'x', sizeof chunk);
  ssize_t n = cio_stream_readline(s, line, sizeof line);
  int r = n < 0 ? (int)n : 0;
  size_t sent = 0;
  while (r == 0 && n > 0 && sent < REPLY_BYTES) {
    r = cio_stream_write(s, chunk, sizeof chunk);
    if (r == 0) r = cio_stream_drain(s);
    if (r == 0) sent += sizeof chunk;
  }
  rp->sent = sent;
  rp->status = r;
  rp->finished++;
  return r;
}

struct slow_reader {
  cio_stream *s;
  size_t got;
  ssize_t last;
};

/* Takes the reply 4 KiB at a time with a pause between reads. */
static int slow_read_task(void *arg) {
  struct slow_reader *sr = arg;
  char buf[4096];
  for (;;) {
    ssize_t n = cio_stream_read(sr->s, buf, sizeof buf);
    sr->last = n;
    if (n <= 0) return (int)n;
    sr->got += (size_t)n;
    if (sr->got >= REPLY_BYTES) return 0;
    cio_sleep(0.01);
  }
}

/* The status of each handler, in the order they finished. */
static int statuses[2], nstatus;

static int big_reply_status_handler(cio_stream *s, void *arg) {
  int r = big_reply_handler(s, arg);
  if (nstatus < 2) statuses[nstatus++] = r;
  return r;
}

LOOP_TEST(test_idle_counts_both_directions) {
  struct replier rp = {0, 0, 1, 0};
  nstatus = 0;
  /* A sweep every 0.25 s; the slow reader takes 4 KiB every 10 ms, the
   * whole reply (2.5 s at least) well over idle_timeout. */
  cio_server_opts so = {.idle_timeout = 1.0};
  cio_server *srv = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, big_reply_status_handler, &rp, &so, &srv), 0);
  int port = cio_server_port(srv);
  struct slow_reader sr = {raw_client(port, 4096), 0, 1};
  cio_stream *stalled = raw_client(port, 4096);
  CHECK(sr.s && stalled);
  CHECK_EQ(cio_stream_write(stalled, "go\n", 3), 0);
  CHECK_EQ(cio_stream_write(sr.s, "go\n", 3), 0);
  cio_task *t = cio_spawn(slow_read_task, &sr);
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 60.0);
  CHECK_EQ(join(t), 0);
  /* The slow reader got the whole reply: its handler was never idle. */
  CHECK_EQ(sr.got, REPLY_BYTES);
  /* The client that never reads stopped its reply: no progress either
   * way, so its handler is cancelled. */
  while (nstatus < 2 && cio_sleep(0.05) == 0) {
  }
  cio_timeout_end(&sc);
  CHECK_EQ(nstatus, 2);
  CHECK((statuses[0] == 0 && statuses[1] == -ECANCELED) ||
        (statuses[1] == 0 && statuses[0] == -ECANCELED));
  CHECK_EQ(rp.started, 2);
  CHECK_EQ(cio_server_connections(srv), 0);
  CHECK(dropped(stalled));
  cio_stream_free(sr.s);
  cio_stream_free(stalled);
  cio_server_close(srv, 1.0);
  cio_server_free(srv);
  return 0;
}

/* ---- a per-request deadline, as protocol layers set it ---- */

struct deadline {
  double limit;
  int served, timed_out;
};

/* Line requests on a kept-alive connection. Waiting for a request's first
 * byte is not bounded here (a real server bounds it with idle_timeout or a
 * scope of its own); from that byte on, the whole request must arrive
 * within d->limit, or it is answered "408" and the connection closed. */
static int deadline_handler(cio_stream *s, void *arg) {
  struct deadline *d = arg;
  for (;;) {
    char line[256];
    ssize_t n = cio_stream_read(s, line, 1);
    if (n <= 0) return (int)n;
    cio_timeout_scope sc;
    cio_timeout_begin(&sc, d->limit);
    n = cio_stream_readline(s, line + 1, sizeof line - 1);
    int expired = cio_timeout_end(&sc);
    if (n == -ETIMEDOUT && expired) {
      d->timed_out++;
      return cio_stream_write(s, "408\n", 4); /* flushed, then closed */
    }
    if (n <= 0) return (int)n;
    d->served++;
    int r = cio_stream_write(s, "ok\n", 3);
    if (r == 0) r = cio_stream_drain(s);
    if (r < 0) return r;
  }
}

struct trickler {
  cio_stream *s;
  int sent;
};

/* Sends a 100-byte request line one byte every 20 ms (2 s in all), until
 * the server stops taking them. */
static int trickle_task(void *arg) {
  struct trickler *tr = arg;
  for (int i = 0; i < 100; i++) {
    int r = cio_stream_write(tr->s, i == 99 ? "\n" : "a", 1);
    if (r == 0) r = cio_stream_drain(tr->s);
    if (r < 0) return r;
    tr->sent++;
    if ((r = cio_sleep(0.02)) < 0) return r;
  }
  return 0;
}

LOOP_TEST(test_request_deadline_drops_trickler) {
  struct deadline d = {0.3, 0, 0};
  cio_server *srv = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, deadline_handler, &d, NULL, &srv), 0);
  int port = cio_server_port(srv);
  cio_stream *keep = NULL;
  struct trickler tr = {NULL, 0};
  CHECK_EQ(cio_open_connection("127.0.0.1", port, NULL, &keep), 0);
  CHECK_EQ(cio_open_connection("127.0.0.1", port, NULL, &tr.s), 0);
  cio_task *t = cio_spawn(trickle_task, &tr);
  char buf[16];
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 30.0);
  /* The kept-alive client: a request, a pause longer than the deadline
   * between requests, another request - served both times. */
  CHECK_EQ(cio_stream_write(keep, "GET /a\n", 7), 0);
  CHECK_EQ(cio_stream_readline(keep, buf, sizeof buf), 3);
  /* The trickler is answered 408 and dropped before its line is done (a
   * byte it sent after the server's last read makes the close a reset,
   * which may overtake the answer). */
  ssize_t n = cio_stream_readline(tr.s, buf, sizeof buf);
  CHECK(n == -ECONNRESET || (n == 4 && memcmp(buf, "408\n", 4) == 0));
  if (n == 4) CHECK(dropped(tr.s));
  CHECK(tr.sent < 100);
  CHECK_EQ(cio_stream_write(keep, "GET /b\n", 7), 0);
  CHECK_EQ(cio_stream_readline(keep, buf, sizeof buf), 3);
  CHECK(memcmp(buf, "ok\n", 3) == 0);
  cio_timeout_end(&sc);
  int tr_status = join(t);
  CHECK(tr_status == -EPIPE || tr_status == -ECONNRESET);
  CHECK_EQ(d.timed_out, 1);
  CHECK_EQ(d.served, 2);
  cio_stream_free(keep);
  cio_stream_free(tr.s);
  CHECK_EQ(cio_server_close(srv, 1.0), 0);
  cio_server_free(srv);
  return 0;
}

int main(void) {
  if (certs_make() != 0) {
    fprintf(stderr, "test_server_limits: certs.sh failed (is openssl installed?)\n");
    certs_remove();
    return 1;
  }
  RUN(test_handshake_timeout);
  RUN(test_idle_counts_both_directions);
  RUN(test_request_deadline_drops_trickler);
  certs_remove();
  return test_report();
}
