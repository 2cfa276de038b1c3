/* stream.c - buffered streams over a transport (a plain fd, or TLS).
 *
 * Input: one buffer [rpos, rend) filled by the transport. A stream socket or
 * a pipe is read again only when the last read filled all the room it was
 * given: a short read means the kernel had nothing more (and whatever comes
 * later brings an edge), so the next read waits for the reactor instead of
 * paying a read() that would say EAGAIN. (Not so for ttys, which return a
 * line at a time, or message sockets: those are read until EAGAIN.) The echo path is
 * then one read and one write per message. Large reads go straight into the
 * caller's buffer.
 *
 * Parsers read in place: peek / consume / fill work on [rpos, rend), and
 * readline / readuntil are built on them. An over-long line is skipped to
 * its end; a skip interrupted half-way is remembered (`skipping`, with its
 * delimiter) and finished by the next read call, so no tail of it is ever
 * delivered as data.
 *
 * Output: write() hands the bytes to the kernel at once when nothing is
 * queued (no copy when it takes them all); the rest is copied into [wpos,
 * wend) and flushed by a writable-callback of the reactor, in the
 * background. drain/flush/shutdown_write/close wait on that progress. Only
 * a transport's -EAGAIN means "wait for an edge"; a short count from a
 * plain fd means the same (its kernel buffer is full, and the edge that
 * frees room will come), but a short count from a transport does not (TLS
 * returns after each record while the socket has room): it is called again.
 *
 * Lifetime: a task suspended in a stream call counts as a user; freeing the
 * stream closes the fd, wakes such tasks with -EBADF and leaves the memory to
 * the last of them.
 */
#include "io_internal.h"
#include "os_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

#define DEFAULT_BUF  (64u * 1024u)
#define MIN_BUF      256u
#define SKIP_INLINE  16u           /* delimiters up to this long need no malloc */
#define FILE_CHUNK   (64u * 1024u) /* sendfile's copying path: one pread */
#define SENDFILE_MAX 0x7ffff000u   /* the most one sendfile(2) moves */

enum { ST_OPEN = 0, ST_CLOSING, ST_CLOSED };

struct cio_stream {
  int fd;
  uint8_t state;
  uint8_t is_sock;
  uint8_t rd_maybe; /* the transport may have input: try before waiting */
  uint8_t short_ok; /* a short read means the kernel had no more (stream
                       sockets, pipes; not ttys or message sockets) */
  uint8_t eof;
  uint8_t rbusy;       /* a read call is in progress */
  uint8_t wshut;       /* sending side shut down */
  uint8_t flush_armed; /* a writable (or readable, for TLS) callback is armed */
  uint8_t freed;       /* cio_stream_free was called; last user frees */
  uint8_t skipping;    /* inside an over-long line: skip to skip_delim */
  uint8_t wbusy;       /* a sendfile owns the sending side */
  int rerr, werr;      /* sticky I/O errors */
  unsigned users;      /* tasks suspended inside a stream call */
  char *rbuf;
  size_t rcap, rpos, rend;
  char *wbuf;
  size_t wcap, wpos, wend;
  size_t limit, high, low;
  size_t direct_min; /* reads at least this big bypass the buffer */
  cio_task *wwaiter; /* drain / flush / shutdown_write */
  size_t wtarget;    /* wake wwaiter once pending <= wtarget */
  cio_task *cwaiter; /* wait_closed */
  int close_err;     /* the error that dropped output a close was flushing */
  const cio_transport_ops *tops;
  void *tctx;
  uint64_t rx;      /* bytes received (idle detection) */
  char *skip_delim; /* skip_small, or malloc'd when longer */
  size_t skip_dlen;
  char skip_small[SKIP_INLINE];
  uint64_t tx; /* bytes the transport took (idle detection) */
};

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

static void free_mem(cio_stream *s) {
  if (s->skip_delim != s->skip_small) cio__free(s->skip_delim);
  cio__free(s->rbuf);
  cio__free(s->wbuf);
  cio__free(s);
}

/* A task leaves a stream call it may have suspended in. Returns r, or
 * -EBADF if the stream was freed meanwhile (then s is gone). */
static ssize_t leave(cio_stream *s, ssize_t r) {
  if (--s->users == 0 && s->freed) {
    free_mem(s);
    return -EBADF;
  }
  return r;
}

static void wake(cio_task **slot, int code) {
  cio_task *t = *slot;
  if (!t) return;
  *slot = NULL;
  cio_task_wake(t, code);
}

/* Close the transport and the fd now; wake everyone. */
static void finish_close(cio_stream *s) {
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
  wake(&s->wwaiter, -EBADF);
  wake(&s->cwaiter, s->close_err);
}

/* ---- transport ---- */

static ssize_t t_send(cio_stream *s, const void *buf, size_t n, int *want) {
  *want = CIO_WRITABLE;
  if (s->tops) return s->tops->write(s->tctx, s->fd, buf, n, want);
  for (;;) {
    ssize_t r = s->is_sock ? send(s->fd, buf, n, MSG_NOSIGNAL) : write(s->fd, buf, n);
    if (r >= 0) return r;
    if (errno != EINTR) return -errno;
  }
}

static ssize_t t_write(cio_stream *s, const void *buf, size_t n, int *want) {
  ssize_t r = t_send(s, buf, n, want);
  if (r > 0) s->tx += (uint64_t)r;
  return r;
}

/* ---- input ---- */

/* Read up to n bytes from the transport into buf, waiting as needed.
 * Returns > 0, 0 at EOF (recorded), or an error (I/O errors recorded). */
static ssize_t xread(cio_stream *s, char *buf, size_t n) {
  int want = CIO_READABLE;
  for (;;) {
    if (s->rd_maybe) {
      ssize_t r;
      if (CIO_LIKELY(!s->tops)) {
        /* recv skips the VFS layer (fsnotify, file position): cheaper. */
        r = s->is_sock ? recv(s->fd, buf, n, 0) : read(s->fd, buf, n);
        if (CIO_LIKELY(r > 0)) {
          /* Short: the kernel had no more, the next read waits first. */
          if ((size_t)r < n && s->short_ok) s->rd_maybe = 0;
          s->rx += (uint64_t)r;
          return r;
        }
        if (r < 0) {
          if (errno == EINTR) continue;
          r = -errno;
        }
      } else {
        r = s->tops->read(s->tctx, s->fd, buf, n, &want);
        if (r > 0) {
          s->rx += (uint64_t)r;
          return r;
        }
      }
      if (r == 0) {
        s->eof = 1;
        return 0;
      }
      if (r != -EAGAIN) {
        s->rerr = (int)r;
        return r;
      }
      s->rd_maybe = 0;
    }
    int w = cio_wait_fd(s->fd, want);
    if (w < 0) return w;
    if (CIO_UNLIKELY(s->state == ST_CLOSED)) return -EBADF;
    s->rd_maybe = 1;
  }
}

static int ensure_rbuf(cio_stream *s, size_t cap) {
  if (s->rbuf && s->rcap >= cap) return 0;
  if (cap < s->rcap) cap = s->rcap;
  char *b = cio__realloc(s->rbuf, cap);
  if (!b) return -ENOMEM;
  s->rbuf = b;
  s->rcap = cap;
  return 0;
}

/* Make room at the end of the input buffer: move what is buffered to the
 * front. */
static void compact(cio_stream *s) {
  size_t avail = s->rend - s->rpos;
  if (s->rpos == 0) return;
  if (avail) memmove(s->rbuf, s->rbuf + s->rpos, avail);
  s->rpos = 0;
  s->rend = avail;
}

/* The one way input enters the buffer: read more after what is buffered,
 * keeping it. The buffer is compacted when little room is left at its end,
 * and grows (doubling) when it is full, up to `ceiling` bytes. Returns the
 * count read (> 0), 0 at EOF, -EMSGSIZE when `ceiling` bytes are buffered
 * already (nothing read), or an error (an interruption loses nothing). */
static ssize_t fill_more(cio_stream *s, size_t ceiling) {
  size_t avail = s->rend - s->rpos;
  if (avail >= ceiling) return -EMSGSIZE;
  int e = ensure_rbuf(s, s->rcap);
  if (e < 0) return e;
  if (!avail)
    s->rpos = s->rend = 0;
  else if (s->rpos && s->rcap - s->rend < s->rcap / 4)
    compact(s); /* one memmove of a partial message buys a full-size read */
  if (s->rend == s->rcap) {
    size_t grown = s->rcap <= ceiling / 2 ? s->rcap * 2 : ceiling;
    if ((e = ensure_rbuf(s, grown)) < 0) return e;
  }
  ssize_t r = xread(s, s->rbuf + s->rend, s->rcap - s->rend);
  if (r > 0) s->rend += (size_t)r;
  return r;
}

static void consume(cio_stream *s, size_t n) {
  s->rpos += n;
  if (s->rpos == s->rend) s->rpos = s->rend = 0;
}

static size_t take(cio_stream *s, void *buf, size_t n) {
  size_t avail = s->rend - s->rpos;
  if (n > avail) n = avail;
  if (!n) return 0;
  memcpy(buf, s->rbuf + s->rpos, n);
  consume(s, n);
  return n;
}

static const char *find(const char *p, size_t len, const void *delim, size_t dlen) {
  if (len < dlen) return NULL;
  if (dlen == 1) return memchr(p, *(const char *)delim, len);
  return memmem(p, len, delim, dlen);
}

/* ---- over-long lines ---- */

static void end_skip(cio_stream *s) {
  if (s->skip_delim != s->skip_small) cio__free(s->skip_delim);
  s->skip_delim = NULL;
  s->skipping = 0;
}

/* Skip the rest of an over-long line: up to and including its delimiter,
 * or to EOF. Returns -EMSGSIZE when done. Interrupted (or failing), it
 * returns that error and stays in the skipping state: the next read call
 * comes back here before anything else, so the line's tail is never read
 * as data. */
static ssize_t skip_line(cio_stream *s) {
  const char *delim = s->skip_delim;
  size_t dlen = s->skip_dlen;
  for (;;) {
    size_t avail = s->rend - s->rpos;
    const char *p = avail ? find(s->rbuf + s->rpos, avail, delim, dlen) : NULL;
    if (p) {
      consume(s, (size_t)(p - (s->rbuf + s->rpos)) + dlen);
      end_skip(s);
      return -EMSGSIZE;
    }
    /* Keep what may be the start of a delimiter split across reads. */
    size_t keep = avail < dlen - 1 ? avail : dlen - 1;
    consume(s, avail - keep);
    if (s->eof) {
      consume(s, keep);
      end_skip(s);
      return -EMSGSIZE;
    }
    if (s->rerr) return s->rerr;
    ssize_t r = fill_more(s, SIZE_MAX); /* fewer than dlen bytes buffered */
    if (r < 0 && !s->rerr) return r;
  }
}

/* The line at the buffer's start (no delimiter in it so far) is longer
 * than the caller allows: remember the delimiter, then skip. */
static ssize_t start_skip(cio_stream *s, const void *delim, size_t dlen) {
  char *d = s->skip_small;
  if (dlen > sizeof s->skip_small && !(d = cio__malloc(dlen))) return -ENOMEM;
  memcpy(d, delim, dlen);
  s->skip_delim = d;
  s->skip_dlen = dlen;
  s->skipping = 1;
  return skip_line(s);
}

/* ---- read calls ---- */

/* Entry of every read call: state, exclusivity, cancellation. */
static int enter_read(cio_stream *s) {
  if (CIO_UNLIKELY(s->state != ST_OPEN)) return -EBADF;
  if (CIO_UNLIKELY(s->rbusy)) return -EBUSY;
  /* A call that will go straight to waiting is checked by the wait itself
   * (before anything is consumed): only the others pay for a check here. */
  if (s->rend > s->rpos || s->rd_maybe || s->eof || s->rerr) {
    int r = cio__io_checkpoint();
    if (CIO_UNLIKELY(r < 0)) return r;
  }
  s->rbusy = 1;
  s->users++;
  return 0;
}

static ssize_t leave_read(cio_stream *s, ssize_t r) {
  s->rbusy = 0;
  return leave(s, r);
}

ssize_t cio_stream_read(cio_stream *s, void *buf, size_t n) {
  int e = enter_read(s);
  if (e < 0) return e;
  ssize_t r;
  if (CIO_UNLIKELY(s->skipping)) {
    r = skip_line(s);
  } else if (s->rend > s->rpos) {
    r = (ssize_t)take(s, buf, n);
  } else if (s->rerr || s->eof || n == 0) {
    r = s->rerr;
  } else if (n >= s->direct_min) {
    r = xread(s, buf, n); /* a big read skips the copy */
  } else if ((r = fill_more(s, SIZE_MAX)) > 0) {
    r = (ssize_t)take(s, buf, n);
  }
  return leave_read(s, r);
}

static ssize_t do_readexactly(cio_stream *s, char *buf, size_t n, size_t *got) {
  if (n <= s->rcap) {
    /* Gather everything in the buffer first: an interrupted call then
     * consumes nothing. */
    while (s->rend - s->rpos < n) {
      if (s->eof || s->rerr) {
        size_t part = take(s, buf, n);
        *got = part;
        return s->rerr ? s->rerr : -EPIPE;
      }
      if (s->rpos + n > s->rcap) compact(s);
      ssize_t r = fill_more(s, SIZE_MAX); /* n fits: it never grows here */
      if (r < 0 && !s->rerr) return r;    /* interrupted: nothing consumed */
    }
    *got = take(s, buf, n);
    return (ssize_t)n;
  }
  /* Larger than the buffer: straight into the caller's memory, so bytes
   * received before an interruption are in buf, counted in *got. */
  size_t done = take(s, buf, n);
  while (done < n) {
    if (s->eof || s->rerr) {
      *got = done;
      return s->rerr ? s->rerr : -EPIPE;
    }
    ssize_t r = xread(s, buf + done, n - done);
    if (r < 0) {
      *got = done;
      return r;
    }
    done += (size_t)r;
  }
  *got = done;
  return (ssize_t)n;
}

ssize_t cio_stream_readexactly(cio_stream *s, void *buf, size_t n, size_t *got) {
  size_t dummy;
  if (!got) got = &dummy;
  *got = 0;
  int e = enter_read(s);
  if (e < 0) return e;
  if (CIO_UNLIKELY(s->skipping)) return leave_read(s, skip_line(s));
  return leave_read(s, do_readexactly(s, buf, n, got));
}

/* readline / readuntil, over the buffer as peek / consume / fill see it.
 * A line may be max = min(cap, limit) bytes, delimiter included; a last
 * line at EOF without one may be max bytes too, so fill is allowed one byte
 * more than max: the byte that tells "longer" from "exactly max, then EOF".
 * eof_line: at EOF return a last unterminated line (readline) instead of
 * -EPIPE (readuntil). */
static ssize_t do_readuntil(cio_stream *s, const void *delim, size_t dlen, char *buf, size_t cap,
                            size_t *got, int eof_line) {
  size_t max = cap < s->limit ? cap : s->limit;
  size_t searched = 0; /* bytes from rpos known to hold no delimiter start */
  for (;;) {
    size_t avail = s->rend - s->rpos;
    size_t from = searched >= dlen ? searched - (dlen - 1) : 0;
    const char *p = avail ? find(s->rbuf + s->rpos + from, avail - from, delim, dlen) : NULL;
    if (p) {
      size_t len = (size_t)(p - (s->rbuf + s->rpos)) + dlen;
      if (len > max) {
        consume(s, len);
        return -EMSGSIZE;
      }
      return (ssize_t)take(s, buf, len);
    }
    if (avail > max) return start_skip(s, delim, dlen);
    if (s->rerr) {
      if (eof_line) return s->rerr;
      *got = take(s, buf, avail);
      return s->rerr;
    }
    if (s->eof) {
      size_t part = take(s, buf, avail);
      if (eof_line) return (ssize_t)part;
      *got = part;
      return -EPIPE;
    }
    searched = avail;
    ssize_t r = fill_more(s, max < SIZE_MAX ? max + 1 : max);
    if (r < 0 && !s->rerr) return r; /* interrupted: nothing consumed */
  }
}

ssize_t cio_stream_readuntil(cio_stream *s, const void *delim, size_t dlen, void *buf, size_t cap,
                             size_t *got) {
  size_t dummy;
  if (!got) got = &dummy;
  *got = 0;
  if (!delim || !dlen || dlen > cap || dlen > s->limit) return -EINVAL; /* never found */
  int e = enter_read(s);
  if (e < 0) return e;
  if (CIO_UNLIKELY(s->skipping)) return leave_read(s, skip_line(s));
  return leave_read(s, do_readuntil(s, delim, dlen, buf, cap, got, 0));
}

ssize_t cio_stream_readline(cio_stream *s, char *buf, size_t cap) {
  size_t got;
  if (!cap) return -EINVAL;
  int e = enter_read(s);
  if (e < 0) return e;
  if (CIO_UNLIKELY(s->skipping)) return leave_read(s, skip_line(s));
  return leave_read(s, do_readuntil(s, "\n", 1, buf, cap, &got, 1));
}

size_t cio_stream_buffered(const cio_stream *s) {
  return CIO_UNLIKELY(s->skipping) ? 0 : s->rend - s->rpos;
}

/* ---- zero-copy reading ---- */

size_t cio_stream_peek(cio_stream *s, const void **data) {
  *data = "";
  if (CIO_UNLIKELY(s->state != ST_OPEN || s->skipping) || s->rend == s->rpos) return 0;
  *data = s->rbuf + s->rpos;
  return s->rend - s->rpos;
}

int cio_stream_consume(cio_stream *s, size_t n) {
  if (s->state != ST_OPEN) return -EBADF;
  if (s->rbusy) return -EBUSY;
  if (n > cio_stream_buffered(s)) return -EINVAL;
  if (n) consume(s, n);
  return 0;
}

ssize_t cio_stream_fill(cio_stream *s) {
  int e = enter_read(s);
  if (e < 0) return e;
  ssize_t r;
  if (CIO_UNLIKELY(s->skipping)) {
    r = skip_line(s);
  } else if (s->rerr || s->eof) {
    r = s->rerr;
  } else if ((r = fill_more(s, s->limit)) > 0) {
    r = (ssize_t)(s->rend - s->rpos);
  }
  return leave_read(s, r);
}

/* ---- output ---- */

static size_t pending(const cio_stream *s) { return s->wend - s->wpos; }

static void on_ready_to_flush(void *arg, int res);

/* Write what the transport takes. Returns 0 when all is out, -EAGAIN with
 * *want set when it would block, or the (recorded) error. */
static int flush_some(cio_stream *s, int *want) {
  while (s->wend > s->wpos) {
    ssize_t w = t_write(s, s->wbuf + s->wpos, s->wend - s->wpos, want);
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
static void pump(cio_stream *s) {
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
  if (s->wwaiter && (s->werr || pending(s) <= s->wtarget)) wake(&s->wwaiter, s->werr);
  if (s->state == ST_CLOSING && (s->werr || !pending(s))) {
    s->close_err = s->werr;
    finish_close(s);
  }
}

static void on_ready_to_flush(void *arg, int res) {
  cio_stream *s = arg;
  (void)res;
  s->flush_armed = 0;
  pump(s);
}

/* Output is queued and the transport said it would block (a plain fd: took
 * less than it was given): have the reactor call back when it may go on.
 * Returns 0 or the (recorded) error. */
static int arm_flush(cio_stream *s, int want) {
  int r = cio__fd_watch(s->fd, want, on_ready_to_flush, s);
  if (r == 1) {
    pump(s); /* readiness already reported: go on now */
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
static char *wroom(cio_stream *s, size_t n) {
  size_t have = pending(s);
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
  char *d = wroom(s, n);
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
    ssize_t w = t_write(s, p + done, n - done, want);
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
static int can_write(const cio_stream *s) {
  if (CIO_UNLIKELY(s->state != ST_OPEN)) return -EBADF;
  if (CIO_UNLIKELY(s->werr)) return s->werr;
  if (CIO_UNLIKELY(s->wshut)) return -EPIPE;
  if (CIO_UNLIKELY(s->wbusy)) return -EBUSY;
  return 0;
}

int cio_stream_write(cio_stream *s, const void *buf, size_t n) {
  int r = can_write(s);
  if (r < 0) return r;
  if (n == 0) return 0;
  const char *p = buf;
  if (pending(s) || s->flush_armed) return append(s, p, n);
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
  char *d = wroom(s, left);
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
    if (s->is_sock) {
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
  int r = can_write(s);
  if (r < 0 || total == 0) return r;
  int idle = !pending(s) && !s->flush_armed;
  if (!idle || s->tops) {
    /* Queued output goes first; a transport (TLS) is better served by one
     * contiguous run than by a record per piece: copy, then push. */
    if ((r = append_iov(s, iov, iovcnt, 0, 0, total)) < 0) return r;
    if (idle) pump(s);
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

size_t cio_stream_write_buffered(const cio_stream *s) { return pending(s); }

/* Suspend until at most `target` bytes are pending (or an error). */
static int wait_output(cio_stream *s, size_t target, const char *what) {
  if (s->wwaiter && cio_task_get_state(s->wwaiter) == CIO_TASK_WAITING) return -EBUSY;
  int r = cio__io_checkpoint();
  if (r < 0) return r;
  while (!s->werr && pending(s) > target) {
    if (!s->flush_armed) pump(s); /* e.g. a transport swap left output idle */
    if (s->werr || pending(s) <= target) break;
    s->wwaiter = cio_current();
    s->wtarget = target;
    s->users++;
    r = cio_suspend(what);
    if (s->wwaiter == cio_current()) s->wwaiter = NULL;
    r = (int)leave(s, r);
    if (r < 0) return r;
    if (s->state == ST_CLOSED) return -EBADF;
  }
  return s->werr;
}

int cio_stream_drain(cio_stream *s) {
  if (s->state == ST_CLOSED) return -EBADF;
  if (s->werr) return s->werr;
  if (s->wbusy) return -EBUSY;
  if (pending(s) <= s->high) return cio__io_checkpoint();
  return wait_output(s, s->low, "stream drain");
}

int cio_stream_flush(cio_stream *s) {
  if (s->state == ST_CLOSED) return -EBADF;
  if (s->wbusy) return -EBUSY;
  return wait_output(s, 0, "stream flush");
}

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
    ssize_t w = sendfile(s->fd, fd, &off, chunk);
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
    char *d = wroom(s, chunk);
    if (!d) return -ENOMEM;
    ssize_t n = pread(fd, d, chunk, offset + (off_t)*sent);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) break; /* the file ended */
    s->wend += (size_t)n;
    *sent += (size_t)n;
    if (!s->flush_armed) pump(s);
    if (s->werr) return s->werr;
    int r = pending(s) > s->high ? wait_output(s, s->low, "stream sendfile") : cio__io_checkpoint();
    if (r < 0) return r;
    if (s->state != ST_OPEN) return -EBADF;
  }
  return (ssize_t)*sent;
}

static ssize_t do_sendfile(cio_stream *s, int fd, off_t offset, size_t count, size_t *sent) {
  int r = wait_output(s, 0, "stream sendfile"); /* what is queued goes first */
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
  int r = can_write(s);
  if (r < 0) return r;
  if (s->wwaiter && cio_task_get_state(s->wwaiter) == CIO_TASK_WAITING) return -EBUSY;
  s->wbusy = 1;
  s->users++;
  ssize_t w = do_sendfile(s, fd, offset, count, sent);
  s->wbusy = 0;
  return leave(s, w);
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
  return (int)leave(s, r);
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
  int r = wait_output(s, 0, "stream flush");
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

/* ---- closing ---- */

int cio_stream_close(cio_stream *s) {
  if (s->state != ST_OPEN) return 0;
  s->state = ST_CLOSING;
  if (pending(s) && !s->werr) {
    pump(s); /* finishes the close itself, now or once all is out */
    return s->state == ST_CLOSED ? s->close_err : 0;
  }
  finish_close(s);
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
  return (int)leave(s, r);
}

void cio_stream_free(cio_stream *s) {
  if (!s) return;
  s->wpos = s->wend = 0; /* dropped */
  finish_close(s);
  s->freed = 1;
  if (s->users == 0) free_mem(s);
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
  if (s->rend > s->rpos || pending(s) || s->flush_armed) return -EBUSY;
  if (ops && (!ops->read || !ops->write)) return -EINVAL;
  if (s->tops && s->tops->close) s->tops->close(s->tctx);
  s->tops = ops;
  s->tctx = ops ? ctx : NULL;
  s->rd_maybe = 1;
  return 0;
}
