/* test.h - the minimal test harness every cio test uses.
 *
 *   static void test_something(void) { CHECK(x == 1); CHECK_EQ(r, -ECANCELED); }
 *   int main(void) { RUN(test_something); return test_report(); }
 *
 * A failed check prints file:line and the expression and marks the current
 * test failed; the test goes on. test_report() prints
 * "N passed, N failed" (the line CI reads) and returns the exit status.
 */
#ifndef CIO_TEST_H
#define CIO_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failed_checks;
static int test_passed_count;
static int test_failed_count;
static const char *test_current = "";

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: [%s] check failed: %s\n", __FILE__, __LINE__, test_current, #cond);  \
      test_failed_checks++;                                                                        \
    }                                                                                              \
  } while (0)

#define CHECK_EQ(a, b)                                                                             \
  do {                                                                                             \
    long long va_ = (long long)(a), vb_ = (long long)(b);                                          \
    if (va_ != vb_) {                                                                              \
      fprintf(stderr, "%s:%d: [%s] check failed: %s == %s (%lld != %lld)\n", __FILE__, __LINE__,   \
              test_current, #a, #b, va_, vb_);                                                     \
      test_failed_checks++;                                                                        \
    }                                                                                              \
  } while (0)

#define CHECK_STR(a, b)                                                                            \
  do {                                                                                             \
    const char *sa_ = (a), *sb_ = (b);                                                             \
    if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) {                                                   \
      fprintf(stderr, "%s:%d: [%s] check failed: %s == \"%s\" (got \"%s\")\n", __FILE__, __LINE__, \
              test_current, #a, sb_ ? sb_ : "(null)", sa_ ? sa_ : "(null)");                       \
      test_failed_checks++;                                                                        \
    }                                                                                              \
  } while (0)

#define RUN(fn)                                                                                    \
  do {                                                                                             \
    int before_ = test_failed_checks;                                                              \
    test_current = #fn;                                                                            \
    fn();                                                                                          \
    if (test_failed_checks == before_) {                                                           \
      test_passed_count++;                                                                         \
      printf("ok   %s\n", #fn);                                                                    \
    } else {                                                                                       \
      test_failed_count++;                                                                         \
      printf("FAIL %s\n", #fn);                                                                    \
    }                                                                                              \
    fflush(stdout);                                                                                \
  } while (0)

static inline int test_report(void) {
  printf("%d passed, %d failed\n", test_passed_count, test_failed_count);
  return test_failed_count ? 1 : 0;
}

#endif
