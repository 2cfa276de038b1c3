/* cio/tls.h - TLS (OpenSSL 3) on top of cio streams.
 *
 * A cio_tls_ctx holds configuration shared by many connections (trusted
 * CAs, certificate and key); cio_stream_start_tls() runs the handshake on an
 * open stream and from then on the stream's reads and writes are encrypted
 * (it installs a TLS transport, cio/stream.h). cio_open_connection() and
 * servers do this for you when their options carry a context (cio/net.h).
 *
 * Secure by default: a client context verifies the server's certificate
 * against the system's CA store (or the CAs given) and checks that it names
 * the host asked for; SNI is sent for host names. Protocol versions below
 * TLS 1.2 are refused.
 *
 * EOF: a peer's close_notify reads as EOF (0). So does a peer that closes the
 * connection without one after the handshake, as Go and most HTTP stacks
 * accept: protocols that need to detect truncation must frame their data.
 * cio_stream_shutdown_write() sends close_notify; cio_stream_close() and
 * cio_stream_free() send it when they can without waiting.
 *
 * Errors: -CIO_ECERT (peer certificate rejected: untrusted, wrong name,
 * expired...), -CIO_ETLS (any other TLS failure), -ECONNRESET / -EPIPE (the
 * peer went away), plus the usual -ECANCELED / -ETIMEDOUT. After a failure
 * cio_tls_last_error() says what happened in words.
 *
 * Contexts may be shared by loops on several threads once created; streams
 * are loop-thread only like every stream. Link with cio-io.
 */
#ifndef CIO_TLS_H
#define CIO_TLS_H

#include "stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_tls_ctx cio_tls_ctx; /* also declared in cio/net.h */

#define CIO_TLS_1_2 12
#define CIO_TLS_1_3 13

typedef struct cio_tls_client_opts {
  const char *ca_file;   /* PEM file of trusted CAs; with ca_path NULL too:
                            the system store */
  const char *ca_path;   /* directory of hashed CA certificates */
  const char *cert_file; /* client certificate chain (PEM), for servers that
                            ask for one; NULL = none */
  const char *key_file;  /* its private key (PEM); NULL = in cert_file */
  int min_version;       /* 0 = CIO_TLS_1_2, or CIO_TLS_1_3 */
  int insecure;          /* 1 = accept any certificate and any name. For
                            tests against self-signed peers only */
} cio_tls_client_opts;

typedef struct cio_tls_server_opts {
  const char *cert_file;      /* certificate chain, PEM, leaf first (required) */
  const char *key_file;       /* private key, PEM; NULL = in cert_file */
  const char *client_ca_file; /* non-NULL: ask clients for a certificate and
                             verify it against these CAs (PEM) */
  int require_client_cert;    /* with client_ca_file: refuse clients without one */
  int min_version;            /* 0 = CIO_TLS_1_2, or CIO_TLS_1_3 */
} cio_tls_server_opts;

/* Create a client context (opts NULL = defaults: verify against the system
 * store; opts and its strings are read during the call only). Returns NULL
 * with errno: ENOENT/EACCES (a file cannot be read), EINVAL (bad option),
 * CIO_ETLS (OpenSSL rejected a file: see cio_tls_last_error()), ENOMEM.
 * The caller owns it (cio_tls_ctx_free). Any thread; never suspends (it
 * reads the files on the calling thread). */
CIO_API cio_tls_ctx *cio_tls_ctx_new_client(const cio_tls_client_opts *opts);

/* Create a server context (opts required: cert_file at least). Same errors
 * and ownership; a key that does not match the certificate is CIO_ETLS.
 * Never suspends (it reads the files on the calling thread). */
CIO_API cio_tls_ctx *cio_tls_ctx_new_server(const cio_tls_server_opts *opts);

/* Free a context (NULL is fine). Streams already using it keep working:
 * they hold their own reference to the OpenSSL state; a server whose
 * options name it must be closed first. Any thread; never suspends. */
CIO_API void cio_tls_ctx_free(cio_tls_ctx *ctx);

/* The underlying SSL_CTX * (borrowed: owned by ctx), for settings this API
 * does not cover (ALPN, ciphers, session caching). Change it before the
 * first handshake. Never suspends. */
CIO_API void *cio_tls_ctx_native(cio_tls_ctx *ctx);

/* Run the TLS handshake on s and switch it to TLS. The role comes from ctx
 * (client or server). server_name (client only): the name sent as SNI (not
 * for IP literals) and checked against the certificate (DNS name or IP
 * address); required unless the context is insecure. Ignored by servers.
 * s must be at a quiet point: nothing buffered either way (a STARTTLS-style
 * switch reads exactly the plaintext reply first) - else -EBUSY; and no
 * other task may use s until this returns.
 * Returns 0, -CIO_ECERT, -CIO_ETLS, -ECONNRESET (peer closed during the
 * handshake), -ECANCELED, -ETIMEDOUT, -EINVAL, -EBUSY, -EBADF, -EPERM
 * (outside a task), -ENOMEM. After a failure the stream can only be closed
 * or freed (its reads and writes fail). May suspend. */
CIO_API int cio_stream_start_tls(cio_stream *s, cio_tls_ctx *ctx, const char *server_name);

/* Words on the last TLS failure on this thread (handshake, read, write, or
 * context creation): e.g. "certificate verify failed: unable to get local
 * issuer certificate". Static per-thread buffer, overwritten by the next
 * failure; "" if none yet. Never NULL; never suspends. */
CIO_API const char *cio_tls_last_error(void);

#ifdef __cplusplus
}
#endif
#endif
