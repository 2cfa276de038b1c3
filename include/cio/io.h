/* cio/io.h - the reactor: waiting for file descriptors from tasks.
 *
 * The io layer plugs an epoll backend into the loop (cio_loop_set_poller)
 * the first time any io call is made on that loop. Descriptors are
 * registered once, edge-triggered, for both directions; there is no re-arming
 * per wait. cio_wait_fd() is the one path every io call in cio takes (sockets,
 * streams, pipes, DNS, TLS), and it is public so that callers can drive any
 * non-blocking C library (libpq, libcurl, OpenSSL...) from a task.
 *
 * The pattern is always: try the non-blocking call; on EAGAIN, cio_wait_fd();
 * retry. Loop thread only. Link with cio-io.
 */
#ifndef CIO_IO_H
#define CIO_IO_H

#include "select.h"
#include "task.h"

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CIO_READABLE 1
#define CIO_WRITABLE 2

/* Install the epoll backend on loop (idempotent; every io call does it
 * implicitly for the current loop). Returns 0, -EINVAL (loop NULL or not
 * the calling thread's), or a negative errno (-ENOMEM, epoll_create1's).
 * Never suspends. Loop thread only. */
CIO_API int cio_io_init(cio_loop *loop);

/* Suspend until fd is ready for one of `events` (CIO_READABLE and/or
 * CIO_WRITABLE), or has an error or hang-up (reported as ready: the next
 * read/write tells which). fd must be non-blocking. Readiness reported since
 * the last cio_wait_fd() on fd returns at once (after a cancellation check),
 * so a wake-up is never lost; it may be stale (the data it announced was
 * read meanwhile), so the caller always retries its operation and waits
 * again on EAGAIN. Edge-triggered underneath: wait only after the operation
 * said EAGAIN (or, for a library, "want read/write"), never while the fd
 * still has data you have not read.
 * Returns the ready subset of events (> 0), -ECANCELED, -ETIMEDOUT, -EBADF
 * if fd was forgotten/closed while waiting (or is invalid), -EPERM outside
 * a task, -EBUSY if another task already waits on that direction of fd (at
 * most one per direction), or the error of registering fd (-EPERM for
 * regular files, which epoll does not support), -EINVAL if events is 0.
 * May suspend. */
CIO_API int cio_wait_fd(int fd, int events);

/* Drop fd from the reactor before closing it: waiters are woken with -EBADF.
 * Call before close() on any fd that was waited on (cio_close does both):
 * otherwise a new fd that reuses the number is never registered and its
 * waits hang. Never suspends. */
CIO_API void cio_fd_forget(int fd);
/* cio_fd_forget(fd) + close(fd). Returns close's result (0 or -errno;
 * -EBADF for fd < 0). Never suspends. */
CIO_API int cio_close(int fd);

/* A cio_select case (cio/select.h): fd is ready for one of `events`
 * (CIO_READABLE and/or CIO_WRITABLE), as cio_wait_fd(fd, events) would
 * return. When it completes, .status is the ready subset of events (> 0;
 * like cio_wait_fd's, a readiness may be stale: retry the operation, and
 * on EAGAIN select again), or -EBADF when fd is forgotten or closed
 * (cio_fd_forget, cio_close) during the select or is negative, -EINVAL
 * (events 0), -EBUSY (another task waits on that direction of fd, or
 * another case of the same select does), or the error of registering fd
 * (-EPERM for regular files). The rules of cio_wait_fd hold: fd must be
 * non-blocking, and select on it only after an operation said EAGAIN.
 * fd and events are read by cio_select. Never suspends (cio_select does). */
CIO_API cio_case cio_case_fd(int fd, int events);

/* Raw non-blocking I/O on any fd with the task's cancellation and timeouts:
 * read up to n bytes (0 at EOF), write all n bytes (returns n, or an error:
 * -EPIPE / -ECONNRESET...; on error after a partial write the count is lost,
 * use the stream layer for that). buf is borrowed for the call. May
 * suspend. */
CIO_API ssize_t cio_read(int fd, void *buf, size_t n);
CIO_API ssize_t cio_write_all(int fd, const void *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
