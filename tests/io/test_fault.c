/* test_fault.c - every failure the io layer can meet, injected in turn.
 *
 * One round trip through the io layer (a server: listening socket, accept,
 * stream reads and writes; a client: socket, connect, writes, readline) is
 * run again and again with the nth system call of one site failing
 * (src/base/fault.h), n = 1, 2, ... until the site is no longer reached,
 * then likewise with the nth allocation failing (src/base/alloc.h). Each run
 * must end - no hang (a timeout scope would say -ETIMEDOUT) - with 0 or an
 * error, never with wrong data, and leave nothing behind (LeakSanitizer and
 * Valgrind watch); EINTR and short writes must be invisible. */
#include "../src/base/alloc.h"
#include "../src/base/fault.h"
#include "test.h"
#include "test_loop.h"

#include "echo_lines.h"

#include <cio.h>
#include <cio/net.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_NTH 400 /* more calls than a round trip makes */

static int round_trip_body(void) {
  cio_server *srv = NULL;
  int r = cio_start_server("127.0.0.1", 0, echo_handler, NULL, NULL, &srv);
  if (r < 0) return r;
  cio_stream *s = NULL;
  r = cio_open_connection("127.0.0.1", cio_server_port(srv), NULL, &s);
  if (r == 0) r = exchange(s);
  cio_stream_free(s);
  int c = cio_server_close(srv, 10.0);
  cio_server_free(srv);
  return r < 0 ? r : c;
}

/* The round trip, bounded: a hang is -ETIMEDOUT. */
static int round_trip(void) {
  cio_timeout_scope sc;
  int r = cio_timeout_begin(&sc, 20.0);
  if (r < 0) return r;
  r = round_trip_body();
  if (cio_timeout_end(&sc)) r = -ETIMEDOUT;
  return r;
}

/* An outcome a failure may lead to: the injected error itself, or what the
 * other end sees of it (EOF, a reset), or an allocation failure. */
static int acceptable(int r, int err) {
  return r == 0 || r == -err || r == -EPIPE || r == -ECONNRESET || r == -ENOMEM;
}

static const char *const site_name[CIO__FAULT_NSITES] = {"accept", "connect", "socket", "read",
                                                         "write",  "short",   "epoll"};

/* Fail the nth call of site with err, for n = 1... until the round trip no
 * longer reaches it. invisible: the failure must not show (EINTR). */
static void walk_site(cio__fault_site site, int err, bool invisible) {
  int runs = 0;
  for (long nth = 1; nth <= MAX_NTH; nth++) {
    cio__fault_sys_fail(site, nth, err, false);
    int r = round_trip();
    long failed = cio__fault_sys_failed(site);
    cio__fault_sys_clear();
    if (r != 0 && (invisible || !acceptable(r, err)))
      printf("  site %s, call %ld failing with %s: %s\n", site_name[site], nth,
             cio_strerror_name(-err), cio_strerror_name(r));
    CHECK(invisible ? r == 0 : acceptable(r, err));
    if (failed == 0) {
      CHECK_EQ(r, 0); /* not reached: a plain run */
      break;
    }
    runs++;
  }
  if (runs == 0) printf("  site %s never reached\n", site_name[site]);
  CHECK(runs > 0); /* every site is on the path */
  printf("  site %s, %s: %d runs\n", site_name[site], cio_strerror_name(-err), runs);
  CHECK(runs < MAX_NTH);
}

LOOP_TEST(test_sys_faults) {
  CHECK_EQ(round_trip(), 0);
  walk_site(CIO__FAULT_ACCEPT, EMFILE, false);
  walk_site(CIO__FAULT_ACCEPT, ECONNABORTED, false);
  walk_site(CIO__FAULT_CONNECT, ECONNREFUSED, false);
  walk_site(CIO__FAULT_SOCKET, EMFILE, false);
  walk_site(CIO__FAULT_READ, ECONNRESET, false);
  walk_site(CIO__FAULT_READ, EINTR, true);
  walk_site(CIO__FAULT_WRITE, EPIPE, false);
  walk_site(CIO__FAULT_WRITE, EINTR, true);
  walk_site(CIO__FAULT_EPOLL, ENOMEM, false);
  CHECK_EQ(round_trip(), 0); /* and all is well afterwards */
  return 0;
}

/* ---- short writes: cio_write_all takes one byte at a time ---- */

struct reader {
  int fd;
  size_t want;
  char buf[4096];
  size_t got;
};

static int reader_task(void *arg) {
  struct reader *rd = arg;
  while (rd->got < rd->want) {
    ssize_t n = cio_read(rd->fd, rd->buf + rd->got, sizeof rd->buf - rd->got);
    if (n <= 0) return n < 0 ? (int)n : -EPIPE;
    rd->got += (size_t)n;
  }
  return 0;
}

LOOP_TEST(test_short_writes) {
  int sv[2];
  CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  char msg[3000];
  for (size_t i = 0; i < sizeof msg; i++) msg[i] = (char)('a' + i % 26);
  struct reader rd = {sv[1], sizeof msg, {0}, 0};
  cio_task *t = cio_spawn(reader_task, &rd);
  cio__fault_sys_fail(CIO__FAULT_SHORT, 1, 1, true);
  CHECK_EQ(cio_write_all(sv[0], msg, sizeof msg), (ssize_t)sizeof msg);
  CHECK(cio__fault_sys_failed(CIO__FAULT_SHORT) >= (long)sizeof msg - 1); /* one byte each */
  cio__fault_sys_clear();
  CHECK_EQ(join(t), 0);
  CHECK_EQ(rd.got, sizeof msg);
  CHECK(memcmp(rd.buf, msg, sizeof msg) == 0);
  /* A write error in the middle: reported, and the reader sees the part. */
  cio__fault_sys_fail(CIO__FAULT_WRITE, 1, EPIPE, false);
  CHECK_EQ(cio_write_all(sv[0], msg, 10), -EPIPE);
  cio__fault_sys_clear();
  cio_close(sv[0]);
  cio_close(sv[1]);
  return 0;
}

LOOP_TEST(test_alloc_faults) {
  CHECK_EQ(round_trip(), 0);
  int runs = 0;
  for (long nth = 1; nth <= MAX_NTH; nth++) {
    cio__fault_alloc_fail(nth, false);
    int r = round_trip();
    long failed = cio__fault_alloc_failed();
    cio__fault_alloc_clear();
    if (getenv("FAULT_VERBOSE") || !acceptable(r, ENOMEM))
      printf("  allocation %ld failing (%ld): %s\n", nth, failed, cio_strerror_name(r));
    CHECK(acceptable(r, ENOMEM));
    if (failed == 0) {
      CHECK_EQ(r, 0);
      break;
    }
    runs++;
  }
  printf("  allocations: %d runs\n", runs);
  CHECK(runs > 0);
  CHECK(runs < MAX_NTH);
  CHECK_EQ(round_trip(), 0);
  return 0;
}

int main(void) {
  RUN(test_sys_faults);
  RUN(test_short_writes);
  RUN(test_alloc_faults);
  return test_report();
}
