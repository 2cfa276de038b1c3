/* 10_process_pool - CPU-bound work in a pool of worker processes.
 *
 * Ports tutorial 003 ("Chapter 4: coroutines"), section "concurrent.futures
 * and asyncio.Future":
 *
 *   def cpu_bound():
 *       return sum(i * i for i in range(10**7))
 *
 *   async def main():
 *       loop = asyncio.get_running_loop()
 *       with concurrent.futures.ProcessPoolExecutor() as pool:
 *           result = await loop.run_in_executor(pool, cpu_bound)
 *           print(f"CPU密集型操作结果: {result}")   # "CPU-bound result: ..."
 *
 * The function runs in a worker process; it gets its input and returns its
 * output as bytes. The sum needs 69 bits, so it is computed in 128 bits.
 * Ten million squares take CPython about a second and C a few milliseconds,
 * so a second part sums 4 * 10^8 squares split into one chunk per worker,
 * timed against a single worker: with n CPUs it runs about n times faster
 * while the loop stays free (a ticker counts its turns).
 */
#include <cio.h>
#include <cio/procpool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

static double since(int64_t start) { return (double)(cio_now_ns() - start) / 1e9; }

/* Worker side. in: two uint64, [lo, hi); out: the 128-bit sum of i*i. */
static int cpu_bound(const void *in, size_t len, void **out, size_t *out_len) {
  uint64_t range[2];
  if (len != sizeof range) return -EINVAL;
  memcpy(range, in, sizeof range);
  u128 s = 0;
  for (uint64_t i = range[0]; i < range[1]; i++) s += (u128)i * i;
  u128 *o = malloc(sizeof *o);
  if (!o) return -ENOMEM;
  *o = s;
  *out = o;
  *out_len = sizeof *o;
  return 0;
}

static const char *u128_str(u128 v, char buf[48]) {
  char *p = buf + 47;
  *p = '\0';
  do {
    *--p = (char)('0' + (int)(v % 10));
    v /= 10;
  } while (v);
  return p;
}

struct chunk {
  cio_procpool *pool;
  uint64_t range[2];
  u128 sum;
};

static int sum_chunk(void *arg) {
  struct chunk *c = arg;
  void *out;
  size_t len;
  int r = cio_procpool_run(c->pool, cpu_bound, c->range, sizeof c->range, &out, &len);
  if (r < 0) return r;
  if (len != sizeof c->sum) {
    free(out);
    return -EPROTO;
  }
  memcpy(&c->sum, out, sizeof c->sum);
  free(out);
  return 0;
}

static long turns;

static int ticker(void *arg) {
  while (cio_sleep(0.01) == 0) turns++;
  return 0;
}

/* Sum squares below n in `parts` chunks on the pool; returns the time. */
static double split_sum(cio_procpool *pool, uint64_t n, int parts, u128 *sum) {
  struct chunk c[64];
  cio_task *t[64];
  int64_t start = cio_now_ns();
  int k = 0;
  for (; k < parts; k++) {
    c[k] = (struct chunk){
        pool, {n * (uint64_t)k / (uint64_t)parts, n * (uint64_t)(k + 1) / (uint64_t)parts}, 0};
    if (!(t[k] = cio_spawn(sum_chunk, &c[k]))) break;
  }
  int r = k == parts ? cio_gather(t, (size_t)k, NULL, 0) : -ENOMEM;
  *sum = 0;
  for (int i = 0; i < k; i++) {
    *sum += c[i].sum;
    cio_task_release(t[i]);
  }
  return r < 0 ? -1 : since(start);
}

static int main_task(void *arg) {
  cio_procpool *pool = arg;
  char buf[48];

  int64_t start = cio_now_ns();
  struct chunk tutorial = {pool, {0, 10000000}, 0};
  int r = sum_chunk(&tutorial);
  if (r < 0) return r;
  printf("CPU密集型操作结果: %s\n", u128_str(tutorial.sum, buf));
  printf("elapsed: %.3f s\n", since(start));

  int workers = (int)cio_procpool_size(pool);
  if (workers > 64) workers = 64;
  const uint64_t n = 400000000;
  cio_task *tick = cio_spawn(ticker, NULL);
  u128 one, split;
  double t1 = split_sum(pool, n, 1, &one);
  long turns1 = turns;
  double tn = split_sum(pool, n, workers, &split);
  cio_task_cancel(tick);
  cio_await(tick);
  cio_task_release(tick);
  if (t1 < 0 || tn < 0 || one != split) return -EPROTO;
  printf("sum of squares below %llu: %s\n", (unsigned long long)n, u128_str(split, buf));
  printf("one worker:   %.2f s (the loop turned %ld times meanwhile)\n", t1, turns1);
  printf("%d worker%s: %.2f s\n", workers, workers == 1 ? " " : "s", tn);
  printf("speed-up: %.2fx on %d worker process%s\n", t1 / tn, workers, workers == 1 ? "" : "es");
  return 0;
}

int main(void) {
  /* Create the pool first, before any thread or loop: the workers are forks
   * of the program as it is now. One worker per CPU, like Python's. */
  cio_procpool *pool = cio_procpool_new(0);
  if (!pool) {
    perror("cio_procpool_new");
    return 1;
  }
  int r = cio_run(main_task, pool);
  cio_procpool_free(pool);
  if (r < 0) {
    fprintf(stderr, "main: %s\n", cio_strerror(r));
    return 1;
  }
  return 0;
}
