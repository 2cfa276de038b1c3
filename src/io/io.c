/* io.c - the public calls of cio/io.h: installing the reactor, waiting for
 * an fd, forgetting and closing one, raw non-blocking reads and writes. The
 * fd table behind them is reactor.c; the kernel interface reactor_epoll.c.
 */
#include "io_internal.h"

#include <errno.h>
#include <unistd.h>

int cio_io_init(cio_loop *loop) {
  if (!loop || loop != cio_loop_current()) return -EINVAL;
  return cio__reactor_init(loop);
}

/* The wait path itself is the fd table's (reactor.c); a tail call. */
int cio_wait_fd(int fd, int events) { return cio__fd_wait(fd, events); }

void cio_fd_forget(int fd) { cio__fd_forget(fd); }

ssize_t cio_read(int fd, void *buf, size_t n) {
  int r = cio__io_checkpoint();
  if (r < 0) return r;
  for (;;) {
    ssize_t got = read(fd, buf, n);
    if (got >= 0) return got;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -errno;
    r = cio_wait_fd(fd, CIO_READABLE);
    if (r < 0) return r;
  }
}

ssize_t cio_write_all(int fd, const void *buf, size_t n) {
  int r = cio__io_checkpoint();
  if (r < 0) return r;
  const char *p = buf;
  size_t left = n;
  bool sock = true; /* send(MSG_NOSIGNAL): a closed peer is -EPIPE, not SIGPIPE */
  while (left > 0) {
    ssize_t w = sock ? send(fd, p, left, MSG_NOSIGNAL) : write(fd, p, left);
    if (w < 0 && sock && errno == ENOTSOCK) {
      sock = false;
      continue;
    }
    if (w >= 0) {
      p += w;
      left -= (size_t)w;
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -errno;
    r = cio_wait_fd(fd, CIO_WRITABLE);
    if (r < 0) return r;
  }
  return (ssize_t)n;
}

int cio_close(int fd) {
  if (fd < 0) return -EBADF;
  cio_fd_forget(fd);
  /* Linux releases the fd even when close reports an error: never retry. */
  return close(fd) < 0 && errno != EINTR ? -errno : 0;
}
