/* reactor_epoll.c - the reactor's Linux backend: one epoll instance per loop.
 *
 * Every fd is added once, edge-triggered (EPOLLET) for both directions and
 * for half-closes (EPOLLRDHUP), so there is no epoll_ctl per wait and arm is
 * a no-op. Sub-millisecond timeouts use epoll_pwait2 where the kernel has it
 * (Linux 5.11+), else they are rounded up to whole milliseconds. See
 * reactor_backend.h for the contract.
 */
#include "reactor_backend.h"

#include "cio/io.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct cio__backend {
  int epfd;
  struct epoll_event ev[CIO__BACKEND_MAX_EVENTS];
};

static _Thread_local int have_pwait2 = 1; /* cleared on ENOSYS */

int cio__backend_open(int wake_fd, uint64_t wake_data, cio__backend **out) {
  *out = NULL;
  cio__backend *b = malloc(sizeof *b);
  if (!b) return -ENOMEM;
  b->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (b->epfd < 0) {
    int err = -errno;
    free(b);
    return err;
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = wake_data};
  if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, wake_fd, &ev) < 0) {
    int err = -errno;
    cio__backend_close(b);
    return err;
  }
  *out = b;
  return 0;
}

void cio__backend_close(cio__backend *b) {
  close(b->epfd);
  free(b);
}

int cio__backend_add(cio__backend *b, int fd, uint64_t data) {
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.u64 = data};
  if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev) == 0) return 0;
  /* Forgotten but never closed: still in the set under older data. */
  if (errno != EEXIST || epoll_ctl(b->epfd, EPOLL_CTL_MOD, fd, &ev) < 0) return -errno;
  return 0;
}

void cio__backend_arm(cio__backend *b, int fd, uint64_t data, unsigned dirs) {
  (void)b, (void)fd, (void)data, (void)dirs; /* edge-triggered: always watching */
}

static int wait_ns(cio__backend *b, int64_t timeout_ns, int max) {
  if (timeout_ns <= 0) return epoll_wait(b->epfd, b->ev, max, timeout_ns < 0 ? -1 : 0);
#ifdef SYS_epoll_pwait2
  if (have_pwait2) {
    struct timespec ts = {.tv_sec = (time_t)(timeout_ns / 1000000000),
                          .tv_nsec = (long)(timeout_ns % 1000000000)};
    int n = (int)syscall(SYS_epoll_pwait2, b->epfd, b->ev, max, &ts, NULL, (size_t)8);
    if (n >= 0 || errno != ENOSYS) return n;
    have_pwait2 = 0;
  }
#endif
  /* Round up: waking early would only spin the loop until the timer is due. */
  int64_t ms = (timeout_ns + 999999) / 1000000;
  return epoll_wait(b->epfd, b->ev, max, ms > INT32_MAX ? INT32_MAX : (int)ms);
}

int cio__backend_poll(cio__backend *b, int64_t timeout_ns, cio__ioevent *ev, int max) {
  if (max > CIO__BACKEND_MAX_EVENTS) max = CIO__BACKEND_MAX_EVENTS;
  int n = wait_ns(b, timeout_ns, max);
  if (n < 0) return errno == EINTR ? 0 : -errno;
  for (int i = 0; i < n; i++) {
    uint32_t e = b->ev[i].events;
    ev[i].data = b->ev[i].data.u64;
    ev[i].bits = ((e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) ? CIO__EV_READ : 0) |
                 ((e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) ? CIO__EV_WRITE : 0) |
                 ((e & EPOLLRDHUP) ? CIO__EV_RDHUP : 0) | ((e & EPOLLHUP) ? CIO__EV_HUP : 0);
  }
  return n;
}
