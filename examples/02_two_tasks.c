/* 02_two_tasks - two tasks sleeping 1 s and 2 s finish in 2 s, not 3.
 *
 * Ports tutorial 003 ("Chapter 4: coroutines"), section "async/await basics".
 * The tutorial notes the program takes about 2 s, not 1 + 2 = 3 s, because
 * the two tasks run concurrently.
 *
 *   async def say_after(delay, what):
 *       await asyncio.sleep(delay)          # a non-blocking sleep
 *       print(what)
 *
 *   async def main():
 *       task1 = asyncio.create_task(say_after(1, "你好"))    # "hello"
 *       task2 = asyncio.create_task(say_after(2, "世界"))    # "world"
 *       print("开始执行...")                                  # "starting..."
 *       await task1
 *       await task2
 *       print("执行完毕!")                                    # "done!"
 *
 *   asyncio.run(main())
 */
#include <cio.h>
#include <stdio.h>

struct say_after {
  double delay;
  const char *what;
};

static int say_after(void *arg) {
  struct say_after *a = arg;
  int r = cio_sleep(a->delay);
  if (r < 0) return r;
  printf("%s\n", a->what);
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
  struct say_after hello = {1, "你好"}, world = {2, "世界"};
  cio_task *task1 = cio_spawn(say_after, &hello);
  cio_task *task2 = cio_spawn(say_after, &world);
  int r = task1 && task2 ? 0 : -ENOMEM;

  if (r == 0) {
    printf("开始执行...\n");
    r = cio_await(task1);
  }
  if (r == 0) r = cio_await(task2);
  if (r == 0) printf("执行完毕!\n");

  task_close(task1);
  task_close(task2);
  return r;
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
