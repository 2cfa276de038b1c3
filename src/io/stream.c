/* stream.c - buffered streams: lifetime, the transport, closing, addresses.
 * How input and output work is in stream_internal.h; the calls are in
 * stream_read.c, stream_write.c and stream_sendfile.c. */
#include "stream_internal.h"
#include "os_internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- lifetime ---- */

static cio_stream *stream_alloc(int fd, const cio_stream_opts *o, int is_sock, int short_ok) {
  cio_stream *s = cio__calloc(1, sizeof *s);
  if (!s) {
    errno = ENOMEM;
    return NULL;
  }
  s->fd = fd;
  s->is_sock = (uint8_t)is_sock;
  s->short_ok = (uint8_t)short_ok;
  s->rd_maybe = 1;
  s->rwant = CIO_READABLE;
  size_t rcap = o && o->read_buffer ? o->read_buffer : DEFAULT_BUF;
  s->rcap = rcap < MIN_BUF ? MIN_BUF : rcap;
  /* Reading straight into the caller's buffer saves a copy but may cost
   * more reads; worth it when the caller asks for a good part of what one
   * buffered read would get. */
  s->direct_min = s->rcap / 4;
  s->limit = o && o->limit ? o->limit : DEFAULT_BUF;
  s->high = o && o->high_water ? o->high_water : DEFAULT_BUF;
  s->low = o && o->low_water ? o->low_water : s->high / 4;
  if (s->low > s->high) s->low = s->high;
  return s;
}

static int set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return -errno;
  if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -errno;
  return 0;
}

cio_stream *cio_stream_new(int fd, const cio_stream_opts *opts) {
  if (fd < 0) {
    errno = EINVAL;
    return NULL;
  }
  int r = set_nonblock(fd);
  if (r < 0) {
    errno = -r;
    return NULL;
  }
  int type;
  socklen_t tl = sizeof type;
  int is_sock = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0;
  int short_ok = is_sock && type == SOCK_STREAM;
  if (!is_sock) {
    struct stat st;
    short_ok = fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
    /* Sockets are written with MSG_NOSIGNAL; a pipe whose reader is gone
     * must fail with EPIPE too, not kill the process. */
    cio__signal_ignore_sigpipe();
  }
  return stream_alloc(fd, opts, is_sock, short_ok);
}

cio_stream *cio__stream_new_socket(int fd, const cio_stream_opts *opts) {
  return stream_alloc(fd, opts, 1, 1);
}

void cio__stream_free_mem(cio_stream *s) {
  if (s->skip_delim != s->skip_small) cio__free(s->skip_delim);
  cio__free(s->rbuf);
  cio__free(s->wbuf);
  cio__free(s);
}

/* Close the transport and the fd now; wake everyone. */
void cio__stream_finish_close(cio_stream *s) {
  if (s->state == ST_CLOSED) return;
  s->state = ST_CLOSED;
  if (s->tops) {
    if (s->tops->shutdown && !s->wshut && !s->werr) {
      int want = 0;
      (void)s->tops->shutdown(s->tctx, s->fd, &want); /* best effort, no wait */
    }
    if (s->tops->close) s->tops->close(s->tctx);
    s->tops = NULL;
  }
  if (s->flush_armed) {
    cio__fd_unwatch(s->fd, CIO_READABLE);
    cio__fd_unwatch(s->fd, CIO_WRITABLE);
    s->flush_armed = 0;
  }
  cio_close(s->fd); /* forgetting it wakes a reader with -EBADF */
  s->fd = -1;
  s->wpos = s->wend = 0;
  cio__stream_wake(&s->wwaiter, -EBADF);
  cio__stream_wake(&s->cwaiter, s->close_err);
}

/* ---- closing ---- */

int cio_stream_close(cio_stream *s) {
  if (s->state != ST_OPEN) return 0;
  s->state = ST_CLOSING;
  if (cio__stream_pending(s) && !s->werr) {
    cio__stream_pump(s); /* finishes the close itself, now or once all is out */
    return s->state == ST_CLOSED ? s->close_err : 0;
  }
  cio__stream_finish_close(s);
  return 0;
}

int cio_stream_wait_closed(cio_stream *s) {
  int r = cio__io_checkpoint();
  if (r < 0) return r;
  if (s->state == ST_CLOSED) return s->close_err;
  if (s->cwaiter && cio_task_get_state(s->cwaiter) == CIO_TASK_WAITING) return -EBUSY;
  s->cwaiter = cio_current();
  s->users++;
  r = cio_suspend("stream close");
  if (s->cwaiter == cio_current()) s->cwaiter = NULL;
  return (int)cio__stream_leave(s, r);
}

void cio_stream_free(cio_stream *s) {
  if (!s) return;
  s->wpos = s->wend = 0; /* dropped */
  cio__stream_finish_close(s);
  s->freed = 1;
  if (s->users == 0) cio__stream_free_mem(s);
}

/* ---- addresses ---- */

int cio_stream_peername(cio_stream *s, struct sockaddr_storage *addr, socklen_t *len) {
  *len = sizeof *addr;
  return getpeername(s->fd, (struct sockaddr *)addr, len) < 0 ? -errno : 0;
}

int cio_stream_sockname(cio_stream *s, struct sockaddr_storage *addr, socklen_t *len) {
  *len = sizeof *addr;
  return getsockname(s->fd, (struct sockaddr *)addr, len) < 0 ? -errno : 0;
}

int cio_stream_peer_string(cio_stream *s, char *buf, size_t cap) {
  struct sockaddr_storage ss;
  socklen_t len;
  int r = cio_stream_peername(s, &ss, &len);
  if (r < 0) return r;
  return cio__addr_string((struct sockaddr *)&ss, len, buf, cap);
}

int cio_stream_fd(const cio_stream *s) { return s->fd; }

uint64_t cio__stream_rx_bytes(const cio_stream *s) { return s->rx; }
uint64_t cio__stream_tx_bytes(const cio_stream *s) { return s->tx; }

/* ---- transports ---- */

int cio_stream_set_transport(cio_stream *s, const cio_transport_ops *ops, void *ctx) {
  if (s->state != ST_OPEN) return -EBADF;
  if (s->rend > s->rpos || cio__stream_pending(s) || s->flush_armed) return -EBUSY;
  if (ops && (!ops->read || !ops->write)) return -EINVAL;
  if (s->tops && s->tops->close) s->tops->close(s->tctx);
  s->tops = ops;
  s->tctx = ops ? ctx : NULL;
  s->rd_maybe = 1;
  s->rwant = CIO_READABLE;
  return 0;
}
