/* url.c - redis://, rediss:// and unix:// URLs. */
#include "redis_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Copy p[0..n-1] to *dst, %-decoded and NUL-terminated; returns the copy,
 * or NULL for a bad escape or an encoded NUL. */
static const char *decode(const char *p, size_t n, char **dst) {
  char *out = *dst, *start = out;
  for (size_t i = 0; i < n; i++) {
    if (p[i] != '%') {
      *out++ = p[i];
      continue;
    }
    if (i + 2 >= n) return NULL;
    int hi = hexval(p[i + 1]), lo = hexval(p[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return NULL;
    *out++ = (char)(hi * 16 + lo);
    i += 2;
  }
  *out++ = '\0';
  *dst = out;
  return start;
}

static int parse_db(const char *p, size_t n, long *db) {
  if (n == 0) return 0; /* "redis://host/" */
  long v = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9' || v > 100000) return -1;
    v = v * 10 + (p[i] - '0');
  }
  *db = v;
  return 0;
}

static int bad(const char *why, const char *url) {
  return cio__redis_error(-EINVAL, "bad Redis URL \"%s\": %s", url, why);
}

/* "db=N" parameters after '?'. */
static int parse_query(const char *q, cio__redis_url *u, const char *url) {
  while (*q) {
    const char *amp = strchr(q, '&');
    size_t n = amp ? (size_t)(amp - q) : strlen(q);
    if (n > 3 && strncmp(q, "db=", 3) == 0) {
      if (parse_db(q + 3, n - 3, &u->db) < 0) return bad("the db is not a number", url);
    } else if (n > 0) {
      return bad("unknown parameter (only db=N is known)", url);
    }
    q += n + (amp ? 1 : 0);
  }
  return 0;
}

int cio__redis_url_parse(const char *url, cio__redis_url *u) {
  memset(u, 0, sizeof *u);
  u->port = 6379;
  if (!url) return bad("none given", "");
  const char *p;
  int is_unix = 0;
  if (strncasecmp(url, "redis://", 8) == 0) {
    p = url + 8;
  } else if (strncasecmp(url, "rediss://", 9) == 0) {
    p = url + 9;
    u->tls = 1;
  } else if (strncasecmp(url, "unix://", 7) == 0) {
    p = url + 7;
    is_unix = 1;
  } else {
    return bad("the scheme must be redis://, rediss:// or unix://", url);
  }
  size_t len = strlen(url);
  u->mem = cio__malloc(len + 8);
  if (!u->mem) return cio__redis_error(-ENOMEM, "out of memory");
  char *out = u->mem;

  /* The query goes first: it ends everything else. */
  const char *query = strchr(p, '?');
  const char *end = query ? query : p + strlen(p);
  /* user:password@ before the host or path (the last '@' there: a
   * password should %-encode an '@', but be kind). */
  const char *auth_end = NULL;
  const char *slash = memchr(p, '/', (size_t)(end - p)); /* unix: the path */
  const char *authority_end = slash ? slash : end;
  for (const char *q = p; q < authority_end; q++)
    if (*q == '@') auth_end = q;
  int r = 0;
  if (auth_end) {
    const char *colon = memchr(p, ':', (size_t)(auth_end - p));
    const char *user_end = colon ? colon : auth_end;
    if (user_end > p && !(u->user = decode(p, (size_t)(user_end - p), &out)))
      r = bad("bad %-escape in the user", url);
    if (r == 0 && colon && !(u->pass = decode(colon + 1, (size_t)(auth_end - colon - 1), &out)))
      r = bad("bad %-escape in the password", url);
    p = auth_end + 1;
  }
  if (r == 0 && is_unix) {
    if (p == end || *p != '/') {
      r = bad("a unix:// URL needs an absolute socket path", url);
    } else if (!(u->path = decode(p, (size_t)(end - p), &out))) {
      r = bad("bad %-escape in the path", url);
    }
  } else if (r == 0) {
    const char *h = p, *h_end = authority_end;
    const char *port = NULL;
    if (*h == '[') { /* [v6]:port */
      const char *close = memchr(h, ']', (size_t)(authority_end - h));
      if (!close)
        r = bad("unclosed [ in the host", url);
      else if (close + 1 < authority_end && close[1] != ':')
        r = bad("junk after ] in the host", url);
      else if (close + 1 < authority_end)
        port = close + 2;
      h++;
      if (close) h_end = close;
    } else {
      const char *colon = memchr(h, ':', (size_t)(authority_end - h));
      if (colon) {
        h_end = colon;
        port = colon + 1;
      }
    }
    if (r < 0) {
      /* reported */
    } else if (h_end == h) {
      r = bad("no host", url);
    } else {
      memcpy(out, h, (size_t)(h_end - h));
      out[h_end - h] = '\0';
      u->host = out;
      out += h_end - h + 1;
    }
    if (r == 0 && port) {
      long v = 0;
      const char *q = port;
      for (; q < authority_end && *q >= '0' && *q <= '9' && v <= 65535; q++)
        v = v * 10 + (*q - '0');
      if (q == port || q != authority_end || v < 1 || v > 65535) r = bad("bad port", url);
      u->port = (int)v;
    }
    if (r == 0 && slash && parse_db(slash + 1, (size_t)(end - slash - 1), &u->db) < 0)
      r = bad("the path must be a database number", url);
  }
  if (r == 0 && query) r = parse_query(query + 1, u, url);
  if (r < 0) cio__redis_url_free(u);
  return r;
}

void cio__redis_url_free(cio__redis_url *u) {
  cio__free(u->mem);
  u->mem = NULL;
}
