/* stream_internal.h - what the stream's files share (stream.c: lifetime,
 * transport, closing, addresses; stream_read.c: input; stream_write.c:
 * output, drain, half-close; stream_sendfile.c). Not installed.
 *
 * Input: one buffer [rpos, rend) filled by the transport. A stream socket or
 * a pipe is read again only when the last read filled all the room it was
 * given: a short read means the kernel had nothing more (and whatever comes
 * later brings an edge), so the next read waits for the reactor instead of
 * paying a read() that would say EAGAIN. (Not so for ttys, which return a
 * line at a time, or message sockets: those are read until EAGAIN.) The
 * echo path is then one read and one write per message. Large reads go
 * straight into the caller's buffer.
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
 *
 * The helpers on the per-message path (the transport's write, leave) are
 * inline here, so the split into files costs no calls.
 */
#ifndef CIO_IO_STREAM_INTERNAL_H
#define CIO_IO_STREAM_INTERNAL_H

#include "io_internal.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_BUF (64u * 1024u)
#define MIN_BUF     256u
#define SKIP_INLINE 16u /* delimiters up to this long need no malloc */

enum { ST_OPEN = 0, ST_CLOSING, ST_CLOSED };

/* skipping: inside an over-long line (SKIP_ON); or its end was reached by a
 * select case and the next read call reports -EMSGSIZE (SKIP_DONE). */
enum { SKIP_ON = 1, SKIP_DONE };

struct cio_stream {
  int fd;
  uint8_t state;
  uint8_t is_sock;
  uint8_t rd_maybe; /* the transport may have input: try before waiting */
  uint8_t rwant;    /* what a read waits for after -EAGAIN: CIO_READABLE, or
                       what TLS asked for (it may need writable) */
  uint8_t short_ok; /* a short read means the kernel had no more (stream
                       sockets, pipes; not ttys or message sockets) */
  uint8_t eof;
  uint8_t rbusy;       /* a read call is in progress */
  uint8_t wshut;       /* sending side shut down */
  uint8_t flush_armed; /* a writable (or readable, for TLS) callback is armed */
  uint8_t freed;       /* cio_stream_free was called; last user frees */
  uint8_t skipping;    /* SKIP_ON: inside an over-long line; SKIP_DONE */
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

/* ---- lifetime (stream.c) ---- */

/* Free the memory of a stream nobody uses any more. */
void cio__stream_free_mem(cio_stream *s);

/* A task leaves a stream call it may have suspended in. Returns r, or
 * -EBADF if the stream was freed meanwhile (then s is gone). */
static inline ssize_t cio__stream_leave(cio_stream *s, ssize_t r) {
  if (--s->users == 0 && s->freed) {
    cio__stream_free_mem(s);
    return -EBADF;
  }
  return r;
}

/* Wake the task in *slot (if any) with code, clearing the slot. */
static inline void cio__stream_wake(cio_task **slot, int code) {
  cio_task *t = *slot;
  if (!t) return;
  *slot = NULL;
  cio_task_wake(t, code);
}

/* Close the transport and the fd now; wake everyone. */
void cio__stream_finish_close(cio_stream *s);

/* ---- the transport ---- */

static inline ssize_t cio__stream_t_send(cio_stream *s, const void *buf, size_t n, int *want) {
  *want = CIO_WRITABLE;
  if (s->tops) return s->tops->write(s->tctx, s->fd, buf, n, want);
  for (;;) {
    ssize_t r = cio__fault_errno(CIO__FAULT_WRITE) ? -1
                : s->is_sock                       ? send(s->fd, buf, n, MSG_NOSIGNAL)
                                                   : write(s->fd, buf, n);
    if (r >= 0) return r;
    if (errno != EINTR) return -errno;
  }
}

/* Every write path counts what the transport took (idle detection). */
static inline ssize_t cio__stream_t_write(cio_stream *s, const void *buf, size_t n, int *want) {
  ssize_t r = cio__stream_t_send(s, buf, n, want);
  if (r > 0) s->tx += (uint64_t)r;
  return r;
}

/* ---- output (stream_write.c) ---- */

static inline size_t cio__stream_pending(const cio_stream *s) { return s->wend - s->wpos; }

/* Push output and arm the reactor for the rest; then tell waiters. Never
 * suspends (runs in tasks and in reactor callbacks). */
void cio__stream_pump(cio_stream *s);
/* Room for n more bytes at the end of the output buffer; NULL when out of
 * memory. */
char *cio__stream_wroom(cio_stream *s, size_t n);
/* Suspend until at most `target` bytes are pending (or an error). */
int cio__stream_wait_output(cio_stream *s, size_t target, const char *what);
/* The checks every call that adds output makes. */
int cio__stream_can_write(const cio_stream *s);

#endif
