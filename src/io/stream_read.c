/* stream_read.c - the stream's input: filling the buffer, over-long lines,
 * the read calls and the zero-copy calls (see stream_internal.h). */
#include "stream_internal.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* ---- input ---- */

/* One try at the transport, without waiting (s->rd_maybe is set). Returns
 * > 0, 0 at EOF (recorded), -EAGAIN (nothing now: rd_maybe is cleared and
 * rwant says what to wait for), or an error (recorded). */
static inline ssize_t xread_try(cio_stream *s, char *buf, size_t n) {
  for (;;) {
    ssize_t r;
    if (CIO_LIKELY(!s->tops)) {
      /* recv skips the VFS layer (fsnotify, file position): cheaper. */
      r = cio__fault_errno(CIO__FAULT_READ) ? -1
          : s->is_sock                      ? recv(s->fd, buf, n, 0)
                                            : read(s->fd, buf, n);
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
      int want = CIO_READABLE;
      r = s->tops->read(s->tctx, s->fd, buf, n, &want);
      if (r > 0) {
        s->rx += (uint64_t)r;
        return r;
      }
      if (r == -EAGAIN) s->rwant = (uint8_t)want;
    }
    if (r == 0) {
      s->eof = 1;
      return 0;
    }
    if (r == -EAGAIN || r == -EWOULDBLOCK) {
      s->rd_maybe = 0;
      return -EAGAIN;
    }
    s->rerr = (int)r;
    return r;
  }
}

/* Read up to n bytes from the transport into buf, waiting as needed.
 * Returns > 0, 0 at EOF (recorded), or an error (I/O errors recorded). */
static ssize_t xread(cio_stream *s, char *buf, size_t n) {
  for (;;) {
    if (s->rd_maybe) {
      ssize_t r = xread_try(s, buf, n);
      if (r != -EAGAIN) return r;
    }
    int w = cio_wait_fd(s->fd, s->rwant);
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
static inline ssize_t fill_room(cio_stream *s, size_t ceiling, bool wait) {
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
  ssize_t r = wait ? xread(s, s->rbuf + s->rend, s->rcap - s->rend)
                   : xread_try(s, s->rbuf + s->rend, s->rcap - s->rend);
  if (r > 0) s->rend += (size_t)r;
  return r;
}

static ssize_t fill_more(cio_stream *s, size_t ceiling) { return fill_room(s, ceiling, true); }

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

/* Skip what is buffered of an over-long line (s->skipping == SKIP_ON).
 * Returns 1 when its end - its delimiter, or EOF - was reached (the skip
 * is over), else 0 (fewer than dlen bytes left buffered). */
static int skip_buffered(cio_stream *s) {
  const char *delim = s->skip_delim;
  size_t dlen = s->skip_dlen;
  size_t avail = s->rend - s->rpos;
  const char *p = avail ? find(s->rbuf + s->rpos, avail, delim, dlen) : NULL;
  if (p) {
    consume(s, (size_t)(p - (s->rbuf + s->rpos)) + dlen);
    end_skip(s);
    return 1;
  }
  /* Keep what may be the start of a delimiter split across reads. */
  size_t keep = avail < dlen - 1 ? avail : dlen - 1;
  consume(s, avail - keep);
  if (!s->eof) return 0;
  consume(s, keep);
  end_skip(s);
  return 1;
}

/* Skip the rest of an over-long line: up to and including its delimiter,
 * or to EOF. Returns -EMSGSIZE when done. Interrupted (or failing), it
 * returns that error and stays in the skipping state: the next read call
 * comes back here before anything else, so the line's tail is never read
 * as data. A skip that a select case finished (SKIP_DONE) is reported
 * here too. */
static ssize_t skip_line(cio_stream *s) {
  if (s->skipping == SKIP_DONE) {
    s->skipping = 0;
    return -EMSGSIZE;
  }
  for (;;) {
    if (skip_buffered(s)) return -EMSGSIZE;
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
  s->skipping = SKIP_ON;
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
  return cio__stream_leave(s, r);
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

/* ---- the select case ----
 * cio_case_readable waits in the reader's task slots of the fd (the same
 * cio_wait_fd uses), for the directions the transport last asked for (TLS
 * may need writable to read on). It holds a user reference on the stream
 * while armed, so a stream freed under the select stays readable memory
 * until the case is disarmed. */

typedef struct rd_case {
  cio_task *task;
  int fd;
  int want;
  uint32_t gen;
  uint8_t armed;
  uint8_t gone; /* closed or freed while armed */
} rd_case;

static rd_case *rd_case_of(cio_case *c) {
  _Static_assert(sizeof(rd_case) <= sizeof c->priv, "cio_case.priv too small");
  return (rd_case *)(void *)c->priv;
}

/* Would a read call return now, without waiting? An over-long line being
 * skipped is skipped as far as the buffer goes; a skip that ends there is
 * reported (-EMSGSIZE) by the next read call. */
static int read_ready(cio_stream *s) {
  if (CIO_UNLIKELY(s->skipping)) {
    if (s->skipping == SKIP_ON && skip_buffered(s)) s->skipping = SKIP_DONE;
    return s->skipping == SKIP_DONE || s->rerr;
  }
  return s->rend > s->rpos || s->eof || s->rerr;
}

/* Make s ready without waiting, if the transport has input. 1 ready, 0 it
 * would wait, or an error of the stream's memory (-ENOMEM). */
static int read_poke(cio_stream *s) {
  for (;;) {
    if (read_ready(s)) return 1;
    if (!s->rd_maybe) return 0;
    ssize_t r = fill_room(s, SIZE_MAX, false);
    if (r == -EAGAIN) return 0;
    if (r < 0 && !s->rerr) return (int)r;
  }
}

static int rd_try(cio_case *c) {
  cio_stream *s = c->obj;
  /* gone: freed under an earlier round of this select (one woken stale
   * loops back here), so s may be freed memory. */
  if (!s || rd_case_of(c)->gone || s->state != ST_OPEN) return c->status = -EBADF;
  if (s->rbusy) return c->status = -EBUSY;
  /* A readiness the reactor reported since the last read: try again. */
  if (!s->rd_maybe && cio__fd_take(s->fd, s->rwant) > 0) s->rd_maybe = 1;
  int r = read_poke(s);
  return r < 0 ? (c->status = r) : r;
}

static int rd_arm(cio_case *c, cio_task *t, int code) {
  cio_stream *s = c->obj;
  rd_case *k = rd_case_of(c);
  k->task = t;
  k->fd = s->fd;
  k->want = s->rwant;
  int r = cio__fd_arm(k->fd, k->want, t, code, &k->gen);
  if (r != 0) return r; /* 1: ready now, finish tries at once */
  k->armed = 1;
  s->users++;
  return 0;
}

static void rd_disarm(cio_case *c) {
  rd_case *k = rd_case_of(c);
  if (!k->armed) return;
  k->armed = 0;
  cio__fd_disarm(k->fd, k->want, k->task, k->gen);
  cio_stream *s = c->obj;
  k->gone = s->freed || s->state != ST_OPEN;
  cio__stream_leave(s, 0); /* the last user of a freed stream frees it */
}

static int rd_finish(cio_case *c) {
  rd_case *k = rd_case_of(c);
  cio_stream *s = c->obj;
  if (k->gone || s->state != ST_OPEN) {
    c->status = -EBADF;
    return 0;
  }
  if (s->rbusy) { /* another task began reading meanwhile */
    c->status = -EBUSY;
    return 0;
  }
  cio__fd_take(s->fd, k->want); /* what we were woken for */
  s->rd_maybe = 1;
  int r = read_poke(s);
  if (r < 0) {
    c->status = r;
    return 0;
  }
  c->status = 0;
  return r ? 0 : 1; /* nothing after all (a stale report): wait again */
}

static const cio_case_ops rd_ops = {rd_try, rd_arm, rd_disarm, rd_finish};

cio_case cio_case_readable(cio_stream *s) {
  cio_case c;
  memset(&c, 0, sizeof c);
  c.ops = &rd_ops;
  c.obj = s;
  return c;
}
