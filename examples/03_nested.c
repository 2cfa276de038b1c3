/* 03_nested - a task awaits a nested coroutine and gets its result.
 *
 * Ports tutorial 003 ("Chapter 4: coroutines"), section "the await keyword
 * in detail": main awaits a coroutine directly (no task) for its result.
 *
 *   async def nested():
 *       print("开始执行nested")                 # "nested starts"
 *       await asyncio.sleep(1)
 *       print("nested执行完毕")                 # "nested done"
 *       return "nested的结果"                   # "nested's result"
 *
 *   async def main():
 *       print("开始执行main")                   # "main starts"
 *       result = await nested()
 *       print(f"得到结果: {result}")            # "got result: ..."
 *       print("main执行完毕")                   # "main done"
 *
 *   asyncio.run(main())
 *
 * Tasks have their own stacks, so a coroutine is just a C function that may
 * suspend: "await nested()" is a plain call, its result an out-parameter.
 */
#include <cio.h>
#include <stdio.h>

static int nested(const char **result) {
  printf("开始执行nested\n");
  int r = cio_sleep(1);
  if (r < 0) return r;
  printf("nested执行完毕\n");
  *result = "nested的结果";
  return 0;
}

static int main_task(void *arg) {
  printf("开始执行main\n");
  const char *result;
  int r = nested(&result);
  if (r < 0) return r;
  printf("得到结果: %s\n", result);
  printf("main执行完毕\n");
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
