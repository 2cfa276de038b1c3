/* 08_producer_consumer - a producer, three consumers, a bounded queue, cancellation.
 *
 * Ports tutorial 003 ("Chapter 4: coroutines"), section "real-time data
 * processing". The tutorial runs for 10 s; the tour runs 2 s (pass the
 * number of seconds as the first argument to change it).
 *
 *   async def producer(queue):
 *       while True:
 *           data = {"timestamp": time.time(), "value": random.random()}
 *           await queue.put(json.dumps(data))
 *           print(f"生产数据: {data}")             # "produced: ..."
 *           await asyncio.sleep(0.5)
 *
 *   async def consumer(queue):
 *       while True:
 *           data_str = await queue.get()
 *           data = json.loads(data_str)
 *           print(f"处理数据: {data}")             # "processing: ..."
 *           await asyncio.sleep(0.1)              # processing time
 *           queue.task_done()
 *
 *   async def main():
 *       queue = asyncio.Queue(maxsize=10)
 *       producer_task = asyncio.create_task(producer(queue))
 *       consumer_tasks = [asyncio.create_task(consumer(queue)) for _ in range(3)]
 *       await asyncio.sleep(10)
 *       producer_task.cancel()
 *       for task in consumer_tasks:
 *           task.cancel()
 *       try:
 *           await producer_task
 *       except asyncio.CancelledError:
 *           print("生产者已取消")                   # "producer cancelled"
 *       for i, task in enumerate(consumer_tasks):
 *           try:
 *               await task
 *           except asyncio.CancelledError:
 *               print(f"消费者 {i} 已取消")         # "consumer i cancelled"
 */
#include <cio.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NCONSUMERS 3

struct data {
  double timestamp;
  double value;
};

static double wall_time(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* json.dumps / json.loads of a struct data; the string is malloc'd. */
static char *json_dumps(const struct data *d) {
  char *s;
  if (asprintf(&s, "{\"timestamp\": %.6f, \"value\": %.17g}", d->timestamp, d->value) < 0)
    return NULL;
  return s;
}

static int json_loads(const char *s, struct data *d) {
  int n = sscanf(s, "{\"timestamp\": %lf, \"value\": %lf}", &d->timestamp, &d->value);
  return n == 2 ? 0 : -EINVAL;
}

static int producer(void *arg) {
  cio_queue *queue = arg;
  for (;;) {
    struct data data = {wall_time(), drand48()};
    char *data_str = json_dumps(&data);
    if (!data_str) return -ENOMEM;
    int r = cio_queue_put(queue, data_str);
    if (r < 0) {
      free(data_str);
      return r;
    }
    printf("生产数据: {'timestamp': %.6f, 'value': %.17g}\n", data.timestamp, data.value);
    r = cio_sleep(0.5);
    if (r < 0) return r;
  }
}

static int consumer(void *arg) {
  cio_queue *queue = arg;
  for (;;) {
    void *data_str;
    int r = cio_queue_get(queue, &data_str);
    if (r < 0) return r;
    struct data data;
    r = json_loads(data_str, &data);
    free(data_str);
    if (r < 0) return r;
    printf("处理数据: {'timestamp': %.6f, 'value': %.17g}\n", data.timestamp, data.value);
    r = cio_sleep(0.1);
    if (r < 0) return r;
    cio_queue_task_done(queue);
  }
}

static int main_task(void *arg) {
  double run_for = *(double *)arg;
  cio_queue *queue = cio_queue_new(CIO_QUEUE_FIFO, 10, NULL);
  if (!queue) return -errno;

  cio_task *producer_task = cio_spawn(producer, queue);
  cio_task *consumer_tasks[NCONSUMERS];
  int r = producer_task ? 0 : -ENOMEM;
  for (int i = 0; i < NCONSUMERS; i++) {
    consumer_tasks[i] = cio_spawn(consumer, queue);
    if (!consumer_tasks[i]) r = -ENOMEM;
  }

  if (r == 0) r = cio_sleep(run_for);
  if (producer_task) cio_task_cancel(producer_task);
  for (int i = 0; i < NCONSUMERS; i++)
    if (consumer_tasks[i]) cio_task_cancel(consumer_tasks[i]);

  if (producer_task) {
    if (cio_await(producer_task) == -ECANCELED) printf("生产者已取消\n");
    cio_task_release(producer_task);
  }
  for (int i = 0; i < NCONSUMERS; i++) {
    if (!consumer_tasks[i]) continue;
    if (cio_await(consumer_tasks[i]) == -ECANCELED) printf("消费者 %d 已取消\n", i);
    cio_task_release(consumer_tasks[i]);
  }

  /* Python's garbage collector frees what is left in the queue; we do. */
  void *data_str;
  while (cio_queue_get_nowait(queue, &data_str) == 0) free(data_str);
  cio_queue_free(queue);
  return r;
}

int main(int argc, char **argv) {
  double run_for = argc > 1 ? atof(argv[1]) : 2.0;
  int64_t start = cio_now_ns();
  srand48(time(NULL));
  int r = cio_run(main_task, &run_for);
  if (r < 0) {
    fprintf(stderr, "main: %s\n", cio_strerror(r));
    return 1;
  }
  printf("elapsed: %.2f s\n", (double)(cio_now_ns() - start) / 1e9);
  return 0;
}
