/* test_server_load.c - 10,000 concurrent connections against one server on
 * loopback, every byte verified.
 *
 * 10,000 connections need 20,000 sockets, more than this process may hold
 * at once under a 20,000 hard limit with the loop's own fds; so the clients
 * run in a forked child (own fd table, own loop) and the server here. Each
 * raises its RLIMIT_NOFILE soft limit to the hard limit. Every client
 * connects, waits until all N are connected (so the server really holds N
 * at once), then sends three messages of varied length and checks the echo
 * byte for byte. The server's handlers count how many run at the same time.
 */
/* cio-test-labels: slow */
#include "test.h"

#include <cio.h>
#include <cio/net.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define WANT_CONNS 10000
#define ROUNDS     3

static int nconns = WANT_CONNS;

static int raise_nofile(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return -1;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) < 0) return -1;
  return (int)(rl.rlim_cur > 1000000 ? 1000000 : rl.rlim_cur);
}

static uint32_t mix(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

static size_t msg_len(int id, int round) { return 1 + mix((uint32_t)(id * 8 + round)) % 3000; }
static unsigned char msg_byte(int id, int round, size_t k) {
  return (unsigned char)mix((uint32_t)id * 2654435761U + (uint32_t)round * 40503U + (uint32_t)k);
}

/* ---- server side (this process) ---- */

struct srv_stats {
  int live, max_live, served, errors;
  uint64_t bytes;
};

static int echo(cio_stream *s, void *arg) {
  struct srv_stats *st = arg;
  if (++st->live > st->max_live) st->max_live = st->live;
  char buf[4096];
  int r = 0;
  for (;;) {
    ssize_t n = cio_stream_read(s, buf, sizeof buf);
    if (n <= 0) {
      r = (int)n;
      break;
    }
    st->bytes += (uint64_t)n;
    if ((r = cio_stream_write(s, buf, (size_t)n)) < 0 || (r = cio_stream_drain(s)) < 0) break;
  }
  if (r < 0) st->errors++;
  st->served++;
  st->live--;
  return r;
}

struct server_main_arg {
  int port_fd; /* write the port here */
  int done_fd; /* the client writes its result here */
  struct srv_stats st;
  char result;
};

static int server_main(void *arg) {
  struct server_main_arg *a = arg;
  cio_server_opts so = {.backlog = 4096, .stack_size = 64 * 1024, .stream = {.read_buffer = 4096}};
  cio_server *srv;
  int r = cio_start_server("127.0.0.1", 0, echo, &a->st, &so, &srv);
  if (r < 0) return r;
  int port = cio_server_port(srv);
  if (write(a->port_fd, &port, sizeof port) != sizeof port) return -EIO;
  /* Wait for the client's verdict through the io layer itself. */
  cio_stream *done = cio_stream_new(a->done_fd, NULL);
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 60.0);
  ssize_t n = cio_stream_read(done, &a->result, 1);
  cio_timeout_end(&sc);
  cio_stream_free(done);
  r = cio_server_close(srv, 5.0);
  cio_server_free(srv);
  return n == 1 ? r : -EIO;
}

/* ---- client side (the child) ---- */

struct client_ctx {
  int port, n, connected, failed, verified;
  cio_event *all_in;
  cio_sem *connecting;
};

struct client {
  struct client_ctx *ctx;
  int id;
};

static int client_fn(void *arg) {
  struct client *cl = arg;
  struct client_ctx *ctx = cl->ctx;
  cio_stream *s = NULL;
  cio_connect_opts co = {.timeout = 30, .stream = {.read_buffer = 4096}};
  cio_sem_acquire(ctx->connecting);
  int r = cio_open_connection("127.0.0.1", ctx->port, &co, &s);
  cio_sem_release(ctx->connecting);
  if (r < 0) {
    if (ctx->failed++ < 5) fprintf(stderr, "client %d: connect: %s\n", cl->id, cio_strerror(r));
    if (++ctx->connected == ctx->n) cio_event_set(ctx->all_in);
    return r;
  }
  if (++ctx->connected == ctx->n) cio_event_set(ctx->all_in);
  cio_event_wait(ctx->all_in);
  unsigned char out[3000], in[3000];
  int ok = 1;
  for (int round = 0; round < ROUNDS && ok; round++) {
    size_t len = msg_len(cl->id, round);
    for (size_t k = 0; k < len; k++) out[k] = msg_byte(cl->id, round, k);
    size_t got = 0;
    if (cio_stream_write(s, out, len) < 0 ||
        cio_stream_readexactly(s, in, len, &got) != (ssize_t)len || memcmp(in, out, len) != 0)
      ok = 0;
  }
  if (ok)
    ctx->verified++;
  else if (ctx->failed++ < 5)
    fprintf(stderr, "client %d: bad echo\n", cl->id);
  cio_stream_free(s);
  return 0;
}

static int client_main(void *arg) {
  struct client_ctx *ctx = arg;
  ctx->all_in = cio_event_new();
  ctx->connecting = cio_sem_new(512);
  struct client *cl = calloc((size_t)ctx->n, sizeof *cl);
  cio_task **ts = calloc((size_t)ctx->n, sizeof *ts);
  cio_spawn_opts so = {.name = NULL, .stack_size = 64 * 1024};
  for (int i = 0; i < ctx->n; i++) {
    cl[i] = (struct client){ctx, i};
    ts[i] = cio_spawn_ex(client_fn, &cl[i], &so);
  }
  for (int i = 0; i < ctx->n; i++) {
    cio_await(ts[i]);
    cio_task_release(ts[i]);
  }
  free(ts);
  free(cl);
  cio_event_free(ctx->all_in);
  cio_sem_free(ctx->connecting);
  return 0;
}

static void run_client(int port_fd, int done_fd) {
  int port;
  if (read(port_fd, &port, sizeof port) != sizeof port) _exit(2);
  struct client_ctx ctx = {.port = port, .n = nconns};
  int r = cio_run(client_main, &ctx);
  char verdict = (char)(r == 0 && ctx.verified == ctx.n && ctx.failed == 0 ? 'y' : 'n');
  fprintf(stderr, "client: %d/%d connections verified\n", ctx.verified, ctx.n);
  if (write(done_fd, &verdict, 1) != 1) _exit(3);
  _exit(verdict == 'y' ? 0 : 1);
}

static void test_ten_thousand(void) {
  int lim = raise_nofile();
  CHECK(lim > 0);
  if (lim - 64 < nconns) {
    nconns = lim - 64;
    printf("note: RLIMIT_NOFILE hard limit %d: %d connections instead of %d\n", lim, nconns,
           WANT_CONNS);
  }
  int pp[2], dp[2];
  CHECK_EQ(pipe(pp), 0);
  CHECK_EQ(pipe(dp), 0);
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    close(pp[1]);
    close(dp[0]);
    run_client(pp[0], dp[1]);
  }
  close(pp[0]);
  close(dp[1]);
  struct server_main_arg a = {.port_fd = pp[1], .done_fd = dp[0]};
  int64_t t0 = cio_now_ns();
  CHECK_EQ(cio_run(server_main, &a), 0);
  double dt = (double)(cio_now_ns() - t0) / 1e9;
  close(pp[1]);
  int status = 0;
  CHECK_EQ(waitpid(pid, &status, 0), pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK_EQ(a.result, 'y');
  CHECK_EQ(a.st.max_live, nconns); /* all held at once */
  CHECK_EQ(a.st.served, nconns);
  CHECK_EQ(a.st.errors, 0);
  uint64_t want = 0;
  for (int i = 0; i < nconns; i++)
    for (int r = 0; r < ROUNDS; r++) want += msg_len(i, r);
  CHECK_EQ(a.st.bytes, want);
  printf("%d connections, %.1f MB echoed, %.2f s\n", nconns, (double)want / 1e6, dt);
}

int main(void) {
  RUN(test_ten_thousand);
  return test_report();
}
