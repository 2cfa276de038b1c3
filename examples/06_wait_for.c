/* 06_wait_for - wait_for with a 1 s timeout on a 3 s job: "Timeout!".
 *
 * Ports tutorial 002 ("Python coroutines"), section "timeout control":
 *
 *   async def say(what, delay):
 *       await asyncio.sleep(delay)
 *       print(what)
 *
 *   async def main():
 *       try:
 *           await asyncio.wait_for(say("Hello", 3), timeout=1)
 *       except asyncio.TimeoutError:
 *           print("Timeout!")
 *
 *   asyncio.run(main())
 *
 * On timeout wait_for cancels say() and waits for it to unwind, so "Hello"
 * is never printed and the program ends after 1 s.
 */
#include <cio.h>
#include <stdio.h>

struct say {
  const char *what;
  double delay;
};

static int say(void *arg) {
  struct say *a = arg;
  int r = cio_sleep(a->delay);
  if (r < 0) return r;
  printf("%s\n", a->what);
  return 0;
}

static int main_task(void *arg) {
  struct say hello = {"Hello", 3};
  cio_task *task = cio_spawn(say, &hello);
  if (!task) return -errno;
  int r = cio_wait_for(task, 1);
  cio_task_release(task);
  if (r == -ETIMEDOUT) {
    printf("Timeout!\n");
    r = 0;
  }
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
