/* bench_httpclient - many small keep-alive GETs against one local nginx
 * (bench/httpclient/with-nginx), from 1 task and from 64 tasks sharing one
 * cio_http_session; requests/s and the client process's CPU time per
 * request (getrusage: user + system, all threads). The peers do the same:
 * aiohttp on uvloop, Go's net/http, Node's http and fetch, libcurl's multi
 * interface. See bench/README.md.
 *
 * Without $CIO_BENCH_URL it runs itself again under with-nginx (found next
 * to this source: __FILE__ is absolute in CMake builds). -n N: requests per
 * measured round with 1 task (64 tasks: 4N); -r R: rounds, best reported. */
#include "bench.h"

#include <cio/http_client.h>
#include <libgen.h>
#include <sys/resource.h>

typedef struct run {
  cio_http_session *s;
  const char *url;
  long n; /* requests for this task */
  int err;
} run;

static int client(void *arg) {
  run *w = arg;
  for (long i = 0; i < w->n; i++) {
    cio_http_response *res;
    int r = cio_http_open(w->s, &(cio_http_request){.url = w->url}, &res);
    if (r == 0) {
      const char *d;
      ssize_t n = cio_http_response_body(res, &d);
      if (n != 13 || cio_http_response_status(res) != 200) r = n < 0 ? (int)n : -EPROTO;
      cio_http_response_free(res);
    }
    if (r < 0) {
      w->err = r;
      fprintf(stderr, "bench_httpclient: %s (%s)\n", cio_strerror(r), cio_http_client_last_error());
      return r;
    }
  }
  return 0;
}

static double cpu_s(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/* n requests from c tasks; wall and CPU seconds out. */
static int round_of(cio_http_session *s, const char *url, int c, long n, double *wall,
                    double *cpu) {
  run w[64];
  cio_task *t[64];
  int64_t t0 = bench_now_ns();
  double c0 = cpu_s();
  for (int i = 0; i < c; i++) {
    w[i] = (run){.s = s, .url = url, .n = n / c + (i < n % c)};
    t[i] = cio_spawn(client, &w[i]);
  }
  int r = cio_gather(t, (size_t)c, NULL, 0);
  for (int i = 0; i < c; i++) cio_task_release(t[i]);
  *cpu = cpu_s() - c0;
  *wall = (double)(bench_now_ns() - t0) / 1e9;
  return r;
}

typedef struct cfg {
  const char *url;
  bench_args a;
} cfg;

static int main_task(void *arg) {
  cfg *g = arg;
  cio_http_session *s = cio_http_session_new(&(cio_http_session_opts){.max_connections = 64});
  if (!s) return -errno;
  static const int conc[] = {1, 64};
  int r = 0;
  for (int k = 0; k < 2 && r == 0; k++) {
    int c = conc[k];
    long n = c == 1 ? g->a.n : 4 * g->a.n;
    double wall, cpu, best_rps = 0, best_cpu = 1e9;
    r = round_of(s, g->url, c, n / 10 + c, &wall, &cpu); /* warm-up: connections, caches */
    for (int i = 0; i < g->a.reps && r == 0; i++) {
      r = round_of(s, g->url, c, n, &wall, &cpu);
      if (n / wall > best_rps) best_rps = (double)n / wall;
      if (cpu / (double)n < best_cpu) best_cpu = cpu / (double)n;
    }
    if (r < 0) break;
    char metric[64], extra[64];
    snprintf(extra, sizeof extra, "\"best_of\": %d", g->a.reps);
    snprintf(metric, sizeof metric, "cpu_us_per_req_c%d", c);
    bench_emit("httpclient", metric, best_cpu * 1e6, "us", n, extra);
    snprintf(extra, sizeof extra, "\"best_of\": %d, \"better\": \"higher\"", g->a.reps);
    snprintf(metric, sizeof metric, "req_per_s_c%d", c);
    bench_emit("httpclient", metric, best_rps, "req/s", n, extra);
  }
  cio_http_session_free(s);
  return r;
}

int main(int argc, char **argv) {
  const char *url = getenv("CIO_BENCH_URL");
  if (!url) { /* start nginx around ourselves */
    char src[512], script[600];
    snprintf(src, sizeof src, "%s", __FILE__);
    snprintf(script, sizeof script, "%s/httpclient/with-nginx", dirname(src));
    char **args = calloc((size_t)argc + 2, sizeof *args);
    args[0] = script;
    for (int i = 0; i < argc; i++) args[i + 1] = argv[i];
    execv(script, args);
    perror(script);
    return 1;
  }
  cfg g = {url, bench_parse(argc, argv, 20000, 3)};
  int r = cio_run(main_task, &g);
  if (r < 0) {
    fprintf(stderr, "bench_httpclient: %s\n", cio_strerror(r));
    return 1;
  }
  return 0;
}
