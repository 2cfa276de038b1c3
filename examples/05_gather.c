/* 05_gather - gather compute_square(2) and compute_square(3): [4, 9] in 1 s.
 *
 * Ports tutorial 002 ("Python coroutines"), section "tasks returning
 * results", with asyncio.gather in place of the two awaits, as the same
 * tutorial does for its say() example:
 *
 *   async def compute_square(x):
 *       await asyncio.sleep(1)
 *       return x * x
 *
 *   async def main():
 *       results = await asyncio.gather(compute_square(2), compute_square(3))
 *       print(results)
 *
 *   asyncio.run(main())
 */
#include <cio.h>
#include <stdio.h>

struct square {
  int x;
  int result;
};

static int compute_square(void *arg) {
  struct square *sq = arg;
  int r = cio_sleep(1);
  if (r < 0) return r;
  sq->result = sq->x * sq->x;
  return 0;
}

/* Error paths must not leave a task running: its arg lives on our stack. */
static void task_close(cio_task *t) {
  if (t) {
    cio_task_cancel(t);
    cio_await(t);
    cio_task_release(t);
  }
}

static int main_task(void *arg) {
  struct square sq[2] = {{.x = 2}, {.x = 3}};
  cio_task *tasks[2] = {cio_spawn(compute_square, &sq[0]), cio_spawn(compute_square, &sq[1])};
  int r = tasks[0] && tasks[1] ? cio_gather(tasks, 2, NULL, 0) : -ENOMEM;
  task_close(tasks[0]);
  task_close(tasks[1]);
  if (r < 0) return r;

  printf("[%d, %d]\n", sq[0].result, sq[1].result);
  return 0;
}

int main(void) {
  int64_t start = cio_now_ns();
  int r = cio_run(main_task, NULL);
  if (r < 0) {
    fprintf(stderr, "main: %s\n", cio_strerror(r));
    return 1;
  }
  printf("elapsed: %.2f s\n", (double)(cio_now_ns() - start) / 1e9);
  return 0;
}
