/* bench.h - helpers shared by the bench_*.c programs.
 *
 * Every benchmark program prints one JSON object per line:
 *   {"bench": "switch", "impl": "cio", "metric": "per_switch", "value": 12.3,
 *    "unit": "ns", "n": 10000000, ...}
 * and accepts:
 *   -n N   operations per repetition (what per-op metrics divide by);
 *   -r R   repetitions, the best one is reported.
 * CIO_BENCH_SCALE (bench/run --quick) scales the default N. bench/run's
 * --callgrind mode runs a program at -n N and -n 2N with -r 1 and divides the
 * difference in instructions by N, so N must be the op count.
 */
#ifndef CIO_BENCH_H
#define CIO_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#include "cio.h"

typedef struct bench_args {
  long n;
  int reps;
} bench_args;

static inline long bench_scaled(long n) {
  const char *s = getenv("CIO_BENCH_SCALE");
  double f = s ? atof(s) : 1.0;
  long m;
  if (f <= 0) return n;
  m = (long)((double)n * f);
  return m > 0 ? m : 1;
}

/* Defaults, then -n/-r from the command line. Exits on bad usage. */
static inline bench_args bench_parse(int argc, char **argv, long n, int reps) {
  bench_args a = {bench_scaled(n), reps};
  int c;
  while ((c = getopt(argc, argv, "n:r:")) != -1) {
    if (c == 'n') {
      a.n = atol(optarg);
    } else if (c == 'r') {
      a.reps = atoi(optarg);
    } else {
      fprintf(stderr, "usage: %s [-n ops] [-r repetitions]\n", argv[0]);
      exit(2);
    }
  }
  if (a.n < 1 || a.reps < 1) {
    fprintf(stderr, "%s: -n and -r must be >= 1\n", argv[0]);
    exit(2);
  }
  return a;
}

static inline int64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* extra: more JSON members, e.g. "\"best_of\": 5", or NULL. */
static inline void bench_emit(const char *bench, const char *metric, double value, const char *unit,
                              long n, const char *extra) {
  printf("{\"bench\": \"%s\", \"impl\": \"cio\", \"metric\": \"%s\", "
         "\"value\": %.3f, \"unit\": \"%s\", \"n\": %ld%s%s}\n",
         bench, metric, value, unit, n, extra ? ", " : "", extra ? extra : "");
  fflush(stdout);
}

static inline void bench_emit_best(const char *bench, const char *metric, double value,
                                   const char *unit, long n, int reps) {
  char extra[32];
  snprintf(extra, sizeof extra, "\"best_of\": %d", reps);
  bench_emit(bench, metric, value, unit, n, extra);
}

/* Resident set size now (bytes), from /proc/self/statm; -1 if unreadable. */
static inline double bench_rss_bytes(void) {
  long size = 0, resident = -1;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f) return -1;
  if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
  fclose(f);
  return resident < 0 ? -1 : (double)resident * (double)sysconf(_SC_PAGESIZE);
}

/* A "Key:   123 kB" field of /proc/self/status, in bytes; -1 if absent.
 * VmPTE matters for stackful tasks: sparse stacks cost page tables, which
 * RSS does not count. */
static inline double bench_status_bytes(const char *key) {
  char line[256];
  size_t len = strlen(key);
  double v = -1;
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, key, len) == 0 && line[len] == ':') v = atof(line + len + 1) * 1024.0;
  fclose(f);
  return v;
}

/* Peak resident set size of the process so far (bytes). */
static inline double bench_peak_rss_bytes(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
  return (double)ru.ru_maxrss * 1024.0;
}

/* CPU time (user + system) the process has used so far, in seconds. */
static inline double bench_cpu_s(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Abort the benchmark with a message: a failed cio call makes the figure
 * meaningless, and bench/run reports the non-zero exit. */
static inline void bench_check(int ok, const char *what, int code) {
  if (!ok) {
    fprintf(stderr, "bench: %s failed: %s\n", what, cio_strerror(code));
    exit(1);
  }
}

#endif
