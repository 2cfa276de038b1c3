/* 14_open_connection - an open_connection client: HTTP/1.0 GET, headers and body line by line.
 *
 * Tutorial 004 ("Python coroutines: an introduction") notes that socket I/O
 * blocks a coroutine unless the socket comes from asyncio.open_connection().
 * This is asyncio's documentation example for it, "print HTTP headers":
 *
 *   async def print_http_headers(host, port, path):
 *       reader, writer = await asyncio.open_connection(host, port)
 *       query = f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n"
 *       writer.write(query.encode('latin-1'))
 *       while True:
 *           line = await reader.readline()
 *           if not line:
 *               break
 *           line = line.decode('latin1').rstrip()
 *           if line:
 *               print(f'HTTP header> {line}')
 *       writer.close()
 *       await writer.wait_closed()
 *
 * The tour has no network, so the program first starts a tiny HTTP/1.0
 * responder on 127.0.0.1 (any port) and fetches from it by the name
 * "localhost": the name is resolved without blocking, and every address it
 * has is tried in turn (::1 may refuse; 127.0.0.1 answers). The body is
 * printed too. Last, a connection to the port after the server has closed
 * fails with "Connection refused", as a status code.
 */
#include <cio.h>
#include <cio/net.h>
#include <stdio.h>
#include <string.h>

static const char body[] = "Hello from cio!\nThis page was served by a task.\n";

/* The responder: read the request line and headers, answer, close. */
static int http_handler(cio_stream *s, void *arg) {
  char line[1024];
  ssize_t n;
  do { /* up to the blank line that ends the headers */
    n = cio_stream_readline(s, line, sizeof line);
    if (n < 0) return (int)n;
  } while (n > 2);
  char head[256];
  int len = snprintf(head, sizeof head,
                     "HTTP/1.0 200 OK\r\nServer: cio-tour\r\n"
                     "Content-Type: text/plain\r\nContent-Length: %zu\r\n\r\n",
                     strlen(body));
  int r = cio_stream_write(s, head, (size_t)len);
  if (r == 0) r = cio_stream_write(s, body, strlen(body));
  if (r == 0) r = cio_stream_flush(s); /* the stream is freed when we return */
  return r;
}

static int print_http_headers(const char *host, int port, const char *path) {
  cio_stream *s;
  char buf[1024], peer[80];
  int r = cio_open_connection(host, port, NULL, &s);
  if (r < 0) return r;
  if (cio_stream_peer_string(s, peer, sizeof peer) == 0)
    printf("connected to %s (%s)\n", peer, host);
  int len = snprintf(buf, sizeof buf, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, host);
  r = cio_stream_write(s, buf, (size_t)len);
  int in_body = 0;
  while (r == 0) {
    ssize_t n = cio_stream_readline(s, buf, sizeof buf);
    if (n <= 0) {
      r = (int)n;
      break;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) n--; /* rstrip */
    if (n == 0 && !in_body)
      in_body = 1; /* the blank line between headers and body */
    else if (n > 0)
      printf("%s> %.*s\n", in_body ? "body" : "HTTP header", (int)n, buf);
  }
  cio_stream_close(s);
  int rc = cio_stream_wait_closed(s);
  cio_stream_free(s);
  return r < 0 ? r : rc;
}

static int main_task(void *arg) {
  cio_server *server;
  int r = cio_start_server("127.0.0.1", 0, http_handler, NULL, NULL, &server);
  if (r < 0) return r;
  int port = cio_server_port(server);
  r = print_http_headers("localhost", port, "/");
  if (r < 0) printf("fetch failed: %s\n", cio_strerror(r));
  cio_server_close(server, 1.0);
  cio_server_free(server);

  /* Nobody listens there any more. */
  cio_stream *s;
  int refused = cio_open_connection("127.0.0.1", port, NULL, &s);
  if (refused == 0) cio_stream_free(s);
  printf("connecting again after the server closed: %s\n", cio_strerror(refused));
  return r;
}

int main(void) {
  int64_t start = cio_now_ns();
  int r = cio_run(main_task, NULL);
  if (r < 0) {
    fprintf(stderr, "main: %s\n", cio_strerror(r));
    return 1;
  }
  printf("elapsed: %.2f s\n", (double)(cio_now_ns() - start) / 1e9);
  return 0;
}
