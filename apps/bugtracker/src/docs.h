/* docs.h - FastAPI's /openapi.json, /docs and /redoc for the service (see
 * docs.c for what is the same as the original's and what is not). */
#ifndef BT_DOCS_H
#define BT_DOCS_H

#include <cio/http.h>

/* Add the three routes (before the static mount, as FastAPI has them before
 * the app's own). Returns 0 or cio_http_app_route's error. Never
 * suspends. */
int bt_docs_routes(cio_http_app *app);

#endif
