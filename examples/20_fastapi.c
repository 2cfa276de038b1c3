/* 20_fastapi - the tutorial's FastAPI app in C: routes, a typed parameter, JSON, ten slow requests
 * at once.
 *
 * Tutorial 003 shows FastAPI as "the" async web framework:
 *
 *   app = FastAPI()
 *
 *   @app.get("/")
 *   async def read_root():
 *       await asyncio.sleep(0.1)              # 模拟异步操作
 *       return {"message": "Hello World"}
 *
 *   @app.get("/items/{item_id}")
 *   async def read_item(item_id: int):
 *       await asyncio.sleep(0.5)              # 模拟异步数据库查询
 *       return {"item_id": item_id, "name": f"Item {item_id}"}
 *
 * Here is the same app on cio's http layer, served on a free port of
 * 127.0.0.1 by a task of this program while another task is its client:
 * it asks for "/", then for ten items at once (each handler waits 0.5 s, as
 * the simulated database query does: together they take about 0.5 s, not
 * 5), then for an item whose id is not an integer (FastAPI's 422 answer)
 * and for a path no route has (404).
 */
#include <cio.h>
#include <cio/http.h>
#include <cio/net.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the app ---- */

static int read_root(cio_http_req *req, cio_http_res *res, void *arg) {
  int r = cio_sleep(0.1); /* await asyncio.sleep(0.1) */
  if (r < 0) return r;
  cio_json *j = cio_http_res_json(res, 200);
  cio_json_object(j);
  cio_json_key(j, "message");
  cio_json_str(j, "Hello World");
  return cio_json_object_end(j);
}

static int read_item(cio_http_req *req, cio_http_res *res, void *arg) {
  int64_t item_id;
  cio_http_req_param_int(req, "item_id", &item_id); /* converted: {item_id:int} */
  int r = cio_sleep(0.5);                           /* the "database query" */
  if (r < 0) return r;
  char name[64];
  snprintf(name, sizeof name, "Item %lld", (long long)item_id);
  cio_json *j = cio_http_res_json(res, 200);
  cio_json_object(j);
  cio_json_key(j, "item_id");
  cio_json_int(j, item_id);
  cio_json_key(j, "name");
  cio_json_str(j, name);
  return cio_json_object_end(j);
}

/* ---- the client: one GET per task, HTTP/1.1 over cio streams ---- */

typedef struct fetch {
  int port;
  char path[64];
  int status;
  char body[256];
} fetch;

static int get(void *arg) {
  fetch *f = arg;
  cio_stream *s;
  cio_connect_opts o = {.timeout = 5};
  int r = cio_open_connection("127.0.0.1", f->port, &o, &s);
  if (r < 0) return r;
  char req[128], resp[1024];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", f->path);
  r = cio_stream_write(s, req, (size_t)n);
  size_t got = 0;
  ssize_t k = 0;
  while (r == 0 && got < sizeof resp - 1 &&
         (k = cio_stream_read(s, resp + got, sizeof resp - 1 - got)) > 0)
    got += (size_t)k;
  cio_stream_free(s);
  if (r < 0 || k < 0) return r < 0 ? r : (int)k;
  resp[got] = '\0';
  const char *body = strstr(resp, "\r\n\r\n");
  f->status = atoi(resp + 9);
  snprintf(f->body, sizeof f->body, "%s", body ? body + 4 : "");
  return 0;
}

static int client(int port) {
  fetch root = {.port = port, .path = "/"};
  int r = get(&root);
  if (r < 0) return r;
  printf("GET / -> %d %s\n", root.status, root.body);

  fetch items[10];
  cio_task *t[10];
  double t0 = (double)cio_now_ns() / 1e9;
  for (int i = 0; i < 10; i++) {
    items[i] = (fetch){.port = port};
    snprintf(items[i].path, sizeof items[i].path, "/items/%d", i + 1);
    t[i] = cio_spawn(get, &items[i]);
  }
  r = cio_gather(t, 10, NULL, 0); /* asyncio.gather(*(fetch(...) for i in range(10))) */
  for (int i = 0; i < 10; i++) cio_task_release(t[i]);
  if (r < 0) return r;
  double took = (double)cio_now_ns() / 1e9 - t0;
  for (int i = 0; i < 10; i++)
    printf("GET %s -> %d %s\n", items[i].path, items[i].status, items[i].body);
  printf("ten items in %.2f s (one after another: 5 s)\n", took);

  fetch bad = {.port = port, .path = "/items/abc"}, none = {.port = port, .path = "/nowhere"};
  if ((r = get(&bad)) < 0 || (r = get(&none)) < 0) return r;
  printf("GET %s -> %d %s\n", bad.path, bad.status, bad.body);
  printf("GET %s -> %d %s\n", none.path, none.status, none.body);
  return 0;
}

static int main_task(void *arg) {
  cio_http_app *app = arg;
  cio_http_server *srv;
  int r = cio_http_server_open(app, NULL, &srv); /* 127.0.0.1, a free port */
  if (r < 0) return r;
  printf("serving on 127.0.0.1:%d\n", cio_http_server_port(srv));
  r = client(cio_http_server_port(srv));
  int c = cio_http_server_close(srv, 1.0);
  cio_http_server_free(srv);
  return r < 0 ? r : c;
}

int main(void) {
  cio_http_app *app = cio_http_app_new(NULL);
  if (!app) return 1;
  cio_http_app_get(app, "/", read_root, NULL);
  cio_http_app_get(app, "/items/{item_id:int}", read_item, NULL);
  int r = cio_run(main_task, app);
  cio_http_app_free(app);
  if (r < 0) fprintf(stderr, "20_fastapi: %s\n", cio_strerror(r));
  return r < 0;
}
