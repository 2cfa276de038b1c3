/* test_http_server.c - the HTTP/1.1 runtime against a raw TCP client that
 * sends exact bytes: keep-alive, pipelining (answers in request order),
 * HTTP/1.0, HEAD, Expect: 100-continue, bodies by Content-Length (in place
 * and large) and chunked (whole and streamed), every limit and refusal
 * (414, 431, 413, 400 for smuggling shapes, 505, 501, 417, missing Host),
 * slowloris (408, others served meanwhile), keep-alive idle timeout, a
 * client that never reads a large response (bounded memory, closed), a peer
 * resetting mid-response, handler errors (500 + log line; closed when the
 * response had begun), the response API (streaming, files, headers),
 * lifespan hooks, graceful shutdown with requests in flight. */
#include "test.h"
#include "test_loop.h"

#include "http_test.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#define S(x) ((void *)(uintptr_t)(x))

static resp R;

/* ---- handlers ---- */

static int h_hello(cio_http_req *req, cio_http_res *res, void *arg) {
  return cio_http_res_text(res, 200, "hello");
}

static int h_echo(cio_http_req *req, cio_http_res *res, void *arg) {
  const char *b;
  ssize_t n = cio_http_req_body(req, &b);
  if (n < 0) return (int)n;
  const char *again;
  CHECK_EQ(cio_http_req_body(req, &again), n); /* the same body again */
  CHECK_EQ(cio_http_req_read(req, (char[4]){0}, 4), -EBUSY);
  return cio_http_res_send(res, 200, "application/octet-stream", b, (size_t)n);
}

/* Streams the request body back as it arrives (chunked out). */
static int h_stream_echo(cio_http_req *req, cio_http_res *res, void *arg) {
  char buf[1000];
  ssize_t n;
  size_t total = 0;
  while ((n = cio_http_req_read(req, buf, sizeof buf)) > 0) {
    total += (size_t)n;
    int e = cio_http_res_write(res, buf, (size_t)n);
    if (e < 0) return e;
  }
  if (n < 0) return (int)n;
  const char *b;
  CHECK_EQ(cio_http_req_body(req, &b), -EBUSY);
  return cio_http_res_end(res);
}

static int h_noread(cio_http_req *req, cio_http_res *res, void *arg) {
  return cio_http_res_text(res, 200, "ignored");
}

static int h_json_in(cio_http_req *req, cio_http_res *res, void *arg) {
  cJSON *j;
  int e = cio_http_req_json(req, &j);
  if (e == -EBADMSG) return cio_http_res_error(res, 422, "bad json");
  if (e < 0) return e;
  cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "a");
  int v = cJSON_IsNumber(a) ? a->valueint : -1;
  cJSON_Delete(j);
  cio_json *w = cio_http_res_json(res, 200);
  cio_json_object(w);
  cio_json_key(w, "a");
  cio_json_int(w, v);
  return cio_json_object_end(w);
}

static int stream_status; /* the last /big handler's result */

/* ?n=bytes streamed out in 64 KiB writes. */
static int h_big(cio_http_req *req, cio_http_res *res, void *arg) {
  const char *ns = cio_http_req_query(req, "n", NULL);
  long n = ns ? atol(ns) : 0;
  static char chunk[65536];
  memset(chunk, 'x', sizeof chunk);
  int e = 0;
  for (long sent = 0; e == 0 && sent < n; sent += (long)sizeof chunk) {
    size_t k = n - sent < (long)sizeof chunk ? (size_t)(n - sent) : sizeof chunk;
    e = cio_http_res_write(res, chunk, k);
  }
  if (e == 0) e = cio_http_res_end(res);
  stream_status = e;
  return e;
}

/* ?n=bytes as one in-memory body */
static int h_bigbody(cio_http_req *req, cio_http_res *res, void *arg) {
  const char *ns = cio_http_req_query(req, "n", NULL);
  long n = ns ? atol(ns) : 0;
  char *b = malloc((size_t)n);
  if (!b) return -ENOMEM;
  memset(b, 'y', (size_t)n);
  int e = cio_http_res_send(res, 200, "text/plain", b, (size_t)n);
  free(b);
  return e;
}

static int slow_done;

static int h_slow(cio_http_req *req, cio_http_res *res, void *arg) {
  const char *s = cio_http_req_query(req, "s", NULL);
  int e = cio_sleep(s ? atof(s) : 0.2);
  slow_done = e == 0 ? 1 : e;
  if (e < 0) return e;
  return cio_http_res_text(res, 200, "slow");
}

static int h_fail(cio_http_req *req, cio_http_res *res, void *arg) { return -EIO; }

static int h_fail_started(cio_http_req *req, cio_http_res *res, void *arg) {
  int e = cio_http_res_write(res, "partial", 7);
  return e < 0 ? e : -EIO;
}

static int h_bad_json(cio_http_req *req, cio_http_res *res, void *arg) {
  cio_json *j = cio_http_res_json(res, 200);
  cio_json_object(j);
  cio_json_key(j, "unfinished");
  return 0;
}

static int h_api(cio_http_req *req, cio_http_res *res, void *arg) {
  CHECK_EQ(cio_http_res_status(res, 99), -EINVAL);
  CHECK_EQ(cio_http_res_status(res, 600), -EINVAL);
  CHECK_EQ(cio_http_res_status(res, 201), 0);
  CHECK_EQ(cio_http_res_get_status(res), 201);
  CHECK_EQ(cio_http_res_header(res, "Bad Name", "v"), -EINVAL);
  CHECK_EQ(cio_http_res_header(res, "X-Split", "a\r\nInjected: 1"), -EINVAL);
  CHECK_EQ(cio_http_res_header(res, "X-Nul", "a\x01"), -EINVAL);
  CHECK_EQ(cio_http_res_header(res, "Transfer-Encoding", "chunked"), -EINVAL);
  CHECK_EQ(cio_http_res_header(res, "Set-Cookie", "a=1"), 0);
  CHECK_EQ(cio_http_res_header(res, "Set-Cookie", "b=2"), 0);
  CHECK_EQ(cio_http_res_header(res, "X-One", "first"), 0);
  CHECK_EQ(cio_http_res_set_header(res, "x-one", "second"), 0);
  CHECK_STR(cio_http_res_get_header(res, "X-ONE"), "second");
  CHECK(cio_http_res_get_header(res, "X-None") == NULL);
  CHECK_EQ(cio_http_res_header(res, "Server", "custom"), 0);
  CHECK_EQ(cio_http_res_content_type(res, "text/x-test"), 0);
  CHECK_EQ(cio_http_res_printf(res, "%d-%s", 42, "ok"), 0);
  CHECK_EQ(cio_http_res_body(res, "!", 1), 0);
  CHECK(!cio_http_res_started(res));
  return 0;
}

static int h_redirect(cio_http_req *req, cio_http_res *res, void *arg) {
  CHECK_EQ(cio_http_res_redirect(res, 200, "/x"), -EINVAL);
  return cio_http_res_redirect(res, 302, "/target");
}

static char tmpfile_path[64];

static int h_file(cio_http_req *req, cio_http_res *res, void *arg) {
  int fd = open(tmpfile_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  cio_http_res_content_type(res, "text/plain");
  return cio_http_res_file(res, fd, 2, 5);
}

/* A streamed body with a Content-Length set by the handler. */
static int h_stream_len(cio_http_req *req, cio_http_res *res, void *arg) {
  cio_http_res_header(res, "Content-Length", "10");
  int e = cio_http_res_start(res);
  if (e == 0) e = cio_http_res_write(res, "01234", 5);
  if (e == 0) e = cio_http_res_write(res, "56789", 5);
  if (e == 0) CHECK_EQ(cio_http_res_write(res, "x", 1), -EINVAL); /* beyond the length */
  CHECK_EQ(cio_http_res_status(res, 404), -EALREADY);
  CHECK_EQ(cio_http_res_header(res, "X-Late", "1"), -EALREADY);
  return e;
}

static int h_state(cio_http_req *req, cio_http_res *res, void *arg) {
  return cio_http_res_text(res, 200, cio_http_req_state(req));
}

static int startup_calls, shutdown_calls;

static int on_startup(void *arg, void **state) {
  int r = cio_sleep(0.01); /* hooks are tasks' code: they may wait */
  if (r < 0) return r;
  startup_calls++;
  *state = arg;
  return 0;
}

static int on_shutdown(void *arg, void *state) {
  CHECK(state == arg);
  shutdown_calls++;
  return cio_sleep(0.01);
}

static cio_http_app *make_app(const cio_http_app_opts *o) {
  cio_http_app *app = cio_http_app_new(o);
  cio_http_app_route(app, "GET,HEAD", "/", h_hello, NULL);
  cio_http_app_post(app, "/echo", h_echo, NULL);
  cio_http_app_post(app, "/stream-echo", h_stream_echo, NULL);
  cio_http_app_post(app, "/noread", h_noread, NULL);
  cio_http_app_post(app, "/json", h_json_in, NULL);
  cio_http_app_route(app, "GET,HEAD", "/big", h_big, NULL);
  cio_http_app_get(app, "/bigbody", h_bigbody, NULL);
  cio_http_app_get(app, "/slow", h_slow, NULL);
  cio_http_app_get(app, "/fail", h_fail, NULL);
  cio_http_app_get(app, "/fail-started", h_fail_started, NULL);
  cio_http_app_get(app, "/bad-json", h_bad_json, NULL);
  cio_http_app_get(app, "/api", h_api, NULL);
  cio_http_app_get(app, "/redirect", h_redirect, NULL);
  cio_http_app_route(app, "GET,HEAD", "/file", h_file, NULL);
  cio_http_app_get(app, "/stream-len", h_stream_len, NULL);
  cio_http_app_get(app, "/state", h_state, NULL);
  return app;
}

static cio_http_server *start(cio_http_app *app, int *port) {
  cio_http_server *s = NULL;
  CHECK_EQ(cio_http_server_open(app, NULL, &s), 0);
  *port = s ? cio_http_server_port(s) : 0;
  return s;
}

static void stop(cio_http_server *s) {
  CHECK_EQ(cio_http_server_close(s, 1.0), 0);
  cio_http_server_free(s);
}

/* ---- keep-alive, pipelining, versions ---- */

LOOP_TEST(test_keepalive_and_pipelining) {
  cio_http_app *app = make_app(NULL);
  int port;
  cio_http_server *srv = start(app, &port);
  cio_stream *s = dial(port);
  for (int i = 0; i < 5; i++) {
    CHECK_EQ(send_raw(s, "GET / HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    CHECK_EQ(read_resp(s, &R, 0), 0);
    CHECK_EQ(R.status, 200);
    CHECK_STR(body_str(&R), "hello");
    CHECK(resp_header(&R, "connection") == NULL);
    CHECK(resp_header(&R, "date") != NULL);
    CHECK_STR(resp_header(&R, "server"), "cio");
  }
  CHECK_EQ(cio_http_server_connections(srv), 1);
  /* pipelined, one write: answers in order, bodies included */
  CHECK_EQ(send_raw(s, "GET / HTTP/1.1\r\nHost: t\r\n\r\n"
                       "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
                       "GET /slow?s=0.05 HTTP/1.1\r\nHost: t\r\n\r\n"
                       "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "2\r\nxy\r\n0\r\n\r\n"
                       "HEAD / HTTP/1.1\r\nHost: t\r\n\r\n"
                       "GET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
           0);
  CHECK_EQ(read_resp(s, &R, 0), 0);
  CHECK_STR(body_str(&R), "hello");
  CHECK_EQ(read_resp(s, &R, 0), 0);
  CHECK_STR(body_str(&R), "abc");
  CHECK_EQ(read_resp(s, &R, 0), 0);
  CHECK_STR(body_str(&R), "slow");
  CHECK_EQ(read_resp(s, &R, 0), 0);
  CHECK_STR(body_str(&R), "xy");
  CHECK_EQ(read_resp(s, &R, 1), 0);
  CHECK_STR(resp_header(&R, "content-length"), "5");
  CHECK_EQ(read_resp(s, &R, 0), 0);
  CHECK_EQ(R.status, 404);
  CHECK_STR(resp_header(&R, "connection"), "close");
  CHECK(closed_within(s, 2));
  cio_stream_free(s);
  /* HTTP/1.0: closed unless keep-alive is asked for */
  CHECK_EQ(roundtrip(port, "GET / HTTP/1.0\r\n\r\n", &R), 0);
  CHECK_STR(resp_header(&R, "connection"), "close");
  s = dial(port);
  CHECK_EQ(send_raw(s, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), 0);
  CHECK_EQ(read_resp(s, &R, 0), 0);
  CHECK_STR(resp_header(&R, "connection"), "keep-alive");
  CHECK_EQ(send_raw(s, "GET / HTTP/1.0\r\n\r\n"), 0);
  CHECK_EQ(read_resp(s, &R, 0), 0);
  CHECK(closed_within(s, 2));
  cio_stream_free(s);
  /* a streamed answer to HTTP/1.0 ends with the connection */
  CHECK_EQ(roundtrip(port, "GET /big?n=100000 HTTP/1.0\r\n\r\n", &R), 0);
  CHECK_EQ(R.body_len, 100000);
  CHECK(R.closed);
  stop(srv);
  cio_http_app_free(app);
  return 0;
}

/* ---- bodies ---- */

LOOP_TEST(test_bodies) {
  cio_http_app *app = make_app(NULL);
  int port;
  cio_http_server *srv = start(app, &port);
  /* 200 KiB by Content-Length: beyond the in-place limit, read whole */
  size_t big = 200 * 1024;
  char *req = malloc(big + 256), *p;
  int n = sprintf(req, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n", big);
  p = req + n;
  for (size_t i = 0; i < big; i++) p[i] = (char)('a' + i % 26);
  p[big] = '\0';
  CHECK_EQ(roundtrip(port, req, &R), 0);
  CHECK_EQ(R.body_len, big);
  CHECK(memcmp(R.body, p, big) == 0);
  /* streamed back as it arrives */
  char *body = strdup(p);
  n = sprintf(req, "POST /stream-echo HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n", big);
  memcpy(req + n, body, big + 1);
  free(body);
  p = req + n;
  CHECK_EQ(roundtrip(port, req, &R), 0);
  CHECK(R.chunked);
  CHECK_EQ(R.body_len, big);
  CHECK(memcmp(R.body, p, big) == 0);
  free(req);
  /* chunked in, with extensions and trailers, sent in pieces */
  cio_stream *s = dial(port);
  send_raw(s,
           "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n4;x=\"y z\"\r\nwi");
  cio_sleep(0.02);
  send_raw(s, "ki\r\n5\r\npedia\r\n0\r\nChecksum: 1\r\n\r\n");
  CHECK_EQ(read_resp(s, &R, 0), 0);
  CHECK_STR(body_str(&R), "wikipedia");
  send_raw(s, "POST /stream-echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
              "3\r\nabc\r\n0\r\n\r\n");
  CHECK_EQ(read_resp(s, &R, 0), 0);
  CHECK_STR(body_str(&R), "abc");
  /* a body the handler never read is skipped: the connection goes on */
  send_raw(s, "POST /noread HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
              "POST /noread HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
              "5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n");
  CHECK_EQ(read_resp(s, &R, 0), 0);
  CHECK_STR(body_str(&R), "ignored");
  CHECK_EQ(read_resp(s, &R, 0), 0);
  CHECK_STR(body_str(&R), "ignored");
  CHECK_EQ(read_resp(s, &R, 0), 0);
  CHECK_STR(body_str(&R), "hello");
  /* JSON in */
  send_raw(s, "POST /json HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\n\r\n{\"a\": 7}\n");
  CHECK_EQ(read_resp(s, &R, 0), 0);
  CHECK_STR(body_str(&R), "{\"a\":7}");
  send_raw(s, "POST /json HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n{\"a\":");
  CHECK_EQ(read_resp(s, &R, 0), 0);
  CHECK_EQ(R.status, 422);
  cio_stream_free(s);
  stop(srv);
  cio_http_app_free(app);
  return 0;
}

LOOP_TEST(test_expect_continue) {
  cio_http_app *app = make_app(NULL);
  int port;
  cio_http_server *srv = start(app, &port);
  cio_stream *s = dial(port);
  send_raw(s,
           "POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  /* "100 Continue" first, then the client sends */
  const void *d;
  while (cio_stream_peek(s, &d) < 25 && cio_stream_fill(s) > 0) {
  }
  CHECK(memcmp(d, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0);
  cio_stream_consume(s, 25);
  send_raw(s, "data");
  CHECK_EQ(read_resp(s, &R, 0), 0);
  CHECK_STR(body_str(&R), "data");
  /* a handler that does not read: no 100, answered, then closed (the
   * client may never send the body) */
  send_raw(s,
           "POST /noread HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  CHECK_EQ(read_resp(s, &R, 0), 0);
  CHECK_EQ(R.status, 200);
  CHECK(closed_within(s, 2));
  cio_stream_free(s);
  /* HTTP/1.0 clients get no 100 */
  s = dial(port);
  send_raw(s, "POST /echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok");
  CHECK_EQ(read_resp(s, &R, 0), 0);
  CHECK_EQ(R.status, 200);
  CHECK_STR(body_str(&R), "ok");
  cio_stream_free(s);
  CHECK_EQ(roundtrip(port, "GET / HTTP/1.1\r\nHost: t\r\nExpect: tea\r\n\r\n", &R), 0);
  CHECK_EQ(R.status, 417);
  stop(srv);
  cio_http_app_free(app);
  return 0;
}

/* ---- refusals: each gets its status and a closed connection ---- */

static void refused(int port, const char *request, int status) {
  cio_stream *s = dial(port);
  send_raw(s, request);
  int e = read_resp(s, &R, 0);
  CHECK_EQ(e, 0);
  if (R.status != status) fprintf(stderr, "got %d for: %.60s\n", R.status, request);
  CHECK_EQ(R.status, status);
  CHECK_STR(resp_header(&R, "connection"), "close");
  CHECK(closed_within(s, 2));
  cio_stream_free(s);
}

LOOP_TEST(test_limits_and_bad_input) {
  cio_http_app_opts o = {.max_head = 2048, .max_headers = 10, .max_body = 1000};
  cio_http_app *app = make_app(&o);
  int port;
  cio_http_server *srv = start(app, &port);
  char *big = malloc(8192);
  /* a request line longer than the head limit: 414 */
  memset(big, 'a', 4000);
  memcpy(big, "GET /", 5);
  strcpy(big + 4000, " HTTP/1.1\r\nHost: t\r\n\r\n");
  refused(port, big, 414);
  /* headers beyond the head limit: 431 */
  int n = sprintf(big, "GET / HTTP/1.1\r\nHost: t\r\nX-Big: ");
  memset(big + n, 'b', 3000);
  strcpy(big + n + 3000, "\r\n\r\n");
  refused(port, big, 431);
  /* too many headers: 431 */
  n = sprintf(big, "GET / HTTP/1.1\r\nHost: t\r\n");
  for (int i = 0; i < 11; i++) n += sprintf(big + n, "X-%d: v\r\n", i);
  strcpy(big + n, "\r\n");
  refused(port, big, 431);
  /* a body beyond max_body: 413, never read */
  refused(port, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n", 413);
  n = sprintf(big, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
  for (int i = 0; i < 3; i++) n += sprintf(big + n, "190\r\n%0400d\r\n", 0);
  refused(port, big, 413);
  free(big);
  /* smuggling shapes and malformed framing: 400, closed */
  static const char *const bad400[] = {
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\n",
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3, 3\r\n\r\nabc",
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding : chunked\r\n\r\n",
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding:\tchunked\r\n\r\n",
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n",
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n",
      "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n",
      "GET / HTTP/1.1\nHost: t\n\n",
      "GET  / HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET / HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
      "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
  };
  for (size_t i = 0; i < sizeof bad400 / sizeof bad400[0]; i++) refused(port, bad400[i], 400);
  refused(port, "GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505);
  refused(port, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
  /* a peer that closes mid-head or mid-body gets nothing, and nothing breaks */
  cio_stream *s = dial(port);
  send_raw(s, "GET / HTTP/1.1\r\nHo");
  cio_stream_free(s);
  s = dial(port);
  send_raw(s, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
  cio_stream_free(s);
  CHECK_EQ(get(port, "/", &R), 0);
  CHECK_EQ(R.status, 200);
  stop(srv);
  cio_http_app_free(app);
  return 0;
}

/* ---- slow and stuck peers ---- */

static int slowloris(void *arg) {
  int port = *(int *)arg;
  cio_stream *s = dial(port);
  const char *req = "GET / HTTP/1.1\r\nHost: t\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaa\r\n";
  int r = 0;
  for (const char *p = req; *p && r == 0; p++) {
    r = cio_stream_write(s, p, 1);
    if (r == 0) r = cio_sleep(0.05); /* one byte every 50 ms: never done in time */
  }
  static resp L;
  int e = read_resp(s, &L, 0);
  CHECK_EQ(e, 0);
  CHECK_EQ(L.status, 408);
  CHECK(closed_within(s, 2));
  cio_stream_free(s);
  return 0;
}

LOOP_TEST(test_slowloris_and_idle) {
  cio_http_app_opts o = {.head_timeout = 0.5, .keepalive_timeout = 0.3};
  cio_http_app *app = make_app(&o);
  int port;
  cio_http_server *srv = start(app, &port);
  cio_task *t = cio_spawn(slowloris, &port);
  /* others are served meanwhile */
  for (int i = 0; i < 10; i++) {
    CHECK_EQ(get(port, "/", &R), 0);
    CHECK_EQ(R.status, 200);
    cio_sleep(0.03);
  }
  CHECK_EQ(join(t), 0);
  /* an idle kept-alive connection is closed after keepalive_timeout */
  cio_stream *s = dial(port);
  send_raw(s, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  CHECK_EQ(read_resp(s, &R, 0), 0);
  CHECK(closed_within(s, 3));
  cio_stream_free(s);
  /* so is a connection that never sends its first byte (head_timeout) */
  s = dial(port);
  CHECK(closed_within(s, 3));
  cio_stream_free(s);
  stop(srv);
  cio_http_app_free(app);
  return 0;
}

static long rss_kib(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long size = 0, res = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &size, &res) != 2) res = 0;
    fclose(f);
  }
  return res * (sysconf(_SC_PAGESIZE) / 1024);
}

LOOP_TEST(test_client_never_reads) {
  cio_http_app_opts o = {.send_timeout = 0.5};
  cio_http_app *app = make_app(&o);
  int port;
  cio_http_server *srv = start(app, &port);
  long before = rss_kib();
  /* a streamed 200 MB answer to a client that reads nothing: the handler
   * waits (back-pressure), then its write fails with the send timeout */
  cio_stream *s = dial(port);
  int small = 4096;
  setsockopt(cio_stream_fd(s), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  stream_status = 1;
  send_raw(s, "GET /big?n=200000000 HTTP/1.1\r\nHost: t\r\n\r\n");
  for (int i = 0; i < 300 && stream_status == 1; i++) {
    CHECK_EQ(get(port, "/", &R), 0); /* others are served meanwhile */
    cio_sleep(0.01);
  }
  CHECK_EQ(stream_status, -ETIMEDOUT);
  long grew = rss_kib() - before;
  if (grew > 20 * 1024) fprintf(stderr, "RSS grew by %ld KiB\n", grew);
  CHECK(grew < 20 * 1024); /* the server held a few MiB, not 200 */
  cio_stream_free(s);
  /* the same with a whole 64 MB body */
  s = dial(port);
  setsockopt(cio_stream_fd(s), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  send_raw(s, "GET /bigbody?n=64000000 HTTP/1.1\r\nHost: t\r\n\r\n");
  cio_sleep(1.5);
  CHECK_EQ(get(port, "/", &R), 0);
  CHECK_EQ(R.status, 200);
  CHECK(closed_within(s, 3)); /* given up: shut down, buffered bytes dropped */
  cio_stream_free(s);
  stop(srv);
  cio_http_app_free(app);
  return 0;
}

LOOP_TEST(test_peer_resets_mid_response) {
  cio_http_app *app = make_app(NULL);
  int port;
  cio_http_server *srv = start(app, &port);
  cio_stream *s = dial(port);
  stream_status = 1;
  send_raw(s, "GET /big?n=50000000 HTTP/1.1\r\nHost: t\r\n\r\n");
  char buf[4096];
  CHECK(cio_stream_read(s, buf, sizeof buf) > 0); /* it started */
  struct linger lg = {1, 0};
  setsockopt(cio_stream_fd(s), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  cio_stream_free(s); /* RST */
  for (int i = 0; i < 200 && stream_status == 1; i++) cio_sleep(0.01);
  CHECK(stream_status == -ECONNRESET || stream_status == -EPIPE);
  CHECK_EQ(get(port, "/", &R), 0);
  CHECK_EQ(R.status, 200);
  stop(srv);
  cio_http_app_free(app);
  return 0;
}

/* ---- handler errors and the response API ---- */

static char logged[4096];

static void sink(void *arg, const char *line, size_t len) {
  size_t have = strlen(logged);
  if (have + len < sizeof logged) memcpy(logged + have, line, len + 1);
  logged[have + len < sizeof logged ? have + len : have] = '\0';
}

LOOP_TEST(test_errors_and_api) {
  cio_http_app_opts o = {.access_log = 1};
  cio_http_app *app = make_app(&o);
  int port;
  cio_http_server *srv = start(app, &port);
  logged[0] = '\0';
  cio_log_set_sink(sink, NULL);
  CHECK_EQ(get(port, "/fail", &R), 0);
  CHECK_EQ(R.status, 500);
  CHECK_STR(body_str(&R), "{\"detail\":\"Internal Server Error\"}");
  CHECK(strstr(logged, "| ERROR    |") != NULL);
  CHECK(strstr(logged, "GET /fail: handler failed: Input/output error") != NULL);
  CHECK(strstr(logged, "\"GET /fail HTTP/1.1\" 500 Internal Server Error 34B") != NULL);
  /* failed after the head went out: the body is cut, the connection closed */
  cio_stream *s = dial(port);
  send_raw(s, "GET /fail-started HTTP/1.1\r\nHost: t\r\n\r\n");
  CHECK_EQ(read_resp(s, &R, 0), -EPIPE);
  cio_stream_free(s);
  CHECK_EQ(get(port, "/bad-json", &R), 0);
  CHECK_EQ(R.status, 500);
  cio_log_set_sink(NULL, NULL);
  CHECK_EQ(get(port, "/api", &R), 0);
  CHECK_EQ(R.status, 201);
  CHECK_STR(body_str(&R), "42-ok!");
  CHECK_STR(resp_header(&R, "content-type"), "text/x-test");
  CHECK_STR(resp_header(&R, "x-one"), "second");
  CHECK_STR(resp_header(&R, "server"), "custom");
  CHECK_EQ(resp_header_count(&R, "server"), 1);
  CHECK_EQ(resp_header_count(&R, "set-cookie"), 2);
  CHECK(resp_header(&R, "x-split") == NULL);
  CHECK(resp_header(&R, "injected") == NULL);
  CHECK_EQ(get(port, "/redirect", &R), 0);
  CHECK_EQ(R.status, 302);
  CHECK_STR(resp_header(&R, "location"), "/target");
  snprintf(tmpfile_path, sizeof tmpfile_path, "/tmp/cio-http-test-%d", (int)getpid());
  FILE *f = fopen(tmpfile_path, "w");
  fputs("0123456789", f);
  fclose(f);
  CHECK_EQ(get(port, "/file", &R), 0);
  CHECK_STR(body_str(&R), "23456");
  CHECK_EQ(roundtrip(port, "HEAD /file HTTP/1.1\r\nHost: t\r\n\r\n", &R), 0);
  CHECK_STR(resp_header(&R, "content-length"), "5");
  unlink(tmpfile_path);
  CHECK_EQ(get(port, "/stream-len", &R), 0);
  CHECK(!R.chunked);
  CHECK_STR(body_str(&R), "0123456789");
  CHECK_EQ(get(port, "/big?n=70000", &R), 0);
  CHECK(R.chunked);
  CHECK_EQ(R.body_len, 70000);
  CHECK_EQ(roundtrip(port, "HEAD /big?n=7 HTTP/1.1\r\nHost: t\r\n\r\n", &R), 0);
  CHECK_STR(resp_header(&R, "transfer-encoding"), "chunked");
  stop(srv);
  cio_http_app_free(app);
  return 0;
}

/* ---- lifespan and shutdown ---- */

static int fail_startup(void *arg, void **state) { return -ECONNREFUSED; }

static int slow_client(void *arg) {
  int port = *(int *)arg;
  static resp L;
  CHECK_EQ(roundtrip(port, "GET /slow?s=0.3 HTTP/1.1\r\nHost: t\r\n\r\n", &L), 0);
  CHECK_EQ(L.status, 200);
  CHECK_STR(resp_header(&L, "connection"), "close");
  return 0;
}

LOOP_TEST(test_lifespan_and_graceful_close) {
  cio_http_app *app = make_app(NULL);
  cio_http_app_lifespan(app, on_startup, on_shutdown, S("pool"));
  int port;
  startup_calls = shutdown_calls = 0;
  cio_http_server *srv = start(app, &port);
  CHECK_EQ(startup_calls, 1);
  CHECK_EQ(get(port, "/state", &R), 0);
  CHECK_STR(body_str(&R), "pool");
  /* an idle kept-alive connection, and a request in flight */
  cio_stream *idle = dial(port);
  send_raw(idle, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  CHECK_EQ(read_resp(idle, &R, 0), 0);
  slow_done = 0;
  cio_task *t = cio_spawn(slow_client, &port);
  while (!slow_done && cio_http_server_connections(srv) < 2) cio_sleep(0.01);
  cio_sleep(0.05);
  double t0 = now_s();
  CHECK_EQ(cio_http_server_close(srv, 5.0), 0);
  CHECK(now_s() - t0 < 4.0); /* the slow request finished; nobody was cancelled */
  CHECK_EQ(slow_done, 1);
  CHECK_EQ(shutdown_calls, 1);
  CHECK(closed_within(idle, 1));
  cio_stream_free(idle);
  CHECK_EQ(join(t), 0);
  CHECK(dial(port) == NULL); /* no longer accepting */
  CHECK_EQ(cio_http_server_close(srv, 1.0), 0);
  CHECK_EQ(shutdown_calls, 1);
  cio_http_server_free(srv);
  /* past the grace period, requests are cancelled */
  srv = start(app, &port);
  slow_done = 0;
  cio_stream *s = dial(port);
  send_raw(s, "GET /slow?s=10 HTTP/1.1\r\nHost: t\r\n\r\n");
  while (cio_http_server_connections(srv) < 1) cio_sleep(0.01);
  cio_sleep(0.05);
  CHECK_EQ(cio_http_server_close(srv, 0.2), 0);
  CHECK_EQ(slow_done, -ECANCELED);
  CHECK(closed_within(s, 1));
  cio_stream_free(s);
  cio_http_server_free(srv);
  /* a failing startup hook: no server */
  cio_http_app_lifespan(app, fail_startup, on_shutdown, NULL);
  cio_http_server *none = (cio_http_server *)1;
  CHECK_EQ(cio_http_server_open(app, NULL, &none), -ECONNREFUSED);
  CHECK(none == NULL);
  cio_http_app_free(app);
  return 0;
}

/* freeing without closing cancels everything, and leaks nothing */
LOOP_TEST(test_free_without_close) {
  cio_http_app *app = make_app(NULL);
  int port;
  cio_http_server *srv = start(app, &port);
  cio_stream *s = dial(port);
  send_raw(s, "GET /slow?s=5 HTTP/1.1\r\nHost: t\r\n\r\n");
  while (cio_http_server_connections(srv) < 1) cio_sleep(0.01);
  cio_sleep(0.02);
  cio_http_server_free(srv);
  settle_io();
  CHECK(closed_within(s, 1));
  cio_stream_free(s);
  cio_http_app_free(app);
  return 0;
}

int main(void) {
  RUN(test_keepalive_and_pipelining);
  RUN(test_bodies);
  RUN(test_expect_continue);
  RUN(test_limits_and_bad_input);
  RUN(test_slowloris_and_idle);
  RUN(test_client_never_reads);
  RUN(test_peer_resets_mid_response);
  RUN(test_errors_and_api);
  RUN(test_lifespan_and_graceful_close);
  RUN(test_free_without_close);
  return test_report();
}
