/* test_executor.c - thread-pool executors: results, concurrency limits,
 * cancellation and timeouts of waiting tasks, shutdown, loop close, and who
 * owns a job's arg (results read from it after a successful call).
 * cio-test-labels: threads */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cio.h"
#include "cio/exec.h"
#include "test.h"

/* ---- helpers ---- */

/* A gate jobs block on until a task opens it (never from a job). */
typedef struct gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int open;
  int waiting;
} gate;

static void gate_init(gate *g) {
  pthread_mutex_init(&g->mu, NULL);
  pthread_cond_init(&g->cv, NULL);
  g->open = 0;
  g->waiting = 0;
}

static void gate_destroy(gate *g) {
  pthread_cond_destroy(&g->cv);
  pthread_mutex_destroy(&g->mu);
}

static void gate_pass(gate *g) {
  pthread_mutex_lock(&g->mu);
  g->waiting++;
  while (!g->open) pthread_cond_wait(&g->cv, &g->mu);
  g->waiting--;
  pthread_mutex_unlock(&g->mu);
}

static void gate_open(gate *g) {
  pthread_mutex_lock(&g->mu);
  g->open = 1;
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
}

static int gate_waiting(gate *g) {
  pthread_mutex_lock(&g->mu);
  int n = g->waiting;
  pthread_mutex_unlock(&g->mu);
  return n;
}

/* Suspend (yielding to the loop) until *flag reaches want, at most ~5 s. */
static int wait_count(atomic_int *flag, int want) {
  for (int i = 0; i < 5000 && atomic_load(flag) < want; i++)
    if (cio_sleep(0.001) < 0) return -1;
  return atomic_load(flag) >= want ? 0 : -1;
}

static int wait_gate(gate *g, int want) {
  for (int i = 0; i < 5000 && gate_waiting(g) < want; i++)
    if (cio_sleep(0.001) < 0) return -1;
  return gate_waiting(g) >= want ? 0 : -1;
}

/* A heap argument whose release is counted: ASan catches a use after it. */
typedef struct harg {
  gate *g;
  atomic_int *ran;
  atomic_int *released;
  int value;
} harg;

static int harg_job(void *p) {
  harg *a = p;
  if (a->g) gate_pass(a->g);
  atomic_fetch_add(a->ran, 1);
  return a->value;
}

static void harg_release(void *p) {
  harg *a = p;
  atomic_fetch_add(a->released, 1);
  free(a);
}

static harg *harg_new(gate *g, atomic_int *ran, atomic_int *released, int value) {
  harg *a = malloc(sizeof *a);
  a->g = g;
  a->ran = ran;
  a->released = released;
  a->value = value;
  return a;
}

/* ---- basics ---- */

typedef struct where {
  pthread_t thread;
  int value;
} where;

static int record_thread(void *p) {
  where *w = p;
  w->thread = pthread_self();
  return w->value;
}

static int basic_main(void *unused) {
  cio_executor *ex = cio_executor_new(2);
  CHECK(ex != NULL);
  where w = {pthread_self(), 42};
  CHECK_EQ(cio_run_in_executor(ex, record_thread, &w), 42);
  CHECK(!pthread_equal(w.thread, pthread_self()));
  w.value = -EIO;
  CHECK_EQ(cio_run_in_executor(ex, record_thread, &w), -EIO);
  CHECK_EQ(cio_executor_threads(ex), 1);
  CHECK_EQ(cio_executor_max_threads(ex), 2);
  CHECK_EQ(cio_executor_shutdown(ex, CIO_EXEC_WAIT), 0);
  CHECK_EQ(cio_run_in_executor(ex, record_thread, &w), -ESHUTDOWN);
  cio_executor_free(ex);
  return 0;
}

static void test_basic(void) { CHECK_EQ(cio_run(basic_main, NULL), 0); }

static void test_outside_task(void) {
  atomic_int ran = 0, released = 0;
  CHECK_EQ(cio_run_in_executor_ex(NULL, harg_job, harg_new(NULL, &ran, &released, 1), harg_release,
                                  NULL),
           -EPERM);
  CHECK_EQ(released, 1); /* the call failed: arg released */
  CHECK_EQ(ran, 0);
  CHECK(cio_executor_new(65537) == NULL && errno == EINVAL);
  CHECK(cio_executor_new((size_t)-1) == NULL && errno == EINVAL);
}

/* ---- the loop keeps running while a job blocks ---- */

static atomic_int ticks;

static int ticker(void *unused) {
  for (;;) {
    int r = cio_sleep(0.01);
    if (r < 0) return r;
    atomic_fetch_add(&ticks, 1);
  }
}

static int sleep_job(void *p) {
  usleep((useconds_t)(*(double *)p * 1e6));
  return 7;
}

static int nonblocking_main(void *unused) {
  static double secs = 0.2;
  atomic_store(&ticks, 0);
  cio_task *t = cio_spawn(ticker, NULL);
  int64_t t0 = cio_now_ns();
  CHECK_EQ(cio_to_thread(sleep_job, &secs), 7);
  double dt = (double)(cio_now_ns() - t0) / 1e9;
  CHECK(dt >= 0.19);
  /* Very loose: the ticker sleeps 10 ms at a time during a 200 ms job. */
  CHECK(atomic_load(&ticks) >= 3);
  cio_task_cancel(t);
  CHECK_EQ(cio_await(t), -ECANCELED);
  cio_task_release(t);
  return 0;
}

static void test_loop_keeps_running(void) { CHECK_EQ(cio_run(nonblocking_main, NULL), 0); }

/* ---- many tasks, pool size respected ---- */

static atomic_int busy_now, busy_max;

static int counted_job(void *p) {
  int now = atomic_fetch_add(&busy_now, 1) + 1;
  int max = atomic_load(&busy_max);
  while (now > max && !atomic_compare_exchange_weak(&busy_max, &max, now)) {
  }
  usleep(200);
  atomic_fetch_sub(&busy_now, 1);
  return (int)(intptr_t)p;
}

typedef struct many_arg {
  cio_executor *ex;
  int id;
  long sum;
} many_arg;

static int many_task(void *p) {
  many_arg *a = p;
  for (int i = 0; i < 20; i++) {
    int r = cio_run_in_executor(a->ex, counted_job, (void *)(intptr_t)(a->id * 100 + i));
    if (r < 0) return r;
    a->sum += r;
  }
  return 0;
}

static int many_main(void *unused) {
  enum { NTASKS = 30 };
  cio_executor *ex = cio_executor_new(4);
  many_arg args[NTASKS];
  cio_task *ts[NTASKS];
  for (int i = 0; i < NTASKS; i++) {
    args[i] = (many_arg){ex, i, 0};
    ts[i] = cio_spawn(many_task, &args[i]);
  }
  CHECK_EQ(cio_gather(ts, NTASKS, NULL, 0), 0);
  for (int i = 0; i < NTASKS; i++) {
    CHECK_EQ(args[i].sum, i * 100 * 20 + 190);
    cio_task_release(ts[i]);
  }
  CHECK(atomic_load(&busy_max) <= 4);
  CHECK(atomic_load(&busy_max) >= 2); /* 30 tasks at once did overlap */
  CHECK(cio_executor_threads(ex) <= 4);
  CHECK_EQ(cio_executor_shutdown(ex, CIO_EXEC_WAIT), 0);
  cio_executor_free(ex);
  return 0;
}

static void test_many_tasks_pool_size(void) { CHECK_EQ(cio_run(many_main, NULL), 0); }

static void test_default_pool(void) {
  cio_executor *d = cio_executor_default();
  CHECK(d != NULL);
  CHECK(d == cio_executor_default());
  size_t n = (size_t)sysconf(_SC_NPROCESSORS_ONLN) + 4;
  CHECK(cio_executor_max_threads(d) <= (n < 32 ? n : 32));
  CHECK(cio_executor_max_threads(d) >= 5);
  CHECK_EQ(cio_executor_shutdown(d, CIO_EXEC_WAIT), -EINVAL);
  cio_executor_free(d); /* ignored */
  CHECK(d == cio_executor_default());
}

/* ---- cancellation ---- */

typedef struct cancel_arg {
  cio_executor *ex;
  harg *a;
  int status;
} cancel_arg;

/* Runs c->a's job; on success arg is ours again and released here, so
 * every harg is released exactly once either way. */
static int submit_task(void *p) {
  cancel_arg *c = p;
  int st;
  int r = cio_run_in_executor_ex(c->ex, harg_job, c->a, harg_release, &st);
  if (r == 0) {
    harg_release(c->a);
    r = st;
  }
  c->status = r;
  return r;
}

static int cancel_running_main(void *unused) {
  cio_executor *ex = cio_executor_new(1);
  gate g;
  gate_init(&g);
  atomic_int ran = 0, released = 0;
  cancel_arg c = {ex, harg_new(&g, &ran, &released, 5), 1};
  cio_task *t = cio_spawn(submit_task, &c);
  CHECK_EQ(wait_gate(&g, 1), 0); /* the job is running, blocked */
  cio_task_cancel(t);
  CHECK_EQ(cio_await(t), -ECANCELED); /* at once, job still blocked */
  CHECK_EQ(c.status, -ECANCELED);
  CHECK_EQ(ran, 0);
  CHECK_EQ(released, 0);
  gate_open(&g);
  CHECK_EQ(wait_count(&released, 1), 0); /* the job ran to its end */
  CHECK_EQ(ran, 1);
  CHECK_EQ(released, 1);
  cio_task_release(t);
  cio_executor_free(ex);
  gate_destroy(&g);
  return 0;
}

static void test_cancel_running(void) { CHECK_EQ(cio_run(cancel_running_main, NULL), 0); }

static int cancel_queued_main(void *unused) {
  cio_executor *ex = cio_executor_new(1);
  gate g;
  gate_init(&g);
  atomic_int ran = 0, released = 0;
  cancel_arg first = {ex, harg_new(&g, &ran, &released, 1), 1};
  cancel_arg second = {ex, harg_new(NULL, &ran, &released, 2), 1};
  cio_task *t1 = cio_spawn(submit_task, &first);
  CHECK_EQ(wait_gate(&g, 1), 0);
  cio_task *t2 = cio_spawn(submit_task, &second);
  CHECK_EQ(cio_yield(), 0); /* t2 queues its job behind the blocked one */
  cio_task_cancel(t2);
  CHECK_EQ(cio_await(t2), -ECANCELED);
  CHECK_EQ(released, 1); /* withdrawn: released before the call returned */
  gate_open(&g);
  CHECK_EQ(cio_await(t1), 1);
  CHECK_EQ(wait_count(&released, 2), 0);
  CHECK_EQ(ran, 1); /* the withdrawn job never ran */
  cio_task_release(t1);
  cio_task_release(t2);
  cio_executor_free(ex);
  gate_destroy(&g);
  return 0;
}

static void test_cancel_queued(void) { CHECK_EQ(cio_run(cancel_queued_main, NULL), 0); }

/* Expires a timeout scope once a job is blocked at a gate: the caller times
 * out while its job runs, however long a loaded machine takes to start it. */
typedef struct expirer {
  gate *g;
  cio_timeout_scope *s;
} expirer;

static int expire_when_blocked(void *p) {
  expirer *e = p;
  if (wait_gate(e->g, 1) < 0) return -1;
  cio_timeout_reschedule(e->s, 0);
  return 0;
}

static int timeout_main(void *unused) {
  cio_executor *ex = cio_executor_new(1);
  gate g;
  gate_init(&g);
  atomic_int ran = 0, released = 0;
  cio_timeout_scope s;
  cio_timeout_begin(&s, 60.0);
  expirer e = {&g, &s};
  cio_task *et = cio_spawn(expire_when_blocked, &e);
  int r =
      cio_run_in_executor_ex(ex, harg_job, harg_new(&g, &ran, &released, 3), harg_release, NULL);
  CHECK_EQ(cio_timeout_end(&s), 1);
  CHECK_EQ(r, -ETIMEDOUT);
  CHECK_EQ(cio_await(et), 0);
  cio_task_release(et);
  CHECK_EQ(ran, 0);
  gate_open(&g);
  CHECK_EQ(wait_count(&released, 1), 0);
  CHECK_EQ(ran, 1);
  /* The pool still serves; a call that succeeds hands arg back. */
  harg *a = harg_new(NULL, &ran, &released, 4);
  int st = 0;
  CHECK_EQ(cio_run_in_executor_ex(ex, harg_job, a, harg_release, &st), 0);
  CHECK_EQ(st, 4);
  CHECK_EQ(released, 1);
  harg_release(a);
  cio_executor_free(ex);
  gate_destroy(&g);
  return 0;
}

static void test_timeout(void) { CHECK_EQ(cio_run(timeout_main, NULL), 0); }

/* ---- shutdown ---- */

static int opener(void *p) {
  cio_sleep(0.05);
  gate_open(p);
  return 0;
}

static int shutdown_main(void *p) {
  int how = *(int *)p;
  enum { N = 5 };
  cio_executor *ex = cio_executor_new(1);
  gate g;
  gate_init(&g);
  atomic_int ran = 0, released = 0;
  cancel_arg c[N];
  cio_task *ts[N];
  for (int i = 0; i < N; i++) {
    c[i] = (cancel_arg){ex, harg_new(i == 0 ? &g : NULL, &ran, &released, 10 + i), 1};
    ts[i] = cio_spawn(submit_task, &c[i]);
  }
  CHECK_EQ(wait_gate(&g, 1), 0); /* job 0 runs, 1..4 are queued */
  cio_task *op = cio_spawn(opener, &g);
  /* Suspends until every job is done; the loop runs opener meanwhile. */
  CHECK_EQ(cio_executor_shutdown(ex, how), 0);
  CHECK_EQ(cio_gather(ts, N, NULL, CIO_GATHER_ALL), 0);
  CHECK_EQ(c[0].status, 10);
  for (int i = 1; i < N; i++) CHECK_EQ(c[i].status, how == CIO_EXEC_WAIT ? 10 + i : -ECANCELED);
  CHECK_EQ(ran, how == CIO_EXEC_WAIT ? N : 1);
  CHECK_EQ(released, N);
  atomic_int r2 = 0, rel2 = 0;
  CHECK_EQ(cio_run_in_executor_ex(ex, harg_job, harg_new(NULL, &r2, &rel2, 1), harg_release, NULL),
           -ESHUTDOWN);
  CHECK_EQ(rel2, 1);
  CHECK_EQ(cio_executor_shutdown(ex, CIO_EXEC_CANCEL), 0); /* again: fine */
  CHECK_EQ(cio_await(op), 0);
  cio_task_release(op);
  for (int i = 0; i < N; i++) cio_task_release(ts[i]);
  cio_executor_free(ex);
  gate_destroy(&g);
  return 0;
}

static void test_shutdown_wait(void) {
  int how = CIO_EXEC_WAIT;
  CHECK_EQ(cio_run(shutdown_main, &how), 0);
}

static void test_shutdown_cancel(void) {
  int how = CIO_EXEC_CANCEL;
  CHECK_EQ(cio_run(shutdown_main, &how), 0);
}

/* free() of a busy pool from plain code waits for the running job. */
static void test_free_waits(void) {
  cio_executor *ex = cio_executor_new(2);
  CHECK_EQ(cio_executor_shutdown(ex, CIO_EXEC_WAIT), 0); /* no thread: at once */
  cio_executor_free(ex);
}

/* free() while a task still waits: the job finishes, the task resumes. */
static int slow_job(void *p) {
  usleep(30000);
  return 11;
}

typedef struct slow_arg {
  cio_executor *ex;
} slow_arg;

static int slow_task(void *p) { return cio_run_in_executor(((slow_arg *)p)->ex, slow_job, NULL); }

static int free_busy_main(void *unused) {
  slow_arg a = {cio_executor_new(1)};
  cio_task *t = cio_spawn(slow_task, &a);
  CHECK_EQ(cio_yield(), 0); /* t submits */
  cio_executor_free(a.ex);  /* blocks until the job is done */
  CHECK_EQ(cio_await(t), 11);
  cio_task_release(t);
  return 0;
}

static void test_free_while_waiting(void) { CHECK_EQ(cio_run(free_busy_main, NULL), 0); }

static cio_executor *self_ex;

static int self_shutdown_job(void *unused) { return cio_executor_shutdown(self_ex, CIO_EXEC_WAIT); }

static int deadlock_main(void *unused) {
  self_ex = cio_executor_new(1);
  CHECK_EQ(cio_run_in_executor(self_ex, self_shutdown_job, NULL), -EDEADLK);
  cio_executor_free(self_ex);
  return 0;
}

static void test_shutdown_from_job(void) { CHECK_EQ(cio_run(deadlock_main, NULL), 0); }

/* ---- loop close with a task still waiting on a job ---- */

static gate close_gate;
static atomic_int close_ran, close_released;
static cio_executor *close_ex;

static int close_waiter(void *unused) {
  return cio_run_in_executor_ex(close_ex, harg_job,
                                harg_new(&close_gate, &close_ran, &close_released, 1), harg_release,
                                NULL);
}

static int close_main(void *unused) {
  cio_task *t = cio_spawn(close_waiter, NULL);
  cio_detach(t);
  CHECK_EQ(wait_gate(&close_gate, 1), 0);
  return 0; /* cio_run cancels close_waiter and closes the loop */
}

static void test_loop_close_pending_job(void) {
  gate_init(&close_gate);
  close_ex = cio_executor_new(1);
  CHECK_EQ(cio_run(close_main, NULL), 0);
  CHECK_EQ(close_released, 0); /* the job is still blocked */
  gate_open(&close_gate);
  cio_executor_free(close_ex); /* waits for the job */
  CHECK_EQ(close_ran, 1);
  CHECK_EQ(close_released, 1);
  gate_destroy(&close_gate);
}

/* ---- results out of a job (exec.h's documented pattern) ----
 *
 * The job writes its results into its heap arg; the caller reads them
 * after a successful call, then frees arg itself. The pool must not have
 * released arg meanwhile: ASan reports a heap-use-after-free if it did,
 * and the release count shows it in any build. */

static atomic_int query_released;

typedef struct query {
  int in, out;
  char *text;
} query;

static int query_job(void *p) {
  query *q = p;
  q->out = q->in * 2;
  q->text = malloc(8);
  if (!q->text) return -ENOMEM;
  memcpy(q->text, "answer", 7);
  return 7;
}

static void query_free(void *p) {
  query *q = p;
  atomic_fetch_add(&query_released, 1);
  free(q->text);
  free(q);
}

static query *query_new(int in) {
  query *q = calloc(1, sizeof *q);
  if (q) q->in = in;
  return q;
}

static int results_main(void *unused) {
  cio_executor *ex = cio_executor_new(2);
  atomic_store(&query_released, 0);
  for (int i = 0; i < 50; i++) {
    query *q = query_new(i);
    int st = -1;
    CHECK_EQ(cio_run_in_executor_ex(ex, query_job, q, query_free, &st), 0);
    CHECK_EQ(st, 7);
    CHECK_EQ(atomic_load(&query_released), i); /* not released: ours */
    CHECK_EQ(q->out, 2 * i);
    CHECK(q->text && strcmp(q->text, "answer") == 0);
    query_free(q);
  }
  /* status may be NULL. */
  query *q = query_new(5);
  CHECK_EQ(cio_run_in_executor_ex(ex, query_job, q, query_free, NULL), 0);
  CHECK_EQ(q->out, 10);
  query_free(q);
  /* Given up (timed out while the job runs): released once, by the pool,
   * after the job; the caller never touches q again. */
  gate g;
  gate_init(&g);
  atomic_int ran = 0, released = 0;
  cio_timeout_scope s;
  cio_timeout_begin(&s, 60.0);
  expirer e = {&g, &s};
  cio_task *et = cio_spawn(expire_when_blocked, &e);
  CHECK_EQ(
      cio_run_in_executor_ex(ex, harg_job, harg_new(&g, &ran, &released, 1), harg_release, NULL),
      -ETIMEDOUT);
  cio_timeout_end(&s);
  CHECK_EQ(cio_await(et), 0);
  cio_task_release(et);
  CHECK_EQ(released, 0);
  gate_open(&g);
  CHECK_EQ(wait_count(&released, 1), 0);
  CHECK_EQ(ran, 1);
  cio_executor_free(ex);
  CHECK_EQ(released, 1);
  gate_destroy(&g);
  return 0;
}

static void test_results_from_arg(void) { CHECK_EQ(cio_run(results_main, NULL), 0); }

/* ---- a job may run a loop of its own ---- */

static int inner_main(void *unused) { return cio_sleep(0.01) == 0 ? 17 : -1; }

static int loop_job(void *unused) { return cio_run(inner_main, NULL); }

static int nested_main(void *unused) {
  CHECK_EQ(cio_to_thread(loop_job, NULL), 17);
  return 0;
}

static void test_job_runs_loop(void) { CHECK_EQ(cio_run(nested_main, NULL), 0); }

/* ---- several loops on several threads share one pool ---- */

static cio_executor *shared_ex;

static int add_one(void *p) { return (int)(intptr_t)p + 1; }

static int shared_loop_main(void *unused) {
  long sum = 0;
  for (int i = 0; i < 200; i++) {
    int r = cio_run_in_executor(shared_ex, add_one, (void *)(intptr_t)i);
    if (r < 0) return r;
    sum += r;
  }
  return sum == 200 * 201 / 2 ? 0 : -EPROTO;
}

static void *shared_thread(void *p) {
  *(int *)p = cio_run(shared_loop_main, NULL);
  return NULL;
}

static void test_shared_by_loops(void) {
  shared_ex = cio_executor_new(3);
  pthread_t th[4];
  int st[4];
  for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, shared_thread, &st[i]);
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    CHECK_EQ(st[i], 0);
  }
  cio_executor_free(shared_ex);
}

/* A caller already cancelled or past its deadline gets the error before
 * anything is queued: its job never runs after the call returned. */
static atomic_int precancel_ran;

static int count_job(void *arg) {
  (void)arg;
  atomic_fetch_add(&precancel_ran, 1);
  return 0;
}

static int precancel_main(void *arg) {
  (void)arg;
  cio_executor *ex = cio_executor_new(2);
  CHECK(ex != NULL);
  cio_timeout_scope s;
  CHECK_EQ(cio_timeout_begin(&s, 0), 0);
  for (int i = 0; i < 200; i++) CHECK_EQ(cio_run_in_executor(ex, count_job, NULL), -ETIMEDOUT);
  cio_timeout_end(&s);
  CHECK_EQ(cio_task_cancel(cio_current()), 1);
  CHECK_EQ(cio_run_in_executor(ex, count_job, NULL), -ECANCELED);
  CHECK_EQ(cio_executor_shutdown(ex, CIO_EXEC_WAIT), 0);
  CHECK_EQ(atomic_load(&precancel_ran), 0);
  cio_executor_free(ex);
  return 0;
}

static void test_precancelled_call_never_runs(void) { CHECK_EQ(cio_run(precancel_main, NULL), 0); }

int main(void) {
  RUN(test_basic);
  RUN(test_outside_task);
  RUN(test_loop_keeps_running);
  RUN(test_many_tasks_pool_size);
  RUN(test_default_pool);
  RUN(test_cancel_running);
  RUN(test_cancel_queued);
  RUN(test_timeout);
  RUN(test_results_from_arg);
  RUN(test_shutdown_wait);
  RUN(test_shutdown_cancel);
  RUN(test_free_waits);
  RUN(test_free_while_waiting);
  RUN(test_shutdown_from_job);
  RUN(test_loop_close_pending_job);
  RUN(test_job_runs_loop);
  RUN(test_shared_by_loops);
  RUN(test_precancelled_call_never_runs);
  return test_report();
}
