/* udp.c - datagram sockets: every call tries the system call first and waits
 * in the reactor only on EAGAIN. */
#include "io_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* users: tasks suspended in a call. Closing or freeing wakes them with
 * -EBADF (cio_close forgets the fd) but a task woken for readiness just
 * before may still run: it checks fd on its way out, and the last one
 * frees a freed socket's memory. */
struct cio_udp {
  int fd;
  unsigned users;
  bool freed;
};

/* Wait for fd's direction as a user of u. 0, or -EBADF when u was closed
 * or freed meanwhile (then u may be gone), or the wait's error. */
static int udp_wait(cio_udp *u, int dir) {
  u->users++;
  int r = cio_wait_fd(u->fd, dir);
  if (--u->users == 0 && u->freed) {
    cio__free(u);
    return -EBADF;
  }
  if (u->fd < 0) return -EBADF;
  return r < 0 ? r : 0;
}

static int bind_or_connect(int fd, const struct addrinfo *ai, int do_connect) {
  if (do_connect) return connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 ? -errno : 0;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  return bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ? -errno : 0;
}

/* Open a socket bound to the first local address that works (of a family
 * the remote has, when one is given) and connected to the remote. */
static int udp_socket(const char *host, int port, const char *rhost, int rport) {
  struct addrinfo *local = NULL, *remote = NULL;
  int r = 0;
  if (rhost) r = cio__resolve(rhost, rport, AF_UNSPEC, SOCK_DGRAM, 0, &remote);
  if (r < 0) return r;
  int family = remote ? remote->ai_family : AF_UNSPEC;
  if (host || port || !remote) {
    r = cio__resolve(host, port, family, SOCK_DGRAM, 1, &local);
    if (r < 0) {
      cio__resolve_free(remote);
      return r;
    }
  }
  int fd = -1;
  r = -EADDRNOTAVAIL;
  for (const struct addrinfo *ai = local ? local : remote; ai && fd < 0; ai = ai->ai_next) {
    const struct addrinfo *peer = local ? remote : ai;
    while (peer && peer->ai_family != ai->ai_family) peer = peer->ai_next;
    if (remote && !peer) continue;
    fd = cio__fault_errno(CIO__FAULT_SOCKET)
             ? -1
             : socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      r = -errno;
      continue;
    }
    r = local ? bind_or_connect(fd, ai, 0) : 0;
    if (r >= 0 && peer) r = bind_or_connect(fd, peer, 1);
    if (r < 0) {
      close(fd);
      fd = -1;
    }
  }
  cio__resolve_free(local);
  cio__resolve_free(remote);
  return fd >= 0 ? fd : r;
}

int cio_udp_open(const char *host, int port, const char *remote_host, int remote_port,
                 cio_udp **out) {
  if (!out) return -EINVAL;
  *out = NULL;
  if (port < 0 || port > 65535 || remote_port < 0 || remote_port > 65535) return -EINVAL;
  int fd = cio__io_checkpoint();
  if (fd < 0) return fd;
  fd = udp_socket(host, port, remote_host, remote_port);
  if (fd < 0) return fd;
  cio_udp *u = cio__malloc(sizeof *u);
  if (!u) {
    close(fd);
    return -ENOMEM;
  }
  u->fd = fd;
  u->users = 0;
  u->freed = false;
  *out = u;
  return 0;
}

ssize_t cio_udp_sendto(cio_udp *u, const void *buf, size_t n, const struct sockaddr *addr,
                       socklen_t alen) {
  if (u->fd < 0) return -EBADF;
  int r = cio__io_checkpoint();
  if (r < 0) return r;
  for (;;) {
    ssize_t w = cio__fault_errno(CIO__FAULT_WRITE) ? -1
                : addr                             ? sendto(u->fd, buf, n, MSG_NOSIGNAL, addr, alen)
                                                   : send(u->fd, buf, n, MSG_NOSIGNAL);
    if (w >= 0) return w;
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return -errno;
    r = udp_wait(u, CIO_WRITABLE);
    if (r < 0) return r;
  }
}

ssize_t cio_udp_recvfrom(cio_udp *u, void *buf, size_t cap, struct sockaddr_storage *addr,
                         socklen_t *alen) {
  if (u->fd < 0) return -EBADF;
  int r = cio__io_checkpoint();
  if (r < 0) return r;
  for (;;) {
    socklen_t len = sizeof *addr;
    ssize_t got = cio__fault_errno(CIO__FAULT_READ)
                      ? -1
                      : recvfrom(u->fd, buf, cap, 0, (struct sockaddr *)addr, addr ? &len : NULL);
    if (got >= 0) {
      if (alen) *alen = addr ? len : 0;
      return got;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return -errno;
    r = udp_wait(u, CIO_READABLE);
    if (r < 0) return r;
  }
}

int cio_udp_sockname(cio_udp *u, struct sockaddr_storage *addr, socklen_t *len) {
  if (u->fd < 0) return -EBADF;
  *len = sizeof *addr;
  return getsockname(u->fd, (struct sockaddr *)addr, len) < 0 ? -errno : 0;
}

int cio_udp_fd(const cio_udp *u) { return u->fd; }

int cio_udp_close(cio_udp *u) {
  if (u->fd < 0) return 0;
  int r = cio_close(u->fd);
  u->fd = -1;
  return r;
}

void cio_udp_free(cio_udp *u) {
  if (!u) return;
  cio_udp_close(u);
  u->freed = true;
  if (u->users == 0) cio__free(u);
}
