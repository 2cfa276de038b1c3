/* error.c - status codes to text and names, the version. */
#include "internal.h"

#include <string.h>

/* One table: every code cio itself returns with a meaning of its own, its
 * name and its words. Other errno values fall back to libc. */
static const struct code_info {
  int code;
  const char *name;
  const char *msg;
} codes[] = {
    {0, "0", "success"},
    {ECANCELED, "ECANCELED", "cancelled"},
    {ETIMEDOUT, "ETIMEDOUT", "timed out"},
    {EPERM, "EPERM", "not allowed here (outside a task, or not the owner)"},
    {EDEADLK, "EDEADLK", "would deadlock (awaiting itself, or lock already held)"},
    {EAGAIN, "EAGAIN", "would have to wait"},
    {ESHUTDOWN, "ESHUTDOWN", "loop is closing"},
    {EINPROGRESS, "EINPROGRESS", "still running"},
    {EALREADY, "EALREADY", "already completed"},
    {EOWNERDEAD, "EOWNERDEAD", "worker process died"},
    {EOVERFLOW, "EOVERFLOW", "released more times than acquired"},
    {CIO_ENONAME, "CIO_ENONAME", "name does not resolve"},
    {CIO_EDNS, "CIO_EDNS", "name resolution failed"},
    {CIO_ETLS, "CIO_ETLS", "TLS failure"},
    {CIO_ECERT, "CIO_ECERT", "TLS certificate verification failed"},
    {CIO_ESQL, "CIO_ESQL", "the database reported an error"},
    {CIO_EREDIS, "CIO_EREDIS", "the Redis server replied with an error"},
    {CIO_EWATCH, "CIO_EWATCH", "transaction aborted: a watched key changed"},
};

static const struct code_info *lookup(int code) {
  if (code < 0) code = -code;
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
    if (codes[i].code == code) return &codes[i];
  return NULL;
}

const char *cio_strerror(int code) {
  const struct code_info *c = lookup(code);
  if (c) return c->msg;
  /* strerror's table is static in glibc; the string is never freed. */
  return strerror(code < 0 ? -code : code);
}

const char *cio_strerror_name(int code) {
  const struct code_info *c = lookup(code);
  if (c) return c->name;
  const char *n = strerrorname_np(code < 0 ? -code : code);
  return n ? n : "E?";
}

#define CIO_STR2(x) #x
#define CIO_STR(x)  CIO_STR2(x)
const char *cio_version(void) {
  return CIO_STR(CIO_VERSION_MAJOR) "." CIO_STR(CIO_VERSION_MINOR) "." CIO_STR(CIO_VERSION_PATCH);
}
