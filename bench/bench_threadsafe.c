/* threadsafe: run_coroutine_threadsafe round trips to a loop running on
 * another thread. per_round_trip: a task of loop A starts an empty task on
 * loop B and awaits it (asyncio: `await asyncio.wrap_future(
 * asyncio.run_coroutine_threadsafe(coro(), loop_b))`). per_round_trip_sync:
 * a plain thread does the same and blocks for the result
 * (`run_coroutine_threadsafe(coro(), loop_b).result()`). */
#include "bench.h"
#include "cio/threadsafe.h"

static bench_args args;
static cio_loop *target;

static int nop_task(void *arg) { return 0; }

static double from_task(void) {
  int64_t t0 = bench_now_ns();
  for (long i = 0; i < args.n; i++) {
    cio_xtask *x = cio_run_coroutine_threadsafe(target, nop_task, NULL);
    bench_check(x != NULL, "cio_run_coroutine_threadsafe", -errno);
    int r = cio_xtask_await(x);
    bench_check(r == 0, "cio_xtask_await", r);
    cio_xtask_free(x);
  }
  return (double)(bench_now_ns() - t0);
}

static double from_thread(void) {
  int64_t t0 = bench_now_ns();
  for (long i = 0; i < args.n; i++) {
    cio_xtask *x = cio_run_coroutine_threadsafe(target, nop_task, NULL);
    bench_check(x != NULL, "cio_run_coroutine_threadsafe", -errno);
    int r = cio_xtask_wait(x, -1);
    bench_check(r == 0, "cio_xtask_wait", r);
    cio_xtask_free(x);
  }
  return (double)(bench_now_ns() - t0);
}

static int bench_main(void *unused) {
  double best = 0;
  for (int rep = 0; rep < args.reps; rep++) {
    double dt = from_task();
    if (rep == 0 || dt < best) best = dt;
  }
  bench_emit_best("threadsafe", "per_round_trip", best / (double)args.n / 1e3, "us", args.n,
                  args.reps);
  return 0;
}

int main(int argc, char **argv) {
  args = bench_parse(argc, argv, 100000, 3);
  cio_loop_thread *lt = cio_loop_thread_start(NULL);
  bench_check(lt != NULL, "cio_loop_thread_start", -errno);
  target = cio_loop_thread_loop(lt);
  int r = cio_run(bench_main, NULL);
  double best = 0;
  for (int rep = 0; r == 0 && rep < args.reps; rep++) {
    double dt = from_thread();
    if (rep == 0 || dt < best) best = dt;
  }
  if (r == 0)
    bench_emit_best("threadsafe", "per_round_trip_sync", best / (double)args.n / 1e3, "us", args.n,
                    args.reps);
  cio_loop_thread_free(lt);
  return r == 0 ? 0 : 1;
}
