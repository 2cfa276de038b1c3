/* executor: thread-pool round trips. per_round_trip: one task runs N empty
 * jobs one after the other on the default pool (submit, a pool thread runs
 * the job, the task resumes) - asyncio's `await loop.run_in_executor(None,
 * f)`. per_job_concurrent: 64 tasks do the same at once, total time / N. */
#include "bench.h"
#include "cio/exec.h"

enum { CONCURRENT = 64 };

static bench_args args;

static int nop_job(void *arg) { return 0; }

static double sequential(void) {
  int64_t t0 = bench_now_ns();
  for (long i = 0; i < args.n; i++) {
    int r = cio_run_in_executor(NULL, nop_job, NULL);
    bench_check(r == 0, "cio_run_in_executor", r);
  }
  return (double)(bench_now_ns() - t0);
}

static int worker(void *arg) {
  long n = (long)(intptr_t)arg;
  for (long i = 0; i < n; i++) {
    int r = cio_run_in_executor(NULL, nop_job, NULL);
    if (r < 0) return r;
  }
  return 0;
}

static double concurrent(void) {
  cio_task *t[CONCURRENT];
  int64_t t0 = bench_now_ns();
  for (int k = 0; k < CONCURRENT; k++) {
    long share = args.n / CONCURRENT + (k < args.n % CONCURRENT);
    t[k] = cio_spawn(worker, (void *)(intptr_t)share);
    bench_check(t[k] != NULL, "cio_spawn", -errno);
  }
  int r = cio_gather(t, CONCURRENT, NULL, 0);
  bench_check(r == 0, "worker", r);
  double dt = (double)(bench_now_ns() - t0);
  for (int k = 0; k < CONCURRENT; k++) cio_task_release(t[k]);
  return dt;
}

static int bench_main(void *unused) {
  /* Warm up: start the pool's threads. */
  bench_check(cio_run_in_executor(NULL, nop_job, NULL) == 0, "warm-up", -EIO);
  double best = 0, best_c = 0;
  for (int rep = 0; rep < args.reps; rep++) {
    double dt = sequential();
    if (rep == 0 || dt < best) best = dt;
  }
  for (int rep = 0; rep < args.reps; rep++) {
    double dt = concurrent();
    if (rep == 0 || dt < best_c) best_c = dt;
  }
  bench_emit_best("executor", "per_round_trip", best / (double)args.n / 1e3, "us", args.n,
                  args.reps);
  bench_emit_best("executor", "per_job_concurrent", best_c / (double)args.n / 1e3, "us", args.n,
                  args.reps);
  return 0;
}

int main(int argc, char **argv) {
  args = bench_parse(argc, argv, 100000, 3);
  return cio_run(bench_main, NULL) == 0 ? 0 : 1;
}
