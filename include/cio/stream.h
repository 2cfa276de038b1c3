/* cio/stream.h - buffered byte streams (asyncio's StreamReader/StreamWriter
 * in one object).
 *
 * A stream owns a transport: a non-blocking fd (socket, pipe, pty), or TLS
 * on top of one (cio/tls.h). Reads fill an internal buffer; writes append to
 * an output buffer that is flushed as the peer accepts it; drain() suspends
 * while more than the high-water mark is buffered, so a slow reader applies
 * back-pressure and memory stays bounded.
 *
 * Errors: every call returns a negative errno on failure: -ECANCELED,
 * -ETIMEDOUT (timeout scopes), -ECONNRESET / -EPIPE (peer went away),
 * -EMSGSIZE (line or message longer than the limit), -EBADF (stream
 * closed). After an I/O error the stream stays usable only for close/free.
 * A read that returns -ECANCELED or -ETIMEDOUT loses no bytes: they stay
 * buffered for the next read (two exceptions, each said where it applies:
 * readexactly beyond the buffer size, and a readline / readuntil that was
 * skipping an over-long line). Calls that may wait check for cancellation
 * on entry (see common.h), and a task whose calls keep completing without
 * waiting yields now and then (every 32), so a peer that always has data
 * ready cannot make it starve the loop.
 * One task may read and another write at the same time; two readers (or two
 * tasks in drain/flush/sendfile) at once get -EBUSY. Freeing a stream while
 * another task is suspended in one of its calls wakes that task with -EBADF.
 *
 * Ownership: cio_stream_new takes the fd; cio_stream_close closes it (after
 * flushing, in the background) and cio_stream_free frees the stream
 * (closing it at once if needed). Buffers passed to calls are borrowed for
 * the call only. Loop thread only. Link with cio-io.
 */
#ifndef CIO_STREAM_H
#define CIO_STREAM_H

#include "io.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_stream cio_stream;

typedef struct cio_stream_opts {
  size_t read_buffer; /* read buffer (allocated at the first read; reads
                         of at least a quarter of it go straight to the
                         caller's buffer); 0 = 64 KiB */
  size_t limit;       /* max line for readline/readuntil, and the most
                         cio_stream_fill lets be buffered (the buffer
                         grows to it if smaller); 0 = 64 KiB */
  size_t high_water;  /* drain() waits while more is buffered; 0 = 64 KiB */
  size_t low_water;   /* ... until at most this much is; 0 = high/4 */
} cio_stream_opts;

/* Wrap a connected fd (made non-blocking). opts may be NULL (copied).
 * Returns the stream, owned by the caller (cio_stream_free), which owns fd
 * from here on; or NULL with errno ENOMEM / EINVAL / EBADF (the caller
 * still owns fd). Never suspends. */
CIO_API cio_stream *cio_stream_new(int fd, const cio_stream_opts *opts);

/* Read up to n bytes; returns the count (> 0), 0 at EOF, or an error. Waits
 * only when nothing is buffered. May suspend. */
CIO_API ssize_t cio_stream_read(cio_stream *s, void *buf, size_t n);

/* Read exactly n bytes. Returns n, or on early EOF -EPIPE with the bytes
 * received so far stored in buf and their count in *got (got may be NULL);
 * an I/O error likewise. On -ECANCELED / -ETIMEDOUT nothing is consumed when
 * n <= the read buffer size (*got = 0); a larger n is read straight into
 * buf, and what arrived before the interruption is there, counted in *got.
 * May suspend. */
CIO_API ssize_t cio_stream_readexactly(cio_stream *s, void *buf, size_t n, size_t *got);

/* Read up to and including '\n' into buf (cap bytes, not NUL-terminated).
 * Returns the line length, '\n' included. Let max = min(cap, limit): a line
 * of up to max bytes is returned, and so is a last line without '\n' of up
 * to max bytes at EOF; after it, 0 (EOF). A longer line is an error
 * (-EMSGSIZE) and is consumed up to its end (its '\n', or EOF) so the stream
 * can go on at the next line. Skipping a long line may wait for the rest of
 * it; if that wait is interrupted (-ECANCELED / -ETIMEDOUT) the part already
 * skipped is gone, and the stream remembers it is inside an over-long line:
 * the next read call of any kind (read, readexactly, readline, readuntil,
 * fill) first skips the rest of that line and returns -EMSGSIZE, and until
 * then peek and buffered show nothing. So no tail of a long line is ever
 * read as data. Also -EINVAL (cap 0) and the usual errors. May suspend. */
CIO_API ssize_t cio_stream_readline(cio_stream *s, char *buf, size_t cap);

/* Like readline with any delimiter (asyncio readuntil); the result includes
 * the delimiter, and the same limit (max = min(cap, limit), delimiter
 * included) and skipping rules apply. On EOF before the delimiter: -EPIPE
 * with the partial data (consumed; at most max bytes, else -EMSGSIZE) in buf
 * and counted in *got (got may be NULL); on an I/O error likewise with that
 * error. -EINVAL for an empty delimiter, one longer than max, or cap 0.
 * May suspend. */
CIO_API ssize_t cio_stream_readuntil(cio_stream *s, const void *delim, size_t dlen, void *buf,
                                     size_t cap, size_t *got);

/* Bytes already buffered (readable without waiting); 0 while a skip of an
 * over-long line is pending (see readline). Never suspends. */
CIO_API size_t cio_stream_buffered(const cio_stream *s);

/* A cio_select case (cio/select.h): s has input for its reader. It
 * completes when a read call would return without waiting: input is
 * buffered (the case reads what the transport has, without waiting, to
 * find out; TLS streams included), or the stream is at EOF or failed. Then
 * cio_stream_read() returns at once - but readline and readexactly may
 * still wait for the rest of a line or of their count: parse what read
 * returns, or peek. .status is 0, or -EBADF (s closed or freed during the
 * select; s must not be used after a free), -EBUSY (another task is
 * reading s, or waits on its fd), -ENOMEM. The case is s's reader while
 * the select runs (another task's read fails with -EBUSY if it must wait).
 * Never suspends (cio_select does). */
CIO_API cio_case cio_case_readable(cio_stream *s);

/* ---- zero-copy reading, for parsers ----
 * A parser works in the stream's own input buffer: peek at what is
 * buffered, consume what it has parsed, fill when it needs more. fill grows
 * the buffer (doubling, from read_buffer) up to `limit`, so `limit` bounds
 * the longest message a peer can make the parser hold. readline and
 * readuntil are built on the same three calls. They belong to the task that
 * reads: two readers at once get -EBUSY as for the other read calls.
 *
 *   const void *p;
 *   for (;;) {
 *     size_t n = cio_stream_peek(s, &p);
 *     size_t len = parse(p, n);          // a whole message? its length
 *     if (len) { use(p, len); cio_stream_consume(s, len); continue; }
 *     ssize_t r = cio_stream_fill(s);    // need more: wait for it
 *     if (r == 0) return n ? -EPIPE : 0; // EOF: cut mid-message, or clean
 *     if (r < 0) return (int)r;          // -EMSGSIZE: longer than limit
 *   }
 */

/* The buffered input, not consumed: sets *data to its first byte and
 * returns its length (0: nothing buffered; *data is then valid but points
 * to no byte). *data and the bytes stay valid until the next call that
 * reads from, consumes, fills, closes or frees s (cio_stream_read,
 * _readexactly, _readline, _readuntil, _consume, _fill, _close, _free,
 * _set_transport), whichever task makes it. Also 0 after close, and while
 * a skip of an over-long line is pending (see readline). Never suspends. */
CIO_API size_t cio_stream_peek(cio_stream *s, const void **data);

/* Drop the first n buffered bytes (those peek shows). Returns 0; -EINVAL
 * when n is more than peek returns (nothing dropped); -EBUSY while another
 * task is inside a read call of s; -EBADF after close. Never suspends. */
CIO_API int cio_stream_consume(cio_stream *s, size_t n);

/* Read more input into the buffer, after what is already buffered (which
 * stays, possibly moved: peek again). Waits until something arrives.
 * Returns the new buffered count (more than before), or:
 *   0          EOF: nothing more will come; what is buffered stays for peek
 *              (and fill returns 0 again);
 *   -EMSGSIZE  `limit` bytes or more are buffered already: nothing read (the
 *              message being parsed is longer than the limit); also when it
 *              finished skipping an over-long line (see readline);
 *   -ECANCELED / -ETIMEDOUT  nothing read, nothing lost;
 *   -ECONNRESET... (I/O errors, recorded: what is buffered stays for peek),
 *   -EBUSY (another reader), -EBADF (closed), -ENOMEM.
 * May suspend. */
CIO_API ssize_t cio_stream_fill(cio_stream *s);
/* Bytes written but not yet taken by the kernel (asyncio's
 * get_write_buffer_size). With write+drain it stays <= high_water plus the
 * size of one write. Never suspends. */
CIO_API size_t cio_stream_write_buffered(const cio_stream *s);

/* Send n bytes: when nothing is queued they go to the kernel at once and
 * only what it does not take is copied and sent in the background. Never
 * suspends; returns 0, or an error (-EPIPE, -ECONNRESET... also one
 * recorded earlier by the background flush), -EBADF after close, -ENOMEM,
 * -EBUSY while another task is inside cio_stream_sendfile on s.
 * Call drain() to apply back-pressure. */
CIO_API int cio_stream_write(cio_stream *s, const void *buf, size_t n);

/* Gather write: send the iovcnt pieces of iov, in order, as one write of
 * their concatenation (the caller keeps ownership; nothing is referenced
 * after the call). Any number of pieces: more than IOV_MAX go in batches. On a plain fd with
 * nothing queued, the pieces go to the kernel in one sendmsg / writev (no copy when it takes them
 * all) and only what it does not take is copied into the output buffer. Over TLS (any transport)
 * the pieces are copied into the output buffer and sent from there: small pieces then leave in
 * full-size records, not one record each. Returns 0 or an error as cio_stream_write, plus -EINVAL
 * (iov NULL with iovcnt > 0, or a total above SSIZE_MAX). Empty pieces and iovcnt 0 are fine. Never
 * suspends. */
CIO_API int cio_stream_writev(cio_stream *s, const struct iovec *iov, size_t iovcnt);

/* Send count bytes of the file fd, from offset (fd's own file position is
 * neither used nor moved), after everything already queued. The caller
 * keeps fd. On a plain socket the data goes with sendfile(2), never through
 * user space; over TLS, and to pipes and other fds, the file is read in
 * chunks (pread) into the output buffer and sent from there, waiting as
 * write + drain do (so at most about high_water + 64 KiB is buffered).
 * Either way the file is read on the loop thread (page-cache hits are
 * cheap; a cold, slow disk stalls the loop meanwhile).
 * Returns the count sent: count, or less when the file ends first (0 if
 * offset is at or past its end). On an error it returns the error, and
 * *sent (sent may be NULL; also set on success) counts the file's bytes
 * that went out before it: taken by the kernel, or queued in the output
 * buffer where they go out like written bytes. After -ECANCELED or
 * -ETIMEDOUT the caller may resume at offset + *sent, or treat the message
 * as cut. Errors: the file's (-EIO, -EBADF, -ESPIPE for a pipe, -EINVAL),
 * the stream's as for write and flush, -EBUSY (another task in drain /
 * flush / sendfile), -EBADF (closed meanwhile), -EINVAL (offset < 0).
 * While it runs, writes from other tasks fail with -EBUSY. May suspend. */
CIO_API ssize_t cio_stream_sendfile(cio_stream *s, int fd, off_t offset, size_t count,
                                    size_t *sent);

/* Suspend until the output buffer is at or below the low-water mark (when
 * it is above the high-water mark; otherwise returns at once, after a
 * cancellation check). 0 or an error; -EBUSY while another task is in
 * drain / flush / shutdown_write / sendfile on s. May suspend. */
CIO_API int cio_stream_drain(cio_stream *s);

/* Flush everything buffered (drain to zero): every byte written has been
 * taken by the kernel when it returns 0 (over TLS: every record). Errors
 * and -EBUSY as drain. May suspend. */
CIO_API int cio_stream_flush(cio_stream *s);

/* Half-close: flush, then shut down the sending side (asyncio write_eof;
 * over TLS, send close_notify). The peer reads EOF; reading from s goes on.
 * On the write end of a pipe (a process's stdin) the pipe is closed; other
 * non-sockets give -ENOTSOCK. -EBUSY as drain. May suspend. */
CIO_API int cio_stream_shutdown_write(cio_stream *s);

/* Start closing: pending output is flushed in the background (bounded by
 * the loop's life), then the fd is closed; reads and writes fail with
 * -EBADF from now on, and a task waiting in a read gets -EBADF. Never
 * frees: the stream must still be freed. Returns 0 (also when closing or
 * closed already), or the error that made buffered output undeliverable
 * right away (-EPIPE, -ECONNRESET...: that output is dropped; an error met
 * later in the background is cio_stream_wait_closed's). Never suspends. */
CIO_API int cio_stream_close(cio_stream *s);
/* Suspend until the stream is closed (a close started by cio_stream_close
 * has flushed, or failed). Returns 0 when everything buffered went out, the
 * error that made the close drop buffered output (-EPIPE, -ECONNRESET...),
 * -ECANCELED, -ETIMEDOUT, -EBADF when the stream is freed meanwhile; one
 * waiter at a time (-EBUSY). May suspend. */
CIO_API int cio_stream_wait_closed(cio_stream *s);
/* Free s, closing it at once first if needed (pending output dropped; over
 * TLS a close_notify is sent if the socket takes it now). Tasks suspended
 * in a call on s get -EBADF and must not touch s again. NULL is a no-op.
 * Never suspends. */
CIO_API void cio_stream_free(cio_stream *s);

/* Addresses of a socket stream (getpeername / getsockname). 0 or -errno
 * (-EBADF after close, -ENOTSOCK). Never suspends. */
CIO_API int cio_stream_peername(cio_stream *s, struct sockaddr_storage *addr, socklen_t *len);
CIO_API int cio_stream_sockname(cio_stream *s, struct sockaddr_storage *addr, socklen_t *len);
/* "ip:port" / "[ip6]:port" / "unix:path" of the peer into buf (cap bytes,
 * NUL-terminated). 0 or -errno (-ENOSPC when cap is too small). Never
 * suspends. */
CIO_API int cio_stream_peer_string(cio_stream *s, char *buf, size_t cap);

/* The descriptor (borrowed: the stream owns it), or -1 once closed. Never
 * suspends. */
CIO_API int cio_stream_fd(const cio_stream *s);

/* ---- transports (used by TLS; most users never call this) ----
 * A transport moves bytes for the stream. read/write return a count, 0 (EOF,
 * read only), or a negative errno; -EAGAIN means "would block" and the
 * transport reports what it waits for in *want (CIO_READABLE, CIO_WRITABLE
 * or both: TLS may need to read in order to write, or to push out what it
 * owes the peer before reading on). Only -EAGAIN makes the stream wait: a
 * short count from write means "call again" (TLS returns after each
 * record), and the stream does so at once. After a write returned -EAGAIN,
 * the stream's next write call starts with the same bytes, at least as many
 * (possibly at another address), so a transport may have taken some of
 * them already and report them then (OpenSSL's retry rule). shutdown sends
 * an end-of-stream (0, -EAGAIN + *want, or an error); close releases the
 * transport (not the fd). The ops must never suspend: write and shutdown
 * also run from the reactor's callbacks (background flush, close). read
 * must return buffered plaintext before reporting -EAGAIN: the stream calls
 * it again after every successful read, and waits only after -EAGAIN. */
typedef struct cio_transport_ops {
  ssize_t (*read)(void *ctx, int fd, void *buf, size_t n, int *want);
  ssize_t (*write)(void *ctx, int fd, const void *buf, size_t n, int *want);
  int (*shutdown)(void *ctx, int fd, int *want);
  void (*close)(void *ctx);
} cio_transport_ops;

/* Replace the stream's transport (the fd stays); the old one is closed;
 * ops NULL = back to the plain fd. Returns 0, -EBADF if closed, -EINVAL, or
 * -EBUSY if input is buffered or output is pending (a switch such as
 * STARTTLS must happen at a quiet point of the protocol). Never suspends. */
CIO_API int cio_stream_set_transport(cio_stream *s, const cio_transport_ops *ops, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
