/* park: n tasks suspended at once, all waiting on one cio_event; resident
 * bytes per parked task = RSS delta / n (the handle array is allocated and
 * touched before the first reading, so it is not counted). Page tables
 * (VmPTE) are reported apart: RSS leaves them out, and a task's stack sits
 * alone in a few hundred KiB of address space, so they are not negligible. */
#include "bench.h"

static bench_args args;
static long parked;

static int waiter(void *arg) {
  parked++;
  return cio_event_wait(arg);
}

static int bench_main(void *unused) {
  cio_task **tasks = calloc((size_t)args.n, sizeof *tasks);
  cio_event *ev = cio_event_new();
  bench_check(tasks && ev, "allocation", -ENOMEM);
  double before = bench_rss_bytes(), pte_before = bench_status_bytes("VmPTE");
  for (long i = 0; i < args.n; i++) {
    tasks[i] = cio_spawn(waiter, ev);
    bench_check(tasks[i] != NULL, "cio_spawn", -errno);
  }
  while (parked < args.n) {
    int r = cio_yield();
    bench_check(r == 0, "cio_yield", r);
  }
  double during = bench_rss_bytes(), pte_during = bench_status_bytes("VmPTE");
  cio_event_set(ev);
  for (long i = 0; i < args.n; i++) {
    int r = cio_await(tasks[i]);
    bench_check(r == 0, "waiter", r);
    cio_task_release(tasks[i]);
  }
  cio_event_free(ev);
  free(tasks);
  bench_emit("park", "per_parked_task", (during - before) / (double)args.n, "B", args.n, NULL);
  bench_emit("park", "pagetables_per_parked_task", (pte_during - pte_before) / (double)args.n, "B",
             args.n, NULL);
  return 0;
}

int main(int argc, char **argv) {
  args = bench_parse(argc, argv, 1000000, 1);
  return cio_run(bench_main, NULL) == 0 ? 0 : 1;
}
