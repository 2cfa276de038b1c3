/* test_http_parser.c - request and response heads (every field, framing,
 * every refusal with its code), incremental parsing byte by byte and with
 * a moving buffer, the chunked decoder (data in place, extensions, trailers,
 * every malformed shape, limits), list and lookup helpers. */
#include "test.h"

#include <cio/http_parser.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXH 32

static cio_http_header hdrs[MAXH];

/* Parse s in one go. */
static ssize_t req(const char *s, cio_http_head *h, cio_http_parser *p) {
  cio_http_parser_init(p);
  memset(h, 0, sizeof *h);
  h->headers = hdrs;
  return cio_http_parse_request(p, s, strlen(s), h, MAXH);
}

static ssize_t resp(const char *s, cio_http_head *h, cio_http_parser *p) {
  cio_http_parser_init(p);
  memset(h, 0, sizeof *h);
  h->headers = hdrs;
  return cio_http_parse_response(p, s, strlen(s), h, MAXH);
}

static int eq(const char *p, size_t n, const char *s) {
  return n == strlen(s) && memcmp(p, s, n) == 0;
}

static void test_simple_get(void) {
  cio_http_head h;
  cio_http_parser p;
  const char *s = "GET /items/5?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n";
  CHECK_EQ(req(s, &h, &p), (ssize_t)strlen(s));
  CHECK(eq(h.method, h.method_len, "GET"));
  CHECK_EQ(h.method_id, CIO_HTTP_GET);
  CHECK(eq(h.target, h.target_len, "/items/5?q=1"));
  CHECK_EQ(h.version, 11);
  CHECK_EQ(h.num_headers, 2);
  CHECK(eq(h.headers[0].name, h.headers[0].name_len, "Host"));
  CHECK(eq(h.headers[0].value, h.headers[0].value_len, "example.com"));
  CHECK(eq(h.headers[1].value, h.headers[1].value_len, "t"));
  CHECK_EQ(h.body, CIO_HTTP_BODY_NONE);
  CHECK(h.flags & CIO_HTTP_F_HOST);
  CHECK(!(h.flags & CIO_HTTP_F_HOST_MANY));
  size_t len;
  const char *v = cio_http_head_header(&h, "user-AGENT", &len);
  CHECK(v && eq(v, len, "t"));
  CHECK(cio_http_head_header(&h, "missing", NULL) == NULL);
  /* The head ends where the next message (pipelined) starts. */
  char two[256];
  snprintf(two, sizeof two, "%sGET /b HTTP/1.1\r\nHost: x\r\n\r\n", s);
  CHECK_EQ(req(two, &h, &p), (ssize_t)strlen(s));
}

static void test_values_and_whitespace(void) {
  cio_http_head h;
  cio_http_parser p;
  const char *s =
      "POST / HTTP/1.0\r\nA:  \t spaced out \t \r\nB:\r\nC: x\xc3\xa9y\r\nD:tab\there\r\n\r\n";
  CHECK_EQ(req(s, &h, &p), (ssize_t)strlen(s));
  CHECK_EQ(h.version, 10);
  CHECK_EQ(h.num_headers, 4);
  CHECK(eq(h.headers[0].value, h.headers[0].value_len, "spaced out"));
  CHECK_EQ(h.headers[1].value_len, 0);
  CHECK(eq(h.headers[2].value, h.headers[2].value_len, "x\xc3\xa9y")); /* obs-text kept */
  CHECK(eq(h.headers[3].value, h.headers[3].value_len, "tab\there"));
  /* Empty lines before the request line are skipped (RFC 9112 2.2). */
  const char *lead = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
  CHECK_EQ(req(lead, &h, &p), (ssize_t)strlen(lead));
  CHECK(eq(h.target, h.target_len, "/"));
  /* Unknown methods are tokens like any other. */
  const char *other = "PROPFIND /d HTTP/1.1\r\nHost: a\r\n\r\n";
  CHECK_EQ(req(other, &h, &p), (ssize_t)strlen(other));
  CHECK_EQ(h.method_id, CIO_HTTP_OTHER);
  CHECK(eq(h.method, h.method_len, "PROPFIND"));
  /* Targets: asterisk, absolute and authority forms are passed through. */
  CHECK(req("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", &h, &p) > 0);
  CHECK(eq(h.target, h.target_len, "*"));
  CHECK(req("GET http://a/b?c HTTP/1.1\r\nHost: a\r\n\r\n", &h, &p) > 0);
  CHECK(req("CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", &h, &p) > 0);
  CHECK_EQ(h.method_id, CIO_HTTP_CONNECT);
}

static void test_framing(void) {
  cio_http_head h;
  cio_http_parser p;
  CHECK(req("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0012\r\n\r\n", &h, &p) > 0);
  CHECK_EQ(h.body, CIO_HTTP_BODY_LENGTH);
  CHECK_EQ(h.content_length, 12);
  CHECK(req("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", &h, &p) > 0);
  CHECK_EQ(h.body, CIO_HTTP_BODY_NONE);
  CHECK(h.flags & CIO_HTTP_F_CONTENT_LENGTH);
  CHECK(req("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", &h, &p) > 0);
  CHECK_EQ(h.body, CIO_HTTP_BODY_CHUNKED);
  CHECK(req("POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding:  CHUNKED  \r\n\r\n", &h, &p) > 0);
  CHECK_EQ(h.body, CIO_HTTP_BODY_CHUNKED);
  CHECK_EQ(req("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: x;a=\"q\\\"\" ; b = c , "
               "chunked\r\n\r\n",
               &h, &p),
           -ENOTSUP);
  /* Other codings before chunked: well-formed, not implemented (501). */
  CHECK_EQ(req("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &h, &p),
           -ENOTSUP);
  CHECK(h.flags & CIO_HTTP_F_TE_OTHER);
  CHECK(cio_http_parser_error(&p) != NULL);
  CHECK(req("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: "
            "chunked\r\n\r\n",
            &h, &p) == -ENOTSUP);
  /* Connection and Expect. */
  CHECK(req("GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, Upgrade\r\nUpgrade: x\r\n\r\n",
            &h, &p) > 0);
  CHECK(h.flags & CIO_HTTP_F_KEEP_ALIVE);
  CHECK(h.flags & CIO_HTTP_F_UPGRADE);
  CHECK(!(h.flags & CIO_HTTP_F_CLOSE));
  CHECK(req("GET / HTTP/1.1\r\nHost: a\r\nconnection: close\r\n\r\n", &h, &p) > 0);
  CHECK(h.flags & CIO_HTTP_F_CLOSE);
  CHECK(req("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n", &h,
            &p) > 0);
  CHECK(h.flags & CIO_HTTP_F_EXPECT_CONTINUE);
  CHECK(req("PUT / HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\n\r\n", &h, &p) > 0);
  CHECK(h.flags & CIO_HTTP_F_EXPECT_OTHER);
  CHECK(req("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &h, &p) > 0);
  CHECK(h.flags & CIO_HTTP_F_HOST_MANY);
  CHECK(req("GET / HTTP/1.1\r\n\r\n", &h, &p) > 0);
  CHECK(!(h.flags & CIO_HTTP_F_HOST));
}

struct bad {
  const char *in;
  int code;
  size_t len; /* 0: strlen */
};

static void test_refusals(void) {
  static const struct bad bad[] = {
      /* request line */
      {"GET  / HTTP/1.1\r\n\r\n", -EBADMSG, 0},
      {"GET / HTTP/1.1 \r\n\r\n", -EBADMSG, 0},
      {" GET / HTTP/1.1\r\n\r\n", -EBADMSG, 0},
      {"GET / HTTP/1.1\n\r\n", -EBADMSG, 0},
      {"GET / HTTP/1.1\rX\r\n", -EBADMSG, 0},
      {"G(T / HTTP/1.1\r\n\r\n", -EBADMSG, 0},
      {"GET /a b HTTP/1.1\r\n\r\n", -EBADMSG, 0},
      {"GET /\x7f HTTP/1.1\r\n\r\n", -EBADMSG, 0},
      {"GET /\xc3\xa9 HTTP/1.1\r\n\r\n", -EBADMSG, 0},
      {"GET / HTTP/1.x\r\n\r\n", -EBADMSG, 0},
      {"GET / http/1.1\r\n\r\n", -EBADMSG, 0},
      {"GET / HTTP/11\r\n\r\n", -EBADMSG, 0},
      {"GET / HTTP/2.0\r\n\r\n", -EPROTONOSUPPORT, 0},
      {"GET / HTTP/0.9\r\n\r\n", -EPROTONOSUPPORT, 0},
      {"GET / HTTP/1.2\r\n\r\n", -EPROTONOSUPPORT, 0},
      {"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", -EPROTONOSUPPORT, 0}, /* h2 prior knowledge */
      {"PRI /x HTTP/1.1\r\n\r\n", -EBADMSG, 0},
      {"\nGET / HTTP/1.1\r\n\r\n", -EBADMSG, 0},
      {"\rGET / HTTP/1.1\r\n\r\n", -EBADMSG, 0},
      /* header lines */
      {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", -EBADMSG, 0},
      {"GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", -EBADMSG, 0},
      {"GET / HTTP/1.1\r\n: a\r\n\r\n", -EBADMSG, 0},
      {"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", -EBADMSG, 0},
      {"GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n", -EBADMSG, 0},
      {"GET / HTTP/1.1\r\nA: b\n\r\n", -EBADMSG, 0},
      {"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", -EBADMSG, 0},
      {"GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", -EBADMSG, 0},
      {"GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n", -EBADMSG, 0},
      {"GET / HTTP/1.1\r\nA: \0b\r\n\r\n", -EBADMSG, 25},
      {"GET / HTTP/1.1\r\nA(b: c\r\n\r\n", -EBADMSG, 0},
      {"GET / HTTP/1.1\r\nA\r\n\r\n", -EBADMSG, 0},
      {"GET / HTTP/1.1\r\nA: b\r\n\n", -EBADMSG, 0},
      {"GET / HTTP/1.1\r\nA: b\r\n\rx", -EBADMSG, 0},
      /* Content-Length */
      {"POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", -EBADMSG, 0},
      {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", -EBADMSG, 0},
      {"POST / HTTP/1.1\r\nContent-Length: 1,1\r\n\r\n", -EBADMSG, 0},
      {"POST / HTTP/1.1\r\nContent-Length: 1 1\r\n\r\n", -EBADMSG, 0},
      {"POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", -EBADMSG, 0},
      {"POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", -EBADMSG, 0},
      {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", -EBADMSG, 0},
      {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", -EBADMSG, 0},
      /* smuggling shapes */
      {"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", -EBADMSG, 0},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", -EBADMSG, 0},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", -EBADMSG, 0},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", -EBADMSG, 0},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
       -EBADMSG, 0},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", -EBADMSG, 0},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", -EBADMSG, 0},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n", -EBADMSG, 0},
      {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", -EBADMSG, 0},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: \r\nContent-Length: 5\r\n\r\n", -EBADMSG, 0},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: , ,\r\n\r\n", -EBADMSG, 0},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked,\r\n\r\n", -EBADMSG, 0},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: ,chunked\r\n\r\n", -EBADMSG, 0},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\"\"\r\n\r\n", -EBADMSG, 0},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip;x\r\n\r\n", -EBADMSG, 0},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\t\r\n\r\n", -EBADMSG, 0},
      {"POST / HTTP/1.1\r\nContent-Length:\t5\r\n\r\n", -EBADMSG, 0},
      {"GET http://a|b/ HTTP/1.1\r\n\r\n", -EBADMSG, 0},
      {"GET a/b HTTP/1.1\r\n\r\n", -EBADMSG, 0},
      {"GET *x HTTP/1.1\r\n\r\n", -EBADMSG, 0},
      {"GET /a#b HTTP/1.1\r\n\r\n", -EBADMSG, 0},
      {"GET /  HTTP/1.1\r\n\r\n", -EBADMSG, 0},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cio_http_head h;
    cio_http_parser p;
    cio_http_parser_init(&p);
    memset(&h, 0, sizeof h);
    h.headers = hdrs;
    size_t n = bad[i].len ? bad[i].len : strlen(bad[i].in);
    ssize_t r = cio_http_parse_request(&p, bad[i].in, n, &h, MAXH);
    if (r != bad[i].code) fprintf(stderr, "case %zu: %s -> %zd\n", i, bad[i].in, r);
    CHECK_EQ(r, bad[i].code);
    CHECK(cio_http_parser_error(&p) != NULL);
  }
}

static void test_too_many_headers(void) {
  char s[4096];
  size_t n = (size_t)snprintf(s, sizeof s, "GET / HTTP/1.1\r\n");
  for (int i = 0; i < MAXH + 1; i++) n += (size_t)snprintf(s + n, sizeof s - n, "X-%d: v\r\n", i);
  n += (size_t)snprintf(s + n, sizeof s - n, "\r\n");
  cio_http_head h;
  cio_http_parser p;
  CHECK_EQ(req(s, &h, &p), -E2BIG);
  /* Exactly the limit is fine. */
  cio_http_header more[MAXH + 1];
  cio_http_parser_init(&p);
  h.headers = more;
  CHECK(cio_http_parse_request(&p, s, n, &h, MAXH + 1) == (ssize_t)n);
}

/* Every cut of a message parses to the same result, resuming after each
 * complete line; garbage is refused as soon as it arrives. */
static void test_incremental(void) {
  const char *s = "\r\nPOST /upload?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
                  "Transfer-Encoding-X: y\r\nExpect: 100-continue\r\n\r\nabc";
  size_t head = strlen(s) - 3;
  cio_http_head h;
  cio_http_parser p;
  cio_http_parser_init(&p);
  memset(&h, 0, sizeof h);
  h.headers = hdrs;
  for (size_t n = 0; n < head; n++) CHECK_EQ(cio_http_parse_request(&p, s, n, &h, MAXH), -EAGAIN);
  CHECK_EQ(cio_http_parse_request(&p, s, head, &h, MAXH), (ssize_t)head);
  CHECK_EQ(h.num_headers, 4);
  CHECK_EQ(h.content_length, 3);
  CHECK(h.flags & CIO_HTTP_F_EXPECT_CONTINUE);
  CHECK(eq(h.target, h.target_len, "/upload?x=1"));
  /* The buffer moves between calls: stored pointers follow. */
  char *a = malloc(head), *b;
  memcpy(a, s, head);
  cio_http_parser_init(&p);
  memset(&h, 0, sizeof h);
  h.headers = hdrs;
  CHECK_EQ(cio_http_parse_request(&p, a, 60, &h, MAXH), -EAGAIN);
  CHECK(h.num_headers >= 1);
  b = malloc(head);
  memcpy(b, a, head);
  memset(a, 'Z', head);
  free(a);
  CHECK_EQ(cio_http_parse_request(&p, b, head, &h, MAXH), (ssize_t)head);
  CHECK(eq(h.method, h.method_len, "POST"));
  CHECK(eq(h.headers[0].name, h.headers[0].name_len, "Host"));
  CHECK(eq(h.headers[0].value, h.headers[0].value_len, "h"));
  CHECK(eq(h.target, h.target_len, "/upload?x=1"));
  free(b);
  /* Garbage in the request line is refused before the head is complete. */
  cio_http_parser_init(&p);
  CHECK_EQ(cio_http_parse_request(&p, "GET / XTTP", 10, &h, MAXH), -EBADMSG);
  cio_http_parser_init(&p);
  CHECK_EQ(cio_http_parse_request(&p, "\x16\x03\x01\x02", 4, &h, MAXH), -EBADMSG);
  cio_http_parser_init(&p);
  CHECK_EQ(cio_http_parse_request(&p, "GET / HTTP/1.1\r\nX y", 19, &h, MAXH), -EBADMSG);
}

static void test_responses(void) {
  cio_http_head h;
  cio_http_parser p;
  const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello";
  CHECK_EQ(resp(s, &h, &p), (ssize_t)strlen(s) - 5);
  CHECK_EQ(h.status, 200);
  CHECK(eq(h.reason, h.reason_len, "OK"));
  CHECK_EQ(h.body, CIO_HTTP_BODY_LENGTH);
  CHECK_EQ(h.content_length, 5);
  CHECK(resp("HTTP/1.1 404 Not  Found \xe9\r\n\r\n", &h, &p) > 0);
  CHECK(eq(h.reason, h.reason_len, "Not  Found \xe9"));
  CHECK_EQ(h.body, CIO_HTTP_BODY_UNTIL_CLOSE);
  CHECK(resp("HTTP/1.1 200\r\n\r\n", &h, &p) > 0);
  CHECK_EQ(h.reason_len, 0);
  CHECK(resp("HTTP/1.1 204 \r\nContent-Length: 5\r\n\r\n", &h, &p) > 0);
  CHECK_EQ(h.body, CIO_HTTP_BODY_NONE);
  CHECK(resp("HTTP/1.1 304 Not Modified\r\n\r\n", &h, &p) > 0);
  CHECK_EQ(h.body, CIO_HTTP_BODY_NONE);
  CHECK(resp("HTTP/1.1 100 Continue\r\n\r\n", &h, &p) > 0);
  CHECK_EQ(h.body, CIO_HTTP_BODY_NONE);
  CHECK(resp("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", &h, &p) == -EBADMSG);
  CHECK(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &h, &p) > 0);
  CHECK_EQ(h.body, CIO_HTTP_BODY_CHUNKED);
  CHECK(h.flags & CIO_HTTP_F_TE_OTHER);
  CHECK(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", &h, &p) > 0);
  CHECK_EQ(h.body, CIO_HTTP_BODY_UNTIL_CLOSE);
  CHECK_EQ(resp("HTTP/1.1 20 OK\r\n\r\n", &h, &p), -EBADMSG);
  CHECK_EQ(resp("HTTP/1.1 099 OK\r\n\r\n", &h, &p), -EBADMSG);
  CHECK_EQ(resp("HTTP/1.1  200 OK\r\n\r\n", &h, &p), -EBADMSG);
  CHECK_EQ(resp("HTTP/1.1 200 O\x01K\r\n\r\n", &h, &p), -EBADMSG);
  CHECK_EQ(resp("HTTP/3.0 200 OK\r\n\r\n", &h, &p), -EPROTONOSUPPORT);
  CHECK_EQ(resp("HTTP/1.1 200 OK\nA: b\r\n\r\n", &h, &p), -EBADMSG);
  /* Incremental. */
  cio_http_parser_init(&p);
  h.headers = hdrs;
  for (size_t n = 0; n < strlen(s) - 5; n++)
    CHECK_EQ(cio_http_parse_response(&p, s, n, &h, MAXH), -EAGAIN);
}

static void test_helpers(void) {
  CHECK(cio_http_list_has("a, Close ,b", 11, "close"));
  CHECK(cio_http_list_has("keep-alive", 10, "KEEP-ALIVE"));
  CHECK(!cio_http_list_has("closed", 6, "close"));
  CHECK(!cio_http_list_has("", 0, "close"));
  CHECK_EQ(cio_http_method_id("DELETE", 6), CIO_HTTP_DELETE);
  CHECK_EQ(cio_http_method_id("get", 3), CIO_HTTP_OTHER);
  CHECK_STR(cio_http_method_name(CIO_HTTP_PATCH), "PATCH");
  CHECK(cio_http_method_name(CIO_HTTP_OTHER) == NULL);
  CHECK_STR(cio_http_status_reason(404), "Not Found");
  CHECK_STR(cio_http_status_reason(299), "Unknown");
}

/* Decode a whole chunked body given in pieces of `step` bytes; returns the
 * data, or NULL with *err set. */
static char *dechunk(const char *in, size_t n, size_t step, ssize_t *err, size_t *out_len,
                     size_t *consumed) {
  cio_http_chunked c;
  cio_http_chunked_init(&c);
  char *out = malloc(n + 1);
  size_t o = 0, pos = 0, avail = 0;
  *err = 0;
  *out_len = 0;
  *consumed = 0;
  while (!cio_http_chunked_done(&c)) {
    if (avail == pos) {
      if (avail == n) break;
      avail = avail + step > n ? n : avail + step;
    }
    const char *d;
    size_t dl;
    ssize_t r = cio_http_chunked_decode(&c, in + pos, avail - pos, &d, &dl);
    if (r < 0) {
      *err = r;
      *consumed = pos;
      free(out);
      return NULL;
    }
    if (dl) {
      CHECK(d >= in + pos && d + dl <= in + pos + (size_t)r); /* in place */
      memcpy(out + o, d, dl);
      o += dl;
    }
    pos += (size_t)r;
  }
  if (!cio_http_chunked_done(&c)) *err = -EAGAIN;
  *out_len = o;
  *consumed = pos;
  out[o] = '\0';
  return out;
}

static void test_chunked(void) {
  const char *body = "5\r\nhello\r\n6;name=val;q=\"a \\\"b\\\"\" ; x\r\n world\r\n"
                     "A\r\n0123456789\r\n0\r\nTrailer: v\r\nOther:  w \r\n\r\nNEXT";
  size_t n = strlen(body);
  for (size_t step = 1; step <= n; step++) {
    ssize_t err;
    size_t ol, used;
    char *d = dechunk(body, n, step, &err, &ol, &used);
    CHECK_EQ(err, 0);
    if (d) CHECK_STR(d, "hello world0123456789");
    CHECK_EQ(used, n - 4); /* "NEXT" is the next message */
    free(d);
  }
  /* Upper-case hex, leading zeros, BWS before ';'. */
  const char *b2 = "000A \t;x\r\n0123456789\r\n0\r\n\r\n";
  ssize_t err;
  size_t ol, used;
  char *d = dechunk(b2, strlen(b2), 3, &err, &ol, &used);
  CHECK_EQ(err, 0);
  CHECK_EQ(ol, 10);
  free(d);
  static const char *const bad[] = {
      "x\r\n",
      "5 \r\nhello\r\n0\r\n\r\n",
      "5\nhello\r\n0\r\n\r\n",
      "5\r\nhelloX\r\n0\r\n\r\n",
      "5\r\nhello\n0\r\n\r\n",
      "-5\r\nhello\r\n0\r\n\r\n",
      "5;\r\nhello\r\n",
      "5;a=\r\nhello\r\n",
      "5;a=\"b\r\nhello\r\n",
      "5;a b\r\nhello\r\n",
      "0\r\nBad Trailer: x\r\n\r\n",
      "0\r\n: x\r\n\r\n",
      "0\r\nA: \x01\r\n\r\n",
      "0\r\n\n",
      "0x5\r\nhello\r\n0\r\n\r\n",
      "5\r\r\nhello\r\n0\r\n\r\n",
      "\r\n",
      "0\r\nA: b\n\r\n",
      "0\r\nContent-Length: 5\r\n\r\n",
      "0\r\ntransfer-ENCODING:chunked\r\n\r\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    d = dechunk(bad[i], strlen(bad[i]), 1, &err, &ol, &used);
    if (err != -EBADMSG) fprintf(stderr, "chunked case %zu -> %zd\n", i, err);
    CHECK_EQ(err, -EBADMSG);
    free(d);
  }
  /* Limits: a size beyond 2^62, an endless chunk line, a huge trailer. */
  d = dechunk("FFFFFFFFFFFFFFFFF\r\n", 19, 19, &err, &ol, &used);
  CHECK_EQ(err, -EMSGSIZE);
  free(d);
  char *big = malloc(20000);
  memcpy(big, "1;", 2);
  for (int i = 2; i < 19990; i++) big[i] = 'a';
  d = dechunk(big, 19990, 1000, &err, &ol, &used);
  CHECK_EQ(err, -EMSGSIZE);
  free(d);
  memcpy(big, "0\r\nA: ", 6);
  d = dechunk(big, 19990, 1000, &err, &ol, &used);
  CHECK_EQ(err, -EMSGSIZE);
  free(d);
  free(big);
  /* After an error the decoder stays failed; the reason is in words. */
  cio_http_chunked c;
  cio_http_chunked_init(&c);
  const char *dd;
  size_t dl;
  CHECK_EQ(cio_http_chunked_decode(&c, "z", 1, &dd, &dl), -EBADMSG);
  CHECK(cio_http_chunked_error(&c) != NULL);
  CHECK_EQ(cio_http_chunked_decode(&c, "5\r\n", 3, &dd, &dl), -EBADMSG);
  /* Incomplete input consumes what it can and asks for more. */
  cio_http_chunked_init(&c);
  CHECK_EQ(cio_http_chunked_decode(&c, "5\r\nhel", 6, &dd, &dl), 6);
  CHECK_EQ(dl, 3);
  CHECK(!cio_http_chunked_done(&c));
  CHECK_EQ(cio_http_chunked_decode(&c, "lo\r\n0\r\n\r\n", 9, &dd, &dl), 2);
  CHECK_EQ(dl, 2);
  CHECK_EQ(cio_http_chunked_decode(&c, "\r\n0\r\n\r\n", 7, &dd, &dl), 7);
  CHECK_EQ(dl, 0);
  CHECK(cio_http_chunked_done(&c));
  CHECK_EQ(cio_http_chunked_decode(&c, "more", 4, &dd, &dl), 0);
}

/* CONNECT (RFC 9110 9.3.6): no content whatever the framing headers say,
 * the connection ends with it (what follows is a tunnel's, not HTTP), the
 * target is an authority and nothing else, and Content-Length with
 * Transfer-Encoding is refused as anywhere. */
static void test_connect(void) {
  cio_http_head h;
  cio_http_parser p;
  const char *s = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
  ssize_t n = req(s, &h, &p);
  CHECK(n > 0);
  CHECK_EQ((size_t)n, strlen(s) - strlen("5\r\nhello\r\n0\r\n\r\n"));
  CHECK_EQ(h.body, CIO_HTTP_BODY_NONE);
  CHECK(h.flags & CIO_HTTP_F_CLOSE);
  CHECK(req("CONNECT [::1]:8080 HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\n", &h, &p) > 0);
  CHECK_EQ(h.body, CIO_HTTP_BODY_NONE);
  CHECK_EQ(h.content_length, 0);
  CHECK_EQ(req("CONNECT a:1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
               "Transfer-Encoding: chunked\r\n\r\n",
               &h, &p),
           -EBADMSG);
  CHECK_EQ(req("CONNECT /path HTTP/1.1\r\nHost: a\r\n\r\n", &h, &p), -EBADMSG);
  CHECK(strstr(cio_http_parser_error(&p), "authority-form") != NULL);
  CHECK_EQ(req("CONNECT e=\"x:1 HTTP/1.1\r\nHost: a\r\n\r\n", &h, &p), -EBADMSG);
}

int main(void) {
  RUN(test_simple_get);
  RUN(test_values_and_whitespace);
  RUN(test_framing);
  RUN(test_refusals);
  RUN(test_too_many_headers);
  RUN(test_incremental);
  RUN(test_responses);
  RUN(test_helpers);
  RUN(test_chunked);
  RUN(test_connect);
  return test_report();
}
