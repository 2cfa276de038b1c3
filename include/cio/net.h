/* cio/net.h - TCP, Unix-domain and UDP sockets: connect, serve, datagrams.
 *
 * Names are resolved without blocking the loop (cio/dns.h) and every
 * address a name resolves to is tried in turn. All calls are loop-thread
 * only and follow the status-code conventions of cio/common.h. Link with
 * cio-io.
 */
#ifndef CIO_NET_H
#define CIO_NET_H

#include "stream.h"

#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_tls_ctx cio_tls_ctx; /* cio/tls.h */

/* Zeroed options are the defaults. */
typedef struct cio_connect_opts {
  double timeout;          /* whole call: resolving, connecting (all
                              addresses), TLS handshake; 0 (the default) or
                              CIO_FOREVER: no limit of its own (the
                              caller's timeout scopes still apply) */
  int family;              /* AF_UNSPEC (0), AF_INET or AF_INET6 */
  cio_tls_ctx *tls;        /* non-NULL: TLS client on top (cio/tls.h) */
  const char *server_name; /* TLS SNI + verified name; NULL = host */
  cio_stream_opts stream;
} cio_connect_opts;

/* asyncio.open_connection(): resolve host (cio_getaddrinfo, cio/dns.h),
 * connect to port trying every address in order, wrap in a stream (TCP_NODELAY
 * set, as asyncio does). opts may be NULL. On success *out is a stream the
 * caller owns (cio_stream_free); on failure *out is NULL. Returns 0,
 * -ETIMEDOUT, -ECANCELED, -ECONNREFUSED (the last address's error when all
 * fail), a resolver error (-CIO_ENONAME, -CIO_EDNS), -EINVAL (bad port, out
 * NULL), -EPERM outside a task, a TLS error (-CIO_ETLS, -CIO_ECERT), or
 * another -errno. opts (and its tls context) is used during the call only.
 * May suspend. Loop thread only. */
CIO_API int cio_open_connection(const char *host, int port, const cio_connect_opts *opts,
                                cio_stream **out);
/* Same over a Unix-domain stream socket. A path starting with '@' names
 * Linux's abstract namespace. A full listen backlog (EAGAIN) is retried with
 * a short back-off until opts->timeout. Same returns, plus -ENAMETOOLONG;
 * -ENOENT / -ECONNREFUSED when nothing listens at path. May suspend. Loop
 * thread only. */
CIO_API int cio_open_unix_connection(const char *path, const cio_connect_opts *opts,
                                     cio_stream **out);

/* ---- servers ---- */

typedef struct cio_server cio_server;

/* Runs as its own task per connection, named after the peer ("conn
 * 127.0.0.1:5555", "conn [::1]:5555", "conn unix:/run/app.sock"). The
 * server owns the stream: after the handler returns, output still buffered
 * is flushed (unless the connection is being cancelled), then the stream is
 * freed. The status is ignored; in debug mode a negative one is reported,
 * except -ECANCELED and a peer gone away (-ECONNRESET, -EPIPE), which are a
 * connection's normal ends. */
typedef int (*cio_conn_handler)(cio_stream *s, void *arg);

/* Zeroed options are the defaults. */
typedef struct cio_server_opts {
  size_t backlog;           /* listen() backlog; 0 = 511 (the kernel caps it
                               at net.core.somaxconn) */
  int reuseport;            /* 1 = SO_REUSEPORT */
  double idle_timeout;      /* > 0: a connection that made no progress in
                               either direction (received no byte, and the
                               peer took no byte of its output) for this
                               long gets its handler cancelled (checked by
                               a sweep every idle/4, so it fires between
                               idle and 1.25 idle); 0 (the default) or
                               CIO_FOREVER: none */
  double handshake_timeout; /* with tls: a TLS handshake not done within
                               this many seconds fails and the connection is
                               closed without running the handler; 0 = 60 s
                               (asyncio's default), CIO_FOREVER = none */
  size_t stack_size;        /* handler task stacks; 0 = loop default */
  cio_tls_ctx *tls;         /* non-NULL: TLS server handshake before handler
                               (borrowed: must outlive the server) */
  cio_stream_opts stream;
} cio_server_opts;

/* asyncio.start_server(): bind, listen and start accepting in the
 * background (one handler task per connection). host NULL or "" = all
 * interfaces (dual-stack IPv6 when available, else IPv4); otherwise the
 * first address host resolves to. port 0 = any (see cio_server_port).
 * SO_REUSEADDR is always set. opts may be NULL (copied; its tls context is
 * borrowed). arg is borrowed: it must stay valid until cio_server_close()
 * has returned (or, after cio_server_free() alone, until every handler has
 * finished).
 * On success *out is the server, owned by the caller (cio_server_close,
 * then cio_server_free); on failure *out is NULL. Returns 0, -EINVAL
 * (handler or out NULL, port out of range), -EADDRINUSE, -EACCES, a
 * resolver code (-CIO_ENONAME, -CIO_EDNS), -ECANCELED / -ETIMEDOUT (while
 * resolving), -EPERM (no loop on this thread, or a name that needs DNS
 * outside a task), -ENOMEM, or another -errno of socket/bind/listen.
 * On EMFILE/ENFILE accept backs off (10 to 100 ms) and keeps serving.
 * May suspend (to resolve a host name that is not numeric or "localhost";
 * also a cancellation point on entry). Loop thread only. */
CIO_API int cio_start_server(const char *host, int port, cio_conn_handler handler, void *arg,
                             const cio_server_opts *opts, cio_server **out);
/* The same on a Unix-domain stream socket at path ('@' first: Linux's
 * abstract namespace). A socket file left at path by an earlier run is
 * replaced; the server removes its file when it closes. Returns as
 * cio_start_server, plus -ENAMETOOLONG. Never suspends (it is still a
 * cancellation point on entry). Loop thread only. */
CIO_API int cio_start_unix_server(const char *path, cio_conn_handler handler, void *arg,
                                  const cio_server_opts *opts, cio_server **out);

/* The bound TCP port (useful with port 0); 0 for a Unix-domain server.
 * Never suspends. */
CIO_API int cio_server_port(const cio_server *s);
/* Number of connections being handled now. Never suspends. */
CIO_API size_t cio_server_connections(const cio_server *s);

/* Suspend until the server stops accepting (cio_server_close or
 * cio_server_free from elsewhere). 0, -ECANCELED, -ETIMEDOUT, -EPERM
 * outside a task. May suspend. Loop thread only. */
CIO_API int cio_server_serve_forever(cio_server *s);

/* Graceful shutdown: stop accepting (the listening socket is closed, a Unix
 * socket file removed), give running handlers `grace` seconds to finish
 * (0: none, they are cancelled at once; CIO_FOREVER: wait for them without
 * a limit), then cancel the rest and wait for them. When it returns, no handler of
 * the server is running any more, so the arg given to cio_start_server()
 * may go (it often lives on the caller's stack) - also when the caller is
 * cancelled or its timeout scope expires meanwhile: it then cancels the
 * handlers at once, waits for them to unwind whatever happens (as
 * cio_await() does; a handler that ignores its cancellation holds the call
 * up), and returns -ECANCELED / -ETIMEDOUT. The exception: called from one
 * of the server's own handlers, it neither cancels nor waits for that one,
 * and if interrupted it returns at once (the other handlers' arg is not the
 * caller's). Returns 0, -ECANCELED, -ETIMEDOUT, -EPERM outside a task.
 * Calling it again is fine. Never frees: cio_server_free() does. May
 * suspend. Loop thread only. */
CIO_API int cio_server_close(cio_server *s, double grace);

/* Free the server, closing it at once if needed: it stops accepting and
 * cancels every handler still running, but never suspends, so it does not
 * wait for them: handlers cancelled here finish on their own, after it has
 * returned, and may still use the server's arg until then. To be sure none
 * outlives its arg, call cio_server_close() first (from a task). Tasks
 * suspended in cio_server_serve_forever() return 0; a task inside
 * cio_server_close() finishes that call safely. NULL is a no-op. Never
 * suspends. Loop thread only (or any thread once the loop has closed). */
CIO_API void cio_server_free(cio_server *s);

/* ---- slow and stalled peers ----
 *
 * What the server bounds on its own: the TLS handshake (handshake_timeout,
 * 60 s unless set) and, with idle_timeout, connections on which nothing
 * moves in either direction. What it cannot bound without knowing the
 * protocol is a peer that sends too slowly: a client trickling one byte a
 * second keeps an idle timeout from firing, yet an idle keep-alive
 * connection or a small complete message look the same to a byte counter.
 * Protocol layers (the HTTP server) and handlers therefore put a deadline
 * on each request with a timeout scope (cio/timeout.h), from the moment the
 * request starts to the moment it has been read:
 *
 *   cio_timeout_scope sc;
 *   cio_timeout_begin(&sc, 30.0);            // the whole request head
 *   n = read_request_head(s, ...);           // -ETIMEDOUT: answer 408, close
 *   cio_timeout_end(&sc);
 *
 * and for a body of known length, a deadline that grows with it (a minimum
 * rate): base + length / min_rate seconds, or cio_timeout_reschedule() as
 * bytes arrive. Waiting for the next request on a kept-alive connection is
 * bounded separately (a scope around the wait for its first byte, or
 * idle_timeout). Unlike cancellation, the scope lets the layer answer
 * before it closes. See docs/IO.md, "Slow and stalled peers". */

/* ---- UDP ---- */

typedef struct cio_udp cio_udp;

/* Bind a UDP socket to host:port (NULL host = any, port 0 = any) and, if
 * remote_host is non-NULL, connect it to remote_host:remote_port (the local
 * address then takes the remote's family). On success *out is the socket,
 * owned by the caller (cio_udp_free); on failure *out is NULL. Returns 0,
 * -EINVAL (a port out of range, out NULL), -EADDRINUSE, a resolver code,
 * -ECANCELED / -ETIMEDOUT (while resolving), -EPERM (a name that needs DNS
 * outside a task), -ENOMEM, or another -errno. May suspend (to resolve
 * names that are not numeric or "localhost"; also a cancellation point on
 * entry). Loop thread only. */
CIO_API int cio_udp_open(const char *host, int port, const char *remote_host, int remote_port,
                         cio_udp **out);
/* Send one datagram (to the connected peer when addr is NULL). Returns the
 * size sent, -EBADF after cio_udp_close, -ECANCELED, -ETIMEDOUT, or another
 * -errno (-EMSGSIZE, -ECONNREFUSED...). May suspend. Loop thread only. */
CIO_API ssize_t cio_udp_sendto(cio_udp *u, const void *buf, size_t n, const struct sockaddr *addr,
                               socklen_t alen);
/* Receive one datagram (truncated to cap). addr/alen may be NULL. Returns
 * its size, -EBADF after cio_udp_close (also for a task waiting here when
 * it is closed or freed), -ECONNREFUSED (a connected socket after an ICMP
 * port-unreachable), -ECANCELED, -ETIMEDOUT, or another -errno. May
 * suspend. Loop thread only. */
CIO_API ssize_t cio_udp_recvfrom(cio_udp *u, void *buf, size_t cap, struct sockaddr_storage *addr,
                                 socklen_t *alen);
/* getsockname(2): 0, -EBADF after close, or -errno. Never suspends. */
CIO_API int cio_udp_sockname(cio_udp *u, struct sockaddr_storage *addr, socklen_t *len);
/* The descriptor (borrowed), or -1 after close. Never suspends. */
CIO_API int cio_udp_fd(const cio_udp *u);
/* Close the socket: tasks waiting in u get -EBADF, later calls too. Never
 * frees (cio_udp_free does). Returns 0 (also when already closed) or
 * close's error. Never suspends. Loop thread only. */
CIO_API int cio_udp_close(cio_udp *u);
/* Free u, closing it first if needed. NULL is a no-op. Never suspends. */
CIO_API void cio_udp_free(cio_udp *u);

#ifdef __cplusplus
}
#endif
#endif
