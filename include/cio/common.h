/* cio/common.h - shared conventions: error codes, visibility, time units.
 *
 * Every cio call that can wait returns int: 0 (or a non-negative count) on
 * success, a negative errno value on failure. The two codes every waiting call
 * may return are:
 *   -ECANCELED  the calling task was cancelled (asyncio's CancelledError);
 *   -ETIMEDOUT  a timeout scope around the call expired (asyncio's
 * TimeoutError). A call that may wait checks for both on entry, even when it
 * could complete without waiting (a free lock, a non-empty queue, a finished
 * task): a task looping over such calls stays cancellable. A call that fails
 * this way has done nothing (taken no item, acquired nothing). Durations given
 * by users are double seconds; inside, time is int64 nanoseconds on
 * CLOCK_MONOTONIC.
 */
#ifndef CIO_COMMON_H
#define CIO_COMMON_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define CIO_API       __attribute__((visibility("default")))
#define CIO_NODISCARD __attribute__((warn_unused_result))
#else
#define CIO_API
#define CIO_NODISCARD
#endif

/* "No time limit", wherever a duration in seconds is taken (any negative
 * value means the same). In an options struct a zero field means the
 * field's documented default, so write CIO_FOREVER for "none". */
#define CIO_FOREVER (-1.0)

#define CIO_VERSION_MAJOR 0
#define CIO_VERSION_MINOR 1
#define CIO_VERSION_PATCH 0

/* cio's own status codes, above errno's range, returned negated like errno
 * values (-CIO_ENONAME). cio_strerror() describes them, cio_strerror_name()
 * names them. */
#define CIO_ENONAME 3001 /* host name does not resolve */
#define CIO_EDNS    3002 /* resolver failure (no server answered, bad reply) */
#define CIO_ETLS    3003 /* TLS protocol failure (handshake, bad record) */
#define CIO_ECERT   3004 /* TLS peer certificate rejected (untrusted, wrong name, expired) */
#define CIO_ESQL    3005 /* the database reported an error (cio/sql.h: cio_sql_last_error) */
#define CIO_EREDIS  3006 /* the Redis server replied with an error (cio/redis.h) */
#define CIO_EWATCH  3007 /* a Redis transaction was aborted: a WATCHed key changed */

/* Timeouts are double seconds. CIO_FOREVER (any negative value) means no
 * limit, everywhere; 0 as a call's argument means "do not wait"; a zero field
 * of an options struct means that field's documented default. */
#define CIO_FOREVER (-1.0)

#ifdef __cplusplus
extern "C" {
#endif

/* A short readable description of a cio status code (0, a negative errno, or
 * a positive errno). Never NULL; the string is static and must not be freed.
 * Safe from any thread; does not suspend. */
CIO_API const char *cio_strerror(int code);

/* The symbolic name of a status code: "ECANCELED", "CIO_ETLS", "0" for
 * success, "E?" for a number that is no known code. Static string; any
 * thread; never suspends. */
CIO_API const char *cio_strerror_name(int code);

/* "major.minor.patch" of the library actually linked. Static string. */
CIO_API const char *cio_version(void);

#ifdef __cplusplus
}
#endif
#endif
