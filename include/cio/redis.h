/* cio/redis.h - a Redis client: connections, commands, pipelines,
 * transactions (aioredis / redis-py's asyncio client, for C).
 *
 *   cio_redis *c;
 *   int r = cio_redis_open("redis://127.0.0.1:6379/0", NULL, &c);
 *   cio_redis_reply *rep;
 *   r = cio_redis_commandf(c, NULL, "SET %s %b", key, val, vlen);
 *   r = cio_redis_commandf(c, &rep, "GET %s", key);
 *   if (r == 0 && rep->type == CIO_REDIS_STRING) use(rep->str, rep->len);
 *   cio_redis_reply_free(rep);
 *   cio_redis_close(c);
 *   cio_redis_free(c);
 *
 * Protocol. The client speaks RESP3 (HELLO 3, Redis 6 and later) unless
 * asked for RESP2; replies are typed values (cio/redis_reply.h) parsed by
 * cio's own parser straight from the bytes read off the socket: strings in
 * replies are not copied.
 *
 * Sharing. A connection may be used by many tasks of its loop at once:
 * their commands are pipelined automatically (written together, in the
 * order they were issued, with one system call where possible) and each
 * task gets its own reply. A task cancelled or timed out while it waits for
 * its reply gets -ECANCELED / -ETIMEDOUT at once; its reply, when it comes,
 * is read and dropped, so the connection stays in step. Commands that
 * change the connection's state for what follows (WATCH, MULTI, SELECT,
 * CLIENT TRACKING, blocking pops) need a connection no other task uses
 * meanwhile: take one from a pool (cio/redis_pool.h), or use
 * cio_redis_pipeline_exec for MULTI/EXEC.
 *
 * Errors. Calls return 0 or a negative code:
 *   -CIO_EREDIS   the server replied with an error ("WRONGTYPE ...");
 *   -CIO_EWATCH   a transaction was aborted: a WATCHed key changed;
 *   -EMSGSIZE     the reply was longer than opts.max_reply (it was read and
 *                 dropped: the connection is still good);
 *   -EPROTO       the server sent something that is not RESP;
 *   -ECONNRESET / -EPIPE   the connection was lost (closed by the server,
 *                 CLIENT KILL, network);
 *   -EACCES       authentication failed (cio_redis_open);
 *   -EINVAL       a bad URL or argument;  -EBADF  the connection is closed;
 *   -ECANCELED / -ETIMEDOUT, -ENOMEM, and cio_open_connection's codes.
 * After -EPROTO, a lost connection, or -ENOMEM while growing the input
 * buffer for a long reply, the connection is broken for good: every call
 * fails with the same code (cio_redis_status) until it is freed.
 * cio_redis_last_error() gives the words: the server's error text, or what
 * went wrong. CIO_EREDIS, CIO_EWATCH and CIO_FOREVER are in cio/common.h;
 * cio_strerror() describes every code.
 *
 * Threads: a connection belongs to the loop thread that opened it. Link
 * with cio-redis (pkg-config) or cio::redis (CMake).
 */
#ifndef CIO_REDIS_H
#define CIO_REDIS_H

#include "redis_reply.h"

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_redis cio_redis;
typedef struct cio_tls_ctx cio_tls_ctx; /* cio/tls.h */

/* Called on the loop thread for each RESP3 push that is not a reply (client
 * tracking invalidations...), by whichever task is reading at the time. It
 * owns push (cio_redis_reply_free), must not suspend and must not free c. */
typedef void (*cio_redis_push_fn)(cio_redis *c, cio_redis_reply *push, void *arg);

typedef struct cio_redis_opts {
  double connect_timeout;    /* the whole of cio_redis_open (DNS, connect, TLS,
                                HELLO, AUTH, SELECT); 0 = 10 s; CIO_FOREVER = none */
  int protocol;              /* 2 or 3; 0 = 3, or 2 with servers older than
                                Redis 6 (no HELLO) */
  size_t max_reply;          /* longest reply kept, in bytes; 0 = 512 MiB */
  size_t read_buffer;        /* input buffer (grows for longer replies); 0 = 64 KiB */
  const char *client_name;   /* CLIENT SETNAME; NULL = none */
  cio_tls_ctx *tls;          /* for rediss:// (NULL: a context trusting the
                                system's CAs); borrowed, must outlive c */
  cio_redis_push_fn on_push; /* RESP3 pushes; NULL = dropped */
  void *push_arg;
} cio_redis_opts;

/* Connect to the server the URL names and get it ready:
 *   redis://[[user]:password@]host[:port][/db]   (port 6379, db 0)
 *   rediss://...                                  (TLS)
 *   unix://[[user]:password@]/path/to/socket[?db=N]
 * user and password may be %-encoded; an IPv6 host is written [::1]. The
 * client says HELLO 3 (with AUTH and SETNAME), then SELECTs db, all in one
 * round trip. opts may be NULL. On success *out is the caller's connection
 * (cio_redis_free); on failure *out is NULL and the code is one of those
 * above (-EACCES: a wrong password or user; -CIO_EREDIS: the server refused
 * HELLO 3 when protocol is 3, or SELECT). May suspend. Loop thread. */
CIO_API int cio_redis_open(const char *url, const cio_redis_opts *opts, cio_redis **out);

/* Send one command and wait for its reply. argv[0..argc-1] are its words,
 * lens their lengths (lens NULL: each is a C string): binary-safe. The
 * arguments are copied before the call first suspends. reply may be NULL
 * (the reply is read and dropped); otherwise *reply is set to a reply the
 * caller frees with cio_redis_reply_free (or NULL on failure). Returns 0,
 * -CIO_EREDIS when the reply is an error (its text: cio_redis_last_error;
 * *reply is then NULL), or another code above. A command cancelled before
 * it was written is not sent; after that it may have run. May suspend. */
CIO_API int cio_redis_command(cio_redis *c, size_t argc, const char *const *argv,
                              const size_t *lens, cio_redis_reply **reply);

/* cio_redis_command with the command written as a format: words are split
 * on spaces; %s (a C string) and %b (a pointer and a size_t: binary data)
 * are inserted whole, spaces and all; also %d %i %u %ld %li %lu %lld %lli
 * %llu %zu %zd, %f %g (a double, 17 significant digits) and %%. -EINVAL for
 * another conversion or a NULL %s. May suspend. */
CIO_API int cio_redis_commandf(cio_redis *c, cio_redis_reply **reply, const char *fmt, ...);
CIO_API int cio_redis_vcommandf(cio_redis *c, cio_redis_reply **reply, const char *fmt, va_list ap);

/* Close gracefully: new commands fail with -EBADF, commands already sent
 * get their replies, then the socket is closed. Returns 0, the connection's
 * error, or -ECANCELED / -ETIMEDOUT (bound it with a timeout scope: the
 * socket is then closed at once). Never frees; calling it again is fine.
 * May suspend. */
CIO_API int cio_redis_close(cio_redis *c);

/* Free c, closing it at once if needed. Tasks waiting in its calls wake with
 * -EBADF and must not touch c again. Never suspends. NULL is a no-op. */
CIO_API void cio_redis_free(cio_redis *c);

/* 0 while c is usable, else the code every call will fail with (-EBADF
 * once closed, or what broke it). Never suspends. */
CIO_API int cio_redis_status(const cio_redis *c);
/* The protocol the connection speaks: 2 or 3. */
CIO_API int cio_redis_protocol(const cio_redis *c);
/* Commands sent (or queued to be sent) whose replies have not arrived. */
CIO_API size_t cio_redis_pending(const cio_redis *c);

/* ---- explicit pipelines and transactions ----
 *
 * A pipeline collects commands, then sends them in one write and reads all
 * their replies: N commands for one round trip. It is plain memory, not
 * tied to a connection: fill it, run it on any connection, read the
 * replies, reset it, fill it again. */
typedef struct cio_redis_pipeline cio_redis_pipeline;

/* A new, empty pipeline (NULL + errno ENOMEM). Never suspends. */
CIO_API cio_redis_pipeline *cio_redis_pipeline_new(void);
/* Queue a command (arguments as for cio_redis_command; copied). 0,
 * -EINVAL, -ENOMEM (nothing queued). Never suspends. */
CIO_API int cio_redis_pipeline_add(cio_redis_pipeline *p, size_t argc, const char *const *argv,
                                   const size_t *lens);
/* The same with a format (see cio_redis_commandf). */
CIO_API int cio_redis_pipeline_addf(cio_redis_pipeline *p, const char *fmt, ...);
/* Commands queued. */
CIO_API size_t cio_redis_pipeline_size(const cio_redis_pipeline *p);

/* Send every queued command, wait for every reply. Returns 0 when all
 * replies arrived and none is an error; -CIO_EREDIS when all arrived and
 * some are errors (cio_redis_last_error: the first one); -EMSGSIZE when one
 * was too long (its slot is NULL, the others are there); or the failure
 * that stopped it (a lost connection, -ECANCELED...: the replies that
 * arrived are kept, the others are NULL; the commands may have run). The
 * replies stay in p until reset, run again or freed. -EINVAL when p is
 * empty. May suspend. */
CIO_API int cio_redis_pipeline_run(cio_redis *c, cio_redis_pipeline *p);

/* The same as one transaction: MULTI, the commands, EXEC, in one write.
 * Returns 0 when the transaction ran and every command succeeded; the
 * replies are then the results of the commands. -CIO_EREDIS: either the
 * server refused the transaction (a command was rejected while queueing:
 * EXECABORT; no command ran, every reply is NULL) or it ran and some
 * results are errors (those replies are errors). -CIO_EWATCH: a key the
 * connection WATCHed had changed; nothing ran, the replies are NULL. Other
 * codes as for run. The connection must not be in a MULTI already. May
 * suspend. */
CIO_API int cio_redis_pipeline_exec(cio_redis *c, cio_redis_pipeline *p);

/* Reply i (0-based, in the order the commands were added) of the last run
 * or exec, or NULL (no such reply). Owned by p: valid until p is reset,
 * run again or freed. Never suspends. */
CIO_API const cio_redis_reply *cio_redis_pipeline_reply(const cio_redis_pipeline *p, size_t i);
/* Take reply i out of p: the caller frees it (cio_redis_reply_free); its
 * slot becomes NULL. After exec the result is a copy (NULL + errno ENOMEM
 * if that fails). Never suspends. */
CIO_API cio_redis_reply *cio_redis_pipeline_take(cio_redis_pipeline *p, size_t i);
/* Forget the commands and replies (keeping the memory for reuse). */
CIO_API void cio_redis_pipeline_reset(cio_redis_pipeline *p);
/* Free p and its replies. It must not be running. NULL is a no-op. */
CIO_API void cio_redis_pipeline_free(cio_redis_pipeline *p);

/* ---- errors ---- */

/* Words for the last failure of a cio_redis call on this thread: the
 * server's error reply ("WRONGTYPE Operation against a key holding the
 * wrong kind of value"), or what went wrong ("connection closed by the
 * server", "protocol error: bad integer"). Read it before the task next
 * suspends. Never NULL; "" before any failure. Per thread, overwritten by
 * the next failure. */
CIO_API const char *cio_redis_last_error(void);

#ifdef __cplusplus
}
#endif
#endif
