/* cors.c - Starlette's CORSMiddleware as a cio middleware. */
#include "http_internal.h"

#include "cio/http_cors.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAXLIST 64

typedef struct cors {
  char *origins[MAXLIST];
  size_t norigins;
  int any_origin;
  regex_t re;
  int has_re;
  char *methods[MAXLIST]; /* upper-case, as given (or the full list) */
  size_t nmethods;
  char *headers[MAXLIST]; /* lower-case: the safelisted ones + the allowed */
  size_t nheaders;
  int any_header;
  int credentials;
  int explicit_origin; /* preflights name the origin (not "*") */
  char *allow_methods; /* "GET, POST" */
  char *allow_headers; /* "Accept, Accept-Language, ..." or NULL */
  char *expose;        /* or NULL */
  char max_age[24];
} cors;

static void cors_free(void *p) {
  cors *c = p;
  for (size_t i = 0; i < c->norigins; i++) free(c->origins[i]);
  for (size_t i = 0; i < c->nmethods; i++) free(c->methods[i]);
  for (size_t i = 0; i < c->nheaders; i++) free(c->headers[i]);
  if (c->has_re) regfree(&c->re);
  free(c->allow_methods);
  free(c->allow_headers);
  free(c->expose);
  free(c);
}

/* Split a comma-separated list into trimmed copies. */
static int split(const char *s, char **out, size_t *n) {
  *n = 0;
  while (s && *s) {
    while (*s == ' ' || *s == ',' || *s == '\t') s++;
    const char *e = s;
    while (*e && *e != ',') e++;
    const char *t = e;
    while (t > s && (t[-1] == ' ' || t[-1] == '\t')) t--;
    if (t > s) {
      if (*n == MAXLIST) return -EINVAL;
      out[*n] = strndup(s, (size_t)(t - s));
      if (!out[*n]) return -ENOMEM;
      (*n)++;
    }
    s = e;
  }
  return 0;
}

static char *join(char *const *v, size_t n) {
  size_t len = 1;
  for (size_t i = 0; i < n; i++) len += strlen(v[i]) + 2;
  char *s = malloc(len), *p = s;
  if (!s) return NULL;
  for (size_t i = 0; i < n; i++) p += sprintf(p, "%s%s", i ? ", " : "", v[i]);
  *p = '\0';
  return s;
}

static int has(char *const *v, size_t n, const char *x, size_t xl, int nocase) {
  for (size_t i = 0; i < n; i++)
    if (strlen(v[i]) == xl && (nocase ? strncasecmp(v[i], x, xl) : strncmp(v[i], x, xl)) == 0)
      return 1;
  return 0;
}

static int cmpstr(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int allowed_origin(const cors *c, const char *o, size_t n) {
  if (c->any_origin) return 1;
  if (c->has_re) {
    char *z = strndup(o, n);
    int ok = z && regexec(&c->re, z, 0, NULL, 0) == 0;
    free(z);
    if (ok) return 1;
  }
  return has(c->origins, c->norigins, o, n, 0);
}

static int set_origin(cio_http_res *res, const char *o, size_t n) {
  char *z = strndup(o, n);
  if (!z) return -ENOMEM;
  int e = cio_http_res_set_header(res, "Access-Control-Allow-Origin", z);
  free(z);
  return e;
}

static int preflight(cors *c, cio_http_req *req, cio_http_res *res, const char *origin, size_t ol) {
  size_t ml = 0, hl = 0;
  const char *m = cio_http_req_header(req, "access-control-request-method", &ml);
  const char *h = cio_http_req_header(req, "access-control-request-headers", &hl);
  char why[64] = "";
  if (c->explicit_origin)
    cio_http_res_header(res, "Vary", "Origin");
  else
    cio_http_res_header(res, "Access-Control-Allow-Origin", "*");
  cio_http_res_header(res, "Access-Control-Allow-Methods", c->allow_methods);
  cio_http_res_header(res, "Access-Control-Max-Age", c->max_age);
  if (c->allow_headers && !c->any_header)
    cio_http_res_header(res, "Access-Control-Allow-Headers", c->allow_headers);
  if (c->credentials) cio_http_res_header(res, "Access-Control-Allow-Credentials", "true");
  if (allowed_origin(c, origin, ol)) {
    if (c->explicit_origin) set_origin(res, origin, ol);
  } else {
    strcat(why, "origin");
  }
  if (!has(c->methods, c->nmethods, m, ml, 0)) strcat(why, *why ? ", method" : "method");
  if (c->any_header && h) {
    char *z = strndup(h, hl);
    if (!z) return -ENOMEM;
    cio_http_res_set_header(res, "Access-Control-Allow-Headers", z);
    free(z);
  } else if (h) {
    const char *p = h, *end = h + hl;
    while (p < end) {
      const char *e = memchr(p, ',', (size_t)(end - p));
      if (!e) e = end;
      const char *s = p, *t = e;
      while (s < t && (*s == ' ' || *s == '\t')) s++;
      while (t > s && (t[-1] == ' ' || t[-1] == '\t')) t--;
      if (!has(c->headers, c->nheaders, s, (size_t)(t - s), 1)) {
        strcat(why, *why ? ", headers" : "headers");
        break;
      }
      p = e + 1;
    }
  }
  if (*why) {
    char msg[96];
    snprintf(msg, sizeof msg, "Disallowed CORS %s", why);
    return cio_http_res_text(res, 400, msg);
  }
  return cio_http_res_text(res, 200, "OK");
}

/* Starlette's send wrapper: headers.update(simple_headers), and the exact
 * origin (with Vary: Origin added) when origins are listed or the request
 * has cookies. add_vary: 0 when the headers are being re-applied. */
static int simple_headers(cors *c, cio_http_req *req, cio_http_res *res, const char *origin,
                          size_t ol, int add_vary) {
  if (c->any_origin) cio_http_res_set_header(res, "Access-Control-Allow-Origin", "*");
  if (c->credentials) cio_http_res_set_header(res, "Access-Control-Allow-Credentials", "true");
  if (c->expose) cio_http_res_set_header(res, "Access-Control-Expose-Headers", c->expose);
  int cookie = cio_http_req_header(req, "cookie", NULL) != NULL;
  if ((c->any_origin && cookie) || (!c->any_origin && allowed_origin(c, origin, ol))) {
    int e = set_origin(res, origin, ol);
    if (e < 0 || !add_vary) return e;
    /* add_vary_header: appended to a Vary already set */
    const char *v = cio_http_res_get_header(res, "Vary");
    if (!v) return cio_http_res_header(res, "Vary", "Origin");
    char *nv = malloc(strlen(v) + 9);
    if (!nv) return -ENOMEM;
    sprintf(nv, "%s, Origin", v);
    e = cio_http_res_set_header(res, "Vary", nv);
    free(nv);
    return e;
  }
  return 0;
}

static int cors_mw(cio_http_req *req, cio_http_res *res, void *arg) {
  cors *c = arg;
  size_t ol;
  const char *origin = cio_http_req_header(req, "origin", &ol);
  if (!origin) return cio_http_next(req, res);
  if (cio_http_req_method(req) == CIO_HTTP_OPTIONS &&
      cio_http_req_header(req, "access-control-request-method", NULL))
    return preflight(c, req, res, origin, ol);
  /* Set before the route runs, so that streamed responses and error
   * answers carry them, and again after it, replacing what the route set
   * (Starlette applies them last). */
  int e = simple_headers(c, req, res, origin, ol, 1);
  if (e < 0) return e;
  int r = cio_http_next(req, res);
  if (!cio_http_res_started(res)) {
    e = simple_headers(c, req, res, origin, ol, 0);
    if (e < 0 && r == 0) r = e;
  }
  return r;
}

int cio_http_app_cors(cio_http_app *app, const cio_http_cors_opts *opts) {
  static const char *const all[] = {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"};
  static const char *const safe[] = {"Accept", "Accept-Language", "Content-Language",
                                     "Content-Type"};
  cio_http_cors_opts none = {0};
  if (!opts) opts = &none;
  cors *c = calloc(1, sizeof *c);
  if (!c) return -ENOMEM;
  int e = split(opts->allow_origins, c->origins, &c->norigins);
  c->any_origin = has(c->origins, c->norigins, "*", 1, 0);
  if (e == 0 && opts->allow_origin_regex) {
    size_t n = strlen(opts->allow_origin_regex);
    char *anchored = malloc(n + 5);
    if (!anchored) e = -ENOMEM;
    if (anchored) {
      sprintf(anchored, "^(%s)$", opts->allow_origin_regex);
      if (regcomp(&c->re, anchored, REG_EXTENDED | REG_NOSUB) != 0) {
        cio__http_app_set_error(app, "bad allow_origin_regex '%s'", opts->allow_origin_regex);
        e = -EINVAL;
      } else {
        c->has_re = 1;
      }
      free(anchored);
    }
  }
  if (e == 0)
    e = split(opts->allow_methods ? opts->allow_methods : "GET", c->methods, &c->nmethods);
  if (e == 0 && has(c->methods, c->nmethods, "*", 1, 0)) {
    for (size_t i = 0; i < c->nmethods; i++) free(c->methods[i]);
    c->nmethods = 0;
    for (size_t i = 0; i < 7 && e == 0; i++) {
      c->methods[c->nmethods] = strdup(all[i]);
      if (!c->methods[c->nmethods++]) e = -ENOMEM;
    }
  }
  /* sorted(SAFELISTED_HEADERS | set(allow_headers)), as given */
  char *hs[MAXLIST];
  size_t nh = 0;
  if (e == 0) e = split(opts->allow_headers, hs, &nh);
  if (e == 0) {
    c->any_header = has(hs, nh, "*", 1, 0);
    for (size_t i = 0; i < 4 && e == 0; i++) {
      if (has(hs, nh, safe[i], strlen(safe[i]), 0)) continue;
      if (nh == MAXLIST) {
        e = -EINVAL;
        break;
      }
      hs[nh] = strdup(safe[i]);
      if (!hs[nh++]) e = -ENOMEM;
    }
  }
  if (e == 0) {
    qsort(hs, nh, sizeof hs[0], cmpstr);
    c->allow_headers = join(hs, nh);
    for (size_t i = 0; i < nh; i++) {
      for (char *p = hs[i]; *p; p++) *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
      c->headers[c->nheaders++] = hs[i];
    }
    nh = 0;
    if (!c->allow_headers) e = -ENOMEM;
  }
  for (size_t i = 0; i < nh; i++) free(hs[i]);
  c->credentials = opts->allow_credentials;
  c->explicit_origin = !c->any_origin || c->credentials;
  if (e == 0 && !(c->allow_methods = join(c->methods, c->nmethods))) e = -ENOMEM;
  if (e == 0 && opts->expose_headers) {
    char *ex[MAXLIST];
    size_t ne = 0;
    e = split(opts->expose_headers, ex, &ne);
    if (e == 0 && ne && !(c->expose = join(ex, ne))) e = -ENOMEM;
    for (size_t i = 0; i < ne; i++) free(ex[i]);
  }
  snprintf(c->max_age, sizeof c->max_age, "%d", opts->max_age ? opts->max_age : 600);
  if (e < 0) {
    cors_free(c);
    return e;
  }
  e = cio__http_app_own(app, c, cors_free);
  if (e < 0) return e;
  return cio_http_app_use(app, cors_mw, c);
}
