/* hello_http.c - the http layer built against an INSTALLED cio (pkg-config
 * cio-http, or find_package(cio COMPONENTS http)): a route, a server on a
 * free port of 127.0.0.1, one request over TCP from a task of the same
 * program, and the JSON answer parsed with cio_json_parse (cJSON: the
 * layer's public dependency must resolve too). Prints a fixed transcript
 * that scripts/test compares. */
#include <cio.h>
#include <cio/http.h>
#include <cio/net.h>
#include <cjson/cJSON.h>

#include <stdio.h>
#include <string.h>

static int hello(cio_http_req *req, cio_http_res *res, void *arg) {
  (void)req;
  (void)arg;
  cio_json *j = cio_http_res_json(res, 200);
  cio_json_object(j);
  cio_json_key(j, "hello");
  cio_json_str(j, "world");
  return cio_json_object_end(j);
}

static int main_task(void *arg) {
  cio_http_app *app = arg;
  cio_http_server *srv;
  int r = cio_http_server_open(app, NULL, &srv);
  if (r < 0) return r;
  cio_stream *s;
  cio_connect_opts co = {.timeout = 5};
  r = cio_open_connection("127.0.0.1", cio_http_server_port(srv), &co, &s);
  char buf[1024];
  size_t got = 0;
  if (r == 0) {
    const char *req = "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    r = cio_stream_write(s, req, strlen(req));
    ssize_t n;
    while (r == 0 && (n = cio_stream_read(s, buf + got, sizeof buf - 1 - got)) > 0)
      got += (size_t)n;
    buf[got] = '\0';
    cio_stream_free(s);
  }
  cio_http_server_close(srv, 1);
  cio_http_server_free(srv);
  if (r < 0) return r;
  const char *body = strstr(buf, "\r\n\r\n");
  if (!body) return -EPROTO;
  body += 4;
  printf("GET /hello -> %.3s %s\n", buf + 9, body);
  cJSON *j;
  r = cio_json_parse(body, strlen(body), 0, &j, NULL);
  if (r < 0) return r;
  printf("json: %s\n", cJSON_GetObjectItemCaseSensitive(j, "hello")->valuestring);
  cJSON_Delete(j);
  return 0;
}

int main(void) {
  printf("hello from cio-http %s\n", cio_version());
  cio_http_app *app = cio_http_app_new(NULL);
  if (!app || cio_http_app_get(app, "/hello", hello, NULL) < 0) return 1;
  int r = cio_run(main_task, app);
  cio_http_app_free(app);
  printf("cio_run: %d\n", r);
  return r == 0 ? 0 : 1;
}
