/* reactor_backend.h - what the reactor's fd table (reactor.c) needs from the
 * kernel's readiness interface. Not installed.
 *
 * A backend is one file, reactor_<name>.c, that defines the six static
 * functions declared below and the struct cio__backend. reactor.c includes
 * it (the file named by CIO_REACTOR_BACKEND_SRC, which src/io/CMakeLists.txt
 * sets from -DCIO_REACTOR_BACKEND=<name>, epoll by default), as Redis's ae.c
 * includes ae_epoll.c: one translation unit, so the calls on the hot path
 * are inlined and the split costs nothing. Another backend (poll(2),
 * kqueue, io_uring) is a new file; the fd table, the waiters and the public
 * calls do not change.
 *
 * The contract is edge-triggered: after backend_add(), the backend reports
 * each direction of the fd when it *becomes* ready (and at least once right
 * after the add if it is ready then); it need not report it again while it
 * stays ready. The table remembers what nobody has consumed yet, so nothing
 * is lost. A level-triggered interface meets the contract by watching a
 * direction only between backend_arm() (someone waits for it) and the next
 * report of it; an edge-triggered one makes arm an empty function.
 *
 * The table never removes an fd: it forgets a descriptor by bumping the
 * generation it keeps in `data` (close(2) takes the fd out of the kernel's
 * set), and ignores reports whose data no longer match. Each loop thread has
 * its own backend instance; none is used from two threads at once.
 */
#ifndef CIO_IO_REACTOR_BACKEND_H
#define CIO_IO_REACTOR_BACKEND_H

#include <stdint.h>

typedef struct cio__backend cio__backend;

/* What a report says about its fd. READ and WRITE are CIO_READABLE and
 * CIO_WRITABLE; an error or a hang-up sets both. RDHUP (the peer shut down
 * its sending side) and HUP (both sides) stay true for good once seen. */
#define CIO__EV_READ  1u
#define CIO__EV_WRITE 2u
#define CIO__EV_RDHUP 4u
#define CIO__EV_HUP   8u

/* A new instance that also watches wake_fd for readability, level-
 * triggered (an undrained wake-up must keep the next sleep short), reported
 * with wake_data. Returns 0 or a negative errno; *out is NULL on failure. */
static int backend_open(int wake_fd, uint64_t wake_data, cio__backend **out);

/* Close the kernel object and free b. */
static void backend_close(cio__backend *b);

/* Watch fd in both directions, reported with data. An fd that is still in
 * the set under older data (forgotten by the table but never closed) is
 * re-tagged. Returns 0 or a negative errno (-EPERM for regular files). */
static int backend_add(cio__backend *b, int fd, uint64_t data);

/* Someone now waits for the directions `dirs` (CIO__EV_READ / _WRITE) of
 * fd, registered with data. Only level-triggered backends need it. */
static void backend_arm(cio__backend *b, int fd, uint64_t data, unsigned dirs);

/* Wait up to timeout_ns (-1: until something happens; 0: only look) for
 * reports. Returns how many there are (0 on timeout or when a signal
 * interrupted the wait) or a negative errno. */
static int backend_poll(cio__backend *b, int64_t timeout_ns);

/* Report i (0 <= i < what backend_poll returned): its CIO__EV_* bits, and
 * its data in *data. */
static unsigned backend_report(const cio__backend *b, int i, uint64_t *data);

#endif
