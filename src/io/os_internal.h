/* os_internal.h - declarations shared by the io layer's OS modules
 * (signal.c, process.c, file.c). Owned by the io-os part of the io layer.
 * Not installed. */
#ifndef CIO_OS_INTERNAL_H
#define CIO_OS_INTERNAL_H

#include <stdint.h>

/* signal.c: process.c's use of SIGCHLD (fallback when pidfds are missing).
 * ref/unref: interest in signo on the current loop without the "kept
 * delivery" of watching. seq: deliveries dispatched so far on this loop.
 * wait_seq: suspend until seq differs from `seq` (0), or -ECANCELED /
 * -ETIMEDOUT / -ESHUTDOWN. */
int cio__signal_ref(int signo);
void cio__signal_unref(int signo);
uint64_t cio__signal_seq(int signo);
int cio__signal_wait_seq(int signo, uint64_t seq);

/* Set SIGPIPE to SIG_IGN if it is at SIG_DFL and no loop catches it, so a
 * write to a pipe whose reader exited fails with EPIPE instead of killing
 * the process (Python does the same at start-up). 0 or -errno. */
int cio__signal_ignore_sigpipe(void);

#endif
