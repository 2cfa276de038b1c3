/* 13_echo_server - the tutorial's echo server, and two clients talking to it at once.
 *
 * Ports tutorial 003 ("Chapter 4: coroutines"), section "high-concurrency
 * servers":
 *
 *   async def handle_client(reader, writer):
 *       addr = writer.get_extra_info('peername')
 *       print(f"客户端连接: {addr}")                  # "client connected"
 *       while True:
 *           data = await reader.read(100)             # at most 100 bytes
 *           if not data:
 *               break
 *           message = data.decode()
 *           print(f"收到: {message} 来自: {addr}")      # "received ... from"
 *           writer.write(f"服务器收到: {message}".encode())  # "server received"
 *           await writer.drain()
 *       print(f"客户端断开连接: {addr}")               # "client disconnected"
 *       writer.close()
 *
 *   async def main():
 *       server = await asyncio.start_server(handle_client, '127.0.0.1', 8888)
 *       addr = server.sockets[0].getsockname()
 *       print(f'服务器启动在 {addr}')                    # "server started on"
 *       async with server:
 *           await server.serve_forever()
 *
 * The tutorial's server runs until killed and leaves the clients to the
 * reader; here the same program also runs two clients (in the spirit of
 * tutorial 004's open_connection), which send three messages each, 0.2 s
 * apart, at the same time: the whole exchange takes ~0.4 s, not 1.2 s. Then
 * the server shuts down gracefully. Port 0 lets the system pick a free port.
 */
#include <cio.h>
#include <cio/net.h>
#include <stdio.h>
#include <string.h>

static int handle_client(cio_stream *s, void *arg) {
  char addr[64], data[100];
  if (cio_stream_peer_string(s, addr, sizeof addr) < 0) snprintf(addr, sizeof addr, "?");
  printf("客户端连接: %s\n", addr);
  for (;;) {
    ssize_t n = cio_stream_read(s, data, sizeof data);
    if (n < 0) return (int)n; /* cancelled, or the peer reset the connection */
    if (n == 0) break;
    printf("收到: %.*s 来自: %s\n", (int)n, data, addr);
    char reply[160];
    int len = snprintf(reply, sizeof reply, "服务器收到: %.*s", (int)n, data);
    int r = cio_stream_write(s, reply, (size_t)len);
    if (r == 0) r = cio_stream_drain(s);
    if (r < 0) return r;
  }
  printf("客户端断开连接: %s\n", addr);
  return 0; /* the server closes the stream when the handler returns */
}

struct client {
  const char *name;
  int port;
  const char *messages[3];
};

static int client(void *arg) {
  struct client *c = arg;
  cio_stream *s;
  int r = cio_open_connection("127.0.0.1", c->port, NULL, &s);
  if (r < 0) return r;
  for (int i = 0; i < 3 && r >= 0; i++) {
    char reply[200];
    if (i > 0 && (r = cio_sleep(0.2)) < 0) break;
    r = cio_stream_write(s, c->messages[i], strlen(c->messages[i]));
    if (r == 0) r = cio_stream_drain(s);
    ssize_t n = r < 0 ? r : cio_stream_read(s, reply, sizeof reply);
    if (n > 0)
      printf("%s got: %.*s\n", c->name, (int)n, reply);
    else
      r = n == 0 ? -ECONNRESET : (int)n;
  }
  cio_stream_close(s);
  int rc = cio_stream_wait_closed(s);
  cio_stream_free(s);
  return r < 0 ? r : rc;
}

static int main_task(void *arg) {
  cio_server *server;
  int r = cio_start_server("127.0.0.1", 0, handle_client, NULL, NULL, &server);
  if (r < 0) return r;
  int port = cio_server_port(server);
  printf("服务器启动在 ('127.0.0.1', %d)\n", port);

  struct client alice = {"alice", port, {"hello", "how are you?", "bye"}};
  struct client bob = {"bob", port, {"hi", "nice day", "see you"}};
  cio_task *a = cio_spawn(client, &alice);
  cio_task *b = cio_spawn(client, &bob);
  int ra = a ? cio_await(a) : -errno;
  int rb = b ? cio_await(b) : -errno;
  cio_task_release(a);
  cio_task_release(b);

  /* Stop accepting; handlers finish on their own (they see EOF) within 1 s. */
  r = cio_server_close(server, 1.0);
  cio_server_free(server);
  if (ra < 0 || rb < 0) fprintf(stderr, "client: %s\n", cio_strerror(ra < 0 ? ra : rb));
  return ra < 0 ? ra : rb < 0 ? rb : r;
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
