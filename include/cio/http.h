/* cio/http.h - the http layer in one include: the server framework
 * (app, routes, middleware, lifespan, serving: http_app.h), requests
 * (http_req.h), responses (http_res.h), CORS (http_cors.h), static files
 * (http_static.h), JSON (json.h), logging (log.h), URLs (url.h) and the
 * HTTP/1.1 parser (http_parser.h). docs/HTTP.md is the guide.
 *
 * Build: cc app.c $(pkg-config --cflags --libs cio-http), or in CMake
 * find_package(cio COMPONENTS http) and target_link_libraries(app cio::http).
 */
#ifndef CIO_HTTP_H
#define CIO_HTTP_H

#include "http_app.h"
#include "http_cors.h"
#include "http_parser.h"
#include "http_req.h"
#include "http_res.h"
#include "http_static.h"
#include "json.h"
#include "log.h"
#include "url.h"

#endif
