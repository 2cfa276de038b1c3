/* echo_epoll - a minimal hand-written epoll echo server: the practical limit
 * for one thread on one core, against which cio's echo server is measured.
 *
 *   echo_epoll            listens on 127.0.0.1, any port; prints "port N"
 *
 * Each fd is registered once (level-triggered, EPOLLIN). A readable event
 * costs one read() and one write() of what was read: the two system calls an
 * echo cannot avoid. Output that the socket does not take at once (never on
 * loopback at these sizes, but possible) is kept and sent on EPOLLOUT, with
 * reading paused meanwhile, so memory stays bounded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE 16384

struct conn {
  int fd;
  size_t off, len; /* unsent output: buf[off..len) */
  char buf[BUF_SIZE];
};

static int ep;

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void drop(struct conn *c) {
  close(c->fd); /* also removes it from the epoll set */
  free(c);
}

static void on_accept(int lfd) {
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == ECONNABORTED || errno == EINTR) return;
      perror("accept4");
      return; /* EMFILE etc.: leave it in the backlog for now */
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct conn *c = malloc(sizeof *c);
    if (!c) {
      close(fd);
      continue;
    }
    c->fd = fd;
    c->off = c->len = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) drop(c);
  }
}

/* Send buf[off..len). Returns 0 when all is sent, 1 when the socket is full,
 * -1 on error. */
static int flush(struct conn *c) {
  while (c->off < c->len) {
    ssize_t n = write(c->fd, c->buf + c->off, c->len - c->off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN ? 1 : -1;
    }
    c->off += (size_t)n;
  }
  c->off = c->len = 0;
  return 0;
}

static void watch(struct conn *c, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) drop(c);
}

static void on_event(struct conn *c) {
  if (c->len > 0) {
    /* Waiting for room: finish the pending write, then read again. */
    int r = flush(c);
    if (r < 0)
      drop(c);
    else if (r == 0)
      watch(c, EPOLLIN);
    return;
  }
  ssize_t n = read(c->fd, c->buf, BUF_SIZE);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    drop(c); /* EOF or error */
    return;
  }
  c->len = (size_t)n;
  int r = flush(c);
  if (r < 0)
    drop(c);
  else if (r == 1)
    watch(c, EPOLLOUT);
}

int main(void) {
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof addr;
  int one = 1;
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lfd < 0) die("socket");
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 4096) < 0 ||
      getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0)
    die("bind/listen");
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) < 0) die("epoll_ctl");
  printf("port %d\n", ntohs(addr.sin_port));
  fflush(stdout);

  struct epoll_event evs[256];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      if (evs[i].data.ptr == NULL)
        on_accept(lfd);
      else
        on_event(evs[i].data.ptr);
    }
  }
}
