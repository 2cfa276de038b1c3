/* cio/redis_pool.h - a pool of Redis connections (aioredis's
 * create_redis_pool, redis-py's ConnectionPool).
 *
 *   cio_redis_pool *pool;
 *   cio_redis_pool_opts o = {.min_size = 1, .max_size = 30};
 *   int r = cio_redis_pool_open("redis://127.0.0.1/0", &o, &pool);
 *   cio_redis *c;
 *   r = cio_redis_pool_acquire(pool, &c);        // waits while all 30 are out
 *   r = cio_redis_commandf(c, NULL, "SET %s %s", key, value);
 *   cio_redis_pool_release(pool, c);
 *   r = cio_redis_pool_commandf(pool, &reply, "GET %s", key);  // all three
 *   cio_redis_pool_close(pool);                  // waits for borrowed ones
 *   cio_redis_pool_free(pool);
 *
 * A borrowed connection is the borrower's alone until released, so WATCH,
 * MULTI, blocking pops and SELECT are safe on it (release it in the state it
 * came in: no MULTI open, nothing WATCHed, the pool's database). Tasks that
 * only send plain commands can also share one connection without a pool
 * (cio/redis.h: their commands are pipelined).
 *
 * Broken connections are replaced: a connection released broken (the
 * server closed it, CLIENT KILL, a protocol error) or with replies still
 * pending (its borrower was cancelled mid-command: a late BLPOP reply must
 * not reach the next borrower) is closed, and the next acquire that finds
 * no idle connection opens a new one. An idle connection is checked
 * (without a round trip: is its socket still quiet?) before it is handed
 * out when it has been idle longer than opts.idle_check.
 *
 * Loop thread only. Link with cio-redis.
 */
#ifndef CIO_REDIS_POOL_H
#define CIO_REDIS_POOL_H

#include "redis.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_redis_pool cio_redis_pool;

typedef struct cio_redis_pool_opts {
  size_t min_size;     /* opened by cio_redis_pool_open; 0 = 1 */
  size_t max_size;     /* most connections at once; 0 = 10 (at least min_size) */
  double idle_check;   /* check an idle connection older than this before
                          handing it out (seconds); 0 = 1 s; CIO_FOREVER =
                          never; a tiny value = every time */
  cio_redis_opts conn; /* for every connection (copied, client_name too) */
} cio_redis_pool_opts;

typedef struct cio_redis_pool_stats {
  size_t size;      /* connections open (or being opened) */
  size_t idle;      /* of which idle */
  size_t in_use;    /* borrowed */
  size_t waiting;   /* tasks waiting in acquire now */
  uint64_t waits;   /* acquires that had to wait, ever */
  uint64_t opened;  /* connections opened, ever */
  uint64_t dropped; /* connections closed as broken, ever */
} cio_redis_pool_stats;

/* Open a pool for url (see cio_redis_open) with opts->min_size connections
 * open. opts may be NULL. On success *out is the caller's pool
 * (cio_redis_pool_free); on failure NULL and the error of the first
 * connection that failed (nothing is left open). May suspend. */
CIO_API int cio_redis_pool_open(const char *url, const cio_redis_pool_opts *opts,
                                cio_redis_pool **out);

/* Borrow a connection: an idle one, else a new one while fewer than
 * max_size are open, else wait (first come, first served) for one to be
 * released. On 0, *c is the caller's until cio_redis_pool_release. On
 * failure *c is NULL and nothing is held: -ECANCELED, -ETIMEDOUT (bound the
 * wait with a timeout scope), -EBADF (the pool is closed, also while
 * waiting), or the error of opening a connection. May suspend. */
CIO_API int cio_redis_pool_acquire(cio_redis_pool *p, cio_redis **c);

/* Give c back (see above for what happens to broken ones). Also after the
 * pool was closed or freed: c is then closed. Never suspends. */
CIO_API void cio_redis_pool_release(cio_redis_pool *p, cio_redis *c);

/* acquire + cio_redis_command + release. Returns what they return. May
 * suspend. */
CIO_API int cio_redis_pool_command(cio_redis_pool *p, size_t argc, const char *const *argv,
                                   const size_t *lens, cio_redis_reply **reply);
CIO_API int cio_redis_pool_commandf(cio_redis_pool *p, cio_redis_reply **reply, const char *fmt,
                                    ...);

/* Close: acquires fail with -EBADF from now on (the waiting ones too),
 * idle connections are closed, then wait until every borrowed connection
 * has been released (and closed). Returns 0, -ECANCELED / -ETIMEDOUT (the
 * pool stays closed; call again to wait again), -EBUSY (another task is
 * waiting in close), -EBADF (freed meanwhile). Never frees. May suspend
 * (aiomysql's close + wait_closed). */
CIO_API int cio_redis_pool_close(cio_redis_pool *p);

/* Free the pool, closing it at once if needed (waiting acquires wake with
 * -EBADF). Connections still borrowed stay valid until released (they are
 * then closed); the pool's memory goes with the last of them. Never
 * suspends. NULL is a no-op. */
CIO_API void cio_redis_pool_free(cio_redis_pool *p);

/* Counters (see cio_redis_pool_stats). Never suspends. */
CIO_API void cio_redis_pool_get_stats(const cio_redis_pool *p, cio_redis_pool_stats *st);

#ifdef __cplusplus
}
#endif
#endif
