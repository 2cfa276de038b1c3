/* procpool: process-pool round trips. per_round_trip: one task runs N jobs
 * one after the other on a pool of two worker processes (8 bytes in, 8
 * bytes out) - asyncio's `await loop.run_in_executor(ProcessPoolExecutor(),
 * f, x)`. per_mib_round_trip: a 1 MiB input and output, per job. */
#include "bench.h"
#include "cio/procpool.h"

static bench_args args;
static cio_procpool *pool;

static int echo(const void *in, size_t len, void **out, size_t *out_len) {
  void *o = malloc(len ? len : 1);
  if (!o) return -ENOMEM;
  memcpy(o, in, len);
  *out = o;
  *out_len = len;
  return 0;
}

static double round_trips(long n, size_t size, void *buf) {
  int64_t t0 = bench_now_ns();
  for (long i = 0; i < n; i++) {
    void *out;
    size_t len;
    int r = cio_procpool_run(pool, echo, buf, size, &out, &len);
    bench_check(r == 0 && len == size, "cio_procpool_run", r);
    free(out);
  }
  return (double)(bench_now_ns() - t0);
}

static int bench_main(void *unused) {
  uint64_t small = 42;
  size_t big_size = 1u << 20;
  long big_n = args.n / 20 > 0 ? args.n / 20 : 1;
  void *big = calloc(1, big_size);
  bench_check(big != NULL, "calloc", -ENOMEM);
  round_trips(10, sizeof small, &small); /* warm-up */
  double best = 0, best_big = 0;
  for (int rep = 0; rep < args.reps; rep++) {
    double dt = round_trips(args.n, sizeof small, &small);
    if (rep == 0 || dt < best) best = dt;
    dt = round_trips(big_n, big_size, big);
    if (rep == 0 || dt < best_big) best_big = dt;
  }
  free(big);
  bench_emit_best("procpool", "per_round_trip", best / (double)args.n / 1e3, "us", args.n,
                  args.reps);
  bench_emit_best("procpool", "per_mib_round_trip", best_big / (double)big_n / 1e3, "us", big_n,
                  args.reps);
  return 0;
}

int main(int argc, char **argv) {
  args = bench_parse(argc, argv, 20000, 3);
  pool = cio_procpool_new(2);
  bench_check(pool != NULL, "cio_procpool_new", -errno);
  int r = cio_run(bench_main, NULL);
  cio_procpool_free(pool);
  return r == 0 ? 0 : 1;
}
