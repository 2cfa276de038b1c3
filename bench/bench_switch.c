/* switch: two tasks yielding to each other with cio_yield(); ns per switch.
 * Every yield hands the loop to the other task, so n yields = n switches. */
#include "bench.h"

static bench_args args;

static int yielder(void *arg) {
  long k = *(const long *)arg;
  for (long i = 0; i < k; i++) {
    int r = cio_yield();
    if (r < 0) return r;
  }
  return 0;
}

static int bench_main(void *unused) {
  long half = args.n / 2;
  double best = 0;
  for (int rep = 0; rep < args.reps; rep++) {
    int64_t t0 = bench_now_ns();
    cio_task *a = cio_spawn(yielder, &half);
    cio_task *b = cio_spawn(yielder, &half);
    bench_check(a && b, "cio_spawn", -errno);
    bench_check(cio_await(a) == 0, "yielder a", cio_task_status(a));
    bench_check(cio_await(b) == 0, "yielder b", cio_task_status(b));
    double dt = (double)(bench_now_ns() - t0);
    cio_task_release(a);
    cio_task_release(b);
    if (rep == 0 || dt < best) best = dt;
  }
  bench_emit_best("switch", "per_switch", best / (double)(2 * half), "ns", 2 * half, args.reps);
  return 0;
}

int main(int argc, char **argv) {
  args = bench_parse(argc, argv, 10000000, 5);
  return cio_run(bench_main, NULL) == 0 ? 0 : 1;
}
