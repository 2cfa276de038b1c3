/* test_http_router.c - routing as Starlette/FastAPI route: order, typed
 * parameters and their conversion (Python int()/float() rules, 422 bodies
 * byte for byte), 404 / 405 with Allow, HEAD on GET routes, mounts and the
 * path they see, redirect_slashes, percent-decoded paths, query and
 * parameter accessors, middleware order and short-circuits, configuration
 * errors. Every request goes over TCP to a server in the test's loop. */
#include "test.h"
#include "test_loop.h"

#include "http_test.h"

#include <cjson/cJSON.h>

/* A string literal as a handler arg. */
#define S(x) ((void *)(uintptr_t)(x))

static resp R;

/* Echo what the route saw, as JSON: the route's name, path, params. */
static int show(cio_http_req *req, cio_http_res *res, void *arg) {
  cio_json *j = cio_http_res_json(res, 200);
  cio_json_object(j);
  cio_json_key(j, "route");
  cio_json_str(j, arg);
  size_t pl;
  const char *p = cio_http_req_path(req, &pl);
  cio_json_key(j, "path");
  cio_json_str_n(j, p, pl);
  const char *mp = cio_http_req_mount_path(req, &pl);
  cio_json_key(j, "mount_path");
  cio_json_str_n(j, mp, pl);
  static const char *const names[] = {"item_id", "x", "u", "rest", "name", "a", "b"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    size_t vl;
    const char *v = cio_http_req_param(req, names[i], &vl);
    if (!v) continue;
    cio_json_key(j, names[i]);
    int64_t iv;
    double dv;
    int e = cio_http_req_param_int(req, names[i], &iv);
    if (e == 0)
      cio_json_int(j, iv);
    else if (e == -ERANGE)
      cio_json_raw(j, v, vl); /* Python's big int, as text */
    else if (cio_http_req_param_double(req, names[i], &dv) == 0)
      cio_json_double(j, dv);
    else
      cio_json_str_n(j, v, vl);
  }
  return cio_json_object_end(j);
}

static int fail_handler(cio_http_req *req, cio_http_res *res, void *arg) {
  cio_http_res_header(res, "X-Before-Fail", "1");
  return -EIO;
}

static cio_http_app *make_app(void) {
  cio_http_app *app = cio_http_app_new(NULL);
  CHECK(app != NULL);
  CHECK_EQ(cio_http_app_get(app, "/", show, S("root")), 0);
  CHECK_EQ(cio_http_app_get(app, "/items/{item_id:int}", show, S("item")), 0);
  CHECK_EQ(cio_http_app_post(app, "/items/{item_id:int}", show, S("item-post")), 0);
  CHECK_EQ(cio_http_app_get(app, "/f/{x:float}", show, S("float")), 0);
  CHECK_EQ(cio_http_app_get(app, "/u/{u:uuid}", show, S("uuid")), 0);
  CHECK_EQ(cio_http_app_get(app, "/files/{rest:path}", show, S("files")), 0);
  CHECK_EQ(cio_http_app_get(app, "/users/{name}/profile", show, S("profile")), 0);
  CHECK_EQ(cio_http_app_route(app, "GET,HEAD", "/two/{a:int}/{b:int}", show, S("two")), 0);
  CHECK_EQ(cio_http_app_get(app, "/dot/{name}.json", show, S("dot")), 0);
  CHECK_EQ(cio_http_app_route(app, "PUT, DELETE", "/multi", show, S("multi")), 0);
  CHECK_EQ(cio_http_app_route(app, "*", "/any", show, S("any")), 0);
  CHECK_EQ(cio_http_app_get(app, "/slash/", show, S("slash")), 0);
  CHECK_EQ(cio_http_app_get(app, "/fail", fail_handler, NULL), 0);
  CHECK_EQ(cio_http_app_mount(app, "/m", show, S("mount")), 0);
  return app;
}

struct srv {
  cio_http_server *s;
  int port;
};

static void start(cio_http_app *app, struct srv *s) {
  CHECK_EQ(cio_http_server_open(app, NULL, &s->s), 0);
  s->port = s->s ? cio_http_server_port(s->s) : 0;
}

static void stop(struct srv *s) {
  CHECK_EQ(cio_http_server_close(s->s, 1.0), 0);
  cio_http_server_free(s->s);
}

LOOP_TEST(test_routes_and_params) {
  cio_http_app *app = make_app();
  struct srv s;
  start(app, &s);
  CHECK_EQ(get(s.port, "/", &R), 0);
  CHECK_EQ(R.status, 200);
  CHECK_STR(body_str(&R), "{\"route\":\"root\",\"path\":\"/\",\"mount_path\":\"/\"}");
  /* int: Python int() rules, value normalized */
  static const struct {
    const char *path;
    const char *id;
  } ints[] = {
      {"/items/42", "42"},
      {"/items/007", "7"},
      {"/items/+5", "5"},
      {"/items/-0", "0"},
      {"/items/1_000", "1000"},
      {"/items/%20%209%20", "9"},          /* whitespace stripped */
      {"/items/%EF%BC%91%EF%BC%92", "12"}, /* full-width digits */
      {"/items/%D9%A3", "3"},              /* Arabic-Indic 3 */
      {"/items/%E3%80%807", "7"},          /* ideographic space */
      {"/items/-9223372036854775808", "-9223372036854775808"},
      {"/items/99999999999999999999999", "99999999999999999999999"}, /* beyond int64 */
  };
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
    CHECK_EQ(get(s.port, ints[i].path, &R), 0);
    CHECK_EQ(R.status, 200);
    char want[128];
    snprintf(want, sizeof want, "\"item_id\":%s}", ints[i].id);
    if (!strstr(body_str(&R), want)) fprintf(stderr, "%s -> %s\n", ints[i].path, R.body);
    CHECK(strstr(R.body, want) != NULL);
  }
  CHECK_EQ(get(s.port, "/f/2.5", &R), 0);
  CHECK(strstr(body_str(&R), "\"x\":2.5}") != NULL);
  CHECK_EQ(get(s.port, "/f/1_0.5e1", &R), 0);
  CHECK(strstr(body_str(&R), "\"x\":105.0}") != NULL);
  CHECK_EQ(get(s.port, "/f/.5", &R), 0);
  CHECK(strstr(body_str(&R), "\"x\":0.5}") != NULL);
  CHECK_EQ(get(s.port, "/u/{12345678-1234-5678-1234-567812345678}", &R), 0);
  CHECK(strstr(body_str(&R), "\"u\":\"12345678-1234-5678-1234-567812345678\"") != NULL);
  CHECK_EQ(get(s.port, "/u/urn:uuid:12345678123456781234567812ABCDEF", &R), 0);
  CHECK(strstr(body_str(&R), "\"u\":\"12345678-1234-5678-1234-567812abcdef\"") != NULL);
  /* path parameters take slashes; segment ones do not */
  CHECK_EQ(get(s.port, "/files/a/b%2Fc.txt", &R), 0);
  CHECK(strstr(body_str(&R), "\"rest\":\"a/b/c.txt\"") != NULL);
  CHECK_EQ(get(s.port, "/files/", &R), 0);
  CHECK(strstr(body_str(&R), "\"rest\":\"\"") != NULL);
  CHECK_EQ(get(s.port, "/users/%E4%B8%AD%E6%96%87/profile", &R), 0);
  CHECK(strstr(body_str(&R), "\"name\":\"中文\"") != NULL);
  CHECK_EQ(get(s.port, "/users/a/b/profile", &R), 0);
  CHECK_EQ(R.status, 404);
  CHECK_EQ(get(s.port, "/dot/report.v2.json", &R), 0); /* backtracking */
  CHECK(strstr(body_str(&R), "\"name\":\"report.v2\"") != NULL);
  CHECK_EQ(get(s.port, "/two/1/2", &R), 0);
  CHECK(strstr(body_str(&R), "\"a\":1,\"b\":2}") != NULL);
  /* Python's $ matches before a final newline: "/items/5\n" is item 5 */
  CHECK_EQ(get(s.port, "/items/5%0A", &R), 0);
  CHECK_EQ(R.status, 200);
  CHECK(strstr(body_str(&R), "\"item_id\":5}") != NULL);
  /* invalid UTF-8 in the path becomes U+FFFD, as Python's unquote */
  CHECK_EQ(get(s.port, "/users/%FF/profile", &R), 0);
  CHECK(strstr(body_str(&R), "\"name\":\"\xEF\xBF\xBD\"") != NULL);
  stop(&s);
  cio_http_app_free(app);
  return 0;
}

LOOP_TEST(test_422_bodies) {
  cio_http_app *app = make_app();
  struct srv s;
  start(app, &s);
  static const char *const bad_ints[] = {"abc", "1.5", "1__0", "_1",  "1_",    "0x10",  "%1C5",
                                         "1e3", "",    "+",    "--1", "5%205", "%C3%A9"};
  for (size_t i = 0; i < sizeof bad_ints / sizeof bad_ints[0]; i++) {
    char path[64];
    snprintf(path, sizeof path, "/items/%s", bad_ints[i]);
    CHECK_EQ(get(s.port, path, &R), 0);
    if (!*bad_ints[i]) {
      CHECK_EQ(R.status, 404); /* an empty segment matches no route */
      continue;
    }
    if (R.status != 422) fprintf(stderr, "%s -> %d\n", path, R.status);
    CHECK_EQ(R.status, 422);
    CHECK_STR(body_str(&R), "{\"detail\":[{\"loc\":[\"path\",\"item_id\"],\"msg\":\"value is not a "
                            "valid integer\",\"type\":\"type_error.integer\"}]}");
    CHECK_STR(resp_header(&R, "content-type"), "application/json");
  }
  /* more than 4300 characters: pydantic refuses before int() */
  char *big = malloc(4400 + 16);
  memcpy(big, "/items/", 7);
  memset(big + 7, '1', 4301);
  big[7 + 4301] = '\0';
  CHECK_EQ(get(s.port, big, &R), 0);
  CHECK_EQ(R.status, 422);
  big[7 + 4300] = '\0';
  CHECK_EQ(get(s.port, big, &R), 0);
  CHECK_EQ(R.status, 200);
  free(big);
  CHECK_EQ(get(s.port, "/two/x/y", &R), 0);
  CHECK_EQ(R.status, 422);
  CHECK_STR(body_str(&R),
            "{\"detail\":[{\"loc\":[\"path\",\"a\"],\"msg\":\"value is not a valid integer\","
            "\"type\":\"type_error.integer\"},{\"loc\":[\"path\",\"b\"],\"msg\":\"value is not a "
            "valid integer\",\"type\":\"type_error.integer\"}]}");
  CHECK_EQ(get(s.port, "/f/abc", &R), 0);
  CHECK_STR(body_str(&R), "{\"detail\":[{\"loc\":[\"path\",\"x\"],\"msg\":\"value is not a valid "
                          "float\",\"type\":\"type_error.float\"}]}");
  CHECK_EQ(get(s.port, "/u/1234", &R), 0);
  CHECK_STR(body_str(&R), "{\"detail\":[{\"loc\":[\"path\",\"u\"],\"msg\":\"value is not a valid "
                          "uuid\",\"type\":\"type_error.uuid\"}]}");
  /* a wrong method wins over a bad parameter (405 before validation) */
  CHECK_EQ(roundtrip(s.port, "DELETE /items/abc HTTP/1.1\r\nHost: t\r\n\r\n", &R), 0);
  CHECK_EQ(R.status, 405);
  stop(&s);
  cio_http_app_free(app);
  return 0;
}

LOOP_TEST(test_404_405_head_redirects) {
  cio_http_app *app = make_app();
  struct srv s;
  start(app, &s);
  CHECK_EQ(get(s.port, "/nope", &R), 0);
  CHECK_EQ(R.status, 404);
  CHECK_STR(body_str(&R), "{\"detail\":\"Not Found\"}");
  CHECK_EQ(roundtrip(s.port, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", &R), 0);
  CHECK_EQ(R.status, 405);
  CHECK_STR(body_str(&R), "{\"detail\":\"Method Not Allowed\"}");
  CHECK_STR(resp_header(&R, "allow"), "GET");
  CHECK_EQ(roundtrip(s.port, "GET /multi HTTP/1.1\r\nHost: t\r\n\r\n", &R), 0);
  CHECK_EQ(R.status, 405);
  CHECK_STR(resp_header(&R, "allow"), "PUT, DELETE");
  CHECK_EQ(roundtrip(s.port, "DELETE /multi HTTP/1.1\r\nHost: t\r\n\r\n", &R), 0);
  CHECK_EQ(R.status, 200);
  CHECK_EQ(roundtrip(s.port, "PROPFIND /any HTTP/1.1\r\nHost: t\r\n\r\n", &R), 0);
  CHECK_EQ(R.status, 200);
  CHECK_EQ(roundtrip(s.port, "PROPFIND / HTTP/1.1\r\nHost: t\r\n\r\n", &R), 0);
  CHECK_EQ(R.status, 405);
  /* HEAD: only where listed (FastAPI); then the GET's headers, no body */
  CHECK_EQ(roundtrip(s.port, "HEAD /items/3 HTTP/1.1\r\nHost: t\r\n\r\n", &R), 0);
  CHECK_EQ(R.status, 405);
  CHECK_STR(resp_header(&R, "allow"), "GET"); /* the first route that matched */
  CHECK_EQ(roundtrip(s.port, "GET /two/3/4 HTTP/1.1\r\nHost: t\r\n\r\n", &R), 0);
  char len[32];
  snprintf(len, sizeof len, "%zu", R.body_len);
  CHECK_EQ(roundtrip(s.port, "HEAD /two/3/4 HTTP/1.1\r\nHost: t\r\n\r\n", &R), 0);
  CHECK_EQ(R.status, 200);
  CHECK_EQ(R.body_len, 0);
  CHECK_STR(resp_header(&R, "content-length"), len);
  /* redirect_slashes: to the variant that matches, as a full URL */
  CHECK_EQ(roundtrip(s.port, "GET /slash?q=1 HTTP/1.1\r\nHost: h:1\r\n\r\n", &R), 0);
  CHECK_EQ(R.status, 307);
  CHECK_STR(resp_header(&R, "location"), "http://h:1/slash/?q=1");
  CHECK_EQ(R.body_len, 0);
  CHECK_EQ(roundtrip(s.port, "GET /items/4/ HTTP/1.1\r\nHost: h\r\n\r\n", &R), 0);
  CHECK_EQ(R.status, 307);
  CHECK_STR(resp_header(&R, "location"), "http://h/items/4");
  CHECK_EQ(roundtrip(s.port, "GET /users/x/profile/// HTTP/1.1\r\nHost: h\r\n\r\n", &R), 0);
  CHECK_STR(resp_header(&R, "location"), "http://h/users/x/profile");
  stop(&s);
  cio_http_app_free(app);
  /* off */
  cio_http_app_opts o = {.no_redirect_slashes = 1};
  app = cio_http_app_new(&o);
  cio_http_app_get(app, "/slash/", show, S("slash"));
  start(app, &s);
  CHECK_EQ(get(s.port, "/slash", &R), 0);
  CHECK_EQ(R.status, 404);
  stop(&s);
  cio_http_app_free(app);
  return 0;
}

LOOP_TEST(test_mounts) {
  cio_http_app *app = make_app();
  struct srv s;
  start(app, &s);
  CHECK_EQ(get(s.port, "/m/a/b?x", &R), 0);
  CHECK_EQ(R.status, 200);
  CHECK_STR(body_str(&R), "{\"route\":\"mount\",\"path\":\"/m/a/b\",\"mount_path\":\"/a/b\"}");
  CHECK_EQ(roundtrip(s.port, "DELETE /m/ HTTP/1.1\r\nHost: t\r\n\r\n", &R), 0); /* any method */
  CHECK_EQ(R.status, 200);
  CHECK(strstr(body_str(&R), "\"mount_path\":\"/\"") != NULL);
  CHECK_EQ(get(s.port, "/m", &R), 0); /* no match: redirected to /m/ */
  CHECK_EQ(R.status, 307);
  stop(&s);
  cio_http_app_free(app);
  /* a mount at the root takes what no earlier route took, in order */
  app = cio_http_app_new(NULL);
  cio_http_app_get(app, "/id/{x:int}", show, S("id"));
  cio_http_app_mount(app, "/", show, S("root-mount"));
  cio_http_app_get(app, "/later", show, S("later"));
  start(app, &s);
  CHECK_EQ(get(s.port, "/id/1", &R), 0);
  CHECK(strstr(body_str(&R), "\"route\":\"id\"") != NULL);
  CHECK_EQ(get(s.port, "/later", &R), 0);
  CHECK(strstr(body_str(&R), "\"route\":\"root-mount\"") != NULL);
  /* POST /id/1: the route matches its path only, the mount takes it */
  CHECK_EQ(roundtrip(s.port, "POST /id/1 HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", &R), 0);
  CHECK(strstr(body_str(&R), "\"route\":\"root-mount\"") != NULL);
  /* .* stops at a newline: "/a%0Ab" matches no mount */
  CHECK_EQ(get(s.port, "/a%0Ab", &R), 0);
  CHECK_EQ(R.status, 404);
  stop(&s);
  cio_http_app_free(app);
  return 0;
}

/* middleware: order, short-circuit, changes after the route */
static char trace[256];

static int mw_a(cio_http_req *req, cio_http_res *res, void *arg) {
  strcat(trace, "a<");
  cio_http_res_header(res, "X-A", "1");
  int r = cio_http_next(req, res);
  strcat(trace, ">a");
  cio_http_res_set_header(res, "X-After", "a");
  return r;
}

static int mw_b(cio_http_req *req, cio_http_res *res, void *arg) {
  strcat(trace, "b<");
  size_t n;
  if (cio_http_req_header(req, "x-deny", &n)) return cio_http_res_error(res, 403, "denied");
  cio_http_req_set_user(req, S("from-b"));
  int r = cio_http_next(req, res);
  CHECK_EQ(cio_http_next(req, res), -EINVAL); /* twice */
  strcat(trace, ">b");
  return r;
}

static int user_handler(cio_http_req *req, cio_http_res *res, void *arg) {
  strcat(trace, "h");
  return cio_http_res_text(res, 200, cio_http_req_user(req));
}

LOOP_TEST(test_middleware) {
  cio_http_app *app = cio_http_app_new(NULL);
  CHECK_EQ(cio_http_app_use(app, mw_a, NULL), 0);
  CHECK_EQ(cio_http_app_use(app, mw_b, NULL), 0);
  CHECK_EQ(cio_http_app_get(app, "/", user_handler, NULL), 0);
  CHECK_EQ(cio_http_app_get(app, "/fail", fail_handler, NULL), 0);
  struct srv s;
  start(app, &s);
  trace[0] = '\0';
  CHECK_EQ(get(s.port, "/", &R), 0);
  CHECK_STR(trace, "a<b<h>b>a");
  CHECK_STR(body_str(&R), "from-b");
  CHECK_STR(resp_header(&R, "x-a"), "1");
  CHECK_STR(resp_header(&R, "x-after"), "a");
  trace[0] = '\0';
  CHECK_EQ(roundtrip(s.port, "GET / HTTP/1.1\r\nHost: t\r\nX-Deny: 1\r\n\r\n", &R), 0);
  CHECK_EQ(R.status, 403);
  CHECK_STR(trace, "a<b<>a");
  CHECK_STR(body_str(&R), "{\"detail\":\"denied\"}");
  /* middleware sees 404s too; a failing handler: 500, middleware headers
   * kept, the handler's dropped */
  trace[0] = '\0';
  CHECK_EQ(get(s.port, "/missing", &R), 0);
  CHECK_EQ(R.status, 404);
  CHECK_STR(resp_header(&R, "x-a"), "1");
  CHECK_EQ(get(s.port, "/fail", &R), 0);
  CHECK_EQ(R.status, 500);
  CHECK_STR(body_str(&R), "{\"detail\":\"Internal Server Error\"}");
  CHECK_STR(resp_header(&R, "x-a"), "1");
  CHECK(resp_header(&R, "x-before-fail") == NULL);
  stop(&s);
  cio_http_app_free(app);
  return 0;
}

static int query_handler(cio_http_req *req, cio_http_res *res, void *arg) {
  cio_json *j = cio_http_res_json(res, 200);
  cio_json_object(j);
  static const char *const names[] = {"a", "b", "c", "e", "空", "missing"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    size_t n;
    const char *v = cio_http_req_query(req, names[i], &n);
    cio_json_key(j, names[i]);
    if (v)
      cio_json_str_n(j, v, n);
    else
      cio_json_null(j);
  }
  size_t ql, tl, ml;
  cio_json_key(j, "qs");
  const char *qs = cio_http_req_query_string(req, &ql);
  cio_json_str_n(j, qs, ql);
  cio_json_key(j, "target");
  const char *t = cio_http_req_target(req, &tl);
  cio_json_str_n(j, t, tl);
  cio_json_key(j, "method");
  const char *m = cio_http_req_method_str(req, &ml);
  cio_json_str_n(j, m, ml);
  cio_json_key(j, "version");
  cio_json_int(j, cio_http_req_version(req));
  char peer[64];
  cio_json_key(j, "client_ok");
  cio_json_bool(j, cio_http_req_client(req, peer, sizeof peer) == 0 &&
                       strncmp(peer, "127.0.0.1:", 10) == 0);
  return cio_json_object_end(j);
}

LOOP_TEST(test_query_and_accessors) {
  cio_http_app *app = cio_http_app_new(NULL);
  cio_http_app_get(app, "/q", query_handler, NULL);
  struct srv s;
  start(app, &s);
  CHECK_EQ(get(s.port, "/q?a=1&b&a=2&c=x+y%21&%E7%A9%BA=%FF&e=", &R), 0);
  CHECK_STR(body_str(&R),
            "{\"a\":\"1\",\"b\":\"\",\"c\":\"x y!\",\"e\":\"\",\"空\":\"\xEF\xBF\xBD\","
            "\"missing\":null,\"qs\":\"a=1&b&a=2&c=x+y%21&%E7%A9%BA=%FF&e=\","
            "\"target\":\"/q?a=1&b&a=2&c=x+y%21&%E7%A9%BA=%FF&e=\",\"method\":"
            "\"GET\",\"version\":11,\"client_ok\":true}");
  /* absolute-form: the path is its path part */
  CHECK_EQ(
      roundtrip(s.port, "GET http://example.com/q?a=3 HTTP/1.1\r\nHost: example.com\r\n\r\n", &R),
      0);
  CHECK(strstr(body_str(&R), "\"a\":\"3\"") != NULL);
  stop(&s);
  cio_http_app_free(app);
  return 0;
}

static void test_config_errors(void) {
  cio_http_app *app = cio_http_app_new(NULL);
  static const char *const bad[] = {"x",    "/a/{",     "/a/{1x}",  "/a/{x:bogus}",
                                    "/a/}", "/{x}/{x}", "/a/{x:int"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK_EQ(cio_http_app_get(app, bad[i], show, NULL), -EINVAL);
    CHECK(cio_http_app_error(app) != NULL);
  }
  CHECK_EQ(cio_http_app_route(app, "get", "/", show, NULL), -EINVAL);
  CHECK_EQ(cio_http_app_route(app, "", "/", show, NULL), -EINVAL);
  CHECK_EQ(cio_http_app_route(app, "FETCH", "/", show, NULL), -EINVAL);
  CHECK_EQ(cio_http_app_get(app, "/", NULL, NULL), -EINVAL);
  CHECK_EQ(cio_http_app_mount(app, "static", show, NULL), -EINVAL);
  CHECK_EQ(cio_http_app_use(app, NULL, NULL), -EINVAL);
  char many[256] = "/";
  for (int i = 0; i < 17; i++) sprintf(many + strlen(many), "{p%d}/", i);
  CHECK_EQ(cio_http_app_get(app, many, show, NULL), -EINVAL);
  cio_http_app_free(app);
  cio_http_app_free(NULL);
}

int main(void) {
  RUN(test_routes_and_params);
  RUN(test_422_bodies);
  RUN(test_404_405_head_redirects);
  RUN(test_mounts);
  RUN(test_middleware);
  RUN(test_query_and_accessors);
  RUN(test_config_errors);
  return test_report();
}
