/* error.c - the words for the last failure of a cio_redis call on this
 * thread. */
#include "redis_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Fixed size: a thread that exits leaves nothing to free. Longer messages
 * (a long Lua error) are cut, with "..." at the end. */
static _Thread_local char last_error[1024];

const char *cio_redis_last_error(void) { return last_error; }

static void mark_cut(size_t len) {
  if (len >= sizeof last_error) memcpy(last_error + sizeof last_error - 4, "...", 4);
}

int cio__redis_error(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  if (n > 0) mark_cut((size_t)n);
  return code;
}

int cio__redis_error_reply(const cio_redis_reply *r) {
  size_t n = r->len < sizeof last_error ? r->len : sizeof last_error - 1;
  memcpy(last_error, r->str, n);
  last_error[n] = '\0';
  mark_cut(r->len);
  return -CIO_EREDIS;
}
