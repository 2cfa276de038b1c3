/* cio-http-demo - a small HTTP server built on cio's http layer, for load
 * tests, benchmarks and outside checks.
 *
 *   cio-http-demo [--host H] [--port P] [--static DIR] [--workers N]
 *                 [--access-log] [--log-level LEVEL] [--cert PEM --key PEM]
 *
 *   GET  /          "Hello, World!" (text/plain)
 *   GET  /json      {"message":"Hello, World!"}
 *   POST /echo      the request body back (Content-Length or chunked)
 *   GET  /static/…  the files of DIR (with --static), index.html for "/"
 *
 * CORS is open to every origin. With --cert and --key it speaks HTTPS
 * (cio/tls.h). Port 8000 by default (uvicorn's); port 0
 * picks a free one. The server prints "port N" on stdout once it listens
 * (for scripts), logs like uvicorn on stderr, and stops gracefully on
 * SIGINT or SIGTERM.
 */
#include <cio.h>
#include <cio/http.h>
#include <cio/tls.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hello(cio_http_req *req, cio_http_res *res, void *arg) {
  (void)req;
  (void)arg;
  return cio_http_res_text(res, 200, "Hello, World!");
}

static int json(cio_http_req *req, cio_http_res *res, void *arg) {
  (void)req;
  (void)arg;
  cio_json *j = cio_http_res_json(res, 200);
  cio_json_object(j);
  cio_json_key(j, "message");
  cio_json_str(j, "Hello, World!");
  return cio_json_object_end(j);
}

static int echo(cio_http_req *req, cio_http_res *res, void *arg) {
  (void)arg;
  const char *body;
  ssize_t n = cio_http_req_body(req, &body);
  if (n < 0) return (int)n; /* 413, 400, 408 from the framework */
  size_t tl;
  const char *type = cio_http_req_header(req, "content-type", &tl);
  char t[128];
  snprintf(t, sizeof t, "%.*s", type ? (int)tl : 24, type ? type : "application/octet-stream");
  return cio_http_res_send(res, 200, t, body, (size_t)n);
}

/* Scripts read the port from stdout (useful with --port 0). */
static void announce(int port, void *arg) {
  (void)arg;
  printf("port %d\n", port);
  fflush(stdout);
}

static void usage(void) {
  fprintf(stderr,
          "usage: cio-http-demo [--host H] [--port P] [--static DIR] [--workers N]\n"
          "                     [--access-log] [--log-level LEVEL] [--cert PEM --key PEM]\n");
  exit(2);
}

int main(int argc, char **argv) {
  cio_http_serve_opts so = {.host = "127.0.0.1", .port = 8000, .on_listen = announce};
  cio_http_app_opts ao = {0};
  const char *dir = NULL, *cert = NULL, *key = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--host") == 0 && v) {
      so.host = v;
      i++;
    } else if (strcmp(a, "--port") == 0 && v) {
      so.port = atoi(v);
      i++;
    } else if (strcmp(a, "--static") == 0 && v) {
      dir = v;
      i++;
    } else if (strcmp(a, "--workers") == 0 && v) {
      char *end;
      long n = strtol(v, &end, 10);
      if (*end || n < 1 || n > CIO_HTTP_MAX_WORKERS) usage();
      so.workers = (size_t)n;
      i++;
    } else if (strcmp(a, "--cert") == 0 && v) {
      cert = v;
      i++;
    } else if (strcmp(a, "--key") == 0 && v) {
      key = v;
      i++;
    } else if (strcmp(a, "--access-log") == 0) {
      ao.access_log = 1;
    } else if (strcmp(a, "--log-level") == 0 && v) {
      setenv("CIO_LOG_LEVEL", v, 1);
      i++;
    } else {
      usage();
    }
  }
  if (!cert != !key) usage();
  cio_tls_ctx *tls = NULL;
  if (cert) {
    cio_tls_server_opts to = {.cert_file = cert, .key_file = key};
    if (!(tls = cio_tls_ctx_new_server(&to))) {
      fprintf(stderr, "cio-http-demo: TLS: %s\n", cio_tls_last_error());
      return 1;
    }
    so.tls = tls;
  }
  cio_http_app *app = cio_http_app_new(&ao);
  if (!app) return 1;
  cio_http_cors_opts cors = {.allow_origins = "*", .allow_methods = "*", .allow_headers = "*"};
  int r = cio_http_app_cors(app, &cors);
  if (r == 0) r = cio_http_app_route(app, "GET,HEAD", "/", hello, NULL);
  if (r == 0) r = cio_http_app_route(app, "GET,HEAD", "/json", json, NULL);
  if (r == 0) r = cio_http_app_post(app, "/echo", echo, NULL);
  cio_http_static_opts st = {.html = 1};
  if (r == 0 && dir) r = cio_http_app_mount_static(app, "/static", dir, &st);
  if (r < 0) {
    const char *why = cio_http_app_error(app);
    fprintf(stderr, "cio-http-demo: %s\n", why ? why : cio_strerror(r));
    cio_http_app_free(app);
    return 1;
  }
  r = cio_http_run(app, &so);
  cio_http_app_free(app);
  cio_tls_ctx_free(tls);
  if (r < 0) fprintf(stderr, "cio-http-demo: %s\n", cio_strerror(r));
  return r < 0 ? 1 : 0;
}
