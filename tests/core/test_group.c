/* test_group.c - task groups (asyncio.TaskGroup / trio nurseries): success,
 * first failure cancels siblings and the owner's body, owner cancelled from
 * outside, individually cancelled children, free without wait, spawn rules.
 */
#include <cio.h>
#include <unistd.h>

#include "test.h"
#include "test_loop.h"

struct child {
  double delay;
  int status;    /* returned after the delay */
  int on_cancel; /* returned when cancelled (default: the -ECANCELED) */
  int got;
  int cleaned;
  int finished;
};

static int child_fn(void *arg) {
  struct child *c = arg;
  c->got = cio_sleep(c->delay);
  if (c->got != 0) {
    cio_sleep(0.005); /* cleanup that suspends */
    c->cleaned = 1;
    c->finished = 1;
    return c->on_cancel ? c->on_cancel : c->got;
  }
  c->finished = 1;
  return c->status;
}

static struct child child(double delay, int status) {
  struct child c = {delay, status, 0, 1, 0, 0};
  return c;
}

/* ---- all succeed ---- */

static int all_ok_main(void *arg) {
  cio_group *g = cio_group_new();
  CHECK(g != NULL);
  if (!g) return -ENOMEM;
  struct child c[5];
  for (int i = 0; i < 5; i++) {
    c[i] = child(0.005 * (5 - i), i == 2 ? 3 : 0); /* positive = success */
    cio_spawn_opts o = {.name = "grp-child", .stack_size = 0};
    CHECK(cio_group_spawn(g, child_fn, &c[i], i == 0 ? &o : NULL) != NULL);
  }
  CHECK_EQ(cio_group_size(g), 5);
  if (cio_group_task(g, 0)) CHECK_STR(cio_task_name(cio_group_task(g, 0)), "grp-child");
  CHECK_EQ(cio_group_wait(g), 0);
  for (int i = 0; i < 5; i++) {
    CHECK_EQ(c[i].finished, 1);
    cio_task *t = cio_group_task(g, (size_t)i);
    CHECK(t != NULL);
    if (t) {
      CHECK(cio_task_done(t));
      CHECK_EQ(cio_task_status(t), i == 2 ? 3 : 0);
    }
  }
  CHECK_EQ(cio_yield(), 0);
  cio_group_free(g);

  /* An empty group. */
  g = cio_group_new();
  CHECK(g != NULL);
  if (g) {
    CHECK_EQ(cio_group_size(g), 0);
    CHECK_EQ(cio_group_wait(g), 0);
    cio_group_free(g);
  }
  return 0;
}

static void test_all_succeed(void) { run_main(all_ok_main, NULL); }

/* ---- one fails ---- */

static int one_fails_main(void *arg) {
  cio_group *g = cio_group_new();
  CHECK(g != NULL);
  if (!g) return -ENOMEM;
  struct child c[3] = {child(0.02, -EIO), child(100, 0), child(0.0, 0)};
  for (int i = 0; i < 3; i++) CHECK(cio_group_spawn(g, child_fn, &c[i], NULL) != NULL);
  /* The owner's body is still running: the failure cancels it. */
  double t0 = now_s();
  int body = cio_sleep(100);
  CHECK_EQ(body, -ECANCELED);
  CHECK(now_s() - t0 < 2.0);
  /* wait absorbs that cancellation and reports the child's error. */
  CHECK_EQ(cio_group_wait(g), -EIO);
  CHECK_EQ(c[1].got, -ECANCELED);
  CHECK_EQ(c[1].cleaned, 1);
  CHECK_EQ(c[2].got, 0);
  for (size_t i = 0; i < 3; i++) CHECK(cio_task_done(cio_group_task(g, i)));
  CHECK_EQ(cio_task_status(cio_group_task(g, 1)), -ECANCELED);
  CHECK_EQ(cio_task_status(cio_group_task(g, 2)), 0);
  /* The owner is not left cancelled. */
  CHECK_EQ(cio_sleep(0.001), 0);
  cio_group_free(g);
  return 0;
}

static void test_one_fails_cancels_siblings_and_owner(void) { run_main(one_fails_main, NULL); }

static int fails_while_waiting_main(void *arg) {
  cio_group *g = cio_group_new();
  CHECK(g != NULL);
  if (!g) return -ENOMEM;
  struct child c[3] = {child(100, 0), child(0.02, -EPIPE), child(100, 0)};
  for (int i = 0; i < 3; i++) CHECK(cio_group_spawn(g, child_fn, &c[i], NULL) != NULL);
  double t0 = now_s();
  CHECK_EQ(cio_group_wait(g), -EPIPE); /* not -ECANCELED */
  CHECK(now_s() - t0 < 2.0);
  CHECK_EQ(c[0].cleaned, 1);
  CHECK_EQ(c[2].cleaned, 1);
  CHECK_EQ(cio_yield(), 0);
  CHECK_EQ(cio_sleep(0.001), 0);
  cio_group_free(g);
  return 0;
}

static void test_fails_while_owner_waits(void) { run_main(fails_while_waiting_main, NULL); }

static int first_failure_wins_main(void *arg) {
  cio_group *g = cio_group_new();
  CHECK(g != NULL);
  if (!g) return -ENOMEM;
  /* c[1] fails first; c[0] answers its cancellation with another error. */
  struct child c[2] = {child(100, 0), child(0.01, -EIO)};
  c[0].on_cancel = -EPIPE;
  for (int i = 0; i < 2; i++) CHECK(cio_group_spawn(g, child_fn, &c[i], NULL) != NULL);
  CHECK_EQ(cio_group_wait(g), -EIO);
  CHECK_EQ(cio_task_status(cio_group_task(g, 0)), -EPIPE);
  cio_group_free(g);
  return 0;
}

static void test_first_failure_wins(void) { run_main(first_failure_wins_main, NULL); }

/* ---- owner cancelled from outside ---- */

struct owner {
  struct child c[3];
  int wait_r;
  int all_done;
  int body_r;
  int before_wait; /* 1: cancelled in its body, before group_wait */
  int after;
};

static int owner_fn(void *arg) {
  struct owner *o = arg;
  cio_group *g = cio_group_new();
  if (!g) return -ENOMEM;
  for (int i = 0; i < 3; i++) cio_group_spawn(g, child_fn, &o->c[i], NULL);
  if (o->before_wait) o->body_r = cio_sleep(100);
  o->wait_r = cio_group_wait(g);
  o->all_done = 1;
  for (size_t i = 0; i < cio_group_size(g); i++)
    if (!cio_task_done(cio_group_task(g, i))) o->all_done = 0;
  o->after = cio_sleep(0.001);
  cio_group_free(g);
  return o->wait_r;
}

static void owner_cancelled(int before) {
  struct owner o;
  memset(&o, 0, sizeof o);
  /* Bounded (1 s) so a group that misses the cancellation ends the test
   * with a failure instead of a hang. */
  o.c[0] = child(before ? 1.0 : 100, 0);
  o.c[1] = child(before ? 1.0 : 100, 0);
  o.c[2] = child(0.0, 0);
  o.wait_r = o.body_r = o.after = 1;
  o.before_wait = before;
  cio_task *t = cio_spawn(owner_fn, &o);
  CHECK_EQ(cio_sleep(0.02), 0);
  CHECK_EQ(cio_task_cancel(t), 1);
  double t0 = now_s();
  CHECK_EQ(cio_await(t), -ECANCELED);
  CHECK(now_s() - t0 < 0.9);
  if (before) CHECK_EQ(o.body_r, -ECANCELED);
  CHECK_EQ(o.wait_r, -ECANCELED);
  CHECK_EQ(o.all_done, 1);
  CHECK_EQ(o.c[0].cleaned, 1);
  CHECK_EQ(o.c[1].cleaned, 1);
  CHECK_EQ(o.c[2].got, 0);
  CHECK_EQ(o.after, 0);
  cio_task_release(t);
}

static int owner_cancelled_in_wait_main(void *arg) {
  owner_cancelled(0);
  return 0;
}

/* The owner's body sees the -ECANCELED (e.g. from a sleep) and then calls
 * cio_group_wait(), the pattern group.h shows. The header says wait returns
 * -ECANCELED "if the owner was cancelled from outside the group (the children
 * are then cancelled and waited for)", without limiting it to a cancel that
 * arrives during the wait. */
static int owner_cancelled_in_body_main(void *arg) {
  owner_cancelled(1);
  return 0;
}

static void test_owner_cancelled_in_wait(void) { run_main(owner_cancelled_in_wait_main, NULL); }

static void test_owner_cancelled_in_body(void) { run_main(owner_cancelled_in_body_main, NULL); }

static int owner_timeout_main(void *arg) {
  cio_group *g = cio_group_new();
  CHECK(g != NULL);
  if (!g) return -ENOMEM;
  struct child c[2] = {child(100, 0), child(100, 0)};
  for (int i = 0; i < 2; i++) cio_group_spawn(g, child_fn, &c[i], NULL);
  cio_timeout_scope s;
  CHECK_EQ(cio_timeout_begin(&s, 0.02), 0);
  CHECK_EQ(cio_group_wait(g), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&s), 1);
  CHECK_EQ(c[0].cleaned, 1);
  CHECK_EQ(c[1].cleaned, 1);
  cio_group_free(g);
  return 0;
}

static void test_owner_timeout(void) { run_main(owner_timeout_main, NULL); }

/* ---- a child cancelled on its own is not a failure ---- */

static int child_cancelled_main(void *arg) {
  cio_group *g = cio_group_new();
  CHECK(g != NULL);
  if (!g) return -ENOMEM;
  struct child c[3] = {child(100, 0), child(0.05, 0), child(0.02, 4)};
  for (int i = 0; i < 3; i++) cio_group_spawn(g, child_fn, &c[i], NULL);
  CHECK_EQ(cio_yield(), 0);
  CHECK_EQ(cio_task_cancel(cio_group_task(g, 0)), 1);
  CHECK_EQ(cio_sleep(0.01), 0); /* the owner is not cancelled */
  CHECK_EQ(cio_group_wait(g), 0);
  CHECK_EQ(cio_task_status(cio_group_task(g, 0)), -ECANCELED);
  CHECK_EQ(c[1].got, 0); /* siblings not cancelled */
  CHECK_EQ(c[2].got, 0);
  CHECK_EQ(cio_task_status(cio_group_task(g, 1)), 0);
  cio_group_free(g);

  /* cio_group_cancel: cancels everyone, which is no failure either. */
  g = cio_group_new();
  CHECK(g != NULL);
  if (!g) return -ENOMEM;
  struct child d[2] = {child(100, 0), child(100, 0)};
  for (int i = 0; i < 2; i++) cio_group_spawn(g, child_fn, &d[i], NULL);
  CHECK_EQ(cio_yield(), 0);
  cio_group_cancel(g);
  CHECK_EQ(cio_group_wait(g), 0);
  CHECK_EQ(d[0].cleaned, 1);
  CHECK_EQ(d[1].cleaned, 1);
  CHECK_EQ(cio_yield(), 0);
  cio_group_free(g);
  return 0;
}

static void test_child_cancelled_is_not_failure(void) { run_main(child_cancelled_main, NULL); }

/* ---- free without wait ---- */

static struct child orphans[3]; /* outlive the owner's frame */

static int free_without_wait_main(void *arg) {
  cio_group *g = cio_group_new();
  CHECK(g != NULL);
  if (!g) return -ENOMEM;
  orphans[0] = child(100, 0);
  orphans[1] = child(0.0, 0);
  orphans[2] = child(100, 0);
  for (int i = 0; i < 3; i++) CHECK(cio_group_spawn(g, child_fn, &orphans[i], NULL) != NULL);
  for (int i = 0; i < 10 && !orphans[1].finished; i++) CHECK_EQ(cio_yield(), 0);
  CHECK_EQ(orphans[1].finished, 1);
  CHECK_EQ(orphans[0].finished, 0);
  cio_group_free(g); /* cancels the two still running, detaches them */
  CHECK_EQ(cio_sleep(0.05), 0);
  CHECK_EQ(orphans[0].got, -ECANCELED);
  CHECK_EQ(orphans[0].cleaned, 1);
  CHECK_EQ(orphans[2].cleaned, 1);

  /* Freed before any child ran. */
  struct child early[2] = {child(100, 0), child(100, 0)};
  g = cio_group_new();
  CHECK(g != NULL);
  if (!g) return -ENOMEM;
  for (int i = 0; i < 2; i++) cio_group_spawn(g, child_fn, &early[i], NULL);
  cio_group_free(g);
  CHECK_EQ(cio_sleep(0.05), 0);
  for (int i = 0; i < 2; i++) CHECK(early[i].got == 1 || early[i].got == -ECANCELED);
  return 0;
}

static void test_free_without_wait(void) { run_main(free_without_wait_main, NULL); }

/* ---- spawn rules ---- */

static int quick(void *arg) { return 0; }

struct spawner {
  cio_group *g;
  int spawned;    /* grandchild spawned into the group */
  int late_errno; /* spawn attempted after the group failed */
  int ran;
};

static int spawning_child(void *arg) {
  struct spawner *s = arg;
  int r = cio_sleep(0.01);
  if (r) return r;
  s->spawned = cio_group_spawn(s->g, quick, NULL, NULL) != NULL;
  return 0;
}

static int late_spawner(void *arg) {
  struct spawner *s = arg;
  int r = cio_sleep(100);
  /* Cancelled because a sibling failed: the group refuses new children. */
  errno = 0;
  cio_task *t = cio_group_spawn(s->g, quick, NULL, NULL);
  s->late_errno = t ? 0 : errno;
  return r;
}

static int failing(void *arg) {
  int r = cio_sleep(0.01);
  return r ? r : -EIO;
}

static int spawn_rules_main(void *arg) {
  /* A child may spawn into the group while the owner waits; wait covers it. */
  cio_group *g = cio_group_new();
  CHECK(g != NULL);
  if (!g) return -ENOMEM;
  struct spawner s = {g, 0, 0, 0};
  cio_group_spawn(g, spawning_child, &s, NULL);
  CHECK_EQ(cio_group_wait(g), 0);
  CHECK_EQ(s.spawned, 1);
  CHECK_EQ(cio_group_size(g), 2);
  if (cio_group_size(g) == 2) CHECK(cio_task_done(cio_group_task(g, 1)));

  /* After wait: refused with EINVAL. */
  errno = 0;
  CHECK(cio_group_spawn(g, quick, NULL, NULL) == NULL);
  CHECK_EQ(errno, EINVAL);
  cio_group_free(g);

  /* While waiting-and-failed: refused with ESHUTDOWN. */
  g = cio_group_new();
  CHECK(g != NULL);
  if (!g) return -ENOMEM;
  struct spawner l = {g, 0, 1, 0};
  cio_group_spawn(g, late_spawner, &l, NULL);
  cio_group_spawn(g, failing, NULL, NULL);
  CHECK_EQ(cio_group_wait(g), -EIO);
  CHECK_EQ(l.late_errno, ESHUTDOWN);
  CHECK_EQ(cio_group_size(g), 2);
  cio_group_free(g);
  return 0;
}

static void test_spawn_rules(void) { run_main(spawn_rules_main, NULL); }

static void test_group_new_outside_task(void) {
  errno = 0;
  CHECK(cio_group_new() == NULL);
  CHECK_EQ(errno, EPERM);
  cio_loop *loop = cio_loop_new(NULL);
  if (!loop) return;
  errno = 0;
  CHECK(cio_group_new() == NULL);
  CHECK_EQ(errno, EPERM);
  CHECK_EQ(cio_loop_close(loop), 0);
  cio_loop_free(loop);
}

/* Groups nest: a child owning its own group that fails. */
static int sub_owner(void *arg) {
  cio_group *g = cio_group_new();
  if (!g) return -ENOMEM;
  cio_group_spawn(g, failing, NULL, NULL);
  struct child c = child(100, 0);
  cio_group_spawn(g, child_fn, &c, NULL);
  int r = cio_group_wait(g);
  cio_group_free(g);
  return r;
}

static int nested_main(void *arg) {
  cio_group *g = cio_group_new();
  CHECK(g != NULL);
  if (!g) return -ENOMEM;
  struct child c = child(100, 0);
  cio_group_spawn(g, sub_owner, NULL, NULL);
  cio_group_spawn(g, child_fn, &c, NULL);
  CHECK_EQ(cio_group_wait(g), -EIO);
  CHECK_EQ(c.cleaned, 1);
  cio_group_free(g);
  return 0;
}

static void test_nested_groups(void) { run_main(nested_main, NULL); }

int main(void) {
  alarm(60); /* a hang kills the test instead of blocking CI */
  RUN(test_all_succeed);
  RUN(test_one_fails_cancels_siblings_and_owner);
  RUN(test_fails_while_owner_waits);
  RUN(test_first_failure_wins);
  RUN(test_owner_cancelled_in_wait);
  RUN(test_owner_cancelled_in_body);
  RUN(test_owner_timeout);
  RUN(test_child_cancelled_is_not_failure);
  RUN(test_free_without_wait);
  RUN(test_spawn_rules);
  RUN(test_group_new_outside_task);
  RUN(test_nested_groups);
  return test_report();
}
