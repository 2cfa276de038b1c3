/* service.c - routes, lifespan and the lookup handler. */
#include "service.h"

#include "docs.h"
#include "format.h"

#include <cio.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest a lookup may take (the wait for a connection included) before
 * the request gets a 500: the original has no limit, but a request should
 * not wait forever on a database that stopped answering. Long: with the
 * seed's query on a big table and hundreds of clients, honest answers take
 * tens of seconds. */
#define BT_QUERY_TIMEOUT 300
#define BT_STR2(x)       #x
#define BT_STR(x)        BT_STR2(x)

/* One per worker (its loop owns the pool). */
typedef struct worker {
  cio_sql_pool *pool;
  bt_db db;
  bt_matcher *m;
} worker;

static void worker_free(worker *w) {
  if (!w) return;
  cio_sql_pool_free(w->pool);
  bt_matcher_free(w->m);
  free(w);
}

/* @asynccontextmanager async def lifespan(app): await init_db() ... */
static int lifespan(void *arg, void **state) {
  const bt_config *cfg = arg;
  worker *w = calloc(1, sizeof *w);
  if (!w) return -ENOMEM;
  if (!(w->m = bt_matcher_new(cfg->x))) {
    worker_free(w);
    return -ENOMEM;
  }
  cio_sql_pool_opts o = {.min_size = 1, .max_size = cfg->pool_max};
  if (!o.max_size) o.max_size = strncmp(cfg->db_url, "sqlite:", 7) == 0 ? 4 : 30;
  int r = cio_sql_pool_open(cfg->db_url, &o, &w->pool);
  if (r < 0) {
    cio_log_error("数据库连接池启动失败: %s (%s)", cio_sql_last_error()->message, cio_strerror(r));
    worker_free(w);
    return r;
  }
  w->db = (bt_db)bt_db_of(w->pool);
  cio_log_info("数据库连接池已启动");
  *state = w;
  return 0;
}

/* ... yield; await close_db() */
static int lifespan_end(void *arg, void *state) {
  worker *w = state;
  cio_sql_pool_close(w->pool);
  int r = cio_sql_pool_wait_closed(w->pool);
  cio_log_info("数据库连接池已关闭");
  worker_free(w);
  return r;
}

/* What an exception in the endpoint gives in the original: Starlette's
 * ServerErrorMiddleware answers 500 with this text. */
static int server_error(cio_http_res *res) {
  return cio_http_res_send(res, 500, "text/plain; charset=utf-8", "Internal Server Error", 21);
}

/* @app.get('/id/{bug_id}') async def search_(bug_id: int) */
static int search_(cio_http_req *req, cio_http_res *res, void *arg) {
  const bt_config *cfg = arg;
  worker *w = cio_http_req_state(req);
  size_t n;
  const char *text = cio_http_req_param(req, "bug_id", &n);
  cio_log_info("收到查询请求: %s", text);
  /* An integer beyond int64_t (Python's int has no bound) matches no row:
   * the query still runs, with an id nothing equals. */
  int64_t id;
  int r = cio_http_req_param_int(req, "bug_id", &id);
  if (r < 0 && r != -ERANGE) return r;
  bt_answer a;
  cio_timeout_scope scope;
  cio_timeout_begin(&scope, BT_QUERY_TIMEOUT);
  r = bt_answer_fetch(w->pool, NULL, w->db, cfg->sql, r == 0 ? &id : NULL, w->m, 0, &a);
  int late = cio_timeout_end(&scope);
  if (r < 0) {
    bt_answer_clear(&a);
    if (r == -ECANCELED && !late) return r; /* the server is shutting down */
    cio_log_error("查询 bug %s 失败: %s", text,
                  late           ? "no answer in " BT_STR(BT_QUERY_TIMEOUT) " s"
                  : r == -EPROTO ? "the tables are not MantisBT's"
                                 : cio_sql_last_error()->message);
    return server_error(res);
  }
  cio_json *j = cio_http_res_json(res, 200);
  r = a.found ? bt_write_answer(j, &a.bug, a.cause, a.fix) : bt_write_missing(j);
  bt_answer_clear(&a);
  return r;
}

cio_http_app *bt_app_new(bt_config *cfg, char *err, size_t cap) {
  cio_http_app_opts ao = {.access_log = 1};
  cio_http_app *app = cio_http_app_new(&ao);
  if (!app) {
    snprintf(err, cap, "out of memory");
    return NULL;
  }
  cio_http_cors_opts cors = {.allow_origins = "*", .allow_methods = "*", .allow_headers = "*"};
  cio_http_static_opts so = {.html = 1};
  int r = cio_http_app_lifespan(app, lifespan, lifespan_end, cfg);
  if (r == 0) r = cio_http_app_cors(app, &cors);
  if (r == 0) r = bt_docs_routes(app);
  /* GET only, as FastAPI's @app.get: HEAD falls through to the static
   * mount, as it does in the original. */
  if (r == 0) r = cio_http_app_route(app, "GET", "/id/{bug_id:int}", search_, cfg);
  if (r == 0 && cfg->static_dir) r = cio_http_app_mount_static(app, "/", cfg->static_dir, &so);
  if (r < 0) {
    const char *why = cio_http_app_error(app);
    snprintf(err, cap, "%s", why ? why : cio_strerror(r));
    cio_http_app_free(app);
    return NULL;
  }
  return app;
}
