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

typedef struct cio_connect_opts {
  double timeout;            /* whole connect (all addresses); 0 = none */
  int family;                /* AF_UNSPEC (0), AF_INET or AF_INET6 */
  cio_tls_ctx *tls;          /* non-NULL: TLS client on top (cio/tls.h) */
  const char *server_name;   /* TLS SNI + verified name; NULL = host */
  cio_stream_opts stream;
} cio_connect_opts;

/* asyncio.open_connection(): resolve host, connect to port (trying every
 * address), wrap in a stream. opts may be NULL. On success *out owns the
 * connection. Returns 0, -ETIMEDOUT, -ECANCELED, -ECONNREFUSED, a resolver
 * error (cio/dns.h), or another -errno. May suspend. */
CIO_API int cio_open_connection(const char *host, int port, const cio_connect_opts *opts,
                                cio_stream **out);
/* Same over a Unix-domain stream socket. */
CIO_API int cio_open_unix_connection(const char *path, const cio_connect_opts *opts,
                                     cio_stream **out);

/* ---- servers ---- */

typedef struct cio_server cio_server;

/* Runs as its own task per connection. The server owns the stream: it is
 * freed (closed) after the handler returns. The status is ignored (reported
 * in debug mode when negative). */
typedef int (*cio_conn_handler)(cio_stream *s, void *arg);

typedef struct cio_server_opts {
  int backlog;               /* listen() backlog; 0 = 511 */
  int reuseport;             /* SO_REUSEPORT */
  double idle_timeout;       /* > 0: a connection idle (no byte read) this long
                                gets its handler cancelled */
  size_t stack_size;         /* handler task stacks; 0 = loop default */
  cio_tls_ctx *tls;          /* non-NULL: TLS server handshake before handler */
  cio_stream_opts stream;
} cio_server_opts;

/* asyncio.start_server(): bind, listen and start accepting in the
 * background (one handler task per connection). host NULL or "" = all
 * interfaces; port 0 = any (see cio_server_port). Returns NULL + errno on
 * failure (EADDRINUSE, a resolver error...). The caller owns the server.
 * On EMFILE/ENFILE accept backs off briefly and keeps serving. */
CIO_API cio_server *cio_start_server(const char *host, int port, cio_conn_handler handler,
                                     void *arg, const cio_server_opts *opts);
CIO_API cio_server *cio_start_unix_server(const char *path, cio_conn_handler handler,
                                          void *arg, const cio_server_opts *opts);

/* Bound port (useful with port 0). */
CIO_API int cio_server_port(const cio_server *s);
/* Number of connections being handled now. */
CIO_API size_t cio_server_connections(const cio_server *s);

/* Suspend until the server is closed (by cio_server_close from another
 * task) or the caller is cancelled. May suspend. */
CIO_API int cio_server_serve_forever(cio_server *s);

/* Graceful shutdown: stop accepting, give running handlers `grace` seconds
 * to finish, then cancel the rest and wait for them. May suspend. Returns 0
 * or -ECANCELED. */
CIO_API int cio_server_close(cio_server *s, double grace);

/* Free a closed server (closes it at once, cancelling handlers, if needed;
 * never suspends: handlers cancelled here finish on their own). */
CIO_API void cio_server_free(cio_server *s);

/* ---- UDP ---- */

typedef struct cio_udp cio_udp;

/* Bind a UDP socket to host:port (NULL host = any, port 0 = any) and, if
 * remote_host is non-NULL, connect it to remote_host:remote_port. NULL +
 * errno on failure. */
CIO_API cio_udp *cio_udp_open(const char *host, int port, const char *remote_host,
                              int remote_port);
/* Send one datagram (to the connected peer when addr is NULL). Returns the
 * size sent or -errno. May suspend. */
CIO_API ssize_t cio_udp_sendto(cio_udp *u, const void *buf, size_t n,
                               const struct sockaddr *addr, socklen_t alen);
/* Receive one datagram (truncated to cap). addr/alen may be NULL. Returns
 * its size or -errno. May suspend. */
CIO_API ssize_t cio_udp_recvfrom(cio_udp *u, void *buf, size_t cap,
                                 struct sockaddr_storage *addr, socklen_t *alen);
CIO_API int cio_udp_sockname(cio_udp *u, struct sockaddr_storage *addr, socklen_t *len);
CIO_API int cio_udp_fd(const cio_udp *u);
CIO_API void cio_udp_close(cio_udp *u);

#ifdef __cplusplus
}
#endif
#endif
