/* url.c - percent-decoding and -encoding, query string iteration. */
#include "cio/url.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

static int hexval(unsigned c) {
  if (c - '0' < 10) return (int)(c - '0');
  c |= 0x20;
  if (c - 'a' < 6) return (int)(c - 'a' + 10);
  return -1;
}

ssize_t cio_url_decode(char *out, const char *in, size_t n, unsigned flags) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)in[i];
    if (c == '%') {
      int hi = i + 2 < n ? hexval((unsigned char)in[i + 1]) : -1;
      int lo = hi >= 0 ? hexval((unsigned char)in[i + 2]) : -1;
      if (lo >= 0) {
        out[o++] = (char)(hi << 4 | lo);
        i += 2;
        continue;
      }
      if (flags & CIO_URL_STRICT) return -EINVAL;
    } else if (c == '+' && (flags & CIO_URL_PLUS_SPACE)) {
      c = ' ';
    }
    out[o++] = (char)c;
  }
  return (ssize_t)o;
}

static int unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

ssize_t cio_url_encode(char *out, size_t cap, const char *in, size_t n, unsigned flags) {
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)in[i];
    if (unreserved(c) || (c == '/' && (flags & CIO_URL_KEEP_SLASH))) {
      if (o + 1 > cap) return -ENOSPC;
      out[o++] = (char)c;
    } else if (c == ' ' && (flags & CIO_URL_FORM)) {
      if (o + 1 > cap) return -ENOSPC;
      out[o++] = '+';
    } else {
      if (o + 3 > cap) return -ENOSPC;
      out[o++] = '%';
      out[o++] = hex[c >> 4];
      out[o++] = hex[c & 15];
    }
  }
  if (o < cap) out[o] = '\0';
  return (ssize_t)o;
}

int cio_url_query_next(const char **pos, const char *end, cio_url_pair *pair) {
  const char *p = *pos;
  while (p < end) {
    const char *amp = memchr(p, '&', (size_t)(end - p));
    const char *e = amp ? amp : end;
    if (e > p) {
      const char *eq = memchr(p, '=', (size_t)(e - p));
      pair->name = p;
      pair->name_len = (size_t)((eq ? eq : e) - p);
      pair->value = eq ? eq + 1 : e;
      pair->value_len = eq ? (size_t)(e - eq - 1) : 0;
      *pos = amp ? amp + 1 : end;
      return 1;
    }
    p = amp ? amp + 1 : end;
  }
  *pos = end;
  return 0;
}

/* Decoded name equality without a buffer: decode byte by byte. */
static int name_is(const char *enc, size_t n, const char *name) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)enc[i];
    if (c == '%' && i + 2 < n && hexval((unsigned char)enc[i + 1]) >= 0 &&
        hexval((unsigned char)enc[i + 2]) >= 0) {
      c = (unsigned char)(hexval((unsigned char)enc[i + 1]) << 4 |
                          hexval((unsigned char)enc[i + 2]));
      i += 2;
    } else if (c == '+') {
      c = ' ';
    }
    if (name[k] == '\0' || (unsigned char)name[k] != c) return 0;
    k++;
  }
  return name[k] == '\0';
}

ssize_t cio_url_query_get(const char *query, size_t n, const char *name, char *out, size_t cap) {
  const char *pos = query, *end = query + n;
  cio_url_pair pr;
  while (cio_url_query_next(&pos, end, &pr)) {
    if (!name_is(pr.name, pr.name_len, name)) continue;
    if (cap == 0 || pr.value_len >= cap) {
      /* The decoded value may be shorter: decode into out only if it fits. */
      size_t need = 0;
      for (size_t i = 0; i < pr.value_len; i++, need++)
        if (pr.value[i] == '%' && i + 2 < pr.value_len &&
            hexval((unsigned char)pr.value[i + 1]) >= 0 &&
            hexval((unsigned char)pr.value[i + 2]) >= 0)
          i += 2;
      if (need >= cap) return -ENOSPC;
    }
    ssize_t r = cio_url_decode(out, pr.value, pr.value_len, CIO_URL_PLUS_SPACE);
    out[r] = '\0';
    return r;
  }
  return -ENOENT;
}
