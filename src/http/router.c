/* router.c - Starlette's routing in C: ordered routes and mounts, path
 * patterns matched on the decoded path with Python regex semantics
 * ([^/]+ segments, .* paths, '$' before a final newline), typed parameters
 * converted as pydantic v1 converts them (FastAPI's 422 when they do not),
 * 405 with Allow, redirect_slashes, 404. */
#include "http_internal.h"
#include "utf8.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- compiling patterns ---- */

static const struct {
  const char *name;
  uint8_t type;
} types[] = {
    {"str", P_STR}, {"int", P_INT}, {"float", P_FLOAT}, {"uuid", P_UUID}, {"path", P_PATH}};

static int ident_start(int c) { return isalpha(c) || c == '_'; }
static int ident_char(int c) { return isalnum(c) || c == '_'; }

void cio__http_route_free(cio__route *r) {
  for (size_t i = 0; i < r->nparts; i++) free(r->parts[i].text);
  free(r->parts);
  free(r->pattern);
  r->parts = NULL;
  r->pattern = NULL;
  r->nparts = 0;
}

static int add_part(cio__route *r, size_t *cap, int is_param, uint8_t type, const char *t,
                    size_t n) {
  if (r->nparts == *cap) {
    size_t nc = *cap ? *cap * 2 : 4;
    cio__pat_part *p = realloc(r->parts, nc * sizeof *p);
    if (!p) return -ENOMEM;
    r->parts = p;
    *cap = nc;
  }
  char *text = malloc(n + 1);
  if (!text) return -ENOMEM;
  memcpy(text, t, n);
  text[n] = '\0';
  r->parts[r->nparts++] = (cio__pat_part){(uint8_t)is_param, type, text, n};
  return 0;
}

int cio__http_route_compile(cio__route *r, const char *pattern, char *err, size_t errcap) {
  size_t cap = 0;
  r->parts = NULL;
  r->nparts = 0;
  r->pattern = strdup(pattern);
  if (!r->pattern) return -ENOMEM;
  if (pattern[0] != '/') {
    snprintf(err, errcap, "bad pattern '%s': it must start with '/'", pattern);
    cio__http_route_free(r);
    return -EINVAL;
  }
  const char *p = pattern, *lit = pattern;
  int rc = 0;
  while (*p && rc == 0) {
    if (*p == '}') {
      snprintf(err, errcap, "bad pattern '%s': '}' without '{'", pattern);
      rc = -EINVAL;
      break;
    }
    if (*p != '{') {
      p++;
      continue;
    }
    if (p > lit) rc = add_part(r, &cap, 0, 0, lit, (size_t)(p - lit));
    const char *name = ++p;
    if (!ident_start((unsigned char)*p)) {
      snprintf(err, errcap, "bad pattern '%s': a parameter name is an identifier", pattern);
      rc = -EINVAL;
      break;
    }
    while (ident_char((unsigned char)*p)) p++;
    size_t nlen = (size_t)(p - name);
    uint8_t type = P_STR;
    if (*p == ':') {
      const char *t = ++p;
      while (ident_char((unsigned char)*p)) p++;
      size_t tl = (size_t)(p - t);
      size_t k = 0;
      for (; k < sizeof types / sizeof types[0]; k++)
        if (strlen(types[k].name) == tl && memcmp(types[k].name, t, tl) == 0) break;
      if (k == sizeof types / sizeof types[0]) {
        snprintf(err, errcap, "bad pattern '%s': unknown parameter type '%.*s'", pattern, (int)tl,
                 t);
        rc = -EINVAL;
        break;
      }
      type = types[k].type;
    }
    if (*p != '}') {
      snprintf(err, errcap, "bad pattern '%s': unclosed '{'", pattern);
      rc = -EINVAL;
      break;
    }
    for (size_t i = 0; i < r->nparts; i++)
      if (r->parts[i].is_param && r->parts[i].len == nlen &&
          memcmp(r->parts[i].text, name, nlen) == 0) {
        snprintf(err, errcap, "bad pattern '%s': duplicated parameter '%.*s'", pattern, (int)nlen,
                 name);
        rc = -EINVAL;
      }
    if (rc == 0) rc = add_part(r, &cap, 1, type, name, nlen);
    lit = ++p;
  }
  if (rc == 0 && *lit) rc = add_part(r, &cap, 0, 0, lit, strlen(lit));
  size_t nparams = 0;
  for (size_t i = 0; i < r->nparts; i++) nparams += r->parts[i].is_param;
  if (rc == 0 && nparams > CIO__HTTP_MAX_PARAMS) {
    snprintf(err, errcap, "bad pattern '%s': more than %d parameters", pattern,
             CIO__HTTP_MAX_PARAMS);
    rc = -EINVAL;
  }
  if (rc < 0) {
    if (rc == -ENOMEM) snprintf(err, errcap, "out of memory");
    cio__http_route_free(r);
  }
  return rc;
}

/* ---- matching ---- */

typedef struct span {
  size_t off, len;
} span;

/* Python's re.match(pattern + "$"): the end, or just before a final '\n'. */
static int at_end(const char *s, size_t n, size_t pos) {
  return pos == n || (pos + 1 == n && s[pos] == '\n');
}

static int match_from(const cio__route *r, size_t i, const char *s, size_t n, size_t pos, span *out,
                      size_t k) {
  if (i == r->nparts) return at_end(s, n, pos);
  const cio__pat_part *p = &r->parts[i];
  if (!p->is_param) {
    if (n - pos < p->len || memcmp(s + pos, p->text, p->len) != 0) return 0;
    return match_from(r, i + 1, s, n, pos + p->len, out, k);
  }
  /* Greedy, then shorter: [^/]+ for segments, .* (no newline) for paths. */
  size_t max = pos;
  if (p->type == P_PATH)
    while (max < n && s[max] != '\n') max++;
  else
    while (max < n && s[max] != '/') max++;
  size_t min = p->type == P_PATH ? pos : pos + 1;
  for (size_t e = max; e >= min && e != (size_t)-1; e--) {
    out[k] = (span){pos, e - pos};
    if (match_from(r, i + 1, s, n, e, out, k + 1)) return 1;
    if (e == 0) break;
  }
  return 0;
}

/* ---- conversions, as pydantic v1 does them (Python's int() / float()) ---- */

/* Unicode decimal digits (Nd): the first code point of each run of ten,
 * from Unicode 14.0 (Python 3.11's). */
static const uint32_t nd_zeros[] = {
    0x30,    0x660,   0x6F0,   0x7C0,   0x966,   0x9E6,   0xA66,   0xAE6,   0xB66,   0xBE6,
    0xC66,   0xCE6,   0xD66,   0xDE6,   0xE50,   0xED0,   0xF20,   0x1040,  0x1090,  0x17E0,
    0x1810,  0x1946,  0x19D0,  0x1A80,  0x1A90,  0x1B50,  0x1BB0,  0x1C40,  0x1C50,  0xA620,
    0xA8D0,  0xA900,  0xA9D0,  0xA9F0,  0xAA50,  0xABF0,  0xFF10,  0x104A0, 0x10D30, 0x11066,
    0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x11730, 0x118E0,
    0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2,
    0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
};

static int nd_digit(uint32_t cp) {
  for (size_t i = 0; i < sizeof nd_zeros / sizeof nd_zeros[0]; i++)
    if (cp >= nd_zeros[i] && cp < nd_zeros[i] + 10) return (int)(cp - nd_zeros[i]);
  return -1;
}

/* str.isspace() beyond ASCII (Python's _PyUnicode_IsWhitespace). */
static int py_space(uint32_t cp) {
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* Python's _PyUnicode_TransformDecimalAndSpaceToASCII, then the strip of
 * ASCII whitespace int() and float() do: into out (n + 1 bytes). Returns
 * the length, or -1 when a character can never be part of a number. Also
 * counts code points into *chars. */
static ssize_t to_ascii_number(const char *s, size_t n, char *out, size_t *chars) {
  size_t o = 0, i = 0;
  *chars = 0;
  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    uint32_t cp;
    size_t l;
    (*chars)++;
    if (c < 0x80) {
      out[o++] = (char)c;
      i++;
      continue;
    }
    if (!cio__utf8_decode((const unsigned char *)s + i, n - i, &cp, &l)) return -1;
    i += l;
    int d = nd_digit(cp);
    if (d >= 0)
      out[o++] = (char)('0' + d);
    else if (py_space(cp))
      out[o++] = ' ';
    else
      return -1;
  }
  size_t b = 0, e = o;
  while (b < e && strchr(" \t\n\v\f\r", out[b])) b++;
  while (e > b && strchr(" \t\n\v\f\r", out[e - 1])) e--;
  memmove(out, out + b, e - b);
  out[e - b] = '\0';
  return (ssize_t)(e - b);
}

/* digit ( ["_"] digit )*, from *i; returns the digit count (0: none). */
static size_t digitpart(const char *s, size_t n, size_t *i) {
  size_t k = *i, count = 0;
  while (k < n && s[k] >= '0' && s[k] <= '9') {
    k++;
    count++;
    if (k + 1 < n && s[k] == '_' && s[k + 1] >= '0' && s[k + 1] <= '9') k++;
  }
  *i = k;
  return count;
}

/* int(s) for a str s, as Python 3.11 (pydantic v1's int_validator: at most
 * 4300 characters). 0 and the value, or -1. norm gets Python's str() of the
 * result. */
static int py_int(const char *s, size_t n, cio__arena *a, cio__param *p) {
  char *t = cio__arena_alloc(a, n + 2);
  if (!t) return -ENOMEM;
  size_t chars;
  ssize_t m = to_ascii_number(s, n, t, &chars);
  if (m <= 0 || chars > 4300) return -1;
  size_t i = 0;
  int neg = 0;
  if (t[i] == '+' || t[i] == '-') neg = t[i++] == '-';
  size_t start = i;
  if (!digitpart(t, (size_t)m, &i) || i != (size_t)m) return -1;
  /* normalized digits: drop underscores and leading zeros */
  char *norm = cio__arena_alloc(a, (size_t)m + 2);
  if (!norm) return -ENOMEM;
  size_t o = 0;
  norm[o++] = '-';
  uint64_t v = 0;
  int over = 0;
  for (size_t k = start; k < (size_t)m; k++) {
    if (t[k] == '_') continue;
    if (o == 1 && t[k] == '0') continue;
    norm[o++] = t[k];
    unsigned d = (unsigned)(t[k] - '0');
    if (v > (UINT64_MAX - d) / 10) over = 1;
    if (!over) v = v * 10 + d;
  }
  if (o == 1) {
    norm[o++] = '0';
    neg = 0;
  }
  norm[o] = '\0';
  if (!over && (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)) over = 1;
  p->range = (uint8_t)over;
  p->i = over ? 0 : neg ? (int64_t)(0 - v) : (int64_t)v;
  p->value = neg ? norm : norm + 1;
  p->len = o - (neg ? 0 : 1);
  return 0;
}

/* float(s), as Python: [sign] (digitpart [. [digitpart]] | . digitpart)
 * [e [sign] digitpart] | inf | infinity | nan. */
static int py_float(const char *s, size_t n, cio__arena *a, cio__param *p) {
  char *t = cio__arena_alloc(a, n + 2);
  if (!t) return -ENOMEM;
  size_t chars;
  ssize_t m = to_ascii_number(s, n, t, &chars);
  if (m <= 0) return -1;
  size_t i = 0, len = (size_t)m;
  int neg = 0;
  if (t[i] == '+' || t[i] == '-') neg = t[i++] == '-';
  const char *w = t + i;
  size_t wl = len - i;
  if ((wl == 3 && strncasecmp(w, "inf", 3) == 0) ||
      (wl == 8 && strncasecmp(w, "infinity", 8) == 0)) {
    p->d = neg ? -INFINITY : INFINITY;
    return 0;
  }
  if (wl == 3 && strncasecmp(w, "nan", 3) == 0) {
    p->d = NAN;
    return 0;
  }
  size_t ip = digitpart(t, len, &i), fp = 0;
  if (i < len && t[i] == '.') {
    i++;
    fp = digitpart(t, len, &i);
  }
  if (!ip && !fp) return -1;
  if (i < len && (t[i] == 'e' || t[i] == 'E')) {
    i++;
    if (i < len && (t[i] == '+' || t[i] == '-')) i++;
    if (!digitpart(t, len, &i)) return -1;
  }
  if (i != len) return -1;
  size_t o = 0;
  for (size_t k = 0; k < len; k++)
    if (t[k] != '_') t[o++] = t[k];
  t[o] = '\0';
  p->d = strtod_l(t, NULL, cio__c_locale());
  return 0;
}

/* uuid.UUID(s): "urn:" and "uuid:" removed, braces stripped, hyphens
 * removed, then 32 hex digits. (Python would also take what int(x, 16)
 * takes in those 32 characters - a sign, "0x", underscores - which no
 * UUID writer produces: refused here.) Normalized to 8-4-4-4-12 lower-case. */
static int py_uuid(const char *s, size_t n, cio__arena *a, cio__param *p) {
  char *t = cio__arena_alloc(a, n + 1);
  char *norm = cio__arena_alloc(a, 37);
  if (!t || !norm) return -ENOMEM;
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    if (n - i >= 4 && memcmp(s + i, "urn:", 4) == 0) {
      i += 4;
    } else if (n - i >= 5 && memcmp(s + i, "uuid:", 5) == 0) {
      i += 5;
    } else {
      t[o++] = s[i++];
    }
  }
  size_t b = 0, e = o;
  while (b < e && (t[b] == '{' || t[b] == '}')) b++;
  while (e > b && (t[e - 1] == '{' || t[e - 1] == '}')) e--;
  size_t h = 0;
  char hex[32];
  for (size_t i = b; i < e; i++) {
    if (t[i] == '-') continue;
    if (!isxdigit((unsigned char)t[i]) || h == 32) return -1;
    hex[h++] = (char)tolower((unsigned char)t[i]);
  }
  if (h != 32) return -1;
  snprintf(norm, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
  p->value = norm;
  p->len = 36;
  return 0;
}

/* ---- answers ---- */

static int answer_422(cio_http_res *res, const cio__param *bad[], size_t nbad) {
  static const char *const msg[] = {"", "value is not a valid integer",
                                    "value is not a valid float", "value is not a valid uuid"};
  static const char *const type[] = {"", "type_error.integer", "type_error.float",
                                     "type_error.uuid"};
  cio_json *j = cio_http_res_json(res, 422);
  cio_json_object(j);
  cio_json_key(j, "detail");
  cio_json_array(j);
  for (size_t i = 0; i < nbad; i++) {
    cio_json_object(j);
    cio_json_key(j, "loc");
    cio_json_array(j);
    cio_json_str(j, "path");
    cio_json_str(j, bad[i]->name);
    cio_json_array_end(j);
    cio_json_key(j, "msg");
    cio_json_str(j, msg[bad[i]->type]);
    cio_json_key(j, "type");
    cio_json_str(j, type[bad[i]->type]);
    cio_json_object_end(j);
  }
  cio_json_array_end(j);
  return cio_json_object_end(j);
}

static int answer_405(cio_http_res *res, uint32_t methods) {
  char allow[128];
  size_t o = 0;
  allow[0] = '\0';
  for (int m = CIO_HTTP_GET; m < CIO_HTTP_METHOD_COUNT; m++) {
    if (!(methods & (1u << m))) continue;
    o += (size_t)snprintf(allow + o, sizeof allow - o, "%s%s", o ? ", " : "",
                          cio_http_method_name((cio_http_method)m));
  }
  cio__http_res_fail(res, 405, "Method Not Allowed");
  return o ? cio_http_res_set_header(res, "Allow", allow) : 0;
}

/* Starlette's redirect_slashes: Location is the URL with the other path. */
static int answer_redirect(cio_http_req *req, cio_http_res *res) {
  size_t hl = 0, rl = req->raw_path_len;
  const char *host = cio_http_req_header(req, "host", &hl);
  const char *raw = req->raw_path;
  cio__arena *a = &req->c->arena;
  char *loc = cio__arena_alloc(a, hl + rl + req->query_len + 16);
  if (!loc) return -ENOMEM;
  size_t o = 0;
  if (host && hl) {
    const char *scheme = cio_http_req_scheme(req);
    o = strlen(scheme);
    memcpy(loc, scheme, o);
    memcpy(loc + o, "://", 3);
    o += 3;
    memcpy(loc + o, host, hl);
    o += hl;
  }
  if (rl && raw[rl - 1] == '/') {
    while (rl && raw[rl - 1] == '/') rl--;
    memcpy(loc + o, raw, rl);
    o += rl;
  } else {
    memcpy(loc + o, raw, rl);
    o += rl;
    loc[o++] = '/';
  }
  if (req->query_len) {
    loc[o++] = '?';
    memcpy(loc + o, req->query, req->query_len);
    o += req->query_len;
  }
  loc[o] = '\0';
  cio__http_res_fail(res, 307, NULL);
  return cio_http_res_set_header(res, "Location", loc);
}

/* ---- dispatch ---- */

static int method_allowed(const cio__route *r, cio_http_method m) {
  if (r->kind == R_MOUNT || (r->methods & CIO__HTTP_ANY_METHOD)) return 1;
  return m != CIO_HTTP_OTHER && (r->methods & (1u << m));
}

/* Store the matched spans as parameters (NUL-terminated copies). */
static int take_params(cio_http_req *req, const cio__route *r, const span *sp) {
  cio__arena *a = &req->c->arena;
  size_t k = 0;
  for (size_t i = 0; i < r->nparts; i++) {
    const cio__pat_part *p = &r->parts[i];
    if (!p->is_param) continue;
    cio__param *x = &req->params[k];
    x->name = p->text;
    x->type = p->type;
    x->range = 0;
    x->len = sp[k].len;
    x->value = cio__arena_strndup(a, req->path + sp[k].off, sp[k].len);
    if (!x->value) return -ENOMEM;
    k++;
  }
  req->nparams = k;
  return 0;
}

static int convert_params(cio_http_req *req, cio_http_res *res) {
  const cio__param *bad[CIO__HTTP_MAX_PARAMS];
  size_t nbad = 0;
  cio__arena *a = &req->c->arena;
  for (size_t k = 0; k < req->nparams; k++) {
    cio__param *x = &req->params[k];
    int r = 0;
    if (x->type == P_INT)
      r = py_int(x->value, x->len, a, x);
    else if (x->type == P_FLOAT)
      r = py_float(x->value, x->len, a, x);
    else if (x->type == P_UUID)
      r = py_uuid(x->value, x->len, a, x);
    if (r == -ENOMEM) return r;
    if (r < 0) bad[nbad++] = x;
  }
  if (!nbad) return 0;
  answer_422(res, bad, nbad);
  return 1;
}

static int match_route(const cio__route *r, const char *path, size_t n, span *sp) {
  return match_from(r, 0, path, n, 0, sp, 0);
}

int cio__http_route(cio_http_req *req, cio_http_res *res) {
  const cio_http_app *app = req->c->app;
  const char *path = req->path;
  size_t n = req->path_len;
  cio_http_method m = req->head.method_id;
  const cio__route *partial = NULL;
  span sp[CIO__HTTP_MAX_PARAMS + 1];
  for (size_t i = 0; i < app->nroutes; i++) {
    const cio__route *r = &app->routes[i];
    if (!match_route(r, path, n, sp)) continue;
    if (!method_allowed(r, m)) {
      if (!partial) partial = r;
      continue;
    }
    req->route = r;
    int e = take_params(req, r, sp);
    if (e < 0) return e;
    if (r->kind == R_MOUNT) {
      /* the last parameter is the rest of the path: the child's path is
       * "/" + it, and it is no parameter of the handler's */
      cio__param *rest = &req->params[--req->nparams];
      char *mp = cio__arena_alloc(&req->c->arena, rest->len + 2);
      if (!mp) return -ENOMEM;
      mp[0] = '/';
      memcpy(mp + 1, rest->value, rest->len + 1);
      req->mount_path = mp;
      req->mount_path_len = rest->len + 1;
    }
    e = convert_params(req, res);
    if (e < 0) return e;
    if (e > 0) return 0; /* 422 */
    res->hdr_mark = req->c->res_hdrs.len;
    return r->fn(req, res, r->arg);
  }
  if (partial) return answer_405(res, partial->methods);
  if (!app->o.no_redirect_slashes && !(n == 1 && path[0] == '/')) {
    /* the other variant: without every trailing slash, or with one */
    char *alt = cio__arena_alloc(&req->c->arena, n + 2);
    if (!alt) return -ENOMEM;
    size_t an = n;
    memcpy(alt, path, n);
    if (n && path[n - 1] == '/')
      while (an && alt[an - 1] == '/') an--;
    else
      alt[an++] = '/';
    for (size_t i = 0; i < app->nroutes; i++)
      if (match_route(&app->routes[i], alt, an, sp)) return answer_redirect(req, res);
  }
  cio__http_res_fail(res, 404, "Not Found");
  return 0;
}
