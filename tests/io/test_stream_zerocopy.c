/* test_stream_zerocopy.c - the stream calls protocol parsers are built on:
 * peek / consume / fill (EOF, the limit, errors, cancellation and timeouts
 * while filling, exclusivity, fairness, a small parser on top), writev
 * (straight to the kernel, queued behind other output, more pieces than
 * IOV_MAX, through a transport) and sendfile (sendfile(2) on sockets, the
 * copying path for pipes, short files, interruption with the count that
 * went out, exclusivity). TLS forms are in test_tls.c. Peers are
 * socketpairs, pipes and loopback TCP. */
#include "test.h"
#include "test_loop.h"

#include <cio.h>
#include <cio/stream.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

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

static void small_buffers(int sv[2], int size) {
  for (int i = 0; i < 2; i++) {
    setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
}

static void put(int fd, const char *s) {
  size_t n = strlen(s);
  if (write(fd, s, n) != (ssize_t)n) abort();
}

/* An iovec over constant bytes (writev does not write to them). */
static struct iovec cv(const char *p, size_t n) { return (struct iovec){(void *)(uintptr_t)p, n}; }

static unsigned char pattern(size_t i) { return (unsigned char)(i * 7 + i / 253); }

/* Reads exactly n bytes from a plain fd (in a task). */
static size_t read_fd(int fd, char *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = cio_read(fd, buf + got, n - got);
    if (r <= 0) break;
    got += (size_t)r;
  }
  return got;
}

/* ---- peek / consume / fill ---- */

LOOP_TEST(test_peek_consume_fill) {
  int sv[2];
  unix_pair(sv);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  const void *p = NULL;
  CHECK_EQ(cio_stream_peek(s, &p), 0);
  CHECK(p != NULL);
  CHECK_EQ(cio_stream_consume(s, 0), 0);
  CHECK_EQ(cio_stream_consume(s, 1), -EINVAL);
  put(sv[1], "hello");
  CHECK_EQ(cio_stream_fill(s), 5);
  CHECK_EQ(cio_stream_peek(s, &p), 5);
  CHECK(memcmp(p, "hello", 5) == 0);
  CHECK_EQ(cio_stream_buffered(s), 5);
  CHECK_EQ(cio_stream_consume(s, 2), 0);
  CHECK_EQ(cio_stream_peek(s, &p), 3);
  CHECK(memcmp(p, "llo", 3) == 0);
  CHECK_EQ(cio_stream_consume(s, 4), -EINVAL); /* more than buffered: nothing dropped */
  CHECK_EQ(cio_stream_peek(s, &p), 3);
  /* fill keeps what is buffered and adds to it. */
  put(sv[1], " world");
  CHECK_EQ(cio_stream_fill(s), 9);
  CHECK_EQ(cio_stream_peek(s, &p), 9);
  CHECK(memcmp(p, "llo world", 9) == 0);
  /* The other read calls see the same bytes. */
  char buf[16];
  CHECK_EQ(cio_stream_read(s, buf, 4), 4);
  CHECK(memcmp(buf, "llo ", 4) == 0);
  CHECK_EQ(cio_stream_peek(s, &p), 5);
  CHECK(memcmp(p, "world", 5) == 0);
  /* EOF: fill says 0 and the buffered bytes stay. */
  close(sv[1]);
  CHECK_EQ(cio_stream_fill(s), 0);
  CHECK_EQ(cio_stream_fill(s), 0);
  CHECK_EQ(cio_stream_peek(s, &p), 5);
  CHECK_EQ(cio_stream_consume(s, 5), 0);
  CHECK_EQ(cio_stream_peek(s, &p), 0);
  CHECK_EQ(cio_stream_read(s, buf, sizeof buf), 0);
  /* After close: nothing to peek, consume and fill fail. */
  cio_stream_close(s);
  CHECK_EQ(cio_stream_peek(s, &p), 0);
  CHECK_EQ(cio_stream_consume(s, 0), -EBADF);
  CHECK_EQ(cio_stream_fill(s), -EBADF);
  cio_stream_free(s);
  return 0;
}

/* fill grows the buffer up to the limit and then says -EMSGSIZE, reading
 * nothing; consuming makes room again. */
LOOP_TEST(test_fill_limit) {
  int sv[2];
  unix_pair(sv);
  cio_stream_opts o = {.read_buffer = 256, .limit = 1000};
  cio_stream *s = cio_stream_new(sv[0], &o);
  static char data[3000];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (char)pattern(i);
  CHECK_EQ(write(sv[1], data, sizeof data), (ssize_t)sizeof data);
  ssize_t r, last = 0;
  int fills = 0;
  while ((r = cio_stream_fill(s)) > 0) {
    CHECK(r > last);
    last = r;
    fills++;
  }
  CHECK_EQ(r, -EMSGSIZE);
  CHECK(fills > 1);
  const void *p;
  size_t n = cio_stream_peek(s, &p);
  CHECK(n >= 1000 && n <= 1024); /* the buffer grew from 256 to the limit */
  CHECK(memcmp(p, data, n) == 0);
  CHECK_EQ(cio_stream_fill(s), -EMSGSIZE); /* still: nothing was read */
  CHECK_EQ(cio_stream_peek(s, &p), n);
  CHECK_EQ(cio_stream_consume(s, 600), 0);
  r = cio_stream_fill(s);
  CHECK(r > (ssize_t)(n - 600));
  CHECK_EQ(cio_stream_peek(s, &p), (size_t)r);
  CHECK(memcmp(p, data + 600, (size_t)r) == 0);
  cio_stream_free(s);
  close(sv[1]);

  /* A limit below the buffer size: one fill may bring more than the limit
   * (the room is there), the next one refuses. */
  unix_pair(sv);
  o = (cio_stream_opts){.read_buffer = 4096, .limit = 300};
  s = cio_stream_new(sv[0], &o);
  CHECK_EQ(write(sv[1], data, 2000), 2000);
  CHECK_EQ(cio_stream_fill(s), 2000);
  CHECK_EQ(cio_stream_fill(s), -EMSGSIZE);
  CHECK_EQ(cio_stream_consume(s, 1900), 0);
  put(sv[1], "x");
  CHECK_EQ(cio_stream_fill(s), 101);
  cio_stream_free(s);
  close(sv[1]);
  return 0;
}

struct filler {
  cio_stream *s;
  ssize_t r;
};

static int filler_task(void *arg) {
  struct filler *f = arg;
  f->r = cio_stream_fill(f->s);
  return 0;
}

/* Cancelled or timed out while filling: nothing read, nothing lost. */
LOOP_TEST(test_fill_interrupted) {
  int sv[2];
  unix_pair(sv);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  put(sv[1], "part");
  CHECK_EQ(cio_stream_fill(s), 4);
  struct filler f = {s, 12345};
  cio_task *t = cio_spawn(filler_task, &f);
  settle_io();
  CHECK_EQ(f.r, 12345);
  CHECK(cio_task_waiting_on(t) != NULL);
  /* Meanwhile: peek shows the buffer, the other read calls are busy. */
  const void *p;
  CHECK_EQ(cio_stream_peek(s, &p), 4);
  CHECK_EQ(cio_stream_consume(s, 1), -EBUSY);
  CHECK_EQ(cio_stream_fill(s), -EBUSY);
  char buf[16];
  CHECK_EQ(cio_stream_read(s, buf, sizeof buf), -EBUSY);
  cio_task_cancel(t);
  join(t);
  CHECK_EQ(f.r, -ECANCELED);
  CHECK_EQ(cio_stream_peek(s, &p), 4);
  CHECK(memcmp(p, "part", 4) == 0);

  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 0.01);
  CHECK_EQ(cio_stream_fill(s), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&sc), 1);
  CHECK_EQ(cio_stream_peek(s, &p), 4);

  /* A pending cancellation is seen on entry, even with data ready. */
  put(sv[1], "-more");
  cio_task_cancel(cio_current());
  CHECK_EQ(cio_stream_fill(s), -ECANCELED);
  CHECK_EQ(cio_stream_fill(s), 9);
  CHECK_EQ(cio_stream_peek(s, &p), 9);
  CHECK(memcmp(p, "part-more", 9) == 0);

  /* Freed while a task fills: it wakes with -EBADF. */
  f.r = 12345;
  t = cio_spawn(filler_task, &f);
  settle_io();
  cio_stream_free(s);
  join(t);
  CHECK_EQ(f.r, -EBADF);
  close(sv[1]);
  return 0;
}

/* A reset connection: fill reports it, the buffered bytes stay readable. */
LOOP_TEST(test_fill_error_keeps_buffer) {
  int sv[2];
  tcp_pair(sv);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  put(sv[1], "abc");
  CHECK_EQ(cio_stream_fill(s), 3);
  struct linger lg = {1, 0};
  setsockopt(sv[1], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(sv[1]);
  CHECK_EQ(cio_stream_fill(s), -ECONNRESET);
  const void *p;
  CHECK_EQ(cio_stream_peek(s, &p), 3);
  CHECK(memcmp(p, "abc", 3) == 0);
  CHECK_EQ(cio_stream_fill(s), -ECONNRESET); /* sticky */
  cio_stream_free(s);
  return 0;
}

static int ticks;

static int ticker(void *arg) {
  (void)arg;
  for (;;) {
    ticks++;
    if (cio_yield() < 0) return 0;
  }
}

/* A peer that always has data ready cannot make a fill loop starve the
 * loop: other tasks get turns. */
LOOP_TEST(test_fill_yields) {
  int sv[2];
  unix_pair(sv);
  int big = 1 << 20;
  setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  cio_stream_opts o = {.read_buffer = 256};
  cio_stream *s = cio_stream_new(sv[0], &o);
  static char data[100000];
  memset(data, 'd', sizeof data);
  ssize_t w = write(sv[1], data, sizeof data);
  CHECK(w > 20000);
  ticks = 0;
  cio_task *t = cio_spawn(ticker, NULL);
  size_t got = 0;
  while (got < 20000) {
    ssize_t r = cio_stream_fill(s);
    CHECK(r > 0);
    if (r <= 0) break;
    got += (size_t)r;
    CHECK_EQ(cio_stream_consume(s, (size_t)r), 0);
  }
  CHECK(ticks > 0);
  cio_task_cancel(t);
  join(t);
  cio_stream_free(s);
  close(sv[1]);
  return 0;
}

/* The parser of cio/stream.h's example: messages "<decimal length>:<bytes>"
 * read in place, split at every possible point by the sender. */
static int parse_frame(const char *p, size_t n, size_t *hdr, size_t *len) {
  size_t i = 0, v = 0;
  while (i < n && p[i] >= '0' && p[i] <= '9' && i < 8) v = v * 10 + (size_t)(p[i++] - '0');
  if (i == n) return 0; /* need more */
  if (p[i] != ':' || i == 0) return -EPROTO;
  if (n - i - 1 < v) return 0; /* need more */
  *hdr = i + 1;
  *len = v;
  return 1;
}

static int read_frames(cio_stream *s, char *out, size_t cap, size_t *total, int *frames) {
  for (;;) {
    const void *p;
    size_t n = cio_stream_peek(s, &p), hdr, len;
    int k = parse_frame(p, n, &hdr, &len);
    if (k < 0) return k;
    if (k) {
      if (*total + len > cap) return -ENOSPC;
      memcpy(out + *total, (const char *)p + hdr, len);
      *total += len;
      (*frames)++;
      cio_stream_consume(s, hdr + len);
      continue;
    }
    ssize_t r = cio_stream_fill(s);
    if (r == 0) return n ? -EPIPE : 0;
    if (r < 0) return (int)r;
  }
}

struct dribbler {
  int fd;
  const char *data;
  size_t n;
  size_t step;
};

static int dribble(void *arg) {
  struct dribbler *d = arg;
  for (size_t off = 0; off < d->n; off += d->step) {
    size_t k = d->n - off < d->step ? d->n - off : d->step;
    if (cio_write_all(d->fd, d->data + off, k) < 0) return -1;
    cio_sleep(0.0002);
  }
  cio_close(d->fd);
  return 0;
}

LOOP_TEST(test_frame_parser) {
  static char wire[8000], payloads[8000], out[8000];
  size_t wn = 0, pn = 0;
  for (int i = 0; i < 40; i++) {
    size_t len = (size_t)(i * 37 % 150);
    wn += (size_t)snprintf(wire + wn, sizeof wire - wn, "%zu:", len);
    for (size_t j = 0; j < len; j++) payloads[pn++] = wire[wn++] = (char)('a' + (i + j) % 26);
  }
  for (size_t step = 1; step <= 97; step += 24) {
    int sv[2];
    unix_pair(sv);
    cio_stream_opts o = {.read_buffer = 256, .limit = 512};
    cio_stream *s = cio_stream_new(sv[0], &o);
    struct dribbler d = {sv[1], wire, wn, step};
    cio_task *t = cio_spawn(dribble, &d);
    size_t total = 0;
    int frames = 0;
    CHECK_EQ(read_frames(s, out, sizeof out, &total, &frames), 0);
    CHECK_EQ(frames, 40);
    CHECK_EQ(total, pn);
    CHECK(memcmp(out, payloads, pn) == 0);
    CHECK_EQ(join(t), 0);
    cio_stream_free(s);
  }
  /* A frame longer than the limit: -EMSGSIZE; cut at EOF: -EPIPE. */
  int sv[2];
  unix_pair(sv);
  cio_stream_opts o = {.read_buffer = 256, .limit = 512};
  cio_stream *s = cio_stream_new(sv[0], &o);
  static char huge[1200];
  memset(huge, 'h', sizeof huge);
  memcpy(huge, "1000:", 5);
  CHECK_EQ(write(sv[1], huge, sizeof huge), (ssize_t)sizeof huge);
  size_t total = 0;
  int frames = 0;
  CHECK_EQ(read_frames(s, out, sizeof out, &total, &frames), -EMSGSIZE);
  cio_stream_free(s);
  close(sv[1]);
  unix_pair(sv);
  s = cio_stream_new(sv[0], &o);
  put(sv[1], "3:abc5:ab");
  close(sv[1]);
  CHECK_EQ(read_frames(s, out, sizeof out, &total, &frames), -EPIPE);
  CHECK_EQ(frames, 1);
  cio_stream_free(s);
  return 0;
}

/* ---- writev ---- */

LOOP_TEST(test_writev_straight_out) {
  int sv[2];
  tcp_pair(sv);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  struct iovec v[4] = {cv("GET ", 4), cv("", 0), cv("/x", 2), cv(" HTTP/1.1\r\n", 11)};
  CHECK_EQ(cio_stream_writev(s, v, 4), 0);
  CHECK_EQ(cio_stream_write_buffered(s), 0); /* all taken at once: nothing copied */
  char buf[64];
  CHECK_EQ(read_fd(sv[1], buf, 17), 17);
  CHECK(memcmp(buf, "GET /x HTTP/1.1\r\n", 17) == 0);
  CHECK_EQ(cio_stream_writev(s, v, 0), 0);
  CHECK_EQ(cio_stream_writev(s, NULL, 0), 0);
  CHECK_EQ(cio_stream_writev(s, v + 1, 1), 0);
  CHECK_EQ(cio_stream_writev(s, NULL, 1), -EINVAL);
  struct iovec huge[2] = {cv("a", (size_t)SSIZE_MAX), cv("b", 2)};
  CHECK_EQ(cio_stream_writev(s, huge, 2), -EINVAL);
  /* More pieces than one system call takes. */
  static struct iovec many[IOV_MAX * 2 + 7];
  static char bytes[IOV_MAX * 2 + 7];
  int cnt = (int)(sizeof many / sizeof many[0]);
  for (int i = 0; i < cnt; i++) {
    bytes[i] = (char)pattern((size_t)i);
    many[i].iov_base = &bytes[i];
    many[i].iov_len = i % 5 == 3 ? 0 : 1;
  }
  size_t expect = 0;
  static char want[sizeof bytes], got[sizeof bytes];
  for (int i = 0; i < cnt; i++)
    if (many[i].iov_len) want[expect++] = bytes[i];
  CHECK_EQ(cio_stream_writev(s, many, (size_t)cnt), 0);
  CHECK_EQ(cio_stream_flush(s), 0);
  CHECK_EQ(read_fd(sv[1], got, expect), expect);
  CHECK(memcmp(got, want, expect) == 0);
  /* After shutdown_write and close. */
  CHECK_EQ(cio_stream_shutdown_write(s), 0);
  CHECK_EQ(cio_stream_writev(s, v, 4), -EPIPE);
  cio_stream_close(s);
  CHECK_EQ(cio_stream_writev(s, v, 4), -EBADF);
  cio_stream_free(s);
  cio_close(sv[1]);
  return 0;
}

struct collector {
  int fd;
  char *buf;
  size_t want;
  size_t got;
};

static int collect(void *arg) {
  struct collector *c = arg;
  c->got = read_fd(c->fd, c->buf, c->want);
  return 0;
}

/* Big gathers against a small socket buffer: what the kernel does not take
 * is queued (in order, behind output already queued) and flushed. */
LOOP_TEST(test_writev_partial_and_queued) {
  int sv[2];
  tcp_pair(sv);
  small_buffers(sv, 16384);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  size_t n = 1500000;
  char *data = malloc(n), *in = malloc(n);
  for (size_t i = 0; i < n; i++) data[i] = (char)pattern(i);
  /* 1000-byte pieces: most of the first gather is left over, the second is
   * queued behind it whole, the third goes after a plain write. */
  struct iovec v[500];
  size_t off = 0;
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 500; i++, off += 1000) v[i] = (struct iovec){data + off, 1000};
    CHECK_EQ(cio_stream_writev(s, v, 500), 0);
    if (round == 0) CHECK(cio_stream_write_buffered(s) > 0);
  }
  CHECK_EQ(off, n);
  struct collector c = {sv[1], in, n, 0};
  cio_task *t = cio_spawn(collect, &c);
  CHECK_EQ(cio_stream_flush(s), 0);
  join(t);
  CHECK_EQ(c.got, n);
  CHECK(memcmp(in, data, n) == 0);
  /* The peer goes away: the error comes back (at once or at the next call). */
  cio_close(sv[1]);
  int r = 0;
  for (int i = 0; i < 100 && r == 0; i++) {
    r = cio_stream_writev(s, v, 500);
    if (r == 0) r = cio_stream_flush(s);
  }
  CHECK(r == -EPIPE || r == -ECONNRESET);
  cio_stream_free(s);
  free(data);
  free(in);
  return 0;
}

/* Through a transport: the pieces are coalesced, not one write each. */
struct count_tr {
  int writes;
};

static ssize_t ct_read(void *ctx, int fd, void *buf, size_t n, int *want) {
  (void)ctx;
  ssize_t r = read(fd, buf, n);
  if (r < 0) {
    *want = CIO_READABLE;
    return errno == EAGAIN ? -EAGAIN : -errno;
  }
  return r;
}

/* Takes at most 300 bytes per call, as TLS takes a record at a time. */
static ssize_t ct_write(void *ctx, int fd, const void *buf, size_t n, int *want) {
  struct count_tr *c = ctx;
  ssize_t r = write(fd, buf, n < 300 ? n : 300);
  if (r < 0) {
    *want = CIO_WRITABLE;
    return errno == EAGAIN ? -EAGAIN : -errno;
  }
  c->writes++;
  return r;
}

static const cio_transport_ops count_ops = {ct_read, ct_write, NULL, NULL};

LOOP_TEST(test_writev_transport) {
  int sv[2];
  unix_pair(sv);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  struct count_tr ct = {0};
  CHECK_EQ(cio_stream_set_transport(s, &count_ops, &ct), 0);
  static char piece[100][10];
  struct iovec v[100];
  for (int i = 0; i < 100; i++) {
    memset(piece[i], '0' + i % 10, 10);
    v[i] = (struct iovec){piece[i], 10};
  }
  CHECK_EQ(cio_stream_writev(s, v, 100), 0);
  CHECK_EQ(cio_stream_flush(s), 0);
  CHECK(ct.writes <= 4); /* 1000 bytes, 300 a call: not 100 calls */
  char buf[1000];
  CHECK_EQ(read_fd(sv[1], buf, 1000), 1000);
  for (int i = 0; i < 100; i++) CHECK(memcmp(buf + i * 10, piece[i], 10) == 0);
  cio_stream_free(s);
  close(sv[1]);
  return 0;
}

/* ---- sendfile ---- */

static char tmpl[] = "/tmp/cio-sendfile-XXXXXX";

/* A temp file of n pattern bytes (unlinked: closing it removes it). */
static int temp_file(size_t n) {
  char path[sizeof tmpl];
  memcpy(path, tmpl, sizeof tmpl);
  int fd = mkstemp(path);
  if (fd < 0) abort();
  unlink(path);
  char *b = malloc(n);
  for (size_t i = 0; i < n; i++) b[i] = (char)pattern(i);
  if (write(fd, b, n) != (ssize_t)n) abort();
  free(b);
  return fd;
}

static int check_bytes(const char *p, size_t from, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)p[i] != pattern(from + i)) return 0;
  return 1;
}

LOOP_TEST(test_sendfile_socket) {
  size_t fsize = 1000000;
  int f = temp_file(fsize);
  int sv[2];
  tcp_pair(sv);
  small_buffers(sv, 65536);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  /* Queued output goes first. */
  CHECK_EQ(cio_stream_write(s, "HDR", 3), 0);
  char *in = malloc(fsize + 3);
  struct collector c = {sv[1], in, 3 + 500000, 0};
  cio_task *t = cio_spawn(collect, &c);
  size_t sent = 99;
  CHECK_EQ(cio_stream_sendfile(s, f, 100, 500000, &sent), 500000);
  CHECK_EQ(sent, 500000);
  join(t);
  CHECK_EQ(c.got, 3 + 500000);
  CHECK(memcmp(in, "HDR", 3) == 0);
  CHECK(check_bytes(in + 3, 100, 500000));
  CHECK_EQ(lseek(f, 0, SEEK_CUR), (off_t)fsize); /* the file position is not used */
  /* The file ends first: a short count; at its end: 0; count 0: 0. */
  c = (struct collector){sv[1], in, 1000, 0};
  t = cio_spawn(collect, &c);
  CHECK_EQ(cio_stream_sendfile(s, f, (off_t)fsize - 1000, 5000, NULL), 1000);
  join(t);
  CHECK(check_bytes(in, fsize - 1000, 1000));
  CHECK_EQ(cio_stream_sendfile(s, f, (off_t)fsize, 10, &sent), 0);
  CHECK_EQ(sent, 0);
  CHECK_EQ(cio_stream_sendfile(s, f, (off_t)fsize + 5, 10, NULL), 0);
  CHECK_EQ(cio_stream_sendfile(s, f, 0, 0, NULL), 0);
  /* Bad arguments. */
  CHECK_EQ(cio_stream_sendfile(s, f, -1, 10, NULL), -EINVAL);
  CHECK_EQ(cio_stream_sendfile(s, -1, 0, 10, NULL), -EBADF);
  int p[2];
  CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
  CHECK_EQ(write(p[1], "x", 1), 1);
  CHECK_EQ(cio_stream_sendfile(s, p[0], 0, 10, &sent), -ESPIPE);
  CHECK_EQ(sent, 0);
  close(p[0]);
  close(p[1]);
  /* The stream still works after those. */
  CHECK_EQ(cio_stream_write(s, "ok", 2), 0);
  CHECK_EQ(read_fd(sv[1], in, 2), 2);
  CHECK(memcmp(in, "ok", 2) == 0);
  cio_stream_free(s);
  cio_close(sv[1]);
  close(f);
  free(in);
  return 0;
}

struct sender {
  cio_stream *s;
  int fd;
  size_t count;
  size_t sent;
  ssize_t r;
};

static int sender_task(void *arg) {
  struct sender *x = arg;
  x->r = cio_stream_sendfile(x->s, x->fd, 0, x->count, &x->sent);
  return 0;
}

/* Interrupted while the peer does not read: *sent says how much went out;
 * the peer gets exactly that, and resuming at offset + sent completes the
 * file. Over a socket (sendfile(2)) and a pipe (the copying path). */
static void check_sendfile_interrupt(int use_pipe, int cancel) {
  size_t fsize = 4u << 20;
  int f = temp_file(fsize);
  int sv[2];
  if (use_pipe) {
    CHECK_EQ(pipe2(sv, O_CLOEXEC | O_NONBLOCK), 0); /* sv[0] reads, sv[1] writes */
  } else {
    tcp_pair(sv);
    small_buffers(sv, 32768);
  }
  int wfd = use_pipe ? sv[1] : sv[0], rfd = use_pipe ? sv[0] : sv[1];
  cio_stream *s = cio_stream_new(wfd, NULL);
  struct sender x = {s, f, fsize, 0, 12345};
  if (cancel) {
    cio_task *t = cio_spawn(sender_task, &x);
    settle_io();
    CHECK(cio_task_waiting_on(t) != NULL);
    /* Meanwhile the sending side belongs to the sendfile. */
    CHECK_EQ(cio_stream_write(s, "x", 1), -EBUSY);
    struct iovec v = cv("x", 1);
    CHECK_EQ(cio_stream_writev(s, &v, 1), -EBUSY);
    CHECK_EQ(cio_stream_flush(s), -EBUSY);
    CHECK_EQ(cio_stream_drain(s), -EBUSY);
    CHECK_EQ(cio_stream_sendfile(s, f, 0, 10, NULL), -EBUSY);
    cio_task_cancel(t);
    join(t);
    CHECK_EQ(x.r, -ECANCELED);
  } else {
    cio_timeout_scope sc;
    cio_timeout_begin(&sc, 0.05);
    x.r = cio_stream_sendfile(s, f, 0, fsize, &x.sent);
    cio_timeout_end(&sc);
    CHECK_EQ(x.r, -ETIMEDOUT);
  }
  CHECK(x.sent > 0 && x.sent < fsize);
  /* Writes work again; resume where it stopped. */
  size_t sent2 = 0;
  char *in = malloc(fsize + 1);
  struct collector c = {rfd, in, fsize + 1, 0};
  cio_task *t = cio_spawn(collect, &c);
  CHECK_EQ(cio_stream_sendfile(s, f, (off_t)x.sent, fsize - x.sent, &sent2),
           (ssize_t)(fsize - x.sent));
  CHECK_EQ(cio_stream_write(s, "!", 1), 0);
  CHECK_EQ(cio_stream_flush(s), 0);
  join(t);
  CHECK_EQ(c.got, fsize + 1);
  CHECK(check_bytes(in, 0, fsize));
  CHECK_EQ(in[fsize], '!');
  if (test_failed_checks) fprintf(stderr, "  (pipe %d, cancel %d)\n", use_pipe, cancel);
  cio_stream_free(s);
  cio_close(rfd);
  close(f);
  free(in);
}

LOOP_TEST(test_sendfile_interrupted) {
  check_sendfile_interrupt(0, 0);
  check_sendfile_interrupt(0, 1);
  check_sendfile_interrupt(1, 0);
  check_sendfile_interrupt(1, 1);
  return 0;
}

/* Freed under a waiting sendfile: -EBADF, no use after free. The reader
 * going away: the error comes back. */
LOOP_TEST(test_sendfile_peer_gone) {
  size_t fsize = 2u << 20;
  int f = temp_file(fsize);
  int sv[2];
  tcp_pair(sv);
  small_buffers(sv, 32768);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  struct sender x = {s, f, fsize, 0, 12345};
  cio_task *t = cio_spawn(sender_task, &x);
  settle_io();
  cio_stream_free(s);
  join(t);
  CHECK_EQ(x.r, -EBADF);
  cio_close(sv[1]);

  tcp_pair(sv);
  small_buffers(sv, 32768);
  s = cio_stream_new(sv[0], NULL);
  x = (struct sender){s, f, fsize, 0, 12345};
  t = cio_spawn(sender_task, &x);
  settle_io();
  cio_close(sv[1]);
  join(t);
  CHECK(x.r == -ECONNRESET || x.r == -EPIPE);
  CHECK_EQ(cio_stream_write(s, "x", 1), x.r); /* recorded */
  cio_stream_free(s);
  close(f);
  return 0;
}

int main(void) {
  RUN(test_peek_consume_fill);
  RUN(test_fill_limit);
  RUN(test_fill_interrupted);
  RUN(test_fill_error_keeps_buffer);
  RUN(test_fill_yields);
  RUN(test_frame_parser);
  RUN(test_writev_straight_out);
  RUN(test_writev_partial_and_queued);
  RUN(test_writev_transport);
  RUN(test_sendfile_socket);
  RUN(test_sendfile_interrupted);
  RUN(test_sendfile_peer_gone);
  return test_report();
}
