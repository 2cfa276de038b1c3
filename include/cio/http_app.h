/* cio/http_app.h - an HTTP/1.1 server framework: what FastAPI + uvicorn give
 * Python programs.
 *
 *   static int read_item(cio_http_req *req, cio_http_res *res, void *arg) {
 *     int64_t id;
 *     cio_http_req_param_int(req, "item_id", &id);   // converted: see below
 *     int r = cio_sleep(0.5);                         // other requests go on
 *     if (r < 0) return r;
 *     cio_json *j = cio_http_res_json(res, 200);
 *     cio_json_object(j);
 *     cio_json_key(j, "item_id"); cio_json_int(j, id);
 *     return cio_json_object_end(j);
 *   }
 *
 *   cio_http_app *app = cio_http_app_new(NULL);
 *   cio_http_app_get(app, "/items/{item_id:int}", read_item, NULL);
 *   cio_http_cors_opts cors = {.allow_origins = "*"};
 *   cio_http_app_cors(app, &cors);                    // cio/http_cors.h
 *   cio_http_app_mount_static(app, "/", "static", NULL); // cio/http_static.h
 *   cio_http_serve_opts so = {.host = "0.0.0.0", .port = 8910, .workers = 2};
 *   return cio_http_run(app, &so) < 0;                 // until SIGINT/SIGTERM
 *
 * Handlers are tasks' code: each connection is a task, and a handler runs
 * in it, so it may wait (a database query, a sleep, a call to another
 * service) while other connections are served. It reads the request
 * (cio/http_req.h), fills the response (cio/http_res.h) and returns 0; a
 * negative return (an error code, as every cio call returns) becomes a 500
 * with {"detail":"Internal Server Error"} and an error log line, unless the
 * response was already under way (then the connection is closed). Nothing a
 * handler or a peer does disturbs the other connections.
 *
 * Routing follows Starlette (FastAPI's router), so a C port of a FastAPI
 * app answers the same:
 *   - routes and mounts are tried in the order they were added; the first
 *     whose path matches and whose methods include the request's wins; a
 *     route whose path matches with another method makes a 405 (with Allow)
 *     if nothing else matches; nothing: 404. A route answers the methods it
 *     lists, as FastAPI's do: list HEAD with GET ("GET,HEAD") to answer it
 *     (the GET's head is sent, without the body).
 *   - patterns: "/items/{item_id}" (a path segment, [^/]+), typed
 *     "{item_id:int}", "{x:float}", "{u:uuid}", and "{p:path}" (the rest of
 *     the path, slashes included). Matching is on the percent-decoded path.
 *     A typed parameter is converted after the route matched, as FastAPI
 *     does for `item_id: int`: one that does not convert makes a 422 with
 *     FastAPI's body, e.g.
 *     {"detail":[{"loc":["path","item_id"],"msg":"value is not a valid
 *     integer","type":"type_error.integer"}]}
 *   - with no match, a path with a trailing slash added or removed that
 *     would match is redirected to (307), as Starlette's redirect_slashes.
 *   - the framework's error bodies are FastAPI's: {"detail":"Not Found"},
 *     {"detail":"Method Not Allowed"}.
 *
 * Middleware (cio_http_app_use) runs around routing for every request, the
 * first added outermost: it may answer by itself, or call cio_http_next()
 * and then look at or change the response. CORS (cio/http_cors.h) is one.
 *
 * Threads: configure an app on one thread before serving it; from then on it
 * is read-only and every worker thread serves it. Link with cio-http.
 */
#ifndef CIO_HTTP_APP_H
#define CIO_HTTP_APP_H

#include "common.h"
#include "http_parser.h"

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_http_app cio_http_app;
typedef struct cio_http_req cio_http_req;
typedef struct cio_http_res cio_http_res;
typedef struct cio_http_server cio_http_server;
typedef struct cio_tls_ctx cio_tls_ctx; /* cio/tls.h */

/* A route handler. Runs in the connection's task: may suspend. Returns 0
 * (the response is what it set: status 200 and an empty body if it set
 * nothing) or a negative errno (500, see above). */
typedef int (*cio_http_handler)(cio_http_req *req, cio_http_res *res, void *arg);

/* Middleware: same shape; calls cio_http_next(req, res) to run the rest of
 * the chain (the following middleware, then routing) and returns what it
 * returns (or answers itself without calling it). */
typedef int (*cio_http_middleware)(cio_http_req *req, cio_http_res *res, void *arg);

/* From a middleware: run the rest of the chain for this request. Returns
 * the route's status (0 or its error), or -EINVAL when called twice or
 * outside a middleware. May suspend. */
CIO_API int cio_http_next(cio_http_req *req, cio_http_res *res);

/* Lifespan (FastAPI's lifespan context): startup runs as a task on each
 * worker's loop before that worker accepts its first connection, and may
 * store a per-worker state (a database pool: pools belong to a loop) that
 * handlers get with cio_http_req_state(); a failure (negative return)
 * stops the server before it serves (cio_http_run returns it). shutdown
 * runs on the same loop after the worker's last request, with that state.
 * Both may suspend. */
typedef int (*cio_http_startup_fn)(void *arg, void **state);
typedef int (*cio_http_shutdown_fn)(void *arg, void *state);

typedef struct cio_http_app_opts {
  size_t max_head;          /* request line + headers, bytes: 0 = 16 KiB;
                               beyond: 431 (414 for the request line) */
  size_t max_headers;       /* 0 = 100; beyond: 431 */
  size_t max_body;          /* a body read whole (cio_http_req_body, _json):
                               0 = 1 MiB; beyond: 413 */
  double head_timeout;      /* from a request's first byte to its last
                               header (and a new connection's wait for its
                               first byte): 0 = 10 s, CIO_FOREVER = none;
                               expired: 408, closed (slowloris) */
  double keepalive_timeout; /* wait for the next request on a kept-alive
                               connection: 0 = 5 s (uvicorn's); closed */
  double body_timeout;      /* longest wait for more body bytes: 0 = 30 s;
                               expired: 408 (or closed), the read fails
                               with -ETIMEDOUT */
  double send_timeout;      /* longest wait for the peer to take response
                               bytes: 0 = 30 s; closed */
  int no_redirect_slashes;  /* 1: no trailing-slash redirects */
  int access_log;           /* 1: one INFO line per request (cio/log.h):
                               client, request line, status, bytes, time */
  const char *server_name;  /* the Server header; NULL = "cio", "" = none */
} cio_http_app_opts;

/* A new app (opts may be NULL; copied). NULL + errno ENOMEM. Never
 * suspends. */
CIO_API cio_http_app *cio_http_app_new(const cio_http_app_opts *opts);

/* Free the app: only once no server uses it any more. NULL is a no-op. */
CIO_API void cio_http_app_free(cio_http_app *app);

/* Why the last configuration call on app failed, in words ("bad pattern
 * '/a/{': unclosed '{'"), or NULL. */
CIO_API const char *cio_http_app_error(const cio_http_app *app);

/* Add a route: methods is one method or a comma-separated list ("GET",
 * "GET,POST"; "*" = any method), pattern as above (must start with '/').
 * The strings are copied. Returns 0, -EINVAL (bad pattern or method, a
 * duplicate parameter name; cio_http_app_error says what), -ENOMEM.
 * Never suspends. */
CIO_API int cio_http_app_route(cio_http_app *app, const char *methods, const char *pattern,
                               cio_http_handler fn, void *arg);
CIO_API int cio_http_app_get(cio_http_app *app, const char *pattern, cio_http_handler fn,
                             void *arg);
CIO_API int cio_http_app_post(cio_http_app *app, const char *pattern, cio_http_handler fn,
                              void *arg);
CIO_API int cio_http_app_put(cio_http_app *app, const char *pattern, cio_http_handler fn,
                             void *arg);
CIO_API int cio_http_app_delete(cio_http_app *app, const char *pattern, cio_http_handler fn,
                                void *arg);

/* Mount a handler at a path prefix (Starlette's Mount): it gets every
 * request, any method, whose path is prefix + "/" + anything, and sees
 * the rest with cio_http_req_mount_path(). prefix "/" or "" mounts at the
 * root (everything that no earlier route took). 0, -EINVAL, -ENOMEM. */
CIO_API int cio_http_app_mount(cio_http_app *app, const char *prefix, cio_http_handler fn,
                               void *arg);

/* Add a middleware (the first added runs first). 0, -ENOMEM. */
CIO_API int cio_http_app_use(cio_http_app *app, cio_http_middleware fn, void *arg);

/* Set the lifespan hooks (either may be NULL). 0. */
CIO_API int cio_http_app_lifespan(cio_http_app *app, cio_http_startup_fn startup,
                                  cio_http_shutdown_fn shutdown, void *arg);

/* ---- serving ---- */

typedef struct cio_http_serve_opts {
  const char *host;  /* NULL = "127.0.0.1"; "0.0.0.0" or "" = all */
  int port;          /* 0 = any free port (cio_http_server_port) */
  size_t workers;    /* cio_http_run only: 0 = 1; N loops on N
                        threads, one listening socket each on the
                        same port (SO_REUSEPORT), each with its own
                        lifespan (uvicorn --workers) */
  double grace;      /* graceful shutdown: in-flight requests get
                        this long to finish, then are cancelled:
                        0 = 10 s, CIO_FOREVER = no limit */
  size_t backlog;    /* 0 = 1024 */
  cio_tls_ctx *tls;  /* non-NULL: HTTPS (cio/tls.h) */
  size_t stack_size; /* connection tasks' stacks: 0 = the loop's */
  /* cio_http_run only: called once, on worker 1's thread, when it
   * listens (the port is known: useful with port 0), or NULL */
  void (*on_listen)(int port, void *arg);
  void *on_listen_arg;
} cio_http_serve_opts;

/* Serve app on the calling task's loop: run the startup hook, then listen
 * and accept in the background (a task per connection). On success *out is
 * a server the caller closes and frees. Returns 0, the startup hook's
 * error, -EADDRINUSE and other socket errors, -EINVAL, -ENOMEM, -EPERM
 * outside a task. May suspend. Loop thread. */
CIO_API int cio_http_server_open(cio_http_app *app, const cio_http_serve_opts *opts,
                                 cio_http_server **out);

/* The port listened on (useful with port 0). */
CIO_API int cio_http_server_port(const cio_http_server *s);

/* Connections being served now. */
CIO_API size_t cio_http_server_connections(const cio_http_server *s);

/* Graceful shutdown: stop accepting; close kept-alive connections that wait
 * for a request; let requests in flight finish (their responses say
 * Connection: close) for up to `grace` seconds (< 0: no limit), then cancel
 * the rest; then run the shutdown hook. Returns 0, the shutdown hook's
 * error, -ECANCELED / -ETIMEDOUT when interrupted (connections are then
 * cancelled and waited for, the hook still runs). Again: 0. May suspend. */
CIO_API int cio_http_server_close(cio_http_server *s, double grace);

/* Free the server, closing it at once (connections cancelled, the shutdown
 * hook NOT run) if cio_http_server_close was not called. NULL is a no-op.
 * Never suspends. */
CIO_API void cio_http_server_free(cio_http_server *s);

/* uvicorn.run(app): serve until SIGINT or SIGTERM, then shut down
 * gracefully and return 0. Not from a task: call it from main(); it blocks
 * the calling thread, which runs worker 1 (the others get threads of their
 * own). A worker whose startup fails stops all of them: the error is
 * returned; -EINVAL for more than CIO_HTTP_MAX_WORKERS workers, -EBUSY
 * from a loop's thread. Logs startup and shutdown (cio/log.h) as uvicorn
 * does. */
#define CIO_HTTP_MAX_WORKERS 1024
CIO_API int cio_http_run(cio_http_app *app, const cio_http_serve_opts *opts);

#ifdef __cplusplus
}
#endif
#endif
