/* test_stream.c - buffered streams: every read form (data, EOF, errors),
 * line limits, cancellation and timeouts at every suspension point with no
 * byte lost, back-pressure with bounded memory, a peer resetting mid-write,
 * half-close, background close, freeing under a waiting task, concurrent
 * reader and writer, transports. Peers are socketpairs and loopback TCP. */
#include "test.h"
#include "test_loop.h"

#include <cio.h>
#include <cio/stream.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

/* Two connected stream sockets; the second stays a plain fd for the test to
 * drive. */
static void unix_pair(int sv[2]) {
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) abort();
}

static void tcp_pair(int sv[2]) {
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 4) < 0 ||
      getsockname(l, (struct sockaddr *)&a, &al) < 0)
    abort();
  sv[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (connect(sv[0], (struct sockaddr *)&a, sizeof a) < 0) abort();
  sv[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
  if (sv[1] < 0) abort();
  close(l);
  fcntl(sv[0], F_SETFL, O_NONBLOCK);
  fcntl(sv[1], F_SETFL, O_NONBLOCK);
}

static void put(int fd, const char *s) {
  size_t n = strlen(s);
  if (write(fd, s, n) != (ssize_t)n) abort();
}

LOOP_TEST(test_read_basic_and_eof) {
  int sv[2];
  unix_pair(sv);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  CHECK(s != NULL);
  put(sv[1], "hello world");
  char buf[64];
  CHECK_EQ(cio_stream_read(s, buf, 5), 5);
  CHECK(memcmp(buf, "hello", 5) == 0);
  CHECK_EQ(cio_stream_buffered(s), 6);
  CHECK_EQ(cio_stream_read(s, buf, sizeof buf), 6);
  CHECK(memcmp(buf, " world", 6) == 0);
  close(sv[1]);
  CHECK_EQ(cio_stream_read(s, buf, sizeof buf), 0);
  CHECK_EQ(cio_stream_read(s, buf, sizeof buf), 0); /* stays at EOF */
  cio_stream_free(s);
  return 0;
}

LOOP_TEST(test_eof_every_form) {
  int sv[2];
  char buf[64];
  size_t got = 99;
  /* readexactly: early EOF gives -EPIPE and the partial bytes. */
  unix_pair(sv);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  put(sv[1], "abc");
  close(sv[1]);
  CHECK_EQ(cio_stream_readexactly(s, buf, 10, &got), -EPIPE);
  CHECK_EQ(got, 3);
  CHECK(memcmp(buf, "abc", 3) == 0);
  CHECK_EQ(cio_stream_readexactly(s, buf, 1, &got), -EPIPE);
  CHECK_EQ(got, 0);
  CHECK_EQ(cio_stream_readexactly(s, buf, 0, &got), 0);
  cio_stream_free(s);
  /* readline: lines, the last one without '\n', then 0. */
  unix_pair(sv);
  s = cio_stream_new(sv[0], NULL);
  put(sv[1], "one\ntwo\nlast");
  close(sv[1]);
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), 4);
  CHECK(memcmp(buf, "one\n", 4) == 0);
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), 4);
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), 4);
  CHECK(memcmp(buf, "last", 4) == 0);
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), 0);
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), 0);
  cio_stream_free(s);
  /* readuntil: -EPIPE with the partial data at EOF. */
  unix_pair(sv);
  s = cio_stream_new(sv[0], NULL);
  put(sv[1], "a--b--tail");
  close(sv[1]);
  CHECK_EQ(cio_stream_readuntil(s, "--", 2, buf, sizeof buf, &got), 3);
  CHECK(memcmp(buf, "a--", 3) == 0);
  CHECK_EQ(cio_stream_readuntil(s, "--", 2, buf, sizeof buf, &got), 3);
  CHECK_EQ(cio_stream_readuntil(s, "--", 2, buf, sizeof buf, &got), -EPIPE);
  CHECK_EQ(got, 4);
  CHECK(memcmp(buf, "tail", 4) == 0);
  CHECK_EQ(cio_stream_readuntil(s, "--", 2, buf, sizeof buf, &got), -EPIPE);
  CHECK_EQ(got, 0);
  CHECK_EQ(cio_stream_readuntil(s, "", 0, buf, sizeof buf, &got), -EINVAL);
  CHECK_EQ(cio_stream_readuntil(s, "--", 2, buf, 1, &got), -EINVAL); /* cannot fit */
  CHECK_EQ(cio_stream_read(s, buf, sizeof buf), 0);
  cio_stream_free(s);
  return 0;
}

struct peer_writer {
  int fd;
  const char **parts;
  double gap;
};

/* Writes parts with pauses, so the stream sees them in separate reads. */
static int slow_writer(void *arg) {
  struct peer_writer *w = arg;
  for (const char **p = w->parts; *p; p++) {
    cio_sleep(w->gap);
    put(w->fd, *p);
  }
  return 0;
}

LOOP_TEST(test_delimiter_split_across_reads) {
  int sv[2];
  unix_pair(sv);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  const char *parts[] = {"key: val", "ue\r", "\nnext\r\n", NULL};
  struct peer_writer w = {sv[1], parts, 0.003};
  cio_task *t = cio_spawn(slow_writer, &w);
  char buf[64];
  size_t got;
  CHECK_EQ(cio_stream_readuntil(s, "\r\n", 2, buf, sizeof buf, &got), 12);
  CHECK(memcmp(buf, "key: value\r\n", 12) == 0);
  CHECK_EQ(cio_stream_readuntil(s, "\r\n", 2, buf, sizeof buf, &got), 6);
  join(t);
  close(sv[1]);
  cio_stream_free(s);
  return 0;
}

LOOP_TEST(test_overlong_line) {
  int sv[2];
  unix_pair(sv);
  cio_stream_opts o = {.read_buffer = 256, .limit = 32};
  cio_stream *s = cio_stream_new(sv[0], &o);
  char buf[128];
  /* Over the limit within one read, then the stream goes on. */
  put(sv[1], "this line is much longer than thirty-two bytes\nok\n");
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), -EMSGSIZE);
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), 3);
  CHECK(memcmp(buf, "ok\n", 3) == 0);
  /* Over the caller's cap (smaller than the limit). */
  put(sv[1], "0123456789abcdef\nxy\n");
  CHECK_EQ(cio_stream_readline(s, buf, 8), -EMSGSIZE);
  CHECK_EQ(cio_stream_readline(s, buf, 8), 3);
  /* Exactly at the limit: fine. */
  put(sv[1], "0123456789012345678901234567890\n");
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), 32);
  /* A huge line arriving over many reads: memory stays bounded (the buffer
   * is 256 bytes) and the line is skipped to its end. */
  const char *parts[] = {NULL, NULL, NULL, NULL, NULL};
  static char big[3][4000];
  for (int i = 0; i < 3; i++) {
    memset(big[i], 'x', sizeof big[i] - 1);
    big[i][sizeof big[i] - 1] = '\0';
    parts[i] = big[i];
  }
  parts[3] = "end of it\nafter\n";
  struct peer_writer w = {sv[1], parts, 0.002};
  cio_task *t = cio_spawn(slow_writer, &w);
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), -EMSGSIZE);
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), 6);
  CHECK(memcmp(buf, "after\n", 6) == 0);
  join(t);
  /* Over-long, then EOF in the middle of it. */
  put(sv[1], "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
  close(sv[1]);
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), -EMSGSIZE);
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), 0);
  cio_stream_free(s);
  return 0;
}

/* A limit above the buffer size: the buffer grows for a long line, up to
 * the limit and no further. */
LOOP_TEST(test_line_longer_than_buffer) {
  int sv[2];
  unix_pair(sv);
  cio_stream_opts o = {.read_buffer = 256, .limit = 1000};
  cio_stream *s = cio_stream_new(sv[0], &o);
  static char line[1600], buf[2000];
  memset(line, 'l', 899);
  line[899] = '\n';
  CHECK_EQ(write(sv[1], line, 900), 900);
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), 900);
  CHECK(memcmp(buf, line, 900) == 0);
  memset(line, 'm', 1499);
  line[1499] = '\n';
  CHECK_EQ(write(sv[1], line, 1500), 1500);
  put(sv[1], "short\n");
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), -EMSGSIZE);
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), 6);
  CHECK(memcmp(buf, "short\n", 6) == 0);
  close(sv[1]);
  cio_stream_free(s);
  return 0;
}

/* ---- cancellation and timeouts at each suspension point ---- */

enum { OP_READ, OP_EXACT, OP_EXACT_BIG, OP_LINE, OP_UNTIL, OP_DRAIN, OP_FLUSH, OP_CLOSED };

struct opcall {
  cio_stream *s;
  int op;
  ssize_t r;
  size_t got;
  char buf[8192];
};

static ssize_t do_op(struct opcall *c) {
  switch (c->op) {
  case OP_READ: return cio_stream_read(c->s, c->buf, sizeof c->buf);
  case OP_EXACT: return cio_stream_readexactly(c->s, c->buf, 10, &c->got);
  case OP_EXACT_BIG: return cio_stream_readexactly(c->s, c->buf, 8192, &c->got);
  case OP_LINE: return cio_stream_readline(c->s, c->buf, sizeof c->buf);
  case OP_UNTIL: return cio_stream_readuntil(c->s, "##", 2, c->buf, sizeof c->buf, &c->got);
  case OP_DRAIN: return cio_stream_drain(c->s);
  case OP_FLUSH: return cio_stream_flush(c->s);
  default: return cio_stream_wait_closed(c->s);
  }
}

static int op_task(void *arg) {
  struct opcall *c = arg;
  c->r = do_op(c);
  return 0;
}

/* Fill the socket and the stream's output beyond its high-water mark, so
 * that drain/flush must wait. */
static void clog_output(cio_stream *s) {
  static char chunk[65536];
  memset(chunk, 'w', sizeof chunk);
  while (cio_stream_write_buffered(s) < 300000)
    CHECK_EQ(cio_stream_write(s, chunk, sizeof chunk), 0);
}

static void check_interrupt(int op, int use_timeout) {
  int sv[2];
  unix_pair(sv);
  cio_stream_opts o = {.read_buffer = 1024};
  cio_stream *s = cio_stream_new(sv[0], &o);
  /* Partial input for the read forms: none of it may be lost. */
  if (op == OP_EXACT || op == OP_LINE || op == OP_UNTIL) put(sv[1], "part");
  if (op == OP_DRAIN || op == OP_FLUSH) clog_output(s);
  if (op == OP_CLOSED) {
    clog_output(s);
    cio_stream_close(s);
  }
  struct opcall *c = calloc(1, sizeof *c);
  c->s = s;
  c->op = op;
  c->r = 12345;
  if (use_timeout) {
    cio_timeout_scope sc;
    cio_timeout_begin(&sc, 0.01);
    c->r = do_op(c);
    CHECK_EQ(cio_timeout_end(&sc), 1);
    CHECK_EQ(c->r, -ETIMEDOUT);
  } else {
    cio_task *t = cio_spawn(op_task, c);
    settle_io();
    CHECK_EQ(c->r, 12345); /* still waiting */
    CHECK(cio_task_waiting_on(t) != NULL);
    cio_task_cancel(t);
    join(t);
    CHECK_EQ(c->r, -ECANCELED);
  }
  if (op <= OP_UNTIL) {
    put(sv[1], op == OP_EXACT_BIG ? "" : "-more\n##");
    char buf[64];
    size_t got;
    if (op == OP_EXACT || op == OP_LINE || op == OP_UNTIL) {
      CHECK_EQ(cio_stream_readuntil(s, "##", 2, buf, sizeof buf, &got), 12);
      CHECK(memcmp(buf, "part-more\n##", 12) == 0);
    } else if (op == OP_READ) {
      CHECK_EQ(cio_stream_read(s, buf, sizeof buf), 8);
    }
  }
  free(c);
  close(sv[1]);
  cio_stream_free(s);
}

LOOP_TEST(test_cancel_every_wait) {
  for (int op = OP_READ; op <= OP_CLOSED; op++) {
    check_interrupt(op, 0);
    if (test_failed_checks) fprintf(stderr, "  (op %d cancel)\n", op);
  }
  return 0;
}

LOOP_TEST(test_timeout_every_wait) {
  for (int op = OP_READ; op <= OP_CLOSED; op++) {
    check_interrupt(op, 1);
    if (test_failed_checks) fprintf(stderr, "  (op %d timeout)\n", op);
  }
  return 0;
}

/* A last line without '\n' of exactly max = min(cap, limit) bytes is a
 * line, not an error (issue 11, defect 5): readline returns it, readuntil
 * gives -EPIPE with it; one byte more is too long. Also when the buffer
 * itself is exactly the limit, so telling "exactly max, then EOF" from
 * "longer" needs one byte more than the buffer holds. */
static void check_exact_last_line(size_t read_buffer, size_t limit, size_t cap, size_t len,
                                  int until) {
  int before = test_failed_checks;
  int sv[2];
  unix_pair(sv);
  cio_stream_opts o = {.read_buffer = read_buffer, .limit = limit};
  cio_stream *s = cio_stream_new(sv[0], &o);
  static char line[2048], buf[2048];
  for (size_t i = 0; i < len; i++) line[i] = (char)('a' + i % 26);
  CHECK_EQ(write(sv[1], line, len), (ssize_t)len);
  close(sv[1]);
  size_t max = cap < limit ? cap : limit;
  size_t got = 12345;
  ssize_t r =
      until ? cio_stream_readuntil(s, "\r\n", 2, buf, cap, &got) : cio_stream_readline(s, buf, cap);
  if (len <= max) {
    CHECK_EQ(r, until ? -EPIPE : (ssize_t)len);
    if (until) CHECK_EQ(got, len);
    CHECK(memcmp(buf, line, len) == 0);
  } else {
    CHECK_EQ(r, -EMSGSIZE);
  }
  CHECK_EQ(cio_stream_readline(s, buf, cap), 0); /* then EOF */
  if (test_failed_checks != before)
    fprintf(stderr, "  (buffer %zu, limit %zu, cap %zu, len %zu, %s)\n", read_buffer, limit, cap,
            len, until ? "readuntil" : "readline");
  cio_stream_free(s);
}

LOOP_TEST(test_last_line_exactly_max) {
  for (int until = 0; until < 2; until++) {
    check_exact_last_line(256, 256, 2048, 256, until); /* the limit, and the buffer */
    check_exact_last_line(256, 256, 2048, 257, until);
    check_exact_last_line(256, 100, 2048, 100, until); /* the limit */
    check_exact_last_line(256, 100, 2048, 101, until);
    check_exact_last_line(256, 1000, 64, 64, until); /* the caller's cap */
    check_exact_last_line(256, 1000, 64, 65, until);
    check_exact_last_line(256, 1000, 2048, 1000, until); /* grown to the limit */
    check_exact_last_line(256, 1000, 2048, 1001, until);
  }
  /* Exactly max, then more without a delimiter, then one: too long, and the
   * stream goes on after it. */
  int sv[2];
  unix_pair(sv);
  cio_stream_opts o = {.read_buffer = 256, .limit = 256};
  cio_stream *s = cio_stream_new(sv[0], &o);
  static char big[300];
  memset(big, 'z', 256);
  CHECK_EQ(write(sv[1], big, 256), 256);
  char buf[512];
  struct opcall *c = calloc(1, sizeof *c);
  c->s = s;
  c->op = OP_LINE;
  cio_task *t = cio_spawn(op_task, c);
  settle_io();
  CHECK_EQ(c->r, 0); /* still waiting: 256 bytes may yet be a whole line */
  put(sv[1], "zz\nnext\n");
  join(t);
  CHECK_EQ(c->r, -EMSGSIZE);
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), 5);
  CHECK(memcmp(buf, "next\n", 5) == 0);
  free(c);
  close(sv[1]);
  cio_stream_free(s);
  return 0;
}

/* A readline interrupted while it skips an over-long line must not let the
 * line's tail through as a line of its own (issue 11, defect 8): limit 16,
 * 100 bytes of 'A', a timeout, then "EVIL\n": the next call reports the
 * over-long line (-EMSGSIZE), and the one after reads the next real line.
 * The same with cancellation, with readuntil, and with a delimiter split
 * across the interruption. */
static void check_interrupted_skip(int op, int cancel) {
  int before = test_failed_checks;
  int sv[2];
  unix_pair(sv);
  cio_stream_opts o = {.read_buffer = 256, .limit = 16};
  cio_stream *s = cio_stream_new(sv[0], &o);
  static char a[100];
  memset(a, 'A', sizeof a);
  CHECK_EQ(write(sv[1], a, sizeof a), (ssize_t)sizeof a);
  if (op == OP_UNTIL) put(sv[1], "#"); /* the first half of the delimiter */
  struct opcall *c = calloc(1, sizeof *c);
  c->s = s;
  c->op = op;
  if (cancel) {
    cio_task *t = cio_spawn(op_task, c);
    settle_io();
    CHECK(cio_task_waiting_on(t) != NULL);
    cio_task_cancel(t);
    join(t);
    CHECK_EQ(c->r, -ECANCELED);
  } else {
    cio_timeout_scope sc;
    cio_timeout_begin(&sc, 0.02);
    c->r = do_op(c);
    cio_timeout_end(&sc);
    CHECK_EQ(c->r, -ETIMEDOUT);
  }
  char buf[64];
  size_t got;
  if (op == OP_UNTIL) {
    put(sv[1], "#EVIL##ok##");
    CHECK_EQ(cio_stream_readuntil(s, "##", 2, buf, sizeof buf, &got), -EMSGSIZE);
    CHECK_EQ(cio_stream_readuntil(s, "##", 2, buf, sizeof buf, &got), 6);
    CHECK(memcmp(buf, "EVIL##", 6) == 0);
    CHECK_EQ(cio_stream_readuntil(s, "##", 2, buf, sizeof buf, &got), 4);
  } else {
    put(sv[1], "EVIL\nok\n");
    CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), -EMSGSIZE);
    CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), 3);
    CHECK(memcmp(buf, "ok\n", 3) == 0);
  }
  if (test_failed_checks != before) fprintf(stderr, "  (op %d, cancel %d)\n", op, cancel);
  free(c);
  close(sv[1]);
  cio_stream_free(s);
}

LOOP_TEST(test_interrupted_skip_keeps_line) {
  check_interrupted_skip(OP_LINE, 0);
  check_interrupted_skip(OP_LINE, 1);
  check_interrupted_skip(OP_UNTIL, 0);
  check_interrupted_skip(OP_UNTIL, 1);
  /* Any other read call after the interruption finishes the skip first:
   * the tail is never read as data. */
  int sv[2];
  unix_pair(sv);
  cio_stream_opts o = {.read_buffer = 256, .limit = 16};
  cio_stream *s = cio_stream_new(sv[0], &o);
  static char a[100];
  memset(a, 'A', sizeof a);
  CHECK_EQ(write(sv[1], a, sizeof a), (ssize_t)sizeof a);
  char buf[64];
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 0.02);
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), -ETIMEDOUT);
  cio_timeout_end(&sc);
  put(sv[1], "AAtail\nnext");
  CHECK_EQ(cio_stream_read(s, buf, sizeof buf), -EMSGSIZE);
  CHECK_EQ(cio_stream_read(s, buf, sizeof buf), 4);
  CHECK(memcmp(buf, "next", 4) == 0);
  /* EOF in the middle of the skipped line ends it too. */
  CHECK_EQ(write(sv[1], a, sizeof a), (ssize_t)sizeof a);
  cio_timeout_begin(&sc, 0.02);
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), -ETIMEDOUT);
  cio_timeout_end(&sc);
  put(sv[1], "AAAA");
  close(sv[1]);
  size_t got;
  CHECK_EQ(cio_stream_readexactly(s, buf, 2, &got), -EMSGSIZE);
  CHECK_EQ(cio_stream_readexactly(s, buf, 2, &got), -EPIPE);
  CHECK_EQ(got, 0);
  cio_stream_free(s);
  return 0;
}

LOOP_TEST(test_readexactly_big_partial_on_cancel) {
  int sv[2];
  unix_pair(sv);
  cio_stream_opts o = {.read_buffer = 1024};
  cio_stream *s = cio_stream_new(sv[0], &o);
  struct opcall *c = calloc(1, sizeof *c);
  c->s = s;
  c->op = OP_EXACT_BIG;
  put(sv[1], "0123456789");
  cio_task *t = cio_spawn(op_task, c);
  settle_io();
  cio_task_cancel(t);
  join(t);
  CHECK_EQ(c->r, -ECANCELED);
  CHECK_EQ(c->got, 10);
  CHECK(memcmp(c->buf, "0123456789", 10) == 0);
  /* And a big one that completes, across many reads. */
  static char big[8192];
  for (size_t i = 0; i < sizeof big; i++) big[i] = (char)('a' + i % 26);
  CHECK_EQ(write(sv[1], big, sizeof big), (ssize_t)sizeof big);
  CHECK_EQ(cio_stream_readexactly(s, c->buf, sizeof big, &c->got), (ssize_t)sizeof big);
  CHECK(memcmp(c->buf, big, sizeof big) == 0);
  free(c);
  close(sv[1]);
  cio_stream_free(s);
  return 0;
}

/* ---- back-pressure ---- */

struct slow_reader {
  int fd;
  size_t total;
  unsigned char expect;
  int bad;
};

static int slow_reader_fn(void *arg) {
  struct slow_reader *r = arg;
  unsigned char buf[16384];
  for (;;) {
    ssize_t n = cio_read(r->fd, buf, sizeof buf);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; i++)
      if (buf[i] != r->expect++) r->bad++;
    r->total += (size_t)n;
    cio_sleep(0.0005);
  }
  return 0;
}

LOOP_TEST(test_backpressure_bounded) {
  int sv[2];
  tcp_pair(sv);
  int small = 16384;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  cio_stream_opts o = {.high_water = 32768, .low_water = 8192};
  cio_stream *s = cio_stream_new(sv[0], &o);
  struct slow_reader rd = {sv[1], 0, 0, 0};
  cio_task *t = cio_spawn(slow_reader_fn, &rd);
  unsigned char chunk[5000];
  unsigned char v = 0;
  size_t sent = 0, max_buffered = 0;
  int waited = 0;
  while (sent < 4 * 1024 * 1024) {
    for (size_t i = 0; i < sizeof chunk; i++) chunk[i] = v++;
    CHECK_EQ(cio_stream_write(s, chunk, sizeof chunk), 0);
    sent += sizeof chunk;
    size_t b = cio_stream_write_buffered(s);
    if (b > max_buffered) max_buffered = b;
    if (b > o.high_water) waited++;
    CHECK_EQ(cio_stream_drain(s), 0);
    CHECK(cio_stream_write_buffered(s) <= o.high_water);
  }
  CHECK(max_buffered <= o.high_water + sizeof chunk);
  CHECK(waited > 0); /* the slow reader did push back */
  CHECK_EQ(cio_stream_flush(s), 0);
  CHECK_EQ(cio_stream_write_buffered(s), 0);
  CHECK_EQ(cio_stream_shutdown_write(s), 0);
  join(t);
  CHECK_EQ(rd.total, sent);
  CHECK_EQ(rd.bad, 0);
  close(sv[1]);
  cio_stream_free(s);
  return 0;
}

/* ---- peers going away ---- */

static void abortive_close(int fd) {
  struct linger lg = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(fd);
}

struct resetter {
  int fd;
  size_t after;
};

/* Reads a little of what is sent, then resets the connection. */
static int resetter_fn(void *arg) {
  struct resetter *r = arg;
  char buf[4096];
  size_t got = 0;
  while (got < r->after) {
    ssize_t n = cio_read(r->fd, buf, sizeof buf);
    if (n <= 0) break;
    got += (size_t)n;
  }
  cio_fd_forget(r->fd);
  abortive_close(r->fd);
  return 0;
}

LOOP_TEST(test_peer_reset_mid_write) {
  int sv[2];
  tcp_pair(sv);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  struct resetter rs = {sv[1], 100000};
  cio_task *t = cio_spawn(resetter_fn, &rs);
  static char chunk[8192];
  memset(chunk, 'r', sizeof chunk);
  int r = 0;
  for (int i = 0; i < 100000 && r == 0; i++) {
    r = cio_stream_write(s, chunk, sizeof chunk);
    if (r == 0) r = cio_stream_drain(s);
  }
  CHECK(r == -ECONNRESET || r == -EPIPE);
  CHECK(cio_stream_write(s, "x", 1) < 0); /* sticky */
  join(t);
  char buf[16];
  ssize_t n = cio_stream_read(s, buf, sizeof buf);
  CHECK(n == -ECONNRESET || n == 0);
  cio_stream_free(s);
  return 0;
}

LOOP_TEST(test_peer_reset_while_reading) {
  int sv[2];
  tcp_pair(sv);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  struct opcall *c = calloc(1, sizeof *c);
  c->s = s;
  c->op = OP_EXACT;
  put(sv[1], "12345");
  cio_task *t = cio_spawn(op_task, c);
  settle_io();
  abortive_close(sv[1]);
  join(t);
  CHECK_EQ(c->r, -ECONNRESET);
  CHECK_EQ(c->got, 5);
  CHECK_EQ(cio_stream_read(s, c->buf, 1), -ECONNRESET);
  free(c);
  cio_stream_free(s);
  return 0;
}

/* ---- half-close, close ---- */

static int half_close_peer(void *arg) {
  int fd = *(int *)arg;
  char buf[64];
  size_t got = 0;
  for (;;) {
    ssize_t n = cio_read(fd, buf + got, sizeof buf - got);
    if (n <= 0) break;
    got += (size_t)n;
  }
  /* EOF seen: answer on the still-open direction. */
  char reply[80];
  int len = snprintf(reply, sizeof reply, "got %zu", got);
  cio_write_all(fd, reply, (size_t)len);
  cio_close(fd);
  return 0;
}

LOOP_TEST(test_half_close) {
  int sv[2];
  tcp_pair(sv);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  cio_task *t = cio_spawn(half_close_peer, &sv[1]);
  CHECK_EQ(cio_stream_write(s, "request", 7), 0);
  CHECK_EQ(cio_stream_shutdown_write(s), 0);
  CHECK_EQ(cio_stream_shutdown_write(s), 0);
  CHECK_EQ(cio_stream_write(s, "more", 4), -EPIPE);
  char buf[64];
  size_t got;
  CHECK_EQ(cio_stream_readexactly(s, buf, 5, &got), 5);
  CHECK(memcmp(buf, "got 7", 5) == 0);
  CHECK_EQ(cio_stream_read(s, buf, sizeof buf), 0);
  join(t);
  cio_stream_free(s);
  return 0;
}

LOOP_TEST(test_close_flushes_in_background) {
  int sv[2];
  tcp_pair(sv);
  int small = 65536;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  size_t n = 4 * 1024 * 1024;
  char *big = malloc(n);
  for (size_t i = 0; i < n; i++) big[i] = (char)(i % 251);
  CHECK_EQ(cio_stream_write(s, big, n), 0);
  CHECK(cio_stream_write_buffered(s) > 0);
  CHECK_EQ(cio_stream_close(s), 0);
  CHECK_EQ(cio_stream_close(s), 0); /* again: fine */
  CHECK_EQ(cio_stream_write(s, "x", 1), -EBADF);
  char *in = malloc(n);
  size_t got = 0;
  for (;;) {
    ssize_t r = cio_read(sv[1], in + got, n - got);
    if (r <= 0) break;
    got += (size_t)r;
  }
  CHECK_EQ(got, n);
  CHECK(memcmp(in, big, n) == 0);
  CHECK_EQ(cio_stream_wait_closed(s), 0);
  CHECK_EQ(cio_stream_read(s, in, 1), -EBADF);
  CHECK_EQ(cio_stream_fd(s), -1);
  cio_stream_free(s);
  cio_close(sv[1]);
  /* Output that can no longer go out: close says so (and drops it). */
  unix_pair(sv);
  s = cio_stream_new(sv[0], NULL);
  CHECK_EQ(cio_stream_write(s, big, n), 0);
  CHECK(cio_stream_write_buffered(s) > 0);
  close(sv[1]);
  CHECK_EQ(cio_stream_close(s), -EPIPE);
  CHECK_EQ(cio_stream_write_buffered(s), 0);
  CHECK_EQ(cio_stream_wait_closed(s), -EPIPE);
  cio_stream_free(s);
  /* The peer goes away while the close is flushing in the background. */
  tcp_pair(sv);
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  s = cio_stream_new(sv[0], NULL);
  CHECK_EQ(cio_stream_write(s, big, n), 0);
  CHECK_EQ(cio_stream_close(s), 0); /* still flushing */
  close(sv[1]);                     /* unread data: a reset */
  int wc = cio_stream_wait_closed(s);
  CHECK(wc == -ECONNRESET || wc == -EPIPE);
  cio_stream_free(s);
  free(big);
  free(in);
  return 0;
}

LOOP_TEST(test_free_under_waiting_tasks) {
  int sv[2];
  unix_pair(sv);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  struct opcall *rd = calloc(1, sizeof *rd), *wr = calloc(1, sizeof *wr);
  rd->s = wr->s = s;
  rd->op = OP_READ;
  wr->op = OP_DRAIN;
  clog_output(s);
  cio_task *t1 = cio_spawn(op_task, rd);
  cio_task *t2 = cio_spawn(op_task, wr);
  settle_io();
  CHECK(cio_task_waiting_on(t1) != NULL);
  CHECK(cio_task_waiting_on(t2) != NULL);
  cio_stream_free(s); /* the tasks still hold the memory: no use-after-free */
  join(t1);
  join(t2);
  CHECK_EQ(rd->r, -EBADF);
  CHECK_EQ(wr->r, -EBADF);
  free(rd);
  free(wr);
  close(sv[1]);
  return 0;
}

LOOP_TEST(test_two_readers_busy) {
  int sv[2];
  unix_pair(sv);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  struct opcall *c = calloc(1, sizeof *c);
  c->s = s;
  c->op = OP_READ;
  cio_task *t = cio_spawn(op_task, c);
  settle_io();
  char buf[4];
  CHECK_EQ(cio_stream_read(s, buf, sizeof buf), -EBUSY);
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), -EBUSY);
  put(sv[1], "hi");
  join(t);
  CHECK_EQ(c->r, 2);
  free(c);
  close(sv[1]);
  cio_stream_free(s);
  return 0;
}

/* ---- full duplex: one reader task and one writer task on one stream ---- */

struct duplex {
  cio_stream *s;
  size_t n;
  size_t done;
  int bad;
};

static int duplex_writer(void *arg) {
  struct duplex *d = arg;
  unsigned char buf[3000];
  size_t off = 0;
  while (off < d->n) {
    size_t k = d->n - off < sizeof buf ? d->n - off : sizeof buf;
    for (size_t i = 0; i < k; i++) buf[i] = (unsigned char)((off + i) * 13);
    if (cio_stream_write(d->s, buf, k) < 0 || cio_stream_drain(d->s) < 0) return -1;
    off += k;
  }
  d->done = off;
  return cio_stream_shutdown_write(d->s);
}

static int duplex_reader(void *arg) {
  struct duplex *d = arg;
  unsigned char buf[7000];
  for (;;) {
    ssize_t n = cio_stream_read(d->s, buf, sizeof buf);
    if (n <= 0) return (int)n;
    for (ssize_t i = 0; i < n; i++)
      if (buf[i] != (unsigned char)((d->done + (size_t)i) * 13)) d->bad++;
    d->done += (size_t)n;
  }
}

LOOP_TEST(test_full_duplex) {
  int sv[2];
  tcp_pair(sv);
  cio_stream *a = cio_stream_new(sv[0], NULL), *b = cio_stream_new(sv[1], NULL);
  size_t n = 3 * 1024 * 1024 + 17;
  struct duplex wa = {a, n, 0, 0}, ra = {a, 0, 0, 0}, wb = {b, n, 0, 0}, rb = {b, 0, 0, 0};
  cio_task *ts[4] = {cio_spawn(duplex_writer, &wa), cio_spawn(duplex_reader, &ra),
                     cio_spawn(duplex_writer, &wb), cio_spawn(duplex_reader, &rb)};
  for (int i = 0; i < 4; i++) CHECK_EQ(join(ts[i]), 0);
  CHECK_EQ(ra.done, n);
  CHECK_EQ(rb.done, n);
  CHECK_EQ(ra.bad + rb.bad, 0);
  cio_stream_free(a);
  cio_stream_free(b);
  return 0;
}

/* ---- write fast path, names ---- */

LOOP_TEST(test_write_goes_straight_out) {
  int sv[2];
  tcp_pair(sv);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  CHECK_EQ(cio_stream_write(s, "ping", 4), 0);
  CHECK_EQ(cio_stream_write_buffered(s), 0); /* taken by the kernel: no copy kept */
  CHECK_EQ(cio_stream_drain(s), 0);
  char buf[8];
  CHECK_EQ(cio_read(sv[1], buf, sizeof buf), 4);
  char name[64];
  CHECK_EQ(cio_stream_peer_string(s, name, sizeof name), 0);
  CHECK(strncmp(name, "127.0.0.1:", 10) == 0);
  struct sockaddr_storage ss;
  socklen_t sl;
  CHECK_EQ(cio_stream_sockname(s, &ss, &sl), 0);
  CHECK_EQ(ss.ss_family, AF_INET);
  CHECK_EQ(cio_stream_peername(s, &ss, &sl), 0);
  CHECK_EQ(cio_stream_peer_string(s, name, 4), -ENOSPC);
  CHECK_EQ(cio_stream_fd(s), sv[0]);
  cio_stream_free(s);
  cio_close(sv[1]);
  return 0;
}

/* ---- transports: a toy transport that XORs every byte ---- */

struct xor_tr {
  int reads, writes, closed;
};

static ssize_t xor_read(void *ctx, int fd, void *buf, size_t n, int *want) {
  struct xor_tr *x = ctx;
  ssize_t r = read(fd, buf, n);
  if (r < 0) {
    *want = CIO_READABLE;
    return errno == EAGAIN ? -EAGAIN : -errno;
  }
  for (ssize_t i = 0; i < r; i++) ((unsigned char *)buf)[i] ^= 0x5a;
  x->reads++;
  return r;
}

static ssize_t xor_write(void *ctx, int fd, const void *buf, size_t n, int *want) {
  struct xor_tr *x = ctx;
  unsigned char tmp[256];
  if (n > sizeof tmp) n = sizeof tmp;
  for (size_t i = 0; i < n; i++) tmp[i] = ((const unsigned char *)buf)[i] ^ 0x5a;
  ssize_t r = write(fd, tmp, n);
  if (r < 0) {
    *want = CIO_WRITABLE;
    return errno == EAGAIN ? -EAGAIN : -errno;
  }
  x->writes++;
  return r;
}

static void xor_close(void *ctx) { ((struct xor_tr *)ctx)->closed++; }

static const cio_transport_ops xor_ops = {xor_read, xor_write, NULL, xor_close};

LOOP_TEST(test_transport_hook) {
  int sv[2];
  unix_pair(sv);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  struct xor_tr x = {0, 0, 0};
  put(sv[1], "plain\n");
  CHECK_EQ(cio_stream_read(s, (char[2]){0}, 1), 1);
  CHECK_EQ(cio_stream_set_transport(s, &xor_ops, &x), -EBUSY); /* input buffered */
  char buf[2048];
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), 5);
  CHECK_EQ(cio_stream_set_transport(s, &xor_ops, &x), 0);
  /* 1000 bytes through a transport that takes 256 at a time. */
  char msg[1000];
  for (size_t i = 0; i < sizeof msg; i++) msg[i] = (char)('A' + i % 26);
  CHECK_EQ(cio_stream_write(s, msg, sizeof msg), 0);
  CHECK_EQ(cio_stream_flush(s), 0);
  char raw[1000];
  size_t got = 0;
  while (got < sizeof raw) {
    ssize_t r = cio_read(sv[1], raw + got, sizeof raw - got);
    CHECK(r > 0);
    if (r <= 0) break;
    got += (size_t)r;
  }
  for (size_t i = 0; i < sizeof raw; i++) raw[i] ^= 0x5a;
  CHECK(memcmp(raw, msg, sizeof msg) == 0);
  CHECK(x.writes >= 4);
  /* Reading back through it. */
  char enc[6];
  memcpy(enc, "hello\n", 6);
  for (int i = 0; i < 6; i++) enc[i] ^= 0x5a;
  CHECK_EQ(write(sv[1], enc, 6), 6);
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), 6);
  CHECK(memcmp(buf, "hello\n", 6) == 0);
  CHECK_EQ(cio_stream_set_transport(s, NULL, NULL), 0);
  CHECK_EQ(x.closed, 1);
  CHECK_EQ(cio_stream_set_transport(s, &xor_ops, &x), 0);
  cio_stream_free(s);
  CHECK_EQ(x.closed, 2);
  close(sv[1]);
  return 0;
}

/* A stream over a pipe (not a socket). */
LOOP_TEST(test_pipe_stream) {
  int p[2];
  CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
  cio_stream *r = cio_stream_new(p[0], NULL), *w = cio_stream_new(p[1], NULL);
  CHECK_EQ(cio_stream_write(w, "line one\nline two\n", 18), 0);
  char buf[32];
  CHECK_EQ(cio_stream_readline(r, buf, sizeof buf), 9);
  CHECK_EQ(cio_stream_readline(r, buf, sizeof buf), 9);
  cio_stream_free(r);
  CHECK_EQ(cio_stream_write(w, "x", 1), -EPIPE);
  cio_stream_free(w);
  return 0;
}

/* A pending cancellation is seen on entry even when data is buffered, and
 * costs no byte. */
LOOP_TEST(test_cancel_checked_on_entry) {
  int sv[2];
  unix_pair(sv);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  put(sv[1], "abc\ndef\n");
  char buf[16];
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), 4);
  cio_task_cancel(cio_current());
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), -ECANCELED);
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), 4);
  CHECK(memcmp(buf, "def\n", 4) == 0);
  cio_task_cancel(cio_current());
  CHECK_EQ(cio_stream_drain(s), -ECANCELED);
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 0);
  CHECK_EQ(cio_stream_read(s, buf, sizeof buf), -ETIMEDOUT);
  cio_timeout_end(&sc);
  close(sv[1]);
  cio_stream_free(s);
  return 0;
}

/* A message socket returns one message per read: a short read does not
 * mean the kernel is empty, so the stream must read on without waiting for
 * an edge that will not come. */
LOOP_TEST(test_seqpacket_reads_on) {
  int sv[2];
  CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  put(sv[1], "first");
  put(sv[1], "second");
  char buf[64];
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 2.0);
  CHECK_EQ(cio_stream_read(s, buf, sizeof buf), 5);
  CHECK_EQ(cio_stream_read(s, buf, sizeof buf), 6);
  CHECK_EQ(cio_timeout_end(&sc), 0);
  close(sv[1]);
  CHECK_EQ(cio_stream_read(s, buf, sizeof buf), 0);
  cio_stream_free(s);
  return 0;
}

/* A read interrupted by an expired scope while readiness was already
 * remembered must leave that readiness for the next read (a lost wake-up
 * would make the next read wait for an edge that never comes). */
static int lr_sv[2];

static int lr_writer(void *arg) {
  (void)arg;
  cio_sleep(0.01);
  CHECK_EQ(write(lr_sv[1], "x", 1), 1);
  return 0;
}

static int lost_ready_main(void *arg) {
  (void)arg;
  cio_stream *s = cio_stream_new(lr_sv[0], NULL);
  char buf[100];
  cio_task *w = cio_spawn(lr_writer, NULL);
  CHECK_EQ(cio_stream_read(s, buf, sizeof buf), 1); /* registers; short read */
  CHECK_EQ(join(w), 0);
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 0.01);
  CHECK_EQ(write(lr_sv[1], "y", 1), 1); /* remembered while we sleep */
  CHECK_EQ(cio_sleep(1.0), -ETIMEDOUT);
  CHECK_EQ(cio_stream_read(s, buf, sizeof buf), -ETIMEDOUT);
  cio_timeout_end(&sc);
  cio_timeout_begin(&sc, 2.0);
  CHECK_EQ(cio_stream_read(s, buf, sizeof buf), 1); /* "y" is delivered */
  CHECK_EQ(cio_timeout_end(&sc), 0);
  cio_stream_free(s);
  return 0;
}

static void test_interrupted_read_keeps_readiness(void) {
  CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, lr_sv), 0);
  CHECK_EQ(cio_run(lost_ready_main, NULL), 0);
  close(lr_sv[1]);
}

/* cio_write_all to a socket whose peer is gone: -EPIPE, not SIGPIPE. */
static int epipe_main(void *arg) {
  (void)arg;
  int sv[2];
  CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  close(sv[1]);
  signal(SIGPIPE, SIG_DFL); /* earlier tests may have ignored it */
  CHECK_EQ(cio_write_all(sv[0], "z", 1), -EPIPE);
  CHECK_EQ(cio_close(sv[0]), 0);
  return 0;
}

static void test_write_all_epipe(void) { CHECK_EQ(cio_run(epipe_main, NULL), 0); }

int main(void) {
  RUN(test_read_basic_and_eof);
  RUN(test_eof_every_form);
  RUN(test_delimiter_split_across_reads);
  RUN(test_overlong_line);
  RUN(test_line_longer_than_buffer);
  RUN(test_cancel_every_wait);
  RUN(test_timeout_every_wait);
  RUN(test_readexactly_big_partial_on_cancel);
  RUN(test_last_line_exactly_max);
  RUN(test_interrupted_skip_keeps_line);
  RUN(test_backpressure_bounded);
  RUN(test_peer_reset_mid_write);
  RUN(test_peer_reset_while_reading);
  RUN(test_half_close);
  RUN(test_close_flushes_in_background);
  RUN(test_free_under_waiting_tasks);
  RUN(test_two_readers_busy);
  RUN(test_full_duplex);
  RUN(test_write_goes_straight_out);
  RUN(test_transport_hook);
  RUN(test_pipe_stream);
  RUN(test_seqpacket_reads_on);
  RUN(test_cancel_checked_on_entry);
  RUN(test_interrupted_read_keeps_readiness);
  RUN(test_write_all_epipe);
  return test_report();
}
