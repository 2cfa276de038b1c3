/* redis_test.h - helpers shared by the redis layer's tests. Include after
 * test.h and test_loop.h.
 *
 * The server is the private redis-server the CTest fixture started
 * (tests/redis/redis-server.sh); its directory comes in CIO_TEST_REDIS_DIR.
 * Without it (redis-server not installed) a test exits 77: skipped. Tests
 * run in parallel against that one server, so each names its keys with
 * test_key() (the process id is in them) and never flushes the database.
 */
#ifndef CIO_REDIS_TEST_H
#define CIO_REDIS_TEST_H

#include <cio/net.h>
#include <cio/redis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static TEST_UNUSED int test_redis_port(void) {
  const char *dir = getenv("CIO_TEST_REDIS_DIR");
  char path[512];
  int port = 0;
  if (dir) {
    snprintf(path, sizeof path, "%s/port", dir);
    FILE *f = fopen(path, "r");
    if (f) {
      if (fscanf(f, "%d", &port) != 1) port = 0;
      fclose(f);
    }
  }
  if (port <= 0) {
    printf("SKIP: no redis-server (CIO_TEST_REDIS_DIR/port missing; run through ctest)\n");
    exit(77);
  }
  return port;
}

/* "redis://127.0.0.1:PORT" + suffix ("/3", ...). */
static TEST_UNUSED const char *test_redis_url(const char *suffix) {
  static char url[256];
  snprintf(url, sizeof url, "redis://127.0.0.1:%d%s", test_redis_port(), suffix ? suffix : "");
  return url;
}

static TEST_UNUSED const char *test_redis_socket(void) {
  static char path[512];
  test_redis_port();
  snprintf(path, sizeof path, "%s/sock", getenv("CIO_TEST_REDIS_DIR"));
  return path;
}

/* A key of this test process: "cio-test:<pid>:<name>". */
static TEST_UNUSED const char *test_key(char *buf, size_t cap, const char *name) {
  snprintf(buf, cap, "cio-test:%ld:%s", (long)getpid(), name);
  return buf;
}

/* Open a connection to the test server or fail the check. */
static TEST_UNUSED cio_redis *test_open(const cio_redis_opts *o) {
  cio_redis *c = NULL;
  int r = cio_redis_open(test_redis_url(NULL), o, &c);
  if (r < 0) fprintf(stderr, "open: %s (%s)\n", cio_strerror(r), cio_redis_last_error());
  CHECK_EQ(r, 0);
  return c;
}

/* The server's CLIENT ID for c. */
static TEST_UNUSED long long test_client_id(cio_redis *c) {
  cio_redis_reply *r;
  long long id = -1;
  if (cio_redis_commandf(c, &r, "CLIENT ID") == 0) id = r->integer;
  cio_redis_reply_free(r);
  return id;
}

/* Sleeps until c has n replies outstanding (at most 10 s: a condition, not
 * a timing). */
static TEST_UNUSED void test_wait_pending(cio_redis *c, size_t n) {
  for (int i = 0; i < 10000 && cio_redis_pending(c) != n; i++) cio_sleep(0.001);
  CHECK_EQ(cio_redis_pending(c), n);
}

#endif
