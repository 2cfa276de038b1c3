/* reactor_epoll.c - the reactor's Linux backend: one epoll instance per
 * loop. Included by reactor.c (see reactor_backend.h), not compiled alone.
 *
 * Every fd is added once, edge-triggered (EPOLLET) for both directions and
 * for half-closes (EPOLLRDHUP), so there is no epoll_ctl per wait and arm is
 * empty. Sub-millisecond timeouts use epoll_pwait2 where the kernel has it
 * (Linux 5.11+), else they are rounded up to whole milliseconds.
 */
#include "reactor_backend.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define EPOLL_MAX_EVENTS 512

struct cio__backend {
  int epfd;
  struct epoll_event ev[EPOLL_MAX_EVENTS];
};

static _Thread_local int have_pwait2 = 1; /* cleared on ENOSYS */

static int backend_open(int wake_fd, uint64_t wake_data, cio__backend **out) {
  *out = NULL;
  cio__backend *b = cio__malloc(sizeof *b);
  if (!b) return -ENOMEM;
  b->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (b->epfd < 0) {
    int err = -errno;
    cio__free(b);
    return err;
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = wake_data};
  if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, wake_fd, &ev) < 0) {
    int err = -errno;
    backend_close(b);
    return err;
  }
  *out = b;
  return 0;
}

static void backend_close(cio__backend *b) {
  close(b->epfd);
  cio__free(b);
}

static int backend_add(cio__backend *b, int fd, uint64_t data) {
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.u64 = data};
  if (cio__fault_errno(CIO__FAULT_EPOLL)) return -errno;
  if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev) == 0) return 0;
  /* Forgotten but never closed: still in the set under older data. */
  if (errno != EEXIST || epoll_ctl(b->epfd, EPOLL_CTL_MOD, fd, &ev) < 0) return -errno;
  return 0;
}

static inline void backend_arm(cio__backend *b, int fd, uint64_t data, unsigned dirs) {
  (void)b, (void)fd, (void)data, (void)dirs; /* edge-triggered: always watching */
}

static int backend_poll(cio__backend *b, int64_t timeout_ns) {
  int n;
  if (timeout_ns <= 0) {
    n = epoll_wait(b->epfd, b->ev, EPOLL_MAX_EVENTS, timeout_ns < 0 ? -1 : 0);
  } else {
    n = -1;
    errno = ENOSYS;
#ifdef SYS_epoll_pwait2
    if (have_pwait2) {
      struct timespec ts = {.tv_sec = (time_t)(timeout_ns / 1000000000),
                            .tv_nsec = (long)(timeout_ns % 1000000000)};
      n = (int)syscall(SYS_epoll_pwait2, b->epfd, b->ev, EPOLL_MAX_EVENTS, &ts, NULL, (size_t)8);
      if (n < 0 && errno == ENOSYS) have_pwait2 = 0;
    }
#endif
    if (n < 0 && errno == ENOSYS) {
      /* Round up: waking early would only spin the loop until the timer is
       * due. */
      int64_t ms = (timeout_ns + 999999) / 1000000;
      n = epoll_wait(b->epfd, b->ev, EPOLL_MAX_EVENTS, ms > INT32_MAX ? INT32_MAX : (int)ms);
    }
  }
  if (n < 0) return errno == EINTR ? 0 : -errno;
  return n;
}

_Static_assert(EPOLLIN == CIO__EV_READ && EPOLLOUT >> 1 == CIO__EV_WRITE,
               "the common case is two shifts and masks");

static inline unsigned backend_report(const cio__backend *b, int i, uint64_t *data) {
  uint32_t e = b->ev[i].events;
  *data = b->ev[i].data.u64;
  if (__builtin_expect(!(e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)), 1))
    return (e & EPOLLIN) | ((e & EPOLLOUT) >> 1);
  return ((e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) ? CIO__EV_READ : 0) |
         ((e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) ? CIO__EV_WRITE : 0) |
         ((e & EPOLLRDHUP) ? CIO__EV_RDHUP : 0) | ((e & EPOLLHUP) ? CIO__EV_HUP : 0);
}
