/* test_thread_http.c - cio_http_run with two workers (two loops on two
 * threads sharing a port with SO_REUSEPORT) serving a third loop's client
 * tasks, each worker running its own lifespan hooks; SIGTERM then stops
 * both gracefully and cio_http_run returns 0. Run under ThreadSanitizer
 * (label threads). */
#include "test.h"
#include "test_loop.h"

#include "http_test.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

static resp R;
static atomic_int startups, shutdowns, listening_port;
static atomic_int served_by[2];

static int whoami(cio_http_req *req, cio_http_res *res, void *arg) {
  int *worker = cio_http_req_state(req);
  atomic_fetch_add(&served_by[*worker], 1);
  return cio_http_res_text(res, 200, "ok");
}

static int startup(void *arg, void **state) {
  static int ids[2] = {0, 1};
  int n = atomic_fetch_add(&startups, 1);
  *state = &ids[n % 2];
  return cio_sleep(0.01);
}

static int shutdown_hook(void *arg, void *state) {
  atomic_fetch_add(&shutdowns, 1);
  return 0;
}

static void on_listen(int port, void *arg) { atomic_store(&listening_port, port); }

static int run_status = 1;

static void *server_thread(void *arg) {
  cio_http_app *app = arg;
  cio_http_serve_opts so = {.port = 0, .workers = 2, .grace = 2, .on_listen = on_listen};
  run_status = cio_http_run(app, &so);
  return NULL;
}

static int client_main(void *arg) {
  int port = atomic_load(&listening_port);
  for (int i = 0; i < 200; i++) {
    CHECK_EQ(get(port, "/", &R), 0);
    CHECK_EQ(R.status, 200);
  }
  return 0;
}

static void test_two_workers(void) {
  cio_log_set_level(CIO_LOG_WARNING);
  cio_http_app *app = cio_http_app_new(NULL);
  cio_http_app_get(app, "/", whoami, NULL);
  cio_http_app_lifespan(app, startup, shutdown_hook, NULL);
  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, server_thread, app), 0);
  for (int i = 0; i < 1000 && atomic_load(&listening_port) == 0; i++) usleep(10000);
  CHECK(atomic_load(&listening_port) > 0);
  for (int i = 0; i < 1000 && atomic_load(&startups) < 2; i++) usleep(10000);
  CHECK_EQ(atomic_load(&startups), 2); /* one lifespan per worker */
  run_main(client_main, NULL);
  CHECK_EQ(atomic_load(&served_by[0]) + atomic_load(&served_by[1]), 200);
  /* To the server's thread, not to the process: the kernel would most
   * likely pick this thread, and Valgrind (3.19) then builds the handler's
   * frame on the alternate signal stack this thread's loop had and took
   * down when it closed. Every worker's loop gets it either way. */
  pthread_kill(t, SIGTERM);
  pthread_join(t, NULL);
  CHECK_EQ(run_status, 0);
  CHECK_EQ(atomic_load(&shutdowns), 2);
  cio_http_app_free(app);
}

/* More workers than a process may sensibly run: refused before anything
 * starts. */
static void test_too_many_workers(void) {
  cio_http_app *app = cio_http_app_new(NULL);
  cio_http_serve_opts so = {.port = 0, .workers = CIO_HTTP_MAX_WORKERS + 1};
  CHECK_EQ(cio_http_run(app, &so), -EINVAL);
  so.workers = (size_t)-1; /* a negative count converted */
  CHECK_EQ(cio_http_run(app, &so), -EINVAL);
  cio_http_app_free(app);
}

int main(void) {
  RUN(test_two_workers);
  RUN(test_too_many_workers);
  return test_report();
}
