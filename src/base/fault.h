/* fault.h - system-call fault injection for tests.
 *
 * The io layer asks cio__fault_sys(site) before the system calls that can
 * fail in ways a test cannot provoke at will (EINTR, EAGAIN, ECONNRESET,
 * EMFILE, a short write). A test arms a site: "the nth call from now fails
 * with err" (persist: that one and all later ones). cio__fault_short(site, n)
 * shrinks a write's length instead. Unarmed, a site costs one relaxed load.
 * Sites are a fixed list so that tests name what they break. Do not inject
 * EAGAIN: the reactor is edge-triggered, and a fake EAGAIN would wait for
 * an edge the kernel already gave (tests/io/test_fault.c walks the sites). */
#ifndef CIO_BASE_FAULT_H
#define CIO_BASE_FAULT_H

#include "compiler.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum cio__fault_site {
  CIO__FAULT_ACCEPT,  /* accept4 */
  CIO__FAULT_CONNECT, /* connect */
  CIO__FAULT_SOCKET,  /* socket, pipe, eventfd: creating descriptors */
  CIO__FAULT_READ,    /* read / recv / recvmsg / recvfrom */
  CIO__FAULT_WRITE,   /* write / send / sendmsg / writev / sendfile */
  CIO__FAULT_SHORT,   /* cio_write_all: take 1 byte. (Streams, plain or
                         TLS, take a short count for a full socket buffer
                         and wait for the next writable edge, which a fake
                         short write never brings.) */
  CIO__FAULT_EPOLL,   /* epoll_ctl */
  CIO__FAULT_NSITES
} cio__fault_site;

CIO__BASE_API extern atomic_int cio__fault_any; /* some site is armed */

/* 0, or the errno the call at `site` must fail with now. */
CIO__BASE_API int cio__fault_take(cio__fault_site site);
static inline int cio__fault_sys(cio__fault_site site) {
  if (CIO_LIKELY(!atomic_load_explicit(&cio__fault_any, memory_order_relaxed))) return 0;
  return cio__fault_take(site);
}
/* Put in front of a system call: 0, or -1 with errno set to the fault armed
 * at site (the call is then skipped, as if it had failed):
 *   ssize_t r = cio__fault_errno(CIO__FAULT_READ) ? -1 : read(fd, buf, n); */
static inline int cio__fault_errno(cio__fault_site site) {
  int err = cio__fault_sys(site);
  if (CIO_LIKELY(!err)) return 0;
  errno = err;
  return -1;
}
/* A write of n bytes at a site: n, or less when a short write is armed. */
static inline size_t cio__fault_short(size_t n) {
  if (CIO_LIKELY(!atomic_load_explicit(&cio__fault_any, memory_order_relaxed)) || n <= 1) return n;
  return cio__fault_take(CIO__FAULT_SHORT) ? 1 : n;
}

CIO__BASE_API void cio__fault_sys_fail(cio__fault_site site, long nth, int err, bool persist);
CIO__BASE_API void cio__fault_sys_clear(void);
/* Calls failed at site since it was armed. */
CIO__BASE_API long cio__fault_sys_failed(cio__fault_site site);

#endif
