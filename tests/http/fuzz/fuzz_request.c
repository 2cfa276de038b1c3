/* fuzz_request.c - the whole request path under fuzzing: each input is the
 * byte stream a client sends on one connection. It is written in two
 * pieces (cut where its first byte says) into a socketpair whose other end
 * is served by the real connection code (cio__http_conn_main) of an app
 * with typed routes, a mount, static files, CORS, middleware, body and JSON
 * readers and query decoding; what the server answers is read and checked
 * to be well-formed HTTP. Anything that crashes, leaks, hangs or answers
 * garbage is a finding. One loop and one app serve every input. */
#include "http_internal.h"

#include "cio/http.h"
#include "cio/io.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static cio_loop *loop;
static cio_http_app *app;
static cio_http_server *srv;
static char dir[64];

static int h_item(cio_http_req *req, cio_http_res *res, void *arg) {
  int64_t id;
  double d;
  size_t n;
  cio_http_req_param_int(req, "id", &id);
  cio_http_req_param_double(req, "x", &d);
  const char *q = cio_http_req_query(req, "q", &n);
  cio_http_req_query(req, "\xe4\xb8\xad", NULL);
  cio_json *j = cio_http_res_json(res, 200);
  cio_json_object(j);
  cio_json_key(j, "q");
  cio_json_str_n(j, q, q ? n : 0);
  cio_json_key(j, "path");
  const char *p = cio_http_req_path(req, &n);
  cio_json_str_n(j, p, n);
  return cio_json_object_end(j);
}

static int h_echo(cio_http_req *req, cio_http_res *res, void *arg) {
  const char *b;
  ssize_t n = cio_http_req_body(req, &b);
  if (n < 0) return (int)n;
  return cio_http_res_send(res, 200, "application/octet-stream", b, (size_t)n);
}

static int h_stream(cio_http_req *req, cio_http_res *res, void *arg) {
  char buf[7];
  ssize_t n;
  while ((n = cio_http_req_read(req, buf, sizeof buf)) > 0) {
    int e = cio_http_res_write(res, buf, (size_t)n);
    if (e < 0) return e;
  }
  return n < 0 ? (int)n : cio_http_res_end(res);
}

static int h_json(cio_http_req *req, cio_http_res *res, void *arg) {
  cJSON *j;
  int e = cio_http_req_json(req, &j);
  if (e == -EBADMSG) return cio_http_res_error(res, 422, "bad");
  if (e < 0) return e;
  char *s = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  e = cio_http_res_send(res, 200, "application/json", s, s ? strlen(s) : 0);
  cJSON_free(s);
  return e;
}

static int mw(cio_http_req *req, cio_http_res *res, void *arg) {
  size_t n;
  if (cio_http_req_header(req, "x-stop", &n)) return cio_http_res_error(res, 403, "stopped");
  cio_http_res_header(res, "X-Mw", "1");
  return cio_http_next(req, res);
}

static void setup(void) {
  loop = cio_loop_new(NULL);
  snprintf(dir, sizeof dir, "/tmp/cio-fuzz-static-%d", (int)getpid());
  mkdir(dir, 0755);
  char p[128];
  snprintf(p, sizeof p, "%s/index.html", dir);
  FILE *f = fopen(p, "w");
  if (f) {
    fputs("<h1>fuzz</h1>", f);
    fclose(f);
  }
  cio_http_app_opts o = {.max_head = 2048,
                         .max_headers = 20,
                         .max_body = 4096,
                         .head_timeout = 2,
                         .body_timeout = 2,
                         .send_timeout = 2};
  app = cio_http_app_new(&o);
  cio_http_cors_opts cors = {.allow_origins = "http://a.test", .allow_headers = "*"};
  cio_http_app_cors(app, &cors);
  cio_http_app_use(app, mw, NULL);
  cio_http_app_get(app, "/items/{id:int}", h_item, NULL);
  cio_http_app_get(app, "/f/{x:float}/{u:uuid}", h_item, NULL);
  cio_http_app_route(app, "POST,PUT", "/echo", h_echo, NULL);
  cio_http_app_post(app, "/stream", h_stream, NULL);
  cio_http_app_post(app, "/json", h_json, NULL);
  cio_http_app_get(app, "/p/{rest:path}", h_item, NULL);
  cio_http_static_opts so = {.html = 1};
  cio_http_app_mount_static(app, "/", dir, &so);
  /* a server object for the connection code, without a listening socket */
  srv = calloc(1, sizeof *srv);
  srv->app = app;
  srv->refs = 1;
  cio__hlist_init(&srv->conns);
}

typedef struct job {
  const uint8_t *d;
  size_t n;
  int fd;
} job;

static int client(void *arg) {
  job *j = arg;
  size_t cut = j->n ? j->d[0] % (j->n + 1) : 0;
  int r = 0;
  if (cut) r = (int)cio_write_all(j->fd, j->d, cut);
  for (int i = 0; r >= 0 && i < 3; i++) r = cio_yield();
  if (r >= 0 && j->n > cut) r = (int)cio_write_all(j->fd, j->d + cut, j->n - cut);
  shutdown(j->fd, SHUT_WR);
  /* read what the server answers until it closes: it must look like HTTP */
  char buf[65536];
  ssize_t n;
  int first = 1;
  while ((n = cio_read(j->fd, buf, sizeof buf)) > 0) {
    if (first && memcmp(buf, "HTTP/1.1 ", (size_t)n < 9 ? (size_t)n : 9) != 0) abort();
    first = 0;
  }
  return 0;
}

static int server(void *arg) {
  cio_stream *s = arg;
  int r = cio__http_conn_main(s, srv);
  cio_stream_free(s);
  return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  if (!loop) setup();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) abort();
  cio_stream *s = cio_stream_new(sv[0], NULL);
  job j = {d, n, sv[1]};
  cio_task *ts = cio_spawn(server, s);
  cio_task *tc = cio_spawn(client, &j);
  cio_loop_run_until_complete(loop, tc);
  cio_loop_run_until_complete(loop, ts);
  cio_task_release(ts);
  cio_task_release(tc);
  cio_close(sv[1]);
  if (srv->nconns != 0) abort();
  return 0;
}

/* Called by driver.c at the end of a CI run. */
void fuzz_report(void);
void fuzz_report(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  free(srv);
  cio_http_app_free(app);
  cio_loop_close(loop);
}
