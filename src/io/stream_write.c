/* stream_write.c - the stream's output: the background flush, write,
 * writev, drain, flush and the half-close (see stream_internal.h). */
#include "stream_internal.h"

#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

/* ---- output ---- */

static void on_ready_to_flush(void *arg, int res);

/* Write what the transport takes. Returns 0 when all is out, -EAGAIN with
 * *want set when it would block, or the (recorded) error. */
static int flush_some(cio_stream *s, int *want) {
  while (s->wend > s->wpos) {
    ssize_t w = cio__stream_t_write(s, s->wbuf + s->wpos, s->wend - s->wpos, want);
    if (w > 0) {
      s->wpos += (size_t)w;
      continue; /* a short count is not "full": only -EAGAIN is */
    }
    if (w == -EAGAIN) return -EAGAIN;
    s->werr = w < 0 ? (int)w : -EPIPE;
    s->wpos = s->wend = 0; /* nobody will take it now */
    return s->werr;
  }
  s->wpos = s->wend = 0;
  return 0;
}

/* Push output and arm the reactor for the rest; then tell waiters. Never
 * suspends (runs in tasks and in reactor callbacks). */
void cio__stream_pump(cio_stream *s) {
  int want = CIO_WRITABLE;
  for (;;) {
    int r = flush_some(s, &want);
    if (r != -EAGAIN) break;
    r = cio__fd_watch(s->fd, want, on_ready_to_flush, s);
    if (r == 1) continue; /* already reported ready: try again now */
    if (r < 0) {
      s->werr = r;
      s->wpos = s->wend = 0;
    } else {
      s->flush_armed = 1;
    }
    break;
  }
  if (s->wwaiter && (s->werr || cio__stream_pending(s) <= s->wtarget))
    cio__stream_wake(&s->wwaiter, s->werr);
  if (s->state == ST_CLOSING && (s->werr || !cio__stream_pending(s))) {
    s->close_err = s->werr;
    cio__stream_finish_close(s);
  }
}

static void on_ready_to_flush(void *arg, int res) {
  cio_stream *s = arg;
  (void)res;
  s->flush_armed = 0;
  cio__stream_pump(s);
}

/* Output is queued and the transport said it would block (a plain fd: took
 * less than it was given): have the reactor call back when it may go on.
 * Returns 0 or the (recorded) error. */
static int arm_flush(cio_stream *s, int want) {
  int r = cio__fd_watch(s->fd, want, on_ready_to_flush, s);
  if (r == 1) {
    cio__stream_pump(s); /* readiness already reported: go on now */
  } else if (r < 0) {
    s->werr = r;
    return r;
  } else {
    s->flush_armed = 1;
  }
  return 0;
}

/* Room for n more bytes at the end of the output buffer (moving what is
 * queued to the front, or growing); NULL when out of memory. */
char *cio__stream_wroom(cio_stream *s, size_t n) {
  size_t have = cio__stream_pending(s);
  if (s->wend + n > s->wcap) {
    if (have + n <= s->wcap) {
      memmove(s->wbuf, s->wbuf + s->wpos, have);
    } else {
      if (n > SIZE_MAX / 4 - have) return NULL;
      size_t cap = s->wcap ? s->wcap : 4096;
      while (cap < have + n) cap *= 2;
      char *b = cio__malloc(cap);
      if (!b) return NULL;
      if (have) memcpy(b, s->wbuf + s->wpos, have);
      cio__free(s->wbuf);
      s->wbuf = b;
      s->wcap = cap;
    }
    s->wpos = 0;
    s->wend = have;
  }
  return s->wbuf + s->wend;
}

static int append(cio_stream *s, const char *buf, size_t n) {
  char *d = cio__stream_wroom(s, n);
  if (!d) return -ENOMEM;
  memcpy(d, buf, n);
  s->wend += n;
  return 0;
}

/* Hand p[0..n) to the transport now (nothing is queued). Returns the count
 * taken, with *want set when it is less than n, or an error. A plain fd is
 * asked once: a short count means its kernel buffer is full. A transport
 * is asked again after a short count, until it takes everything or says
 * -EAGAIN: that alone promises an edge. */
static ssize_t write_now(cio_stream *s, const char *p, size_t n, int *want) {
  size_t done = 0;
  for (;;) {
    ssize_t w = cio__stream_t_write(s, p + done, n - done, want);
    if (w > 0) {
      done += (size_t)w;
      if (done == n || !s->tops) return (ssize_t)done;
      continue;
    }
    if (w == -EAGAIN) return (ssize_t)done;
    return w < 0 ? w : -EPIPE;
  }
}

/* The checks every call that adds output makes. */
int cio__stream_can_write(const cio_stream *s) {
  if (CIO_UNLIKELY(s->state != ST_OPEN)) return -EBADF;
  if (CIO_UNLIKELY(s->werr)) return s->werr;
  if (CIO_UNLIKELY(s->wshut)) return -EPIPE;
  if (CIO_UNLIKELY(s->wbusy)) return -EBUSY;
  return 0;
}

int cio_stream_write(cio_stream *s, const void *buf, size_t n) {
  int r = cio__stream_can_write(s);
  if (r < 0) return r;
  if (n == 0) return 0;
  const char *p = buf;
  if (cio__stream_pending(s) || s->flush_armed) return append(s, p, n);
  int want;
  ssize_t w = write_now(s, p, n, &want);
  if ((size_t)w == n) return 0;
  if (w < 0) {
    s->werr = (int)w;
    return (int)w;
  }
  if ((r = append(s, p + w, n - (size_t)w)) < 0) {
    if (w > 0) s->werr = r; /* a gap in the output: nothing after it may go */
    return r;
  }
  return arm_flush(s, want);
}

/* Copy iov[i..) into the output buffer, the first piece from offset off. */
static int append_iov(cio_stream *s, const struct iovec *iov, size_t iovcnt, size_t i, size_t off,
                      size_t left) {
  char *d = cio__stream_wroom(s, left);
  if (!d) return -ENOMEM;
  for (; i < iovcnt; i++, off = 0) {
    size_t k = iov[i].iov_len - off;
    if (k) memcpy(d, (const char *)iov[i].iov_base + off, k);
    d += k;
  }
  s->wend += left;
  return 0;
}

/* One gather write of iov[0..cnt) to a plain fd. */
static ssize_t writev_fd(cio_stream *s, const struct iovec *iov, int cnt) {
  for (;;) {
    ssize_t w;
    if (cio__fault_errno(CIO__FAULT_WRITE)) {
      w = -1;
    } else if (s->is_sock) {
      struct msghdr m = {.msg_iov = (struct iovec *)(uintptr_t)iov, .msg_iovlen = (size_t)cnt};
      w = sendmsg(s->fd, &m, MSG_NOSIGNAL);
    } else {
      w = writev(s->fd, iov, cnt);
    }
    if (w >= 0) {
      s->tx += (uint64_t)w; /* progress, for idle detection */
      return w;
    }
    if (errno != EINTR) return errno == EWOULDBLOCK ? -EAGAIN : -errno;
  }
}

int cio_stream_writev(cio_stream *s, const struct iovec *iov, size_t iovcnt) {
  if (!iov && iovcnt > 0) return -EINVAL;
  size_t total = 0;
  for (size_t i = 0; i < iovcnt; i++) {
    if (iov[i].iov_len > (size_t)SSIZE_MAX - total) return -EINVAL;
    total += iov[i].iov_len;
  }
  int r = cio__stream_can_write(s);
  if (r < 0 || total == 0) return r;
  int idle = !cio__stream_pending(s) && !s->flush_armed;
  if (!idle || s->tops) {
    /* Queued output goes first; a transport (TLS) is better served by one
     * contiguous run than by a record per piece: copy, then push. */
    if ((r = append_iov(s, iov, iovcnt, 0, 0, total)) < 0) return r;
    if (idle) cio__stream_pump(s);
    return idle ? s->werr : 0;
  }
  /* A plain fd with nothing queued: straight to the kernel, IOV_MAX pieces
   * at a time while it takes everything. */
  size_t i = 0;
  size_t off = 0, left = total;
  while (left) {
    int cnt = iovcnt - i < IOV_MAX ? (int)(iovcnt - i) : IOV_MAX;
    size_t batch = 0;
    for (int j = 0; j < cnt; j++) batch += iov[i + (size_t)j].iov_len;
    ssize_t w = writev_fd(s, iov + i, cnt);
    if (w < 0 && w != -EAGAIN) {
      s->werr = (int)w;
      return (int)w;
    }
    size_t took = w > 0 ? (size_t)w : 0;
    left -= took;
    while (took) { /* step over what was taken */
      size_t k = iov[i].iov_len - off;
      if (took < k) {
        off += took;
        break;
      }
      took -= k;
      i++;
      off = 0;
    }
    if ((size_t)(w > 0 ? w : 0) < batch) break; /* the kernel buffer is full */
    while (i < iovcnt && iov[i].iov_len == 0) i++;
  }
  if (!left) return 0;
  if ((r = append_iov(s, iov, iovcnt, i, off, left)) < 0) {
    if (left < total) s->werr = r; /* a gap in the output: nothing after it may go */
    return r;
  }
  return arm_flush(s, CIO_WRITABLE);
}

size_t cio_stream_write_buffered(const cio_stream *s) { return cio__stream_pending(s); }

/* Suspend until at most `target` bytes are pending (or an error). */
int cio__stream_wait_output(cio_stream *s, size_t target, const char *what) {
  if (s->wwaiter && cio_task_get_state(s->wwaiter) == CIO_TASK_WAITING) return -EBUSY;
  int r = cio__io_checkpoint();
  if (r < 0) return r;
  while (!s->werr && cio__stream_pending(s) > target) {
    if (!s->flush_armed) cio__stream_pump(s); /* e.g. a transport swap left output idle */
    if (s->werr || cio__stream_pending(s) <= target) break;
    s->wwaiter = cio_current();
    s->wtarget = target;
    s->users++;
    r = cio_suspend(what);
    if (s->wwaiter == cio_current()) s->wwaiter = NULL;
    r = (int)cio__stream_leave(s, r);
    if (r < 0) return r;
    if (s->state == ST_CLOSED) return -EBADF;
  }
  return s->werr;
}

int cio_stream_drain(cio_stream *s) {
  if (s->state == ST_CLOSED) return -EBADF;
  if (s->werr) return s->werr;
  if (s->wbusy) return -EBUSY;
  if (cio__stream_pending(s) <= s->high) return cio__io_checkpoint();
  return cio__stream_wait_output(s, s->low, "stream drain");
}

int cio_stream_flush(cio_stream *s) {
  if (s->state == ST_CLOSED) return -EBADF;
  if (s->wbusy) return -EBUSY;
  return cio__stream_wait_output(s, 0, "stream flush");
}

/* Suspend until the reactor reports the fd ready in direction `want`
 * (nothing is queued), through the background flush's callback: the task
 * slots of cio_wait_fd belong to the reader (a TLS read may wait for
 * writable too). 0 or an error. */
static int wait_edge(cio_stream *s, int want, const char *what) {
  if (s->flush_armed) { /* armed for a direction that may not be this one */
    cio__fd_unwatch(s->fd, CIO_READABLE);
    cio__fd_unwatch(s->fd, CIO_WRITABLE);
    s->flush_armed = 0;
  }
  int r = cio__fd_watch(s->fd, want, on_ready_to_flush, s);
  if (r == 1) return cio__io_checkpoint(); /* ready already */
  if (r < 0) return r;
  s->flush_armed = 1;
  s->wwaiter = cio_current();
  s->wtarget = 0; /* the callback's pump wakes it: nothing is queued */
  s->users++;
  r = cio_suspend(what);
  if (s->wwaiter == cio_current()) s->wwaiter = NULL;
  return (int)cio__stream_leave(s, r);
}

/* A pipe has no half-close, but the write end of one (a process's stdin) is
 * write-only: closing it is the end-of-stream the reader sees. The fd number
 * is taken over by /dev/null so the stream still owns a valid descriptor
 * (reads from it see EOF). Anything else that is not a socket: -ENOTSOCK. */
static int close_write_only_fd(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return -errno;
  if ((fl & O_ACCMODE) != O_WRONLY) return -ENOTSOCK;
  int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (nul < 0) return -errno;
  cio_fd_forget(fd);
  int r = dup3(nul, fd, O_CLOEXEC) < 0 ? -errno : 0;
  close(nul);
  return r;
}

int cio_stream_shutdown_write(cio_stream *s) {
  if (s->state != ST_OPEN) return -EBADF;
  if (s->wshut) return 0;
  if (s->wbusy) return -EBUSY;
  int r = cio__stream_wait_output(s, 0, "stream flush");
  if (r < 0) return r;
  if (!s->tops) {
    if (shutdown(s->fd, SHUT_WR) < 0 && errno != ENOTCONN) {
      if (errno != ENOTSOCK) return -errno;
      r = close_write_only_fd(s->fd);
      if (r < 0) return r;
    }
    s->wshut = 1;
    return 0;
  }
  if (!s->tops->shutdown) {
    s->wshut = 1;
    return 0;
  }
  for (;;) {
    int want = 0;
    r = s->tops->shutdown(s->tctx, s->fd, &want);
    if (r != -EAGAIN) break;
    r = wait_edge(s, want ? want : CIO_READABLE, "stream shutdown");
    if (r < 0) return r;
    if (s->state == ST_CLOSED) return -EBADF;
  }
  if (r == 0) s->wshut = 1;
  return r;
}
