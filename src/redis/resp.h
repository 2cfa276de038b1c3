/* resp.h - the RESP2/RESP3 reply parser and the command encoder (internal).
 *
 * Parsing is two passes over a reply's bytes. The scanner is incremental: it
 * is fed whatever has arrived, in pieces of any size, validates everything
 * (types, lengths, CRLFs, numbers, nesting) and counts the nodes, keeping
 * only a small stack of open aggregates; it never looks back at bytes it has
 * consumed, so a reply too large to keep can be scanned and dropped as it
 * streams by. Once a reply is complete and contiguous, the builder turns its
 * bytes into nodes (exactly as many as counted) whose strings point into the
 * bytes themselves: no copy, and no failure (the scanner has validated).
 * The builder writes a NUL over the '\r' that follows each string.
 *
 * Neither pass allocates; neither knows about sockets. The fuzz target
 * drives both against hiredis's reader.
 */
#ifndef CIO_REDIS_RESP_H
#define CIO_REDIS_RESP_H

#include <cio/redis_reply.h>

#include "../base/alloc.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Deepest nesting of aggregates the scanner accepts (a hard bound for its
 * stack; cio__resp_scanner.max_depth may lower it). */
#define CIO__RESP_MAX_DEPTH 64

typedef struct cio__resp_scanner {
  /* settings (cio__resp_scanner_init) */
  size_t max_bytes;   /* a longer reply is scanned but marked oversize */
  uint32_t max_depth; /* <= CIO__RESP_MAX_DEPTH */
  uint8_t resp2;      /* reject RESP3 types */
  /* state of the reply being scanned */
  uint8_t oversize;  /* longer than max_bytes: not to be built */
  uint8_t skip_line; /* inside a simple line too long to keep */
  uint8_t verbatim;  /* the bulk in progress is a verbatim string */
  uint32_t depth;    /* open aggregates */
  size_t total;      /* bytes of the reply consumed so far */
  size_t nodes;      /* nodes counted so far */
  size_t bulk_left;  /* payload + CRLF bytes of the bulk in progress */
  size_t bulk_seen;  /* payload bytes of it already passed */
  size_t line_seen;  /* bytes of the pending line already searched */
  int top_type;      /* type byte of the reply's first value */
  const char *error; /* what was wrong, after a negative return */
  /* per open aggregate: elements still expected; the top bit marks an
   * attribute, which is not an element of its parent */
  uint64_t stack[CIO__RESP_MAX_DEPTH];
} cio__resp_scanner;

/* Settings; 0 picks the default (max_bytes: SIZE_MAX, max_depth: the
 * maximum). Resets the state. */
void cio__resp_scanner_init(cio__resp_scanner *s, size_t max_bytes, uint32_t max_depth, int resp2);
/* Start the next reply (keeps the settings). */
void cio__resp_scanner_reset(cio__resp_scanner *s);

/* Scan the n bytes at p, which continue the reply where the last call left
 * off (at its first byte after a reset). *used is set to how many bytes were
 * consumed: the caller's next call starts there; unconsumed bytes (a line
 * whose CRLF has not arrived) must be passed again. Returns 1 when the reply
 * is complete (it ends *used bytes in; s->total is its length), 0 when more
 * input is needed, -EPROTO for malformed input (s->error says why; the stream
 * cannot be resynchronised). A reply longer than max_bytes is still scanned
 * to its end, with s->oversize set: consumed bytes of such a reply may be
 * dropped by the caller, and it must not be built. */
int cio__resp_scan(cio__resp_scanner *s, const char *p, size_t n, size_t *used);

/* Build the reply the scanner has just completed: p is its first byte and
 * s->total bytes long (all in one piece), nodes has room for s->nodes nodes.
 * Returns the root (nodes[0]). Writes NULs into p (see above). */
cio_redis_reply *cio__resp_build(const cio__resp_scanner *s, char *p, cio_redis_reply *nodes);

/* ---- reply memory ----
 *
 * A reply is one block: a header, then its nodes (then, for a copy, its
 * strings). A block built from a connection's buffer holds a reference on
 * that buffer (cio__resp_buf), dropped when the reply is freed. */
typedef struct cio__resp_buf {
  size_t refs; /* the connection's own reference counts as one */
  size_t cap;
  char data[];
} cio__resp_buf;

cio__resp_buf *cio__resp_buf_new(size_t cap);
void cio__resp_buf_unref(cio__resp_buf *b);

/* A reply block with room for n nodes, pinning b (may be NULL; a reference
 * is taken). Returns its first node (zeroed), or NULL (ENOMEM). Freed with
 * cio_redis_reply_free. */
cio_redis_reply *cio__resp_reply_alloc(size_t n, cio__resp_buf *b);

/* ---- command encoding ----
 * A command is a RESP array of bulk strings. */

typedef struct cio__resp_out {
  char *p;
  size_t len, cap;
} cio__resp_out;

/* Append the encoding of argv[0..argc-1] (lens NULL: strlen of each) to o.
 * 0, -ENOMEM (o unchanged), -EINVAL (argc < 1, a NULL argument). */
int cio__resp_append_command(cio__resp_out *o, size_t argc, const char *const *argv,
                             const size_t *lens);
/* Append the command a printf-like format describes: arguments are split
 * on spaces in fmt; a conversion's output is inserted whole (its spaces do
 * not split). %s (a C string), %b (a pointer and a size_t: binary-safe), %d
 * %i %u %ld %li %lu %lld %lli %llu %zu %zd, %f %g (a double, %.17g), %%.
 * 0, -ENOMEM, -EINVAL (an unknown conversion, a NULL %s, no argument). */
int cio__resp_append_vformat(cio__resp_out *o, const char *fmt, va_list ap);
/* Append raw bytes. 0 or -ENOMEM. */
int cio__resp_append(cio__resp_out *o, const void *p, size_t n);
/* Make room for n more bytes. 0 or -ENOMEM. */
int cio__resp_reserve(cio__resp_out *o, size_t n);
void cio__resp_out_free(cio__resp_out *o);

#endif
