/* http: an HTTP/1.1 hello world under wrk - cio's http layer against nginx,
 * Go net/http, Node http, aiohttp on uvloop and uvicorn + FastAPI (their
 * bench/peers/<lang>/run http). See bench/README.md, "HTTP".
 *
 *   bench_http                    run the benchmark: bench/http/driver.py
 *                                 starts this program as the server (pinned
 *                                 with $CIO_BENCH_PIN), loads it with wrk on
 *                                 the other core, prints JSON lines; then
 *                                 the same with 2 workers, unpinned
 *   bench_http --serve PORT [N]   be the server: GET / "Hello, World!"
 *                                 (text/plain), GET /json {"message":
 *                                 "Hello, World!"}, N workers (1)
 *
 * The server is what a cio user writes: an app, two routes, cio_http_run.
 * Access logging is off, as in every peer.
 */
#include "bench.h"

#include <cio/http.h>
#include <limits.h>

static int hello(cio_http_req *req, cio_http_res *res, void *arg) {
  (void)req;
  (void)arg;
  return cio_http_res_text(res, 200, "Hello, World!");
}

static int json(cio_http_req *req, cio_http_res *res, void *arg) {
  (void)req;
  (void)arg;
  cio_json *j = cio_http_res_json(res, 200);
  cio_json_object(j);
  cio_json_key(j, "message");
  cio_json_str(j, "Hello, World!");
  return cio_json_object_end(j);
}

static int serve(int port, int workers) {
  cio_log_set_level(CIO_LOG_WARNING);
  cio_http_app *app = cio_http_app_new(NULL);
  if (!app) return 1;
  cio_http_app_get(app, "/", hello, NULL);
  cio_http_app_get(app, "/json", json, NULL);
  cio_http_serve_opts so = {
      .host = "127.0.0.1", .port = port, .workers = (size_t)workers, .backlog = 4096};
  int r = cio_http_run(app, &so);
  cio_http_app_free(app);
  return r < 0;
}

/* Run the driver for one configuration; returns its exit status. */
static int drive(const char *self, const char *driver, int workers) {
  char w[16];
  snprintf(w, sizeof w, "%d", workers);
  char cmd[PATH_MAX * 2 + 512];
  const char *pin = getenv("CIO_BENCH_PIN");
  /* two workers get both cores (wrk shares one with them) */
  snprintf(cmd, sizeof cmd,
           "/usr/bin/python3 '%s' --impl cio --workers %d -- %s '%s' --serve {port} %d", driver,
           workers, workers > 1 ? "taskset -c 0,1" : (pin ? pin : "taskset -c 1"), self, workers);
  return system(cmd);
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "--serve") == 0)
    return serve(atoi(argv[2]), argc >= 4 ? atoi(argv[3]) : 1);
  static char self[PATH_MAX], driver[PATH_MAX + 64];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) return 1;
  self[len] = '\0';
  /* the driver lives in the source tree: bench/http/driver.py */
  const char *src = getenv("CIO_BENCH_SRC");
  snprintf(driver, sizeof driver, "%s/http/driver.py", src ? src : CIO_BENCH_SRC_DIR);
  int r = drive(self, driver, 1);
  if (r == 0) r = drive(self, driver, 2);
  return r != 0;
}
