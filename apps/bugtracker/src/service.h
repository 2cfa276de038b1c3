/* service.h - the bug tracker's HTTP app: the seed's FastAPI app on cio.
 *
 *   GET /id/{bug_id:int}  the bug's JSON (format.h), or
 *                         {"error":"未找到该 bug"}; a bug_id that is not an
 *                         integer gets FastAPI's 422 body (the framework's)
 *   /                     the static directory, html=True (index.html)
 *   every response        CORS open to all (allow_origins, _methods,
 *                         _headers "*")
 *
 * A lifespan per worker opens the database pool (min 1, max 30 - SQLite:
 * max 4, its connections being threads that compete for the CPU) and a
 * matcher for the regular expressions, and closes them at shutdown, logging
 * "数据库连接池已启动" / "数据库连接池已关闭" as the original does; each
 * request logs "收到查询请求: <id>". A database that fails a query gives a
 * 500 "Internal Server Error" (text/plain, as Starlette's
 * ServerErrorMiddleware answers an exception) and an ERROR line; the pool
 * replaces broken connections, so requests succeed again once the database
 * is back.
 */
#ifndef BT_SERVICE_H
#define BT_SERVICE_H

#include "extract.h"
#include "query.h"

#include <cio/http.h>

typedef struct bt_config {
  const char *db_url;     /* the pool's URL (cio/sql.h) */
  bt_sql_mode sql;        /* which lookup query */
  const char *static_dir; /* mounted at "/", or NULL for none */
  int pool_max;           /* 0 = 30 (SQLite: 4) */
  const bt_extractor *x;  /* shared by the workers */
} bt_config;

/* The app for cfg (borrowed: it must outlive the app). NULL with a message
 * in err (cap bytes). Never suspends. */
cio_http_app *bt_app_new(bt_config *cfg, char *err, size_t cap);

#endif
