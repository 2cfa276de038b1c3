/* utf8.c - UTF-8 decoding with Unicode's maximal-subpart replacement. */
#include "utf8.h"

#include <string.h>

int cio__utf8_decode(const unsigned char *s, size_t n, uint32_t *cp, size_t *len) {
  unsigned c = s[0];
  if (c < 0x80) {
    *cp = c;
    *len = 1;
    return 1;
  }
  size_t need;
  uint32_t v;
  unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
  if (c >= 0xC2 && c <= 0xDF) {
    need = 2;
    v = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 3;
    v = c & 0x0F;
    if (c == 0xE0) lo = 0xA0; /* no overlong forms */
    if (c == 0xED) hi = 0x9F; /* no surrogates */
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 4;
    v = c & 0x07;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F; /* <= U+10FFFF */
  } else {
    *len = 1;
    return 0;
  }
  size_t i = 1;
  for (; i < need; i++) {
    if (i >= n) break;
    unsigned b = s[i];
    if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) break;
    v = v << 6 | (b & 0x3F);
  }
  *len = i;
  if (i < need) return 0;
  *cp = v;
  return 1;
}

size_t cio__utf8_valid_prefix(const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    if (u[i] < 0x80) {
      i++;
      continue;
    }
    uint32_t cp;
    size_t l;
    if (!cio__utf8_decode(u + i, n - i, &cp, &l)) break;
    i += l;
  }
  return i;
}

size_t cio__utf8_repair(char *out, const char *in, size_t n) {
  const unsigned char *u = (const unsigned char *)in;
  size_t i = 0, o = 0;
  while (i < n) {
    size_t run = cio__utf8_valid_prefix(in + i, n - i);
    if (out + o != in + i) memmove(out + o, in + i, run);
    o += run;
    i += run;
    if (i >= n) break;
    uint32_t cp;
    size_t l;
    cio__utf8_decode(u + i, n - i, &cp, &l);
    out[o++] = (char)0xEF;
    out[o++] = (char)0xBF;
    out[o++] = (char)0xBD;
    i += l;
  }
  return o;
}

size_t cio__utf8_encode(char *out, uint32_t cp) {
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | cp >> 6);
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | cp >> 12);
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | cp >> 18);
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}
