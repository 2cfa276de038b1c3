/* stream_sendfile.c - sending a file's bytes on a stream: sendfile(2) on a
 * plain socket, pread into the output buffer elsewhere (TLS, pipes). */
#include "stream_internal.h"
#include "os_internal.h"

#include <sys/sendfile.h>

#define FILE_CHUNK   (64u * 1024u) /* the copying path: one pread */
#define SENDFILE_MAX 0x7ffff000u   /* the most one sendfile(2) moves */

/* ---- sendfile ---- */

/* errno values from sendfile(2) that are the socket's, not the file's. */
static int is_conn_error(int e) {
  return e == EPIPE || e == ECONNRESET || e == ENOTCONN || e == ETIMEDOUT || e == ECONNABORTED ||
         e == EHOSTUNREACH || e == ENETUNREACH || e == ENETDOWN;
}

/* A plain socket: the kernel copies from the page cache. Returns the count
 * sent, an error, or -ENOSYS (before sending anything) when this fd pair
 * cannot use sendfile(2): the caller copies instead. */
static ssize_t sendfile_kernel(cio_stream *s, int fd, off_t offset, size_t count, size_t *sent) {
  off_t off = offset;
  cio__signal_ignore_sigpipe(); /* sendfile has no MSG_NOSIGNAL */
  while (*sent < count) {
    size_t chunk = count - *sent < SENDFILE_MAX ? count - *sent : SENDFILE_MAX;
    ssize_t w = cio__fault_errno(CIO__FAULT_WRITE) ? -1 : sendfile(s->fd, fd, &off, chunk);
    if (w > 0) {
      *sent += (size_t)w;
      s->tx += (uint64_t)w;
      /* A peer that always takes more must not starve the loop. */
      int r = *sent < count ? cio__io_checkpoint() : 0;
      if (r < 0) return r;
      if (s->state != ST_OPEN) return -EBADF;
      continue;
    }
    if (w == 0) break; /* the file ended */
    int e = errno;
    if (e == EINTR) continue;
    if (e == EAGAIN) {
      int r = cio_wait_fd(s->fd, CIO_WRITABLE);
      if (r < 0) return r;
      if (s->state != ST_OPEN) return -EBADF;
      continue;
    }
    if ((e == EINVAL || e == ENOSYS) && *sent == 0) return -ENOSYS;
    if (is_conn_error(e)) s->werr = -e;
    return -e;
  }
  return (ssize_t)*sent;
}

/* TLS, pipes and the rest: pread into the output buffer and send it from
 * there, holding at most about high_water + one chunk. */
static ssize_t sendfile_copy(cio_stream *s, int fd, off_t offset, size_t count, size_t *sent) {
  while (*sent < count) {
    size_t chunk = count - *sent < FILE_CHUNK ? count - *sent : FILE_CHUNK;
    char *d = cio__stream_wroom(s, chunk);
    if (!d) return -ENOMEM;
    ssize_t n = pread(fd, d, chunk, offset + (off_t)*sent);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) break; /* the file ended */
    s->wend += (size_t)n;
    *sent += (size_t)n;
    if (!s->flush_armed) cio__stream_pump(s);
    if (s->werr) return s->werr;
    int r = cio__stream_pending(s) > s->high ? cio__stream_wait_output(s, s->low, "stream sendfile")
                                             : cio__io_checkpoint();
    if (r < 0) return r;
    if (s->state != ST_OPEN) return -EBADF;
  }
  return (ssize_t)*sent;
}

static ssize_t do_sendfile(cio_stream *s, int fd, off_t offset, size_t count, size_t *sent) {
  int r = cio__stream_wait_output(s, 0, "stream sendfile"); /* what is queued goes first */
  if (r < 0) return r;
  if (s->state != ST_OPEN) return -EBADF;
  if (s->werr) return s->werr;
  if (count == 0) return 0;
  if (!s->tops && s->is_sock) {
    ssize_t w = sendfile_kernel(s, fd, offset, count, sent);
    if (w != -ENOSYS) return w;
  }
  return sendfile_copy(s, fd, offset, count, sent);
}

ssize_t cio_stream_sendfile(cio_stream *s, int fd, off_t offset, size_t count, size_t *sent) {
  size_t dummy;
  if (!sent) sent = &dummy;
  *sent = 0;
  if (fd < 0) return -EBADF;
  if (offset < 0) return -EINVAL;
  int r = cio__stream_can_write(s);
  if (r < 0) return r;
  if (s->wwaiter && cio_task_get_state(s->wwaiter) == CIO_TASK_WAITING) return -EBUSY;
  s->wbusy = 1;
  s->users++;
  ssize_t w = do_sendfile(s, fd, offset, count, sent);
  s->wbusy = 0;
  return cio__stream_leave(s, w);
}
