/* 07_future - a Future set by another task.
 *
 * Ports tutorial 003 ("Chapter 4: coroutines"), section "Future objects":
 * a future is a placeholder for a result that does not exist yet.
 *
 *   async def set_future_result(future):
 *       await asyncio.sleep(1)
 *       future.set_result("Future的结果")         # "the Future's result"
 *
 *   async def main():
 *       future = asyncio.Future()
 *       asyncio.create_task(set_future_result(future))
 *       result = await future
 *       print(f"获取到Future的结果: {result}")      # "got the Future's result: ..."
 *
 *   asyncio.run(main())
 */
#include <cio.h>
#include <stdio.h>

static char future_result[] = "Future的结果";

/* Owns the reference to the future it was given. */
static int set_future_result(void *arg) {
  cio_future *future = arg;
  int r = cio_sleep(1);
  if (r == 0) cio_future_set_result(future, future_result);
  cio_future_release(future);
  return r;
}

static int main_task(void *arg) {
  cio_future *future = cio_future_new();
  if (!future) return -errno;

  /* Fire and forget, as in the tutorial: the setter gets its own reference,
   * so it may outlive our interest in the future. */
  cio_task *setter = cio_spawn(set_future_result, cio_future_ref(future));
  if (!setter) {
    int err = -errno;
    cio_future_release(future); /* the setter's reference */
    cio_future_release(future);
    return err;
  }
  cio_detach(setter);

  void *result;
  int r = cio_future_await(future, &result);
  if (r == 0) printf("获取到Future的结果: %s\n", (const char *)result);
  cio_future_release(future);
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
