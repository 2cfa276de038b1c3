/* 11_async_counter - an async iterator: a generator yields values to `async for`.
 *
 * Ports tutorial 003 ("Chapter 4: coroutines"), section "async iterators".
 * In C the iterator is a generator: a task that yields values one at a time
 * and is suspended in between; the consumer's loop asks for the next value.
 *
 *   class AsyncCounter:
 *       def __init__(self, stop):
 *           self.current = 0
 *           self.stop = stop
 *       def __aiter__(self):
 *           return self
 *       async def __anext__(self):
 *           if self.current < self.stop:
 *               await asyncio.sleep(0.1)  # 模拟异步操作 (simulated async work)
 *               self.current += 1
 *               return self.current - 1
 *           else:
 *               raise StopAsyncIteration
 *
 *   async def main():
 *       async for i in AsyncCounter(5):
 *           print(i)
 *
 *   asyncio.run(main())
 *
 * A second part shows what Python does implicitly when an `async for` is
 * left early (break): the generator is closed, and its cleanup runs.
 */
#include <cio.h>
#include <stdint.h>
#include <stdio.h>

/* AsyncCounter(stop): values 0 .. stop-1, each after 0.1 s of "work". */
static int async_counter(cio_gen *g, void *arg) {
  int stop = *(int *)arg;
  for (int current = 0; current < stop; current++) {
    int r = cio_sleep(0.1);
    if (r == 0) r = cio_gen_yield(g, (void *)(intptr_t)current);
    if (r == -ECANCELED) {
      printf("counter closed at %d\n", current);
      return r;
    }
    if (r < 0) return r;
  }
  return 0; /* StopAsyncIteration */
}

/* async for i in AsyncCounter(stop): print(i) ... break when i == last */
static int count(int stop, int last) {
  cio_gen *g = cio_gen_new(async_counter, &stop, NULL);
  if (!g) return -errno;
  void *v;
  int r;
  while ((r = cio_gen_next(g, &v)) == 1) {
    int i = (int)(intptr_t)v;
    printf("%d\n", i);
    if (i == last) break;
  }
  int closed = cio_gen_close(g); /* cleans up if left early, waits for it */
  cio_gen_free(g);
  return r < 0 ? r : closed;
}

static int main_task(void *arg) {
  (void)arg;
  double start = cio_loop_time(cio_loop_current());
  int r = count(5, -1);
  if (r < 0) return r;
  printf("elapsed: %.2f s\n", cio_loop_time(cio_loop_current()) - start);

  printf("-- leaving the loop early (break after 2):\n");
  return count(5, 2);
}

int main(void) {
  int r = cio_run(main_task, NULL);
  if (r < 0) {
    fprintf(stderr, "main: %s\n", cio_strerror(r));
    return 1;
  }
  return 0;
}
