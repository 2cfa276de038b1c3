/* 09_executor - blocking calls on a thread pool while the loop keeps ticking.
 *
 * Ports tutorial 003 ("Chapter 4: coroutines"), sections "concurrent.futures
 * and asyncio.Future" and "calling a blocking function from a coroutine":
 *
 *   def blocking_function():
 *       time.sleep(1)                        # e.g. reading a big file
 *       return "阻塞函数的结果"               # "the blocking function's result"
 *
 *   async def main():
 *       print("开始执行")                     # "starting"
 *       loop = asyncio.get_running_loop()
 *       result = await loop.run_in_executor(None, blocking_function)
 *       print(f"得到结果: {result}")          # "got the result: ..."
 *       print("执行完毕")                     # "done"
 *
 *       with concurrent.futures.ThreadPoolExecutor() as pool:
 *           result = await loop.run_in_executor(pool, blocking_io)
 *           print(f"IO操作结果: {result}")    # "IO result: ..."
 *
 * Calling time.sleep(1) straight from a coroutine would freeze every task for
 * a second. Here a ticker task prints while the blocking call runs on a pool
 * thread, which shows the loop stayed free. The second part runs three
 * blocking calls at once on a pool of our own: one second, not three. The
 * third gets a result back from a call the caller may give up on (a
 * deadline), the way exec.h recommends: heap memory and its destructor.
 */
#include <cio.h>
#include <cio/exec.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static double since(int64_t start) { return (double)(cio_now_ns() - start) / 1e9; }

/* Jobs run on pool threads: plain blocking C, no cio calls that suspend. */
static int blocking_function(void *arg) {
  sleep(1);
  *(const char **)arg = "阻塞函数的结果";
  return 0;
}

static int blocking_io(void *arg) {
  sleep(1);
  *(const char **)arg = "IO操作结果";
  return 0;
}

/* A lookup whose caller may time out: the record lives on the heap, so a
 * job that outlives its caller still has it. */
struct lookup {
  int key;
  char value[32];
};

static int slow_lookup(void *arg) {
  struct lookup *l = arg;
  usleep(200000);
  snprintf(l->value, sizeof l->value, "value-%d", l->key);
  return 0;
}

static int ticker(void *arg) {
  int64_t start = *(int64_t *)arg;
  for (int n = 1;; n++) {
    if (cio_sleep(0.25) < 0) return 0; /* cancelled: done ticking */
    printf("  tick %d at %.2f s\n", n, since(start));
  }
}

struct io_call {
  cio_executor *pool;
  const char *result;
};

static int io_task(void *arg) {
  struct io_call *c = arg;
  return cio_run_in_executor(c->pool, blocking_io, &c->result);
}

static int main_task(void *arg) {
  int64_t start = cio_now_ns();
  printf("开始执行\n");
  cio_task *tick = cio_spawn(ticker, &start);
  if (!tick) return -errno;

  /* The default pool (run_in_executor(None, ...)). result lives on our
   * stack: fine, because nobody cancels this task - a task that may be
   * cancelled passes heap memory with cio_run_in_executor_ex() (below). */
  const char *result = NULL;
  int r = cio_run_in_executor(NULL, blocking_function, &result);
  if (r == 0) {
    printf("得到结果: %s\n", result);
    printf("执行完毕\n");
    printf("elapsed: %.2f s (the loop ticked meanwhile)\n", since(start));
  }
  cio_task_cancel(tick);
  cio_await(tick);
  cio_task_release(tick);
  if (r < 0) return r;

  /* A pool of our own, three blocking calls at once. */
  cio_executor *pool = cio_executor_new(3);
  if (!pool) return -errno;
  struct io_call calls[3] = {{pool, NULL}, {pool, NULL}, {pool, NULL}};
  cio_task *tasks[3];
  int n = 0;
  start = cio_now_ns();
  for (; n < 3; n++)
    if (!(tasks[n] = cio_spawn(io_task, &calls[n]))) break;
  r = n == 3 ? cio_gather(tasks, 3, NULL, 0) : -ENOMEM;
  for (int i = 0; i < n; i++) cio_task_release(tasks[i]);
  if (r == 0) {
    for (int i = 0; i < 3; i++) printf("IO操作结果: %s\n", calls[i].result);
    printf("three blocking calls in parallel: %.2f s\n", since(start));
  }
  /* The `with` block's end: wait for the pool's threads, without blocking
   * the loop. */
  cio_executor_shutdown(pool, CIO_EXEC_WAIT);
  cio_executor_free(pool);
  if (r < 0) return r;

  /* A result from a call bounded by a deadline. Success (0) hands the
   * record back with the result in it; on -ETIMEDOUT the pool would free it
   * after the job, and we must not touch it. */
  struct lookup *l = malloc(sizeof *l);
  if (!l) return -ENOMEM;
  l->key = 7;
  cio_timeout_scope deadline;
  cio_timeout_begin(&deadline, 5.0);
  int st;
  r = cio_run_in_executor_ex(NULL, slow_lookup, l, free, &st);
  cio_timeout_end(&deadline);
  if (r == 0) {
    printf("lookup %d within the deadline: %s\n", l->key, l->value);
    free(l);
    r = st;
  }
  return r;
}

int main(void) {
  int r = cio_run(main_task, NULL);
  if (r < 0) {
    fprintf(stderr, "main: %s\n", cio_strerror(r));
    return 1;
  }
  return 0;
}
