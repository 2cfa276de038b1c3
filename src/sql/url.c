/* url.c - database URLs: scheme://user:password@host:port/path?k=v&k=v */
#include "sql_internal.h"

#include <ctype.h>

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Percent-decode [p, p+n) into a new string; NULL on ENOMEM or a bad
 * escape (*bad set). '+' stays '+' (these are not form fields). */
static char *decode(const char *p, size_t n, bool *bad) {
  char *s = malloc(n + 1), *o = s;
  if (!s) return NULL;
  for (size_t i = 0; i < n; i++) {
    if (p[i] == '%') {
      int a = i + 1 < n ? hexval((unsigned char)p[i + 1]) : -1;
      int b = i + 2 < n ? hexval((unsigned char)p[i + 2]) : -1;
      if (a < 0 || b < 0) {
        *bad = true;
        free(s);
        return NULL;
      }
      *o++ = (char)(a * 16 + b);
      i += 2;
    } else {
      *o++ = p[i];
    }
  }
  *o = '\0';
  return s;
}

void cio__sql_url_free(cio__sql_url *u) {
  free(u->scheme);
  free(u->user);
  free(u->password);
  free(u->host);
  free(u->path);
  for (size_t i = 0; i < u->nparams; i++) {
    free(u->keys[i]);
    free(u->vals[i]);
  }
  free(u->keys);
  free(u->vals);
  memset(u, 0, sizeof *u);
}

const char *cio__sql_url_param(const cio__sql_url *u, const char *key) {
  for (size_t i = 0; i < u->nparams; i++)
    if (strcmp(u->keys[i], key) == 0) return u->vals[i];
  return NULL;
}

static int parse_query(cio__sql_url *u, const char *q, bool *bad) {
  size_t n = 1;
  for (const char *s = q; *s; s++) n += *s == '&';
  u->keys = calloc(n, sizeof *u->keys);
  u->vals = calloc(n, sizeof *u->vals);
  if (!u->keys || !u->vals) return -ENOMEM;
  while (*q) {
    const char *end = strchr(q, '&');
    if (!end) end = q + strlen(q);
    const char *eq = memchr(q, '=', (size_t)(end - q));
    if (end > q) {
      const char *kend = eq ? eq : end;
      char *k = decode(q, (size_t)(kend - q), bad);
      char *v = eq ? decode(eq + 1, (size_t)(end - eq - 1), bad) : strdup("");
      if (!k || !v) {
        free(k);
        free(v);
        return *bad ? -EINVAL : -ENOMEM;
      }
      u->keys[u->nparams] = k;
      u->vals[u->nparams++] = v;
    }
    q = *end ? end + 1 : end;
  }
  return 0;
}

static int invalid(const char *url, const char *why) {
  return cio__sql_fail("", -EINVAL, NULL, 0, "bad database URL '%.200s': %s", url, why);
}

int cio__sql_url_parse(const char *url, cio__sql_url *u) {
  memset(u, 0, sizeof *u);
  bool bad = false;
  int r = -ENOMEM;
  const char *colon = url ? strchr(url, ':') : NULL;
  if (!colon || colon == url) return invalid(url ? url : "(null)", "no scheme");
  u->scheme = strndup(url, (size_t)(colon - url));
  if (!u->scheme) goto fail;
  for (char *s = u->scheme; *s; s++) *s = (char)tolower((unsigned char)*s);
  const char *rest = colon + 1;
  /* The query string ends every form. */
  const char *qm = strchr(rest, '?');
  size_t restlen = qm ? (size_t)(qm - rest) : strlen(rest);
  if (qm && (r = parse_query(u, qm + 1, &bad)) < 0) goto fail;
  if (restlen < 2 || rest[0] != '/' || rest[1] != '/') {
    /* scheme:path (sqlite:file.db, sqlite::memory:) */
    if (!(u->path = decode(rest, restlen, &bad))) goto fail;
    return 0;
  }
  rest += 2;
  restlen -= 2;
  if (strcmp(u->scheme, "sqlite") == 0) {
    /* sqlite:///abs/file.db, sqlite://rel/file.db: the rest is the path */
    if (restlen > 0 && !(u->path = decode(rest, restlen, &bad))) goto fail;
    return 0;
  }
  const char *slash = memchr(rest, '/', restlen);
  size_t authlen = slash ? (size_t)(slash - rest) : restlen;
  if (slash) {
    /* postgresql://h/db: the path without its '/' */
    const char *pp = slash + 1;
    size_t plen = restlen - (size_t)(pp - rest);
    if (plen > 0 && !(u->path = decode(pp, plen, &bad))) goto fail;
  }
  /* userinfo@host:port; the password may hold '@' when encoded only. */
  const char *at = NULL;
  for (size_t i = 0; i < authlen; i++)
    if (rest[i] == '@') at = rest + i;
  const char *hp = rest;
  if (at) {
    const char *c = memchr(rest, ':', (size_t)(at - rest));
    const char *uend = c ? c : at;
    if (!(u->user = decode(rest, (size_t)(uend - rest), &bad))) goto fail;
    if (c && !(u->password = decode(c + 1, (size_t)(at - c - 1), &bad))) goto fail;
    hp = at + 1;
  }
  const char *hend = rest + authlen;
  const char *portp = NULL;
  size_t hn = hp < hend ? (size_t)(hend - hp) : 0;
  if (hn && *hp == '[') {
    const char *rb = memchr(hp, ']', hn);
    if (!rb) return cio__sql_url_free(u), invalid(url, "unclosed '[' in host");
    if (!(u->host = decode(hp + 1, (size_t)(rb - hp - 1), &bad))) goto fail;
    if (rb + 1 < hend) {
      if (rb[1] != ':') return cio__sql_url_free(u), invalid(url, "junk after ']'");
      portp = rb + 2;
    }
  } else {
    const char *c = hn ? memchr(hp, ':', hn) : NULL;
    const char *e = c ? c : hend;
    if (e > hp && !(u->host = decode(hp, (size_t)(e - hp), &bad))) goto fail;
    if (c) portp = c + 1;
  }
  if (portp) {
    long port = 0;
    if (portp == hend) return cio__sql_url_free(u), invalid(url, "empty port");
    for (const char *s = portp; s < hend; s++) {
      if (!isdigit((unsigned char)*s) || port > 65535)
        return cio__sql_url_free(u), invalid(url, "bad port");
      port = port * 10 + (*s - '0');
    }
    if (port < 1 || port > 65535) return cio__sql_url_free(u), invalid(url, "bad port");
    u->port = (int)port;
  }
  return 0;
fail:
  cio__sql_url_free(u);
  if (bad) return invalid(url, "bad %-escape");
  return cio__sql_fail_code("", r);
}
