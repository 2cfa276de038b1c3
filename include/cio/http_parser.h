/* cio/http_parser.h - HTTP/1.1 message heads and chunked bodies (RFC 9112),
 * parsed in place, for servers and clients.
 *
 * The parser reads the bytes of a message head where they already are (a
 * stream's input buffer) and describes them with pointers into them: no copy
 * and no allocation. It is strict: what RFC 9112 does not allow is refused,
 * and where the RFC leaves a choice the safer one is taken (docs/HTTP.md has
 * the full list, and how it compares with llhttp in strict mode, which it is
 * differentially fuzzed against):
 *   - lines end with CRLF (a bare LF or CR is an error);
 *   - a request line is method SP request-target SP HTTP-version, one SP
 *     each; the target is visible ASCII;
 *   - a header is token ":" OWS value OWS (no space before the colon, no
 *     line folding, no control characters but HTAB in values);
 *   - Content-Length is digits only, at most once; Transfer-Encoding must end
 *     with chunked (requests), never comes with Content-Length, and never in
 *     HTTP/1.0;
 *   - versions 1.0 and 1.1 only.
 *
 * Incremental use: bytes of a head may arrive in pieces. Keep one
 * cio_http_parser per message, call the parse function again with the whole
 * head received so far (same start, more bytes) each time more arrived: it
 * resumes after the last complete line, so the total work is linear in the
 * head's size however it is cut. The buffer may move between calls (a
 * stream compacting or growing its buffer): the parser rebases what it has
 * already found.
 *
 * Nothing here suspends or allocates; every call may be made from any thread
 * on its own objects. Link with cio-http.
 */
#ifndef CIO_HTTP_PARSER_H
#define CIO_HTTP_PARSER_H

#include "common.h"

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One header field: name and value point into the parsed buffer and are not
 * NUL-terminated; the value has no leading or trailing whitespace. */
typedef struct cio_http_header {
  const char *name;
  size_t name_len;
  const char *value;
  size_t value_len;
} cio_http_header;

/* Methods the parser knows by number (any other token is accepted and
 * reported as CIO_HTTP_OTHER; the method text is always there). */
typedef enum cio_http_method {
  CIO_HTTP_OTHER = 0,
  CIO_HTTP_GET,
  CIO_HTTP_HEAD,
  CIO_HTTP_POST,
  CIO_HTTP_PUT,
  CIO_HTTP_DELETE,
  CIO_HTTP_PATCH,
  CIO_HTTP_OPTIONS,
  CIO_HTTP_CONNECT,
  CIO_HTTP_TRACE,
  CIO_HTTP_METHOD_COUNT
} cio_http_method;

/* How the message's body is delimited (RFC 9112 section 6.3). */
typedef enum cio_http_body_kind {
  CIO_HTTP_BODY_NONE = 0,   /* no body (or Content-Length: 0) */
  CIO_HTTP_BODY_LENGTH,     /* content_length bytes */
  CIO_HTTP_BODY_CHUNKED,    /* chunked (cio_http_chunked) */
  CIO_HTTP_BODY_UNTIL_CLOSE /* responses only: until the connection closes */
} cio_http_body_kind;

/* cio_http_head.flags */
#define CIO_HTTP_F_CLOSE           0x0001 /* Connection: close */
#define CIO_HTTP_F_KEEP_ALIVE      0x0002 /* Connection: keep-alive */
#define CIO_HTTP_F_UPGRADE         0x0004 /* Connection: upgrade (+ Upgrade) */
#define CIO_HTTP_F_EXPECT_CONTINUE 0x0008 /* Expect: 100-continue */
#define CIO_HTTP_F_EXPECT_OTHER    0x0010 /* Expect: anything else (417) */
#define CIO_HTTP_F_TE_OTHER                                                                        \
  0x0020                                    /* Transfer-Encoding has codings                       \
                                               before chunked (gzip, chunked) */
#define CIO_HTTP_F_HOST              0x0040 /* one Host header */
#define CIO_HTTP_F_HOST_MANY         0x0080 /* more than one Host header */
#define CIO_HTTP_F_CONTENT_LENGTH    0x0100 /* a Content-Length header */
#define CIO_HTTP_F_TRANSFER_ENCODING 0x0200 /* a Transfer-Encoding header */

/* A parsed head. Strings point into the parsed buffer (not NUL-terminated)
 * and stay valid while those bytes stay where they are. */
typedef struct cio_http_head {
  /* request line (requests) */
  const char *method;
  size_t method_len;
  cio_http_method method_id;
  const char *target; /* request-target as sent (path?query) */
  size_t target_len;
  /* status line (responses) */
  int status; /* 100..999 */
  const char *reason;
  size_t reason_len;
  /* both */
  int version;              /* 10 (HTTP/1.0) or 11 (HTTP/1.1) */
  cio_http_header *headers; /* the caller's array, filled in order */
  size_t num_headers;
  /* framing, from the headers */
  cio_http_body_kind body;
  uint64_t content_length; /* CIO_HTTP_BODY_LENGTH */
  unsigned flags;          /* CIO_HTTP_F_* */
} cio_http_head;

/* Parser state for one message head: zero it (or cio_http_parser_init)
 * before the first call; reuse it for the next message after an init. */
typedef struct cio_http_parser {
  /* private */
  const char *base; /* buffer start at the last call */
  size_t pos;       /* bytes of complete lines already parsed */
  size_t max_headers;
  uint8_t line_done; /* the start line has been parsed */
  uint8_t te_chunked_last;
  uint8_t te_seen_chunked;
  const char *error; /* why the last call failed (static text) */
} cio_http_parser;

/* Reset p for a new message. Never fails. */
CIO_API void cio_http_parser_init(cio_http_parser *p);

/* Parse a request head in buf[0..len) (the bytes received so far, starting
 * at the message; empty lines before a request line are skipped, RFC 9112
 * 2.2). h->headers must point to an array of max_headers entries; h is
 * filled as lines complete (so it must be the same object at every call of
 * one message).
 * Returns the head's size in bytes (> 0: the body, or the next message,
 * starts there), or:
 *   -EAGAIN           incomplete: call again with more bytes;
 *   -EBADMSG          malformed (answer 400 and close);
 *   -E2BIG            more than max_headers headers (431);
 *   -EPROTONOSUPPORT  a well-formed version other than 1.0 / 1.1 (505);
 *   -ENOTSUP          Transfer-Encoding with codings other than chunked
 *                     (501; CIO_HTTP_F_TE_OTHER is set);
 *   -EINVAL           bad arguments.
 * On an error, cio_http_parser_error(p) says why in words. Bounding the
 * head's size is the caller's job (stop calling past its limit: 431).
 * Never suspends. */
CIO_API ssize_t cio_http_parse_request(cio_http_parser *p, const char *buf, size_t len,
                                       cio_http_head *h, size_t max_headers);

/* Parse a response head, as above (returns the same codes; -ENOTSUP is not
 * used: a response may use any transfer coding). The framing follows RFC
 * 9112 6.3 for a response to a request other than HEAD or CONNECT: 1xx, 204
 * and 304 have no body; chunked when Transfer-Encoding ends with chunked;
 * else Content-Length; else until the connection closes. A client that sent
 * HEAD reads no body whatever h->body says. "HTTP/1.1 200\r\n" (no reason,
 * no space) is accepted, as most clients do. Never suspends. */
CIO_API ssize_t cio_http_parse_response(cio_http_parser *p, const char *buf, size_t len,
                                        cio_http_head *h, size_t max_headers);

/* Why the last parse on p failed (static text, e.g. "bare LF in header"),
 * or NULL. */
CIO_API const char *cio_http_parser_error(const cio_http_parser *p);

/* The first header named `name` (ASCII case-insensitive), or NULL; its value
 * length in *len (0 when absent; len may be NULL). Never suspends. */
CIO_API const char *cio_http_head_header(const cio_http_head *h, const char *name, size_t *len);

/* 1 if the comma-separated list value[0..n) (a header such as Connection)
 * holds `token`, ASCII case-insensitive, else 0. */
CIO_API int cio_http_list_has(const char *value, size_t n, const char *token);

/* The method's number for a method text (CIO_HTTP_OTHER if unknown), and
 * the text of a known number ("GET"; NULL for CIO_HTTP_OTHER). */
CIO_API cio_http_method cio_http_method_id(const char *m, size_t n);
CIO_API const char *cio_http_method_name(cio_http_method id);

/* The standard reason phrase of a status code ("Not Found"), or "Unknown". */
CIO_API const char *cio_http_status_reason(int status);

/* ---- chunked transfer coding (RFC 9112 section 7.1) ----
 *
 * A decoder that finds the data of a chunked body where it lies in the
 * input, without copying it:
 *
 *   cio_http_chunked c;
 *   cio_http_chunked_init(&c);
 *   while (!cio_http_chunked_done(&c)) {
 *     ... make sure some input is buffered at in[0..n) ...
 *     const char *data; size_t dlen;
 *     ssize_t used = cio_http_chunked_decode(&c, in, n, &data, &dlen);
 *     if (used < 0) fail;                // -EBADMSG, -EMSGSIZE
 *     deliver(data, dlen);               // data lies inside in[0..used)
 *     consume(used);
 *   }
 *
 * Chunk sizes are hex without sign or whitespace; chunk extensions (token or
 * quoted-string values) are checked and ignored; the trailer section's
 * fields are checked and ignored. */
typedef struct cio_http_chunked {
  /* private */
  uint64_t remaining; /* data bytes left in the current chunk */
  size_t trailer;     /* trailer bytes seen */
  size_t max_trailer;
  unsigned state;
  unsigned sub; /* position inside multi-byte tokens */
  const char *error;
} cio_http_chunked;

/* Start a decoder. The trailer section is limited to 8 KiB (error beyond). */
CIO_API void cio_http_chunked_init(cio_http_chunked *c);

/* Decode from in[0..n): consume framing and at most one run of data.
 * Returns the bytes consumed (0 .. n; 0 only when n is 0 or the body has
 * ended), with the data found in that run at *data, *dlen bytes (*dlen 0 if
 * none; *data points into in). Returns -EBADMSG for malformed framing
 * (cio_http_chunked_error says why), -EMSGSIZE for a chunk size beyond
 * 2^62 or a trailer section over the limit. Bytes after the end of the
 * body are not consumed (the next message). Never suspends. */
CIO_API ssize_t cio_http_chunked_decode(cio_http_chunked *c, const char *in, size_t n,
                                        const char **data, size_t *dlen);

/* 1 once the last chunk and the trailer section have been consumed. */
CIO_API int cio_http_chunked_done(const cio_http_chunked *c);
/* Why the decoder failed (static text), or NULL. */
CIO_API const char *cio_http_chunked_error(const cio_http_chunked *c);

#ifdef __cplusplus
}
#endif
#endif
