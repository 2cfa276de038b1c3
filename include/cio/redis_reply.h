/* cio/redis_reply.h - Redis replies (RESP2 and RESP3), as C values.
 *
 * A reply is a tree of cio_redis_reply nodes. The type field says which
 * fields mean something:
 *
 *   type                    RESP   fields
 *   CIO_REDIS_STRING        $      str, len (binary-safe bulk string)
 *   CIO_REDIS_STATUS        +      str, len ("OK", "PONG"...)
 *   CIO_REDIS_ERROR         - !    str, len ("ERR ...", "WRONGTYPE ...")
 *   CIO_REDIS_INTEGER       :      integer
 *   CIO_REDIS_NIL           _ $-1 *-1
 *   CIO_REDIS_ARRAY         *      elements, element[0..elements-1]
 *   CIO_REDIS_DOUBLE        ,      dval; str, len: the text the server sent
 *   CIO_REDIS_BOOL          #      integer (1 or 0)
 *   CIO_REDIS_MAP           %      elements (= 2 x pairs), element[]: key, value,
 *                                  key, value... in the server's order
 *   CIO_REDIS_SET           ~      elements, element[]
 *   CIO_REDIS_ATTR          |      as MAP; only ever found in ->attribute
 *   CIO_REDIS_PUSH          >      elements, element[] (out-of-band data)
 *   CIO_REDIS_BIGNUM        (      str, len: the decimal digits, maybe '-'
 *   CIO_REDIS_VERB          =      str, len: the text after the "xxx:" prefix;
 *                                  format: "txt", "mkd"... NUL-terminated
 *
 * RESP2 servers only ever send the first six. Every str is followed by a NUL
 * byte that len does not count, so text replies print with "%s"; binary
 * data must be read by len. A RESP3 attribute (metadata the server sends
 * ahead of a reply, e.g. key popularity) is attached to the reply it
 * precedes: `attribute` points to a CIO_REDIS_ATTR node, or is NULL (when
 * several precede a reply, the last one is attached and the earlier ones
 * hang from its own `attribute`, latest first).
 *
 * Ownership. Calls that return a reply (cio_redis_command and friends,
 * cio/redis.h) give the caller a reply it must free with
 * cio_redis_reply_free(). The strings of such a reply are not copies: they
 * point into the connection's input buffer, which the reply keeps alive
 * (zero-copy: a 1 MiB GET reply is read once from the socket and never
 * copied). A buffer is shared by the replies parsed from it, so a reply kept
 * for long holds a whole buffer (64 KiB by default); cio_redis_reply_copy()
 * makes a compact standalone copy for keeping. Replies are plain memory:
 * they may be used, copied and freed after their connection is gone, and on
 * any thread (one thread at a time). Only the top node of a reply is freed;
 * element[] and attribute belong to it.
 */
#ifndef CIO_REDIS_REPLY_H
#define CIO_REDIS_REPLY_H

#include "common.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Reply types. The first six have the values hiredis gives them. */
enum {
  CIO_REDIS_STRING = 1,
  CIO_REDIS_ARRAY = 2,
  CIO_REDIS_INTEGER = 3,
  CIO_REDIS_NIL = 4,
  CIO_REDIS_STATUS = 5,
  CIO_REDIS_ERROR = 6,
  CIO_REDIS_DOUBLE = 7,
  CIO_REDIS_BOOL = 8,
  CIO_REDIS_MAP = 9,
  CIO_REDIS_SET = 10,
  CIO_REDIS_ATTR = 11,
  CIO_REDIS_PUSH = 12,
  CIO_REDIS_BIGNUM = 13,
  CIO_REDIS_VERB = 14
};

typedef struct cio_redis_reply cio_redis_reply;
struct cio_redis_reply {
  int type;                   /* CIO_REDIS_* */
  char format[4];             /* VERB: "txt", "mkd"...; else "" */
  long long integer;          /* INTEGER; BOOL: 1 or 0 */
  double dval;                /* DOUBLE */
  const char *str;            /* STRING, STATUS, ERROR, DOUBLE, BIGNUM, VERB */
  size_t len;                 /* bytes at str (a NUL follows them) */
  size_t elements;            /* ARRAY, MAP, SET, ATTR, PUSH */
  cio_redis_reply *element;   /* elements nodes, contiguous; NULL when 0 */
  cio_redis_reply *attribute; /* RESP3 attribute sent ahead of it, or NULL */
};

/* Free a reply returned by a cio_redis call or by cio_redis_reply_copy
 * (never one of its element nodes). NULL is a no-op. Never suspends; any
 * thread. */
CIO_API void cio_redis_reply_free(cio_redis_reply *r);

/* A deep copy of r (any node, an element too) in one allocation that holds
 * no connection buffer: the way to keep a reply for long. The caller frees
 * it with cio_redis_reply_free. NULL + errno ENOMEM (or EINVAL for NULL r).
 * Never suspends; any thread. */
CIO_API cio_redis_reply *cio_redis_reply_copy(const cio_redis_reply *r);

/* In a MAP or ATTR, or an ARRAY of key, value pairs as RESP2 servers send
 * maps (HGETALL, CONFIG GET, HELLO): the value whose key is a string, status
 * or verbatim string equal to key[0..klen-1]; NULL if there is none (or m is
 * not one of those types). The result belongs to m. Never suspends. */
CIO_API const cio_redis_reply *cio_redis_reply_get(const cio_redis_reply *m, const char *key,
                                                   size_t klen);

/* "string", "array", "integer", "nil", "status", "error", "double", "bool",
 * "map", "set", "attribute", "push", "bignum", "verbatim"; "unknown" for any
 * other value. Static strings. Never suspends. */
CIO_API const char *cio_redis_type_name(int type);

#ifdef __cplusplus
}
#endif
#endif
