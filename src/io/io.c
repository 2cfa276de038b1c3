/* io.c - the public calls of cio/io.h: installing the reactor, waiting for
 * an fd, forgetting and closing one, raw non-blocking reads and writes. The
 * fd table behind them is reactor.c; the kernel interface reactor_epoll.c.
 */
#include "io_internal.h"

#include <errno.h>
#include <string.h>
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
    ssize_t got = cio__fault_errno(CIO__FAULT_READ) ? -1 : read(fd, buf, n);
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
    size_t len = cio__fault_short(left);
    ssize_t w = cio__fault_errno(CIO__FAULT_WRITE) ? -1
                : sock                             ? send(fd, p, len, MSG_NOSIGNAL)
                                                   : write(fd, p, len);
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

/* ---- the select case ---- */

typedef struct fd_case {
  cio_task *task;
  uint32_t gen;
} fd_case;

static fd_case *fd_case_of(cio_case *c) {
  _Static_assert(sizeof(fd_case) <= sizeof c->priv, "cio_case.priv too small");
  return (fd_case *)(void *)c->priv;
}

static int fd_case_events(const cio_case *c) { return c->events & (CIO_READABLE | CIO_WRITABLE); }

static int fd_case_try(cio_case *c) {
  if (c->fd < 0) return c->status = -EBADF;
  if (!fd_case_events(c)) return c->status = -EINVAL;
  int r = cio__fd_take(c->fd, fd_case_events(c));
  if (r <= 0) return 0;
  c->status = r;
  return 1;
}

static int fd_case_arm(cio_case *c, cio_task *t, int code) {
  fd_case *f = fd_case_of(c);
  f->task = t;
  return cio__fd_arm(c->fd, fd_case_events(c), t, code, &f->gen);
}

static void fd_case_disarm(cio_case *c) {
  fd_case *f = fd_case_of(c);
  cio__fd_disarm(c->fd, fd_case_events(c), f->task, f->gen);
}

static int fd_case_finish(cio_case *c) {
  fd_case *f = fd_case_of(c);
  if (cio__fd_gen(c->fd) != f->gen) {
    c->status = -EBADF; /* forgotten or closed while we waited */
    return 0;
  }
  int r = cio__fd_take(c->fd, fd_case_events(c));
  /* Woken, yet nothing left to take: a callback on the same fd consumed
   * the report. The fd was ready: say so (the caller retries anyway). */
  c->status = r > 0 ? r : fd_case_events(c);
  return 0;
}

static const cio_case_ops fd_case_ops = {fd_case_try, fd_case_arm, fd_case_disarm, fd_case_finish};

cio_case cio_case_fd(int fd, int events) {
  cio_case c;
  memset(&c, 0, sizeof c);
  c.ops = &fd_case_ops;
  c.fd = fd;
  c.events = events;
  return c;
}
