/* pingpong: two tasks exchanging a value through two unbounded cio_queues;
 * ns per round trip (two puts, two gets, two switches). */
#include <stdint.h>

#include "bench.h"

static bench_args args;

typedef struct pair {
  cio_queue *ping, *back;
} pair;

static int pong(void *arg) {
  pair *p = arg;
  for (long i = 0; i < args.n; i++) {
    void *v;
    int r = cio_queue_get(p->ping, &v);
    if (r < 0) return r;
    r = cio_queue_put(p->back, (void *)((uintptr_t)v + 1));
    if (r < 0) return r;
  }
  return 0;
}

static double round_trips(void) {
  pair p = {cio_queue_new(CIO_QUEUE_FIFO, 0, NULL), cio_queue_new(CIO_QUEUE_FIFO, 0, NULL)};
  bench_check(p.ping && p.back, "cio_queue_new", -errno);
  cio_task *t = cio_spawn(pong, &p);
  bench_check(t != NULL, "cio_spawn", -errno);
  int64_t t0 = bench_now_ns();
  void *v = NULL;
  for (long i = 0; i < args.n; i++) {
    int r = cio_queue_put(p.ping, v);
    bench_check(r == 0, "cio_queue_put", r);
    r = cio_queue_get(p.back, &v);
    bench_check(r == 0, "cio_queue_get", r);
  }
  double dt = (double)(bench_now_ns() - t0);
  bench_check(cio_await(t) == 0, "pong", cio_task_status(t));
  bench_check((uintptr_t)v == (uintptr_t)args.n, "value check", -EPROTO);
  cio_task_release(t);
  cio_queue_free(p.ping);
  cio_queue_free(p.back);
  return dt;
}

static int bench_main(void *unused) {
  double best = 0;
  for (int rep = 0; rep < args.reps; rep++) {
    double dt = round_trips();
    if (rep == 0 || dt < best) best = dt;
  }
  bench_emit_best("pingpong", "per_round_trip", best / (double)args.n, "ns", args.n, args.reps);
  return 0;
}

int main(int argc, char **argv) {
  args = bench_parse(argc, argv, 1000000, 5);
  return cio_run(bench_main, NULL) == 0 ? 0 : 1;
}
