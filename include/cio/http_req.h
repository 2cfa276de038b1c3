/* cio/http_req.h - the request a handler serves.
 *
 * A request lives as long as the handler call (and the middleware around
 * it); every pointer it hands out is valid until the response is finished,
 * and must not be kept past that. The request line and headers are read
 * where they arrived, in the connection's input buffer: strings that come
 * from there are NOT NUL-terminated (use the length). Decoded strings
 * (path, parameters, query values) are NUL-terminated, and come with a
 * length too, since a decoded "%00" is a NUL byte.
 *
 * Calls that read the body may suspend (the body is still arriving); the
 * rest never suspend. Loop thread of the connection only. Link with
 * cio-http.
 */
#ifndef CIO_HTTP_REQ_H
#define CIO_HTTP_REQ_H

#include "http_app.h"

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cJSON cJSON; /* <cjson/cJSON.h> */

/* The method, by number (CIO_HTTP_OTHER for methods without one) and as
 * sent ("GET"; not NUL-terminated, its length in *len). */
CIO_API cio_http_method cio_http_req_method(const cio_http_req *r);
CIO_API const char *cio_http_req_method_str(const cio_http_req *r, size_t *len);

/* 10 for HTTP/1.0, 11 for HTTP/1.1. */
CIO_API int cio_http_req_version(const cio_http_req *r);

/* "https" when the connection is TLS, else "http" (Starlette's
 * request.url.scheme; redirects built by the framework use it). */
CIO_API const char *cio_http_req_scheme(const cio_http_req *r);

/* The request-target as sent ("/id/%E4?x=1"), not NUL-terminated. */
CIO_API const char *cio_http_req_target(const cio_http_req *r, size_t *len);

/* The path, percent-decoded, invalid UTF-8 replaced by U+FFFD, as
 * Starlette's scope["path"] ("/id/中"): NUL-terminated. For an
 * absolute-form target (http://host/p) it is the path part. */
CIO_API const char *cio_http_req_path(const cio_http_req *r, size_t *len);

/* The path as sent (before decoding), not NUL-terminated. */
CIO_API const char *cio_http_req_raw_path(const cio_http_req *r, size_t *len);

/* Inside a mount: the path below the mount's prefix, starting with '/'
 * (Starlette's child scope["path"]); outside one, the whole path.
 * NUL-terminated. */
CIO_API const char *cio_http_req_mount_path(const cio_http_req *r, size_t *len);

/* The query string as sent, after '?' (empty if none), not NUL-terminated. */
CIO_API const char *cio_http_req_query_string(const cio_http_req *r, size_t *len);

/* The first query parameter called `name`, decoded ('+' is a space;
 * invalid UTF-8 becomes U+FFFD, as Python's parse_qsl does), NUL-
 * terminated; "" for "?name" or "?name=". NULL (and *len 0) if absent
 * (errno ENOENT) or out of memory (ENOMEM). */
CIO_API const char *cio_http_req_query(cio_http_req *r, const char *name, size_t *len);

/* The first header called `name` (ASCII case-insensitive), not NUL-
 * terminated, or NULL (and *len 0). */
CIO_API const char *cio_http_req_header(const cio_http_req *r, const char *name, size_t *len);

/* Every header, in the order received: *n entries (see cio/http_parser.h). */
CIO_API const cio_http_header *cio_http_req_headers(const cio_http_req *r, size_t *n);

/* A path parameter of the matched route, NUL-terminated: for an int
 * parameter, its value written as Python writes the int (sign, digits: "7"
 * for "007" or "+7"), else the decoded text of the path part. NULL (and
 * *len 0) if the route has no such parameter. */
CIO_API const char *cio_http_req_param(const cio_http_req *r, const char *name, size_t *len);

/* An int parameter's value. Returns 0, -ENOENT (no such parameter),
 * -EINVAL (not an int parameter), -ERANGE (a valid integer that int64_t
 * cannot hold, as Python's unbounded int can: its text is
 * cio_http_req_param's). */
CIO_API int cio_http_req_param_int(const cio_http_req *r, const char *name, int64_t *out);

/* A float parameter's value: 0, -ENOENT, -EINVAL. */
CIO_API int cio_http_req_param_double(const cio_http_req *r, const char *name, double *out);

/* The whole body (after de-chunking), at most the app's max_body bytes:
 * sets *data (valid until the response is finished; may be NULL when the
 * length is 0) and returns the length, or -EMSGSIZE (too large: the
 * framework answers 413 if the handler returns this code), -EBADMSG
 * (malformed chunked encoding: 400), -ETIMEDOUT (body_timeout: 408),
 * -EPIPE (the client closed before the end), -ECANCELED, -EBUSY (part of
 * the body was already taken with cio_http_req_read). Sends "100
 * Continue" first when the client asked for it. Calling it again returns
 * the same body. May suspend. */
CIO_API ssize_t cio_http_req_body(cio_http_req *r, const char **data);

/* Stream the body: up to cap bytes into buf; returns the count, 0 at its
 * end, or an error as cio_http_req_body (-EBUSY after cio_http_req_body).
 * May suspend. */
CIO_API ssize_t cio_http_req_read(cio_http_req *r, void *buf, size_t cap);

/* The body parsed as JSON (cio_json_parse: RFC 8259, nesting at most 64):
 * 0 and *out (a cJSON tree the caller frees with cJSON_Delete), -EBADMSG
 * (not JSON: answer 422 or 400), or cio_http_req_body's errors. May
 * suspend. */
CIO_API int cio_http_req_json(cio_http_req *r, cJSON **out);

/* The client's address: "ip:port" / "[ip6]:port" into buf. 0 or -errno. */
CIO_API int cio_http_req_client(const cio_http_req *r, char *buf, size_t cap);

/* The lifespan state of the worker serving this request (cio_http_app_
 * lifespan), or NULL. */
CIO_API void *cio_http_req_state(const cio_http_req *r);

/* A slot for middleware to hand something to the handler (Starlette's
 * request.state): NULL until set; cleared for each request. */
CIO_API void cio_http_req_set_user(cio_http_req *r, void *p);
CIO_API void *cio_http_req_user(const cio_http_req *r);

/* The app serving the request. */
CIO_API cio_http_app *cio_http_req_app(const cio_http_req *r);

#ifdef __cplusplus
}
#endif
#endif
