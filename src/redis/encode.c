/* encode.c - commands as RESP arrays of bulk strings: from argument
 * vectors and from printf-like formats. */
#include "resp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cio__resp_reserve(cio__resp_out *o, size_t n) {
  if (o->cap - o->len >= n) return 0;
  if (n > SIZE_MAX / 2 - o->len) return -ENOMEM;
  size_t cap = o->cap ? o->cap : 256;
  while (cap - o->len < n) cap *= 2;
  char *p = cio__realloc(o->p, cap);
  if (!p) return -ENOMEM;
  o->p = p;
  o->cap = cap;
  return 0;
}

int cio__resp_append(cio__resp_out *o, const void *p, size_t n) {
  int r = cio__resp_reserve(o, n);
  if (r < 0) return r;
  if (n) memcpy(o->p + o->len, p, n);
  o->len += n;
  return 0;
}

void cio__resp_out_free(cio__resp_out *o) {
  cio__free(o->p);
  o->p = NULL;
  o->len = o->cap = 0;
}

static size_t digit_count(size_t v) {
  size_t n = 1;
  while (v >= 10) {
    v /= 10;
    n++;
  }
  return n;
}

/* "<c><n>\r\n" at p; returns the end. The digits go straight to their
 * place (a copy from a scratch buffer just written costs a store-forwarding
 * stall per header). */
static char *header(char *p, char c, size_t n) {
  *p++ = c;
  char *end = p + digit_count(n);
  p = end;
  do {
    *--p = (char)('0' + n % 10);
    n /= 10;
  } while (n);
  end[0] = '\r';
  end[1] = '\n';
  return end + 2;
}

int cio__resp_append_command(cio__resp_out *o, size_t argc, const char *const *argv,
                             const size_t *lens) {
  if (argc < 1 || !argv) return -EINVAL;
  size_t need = 3 + digit_count(argc);
  for (size_t i = 0; i < argc; i++) {
    if (!argv[i]) return -EINVAL;
    size_t len = lens ? lens[i] : strlen(argv[i]);
    if (len > SIZE_MAX / 4 || need > SIZE_MAX / 2) return -ENOMEM;
    need += 5 + digit_count(len) + len;
  }
  int r = cio__resp_reserve(o, need);
  if (r < 0) return r;
  char *p = header(o->p + o->len, '*', argc);
  for (size_t i = 0; i < argc; i++) {
    size_t len = lens ? lens[i] : strlen(argv[i]);
    p = header(p, '$', len);
    memcpy(p, argv[i], len);
    p += len;
    *p++ = '\r';
    *p++ = '\n';
  }
  o->len = (size_t)(p - o->p);
  return 0;
}

/* ---- printf-like formats ---- */

typedef struct fmt_args {
  cio__resp_out data; /* the arguments' bytes, one after the other */
  size_t *ends;       /* where each argument ends in data */
  size_t n, cap;
} fmt_args;

static int end_arg(fmt_args *a) {
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 8;
    size_t *e = cio__realloc(a->ends, cap * sizeof *e);
    if (!e) return -ENOMEM;
    a->ends = e;
    a->cap = cap;
  }
  a->ends[a->n++] = a->data.len;
  return 0;
}

/* One conversion at *fp (just after '%'); appends to the current argument. */
static int convert(fmt_args *a, const char **fp, va_list *ap) {
  const char *f = *fp;
  char num[64];
  int k = -1;
  int r = 0;
  if (*f == 's') {
    const char *s = va_arg(*ap, const char *);
    r = s ? cio__resp_append(&a->data, s, strlen(s)) : -EINVAL;
    f++;
  } else if (*f == 'b') {
    const void *p = va_arg(*ap, const void *);
    size_t len = va_arg(*ap, size_t);
    r = p || !len ? cio__resp_append(&a->data, p, len) : -EINVAL;
    f++;
  } else if (*f == '%') {
    r = cio__resp_append(&a->data, "%", 1);
    f++;
  } else if (*f == 'd' || *f == 'i') {
    k = snprintf(num, sizeof num, "%d", va_arg(*ap, int));
    f++;
  } else if (*f == 'u') {
    k = snprintf(num, sizeof num, "%u", va_arg(*ap, unsigned));
    f++;
  } else if (f[0] == 'l' && f[1] == 'l' && (f[2] == 'd' || f[2] == 'i')) {
    k = snprintf(num, sizeof num, "%lld", va_arg(*ap, long long));
    f += 3;
  } else if (f[0] == 'l' && f[1] == 'l' && f[2] == 'u') {
    k = snprintf(num, sizeof num, "%llu", va_arg(*ap, unsigned long long));
    f += 3;
  } else if (f[0] == 'l' && (f[1] == 'd' || f[1] == 'i')) {
    k = snprintf(num, sizeof num, "%ld", va_arg(*ap, long));
    f += 2;
  } else if (f[0] == 'l' && f[1] == 'u') {
    k = snprintf(num, sizeof num, "%lu", va_arg(*ap, unsigned long));
    f += 2;
  } else if (f[0] == 'z' && f[1] == 'u') {
    k = snprintf(num, sizeof num, "%zu", va_arg(*ap, size_t));
    f += 2;
  } else if (f[0] == 'z' && f[1] == 'd') {
    k = snprintf(num, sizeof num, "%zd", va_arg(*ap, ssize_t));
    f += 2;
  } else if (*f == 'f' || *f == 'g') {
    /* Enough digits to give the same double back. */
    k = snprintf(num, sizeof num, "%.17g", va_arg(*ap, double));
    f++;
  } else {
    return -EINVAL;
  }
  if (k >= 0) r = cio__resp_append(&a->data, num, (size_t)k);
  *fp = f;
  return r;
}

int cio__resp_append_vformat(cio__resp_out *o, const char *fmt, va_list ap) {
  if (!fmt) return -EINVAL;
  fmt_args a = {{NULL, 0, 0}, NULL, 0, 0};
  va_list aq;
  va_copy(aq, ap);
  int in_arg = 0, r = 0;
  for (const char *f = fmt; *f && r == 0;) {
    if (*f == ' ') {
      if (in_arg) r = end_arg(&a);
      in_arg = 0;
      f++;
      continue;
    }
    in_arg = 1;
    if (*f == '%') {
      f++;
      r = convert(&a, &f, &aq);
    } else {
      const char *lit = f;
      while (*f && *f != ' ' && *f != '%') f++;
      r = cio__resp_append(&a.data, lit, (size_t)(f - lit));
    }
  }
  va_end(aq);
  if (r == 0 && in_arg) r = end_arg(&a);
  if (r == 0 && a.n == 0) r = -EINVAL;
  if (r == 0) {
    /* argv pointing into the collected bytes */
    const char **argv = cio__malloc(a.n * sizeof *argv);
    size_t *lens = cio__malloc(a.n * sizeof *lens);
    if (argv && lens) {
      for (size_t i = 0; i < a.n; i++) {
        size_t start = i ? a.ends[i - 1] : 0;
        argv[i] = a.data.p ? a.data.p + start : "";
        lens[i] = a.ends[i] - start;
      }
      r = cio__resp_append_command(o, a.n, argv, lens);
    } else {
      r = -ENOMEM;
    }
    cio__free(argv);
    cio__free(lens);
  }
  cio__resp_out_free(&a.data);
  cio__free(a.ends);
  return r;
}
