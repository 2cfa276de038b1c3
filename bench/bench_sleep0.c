/* sleep0: the tutorial's uvloop benchmark - one task doing n cio_sleep(0).
 * With no other task ready, cio_sleep(0) picks the caller again without a
 * context switch; every CIO__BUDGET runs the loop still gets a turn (timers,
 * I/O), so this is the cost of a loop turn amortised, as in asyncio's sleep(0)
 * minus the poll that asyncio makes on every turn. */
#include "bench.h"

static bench_args args;

static double run_loop(void) {
  double best = 0;
  for (int rep = 0; rep < args.reps; rep++) {
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < args.n; i++) {
      int r = cio_sleep(0);
      bench_check(r == 0, "cio_sleep(0)", r);
    }
    double dt = (double)(bench_now_ns() - t0);
    if (rep == 0 || dt < best) best = dt;
  }
  return best / (double)args.n;
}

static int bench_main(void *unused) {
  bench_emit_best("sleep0", "per_sleep0", run_loop(), "ns", args.n, args.reps);
  return 0;
}

int main(int argc, char **argv) {
  args = bench_parse(argc, argv, 10000000, 5);
  return cio_run(bench_main, NULL) == 0 ? 0 : 1;
}
