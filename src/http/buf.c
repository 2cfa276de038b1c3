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

#define ARENA_FIRST 4096

void *cio__arena_alloc(cio__arena *a, size_t n) {
  n = (n + 7) & ~(size_t)7;
  cio__arena_block *b = a->head;
  if (b && b->cap - b->used >= n) {
    void *p = b->data + b->used;
    b->used += n;
    return p;
  }
  size_t cap = n > ARENA_FIRST ? n : ARENA_FIRST;
  cio__arena_block *nb = malloc(sizeof *nb + cap);
  if (!nb) return NULL;
  nb->cap = cap;
  nb->used = n;
  nb->next = NULL;
  if (b) b->next = nb;
  if (!a->first) a->first = nb;
  a->head = nb;
  return nb->data;
}

char *cio__arena_strndup(cio__arena *a, const char *s, size_t n) {
  char *p = cio__arena_alloc(a, n + 1);
  if (!p) return NULL;
  if (n) memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

void cio__arena_reset(cio__arena *a) {
  if (!a->first) return;
  cio__arena_block *b = a->first->next;
  while (b) {
    cio__arena_block *next = b->next;
    free(b);
    b = next;
  }
  a->first->next = NULL;
  a->first->used = 0;
  a->head = a->first;
}

void cio__arena_free(cio__arena *a) {
  cio__arena_block *b = a->first;
  while (b) {
    cio__arena_block *next = b->next;
    free(b);
    b = next;
  }
  a->first = a->head = NULL;
}

locale_t cio__c_locale(void) {
  static locale_t loc;
  locale_t l = __atomic_load_n(&loc, __ATOMIC_ACQUIRE);
  if (l) return l;
  l = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  if (!l) return LC_GLOBAL_LOCALE;
  locale_t expected = (locale_t)0;
  if (!__atomic_compare_exchange_n(&loc, &expected, l, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    freelocale(l);
    return expected;
  }
  return l;
}
