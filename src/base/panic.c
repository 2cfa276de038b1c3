/* panic.c - the end of the road for broken invariants. */
#include "assert.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void cio__panic(const char *fmt, ...) {
  va_list ap;
  fputs("cio: fatal: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  abort();
}

void cio__assert_fail(const char *cond, const char *file, int line, const char *func) {
  cio__panic("assertion failed: %s (%s:%d, %s)", cond, file, line, func);
}
