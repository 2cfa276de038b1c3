/* tls.c - OpenSSL 3 as a stream transport.
 *
 * The SSL object talks to the socket through a tiny BIO of our own: recv()
 * and send(MSG_NOSIGNAL) (OpenSSL's socket BIO uses write(), which raises
 * SIGPIPE on a reset connection), recording errno for the error mapping.
 * OpenSSL never blocks: WANT_READ / WANT_WRITE become -EAGAIN with the
 * direction in *want, and the stream (or the handshake loop here) waits with
 * cio_wait_fd.
 *
 * Writes use SSL_MODE_ENABLE_PARTIAL_WRITE (a count comes back after each
 * record, so the stream's accounting stays exact) and
 * SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER: after -EAGAIN the stream retries from
 * its own buffer, with the same leading bytes at another address - exactly
 * what OpenSSL's retry rule asks.
 */
#include "io_internal.h"
#include "cio/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct cio_tls_ctx {
  SSL_CTX *ssl;
  int client;
  int verify; /* client: check the peer's certificate and name */
};

typedef struct tls_conn {
  SSL *ssl;
  int fd;
  int sys_err;      /* errno of the BIO's last failed socket call */
  int failed;       /* sticky error once a fatal error happened */
  int established;  /* handshake done */
  int shut;         /* close_notify sent (and flushed) */
} tls_conn;

static _Thread_local char tls_err[256];

const char *cio_tls_last_error(void) { return tls_err; }

static void set_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tls_err, sizeof tls_err, fmt, ap);
  va_end(ap);
}

/* "what: <OpenSSL's reason>" from the error queue (cleared). */
static void set_ssl_error(const char *what) {
  unsigned long e = ERR_peek_last_error();
  if (e) {
    char buf[200];
    ERR_error_string_n(e, buf, sizeof buf);
    set_error("%s: %s", what, buf);
  } else {
    set_error("%s", what);
  }
  ERR_clear_error();
}

/* ---- the BIO ---- */

static BIO_METHOD *bio_method;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static int bio_write(BIO *b, const char *buf, int len) {
  tls_conn *t = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  for (;;) {
    ssize_t n = send(t->fd, buf, (size_t)len, MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) n = write(t->fd, buf, (size_t)len); /* a pipe */
    if (n >= 0) return (int)n;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      BIO_set_retry_write(b);
    else
      t->sys_err = errno;
    return -1;
  }
}

static int bio_read(BIO *b, char *buf, int len) {
  tls_conn *t = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  for (;;) {
    ssize_t n = read(t->fd, buf, (size_t)len);
    if (n >= 0) return (int)n;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      BIO_set_retry_read(b);
    else
      t->sys_err = errno;
    return -1;
  }
}

static int bio_puts(BIO *b, const char *s) { return bio_write(b, s, (int)strlen(s)); }

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
  (void)b, (void)num, (void)ptr;
  return cmd == BIO_CTRL_FLUSH || cmd == BIO_CTRL_DUP ? 1 : 0;
}

static int bio_create(BIO *b) {
  BIO_set_init(b, 1);
  return 1;
}

static void bio_method_init(void) {
  BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "cio socket");
  if (!m) return;
  BIO_meth_set_write(m, bio_write);
  BIO_meth_set_read(m, bio_read);
  BIO_meth_set_puts(m, bio_puts);
  BIO_meth_set_ctrl(m, bio_ctrl);
  BIO_meth_set_create(m, bio_create);
  bio_method = m; /* lives as long as the process */
}

/* ---- errors ---- */

static int is_ip(const char *s) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* Map a failed SSL call (ret <= 0) to -EAGAIN (+ *want) or a final error,
 * recorded in t->failed and described for cio_tls_last_error(). */
static int tls_fail(tls_conn *t, int ret, int *want, const char *what) {
  int e = SSL_get_error(t->ssl, ret);
  int r;
  switch (e) {
  case SSL_ERROR_WANT_READ:
    *want = CIO_READABLE;
    ERR_clear_error();
    return -EAGAIN;
  case SSL_ERROR_WANT_WRITE:
    *want = CIO_WRITABLE;
    ERR_clear_error();
    return -EAGAIN;
  case SSL_ERROR_ZERO_RETURN: /* only before the handshake ends: reads map it to EOF */
    r = -ECONNRESET;
    set_error("%s: peer closed the connection", what);
    ERR_clear_error();
    break;
  case SSL_ERROR_SYSCALL:
    r = t->sys_err ? -t->sys_err : -ECONNRESET;
    if (t->sys_err)
      set_error("%s: %s", what, strerror(t->sys_err));
    else
      set_error("%s: peer closed the connection", what);
    ERR_clear_error();
    break;
  case SSL_ERROR_SSL: {
    long v = SSL_get_verify_result(t->ssl);
    unsigned long top = ERR_peek_last_error();
    int reason = ERR_GET_REASON(top);
    if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
      set_error("%s: peer closed the connection", what);
      ERR_clear_error();
      r = -ECONNRESET;
    } else if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
      set_error("%s: the peer sent no certificate", what);
      ERR_clear_error();
      r = -CIO_ECERT;
    } else if (v != X509_V_OK && reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
      set_error("%s: certificate verify failed: %s", what, X509_verify_cert_error_string(v));
      ERR_clear_error();
      r = -CIO_ECERT;
    } else {
      set_ssl_error(what);
      r = -CIO_ETLS;
    }
    break;
  }
  default:
    set_ssl_error(what);
    r = -CIO_ETLS;
    break;
  }
  t->failed = r;
  return r;
}

/* ---- the transport ---- */

static ssize_t tls_read(void *ctx, int fd, void *buf, size_t n, int *want) {
  tls_conn *t = ctx;
  (void)fd;
  if (t->failed) return t->failed;
  if (n == 0) return 0;
  size_t got = 0;
  t->sys_err = 0;
  ERR_clear_error();
  if (SSL_read_ex(t->ssl, buf, n, &got)) return (ssize_t)got;
  int e = SSL_get_error(t->ssl, 0);
  if (e == SSL_ERROR_ZERO_RETURN) { /* close_notify, or EOF (see tls.h) */
    ERR_clear_error();
    return 0;
  }
  return tls_fail(t, 0, want, "TLS read");
}

static ssize_t tls_write(void *ctx, int fd, const void *buf, size_t n, int *want) {
  tls_conn *t = ctx;
  (void)fd;
  if (t->failed) return t->failed;
  if (t->shut) return -EPIPE;
  if (n == 0) return 0;
  size_t put = 0;
  t->sys_err = 0;
  ERR_clear_error();
  if (SSL_write_ex(t->ssl, buf, n, &put)) return (ssize_t)put;
  return tls_fail(t, 0, want, "TLS write");
}

static int tls_shutdown(void *ctx, int fd, int *want) {
  tls_conn *t = ctx;
  (void)fd;
  if (t->shut || !t->established) return 0;
  if (t->failed) return t->failed;
  t->sys_err = 0;
  ERR_clear_error();
  /* 0 = sent, the peer's close_notify not seen yet: fine for a half-close.
   * Called again after -EAGAIN it finishes sending. */
  int r = SSL_shutdown(t->ssl);
  if (r >= 0) {
    t->shut = 1;
    return 0;
  }
  return tls_fail(t, r, want, "TLS shutdown");
}

static void tls_close(void *ctx) {
  tls_conn *t = ctx;
  SSL_free(t->ssl); /* frees the BIO too */
  free(t);
}

static const cio_transport_ops tls_ops = {tls_read, tls_write, tls_shutdown, tls_close};

/* ---- contexts ---- */

static int version_of(int v, int *out) {
  switch (v) {
  case 0:
  case CIO_TLS_1_2: *out = TLS1_2_VERSION; return 0;
  case CIO_TLS_1_3: *out = TLS1_3_VERSION; return 0;
  default: return -EINVAL;
  }
}

/* Fail early with the system's reason when a file cannot be read. */
static int readable(const char *path) {
  if (access(path, R_OK) == 0) return 0;
  int e = errno;
  set_error("%s: %s", path, strerror(e));
  return e;
}

static cio_tls_ctx *ctx_new(int client, int min_version) {
  int ver;
  if (version_of(min_version, &ver) < 0) {
    set_error("unknown TLS version %d", min_version);
    errno = EINVAL;
    return NULL;
  }
  cio_tls_ctx *c = calloc(1, sizeof *c);
  if (!c) {
    errno = ENOMEM;
    return NULL;
  }
  c->client = client;
  c->ssl = SSL_CTX_new(client ? TLS_client_method() : TLS_server_method());
  if (!c->ssl || !SSL_CTX_set_min_proto_version(c->ssl, ver)) {
    set_ssl_error("SSL_CTX_new");
    SSL_CTX_free(c->ssl);
    free(c);
    errno = ENOMEM;
    return NULL;
  }
  SSL_CTX_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return c;
}

static cio_tls_ctx *ctx_fail(cio_tls_ctx *c, int err) {
  cio_tls_ctx_free(c);
  errno = err;
  return NULL;
}

static int load_cert_key(SSL_CTX *ssl, const char *cert, const char *key) {
  if (!key) key = cert;
  int e;
  if ((e = readable(cert)) || (e = readable(key))) return e;
  if (SSL_CTX_use_certificate_chain_file(ssl, cert) != 1) {
    set_ssl_error(cert);
    return CIO_ETLS;
  }
  if (SSL_CTX_use_PrivateKey_file(ssl, key, SSL_FILETYPE_PEM) != 1) {
    /* OpenSSL compares the key with the certificate while loading it. */
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      set_error("%s: private key does not match the certificate %s", key, cert);
    } else {
      set_ssl_error(key);
    }
    return CIO_ETLS;
  }
  if (SSL_CTX_check_private_key(ssl) != 1) {
    set_ssl_error("private key does not match the certificate");
    return CIO_ETLS;
  }
  return 0;
}

cio_tls_ctx *cio_tls_ctx_new_client(const cio_tls_client_opts *opts) {
  cio_tls_client_opts o;
  memset(&o, 0, sizeof o);
  if (opts) o = *opts;
  cio_tls_ctx *c = ctx_new(1, o.min_version);
  if (!c) return NULL;
  c->verify = !o.insecure;
  int e;
  if (c->verify) {
    SSL_CTX_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
    if (o.ca_file || o.ca_path) {
      if ((o.ca_file && (e = readable(o.ca_file))) || (o.ca_path && (e = readable(o.ca_path))))
        return ctx_fail(c, e);
      if (SSL_CTX_load_verify_locations(c->ssl, o.ca_file, o.ca_path) != 1) {
        set_ssl_error(o.ca_file ? o.ca_file : o.ca_path);
        return ctx_fail(c, CIO_ETLS);
      }
    } else if (SSL_CTX_set_default_verify_paths(c->ssl) != 1) {
      set_ssl_error("system CA store");
      return ctx_fail(c, CIO_ETLS);
    }
  } else {
    SSL_CTX_set_verify(c->ssl, SSL_VERIFY_NONE, NULL);
  }
  if (o.cert_file && (e = load_cert_key(c->ssl, o.cert_file, o.key_file)))
    return ctx_fail(c, e);
  if (!o.cert_file && o.key_file) {
    set_error("key_file without cert_file");
    return ctx_fail(c, EINVAL);
  }
  return c;
}

cio_tls_ctx *cio_tls_ctx_new_server(const cio_tls_server_opts *opts) {
  if (!opts || !opts->cert_file) {
    set_error("a server needs cert_file");
    errno = EINVAL;
    return NULL;
  }
  cio_tls_ctx *c = ctx_new(0, opts->min_version);
  if (!c) return NULL;
  int e = load_cert_key(c->ssl, opts->cert_file, opts->key_file);
  if (e) return ctx_fail(c, e);
  if (opts->client_ca_file) {
    if ((e = readable(opts->client_ca_file))) return ctx_fail(c, e);
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(opts->client_ca_file);
    if (!names || SSL_CTX_load_verify_locations(c->ssl, opts->client_ca_file, NULL) != 1) {
      sk_X509_NAME_pop_free(names, X509_NAME_free);
      set_ssl_error(opts->client_ca_file);
      return ctx_fail(c, CIO_ETLS);
    }
    SSL_CTX_set_client_CA_list(c->ssl, names);
    SSL_CTX_set_verify(c->ssl,
                       SSL_VERIFY_PEER |
                           (opts->require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                       NULL);
  }
  return c;
}

void cio_tls_ctx_free(cio_tls_ctx *ctx) {
  if (!ctx) return;
  SSL_CTX_free(ctx->ssl);
  free(ctx);
}

void *cio_tls_ctx_native(cio_tls_ctx *ctx) { return ctx ? ctx->ssl : NULL; }

/* ---- the handshake ---- */

static int conn_setup(tls_conn *t, cio_tls_ctx *ctx, const char *name) {
  if (ctx->client) {
    SSL_set_connect_state(t->ssl);
    if (!name) return 0;
    if (!is_ip(name) && !SSL_set_tlsext_host_name(t->ssl, name)) return -ENOMEM;
    if (!ctx->verify) return 0;
    if (is_ip(name)) {
      if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), name) != 1) return -EINVAL;
    } else {
      SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      if (SSL_set1_host(t->ssl, name) != 1) return -ENOMEM;
    }
  } else {
    SSL_set_accept_state(t->ssl);
  }
  return 0;
}

static tls_conn *conn_new(int fd) {
  pthread_once(&bio_once, bio_method_init);
  if (!bio_method) return NULL;
  tls_conn *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->fd = fd;
  return t;
}

int cio_stream_start_tls(cio_stream *s, cio_tls_ctx *ctx, const char *server_name) {
  if (!s || !ctx) return -EINVAL;
  if (!cio_current()) return -EPERM;
  int fd = cio_stream_fd(s);
  if (fd < 0) return -EBADF;
  if (ctx->client && ctx->verify && (!server_name || !*server_name)) {
    set_error("a verifying TLS client needs the server's name");
    return -EINVAL;
  }
  tls_conn *t = conn_new(fd);
  if (!t) return -ENOMEM;
  t->ssl = SSL_new(ctx->ssl);
  BIO *bio = t->ssl ? BIO_new(bio_method) : NULL;
  if (!bio) {
    SSL_free(t->ssl);
    free(t);
    ERR_clear_error();
    return -ENOMEM;
  }
  BIO_set_data(bio, t);
  SSL_set_bio(t->ssl, bio, bio);
  int r = conn_setup(t, ctx, server_name);
  if (r == 0) r = cio_stream_set_transport(s, &tls_ops, t);
  if (r < 0) {
    tls_close(t);
    ERR_clear_error();
    return r;
  }
  /* From here the stream owns t (its close op frees it). */
  for (;;) {
    t->sys_err = 0;
    ERR_clear_error();
    int h = SSL_do_handshake(t->ssl);
    if (h == 1) break;
    int want = 0;
    r = tls_fail(t, h, &want, "TLS handshake");
    if (r != -EAGAIN) return r;
    r = cio_wait_fd(fd, want);
    if (r == -EBADF) return r; /* the stream was closed or freed meanwhile: t is gone */
    if (r < 0) {
      t->failed = -CIO_ETLS;
      set_error("TLS handshake interrupted: %s", cio_strerror(r));
      return r;
    }
  }
  t->established = 1;
  /* Handshake done: a bare EOF from now on is an end of stream (tls.h). */
  SSL_set_options(t->ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
  return 0;
}
