/* cio/dns.h - name resolution that never blocks the loop (c-ares).
 *
 * cio_getaddrinfo() is getaddrinfo(3) for tasks: while c-ares waits for a
 * DNS server, only the calling task is suspended. Lookups consult
 * /etc/hosts first, then DNS (the servers of /etc/resolv.conf unless
 * cio_dns_configure() names others).
 *
 * Answered without c-ares, without suspending (these work outside tasks too):
 *   - numeric hosts ("192.0.2.1", "::1", "fe80::1%eth0");
 *   - a NULL host: the wildcard address with AI_PASSIVE, else loopback;
 *   - "localhost" and "*.localhost" (RFC 6761): 127.0.0.1 then ::1;
 *   - "*.invalid" (RFC 6761): never resolves (-CIO_ENONAME).
 *
 * One c-ares channel per loop serves every query in flight; it is created
 * by the first query and destroyed when the last one finishes, so an idle
 * loop holds no resolver sockets or memory and nothing outlives the loop.
 * Loop thread only. Link with cio-io.
 */
#ifndef CIO_DNS_H
#define CIO_DNS_H

#include "task.h"

#include <netdb.h>
#include <sys/socket.h>

/* <netdb.h> hides struct addrinfo under strict -std=c11 without a POSIX
 * feature macro; declaring the tag keeps this header usable there. */
struct addrinfo;

#ifdef __cplusplus
extern "C" {
#endif

/* Resolve host and service (getaddrinfo(3) semantics, the subset below).
 *   host     name or numeric address; NULL = wildcard/loopback (see above)
 *   service  NULL (port 0), a decimal port, or a name from /etc/services
 *   hints    may be NULL. Used: ai_family (AF_UNSPEC, AF_INET, AF_INET6),
 *            ai_socktype and ai_protocol (copied into every result),
 *            ai_flags AI_PASSIVE, AI_NUMERICHOST, AI_NUMERICSERV,
 *            AI_CANONNAME; other flags are ignored.
 * On success *res is a list with one entry per address (unlike glibc there
 * is no duplicate per socket type), in the order to try them (RFC 6724 for
 * DNS answers); the caller owns it and frees it with cio_freeaddrinfo()
 * (never freeaddrinfo(3)).
 * Returns 0, or:
 *   -CIO_ENONAME   the name does not exist, or has no address of the family
 *                  asked (also a non-numeric host with AI_NUMERICHOST);
 *   -CIO_EDNS      no server answered in time, or answered with a failure;
 *   -EINVAL        bad arguments, unknown service name, AI_NUMERICSERV with
 *                  a service name;
 *   -EAFNOSUPPORT  a family other than the three above;
 *   -ECANCELED / -ETIMEDOUT  the task was cancelled / its timeout scope
 *                  expired while waiting (the query is abandoned: nothing
 *                  refers to the caller's stack afterwards);
 *   -EPERM         a lookup that needs DNS or /etc/hosts outside a task;
 *   -ENOMEM.
 * *res is NULL on failure. May suspend (not on the fast paths above). */
CIO_API int cio_getaddrinfo(const char *host, const char *service, const struct addrinfo *hints,
                            struct addrinfo **res);

/* Free a list returned by cio_getaddrinfo (NULL is fine). Never suspends;
 * any thread. */
CIO_API void cio_freeaddrinfo(struct addrinfo *res);

/* Resolver settings of the calling thread's loop. Zero fields take the
 * defaults. */
typedef struct cio_dns_opts {
  double timeout;      /* first try per server, seconds; 0 = 2.0. c-ares
                          doubles it on each round of retries. CIO_FOREVER:
                          no limit of cio's (a try waits up to a day; bound
                          the call with a timeout scope) */
  size_t tries;        /* rounds over the servers; 0 = 2 (at most 64) */
  const char *servers; /* "ip[:port],[ip6]:port,..."; NULL = resolv.conf */
  const char *lookups; /* "fb" = /etc/hosts then DNS (default), "f", "b" */
} cio_dns_opts;

/* Apply opts (NULL = defaults) to queries started from now on (queries
 * already in flight keep their settings). Strings are copied. Returns 0,
 * -EINVAL (unparsable servers, bad lookups, tries above 64, or a servers
 * string of more than 511 bytes), -ENOMEM. Never suspends. Loop thread (it
 * configures the calling thread's loop). */
CIO_API int cio_dns_configure(const cio_dns_opts *opts);

#ifdef __cplusplus
}
#endif
#endif
