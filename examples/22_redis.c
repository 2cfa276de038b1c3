/* 22_redis - aioredis: a pool, SET and GET; then 100 tasks on one connection, a pipeline, pub/sub.
 *
 * Tutorial 003 ("asynchronous Redis with aioredis"):
 *
 *   async def main():
 *       redis = await aioredis.create_redis_pool('redis://localhost')
 *       await redis.set('key', 'value')
 *       value = await redis.get('key', encoding='utf-8')
 *       print(f"获取到的值: {value}")          # "the value we got"
 *       redis.close()
 *       await redis.wait_closed()
 *
 * Then what the C client adds: 100 tasks sharing one connection (their
 * commands are pipelined on their own: no pool needed for plain commands),
 * 1,000 commands in one explicit pipeline (one round trip), and pub/sub on
 * a connection of its own, with a subscriber task waiting for messages.
 *
 * The server is $CIO_REDIS_URL when set. Otherwise the program starts its
 * own redis-server as a child process (a private unix socket in a fresh
 * temporary directory, nothing saved), waits until it answers, and stops
 * it at the end. Without redis-server installed it says so and exits 0.
 * Keys are named "cio-tour:*" and deleted at the end.
 */
#include <cio.h>
#include <cio/process.h>
#include <cio/redis.h>
#include <cio/redis_pool.h>
#include <cio/redis_pubsub.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- part 1: the tutorial's snippet ---- */

static int tutorial(const char *url) {
  cio_redis_pool *redis;
  int r = cio_redis_pool_open(url, NULL, &redis); /* create_redis_pool */
  if (r < 0) return r;
  r = cio_redis_pool_commandf(redis, NULL, "SET %s %s", "cio-tour:key", "value");
  cio_redis_reply *value = NULL;
  if (r == 0) r = cio_redis_pool_commandf(redis, &value, "GET %s", "cio-tour:key");
  if (r == 0) printf("获取到的值: %s\n", value->str); /* a bulk string: NUL-terminated too */
  cio_redis_reply_free(value);
  int rc = cio_redis_pool_close(redis); /* close + wait_closed */
  cio_redis_pool_free(redis);
  return r < 0 ? r : rc;
}

/* ---- part 2: 100 tasks, one connection ---- */

static int incr_ten(void *arg) {
  for (int i = 0; i < 10; i++) {
    int r = cio_redis_commandf(arg, NULL, "INCR cio-tour:counter");
    if (r < 0) return r;
  }
  return 0;
}

static int shared_connection(cio_redis *c) {
  cio_task *t[100];
  int64_t start = cio_now_ns();
  for (int i = 0; i < 100; i++) t[i] = cio_spawn(incr_ten, c);
  int r = cio_gather(t, 100, NULL, 0);
  for (int i = 0; i < 100; i++) cio_task_release(t[i]);
  cio_redis_reply *n = NULL;
  if (r == 0) r = cio_redis_commandf(c, &n, "GET cio-tour:counter");
  if (r == 0)
    printf("100 tasks x 10 INCR on one connection: counter = %s (%.1f ms)\n", n->str,
           (double)(cio_now_ns() - start) / 1e6);
  cio_redis_reply_free(n);
  return r;
}

/* ---- part 3: one pipeline, one round trip ---- */

static int pipeline(cio_redis *c) {
  cio_redis_pipeline *p = cio_redis_pipeline_new();
  if (!p) return -ENOMEM;
  for (int i = 0; i < 1000; i++) cio_redis_pipeline_addf(p, "SET cio-tour:item:%d %d", i, i * i);
  cio_redis_pipeline_addf(p, "GET cio-tour:item:999");
  int r = cio_redis_pipeline_run(c, p);
  if (r == 0)
    printf("pipeline: %zu commands sent at once, item 999 = %s\n", cio_redis_pipeline_size(p),
           cio_redis_pipeline_reply(p, 1000)->str);
  cio_redis_pipeline_reset(p);
  for (int i = 0; i < 1000; i++) cio_redis_pipeline_addf(p, "DEL cio-tour:item:%d", i);
  if (r == 0) r = cio_redis_pipeline_run(c, p);
  cio_redis_pipeline_free(p);
  return r;
}

/* ---- part 4: pub/sub ---- */

static int subscriber(void *arg) {
  cio_redis_pubsub *ps = arg;
  for (int i = 0; i < 3; i++) {
    cio_redis_message m;
    int r = cio_redis_pubsub_get(ps, &m); /* waits for the next one */
    if (r < 0) return r;
    printf("subscriber got on %s: %s\n", m.channel, m.data);
    cio_redis_message_clear(&m);
  }
  return 0;
}

static int pubsub(const char *url, cio_redis *c) {
  cio_redis_pubsub *ps;
  int r = cio_redis_pubsub_open(url, NULL, &ps);
  if (r < 0) return r;
  const char *channels[] = {"cio-tour:news"};
  r = cio_redis_pubsub_subscribe(ps, 1, channels, NULL); /* confirmed when it returns */
  cio_task *sub = r == 0 ? cio_spawn(subscriber, ps) : NULL;
  const char *words[] = {"hello", "from", "cio"};
  for (int i = 0; r == 0 && i < 3; i++)
    r = cio_redis_commandf(c, NULL, "PUBLISH cio-tour:news %s", words[i]);
  if (sub) {
    int rs = cio_await(sub);
    cio_task_release(sub);
    if (r == 0) r = rs;
  }
  cio_redis_pubsub_free(ps);
  return r;
}

/* ---- the server: $CIO_REDIS_URL, or a child process of our own ---- */

typedef struct server {
  cio_process *proc;
  char dir[64];
  char url[128];
} server;

static int start_server(server *s) {
  strcpy(s->dir, "/tmp/cio-tour-redis-XXXXXX");
  if (!mkdtemp(s->dir)) return -errno;
  char sock[96];
  snprintf(sock, sizeof sock, "%s/redis.sock", s->dir);
  snprintf(s->url, sizeof s->url, "unix://%s", sock);
  const char *argv[] = {"redis-server", "--port", "0",     "--unixsocket", sock, "--save", "",
                        "--appendonly", "no",     "--dir", s->dir,         NULL};
  cio_process_opts o = {.out = {CIO_STDIO_DEVNULL, 0}, .kill_on_free = 1};
  int r = cio_process_spawn(argv, &o, &s->proc);
  if (r < 0) {
    rmdir(s->dir);
    return r;
  }
  for (int i = 0; i < 200; i++) { /* until it answers (at most 10 s) */
    cio_redis *c;
    if (cio_redis_open(s->url, NULL, &c) == 0) {
      cio_redis_free(c);
      return 0;
    }
    if (cio_process_poll(s->proc) != -EAGAIN) break; /* it exited */
    cio_sleep(0.05);
  }
  return -ECONNREFUSED;
}

static void stop_server(server *s) {
  if (!s->proc) return;
  cio_process_terminate(s->proc); /* redis-server exits cleanly on SIGTERM */
  cio_process_wait(s->proc);
  cio_process_free(s->proc);
  char sock[96];
  snprintf(sock, sizeof sock, "%s/redis.sock", s->dir);
  unlink(sock);
  rmdir(s->dir);
}

static int main_task(void *arg) {
  (void)arg;
  server srv = {NULL, "", ""};
  const char *url = getenv("CIO_REDIS_URL");
  if (!url) {
    int r = start_server(&srv);
    if (r == -ENOENT) {
      printf("skipped: redis-server is not installed (Debian: redis-server), "
             "and CIO_REDIS_URL is not set\n");
      return 0;
    }
    if (r < 0) {
      printf("could not start redis-server: %s\n", cio_strerror(r));
      stop_server(&srv);
      return r;
    }
    url = srv.url;
    printf("started a private redis-server (%s)\n", url);
  }
  int r = tutorial(url);
  cio_redis *c = NULL;
  if (r == 0) r = cio_redis_open(url, NULL, &c);
  if (r == 0) r = shared_connection(c);
  if (r == 0) r = pipeline(c);
  if (r == 0) r = pubsub(url, c);
  if (c) cio_redis_commandf(c, NULL, "DEL cio-tour:key cio-tour:counter");
  if (r < 0) printf("failed: %s (%s)\n", cio_strerror(r), cio_redis_last_error());
  cio_redis_free(c);
  stop_server(&srv);
  return r;
}

int main(void) {
  int64_t start = cio_now_ns();
  int r = cio_run(main_task, NULL);
  printf("elapsed: %.2f s\n", (double)(cio_now_ns() - start) / 1e9);
  return r == 0 ? 0 : 1;
}
