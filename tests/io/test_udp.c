/* test_udp.c - datagrams over loopback: bound and connected sockets,
 * replies to the sender's address, truncation, receive cancellation and
 * timeout, ICMP port-unreachable on a connected socket, a burst handled by
 * a receiving task, IPv6, bad names, close and free under a waiter. */
#include "test.h"
#include "test_loop.h"

#include <cio.h>
#include <cio/net.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static int port_of(cio_udp *u) {
  struct sockaddr_storage ss;
  socklen_t sl;
  if (cio_udp_sockname(u, &ss, &sl) < 0) return -1;
  if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

LOOP_TEST(test_send_recv_reply) {
  cio_udp *a = NULL;
  CHECK_EQ(cio_udp_open("127.0.0.1", 0, NULL, 0, &a), 0);
  int pa = port_of(a);
  CHECK(pa > 0);
  cio_udp *b = NULL;
  CHECK_EQ(cio_udp_open(NULL, 0, "127.0.0.1", pa, &b), 0);
  CHECK_EQ(cio_udp_sendto(b, "ping", 4, NULL, 0), 4);
  char buf[64];
  struct sockaddr_storage from;
  socklen_t fl = 0;
  CHECK_EQ(cio_udp_recvfrom(a, buf, sizeof buf, &from, &fl), 4);
  CHECK(memcmp(buf, "ping", 4) == 0);
  CHECK_EQ(from.ss_family, AF_INET);
  CHECK_EQ(ntohs(((struct sockaddr_in *)&from)->sin_port), port_of(b));
  CHECK_EQ(cio_udp_sendto(a, "pong!", 5, (struct sockaddr *)&from, fl), 5);
  CHECK_EQ(cio_udp_recvfrom(b, buf, sizeof buf, NULL, NULL), 5);
  CHECK(memcmp(buf, "pong!", 5) == 0);
  /* Truncated to the caller's room; the rest of that datagram is gone. */
  CHECK_EQ(cio_udp_sendto(b, "0123456789", 10, NULL, 0), 10);
  CHECK_EQ(cio_udp_sendto(b, "next", 4, NULL, 0), 4);
  CHECK_EQ(cio_udp_recvfrom(a, buf, 3, NULL, NULL), 3);
  CHECK(memcmp(buf, "012", 3) == 0);
  CHECK_EQ(cio_udp_recvfrom(a, buf, sizeof buf, NULL, NULL), 4);
  /* Empty datagram. */
  CHECK_EQ(cio_udp_sendto(b, "", 0, NULL, 0), 0);
  CHECK_EQ(cio_udp_recvfrom(a, buf, sizeof buf, NULL, NULL), 0);
  CHECK(cio_udp_fd(a) >= 0);
  cio_udp_free(a);
  cio_udp_free(b);
  return 0;
}

struct recv_call {
  cio_udp *u;
  ssize_t r;
};

static int recv_task(void *arg) {
  struct recv_call *c = arg;
  char buf[16];
  c->r = cio_udp_recvfrom(c->u, buf, sizeof buf, NULL, NULL);
  return 0;
}

LOOP_TEST(test_recv_cancel_timeout) {
  cio_udp *a = NULL;
  CHECK_EQ(cio_udp_open("127.0.0.1", 0, NULL, 0, &a), 0);
  struct recv_call c = {a, 1};
  cio_task *t = cio_spawn(recv_task, &c);
  cio_sleep(0.01);
  CHECK_EQ(c.r, 1);
  CHECK_STR(cio_task_waiting_on(t), "fd read");
  cio_task_cancel(t);
  join(t);
  CHECK_EQ(c.r, -ECANCELED);
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 0.02);
  recv_task(&c);
  CHECK_EQ(cio_timeout_end(&sc), 1);
  CHECK_EQ(c.r, -ETIMEDOUT);
  /* Still usable afterwards. */
  cio_udp *b = NULL;
  CHECK_EQ(cio_udp_open(NULL, 0, "127.0.0.1", port_of(a), &b), 0);
  CHECK_EQ(cio_udp_sendto(b, "late", 4, NULL, 0), 4);
  recv_task(&c);
  CHECK_EQ(c.r, 4);
  cio_udp_free(a);
  cio_udp_free(b);
  return 0;
}

LOOP_TEST(test_connection_refused) {
  cio_udp *gone = NULL;
  CHECK_EQ(cio_udp_open("127.0.0.1", 0, NULL, 0, &gone), 0);
  int port = port_of(gone);
  cio_udp_free(gone);
  cio_udp *b = NULL;
  CHECK_EQ(cio_udp_open(NULL, 0, "127.0.0.1", port, &b), 0);
  CHECK_EQ(cio_udp_sendto(b, "anyone?", 7, NULL, 0), 7);
  char buf[16];
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 2.0);
  CHECK_EQ(cio_udp_recvfrom(b, buf, sizeof buf, NULL, NULL), -ECONNREFUSED);
  /* The error is consumed: the next receive waits (until the scope). */
  cio_timeout_reschedule(&sc, 0.02);
  CHECK_EQ(cio_udp_recvfrom(b, buf, sizeof buf, NULL, NULL), -ETIMEDOUT);
  cio_timeout_end(&sc);
  cio_udp_free(b);
  return 0;
}

struct burst {
  cio_udp *u;
  int n, got, bad;
};

static int burst_reader(void *arg) {
  struct burst *b = arg;
  char buf[64];
  while (b->got < b->n) {
    ssize_t r = cio_udp_recvfrom(b->u, buf, sizeof buf, NULL, NULL);
    if (r < 0) return (int)r;
    int v;
    if (r != 8 || sscanf(buf, "%08d", &v) != 1) b->bad++;
    b->got++;
  }
  return 0;
}

LOOP_TEST(test_burst) {
  cio_udp *a = NULL;
  CHECK_EQ(cio_udp_open("127.0.0.1", 0, NULL, 0, &a), 0);
  cio_udp *s = NULL;
  CHECK_EQ(cio_udp_open(NULL, 0, "127.0.0.1", port_of(a), &s), 0);
  struct burst b = {a, 2000, 0, 0};
  cio_task *t = cio_spawn(burst_reader, &b);
  char msg[16];
  for (int i = 0; i < b.n; i++) {
    snprintf(msg, sizeof msg, "%08d", i);
    CHECK_EQ(cio_udp_sendto(s, msg, 8, NULL, 0), 8);
    /* Let the reader keep up: no drops. A sleep, not a yield: a yield
     * with nothing else ready may go on for a whole budget of task runs
     * before the loop polls the reactor and wakes the reader. */
    if (i % 50 == 49) cio_sleep(0.0005);
  }
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 5.0);
  CHECK_EQ(cio_await(t), 0);
  cio_timeout_end(&sc);
  cio_task_release(t);
  CHECK_EQ(b.got, b.n);
  CHECK_EQ(b.bad, 0);
  cio_udp_free(a);
  cio_udp_free(s);
  return 0;
}

LOOP_TEST(test_ipv6_and_errors) {
  cio_udp *a = NULL;
  if (cio_udp_open("::1", 0, NULL, 0, &a) == 0) {
    cio_udp *b = NULL;
    CHECK_EQ(cio_udp_open(NULL, 0, "::1", port_of(a), &b), 0);
    CHECK_EQ(cio_udp_sendto(b, "six", 3, NULL, 0), 3);
    char buf[8];
    struct sockaddr_storage from;
    socklen_t fl;
    CHECK_EQ(cio_udp_recvfrom(a, buf, sizeof buf, &from, &fl), 3);
    CHECK_EQ(from.ss_family, AF_INET6);
    cio_udp_free(b);
    cio_udp_free(a);
  } else {
    printf("skip IPv6 part: no IPv6 loopback\n");
  }
  a = (cio_udp *)1;
  CHECK_EQ(cio_udp_open("no-such-host.invalid", 0, NULL, 0, &a), -CIO_ENONAME);
  CHECK(a == NULL);
  CHECK_EQ(cio_udp_open(NULL, 70000, NULL, 0, &a), -EINVAL);
  CHECK_EQ(cio_udp_open(NULL, 0, NULL, 0, NULL), -EINVAL);
  cio_task_cancel(cio_current());
  CHECK_EQ(cio_udp_open(NULL, 0, NULL, 0, &a), -ECANCELED);
  CHECK(a == NULL);
  cio_udp_free(NULL);
  return 0;
}

/* close is not free: waiters and later calls get -EBADF; free under a
 * waiter is safe too. */
LOOP_TEST(test_close_and_free_under_waiters) {
  cio_udp *a = NULL;
  CHECK_EQ(cio_udp_open("127.0.0.1", 0, NULL, 0, &a), 0);
  struct recv_call c = {a, 1};
  cio_task *t = cio_spawn(recv_task, &c);
  wait_blocked(t);
  CHECK_EQ(cio_udp_close(a), 0);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(c.r, -EBADF);
  CHECK_EQ(cio_udp_fd(a), -1);
  CHECK_EQ(cio_udp_close(a), 0); /* idempotent */
  char buf[4];
  CHECK_EQ(cio_udp_recvfrom(a, buf, sizeof buf, NULL, NULL), -EBADF);
  CHECK_EQ(cio_udp_sendto(a, "x", 1, NULL, 0), -EBADF);
  struct sockaddr_storage ss;
  socklen_t sl;
  CHECK_EQ(cio_udp_sockname(a, &ss, &sl), -EBADF);
  cio_udp_free(a);
  /* Freed while a task waits: it gets -EBADF and the memory goes with it. */
  CHECK_EQ(cio_udp_open("127.0.0.1", 0, NULL, 0, &a), 0);
  c = (struct recv_call){a, 1};
  t = cio_spawn(recv_task, &c);
  wait_blocked(t);
  cio_udp_free(a);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(c.r, -EBADF);
  /* Freed after its readiness woke the waiter but before it ran. */
  cio_udp *b = NULL;
  CHECK_EQ(cio_udp_open("127.0.0.1", 0, NULL, 0, &a), 0);
  CHECK_EQ(cio_udp_open(NULL, 0, "127.0.0.1", port_of(a), &b), 0);
  c = (struct recv_call){a, 1};
  t = cio_spawn(recv_task, &c);
  wait_blocked(t);
  CHECK_EQ(cio_udp_sendto(b, "x", 1, NULL, 0), 1);
  /* The loop polls and wakes t; we may get back before t has run. */
  for (int i = 0; i < 1000 && cio_task_get_state(t) == CIO_TASK_WAITING; i++) cio_yield();
  cio_udp_free(a);
  CHECK_EQ(join(t), 0);
  CHECK(c.r == -EBADF || c.r == 1);
  cio_udp_free(b);
  return 0;
}

int main(void) {
  RUN(test_send_recv_reply);
  RUN(test_recv_cancel_timeout);
  RUN(test_connection_refused);
  RUN(test_burst);
  RUN(test_ipv6_and_errors);
  RUN(test_close_and_free_under_waiters);
  return test_report();
}
