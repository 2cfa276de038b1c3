/* echo_libuv - the echo server in plain libuv C (Debian libuv1-dev), as a
 * libuv user would write it.
 *
 *   echo_libuv            listens on 127.0.0.1, any port; prints "port N"
 *
 * Each connection reads into its own buffer; the echo goes out with
 * uv_try_write, and only what the socket does not take at once is copied
 * into a uv_write request (reading paused until it completes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define BUF_SIZE 16384

struct conn {
  uv_tcp_t tcp;
  char buf[BUF_SIZE];
};

struct pending {
  uv_write_t req;
  struct conn *conn;
  char data[];
};

static uv_loop_t *loop;

static void on_close(uv_handle_t *h) { free(h); /* tcp is the first member of struct conn */ }

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  struct conn *c = (struct conn *)h;
  (void)hint;
  *buf = uv_buf_init(c->buf, BUF_SIZE);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void on_written(uv_write_t *req, int status) {
  struct pending *p = (struct pending *)req;
  struct conn *c = p->conn;
  free(p);
  if (status < 0)
    uv_close((uv_handle_t *)&c->tcp, on_close);
  else
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  struct conn *c = (struct conn *)s;
  if (n < 0) {
    uv_close((uv_handle_t *)s, on_close);
    return;
  }
  if (n == 0) return;
  uv_buf_t out = uv_buf_init(buf->base, (unsigned)n);
  int w = uv_try_write(s, &out, 1);
  if (w == n) return;
  if (w < 0 && w != UV_EAGAIN) {
    uv_close((uv_handle_t *)s, on_close);
    return;
  }
  if (w < 0) w = 0;
  size_t rest = (size_t)(n - w);
  struct pending *p = malloc(sizeof *p + rest);
  if (!p) {
    uv_close((uv_handle_t *)s, on_close);
    return;
  }
  p->conn = c;
  memcpy(p->data, buf->base + w, rest);
  out = uv_buf_init(p->data, (unsigned)rest);
  uv_read_stop(s);
  if (uv_write(&p->req, s, &out, 1, on_written) < 0) {
    free(p);
    uv_close((uv_handle_t *)s, on_close);
  }
}

static void on_connection(uv_stream_t *server, int status) {
  if (status < 0) return;
  struct conn *c = malloc(sizeof *c);
  if (!c) return;
  uv_tcp_init(loop, &c->tcp);
  if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
    uv_close((uv_handle_t *)&c->tcp, on_close);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

int main(void) {
  uv_tcp_t server;
  struct sockaddr_in addr;
  struct sockaddr_storage bound;
  int len = sizeof bound, r;
  loop = uv_default_loop();
  uv_ip4_addr("127.0.0.1", 0, &addr);
  uv_tcp_init(loop, &server);
  if ((r = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0)) < 0 ||
      (r = uv_listen((uv_stream_t *)&server, 4096, on_connection)) < 0 ||
      (r = uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &len)) < 0) {
    fprintf(stderr, "echo_libuv: %s\n", uv_strerror(r));
    return 1;
  }
  printf("port %d\n", ntohs(((struct sockaddr_in *)&bound)->sin_port));
  fflush(stdout);
  return uv_run(loop, UV_RUN_DEFAULT);
}
