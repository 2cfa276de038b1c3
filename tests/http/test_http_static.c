/* test_http_static.c - StaticFiles: files, MIME types, index.html and the
 * directory redirect (html mode), 404.html, no way out of the root ("..",
 * "%2e%2e", encoded slashes, symbolic links leading out; links inside are
 * fine), conditional requests (ETag / If-None-Match, If-Modified-Since:
 * 304), ranges (206, 416, If-Range), HEAD, methods (405), unreadable files
 * (401), mounting errors; the escapes again without openat2. The tree is made in a private
 * temporary dir. */
#include "test.h"
#include "test_loop.h"

#include "http_test.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* src/http/http_internal.h: resolve as on a kernel without openat2 */
void cio__http_static_no_openat2(int off);

static resp R;
static char root[256], outside[256];

static void put_file(const char *dir, const char *name, const char *content) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  CHECK(f != NULL);
  if (f) {
    fputs(content, f);
    fclose(f);
  }
}

static void make_tree(void) {
  snprintf(root, sizeof root, "/tmp/cio-static-%d", (int)getpid());
  snprintf(outside, sizeof outside, "/tmp/cio-static-%d-outside", (int)getpid());
  mkdir(root, 0755);
  mkdir(outside, 0755);
  char p[512];
  snprintf(p, sizeof p, "%s/sub", root);
  mkdir(p, 0755);
  snprintf(p, sizeof p, "%s/noindex", root);
  mkdir(p, 0755);
  put_file(root, "index.html", "<h1>home</h1>");
  put_file(root, "app.js", "console.log(1)");
  put_file(root, "style.css", "body{}");
  put_file(root, "data.json", "{\"a\":1}");
  put_file(root, "logo.png", "\x89PNG");
  put_file(root, "notes.unknownext", "?");
  put_file(root, "digits.txt", "0123456789");
  put_file(root, "sub/index.html", "<p>sub</p>");
  put_file(root, "sub/page.html", "<p>page</p>");
  put_file(root, "404.html", "<p>custom 404</p>");
  put_file(root, "secret.txt", "no");
  snprintf(p, sizeof p, "%s/secret.txt", root);
  chmod(p, 0);
  put_file(outside, "passwd", "root:x:0:0");
  /* a link leading out of the root, and one staying inside */
  char target[512];
  snprintf(p, sizeof p, "%s/escape", root);
  snprintf(target, sizeof target, "%s/passwd", outside);
  CHECK_EQ(symlink(target, p), 0);
  snprintf(p, sizeof p, "%s/escape-dir", root);
  CHECK_EQ(symlink(outside, p), 0);
  snprintf(p, sizeof p, "%s/inside", root);
  CHECK_EQ(symlink("digits.txt", p), 0);
}

static void remove_tree(void) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", root, outside);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
}

static int api(cio_http_req *req, cio_http_res *res, void *arg) {
  return cio_http_res_text(res, 200, "api");
}

static cio_http_app *cur_app;

static cio_http_server *serve(const cio_http_static_opts *so, const char *prefix, int *port) {
  cio_http_app *app = cur_app = cio_http_app_new(NULL);
  cio_http_app_get(app, "/api", api, NULL);
  CHECK_EQ(cio_http_app_mount_static(app, prefix, root, so), 0);
  cio_http_server *s = NULL;
  CHECK_EQ(cio_http_server_open(app, NULL, &s), 0);
  *port = cio_http_server_port(s);
  return s;
}

static void unserve(cio_http_server *s) {
  cio_http_app *app = cur_app;
  CHECK_EQ(cio_http_server_close(s, 1), 0);
  cio_http_server_free(s);
  cio_http_app_free(app);
}

LOOP_TEST(test_files_and_types) {
  cio_http_static_opts so = {.html = 1, .cache_control = "max-age=60"};
  int port;
  cio_http_server *s = serve(&so, "/", &port);
  static const struct {
    const char *path, *type, *body;
  } cases[] = {
      {"/index.html", "text/html; charset=utf-8", "<h1>home</h1>"},
      {"/", "text/html; charset=utf-8", "<h1>home</h1>"},
      {"/app.js", "text/javascript; charset=utf-8", "console.log(1)"},
      {"/style.css", "text/css; charset=utf-8", "body{}"},
      {"/data.json", "application/json", "{\"a\":1}"},
      {"/logo.png", "image/png", "\x89PNG"},
      {"/notes.unknownext", "text/plain; charset=utf-8", "?"},
      {"/sub/", "text/html; charset=utf-8", "<p>sub</p>"},
      {"/sub/page.html", "text/html; charset=utf-8", "<p>page</p>"},
      {"/sub/../sub/./page.html", "text/html; charset=utf-8", "<p>page</p>"},
      {"/inside", "text/plain; charset=utf-8", "0123456789"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    CHECK_EQ(get(port, cases[i].path, &R), 0);
    if (R.status != 200) fprintf(stderr, "%s -> %d\n", cases[i].path, R.status);
    CHECK_EQ(R.status, 200);
    CHECK_STR(resp_header(&R, "content-type"), cases[i].type);
    CHECK_STR(body_str(&R), cases[i].body);
    CHECK_STR(resp_header(&R, "cache-control"), "max-age=60");
    CHECK_STR(resp_header(&R, "accept-ranges"), "bytes");
    CHECK(resp_header(&R, "etag") != NULL && resp_header(&R, "etag")[0] == '"');
    CHECK(resp_header(&R, "last-modified") != NULL);
  }
  /* routes added before the root mount come first */
  CHECK_EQ(get(port, "/api", &R), 0);
  CHECK_STR(body_str(&R), "api");
  /* a directory URL without its '/': 307 to it */
  CHECK_EQ(roundtrip(port, "GET /sub?x=1 HTTP/1.1\r\nHost: h:9\r\n\r\n", &R), 0);
  CHECK_EQ(R.status, 307);
  CHECK_STR(resp_header(&R, "location"), "http://h:9/sub/?x=1");
  /* HTTP/1.0 without Host: a relative one (the fuzzer's find: the length
   * of the absent Host was read uninitialized) */
  CHECK_EQ(roundtrip(port, "GET /. HTTP/1.0\r\n\r\n", &R), 0);
  CHECK_EQ(R.status, 307);
  CHECK_STR(resp_header(&R, "location"), "/./");
  CHECK_EQ(roundtrip(port, "GET /sub HTTP/1.0\r\n\r\n", &R), 0);
  CHECK_EQ(R.status, 307);
  CHECK_STR(resp_header(&R, "location"), "/sub/");
  /* missing: the custom 404.html, status 404 */
  CHECK_EQ(get(port, "/missing.html", &R), 0);
  CHECK_EQ(R.status, 404);
  CHECK_STR(body_str(&R), "<p>custom 404</p>");
  CHECK_EQ(get(port, "/noindex/", &R), 0);
  CHECK_EQ(R.status, 404);
  /* HEAD: the headers, no body */
  CHECK_EQ(roundtrip(port, "HEAD /digits.txt HTTP/1.1\r\nHost: t\r\n\r\n", &R), 0);
  CHECK_EQ(R.status, 200);
  CHECK_STR(resp_header(&R, "content-length"), "10");
  CHECK_EQ(R.body_len, 0);
  /* other methods: 405, as StaticFiles answers */
  CHECK_EQ(roundtrip(port, "POST /digits.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", &R),
           0);
  CHECK_EQ(R.status, 405);
  CHECK_STR(body_str(&R), "{\"detail\":\"Method Not Allowed\"}");
  CHECK_STR(resp_header(&R, "allow"), "GET, HEAD");
  /* unreadable: 401 (Starlette's answer to PermissionError) - unless we
   * are root, whom permissions do not stop */
  CHECK_EQ(get(port, "/secret.txt", &R), 0);
  CHECK_EQ(R.status, geteuid() == 0 ? 200 : 401);
  unserve(s);
  return 0;
}

LOOP_TEST(test_no_way_out) {
  cio_http_static_opts so = {.html = 0};
  int port;
  cio_http_server *s = serve(&so, "/static", &port);
  static const char *const bad[] = {
      "/static/../digits.txt", /* the route never sees this as inside */
      "/static/%2e%2e/%2e%2e/etc/passwd",
      "/static/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
      "/static/sub/../../etc/passwd",
      "/static/..%2f..%2fetc/passwd",
      "/static/escape",            /* symlink to a file outside */
      "/static/escape-dir/passwd", /* through a symlinked directory */
      "/static/%00",
      "/static/digits.txt%00.png",
      "/static//etc/passwd",
      "/static/sub", /* a directory without html mode */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK_EQ(get(port, bad[i], &R), 0);
    if (R.status != 404) fprintf(stderr, "%s -> %d %s\n", bad[i], R.status, body_str(&R));
    CHECK_EQ(R.status, 404);
    CHECK(strstr(body_str(&R), "root:") == NULL);
  }
  CHECK_EQ(get(port, "/static/digits.txt", &R), 0);
  CHECK_EQ(R.status, 200);
  unserve(s);
  /* follow_symlinks: the operator's choice */
  so.follow_symlinks = 1;
  s = serve(&so, "/static", &port);
  CHECK_EQ(get(port, "/static/escape", &R), 0);
  CHECK_EQ(R.status, 200);
  CHECK_STR(body_str(&R), "root:x:0:0");
  CHECK_EQ(get(port, "/static/%2e%2e/x", &R), 0); /* ".." still cannot climb */
  CHECK_EQ(R.status, 404);
  unserve(s);
  return 0;
}

LOOP_TEST(test_conditional_and_ranges) {
  int port;
  cio_http_server *s = serve(NULL, "/", &port);
  CHECK_EQ(get(port, "/digits.txt", &R), 0);
  char etag[64], lm[64], req[512];
  snprintf(etag, sizeof etag, "%s", resp_header(&R, "etag"));
  snprintf(lm, sizeof lm, "%s", resp_header(&R, "last-modified"));
  snprintf(req, sizeof req,
           "GET /digits.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"x\", %s\r\n\r\n", etag);
  CHECK_EQ(roundtrip(port, req, &R), 0);
  CHECK_EQ(R.status, 304);
  CHECK_EQ(R.body_len, 0);
  CHECK_STR(resp_header(&R, "etag"), etag);
  CHECK(resp_header(&R, "content-length") == NULL);
  snprintf(req, sizeof req, "GET /digits.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: W/%s\r\n\r\n",
           etag);
  CHECK_EQ(roundtrip(port, req, &R), 0);
  CHECK_EQ(R.status, 304); /* weak comparison */
  CHECK_EQ(roundtrip(port, "GET /digits.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: *\r\n\r\n", &R),
           0);
  CHECK_EQ(R.status, 304);
  CHECK_EQ(roundtrip(port,
                     "GET /digits.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"other\"\r\n\r\n", &R),
           0);
  CHECK_EQ(R.status, 200);
  snprintf(req, sizeof req, "GET /digits.txt HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: %s\r\n\r\n",
           lm);
  CHECK_EQ(roundtrip(port, req, &R), 0);
  CHECK_EQ(R.status, 304);
  CHECK_EQ(roundtrip(port,
                     "GET /digits.txt HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: Sun, 06 Nov "
                     "1994 08:49:37 GMT\r\n\r\n",
                     &R),
           0);
  CHECK_EQ(R.status, 200);
  CHECK_EQ(roundtrip(port,
                     "GET /digits.txt HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: Sunday, "
                     "06-Nov-94 08:49:37 GMT\r\n\r\n",
                     &R),
           0);
  CHECK_EQ(R.status, 200);
  CHECK_EQ(roundtrip(port,
                     "GET /digits.txt HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: garbage\r\n\r\n",
                     &R),
           0);
  CHECK_EQ(R.status, 200);
  static const struct {
    const char *range;
    int status;
    const char *body, *content_range;
  } ranges[] = {
      {"bytes=2-5", 206, "2345", "bytes 2-5/10"},
      {"bytes=7-", 206, "789", "bytes 7-9/10"},
      {"bytes=-3", 206, "789", "bytes 7-9/10"},
      {"bytes=-30", 206, "0123456789", "bytes 0-9/10"},
      {"bytes=8-100", 206, "89", "bytes 8-9/10"},
      {"bytes=10-", 416, "", "bytes */10"},
      {"bytes=-0", 416, "", "bytes */10"},
      {"bytes=5-2", 200, "0123456789", NULL},     /* invalid: ignored */
      {"bytes=0-1,3-4", 200, "0123456789", NULL}, /* several: the whole file */
      {"items=0-1", 200, "0123456789", NULL},
  };
  for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
    snprintf(req, sizeof req, "GET /digits.txt HTTP/1.1\r\nHost: t\r\nRange: %s\r\n\r\n",
             ranges[i].range);
    CHECK_EQ(roundtrip(port, req, &R), 0);
    if (R.status != ranges[i].status) fprintf(stderr, "%s -> %d\n", ranges[i].range, R.status);
    CHECK_EQ(R.status, ranges[i].status);
    CHECK_STR(body_str(&R), ranges[i].body);
    if (ranges[i].content_range)
      CHECK_STR(resp_header(&R, "content-range"), ranges[i].content_range);
  }
  /* If-Range: the range only while the file is what the client has */
  snprintf(req, sizeof req,
           "GET /digits.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-1\r\nIf-Range: %s\r\n\r\n", etag);
  CHECK_EQ(roundtrip(port, req, &R), 0);
  CHECK_EQ(R.status, 206);
  CHECK_EQ(roundtrip(port,
                     "GET /digits.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-1\r\nIf-Range: "
                     "\"stale\"\r\n\r\n",
                     &R),
           0);
  CHECK_EQ(R.status, 200);
  CHECK_STR(body_str(&R), "0123456789");
  unserve(s);
  return 0;
}

static void test_mount_errors(void) {
  cio_http_app *app = cio_http_app_new(NULL);
  CHECK_EQ(cio_http_app_mount_static(app, "/", "/nonexistent/dir", NULL), -ENOENT);
  CHECK(cio_http_app_error(app) != NULL);
  char p[512];
  snprintf(p, sizeof p, "%s/digits.txt", root);
  CHECK_EQ(cio_http_app_mount_static(app, "/", p, NULL), -ENOTDIR);
  CHECK_EQ(cio_http_app_mount_static(app, "/", NULL, NULL), -EINVAL);
  CHECK_EQ(cio_http_app_mount_static(app, "x", root, NULL), -EINVAL);
  cio_http_app_free(app);
}

int main(void) {
  make_tree();
  RUN(test_files_and_types);
  RUN(test_no_way_out);
  /* again as on a kernel without openat2 (the check is then the opened
   * file's path under /proc/self/fd) */
  cio__http_static_no_openat2(1);
  RUN(test_no_way_out);
  RUN(test_files_and_types);
  cio__http_static_no_openat2(0);
  RUN(test_conditional_and_ranges);
  RUN(test_mount_errors);
  remove_tree();
  return test_report();
}
