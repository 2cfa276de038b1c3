/* io_internal.h - declarations shared by the io layer's modules. Not installed.
 *
 * Owned by the reactor/stream/net code; other io modules may add their own
 * declarations in a clearly marked section at the end.
 *
 * Conventions as in the core: internal symbols are cio__name and hidden (the
 * layer is built with -fvisibility=hidden).
 */
#ifndef CIO_IO_INTERNAL_H
#define CIO_IO_INTERNAL_H

#include "base/alloc.h"
#include "base/compiler.h"
#include "base/fault.h"
#include "base/list.h"
#include "cio.h"
#include "cio/io.h"
#include "cio/net.h"
#include "cio/stream.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- cancellation checks for calls that complete without waiting ----
 *
 * The conventions (common.h) want every call that may wait to check for a
 * pending cancellation or an expired timeout scope on entry, also when it
 * completes at once: cio_checkpoint(). Outside a task there is nothing to
 * check (the call fails later if it must wait). Besides, a task whose calls
 * keep completing without waiting (a peer that always has data ready)
 * yields once every CIO__IO_BUDGET of them, so it cannot starve the loop;
 * every real wait refills the budget. */
#define CIO__IO_BUDGET 32
extern _Thread_local unsigned cio__io_budget;
int cio__io_yield(void);
static inline int cio__io_checkpoint(void) {
  if (CIO_UNLIKELY(--cio__io_budget == 0)) return cio__io_yield();
  int r = cio_checkpoint();
  return r == -EPERM ? 0 : r;
}

/* ---- reactor (reactor.c) ---- */

/* Install the reactor on loop, the calling thread's (idempotent). */
int cio__reactor_init(cio_loop *loop);
/* cio_wait_fd (io.h), argument checks included. */
int cio__fd_wait(int fd, int events);
/* cio_fd_forget. */
void cio__fd_forget(int fd);

/* A one-shot readiness callback, run from the poller (loop context: it must
 * not suspend). res is the ready events (> 0). Callbacks are dropped, not
 * called, when their fd is forgotten: the fd's owner arms them and knows. */
typedef void (*cio__fd_cb)(void *arg, int res);

/* Arm cb for one direction (CIO_READABLE or CIO_WRITABLE) of fd, after the
 * caller saw EAGAIN (or a short write). Returns 0 when armed, 1 when the fd
 * has been reported ready in that direction since the last wait (the bit is
 * consumed, nothing is armed: retry the operation now), or a negative errno
 * (no loop, registration failed). One callback per direction; arming again
 * replaces it. */
int cio__fd_watch(int fd, int dir, cio__fd_cb cb, void *arg);
/* Disarm the callback of a direction (no-op if none). */
void cio__fd_unwatch(int fd, int dir);

/* Select cases (cio/select.h) wait in the task slots of cio_wait_fd, woken
 * with their case's code instead of the ready events, which stay in the
 * table for the case to take.
 *   arm:    register fd if needed and arm the slots of `events` for t with
 *           code; *gen gets fd's generation (it changes when fd is
 *           forgotten). 0 = armed; 1 = some of events is ready already
 *           (nothing armed); -EBUSY when a slot is taken by another waiting
 *           task or by t itself (two cases on one direction); or the
 *           registration's error.
 *   disarm: clear what arm did if it is still there (harmless otherwise).
 *   take:   the ready subset of events (consumed), 0 if none or fd unknown.
 *   gen:    fd's current generation (0 if the table never saw fd). */
int cio__fd_arm(int fd, int events, cio_task *t, int code, uint32_t *gen);
void cio__fd_disarm(int fd, int events, cio_task *t, uint32_t gen);
int cio__fd_take(int fd, int events);
uint32_t cio__fd_gen(int fd);

/* ---- streams (stream*.c) ---- */

/* cio_stream_new for an fd known to be a connected socket (no probing). */
cio_stream *cio__stream_new_socket(int fd, const cio_stream_opts *opts);
/* Bytes received so far, and bytes the transport has taken for sending
 * (idle detection: progress in either direction). Every write path of a
 * stream counts into tx. */
uint64_t cio__stream_rx_bytes(const cio_stream *s);
uint64_t cio__stream_tx_bytes(const cio_stream *s);

/* ---- addresses (net.c) ---- */

/* Resolve host:port into *res (freeaddrinfo-able), for TCP (socktype
 * SOCK_STREAM) or UDP (SOCK_DGRAM). host NULL or "" with passive = the
 * wildcard address. Returns 0 or a negative code (-CIO_ENONAME...). May
 * suspend (through the resolver). */
struct addrinfo;
int cio__resolve(const char *host, int port, int family, int socktype, int passive,
                 struct addrinfo **res);
void cio__resolve_free(struct addrinfo *res);
/* Format an address as "ip:port", "[ip6]:port" or "unix:path". */
int cio__addr_string(const struct sockaddr *sa, socklen_t len, char *buf, size_t cap);

/* ---- other io modules: add your own marked sections below ---- */

#endif
