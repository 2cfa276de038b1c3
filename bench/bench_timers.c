/* timers: n tasks each sleeping a random 0..1 s; total wall time, and
 * overhead_per_task = (wall - 1 s) / n, the cost beyond the longest sleep;
 * the CPU time (user + system) the process spent in the same interval,
 * which other processes on a busy machine disturb less than the wall time;
 * and the process's peak RSS. */
#include "bench.h"

static bench_args args;

static int sleeper(void *arg) { return cio_sleep(*(const double *)arg); }

static int bench_main(void *unused) {
  cio_task **tasks = calloc((size_t)args.n, sizeof *tasks);
  double *delays = calloc((size_t)args.n, sizeof *delays);
  unsigned short seed[3] = {1, 2, 3};
  bench_check(tasks && delays, "calloc", -ENOMEM);
  for (long i = 0; i < args.n; i++) delays[i] = erand48(seed);
  double cpu0 = bench_cpu_s();
  int64_t t0 = bench_now_ns();
  for (long i = 0; i < args.n; i++) {
    tasks[i] = cio_spawn(sleeper, &delays[i]);
    bench_check(tasks[i] != NULL, "cio_spawn", -errno);
  }
  for (long i = 0; i < args.n; i++) {
    int r = cio_await(tasks[i]);
    bench_check(r == 0, "sleeper", r);
    cio_task_release(tasks[i]);
  }
  double wall = (double)(bench_now_ns() - t0) / 1e9;
  double cpu = bench_cpu_s() - cpu0;
  free(delays);
  free(tasks);
  bench_emit("timers", "wall", wall, "s", args.n, NULL);
  bench_emit("timers", "overhead_per_task", (wall > 1 ? wall - 1 : 0) * 1e9 / (double)args.n, "ns",
             args.n, NULL);
  bench_emit("timers", "cpu", cpu, "s", args.n, NULL);
  bench_emit("timers", "peak_rss", bench_peak_rss_bytes() / (1 << 20), "MiB", args.n, NULL);
  return 0;
}

int main(int argc, char **argv) {
  args = bench_parse(argc, argv, 1000000, 1);
  return cio_run(bench_main, NULL) == 0 ? 0 : 1;
}
