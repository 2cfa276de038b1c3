/* resp.c - RESP2/RESP3 scanner and builder (see resp.h). */
#include "resp.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ATTR_BIT (UINT64_C(1) << 63)
/* Longest header line (a count, a length, a number) worth waiting for: a
 * longer one without its CRLF is garbage. Doubles may be long ("0.000...1"). */
#define MAX_HEADER_LINE 400
/* Aggregates larger than this cannot be real (and 2n must not overflow). */
#define MAX_COUNT (INT64_C(1) << 60)

void cio__resp_scanner_reset(cio__resp_scanner *s) {
  s->oversize = 0;
  s->skip_line = 0;
  s->verbatim = 0;
  s->depth = 0;
  s->total = 0;
  s->nodes = 0;
  s->bulk_left = 0;
  s->bulk_seen = 0;
  s->line_seen = 0;
  s->top_type = 0;
  s->error = NULL;
}

void cio__resp_scanner_init(cio__resp_scanner *s, size_t max_bytes, uint32_t max_depth, int resp2) {
  s->max_bytes = max_bytes ? max_bytes : SIZE_MAX;
  s->max_depth = max_depth && max_depth < CIO__RESP_MAX_DEPTH ? max_depth : CIO__RESP_MAX_DEPTH;
  s->resp2 = resp2 ? 1 : 0;
  cio__resp_scanner_reset(s);
}

/* ---- numbers ---- */

/* A decimal long long written the way Redis writes one: an optional '-',
 * no leading zero (but "0"), no '+', at most 19 digits, no overflow. As
 * strict as hiredis's string2ll. */
static int parse_ll(const char *p, size_t n, long long *out) {
  if (n == 1 && p[0] == '0') {
    *out = 0;
    return 0;
  }
  size_t i = n && p[0] == '-' ? 1 : 0;
  if (i == n || n - i > 19 || p[i] < '1' || p[i] > '9') return -1;
  int neg = i == 1;
  unsigned long long v = 0;
  for (; i < n; i++) {
    unsigned d = (unsigned)((unsigned char)p[i] - '0');
    if (d > 9) return -1;
    v = v * 10 + d; /* 19 digits fit in 64 bits */
  }
  if (neg) {
    if (v > (unsigned long long)LLONG_MAX + 1) return -1;
    *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
  } else {
    if (v > (unsigned long long)LLONG_MAX) return -1;
    *out = (long long)v;
  }
  return 0;
}

/* RESP3 double: a finite decimal number, "inf", "-inf" or "nan". strtod
 * alone would also take spaces, hex floats and "infinity". */
static int parse_double(const char *p, size_t n, double *out) {
  char buf[MAX_HEADER_LINE + 1];
  if (n == 0 || n > MAX_HEADER_LINE) return -1;
  memcpy(buf, p, n);
  buf[n] = '\0';
  if (strcasecmp(buf, "inf") == 0 || strcasecmp(buf, "+inf") == 0) {
    *out = INFINITY;
    return 0;
  }
  if (strcasecmp(buf, "-inf") == 0) {
    *out = -INFINITY;
    return 0;
  }
  if (strcasecmp(buf, "nan") == 0 || strcasecmp(buf, "-nan") == 0) {
    *out = NAN;
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    char c = buf[i];
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+'))
      return -1;
  }
  char *end;
  double d = strtod(buf, &end);
  if (end != buf + n || !isfinite(d)) return -1;
  *out = d;
  return 0;
}

static int valid_bignum(const char *p, size_t n) {
  size_t i = n && p[0] == '-' ? 1 : 0;
  if (i == n) return 0;
  for (; i < n; i++)
    if (p[i] < '0' || p[i] > '9') return 0;
  return 1;
}

/* ---- the scanner ---- */

/* The first "\r\n" in p[0..n-1], or NULL. A lone '\r' is content. */
static const char *find_crlf(const char *p, size_t n) {
  const char *end = p + n;
  while (n >= 2) {
    const char *cr = memchr(p, '\r', n - 1);
    if (!cr) return NULL;
    if (cr[1] == '\n') return cr;
    p = cr + 1;
    n = (size_t)(end - p);
  }
  return NULL;
}

static int is_type(int c, int resp2) {
  switch (c) {
  case '+':
  case '-':
  case ':':
  case '$':
  case '*': return 1;
  case '_':
  case ',':
  case '#':
  case '!':
  case '=':
  case '(':
  case '%':
  case '~':
  case '|':
  case '>': return !resp2;
  default: return 0;
  }
}

/* Lines whose content is text of any length (kept or skipped by length). */
static int is_text_line(int c) { return c == '+' || c == '-' || c == '('; }

/* A value has just ended: close the aggregates it completes. Returns 1 when
 * the whole reply is complete. An attribute that ends is not a value of its
 * parent, which still waits for one. */
static int value_done(cio__resp_scanner *s) {
  while (s->depth) {
    uint64_t *top = &s->stack[s->depth - 1];
    *top -= 1;
    if (*top & ~ATTR_BIT) return 0;
    int attr = (*top & ATTR_BIT) != 0;
    s->depth--;
    if (attr) return 0;
  }
  return 1;
}

/* Pass the bulk bytes available (payload, then its CRLF). Returns how many
 * were consumed, or -1 if the CRLF or a verbatim prefix is wrong. */
static ssize_t scan_bulk(cio__resp_scanner *s, const char *p, size_t n) {
  size_t take = n < s->bulk_left ? n : s->bulk_left;
  size_t payload_left = s->bulk_left > 2 ? s->bulk_left - 2 : 0;
  if (s->verbatim && s->bulk_seen <= 3) { /* "txt:": the 4th byte is ':' */
    size_t at = 3 - s->bulk_seen;
    if (at < take && p[at] != ':') return -1;
  }
  for (size_t k = payload_left; k < take; k++) {
    size_t left = s->bulk_left - k; /* 2: '\r' expected, 1: '\n' */
    if (p[k] != (left == 2 ? '\r' : '\n')) return -1;
  }
  s->bulk_seen += take < payload_left ? take : payload_left;
  s->bulk_left -= take;
  s->total += take;
  return (ssize_t)take;
}

/* Inside a text line too long to keep: pass everything up to its CRLF.
 * Returns how many bytes were consumed; *done when the line has ended. */
static size_t scan_skipped_line(cio__resp_scanner *s, const char *p, size_t n, int *done) {
  const char *cr = find_crlf(p, n);
  size_t k;
  if (cr) {
    k = (size_t)(cr - p) + 2;
    s->skip_line = 0;
    *done = 1;
  } else {
    k = n && p[n - 1] == '\r' ? n - 1 : n; /* a '\r' may start the CRLF */
    *done = 0;
  }
  s->total += k;
  return k;
}

#define FAIL(msg)                                                                                  \
  do {                                                                                             \
    s->error = (msg);                                                                              \
    *used = i;                                                                                     \
    return -EPROTO;                                                                                \
  } while (0)

int cio__resp_scan(cio__resp_scanner *s, const char *p, size_t n, size_t *used) {
  size_t i = 0;
  for (;;) {
    if (s->bulk_left) {
      ssize_t k = scan_bulk(s, p + i, n - i);
      if (k < 0)
        FAIL(s->verbatim && s->bulk_seen < 4 ? "verbatim string without its format"
                                             : "bulk string not followed by CRLF");
      i += (size_t)k;
      if (s->bulk_left) break;
      s->verbatim = 0;
      if (value_done(s)) goto complete;
      continue;
    }
    if (s->skip_line) {
      int done;
      i += scan_skipped_line(s, p + i, n - i, &done);
      if (!done) break;
      if (value_done(s)) goto complete;
      continue;
    }
    if (i == n) break;

    const char *line = p + i;
    size_t avail = n - i;
    int type = (unsigned char)line[0];
    if (!is_type(type, s->resp2)) FAIL("bad reply type byte");
    size_t from = s->line_seen > 1 ? s->line_seen - 1 : 0; /* a '\r' may end it */
    const char *cr = find_crlf(line + from, avail - from);
    if (!cr) {
      s->line_seen = avail;
      if (!is_text_line(type)) {
        if (avail > MAX_HEADER_LINE) FAIL("header line too long");
      } else if (s->total + avail > s->max_bytes) {
        /* Too long to keep: drop it as it streams by. */
        if (s->depth == 0) s->top_type = type;
        s->oversize = 1;
        s->skip_line = 1;
        s->nodes++;
        s->line_seen = 0;
        s->total += 1;
        i += 1;
        continue;
      }
      break;
    }
    s->line_seen = 0;
    const char *c = line + 1;
    size_t clen = (size_t)(cr - c);
    long long v = 0;
    double d;
    if (!is_text_line(type) && clen > MAX_HEADER_LINE) FAIL("header line too long");
    switch (type) {
    case ':':
      if (parse_ll(c, clen, &v) < 0) FAIL("bad integer");
      break;
    case ',':
      if (parse_double(c, clen, &d) < 0) FAIL("bad double");
      break;
    case '#':
      if (clen != 1 || (c[0] != 't' && c[0] != 'f')) FAIL("bad boolean");
      break;
    case '_':
      if (clen != 0) FAIL("bad null");
      break;
    case '(':
      if (!valid_bignum(c, clen)) FAIL("bad big number");
      break;
    case '$':
    case '!':
    case '=':
    case '*':
    case '%':
    case '~':
    case '>':
    case '|':
      if (parse_ll(c, clen, &v) < 0) FAIL("bad length");
      if (v < -1 || (v == -1 && type != '$' && type != '*')) FAIL("bad length");
      break;
    default: break;
    }
    i += clen + 3;
    s->total += clen + 3;
    s->nodes++;
    if (s->depth == 0 && type != '|') s->top_type = type;
    if (s->total > s->max_bytes) s->oversize = 1;

    if (v >= 0 && (type == '$' || type == '!' || type == '=')) {
      if (type == '=' && v < 4) FAIL("verbatim string without its format");
      if ((unsigned long long)v + 2 >
          s->max_bytes - (s->total < s->max_bytes ? s->total : s->max_bytes))
        s->oversize = 1;
      s->bulk_left = (size_t)v + 2;
      s->bulk_seen = 0;
      s->verbatim = type == '=';
      continue;
    }
    if (v >= 0 && (type == '*' || type == '%' || type == '~' || type == '>' || type == '|')) {
      if (v > MAX_COUNT) FAIL("aggregate too large");
      uint64_t count = (uint64_t)v * (type == '%' || type == '|' ? 2 : 1);
      if (count > 0) {
        if (s->depth >= s->max_depth) FAIL("aggregates nested too deep");
        s->stack[s->depth++] = count | (type == '|' ? ATTR_BIT : 0);
        continue;
      }
      if (type == '|') continue; /* an empty attribute: still no value */
    }
    if (value_done(s)) goto complete;
  }
  *used = i;
  return 0;
complete:
  *used = i;
  return 1;
}

/* ---- the builder ---- */

typedef struct frame {
  cio_redis_reply *next;         /* where the next element goes */
  uint64_t left;                 /* elements still to build */
  cio_redis_reply *attr;         /* this frame fills an attribute's pairs */
  cio_redis_reply *pending_attr; /* attribute waiting for the next element */
} frame;

/* The value of a number the scanner has validated. */
static long long number(const char *p, size_t n) {
  long long v = 0;
  (void)parse_ll(p, n, &v);
  return v;
}

static int node_type(int c) {
  switch (c) {
  case '$': return CIO_REDIS_STRING;
  case '*': return CIO_REDIS_ARRAY;
  case ':': return CIO_REDIS_INTEGER;
  case '_': return CIO_REDIS_NIL;
  case '+': return CIO_REDIS_STATUS;
  case '-':
  case '!': return CIO_REDIS_ERROR;
  case ',': return CIO_REDIS_DOUBLE;
  case '#': return CIO_REDIS_BOOL;
  case '%': return CIO_REDIS_MAP;
  case '~': return CIO_REDIS_SET;
  case '|': return CIO_REDIS_ATTR;
  case '>': return CIO_REDIS_PUSH;
  case '(': return CIO_REDIS_BIGNUM;
  case '=': return CIO_REDIS_VERB;
  default: return 0;
  }
}

cio_redis_reply *cio__resp_build(const cio__resp_scanner *s, char *p, cio_redis_reply *nodes) {
  frame st[CIO__RESP_MAX_DEPTH + 1];
  const char *end = p + s->total;
  size_t used = 1; /* nodes[0] is the root */
  size_t depth = 1;
  st[0] = (frame){nodes, 1, NULL, NULL};
  while (depth) {
    frame *f = &st[depth - 1];
    if (f->left == 0) {
      depth--;
      if (f->attr) { /* never the root frame; a second attribute chains the first */
        f->attr->attribute = st[depth - 1].pending_attr;
        st[depth - 1].pending_attr = f->attr;
      }
      continue;
    }
    int type = (unsigned char)p[0];
    char *c = p + 1;
    size_t clen = (size_t)(find_crlf(c, (size_t)(end - c)) - c);
    p = c + clen + 2;
    cio_redis_reply *n;
    if (type == '|') {
      n = &nodes[used++];
    } else {
      n = f->next++;
      f->left--;
    }
    memset(n, 0, sizeof *n);
    n->type = node_type(type);
    if (type != '|') {
      n->attribute = f->pending_attr;
      f->pending_attr = NULL;
    }
    switch (type) {
    case '+':
    case '-':
    case '(':
    case ',':
      c[clen] = '\0';
      n->str = c;
      n->len = clen;
      if (type == ',') (void)parse_double(c, clen, &n->dval);
      break;
    case ':': n->integer = number(c, clen); break;
    case '#': n->integer = c[0] == 't'; break;
    case '$':
    case '!':
    case '=': {
      long long len = number(c, clen);
      if (len < 0) {
        n->type = CIO_REDIS_NIL;
        break;
      }
      n->str = p;
      n->len = (size_t)len;
      p[len] = '\0'; /* over the '\r' */
      p += len + 2;
      if (type == '=') {
        memcpy(n->format, n->str, 3);
        n->str += 4;
        n->len -= 4;
      }
      break;
    }
    case '*':
    case '%':
    case '~':
    case '>':
    case '|': {
      long long count = number(c, clen);
      if (count < 0) {
        n->type = CIO_REDIS_NIL;
        break;
      }
      n->elements = (size_t)count * (type == '%' || type == '|' ? 2 : 1);
      if (n->elements) {
        n->element = &nodes[used];
        used += n->elements;
        st[depth++] = (frame){n->element, n->elements, type == '|' ? n : NULL, NULL};
      } else if (type == '|') {
        n->attribute = f->pending_attr;
        f->pending_attr = n;
      }
      break;
    }
    default: break;
    }
  }
  return nodes;
}

/* ---- reply memory ---- */

cio__resp_buf *cio__resp_buf_new(size_t cap) {
  cio__resp_buf *b = cio__malloc(sizeof *b + cap);
  if (!b) return NULL;
  b->refs = 1;
  b->cap = cap;
  return b;
}

void cio__resp_buf_unref(cio__resp_buf *b) {
  if (b && --b->refs == 0) cio__free(b);
}
