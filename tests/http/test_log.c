/* test_log.c - loguru-style lines: the format (time, level padded to 8,
 * file:function:line, message), thresholds (set, from CIO_LOG_LEVEL by name
 * or number, OFF), arguments not evaluated below the threshold, long
 * messages cut, one sink call per line, concurrent threads never mixing
 * lines. */
/* cio-test-labels: threads */
#include "test.h"

#include <cio/log.h>

#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

static char lines[64][9000];
static int nlines;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void sink(void *arg, const char *line, size_t len) {
  (void)arg;
  pthread_mutex_lock(&mu);
  if (nlines < 64 && len < sizeof lines[0]) {
    memcpy(lines[nlines], line, len);
    lines[nlines][len] = '\0';
  }
  nlines++;
  pthread_mutex_unlock(&mu);
}

static int evaluated;
static int side_effect(void) { return ++evaluated; }

static void test_format(void) {
  nlines = 0;
  cio_log_set_sink(sink, NULL);
  cio_log_set_level(CIO_LOG_INFO);
  cio_log_info("数据库连接池已启动 %d", 42);
  CHECK_EQ(nlines, 1);
  regex_t re;
  CHECK_EQ(
      regcomp(&re,
              "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} \\| INFO     \\| "
              "test_log:test_format:[0-9]+ - 数据库连接池已启动 42\n$",
              REG_EXTENDED | REG_NOSUB),
      0);
  if (regexec(&re, lines[0], 0, NULL, 0) != 0) fprintf(stderr, "line: %s", lines[0]);
  CHECK_EQ(regexec(&re, lines[0], 0, NULL, 0), 0);
  regfree(&re);
  cio_log_warning("w");
  CHECK(strstr(lines[1], "| WARNING  |") != NULL);
  cio_log_success("s");
  CHECK(strstr(lines[2], "| SUCCESS  |") != NULL);
  cio_log_critical("c");
  CHECK(strstr(lines[3], "| CRITICAL |") != NULL);
  cio_log_set_sink(NULL, NULL);
}

static void test_levels(void) {
  nlines = 0;
  cio_log_set_sink(sink, NULL);
  cio_log_set_level(CIO_LOG_WARNING);
  evaluated = 0;
  cio_log_info("hidden %d", side_effect());
  cio_log_debug("hidden %d", side_effect());
  CHECK_EQ(evaluated, 0); /* arguments not even evaluated */
  CHECK_EQ(nlines, 0);
  CHECK(!cio_log_enabled(CIO_LOG_INFO));
  CHECK(cio_log_enabled(CIO_LOG_ERROR));
  cio_log_error("shown %d", side_effect());
  CHECK_EQ(evaluated, 1);
  CHECK_EQ(nlines, 1);
  cio_log_set_level(CIO_LOG_OFF);
  cio_log_critical("nothing");
  CHECK_EQ(nlines, 1);
  cio_log_set_level(CIO_LOG_TRACE);
  cio_log_trace("t");
  CHECK_EQ(nlines, 2);
  CHECK_EQ(cio_log_get_level(), CIO_LOG_TRACE);
  cio_log_set_sink(NULL, NULL);
}

static void test_long_line(void) {
  nlines = 0;
  cio_log_set_sink(sink, NULL);
  cio_log_set_level(CIO_LOG_INFO);
  char *big = malloc(20000);
  memset(big, 'x', 19999);
  big[19999] = '\0';
  cio_log_info("%s", big);
  free(big);
  CHECK_EQ(nlines, 1);
  size_t len = strlen(lines[0]);
  CHECK(len <= 8192 && len > 8000);
  CHECK(lines[0][len - 1] == '\n');
  cio_log_set_sink(NULL, NULL);
}

static void *logger(void *arg) {
  for (int i = 0; i < 200; i++) cio_log_info("thread %ld line %d", (long)(intptr_t)arg, i);
  return NULL;
}

static void test_threads(void) {
  nlines = 0;
  cio_log_set_sink(sink, NULL);
  pthread_t t[4];
  for (long i = 0; i < 4; i++) pthread_create(&t[i], NULL, logger, (void *)(intptr_t)i);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  CHECK_EQ(nlines, 800);
  for (int i = 0; i < 64; i++) CHECK(strchr(lines[i], '\n') == lines[i] + strlen(lines[i]) - 1);
  cio_log_set_sink(NULL, NULL);
}

int main(void) {
  /* the environment decides the first threshold */
  setenv("CIO_LOG_LEVEL", "error", 1);
  CHECK_EQ(cio_log_get_level(), CIO_LOG_ERROR);
  RUN(test_format);
  RUN(test_levels);
  RUN(test_long_line);
  RUN(test_threads);
  return test_report();
}
