/* tls.c - OpenSSL 3 as a stream transport.
 *
 * The SSL object talks to the socket through a tiny BIO of our own: recv()
 * and send(MSG_NOSIGNAL) (OpenSSL's socket BIO uses write(), which raises
 * SIGPIPE on a reset connection), recording errno for the error mapping.
 * OpenSSL never blocks: WANT_READ / WANT_WRITE become -EAGAIN with the
 * direction in *want, and the stream (or the handshake loop here) waits with
 * cio_wait_fd.
 *
 * Writing: the BIO never refuses. What the socket does not take is held
 * here (`out`) and pushed out by the next call of any kind, so OpenSSL never
 * has a record half-sent. That is the point: OpenSSL keeps a half-sent
 * record in its own write buffer and requires the next write to be a retry
 * of the same one (same type, at least the same length; SSL_MODE_ACCEPT_
 * MOVING_WRITE_BUFFER only relaxes the address). But SSL_read must write
 * too: a TLS 1.3 peer's KeyUpdate with update_requested makes it send a
 * KeyUpdate of its own (TLS 1.2 renegotiation likewise), and that handshake
 * write, meeting the pending application record, failed the whole
 * connection with SSL_R_BAD_LENGTH ("bad length": the handshake message is
 * shorter than the pending record) or SSL_R_BAD_WRITE_RETRY. A peer
 * flooding key update requests while our output was blocked killed the
 * connection (upstream: openssl/openssl#8677, #12485, #13729). With nothing
 * ever pending inside OpenSSL, every write it makes, from SSL_write,
 * SSL_read, SSL_shutdown or the handshake, completes at once.
 *
 * What is held stays bounded: a write hands OpenSSL more plaintext only
 * once `out` is empty, and SSL_MODE_ENABLE_PARTIAL_WRITE makes SSL_write
 * return after each record, so a write leaves at most one record here;
 * reading stops (-EAGAIN, want CIO_WRITABLE) while more than HOLD_MAX is
 * held, so a peer that makes us answer without reading our answers stalls
 * instead of growing it. A write whose records are still held returns -EAGAIN and
 * remembers the count (`committed`): the stream calls again with the same
 * leading bytes (OpenSSL's own rule, which it follows anyway), and once the
 * records are out that call reports them.
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

/* Reading stops while more output than this waits for the socket. */
#define HOLD_MAX (64u * 1024u)

typedef struct tls_conn {
  SSL *ssl;
  int fd;
  int sys_err;     /* errno of the BIO's last failed socket call */
  int failed;      /* sticky error once a fatal error happened */
  int werr;        /* sticky: pushing held output failed (reads go on) */
  int established; /* handshake done */
  int shut;        /* close_notify written (held until the socket takes it) */
  /* Output OpenSSL wrote that the socket has not taken: [out_pos, out_len). */
  char *out;
  size_t out_pos, out_len, out_cap;
  /* Plaintext whose records still wait in out: the next write reports it,
   * once they are out. */
  size_t committed;
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

/* ---- held output ---- */

static size_t held(const tls_conn *t) { return t->out_len - t->out_pos; }

/* send() to the socket (write() to a pipe): the count, or -errno. */
static ssize_t sock_send(tls_conn *t, const char *p, size_t n) {
  for (;;) {
    ssize_t w = cio__fault_errno(CIO__FAULT_WRITE) ? -1 : send(t->fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == ENOTSOCK) w = write(t->fd, p, n); /* a pipe */
    if (w > 0) return w;
    if (w == 0) return -EAGAIN;
    if (errno == EINTR) continue;
    return errno == EWOULDBLOCK ? -EAGAIN : -errno;
  }
}

/* Push held output to the socket: 0 when none is left, -EAGAIN when the
 * socket is full, or -errno: then nothing more can be sent (recorded in
 * werr and sys_err, the held bytes dropped), though reading may go on. */
static int out_flush(tls_conn *t) {
  while (t->out_pos < t->out_len) {
    ssize_t w = sock_send(t, t->out + t->out_pos, t->out_len - t->out_pos);
    if (w == -EAGAIN) return -EAGAIN;
    if (w < 0) {
      t->sys_err = (int)-w;
      t->werr = (int)w;
      t->out_pos = t->out_len = 0;
      return (int)w;
    }
    t->out_pos += (size_t)w;
  }
  t->out_pos = t->out_len = 0;
  return 0;
}

static int out_hold(tls_conn *t, const char *p, size_t n) {
  if (t->out_pos && t->out_len + n > t->out_cap) {
    memmove(t->out, t->out + t->out_pos, held(t));
    t->out_len -= t->out_pos;
    t->out_pos = 0;
  }
  if (t->out_len + n > t->out_cap) {
    size_t cap = t->out_cap ? t->out_cap : 4096;
    while (cap < t->out_len + n) cap *= 2;
    char *b = cio__realloc(t->out, cap);
    if (!b) return -ENOMEM;
    t->out = b;
    t->out_cap = cap;
  }
  memcpy(t->out + t->out_len, p, n);
  t->out_len += n;
  return 0;
}

/* Sending failed while pushing held output: the error, in words too. */
static int send_failed(tls_conn *t, const char *what) {
  set_error("%s: %s", what, strerror(-t->werr));
  return t->werr;
}

/* ---- the BIO ---- */

static BIO_METHOD *bio_method;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

/* Takes everything (see the top of the file): straight to the socket when
 * nothing is held, the rest held. Fails only on a socket error. */
static int bio_write(BIO *b, const char *buf, int len) {
  tls_conn *t = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  size_t n = (size_t)len, done = 0;
  if (held(t)) (void)out_flush(t); /* order: what is held goes first */
  if (t->werr) {
    t->sys_err = -t->werr;
    return -1;
  }
  if (!held(t)) {
    ssize_t w = sock_send(t, buf, n);
    if (w < 0 && w != -EAGAIN) {
      /* Sticky, as when held output fails: OpenSSL does not always stop
       * here (it carries on past a session ticket it could not send), and
       * a later record sent after this lost one would reach the peer as a
       * bad record MAC instead of a plain broken connection. */
      t->sys_err = (int)-w;
      t->werr = (int)w;
      return -1;
    }
    if (w > 0) done = (size_t)w;
  }
  if (done < n && out_hold(t, buf + done, n - done) < 0) {
    t->sys_err = ENOMEM;
    return -1;
  }
  return len;
}

static int bio_read(BIO *b, char *buf, int len) {
  tls_conn *t = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  if (held(t) > HOLD_MAX) {
    /* Processing more input may make OpenSSL answer again: not before the
     * peer has taken what we owe it (tls_read asks to wait for writable). */
    BIO_set_retry_read(b);
    return -1;
  }
  for (;;) {
    ssize_t n = cio__fault_errno(CIO__FAULT_READ) ? -1 : read(t->fd, buf, (size_t)len);
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
  if (held(t)) (void)out_flush(t); /* best effort: the alert saying why */
  return r;
}

/* ---- the transport ---- */

/* After -EAGAIN from SSL_read: when output is held, the peer may be
 * waiting for it (a renegotiation answer), so wake up for writable too and
 * push it; when too much is held, only for writable (bio_read refuses). */
static void read_want(tls_conn *t, int *want) {
  if (!held(t)) return;
  *want = held(t) > HOLD_MAX ? CIO_WRITABLE : *want | CIO_WRITABLE;
}

static ssize_t tls_read(void *ctx, int fd, void *buf, size_t n, int *want) {
  tls_conn *t = ctx;
  (void)fd;
  if (t->failed) return t->failed;
  if (n == 0) return 0;
  /* Held output goes first when it can; a failure to send is the writer's
   * error (werr), not a reason to stop reading. */
  if (held(t)) (void)out_flush(t);
  size_t got = 0;
  t->sys_err = 0;
  ERR_clear_error();
  if (SSL_read_ex(t->ssl, buf, n, &got)) {
    if (held(t)) (void)out_flush(t); /* what this read made OpenSSL write */
    return (ssize_t)got;
  }
  int e = SSL_get_error(t->ssl, 0);
  if (e == SSL_ERROR_ZERO_RETURN) { /* close_notify, or EOF (see tls.h) */
    ERR_clear_error();
    return 0;
  }
  int r = tls_fail(t, 0, want, "TLS read");
  if (r == -EAGAIN && held(t) && out_flush(t) == -EAGAIN) read_want(t, want);
  return r;
}

static ssize_t tls_write(void *ctx, int fd, const void *buf, size_t n, int *want) {
  tls_conn *t = ctx;
  (void)fd;
  if (t->failed) return t->failed;
  if (t->shut) return -EPIPE;
  if (n == 0) return 0;
  int r = held(t) ? out_flush(t) : 0;
  if (r == -EAGAIN) {
    *want = CIO_WRITABLE;
    return -EAGAIN;
  }
  if (t->werr) return send_failed(t, "TLS write");
  if (t->committed) {
    /* The records of the call that returned -EAGAIN are out now; this call
     * starts with the same bytes (the stream's retry rule): report them. */
    size_t c = t->committed < n ? t->committed : n;
    t->committed -= c;
    return (ssize_t)c;
  }
  size_t done = 0;
  while (done < n) {
    size_t put = 0;
    t->sys_err = 0;
    ERR_clear_error();
    if (!SSL_write_ex(t->ssl, (const char *)buf + done, n - done, &put)) {
      r = tls_fail(t, 0, want, "TLS write");
      return done ? (ssize_t)done : r; /* a failure is recorded for the next call */
    }
    if (held(t)) { /* the socket is full: these records wait here */
      t->committed = put;
      if (done) return (ssize_t)done;
      *want = CIO_WRITABLE;
      return -EAGAIN;
    }
    done += put;
  }
  return (ssize_t)done;
}

static int tls_shutdown(void *ctx, int fd, int *want) {
  tls_conn *t = ctx;
  (void)fd;
  if (!t->established) return 0;
  if (t->failed) return t->failed;
  if (t->werr) return send_failed(t, "TLS shutdown");
  if (!t->shut) {
    t->sys_err = 0;
    ERR_clear_error();
    /* 0 = sent, the peer's close_notify not seen yet: fine for a half-close.
     * The alert goes through our BIO, which takes it whole. */
    int r = SSL_shutdown(t->ssl);
    if (r < 0) return tls_fail(t, r, want, "TLS shutdown");
    t->shut = 1;
  }
  int r = held(t) ? out_flush(t) : 0;
  if (r == -EAGAIN) {
    *want = CIO_WRITABLE;
    return -EAGAIN;
  }
  return t->werr ? send_failed(t, "TLS shutdown") : 0;
}

static void tls_close(void *ctx) {
  tls_conn *t = ctx;
  SSL_free(t->ssl); /* frees the BIO too */
  cio__free(t->out);
  cio__free(t);
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
  cio_tls_ctx *c = cio__calloc(1, sizeof *c);
  if (!c) {
    errno = ENOMEM;
    return NULL;
  }
  c->client = client;
  c->ssl = SSL_CTX_new(client ? TLS_client_method() : TLS_server_method());
  if (!c->ssl || !SSL_CTX_set_min_proto_version(c->ssl, ver)) {
    set_ssl_error("SSL_CTX_new");
    SSL_CTX_free(c->ssl);
    cio__free(c);
    errno = ENOMEM;
    return NULL;
  }
  /* Partial writes: SSL_write returns after each record, so a write leaves
   * at most one record held (see the top). Moving buffer: harmless, as no
   * write is ever retried inside OpenSSL now. */
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
  if (o.cert_file && (e = load_cert_key(c->ssl, o.cert_file, o.key_file))) return ctx_fail(c, e);
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
    SSL_CTX_set_verify(
        c->ssl, SSL_VERIFY_PEER | (opts->require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
        NULL);
  }
  return c;
}

void cio_tls_ctx_free(cio_tls_ctx *ctx) {
  if (!ctx) return;
  SSL_CTX_free(ctx->ssl);
  cio__free(ctx);
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
  tls_conn *t = cio__calloc(1, sizeof *t);
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
    cio__free(t);
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
    int want = 0;
    if (h != 1 && (r = tls_fail(t, h, &want, "TLS handshake")) != -EAGAIN) return r;
    /* Our flight must reach the peer before we wait for its answer, and
     * before we call the handshake done. */
    r = held(t) ? out_flush(t) : 0;
    if (t->werr) {
      t->failed = send_failed(t, "TLS handshake");
      return t->failed;
    }
    if (r == -EAGAIN)
      want = CIO_WRITABLE;
    else if (h == 1)
      break;
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
