/* curl_multi.c - the httpclient benchmark's libcurl peer: the same small
 * keep-alive GETs through libcurl's multi interface, the way an event-loop
 * program drives libcurl: c easy handles in flight on one multi handle
 * (connections kept alive and shared), curl_multi_poll to wait, each
 * finished transfer re-added for the next request. Prints the same JSON
 * lines as bench_httpclient (impl "libcurl"). URL from $CIO_BENCH_URL
 * (bench/httpclient/with-nginx). -n N, -r R as the cio program. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static size_t sink(char *p, size_t size, size_t n, void *arg) {
  *(size_t *)arg += size * n;
  (void)p;
  return size * n;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

typedef struct slot {
  CURL *e;
  size_t got;
} slot;

/* n requests with c in flight. 0 or -1. */
static int round_of(CURLM *m, slot *s, int c, long n, const char *url, double *wall, double *cpu) {
  double t0 = now_s(), c0 = cpu_s();
  long started = 0, done = 0;
  for (int i = 0; i < c && started < n; i++, started++) {
    s[i].got = 0;
    curl_easy_setopt(s[i].e, CURLOPT_URL, url);
    curl_multi_add_handle(m, s[i].e);
  }
  while (done < n) {
    int running;
    if (curl_multi_perform(m, &running) != CURLM_OK) return -1;
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left))) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL *e = msg->easy_handle;
      slot *sl;
      curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&sl);
      long code = 0;
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
      if (msg->data.result != CURLE_OK || code != 200 || sl->got != 13) {
        fprintf(stderr, "curl_multi: %s, status %ld\n", curl_easy_strerror(msg->data.result), code);
        return -1;
      }
      done++;
      curl_multi_remove_handle(m, e);
      if (started < n) {
        started++;
        sl->got = 0;
        curl_multi_add_handle(m, e);
      }
    }
    if (done < n && curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK) return -1;
  }
  *wall = now_s() - t0;
  *cpu = cpu_s() - c0;
  return 0;
}

int main(int argc, char **argv) {
  const char *url = getenv("CIO_BENCH_URL");
  long n = 20000;
  int reps = 3, opt;
  const char *sc = getenv("CIO_BENCH_SCALE");
  if (sc && atof(sc) > 0) n = (long)((double)n * atof(sc));
  while ((opt = getopt(argc, argv, "n:r:")) != -1) {
    if (opt == 'n')
      n = atol(optarg);
    else if (opt == 'r')
      reps = atoi(optarg);
  }
  if (!url || n < 1 || reps < 1) {
    fprintf(stderr, "usage: CIO_BENCH_URL=... curl_multi [-n N] [-r R]\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM *m = curl_multi_init();
  curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 64L);
  slot s[64];
  for (int i = 0; i < 64; i++) {
    s[i].e = curl_easy_init();
    curl_easy_setopt(s[i].e, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(s[i].e, CURLOPT_WRITEDATA, &s[i].got);
    curl_easy_setopt(s[i].e, CURLOPT_PRIVATE, (char *)&s[i]);
    curl_easy_setopt(s[i].e, CURLOPT_TCP_NODELAY, 1L);
  }
  static const int conc[] = {1, 64};
  int status = 0;
  for (int k = 0; k < 2 && !status; k++) {
    int c = conc[k];
    long total = c == 1 ? n : 4 * n;
    double wall, cpu, best_rps = 0, best_cpu = 1e9;
    status = round_of(m, s, c, total / 10 + c, url, &wall, &cpu);
    for (int i = 0; i < reps && !status; i++) {
      status = round_of(m, s, c, total, url, &wall, &cpu);
      if ((double)total / wall > best_rps) best_rps = (double)total / wall;
      if (cpu / (double)total < best_cpu) best_cpu = cpu / (double)total;
    }
    if (status) break;
    printf("{\"bench\": \"httpclient\", \"impl\": \"libcurl\", \"metric\": \"cpu_us_per_req_c%d\", "
           "\"value\": %.3f, \"unit\": \"us\", \"n\": %ld, \"best_of\": %d}\n",
           c, best_cpu * 1e6, total, reps);
    printf("{\"bench\": \"httpclient\", \"impl\": \"libcurl\", \"metric\": \"req_per_s_c%d\", "
           "\"value\": %.3f, \"unit\": \"req/s\", \"n\": %ld, \"best_of\": %d, \"better\": "
           "\"higher\"}\n",
           c, best_rps, total, reps);
    fflush(stdout);
  }
  for (int i = 0; i < 64; i++) curl_easy_cleanup(s[i].e);
  curl_multi_cleanup(m);
  curl_global_cleanup();
  return status ? 1 : 0;
}
