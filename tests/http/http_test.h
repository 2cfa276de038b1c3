/* http_test.h - helpers for the http layer's tests: a server on a free
 * port of 127.0.0.1 in the test's loop, and a raw client (cio streams,
 * real TCP) that sends exact bytes and reads whole responses with the
 * layer's own response parser. Include after test.h and test_loop.h. */
#ifndef CIO_HTTP_TEST_H
#define CIO_HTTP_TEST_H

#include <cio.h>
#include <cio/http.h>
#include <cio/net.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One parsed response. */
typedef struct resp {
  int status;
  char head[8192]; /* the head as received, NUL-terminated */
  char body[1 << 20];
  size_t body_len;
  int chunked;
  int closed; /* the server closed after it (EOF seen) */
} resp;

/* A header of r's head (first match, case-insensitive) copied into a static
 * buffer, or NULL. */
static TEST_UNUSED const char *resp_header(const resp *r, const char *name) {
  static char val[1024];
  size_t nl = strlen(name);
  const char *p = strstr(r->head, "\r\n");
  while (p && p[2] != '\r') {
    const char *line = p + 2;
    const char *end = strstr(line, "\r\n");
    if (!end) break;
    if ((size_t)(end - line) > nl && line[nl] == ':' && strncasecmp(line, name, nl) == 0) {
      const char *v = line + nl + 1;
      while (*v == ' ') v++;
      snprintf(val, sizeof val, "%.*s", (int)(end - v), v);
      return val;
    }
    p = end;
  }
  return NULL;
}

/* Count the headers called name in r's head. */
static TEST_UNUSED int resp_header_count(const resp *r, const char *name) {
  int n = 0;
  size_t nl = strlen(name);
  for (const char *p = strstr(r->head, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n"))
    if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') n++;
  return n;
}

/* Read one response from s (head_only: a response to HEAD). 0 or -errno;
 * -EPIPE if the connection ended before a whole response. */
static TEST_UNUSED int read_resp(cio_stream *s, resp *r, int head_only) {
  memset(r, 0, offsetof(resp, body));
  r->body_len = 0;
  r->chunked = 0;
  r->closed = 0;
  cio_http_header hv[64];
  cio_http_head h;
  memset(&h, 0, sizeof h);
  h.headers = hv;
  cio_http_parser p;
  cio_http_parser_init(&p);
  const void *data;
  for (;;) {
    size_t n = cio_stream_peek(s, &data);
    ssize_t hl = cio_http_parse_response(&p, data, n, &h, 64);
    if (hl > 0) {
      size_t keep = (size_t)hl < sizeof r->head - 1 ? (size_t)hl : sizeof r->head - 1;
      memcpy(r->head, data, keep);
      r->head[keep] = '\0';
      r->status = h.status;
      cio_stream_consume(s, (size_t)hl);
      break;
    }
    if (hl != -EAGAIN) return (int)hl;
    ssize_t f = cio_stream_fill(s);
    if (f == 0) return -EPIPE;
    if (f < 0) return (int)f;
  }
  if (r->status == 100) return read_resp(s, r, head_only);
  if (head_only || h.body == CIO_HTTP_BODY_NONE) return 0;
  if (h.body == CIO_HTTP_BODY_LENGTH) {
    size_t got = 0;
    if (h.content_length > sizeof r->body) return -EMSGSIZE;
    ssize_t n = cio_stream_readexactly(s, r->body, (size_t)h.content_length, &got);
    r->body_len = got;
    return n < 0 ? (int)n : 0;
  }
  if (h.body == CIO_HTTP_BODY_CHUNKED) {
    r->chunked = 1;
    cio_http_chunked c;
    cio_http_chunked_init(&c);
    while (!cio_http_chunked_done(&c)) {
      size_t n = cio_stream_peek(s, &data);
      if (n == 0) {
        ssize_t f = cio_stream_fill(s);
        if (f <= 0) return f == 0 ? -EPIPE : (int)f;
        continue;
      }
      const char *d;
      size_t dl;
      ssize_t used = cio_http_chunked_decode(&c, data, n, &d, &dl);
      if (used < 0) return (int)used;
      if (r->body_len + dl > sizeof r->body) return -EMSGSIZE;
      if (dl) memcpy(r->body + r->body_len, d, dl);
      r->body_len += dl;
      cio_stream_consume(s, (size_t)used);
    }
    return 0;
  }
  /* until close */
  for (;;) {
    ssize_t n = cio_stream_read(s, r->body + r->body_len, sizeof r->body - r->body_len);
    if (n == 0) {
      r->closed = 1;
      return 0;
    }
    if (n < 0) return (int)n;
    r->body_len += (size_t)n;
  }
}

/* Connect to 127.0.0.1:port. */
static TEST_UNUSED cio_stream *dial(int port) {
  cio_stream *s = NULL;
  cio_connect_opts o = {.timeout = 5};
  int r = cio_open_connection("127.0.0.1", port, &o, &s);
  return r == 0 ? s : NULL;
}

/* Send raw bytes. */
static TEST_UNUSED int send_raw(cio_stream *s, const char *bytes) {
  return cio_stream_write(s, bytes, strlen(bytes));
}

/* One request on a fresh connection, one response. 0 or -errno. */
static TEST_UNUSED int roundtrip(int port, const char *request, resp *r) {
  cio_stream *s = dial(port);
  if (!s) return -ECONNREFUSED;
  int e = send_raw(s, request);
  if (e == 0) e = read_resp(s, r, strncmp(request, "HEAD ", 5) == 0);
  cio_stream_free(s);
  return e;
}

/* 1 when the server closes s (EOF) within secs, else 0. */
static TEST_UNUSED int closed_within(cio_stream *s, double secs) {
  char buf[256];
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, secs);
  ssize_t n;
  while ((n = cio_stream_read(s, buf, sizeof buf)) > 0) {
  }
  cio_timeout_end(&sc);
  return n == 0 || n == -ECONNRESET;
}

/* A GET for path. */
static TEST_UNUSED int get(int port, const char *path, resp *r) {
  size_t cap = strlen(path) + 64;
  char *req = malloc(cap);
  if (!req) return -ENOMEM;
  snprintf(req, cap, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
  int e = roundtrip(port, req, r);
  free(req);
  return e;
}

/* The body as a NUL-terminated string (tests compare small bodies). */
static TEST_UNUSED const char *body_str(resp *r) {
  if (r->body_len >= sizeof r->body) r->body_len = sizeof r->body - 1;
  r->body[r->body_len] = '\0';
  return r->body;
}

#endif
