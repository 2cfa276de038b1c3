/* cio/http_res.h - the response a handler builds.
 *
 * Most handlers set a status and a body and return: the framework writes
 * the head (Date, Server, Content-Type, Content-Length, and Connection when
 * it matters) and the body when the handler returns, and pipelined
 * responses go out together in one write. A body may come from memory (the
 * response copies it), from the JSON writer (built straight into the
 * response), or from a file (sent with sendfile(2)). For a body produced
 * as it goes, start the response and write it in pieces: it is sent with
 * chunked transfer coding (close-delimited to an HTTP/1.0 client), or with
 * a Content-Length the handler set.
 *
 * Every call returns 0 or a negative errno: -EINVAL for a bad status,
 * header name or value (CR, LF or NUL in it), -EALREADY for a change to
 * the head after it was sent, -ENOMEM. Calls that send may suspend (they
 * wait while the client is slow to read, up to the app's send_timeout);
 * the others never do. A response to HEAD is sent without its body. Loop
 * thread of the connection only. Link with cio-http.
 */
#ifndef CIO_HTTP_RES_H
#define CIO_HTTP_RES_H

#include "http_app.h"
#include "json.h"

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Set the status, 200..599 (informational 1xx answers, such as 100
 * Continue, are the framework's). Default 200. */
CIO_API int cio_http_res_status(cio_http_res *r, int status);
CIO_API int cio_http_res_get_status(const cio_http_res *r);

/* Add a header (a second one of the same name is kept, as Set-Cookie
 * needs). The framework's own headers (Date, Server, Content-Length,
 * Transfer-Encoding, Connection) are written by it: adding Content-Length
 * sets the length of a streamed body; Date or Server replace its own. */
CIO_API int cio_http_res_header(cio_http_res *r, const char *name, const char *value);
CIO_API int cio_http_res_header_n(cio_http_res *r, const char *name, size_t nlen, const char *value,
                                  size_t vlen);
/* Replace every header of that name with this one. */
CIO_API int cio_http_res_set_header(cio_http_res *r, const char *name, const char *value);
/* The value of a header set on the response (NUL-terminated), or NULL. */
CIO_API const char *cio_http_res_get_header(const cio_http_res *r, const char *name);

/* Set the Content-Type (replacing any). */
CIO_API int cio_http_res_content_type(cio_http_res *r, const char *type);

/* Append n bytes to the body (copied). */
CIO_API int cio_http_res_body(cio_http_res *r, const void *data, size_t n);
CIO_API int cio_http_res_printf(cio_http_res *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The whole response in one call: status, Content-Type (NULL: none), body
 * (replacing any body so far). */
CIO_API int cio_http_res_send(cio_http_res *r, int status, const char *type, const void *data,
                              size_t n);
/* Status and a text/plain; charset=utf-8 body. */
CIO_API int cio_http_res_text(cio_http_res *r, int status, const char *text);

/* Status, Content-Type application/json, and a JSON writer (cio/json.h)
 * that builds the body in place; the body so far is dropped. The writer
 * belongs to the response (do not free it). If it ends with an error or an
 * incomplete document, the handler's response becomes a 500. NULL only
 * for a status out of range (errno EINVAL). */
CIO_API cio_json *cio_http_res_json(cio_http_res *r, int status);

/* FastAPI's HTTPException response: status and {"detail": detail}. */
CIO_API int cio_http_res_error(cio_http_res *r, int status, const char *detail);

/* A redirect: status (301, 302, 303, 307, 308) and Location. */
CIO_API int cio_http_res_redirect(cio_http_res *r, int status, const char *location);

/* The body is count bytes of the file fd from offset, sent with sendfile(2)
 * (over TLS: read and written). The response owns fd from this call on,
 * and closes it when done (also on failure). The body so far is dropped. */
CIO_API int cio_http_res_file(cio_http_res *r, int fd, off_t offset, size_t count);

/* ---- streaming ---- */

/* Send the head now. The body follows with cio_http_res_write: chunked,
 * unless the handler set Content-Length (then exactly that many bytes must
 * follow) or the client speaks HTTP/1.0 (the connection then closes after
 * the body). May suspend. */
CIO_API int cio_http_res_start(cio_http_res *r);
/* Send n bytes of the body (starting the response if needed). Waits while
 * the client lags (back-pressure): the memory held stays bounded. -EPIPE /
 * -ECONNRESET when the client went away. May suspend. */
CIO_API int cio_http_res_write(cio_http_res *r, const void *data, size_t n);
/* Finish a started response (the last chunk). Done for the handler if it
 * returns without it. May suspend. */
CIO_API int cio_http_res_end(cio_http_res *r);
/* 1 once the head has been sent (the status can no longer change). */
CIO_API int cio_http_res_started(const cio_http_res *r);

#ifdef __cplusplus
}
#endif
#endif
