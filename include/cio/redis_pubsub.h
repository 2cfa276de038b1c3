/* cio/redis_pubsub.h - Redis pub/sub on a dedicated connection.
 *
 *   cio_redis_pubsub *ps;
 *   cio_redis_pubsub_open("redis://127.0.0.1", NULL, &ps);
 *   const char *ch[] = {"news", "alerts"};
 *   cio_redis_pubsub_subscribe(ps, 2, ch, NULL);   // returns once subscribed
 *   cio_redis_message m;
 *   while (cio_redis_pubsub_get(ps, &m) == 0) {     // waits for the next one
 *     printf("%s: %.*s\n", m.channel, (int)m.len, m.data);
 *     cio_redis_message_clear(&m);
 *   }
 *   cio_redis_pubsub_free(ps);
 *
 * A subscribed connection receives messages whenever they are published,
 * so it is its own connection, not one shared for commands (publish with
 * cio_redis_command on any other: "PUBLISH news hello"). With RESP3 the
 * messages are push frames; with RESP2 they are arrays on a connection that
 * takes pub/sub commands only; the API is the same.
 *
 * One task may wait in cio_redis_pubsub_get while others subscribe and
 * unsubscribe (those calls wait for the server's confirmations, so a message
 * published after subscribe returns is never missed). Messages that arrive
 * while nobody is in get are queued (the memory they use is the reader's
 * buffers, see cio/redis_reply.h); nothing is read from the socket while no
 * task waits in a call, and Redis then closes a subscriber that falls more
 * than its pubsub output limit behind (32 MiB by default). A message that
 * cannot be kept (longer than opts.max_reply, or no memory) breaks the
 * connection with -EMSGSIZE / -ENOMEM rather than go missing unnoticed.
 *
 * Errors as in cio/redis.h. Loop thread only. Link with cio-redis.
 */
#ifndef CIO_REDIS_PUBSUB_H
#define CIO_REDIS_PUBSUB_H

#include "redis.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_redis_pubsub cio_redis_pubsub;

enum {
  CIO_REDIS_MESSAGE = 1,  /* to a channel subscribed by name */
  CIO_REDIS_PMESSAGE = 2, /* to a channel matching a subscribed pattern */
  CIO_REDIS_SMESSAGE = 3  /* to a shard channel (SSUBSCRIBE, cluster) */
};

/* A message, in the caller's storage. The strings are NUL-terminated (data
 * may hold more NULs: use len) and belong to `reply`, which
 * cio_redis_message_clear frees. */
typedef struct cio_redis_message {
  int kind;            /* CIO_REDIS_MESSAGE, _PMESSAGE, _SMESSAGE */
  const char *channel; /* the channel it was published to */
  size_t channel_len;
  const char *pattern; /* PMESSAGE: the pattern that matched; else NULL */
  size_t pattern_len;
  const char *data; /* the payload */
  size_t len;
  cio_redis_reply *reply; /* owns the memory above */
} cio_redis_message;

/* Open a connection for pub/sub (URL and options as cio_redis_open). On
 * success *out is the caller's (cio_redis_pubsub_free); on failure NULL.
 * May suspend. */
CIO_API int cio_redis_pubsub_open(const char *url, const cio_redis_opts *opts,
                                  cio_redis_pubsub **out);

/* SUBSCRIBE / PSUBSCRIBE to n channels / patterns (lens NULL: C strings)
 * and wait until the server has confirmed every one. 0, -CIO_EREDIS (the
 * server refused, e.g. NOPERM: nothing subscribed), -EINVAL (n 0), or a
 * connection error, -ECANCELED, -ETIMEDOUT (the subscription may then still
 * happen; its confirmations are read and dropped). May suspend. */
CIO_API int cio_redis_pubsub_subscribe(cio_redis_pubsub *ps, size_t n, const char *const *channels,
                                       const size_t *lens);
CIO_API int cio_redis_pubsub_psubscribe(cio_redis_pubsub *ps, size_t n, const char *const *patterns,
                                        const size_t *lens);
/* UNSUBSCRIBE / PUNSUBSCRIBE from n channels / patterns, or from all of
 * them when n is 0, and wait for the confirmations. Messages that arrived
 * before stay queued for get. Same returns as subscribe. May suspend. */
CIO_API int cio_redis_pubsub_unsubscribe(cio_redis_pubsub *ps, size_t n,
                                         const char *const *channels, const size_t *lens);
CIO_API int cio_redis_pubsub_punsubscribe(cio_redis_pubsub *ps, size_t n,
                                          const char *const *patterns, const size_t *lens);

/* The next message, oldest first, waiting for one if none is queued. On 0,
 * *m is filled: the caller clears it (cio_redis_message_clear). On failure
 * *m is zeroed: -EBUSY (another task is in get), -EBADF (closed), a
 * connection error (messages queued before it are still returned first),
 * -ECANCELED, -ETIMEDOUT (nothing is lost). May suspend. */
CIO_API int cio_redis_pubsub_get(cio_redis_pubsub *ps, cio_redis_message *m);

/* PING the server through the subscription (a liveness check that keeps
 * idle connections through NATs and proxies). 0 or an error. May suspend. */
CIO_API int cio_redis_pubsub_ping(cio_redis_pubsub *ps);

/* Channels and patterns subscribed now (as the server last confirmed). */
CIO_API size_t cio_redis_pubsub_channels(const cio_redis_pubsub *ps);
CIO_API size_t cio_redis_pubsub_patterns(const cio_redis_pubsub *ps);
/* Messages queued, not yet taken by get. */
CIO_API size_t cio_redis_pubsub_queued(const cio_redis_pubsub *ps);

/* Close the connection: calls waiting in ps wake with -EBADF (get returns
 * the messages still queued first). Never suspends; never frees;
 * idempotent. */
CIO_API int cio_redis_pubsub_close(cio_redis_pubsub *ps);
/* Free ps (closing it if needed) and every queued message. Tasks inside its
 * calls wake with -EBADF and must not touch ps again. Never suspends. NULL
 * is a no-op. */
CIO_API void cio_redis_pubsub_free(cio_redis_pubsub *ps);

/* Free the message's reply and zero *m. Never suspends; NULL and a zeroed
 * message are fine. */
CIO_API void cio_redis_message_clear(cio_redis_message *m);

#ifdef __cplusplus
}
#endif
#endif
