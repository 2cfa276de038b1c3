/* static.c - StaticFiles: paths resolved beneath a directory (openat2 with
 * RESOLVE_BENEATH), conditional requests, ranges, sendfile. */
#include "http_internal.h"

#include "cio/http_static.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct mount {
  int dirfd;
  cio_http_static_opts o;
  char *cache_control;
  char *real; /* the directory's realpath: for the check without openat2 */
} mount;

static void mount_free(void *p) {
  mount *m = p;
  if (m->dirfd >= 0) close(m->dirfd);
  free(m->cache_control);
  free(m->real);
  free(m);
}

/* ---- content types (Python's mimetypes for the common extensions) ---- */

static const struct {
  const char *ext;
  const char *type;
} mime[] = {
    {"html", "text/html"},
    {"htm", "text/html"},
    {"css", "text/css"},
    {"js", "text/javascript"},
    {"mjs", "text/javascript"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"txt", "text/plain"},
    {"csv", "text/csv"},
    {"md", "text/markdown"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/vnd.microsoft.icon"},
    {"wasm", "application/wasm"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"pdf", "application/pdf"},
    {"zip", "application/zip"},
    {"tar", "application/x-tar"},
    {"mp3", "audio/mpeg"},
    {"wav", "audio/x-wav"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"bin", "application/octet-stream"},
};

static const char *type_of(const char *path) {
  const char *slash = strrchr(path, '/');
  const char *dot = strrchr(slash ? slash : path, '.');
  if (dot)
    for (size_t i = 0; i < sizeof mime / sizeof mime[0]; i++)
      if (strcasecmp(dot + 1, mime[i].ext) == 0) return mime[i].type;
  return "text/plain"; /* Starlette's fallback */
}

/* ---- resolving ---- */

/* Starlette's os.path.normpath(os.path.join(*path.split("/"))): "." and
 * empty segments go, ".." removes the previous one. A ".." with nothing
 * left to remove would climb out of the root: -1. Writes "a/b" (or ""). */
static int normalize(const char *p, size_t n, char *out, size_t *olen) {
  size_t o = 0, i = 0;
  while (i < n) {
    while (i < n && p[i] == '/') i++;
    size_t s = i;
    while (i < n && p[i] != '/') i++;
    size_t len = i - s;
    if (len == 0 || (len == 1 && p[s] == '.')) continue;
    if (len == 2 && p[s] == '.' && p[s + 1] == '.') {
      if (o == 0) return -1;
      while (o > 0 && out[o - 1] != '/') o--;
      if (o > 0) o--; /* the '/' before it */
      continue;
    }
    if (memchr(p + s, '\0', len)) return -1; /* an embedded NUL names no file */
    if (o) out[o++] = '/';
    memcpy(out + o, p + s, len);
    o += len;
  }
  out[o] = '\0';
  *olen = o;
  return 0;
}

/* 1 while openat2 is believed to work; 0 once it answered ENOSYS (a kernel
 * before 5.6, a seccomp filter, Valgrind) or a test asked for the fallback. */
static _Atomic int have_openat2 = 1;

void cio__http_static_no_openat2(int off) { have_openat2 = !off; }

/* Is the file open as fd beneath (or at) the directory whose realpath is
 * real? Asked of the opened file itself (/proc/self/fd), so nothing can
 * swap the path between the check and the use. No /proc: no. */
static int fd_beneath(int fd, const char *real) {
  char link[32], at[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, at, sizeof at - 1);
  if (n <= 0 || (size_t)n >= sizeof at - 1) return 0;
  at[n] = '\0';
  size_t r = strlen(real);
  if (r == 1 && real[0] == '/') return at[0] == '/';
  return strncmp(at, real, r) == 0 && (at[r] == '\0' || at[r] == '/');
}

/* Open rel beneath the mount's directory. -errno on failure (-EXDEV or
 * -ELOOP for a path leaving the directory). rel is normalized: no "..". */
static int open_beneath(const mount *m, const char *rel) {
  const char *p = *rel ? rel : ".";
  const int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;
  if (m->o.follow_symlinks) {
    int fd = openat(m->dirfd, p, flags);
    return fd < 0 ? -errno : fd;
  }
  if (have_openat2) {
    struct open_how how = {
        .flags = flags,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    long fd = syscall(SYS_openat2, m->dirfd, p, &how, sizeof how);
    if (fd >= 0) return (int)fd;
    if (errno != ENOSYS) return -errno;
    have_openat2 = 0;
  }
  /* Without openat2: follow the links, then ask where the file is. Like
   * Starlette's check of os.path.realpath; a link staying inside works. */
  int fd = openat(m->dirfd, p, flags);
  if (fd < 0) return -errno;
  if (!m->real || !fd_beneath(fd, m->real)) {
    close(fd);
    return -EXDEV;
  }
  return fd;
}

/* ---- conditions and ranges ---- */

static void etag_of(const struct stat *st, char *out, size_t cap) {
  snprintf(out, cap, "\"%llx-%llx\"", (unsigned long long)st->st_mtim.tv_sec,
           (unsigned long long)st->st_size);
}

/* If-None-Match: "*", or a list holding our tag (weak comparison). */
static int none_match(const char *v, size_t n, const char *tag) {
  size_t tl = strlen(tag);
  size_t i = 0;
  while (i < n) {
    while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
    size_t s = i;
    while (i < n && v[i] != ',') i++;
    size_t e = i;
    while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t')) e--;
    if (e - s == 1 && v[s] == '*') return 1;
    if (e - s > 2 && v[s] == 'W' && v[s + 1] == '/') s += 2;
    if (e - s == tl && memcmp(v + s, tag, tl) == 0) return 1;
  }
  return 0;
}

/* Range: "bytes=a-b" | "bytes=a-" | "bytes=-n" (one range; several are
 * answered with the whole file, as the RFC allows). Returns 1 with the
 * range, 0 to send everything, -1 if unsatisfiable. */
static int parse_range(const char *v, size_t n, uint64_t size, uint64_t *from, uint64_t *len) {
  if (n < 7 || strncasecmp(v, "bytes=", 6) != 0) return 0;
  v += 6;
  n -= 6;
  if (memchr(v, ',', n)) return 0;
  size_t i = 0;
  while (i < n && v[i] == ' ') i++;
  uint64_t a = 0, b = 0;
  int ha = 0, hb = 0;
  while (i < n && v[i] >= '0' && v[i] <= '9') {
    if (a > UINT64_MAX / 10 - 10) return 0;
    a = a * 10 + (uint64_t)(v[i++] - '0');
    ha = 1;
  }
  if (i == n || v[i++] != '-') return 0;
  while (i < n && v[i] >= '0' && v[i] <= '9') {
    if (b > UINT64_MAX / 10 - 10) return 0;
    b = b * 10 + (uint64_t)(v[i++] - '0');
    hb = 1;
  }
  while (i < n && v[i] == ' ') i++;
  if (i != n || (!ha && !hb)) return 0;
  if (!ha) { /* the last b bytes */
    if (b == 0) return -1;
    *from = b >= size ? 0 : size - b;
    *len = size - *from;
    return 1;
  }
  if (hb && b < a) return 0; /* invalid: ignored */
  if (a >= size) return -1;
  uint64_t last = hb && b < size - 1 ? b : size - 1;
  *from = a;
  *len = last - a + 1;
  return 1;
}

/* ---- answering ---- */

static int serve_file(const mount *m, cio_http_req *req, cio_http_res *res, int fd,
                      const struct stat *st, const char *name, int status) {
  char tag[48], lm[32];
  etag_of(st, tag, sizeof tag);
  cio__http_date_format(lm, (int64_t)st->st_mtim.tv_sec);
  if (m->cache_control) cio_http_res_set_header(res, "Cache-Control", m->cache_control);
  cio_http_res_set_header(res, "ETag", tag);
  size_t n;
  const char *inm = cio_http_req_header(req, "if-none-match", &n);
  int not_modified = 0;
  if (status == 200 && inm) {
    not_modified = none_match(inm, n, tag);
  } else if (status == 200) {
    const char *ims = cio_http_req_header(req, "if-modified-since", &n);
    int64_t t = ims ? cio__http_date_parse(ims, n) : -1;
    not_modified = t >= 0 && (int64_t)st->st_mtim.tv_sec <= t;
  }
  if (not_modified) {
    close(fd);
    cio__http_res_fail(res, 304, NULL);
    return 0;
  }
  char type[96];
  const char *t = type_of(name);
  snprintf(type, sizeof type, "%s%s", t, strncmp(t, "text/", 5) == 0 ? "; charset=utf-8" : "");
  cio_http_res_content_type(res, type);
  cio_http_res_set_header(res, "Last-Modified", lm);
  cio_http_res_set_header(res, "Accept-Ranges", "bytes");
  uint64_t size = (uint64_t)st->st_size, from = 0, len = size;
  const char *range = status == 200 ? cio_http_req_header(req, "range", &n) : NULL;
  if (range) {
    size_t il;
    const char *ifr = cio_http_req_header(req, "if-range", &il);
    /* If-Range: the range only if the file is still what the client has */
    int same = !ifr || (il == strlen(tag) && memcmp(ifr, tag, il) == 0) ||
               (il == 29 && memcmp(ifr, lm, 29) == 0);
    int rr = same ? parse_range(range, n, size, &from, &len) : 0;
    if (rr < 0) {
      close(fd);
      char cr[48];
      snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)size);
      cio__http_res_fail(res, 416, NULL);
      cio_http_res_set_header(res, "Content-Range", cr);
      return 0;
    }
    if (rr > 0) {
      char cr[80];
      snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)from,
               (unsigned long long)(from + len - 1), (unsigned long long)size);
      cio_http_res_set_header(res, "Content-Range", cr);
      status = 206;
    }
  }
  cio_http_res_status(res, status);
  return cio_http_res_file(res, fd, (off_t)from, (size_t)len);
}

/* A regular file at rel (opened), or -errno. */
static int open_file(const mount *m, const char *rel, struct stat *st) {
  int fd = open_beneath(m, rel);
  if (fd < 0) return fd;
  if (fstat(fd, st) < 0) {
    int e = -errno;
    close(fd);
    return e;
  }
  return fd;
}

static int not_found(const mount *m, cio_http_req *req, cio_http_res *res) {
  if (m->o.html) {
    struct stat st;
    int fd = open_file(m, "404.html", &st);
    if (fd >= 0 && S_ISREG(st.st_mode)) return serve_file(m, req, res, fd, &st, "404.html", 404);
    if (fd >= 0) close(fd);
  }
  cio__http_res_fail(res, 404, "Not Found");
  return 0;
}

static int static_handler(cio_http_req *req, cio_http_res *res, void *arg) {
  const mount *m = arg;
  cio_http_method meth = cio_http_req_method(req);
  if (meth != CIO_HTTP_GET && meth != CIO_HTTP_HEAD) {
    cio__http_res_fail(res, 405, "Method Not Allowed");
    return cio_http_res_set_header(res, "Allow", "GET, HEAD");
  }
  size_t n;
  const char *path = cio_http_req_mount_path(req, &n);
  char *rel = cio__arena_alloc(&req->c->arena, n + sizeof "/index.html");
  if (!rel) return -ENOMEM;
  size_t rl;
  if (normalize(path, n, rel, &rl) < 0) return not_found(m, req, res);
  struct stat st;
  int fd = open_file(m, rel, &st);
  if (fd == -EACCES || fd == -EPERM) {
    cio__http_res_fail(res, 401, "Unauthorized");
    return 0;
  }
  if (fd < 0) return not_found(m, req, res);
  if (S_ISREG(st.st_mode)) return serve_file(m, req, res, fd, &st, rel, 200);
  close(fd);
  if (S_ISDIR(st.st_mode) && m->o.html) {
    memcpy(rel + rl, rl ? "/index.html" : "index.html", rl ? 12 : 11);
    fd = open_file(m, rel, &st);
    if (fd >= 0 && S_ISREG(st.st_mode)) {
      if (n == 0 || path[n - 1] != '/') {
        /* a directory URL ends with '/': redirect, as Starlette does */
        close(fd);
        size_t rpl = 0, hl = 0, ql = 0;
        const char *rp = cio_http_req_raw_path(req, &rpl);
        const char *host = cio_http_req_header(req, "host", &hl);
        const char *q = cio_http_req_query_string(req, &ql);
        char *loc = cio__arena_alloc(&req->c->arena, rpl + hl + ql + 16);
        if (!loc) return -ENOMEM;
        if (!host || !hl) /* HTTP/1.0 without Host: a relative reference */
          snprintf(loc, rpl + ql + 16, "%.*s/%s%.*s", (int)rpl, rp, ql ? "?" : "", (int)ql, q);
        else
          snprintf(loc, rpl + hl + ql + 16, "%s://%.*s%.*s/%s%.*s", cio_http_req_scheme(req),
                   (int)hl, host, (int)rpl, rp, ql ? "?" : "", (int)ql, q);
        cio__http_res_fail(res, 307, NULL);
        return cio_http_res_set_header(res, "Location", loc);
      }
      return serve_file(m, req, res, fd, &st, rel, 200);
    }
    if (fd >= 0) close(fd);
  }
  return not_found(m, req, res);
}

int cio_http_app_mount_static(cio_http_app *app, const char *prefix, const char *dir,
                              const cio_http_static_opts *opts) {
  if (!dir) return -EINVAL;
  mount *m = calloc(1, sizeof *m);
  if (!m) return -ENOMEM;
  if (opts) m->o = *opts;
  if (m->o.cache_control && !(m->cache_control = strdup(m->o.cache_control))) {
    free(m);
    return -ENOMEM;
  }
  m->o.cache_control = NULL;
  m->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (m->dirfd >= 0) m->real = realpath(dir, NULL); /* NULL: the fallback refuses */
  if (m->dirfd < 0) {
    int e = -errno;
    cio__http_app_set_error(app, "static directory '%s': %s", dir, cio_strerror(e));
    mount_free(m);
    return e;
  }
  int e = cio__http_app_own(app, m, mount_free);
  if (e < 0) return e;
  return cio_http_app_mount(app, prefix, static_handler, m);
}
