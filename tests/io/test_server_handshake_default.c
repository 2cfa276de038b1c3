/* test_server_handshake_default.c - a TLS server started with default
 * options (handshake_timeout 0) drops a client that connects and never
 * completes its handshake: not at once, and within the 60 s default
 * (asyncio's). A real client is served meanwhile.
 *
 * It waits the whole default out (about a minute, suspended), hence the
 * slow label: the AArch64 and Valgrind runs skip it.
 * cio-test-labels: slow */
#include "test.h"
#include "test_loop.h"

#include "test_certs.h"

#include <cio.h>
#include <cio/net.h>
#include <cio/tls.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static int echo_handler(cio_stream *s, void *arg) {
  int *served = arg;
  char line[64];
  ssize_t n = cio_stream_readline(s, line, sizeof line);
  if (n > 0) (*served)++;
  return n > 0 ? cio_stream_write(s, line, (size_t)n) : (int)n;
}

LOOP_TEST(test_default_handshake_timeout) {
  cio_tls_ctx *sc = certs_server_ctx(), *cc = certs_client_ctx();
  CHECK(sc && cc);
  int served = 0;
  cio_server_opts so = {.tls = sc};
  cio_server *srv = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, echo_handler, &served, &so, &srv), 0);
  int port = cio_server_port(srv);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK_EQ(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  cio_stream *stalled = cio_stream_new(fd, NULL);
  CHECK(stalled != NULL);
  /* Served while the other one stalls; the stalled one is still there
   * after that (no early drop: the default is not "at once"). */
  cio_connect_opts co = {.tls = cc, .timeout = 10};
  cio_stream *good = NULL;
  CHECK_EQ(cio_open_connection("localhost", port, &co, &good), 0);
  char buf[16];
  CHECK_EQ(cio_stream_write(good, "hi\n", 3), 0);
  CHECK_EQ(cio_stream_readline(good, buf, sizeof buf), 3);
  cio_stream_free(good);
  CHECK_EQ(served, 1);
  CHECK_EQ(cio_sleep(1.0), 0);
  char c;
  CHECK(recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && errno == EAGAIN);
  /* Dropped by the default: an EOF (or a reset) within two minutes. */
  cio_timeout_scope sc2;
  cio_timeout_begin(&sc2, 120.0);
  ssize_t n = cio_stream_read(stalled, buf, sizeof buf);
  CHECK_EQ(cio_timeout_end(&sc2), 0);
  CHECK(n == 0 || n == -ECONNRESET);
  CHECK_EQ(cio_server_connections(srv), 0);
  cio_stream_free(stalled);
  CHECK_EQ(cio_server_close(srv, 1.0), 0);
  cio_server_free(srv);
  cio_tls_ctx_free(sc);
  cio_tls_ctx_free(cc);
  return 0;
}

int main(void) {
  if (certs_make() != 0) {
    fprintf(stderr, "test_server_handshake_default: certs.sh failed (is openssl installed?)\n");
    certs_remove();
    return 1;
  }
  RUN(test_default_handshake_timeout);
  certs_remove();
  return test_report();
}
