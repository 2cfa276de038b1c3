/* error.c - status codes to text, version, fatal invariant failures. */
#include "internal.h"

#include <string.h>

const char *cio_strerror(int code) {
  if (code < 0)
    code = -code;
  switch (code) {
  case 0:
    return "success";
  case ECANCELED:
    return "cancelled";
  case ETIMEDOUT:
    return "timed out";
  case EPERM:
    return "not allowed here (outside a task, or not the owner)";
  case EDEADLK:
    return "would deadlock (awaiting itself, or lock already held)";
  case EAGAIN:
    return "would have to wait";
  case ESHUTDOWN:
    return "loop is closing";
  case EINPROGRESS:
    return "still running";
  case EALREADY:
    return "already completed";
  case EOWNERDEAD:
    return "worker process died";
  case EOVERFLOW:
    return "released more times than acquired";
  case CIO_ENONAME:
    return "name does not resolve";
  case CIO_EDNS:
    return "name resolution failed";
  case CIO_ETLS:
    return "TLS failure";
  case CIO_ECERT:
    return "TLS certificate verification failed";
  default:
    break;
  }
  /* strerror's table is static in glibc; the string is never freed. */
  return strerror(code);
}

const char *cio_version(void) { return "0.1.0"; }
