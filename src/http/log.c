/* log.c - loguru-style leveled log lines. */
#include "cio/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 8192

static atomic_int threshold = -1; /* -1: not read from the environment yet */
static atomic_int colour = -1;
static cio_log_sink sink_fn;
static void *sink_arg;
static pthread_mutex_t sink_mu = PTHREAD_MUTEX_INITIALIZER;

static const struct {
  const char *name;
  int level;
  const char *colour; /* loguru's */
} levels[] = {
    {"TRACE", CIO_LOG_TRACE, "\033[1;36m"},
    {"DEBUG", CIO_LOG_DEBUG, "\033[1;34m"},
    {"INFO", CIO_LOG_INFO, "\033[1m"},
    {"SUCCESS", CIO_LOG_SUCCESS, "\033[1;32m"},
    {"WARNING", CIO_LOG_WARNING, "\033[1;33m"},
    {"ERROR", CIO_LOG_ERROR, "\033[1;31m"},
    {"CRITICAL", CIO_LOG_CRITICAL, "\033[1;41m"},
};
#define NLEVELS (sizeof levels / sizeof levels[0])

static int level_from_env(void) {
  const char *e = getenv("CIO_LOG_LEVEL");
  if (!e || !*e) return CIO_LOG_INFO;
  if (strcasecmp(e, "OFF") == 0) return CIO_LOG_OFF;
  for (size_t i = 0; i < NLEVELS; i++)
    if (strcasecmp(e, levels[i].name) == 0) return levels[i].level;
  char *end;
  long v = strtol(e, &end, 10);
  return *end == '\0' ? (int)v : CIO_LOG_INFO;
}

void cio_log_set_level(int level) { atomic_store(&threshold, level); }

int cio_log_get_level(void) {
  int t = atomic_load_explicit(&threshold, memory_order_relaxed);
  if (t < 0) {
    t = level_from_env();
    atomic_store(&threshold, t);
  }
  return t;
}

int cio_log_enabled(int level) { return level >= cio_log_get_level(); }

void cio_log_set_sink(cio_log_sink fn, void *arg) {
  pthread_mutex_lock(&sink_mu);
  sink_fn = fn;
  sink_arg = arg;
  pthread_mutex_unlock(&sink_mu);
}

static int use_colour(void) {
  int c = atomic_load_explicit(&colour, memory_order_relaxed);
  if (c < 0) {
    c = isatty(2) && !getenv("NO_COLOR");
    atomic_store(&colour, c);
  }
  return c;
}

/* "src/app/main.c" -> "main" */
static void base_name(const char *file, const char **p, int *n) {
  const char *b = strrchr(file, '/');
  b = b ? b + 1 : file;
  const char *dot = strrchr(b, '.');
  *p = b;
  *n = dot ? (int)(dot - b) : (int)strlen(b);
}

void cio_log_write(int level, const char *file, const char *func, int line, const char *fmt, ...) {
  char buf[LINE_MAX_BYTES];
  const char *lname = "LEVEL", *lcol = "";
  for (size_t i = 0; i < NLEVELS; i++)
    if (levels[i].level == level) {
      lname = levels[i].name;
      lcol = levels[i].colour;
    }
  struct timeval tv;
  gettimeofday(&tv, NULL);
  struct tm tm;
  time_t secs = tv.tv_sec;
  localtime_r(&secs, &tm);
  const char *bn;
  int bl;
  base_name(file ? file : "?", &bn, &bl);
  int c = sink_fn ? 0 : use_colour();
  int n =
      snprintf(buf, sizeof buf,
               "%s%04d-%02d-%02d %02d:%02d:%02d.%03d%s | %s%-8s%s | %s%.*s%s:%s%s%s:%s%d%s - %s",
               c ? "\033[32m" : "", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
               tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000), c ? "\033[0m" : "", c ? lcol : "",
               lname, c ? "\033[0m" : "", c ? "\033[36m" : "", bl, bn, c ? "\033[0m" : "",
               c ? "\033[36m" : "", func ? func : "?", c ? "\033[0m" : "", c ? "\033[36m" : "",
               line, c ? "\033[0m" : "", c ? lcol : "");
  if (n < 0) return;
  size_t len = (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(buf + len, sizeof buf - len, fmt, ap);
  va_end(ap);
  if (m > 0) len += (size_t)m < sizeof buf - len ? (size_t)m : sizeof buf - len - 1;
  const char *tail = c ? "\033[0m\n" : "\n";
  size_t tl = strlen(tail);
  if (len + tl > sizeof buf) len = sizeof buf - tl;
  memcpy(buf + len, tail, tl);
  len += tl;
  pthread_mutex_lock(&sink_mu);
  cio_log_sink fn = sink_fn;
  void *arg = sink_arg;
  pthread_mutex_unlock(&sink_mu);
  if (fn) {
    fn(arg, buf, len);
    return;
  }
  int saved = errno;
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(2, buf + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += (size_t)w;
  }
  errno = saved;
}
