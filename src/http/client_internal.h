/* client_internal.h - the HTTP client's modules share these. Not installed.
 *
 *   client_session.c   sessions, cio_http_open (attempts, retry, redirects)
 *   client_pool.c      the pool: hosts, idle connections, limits, waiters
 *   client_conn.c      opening a connection: DNS, connect, TLS, proxy CONNECT
 *   client_url.c       absolute URLs, references, query building
 *   client_write.c     the request: head, body (buffer, file, chunked),
 * 100-continue client_read.c      the response: head, framing, body reads
 *   client_decode.c    gzip / deflate (zlib)
 *   client_cookie.c    the cookie jar
 *   client_util.c      last error, base64, small helpers
 */
#ifndef CIO_HTTP_CLIENT_INTERNAL_H
#define CIO_HTTP_CLIENT_INTERNAL_H

#include "cio/http_client.h"
#include "cio/net.h"
#include "cio/timeout.h"

#include "buf.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- errors ---- */

/* Record the words for the last failure and return code (negative). */
int cio__hc_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The words of a code that came from below (DNS, TLS, a stream). */
int cio__hc_fail_io(int code, const char *what);

/* ---- URLs ---- */

typedef struct cio__url {
  bool https;
  char *host; /* without brackets, lower-case; malloc'd with the rest */
  int port;
  bool ipv6;  /* host is an IPv6 literal (bracketed in Host and URLs) */
  char *user; /* percent-decoded userinfo, or NULL */
  char *password;
  char *target; /* path?query, never empty ("/" at least), no fragment */
  char *mem;    /* the one allocation behind the strings */
} cio__url;

/* Parse an absolute http(s) URL, appending query pairs. 0, -EINVAL,
 * -EPROTONOSUPPORT, -ENOMEM (message recorded). */
int cio__url_parse(cio__url *u, const char *url, const cio_http_field *query, size_t nquery);
void cio__url_free(cio__url *u);
/* The URL as text (scheme://host[:port]target), malloc'd; NULL on ENOMEM. */
char *cio__url_string(const cio__url *u);
/* Resolve a Location reference against base (RFC 3986 5.2) into out. */
int cio__url_resolve(cio__url *out, const cio__url *base, const char *ref, size_t len);
/* Same scheme, host and port. */
bool cio__url_same_origin(const cio__url *a, const cio__url *b);
/* "host" or "host:port" / "[v6]:port" as the Host header wants it. */
void cio__url_hostport(const cio__url *u, cio__buf *b, bool always_port);

/* ---- sessions and the pool ---- */

typedef struct cio__hhost cio__hhost;
typedef struct cio__hconn cio__hconn;
typedef struct cio__hwaiter cio__hwaiter;
typedef struct cio__cookie cio__cookie;

struct cio__hconn {
  cio__hconn *next, *prev; /* in its host's idle list */
  cio__hhost *host;
  cio_stream *s;
  int64_t idle_since;    /* ns, while idle */
  uint64_t requests;     /* sent on it so far */
  cio_http_header *hdrs; /* parser scratch: max_headers entries */
  cio__buf head;         /* request head being built */
};

struct cio__hhost {
  cio__hhost *next;
  char *key;  /* "https://host:port" (+ " via proxy") */
  char *host; /* where to connect (the proxy's, when proxied) */
  int port;
  char *origin_host; /* the server's name: SNI, CONNECT target */
  int origin_port;
  bool https;       /* TLS to the origin */
  bool tunnel;      /* through the proxy with CONNECT */
  cio__hconn *idle; /* most recently used first */
  cio__hconn *idle_tail;
  size_t nidle;
  size_t open; /* connections open, connecting included */
  size_t waiting;
};

struct cio__hwaiter {
  cio__hwaiter *next, *prev;
  cio__hhost *host;
  cio_task *task;
  cio__hconn *conn; /* granted: a pooled connection */
  bool slot;        /* granted: room to open one */
};

struct cio_http_session {
  /* options, defaults applied */
  size_t max_conns, max_per_host, max_body, max_header, max_headers;
  double idle_timeout, connect_timeout, read_timeout, timeout, continue_timeout;
  int max_redirects;
  bool decompress, cookies_on;
  int family;
  char *user_agent;
  cio__url proxy;   /* proxy.host NULL = none */
  char *proxy_auth; /* "Basic ..." or NULL */
  cio_tls_ctx *tls;
  bool own_tls;
  char *ca_file, *cert_file, *key_file;
  bool insecure;

  cio_loop *loop;
  unsigned refs; /* the user's, plus one per request in flight */
  bool closed;   /* cio_http_session_close */
  bool freed;    /* cio_http_session_free */
  cio__hhost *hosts;
  size_t open; /* connections, all hosts */
  size_t idle;
  cio__hwaiter *wait_head, *wait_tail;
  size_t waiting;
  cio_timer *sweep;
  uint64_t created, reused, retried;
  cio__cookie *cookies;
  size_t ncookies;
  uint64_t cookie_seq;
};

void cio__session_ref(cio_http_session *s);
void cio__session_unref(cio_http_session *s);

/* The pool entry for a URL (created on first use). NULL on ENOMEM. */
cio__hhost *cio__pool_host(cio_http_session *s, const cio__url *u);
/* A connection to h: a pooled one (*reused = true) or a new one. Waits
 * while the limits are reached. 0 or an error. May suspend. */
#define CIO__POOL_FRESH 1 /* a new connection, not a pooled one */
#define CIO__POOL_CHECK 2 /* peek at a pooled one first: closed? */
int cio__pool_acquire(cio_http_session *s, cio__hhost *h, unsigned flags, cio__hconn **out,
                      bool *reused);
/* The exchange on c ended cleanly: pool it (or hand it to a waiter). */
void cio__pool_release(cio_http_session *s, cio__hconn *c);
/* Close c (mid-exchange, failed, or not reusable). */
void cio__pool_discard(cio_http_session *s, cio__hconn *c);
/* Close every idle connection; wake waiters with err when err != 0. */
void cio__pool_shutdown(cio_http_session *s, int err);
/* Free the hosts (no connection may remain). */
void cio__pool_free(cio_http_session *s);

/* Open the stream of a new connection to h (DNS, connect, TLS, CONNECT).
 * May suspend. */
int cio__conn_open(cio_http_session *s, cio__hhost *h, cio_stream **out);
/* Whether a pooled connection's peer may have closed it (EOF or bytes
 * waiting): a cheap non-blocking peek. */
bool cio__conn_stale(cio__hconn *c);

/* ---- one exchange ---- */

typedef struct cio__hreq {
  const char *method;
  size_t method_len;
  bool head; /* HEAD: no body in the response */
  bool idempotent;
  const cio__url *url;
  const cio_http_request *rq; /* user headers and body */
  bool send_body;             /* false after a redirect that drops the body */
  bool send_auth;             /* the user's credentials and Authorization / Cookie */
  bool expect;                /* Expect: 100-continue */
  bool absolute;              /* absolute-form target (plain HTTP via a proxy) */
  double read_timeout;
  const char *auth; /* "Basic ..." for the URL's origin, or NULL */
} cio__hreq;

/* Body kinds (cio_http_body.kind). */
enum { CIO__BODY_NONE = 0, CIO__BODY_BUFFER, CIO__BODY_FILE, CIO__BODY_STREAM, CIO__BODY_JSON };

/* Write the head (and the body unless expect is set) on c. *body_started
 * tells whether any of a stream body was produced. May suspend. */
int cio__write_request(cio_http_session *s, cio__hconn *c, const cio__hreq *q, bool with_body,
                       bool *body_started);
/* Write the body only (after 100 Continue). May suspend. */
int cio__write_body(cio_http_session *s, cio__hconn *c, const cio__hreq *q, bool *body_started);

/* A wait on c's stream bounded by the read timeout: fill. */
ssize_t cio__conn_fill(cio__hconn *c, double read_timeout);

/* ---- responses ---- */

typedef struct cio__zdec cio__zdec;

struct cio_http_response {
  cio_http_session *sess;
  cio__hconn *conn; /* until the body ends or the response goes */
  int status, version;
  const char *reason;
  size_t reason_len;
  cio_http_header *headers;
  size_t nheaders;
  char *url;
  unsigned redirects;
  int64_t content_length;
  /* body framing */
  cio_http_body_kind framing;
  uint64_t remaining;
  cio_http_chunked chunked;
  bool keep_alive, body_done, closed;
  int err; /* sticky */
  /* a run of body bytes in the stream's buffer, and what to consume after */
  const char *run;
  size_t run_len, run_consume;
  cio__zdec *dec;
  /* limits */
  double read_timeout;
  double deadline; /* loop time, 0 = none */
  size_t max_body;
  /* the whole body, once read */
  char *body; /* growing; whole once body_whole */
  size_t body_len, body_cap;
  bool body_whole;
  uint64_t raw_read; /* for messages */
  char mem[];        /* head copy */
};

/* Read the next final response head on c (1xx skipped; with expect, a
 * 100 or the continue timeout ends the wait with *go_on set). Builds the
 * response. May suspend. */
int cio__read_head(cio_http_session *s, cio__hconn *c, const cio__hreq *q, cio_http_response **out,
                   bool *got_bytes);
/* Wait for "100 Continue" (1 -> send the body), a final head (0, *out
 * set), or continue_timeout (1). */
int cio__await_continue(cio_http_session *s, cio__hconn *c, const cio__hreq *q,
                        cio_http_response **out);
/* Read and drop up to max bytes of the rest of the body. 0 when the body
 * ended (connection released), -EMSGSIZE if longer (connection closed). */
int cio__response_drain(cio_http_response *r, size_t max);
/* Set what the body needs once the response head is in (decoder...). */
int cio__response_setup(cio_http_response *r, const cio__hreq *q);
/* Done with the connection (pooled when clean and reusable, else closed). */
void cio__response_let_go(cio_http_response *r, bool clean);

/* ---- decompression ---- */

/* A decoder for a Content-Encoding value, or NULL for identity or one we
 * do not decode (then *unsupported is set for the latter). */
cio__zdec *cio__zdec_new(const char *enc, size_t len, int *err);
/* Inflate from in (consumed: *used) into out; returns bytes produced (>= 0)
 * or -EBADMSG; *end once the compressed stream is complete. */
ssize_t cio__zdec_run(cio__zdec *d, const char *in, size_t n, size_t *used, char *out, size_t cap,
                      bool *end);
void cio__zdec_free(cio__zdec *d);

/* ---- cookies ---- */

void cio__cookies_store(cio_http_session *s, const cio__url *u, const cio_http_header *h, size_t n);
/* Append "Cookie: ...\r\n" for u, if any cookie matches. */
void cio__cookies_header(cio_http_session *s, const cio__url *u, cio__buf *b);
int cio__cookie_set(cio_http_session *s, const cio__url *u, const char *v, size_t n);
void cio__cookies_free(cio_http_session *s);

/* ---- helpers ---- */

/* "Basic base64(user:password)", malloc'd; NULL on ENOMEM. */
char *cio__basic_auth(const char *user, const char *password);
bool cio__ascii_ieq(const char *a, size_t alen, const char *b);
bool cio__is_token(const char *s, size_t n);
double cio__loop_now(void);

#endif
