/* app.c - the app object: options, routes, mounts, middleware, lifespan. */
#include "http_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIB 1024u

cio_http_app *cio_http_app_new(const cio_http_app_opts *opts) {
  cio_http_app *app = calloc(1, sizeof *app);
  if (!app) {
    errno = ENOMEM;
    return NULL;
  }
  if (opts) app->o = *opts;
  cio_http_app_opts *o = &app->o;
  if (!o->max_head) o->max_head = 16 * KIB;
  if (o->max_head < 256) o->max_head = 256;
  if (!o->max_headers) o->max_headers = 100;
  if (!o->max_body) o->max_body = 1024 * KIB;
  if (o->head_timeout == 0) o->head_timeout = 10;
  if (o->keepalive_timeout == 0) o->keepalive_timeout = 5;
  if (o->body_timeout == 0) o->body_timeout = 30;
  if (o->send_timeout == 0) o->send_timeout = 30;
  const char *sn = o->server_name ? o->server_name : "cio";
  o->server_name = NULL; /* not kept: the caller's string may go */
  if (*sn) {
    int n = snprintf(app->server_line, sizeof app->server_line, "Server: %s\r\n", sn);
    app->server_line_len = n > 0 && (size_t)n < sizeof app->server_line ? (size_t)n : 0;
    /* a name with CR/LF would split the head: refuse it quietly */
    if (strpbrk(sn, "\r\n")) app->server_line_len = 0;
  }
  app->server_line[app->server_line_len] = '\0';
  return app;
}

void cio_http_app_free(cio_http_app *app) {
  if (!app) return;
  for (size_t i = 0; i < app->nroutes; i++) cio__http_route_free(&app->routes[i]);
  free(app->routes);
  free(app->mws);
  for (size_t i = 0; i < app->nowned; i++) app->owned[i].free(app->owned[i].p);
  free(app->owned);
  free(app);
}

const char *cio_http_app_error(const cio_http_app *app) { return app->err[0] ? app->err : NULL; }

void cio__http_app_set_error(cio_http_app *app, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(app->err, sizeof app->err, fmt, ap);
  va_end(ap);
}

int cio__http_app_own(cio_http_app *app, void *p, void (*free_fn)(void *)) {
  if (app->nowned == app->capowned) {
    size_t nc = app->capowned ? app->capowned * 2 : 4;
    cio__owned *o = realloc(app->owned, nc * sizeof *o);
    if (!o) {
      free_fn(p);
      return -ENOMEM;
    }
    app->owned = o;
    app->capowned = nc;
  }
  app->owned[app->nowned++] = (cio__owned){p, free_fn};
  return 0;
}

/* "GET,POST" -> method bits. GET does not bring HEAD: FastAPI's routes
 * (APIRoute) answer only the methods they list, unlike Starlette's. */
static int parse_methods(cio_http_app *app, const char *methods, uint32_t *out) {
  uint32_t bits = 0;
  const char *p = methods;
  if (!p || !*p) {
    cio__http_app_set_error(app, "no method given");
    return -EINVAL;
  }
  while (*p) {
    while (*p == ' ' || *p == ',') p++;
    const char *s = p;
    while (*p && *p != ',' && *p != ' ') p++;
    size_t n = (size_t)(p - s);
    if (!n) continue;
    if (n == 1 && *s == '*') {
      bits |= CIO__HTTP_ANY_METHOD;
      continue;
    }
    cio_http_method m = cio_http_method_id(s, n);
    if (m == CIO_HTTP_OTHER) {
      cio__http_app_set_error(app, "unknown method '%.*s' (methods are upper-case)", (int)n, s);
      return -EINVAL;
    }
    bits |= 1u << m;
  }
  *out = bits;
  return 0;
}

static int add_route(cio_http_app *app, int kind, uint32_t methods, const char *pattern,
                     cio_http_handler fn, void *arg) {
  if (!fn || !pattern) {
    cio__http_app_set_error(app, "no handler or pattern");
    return -EINVAL;
  }
  if (app->nroutes == app->caproutes) {
    size_t nc = app->caproutes ? app->caproutes * 2 : 8;
    cio__route *r = realloc(app->routes, nc * sizeof *r);
    if (!r) return -ENOMEM;
    app->routes = r;
    app->caproutes = nc;
  }
  cio__route *r = &app->routes[app->nroutes];
  memset(r, 0, sizeof *r);
  int e = cio__http_route_compile(r, pattern, app->err, sizeof app->err);
  if (e < 0) return e;
  r->kind = kind;
  r->methods = methods;
  r->fn = fn;
  r->arg = arg;
  app->nroutes++;
  return 0;
}

int cio_http_app_route(cio_http_app *app, const char *methods, const char *pattern,
                       cio_http_handler fn, void *arg) {
  uint32_t bits;
  int e = parse_methods(app, methods, &bits);
  if (e < 0) return e;
  return add_route(app, R_ROUTE, bits, pattern, fn, arg);
}

int cio_http_app_get(cio_http_app *app, const char *pattern, cio_http_handler fn, void *arg) {
  return cio_http_app_route(app, "GET", pattern, fn, arg);
}
int cio_http_app_post(cio_http_app *app, const char *pattern, cio_http_handler fn, void *arg) {
  return cio_http_app_route(app, "POST", pattern, fn, arg);
}
int cio_http_app_put(cio_http_app *app, const char *pattern, cio_http_handler fn, void *arg) {
  return cio_http_app_route(app, "PUT", pattern, fn, arg);
}
int cio_http_app_delete(cio_http_app *app, const char *pattern, cio_http_handler fn, void *arg) {
  return cio_http_app_route(app, "DELETE", pattern, fn, arg);
}

int cio_http_app_mount(cio_http_app *app, const char *prefix, cio_http_handler fn, void *arg) {
  if (!prefix) prefix = "";
  size_t n = strlen(prefix);
  while (n && prefix[n - 1] == '/') n--; /* Starlette: path.rstrip("/") */
  if (n && prefix[0] != '/') {
    cio__http_app_set_error(app, "bad mount prefix '%s': it must start with '/'", prefix);
    return -EINVAL;
  }
  char *pat = malloc(n + sizeof "/{path:path}");
  if (!pat) return -ENOMEM;
  memcpy(pat, prefix, n);
  memcpy(pat + n, "/{path:path}", sizeof "/{path:path}");
  int e = add_route(app, R_MOUNT, CIO__HTTP_ANY_METHOD, pat, fn, arg);
  free(pat);
  return e;
}

int cio_http_app_use(cio_http_app *app, cio_http_middleware fn, void *arg) {
  if (!fn) return -EINVAL;
  if (app->nmws == app->capmws) {
    size_t nc = app->capmws ? app->capmws * 2 : 4;
    cio__mw *m = realloc(app->mws, nc * sizeof *m);
    if (!m) return -ENOMEM;
    app->mws = m;
    app->capmws = nc;
  }
  app->mws[app->nmws++] = (cio__mw){fn, arg};
  return 0;
}

int cio_http_app_lifespan(cio_http_app *app, cio_http_startup_fn startup,
                          cio_http_shutdown_fn shutdown, void *arg) {
  app->startup = startup;
  app->shutdown = shutdown;
  app->lifespan_arg = arg;
  return 0;
}

int cio_http_next(cio_http_req *req, cio_http_res *res) {
  cio_http_app *app = req->c->app;
  if (req->mw_next > app->nmws) return -EINVAL; /* routing already ran */
  size_t i = req->mw_next++;
  if (i == app->nmws) return cio__http_route(req, res);
  req->chain_depth++;
  int r = app->mws[i].fn(req, res, app->mws[i].arg);
  req->chain_depth--;
  return r;
}
