/* client_url.c - absolute http(s) URLs for the client: parsing, query
 * building, Location references (RFC 3986), origins. */
#include "client_internal.h"

#include "cio/url.h"

#include <stdlib.h>
#include <string.h>

static bool url_char_ok(unsigned char c) {
  /* unreserved, sub-delims, and the gen-delims a path or query may hold */
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c && strchr("-._~!$&'()*+,;=:@/?%", c));
}

/* Append s[0..n) to b, percent-encoding what may not appear as is (spaces,
 * non-ASCII bytes...). Control characters are refused. */
static int add_target(cio__buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == 0x7f) return -EINVAL;
    if (url_char_ok(c)) {
      cio__buf_addc(b, (char)c);
    } else {
      cio__buf_addc(b, '%');
      cio__buf_addc(b, hex[c >> 4]);
      cio__buf_addc(b, hex[c & 15]);
    }
  }
  return 0;
}

static void add_encoded(cio__buf *b, const char *s) {
  size_t n = strlen(s);
  if (cio__buf_reserve(b, 3 * n + 1) < 0) return;
  ssize_t w = cio_url_encode(b->p + b->len, b->cap - b->len, s, n, CIO_URL_FORM);
  if (w >= 0) b->len += (size_t)w;
}

static bool host_char_ok(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

void cio__url_free(cio__url *u) {
  free(u->mem);
  memset(u, 0, sizeof *u);
}

int cio__url_parse(cio__url *u, const char *url, const cio_http_field *query, size_t nquery) {
  memset(u, 0, sizeof *u);
  if (!url) return cio__hc_fail(-EINVAL, "no URL");
  const char *p = url;
  if (strncasecmp(p, "http://", 7) == 0) {
    p += 7;
  } else if (strncasecmp(p, "https://", 8) == 0) {
    p += 8;
    u->https = true;
  } else {
    const char *colon = strchr(url, ':');
    if (colon && colon > url && strncmp(colon, "://", 3) == 0)
      return cio__hc_fail(-EPROTONOSUPPORT, "URL scheme '%.*s' is not http or https",
                          (int)(colon - url), url);
    return cio__hc_fail(-EINVAL, "not an absolute http(s) URL: %.200s", url);
  }
  size_t alen = strcspn(p, "/?#");
  const char *auth = p, *aend = p + alen, *hs = auth;
  const char *at = NULL;
  for (const char *q = auth; q < aend; q++)
    if (*q == '@') at = q;
  cio__buf b = {0};
  size_t user_off = 0, pass_off = 0, host_off, target_off;
  bool has_user = false, has_pass = false;
  if (at) { /* userinfo: percent-decoded */
    const char *colon = memchr(auth, ':', (size_t)(at - auth));
    const char *ue = colon ? colon : at;
    has_user = true;
    user_off = b.len;
    if (cio__buf_reserve(&b, (size_t)(at - auth) + 2) == 0) {
      b.len += (size_t)cio_url_decode(b.p + b.len, auth, (size_t)(ue - auth), 0);
      cio__buf_addc(&b, '\0');
      if (colon) {
        has_pass = true;
        pass_off = b.len;
        b.len += (size_t)cio_url_decode(b.p + b.len, colon + 1, (size_t)(at - colon - 1), 0);
        cio__buf_addc(&b, '\0');
      }
    }
    hs = at + 1;
  }
  const char *he, *ps;
  host_off = b.len;
  if (*hs == '[') {
    he = memchr(hs, ']', (size_t)(aend - hs));
    if (!he || he == hs + 1) goto bad;
    for (const char *q = hs + 1; q < he; q++)
      if (!strchr("0123456789abcdefABCDEF:.", *q)) goto bad;
    for (const char *q = hs + 1; q < he; q++)
      cio__buf_addc(&b, (char)(*q | (*q >= 'A' ? 0x20 : 0)));
    u->ipv6 = true;
    ps = he + 1;
    if (ps < aend && *ps != ':') goto bad;
  } else {
    he = memchr(hs, ':', (size_t)(aend - hs));
    if (!he) he = aend;
    if (he == hs) goto bad;
    for (const char *q = hs; q < he; q++) {
      unsigned char c = (unsigned char)*q;
      if (c >= 'A' && c <= 'Z') c |= 0x20;
      if (!host_char_ok(c)) goto bad;
      cio__buf_addc(&b, (char)c);
    }
    ps = he;
  }
  cio__buf_addc(&b, '\0');
  u->port = u->https ? 443 : 80;
  if (ps < aend) { /* ":port" */
    long port = 0;
    const char *q = ps + 1;
    if (q == aend) goto bad_port;
    for (; q < aend; q++) {
      if (*q < '0' || *q > '9' || port > 65535) goto bad_port;
      port = port * 10 + (*q - '0');
    }
    if (port < 1 || port > 65535) goto bad_port;
    u->port = (int)port;
  }
  target_off = b.len;
  const char *t = aend;
  size_t tlen = strcspn(t, "#");
  if (tlen == 0 || *t != '/') cio__buf_addc(&b, '/');
  if (add_target(&b, t, tlen) < 0) {
    cio__buf_free(&b);
    return cio__hc_fail(-EINVAL, "control character in URL");
  }
  bool has_q = memchr(t, '?', tlen) != NULL;
  for (size_t i = 0; i < nquery; i++) {
    if (!query[i].name) {
      cio__buf_free(&b);
      return cio__hc_fail(-EINVAL, "query parameter without a name");
    }
    cio__buf_addc(&b, has_q ? '&' : '?');
    has_q = true;
    add_encoded(&b, query[i].name);
    cio__buf_addc(&b, '=');
    if (query[i].value) add_encoded(&b, query[i].value);
  }
  cio__buf_addc(&b, '\0');
  if (b.err) {
    cio__buf_free(&b);
    return cio__hc_fail(-ENOMEM, "out of memory");
  }
  u->mem = b.p;
  u->host = b.p + host_off;
  u->target = b.p + target_off;
  u->user = has_user ? b.p + user_off : NULL;
  u->password = has_pass ? b.p + pass_off : NULL;
  return 0;
bad:
  cio__buf_free(&b);
  return cio__hc_fail(-EINVAL, "bad host in URL: %.200s", url);
bad_port:
  cio__buf_free(&b);
  return cio__hc_fail(-EINVAL, "bad port in URL: %.200s", url);
}

void cio__url_hostport(const cio__url *u, cio__buf *b, bool always_port) {
  if (u->ipv6) cio__buf_addc(b, '[');
  cio__buf_adds(b, u->host);
  if (u->ipv6) cio__buf_addc(b, ']');
  if (always_port || u->port != (u->https ? 443 : 80)) {
    cio__buf_addc(b, ':');
    cio__buf_add_u64(b, (unsigned)u->port);
  }
}

char *cio__url_string(const cio__url *u) {
  cio__buf b = {0};
  cio__buf_adds(&b, u->https ? "https://" : "http://");
  cio__url_hostport(u, &b, false);
  cio__buf_adds(&b, u->target);
  cio__buf_addc(&b, '\0');
  if (b.err) {
    cio__buf_free(&b);
    return NULL;
  }
  return b.p;
}

bool cio__url_same_origin(const cio__url *a, const cio__url *b) {
  return a->https == b->https && a->port == b->port && strcmp(a->host, b->host) == 0;
}

/* RFC 3986 5.2.4, on path[0..n) written to b. */
static void remove_dots(cio__buf *b, const char *path, size_t n) {
  size_t start = b->len;
  size_t i = 0;
  while (i < n) {
    const char *s = path + i;
    size_t left = n - i;
    if (left >= 3 && memcmp(s, "../", 3) == 0) {
      i += 3;
    } else if (left >= 2 && memcmp(s, "./", 2) == 0) {
      i += 2;
    } else if ((left >= 3 && memcmp(s, "/./", 3) == 0) || (left == 2 && memcmp(s, "/.", 2) == 0)) {
      i += 2;
      if (left == 2) {
        cio__buf_addc(b, '/');
        break;
      }
    } else if ((left >= 4 && memcmp(s, "/../", 4) == 0) ||
               (left == 3 && memcmp(s, "/..", 3) == 0)) {
      i += 3;
      while (b->len > start && b->p[b->len - 1] != '/') b->len--;
      if (b->len > start) b->len--;
      if (left == 3) {
        cio__buf_addc(b, '/');
        break;
      }
    } else if ((left == 1 && *s == '.') || (left == 2 && memcmp(s, "..", 2) == 0)) {
      break;
    } else {
      size_t seg = 1;
      while (seg < left && s[seg] != '/') seg++;
      cio__buf_add(b, s, seg);
      i += seg;
    }
  }
}

static bool has_scheme(const char *r, size_t n) {
  size_t i = 0;
  if (!n || !((r[0] | 0x20) >= 'a' && (r[0] | 0x20) <= 'z')) return false;
  while (i < n && (((r[i] | 0x20) >= 'a' && (r[i] | 0x20) <= 'z') || (r[i] >= '0' && r[i] <= '9') ||
                   r[i] == '+' || r[i] == '-' || r[i] == '.'))
    i++;
  return i < n && r[i] == ':';
}

int cio__url_resolve(cio__url *out, const cio__url *base, const char *ref, size_t n) {
  cio__buf b = {0};
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)ref[i] < 0x20)
      return cio__hc_fail(-EBADMSG, "control character in Location");
  if (has_scheme(ref, n)) {
    cio__buf_add(&b, ref, n);
  } else if (n >= 2 && ref[0] == '/' && ref[1] == '/') {
    cio__buf_adds(&b, base->https ? "https:" : "http:");
    cio__buf_add(&b, ref, n);
  } else {
    cio__buf_adds(&b, base->https ? "https://" : "http://");
    cio__url_hostport(base, &b, false);
    const char *bt = base->target;
    size_t bpath = strcspn(bt, "?");
    size_t frag = 0;
    while (frag < n && ref[frag] != '#') frag++;
    n = frag; /* the fragment is never sent */
    if (n == 0) {
      cio__buf_adds(&b, bt);
    } else if (ref[0] == '?') {
      cio__buf_add(&b, bt, bpath);
      cio__buf_add(&b, ref, n);
    } else {
      size_t rpath = 0;
      while (rpath < n && ref[rpath] != '?') rpath++;
      cio__buf merged = {0};
      if (ref[0] != '/') {
        size_t dir = bpath;
        while (dir > 0 && bt[dir - 1] != '/') dir--;
        cio__buf_add(&merged, bt, dir);
      }
      cio__buf_add(&merged, ref, rpath);
      if (merged.err) {
        cio__buf_free(&b);
        cio__buf_free(&merged);
        return cio__hc_fail(-ENOMEM, "out of memory");
      }
      remove_dots(&b, merged.p, merged.len);
      cio__buf_free(&merged);
      cio__buf_add(&b, ref + rpath, n - rpath);
    }
  }
  cio__buf_addc(&b, '\0');
  if (b.err) {
    cio__buf_free(&b);
    return cio__hc_fail(-ENOMEM, "out of memory");
  }
  int r = cio__url_parse(out, b.p, NULL, 0);
  cio__buf_free(&b);
  return r;
}
