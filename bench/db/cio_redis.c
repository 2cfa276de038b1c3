/* cio_redis.c - cio's Redis client under load (the db_redis program):
 * point GETs / SETs from 1 task, from 64 tasks, and pipelined; queries per
 * second and the client's CPU time per query. Driven by bench/db/run_redis,
 * which starts the server and runs the peers (redis-py on uvloop,
 * redis-benchmark) the same way.
 *
 *   db_redis --url URL --op get|set --tasks T [--conns C | --pool P]
 *            [--depth D] [-n N] --case MODE
 *
 *   --conns C  T tasks share C connections (task i uses connection i % C):
 *              with C < T, commands of tasks on one connection are
 *              pipelined automatically
 *   --pool P   T tasks borrow from a pool of P connections per query
 *              (acquire, command, release), as redis-py's asyncio client does
 *   --depth D  each task sends D commands per round trip (an explicit
 *              pipeline); 1 = one command at a time
 *
 * Keys are "key:%012d", 0..9,999, values 3 bytes (redis-benchmark -r 10000
 * -d 3), chosen at random. Prints two JSON lines, like bench/db's other
 * programs:
 *   {"bench": "db", "impl": "cio", "db": "redis", "metric": "qps_<MODE>", ...}
 *   {... "metric": "cpu_us_<MODE>", ...}
 * CPU time is getrusage(RUSAGE_SELF), user + system, over the measured part
 * (after connecting and a warm-up).
 */
#include <cio.h>
#include <cio/redis.h>
#include <cio/redis_pool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define NKEYS 10000

static char keys[NKEYS][24];

typedef struct config {
  const char *url, *op, *case_name;
  int tasks, conns, pool, depth;
  long n;
} config;

typedef struct run {
  const config *cfg;
  cio_redis **conns;
  cio_redis_pool *pool;
  long per_task;
  long errors;
} run;

typedef struct worker {
  run *run;
  int id;
  uint64_t rng;
} worker;

static unsigned next_key(worker *w) {
  w->rng ^= w->rng << 13;
  w->rng ^= w->rng >> 7;
  w->rng ^= w->rng << 17;
  return (unsigned)(w->rng % NKEYS);
}

static int one(worker *w, cio_redis *c) {
  const char *k = keys[next_key(w)];
  const char *argv[3] = {"GET", k, "xxx"};
  size_t lens[3] = {3, 16, 3};
  int set = w->run->cfg->op[0] == 's';
  if (set) argv[0] = "SET";
  cio_redis_reply *r;
  int st = w->run->pool ? cio_redis_pool_command(w->run->pool, set ? 3 : 2, argv, lens, &r)
                        : cio_redis_command(c, set ? 3 : 2, argv, lens, &r);
  cio_redis_reply_free(r);
  return st;
}

static int worker_fn(void *arg) {
  worker *w = arg;
  run *x = w->run;
  const config *cfg = x->cfg;
  cio_redis *c = x->conns ? x->conns[w->id % cfg->conns] : NULL;
  if (cfg->depth <= 1) {
    for (long i = 0; i < x->per_task; i++)
      if (one(w, c) < 0) x->errors++;
    return 0;
  }
  cio_redis_pipeline *p = cio_redis_pipeline_new();
  int set = cfg->op[0] == 's';
  for (long done = 0; done < x->per_task;) {
    cio_redis_pipeline_reset(p);
    for (int i = 0; i < cfg->depth && done < x->per_task; i++, done++) {
      const char *argv[3] = {set ? "SET" : "GET", keys[next_key(w)], "xxx"};
      size_t lens[3] = {3, 16, 3};
      cio_redis_pipeline_add(p, set ? 3 : 2, argv, lens);
    }
    if (cio_redis_pipeline_run(c, p) < 0) x->errors++;
  }
  cio_redis_pipeline_free(p);
  return 0;
}

/* All tasks, per_task queries each; returns the wall time in ns. */
static int64_t pass(run *x, long per_task) {
  int64_t t0 = cio_now_ns();
  x->per_task = per_task;
  int n = x->cfg->tasks;
  cio_task **t = calloc((size_t)n, sizeof *t);
  worker *w = calloc((size_t)n, sizeof *w);
  for (int i = 0; i < n; i++) {
    w[i] = (worker){x, i, 0x9e3779b97f4a7c15u ^ (uint64_t)(i + 1) * 0x2545F4914F6CDD1Du};
    t[i] = cio_spawn(worker_fn, &w[i]);
  }
  for (int i = 0; i < n; i++) {
    cio_await(t[i]);
    cio_task_release(t[i]);
  }
  free(t);
  free(w);
  return cio_now_ns() - t0;
}

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int main_task(void *arg) {
  const config *cfg = arg;
  run x = {cfg, NULL, NULL, 0, 0};
  int r = 0;
  if (cfg->pool) {
    cio_redis_pool_opts o = {.min_size = (size_t)cfg->pool, .max_size = (size_t)cfg->pool};
    r = cio_redis_pool_open(cfg->url, &o, &x.pool);
  } else {
    x.conns = calloc((size_t)cfg->conns, sizeof *x.conns);
    for (int i = 0; r == 0 && i < cfg->conns; i++) r = cio_redis_open(cfg->url, NULL, &x.conns[i]);
  }
  if (r < 0) {
    fprintf(stderr, "db_redis: %s (%s)\n", cio_strerror(r), cio_redis_last_error());
    return r;
  }
  long per_task = cfg->n / cfg->tasks;
  long total = per_task * cfg->tasks;
  pass(&x, per_task / 10 + 1); /* warm-up: buffers, the server's too */
  x.errors = 0;
  double c0 = cpu_s();
  int64_t wall = pass(&x, per_task);
  double cpu = cpu_s() - c0;
  if (x.errors) fprintf(stderr, "db_redis: %ld errors (%s)\n", x.errors, cio_redis_last_error());
  printf("{\"bench\": \"db\", \"impl\": \"cio\", \"db\": \"redis\", \"metric\": \"qps_%s\", "
         "\"value\": %.1f, \"unit\": \"q/s\", \"better\": \"higher\", \"n\": %ld}\n",
         cfg->case_name, (double)total / ((double)wall / 1e9), total);
  printf("{\"bench\": \"db\", \"impl\": \"cio\", \"db\": \"redis\", \"metric\": \"cpu_us_%s\", "
         "\"value\": %.3f, \"unit\": \"us\", \"n\": %ld}\n",
         cfg->case_name, cpu * 1e6 / (double)total, total);
  fflush(stdout);
  if (x.pool) {
    cio_redis_pool_close(x.pool);
    cio_redis_pool_free(x.pool);
  }
  for (int i = 0; x.conns && i < cfg->conns; i++) cio_redis_free(x.conns[i]);
  free(x.conns);
  return x.errors ? -EIO : 0;
}

int main(int argc, char **argv) {
  config cfg = {NULL, "get", NULL, 1, 1, 0, 1, 100000};
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--url"))
      cfg.url = v;
    else if (!strcmp(k, "--op"))
      cfg.op = v;
    else if (!strcmp(k, "--case"))
      cfg.case_name = v;
    else if (!strcmp(k, "--tasks"))
      cfg.tasks = atoi(v);
    else if (!strcmp(k, "--conns"))
      cfg.conns = atoi(v);
    else if (!strcmp(k, "--pool"))
      cfg.pool = atoi(v);
    else if (!strcmp(k, "--depth"))
      cfg.depth = atoi(v);
    else if (!strcmp(k, "-n"))
      cfg.n = atol(v);
    else {
      fprintf(stderr, "db_redis: unknown option %s\n", k);
      return 2;
    }
  }
  if (!cfg.url || !cfg.case_name || cfg.tasks < 1 || cfg.conns < 1 || cfg.depth < 1 ||
      cfg.n < cfg.tasks || (strcmp(cfg.op, "get") && strcmp(cfg.op, "set"))) {
    fprintf(stderr, "usage: db_redis --url URL --op get|set --tasks T [--conns C|--pool P] "
                    "[--depth D] [-n N] --case MODE\n");
    return 2;
  }
  for (int i = 0; i < NKEYS; i++) snprintf(keys[i], sizeof keys[i], "key:%012d", i);
  return cio_run(main_task, &cfg) == 0 ? 0 : 1;
}
