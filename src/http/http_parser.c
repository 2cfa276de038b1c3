/* http_parser.c - strict, in-place HTTP/1.1 head parser and chunked decoder.
 *
 * Heads are parsed line by line with table lookups; a line is committed
 * (its header stored, its framing meaning applied) only once its CRLF has
 * arrived, so an incomplete call leaves nothing half-done and the next call
 * resumes at the first incomplete line. Everything found is a pointer into
 * the caller's buffer; when the buffer moves between calls, the pointers
 * already stored are shifted by the same amount.
 */
#include "cio/http_parser.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define LIKELY(x)   __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- character classes ---- */

enum {
  C_TCHAR = 1,  /* token character (RFC 9110 5.6.2) */
  C_TARGET = 2, /* request-target: visible ASCII */
  C_VALUE = 4,  /* field-value: HTAB, SP, VCHAR, obs-text */
  C_HEX = 8,
  C_QDTEXT = 16 /* quoted-string text: HTAB SP ! #-[ ]-~ obs-text */
};

static const uint8_t cls[256] = {
#define T (C_TCHAR | C_TARGET | C_VALUE | C_QDTEXT)
#define H (C_TCHAR | C_TARGET | C_VALUE | C_HEX | C_QDTEXT)
#define V (C_TARGET | C_VALUE | C_QDTEXT)
#define O (C_VALUE | C_QDTEXT)
    /* 0x00 */ 0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    O,
    0,
    0,
    0,
    0,
    0,
    0,
    /* 0x10 */ 0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    /* 0x20 SP ! " # $ % & ' ( ) * + , - . / */
    O,
    T,
    C_TARGET | C_VALUE,
    T,
    T,
    T,
    T,
    T,
    V,
    V,
    T,
    T,
    V,
    T,
    T,
    V,
    /* 0x30 0-9 : ; < = > ? */
    H,
    H,
    H,
    H,
    H,
    H,
    H,
    H,
    H,
    H,
    V,
    V,
    V,
    V,
    V,
    V,
    /* 0x40 @ A-O */
    V,
    H,
    H,
    H,
    H,
    H,
    H,
    T,
    T,
    T,
    T,
    T,
    T,
    T,
    T,
    T,
    /* 0x50 P-Z [ \ ] ^ _ */
    T,
    T,
    T,
    T,
    T,
    T,
    T,
    T,
    T,
    T,
    T,
    V,
    C_TARGET | C_VALUE,
    V,
    T,
    T,
    /* 0x60 ` a-o */
    T,
    H,
    H,
    H,
    H,
    H,
    H,
    T,
    T,
    T,
    T,
    T,
    T,
    T,
    T,
    T,
    /* 0x70 p-z { | } ~ DEL */
    T,
    T,
    T,
    T,
    T,
    T,
    T,
    T,
    T,
    T,
    T,
    V,
    T,
    V,
    T,
    0,
    /* 0x80-0xff: obs-text */
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
    O,
#undef T
#undef H
#undef V
#undef O
};

#define IS(c, k) (cls[(uint8_t)(c)] & (k))

/* Word-at-a-time scanning for the long runs (header values, targets): a
 * word is skipped whole when none of its bytes can end or spoil the run,
 * and the byte loop takes over at the first word that holds one. */
#define ONES           UINT64_C(0x0101010101010101)
#define HIGHS          UINT64_C(0x8080808080808080)
#define HAS_LESS(x, n) (((x)-ONES * (n)) & ~(x)&HIGHS) /* a byte < n (n <= 128) */
#define HAS_BYTE(x, b) HAS_LESS((x) ^ (ONES * (b)), 1)

static inline uint64_t load64(const char *p) {
  uint64_t x;
  memcpy(&x, p, 8);
  return x;
}

/* Skip field-value bytes: stops at or before the first byte that is not
 * VCHAR, SP or obs-text (HTAB included: the byte loop judges it). */
static inline size_t skip_value(const char *buf, size_t i, size_t len) {
  while (i + 8 <= len) {
    uint64_t x = load64(buf + i);
    if (HAS_LESS(x, 0x20) | HAS_BYTE(x, 0x7f)) break;
    i += 8;
  }
  return i;
}

/* Skip request-target bytes (0x21..0x7e). */
static inline size_t skip_target(const char *buf, size_t i, size_t len) {
  while (i + 8 <= len) {
    uint64_t x = load64(buf + i);
    if (HAS_LESS(x, 0x21) | HAS_BYTE(x, 0x7f) | (x & HIGHS) | HAS_BYTE(x, '#')) break;
    i += 8;
  }
  return i;
}

static inline int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* ASCII case-insensitive equality of a[0..n) and the lower-case literal b. */
static bool ieq(const char *a, size_t n, const char *b, size_t bn) {
  if (n != bn) return false;
  for (size_t i = 0; i < n; i++)
    if (lower((uint8_t)a[i]) != b[i]) return false;
  return true;
}
#define IEQ(a, n, lit) ieq(a, n, lit, sizeof lit - 1)

/* ---- methods and reasons ---- */

static const char *const method_names[CIO_HTTP_METHOD_COUNT] = {
    NULL, "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"};

cio_http_method cio_http_method_id(const char *m, size_t n) {
  switch (n) {
  case 3:
    if (memcmp(m, "GET", 3) == 0) return CIO_HTTP_GET;
    if (memcmp(m, "PUT", 3) == 0) return CIO_HTTP_PUT;
    break;
  case 4:
    if (memcmp(m, "POST", 4) == 0) return CIO_HTTP_POST;
    if (memcmp(m, "HEAD", 4) == 0) return CIO_HTTP_HEAD;
    break;
  case 5:
    if (memcmp(m, "PATCH", 5) == 0) return CIO_HTTP_PATCH;
    if (memcmp(m, "TRACE", 5) == 0) return CIO_HTTP_TRACE;
    break;
  case 6:
    if (memcmp(m, "DELETE", 6) == 0) return CIO_HTTP_DELETE;
    break;
  case 7:
    if (memcmp(m, "OPTIONS", 7) == 0) return CIO_HTTP_OPTIONS;
    if (memcmp(m, "CONNECT", 7) == 0) return CIO_HTTP_CONNECT;
    break;
  }
  return CIO_HTTP_OTHER;
}

const char *cio_http_method_name(cio_http_method id) {
  return (unsigned)id < CIO_HTTP_METHOD_COUNT ? method_names[id] : NULL;
}

const char *cio_http_status_reason(int status) {
  switch (status) {
  case 100: return "Continue";
  case 101: return "Switching Protocols";
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 203: return "Non-Authoritative Information";
  case 204: return "No Content";
  case 205: return "Reset Content";
  case 206: return "Partial Content";
  case 300: return "Multiple Choices";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 303: return "See Other";
  case 304: return "Not Modified";
  case 307: return "Temporary Redirect";
  case 308: return "Permanent Redirect";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 402: return "Payment Required";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 406: return "Not Acceptable";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 410: return "Gone";
  case 411: return "Length Required";
  case 412: return "Precondition Failed";
  case 413: return "Content Too Large";
  case 414: return "URI Too Long";
  case 415: return "Unsupported Media Type";
  case 416: return "Range Not Satisfiable";
  case 417: return "Expectation Failed";
  case 421: return "Misdirected Request";
  case 422: return "Unprocessable Entity";
  case 425: return "Too Early";
  case 426: return "Upgrade Required";
  case 428: return "Precondition Required";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  case 505: return "HTTP Version Not Supported";
  default: return "Unknown";
  }
}

/* ---- lists and lookups ---- */

int cio_http_list_has(const char *v, size_t n, const char *token) {
  size_t tl = strlen(token);
  size_t i = 0;
  while (i < n) {
    while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
    size_t s = i;
    while (i < n && v[i] != ',') i++;
    size_t e = i;
    while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t')) e--;
    if (e - s == tl) {
      size_t k = 0;
      while (k < tl && lower((uint8_t)v[s + k]) == lower((uint8_t)token[k])) k++;
      if (k == tl) return 1;
    }
  }
  return 0;
}

const char *cio_http_head_header(const cio_http_head *h, const char *name, size_t *len) {
  size_t nl = strlen(name);
  for (size_t i = 0; i < h->num_headers; i++) {
    const cio_http_header *x = &h->headers[i];
    if (x->name_len != nl) continue;
    size_t k = 0;
    while (k < nl && lower((uint8_t)x->name[k]) == lower((uint8_t)name[k])) k++;
    if (k == nl) {
      if (len) *len = x->value_len;
      return x->value;
    }
  }
  if (len) *len = 0;
  return NULL;
}

/* ---- heads ---- */

void cio_http_parser_init(cio_http_parser *p) { memset(p, 0, sizeof *p); }

const char *cio_http_parser_error(const cio_http_parser *p) { return p->error; }

static ssize_t fail(cio_http_parser *p, int code, const char *why) {
  p->error = why;
  return -code;
}

/* Shift every pointer already stored from the old buffer to the new one. */
static void rebase(cio_http_head *h, const char *from, const char *to) {
  uintptr_t f = (uintptr_t)from, t = (uintptr_t)to;
#define MOVE(ptr)                                                                                  \
  if (ptr) ptr = (const char *)(t + ((uintptr_t)(ptr)-f))
  MOVE(h->method);
  MOVE(h->target);
  MOVE(h->reason);
  for (size_t i = 0; i < h->num_headers; i++) {
    MOVE(h->headers[i].name);
    MOVE(h->headers[i].value);
  }
#undef MOVE
}

/* "HTTP/d.d" at s (8 bytes available). Returns the version (10, 11),
 * 0 for a well-formed other version, -1 if malformed. */
static int version_of(const char *s) {
  if (memcmp(s, "HTTP/", 5) != 0) return -1;
  if (s[5] < '0' || s[5] > '9' || s[6] != '.' || s[7] < '0' || s[7] > '9') return -1;
  if (s[5] == '1' && (s[7] == '0' || s[7] == '1')) return 10 + (s[7] - '0');
  return 0;
}

/* A prefix of "HTTP/d.d" that may still become one: 1, else 0. */
static int version_prefix_ok(const char *s, size_t n) {
  static const char pat[] = "HTTP/";
  for (size_t i = 0; i < n && i < 8; i++) {
    if (i < 5 && s[i] != pat[i]) return 0;
    if ((i == 5 || i == 7) && (s[i] < '0' || s[i] > '9')) return 0;
    if (i == 6 && s[i] != '.') return 0;
  }
  return 1;
}

/* RFC 9112 3.2: origin-form ("/path?query"), absolute-form
 * ("scheme://..."; an alphabetic scheme, as llhttp requires), the
 * asterisk-form ("*") and, for CONNECT, the authority-form. A fragment has
 * no place in a request-target. Returns 0, -1 (malformed), -2 ('#'), -3
 * ("*" followed by more) or -4 (CONNECT without an authority-form). */
/* The authority at t[i..n) up to a '/' or '?': userinfo, host (reg-name
 * or [IP-literal]), port (RFC 3986). Returns where it ends, or -1. */
static ssize_t authority_end(const char *t, size_t i, size_t n) {
  for (; i < n && t[i] != '/' && t[i] != '?'; i++) {
    unsigned char c = (unsigned char)t[i];
    if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !(c >= '0' && c <= '9') &&
        !strchr("-._~%!$&'()*+,;=:@[]", c))
      return -1;
  }
  return (ssize_t)i;
}

static int target_form(const char *t, size_t n, cio_http_method m) {
  /* CONNECT: the authority-form and nothing else */
  if (m == CIO_HTTP_CONNECT) return authority_end(t, 0, n) == (ssize_t)n ? 0 : -4;
  if (memchr(t, '#', n)) return -2;
  if (t[0] == '/' || (n == 1 && t[0] == '*')) return 0;
  if (t[0] == '*') return -3;
  size_t i = 0;
  while (i < n && ((t[i] | 0x20) >= 'a' && (t[i] | 0x20) <= 'z')) i++;
  if (i == 0 || n - i < 3 || memcmp(t + i, "://", 3) != 0) return -1;
  return authority_end(t, i + 3, n) < 0 ? -1 : 0;
}

/* Parse the request line at buf[pos..len). Returns the position after its
 * CRLF, -EAGAIN or an error. */
static ssize_t request_line(cio_http_parser *p, const char *buf, size_t len, size_t pos,
                            cio_http_head *h) {
  size_t i = pos;
  while (i < len && IS(buf[i], C_TCHAR)) i++;
  if (i == len) return -EAGAIN;
  if (buf[i] != ' ') return fail(p, EBADMSG, "invalid character in method");
  if (i == pos) return fail(p, EBADMSG, "empty method");
  size_t ms = pos, me = i;
  size_t ts = ++i;
  i = skip_target(buf, i, len);
  while (i < len && IS(buf[i], C_TARGET)) i++;
  if (i == len) return -EAGAIN;
  if (buf[i] != ' ') {
    if (buf[i] == '\r' || buf[i] == '\n') return fail(p, EBADMSG, "no HTTP version (HTTP/0.9)");
    return fail(p, EBADMSG, "invalid character in request-target");
  }
  if (i == ts)
    return fail(p, EBADMSG,
                buf[i] == ' ' ? "extra whitespace in request line" : "empty request-target");
  size_t te = i++;
  if (i < len && buf[i] == ' ') return fail(p, EBADMSG, "extra whitespace in request line");
  if (len - i < 10) {
    /* Refuse what can no longer become a version at once (a request line
     * of garbage gets its 400 before the head is complete). */
    if (!version_prefix_ok(buf + i, len - i)) return fail(p, EBADMSG, "malformed HTTP version");
    if (len - i >= 9 && buf[i + 8] != '\r')
      return fail(p, EBADMSG,
                  buf[i + 8] == '\n' ? "bare LF after request line"
                                     : "expected CRLF after version");
    return -EAGAIN;
  }
  int v = version_of(buf + i);
  if (v < 0) return fail(p, EBADMSG, "malformed HTTP version");
  if (buf[i + 8] != '\r' || buf[i + 9] != '\n') {
    if (buf[i + 8] == '\n') return fail(p, EBADMSG, "bare LF after request line");
    return fail(p, EBADMSG, "expected CRLF after version");
  }
  if (v == 0) return fail(p, EPROTONOSUPPORT, "HTTP version not supported");
  /* The HTTP/2 preface's method: no HTTP/1 client sends it (llhttp also
   * refuses it; "PRI * HTTP/2.0" itself got its 505 above). */
  if (me - ms == 3 && memcmp(buf + ms, "PRI", 3) == 0)
    return fail(p, EBADMSG, "PRI method (HTTP/2 connection preface)");
  int form = target_form(buf + ts, te - ts, cio_http_method_id(buf + ms, me - ms));
  if (form < 0)
    return fail(p, EBADMSG,
                form == -1   ? "malformed request-target"
                : form == -2 ? "fragment in request-target"
                : form == -4 ? "CONNECT target not in authority-form"
                             : "malformed asterisk-form");
  h->method = buf + ms;
  h->method_len = me - ms;
  h->method_id = cio_http_method_id(h->method, h->method_len);
  h->target = buf + ts;
  h->target_len = te - ts;
  h->version = v;
  return (ssize_t)(i + 10);
}

static ssize_t status_line(cio_http_parser *p, const char *buf, size_t len, size_t pos,
                           cio_http_head *h) {
  size_t i = pos;
  if (len - i < 12) {
    if (!version_prefix_ok(buf + i, len - i)) return fail(p, EBADMSG, "malformed HTTP version");
    if (len - i > 8 && buf[i + 8] != ' ') return fail(p, EBADMSG, "expected SP after version");
    for (size_t k = 9; k < 12 && i + k < len; k++)
      if (buf[i + k] < '0' || buf[i + k] > '9') return fail(p, EBADMSG, "malformed status code");
    return -EAGAIN;
  }
  int v = version_of(buf + i);
  if (v < 0) return fail(p, EBADMSG, "malformed HTTP version");
  if (buf[i + 8] != ' ') return fail(p, EBADMSG, "expected SP after version");
  int st = 0;
  for (size_t k = 9; k < 12; k++) {
    if (buf[i + k] < '0' || buf[i + k] > '9') return fail(p, EBADMSG, "malformed status code");
    st = st * 10 + (buf[i + k] - '0');
  }
  if (st < 100) return fail(p, EBADMSG, "status code below 100");
  i += 12;
  size_t rs = i, re;
  if (i < len && buf[i] == ' ') {
    rs = ++i;
    while (i < len && IS(buf[i], C_VALUE)) i++;
  } else if (i < len && buf[i] != '\r') {
    return fail(p, EBADMSG, "expected SP after status code");
  }
  if (i == len) return -EAGAIN;
  if (buf[i] != '\r') {
    if (buf[i] == '\n') return fail(p, EBADMSG, "bare LF after status line");
    return fail(p, EBADMSG, "invalid character in reason phrase");
  }
  if (i + 1 == len) return -EAGAIN;
  if (buf[i + 1] != '\n') return fail(p, EBADMSG, "bare CR after status line");
  re = i;
  if (v == 0) return fail(p, EPROTONOSUPPORT, "HTTP version not supported");
  h->status = st;
  h->reason = buf + rs;
  h->reason_len = re - rs;
  h->version = v;
  return (ssize_t)(i + 2);
}

/* Transfer-Encoding: a list of transfer-codings, each a token with optional
 * parameters (RFC 9112 7: token *( OWS ";" OWS token OWS "=" OWS
 * ( token / quoted-string ) )). Records whether chunked is last, and
 * refuses a coding after chunked (chunked must be final and applied once).
 * Empty list elements, which RFC 9110 5.6.1 lets recipients skip, are
 * refused here, as llhttp does: this header decides where a message ends. */
static size_t ows(const char *v, size_t n, size_t i) {
  while (i < n && (v[i] == ' ' || v[i] == '\t')) i++;
  return i;
}

static int transfer_encoding(cio_http_parser *p, const char *v, size_t n, cio_http_head *h) {
  size_t i = ows(v, n, 0);
  if (i == n) return (int)fail(p, EBADMSG, "empty Transfer-Encoding");
  for (;;) {
    size_t s = i;
    while (i < n && IS(v[i], C_TCHAR)) i++;
    if (i == s) return (int)fail(p, EBADMSG, "malformed Transfer-Encoding");
    size_t e = i;
    bool params = false;
    i = ows(v, n, i);
    while (i < n && v[i] == ';') {
      params = true;
      i = ows(v, n, i + 1);
      size_t ps = i;
      while (i < n && IS(v[i], C_TCHAR)) i++;
      if (i == ps) return (int)fail(p, EBADMSG, "malformed Transfer-Encoding");
      i = ows(v, n, i);
      if (i == n || v[i] != '=') return (int)fail(p, EBADMSG, "malformed Transfer-Encoding");
      i = ows(v, n, i + 1);
      if (i < n && v[i] == '"') {
        for (i++; i < n && v[i] != '"'; i++)
          if (v[i] == '\\' && ++i == n) break;
        if (i >= n) return (int)fail(p, EBADMSG, "malformed Transfer-Encoding");
        i++;
      } else {
        size_t vs = i;
        while (i < n && IS(v[i], C_TCHAR)) i++;
        if (i == vs) return (int)fail(p, EBADMSG, "malformed Transfer-Encoding");
      }
      i = ows(v, n, i);
    }
    if (p->te_seen_chunked)
      return (int)fail(p, EBADMSG, "chunked is not the final transfer coding");
    if (IEQ(v + s, e - s, "chunked")) {
      if (params) return (int)fail(p, EBADMSG, "chunked with parameters");
      p->te_seen_chunked = 1;
    } else {
      h->flags |= CIO_HTTP_F_TE_OTHER;
    }
    if (i == n) break;
    if (v[i] != ',') return (int)fail(p, EBADMSG, "malformed Transfer-Encoding");
    i = ows(v, n, i + 1);
    if (i == n) return (int)fail(p, EBADMSG, "malformed Transfer-Encoding");
  }
  p->te_chunked_last = p->te_seen_chunked;
  return 0;
}

static int content_length(cio_http_parser *p, const char *v, size_t n, cio_http_head *h) {
  if (h->flags & CIO_HTTP_F_CONTENT_LENGTH)
    return (int)fail(p, EBADMSG, "duplicate Content-Length");
  if (n == 0) return (int)fail(p, EBADMSG, "empty Content-Length");
  uint64_t x = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned d = (unsigned)(uint8_t)v[i] - '0';
    if (d > 9) return (int)fail(p, EBADMSG, "invalid character in Content-Length");
    if (x > (UINT64_C(1) << 62) / 10) return (int)fail(p, EBADMSG, "Content-Length too large");
    x = x * 10 + d;
  }
  h->content_length = x;
  h->flags |= CIO_HTTP_F_CONTENT_LENGTH;
  return 0;
}

/* The options of a Connection header that matter here, in one pass. */
static unsigned connection_tokens(const char *v, size_t n) {
  unsigned f = 0;
  size_t i = 0;
  while (i < n) {
    while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
    size_t s = i;
    while (i < n && v[i] != ',') i++;
    size_t e = i;
    while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t')) e--;
    if (IEQ(v + s, e - s, "close"))
      f |= CIO_HTTP_F_CLOSE;
    else if (IEQ(v + s, e - s, "keep-alive"))
      f |= CIO_HTTP_F_KEEP_ALIVE;
    else if (IEQ(v + s, e - s, "upgrade"))
      f |= CIO_HTTP_F_UPGRADE;
  }
  return f;
}

/* The headers whose meaning the parser applies. Called once per complete
 * header line. */
static int special_header(cio_http_parser *p, const cio_http_header *x, cio_http_head *h,
                          const char *raw, size_t raw_len) {
  const char *n = x->name;
  switch (x->name_len) {
  case 4:
    if (IEQ(n, 4, "host"))
      h->flags |= (h->flags & CIO_HTTP_F_HOST) ? CIO_HTTP_F_HOST_MANY : CIO_HTTP_F_HOST;
    break;
  case 6:
    if (IEQ(n, 6, "expect")) {
      if (IEQ(x->value, x->value_len, "100-continue"))
        h->flags |= CIO_HTTP_F_EXPECT_CONTINUE;
      else
        h->flags |= CIO_HTTP_F_EXPECT_OTHER;
    }
    break;
  case 10:
    if (IEQ(n, 10, "connection")) h->flags |= connection_tokens(x->value, x->value_len);
    break;
  case 14:
    if (IEQ(n, 14, "content-length")) {
      if (memchr(raw, '\t', raw_len)) return (int)fail(p, EBADMSG, "HTAB in a framing header");
      return content_length(p, x->value, x->value_len, h);
    }
    break;
  case 17:
    if (IEQ(n, 17, "transfer-encoding")) {
      /* RFC 9110 allows HTAB as whitespace here; llhttp does not, so a
       * proxy built on it would frame the message differently: refused. */
      if (memchr(raw, '\t', raw_len)) return (int)fail(p, EBADMSG, "HTAB in a framing header");
      h->flags |= CIO_HTTP_F_TRANSFER_ENCODING;
      return transfer_encoding(p, x->value, x->value_len, h);
    }
    break;
  }
  return 0;
}

/* Parse header lines from pos until the empty line. Returns the position
 * after the empty line, -EAGAIN, or an error. */
static ssize_t header_lines(cio_http_parser *p, const char *buf, size_t len, size_t pos,
                            cio_http_head *h, size_t max_headers) {
  for (;;) {
    size_t i = pos;
    if (i >= len) return -EAGAIN;
    char c = buf[i];
    if (c == '\r') {
      if (i + 1 >= len) return -EAGAIN;
      if (buf[i + 1] != '\n') return fail(p, EBADMSG, "bare CR in header section");
      return (ssize_t)(i + 2);
    }
    if (UNLIKELY(!IS(c, C_TCHAR))) {
      if (c == ' ' || c == '\t') return fail(p, EBADMSG, "obsolete line folding");
      if (c == '\n') return fail(p, EBADMSG, "bare LF in header section");
      if (c == ':') return fail(p, EBADMSG, "empty header name");
      return fail(p, EBADMSG, "invalid character in header name");
    }
    size_t ns = i;
    while (i + 4 <= len && IS(buf[i], C_TCHAR) && IS(buf[i + 1], C_TCHAR) &&
           IS(buf[i + 2], C_TCHAR) && IS(buf[i + 3], C_TCHAR))
      i += 4;
    while (i < len && IS(buf[i], C_TCHAR)) i++;
    if (i == len) return -EAGAIN;
    if (UNLIKELY(buf[i] != ':')) {
      if (buf[i] == ' ' || buf[i] == '\t') return fail(p, EBADMSG, "whitespace before colon");
      return fail(p, EBADMSG, "invalid character in header name");
    }
    size_t ne = i++;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t')) i++;
    size_t vs = i;
    i = skip_value(buf, i, len);
    while (i < len && IS(buf[i], C_VALUE)) i++;
    if (i == len) return -EAGAIN;
    if (UNLIKELY(buf[i] != '\r')) {
      if (buf[i] == '\n') return fail(p, EBADMSG, "bare LF in header section");
      return fail(p, EBADMSG, "invalid character in header value");
    }
    if (i + 1 == len) return -EAGAIN;
    if (UNLIKELY(buf[i + 1] != '\n')) return fail(p, EBADMSG, "bare CR in header value");
    size_t ve = i;
    while (ve > vs && (buf[ve - 1] == ' ' || buf[ve - 1] == '\t')) ve--;
    if (h->num_headers == max_headers) return fail(p, E2BIG, "too many header fields");
    cio_http_header *x = &h->headers[h->num_headers];
    x->name = buf + ns;
    x->name_len = ne - ns;
    x->value = buf + vs;
    x->value_len = ve - vs;
    int r = special_header(p, x, h, buf + ne + 1, i - ne - 1);
    if (r < 0) return r;
    h->num_headers++;
    pos = i + 2;
    p->pos = pos; /* committed */
  }
}

/* Framing shared by requests and responses, once the head is complete. */
static int framing(cio_http_parser *p, cio_http_head *h, bool request) {
  unsigned f = h->flags;
  if (f & CIO_HTTP_F_TRANSFER_ENCODING) {
    if (f & CIO_HTTP_F_CONTENT_LENGTH)
      return (int)fail(p, EBADMSG, "Content-Length with Transfer-Encoding");
    if (h->version == 10) return (int)fail(p, EBADMSG, "Transfer-Encoding in HTTP/1.0");
    if (!p->te_chunked_last) {
      if (request) return (int)fail(p, EBADMSG, "Transfer-Encoding does not end with chunked");
      h->body = CIO_HTTP_BODY_UNTIL_CLOSE;
      return 0;
    }
    if (request && (f & CIO_HTTP_F_TE_OTHER))
      return (int)fail(p, ENOTSUP, "transfer coding not implemented");
    h->body = CIO_HTTP_BODY_CHUNKED;
    return 0;
  }
  if (f & CIO_HTTP_F_CONTENT_LENGTH) {
    h->body = h->content_length ? CIO_HTTP_BODY_LENGTH : CIO_HTTP_BODY_NONE;
    return 0;
  }
  h->body = request ? CIO_HTTP_BODY_NONE : CIO_HTTP_BODY_UNTIL_CLOSE;
  return 0;
}

static ssize_t parse_head(cio_http_parser *p, const char *buf, size_t len, cio_http_head *h,
                          size_t max_headers, bool request) {
  if (!p || !h || (!buf && len) || (max_headers && !h->headers)) return -EINVAL;
  if (p->base && p->base != buf && p->pos) rebase(h, p->base, buf);
  p->base = buf;
  p->error = NULL;
  size_t pos = p->pos;
  if (!p->line_done) {
    /* RFC 9112 2.2: empty lines before a request line are ignored. */
    while (request && pos < len && buf[pos] == '\r') {
      if (pos + 1 >= len) return -EAGAIN;
      if (buf[pos + 1] != '\n') return fail(p, EBADMSG, "bare CR before request line");
      pos += 2;
    }
    if (pos >= len) {
      p->pos = pos;
      return -EAGAIN;
    }
    if (buf[pos] == '\n') return fail(p, EBADMSG, "bare LF before start line");
    memset(h, 0, offsetof(cio_http_head, headers));
    h->num_headers = 0;
    h->body = CIO_HTTP_BODY_NONE;
    h->content_length = 0;
    h->flags = 0;
    ssize_t r = request ? request_line(p, buf, len, pos, h) : status_line(p, buf, len, pos, h);
    if (r < 0) {
      if (r == -EAGAIN) p->pos = pos;
      return r;
    }
    pos = (size_t)r;
    p->pos = pos;
    p->line_done = 1;
  }
  ssize_t r = header_lines(p, buf, len, pos, h, max_headers);
  if (r < 0) return r;
  /* RFC 9110 9.3.6: a CONNECT request has no content; what follows its
   * head is a tunnel's data, which is not HTTP: the message ends here
   * whatever framing headers it has (as llhttp has it), and the connection
   * cannot carry another request. */
  if (request && h->method_id == CIO_HTTP_CONNECT) {
    unsigned both = CIO_HTTP_F_CONTENT_LENGTH | CIO_HTTP_F_TRANSFER_ENCODING;
    if ((h->flags & both) == both) /* the smuggling shape, refused everywhere */
      return fail(p, EBADMSG, "Content-Length with Transfer-Encoding");
    h->body = CIO_HTTP_BODY_NONE;
    h->content_length = 0;
    h->flags |= CIO_HTTP_F_CLOSE;
  } else {
    int e = framing(p, h, request);
    if (e < 0) return e;
  }
  if (!request && ((h->status >= 100 && h->status < 200) || h->status == 204 || h->status == 304))
    h->body = CIO_HTTP_BODY_NONE;
  return r;
}

ssize_t cio_http_parse_request(cio_http_parser *p, const char *buf, size_t len, cio_http_head *h,
                               size_t max_headers) {
  return parse_head(p, buf, len, h, max_headers, true);
}

ssize_t cio_http_parse_response(cio_http_parser *p, const char *buf, size_t len, cio_http_head *h,
                                size_t max_headers) {
  return parse_head(p, buf, len, h, max_headers, false);
}

/* ---- chunked ---- */

enum {
  CH_SIZE_START = 0, /* first hex digit of a chunk size */
  CH_SIZE,           /* more hex digits */
  CH_SIZE_WS,        /* BWS after the size: only ';' may follow */
  CH_EXT_BWS,        /* after ';' */
  CH_EXT_NAME,
  CH_EXT_AFTER_NAME, /* BWS, then '=' ';' or CR */
  CH_EXT_VAL_BWS,    /* after '=' */
  CH_EXT_VAL_TOKEN,
  CH_EXT_QSTR,
  CH_EXT_QSTR_ESC,
  CH_EXT_AFTER_VAL,
  CH_SIZE_LF, /* CR seen after the chunk line */
  CH_DATA,
  CH_DATA_CR,
  CH_DATA_LF,
  CH_TRAILER_START, /* a field line or the final CRLF */
  CH_TRAILER_NAME,
  CH_TRAILER_VALUE,
  CH_TRAILER_LF,
  CH_END_LF,
  CH_DONE,
  CH_ERROR
};

#define CH_MAX_SIZE    (UINT64_C(1) << 62)
#define CH_MAX_LINE    4096 /* a chunk line with its extensions */
#define CH_MAX_TRAILER 8192

void cio_http_chunked_init(cio_http_chunked *c) {
  memset(c, 0, sizeof *c);
  c->max_trailer = CH_MAX_TRAILER;
}

int cio_http_chunked_done(const cio_http_chunked *c) { return c->state == CH_DONE; }

const char *cio_http_chunked_error(const cio_http_chunked *c) { return c->error; }

static ssize_t ch_fail(cio_http_chunked *c, int code, const char *why) {
  c->state = CH_ERROR;
  c->error = why;
  return -code;
}

/* Trailer fields that would change the framing if anyone merged them into
 * the head (Content-Length, Transfer-Encoding) are refused: RFC 9110 6.5.1
 * forbids sending them there, and llhttp refuses them too. While a trailer
 * name is read, sub holds the bytes seen (low 16 bits) and which of the
 * two names it may still be. */
#define TR_CL         0x10000u
#define TR_TE         0x20000u
#define TR_CANDIDATES (TR_CL | TR_TE)
static const char tr_cl[] = "content-length", tr_te[] = "transfer-encoding";

static void trailer_name_char(cio_http_chunked *c, unsigned char ch) {
  unsigned k = c->sub & 0xFFFFu;
  int l = lower(ch);
  if ((c->sub & TR_CL) && (k >= sizeof tr_cl - 1 || tr_cl[k] != l)) c->sub &= ~TR_CL;
  if ((c->sub & TR_TE) && (k >= sizeof tr_te - 1 || tr_te[k] != l)) c->sub &= ~TR_TE;
  if (k < 0xFFFFu) c->sub++;
}

static int trailer_name_framing(const cio_http_chunked *c) {
  unsigned k = c->sub & 0xFFFFu;
  return ((c->sub & TR_CL) && k == sizeof tr_cl - 1) || ((c->sub & TR_TE) && k == sizeof tr_te - 1);
}

static int hexval(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  ch = lower(ch);
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  return -1;
}

ssize_t cio_http_chunked_decode(cio_http_chunked *c, const char *in, size_t n, const char **data,
                                size_t *dlen) {
  *data = NULL;
  *dlen = 0;
  if (c->state == CH_ERROR) return -EBADMSG;
  size_t i = 0;
  while (i < n) {
    unsigned char ch = (unsigned char)in[i];
    switch (c->state) {
    case CH_DATA: {
      size_t take = n - i;
      if ((uint64_t)take > c->remaining) take = (size_t)c->remaining;
      *data = in + i;
      *dlen = take;
      c->remaining -= take;
      if (c->remaining == 0) c->state = CH_DATA_CR;
      return (ssize_t)(i + take);
    }
    case CH_DONE: return (ssize_t)i;
    case CH_SIZE_START:
    case CH_SIZE: {
      int d = hexval(ch);
      if (d >= 0) {
        if (c->remaining >= CH_MAX_SIZE / 16) return ch_fail(c, EMSGSIZE, "chunk size too large");
        c->remaining = c->remaining * 16 + (unsigned)d;
        c->state = CH_SIZE;
      } else if (c->state == CH_SIZE_START) {
        return ch_fail(c, EBADMSG, "invalid chunk size");
      } else if (ch == '\r') {
        c->state = CH_SIZE_LF;
      } else if (ch == ';') {
        c->state = CH_EXT_BWS;
      } else if (ch == ' ' || ch == '\t') {
        c->state = CH_SIZE_WS;
      } else {
        return ch_fail(c, EBADMSG, "invalid character in chunk size");
      }
      break;
    }
    case CH_SIZE_WS:
      if (ch == ';')
        c->state = CH_EXT_BWS;
      else if (ch != ' ' && ch != '\t')
        return ch_fail(c, EBADMSG, "whitespace after chunk size");
      break;
    case CH_EXT_BWS:
      if (IS(ch, C_TCHAR))
        c->state = CH_EXT_NAME;
      else if (ch != ' ' && ch != '\t')
        return ch_fail(c, EBADMSG, "malformed chunk extension");
      break;
    case CH_EXT_NAME:
      if (IS(ch, C_TCHAR)) break;
      /* fall through: the name has ended */
      c->state = CH_EXT_AFTER_NAME;
      /* fall through */
    case CH_EXT_AFTER_NAME:
      if (ch == '=')
        c->state = CH_EXT_VAL_BWS;
      else if (ch == ';')
        c->state = CH_EXT_BWS;
      else if (ch == '\r')
        c->state = CH_SIZE_LF;
      else if (ch != ' ' && ch != '\t')
        return ch_fail(c, EBADMSG, "malformed chunk extension");
      break;
    case CH_EXT_VAL_BWS:
      if (ch == '"')
        c->state = CH_EXT_QSTR;
      else if (IS(ch, C_TCHAR))
        c->state = CH_EXT_VAL_TOKEN;
      else if (ch != ' ' && ch != '\t')
        return ch_fail(c, EBADMSG, "malformed chunk extension value");
      break;
    case CH_EXT_VAL_TOKEN:
      if (IS(ch, C_TCHAR)) break;
      c->state = CH_EXT_AFTER_VAL;
      /* fall through */
    case CH_EXT_AFTER_VAL:
      if (ch == ';')
        c->state = CH_EXT_BWS;
      else if (ch == '\r')
        c->state = CH_SIZE_LF;
      else if (ch != ' ' && ch != '\t')
        return ch_fail(c, EBADMSG, "malformed chunk extension");
      break;
    case CH_EXT_QSTR:
      if (ch == '"')
        c->state = CH_EXT_AFTER_VAL;
      else if (ch == '\\')
        c->state = CH_EXT_QSTR_ESC;
      else if (!IS(ch, C_QDTEXT))
        return ch_fail(c, EBADMSG, "invalid character in chunk extension");
      break;
    case CH_EXT_QSTR_ESC:
      if (!IS(ch, C_VALUE)) return ch_fail(c, EBADMSG, "invalid character in chunk extension");
      c->state = CH_EXT_QSTR;
      break;
    case CH_SIZE_LF:
      if (ch != '\n') return ch_fail(c, EBADMSG, "bare CR in chunk line");
      c->sub = 0;
      c->state = c->remaining ? CH_DATA : CH_TRAILER_START;
      i++;
      continue;
    case CH_DATA_CR:
      if (ch != '\r') return ch_fail(c, EBADMSG, "chunk data longer than its size");
      c->state = CH_DATA_LF;
      break;
    case CH_DATA_LF:
      if (ch != '\n') return ch_fail(c, EBADMSG, "bare CR after chunk data");
      c->state = CH_SIZE_START;
      c->sub = 0;
      i++;
      continue;
    case CH_TRAILER_START:
      if (ch == '\r') {
        c->state = CH_END_LF;
      } else if (IS(ch, C_TCHAR)) {
        c->state = CH_TRAILER_NAME;
        c->sub = TR_CANDIDATES;
        trailer_name_char(c, ch);
      } else {
        return ch_fail(c, EBADMSG, "malformed trailer field");
      }
      break;
    case CH_TRAILER_NAME:
      if (ch == ':') {
        if (trailer_name_framing(c)) return ch_fail(c, EBADMSG, "framing field in trailer section");
        c->state = CH_TRAILER_VALUE;
      } else if (IS(ch, C_TCHAR)) {
        trailer_name_char(c, ch);
      } else {
        return ch_fail(c, EBADMSG, "malformed trailer field");
      }
      break;
    case CH_TRAILER_VALUE:
      if (ch == '\r')
        c->state = CH_TRAILER_LF;
      else if (!IS(ch, C_VALUE))
        return ch_fail(c, EBADMSG, "invalid character in trailer field");
      break;
    case CH_TRAILER_LF:
      if (ch != '\n') return ch_fail(c, EBADMSG, "bare CR in trailer section");
      c->state = CH_TRAILER_START;
      break;
    case CH_END_LF:
      if (ch != '\n') return ch_fail(c, EBADMSG, "bare CR at end of chunked body");
      c->state = CH_DONE;
      return (ssize_t)(i + 1);
    default: return ch_fail(c, EBADMSG, "decoder in a bad state");
    }
    /* Bytes of chunk lines and of the trailer section are bounded. */
    if (c->state >= CH_TRAILER_START) {
      if (++c->trailer > c->max_trailer) return ch_fail(c, EMSGSIZE, "trailer section too large");
    } else if (++c->sub > CH_MAX_LINE) {
      return ch_fail(c, EMSGSIZE, "chunk line too long");
    }
    i++;
  }
  return (ssize_t)i;
}
