/* test_threadsafe.c - loops on threads and run_coroutine_threadsafe: results,
 * timeouts, cancellation, loops that close, cross-loop await (an interrupted
 * one waits for the remote task to unwind), and 4 loops on 4 threads
 * exchanging 100,000 messages.
 * cio-test-labels: threads */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "cio.h"
#include "cio/threadsafe.h"
#include "test.h"

/* ---- tasks run on the target loop ---- */

typedef struct job {
  double secs;
  int value;
  cio_loop *ran_on;
  atomic_int started;
} job;

static int job_fn(void *p) {
  job *j = p;
  atomic_store(&j->started, 1);
  j->ran_on = cio_loop_current();
  int r = cio_sleep(j->secs);
  return r < 0 ? r : j->value;
}

static void test_submit_and_wait(void) {
  cio_loop_thread *lt = cio_loop_thread_start(NULL);
  CHECK(lt != NULL);
  cio_loop *loop = cio_loop_thread_loop(lt);
  job j = {0.01, 42, NULL, 0};
  cio_xtask *x = cio_run_coroutine_threadsafe(loop, job_fn, &j);
  CHECK(x != NULL);
  CHECK_EQ(cio_xtask_wait(x, -1), 42);
  CHECK(j.ran_on == loop);
  CHECK_EQ(cio_xtask_done(x), 1);
  CHECK_EQ(cio_xtask_status(x), 42);
  CHECK_EQ(cio_xtask_wait(x, 0), 42); /* again: same answer */
  CHECK_EQ(cio_xtask_cancel(x), 0);   /* already done */
  cio_xtask_free(x);
  CHECK_EQ(cio_loop_thread_stop(lt), 0);
  cio_loop_thread_free(lt);
}

static void test_timeout_then_cancel(void) {
  cio_loop_thread *lt = cio_loop_thread_start(NULL);
  job j = {30.0, 1, NULL, 0};
  cio_xtask *x = cio_run_coroutine_threadsafe(cio_loop_thread_loop(lt), job_fn, &j);
  int64_t t0 = cio_now_ns();
  CHECK_EQ(cio_xtask_wait(x, 0.05), -ETIMEDOUT);
  double dt = (double)(cio_now_ns() - t0) / 1e9;
  CHECK(dt >= 0.045 && dt < 2.0); /* loose */
  CHECK_EQ(cio_xtask_done(x), 0);
  CHECK_EQ(cio_xtask_status(x), -EINPROGRESS);
  CHECK_EQ(cio_xtask_cancel(x), 1);
  CHECK_EQ(cio_xtask_wait(x, 5.0), -ECANCELED);
  cio_xtask_free(x);
  CHECK_EQ(cio_loop_thread_stop(lt), 0);
  cio_loop_thread_free(lt);
}

/* Stopping a loop thread cancels what still runs there: no hang. */
static void test_loop_closes_while_running(void) {
  cio_loop_thread *lt = cio_loop_thread_start(NULL);
  job j = {30.0, 1, NULL, 0};
  cio_xtask *x = cio_run_coroutine_threadsafe(cio_loop_thread_loop(lt), job_fn, &j);
  while (!atomic_load(&j.started)) usleep(1000);
  CHECK_EQ(cio_loop_thread_stop(lt), 0);
  CHECK(cio_loop_thread_loop(lt) == NULL);
  CHECK_EQ(cio_loop_thread_stop(lt), 0); /* again: fine */
  cio_loop_thread_free(lt);
  CHECK_EQ(cio_xtask_wait(x, 5.0), -ECANCELED);
  cio_xtask_free(x);
  /* Free alone stops first. */
  lt = cio_loop_thread_start(NULL);
  CHECK(lt != NULL);
  atomic_store(&j.started, 0);
  x = cio_run_coroutine_threadsafe(cio_loop_thread_loop(lt), job_fn, &j);
  while (!atomic_load(&j.started)) usleep(1000);
  cio_loop_thread_free(lt);
  CHECK_EQ(cio_xtask_wait(x, CIO_FOREVER), -ECANCELED);
  cio_xtask_free(x);
  cio_loop_thread_free(NULL);
}

/* A loop that closes before the task could start: -ESHUTDOWN, fn never ran.
 * Case 1: the start callback is still queued when close begins. */
static void test_loop_closes_before_start(void) {
  cio_loop *loop = cio_loop_new(NULL);
  job j = {0, 1, NULL, 0};
  cio_xtask *x = cio_run_coroutine_threadsafe(loop, job_fn, &j);
  CHECK(x != NULL);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
  CHECK_EQ(cio_xtask_wait(x, 5.0), -ESHUTDOWN);
  CHECK_EQ(atomic_load(&j.started), 0);
  cio_xtask_free(x);
}

/* Case 2: the task was spawned but the loop stopped before it first ran:
 * the main task wakes from its timer ahead of the spawned task, returns, and
 * cio_run closes the loop, cancelling the never-started task. */
static job case2_job;
static cio_xtask *case2_x;

static int case2_main(void *unused) {
  /* A scope whose timer is overdue by the next loop turn: that turn wakes
   * us (timers come first) before it runs the start callback. */
  cio_timeout_scope s;
  cio_timeout_begin(&s, 0.001);
  int64_t until = cio_now_ns() + 5000000;
  while (cio_now_ns() < until) {
  }
  case2_x = cio_run_coroutine_threadsafe(cio_loop_current(), job_fn, &case2_job);
  CHECK(case2_x != NULL);
  CHECK_EQ(cio_sleep(10), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&s), 1);
  return 0;
}

static void test_loop_stops_before_start(void) {
  CHECK_EQ(cio_run(case2_main, NULL), 0);
  CHECK_EQ(cio_xtask_wait(case2_x, 5.0), -ESHUTDOWN);
  CHECK_EQ(atomic_load(&case2_job.started), 0);
  cio_xtask_free(case2_x);
}

/* Submitting to a loop already closed (but not freed: here it is the
 * loop-thread's, still open) - the closed case is covered by the core's
 * -ESHUTDOWN from cio_call_soon_threadsafe. Cancel before start: */
typedef struct held_loop {
  cio_loop *loop;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stage;
} held_loop;

static void held_set(held_loop *h, int stage) {
  pthread_mutex_lock(&h->mu);
  h->stage = stage;
  pthread_cond_broadcast(&h->cv);
  pthread_mutex_unlock(&h->mu);
}

static void held_wait(held_loop *h, int stage) {
  pthread_mutex_lock(&h->mu);
  while (h->stage < stage) pthread_cond_wait(&h->cv, &h->mu);
  pthread_mutex_unlock(&h->mu);
}

static int idle_main(void *unused) { return cio_sleep(0.05); }

static void *held_thread(void *p) {
  held_loop *h = p;
  h->loop = cio_loop_new(NULL);
  held_set(h, 1);
  held_wait(h, 2); /* the other thread submits and cancels meanwhile */
  cio_task *t = cio_spawn_on(h->loop, idle_main, NULL, NULL);
  cio_loop_run_until_complete(h->loop, t);
  cio_task_release(t);
  cio_loop_free(h->loop);
  return NULL;
}

static void test_cancel_before_start(void) {
  held_loop h = {NULL, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
  pthread_t th;
  pthread_create(&th, NULL, held_thread, &h);
  held_wait(&h, 1);
  job j = {0, 9, NULL, 0};
  cio_xtask *x = cio_run_coroutine_threadsafe(h.loop, job_fn, &j);
  CHECK_EQ(cio_xtask_cancel(x), 1);
  held_set(&h, 2);
  CHECK_EQ(cio_xtask_wait(x, 5.0), -ECANCELED);
  CHECK_EQ(atomic_load(&j.started), 0); /* fn never ran */
  pthread_join(th, NULL);
  cio_xtask_free(x);
  pthread_mutex_destroy(&h.mu);
  pthread_cond_destroy(&h.cv);
}

static void test_errors(void) {
  CHECK(cio_run_coroutine_threadsafe(NULL, job_fn, NULL) == NULL && errno == EINVAL);
  CHECK_EQ(cio_xtask_await(NULL), -EINVAL);
  cio_xtask_free(NULL);
  CHECK_EQ(cio_loop_thread_stop(NULL), -EINVAL);
}

/* ---- waiting from a task of another loop ---- */

static cio_loop_thread *remote;

static int await_main(void *unused) {
  job j = {0.01, 77, NULL, 0};
  cio_xtask *x = cio_run_coroutine_threadsafe(cio_loop_thread_loop(remote), job_fn, &j);
  CHECK_EQ(cio_xtask_wait(x, -1) == -EDEADLK, 0); /* another loop: allowed, blocks */
  CHECK_EQ(cio_xtask_await(x), 77);
  cio_xtask_free(x);

  /* Our own loop: wait() would deadlock, await() works. */
  job k = {0.001, 5, NULL, 0};
  x = cio_run_coroutine_threadsafe(cio_loop_current(), job_fn, &k);
  CHECK_EQ(cio_xtask_wait(x, 1.0), -EDEADLK);
  CHECK_EQ(cio_xtask_await(x), 5);
  CHECK(k.ran_on == cio_loop_current());
  cio_xtask_free(x);
  return 0;
}

static void test_await_from_task(void) {
  remote = cio_loop_thread_start(NULL);
  CHECK_EQ(cio_run(await_main, NULL), 0);
  CHECK_EQ(cio_loop_thread_stop(remote), 0);
  cio_loop_thread_free(remote);
}

typedef struct awaiter_arg {
  cio_xtask *x;
} awaiter_arg;

static int awaiter(void *p) { return cio_xtask_await(((awaiter_arg *)p)->x); }

static int await_cancel_main(void *unused) {
  job j = {30.0, 1, NULL, 0};
  awaiter_arg a = {cio_run_coroutine_threadsafe(cio_loop_thread_loop(remote), job_fn, &j)};
  cio_task *t = cio_spawn(awaiter, &a);
  CHECK_EQ(cio_sleep(0.02), 0);
  awaiter_arg b = {a.x};
  cio_task *t2 = cio_spawn(awaiter, &b);
  CHECK_EQ(cio_await(t2), -EBUSY); /* one awaiter at a time */
  int64_t t0 = cio_now_ns();
  cio_task_cancel(t);
  CHECK_EQ(cio_await(t), -ECANCELED);
  CHECK((double)(cio_now_ns() - t0) / 1e9 < 1.0);
  /* The remote task was cancelled too. */
  CHECK_EQ(cio_xtask_wait(a.x, 5.0), -ECANCELED);
  cio_task_release(t);
  cio_task_release(t2);
  cio_xtask_free(a.x);

  /* A timeout scope around await. */
  job k = {30.0, 1, NULL, 0};
  cio_xtask *x = cio_run_coroutine_threadsafe(cio_loop_thread_loop(remote), job_fn, &k);
  cio_timeout_scope s;
  cio_timeout_begin(&s, 0.02);
  CHECK_EQ(cio_xtask_await(x), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&s), 1);
  CHECK_EQ(cio_xtask_wait(x, 5.0), -ECANCELED);
  cio_xtask_free(x);
  return 0;
}

static void test_await_cancelled(void) {
  remote = cio_loop_thread_start(NULL);
  CHECK_EQ(cio_run(await_cancel_main, NULL), 0);
  CHECK_EQ(cio_loop_thread_stop(remote), 0);
  cio_loop_thread_free(remote);
}

/* ---- an interrupted await leaves nothing using the caller's stack ----
 *
 * The remote task's arg lives in the frame of the function that awaits it.
 * Cancelled, the task unwinds with a cleanup that suspends (shielded), then
 * writes to its arg. cio_xtask_await() interrupted by a timeout scope or a
 * cancellation must wait for that: otherwise the write lands in a dead
 * frame (ASan: stack-use-after-return) and the checks below see the remote
 * task still running. */

typedef struct lingering {
  atomic_int running, cleaned;
} lingering;

static int lingering_job(void *p) {
  lingering *l = p;
  atomic_store(&l->running, 1);
  int r = cio_sleep(30.0);
  cio_shield_scope sh;
  cio_shield_begin(&sh);
  cio_sleep(0.05); /* cleanup that talks to someone */
  cio_shield_end(&sh);
  atomic_fetch_add(&l->cleaned, 1);
  atomic_store(&l->running, 0);
  return r;
}

static int cancel_task(void *p) { return cio_task_cancel(p); }

/* how: 0 = a timeout scope expires, 1 = the awaiting task is cancelled.
 * Returns cio_xtask_await's result. */
static __attribute__((noinline)) int await_with_stack_arg(int how) {
  lingering l;
  atomic_init(&l.running, 0);
  atomic_init(&l.cleaned, 0);
  cio_xtask *x = cio_run_coroutine_threadsafe(cio_loop_thread_loop(remote), lingering_job, &l);
  CHECK(x != NULL);
  for (int i = 0; i < 5000 && !atomic_load(&l.running); i++) cio_sleep(0.001);
  CHECK_EQ(atomic_load(&l.running), 1);
  int r;
  if (how == 0) {
    cio_timeout_scope s;
    cio_timeout_begin(&s, 0.01);
    r = cio_xtask_await(x);
    CHECK_EQ(cio_timeout_end(&s), 1);
  } else {
    cio_task *killer = cio_spawn(cancel_task, cio_current());
    r = cio_xtask_await(x);
    cio_await(killer);
    cio_task_release(killer);
  }
  /* The remote task has finished: cancelled, cleaned up. */
  CHECK_EQ(atomic_load(&l.running), 0);
  CHECK_EQ(atomic_load(&l.cleaned), 1);
  CHECK_EQ(cio_xtask_done(x), 1);
  CHECK_EQ(cio_xtask_status(x), -ECANCELED);
  cio_xtask_free(x);
  return r;
}

static int await_stack_main(void *unused) {
  CHECK_EQ(await_with_stack_arg(0), -ETIMEDOUT);
  cio_sleep(0.1); /* a remote task left running would write to the dead frame now */
  CHECK_EQ(await_with_stack_arg(1), -ECANCELED);
  cio_sleep(0.1);
  return 0;
}

static void test_await_interrupted_waits_for_remote(void) {
  remote = cio_loop_thread_start(NULL);
  CHECK_EQ(cio_run(await_stack_main, NULL), 0);
  CHECK_EQ(cio_loop_thread_stop(remote), 0);
  cio_loop_thread_free(remote);
}

/* ---- many plain threads submitting to one loop ---- */

static cio_loop *many_loop;
static long many_counter; /* touched only on the loop's thread */

static int incr(void *p) {
  many_counter += (long)(intptr_t)p;
  return (int)(intptr_t)p;
}

static void *submitter(void *p) {
  long *sum = p;
  for (int i = 1; i <= 200; i++) {
    cio_xtask *x = cio_run_coroutine_threadsafe(many_loop, incr, (void *)(intptr_t)i);
    if (!x) break;
    *sum += cio_xtask_wait(x, -1);
    cio_xtask_free(x);
  }
  return NULL;
}

static int read_counter(void *p) {
  *(long *)p = many_counter;
  return 0;
}

static void test_many_submitters(void) {
  cio_loop_thread *lt = cio_loop_thread_start(NULL);
  many_loop = cio_loop_thread_loop(lt);
  many_counter = 0;
  pthread_t th[4];
  long sums[4] = {0};
  for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, submitter, &sums[i]);
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    CHECK_EQ(sums[i], 200 * 201 / 2);
  }
  long total = 0;
  cio_xtask *x = cio_run_coroutine_threadsafe(many_loop, read_counter, &total);
  CHECK_EQ(cio_xtask_wait(x, -1), 0);
  CHECK_EQ(total, 4 * 200 * 201 / 2);
  cio_xtask_free(x);
  CHECK_EQ(cio_loop_thread_stop(lt), 0);
  cio_loop_thread_free(lt);
}

/* ---- 4 loops on 4 threads exchange 100,000 messages ----
 *
 * Loop i sends 25,000 numbered messages to loop (i+1) % 4: each is a
 * call_soon_threadsafe whose callback puts the message into the receiving
 * loop's queue; a consumer task there takes them and checks sender, order
 * and sum. Messages travel, tasks do not: 2 tasks per loop. */

enum { RING = 4, PER_LOOP = 25000 };

typedef struct ring_node {
  cio_loop *loop;
  cio_queue *q;
  long received, sum;
  long out_of_order;
  int status;
} ring_node;

static ring_node nodes[RING];
static pthread_barrier_t ring_ready, ring_done;
static _Thread_local ring_node *my_node;

static void deliver(void *msg) {
  if (cio_queue_put_nowait(my_node->q, msg) != 0) my_node->status = -ENOMEM;
}

static int ring_producer(void *p) {
  ring_node *to = p;
  int me = (int)(my_node - nodes);
  for (uintptr_t seq = 0; seq < PER_LOOP; seq++) {
    uintptr_t msg = ((uintptr_t)me << 24 | seq) + 1; /* never NULL */
    int r = cio_call_soon_threadsafe(to->loop, deliver, (void *)msg);
    if (r < 0) return r;
    if (seq % 512 == 511 && (r = cio_yield()) < 0) return r;
  }
  return 0;
}

static int ring_consumer(void *unused) {
  ring_node *n = my_node;
  int from = (int)((n - nodes + RING - 1) % RING);
  long next = 0;
  while (n->received < PER_LOOP) {
    void *item;
    int r = cio_queue_get(n->q, &item);
    if (r < 0) return r;
    uintptr_t msg = (uintptr_t)item - 1;
    if ((int)(msg >> 24) != from || (long)(msg & 0xffffff) != next) n->out_of_order++;
    next = (long)(msg & 0xffffff) + 1;
    n->sum += (long)(msg & 0xffffff);
    n->received++;
  }
  return 0;
}

static int ring_main(void *p) {
  ring_node *n = p;
  my_node = n;
  n->loop = cio_loop_current();
  n->q = cio_queue_new(CIO_QUEUE_FIFO, 0, NULL);
  /* Every loop must exist before anyone sends. */
  pthread_barrier_wait(&ring_ready);
  ring_node *to = &nodes[(n - nodes + 1) % RING];
  cio_task *ts[2] = {cio_spawn(ring_consumer, NULL), cio_spawn(ring_producer, to)};
  int r = cio_gather(ts, 2, NULL, 0);
  cio_task_release(ts[0]);
  cio_task_release(ts[1]);
  /* Nobody may still be inside a call to our loop when it closes. */
  pthread_barrier_wait(&ring_done);
  cio_queue_free(n->q);
  return r;
}

static void *ring_thread(void *p) {
  ring_node *n = p;
  int r = cio_run(ring_main, n);
  if (n->status == 0) n->status = r;
  return NULL;
}

static void test_four_loops_ring(void) {
  pthread_barrier_init(&ring_ready, NULL, RING);
  pthread_barrier_init(&ring_done, NULL, RING);
  pthread_t th[RING];
  int64_t t0 = cio_now_ns();
  for (int i = 0; i < RING; i++) pthread_create(&th[i], NULL, ring_thread, &nodes[i]);
  long total = 0;
  for (int i = 0; i < RING; i++) {
    pthread_join(th[i], NULL);
    CHECK_EQ(nodes[i].status, 0);
    CHECK_EQ(nodes[i].received, PER_LOOP);
    CHECK_EQ(nodes[i].sum, (long)PER_LOOP * (PER_LOOP - 1) / 2);
    CHECK_EQ(nodes[i].out_of_order, 0); /* FIFO per sender */
    total += nodes[i].received;
  }
  CHECK_EQ(total, 100000);
  printf("     4 loops x 100,000 messages in %.3f s\n", (double)(cio_now_ns() - t0) / 1e9);
  pthread_barrier_destroy(&ring_ready);
  pthread_barrier_destroy(&ring_done);
}

int main(void) {
  RUN(test_submit_and_wait);
  RUN(test_timeout_then_cancel);
  RUN(test_loop_closes_while_running);
  RUN(test_loop_closes_before_start);
  RUN(test_loop_stops_before_start);
  RUN(test_cancel_before_start);
  RUN(test_errors);
  RUN(test_await_from_task);
  RUN(test_await_cancelled);
  RUN(test_await_interrupted_waits_for_remote);
  RUN(test_many_submitters);
  RUN(test_four_loops_ring);
  return test_report();
}
