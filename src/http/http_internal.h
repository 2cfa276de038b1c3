/* http_internal.h - structures shared by the http layer's modules. Not
 * installed. Internal symbols are cio__http_* and hidden. */
#ifndef CIO_HTTP_INTERNAL_H
#define CIO_HTTP_INTERNAL_H

#include "buf.h"
#include "json_internal.h"

#include "cio.h"
#include "cio/http_app.h"
#include "cio/http_parser.h"
#include "cio/http_req.h"
#include "cio/http_res.h"
#include "cio/net.h"
#include "cio/stream.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP_LIKELY(x)   __builtin_expect(!!(x), 1)
#define HTTP_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define CIO__HTTP_MAX_PARAMS 16
/* Request bodies up to this size, after the head, are read in the stream's
 * buffer (its limit is max_head plus this); unread bodies up to this size
 * are skipped to keep the connection. */
#define CIO__HTTP_INBUF_BODY (64u * 1024u)

/* ---- a tiny intrusive list ---- */

typedef struct cio__hlink {
  struct cio__hlink *next, *prev;
} cio__hlink;

static inline void cio__hlist_init(cio__hlink *h) { h->next = h->prev = h; }
static inline int cio__hlist_empty(const cio__hlink *h) { return h->next == h; }
static inline void cio__hlist_push(cio__hlink *h, cio__hlink *n) {
  n->prev = h->prev;
  n->next = h;
  h->prev->next = n;
  h->prev = n;
}
static inline void cio__hlist_remove(cio__hlink *n) {
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->next = n->prev = n;
}

/* ---- routes (router.c) ---- */

enum { P_STR = 0, P_INT, P_FLOAT, P_UUID, P_PATH };
enum { R_ROUTE = 0, R_MOUNT };
#define CIO__HTTP_ANY_METHOD 0x80000000u

typedef struct cio__pat_part {
  uint8_t is_param;
  uint8_t type; /* P_* */
  char *text;   /* literal text, or the parameter's name */
  size_t len;
} cio__pat_part;

typedef struct cio__route {
  int kind;         /* R_ROUTE, R_MOUNT */
  uint32_t methods; /* bit per cio_http_method, CIO__HTTP_ANY_METHOD */
  char *pattern;
  cio__pat_part *parts;
  size_t nparts;
  cio_http_handler fn;
  void *arg;
} cio__route;

/* Compile pattern into r (kind R_ROUTE); a mount's prefix is compiled as
 * prefix + "/{path:path}". Returns 0, -EINVAL (err filled), -ENOMEM. */
int cio__http_route_compile(cio__route *r, const char *pattern, char *err, size_t errcap);
void cio__http_route_free(cio__route *r);

typedef struct cio__param {
  const char *name;  /* the route's, NUL-terminated */
  const char *value; /* decoded (int: normalized), NUL-terminated */
  size_t len;
  uint8_t type;
  uint8_t range; /* int beyond int64 */
  int64_t i;
  double d;
} cio__param;

/* ---- the app (app.c) ---- */

typedef struct cio__mw {
  cio_http_middleware fn;
  void *arg;
} cio__mw;

typedef struct cio__owned {
  void *p;
  void (*free)(void *);
} cio__owned;

struct cio_http_app {
  cio_http_app_opts o; /* defaults applied */
  cio__route *routes;
  size_t nroutes, caproutes;
  cio__mw *mws;
  size_t nmws, capmws;
  cio__owned *owned; /* freed with the app (CORS settings, mounts) */
  size_t nowned, capowned;
  cio_http_startup_fn startup;
  cio_http_shutdown_fn shutdown;
  void *lifespan_arg;
  char server_line[128]; /* "Server: cio\r\n" or "" */
  size_t server_line_len;
  char err[256];
};

/* Keep p until the app is freed (then free_fn(p)). 0 or -ENOMEM (p is
 * freed then). */
int cio__http_app_own(cio_http_app *app, void *p, void (*free_fn)(void *));
void cio__http_app_set_error(cio_http_app *app, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Static files: resolve without openat2 (as on a kernel before 5.6) when
 * off is 1. For tests of the fallback. */
void cio__http_static_no_openat2(int off);

/* ---- requests and responses ---- */

typedef struct cio__conn cio__conn;

enum { BODY_UNTOUCHED = 0, BODY_STREAMING, BODY_WHOLE, BODY_DONE };

struct cio_http_req {
  cio__conn *c;
  cio_http_head head; /* headers: c->hdrs */
  const char *path;   /* decoded, NUL-terminated (arena) */
  size_t path_len;
  const char *raw_path;
  size_t raw_path_len;
  const char *query;
  size_t query_len;
  const char *mount_path;
  size_t mount_path_len;
  size_t nparams;
  const cio__route *route;
  size_t mw_next; /* next middleware of the chain */
  int chain_depth;
  void *user;
  /* body */
  int body_state;     /* BODY_* */
  uint64_t body_left; /* LENGTH: bytes still in the stream */
  cio_http_chunked chunked;
  const char *body; /* whole body (BODY_WHOLE) */
  size_t body_len;
  uint8_t continue_sent;
  uint8_t detached;  /* the head was copied out of the stream buffer */
  size_t head_len;   /* the head's bytes at the stream's front (not
                        detached) */
  size_t inbuf_body; /* body bytes after the head, read in place */
  const char *base;  /* the stream buffer's start the pointers use */
  int64_t t0;        /* start, ns (access log) */
  /* not cleared between requests (nparams says how many are set) */
  cio__param params[CIO__HTTP_MAX_PARAMS];
};

struct cio_http_res {
  cio__conn *c;
  int status;
  uint8_t json_used;
  uint8_t has_type, has_length, has_date, has_server;
  uint8_t started; /* head sent */
  uint8_t ended;
  uint8_t chunked;     /* body sent chunked */
  uint8_t until_close; /* body ends with the connection (HTTP/1.0) */
  uint8_t close;       /* Connection: close */
  uint64_t length;     /* Content-Length set by the handler */
  uint64_t sent;       /* body bytes sent (streaming) */
  int file_fd;         /* -1 */
  off_t file_off;
  size_t file_len;
  uint64_t bytes;   /* body bytes of the response (access log) */
  size_t hdr_mark;  /* headers set before the handler ran (middleware) */
  const char *type; /* Content-Type (kept apart: set on nearly every
                       response, written without a search), or NULL */
  size_t type_len;
  /* not cleared between responses (set up when used) */
  cio_json json;
};

/* ---- connections (conn.c) ---- */

struct cio__conn {
  cio_http_server *srv;
  cio_http_app *app;
  cio_stream *s;
  cio_task *task;
  cio__hlink link;     /* in srv->conns */
  uint8_t idle;        /* waiting for a new request's first byte */
  uint8_t closing;     /* no keep-alive after this request */
  unsigned idle_gen;   /* waits for a request so far (the sweep compares) */
  unsigned idle_seen;  /* idle_gen at the sweep's last look */
  unsigned idle_ticks; /* sweeps that found this same wait */
  unsigned idle_limit; /* sweeps it may last (0: forever) */
  cio_http_parser parser;
  cio_http_header *hdrs; /* app->o.max_headers */
  cio__arena arena;      /* decoded path, params, query values, detached
                            head: per request, never moves */
  cio__buf body;         /* request bodies read into memory */
  cio__buf res_hdrs;     /* the response's headers, "Name: value\r\n" */
  cio__buf res_body;
  cio__buf out; /* serialized responses not yet written */
  cio_http_req req;
  cio_http_res res;
};

/* Reset the request and response for the next message. */
void cio__http_req_reset(cio_http_req *r, cio__conn *c);
void cio__http_res_reset(cio_http_res *r, cio__conn *c);
/* Shift the request's pointers into the stream buffer after it moved. */
void cio__http_req_rebase(cio_http_req *r, const char *from, const char *to);
/* Make sure the request's head no longer lives in the stream buffer: copy
 * it into the arena, consume it and the body bytes read in place. */
int cio__http_req_detach(cio_http_req *r);
/* Skip the rest of the body so the next request can be read: 0, or < 0
 * when the connection must close. May suspend. */
int cio__http_req_discard(cio_http_req *r);

/* Serialize the finished response into c->out (or send it, for large and
 * file bodies). 0 or an error (the connection must close). May suspend. */
int cio__http_res_finish(cio_http_res *r);
/* Send c->out now. May suspend. */
int cio__http_flush(cio__conn *c);
/* Replace the response with a framework answer {"detail": ...} (nothing
 * sent yet); detail NULL: an empty body. */
void cio__http_res_fail(cio_http_res *r, int status, const char *detail);
/* Drop the headers the handler added (those of middleware stay). */
void cio__http_res_rewind(cio_http_res *r);

/* ---- routing (router.c) ---- */

/* Run routing for req (the end of the middleware chain): match, convert
 * parameters, call the handler or answer 404/405/422/307. */
int cio__http_route(cio_http_req *req, cio_http_res *res);

/* ---- servers (server.c) ---- */

struct cio_http_server {
  cio_http_app *app;
  cio_server *srv;
  void *state; /* lifespan */
  cio__hlink conns;
  size_t nconns;
  uint8_t closing; /* no keep-alive, no new requests */
  uint8_t closed;
  uint8_t shutdown_run;
  uint8_t freed;
  uint8_t tls;   /* served over TLS: "https" in redirects */
  unsigned refs; /* the user's handle + one per connection */
  int port;
  cio_timer *sweep; /* idle connections (keep-alive, head timeouts) */
  double sweep_period;
};

int cio__http_conn_main(cio_stream *s, void *arg);
/* The sweep's period for a timeout, in ticks (0: no limit). */
unsigned cio__http_idle_ticks(const cio_http_server *srv, double timeout);
/* Drop a reference; the last one frees the server. */
void cio__http_server_unref(cio_http_server *srv);
/* cio_http_server_open with SO_REUSEPORT (workers sharing a port). */
int cio__http_server_open(cio_http_app *app, const cio_http_serve_opts *opts, int reuseport,
                          cio_http_server **out);

/* ---- dates (date.c) ---- */

/* "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n" for now, formatted at most once
 * a second per thread. Returns its length (37). */
size_t cio__http_date_line(const char **line);
/* IMF-fixdate of t into buf (30 bytes: 29 + NUL). */
void cio__http_date_format(char *buf, int64_t t);
/* Parse an HTTP-date (IMF-fixdate, RFC 850, asctime): seconds since the
 * epoch, or -1. */
int64_t cio__http_date_parse(const char *s, size_t n);

#endif
