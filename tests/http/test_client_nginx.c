/* test_client_nginx.c - the HTTP client (cio/http_client.h) against a real
 * nginx (tests/http/client/site.sh): static files, keep-alive reuse, HEAD,
 * gzip, chunked bodies from a proxied upstream, request bodies of every
 * kind, query building, redirects and their rules, basic auth, cookies,
 * HTTPS (verification, SNI, name mismatch, client certificates), a CONNECT
 * proxy, timeouts, limits and the pool's bookkeeping. */
#include "test.h"

#include "client/site.h"

#include <cio.h>
#include <cio/file.h>
#include <cio/http_client.h>
#include <cio/json.h>
#include <cio/net.h>
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <unistd.h>

#define TASK_TEST(name)                                                                            \
  static int name##_task(void *arg);                                                               \
  static void name(void) { CHECK_EQ(cio_run(name##_task, NULL), 0); }                              \
  static int name##_task(void *arg)

/* GET url; status and body (NUL-terminated, truncated to cap) out. */
static int get(cio_http_session *s, const char *url, int *status, char *body, size_t cap) {
  cio_http_response *res;
  int r = cio_http_open(s, &(cio_http_request){.url = url}, &res);
  if (r < 0) return r;
  *status = cio_http_response_status(res);
  const char *d;
  ssize_t n = cio_http_response_body(res, &d);
  if (n >= 0 && body) snprintf(body, cap, "%s", d);
  cio_http_response_free(res);
  return n < 0 ? (int)n : 0;
}

static cio_http_pool_stats stats(cio_http_session *s) {
  cio_http_pool_stats st;
  cio_http_session_stats(s, &st);
  return st;
}

/* A JSON member of the upstream's /echo answer (a string), or NULL. */
static const char *echo_str(cJSON *j, const char *key) {
  cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *echo_header(cJSON *j, const char *name) {
  cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "headers");
  cJSON *v = h ? cJSON_GetObjectItemCaseSensitive(h, name) : NULL;
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Send rq and parse the echo answer. */
static int echo(cio_http_session *s, const cio_http_request *rq, int *status, cJSON **out) {
  cio_http_response *res;
  int r = cio_http_open(s, rq, &res);
  if (r < 0) return r;
  *status = cio_http_response_status(res);
  r = cio_http_response_json(res, out);
  cio_http_response_free(res);
  return r;
}

TASK_TEST(test_get_static_and_reuse) {
  cio_http_session *s = cio_http_session_new(NULL);
  CHECK(s != NULL);
  char body[256];
  int st = 0;
  for (int i = 0; i < 5; i++) {
    CHECK_EQ(get(s, site_url("/static/hello.txt"), &st, body, sizeof body), 0);
    CHECK_EQ(st, 200);
    CHECK_STR(body, "hello from nginx\n");
  }
  cio_http_pool_stats p = stats(s);
  CHECK_EQ(p.created, 1); /* one connection, kept alive */
  CHECK_EQ(p.reused, 4);
  CHECK_EQ(p.open, 1);
  CHECK_EQ(p.idle, 1);
  CHECK_EQ(get(s, site_url("/status/404"), &st, body, sizeof body), 0);
  CHECK_EQ(st, 404); /* a status is not an error */
  CHECK_STR(body, "not here\n");
  cio_http_session_free(s);
  return 0;
}

TASK_TEST(test_head_and_headers) {
  cio_http_session *s = cio_http_session_new(NULL);
  cio_http_response *res;
  CHECK_EQ(cio_http_open(
               s, &(cio_http_request){.method = "HEAD", .url = site_url("/static/big.bin")}, &res),
           0);
  CHECK_EQ(cio_http_response_status(res), 200);
  CHECK_EQ(cio_http_response_content_length(res), 1 << 20);
  size_t n;
  const char *ct = cio_http_response_header(res, "CONTENT-type", &n);
  CHECK(ct && n == 24 && memcmp(ct, "application/octet-stream", n) == 0);
  CHECK(cio_http_response_header(res, "no-such-header", &n) == NULL);
  const char *d;
  CHECK_EQ(cio_http_response_body(res, &d), 0); /* HEAD: never a body */
  CHECK_EQ(stats(s).idle, 1);                   /* back in the pool at once */
  cio_http_response_free(res);
  /* The connection serves the next request. */
  int st;
  CHECK_EQ(get(s, site_url("/static/hello.txt"), &st, NULL, 0), 0);
  CHECK_EQ(stats(s).created, 1);
  cio_http_session_free(s);
  return 0;
}

TASK_TEST(test_gzip) {
  cio_http_session *s = cio_http_session_new(NULL);
  cio_http_response *res;
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = site_url("/gz/page.html")}, &res), 0);
  size_t n;
  const char *enc = cio_http_response_header(res, "content-encoding", &n);
  CHECK(enc && n == 4 && memcmp(enc, "gzip", 4) == 0);
  const char *d;
  ssize_t len = cio_http_response_body(res, &d);
  CHECK(len > 10000);
  CHECK(len > 0 && strstr(d, "<title>A page</title>") && strstr(d, "line 399 of"));
  cio_http_response_free(res);
  /* Read in small pieces through the inflater. */
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = site_url("/gz/big.bin")}, &res), 0);
  size_t total = 0, bad = 0;
  unsigned char buf[777];
  ssize_t got;
  while ((got = cio_http_response_read(res, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < got; i++, total++)
      if (buf[i] != (unsigned char)((total * 7 + total / 251) & 255)) bad++;
  }
  CHECK_EQ(got, 0);
  CHECK_EQ(total, 1 << 20);
  CHECK_EQ(bad, 0);
  cio_http_response_free(res);
  CHECK_EQ(stats(s).created, 1);
  /* no_decompress: the bytes as sent, no Accept-Encoding. */
  cio_http_session *raw = cio_http_session_new(&(cio_http_session_opts){.no_decompress = 1});
  CHECK_EQ(cio_http_open(raw, &(cio_http_request){.url = site_url("/gz/page.html")}, &res), 0);
  CHECK(cio_http_response_header(res, "content-encoding", NULL) == NULL);
  cio_http_response_free(res);
  cio_http_session_free(raw);
  cio_http_session_free(s);
  return 0;
}

TASK_TEST(test_chunked_upstream) {
  cio_http_session *s = cio_http_session_new(NULL);
  cio_http_response *res;
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = site_url("/up/chunked?n=50")}, &res), 0);
  CHECK_EQ(cio_http_response_content_length(res), -1);
  size_t n;
  const char *te = cio_http_response_header(res, "transfer-encoding", &n);
  CHECK(te && n == 7);
  const char *d;
  ssize_t len = cio_http_response_body(res, &d);
  CHECK(len > 0 && strncmp(d, "piece 0\npiece 1\n", 16) == 0 && strstr(d, "piece 49\n"));
  cio_http_response_free(res);
  CHECK_EQ(stats(s).idle, 1);
  cio_http_session_free(s);
  return 0;
}

TASK_TEST(test_query_and_headers) {
  cio_http_session *s = cio_http_session_new(&(cio_http_session_opts){.user_agent = "tester/1"});
  cio_http_field q[] = {{"q", "hello world"}, {"x", "a&b=c/é"}, {"empty", ""}};
  cio_http_field h[] = {{"X-Custom", "yes"}, {"Accept", "application/json"}};
  cJSON *j = NULL;
  int st = 0;
  CHECK_EQ(echo(s,
                &(cio_http_request){.url = site_url("/up/echo?k=1"),
                                    .query = q,
                                    .num_query = 3,
                                    .headers = h,
                                    .num_headers = 2},
                &st, &j),
           0);
  CHECK_EQ(st, 200);
  CHECK_STR(echo_str(j, "path"), "/echo?k=1&q=hello+world&x=a%26b%3Dc%2F%C3%A9&empty=");
  CHECK_STR(echo_header(j, "x-custom"), "yes");
  CHECK_STR(echo_header(j, "accept"), "application/json");
  CHECK_STR(echo_header(j, "user-agent"), "tester/1");
  cJSON_Delete(j);
  /* Framing headers are the client's. */
  cio_http_response *res;
  cio_http_field bad[] = {{"Content-Length", "5"}};
  CHECK_EQ(
      cio_http_open(s, &(cio_http_request){.url = site_url("/"), .headers = bad, .num_headers = 1},
                    &res),
      -EINVAL);
  cio_http_field crlf[] = {{"X-Evil", "a\r\nInjected: 1"}};
  CHECK_EQ(
      cio_http_open(s, &(cio_http_request){.url = site_url("/"), .headers = crlf, .num_headers = 1},
                    &res),
      -EINVAL);
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.method = "GE T", .url = site_url("/")}, &res),
           -EINVAL);
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = "ftp://127.0.0.1/"}, &res),
           -EPROTONOSUPPORT);
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = "http://127.0.0.1:99999/"}, &res), -EINVAL);
  CHECK(res == NULL);
  CHECK_EQ(stats(s).open, stats(s).idle);
  cio_http_session_free(s);
  return 0;
}

static ssize_t stream_body(void *arg, void *buf, size_t cap) {
  int *left = arg;
  if (*left == 0) return 0;
  int r = cio_sleep(0.001); /* a source that waits */
  if (r < 0) return r;
  (*left)--;
  int n = snprintf(buf, cap, "part%d;", *left);
  return n;
}

TASK_TEST(test_bodies) {
  cio_http_session *s = cio_http_session_new(NULL);
  cJSON *j = NULL;
  int st = 0;
  /* A buffer. */
  CHECK_EQ(echo(s,
                &(cio_http_request){.method = "POST",
                                    .url = site_url("/up/echo"),
                                    .body = cio_http_body_buffer(
                                        "a=1&b=2", 7, "application/x-www-form-urlencoded")},
                &st, &j),
           0);
  CHECK_STR(echo_str(j, "method"), "POST");
  CHECK_STR(echo_str(j, "body"), "a=1&b=2");
  CHECK_STR(echo_header(j, "content-type"), "application/x-www-form-urlencoded");
  cJSON_Delete(j);
  /* JSON from the layer's writer. */
  cio_json *w = cio_json_new();
  cio_json_object(w);
  cio_json_key(w, "bug_id");
  cio_json_int(w, 42);
  cio_json_object_end(w);
  CHECK_EQ(echo(s,
                &(cio_http_request){
                    .method = "PUT", .url = site_url("/up/echo"), .body = cio_http_body_json(w)},
                &st, &j),
           0);
  CHECK_STR(echo_str(j, "body"), "{\"bug_id\":42}");
  CHECK_STR(echo_header(j, "content-type"), "application/json");
  cJSON_Delete(j);
  cio_json_reset(w);
  cio_json_object(w); /* incomplete */
  cio_http_response *res;
  CHECK_EQ(cio_http_open(s,
                         &(cio_http_request){.method = "POST",
                                             .url = site_url("/up/echo"),
                                             .body = cio_http_body_json(w)},
                         &res),
           -EINVAL);
  cio_json_free(w);
  /* A file region (sendfile). */
  char path[] = "/tmp/cio-client-body-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  CHECK_EQ(write(fd, "0123456789abcdef", 16), 16);
  CHECK_EQ(echo(s,
                &(cio_http_request){.method = "POST",
                                    .url = site_url("/up/echo"),
                                    .body = cio_http_body_file(fd, 4, 8, "text/plain")},
                &st, &j),
           0);
  CHECK_STR(echo_str(j, "body"), "456789ab");
  cJSON_Delete(j);
  /* A file shorter than promised fails, and its connection goes. */
  CHECK_EQ(cio_http_open(s,
                         &(cio_http_request){.method = "POST",
                                             .url = site_url("/up/echo"),
                                             .body = cio_http_body_file(fd, 10, 100, NULL)},
                         &res),
           -EIO);
  CHECK(strstr(cio_http_client_last_error(), "file shorter") != NULL);
  CHECK_EQ(stats(s).open, stats(s).idle);
  close(fd);
  unlink(path);
  /* A stream, chunked (nginx hands the upstream the whole body). */
  int parts = 20;
  CHECK_EQ(echo(s,
                &(cio_http_request){.method = "POST",
                                    .url = site_url("/up/echo"),
                                    .body = cio_http_body_stream(stream_body, &parts, NULL)},
                &st, &j),
           0);
  const char *b = echo_str(j, "body");
  CHECK(b && strncmp(b, "part19;part18;", 14) == 0 && strstr(b, "part0;"));
  cJSON_Delete(j);
  /* A POST without a body says Content-Length: 0. */
  CHECK_EQ(echo(s, &(cio_http_request){.method = "POST", .url = site_url("/up/echo")}, &st, &j), 0);
  CHECK_STR(echo_header(j, "content-length"), "0");
  cJSON_Delete(j);
  /* Expect: 100-continue with nginx (which answers 100 itself). */
  CHECK_EQ(echo(s,
                &(cio_http_request){.method = "POST",
                                    .url = site_url("/up/echo"),
                                    .expect_continue = 1,
                                    .body = cio_http_body_buffer("xyz", 3, NULL)},
                &st, &j),
           0);
  CHECK_STR(echo_str(j, "body"), "xyz");
  cJSON_Delete(j);
  cio_http_session_free(s);
  return 0;
}

TASK_TEST(test_redirects) {
  cio_http_session *s = cio_http_session_new(NULL);
  cJSON *j = NULL;
  int st = 0;
  cio_http_response *res;
  static const struct {
    const char *path, *method_after;
    int body_kept;
  } cases[] = {{"/r/301", "GET", 0},
               {"/r/302", "GET", 0},
               {"/r/303", "GET", 0},
               {"/r/307", "POST", 1},
               {"/r/308", "POST", 1}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    CHECK_EQ(
        cio_http_open(s,
                      &(cio_http_request){.method = "POST",
                                          .url = site_url(cases[i].path),
                                          .body = cio_http_body_buffer("data", 4, "text/plain")},
                      &res),
        0);
    CHECK_EQ(cio_http_response_status(res), 200);
    CHECK_EQ(cio_http_response_redirects(res), 1);
    CHECK_STR(cio_http_response_url(res), site_url("/up/echo"));
    CHECK_EQ(cio_http_response_json(res, &j), 0);
    CHECK_STR(echo_str(j, "method"), cases[i].method_after);
    CHECK_STR(echo_str(j, "body"), cases[i].body_kept ? "data" : "");
    if (!cases[i].body_kept) CHECK(echo_header(j, "content-type") == NULL);
    cJSON_Delete(j);
    cio_http_response_free(res);
  }
  /* 303 after a PUT: GET. A GET through 301 stays GET. */
  CHECK_EQ(echo(s, &(cio_http_request){.method = "PUT", .url = site_url("/r/303")}, &st, &j), 0);
  CHECK_STR(echo_str(j, "method"), "GET");
  cJSON_Delete(j);
  /* A relative Location. */
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = site_url("/r/rel")}, &res), 0);
  CHECK_STR(cio_http_response_url(res), site_url("/static/hello.txt"));
  cio_http_response_free(res);
  /* A loop: -ELOOP, and the connection stays usable. */
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = site_url("/r/loop")}, &res), -ELOOP);
  CHECK(strstr(cio_http_client_last_error(), "redirects") != NULL);
  CHECK(res == NULL);
  CHECK_EQ(
      cio_http_open(s, &(cio_http_request){.url = site_url("/r/loop"), .max_redirects = 3}, &res),
      -ELOOP);
  /* Not following: the 3xx as it is. */
  CHECK_EQ(cio_http_open(s,
                         &(cio_http_request){.url = site_url("/r/loop"),
                                             .max_redirects = CIO_HTTP_NO_REDIRECTS},
                         &res),
           0);
  CHECK_EQ(cio_http_response_status(res), 302);
  cio_http_response_free(res);
  /* A 307 cannot resend a stream body: returned as it is. */
  int parts = 2;
  CHECK_EQ(
      cio_http_open(s,
                    &(cio_http_request){.method = "POST",
                                        .url = site_url("/r/307"),
                                        .body = cio_http_body_stream(stream_body, &parts, NULL)},
                    &res),
      0);
  CHECK_EQ(cio_http_response_status(res), 307);
  cio_http_response_free(res);
  CHECK_EQ(stats(s).open, stats(s).idle);
  cio_http_session_free(s);
  return 0;
}

TASK_TEST(test_credentials_stay_home) {
  cio_http_session *s = cio_http_session_new(NULL);
  cJSON *j = NULL;
  int st = 0;
  cio_http_field h[] = {
      {"Authorization", "Bearer secret-token"}, {"Cookie", "session=1"}, {"X-Other", "kept"}};
  /* Same origin: everything goes. */
  CHECK_EQ(echo(s, &(cio_http_request){.url = site_url("/r/302"), .headers = h, .num_headers = 3},
                &st, &j),
           0);
  CHECK_STR(echo_header(j, "authorization"), "Bearer secret-token");
  CHECK_STR(echo_header(j, "cookie"), "session=1");
  cJSON_Delete(j);
  /* To another origin (127.0.0.1 -> localhost): no credentials. */
  CHECK_EQ(echo(s, &(cio_http_request){.url = site_url("/r/cross"), .headers = h, .num_headers = 3},
                &st, &j),
           0);
  CHECK(echo_header(j, "authorization") == NULL);
  CHECK(echo_header(j, "cookie") == NULL);
  CHECK_STR(echo_header(j, "x-other"), "kept");
  cJSON_Delete(j);
  /* Basic auth from the URL, likewise. */
  char url[256];
  snprintf(url, sizeof url, "http://alice:s3cret@127.0.0.1:%d/r/cross", site.http);
  CHECK_EQ(echo(s, &(cio_http_request){.url = url}, &st, &j), 0);
  CHECK(echo_header(j, "authorization") == NULL);
  cJSON_Delete(j);
  snprintf(url, sizeof url, "http://alice:s3cret@127.0.0.1:%d/r/302", site.http);
  CHECK_EQ(echo(s, &(cio_http_request){.url = url}, &st, &j), 0);
  CHECK_STR(echo_header(j, "authorization"), "Basic YWxpY2U6czNjcmV0");
  cJSON_Delete(j);
  cio_http_session_free(s);
  return 0;
}

TASK_TEST(test_basic_auth) {
  cio_http_session *s = cio_http_session_new(NULL);
  char body[64];
  int st = 0;
  CHECK_EQ(get(s, site_url("/basic/hello.txt"), &st, body, sizeof body), 0);
  CHECK_EQ(st, 401);
  cio_http_response *res;
  CHECK_EQ(cio_http_open(s,
                         &(cio_http_request){.url = site_url("/basic/hello.txt"),
                                             .user = "alice",
                                             .password = "s3cret"},
                         &res),
           0);
  CHECK_EQ(cio_http_response_status(res), 200);
  cio_http_response_free(res);
  CHECK_EQ(cio_http_open(s,
                         &(cio_http_request){.url = site_url("/basic/hello.txt"),
                                             .user = "alice",
                                             .password = "wrong"},
                         &res),
           0);
  CHECK_EQ(cio_http_response_status(res), 401);
  cio_http_response_free(res);
  cio_http_session_free(s);
  return 0;
}

TASK_TEST(test_cookies) {
  cio_http_session *s = cio_http_session_new(&(cio_http_session_opts){.cookies = 1});
  char buf[256];
  int st = 0;
  CHECK_EQ(get(s, site_url("/cookie"), &st, NULL, 0), 0);
  CHECK_EQ(cio_http_session_cookies(s, site_url("/cookie/x"), buf, sizeof buf), 8);
  CHECK_STR(buf, "b=2; a=1"); /* the longer path first */
  CHECK_EQ(cio_http_session_cookies(s, site_url("/other"), buf, sizeof buf), 3);
  CHECK_STR(buf, "a=1");
  /* Host-only: not sent to localhost. */
  char url[128];
  snprintf(url, sizeof url, "http://localhost:%d/", site.http);
  CHECK_EQ(cio_http_session_cookies(s, url, buf, sizeof buf), 0);
  /* Sent with the next request. */
  cJSON *j = NULL;
  CHECK_EQ(echo(s, &(cio_http_request){.url = site_url("/up/echo")}, &st, &j), 0);
  CHECK_STR(echo_header(j, "cookie"), "a=1");
  cJSON_Delete(j);
  /* Set by hand; deleted by an expiry in the past; Domain rules. */
  CHECK_EQ(cio_http_session_set_cookie(s, "http://www.example.com/", "c=3; Domain=example.com"), 0);
  CHECK_EQ(cio_http_session_cookies(s, "http://api.example.com/", buf, sizeof buf), 3);
  CHECK_EQ(cio_http_session_set_cookie(s, "http://www.example.com/", "d=4; Domain=other.com"),
           -EINVAL);
  CHECK_EQ(cio_http_session_set_cookie(s, "http://www.example.com/", "d=4; Domain=com"), -EINVAL);
  CHECK_EQ(cio_http_session_set_cookie(s, "http://www.example.com/", "s=1; Secure"), -EINVAL);
  CHECK_EQ(cio_http_session_set_cookie(s, "https://www.example.com/", "s=1; Secure"), 0);
  CHECK_EQ(cio_http_session_cookies(s, "http://www.example.com/", buf, sizeof buf), 3);
  CHECK_EQ(cio_http_session_cookies(s, "https://www.example.com/", buf, sizeof buf), 8);
  CHECK_EQ(cio_http_session_set_cookie(s, "http://www.example.com/",
                                       "c=; Domain=example.com; Max-Age=0"),
           0);
  CHECK_EQ(cio_http_session_cookies(s, "http://api.example.com/", buf, sizeof buf), 0);
  CHECK_EQ(cio_http_session_cookies(s, "http://www.example.com/", buf, 2), 0);
  cio_http_session *off = cio_http_session_new(NULL);
  CHECK_EQ(cio_http_session_cookies(off, site_url("/"), buf, sizeof buf), -ENOTSUP);
  cio_http_session_free(off);
  cio_http_session_free(s);
  return 0;
}

TASK_TEST(test_https) {
  cio_http_session *s =
      cio_http_session_new(&(cio_http_session_opts){.ca_file = site_path("certs/ca.pem")});
  char body[256];
  int st = 0;
  CHECK_EQ(get(s, site_surl("localhost", "/static/hello.txt"), &st, body, sizeof body), 0);
  CHECK_EQ(st, 200);
  CHECK_STR(body, "hello from nginx\n");
  CHECK_EQ(get(s, site_surl("localhost", "/gz/data.json"), &st, body, sizeof body), 0);
  CHECK(strncmp(body, "{\"name\": \"cio\"", 14) == 0);
  CHECK_EQ(stats(s).created, 1); /* kept alive over TLS too */
  CHECK_EQ(get(s, site_surl("127.0.0.1", "/static/hello.txt"), &st, NULL, 0), 0);
  /* 127.0.0.2 is not in the certificate. */
  CHECK_EQ(get(s, site_surl("127.0.0.2", "/static/hello.txt"), &st, NULL, 0), -CIO_ECERT);
  CHECK(strstr(cio_http_client_last_error(), "certificate") != NULL);
  CHECK_EQ(stats(s).open, stats(s).idle);
  cio_http_session_free(s);
  /* The system store does not trust the test CA. */
  s = cio_http_session_new(NULL);
  CHECK_EQ(get(s, site_surl("localhost", "/"), &st, NULL, 0), -CIO_ECERT);
  cio_http_session_free(s);
  /* Client certificates. */
  char url[128];
  snprintf(url, sizeof url, "https://localhost:%d/", site.mtls);
  s = cio_http_session_new(&(cio_http_session_opts){.ca_file = site_path("certs/ca.pem"),
                                                    .cert_file = site_path("certs/client.pem"),
                                                    .key_file = site_path("certs/client.key")});
  CHECK_EQ(get(s, url, &st, body, sizeof body), 0);
  CHECK_EQ(st, 200);
  CHECK(strstr(body, "cio test client") != NULL);
  cio_http_session_free(s);
  s = cio_http_session_new(&(cio_http_session_opts){.ca_file = site_path("certs/ca.pem")});
  CHECK_EQ(get(s, url, &st, NULL, 0), 0);
  CHECK_EQ(st, 400); /* nginx: "No required SSL certificate was sent" */
  cio_http_session_free(s);
  return 0;
}

/* ---- a CONNECT proxy (a real one, on cio streams) ---- */

typedef struct pipe_arg {
  cio_stream *from, *to;
} pipe_arg;

static int pump(void *arg) {
  pipe_arg *p = arg;
  char buf[16384];
  ssize_t n;
  while ((n = cio_stream_read(p->from, buf, sizeof buf)) > 0) {
    int r = cio_stream_write(p->to, buf, (size_t)n);
    if (r == 0) r = cio_stream_drain(p->to);
    if (r < 0) return r;
  }
  cio_stream_shutdown_write(p->to);
  return (int)n;
}

static int proxy_conn(cio_stream *s, void *arg) {
  int *tunnels = arg;
  char line[512], host[256];
  int port = 0;
  ssize_t n = cio_stream_readline(s, line, sizeof line - 1);
  if (n <= 0) return 0;
  line[n] = '\0';
  if (sscanf(line, "CONNECT %255[^:]:%d HTTP/1.1", host, &port) != 2) {
    cio_stream_write(s, "HTTP/1.1 405 No\r\nContent-Length: 0\r\n\r\n", 38);
    return cio_stream_flush(s);
  }
  while ((n = cio_stream_readline(s, line, sizeof line)) > 2) {
  }
  cio_stream *up;
  if (cio_open_connection(host, port, NULL, &up) < 0) {
    cio_stream_write(s, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n", 47);
    return cio_stream_flush(s);
  }
  (*tunnels)++;
  cio_stream_write(s, "HTTP/1.1 200 Connection established\r\n\r\n", 39);
  pipe_arg a = {s, up}, b = {up, s};
  cio_task *t[2] = {cio_spawn(pump, &a), cio_spawn(pump, &b)};
  cio_gather(t, 2, NULL, CIO_GATHER_ALL);
  cio_task_release(t[0]);
  cio_task_release(t[1]);
  cio_stream_free(up);
  return 0;
}

TASK_TEST(test_connect_proxy) {
  int tunnels = 0;
  cio_server *px = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, proxy_conn, &tunnels, NULL, &px), 0);
  char proxy[64];
  snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", cio_server_port(px));
  cio_http_session *s = cio_http_session_new(
      &(cio_http_session_opts){.proxy = proxy, .ca_file = site_path("certs/ca.pem")});
  char body[128];
  int st = 0;
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(get(s, site_surl("localhost", "/static/hello.txt"), &st, body, sizeof body), 0);
    CHECK_EQ(st, 200);
    CHECK_STR(body, "hello from nginx\n");
  }
  CHECK_EQ(tunnels, 1); /* the tunnel is pooled like any connection */
  /* The certificate is checked end to end, through the tunnel. */
  CHECK_EQ(get(s, site_surl("127.0.0.2", "/"), &st, NULL, 0), -CIO_ECERT);
  cio_http_session_free(s);
  /* A proxy that refuses CONNECT. */
  cio_http_session *bad = cio_http_session_new(&(cio_http_session_opts){.proxy = site_url("")});
  CHECK_EQ(get(bad, site_surl("localhost", "/"), &st, NULL, 0), -EPROTO);
  CHECK(strstr(cio_http_client_last_error(), "refused CONNECT") != NULL);
  cio_http_session_free(bad);
  /* Plain HTTP through an HTTP proxy: absolute-form (nginx serves it). */
  cio_http_session *fwd = cio_http_session_new(&(cio_http_session_opts){.proxy = site_url("")});
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/static/hello.txt", site.http);
  CHECK_EQ(get(fwd, url, &st, body, sizeof body), 0);
  CHECK_EQ(st, 200);
  cio_http_session_free(fwd);
  CHECK_EQ(cio_http_session_new(&(cio_http_session_opts){.proxy = "https://x:1"}) == NULL, 1);
  CHECK_EQ(errno, EINVAL);
  cio_server_close(px, 1.0);
  cio_server_free(px);
  return 0;
}

TASK_TEST(test_timeouts) {
  cio_http_session *s = cio_http_session_new(&(cio_http_session_opts){.read_timeout = 1.0});
  cio_http_response *res;
  /* No byte for longer than the read timeout. */
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = site_url("/up/slow?delay=4")}, &res),
           -ETIMEDOUT);
  CHECK(strstr(cio_http_client_last_error(), "read timeout") != NULL);
  CHECK_EQ(stats(s).open, 0);
  /* Bytes that keep coming do not trip it... */
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = site_url("/up/drip?n=6&delay=0.1")}, &res),
           0);
  const char *d;
  CHECK_EQ(cio_http_response_body(res, &d), 6);
  cio_http_response_free(res);
  /* ... but the whole-request timeout does, mid-body. */
  CHECK_EQ(
      cio_http_open(
          s, &(cio_http_request){.url = site_url("/up/drip?n=40&delay=0.1"), .timeout = 1.0}, &res),
      0);
  CHECK_EQ(cio_http_response_body(res, &d), -ETIMEDOUT);
  CHECK(strstr(cio_http_client_last_error(), "request timeout") != NULL);
  cio_http_response_free(res);
  CHECK_EQ(stats(s).open, stats(s).idle);
  /* The task's own scope ends a request too. */
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 0.2);
  CHECK_EQ(cio_http_open(s,
                         &(cio_http_request){.url = site_url("/up/slow?delay=3"),
                                             .read_timeout = CIO_FOREVER},
                         &res),
           -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&sc), 1);
  CHECK_EQ(stats(s).open, stats(s).idle);
  cio_http_session_free(s);
  return 0;
}

TASK_TEST(test_body_limits_and_save) {
  cio_http_session *s = cio_http_session_new(&(cio_http_session_opts){.max_body = 1000});
  cio_http_response *res;
  const char *d;
  /* Content-Length says it is too big: nothing read, connection closed. */
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = site_url("/static/big.bin")}, &res), 0);
  CHECK_EQ(cio_http_response_body(res, &d), -EFBIG);
  CHECK_EQ(cio_http_response_body(res, &d), -EFBIG); /* sticky */
  cio_http_response_free(res);
  CHECK_EQ(stats(s).open, 0);
  /* Decoded bytes past the limit (gzip, chunked). */
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = site_url("/gz/big.bin")}, &res), 0);
  CHECK_EQ(cio_http_response_body(res, &d), -EFBIG);
  cio_http_response_free(res);
  /* A per-request limit, and save() to a file (no limit). */
  CHECK_EQ(
      cio_http_open(s, &(cio_http_request){.url = site_url("/static/big.bin"), .max_body = 2 << 20},
                    &res),
      0);
  CHECK_EQ(cio_http_response_body(res, &d), 1 << 20);
  cio_http_response_free(res);
  char path[] = "/tmp/cio-client-save-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  cio_file *f;
  CHECK_EQ(cio_file_open(path, O_WRONLY | O_TRUNC, 0, &f), 0);
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = site_url("/gz/big.bin")}, &res), 0);
  CHECK_EQ(cio_http_response_save(res, f), 1 << 20);
  cio_http_response_free(res);
  CHECK_EQ(cio_file_close(f), 0);
  cio_file_free(f);
  void *data;
  size_t len;
  CHECK_EQ(cio_file_read_all(path, &data, &len), 0);
  CHECK_EQ(len, 1 << 20);
  CHECK(len == 1 << 20 && ((unsigned char *)data)[777777] == ((777777 * 7 + 777777 / 251) & 255));
  free(data);
  unlink(path);
  /* close() drops a short rest and keeps the connection; a long one not. */
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = site_url("/static/hello.txt")}, &res), 0);
  CHECK_EQ(cio_http_response_close(res), 0);
  char b[8];
  CHECK_EQ(cio_http_response_read(res, b, sizeof b), -EBADF);
  cio_http_response_free(res);
  CHECK_EQ(stats(s).idle, 1);
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = site_url("/static/big.bin")}, &res), 0);
  CHECK_EQ(cio_http_response_close(res), 0);
  cio_http_response_free(res);
  CHECK_EQ(stats(s).open, stats(s).idle);
  cio_http_session_free(s);
  return 0;
}

/* Many tasks, one session: limits hold, everything is reused. */
typedef struct fetcher {
  cio_http_session *s;
  int ok;
  size_t peak_open;
} fetcher;

static int fetch_many(void *arg) {
  fetcher *f = arg;
  for (int i = 0; i < 10; i++) {
    cio_http_response *res;
    int r = cio_http_open(f->s, &(cio_http_request){.url = site_url("/up/slow?delay=0.01")}, &res);
    if (r < 0) return r;
    cio_http_pool_stats p = stats(f->s);
    if (p.open > f->peak_open) f->peak_open = p.open;
    const char *d;
    r = (int)cio_http_response_body(res, &d);
    cio_http_response_free(res);
    if (r < 0) return r;
    f->ok++;
  }
  return 0;
}

TASK_TEST(test_pool_limits) {
  cio_http_session *s =
      cio_http_session_new(&(cio_http_session_opts){.max_per_host = 3, .idle_timeout = 0.3});
  fetcher f[12];
  cio_task *t[12];
  for (int i = 0; i < 12; i++) {
    f[i] = (fetcher){.s = s};
    t[i] = cio_spawn(fetch_many, &f[i]);
  }
  CHECK_EQ(cio_gather(t, 12, NULL, 0), 0);
  size_t peak = 0;
  for (int i = 0; i < 12; i++) {
    cio_task_release(t[i]);
    CHECK_EQ(f[i].ok, 10);
    if (f[i].peak_open > peak) peak = f[i].peak_open;
  }
  CHECK(peak <= 3);
  cio_http_pool_stats p = stats(s);
  CHECK_EQ(p.created, 3);
  CHECK_EQ(p.reused, 117);
  CHECK_EQ(p.open, 3);
  CHECK_EQ(p.waiting, 0);
  /* Idle connections expire (within idle_timeout and a sweep). */
  for (int i = 0; i < 500 && stats(s).open; i++) cio_sleep(0.02);
  CHECK_EQ(stats(s).open, 0);
  /* A closed session refuses new requests. */
  cio_http_session_close(s);
  cio_http_response *res;
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = site_url("/")}, &res), -ESHUTDOWN);
  cio_http_session_free(s);
  return 0;
}

/* A response outlives its session's free. */
TASK_TEST(test_response_outlives_session) {
  cio_http_session *s = cio_http_session_new(NULL);
  cio_http_response *res;
  CHECK_EQ(
      cio_http_open(s, &(cio_http_request){.url = site_url("/up/chunked?n=3&delay=0.05")}, &res),
      0);
  cio_http_session_free(s);
  const char *d;
  CHECK_EQ(cio_http_response_body(res, &d), 24);
  cio_http_response_free(res);
  return 0;
}

int main(void) {
  if (site_start() != 0) {
    fprintf(stderr, "could not start nginx (tests/http/client/site.sh)\n");
    site_stop();
    return 1;
  }
  RUN(test_get_static_and_reuse);
  RUN(test_head_and_headers);
  RUN(test_gzip);
  RUN(test_chunked_upstream);
  RUN(test_query_and_headers);
  RUN(test_bodies);
  RUN(test_redirects);
  RUN(test_credentials_stay_home);
  RUN(test_basic_auth);
  RUN(test_cookies);
  RUN(test_https);
  RUN(test_connect_proxy);
  RUN(test_timeouts);
  RUN(test_body_limits_and_save);
  RUN(test_pool_limits);
  RUN(test_response_outlives_session);
  site_stop();
  return test_report();
}
