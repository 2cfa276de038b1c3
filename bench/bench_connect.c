/* connect: connection setup rate against cio's echo server (connect, one
 * 64-byte echo, close, per connection), measured by bench/echo's load
 * generator. The same program as bench_echo.c, in connect mode. */
#define BENCH_ECHO_MODE "connect"
#include "bench_echo.c"
