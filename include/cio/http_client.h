/* cio/http_client.h - an HTTP/1.1 client with a connection pool
 * (aiohttp.ClientSession, httpx.AsyncClient).
 *
 *   cio_http_session *s = cio_http_session_new(NULL);
 *   cio_http_response *res;
 *   int r = cio_http_open(s, &(cio_http_request){.url =
 * "http://127.0.0.1:8080/"}, &res); if (r == 0) { const char *body; ssize_t n =
 * cio_http_response_body(res, &body);   // resp.text() if (n >= 0) printf("%d:
 * %.*s\n", cio_http_response_status(res), (int)n, body);
 *     cio_http_response_free(res);                      // connection back to
 * the pool
 *   }
 *   cio_http_session_free(s);
 *
 * A session keeps connections open between requests, in a pool keyed by
 * scheme + host + port (and proxy), with a limit per host and in all; many
 * tasks share one session. cio_http_open() sends the request and returns
 * once the response head has arrived (status and headers); the body is read
 * by the response calls, whole or piece by piece. The connection goes back
 * to the pool the moment the body has been read to its end; a response freed
 * earlier closes it. A connection that was cut, timed out, cancelled or
 * left mid-body is closed, never pooled.
 *
 * Status codes are not errors: a 404 is a response. Errors are negative
 * errno values (cio/common.h); cio_http_client_last_error() says in words
 * what the last failure on this thread was:
 *   -CIO_ENONAME / -CIO_EDNS   the host does not resolve / the resolver failed
 *   -ECONNREFUSED              nobody listens (every address tried)
 *   -CIO_ECERT / -CIO_ETLS     certificate rejected (untrusted, wrong name) /
 * TLS failure -ETIMEDOUT                 a timeout of the request (connect,
 * read, whole request) or the task's own timeout scope expired -ECANCELED the
 * task was cancelled -EPIPE                     the server closed the
 * connection before the response ended (mid-head or mid-body) -ECONNRESET the
 * connection was reset -EBADMSG                   malformed response (head,
 * chunked framing, compressed data) -EMSGSIZE                  response head
 * larger than max_header_size, or more than max_headers fields -EFBIG body
 * larger than max_body (cio_http_response_body) -ELOOP                     more
 * redirects than max_redirects -ENOTSUP                   a transfer coding
 * other than chunked -EPROTO                    the proxy refused CONNECT
 *   -EPROTONOSUPPORT           a URL scheme other than http and https
 *   -EINVAL                    a bad URL, method, header or body
 *   -EIO                       a body file shorter than said
 *   -ESHUTDOWN / -EBADF        the session was closed / freed meanwhile
 *   -ENOMEM
 *
 * Timeouts (seconds): connect_timeout bounds resolving, connecting (all
 * addresses), TLS and the proxy's CONNECT; read_timeout bounds every wait
 * for the server (the next bytes of the response, or room to send); timeout
 * bounds the whole request, from cio_http_open() to the end of the body. All
 * nest inside the task's own timeout scopes (cio/timeout.h), and every call
 * that may suspend is a cancellation point.
 *
 * Everything here belongs to the loop thread that created the session.
 * Link with cio-http.
 */
#ifndef CIO_HTTP_CLIENT_H
#define CIO_HTTP_CLIENT_H

#include "http_parser.h"

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_http_session cio_http_session;
typedef struct cio_http_response cio_http_response;
typedef struct cio_tls_ctx cio_tls_ctx; /* cio/tls.h */
typedef struct cio_json cio_json;       /* cio/json.h */
typedef struct cio_file cio_file;       /* cio/file.h */
typedef struct cJSON cJSON;             /* <cjson/cJSON.h> */

/* max_redirects: follow none, return 3xx responses as they are. */
#define CIO_HTTP_NO_REDIRECTS (-1)

/* Session options; zero fields take the defaults. Strings are copied. */
typedef struct cio_http_session_opts {
  size_t max_connections;  /* open connections in all; 0 = 100 */
  size_t max_per_host;     /* open connections to one scheme+host+port;
                              0 = max_connections */
  double idle_timeout;     /* a pooled connection unused this long is
                              closed; 0 = 15 s; CIO_FOREVER = never */
  double connect_timeout;  /* 0 = 30 s; CIO_FOREVER = none */
  double read_timeout;     /* longest wait for the server's next bytes (or
                              for room to send); 0 = 60 s; CIO_FOREVER = none */
  double timeout;          /* whole request; 0 or CIO_FOREVER = none */
  double continue_timeout; /* with expect_continue: how long to wait for
                              "100 Continue" before sending the body anyway;
                              0 = 1 s */
  int max_redirects;       /* 0 = 10; CIO_HTTP_NO_REDIRECTS = none */
  size_t max_body;         /* cio_http_response_body limit (decoded bytes);
                              0 = 64 MiB */
  size_t max_header_size;  /* response head, bytes; 0 = 64 KiB */
  size_t max_headers;      /* response head fields; 0 = 100 */
  int no_decompress;       /* 1 = no Accept-Encoding, bodies as sent */
  int cookies;             /* 1 = keep cookies (RFC 6265) in the session */
  const char *user_agent;  /* NULL = "cio/<version>" */
  const char *proxy;       /* "http://[user:pass@]host:port": HTTPS goes
                              through CONNECT, plain HTTP as absolute-form
                              requests; NULL = direct (no environment
                              variable is read) */
  int family;              /* AF_UNSPEC (0), AF_INET, AF_INET6 */
  /* TLS for https:// URLs. tls, if set, is used as is (borrowed; it must
   * outlive the session); otherwise the session makes a client context
   * from the fields below at the first https request: verification and SNI
   * on, against the system store or ca_file. */
  cio_tls_ctx *tls;
  const char *ca_file;   /* trusted CAs (PEM); NULL = the system store */
  const char *cert_file; /* client certificate chain (PEM); NULL = none */
  const char *key_file;  /* its key (PEM); NULL = in cert_file */
  int insecure;          /* 1 = accept any certificate: tests only */
} cio_http_session_opts;

/* A header or a query parameter: NUL-terminated name and value. */
typedef struct cio_http_field {
  const char *name;
  const char *value;
} cio_http_field;

/* Produces the next piece of a streamed request body into buf (cap bytes):
 * returns its size, 0 at the end, or a negative errno (the request fails
 * with it). May suspend. */
typedef ssize_t (*cio_http_body_fn)(void *arg, void *buf, size_t cap);

/* A request body: make one with the constructors below (a zeroed one is no
 * body). Buffers, files and JSON writers are borrowed until cio_http_open()
 * returns. */
typedef struct cio_http_body {
  /* private */
  int kind;
  const void *data;
  size_t len;
  int fd;
  off_t offset;
  cio_http_body_fn fn;
  void *arg;
  cio_json *json;
  const char *content_type;
} cio_http_body;

/* len bytes at data, sent with Content-Length. content_type may be NULL
 * (no Content-Type header). */
CIO_API cio_http_body cio_http_body_buffer(const void *data, size_t len, const char *content_type);
/* len bytes of the file fd from offset (the fd's position is not used;
 * the caller keeps fd), with Content-Length; sendfile(2) on plain
 * connections. A file shorter than offset + len fails the request (-EIO,
 * "file shorter than the body"), and its connection is closed. */
CIO_API cio_http_body cio_http_body_file(int fd, off_t offset, size_t len,
                                         const char *content_type);
/* The pieces fn(arg, ...) produces, sent with Transfer-Encoding: chunked.
 * Such a body cannot be sent twice: a request with one is never retried,
 * and a 307/308 redirect is returned as it is, not followed. */
CIO_API cio_http_body cio_http_body_stream(cio_http_body_fn fn, void *arg,
                                           const char *content_type);
/* The text of a complete JSON writer (cio/json.h), as application/json. A
 * writer with an error or an incomplete value fails the request (-EINVAL). */
CIO_API cio_http_body cio_http_body_json(cio_json *j);

/* One request. Zero fields take the defaults; everything is borrowed for the
 * duration of cio_http_open(). */
typedef struct cio_http_request {
  const char *method;          /* any token; NULL = "GET" */
  const char *url;             /* "http://" or "https://" URL (required);
                                  [user:password@] gives basic auth; the
                                  fragment is not sent */
  const cio_http_field *query; /* appended to the URL's query string, each
                                  name and value percent-encoded
                                  (application/x-www-form-urlencoded) */
  size_t num_query;
  const cio_http_field *headers; /* sent as given, after the defaults they
                                    do not replace (Host, User-Agent, Accept,
                                    Accept-Encoding, Content-Type replace
                                    ours); Content-Length and
                                    Transfer-Encoding are refused (-EINVAL) */
  size_t num_headers;
  cio_http_body body;
  const char *user; /* basic auth; NULL = from the URL */
  const char *password;
  int expect_continue; /* 1 = send "Expect: 100-continue" and wait
                          for the server's go-ahead before a body */
  double timeout;      /* whole request; 0 = the session's */
  double read_timeout; /* 0 = the session's */
  size_t max_body;     /* 0 = the session's */
  int max_redirects;   /* 0 = the session's */
} cio_http_request;

/* ---- sessions ---- */

/* A session (opts NULL = defaults). Returns NULL with errno ENOMEM, EINVAL
 * (a bad proxy URL), or ENOENT when the thread has no loop. Never suspends.
 * Loop thread; the session belongs to this loop. */
CIO_API cio_http_session *cio_http_session_new(const cio_http_session_opts *opts);

/* Stop the session: idle connections are closed now, requests started
 * later fail with -ESHUTDOWN, tasks waiting for a connection slot wake with
 * -ESHUTDOWN, and requests in flight finish (their connections are closed
 * afterwards, not pooled). Returns 0. Idempotent; never frees; never
 * suspends. */
CIO_API int cio_http_session_close(cio_http_session *s);

/* Close (as above) and free. Responses still held and requests in flight
 * stay valid: the session's memory goes when the last of them is freed;
 * tasks waiting for a connection slot wake with -EBADF. NULL is a no-op.
 * Never suspends. */
CIO_API void cio_http_session_free(cio_http_session *s);

/* Counters of the pool, for monitoring and tests (into *out). Never
 * suspends. */
typedef struct cio_http_pool_stats {
  size_t open;      /* connections open (idle, in use, or connecting) */
  size_t idle;      /* of which pooled, unused */
  size_t waiting;   /* tasks waiting for a connection slot */
  uint64_t created; /* connections opened so far */
  uint64_t reused;  /* requests sent on a pooled connection */
  uint64_t retried; /* requests retried after a pooled connection died */
} cio_http_pool_stats;

CIO_API void cio_http_session_stats(const cio_http_session *s, cio_http_pool_stats *out);

/* The Cookie header the session would send to url, NUL-terminated, into
 * buf (cap bytes). Returns its length (0: no cookie), -ENOSPC, -EINVAL (bad
 * URL), -ENOTSUP (cookies off). Never suspends. */
CIO_API ssize_t cio_http_session_cookies(cio_http_session *s, const char *url, char *buf,
                                         size_t cap);
/* Store a cookie as if url had answered "Set-Cookie: <set_cookie>".
 * Returns 0, -EINVAL (malformed, or a Domain that does not match url's
 * host: refused as a browser refuses it), -ENOTSUP (cookies off), -ENOMEM.
 * Never suspends. */
CIO_API int cio_http_session_set_cookie(cio_http_session *s, const char *url,
                                        const char *set_cookie);

/* ---- requests ---- */

/* Send rq and wait for the response's head, following redirects (RFC 9110:
 * 301 and 302 turn a POST into a GET, 303 anything but HEAD into a GET,
 * 307 and 308 keep method and body; credentials and the Authorization and
 * Cookie headers given are not sent to another origin than the URL's). A
 * request that finds its pooled connection closed by the server before any
 * byte of the response (a keep-alive race) is sent once more on a new
 * connection when it is idempotent (GET, HEAD, PUT, DELETE, OPTIONS, TRACE)
 * and its body can be sent again.
 * On success *out is a response the caller owns (cio_http_response_free),
 * whatever its status; on failure *out is NULL and the connection it used
 * is closed. Returns 0 or an error from the list at the top. May suspend.
 * Loop thread. */
CIO_API int cio_http_open(cio_http_session *s, const cio_http_request *rq, cio_http_response **out);

/* ---- responses ----
 * The head accessors below (status to content_length) never suspend and
 * return what the response owns, valid until cio_http_response_free(). */

CIO_API int cio_http_response_status(const cio_http_response *r);
/* The reason phrase as sent (may be empty), not NUL-terminated. */
CIO_API const char *cio_http_response_reason(const cio_http_response *r, size_t *len);
/* 10 (HTTP/1.0) or 11. */
CIO_API int cio_http_response_version(const cio_http_response *r);
/* The first header called name (ASCII case-insensitive), not
 * NUL-terminated, or NULL; its length in *len (len may be NULL). */
CIO_API const char *cio_http_response_header(const cio_http_response *r, const char *name,
                                             size_t *len);
/* Every header in order (as cio/http_parser.h describes them). */
CIO_API const cio_http_header *cio_http_response_headers(const cio_http_response *r, size_t *n);
/* The URL this response came from (after redirects), NUL-terminated. */
CIO_API const char *cio_http_response_url(const cio_http_response *r);
/* How many redirects were followed to get here. */
CIO_API unsigned cio_http_response_redirects(const cio_http_response *r);
/* The Content-Length header's value (of the body as sent, before decoding;
 * for HEAD, of the body a GET would get) when there is one; otherwise 0
 * when there is no body (204, 304) and -1 for a chunked body or one read
 * until the connection closes. */
CIO_API int64_t cio_http_response_content_length(const cio_http_response *r);

/* Read the next bytes of the body (decoded: gzip and deflate are undone
 * unless the session has no_decompress) into buf. Returns a count > 0, 0 at
 * the end of the body (the connection is back in the pool by then, when it
 * can be reused), or an error (sticky: later calls return it again). An
 * interrupted call (-ECANCELED, -ETIMEDOUT) loses nothing: reading may go
 * on. May suspend. */
CIO_API ssize_t cio_http_response_read(cio_http_response *r, void *buf, size_t cap);

/* The whole body (aiohttp's read() / text()): read what is left, keep it in
 * the response, and return its length with *data pointing to it,
 * NUL-terminated, valid until the response is freed. A second call returns
 * the same. -EFBIG when the body is larger than max_body (Content-Length
 * says so before anything is read, or the decoded bytes pass it). Bytes
 * already taken with cio_http_response_read() are not in it. May suspend. */
CIO_API ssize_t cio_http_response_body(cio_http_response *r, const char **data);

/* The whole body parsed as JSON (cio_json_parse: strict RFC 8259, depth 64)
 * into a cJSON tree the caller owns (cJSON_Delete). Returns 0, -EBADMSG
 * (not JSON), or the errors of cio_http_response_body. May suspend. */
CIO_API int cio_http_response_json(cio_http_response *r, cJSON **out);

/* Stream the rest of the body into f (cio/file.h; written through the
 * executor, so a slow disk does not stall the loop). Returns the bytes
 * written, or an error. May suspend. */
CIO_API ssize_t cio_http_response_save(cio_http_response *r, cio_file *f);

/* Done with the body: read and drop what is left of it (at most 64 KiB,
 * within the read timeout) so the connection can be reused; a longer body
 * closes the connection instead. Later reads return -EBADF. Returns 0, or
 * -ECANCELED / -ETIMEDOUT (the connection is closed then). Idempotent;
 * never frees. May suspend. */
CIO_API int cio_http_response_close(cio_http_response *r);

/* Free the response; a connection still mid-body is closed, not pooled.
 * NULL is a no-op. Never suspends. */
CIO_API void cio_http_response_free(cio_http_response *r);

/* Words on the last failure of a client call on this thread, e.g.
 * "connection closed after 512 of 1000 body bytes". Read it right after the
 * failing call returns (before anything else suspends: another task of the
 * loop may fail next). "" if none. Never NULL. */
CIO_API const char *cio_http_client_last_error(void);

#ifdef __cplusplus
}
#endif
#endif
