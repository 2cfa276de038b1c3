/* cio/json.h - JSON out (a streaming writer) and in (cJSON trees, checked
 * first).
 *
 * Writing: a cio_json writer appends JSON text to a buffer as calls are
 * made - no tree is built. Commas and colons are placed for you; nesting is
 * checked. The text is what Python's json.dumps(ensure_ascii=False,
 * separators=(",", ":")) writes, as FastAPI's JSONResponse does: compact,
 * non-ASCII characters as raw UTF-8, control characters escaped, floats in
 * Python's repr form (1.0, 1e+16, 0.1). Strings that are not valid UTF-8 are
 * repaired: each ill-formed part becomes U+FFFD, so the output is always
 * valid UTF-8 JSON.
 *
 *   cio_json *j = cio_json_new();
 *   cio_json_object(j);
 *   cio_json_key(j, "bug_id");  cio_json_int(j, 42);
 *   cio_json_key(j, "reply");   cio_json_object(j);
 *   cio_json_key(j, "cause");   cio_json_str(j, "空指针");
 *   cio_json_object_end(j);
 *   cio_json_object_end(j);
 *   if (cio_json_error(j) == 0) use(cio_json_data(j, &len));
 *   cio_json_free(j);
 *
 * Errors are sticky: every call returns 0 or the writer's first error, and
 * once an error happened the following calls do nothing, so a builder may
 * check once at the end (cio_json_error). Errors: -ENOMEM, -EINVAL (a value
 * where a key is expected, an end that does not match, a second top-level
 * value, nesting beyond CIO_JSON_MAX_DEPTH), -EDOM (NaN or infinity, which
 * JSON cannot represent).
 *
 * A writer made by cio_http_res_json() (cio/http_res.h) writes straight into
 * the response body.
 *
 * Reading: cio_json_parse() checks the text against RFC 8259 (and a depth
 * limit, so a hostile body cannot exhaust a task's stack) before handing it
 * to cJSON (Debian's libcjson), whose tree the caller walks with cJSON's
 * API (<cjson/cJSON.h>) and frees with cJSON_Delete().
 *
 * Nothing here suspends; a writer belongs to one thread at a time. Link
 * with cio-http.
 */
#ifndef CIO_JSON_H
#define CIO_JSON_H

#include "common.h"

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CIO_JSON_MAX_DEPTH 64

typedef struct cio_json cio_json;

/* A writer with its own buffer. NULL + errno ENOMEM. */
CIO_API cio_json *cio_json_new(void);
/* Free a writer made by cio_json_new (NULL is a no-op; not for the writer of
 * a response). */
CIO_API void cio_json_free(cio_json *j);
/* Start over: empty text, no error, top level. */
CIO_API void cio_json_reset(cio_json *j);
/* The text so far, NUL-terminated (owned by the writer, valid until the next
 * call on it); its length in *len (len may be NULL). */
CIO_API const char *cio_json_data(cio_json *j, size_t *len);
/* The writer's first error (0 if none). */
CIO_API int cio_json_error(const cio_json *j);
/* 1 when exactly one complete top-level value has been written. */
CIO_API int cio_json_complete(const cio_json *j);

CIO_API int cio_json_object(cio_json *j);
CIO_API int cio_json_object_end(cio_json *j);
CIO_API int cio_json_array(cio_json *j);
CIO_API int cio_json_array_end(cio_json *j);
/* The key of the next member of the current object. */
CIO_API int cio_json_key(cio_json *j, const char *key);
CIO_API int cio_json_key_n(cio_json *j, const char *key, size_t n);
/* A string value (NULL writes null). */
CIO_API int cio_json_str(cio_json *j, const char *s);
CIO_API int cio_json_str_n(cio_json *j, const char *s, size_t n);
CIO_API int cio_json_int(cio_json *j, int64_t v);
CIO_API int cio_json_uint(cio_json *j, uint64_t v);
/* A number in Python's repr form: shortest text that reads back as v. */
CIO_API int cio_json_double(cio_json *j, double v);
CIO_API int cio_json_bool(cio_json *j, int v);
CIO_API int cio_json_null(cio_json *j);
/* A value given as ready JSON text (the caller vouches for it). */
CIO_API int cio_json_raw(cio_json *j, const char *json, size_t n);

/* Format v as Python's repr(float) does into out (cap >= 32). Returns the
 * length, or -EDOM for NaN / infinity. */
CIO_API int cio_json_format_double(char *out, size_t cap, double v);

/* ---- reading ---- */

typedef struct cJSON cJSON; /* <cjson/cJSON.h> */

/* Parse text[0..n) (one JSON value, surrounding whitespace allowed) into a
 * cJSON tree owned by the caller (cJSON_Delete). The text must be valid
 * RFC 8259 JSON in UTF-8 nested at most max_depth deep (0 = 64). Returns 0
 * and *out, or -EBADMSG (not valid JSON; *err_offset, if err_offset is not
 * NULL, is where it goes wrong), -ELOOP (nested too deep), -ENOMEM. *out
 * is NULL on failure. A string holding "\u0000" is cut there by cJSON.
 * Never suspends. */
CIO_API int cio_json_parse(const char *text, size_t n, int max_depth, cJSON **out,
                           size_t *err_offset);

#ifdef __cplusplus
}
#endif
#endif
