/* 04_create_task - awaiting in sequence (3 s) vs create_task first (2 s).
 *
 * Ports tutorial 003 ("Chapter 4: coroutines"), section "Task objects":
 * tasks start running as soon as they are created, so awaiting two of them
 * takes as long as the slower one. The sequential half is the same program
 * with "await say_after(...)" in place of the tasks, for comparison.
 *
 *   async def say_after(delay, what):
 *       await asyncio.sleep(delay)
 *       print(what)
 *       return what
 *
 *   async def main():
 *       start = time.time()
 *       task1 = asyncio.create_task(say_after(1, "任务1"))   # "task 1"
 *       task2 = asyncio.create_task(say_after(2, "任务2"))   # "task 2"
 *       result1 = await task1
 *       result2 = await task2
 *       print(f"结果: {result1}, {result2}")                 # "results: ..."
 *       print(f"总耗时: {time.time() - start:.2f}秒")        # "total: 2.00 s"
 *
 *   asyncio.run(main())
 */
#include <cio.h>
#include <stdio.h>

struct say_after {
  double delay;
  const char *what;
  const char *result;
};

static int say_after(void *arg) {
  struct say_after *a = arg;
  int r = cio_sleep(a->delay);
  if (r < 0) return r;
  printf("%s\n", a->what);
  a->result = a->what;
  return 0;
}

static double now(void) { return cio_loop_time(cio_loop_current()); }

/* result1 = await say_after(1, ...); result2 = await say_after(2, ...) */
static int in_sequence(void) {
  double start = now();
  struct say_after a1 = {1, "任务1", NULL}, a2 = {2, "任务2", NULL};
  int r = say_after(&a1);
  if (r == 0) r = say_after(&a2);
  if (r < 0) return r;
  printf("结果: %s, %s\n", a1.result, a2.result);
  printf("总耗时: %.2f秒\n", now() - start);
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

static int concurrently(void) {
  double start = now();
  struct say_after a1 = {1, "任务1", NULL}, a2 = {2, "任务2", NULL};
  cio_task *task1 = cio_spawn(say_after, &a1);
  cio_task *task2 = cio_spawn(say_after, &a2);
  int r = task1 && task2 ? cio_await(task1) : -ENOMEM;
  if (r == 0) r = cio_await(task2);
  task_close(task1);
  task_close(task2);
  if (r < 0) return r;
  printf("结果: %s, %s\n", a1.result, a2.result);
  printf("总耗时: %.2f秒\n", now() - start);
  return 0;
}

static int main_task(void *arg) {
  printf("-- await say_after() twice, in sequence:\n");
  int r = in_sequence();
  if (r < 0) return r;
  printf("-- create_task() twice, then await both:\n");
  return concurrently();
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
