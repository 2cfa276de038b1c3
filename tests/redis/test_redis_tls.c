/* test_redis_tls.c - rediss:// against a real redis-server speaking TLS
 * (Debian builds it with TLS), started here with a throw-away PKI from
 * tests/io/certs.sh. Skipped (77) without redis-server or openssl. */
#include "test.h"
#include "test_loop.h"

#include <cio/net.h>
#include <cio/process.h>
#include <cio/redis.h>
#include <cio/tls.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];
static int port;

static const char *path(const char *name) {
  static char buf[4][512];
  static int i;
  char *b = buf[i++ % 4];
  snprintf(b, sizeof buf[0], "%s/%s", dir, name);
  return b;
}

static int make_certs(void) {
  char tmpl[] = "/tmp/cio-redis-tls-XXXXXX";
  if (!mkdtemp(tmpl)) return -1;
  snprintf(dir, sizeof dir, "%s", tmpl);
  char src[512], cmd[1400];
  snprintf(src, sizeof src, "%s", __FILE__);
  snprintf(cmd, sizeof cmd, "sh '%s/../io/certs.sh' '%s' >/dev/null 2>&1", dirname(src), dir);
  return system(cmd) == 0 ? 0 : -1;
}

static void remove_dir(void) {
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (dir[0] && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

static int nobody(cio_stream *s, void *arg) {
  (void)s;
  (void)arg;
  return 0;
}

/* A TLS-only redis-server; 77 when it cannot run here. */
static int start_server(cio_process **proc) {
  cio_server *probe = NULL;
  int r = cio_start_server("127.0.0.1", 0, nobody, NULL, NULL, &probe);
  if (r < 0) return r;
  port = cio_server_port(probe);
  cio_server_free(probe);
  char portbuf[16];
  snprintf(portbuf, sizeof portbuf, "%d", port);
  const char *argv[] = {"redis-server",
                        "--port",
                        "0",
                        "--tls-port",
                        portbuf,
                        "--bind",
                        "127.0.0.1",
                        "--tls-cert-file",
                        path("server.pem"),
                        "--tls-key-file",
                        path("server.key"),
                        "--tls-ca-cert-file",
                        path("ca.pem"),
                        "--tls-auth-clients",
                        "no",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        dir,
                        NULL};
  cio_process_opts o = {.out = {CIO_STDIO_DEVNULL, 0}, .kill_on_free = 1};
  r = cio_process_spawn(argv, &o, proc);
  if (r < 0) return r;
  /* Ready when it accepts a TCP connection. */
  for (int i = 0; i < 200; i++) {
    cio_stream *s;
    if (cio_open_connection("127.0.0.1", port, NULL, &s) == 0) {
      cio_stream_free(s);
      return 0;
    }
    if (cio_process_poll(*proc) != -EAGAIN) return -ENOTSUP; /* no TLS in this build */
    cio_sleep(0.05);
  }
  return -ETIMEDOUT;
}

LOOP_TEST(test_rediss) {
  cio_process *proc = NULL;
  int r = start_server(&proc);
  if (r == -ENOENT || r == -ENOTSUP) {
    printf("SKIP: redis-server with TLS not available\n");
    cio_process_free(proc);
    return 0;
  }
  CHECK_EQ(r, 0);
  if (r < 0) {
    cio_process_free(proc);
    return 0;
  }
  cio_tls_client_opts to = {.ca_file = path("ca.pem")};
  cio_tls_ctx *ctx = cio_tls_ctx_new_client(&to);
  CHECK(ctx != NULL);
  char url[128];
  snprintf(url, sizeof url, "rediss://localhost:%d", port);
  cio_redis_opts o = {.tls = ctx};
  cio_redis *c = NULL;
  CHECK_EQ(cio_redis_open(url, &o, &c), 0);
  if (c) {
    size_t n = 1u << 20; /* many TLS records into one reply */
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++) big[i] = (char)(i * 7);
    CHECK_EQ(cio_redis_commandf(c, NULL, "SET big %b", big, n), 0);
    cio_redis_reply *rep;
    CHECK_EQ(cio_redis_commandf(c, &rep, "GET big"), 0);
    CHECK(rep && rep->len == n && memcmp(rep->str, big, n) == 0);
    cio_redis_reply_free(rep);
    CHECK_EQ(cio_redis_protocol(c), 3);
    free(big);
    CHECK_EQ(cio_redis_close(c), 0);
    cio_redis_free(c);
  }
  /* The system CAs do not know the test CA. */
  CHECK_EQ(cio_redis_open(url, NULL, &c), -CIO_ECERT);
  CHECK(strstr(cio_redis_last_error(), "TLS") != NULL);
  /* Plain RESP to a TLS port: the handshake never completes. */
  char plain[128];
  snprintf(plain, sizeof plain, "redis://127.0.0.1:%d", port);
  cio_redis_opts quick = {.connect_timeout = 0.5};
  r = cio_redis_open(plain, &quick, &c);
  CHECK(r < 0);
  cio_tls_ctx_free(ctx);
  cio_process_terminate(proc);
  cio_process_wait(proc);
  cio_process_free(proc);
  return 0;
}

int main(void) {
  if (make_certs() != 0) {
    printf("SKIP: certs.sh failed (is openssl installed?)\n");
    remove_dir();
    return 77;
  }
  RUN(test_rediss);
  remove_dir();
  return test_report();
}
