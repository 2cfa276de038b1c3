/* buf.c - growable byte buffers. */
#include "buf.h"

int cio__buf_grow(cio__buf *b, size_t n) {
  if (b->err) return b->err;
  if (b->cap - b->len >= n) return 0;
  size_t need = b->len + n;
  if (need < b->len || (b->max && need > b->max)) {
    b->err = need < b->len ? -ENOMEM : -EMSGSIZE;
    return b->err;
  }
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need) cap = cap * 2 > cap ? cap * 2 : need;
  if (b->max && cap > b->max) cap = b->max;
  char *p = realloc(b->p, cap);
  if (!p) {
    b->err = -ENOMEM;
    return b->err;
  }
  b->p = p;
  b->cap = cap;
  return 0;
}

size_t cio__u64_to_dec(char *buf, unsigned long long v) {
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (size_t i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
  return n;
}

void cio__buf_add_u64(cio__buf *b, unsigned long long v) {
  if (cio__buf_reserve(b, 21) == 0) b->len += cio__u64_to_dec(b->p + b->len, v);
}

void cio__buf_add_i64(cio__buf *b, long long v) {
  if (cio__buf_reserve(b, 21) < 0) return;
  if (v < 0) {
    b->p[b->len++] = '-';
    b->len += cio__u64_to_dec(b->p + b->len, 0ull - (unsigned long long)v);
  } else {
    b->len += cio__u64_to_dec(b->p + b->len, (unsigned long long)v);
  }
}
