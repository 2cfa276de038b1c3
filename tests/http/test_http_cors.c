/* test_http_cors.c - CORS as Starlette's CORSMiddleware answers: requests
 * without Origin untouched; preflights answered without reaching a route
 * (allowed: 200 "OK"; refused: 400 "Disallowed CORS ..."), with the same
 * headers in the same order; simple requests with Allow-Origin "*" or the
 * mirrored origin plus Vary, credentials, exposed headers, cookies, error
 * answers included; origins by list and by regex. */
#include "test.h"
#include "test_loop.h"

#include "http_test.h"

static resp R;
static int route_calls;

static int hello(cio_http_req *req, cio_http_res *res, void *arg) {
  route_calls++;
  cio_http_res_header(res, "Vary", "Accept-Encoding");
  cio_http_res_header(res, "Access-Control-Allow-Origin", "http://route-set.example");
  return cio_http_res_text(res, 200, "hi");
}

static int options_route(cio_http_req *req, cio_http_res *res, void *arg) {
  route_calls++;
  return cio_http_res_text(res, 200, "options route");
}

static cio_http_server *serve(const cio_http_cors_opts *o, cio_http_app **app, int *port) {
  *app = cio_http_app_new(NULL);
  CHECK_EQ(cio_http_app_cors(*app, o), 0);
  cio_http_app_get(*app, "/", hello, NULL);
  cio_http_app_route(*app, "OPTIONS", "/opt", options_route, NULL);
  cio_http_server *s = NULL;
  CHECK_EQ(cio_http_server_open(*app, NULL, &s), 0);
  *port = cio_http_server_port(s);
  return s;
}

static void unserve(cio_http_server *s, cio_http_app *app) {
  CHECK_EQ(cio_http_server_close(s, 1), 0);
  cio_http_server_free(s);
  cio_http_app_free(app);
}

/* The names of the Access-Control / Vary headers of R, in order. */
static const char *cors_order(void) {
  static char out[512];
  out[0] = '\0';
  for (const char *p = strstr(R.head, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n")) {
    const char *line = p + 2, *colon = strchr(line, ':');
    if (strncasecmp(line, "access-control-", 15) == 0 || strncasecmp(line, "vary", 4) == 0)
      snprintf(out + strlen(out), sizeof out - strlen(out), "%.*s;", (int)(colon - line), line);
  }
  return out;
}

LOOP_TEST(test_allow_all) {
  /* the seed's: allow_origins=["*"], allow_methods=["*"], allow_headers=["*"] */
  cio_http_cors_opts o = {.allow_origins = "*", .allow_methods = "*", .allow_headers = "*"};
  cio_http_app *app;
  int port;
  cio_http_server *s = serve(&o, &app, &port);
  route_calls = 0;
  CHECK_EQ(get(port, "/", &R), 0);
  CHECK(resp_header(&R, "access-control-allow-origin") &&
        strcmp(resp_header(&R, "access-control-allow-origin"), "http://route-set.example") == 0);
  route_calls = 0;
  CHECK_EQ(roundtrip(port,
                     "OPTIONS / HTTP/1.1\r\nHost: t\r\nOrigin: http://a.test\r\n"
                     "Access-Control-Request-Method: PUT\r\n"
                     "Access-Control-Request-Headers: X-Custom, Content-Type\r\n\r\n",
                     &R),
           0);
  CHECK_EQ(R.status, 200);
  CHECK_STR(body_str(&R), "OK");
  CHECK_STR(resp_header(&R, "content-type"), "text/plain; charset=utf-8");
  CHECK_STR(resp_header(&R, "access-control-allow-origin"), "*");
  CHECK_STR(resp_header(&R, "access-control-allow-methods"),
            "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT");
  CHECK_STR(resp_header(&R, "access-control-max-age"), "600");
  CHECK_STR(resp_header(&R, "access-control-allow-headers"), "X-Custom, Content-Type");
  CHECK_STR(cors_order(), "Access-Control-Allow-Origin;Access-Control-Allow-Methods;"
                          "Access-Control-Max-Age;Access-Control-Allow-Headers;");
  CHECK_EQ(route_calls, 0); /* the route never saw the preflight */
  /* a simple request: "*", replacing what the route set */
  CHECK_EQ(roundtrip(port, "GET / HTTP/1.1\r\nHost: t\r\nOrigin: http://a.test\r\n\r\n", &R), 0);
  CHECK_STR(resp_header(&R, "access-control-allow-origin"), "*");
  CHECK_EQ(resp_header_count(&R, "access-control-allow-origin"), 1);
  /* with a cookie: the exact origin, and Vary */
  CHECK_EQ(roundtrip(port,
                     "GET / HTTP/1.1\r\nHost: t\r\nOrigin: http://a.test\r\nCookie: x=1\r\n\r\n",
                     &R),
           0);
  CHECK_STR(resp_header(&R, "access-control-allow-origin"), "http://a.test");
  CHECK(strstr(R.head, "Origin\r\n") != NULL); /* Vary: Origin */
  /* errors carry the headers too */
  CHECK_EQ(roundtrip(port, "GET /nope HTTP/1.1\r\nHost: t\r\nOrigin: http://a.test\r\n\r\n", &R),
           0);
  CHECK_EQ(R.status, 404);
  CHECK_STR(resp_header(&R, "access-control-allow-origin"), "*");
  /* OPTIONS without Access-Control-Request-Method is no preflight */
  route_calls = 0;
  CHECK_EQ(roundtrip(port, "OPTIONS /opt HTTP/1.1\r\nHost: t\r\nOrigin: http://a.test\r\n\r\n", &R),
           0);
  CHECK_STR(body_str(&R), "options route");
  CHECK_EQ(route_calls, 1);
  unserve(s, app);
  return 0;
}

LOOP_TEST(test_listed_origins) {
  cio_http_cors_opts o = {.allow_origins = "http://a.test, https://b.test",
                          .allow_origin_regex = "https://.*\\.example\\.org",
                          .allow_methods = "GET,POST",
                          .allow_headers = "X-Token",
                          .allow_credentials = 1,
                          .expose_headers = "X-Total, X-Page",
                          .max_age = 42};
  cio_http_app *app;
  int port;
  cio_http_server *s = serve(&o, &app, &port);
  CHECK_EQ(roundtrip(port,
                     "OPTIONS / HTTP/1.1\r\nHost: t\r\nOrigin: https://b.test\r\n"
                     "Access-Control-Request-Method: POST\r\n"
                     "Access-Control-Request-Headers: x-token, accept\r\n\r\n",
                     &R),
           0);
  CHECK_EQ(R.status, 200);
  CHECK_STR(resp_header(&R, "access-control-allow-origin"), "https://b.test");
  CHECK_STR(resp_header(&R, "vary"), "Origin");
  CHECK_STR(resp_header(&R, "access-control-allow-methods"), "GET, POST");
  CHECK_STR(resp_header(&R, "access-control-max-age"), "42");
  CHECK_STR(resp_header(&R, "access-control-allow-headers"),
            "Accept, Accept-Language, Content-Language, Content-Type, X-Token");
  CHECK_STR(resp_header(&R, "access-control-allow-credentials"), "true");
  CHECK_STR(cors_order(), "Vary;Access-Control-Allow-Methods;Access-Control-Max-Age;"
                          "Access-Control-Allow-Headers;Access-Control-Allow-Credentials;"
                          "Access-Control-Allow-Origin;");
  /* refused: says what */
  CHECK_EQ(roundtrip(port,
                     "OPTIONS / HTTP/1.1\r\nHost: t\r\nOrigin: http://evil.test\r\n"
                     "Access-Control-Request-Method: DELETE\r\n"
                     "Access-Control-Request-Headers: x-other\r\n\r\n",
                     &R),
           0);
  CHECK_EQ(R.status, 400);
  CHECK_STR(body_str(&R), "Disallowed CORS origin, method, headers");
  CHECK(resp_header(&R, "access-control-allow-origin") == NULL);
  /* regex origins */
  CHECK_EQ(roundtrip(port,
                     "OPTIONS / HTTP/1.1\r\nHost: t\r\nOrigin: https://x.example.org\r\n"
                     "Access-Control-Request-Method: GET\r\n\r\n",
                     &R),
           0);
  CHECK_EQ(R.status, 200);
  CHECK_EQ(roundtrip(port,
                     "OPTIONS / HTTP/1.1\r\nHost: t\r\nOrigin: https://x.example.org.evil\r\n"
                     "Access-Control-Request-Method: GET\r\n\r\n",
                     &R),
           0);
  CHECK_EQ(R.status, 400);
  CHECK_STR(body_str(&R), "Disallowed CORS origin");
  /* simple requests: mirrored, Vary appended to the route's */
  CHECK_EQ(roundtrip(port, "GET / HTTP/1.1\r\nHost: t\r\nOrigin: http://a.test\r\n\r\n", &R), 0);
  CHECK_STR(resp_header(&R, "access-control-allow-origin"), "http://a.test");
  CHECK_STR(resp_header(&R, "access-control-allow-credentials"), "true");
  CHECK_STR(resp_header(&R, "access-control-expose-headers"), "X-Total, X-Page");
  CHECK(strstr(R.head, "Origin") != NULL && strstr(R.head, "Accept-Encoding") != NULL);
  /* not allowed: no Allow-Origin (the route's is replaced... by none) */
  CHECK_EQ(roundtrip(port, "GET / HTTP/1.1\r\nHost: t\r\nOrigin: http://evil.test\r\n\r\n", &R), 0);
  CHECK_EQ(R.status, 200);
  CHECK_STR(resp_header(&R, "access-control-allow-origin"), "http://route-set.example");
  /* no Origin: untouched */
  CHECK_EQ(get(port, "/", &R), 0);
  CHECK(resp_header(&R, "access-control-allow-credentials") == NULL);
  unserve(s, app);
  return 0;
}

static void test_bad_opts(void) {
  cio_http_app *app = cio_http_app_new(NULL);
  cio_http_cors_opts o = {.allow_origin_regex = "(unclosed"};
  CHECK_EQ(cio_http_app_cors(app, &o), -EINVAL);
  CHECK(cio_http_app_error(app) != NULL);
  CHECK_EQ(cio_http_app_cors(app, NULL), 0); /* defaults: nothing allowed but GET */
  cio_http_app_free(app);
}

int main(void) {
  RUN(test_allow_all);
  RUN(test_listed_origins);
  RUN(test_bad_opts);
  return test_report();
}
