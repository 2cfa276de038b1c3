/* test_loop.h - helpers shared by the tests that run inside a cio loop.
 * Include after test.h (the helpers use CHECK_EQ):
 *
 *   #include "test.h"
 *   #include "test_loop.h"
 *
 *   LOOP_TEST(test_x) { cio_task *t = cio_spawn(fn, &a); CHECK_EQ(join(t), 0); return 0; }
 *
 * Functions are static and marked unused, so a test that needs only some of
 * them still builds under -Werror -Wunused-function.
 */
#ifndef CIO_TEST_LOOP_H
#define CIO_TEST_LOOP_H

#include <stdint.h>

#include <cio.h>

#define TEST_UNUSED __attribute__((unused))

/* Under AddressSanitizer (GCC or Clang) TEST_ASAN is 1, else 0. */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifndef TEST_ASAN
#define TEST_ASAN 0
#endif

/* Checks that the main task is the loop's last task: a test that leaves
 * tasks behind for cio_run's shutdown to cancel has lost track of them (their
 * args may live on the test's stack). Call at the end of a main task. */
#define CHECK_NO_LEFTOVERS()                                                                       \
  do {                                                                                             \
    cio_loop *l_ = cio_loop_current();                                                             \
    CHECK_EQ(l_ ? cio_loop_task_count(l_) : 1, 1);                                                 \
  } while (0)

/* LOOP_TEST(name) { body }: name() runs body as the main task of its own
 * cio_run(), checks that it returned 0 and left no task running. */
#define LOOP_TEST(name)                                                                            \
  static int name##_body(void *arg);                                                               \
  static int name##_main(void *arg) {                                                              \
    int r_ = name##_body(arg);                                                                     \
    CHECK_NO_LEFTOVERS();                                                                          \
    return r_;                                                                                     \
  }                                                                                                \
  static void name(void) { CHECK_EQ(cio_run(name##_main, NULL), 0); }                              \
  static int name##_body(void *arg)

/* A small integer carried as a void * item (queues, futures), and back. */
#define ITEM(n) ((void *)(uintptr_t)(n))
#define NUM(p)  ((long)(uintptr_t)(p))

/* Seconds on cio's monotonic clock. */
static TEST_UNUSED double now_s(void) { return (double)cio_now_ns() / 1e9; }

/* Runs body as the main task of a fresh loop and checks it returned 0. */
static TEST_UNUSED void run_main(cio_task_fn body, void *arg) {
  int r = cio_run(body, arg);
  CHECK_EQ(r, 0);
}

/* Awaits t, drops the handle, returns its status. */
static TEST_UNUSED int join(cio_task *t) {
  int r = cio_await(t);
  cio_task_release(t);
  return r;
}

/* Yields until t is parked in a wait. Bounded, so a broken core fails the
 * check instead of hanging. */
static TEST_UNUSED void wait_blocked(cio_task *t) {
  for (int i = 0; i < 1000 && cio_task_get_state(t) != CIO_TASK_WAITING; i++) cio_yield();
  CHECK_EQ(cio_task_get_state(t), CIO_TASK_WAITING);
}

/* Spawns fn on each of the n elements (size bytes apiece) of the array args
 * into t[], waiting until each is blocked before the next starts, so they
 * queue in index order. */
static TEST_UNUSED void spawn_blocked(cio_task **t, int n, cio_task_fn fn, void *args,
                                      size_t size) {
  for (int i = 0; i < n; i++) {
    t[i] = cio_spawn(fn, (char *)args + (size_t)i * size);
    wait_blocked(t[i]);
  }
}

/* Lets every ready task run, and gives the loop a turn so queued callbacks
 * run too (tasks switch among themselves for a whole budget of runs before
 * the loop looks at callbacks; a short sleep parks us and hands it a turn):
 * yields times cio_yield(), a pause-second sleep, yields more. */
static TEST_UNUSED void settle_with(int yields, double pause) {
  for (int i = 0; i < yields; i++) cio_yield();
  cio_sleep(pause);
  for (int i = 0; i < yields; i++) cio_yield();
}

/* settle_with() as the core tests use it: 20 yields around a 1 ms sleep. */
static TEST_UNUSED void settle(void) { settle_with(20, 0.001); }

/* settle_with() as the io tests use it: 10 yields around a 2 ms sleep. */
static TEST_UNUSED void settle_io(void) { settle_with(10, 0.002); }

#endif
