/* cio/url.h - percent-encoding and query strings (RFC 3986, and the
 * application/x-www-form-urlencoded rules browsers use for queries).
 *
 * Decoding follows Python's urllib.parse (unquote, parse_qsl), which is what
 * FastAPI/Starlette apply to paths and queries: a malformed escape ("%zz",
 * a '%' too close to the end) is kept as it is, not refused; '+' means a
 * space only in query strings. The decoded bytes may be any bytes (a "%00"
 * gives a NUL): results always come with a length.
 *
 * Nothing here suspends or allocates; any thread.
 */
#ifndef CIO_URL_H
#define CIO_URL_H

#include "common.h"

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* cio_url_decode flags */
#define CIO_URL_PLUS_SPACE 1 /* '+' decodes to ' ' (query strings) */
#define CIO_URL_STRICT     2 /* a malformed escape is an error (-EINVAL) */

/* Decode in[0..n) into out, which needs room for n bytes (the result is
 * never longer; out may be in itself, for decoding in place). Returns the
 * decoded length, or -EINVAL (CIO_URL_STRICT and a malformed escape). Not
 * NUL-terminated. */
CIO_API ssize_t cio_url_decode(char *out, const char *in, size_t n, unsigned flags);

/* cio_url_encode flags */
#define CIO_URL_KEEP_SLASH 1 /* leave '/' as is (paths) */
#define CIO_URL_FORM       2 /* ' ' becomes '+' (query values, forms) */

/* Percent-encode in[0..n) into out (cap bytes): unreserved characters
 * (ALPHA DIGIT - . _ ~) are kept, every other byte becomes %XX (upper-case
 * hex). Returns the encoded length (out is NUL-terminated when there is
 * room for it), or -ENOSPC if cap is too small (3n + 1 always suffices). */
CIO_API ssize_t cio_url_encode(char *out, size_t cap, const char *in, size_t n, unsigned flags);

/* One name=value pair of a query string, still encoded. */
typedef struct cio_url_pair {
  const char *name;
  size_t name_len;
  const char *value; /* "" (length 0) for "name" without '=' */
  size_t value_len;
} cio_url_pair;

/* Iterate over the pairs of a query string (without the '?'): pairs are
 * separated by '&'; empty ones are skipped; a pair without '=' has an empty
 * value (Python's parse_qsl(keep_blank_values=True)). *pos starts at the
 * query and advances; end is its end. Returns 1 with *pair filled, 0 when
 * there are no more pairs. Decode names and values with cio_url_decode(...,
 * CIO_URL_PLUS_SPACE). */
CIO_API int cio_url_query_next(const char **pos, const char *end, cio_url_pair *pair);

/* Find the first pair whose DECODED name is `name` and decode its value
 * into out (cap bytes, NUL-terminated). Returns the value's length, -ENOENT
 * if there is no such pair, -ENOSPC if out is too small. */
CIO_API ssize_t cio_url_query_get(const char *query, size_t n, const char *name, char *out,
                                  size_t cap);

#ifdef __cplusplus
}
#endif
#endif
