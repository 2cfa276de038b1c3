/* json_internal.h - the JSON writer's structure, embedded in responses.
 * Not installed. */
#ifndef CIO_HTTP_JSON_INTERNAL_H
#define CIO_HTTP_JSON_INTERNAL_H

#include "buf.h"
#include "cio/json.h"

#include <stdint.h>

struct cio_json {
  cio__buf *out; /* where the text goes (own, or a response body) */
  cio__buf own;  /* the buffer of a cio_json_new() writer */
  int err;
  unsigned depth;
  uint8_t top_done;
  uint8_t heap;
  uint8_t stack[CIO_JSON_MAX_DEPTH]; /* J_* bits per open container */
};

/* Start a writer appending to out. */
void cio__json_init(cio_json *j, cio__buf *out);
/* Append s[0..n) as a JSON string literal (quotes, escapes, UTF-8 repair). */
void cio__json_quote(cio__buf *b, const char *s, size_t n);

#endif
