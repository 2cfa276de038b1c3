/* cio/http_cors.h - CORS, with the semantics of Starlette's CORSMiddleware
 * (FastAPI's app.add_middleware(CORSMiddleware, ...)).
 *
 *   cio_http_cors_opts o = {.allow_origins = "*", .allow_methods = "*",
 *                           .allow_headers = "*"};
 *   cio_http_app_cors(app, &o);
 *
 * A request without Origin passes untouched. A preflight (OPTIONS with
 * Origin and Access-Control-Request-Method) is answered by the middleware
 * itself, never reaching a route: 200 "OK" with Access-Control-Allow-*
 * headers, or 400 "Disallowed CORS origin, method, headers" naming what is
 * not allowed. Other requests with Origin get Access-Control-Allow-Origin
 * ("*", or the origin itself with "Vary: Origin" when origins are listed,
 * credentials allowed or the request carries cookies), -Allow-Credentials
 * and -Expose-Headers on whatever response they get, errors included.
 * Link with cio-http.
 */
#ifndef CIO_HTTP_CORS_H
#define CIO_HTTP_CORS_H

#include "http_app.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_http_cors_opts {
  const char *allow_origins;      /* comma-separated origins, "*" = any;
                                     NULL = none */
  const char *allow_origin_regex; /* a POSIX extended regex an origin must
                                     match as a whole, or NULL */
  const char *allow_methods;      /* comma-separated, "*" = all; NULL = "GET" */
  const char *allow_headers;      /* comma-separated, "*" = any (mirrored);
                                     NULL = the CORS-safelisted ones only */
  int allow_credentials;          /* 1: Access-Control-Allow-Credentials */
  const char *expose_headers;     /* comma-separated, or NULL */
  int max_age;                    /* preflight cache, seconds: 0 = 600 */
} cio_http_cors_opts;

/* Add the CORS middleware (opts copied). Like every middleware it runs in
 * the order added: add it first for it to see every request. Returns 0,
 * -EINVAL (a bad regex: cio_http_app_error says why), -ENOMEM. Never
 * suspends. */
CIO_API int cio_http_app_cors(cio_http_app *app, const cio_http_cors_opts *opts);

#ifdef __cplusplus
}
#endif
#endif
