/* test_http_scale.c - 10,000 keep-alive connections at once: a client
 * process opens them all (at most 500 connecting at a time) and sends one
 * request on each; once every one is answered it tells the server process,
 * which checks that it holds all 10,000 connections at that moment and says
 * go; then each kept-alive connection carries a second request. Every
 * request gets its 200. The client is a process of its own (forked before
 * any loop exists), so each side needs 10,000 descriptors, not 20,000. */
/* cio-test-labels: slow */
#include "test.h"
#include "test_loop.h"

#include "http_test.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define CONNS 10000

static int port;
static int to_client[2], to_server[2];

/* ---- the client process ---- */

static int answered, opened, failures;
static cio_event *go;
static cio_sem *connecting;

/* One request on s; 1 if it was answered 200. The response buffer is
 * mapped only while reading (malloc of 1 MiB: untouched pages cost
 * nothing). */
static int ask(cio_stream *s) {
  resp *r = malloc(sizeof *r);
  int e = r ? send_raw(s, "GET / HTTP/1.1\r\nHost: t\r\n\r\n") : -ENOMEM;
  if (e == 0) e = read_resp(s, r, 0);
  int ok = e == 0 && r->status == 200;
  free(r);
  return ok;
}

static int one_client(void *arg) {
  int e = cio_sem_acquire(connecting);
  if (e < 0) return e;
  cio_stream *s = dial(port);
  int ok = s && ask(s);
  cio_sem_release(connecting);
  if (ok)
    answered++;
  else
    failures++;
  if (!s) {
    if (++opened == CONNS) cio_write_all(to_server[1], "o", 1);
    return -ECONNREFUSED;
  }
  if (++opened == CONNS) cio_write_all(to_server[1], "o", 1); /* all open */
  e = cio_event_wait(go);
  if (e == 0 && ask(s))
    answered++;
  else
    failures++;
  cio_stream_free(s);
  return e;
}

static int wait_go(void *arg) {
  char c;
  if (cio_read(to_client[0], &c, 1) == 1) cio_event_set(go);
  return 0;
}

static int clients(void *arg) {
  go = cio_event_new();
  connecting = cio_sem_new(500);
  cio_task *w = cio_spawn(wait_go, NULL);
  cio_task **t = calloc(CONNS, sizeof *t);
  for (int i = 0; i < CONNS; i++) {
    cio_spawn_opts so = {.stack_size = 64 * 1024};
    t[i] = cio_spawn_ex(one_client, NULL, &so);
  }
  for (int i = 0; i < CONNS; i++) {
    if (t[i]) cio_await(t[i]);
    cio_task_release(t[i]);
  }
  cio_task_cancel(w);
  cio_await(w);
  cio_task_release(w);
  free(t);
  cio_event_free(go);
  cio_sem_free(connecting);
  char line[64];
  int n = snprintf(line, sizeof line, "%d %d\n", answered, failures);
  return cio_write_all(to_server[1], line, (size_t)n) < 0;
}

static void client_main(void) {
  close(to_client[1]);
  close(to_server[0]);
  if (read(to_client[0], &port, sizeof port) != sizeof port) _exit(2);
  fcntl(to_client[0], F_SETFL, O_NONBLOCK);
  fcntl(to_server[1], F_SETFL, O_NONBLOCK);
  _exit(cio_run(clients, NULL) == 0 ? 0 : 1);
}

/* ---- the server process ---- */

static int hello(cio_http_req *req, cio_http_res *res, void *arg) {
  return cio_http_res_text(res, 200, "ok");
}

LOOP_TEST(test_ten_thousand) {
  cio_http_app_opts ao = {.keepalive_timeout = 120, .head_timeout = 120};
  cio_http_app *app = cio_http_app_new(&ao);
  cio_http_app_get(app, "/", hello, NULL);
  cio_http_serve_opts so = {.backlog = 4096, .stack_size = 64 * 1024};
  cio_http_server *srv = NULL;
  CHECK_EQ(cio_http_server_open(app, &so, &srv), 0);
  port = cio_http_server_port(srv);
  CHECK_EQ(write(to_client[1], &port, sizeof port), (ssize_t)sizeof port);
  char c = 0;
  CHECK_EQ(cio_read(to_server[0], &c, 1), 1); /* every connection answered once */
  CHECK_EQ(c, 'o');
  CHECK_EQ(cio_http_server_connections(srv), CONNS);
  CHECK_EQ(cio_write_all(to_client[1], "g", 1), 1);
  char line[64] = {0};
  size_t got = 0;
  ssize_t n;
  while (got < sizeof line - 1 &&
         (n = cio_read(to_server[0], line + got, sizeof line - 1 - got)) > 0)
    got += (size_t)n;
  int ok = 0, bad = -1;
  CHECK_EQ(sscanf(line, "%d %d", &ok, &bad), 2);
  CHECK_EQ(ok, 2 * CONNS);
  CHECK_EQ(bad, 0);
  CHECK_EQ(cio_http_server_close(srv, 5), 0);
  cio_http_server_free(srv);
  cio_http_app_free(app);
  return 0;
}

int main(void) {
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < CONNS + 200) {
    printf("skip: RLIMIT_NOFILE %llu < %d: raise the hard limit to run this test\n",
           (unsigned long long)rl.rlim_cur, CONNS + 200);
    return 0;
  }
  if (pipe(to_client) < 0 || pipe(to_server) < 0) return 1;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) client_main();
  close(to_client[0]);
  close(to_server[1]);
  fcntl(to_server[0], F_SETFL, O_NONBLOCK);
  fcntl(to_client[1], F_SETFL, O_NONBLOCK);
  RUN(test_ten_thousand);
  int st = 0;
  waitpid(pid, &st, 0);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  return test_report();
}
