/* echo: cio's echo server, measured by bench/echo's load generator.
 *
 *   bench_echo [CLIENT-OPTIONS]   run the benchmark: start echo_client (built
 *                                 next to this program), which starts this
 *                                 program again as the server and prints the
 *                                 JSON lines (see bench/echo/client.c)
 *   bench_echo --serve            be the server: 127.0.0.1, any port, print
 *                                 "port N", serve until killed
 *
 * The server is the code a cio user writes: cio_start_server() and a handler
 * that reads what has arrived, writes it back and drains, one task per
 * connection. The server runs under $CIO_BENCH_PIN (bench/run sets it to
 * "taskset -c 1"; unset, the server is pinned to CPU 1), the client pins
 * itself to the other core. bench_connect.c is this program in connect mode.
 */
#include "bench.h"

#include <cio/net.h>
#include <limits.h>

#ifndef BENCH_ECHO_MODE
#define BENCH_ECHO_MODE "echo"
#endif

static int handle(cio_stream *s, void *arg) {
  char buf[16384];
  for (;;) {
    ssize_t n = cio_stream_read(s, buf, sizeof buf);
    if (n <= 0) return (int)n;
    int r = cio_stream_write(s, buf, (size_t)n);
    if (r == 0) r = cio_stream_drain(s);
    if (r < 0) return r;
  }
}

static int serve(void *arg) {
  cio_server_opts opts = {.backlog = 4096};
  cio_server *srv;
  int r = cio_start_server("127.0.0.1", 0, handle, NULL, &opts, &srv);
  bench_check(r == 0, "cio_start_server", r);
  printf("port %d\n", cio_server_port(srv));
  fflush(stdout);
  r = cio_server_serve_forever(srv);
  cio_server_free(srv);
  return r;
}

/* exec echo_client --impl cio --bench MODE [args] -- [pin] self --serve */
static int drive(int argc, char **argv) {
  static char self[PATH_MAX], client[PATH_MAX + 16], pin[256];
  static char impl_opt[] = "--impl", impl[] = "cio", bench_opt[] = "--bench",
              mode[] = BENCH_ECHO_MODE, dashes[] = "--", serve_opt[] = "--serve";
  char *args[64];
  int n = 0;
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) {
    perror("bench_echo: /proc/self/exe");
    return 1;
  }
  self[len] = '\0';
  snprintf(client, sizeof client, "%.*s/echo_client", (int)(strrchr(self, '/') - self), self);
  const char *p = getenv("CIO_BENCH_PIN");
  snprintf(pin, sizeof pin, "%s", p ? p : "taskset -c 1");

  args[n++] = client;
  args[n++] = impl_opt;
  args[n++] = impl;
  args[n++] = bench_opt;
  args[n++] = mode;
  for (int i = 1; i < argc && n < 40; i++) args[n++] = argv[i];
  args[n++] = dashes;
  for (char *w = strtok(pin, " "); w && n < 60; w = strtok(NULL, " ")) args[n++] = w;
  args[n++] = self;
  args[n++] = serve_opt;
  args[n] = NULL;
  execv(client, args);
  fprintf(stderr, "bench_echo: exec %s: %s\n", client, strerror(errno));
  return 1;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--serve") == 0) return cio_run(serve, NULL) == 0 ? 0 : 1;
  return drive(argc, argv);
}
