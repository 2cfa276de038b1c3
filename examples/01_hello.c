/* 01_hello - hello world with a 1 s sleep, on an explicit event loop.
 *
 * Ports tutorial 003 ("Chapter 4: coroutines"), section "the asyncio event
 * loop": get a loop, run a coroutine on it until it completes, close it.
 *
 *   async def hello_world():
 *       print("Hello")
 *       await asyncio.sleep(1)  # stands for I/O, e.g. a network request
 *       print("World")
 *
 *   loop = asyncio.get_event_loop()
 *   loop.run_until_complete(hello_world())
 *   loop.close()
 *   # Python 3.7+: asyncio.run(hello_world()) - cio_run(), used by the others
 */
#include <cio.h>
#include <stdio.h>

static int hello_world(void *arg) {
  printf("Hello\n");
  int r = cio_sleep(1);
  if (r < 0) return r;
  printf("World\n");
  return 0;
}

int main(void) {
  int64_t start = cio_now_ns();

  cio_loop *loop = cio_loop_new(NULL);
  if (!loop) {
    perror("cio_loop_new");
    return 1;
  }
  cio_task *task = cio_spawn(hello_world, NULL);
  if (!task) {
    perror("cio_spawn");
    cio_loop_free(loop);
    return 1;
  }
  int r = cio_loop_run_until_complete(loop, task);
  cio_task_release(task);
  cio_loop_free(loop);
  if (r < 0) {
    fprintf(stderr, "hello_world: %s\n", cio_strerror(r));
    return 1;
  }

  printf("elapsed: %.2f s\n", (double)(cio_now_ns() - start) / 1e9);
  return 0;
}
