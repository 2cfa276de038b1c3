/* test_gen.c - generators: values in order, laziness, the end, failures,
 * closing early (cleanup runs, and may suspend), and cancellation of the
 * consumer and of the generator at each of their suspension points. */
#include <cio.h>

#include <stdint.h>

#include "test.h"

/* ---- generators used below ---- */

struct counter {
  int stop;
  double delay; /* sleep before each value (0: none) */
  int fail_at;  /* return -EIO instead of yielding this value (-1: never) */
  int produced; /* values computed so far */
  int started;
  int cleaned;         /* cleanup ran */
  int cleanup_sleep_r; /* status of a sleep in the cleanup */
  int last_yield_r;
};

static int counter(cio_gen *g, void *arg) {
  struct counter *c = arg;
  c->started = 1;
  int r = 0;
  for (int i = 0; i < c->stop && r == 0; i++) {
    if (c->delay > 0) r = cio_sleep(c->delay);
    if (r < 0) break;
    if (i == c->fail_at) {
      r = -EIO;
      break;
    }
    c->produced++;
    r = cio_gen_yield(g, (void *)(intptr_t)i);
    c->last_yield_r = r;
  }
  if (r == -ECANCELED) {
    c->cleaned = 1;
    c->cleanup_sleep_r = cio_sleep(0.001); /* cleanup may suspend once cancelled */
  }
  return r;
}

static struct counter mk(int stop, double delay) {
  struct counter c = {.stop = stop, .delay = delay, .fail_at = -1};
  return c;
}

/* ---- basic iteration ---- */

static int basic_main(void *arg) {
  (void)arg;
  struct counter c = mk(5, 0.001);
  cio_gen *g = cio_gen_new(counter, &c, NULL);
  CHECK(g != NULL);
  cio_yield();
  CHECK_EQ(c.started, 0); /* lazy: nothing runs until asked */
  void *v;
  int r, n = 0;
  while ((r = cio_gen_next(g, &v)) == 1) {
    CHECK_EQ((intptr_t)v, n);
    CHECK_EQ(c.produced, n + 1); /* one value at a time */
    n++;
  }
  CHECK_EQ(r, 0);
  CHECK_EQ(n, 5);
  CHECK_EQ(cio_gen_next(g, &v), 0); /* the end, again */
  CHECK_EQ(cio_task_status(cio_gen_task(g)), 0);
  CHECK_EQ(cio_gen_close(g), 0);
  cio_gen_free(g);
  CHECK_EQ(c.cleaned, 0);
  return 0;
}

static void test_basic(void) { CHECK_EQ(cio_run(basic_main, NULL), 0); }

/* A generator that yields many values without any other suspension. */
static int many(cio_gen *g, void *arg) {
  intptr_t n = (intptr_t)arg;
  for (intptr_t i = 1; i <= n; i++) {
    int r = cio_gen_yield(g, (void *)i);
    if (r < 0) return r;
  }
  return 0;
}

static int many_main(void *arg) {
  (void)arg;
  cio_spawn_opts o = {.name = "many", .stack_size = 0};
  cio_gen *g = cio_gen_new(many, (void *)(intptr_t)100000, &o);
  CHECK_STR(cio_task_name(cio_gen_task(g)), "many");
  void *v;
  long long sum = 0;
  while (cio_gen_next(g, &v) == 1) sum += (intptr_t)v;
  CHECK_EQ(sum, 100000LL * 100001LL / 2);
  CHECK_EQ(cio_gen_close(g), 0);
  cio_gen_free(g);
  return 0;
}

static void test_many_values(void) { CHECK_EQ(cio_run(many_main, NULL), 0); }

/* ---- failures ---- */

static int fail_main(void *arg) {
  (void)arg;
  struct counter c = mk(5, 0);
  c.fail_at = 2;
  cio_gen *g = cio_gen_new(counter, &c, NULL);
  void *v;
  CHECK_EQ(cio_gen_next(g, &v), 1);
  CHECK_EQ(cio_gen_next(g, &v), 1);
  CHECK_EQ(cio_gen_next(g, &v), -EIO);
  CHECK_EQ(cio_gen_next(g, &v), -EIO);
  CHECK_EQ(cio_gen_close(g), -EIO);
  cio_gen_free(g);
  return 0;
}

static void test_failure(void) { CHECK_EQ(cio_run(fail_main, NULL), 0); }

static int empty(cio_gen *g, void *arg) {
  (void)g;
  (void)arg;
  return 0;
}

static int misuse_target(void *arg) {
  cio_gen *g = arg;
  return cio_gen_yield(g, NULL); /* not g's task */
}

static int self_next(cio_gen *g, void *arg) {
  (void)arg;
  void *v;
  int r = cio_gen_next(g, &v);
  CHECK_EQ(r, -EDEADLK);
  CHECK_EQ(cio_gen_close(g), -EDEADLK);
  return 0;
}

static int errors_main(void *arg) {
  (void)arg;
  void *v;
  CHECK_EQ(cio_gen_next(NULL, &v), -EINVAL);
  CHECK_EQ(cio_gen_close(NULL), 0);
  errno = 0;
  CHECK(cio_gen_new(NULL, NULL, NULL) == NULL);
  CHECK_EQ(errno, EINVAL);

  cio_gen *g = cio_gen_new(empty, NULL, NULL);
  CHECK_EQ(cio_gen_yield(g, NULL), -EPERM);
  cio_task *t = cio_spawn(misuse_target, g);
  CHECK_EQ(cio_await(t), -EPERM);
  cio_task_release(t);
  CHECK_EQ(cio_gen_next(g, &v), 0); /* ends without a value */
  CHECK_EQ(cio_gen_close(g), 0);
  cio_gen_free(g);

  g = cio_gen_new(self_next, NULL, NULL);
  CHECK_EQ(cio_gen_next(g, &v), 0);
  CHECK_EQ(cio_gen_close(g), 0);
  cio_gen_free(g);
  return 0;
}

static void test_errors(void) {
  CHECK_EQ(cio_run(errors_main, NULL), 0);
  void *v;
  CHECK_EQ(cio_gen_next(NULL, &v), -EPERM); /* outside a task */
}

/* ---- closing early ---- */

static int close_early_main(void *arg) {
  (void)arg;
  struct counter c = mk(100, 0.001);
  cio_gen *g = cio_gen_new(counter, &c, NULL);
  void *v;
  for (int i = 0; i < 3; i++) CHECK_EQ(cio_gen_next(g, &v), 1);
  /* `break` out of the loop: the generator is parked in its yield. */
  CHECK_EQ(cio_gen_close(g), 0);
  cio_gen_free(g);
  CHECK_EQ(c.produced, 3);
  CHECK_EQ(c.last_yield_r, -ECANCELED);
  CHECK_EQ(c.cleaned, 1);
  CHECK_EQ(c.cleanup_sleep_r, 0);
  return 0;
}

static void test_close_early(void) { CHECK_EQ(cio_run(close_early_main, NULL), 0); }

static int close_unstarted_main(void *arg) {
  (void)arg;
  /* Closed before it was ever scheduled. */
  struct counter c = mk(5, 0);
  cio_gen *fresh = cio_gen_new(counter, &c, NULL);
  CHECK_EQ(cio_gen_close(fresh), 0);
  cio_gen_free(fresh);
  CHECK_EQ(c.started, 0);
  /* Closed after its task ran up to its first request. */
  struct counter d = mk(5, 0);
  cio_gen *g = cio_gen_new(counter, &d, NULL);
  cio_yield();
  CHECK_STR(cio_task_waiting_on(cio_gen_task(g)), "generator start");
  CHECK_EQ(cio_gen_close(g), 0);
  cio_gen_free(g);
  CHECK_EQ(d.started, 0);
  return 0;
}

static void test_close_before_start(void) { CHECK_EQ(cio_run(close_unstarted_main, NULL), 0); }

/* ---- cancellation of the consumer: nothing is lost ---- */

struct consumer {
  cio_gen *g;
  int r;
  void *v;
};

static int consume_one(void *arg) {
  struct consumer *k = arg;
  k->r = cio_gen_next(k->g, &k->v);
  return k->r < 0 ? k->r : 0;
}

static int consumer_cancel_main(void *arg) {
  (void)arg;
  struct counter c = mk(5, 0.05);
  cio_gen *g = cio_gen_new(counter, &c, NULL);
  struct consumer k = {.g = g};
  cio_task *t = cio_spawn(consume_one, &k);
  cio_sleep(0.01); /* t waits in next; the generator sleeps before value 0 */
  CHECK_STR(cio_task_waiting_on(t), "generator next");
  void *v;
  CHECK_EQ(cio_gen_next(g, &v), -EBUSY); /* one consumer at a time */
  CHECK_EQ(cio_gen_close(g), -EBUSY);
  cio_task_cancel(t);
  CHECK_EQ(cio_await(t), -ECANCELED);
  CHECK_EQ(k.r, -ECANCELED);
  cio_task_release(t);
  CHECK_EQ(c.started, 1);
  /* The generator was not cancelled: value 0 arrives. */
  CHECK_EQ(cio_gen_next(g, &v), 1);
  CHECK_EQ((intptr_t)v, 0);
  CHECK_EQ(c.produced, 1);
  CHECK_EQ(cio_gen_next(g, &v), 1);
  CHECK_EQ((intptr_t)v, 1);

  /* A consumer's timeout: same. */
  cio_timeout_scope s;
  cio_timeout_begin(&s, 0.01);
  CHECK_EQ(cio_gen_next(g, &v), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&s), 1);
  cio_sleep(0.08); /* value 2 is produced meanwhile, and waits */
  CHECK_EQ(c.produced, 3);
  CHECK_EQ(cio_gen_next(g, &v), 1);
  CHECK_EQ((intptr_t)v, 2);
  CHECK_EQ(c.produced, 3); /* ... and nothing more until asked */

  /* A consumer already cancelled on entry: nothing is taken. */
  cio_task_cancel(cio_current());
  CHECK_EQ(cio_gen_next(g, &v), -ECANCELED);
  CHECK_EQ(cio_gen_next(g, &v), 1);
  CHECK_EQ((intptr_t)v, 3);
  CHECK_EQ(cio_gen_close(g), 0);
  cio_gen_free(g);
  CHECK_EQ(c.cleaned, 1);
  return 0;
}

static void test_consumer_cancelled(void) { CHECK_EQ(cio_run(consumer_cancel_main, NULL), 0); }

/* Closing while the generator is busy in its own suspension (its consumer
 * gave up): the cancellation lands there. */
static int close_busy_main(void *arg) {
  (void)arg;
  struct counter c = mk(5, 0.05);
  cio_gen *g = cio_gen_new(counter, &c, NULL);
  void *v;
  cio_timeout_scope s;
  cio_timeout_begin(&s, 0.01);
  CHECK_EQ(cio_gen_next(g, &v), -ETIMEDOUT);
  cio_timeout_end(&s);
  CHECK_STR(cio_task_waiting_on(cio_gen_task(g)), "sleep");
  CHECK_EQ(cio_gen_close(g), 0);
  cio_gen_free(g);
  CHECK_EQ(c.produced, 0);
  CHECK_EQ(c.cleaned, 1);
  CHECK_EQ(c.cleanup_sleep_r, 0);
  return 0;
}

static void test_close_while_generator_busy(void) { CHECK_EQ(cio_run(close_busy_main, NULL), 0); }

/* The consumer is cancelled while it waits in close for a slow cleanup:
 * close still waits and frees; the cancellation hits the next suspension. */
static int slow_cleanup(cio_gen *g, void *arg) {
  int *cleaned = arg;
  int r = cio_gen_yield(g, NULL);
  if (r == -ECANCELED) {
    r = cio_sleep(0.05);
    *cleaned = r == 0;
  }
  return -ECANCELED;
}

static int closer(void *arg) {
  int *cleaned = arg;
  cio_gen *g = cio_gen_new(slow_cleanup, cleaned, NULL);
  void *v;
  CHECK_EQ(cio_gen_next(g, &v), 1);
  CHECK_EQ(cio_gen_close(g), 0);
  cio_gen_free(g);
  return cio_sleep(1);
}

static int close_cancelled_main(void *arg) {
  (void)arg;
  int cleaned = 0;
  cio_task *t = cio_spawn(closer, &cleaned);
  cio_sleep(0.02);
  CHECK_STR(cio_task_waiting_on(t), "await (unwinding)");
  cio_task_cancel(t);
  CHECK_EQ(cio_await(t), -ECANCELED);
  CHECK_EQ(cleaned, 1);
  cio_task_release(t);
  return 0;
}

static void test_consumer_cancelled_in_close(void) {
  CHECK_EQ(cio_run(close_cancelled_main, NULL), 0);
}

/* The generator's task cancelled by someone else while its consumer waits:
 * next reports the generator's status. */
static int gen_cancelled_main(void *arg) {
  (void)arg;
  struct counter c = mk(5, 0.05);
  cio_gen *g = cio_gen_new(counter, &c, NULL);
  struct consumer k = {.g = g};
  cio_task *t = cio_spawn(consume_one, &k);
  cio_sleep(0.01);
  cio_task_cancel(cio_gen_task(g));
  CHECK_EQ(cio_await(t), -ECANCELED);
  CHECK_EQ(k.r, -ECANCELED);
  cio_task_release(t);
  void *v;
  CHECK_EQ(cio_gen_next(g, &v), -ECANCELED);
  CHECK_EQ(cio_gen_close(g), 0);
  cio_gen_free(g);
  return 0;
}

static void test_generator_cancelled(void) { CHECK_EQ(cio_run(gen_cancelled_main, NULL), 0); }

/* A timeout scope of the generator's own covers its yields too. */
static int impatient(cio_gen *g, void *arg) {
  int *yield_r = arg;
  cio_timeout_scope s;
  cio_timeout_begin(&s, 0.02);
  int r = cio_gen_yield(g, NULL);
  if (r == 0) r = cio_gen_yield(g, NULL); /* the consumer is slow to ask */
  *yield_r = r;
  cio_timeout_end(&s);
  return r;
}

static int gen_timeout_main(void *arg) {
  (void)arg;
  int yield_r = 0;
  cio_gen *g = cio_gen_new(impatient, &yield_r, NULL);
  void *v;
  CHECK_EQ(cio_gen_next(g, &v), 1);
  CHECK_EQ(cio_gen_next(g, &v), 1);
  cio_sleep(0.05);
  CHECK_EQ(yield_r, -ETIMEDOUT);
  CHECK_EQ(cio_gen_next(g, &v), -ETIMEDOUT); /* the generator's status */
  CHECK_EQ(cio_gen_close(g), -ETIMEDOUT);
  cio_gen_free(g);
  return 0;
}

static void test_generator_timeout(void) { CHECK_EQ(cio_run(gen_timeout_main, NULL), 0); }

/* ---- closing from a callback, and the loop closing under both ---- */

struct cb_close {
  cio_gen *g;
  int r;
};

static void close_cb(void *arg) {
  struct cb_close *cc = arg;
  cc->r = cio_gen_close(cc->g);
  cio_gen_free(cc->g); /* freed once the generator has unwound */
}

static int cb_close_main(void *arg) {
  struct counter *c = arg;
  struct cb_close cc = {.g = cio_gen_new(counter, c, NULL)};
  void *v;
  CHECK_EQ(cio_gen_next(cc.g, &v), 1);
  cio_call_soon(cio_loop_current(), close_cb, &cc);
  cio_sleep(0.05); /* the generator unwinds and frees itself */
  CHECK_EQ(cc.r, -EINPROGRESS);
  return 0;
}

static void test_close_from_callback(void) {
  struct counter c = mk(5, 0);
  CHECK_EQ(cio_run(cb_close_main, &c), 0);
  CHECK_EQ(c.cleaned, 1);
}

static int abandoned_consumer(void *arg) {
  struct counter *c = arg;
  cio_gen *g = cio_gen_new(counter, c, NULL);
  void *v;
  int r;
  while ((r = cio_gen_next(g, &v)) == 1) {
  }
  cio_gen_close(g); /* after the loop cancelled both */
  cio_gen_free(g);
  return r;
}

static int abandon_main(void *arg) {
  cio_detach(cio_spawn(abandoned_consumer, arg));
  return cio_sleep(0.02); /* main returns; the loop closes under them */
}

static void test_loop_closes_under_both(void) {
  struct counter c = mk(1000, 0.01);
  CHECK_EQ(cio_run(abandon_main, &c), 0);
  CHECK(c.produced > 0);
  CHECK_EQ(c.cleaned, 1);
}

/* ---- cio_gen_free without close ---- */

static int free_waiting_main(void *arg) {
  struct counter *c = arg;
  cio_gen *g = cio_gen_new(counter, c, NULL);
  struct consumer k = {.g = g};
  cio_task *t = cio_spawn(consume_one, &k);
  cio_sleep(0.01); /* t waits in next; the generator sleeps before value 0 */
  CHECK_STR(cio_task_waiting_on(t), "generator next");
  cio_gen_free(g); /* wakes t with -EBADF, cancels the generator */
  CHECK_EQ(cio_await(t), -EBADF);
  CHECK_EQ(k.r, -EBADF);
  cio_task_release(t);
  cio_sleep(0.1); /* the generator unwinds, then its memory goes (LSan) */
  return 0;
}

static void test_free_with_consumer_waiting(void) {
  struct counter c = mk(5, 0.05);
  CHECK_EQ(cio_run(free_waiting_main, &c), 0);
  CHECK_EQ(c.cleaned, 1);
}

int main(void) {
  RUN(test_basic);
  RUN(test_many_values);
  RUN(test_failure);
  RUN(test_errors);
  RUN(test_close_early);
  RUN(test_close_before_start);
  RUN(test_consumer_cancelled);
  RUN(test_close_while_generator_busy);
  RUN(test_consumer_cancelled_in_close);
  RUN(test_generator_cancelled);
  RUN(test_generator_timeout);
  RUN(test_close_from_callback);
  RUN(test_loop_closes_under_both);
  RUN(test_free_with_consumer_waiting);
  return test_report();
}
