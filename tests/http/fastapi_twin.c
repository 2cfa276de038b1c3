/* fastapi_twin - tests/http/clients/fastapi_app.py in C: the same routes,
 * parameters, CORS, static mount and lifespan, on cio's http layer.
 * fastapi_compare.py serves both and compares their answers; this program
 * is what a FastAPI user writes to port an app.
 *
 *   fastapi_twin STATIC_DIR     serves on 127.0.0.1, a free port ("port N") */
#include <cio.h>
#include <cio/http.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_root(cio_http_req *req, cio_http_res *res, void *arg) {
  cio_json *j = cio_http_res_json(res, 200);
  cio_json_object(j);
  cio_json_key(j, "message");
  cio_json_str(j, "Hello World");
  return cio_json_object_end(j);
}

/* An int parameter as Python prints it, beyond int64 too. */
static void json_param_int(cio_json *j, cio_http_req *req, const char *name) {
  size_t n;
  const char *text = cio_http_req_param(req, name, &n);
  cio_json_raw(j, text, n);
}

static int read_item(cio_http_req *req, cio_http_res *res, void *arg) {
  size_t n;
  const char *id = cio_http_req_param(req, "item_id", &n);
  cio_json *j = cio_http_res_json(res, 200);
  cio_json_object(j);
  cio_json_key(j, "item_id");
  json_param_int(j, req, "item_id");
  cio_json_key(j, "name");
  char name[4400];
  snprintf(name, sizeof name, "Item %.*s", (int)n, id);
  cio_json_str(j, name);
  return cio_json_object_end(j);
}

static int search(cio_http_req *req, cio_http_res *res, void *arg) {
  int64_t id = 0;
  int r = cio_http_req_param_int(req, "bug_id", &id);
  cio_json *j = cio_http_res_json(res, 200);
  cio_json_object(j);
  if (r == 0 && id == 404) {
    cio_json_key(j, "error");
    cio_json_str(j, "未找到该 bug");
    return cio_json_object_end(j);
  }
  cio_json_key(j, "bug_id");
  json_param_int(j, req, "bug_id");
  cio_json_key(j, "title");
  cio_json_str(j, "标题 \"quoted\" \\ \n\t\x01 é");
  cio_json_key(j, "none");
  cio_json_null(j);
  cio_json_key(j, "ratio");
  cio_json_double(j, 0.1);
  cio_json_key(j, "big");
  cio_json_double(j, 1e16);
  cio_json_key(j, "flag");
  cio_json_bool(j, 1);
  return cio_json_object_end(j);
}

static int files(cio_http_req *req, cio_http_res *res, void *arg) {
  size_t n;
  const char *p = cio_http_req_param(req, "path", &n);
  cio_json *j = cio_http_res_json(res, 200);
  cio_json_object(j);
  cio_json_key(j, "path");
  cio_json_str_n(j, p, n);
  return cio_json_object_end(j);
}

static void listening(int port, void *arg) {
  printf("port %d\n", port);
  fflush(stdout);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: fastapi_twin STATIC_DIR\n");
    return 2;
  }
  cio_http_app *app = cio_http_app_new(NULL);
  cio_http_cors_opts cors = {.allow_origins = "*", .allow_methods = "*", .allow_headers = "*"};
  cio_http_static_opts st = {.html = 1};
  int r = cio_http_app_cors(app, &cors);
  if (r == 0) r = cio_http_app_get(app, "/", read_root, NULL);
  if (r == 0) r = cio_http_app_get(app, "/items/{item_id:int}", read_item, NULL);
  if (r == 0) r = cio_http_app_get(app, "/id/{bug_id:int}", search, NULL);
  if (r == 0) r = cio_http_app_get(app, "/files/{path:path}", files, NULL);
  if (r == 0) r = cio_http_app_mount_static(app, "/", argv[1], &st);
  if (r < 0) {
    fprintf(stderr, "fastapi_twin: %s\n", cio_http_app_error(app));
    return 1;
  }
  cio_http_serve_opts so = {.on_listen = listening};
  r = cio_http_run(app, &so);
  cio_http_app_free(app);
  return r < 0;
}
