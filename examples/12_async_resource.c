/* 12_async_resource - an async context manager: acquire, use, release even when cancelled.
 *
 * Ports tutorial 003 ("Chapter 4: coroutines"), section "async context
 * managers":
 *
 *   class AsyncResource:
 *       async def __aenter__(self):
 *           print("获取资源")                  # "acquiring the resource"
 *           await asyncio.sleep(0.1)
 *           return self
 *       async def __aexit__(self, exc_type, exc_val, exc_tb):
 *           print("释放资源")                  # "releasing the resource"
 *           await asyncio.sleep(0.1)
 *       async def use_resource(self):
 *           print("使用资源中...")             # "using the resource..."
 *           await asyncio.sleep(0.5)
 *
 *   async def main():
 *       async with AsyncResource() as resource:
 *           await resource.use_resource()
 *
 * C has no `async with`; the pattern is plain code (docs/RESOURCES.md):
 *
 *   r = acquire(&res);             // failed: nothing to release
 *   if (r < 0) return r;
 *   r = use(&res);                 // may be cancelled or time out
 *   cio_shield_begin(&sh);         // the release must run to completion:
 *   rr = release(&res);            //   it may suspend, and a second cancel
 *   cio_shield_end(&sh);           //   or an expired timeout waits for it
 *   return r < 0 ? r : rr;
 *
 * The second and third parts show the release running in full when the
 * block is cancelled (twice) and when a timeout around it expires.
 */
#include <cio.h>
#include <stdio.h>

struct resource {
  int held;
};

/* __aenter__ */
static int resource_acquire(struct resource *res) {
  printf("获取资源\n");
  int r = cio_sleep(0.1);
  if (r < 0) return r;
  res->held = 1;
  return 0;
}

/* __aexit__: may suspend, and must not be cut short. */
static int resource_release(struct resource *res) {
  printf("释放资源\n");
  int r = cio_sleep(0.1);
  res->held = 0;
  return r;
}

static int use_resource(struct resource *res) {
  (void)res;
  printf("使用资源中...\n");
  return cio_sleep(0.5);
}

/* async with AsyncResource() as resource: await resource.use_resource() */
static int with_resource(struct resource *res) {
  int r = resource_acquire(res);
  if (r < 0) return r;
  r = use_resource(res);
  cio_shield_scope sh;
  cio_shield_begin(&sh);
  int rr = resource_release(res);
  cio_shield_end(&sh); /* a cancellation that came meanwhile is still pending */
  return r < 0 ? r : rr;
}

static int with_resource_task(void *arg) { return with_resource(arg); }

static double now(void) { return cio_loop_time(cio_loop_current()); }

static int main_task(void *arg) {
  (void)arg;
  double start = now();
  struct resource res = {0};
  int r = with_resource(&res);
  if (r < 0) return r;
  printf("elapsed: %.2f s\n", now() - start);

  printf("-- cancelled while in use, and again while releasing:\n");
  cio_task *t = cio_spawn(with_resource_task, &res);
  if (!t) return -errno;
  cio_sleep(0.3);
  cio_task_cancel(t); /* in use_resource */
  cio_sleep(0.05);
  cio_task_cancel(t); /* in resource_release: it still finishes */
  r = cio_await(t);
  cio_task_release(t);
  printf("resource released: %s\n", res.held ? "no" : "yes");
  printf("task: %s\n", cio_strerror(r));

  printf("-- a 0.3 s timeout around the block:\n");
  cio_timeout_scope s;
  cio_timeout_begin(&s, 0.3);
  r = with_resource(&res);
  cio_timeout_end(&s);
  printf("resource released: %s\n", res.held ? "no" : "yes");
  printf("with-block: %s\n", cio_strerror(r));
  return 0;
}

int main(void) {
  int r = cio_run(main_task, NULL);
  if (r < 0) {
    fprintf(stderr, "main: %s\n", cio_strerror(r));
    return 1;
  }
  return 0;
}
