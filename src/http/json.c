/* json.c - the streaming JSON writer, Python-compatible number formatting,
 * and checked parsing into cJSON trees. */
#include "json_internal.h"
#include "utf8.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { J_OBJECT = 1, J_MEMBERS = 2, J_KEY = 4 };

void cio__json_init(cio_json *j, cio__buf *out) {
  j->out = out;
  j->err = 0;
  j->depth = 0;
  j->top_done = 0;
}

cio_json *cio_json_new(void) {
  cio_json *j = calloc(1, sizeof *j);
  if (!j) {
    errno = ENOMEM;
    return NULL;
  }
  cio__json_init(j, &j->own);
  j->heap = 1;
  return j;
}

void cio_json_free(cio_json *j) {
  if (!j || !j->heap) return;
  cio__buf_free(&j->own);
  free(j);
}

void cio_json_reset(cio_json *j) {
  cio__buf_clear(j->out);
  cio__json_init(j, j->out);
}

const char *cio_json_data(cio_json *j, size_t *len) {
  cio__buf *b = j->out;
  if (cio__buf_reserve(b, 1) < 0) {
    if (len) *len = 0;
    return "";
  }
  b->p[b->len] = '\0';
  if (len) *len = b->len;
  return b->p;
}

int cio_json_error(const cio_json *j) { return j->err ? j->err : j->out->err; }

int cio_json_complete(const cio_json *j) { return !cio_json_error(j) && j->top_done && !j->depth; }

static int set_err(cio_json *j, int e) {
  if (!j->err) j->err = e;
  return j->err;
}

/* Place the separator a value needs here, or refuse a value here. */
static int begin_value(cio_json *j) {
  if (j->err) return j->err;
  if (j->out->err) return set_err(j, j->out->err);
  if (j->depth == 0) {
    if (j->top_done) return set_err(j, -EINVAL);
    return 0;
  }
  uint8_t *top = &j->stack[j->depth - 1];
  if (*top & J_OBJECT) {
    if (!(*top & J_KEY)) return set_err(j, -EINVAL);
    *top &= (uint8_t)~J_KEY;
  } else {
    if (*top & J_MEMBERS) cio__buf_addc(j->out, ',');
    *top |= J_MEMBERS;
  }
  return 0;
}

/* After a complete value: at the top level, the document is done. */
static int end_value(cio_json *j) {
  if (j->depth == 0) j->top_done = 1;
  if (j->out->err) return set_err(j, j->out->err);
  return 0;
}

static int open_container(cio_json *j, char c, uint8_t kind) {
  int r = begin_value(j);
  if (r < 0) return r;
  if (j->depth == CIO_JSON_MAX_DEPTH) return set_err(j, -EINVAL);
  j->stack[j->depth++] = kind;
  cio__buf_addc(j->out, c);
  return j->out->err ? set_err(j, j->out->err) : 0;
}

static int close_container(cio_json *j, char c, uint8_t kind) {
  if (j->err) return j->err;
  if (j->depth == 0) return set_err(j, -EINVAL);
  uint8_t top = j->stack[j->depth - 1];
  if ((top & J_OBJECT) != kind || (top & J_KEY)) return set_err(j, -EINVAL);
  j->depth--;
  cio__buf_addc(j->out, c);
  return end_value(j);
}

int cio_json_object(cio_json *j) { return open_container(j, '{', J_OBJECT); }
int cio_json_object_end(cio_json *j) { return close_container(j, '}', J_OBJECT); }
int cio_json_array(cio_json *j) { return open_container(j, '[', 0); }
int cio_json_array_end(cio_json *j) { return close_container(j, ']', 0); }

/* Bytes that cannot be copied as they are: controls, '"', '\\', and the
 * start of multi-byte sequences (checked). */
static const uint8_t special[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

void cio__json_quote(cio__buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *u = (const unsigned char *)s;
  if (cio__buf_reserve(b, n + 2) < 0) return;
  b->p[b->len++] = '"';
  size_t i = 0;
  while (i < n) {
    size_t start = i;
    while (i < n && !special[u[i]]) i++;
    cio__buf_add(b, s + start, i - start);
    if (i == n) break;
    unsigned c = u[i];
    if (c >= 0x80) {
      uint32_t cp;
      size_t l;
      if (cio__utf8_decode(u + i, n - i, &cp, &l))
        cio__buf_add(b, s + i, l);
      else
        cio__buf_add(b, "\xEF\xBF\xBD", 3);
      i += l;
      continue;
    }
    char esc[6] = {'\\', 0, 0, 0, 0, 0};
    size_t el = 2;
    switch (c) {
    case '"': esc[1] = '"'; break;
    case '\\': esc[1] = '\\'; break;
    case '\n': esc[1] = 'n'; break;
    case '\r': esc[1] = 'r'; break;
    case '\t': esc[1] = 't'; break;
    case '\b': esc[1] = 'b'; break;
    case '\f': esc[1] = 'f'; break;
    default:
      esc[1] = 'u';
      esc[2] = '0';
      esc[3] = '0';
      esc[4] = hex[c >> 4];
      esc[5] = hex[c & 15];
      el = 6;
    }
    cio__buf_add(b, esc, el);
    i++;
  }
  cio__buf_addc(b, '"');
}

int cio_json_key_n(cio_json *j, const char *key, size_t n) {
  if (j->err) return j->err;
  if (j->depth == 0) return set_err(j, -EINVAL);
  uint8_t *top = &j->stack[j->depth - 1];
  if (!(*top & J_OBJECT) || (*top & J_KEY) || !key) return set_err(j, -EINVAL);
  if (*top & J_MEMBERS) cio__buf_addc(j->out, ',');
  *top |= J_MEMBERS | J_KEY;
  cio__json_quote(j->out, key, n);
  cio__buf_addc(j->out, ':');
  return j->out->err ? set_err(j, j->out->err) : 0;
}

int cio_json_key(cio_json *j, const char *key) {
  return cio_json_key_n(j, key, key ? strlen(key) : 0);
}

int cio_json_str_n(cio_json *j, const char *s, size_t n) {
  if (!s) return cio_json_null(j);
  int r = begin_value(j);
  if (r < 0) return r;
  cio__json_quote(j->out, s, n);
  return end_value(j);
}

int cio_json_str(cio_json *j, const char *s) { return cio_json_str_n(j, s, s ? strlen(s) : 0); }

int cio_json_int(cio_json *j, int64_t v) {
  int r = begin_value(j);
  if (r < 0) return r;
  cio__buf_add_i64(j->out, (long long)v);
  return end_value(j);
}

int cio_json_uint(cio_json *j, uint64_t v) {
  int r = begin_value(j);
  if (r < 0) return r;
  cio__buf_add_u64(j->out, (unsigned long long)v);
  return end_value(j);
}

int cio_json_format_double(char *out, size_t cap, double v) {
  if (!isfinite(v)) return -EDOM;
  if (cap < 32) return -ENOSPC;
  char tmp[40];
  /* The shortest precision that reads back exactly (repr's "r" mode), in
   * the C locale whatever the program's is. */
  locale_t old = uselocale(cio__c_locale());
  int prec = 1;
  for (; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
    if (strtod(tmp, NULL) == v) break;
  }
  uselocale(old);
  /* tmp is [-]d[.ddd]e[+-]XX: split into sign, digits and exponent. */
  const char *p = tmp;
  int neg = *p == '-';
  if (neg) p++;
  char digits[24];
  int nd = 0;
  for (; *p && *p != 'e'; p++)
    if (*p != '.') digits[nd++] = *p;
  int exp = atoi(p + 1);
  while (nd > 1 && digits[nd - 1] == '0') nd--; /* "1.000e+16" -> "1" */
  int o = 0;
  if (neg) out[o++] = '-';
  int decpt = exp + 1; /* digits[0] is before the point at position decpt */
  /* Python: fixed notation unless decpt <= -4 or decpt > 16. */
  if (decpt <= -4 || decpt > 16) {
    out[o++] = digits[0];
    if (nd > 1) {
      out[o++] = '.';
      for (int i = 1; i < nd; i++) out[o++] = digits[i];
    }
    o += snprintf(out + o, cap - (size_t)o, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  } else if (decpt <= 0) {
    out[o++] = '0';
    out[o++] = '.';
    for (int i = 0; i < -decpt; i++) out[o++] = '0';
    for (int i = 0; i < nd; i++) out[o++] = digits[i];
    out[o] = '\0';
  } else {
    for (int i = 0; i < decpt; i++) out[o++] = i < nd ? digits[i] : '0';
    out[o++] = '.';
    if (nd > decpt)
      for (int i = decpt; i < nd; i++) out[o++] = digits[i];
    else
      out[o++] = '0';
    out[o] = '\0';
  }
  return o;
}

int cio_json_double(cio_json *j, double v) {
  char tmp[40];
  int n = cio_json_format_double(tmp, sizeof tmp, v);
  if (n < 0) return set_err(j, n);
  int r = begin_value(j);
  if (r < 0) return r;
  cio__buf_add(j->out, tmp, (size_t)n);
  return end_value(j);
}

int cio_json_bool(cio_json *j, int v) {
  int r = begin_value(j);
  if (r < 0) return r;
  if (v)
    cio__buf_add(j->out, "true", 4);
  else
    cio__buf_add(j->out, "false", 5);
  return end_value(j);
}

int cio_json_null(cio_json *j) {
  int r = begin_value(j);
  if (r < 0) return r;
  cio__buf_add(j->out, "null", 4);
  return end_value(j);
}

int cio_json_raw(cio_json *j, const char *json, size_t n) {
  int r = begin_value(j);
  if (r < 0) return r;
  cio__buf_add(j->out, json, n);
  return end_value(j);
}

/* ---- reading ---- */

#define JSON_DEPTH_CAP 256 /* cJSON recurses once per level on the task's stack */

static size_t ws(const char *s, size_t n, size_t i) {
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
  return i;
}

static int hex4(const char *s, size_t n, size_t i) {
  if (i + 4 > n) return 0;
  for (size_t k = 0; k < 4; k++) {
    char c = s[i + k];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return 0;
  }
  return 1;
}

/* A string starting at s[i] == '"'. Returns the index after it, or 0. */
static size_t string_end(const char *s, size_t n, size_t i) {
  const unsigned char *u = (const unsigned char *)s;
  i++;
  while (i < n) {
    unsigned c = u[i];
    if (c == '"') return i + 1;
    if (c < 0x20) return 0;
    if (c == '\\') {
      if (i + 1 >= n) return 0;
      char e = s[i + 1];
      if (e == 'u') {
        if (!hex4(s, n, i + 2)) return 0;
        i += 6;
      } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                 e == 'r' || e == 't') {
        i += 2;
      } else {
        return 0;
      }
      continue;
    }
    if (c >= 0x80) {
      uint32_t cp;
      size_t l;
      if (!cio__utf8_decode(u + i, n - i, &cp, &l)) return 0;
      i += l;
      continue;
    }
    i++;
  }
  return 0;
}

static size_t number_end(const char *s, size_t n, size_t i) {
  if (i < n && s[i] == '-') i++;
  if (i >= n) return 0;
  if (s[i] == '0') {
    i++;
  } else if (s[i] >= '1' && s[i] <= '9') {
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
  } else {
    return 0;
  }
  if (i < n && s[i] == '.') {
    i++;
    size_t d = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    if (i == d) return 0;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    size_t d = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    if (i == d) return 0;
  }
  return i;
}

/* RFC 8259 check with a depth limit, iterative (no recursion on hostile
 * input). Returns 0, -EBADMSG (*at = offset) or -ELOOP. */
static int validate(const char *s, size_t n, int max_depth, size_t *at) {
  uint8_t stack[JSON_DEPTH_CAP]; /* 1 = object, 0 = array */
  int depth = 0;
  size_t i = ws(s, n, 0);
  for (;;) {
    /* a value */
    if (i >= n) goto bad;
    char c = s[i];
    if (c == '{' || c == '[') {
      if (depth == max_depth) {
        *at = i;
        return -ELOOP;
      }
      stack[depth++] = c == '{';
      i = ws(s, n, i + 1);
      if (i < n && s[i] == (c == '{' ? '}' : ']')) {
        depth--;
        i++;
        goto after;
      }
      if (c == '{') goto key;
      continue;
    } else if (c == '"') {
      size_t e = string_end(s, n, i);
      if (!e) goto bad;
      i = e;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      size_t e = number_end(s, n, i);
      if (!e) goto bad;
      i = e;
    } else if (n - i >= 4 && memcmp(s + i, "true", 4) == 0) {
      i += 4;
    } else if (n - i >= 5 && memcmp(s + i, "false", 5) == 0) {
      i += 5;
    } else if (n - i >= 4 && memcmp(s + i, "null", 4) == 0) {
      i += 4;
    } else {
      goto bad;
    }
  after:
    i = ws(s, n, i);
    if (depth == 0) {
      if (i != n) goto bad;
      return 0;
    }
    if (i >= n) goto bad;
    if (s[i] == ',') {
      i = ws(s, n, i + 1);
      if (stack[depth - 1]) goto key;
      continue;
    }
    if (s[i] == (stack[depth - 1] ? '}' : ']')) {
      depth--;
      i++;
      goto after;
    }
    goto bad;
  key:
    if (i >= n || s[i] != '"') goto bad;
    {
      size_t e = string_end(s, n, i);
      if (!e) goto bad;
      i = ws(s, n, e);
    }
    if (i >= n || s[i] != ':') goto bad;
    i = ws(s, n, i + 1);
  }
bad:
  *at = i;
  return -EBADMSG;
}

int cio_json_parse(const char *text, size_t n, int max_depth, cJSON **out, size_t *err_offset) {
  size_t at = 0;
  if (out) *out = NULL;
  if (!out || (!text && n)) return -EINVAL;
  if (max_depth <= 0) max_depth = 64;
  if (max_depth > JSON_DEPTH_CAP) max_depth = JSON_DEPTH_CAP;
  int r = validate(text, n, max_depth, &at);
  if (r < 0) {
    if (err_offset) *err_offset = at;
    return r;
  }
  cJSON *j = cJSON_ParseWithLength(text, n);
  if (!j) {
    /* Valid text that cJSON still refuses: an unpaired surrogate escape
     * (or memory; cJSON does not say which, and its error pointer is a
     * global shared by every thread). */
    if (err_offset) *err_offset = 0;
    return -EBADMSG;
  }
  *out = j;
  return 0;
}
