/* test_client_cioserver.c - the HTTP client (cio/http_client.h) against
 * cio's own HTTP server (cio/http.h) in the same loop: JSON both ways,
 * path parameters, bodies echoed, chunked streaming, many tasks sharing
 * one keep-alive pool, HTTPS with cio's TLS on both sides. */
#include "test.h"

#include "../io/test_certs.h"

#include <cio.h>
#include <cio/http.h>
#include <cio/http_client.h>
#include <cio/tls.h>
#include <cjson/cJSON.h>

#define TASK_TEST(name)                                                                            \
  static int name##_task(void *arg);                                                               \
  static void name(void) { CHECK_EQ(cio_run(name##_task, NULL), 0); }                              \
  static int name##_task(void *arg)

static int bug(cio_http_req *req, cio_http_res *res, void *arg) {
  (void)arg;
  int64_t id;
  if (cio_http_req_param_int(req, "id", &id) < 0) return cio_http_res_error(res, 422, "bad id");
  cio_json *j = cio_http_res_json(res, 200);
  cio_json_object(j);
  cio_json_key(j, "bug_id");
  cio_json_int(j, id);
  cio_json_key(j, "title");
  cio_json_str(j, "空指针");
  return cio_json_object_end(j);
}

static int echo(cio_http_req *req, cio_http_res *res, void *arg) {
  (void)arg;
  const char *body;
  ssize_t n = cio_http_req_body(req, &body);
  if (n < 0) return (int)n;
  return cio_http_res_send(res, 200, "application/octet-stream", body, (size_t)n);
}

static int stream(cio_http_req *req, cio_http_res *res, void *arg) {
  (void)req;
  (void)arg;
  int r = cio_http_res_start(res);
  for (int i = 0; r == 0 && i < 100; i++) {
    char line[32];
    int n = snprintf(line, sizeof line, "line %d\n", i);
    r = cio_http_res_write(res, line, (size_t)n);
  }
  return r == 0 ? cio_http_res_end(res) : r;
}

static cio_http_app *make_app(void) {
  cio_http_app *app = cio_http_app_new(NULL);
  cio_http_app_get(app, "/bugs/{id:int}", bug, NULL);
  cio_http_app_post(app, "/echo", echo, NULL);
  cio_http_app_get(app, "/stream", stream, NULL);
  return app;
}

static char base[64];

static const char *url(const char *path) {
  static char buf[8][128];
  static int i;
  char *b = buf[i++ % 8];
  snprintf(b, sizeof buf[0], "%s%s", base, path);
  return b;
}

typedef struct worker {
  cio_http_session *s;
  int id, ok;
} worker;

static int work(void *arg) {
  worker *w = arg;
  for (int i = 0; i < 20; i++) {
    char path[32];
    snprintf(path, sizeof path, "/bugs/%d", w->id * 100 + i);
    cio_http_response *res;
    int r = cio_http_open(w->s, &(cio_http_request){.url = url(path)}, &res);
    if (r < 0) return r;
    cJSON *j;
    r = cio_http_response_json(res, &j);
    cio_http_response_free(res);
    if (r < 0) return r;
    cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "bug_id");
    if (cJSON_IsNumber(id) && id->valueint == w->id * 100 + i) w->ok++;
    cJSON_Delete(j);
  }
  return 0;
}

static void exercise(cio_http_session *s) {
  cio_http_response *res;
  cJSON *j = NULL;
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = url("/bugs/42")}, &res), 0);
  CHECK_EQ(cio_http_response_status(res), 200);
  CHECK_EQ(cio_http_response_json(res, &j), 0);
  cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "title");
  CHECK(cJSON_IsString(t) && strcmp(t->valuestring, "空指针") == 0);
  cJSON_Delete(j);
  cio_http_response_free(res);
  /* FastAPI-style errors are responses. */
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = url("/bugs/abc")}, &res), 0);
  CHECK_EQ(cio_http_response_status(res), 422); /* FastAPI: not an int */
  cio_http_response_free(res);
  /* Bodies both ways: a buffer, and a chunked stream. */
  static char big[300000];
  for (size_t i = 0; i < sizeof big; i++) big[i] = (char)('a' + i % 26);
  CHECK_EQ(cio_http_open(s,
                         &(cio_http_request){.method = "POST",
                                             .url = url("/echo"),
                                             .body = cio_http_body_buffer(big, sizeof big, NULL)},
                         &res),
           0);
  const char *d;
  CHECK_EQ(cio_http_response_body(res, &d), (ssize_t)sizeof big);
  CHECK(memcmp(d, big, sizeof big) == 0);
  cio_http_response_free(res);
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = url("/stream")}, &res), 0);
  CHECK_EQ(cio_http_response_content_length(res), -1);
  ssize_t n = cio_http_response_body(res, &d);
  CHECK(n > 0 && strncmp(d, "line 0\nline 1\n", 14) == 0 && strstr(d, "line 99\n"));
  cio_http_response_free(res);
  /* Many tasks, one pool. */
  worker w[16];
  cio_task *tasks[16];
  for (int i = 0; i < 16; i++) {
    w[i] = (worker){.s = s, .id = i};
    tasks[i] = cio_spawn(work, &w[i]);
  }
  CHECK_EQ(cio_gather(tasks, 16, NULL, 0), 0);
  for (int i = 0; i < 16; i++) {
    CHECK_EQ(w[i].ok, 20);
    cio_task_release(tasks[i]);
  }
  cio_http_pool_stats p;
  cio_http_session_stats(s, &p);
  CHECK(p.reused > 0); /* how many: the server's idle timeout decides */
  CHECK_EQ(p.open, p.idle);
}

TASK_TEST(test_plain) {
  cio_http_app *app = make_app();
  cio_http_server *srv;
  CHECK_EQ(cio_http_server_open(app, NULL, &srv), 0);
  snprintf(base, sizeof base, "http://127.0.0.1:%d", cio_http_server_port(srv));
  cio_http_session *s = cio_http_session_new(NULL);
  exercise(s);
  cio_http_session_free(s);
  cio_http_server_close(srv, 1.0);
  cio_http_server_free(srv);
  cio_http_app_free(app);
  return 0;
}

TASK_TEST(test_tls) {
  CHECK_EQ(certs_make(), 0);
  cio_tls_ctx *sctx = certs_server_ctx();
  CHECK(sctx != NULL);
  cio_http_app *app = make_app();
  cio_http_server *srv;
  CHECK_EQ(cio_http_server_open(app, &(cio_http_serve_opts){.tls = sctx}, &srv), 0);
  snprintf(base, sizeof base, "https://localhost:%d", cio_http_server_port(srv));
  cio_http_session *s =
      cio_http_session_new(&(cio_http_session_opts){.ca_file = certs_path("ca.pem")});
  exercise(s);
  cio_http_session_free(s);
  /* A session-supplied context (borrowed) works as well. */
  cio_tls_ctx *cctx = certs_client_ctx();
  s = cio_http_session_new(&(cio_http_session_opts){.tls = cctx});
  cio_http_response *res;
  CHECK_EQ(cio_http_open(s, &(cio_http_request){.url = url("/bugs/7")}, &res), 0);
  cio_http_response_free(res);
  cio_http_session_free(s);
  cio_tls_ctx_free(cctx);
  cio_http_server_close(srv, 1.0);
  cio_http_server_free(srv);
  cio_http_app_free(app);
  cio_tls_ctx_free(sctx);
  certs_remove();
  return 0;
}

int main(void) {
  RUN(test_plain);
  RUN(test_tls);
  return test_report();
}
