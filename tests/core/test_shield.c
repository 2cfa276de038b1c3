/* test_shield.c - shield scopes: cleanup that runs to completion although
 * the task was cancelled again or its timeout scope expired; what arrived
 * meanwhile is delivered after the shield; timeout scopes begun inside the
 * shield still work. */
#include <cio.h>

#include "test.h"

struct res {
  int use_r, release_r, after_r, end_r, inner_r, inner_end;
};

/* The resource pattern: acquire, use, release under a shield. */
static int pattern(void *arg) {
  struct res *x = arg;
  x->use_r = cio_sleep(5); /* cancelled here */
  cio_shield_scope sh;
  CHECK_EQ(cio_shield_begin(&sh), 0);
  x->release_r = cio_sleep(0.05); /* cancelled again meanwhile: not interrupted */
  x->end_r = cio_shield_end(&sh);
  x->after_r = cio_sleep(5); /* the second cancellation lands here */
  return x->use_r;
}

static int cancel_twice_main(void *arg) {
  (void)arg;
  struct res x = {0};
  cio_task *t = cio_spawn(pattern, &x);
  cio_sleep(0.01);
  cio_task_cancel(t);
  cio_sleep(0.01);
  CHECK_STR(cio_task_waiting_on(t), "sleep"); /* in its release */
  cio_task_cancel(t);
  CHECK_EQ(cio_await(t), -ECANCELED);
  cio_task_release(t);
  CHECK_EQ(x.use_r, -ECANCELED);
  CHECK_EQ(x.release_r, 0);
  CHECK_EQ(x.end_r, 1);
  CHECK_EQ(x.after_r, -ECANCELED);
  return 0;
}

static void test_second_cancel_waits(void) { CHECK_EQ(cio_run(cancel_twice_main, NULL), 0); }

/* An expired timeout scope fails every suspension until it ends: without a
 * shield the release could not even sleep. */
static int timeout_main(void *arg) {
  (void)arg;
  struct res x = {0};
  cio_timeout_scope s;
  cio_timeout_begin(&s, 0.02);
  x.use_r = cio_sleep(5);
  CHECK_EQ(x.use_r, -ETIMEDOUT);
  CHECK_EQ(cio_sleep(0.01), -ETIMEDOUT); /* level-triggered */

  cio_shield_scope sh;
  cio_shield_begin(&sh);
  x.release_r = cio_sleep(0.01);
  CHECK_EQ(x.release_r, 0);
  /* A scope of its own bounds the cleanup. */
  cio_timeout_scope inner;
  cio_timeout_begin(&inner, 0.02);
  x.inner_r = cio_sleep(5);
  x.inner_end = cio_timeout_end(&inner);
  CHECK_EQ(x.inner_r, -ETIMEDOUT);
  CHECK_EQ(x.inner_end, 1);
  CHECK_EQ(cio_sleep(0.001), 0); /* the inner scope is over; the outer is held off */
  CHECK_EQ(cio_shield_end(&sh), 1);

  CHECK_EQ(cio_sleep(0.01), -ETIMEDOUT); /* the outer expiry is back */
  CHECK_EQ(cio_timeout_end(&s), 1);
  CHECK_EQ(cio_sleep(0.001), 0);
  return 0;
}

static void test_expired_timeout_held_off(void) { CHECK_EQ(cio_run(timeout_main, NULL), 0); }

/* A scope that expires while shielded, then the shield ends before it. */
static int expire_inside_main(void *arg) {
  (void)arg;
  cio_timeout_scope s;
  cio_timeout_begin(&s, 0.02);
  cio_shield_scope sh;
  cio_shield_begin(&sh);
  CHECK_EQ(cio_sleep(0.05), 0); /* the outer scope expires during this */
  CHECK(cio_timeout_expired(&s));
  CHECK_EQ(cio_shield_end(&sh), 1);
  CHECK_EQ(cio_yield(), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&s), 1);
  CHECK_EQ(cio_yield(), 0);
  return 0;
}

static void test_expiry_during_shield(void) { CHECK_EQ(cio_run(expire_inside_main, NULL), 0); }

/* Nested shields, and nothing pending: end returns 0. */
static int nested_main(void *arg) {
  (void)arg;
  cio_shield_scope a, b;
  CHECK_EQ(cio_shield_begin(&a), 0);
  CHECK_EQ(cio_shield_begin(&b), 0);
  cio_task_cancel(cio_current());
  CHECK_EQ(cio_yield(), 0);
  CHECK_EQ(cio_shield_end(&b), 1);
  CHECK_EQ(cio_yield(), 0); /* still inside a */
  CHECK_EQ(cio_shield_end(&a), 1);
  CHECK_EQ(cio_yield(), -ECANCELED);
  CHECK_EQ(cio_yield(), 0);

  CHECK_EQ(cio_shield_begin(&a), 0);
  CHECK_EQ(cio_shield_end(&a), 0);
  CHECK_EQ(cio_shield_end(&a), 0); /* twice: no-op */
  return 0;
}

static void test_nested(void) {
  CHECK_EQ(cio_run(nested_main, NULL), 0);
  cio_shield_scope s;
  CHECK_EQ(cio_shield_begin(&s), -EPERM);
}

/* Awaiting a task inside a shield: a cancellation does not take it down. */
static int worker(void *arg) {
  (void)arg;
  return cio_sleep(0.03);
}

static int shielded_await(void *arg) {
  int *r = arg;
  cio_task *w = cio_spawn(worker, NULL);
  cio_shield_scope sh;
  cio_shield_begin(&sh);
  *r = cio_await(w);
  cio_shield_end(&sh);
  cio_task_release(w);
  return cio_yield();
}

static int await_main(void *arg) {
  (void)arg;
  int r = -1;
  cio_task *t = cio_spawn(shielded_await, &r);
  cio_sleep(0.01);
  cio_task_cancel(t);
  CHECK_EQ(cio_await(t), -ECANCELED);
  CHECK_EQ(r, 0);
  cio_task_release(t);
  return 0;
}

static void test_await_in_shield(void) { CHECK_EQ(cio_run(await_main, NULL), 0); }

/* A task group waited on inside a shield leaves an outside cancellation
 * pending for the shield's end instead of taking its children down. */
struct gs {
  int child_r, sleep_r, wait_r, pending;
};

static int gs_child(void *a) {
  struct gs *g = a;
  g->child_r = cio_sleep(0.2);
  return g->child_r;
}

static int gs_owner(void *a) {
  struct gs *g = a;
  cio_shield_scope sh;
  cio_shield_begin(&sh);
  cio_group *grp = cio_group_new();
  cio_group_spawn(grp, gs_child, g, NULL);
  g->sleep_r = cio_sleep(0.1); /* cancelled meanwhile: shielded */
  g->wait_r = cio_group_wait(grp);
  cio_group_free(grp);
  g->pending = cio_shield_end(&sh);
  return 0;
}

static int gs_main(void *arg) {
  (void)arg;
  struct gs g = {99, 99, 99, 99};
  cio_task *t = cio_spawn(gs_owner, &g);
  CHECK_EQ(cio_sleep(0.05), 0);
  cio_task_cancel(t);
  cio_await(t);
  cio_task_release(t);
  CHECK_EQ(g.sleep_r, 0);
  CHECK_EQ(g.wait_r, 0);
  CHECK_EQ(g.child_r, 0);
  CHECK_EQ(g.pending, 1);
  return 0;
}

static void test_group_inside_shield(void) { CHECK_EQ(cio_run(gs_main, NULL), 0); }

int main(void) {
  RUN(test_second_cancel_waits);
  RUN(test_expired_timeout_held_off);
  RUN(test_expiry_during_shield);
  RUN(test_nested);
  RUN(test_await_in_shield);
  RUN(test_group_inside_shield);
  return test_report();
}
