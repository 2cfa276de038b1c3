/* test_client_unhappy.c - the HTTP client (cio/http_client.h) against
 * servers that misbehave on purpose (written here on cio streams, real
 * sockets on 127.0.0.1): cut bodies, bad framing, huge heads, endless
 * bodies, dead pooled connections, 1xx answers and 100-continue, bodies
 * until close, compressed bodies of every kind, refused connections, DNS
 * failures (a fake DNS server), and cancellation at every point where a
 * request may wait. Each failure must be a clear code, and leave no
 * connection behind in the pool. */
#include "test.h"

#include <arpa/inet.h>
#include <cio.h>
#include <cio/dns.h>
#include <cio/http_client.h>
#include <cio/net.h>
#include <cio/tls.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define TASK_TEST(name)                                                                            \
  static int name##_task(void *arg);                                                               \
  static void name(void) { CHECK_EQ(cio_run(name##_task, NULL), 0); }                              \
  static int name##_task(void *arg)

/* ---- the bad server ---- */

typedef struct bad_server {
  cio_server *srv;
  int port;
  int requests; /* heads read, all connections */
} bad_server;

static int send_str(cio_stream *s, const char *text) {
  int r = cio_stream_write(s, text, strlen(text));
  return r < 0 ? r : cio_stream_flush(s);
}

static size_t compress_to(int wbits, const char *in, size_t n, unsigned char *out, size_t cap) {
  z_stream z = {0};
  deflateInit2(&z, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY);
  z.next_in = (Bytef *)(uintptr_t)in;
  z.avail_in = (uInt)n;
  z.next_out = out;
  z.avail_out = (uInt)cap;
  deflate(&z, Z_FINISH);
  size_t len = cap - z.avail_out;
  deflateEnd(&z);
  return len;
}

static const char text[] = "The quick brown fox jumps over the lazy dog. "
                           "The quick brown fox jumps over the lazy dog.";

/* Answer with a compressed body: wbits 15 zlib, -15 raw, 31 gzip. */
static int send_compressed(cio_stream *s, const char *enc, int wbits, int cut) {
  unsigned char z[512];
  size_t n = compress_to(wbits, text, sizeof text - 1, z, sizeof z);
  if (cut) n -= 8;
  char head[256];
  snprintf(head, sizeof head,
           "HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %zu\r\n\r\n", enc, n);
  int r = cio_stream_write(s, head, strlen(head));
  if (r == 0) r = cio_stream_write(s, z, n);
  return r < 0 ? r : cio_stream_flush(s);
}

static int bad_conn(cio_stream *s, void *arg) {
  bad_server *b = arg;
  for (int nreq = 0;; nreq++) {
    char head[8192], path[256] = "";
    size_t got = 0;
    ssize_t n = cio_stream_readuntil(s, "\r\n\r\n", 4, head, sizeof head - 1, &got);
    if (n <= 0) return 0;
    head[n] = '\0';
    b->requests++;
    sscanf(head, "%*s %255s", path);
    long clen = 0;
    const char *cl = strcasestr(head, "\r\ncontent-length:");
    if (cl) clen = strtol(cl + 17, NULL, 10);
    bool expect = strcasestr(head, "\r\nexpect: 100-continue") != NULL;
    char body[4096] = "";
    if (!strcmp(path, "/continue")) {
      if (expect) send_str(s, "HTTP/1.1 100 Continue\r\n\r\n");
    } else if (!strcmp(path, "/417")) {
      if (expect)
        return send_str(s, "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n");
    } else if (!strcmp(path, "/no-continue")) {
      if (expect) {
        send_str(s, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 4\r\n\r\nnope");
        continue; /* the client sends no body: the next request follows */
      }
    } else if (!strcmp(path, "/no-read")) {
      return cio_sleep(3600);
    }
    if (clen > 0 && clen < (long)sizeof body) {
      ssize_t r = cio_stream_readexactly(s, body, (size_t)clen, NULL);
      if (r < 0) return 0;
      body[clen] = '\0';
    }
    if (!strcmp(path, "/ok") || !strcmp(path, "/continue") || !strcmp(path, "/417")) {
      char out[4200];
      snprintf(out, sizeof out, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s", strlen(body),
               body);
      if (send_str(s, out) < 0) return 0;
    } else if (!strncmp(path, "/dir/loc?to=", 12)) {
      char out[512]; /* a redirect to whatever the query says, as is */
      snprintf(out, sizeof out, "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n",
               path + 12);
      if (send_str(s, out) < 0) return 0;
    } else if (!strcmp(path, "/auth")) { /* were credentials sent? */
      const char *a = strcasestr(head, "\r\nauthorization:") ? "auth: yes" : "auth: no";
      char out[128];
      snprintf(out, sizeof out, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s", strlen(a), a);
      if (send_str(s, out) < 0) return 0;
    } else if (!strcmp(path, "/mid-body")) {
      char half[512];
      memset(half, 'x', sizeof half);
      send_str(s, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
      cio_stream_write(s, half, sizeof half);
      return cio_stream_flush(s);
    } else if (!strcmp(path, "/trunc-chunked")) {
      return send_str(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    } else if (!strcmp(path, "/bad-chunked")) {
      return send_str(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n");
    } else if (!strcmp(path, "/bad-head")) {
      return send_str(s, "HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n");
    } else if (!strcmp(path, "/big-head")) {
      static char big[100 * 1024];
      memset(big, 'a', sizeof big - 1);
      send_str(s, "HTTP/1.1 200 OK\r\nX-Big: ");
      cio_stream_write(s, big, sizeof big - 1);
      return send_str(s, "\r\nContent-Length: 0\r\n\r\n");
    } else if (!strcmp(path, "/many-headers")) {
      send_str(s, "HTTP/1.1 200 OK\r\n");
      for (int i = 0; i < 200; i++) {
        char h[32];
        snprintf(h, sizeof h, "X-H%d: %d\r\n", i, i);
        cio_stream_write(s, h, strlen(h));
      }
      return send_str(s, "Content-Length: 0\r\n\r\n");
    } else if (!strcmp(path, "/endless")) {
      send_str(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      char chunk[4096 + 16];
      memcpy(chunk, "1000\r\n", 6);
      memset(chunk + 6, 'e', 4096);
      memcpy(chunk + 6 + 4096, "\r\n", 2);
      for (;;) {
        int r = cio_stream_write(s, chunk, 4096 + 8);
        if (r == 0) r = cio_stream_drain(s);
        if (r < 0) return 0;
      }
    } else if (!strcmp(path, "/until-close")) {
      return send_str(s, "HTTP/1.0 200 OK\r\n\r\nall of it, until the end");
    } else if (!strcmp(path, "/early-hints")) {
      if (send_str(s, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n"
                      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") < 0)
        return 0;
    } else if (!strcmp(path, "/switch")) {
      return send_str(s, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n");
    } else if (!strcmp(path, "/once")) {
      return send_str(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); /* closes: idle race */
    } else if (!strcmp(path, "/drop-second")) {
      if (nreq == 1) return 0; /* read the request, close without an answer */
      if (send_str(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") < 0) return 0;
    } else if (!strcmp(path, "/zlib")) {
      if (send_compressed(s, "deflate", 15, 0) < 0) return 0;
    } else if (!strcmp(path, "/raw-deflate")) {
      if (send_compressed(s, "deflate", -15, 0) < 0) return 0;
    } else if (!strcmp(path, "/gzip")) {
      if (send_compressed(s, "gzip", 31, 0) < 0) return 0;
    } else if (!strcmp(path, "/gzip-cut")) {
      if (send_compressed(s, "gzip", 31, 1) < 0) return 0;
    } else if (!strcmp(path, "/gzip-bad")) {
      if (send_str(s, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 10\r\n\r\n"
                      "0123456789") < 0)
        return 0;
    } else if (!strcmp(path, "/brotli")) {
      if (send_str(s, "HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 3\r\n\r\nabc") <
          0)
        return 0;
    } else if (!strcmp(path, "/te-gzip")) {
      return send_str(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
    } else if (!strcmp(path, "/silent")) {
      return cio_sleep(3600);
    } else if (!strcmp(path, "/stall-body")) {
      send_str(s, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
      return cio_sleep(3600);
    } else {
      if (send_str(s, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n") < 0) return 0;
    }
  }
}

static int bad_start(bad_server *b) {
  memset(b, 0, sizeof *b);
  int r = cio_start_server("127.0.0.1", 0, bad_conn, b, NULL, &b->srv);
  if (r < 0) return r;
  b->port = cio_server_port(b->srv);
  return 0;
}

static void bad_stop(bad_server *b) {
  cio_server_close(b->srv, 0.1);
  cio_server_free(b->srv);
}

static const char *bad_url(const bad_server *b, const char *path) {
  static char buf[8][256];
  static int i;
  char *u = buf[i++ % 8];
  snprintf(u, sizeof buf[0], "http://127.0.0.1:%d%s", b->port, path);
  return u;
}

static cio_http_pool_stats stats(cio_http_session *s) {
  cio_http_pool_stats st;
  cio_http_session_stats(s, &st);
  return st;
}

/* GET url and read the whole body: the first error, or the status. */
static int fetch(cio_http_session *s, const char *url, char *body, size_t cap) {
  cio_http_response *res;
  int r = cio_http_open(s, &(cio_http_request){.url = url}, &res);
  if (r < 0) return r;
  const char *d;
  ssize_t n = cio_http_response_body(res, &d);
  if (n >= 0 && body) snprintf(body, cap, "%s", d);
  r = n < 0 ? (int)n : cio_http_response_status(res);
  cio_http_response_free(res);
  return r;
}

/* ---- framing and heads ---- */

TASK_TEST(test_cut_and_malformed) {
  bad_server b;
  CHECK_EQ(bad_start(&b), 0);
  cio_http_session *s = cio_http_session_new(NULL);
  static const struct {
    const char *path;
    int code;
    const char *words;
  } cases[] = {
      {"/mid-body", -EPIPE, "after 512 of 1000 body bytes"},
      {"/trunc-chunked", -EPIPE, "chunked body"},
      {"/bad-chunked", -EBADMSG, "bad chunked body"},
      {"/bad-head", -EBADMSG, "malformed response head"},
      {"/big-head", -EMSGSIZE, "larger than"},
      {"/many-headers", -EMSGSIZE, "fields"},
      {"/switch", -EPROTO, "101"},
      {"/te-gzip", -ENOTSUP, "transfer coding"},
      {"/gzip-bad", -EBADMSG, "compressed"},
      {"/gzip-cut", -EBADMSG, "cut short"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int r = fetch(s, bad_url(&b, cases[i].path), NULL, 0);
    if (r != cases[i].code)
      fprintf(stderr, "%s: %d %s\n", cases[i].path, r, cio_http_client_last_error());
    CHECK_EQ(r, cases[i].code);
    CHECK(strstr(cio_http_client_last_error(), cases[i].words) != NULL);
    CHECK_EQ(stats(s).open, 0); /* nothing half-read is kept */
  }
  cio_http_session_free(s);
  bad_stop(&b);
  return 0;
}

TASK_TEST(test_endless_body) {
  bad_server b;
  CHECK_EQ(bad_start(&b), 0);
  cio_http_session *s = cio_http_session_new(&(cio_http_session_opts){.max_body = 100000});
  CHECK_EQ(fetch(s, bad_url(&b, "/endless"), NULL, 0), -EFBIG);
  CHECK_EQ(stats(s).open, 0);
  /* read() has no limit: the caller stops, and the connection goes. */
  cio_http_response *res;
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = bad_url(&b, "/endless")}, &res), 0);
  char buf[8192];
  size_t total = 0;
  while (total < 300000) {
    ssize_t n = cio_http_response_read(res, buf, sizeof buf);
    if (n <= 0) break;
    total += (size_t)n;
  }
  CHECK(total >= 300000);
  CHECK_EQ(stats(s).open, 1);
  cio_http_response_free(res);
  CHECK_EQ(stats(s).open, 0);
  cio_http_session_free(s);
  bad_stop(&b);
  return 0;
}

TASK_TEST(test_odd_but_fine) {
  bad_server b;
  CHECK_EQ(bad_start(&b), 0);
  cio_http_session *s = cio_http_session_new(NULL);
  char body[256];
  CHECK_EQ(fetch(s, bad_url(&b, "/until-close"), body, sizeof body), 200);
  CHECK_STR(body, "all of it, until the end");
  CHECK_EQ(stats(s).open, 0); /* such a connection cannot be reused */
  CHECK_EQ(fetch(s, bad_url(&b, "/early-hints"), body, sizeof body), 200);
  CHECK_STR(body, "ok");
  CHECK_EQ(fetch(s, bad_url(&b, "/zlib"), body, sizeof body), 200);
  CHECK_STR(body, text);
  CHECK_EQ(fetch(s, bad_url(&b, "/raw-deflate"), body, sizeof body), 200);
  CHECK_STR(body, text);
  CHECK_EQ(fetch(s, bad_url(&b, "/gzip"), body, sizeof body), 200);
  CHECK_STR(body, text);
  CHECK_EQ(fetch(s, bad_url(&b, "/brotli"), body, sizeof body), 200);
  CHECK_STR(body, "abc"); /* a coding we do not know: as sent */
  CHECK_EQ(stats(s).created, 2);
  cio_http_session_free(s);
  bad_stop(&b);
  return 0;
}

TASK_TEST(test_dead_pooled_connection) {
  bad_server b;
  CHECK_EQ(bad_start(&b), 0);
  cio_http_session *s = cio_http_session_new(NULL);
  /* The server closes every connection after one answer, yet says
   * nothing: the next GET finds its pooled connection dead, and is sent
   * again on a new one. */
  for (int i = 0; i < 3; i++) CHECK_EQ(fetch(s, bad_url(&b, "/once"), NULL, 0), 200);
  cio_sleep(0.05);
  cio_http_pool_stats p = stats(s);
  CHECK_EQ(p.created, 3);
  CHECK_EQ(p.retried, 2); /* requests 2 and 3 */
  /* The server reads the second request and closes without an answer:
   * a GET is retried, a POST is not (it may have been acted upon). */
  CHECK_EQ(fetch(s, bad_url(&b, "/drop-second"), NULL, 0), 200);
  uint64_t before = stats(s).retried;
  CHECK_EQ(fetch(s, bad_url(&b, "/drop-second"), NULL, 0), 200);
  CHECK_EQ(stats(s).retried, before + 1);
  cio_http_response *res;
  CHECK_EQ(cio_http_open(s,
                         &(cio_http_request){.method = "POST",
                                             .url = bad_url(&b, "/drop-second"),
                                             .body = cio_http_body_buffer("x", 1, NULL)},
                         &res),
           -EPIPE);
  CHECK(strstr(cio_http_client_last_error(), "before the response") != NULL);
  CHECK_EQ(stats(s).retried, before + 1);
  CHECK_EQ(stats(s).open, 0);
  cio_http_session_free(s);
  bad_stop(&b);
  return 0;
}

TASK_TEST(test_expect_continue) {
  bad_server b;
  CHECK_EQ(bad_start(&b), 0);
  cio_http_session *s = cio_http_session_new(&(cio_http_session_opts){.continue_timeout = 5});
  cio_http_response *res;
  const char *d;
  /* 100 Continue, then the body. */
  CHECK_EQ(cio_http_open(s,
                         &(cio_http_request){.method = "PUT",
                                             .url = bad_url(&b, "/continue"),
                                             .expect_continue = 1,
                                             .body = cio_http_body_buffer("payload", 7, NULL)},
                         &res),
           0);
  CHECK_EQ(cio_http_response_body(res, &d), 7);
  CHECK_STR(d, "payload");
  cio_http_response_free(res);
  /* A final answer instead: the body is never sent. */
  CHECK_EQ(cio_http_open(s,
                         &(cio_http_request){.method = "PUT",
                                             .url = bad_url(&b, "/no-continue"),
                                             .expect_continue = 1,
                                             .body = cio_http_body_buffer("payload", 7, NULL)},
                         &res),
           0);
  CHECK_EQ(cio_http_response_status(res), 401);
  CHECK_EQ(cio_http_response_body(res, &d), 4);
  cio_http_response_free(res);
  /* 417: sent again without the expectation. */
  CHECK_EQ(cio_http_open(s,
                         &(cio_http_request){.method = "PUT",
                                             .url = bad_url(&b, "/417"),
                                             .expect_continue = 1,
                                             .body = cio_http_body_buffer("again", 5, NULL)},
                         &res),
           0);
  CHECK_EQ(cio_http_response_status(res), 200);
  CHECK_EQ(cio_http_response_body(res, &d), 5);
  cio_http_response_free(res);
  cio_http_session_free(s);
  /* No answer at all within continue_timeout: the body goes anyway. */
  s = cio_http_session_new(&(cio_http_session_opts){.continue_timeout = 0.1});
  CHECK_EQ(cio_http_open(s,
                         &(cio_http_request){.method = "PUT",
                                             .url = bad_url(&b, "/ok"),
                                             .expect_continue = 1,
                                             .body = cio_http_body_buffer("late", 4, NULL)},
                         &res),
           0);
  CHECK_EQ(cio_http_response_body(res, &d), 4);
  cio_http_response_free(res);
  cio_http_session_free(s);
  bad_stop(&b);
  return 0;
}

TASK_TEST(test_locations) {
  bad_server b;
  CHECK_EQ(bad_start(&b), 0);
  cio_http_session *s = cio_http_session_new(NULL);
  char base[64];
  snprintf(base, sizeof base, "http://127.0.0.1:%d", b.port);
  static const struct {
    const char *to, *want; /* want: after the base; NULL: same as to */
  } cases[] = {
      {"../x", "/x"},
      {"./y/z", "/dir/y/z"},
      {"y", "/dir/y"},
      {"/a/./b/../c", "/a/c"},
      {"?q=1", "/dir/loc?q=1"},
      {"/p#frag", "/p"},
      {"/sp%20ace", "/sp%20ace"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char url[256], want[256];
    snprintf(url, sizeof url, "%s/dir/loc?to=%s", base, cases[i].to);
    snprintf(want, sizeof want, "%s%s", base, cases[i].want);
    cio_http_response *res;
    CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = url}, &res), 0);
    CHECK_STR(cio_http_response_url(res), want);
    CHECK_EQ(cio_http_response_redirects(res), 1);
    cio_http_response_free(res);
  }
  /* Network-path and absolute references. */
  char url[256], want[128];
  snprintf(want, sizeof want, "//localhost:%d/n", b.port);
  snprintf(url, sizeof url, "%s/dir/loc?to=%s", base, want);
  cio_http_response *res;
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = url}, &res), 0);
  snprintf(want, sizeof want, "http://localhost:%d/n", b.port);
  CHECK_STR(cio_http_response_url(res), want);
  cio_http_response_free(res);
  /* Credentials do not come back with a redirect that returns home. */
  char body[64];
  snprintf(url, sizeof url, "%s/dir/loc?to=http://localhost:%d/dir/loc?to=%s/auth", base, b.port,
           base);
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = url, .user = "u", .password = "p"}, &res),
           0);
  CHECK_EQ(cio_http_response_redirects(res), 2);
  const char *d;
  CHECK_EQ(cio_http_response_body(res, &d), 8);
  CHECK_STR(d, "auth: no");
  cio_http_response_free(res);
  snprintf(url, sizeof url, "%s/dir/loc?to=/auth", base);
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = url, .user = "u", .password = "p"}, &res),
           0);
  CHECK_EQ(cio_http_response_body(res, &d), 9);
  snprintf(body, sizeof body, "%s", d);
  CHECK_STR(body, "auth: yes");
  cio_http_response_free(res);
  snprintf(url, sizeof url, "%s/dir/loc?to=ftp://example.com/", base);
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = url}, &res), -EPROTONOSUPPORT);
  CHECK_EQ(stats(s).open, stats(s).idle);
  cio_http_session_free(s);
  bad_stop(&b);
  return 0;
}

/* ---- connecting ---- */

/* A fake DNS server: "two.cio.test" -> A 127.0.0.2, A 127.0.0.1; "silent"
 * never answered; anything else NXDOMAIN. */
typedef struct fake_dns {
  int fd, port;
  cio_task *task;
} fake_dns;

static int dns_task(void *arg) {
  fake_dns *d = arg;
  for (;;) {
    unsigned char q[512], out[600];
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(d->fd, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
    if (n < 0 && errno == EAGAIN) {
      int r = cio_wait_fd(d->fd, CIO_READABLE);
      if (r < 0) return 0;
      continue;
    }
    if (n < 17) continue;
    char name[256];
    size_t off = 12, o = 0;
    while (off < (size_t)n && q[off] && o < 200) {
      size_t l = q[off++];
      if (o) name[o++] = '.';
      memcpy(name + o, q + off, l);
      o += l;
      off += l;
    }
    name[o] = '\0';
    size_t qend = off + 5;
    int qtype = q[off + 1] << 8 | q[off + 2];
    if (!strcmp(name, "silent.cio.test")) continue;
    bool two = !strcmp(name, "two.cio.test");
    memcpy(out, q, qend);
    out[2] = 0x81;
    out[3] = two ? 0x80 : 0x83;
    out[6] = 0;
    out[7] = two && qtype == 1 ? 2 : 0;
    memset(out + 8, 0, 4);
    size_t len = qend;
    for (int i = 0; two && qtype == 1 && i < 2; i++) {
      const unsigned char rr[] = {0xc0, 0x0c, 0, 1, 0,   1, 0, 0,
                                  0,    60,   0, 4, 127, 0, 0, (unsigned char)(i == 0 ? 2 : 1)};
      memcpy(out + len, rr, sizeof rr);
      len += sizeof rr;
    }
    sendto(d->fd, out, len, 0, (struct sockaddr *)&from, fl);
  }
}

static int dns_start(fake_dns *d) {
  d->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct sockaddr_in sin = {.sin_family = AF_INET};
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sin;
  if (d->fd < 0 || bind(d->fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
      getsockname(d->fd, (struct sockaddr *)&sin, &len) < 0)
    return -1;
  d->port = ntohs(sin.sin_port);
  char servers[64];
  snprintf(servers, sizeof servers, "127.0.0.1:%d", d->port);
  /* A long resolver timeout: "silent" must still be pending when a test
   * cancels it, however slow the machine (Valgrind). */
  cio_dns_opts o = {.timeout = 30, .tries = 1, .servers = servers, .lookups = "b"};
  if (cio_dns_configure(&o) < 0) return -1;
  d->task = cio_spawn(dns_task, d);
  return d->task ? 0 : -1;
}

static void dns_stop(fake_dns *d) {
  cio_task_cancel(d->task);
  cio_await(d->task);
  cio_task_release(d->task);
  cio_close(d->fd);
  cio_dns_configure(NULL);
}

TASK_TEST(test_connect_failures) {
  bad_server b;
  CHECK_EQ(bad_start(&b), 0);
  fake_dns d;
  CHECK_EQ(dns_start(&d), 0);
  cio_http_session *s = cio_http_session_new(NULL);
  char url[128];
  /* Nobody listens. */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = {.sin_family = AF_INET};
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = sizeof sin;
  bind(fd, (struct sockaddr *)&sin, sizeof sin);
  getsockname(fd, (struct sockaddr *)&sin, &sl);
  snprintf(url, sizeof url, "http://127.0.0.1:%d/", ntohs(sin.sin_port));
  close(fd);
  CHECK_EQ(fetch(s, url, NULL, 0), -ECONNREFUSED);
  CHECK(strstr(cio_http_client_last_error(), "connecting to 127.0.0.1") != NULL);
  /* Names that do not resolve. */
  CHECK_EQ(fetch(s, "http://nosuch.invalid/", NULL, 0), -CIO_ENONAME);
  CHECK_EQ(fetch(s, "http://nx.cio.test/", NULL, 0), -CIO_ENONAME);
  CHECK_EQ(stats(s).open, 0);
  /* Every address is tried: 127.0.0.2 refuses, 127.0.0.1 answers. */
  snprintf(url, sizeof url, "http://two.cio.test:%d/ok", b.port);
  CHECK_EQ(fetch(s, url, NULL, 0), 200);
  cio_http_session_free(s);
  /* The connect timeout covers the resolver. */
  s = cio_http_session_new(&(cio_http_session_opts){.connect_timeout = 0.2});
  CHECK_EQ(fetch(s, "http://silent.cio.test/", NULL, 0), -ETIMEDOUT);
  CHECK(strstr(cio_http_client_last_error(), "connect timeout") != NULL);
  CHECK_EQ(stats(s).open, 0);
  cio_http_session_free(s);
  dns_stop(&d);
  bad_stop(&b);
  return 0;
}

/* ---- cancellation at every suspension point ---- */

typedef struct job {
  cio_http_session *s;
  const char *url;
  const char *method;
  cio_http_body body;
  int read_body; /* also read the body */
  int status;    /* the response's */
} job;

static int run_job(void *arg) {
  job *j = arg;
  cio_http_response *res;
  int r = cio_http_open(
      j->s, &(cio_http_request){.method = j->method, .url = j->url, .body = j->body}, &res);
  if (r < 0) return r;
  j->status = cio_http_response_status(res);
  if (j->read_body) {
    const char *d;
    ssize_t n = cio_http_response_body(res, &d);
    if (n < 0) r = (int)n;
  }
  cio_http_response_free(res);
  return r;
}

/* Start j, cancel it after `after` s: it must end with -ECANCELED and
 * leave no connection behind but the idle ones. */
static void cancel_after(job *j, double after) {
  cio_task *t = cio_spawn(run_job, j);
  cio_sleep(after);
  cio_task_cancel(t);
  CHECK_EQ(cio_await(t), -ECANCELED);
  cio_task_release(t);
  CHECK_EQ(stats(j->s).open, stats(j->s).idle);
}

/* Poll until the pool shows `waiting` waiters and `open` connections (a
 * slow machine, Valgrind: no fixed sleep is long enough). */
static void wait_pool(cio_http_session *s, size_t open, size_t waiting) {
  for (int i = 0; i < 1000; i++) {
    cio_http_pool_stats p = stats(s);
    if (p.open == open && p.waiting == waiting) return;
    cio_sleep(0.01);
  }
}

static ssize_t forever_body(void *arg, void *buf, size_t cap) {
  (void)arg;
  memset(buf, 'z', cap);
  return (ssize_t)cap;
}

static int silent_conn(cio_stream *s, void *arg) { return cio_sleep(3600); }

TASK_TEST(test_cancellation) {
  bad_server b;
  CHECK_EQ(bad_start(&b), 0);
  fake_dns d;
  CHECK_EQ(dns_start(&d), 0);
  cio_http_session *s = cio_http_session_new(&(cio_http_session_opts){.max_connections = 1});
  /* Waiting for the head. */
  job j = {.s = s, .url = bad_url(&b, "/silent")};
  cancel_after(&j, 0.1);
  /* Waiting for the body. */
  j = (job){.s = s, .url = bad_url(&b, "/stall-body"), .read_body = 1};
  cancel_after(&j, 0.1);
  CHECK_EQ(j.status, 200);
  /* Sending a body the server does not read. */
  j = (job){.s = s,
            .method = "POST",
            .url = bad_url(&b, "/no-read"),
            .body = cio_http_body_stream(forever_body, NULL, NULL)};
  cancel_after(&j, 0.2);
  /* Resolving. */
  j = (job){.s = s, .url = "http://silent.cio.test/"};
  cancel_after(&j, 0.1);
  /* The TLS handshake (a server that never speaks). */
  cio_server *mute = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, silent_conn, NULL, NULL, &mute), 0);
  char url[128];
  snprintf(url, sizeof url, "https://127.0.0.1:%d/", cio_server_port(mute));
  j = (job){.s = s, .url = url};
  cancel_after(&j, 0.1);
  cio_server_close(mute, 0.1);
  cio_server_free(mute);
  /* Waiting for a pool slot (max_connections 1, held by another task). */
  job holder = {.s = s, .url = bad_url(&b, "/stall-body"), .read_body = 1};
  cio_task *ht = cio_spawn(run_job, &holder);
  wait_pool(s, 1, 0);
  j = (job){.s = s, .url = bad_url(&b, "/ok")};
  cio_task *t = cio_spawn(run_job, &j);
  wait_pool(s, 1, 1);
  CHECK_EQ(stats(s).waiting, 1);
  cio_task_cancel(t);
  CHECK_EQ(cio_await(t), -ECANCELED);
  cio_task_release(t);
  CHECK_EQ(stats(s).waiting, 0);
  /* The slot goes to the next waiter when the holder is done. */
  j = (job){.s = s, .url = bad_url(&b, "/ok")};
  t = cio_spawn(run_job, &j);
  wait_pool(s, 1, 1);
  cio_task_cancel(ht);
  CHECK_EQ(cio_await(ht), -ECANCELED);
  CHECK_EQ(cio_await(t), 0);
  CHECK_EQ(j.status, 200);
  cio_task_release(ht);
  cio_task_release(t);
  /* A session freed under a waiting task wakes it with -EBADF. */
  holder = (job){.s = s, .url = bad_url(&b, "/stall-body"), .read_body = 1};
  ht = cio_spawn(run_job, &holder);
  wait_pool(s, 1, 0);
  j = (job){.s = s, .url = bad_url(&b, "/ok")};
  t = cio_spawn(run_job, &j);
  wait_pool(s, 1, 1);
  CHECK_EQ(stats(s).waiting, 1);
  cio_http_session_free(s);
  CHECK_EQ(cio_await(t), -EBADF);
  cio_task_cancel(ht);
  CHECK_EQ(cio_await(ht), -ECANCELED);
  cio_task_release(ht);
  cio_task_release(t);
  dns_stop(&d);
  bad_stop(&b);
  return 0;
}

/* Cancelled before it starts: nothing done. */
TASK_TEST(test_cancelled_on_entry) {
  bad_server b;
  CHECK_EQ(bad_start(&b), 0);
  cio_http_session *s = cio_http_session_new(NULL);
  cio_task_cancel(cio_current());
  cio_http_response *res;
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = bad_url(&b, "/ok")}, &res), -ECANCELED);
  CHECK_EQ(b.requests, 0);
  CHECK_EQ(stats(s).created, 0);
  cio_http_session_free(s);
  bad_stop(&b);
  return 0;
}

int main(void) {
  RUN(test_cut_and_malformed);
  RUN(test_endless_body);
  RUN(test_odd_but_fine);
  RUN(test_dead_pooled_connection);
  RUN(test_expect_continue);
  RUN(test_locations);
  RUN(test_connect_failures);
  RUN(test_cancellation);
  RUN(test_cancelled_on_entry);
  return test_report();
}
