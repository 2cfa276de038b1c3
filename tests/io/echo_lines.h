/* echo_lines.h - a line echo server's handler and a client's three checked
 * round trips over it, shared by the fault walks (tests/io/test_fault*.c). */
#ifndef CIO_TEST_ECHO_LINES_H
#define CIO_TEST_ECHO_LINES_H

#include <cio/stream.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int echo_handler(cio_stream *s, void *arg) {
  (void)arg;
  char line[128];
  for (;;) {
    ssize_t n = cio_stream_readline(s, line, sizeof line);
    if (n <= 0) return (int)n;
    int r = cio_stream_write(s, line, (size_t)n);
    if (r == 0) r = cio_stream_drain(s);
    if (r < 0) return r;
  }
}

/* 0, or the first error; -EPROTO if an echo came back wrong. */
static int exchange(cio_stream *s) {
  for (int k = 0; k < 3; k++) {
    char msg[64], got[64];
    int n = snprintf(msg, sizeof msg, "line %d of a round trip\n", k);
    int r = cio_stream_write(s, msg, (size_t)n);
    if (r == 0) r = cio_stream_drain(s);
    if (r < 0) return r;
    ssize_t g = cio_stream_readline(s, got, sizeof got);
    if (g < 0) return (int)g;
    if (g == 0) return -EPIPE;
    if (g != n || memcmp(got, msg, (size_t)n) != 0) return -EPROTO;
  }
  return 0;
}

#endif
