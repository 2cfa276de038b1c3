/* buf.h - a growable byte buffer for the http layer. Not installed.
 *
 * Appends never fail silently: a failed growth sets the sticky err (-ENOMEM)
 * and later appends do nothing, so builders can check once at the end. */
#ifndef CIO_HTTP_BUF_H
#define CIO_HTTP_BUF_H

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct cio__buf {
  char *p;
  size_t len, cap;
  size_t max; /* growth limit; 0 = none */
  int err;
} cio__buf;

/* Make room for n more bytes; 0 or -ENOMEM / -EMSGSIZE (sticky). */
int cio__buf_grow(cio__buf *b, size_t n);

static inline int cio__buf_reserve(cio__buf *b, size_t n) {
  if (__builtin_expect(b->cap - b->len >= n && !b->err, 1)) return 0;
  return cio__buf_grow(b, n);
}

static inline void cio__buf_add(cio__buf *b, const void *p, size_t n) {
  if (cio__buf_reserve(b, n) == 0 && n) {
    memcpy(b->p + b->len, p, n);
    b->len += n;
  }
}

static inline void cio__buf_addc(cio__buf *b, char c) {
  if (cio__buf_reserve(b, 1) == 0) b->p[b->len++] = c;
}

static inline void cio__buf_adds(cio__buf *b, const char *s) { cio__buf_add(b, s, strlen(s)); }

/* Append the decimal form of v. */
void cio__buf_add_u64(cio__buf *b, unsigned long long v);
void cio__buf_add_i64(cio__buf *b, long long v);

/* Empty it (memory kept) and clear the error. */
static inline void cio__buf_clear(cio__buf *b) {
  b->len = 0;
  b->err = 0;
}

static inline void cio__buf_free(cio__buf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
  b->err = 0;
}

/* Format into decimal digits; returns the length (buf needs 21 bytes). */
size_t cio__u64_to_dec(char *buf, unsigned long long v);

/* An arena: allocations that never move until the arena is reset. The
 * first block (4 KiB) is kept across resets, so a request whose strings
 * fit in it allocates nothing. */
typedef struct cio__arena_block {
  struct cio__arena_block *next;
  size_t cap, used;
  char data[];
} cio__arena_block;

typedef struct cio__arena {
  cio__arena_block *head;  /* the block allocations come from */
  cio__arena_block *first; /* kept across resets */
} cio__arena;

/* n bytes (8-aligned), or NULL (ENOMEM). */
void *cio__arena_alloc(cio__arena *a, size_t n);
/* A NUL-terminated copy of s[0..n). */
char *cio__arena_strndup(cio__arena *a, const char *s, size_t n);
void cio__arena_reset(cio__arena *a);
void cio__arena_free(cio__arena *a);

/* The "C" locale, for number formatting and parsing that must not follow
 * the program's setlocale(). */
#include <locale.h>
locale_t cio__c_locale(void);

#endif
