/* spawn: spawn n trivial tasks, then await them all; ns per task (spawn,
 * first run, finish, await, release) and the process's peak RSS. */
#include "bench.h"

static bench_args args;

static int nop(void *arg) { return 0; }

static double spawn_all(cio_task **tasks) {
  int64_t t0 = bench_now_ns();
  for (long i = 0; i < args.n; i++) {
    tasks[i] = cio_spawn(nop, NULL);
    bench_check(tasks[i] != NULL, "cio_spawn", -errno);
  }
  for (long i = 0; i < args.n; i++) {
    int r = cio_await(tasks[i]);
    bench_check(r == 0, "cio_await", r);
    cio_task_release(tasks[i]);
  }
  return (double)(bench_now_ns() - t0);
}

static int bench_main(void *unused) {
  cio_task **tasks = calloc((size_t)args.n, sizeof *tasks);
  double best = 0;
  bench_check(tasks != NULL, "calloc", -ENOMEM);
  for (int rep = 0; rep < args.reps; rep++) {
    double dt = spawn_all(tasks);
    if (rep == 0 || dt < best) best = dt;
  }
  free(tasks);
  bench_emit_best("spawn", "per_task", best / (double)args.n, "ns", args.n, args.reps);
  bench_emit("spawn", "peak_rss", bench_peak_rss_bytes() / (1 << 20), "MiB", args.n, NULL);
  return 0;
}

int main(int argc, char **argv) {
  args = bench_parse(argc, argv, 1000000, 3);
  return cio_run(bench_main, NULL) == 0 ? 0 : 1;
}
