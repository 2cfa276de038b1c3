/* client_util.c - the HTTP client's last error, basic auth, small helpers. */
#include "client_internal.h"

#include "cio/tls.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char last_error[256];

int cio__hc_fail(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return code;
}

int cio__hc_fail_io(int code, const char *what) {
  const char *detail = cio_strerror(code);
  if ((code == -CIO_ETLS || code == -CIO_ECERT) && cio_tls_last_error()[0])
    detail = cio_tls_last_error();
  return cio__hc_fail(code, "%s: %s", what, detail);
}

const char *cio_http_client_last_error(void) { return last_error; }

char *cio__basic_auth(const char *user, const char *password) {
  static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t ul = strlen(user), pl = password ? strlen(password) : 0, n = ul + 1 + pl;
  char *plain = malloc(n + 1), *out = malloc(6 + (n + 2) / 3 * 4 + 1);
  if (!plain || !out) {
    free(plain);
    free(out);
    return NULL;
  }
  memcpy(plain, user, ul);
  plain[ul] = ':';
  if (pl) memcpy(plain + ul + 1, password, pl);
  const unsigned char *p = (const unsigned char *)plain;
  char *o = out + 6;
  memcpy(out, "Basic ", 6);
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
    *o++ = b64[v >> 18];
    *o++ = b64[v >> 12 & 63];
    *o++ = b64[v >> 6 & 63];
    *o++ = b64[v & 63];
  }
  if (i < n) {
    unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0);
    *o++ = b64[v >> 18];
    *o++ = b64[v >> 12 & 63];
    *o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
    *o++ = '=';
  }
  *o = '\0';
  memset(plain, 0, n); /* the password */
  free(plain);
  return out;
}

bool cio__ascii_ieq(const char *a, size_t alen, const char *b) {
  size_t i = 0;
  for (; i < alen && b[i]; i++) {
    unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
    if (x >= 'A' && x <= 'Z') x |= 0x20;
    if (y >= 'A' && y <= 'Z') y |= 0x20;
    if (x != y) return false;
  }
  return i == alen && !b[i];
}

/* RFC 9110 5.6.2 tchar. */
bool cio__is_token(const char *s, size_t n) {
  if (!n) return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) continue;
    if (!c || !strchr("!#$%&'*+-.^_`|~", c)) return false;
  }
  return true;
}

double cio__loop_now(void) { return cio_loop_time(cio_loop_current()); }
