/* test_task_scale.c - tasks at scale: 100,000 spawned and awaited, and
 * 1,000,000 suspended at the same time with default settings.
 *
 * The second one proves the stack scheme does not run into
 * vm.max_map_count (65530 by default): a mapping per stack plus a guard
 * mapping would fail after ~32k tasks. It commits one page per task (~4 GiB
 * for 1M) and takes a few seconds, hence the slow label.
 *
 * CIO_TEST_MANY=<n> sets the number of suspended tasks. The default is
 * 1,000,000; 200,000 under AddressSanitizer (whose shadow memory doubles the
 * footprint) and 40,000 under Valgrind - still past the point where a
 * mapping per guard would have failed.
 */
/* cio-test-labels: slow */
#include <cio.h>
#include <unistd.h>

#include "test.h"
#include "test_loop.h"

static int under_valgrind(void) {
  const char *p = getenv("LD_PRELOAD");
  return p && strstr(p, "vgpreload") != NULL;
}

/* ---- 100,000 spawned, then awaited ---- */

static int count_up(void *arg) {
  (*(long *)arg)++;
  return cio_yield();
}

static long many_count(void) { return under_valgrind() ? 20000 : 100000; }

static int many_main(void *arg) {
  long n = many_count();
  long counter = 0;
  cio_task **t = malloc((size_t)n * sizeof *t);
  CHECK(t != NULL);
  if (!t) return -ENOMEM;
  long spawned = 0;
  for (long i = 0; i < n; i++) {
    t[i] = cio_spawn(count_up, &counter);
    if (t[i]) spawned++;
  }
  CHECK_EQ(spawned, n);
  long bad = 0;
  for (long i = 0; i < n; i++) {
    if (!t[i]) continue;
    if (cio_await(t[i]) != 0) bad++;
    cio_task_release(t[i]);
  }
  CHECK_EQ(bad, 0);
  CHECK_EQ(counter, spawned);
  free(t);
  return 0;
}

static void test_many_tasks(void) {
  double t0 = now_s();
  run_main(many_main, NULL);
  printf("     %ld tasks spawned and awaited: %.2f s\n", many_count(), now_s() - t0);
}

/* ---- 1,000,000 suspended at once ---- */

struct million {
  cio_event *ev;
  long started;
  long woke;
};

static int wait_event(void *arg) {
  struct million *m = arg;
  m->started++;
  int r = cio_event_wait(m->ev);
  if (r == 0) m->woke++;
  return r;
}

static long million_count(void) {
  const char *s = getenv("CIO_TEST_MANY");
  if (s && atol(s) > 0) return atol(s);
  if (under_valgrind()) return 40000;
  return TEST_ASAN ? 200000 : 1000000;
}

static int million_main(void *arg) {
  long n = million_count();
  struct million m = {cio_event_new(), 0, 0};
  CHECK(m.ev != NULL);
  if (!m.ev) return -ENOMEM;
  cio_task **t = malloc((size_t)n * sizeof *t);
  CHECK(t != NULL);
  if (!t) return -ENOMEM;
  long spawned = 0;
  for (long i = 0; i < n; i++) {
    t[i] = cio_spawn(wait_event, &m);
    if (!t[i]) break;
    spawned++;
  }
  CHECK_EQ(spawned, n);
  /* Let every task start and park on the event: all n suspended at once.
   * A stack that cannot be had makes its task finish with -ENOMEM. */
  for (int i = 0; i < 100 && m.started < spawned; i++) CHECK_EQ(cio_yield(), 0);
  CHECK_EQ(m.started, spawned);
  CHECK_EQ(m.woke, 0);
  long not_waiting = 0;
  for (long i = 0; i < spawned; i += 997)
    if (cio_task_get_state(t[i]) != CIO_TASK_WAITING) not_waiting++;
  CHECK_EQ(not_waiting, 0);
  cio_event_set(m.ev);
  long bad = 0;
  for (long i = 0; i < spawned; i++) {
    if (cio_await(t[i]) != 0) bad++;
    cio_task_release(t[i]);
  }
  CHECK_EQ(bad, 0);
  CHECK_EQ(m.woke, spawned);
  cio_event_free(m.ev);
  free(t);
  return 0;
}

static void test_million_suspended(void) {
  double t0 = now_s();
  run_main(million_main, NULL);
  printf("     %ld tasks suspended at once: %.2f s\n", million_count(), now_s() - t0);
}

int main(void) {
  alarm(under_valgrind() ? 600 : 120); /* a hang kills the test, not CI */
  RUN(test_many_tasks);
  RUN(test_million_suspended);
  return test_report();
}
