/* clock.c - the monotonic clock and second/nanosecond conversions. */
#include "internal.h"

#include <time.h>

int64_t cio__clock_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t cio_now_ns(void) { return cio__clock_ns(); }

int64_t cio__deadline_in(double seconds) {
  int64_t ns = cio__sec_to_ns(seconds), now = cio__clock_ns();
  return ns >= CIO__NEVER - now ? CIO__NEVER : now + ns;
}

int64_t cio__sec_to_ns(double s) {
  if (!(s > 0)) return 0; /* also NaN */
  if (s >= 9.2e9) return CIO__NEVER;
  return (int64_t)(s * 1e9 + 0.5);
}
