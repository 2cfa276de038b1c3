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
 * -EMSGSIZE (line longer than the limit), -EBADF (stream closed). After an
 * I/O error the stream stays usable only for close/free. A read that returns
 * -ECANCELED or -ETIMEDOUT loses no bytes: they stay buffered for the next
 * read (readexactly beyond the buffer size excepted, see there). Calls that
 * may wait check for cancellation on entry (see common.h), and a task whose
 * calls keep completing without waiting yields now and then (every 32), so
 * a peer that always has data ready cannot make it starve the loop.
 * One task may read and another write at the same time; two readers (or two
 * tasks in drain/flush) at once get -EBUSY. Freeing a stream while another
 * task is suspended in one of its calls wakes that task with -EBADF.
 *
 * Ownership: cio_stream_new takes the fd; cio_stream_free closes it (and
 * frees everything). Loop thread only. Link with cio-io.
 */
#ifndef CIO_STREAM_H
#define CIO_STREAM_H

#include "io.h"

#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_stream cio_stream;

typedef struct cio_stream_opts {
  size_t read_buffer; /* read buffer (allocated at the first read; reads
                         of at least a quarter of it go straight to the
                         caller's buffer); 0 = 64 KiB */
  size_t limit;       /* max line for readline/readuntil (the buffer grows
                         to it if smaller); 0 = 64 KiB */
  size_t high_water;  /* drain() waits while more is buffered; 0 = 64 KiB */
  size_t low_water;   /* ... until at most this much is; 0 = high/4 */
} cio_stream_opts;

/* Wrap a connected non-blocking (it is made so) fd. opts may be NULL.
 * NULL + errno ENOMEM / EINVAL. The stream owns fd from here on. */
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
 * Returns the line length; at EOF a last line without '\n' is returned as is,
 * then 0. A line longer than min(cap, limit) is an error (-EMSGSIZE) and is
 * consumed up to its end so the stream can go on. May suspend. */
CIO_API ssize_t cio_stream_readline(cio_stream *s, char *buf, size_t cap);

/* Like readline with any delimiter (asyncio readuntil); the result includes
 * the delimiter. On EOF before the delimiter: -EPIPE with the partial data
 * (consumed) in buf and counted in *got (got may be NULL). -EINVAL for an
 * empty delimiter or cap 0. May suspend. */
CIO_API ssize_t cio_stream_readuntil(cio_stream *s, const void *delim, size_t dlen, void *buf,
                                     size_t cap, size_t *got);

/* Bytes already buffered (readable without waiting). */
CIO_API size_t cio_stream_buffered(const cio_stream *s);
/* Bytes written but not yet taken by the kernel (asyncio's
 * get_write_buffer_size). With write+drain it stays <= high_water plus the
 * size of one write. */
CIO_API size_t cio_stream_write_buffered(const cio_stream *s);

/* Send n bytes: when nothing is queued they go to the kernel at once and
 * only what it does not take is copied and sent in the background. Never
 * suspends; returns 0, or an error (-EPIPE, -ECONNRESET... also one
 * recorded earlier by the background flush), -EBADF after close, -ENOMEM.
 * Call drain() to apply back-pressure. */
CIO_API int cio_stream_write(cio_stream *s, const void *buf, size_t n);

/* Suspend until the output buffer is at or below the low-water mark (when
 * it is above the high-water mark; otherwise returns at once, after a
 * cancellation check). 0 or an error. */
CIO_API int cio_stream_drain(cio_stream *s);

/* Flush everything buffered (drain to zero). May suspend. */
CIO_API int cio_stream_flush(cio_stream *s);

/* Half-close: flush, then shut down the sending side (asyncio write_eof).
 * The peer reads EOF; reading from s goes on. On the write end of a pipe (a
 * process's stdin) the pipe is closed; other non-sockets give -ENOTSOCK.
 * May suspend. */
CIO_API int cio_stream_shutdown_write(cio_stream *s);

/* Start closing: pending output is flushed in the background (bounded by
 * the loop's life), then the fd is closed; reads fail with -EBADF from now
 * on. The stream must still be freed. Does not suspend. */
CIO_API void cio_stream_close(cio_stream *s);
/* Suspend until the stream is closed (a close started by cio_stream_close
 * has flushed, or failed). 0, -ECANCELED, -ETIMEDOUT; one waiter at a time
 * (-EBUSY). */
CIO_API int cio_stream_wait_closed(cio_stream *s);
/* Close at once (pending output dropped) and free. Never suspends. NULL is
 * a no-op. */
CIO_API void cio_stream_free(cio_stream *s);

/* Addresses of a socket stream (getpeername / getsockname). 0 or -errno. */
CIO_API int cio_stream_peername(cio_stream *s, struct sockaddr_storage *addr, socklen_t *len);
CIO_API int cio_stream_sockname(cio_stream *s, struct sockaddr_storage *addr, socklen_t *len);
/* "ip:port" / "[ip6]:port" / "unix:path" of the peer into buf. 0 or -errno. */
CIO_API int cio_stream_peer_string(cio_stream *s, char *buf, size_t cap);

CIO_API int cio_stream_fd(const cio_stream *s);

/* ---- transports (used by TLS; most users never call this) ----
 * A transport moves bytes for the stream. read/write return a count, 0 (EOF,
 * read only), or a negative errno; -EAGAIN means "would block" and the
 * transport reports what it waits for in *want (CIO_READABLE/CIO_WRITABLE:
 * TLS may need to read in order to write). shutdown sends an end-of-stream
 * (0, -EAGAIN + *want, or an error); close releases the transport (not the
 * fd). The ops must never suspend: write and shutdown also run from the
 * reactor's callbacks (background flush, close). read must return buffered
 * plaintext before reporting -EAGAIN: the stream calls it again after every
 * successful read, and waits only after -EAGAIN. */
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
