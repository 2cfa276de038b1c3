/* client_cookie.c - a session's cookie jar (RFC 6265, the parts a client
 * of APIs and sites needs): host-only and Domain cookies, Path, Secure,
 * Expires and Max-Age; HttpOnly and SameSite mean nothing outside a
 * browser. Without a public-suffix list, a Domain attribute must hold a
 * dot and match the host that set it: "example.com" may set a cookie for
 * its subdomains, "com" is refused, but "co.uk" would not be (the jar only
 * holds what the session's own requests were sent). */
#include "client_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_COOKIES 3000
#define MAX_COOKIE  4096

struct cio__cookie {
  cio__cookie *next;
  char *name, *value, *domain, *path; /* one allocation, at name */
  bool host_only, secure;
  int64_t expires; /* unix seconds; 0 = end of session */
  uint64_t order;  /* creation, for the order of the Cookie header */
};

static bool is_ip(const char *h) {
  if (strchr(h, ':')) return true;
  for (; *h; h++)
    if ((*h < '0' || *h > '9') && *h != '.') return false;
  return true;
}

static bool domain_match(const char *host, const char *domain) {
  size_t hl = strlen(host), dl = strlen(domain);
  if (hl == dl) return strcmp(host, domain) == 0;
  return hl > dl && host[hl - dl - 1] == '.' && strcmp(host + hl - dl, domain) == 0 && !is_ip(host);
}

static bool path_match(const char *rpath, size_t rlen, const char *cpath) {
  size_t cl = strlen(cpath);
  if (rlen < cl || memcmp(rpath, cpath, cl) != 0) return false;
  return rlen == cl || cpath[cl - 1] == '/' || rpath[cl] == '/';
}

static const char *trim(const char *s, const char *e, const char **end) {
  while (s < e && (*s == ' ' || *s == '\t')) s++;
  while (e > s && (e[-1] == ' ' || e[-1] == '\t')) e--;
  *end = e;
  return s;
}

static int64_t parse_date(const char *v, size_t n) {
  char tmp[64];
  if (n >= sizeof tmp) return -1;
  memcpy(tmp, v, n);
  tmp[n] = '\0';
  static const char *const fmts[] = {"%a, %d %b %Y %H:%M:%S", "%a, %d-%b-%Y %H:%M:%S",
                                     "%a, %d-%b-%y %H:%M:%S", "%a %b %d %H:%M:%S %Y"};
  for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
    struct tm tm = {0};
    const char *end = strptime(tmp, fmts[i], &tm);
    if (end) {
      if (tm.tm_year < 70) tm.tm_year += 100;
      return (int64_t)timegm(&tm);
    }
  }
  return -1;
}

static void cookie_free(cio__cookie *c) {
  free(c->name);
  free(c);
}

static void unlink_matching(cio_http_session *s, const cio__cookie *k, uint64_t *order) {
  for (cio__cookie **p = &s->cookies; *p; p = &(*p)->next) {
    cio__cookie *c = *p;
    if (strcmp(c->name, k->name) == 0 && strcmp(c->domain, k->domain) == 0 &&
        strcmp(c->path, k->path) == 0) {
      *order = c->order;
      *p = c->next;
      cookie_free(c);
      s->ncookies--;
      return;
    }
  }
}

int cio__cookie_set(cio_http_session *s, const cio__url *u, const char *v, size_t n) {
  const char *semi = memchr(v, ';', n), *end = semi ? semi : v + n, *e;
  const char *eq = memchr(v, '=', (size_t)(end - v));
  if (!eq) return -EINVAL;
  const char *name = trim(v, eq, &e);
  size_t nlen = (size_t)(e - name);
  const char *value = trim(eq + 1, end, &e);
  size_t vlen = (size_t)(e - value);
  if (!nlen || nlen + vlen > MAX_COOKIE || !cio__is_token(name, nlen)) return -EINVAL;
  if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') value++, vlen -= 2;
  for (size_t i = 0; i < vlen; i++)
    if ((unsigned char)value[i] < 0x21 || value[i] == ';' || value[i] == 0x7f) return -EINVAL;
  const char *dom = NULL, *path = NULL;
  size_t dlen = 0, plen = 0;
  bool secure = false, max_age_seen = false;
  int64_t expires = 0, now = (int64_t)time(NULL);
  const char *a = semi ? semi + 1 : v + n;
  while (a < v + n) {
    const char *aend = memchr(a, ';', (size_t)(v + n - a));
    if (!aend) aend = v + n;
    const char *aeq = memchr(a, '=', (size_t)(aend - a));
    const char *an = trim(a, aeq ? aeq : aend, &e);
    size_t anl = (size_t)(e - an);
    const char *av = aeq ? trim(aeq + 1, aend, &e) : aend;
    size_t avl = aeq ? (size_t)(e - av) : 0;
    if (cio__ascii_ieq(an, anl, "domain") && avl) {
      if (*av == '.') av++, avl--;
      dom = av;
      dlen = avl;
    } else if (cio__ascii_ieq(an, anl, "path") && avl && *av == '/') {
      path = av;
      plen = avl;
    } else if (cio__ascii_ieq(an, anl, "secure")) {
      secure = true;
    } else if (cio__ascii_ieq(an, anl, "max-age") && avl) {
      char *x, tmp[24];
      if (avl < sizeof tmp) {
        memcpy(tmp, av, avl);
        tmp[avl] = '\0';
        long long age = strtoll(tmp, &x, 10);
        if (*x == '\0') {
          max_age_seen = true;
          expires = age <= 0 ? 1 : now + (age > INT32_MAX ? INT32_MAX : age);
        }
      }
    } else if (cio__ascii_ieq(an, anl, "expires") && !max_age_seen) {
      int64_t t = parse_date(av, avl);
      if (t >= 0) expires = t < 1 ? 1 : t;
    }
    a = aend + 1;
  }
  if (secure && !u->https) return -EINVAL; /* RFC 6265bis 5.6 */
  char dbuf[256];
  if (dom) {
    if (dlen >= sizeof dbuf) return -EINVAL;
    for (size_t i = 0; i < dlen; i++)
      dbuf[i] = (char)(dom[i] >= 'A' && dom[i] <= 'Z' ? dom[i] | 0x20 : dom[i]);
    dbuf[dlen] = '\0';
    if (!memchr(dbuf, '.', dlen) || !domain_match(u->host, dbuf)) return -EINVAL;
  }
  const char *rpath = u->target;
  size_t rlen = strcspn(rpath, "?");
  if (!path) { /* default-path: the request path up to its last '/' */
    path = rpath;
    plen = rlen;
    while (plen > 1 && path[plen - 1] != '/') plen--;
    if (plen > 1) plen--;
  }
  const char *domain = dom ? dbuf : u->host;
  size_t dl = strlen(domain);
  cio__cookie *c = calloc(1, sizeof *c);
  char *mem = malloc(nlen + vlen + dl + plen + 4);
  if (!c || !mem) {
    free(c);
    free(mem);
    return -ENOMEM;
  }
  c->name = mem;
  memcpy(c->name, name, nlen);
  c->name[nlen] = '\0';
  c->value = c->name + nlen + 1;
  memcpy(c->value, value, vlen);
  c->value[vlen] = '\0';
  c->domain = c->value + vlen + 1;
  memcpy(c->domain, domain, dl + 1);
  c->path = c->domain + dl + 1;
  memcpy(c->path, path, plen);
  c->path[plen] = '\0';
  c->host_only = !dom;
  c->secure = secure;
  c->expires = expires;
  c->order = ++s->cookie_seq;
  unlink_matching(s, c, &c->order);
  if ((expires && expires <= now) || s->ncookies >= MAX_COOKIES) {
    cookie_free(c); /* an expiry in the past deletes */
    return 0;
  }
  c->next = s->cookies;
  s->cookies = c;
  s->ncookies++;
  return 0;
}

void cio__cookies_store(cio_http_session *s, const cio__url *u, const cio_http_header *h,
                        size_t n) {
  for (size_t i = 0; i < n; i++)
    if (cio__ascii_ieq(h[i].name, h[i].name_len, "set-cookie"))
      cio__cookie_set(s, u, h[i].value, h[i].value_len); /* a bad one is ignored */
}

static int by_path_then_age(const void *a, const void *b) {
  const cio__cookie *x = *(const cio__cookie *const *)a, *y = *(const cio__cookie *const *)b;
  size_t xl = strlen(x->path), yl = strlen(y->path);
  if (xl != yl) return xl > yl ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

void cio__cookies_header(cio_http_session *s, const cio__url *u, cio__buf *b) {
  if (!s->cookies) return;
  int64_t now = (int64_t)time(NULL);
  const cio__cookie *found[64];
  size_t nfound = 0;
  size_t rlen = strcspn(u->target, "?");
  for (cio__cookie **p = &s->cookies; *p;) {
    cio__cookie *c = *p;
    if (c->expires && c->expires <= now) {
      *p = c->next;
      cookie_free(c);
      s->ncookies--;
      continue;
    }
    p = &c->next;
    if (c->host_only ? strcmp(u->host, c->domain) != 0 : !domain_match(u->host, c->domain))
      continue;
    if (!path_match(u->target, rlen, c->path) || (c->secure && !u->https)) continue;
    if (nfound < sizeof found / sizeof found[0]) found[nfound++] = c;
  }
  if (!nfound) return;
  qsort(found, nfound, sizeof found[0], by_path_then_age);
  cio__buf_adds(b, "Cookie: ");
  for (size_t i = 0; i < nfound; i++) {
    if (i) cio__buf_adds(b, "; ");
    cio__buf_adds(b, found[i]->name);
    cio__buf_addc(b, '=');
    cio__buf_adds(b, found[i]->value);
  }
  cio__buf_adds(b, "\r\n");
}

void cio__cookies_free(cio_http_session *s) {
  while (s->cookies) {
    cio__cookie *c = s->cookies;
    s->cookies = c->next;
    cookie_free(c);
  }
  s->ncookies = 0;
}
