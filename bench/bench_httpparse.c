/* httpparse: ns to parse one request head, cio's parser against llhttp 8.1
 * built in strict mode (the two candidates of docs/HTTP.md), on three
 * requests: wrk's (2 headers), curl's (3) and Chromium's for a static page
 * (15). Both parsers read the whole head at once from the same buffer and
 * hand the server the same things: method, target, version, and every
 * header as (name, value) pointers, plus the body framing. For llhttp that
 * means span callbacks filling a header array, as a server built on it
 * does; its callback-free minimum (no spans kept) is reported as well.
 *
 *   bench_httpparse [-n N] [-r R]   N heads per request kind, best of R
 *
 * Timings on a shared machine move; instructions do not: for those,
 *   valgrind --tool=callgrind --toggle-collect=run_cio bench_httpparse -n 10000 -r 1
 * (or run_llhttp), with BENCH_HTTPPARSE_KIND=wrk|curl|browser to pick one.
 */
#include "bench.h"

#include <cio/http_parser.h>

#ifdef CIO_HAVE_LLHTTP
#include <llhttp.h>
#endif

static const char *const requests[][2] = {
    {"wrk", "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"},
    {"curl", "GET /json HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\n"
             "Accept: */*\r\n\r\n"},
    {"browser",
     "GET /static/index.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: keep-alive\r\n"
     "Cache-Control: max-age=0\r\nsec-ch-ua: \"Chromium\";v=\"156\", \"Not?A_Brand\";v=\"24\"\r\n"
     "sec-ch-ua-mobile: ?0\r\nsec-ch-ua-platform: \"Linux\"\r\nUpgrade-Insecure-Requests: 1\r\n"
     "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/156.0.0.0 Safari/537.36\r\n"
     "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
     "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7\r\n"
     "Sec-Fetch-Site: none\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-User: ?1\r\n"
     "Sec-Fetch-Dest: document\r\nAccept-Encoding: gzip, deflate, br\r\n"
     "Accept-Language: en-US,en;q=0.9\r\nIf-None-Match: \"65a1b2c3-1f4\"\r\n\r\n"},
};

static volatile size_t sink;

static double run_cio(const char *req, size_t len, long n) {
  cio_http_header hv[64];
  cio_http_head h;
  h.headers = hv;
  cio_http_parser p;
  int64_t t0 = bench_now_ns();
  for (long i = 0; i < n; i++) {
    cio_http_parser_init(&p);
    ssize_t r = cio_http_parse_request(&p, req, len, &h, 64);
    sink += (size_t)r + h.num_headers + (size_t)h.body;
  }
  return (double)(bench_now_ns() - t0) / (double)n;
}

#ifdef CIO_HAVE_LLHTTP
typedef struct lh {
  const char *url;
  size_t url_len;
  cio_http_header hv[64];
  size_t nh;
  int in_value;
} lh;

static int on_url(llhttp_t *p, const char *a, size_t n) {
  lh *x = p->data;
  x->url = a;
  x->url_len = n;
  return 0;
}

static int on_field(llhttp_t *p, const char *a, size_t n) {
  lh *x = p->data;
  if (x->nh == 64) return -1;
  cio_http_header *h = &x->hv[x->nh++];
  h->name = a;
  h->name_len = n;
  h->value = NULL;
  h->value_len = 0;
  return 0;
}

static int on_value(llhttp_t *p, const char *a, size_t n) {
  lh *x = p->data;
  x->hv[x->nh - 1].value = a;
  x->hv[x->nh - 1].value_len = n;
  return 0;
}

static int on_headers(llhttp_t *p) {
  (void)p;
  return HPE_PAUSED; /* the server takes over here */
}

static double run_llhttp(const char *req, size_t len, long n, int spans) {
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  if (spans) {
    s.on_url = on_url;
    s.on_header_field = on_field;
    s.on_header_value = on_value;
  }
  s.on_headers_complete = on_headers;
  llhttp_t p;
  lh x;
  int64_t t0 = bench_now_ns();
  for (long i = 0; i < n; i++) {
    x.nh = 0;
    llhttp_init(&p, HTTP_REQUEST, &s);
    p.data = &x;
    llhttp_errno_t e = llhttp_execute(&p, req, len);
    sink += (size_t)e + x.nh + p.flags;
  }
  return (double)(bench_now_ns() - t0) / (double)n;
}
#endif

static void emit(const char *impl, const char *kind, double ns, long n, int reps) {
  printf("{\"bench\": \"httpparse\", \"impl\": \"%s\", \"metric\": \"per_head_%s\", "
         "\"value\": %.1f, \"unit\": \"ns\", \"n\": %ld, \"best_of\": %d}\n",
         impl, kind, ns, n, reps);
  fflush(stdout);
}

int main(int argc, char **argv) {
  bench_args a = bench_parse(argc, argv, 2000000, 5);
  /* BENCH_HTTPPARSE_KIND=wrk|curl|browser runs one kind (for callgrind). */
  const char *only = getenv("BENCH_HTTPPARSE_KIND");
  for (size_t k = 0; k < sizeof requests / sizeof requests[0]; k++) {
    if (only && strcmp(only, requests[k][0]) != 0) continue;
    const char *req = requests[k][1];
    size_t len = strlen(req);
    double best = 0;
    for (int r = 0; r < a.reps; r++) {
      double t = run_cio(req, len, a.n);
      if (r == 0 || t < best) best = t;
    }
    emit("cio", requests[k][0], best, a.n, a.reps);
#ifdef CIO_HAVE_LLHTTP
    /* BENCH_HTTPPARSE_LLHTTP=spans|nospans runs one llhttp mode (callgrind) */
    const char *mode = getenv("BENCH_HTTPPARSE_LLHTTP");
    for (int spans = 1; spans >= 0; spans--) {
      if (mode && strcmp(mode, spans ? "spans" : "nospans") != 0) continue;
      for (int r = 0; r < a.reps; r++) {
        double t = run_llhttp(req, len, a.n, spans);
        if (r == 0 || t < best) best = t;
      }
      emit(spans ? "llhttp-strict" : "llhttp-strict-nospans", requests[k][0], best, a.n, a.reps);
    }
#endif
  }
  return 0;
}
