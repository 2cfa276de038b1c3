/* cio/http_static.h - a directory served under a path prefix, as
 * Starlette's StaticFiles (FastAPI's app.mount("/", StaticFiles(directory=
 * "static", html=True))).
 *
 *   cio_http_static_opts so = {.html = 1};
 *   cio_http_app_mount_static(app, "/", "static", &so);
 *
 * GET and HEAD only (anything else: 405 {"detail":"Method Not Allowed"}).
 * A path is resolved below the directory and never out of it: ".." and
 * encoded "%2e%2e" segments are applied to the path first and may not climb
 * above its root, and the file is opened with openat2(RESOLVE_BENEATH), so a
 * symbolic link that leads out of the directory is refused too (404) unless
 * follow_symlinks is set. Files are sent with sendfile(2), with
 * Content-Type from their extension (text types as "; charset=utf-8"),
 * Last-Modified, a strong ETag, Accept-Ranges; If-None-Match and
 * If-Modified-Since give 304, a single byte Range gives 206 (If-Range
 * honoured), an unsatisfiable one 416. With html: a directory serves its
 * index.html (a directory URL without its final '/' is redirected to it,
 * 307), and a missing file serves 404.html with status 404 when there is
 * one. Otherwise 404 {"detail":"Not Found"}; an unreadable file 401, as
 * Starlette answers PermissionError.
 *
 * Files are opened and read on the loop thread, as nginx does without its
 * thread pool: page-cache hits cost microseconds; a cold, slow disk stalls
 * the loop meanwhile. Link with cio-http.
 */
#ifndef CIO_HTTP_STATIC_H
#define CIO_HTTP_STATIC_H

#include "http_app.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_http_static_opts {
  int html;                  /* 1: index.html for directories, 404.html */
  int follow_symlinks;       /* 1: symbolic links may lead out of dir */
  const char *cache_control; /* a Cache-Control value for every file, or NULL */
} cio_http_static_opts;

/* Mount the directory dir at prefix (see cio_http_app_mount; "/" = the
 * root, after the routes added before it). dir is opened now and kept open
 * until the app is freed. Returns 0, -ENOENT / -ENOTDIR / -EACCES (dir),
 * -EINVAL, -ENOMEM; cio_http_app_error says what. Never suspends. */
CIO_API int cio_http_app_mount_static(cio_http_app *app, const char *prefix, const char *dir,
                                      const cio_http_static_opts *opts);

#ifdef __cplusplus
}
#endif
#endif
