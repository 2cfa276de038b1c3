/* 15_crawler - the aiohttp crawler: 73 pages through one pooled session, 16 at a time
 *
 * Tutorial 003 fetches several sites with aiohttp and gather, and asks for
 * "a simple concurrent crawler that fetches several pages and extracts their
 * titles":
 *
 *   async def fetch(session, url):
 *       async with sem:                              # at most 16 at once
 *           async with session.get(url) as response:
 *               return await response.text()
 *
 *   async with aiohttp.ClientSession() as session:
 *       pages = await asyncio.gather(*(fetch(session, u) for u in urls))
 *
 * Here the site is served by this program itself on 127.0.0.1 (the tour has
 * no network) with cio's HTTP server, every answer delayed by 0.05 s like a
 * slow remote site:
 *
 *   /                 the index: links to 8 sections
 *   /section/S        links to its 8 articles, and back to /
 *   /article/S/A      links to its section and to the next article
 *
 * The crawler starts at / and spawns a fetch (into one task group) for
 * every link it has not seen; a semaphore keeps 16 in flight; one
 * cio_http_session keeps the connections alive between requests. Then the
 * same 73 pages are fetched again one after another, as code without
 * coroutines would: ~3.7 s against ~0.3 s.
 */
#include <cio.h>
#include <cio/http.h>
#include <cio/http_client.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTIONS  8
#define ARTICLES  8
#define MAX_PAGES 128
#define LIMIT     16
#define DELAY     0.05

/* ---- the site ---- */

static int page(cio_http_res *res, const char *html) {
  int r = cio_sleep(DELAY); /* a slow server */
  return r < 0 ? r : cio_http_res_send(res, 200, "text/html", html, strlen(html));
}

static int index_page(cio_http_req *req, cio_http_res *res, void *arg) {
  char html[1024];
  int n = snprintf(html, sizeof html, "<html><title>Index</title><body>\n");
  for (int s = 0; s < SECTIONS; s++)
    n += snprintf(html + n, sizeof html - (size_t)n, "<a href=\"/section/%d\">section %d</a>\n", s,
                  s);
  snprintf(html + n, sizeof html - (size_t)n, "</body></html>\n");
  return page(res, html);
}

static int section_page(cio_http_req *req, cio_http_res *res, void *arg) {
  int64_t s;
  if (cio_http_req_param_int(req, "s", &s) < 0 || s < 0 || s >= SECTIONS)
    return cio_http_res_error(res, 404, "no such section");
  char html[1024];
  int n = snprintf(html, sizeof html,
                   "<html><title>Section %d</title><body>\n<a href=\"/\">home</a>\n", (int)s);
  for (int a = 0; a < ARTICLES; a++)
    n += snprintf(html + n, sizeof html - (size_t)n, "<a href=\"/article/%d/%d\">article %d</a>\n",
                  (int)s, a, a);
  snprintf(html + n, sizeof html - (size_t)n, "</body></html>\n");
  return page(res, html);
}

static int article_page(cio_http_req *req, cio_http_res *res, void *arg) {
  int64_t s, a;
  if (cio_http_req_param_int(req, "s", &s) < 0 || cio_http_req_param_int(req, "a", &a) < 0 ||
      s < 0 || s >= SECTIONS || a < 0 || a >= ARTICLES)
    return cio_http_res_error(res, 404, "no such article");
  char html[512];
  snprintf(html, sizeof html,
           "<html><title>Article %d.%d</title><body>\n<a href=\"/section/%d\">up</a>\n"
           "<a href=\"/article/%d/%d\">next</a>\n</body></html>\n",
           (int)s, (int)a, (int)s, (int)s, (int)((a + 1) % ARTICLES));
  return page(res, html);
}

/* ---- the crawler ---- */

struct crawler {
  char base[64]; /* "http://127.0.0.1:PORT" */
  cio_http_session *session;
  cio_group *group;
  cio_sem *sem;
  char *seen[MAX_PAGES];
  int nseen;
  int pages, errors, active, peak;
  size_t bytes;
};

struct fetch {
  struct crawler *c;
  const char *path; /* one of c->seen */
};

/* session.get(url) + response.text(): the body (the response owns it) and
 * its length, or an error; a status other than 200 is -ENOENT. */
static ssize_t get_text(struct crawler *c, const char *path, cio_http_response **res,
                        const char **text) {
  char url[256];
  snprintf(url, sizeof url, "%s%s", c->base, path);
  int r = cio_http_open(c->session, &(cio_http_request){.url = url}, res);
  if (r < 0) return r;
  if (cio_http_response_status(*res) != 200) return -ENOENT;
  return cio_http_response_body(*res, text);
}

static void print_title(const char *path, const char *html) {
  const char *t = strstr(html, "<title>"), *te = t ? strstr(t, "</title>") : NULL;
  if (t && te && strncmp(path, "/article/", 9) != 0)
    printf("%-12s %.*s\n", path, (int)(te - t - 7), t + 7);
}

static int fetch(void *arg);

/* Spawn a fetch of path unless it was seen before. */
static void follow(struct crawler *c, const char *path, size_t len) {
  for (int i = 0; i < c->nseen; i++)
    if (strlen(c->seen[i]) == len && memcmp(c->seen[i], path, len) == 0) return;
  if (c->nseen == MAX_PAGES) return;
  struct fetch *f = malloc(sizeof *f);
  char *p = strndup(path, len);
  if (!f || !p || !cio_group_spawn(c->group, fetch, f, NULL)) {
    free(f);
    free(p);
    c->errors++;
    return;
  }
  c->seen[c->nseen++] = p;
  f->c = c;
  f->path = p;
}

static int fetch(void *arg) {
  struct fetch *f = arg;
  struct crawler *c = f->c;
  int r = cio_sem_acquire(c->sem); /* async with sem: */
  if (r < 0) {
    free(f);
    return r;
  }
  if (++c->active > c->peak) c->peak = c->active;
  cio_http_response *res = NULL;
  const char *html;
  ssize_t n = get_text(c, f->path, &res, &html);
  c->active--;
  cio_sem_release(c->sem);
  if (n < 0) {
    printf("%s: %s\n", f->path, cio_strerror((int)n));
    c->errors++;
  } else {
    c->pages++;
    c->bytes += (size_t)n;
    print_title(f->path, html);
    for (const char *p = html; (p = strstr(p, "href=\"")) != NULL;) {
      p += 6;
      const char *end = strchr(p, '"');
      if (!end) break;
      follow(c, p, (size_t)(end - p));
      p = end;
    }
  }
  cio_http_response_free(res); /* the connection goes back to the pool */
  free(f);
  return 0; /* one bad page does not stop the crawl */
}

/* The same pages, one after another. */
static int sequential(struct crawler *c) {
  for (int i = 0; i < c->nseen; i++) {
    cio_http_response *res = NULL;
    const char *html;
    ssize_t n = get_text(c, c->seen[i], &res, &html);
    cio_http_response_free(res);
    if (n < 0) return (int)n;
  }
  return 0;
}

static int main_task(void *arg) {
  struct crawler c = {0};
  cio_http_app *app = cio_http_app_new(NULL);
  if (!app) return -errno;
  cio_http_app_get(app, "/", index_page, NULL);
  cio_http_app_get(app, "/section/{s:int}", section_page, NULL);
  cio_http_app_get(app, "/article/{s:int}/{a:int}", article_page, NULL);
  cio_http_server *server;
  int r = cio_http_server_open(app, NULL, &server);
  if (r < 0) {
    cio_http_app_free(app);
    return r;
  }
  snprintf(c.base, sizeof c.base, "http://127.0.0.1:%d", cio_http_server_port(server));
  c.session = cio_http_session_new(NULL); /* aiohttp.ClientSession() */
  c.group = cio_group_new();
  c.sem = cio_sem_new(LIMIT);
  r = c.session && c.group && c.sem ? 0 : -ENOMEM;

  int64_t t0 = cio_now_ns();
  if (r == 0) {
    follow(&c, "/", 1);
    r = cio_group_wait(c.group);
  }
  double dt = (double)(cio_now_ns() - t0) / 1e9;
  printf("crawled %d pages (%zu bytes), %d errors, at most %d fetches at once (limit %d)\n",
         c.pages, c.bytes, c.errors, c.peak, LIMIT);
  printf("crawl took %.2f s\n", dt);

  t0 = cio_now_ns();
  if (r == 0) r = sequential(&c);
  double seq = (double)(cio_now_ns() - t0) / 1e9;
  if (r == 0) printf("one page after another: %.2f s (%.0fx longer)\n", seq, seq / dt);
  cio_http_pool_stats st;
  if (c.session) {
    cio_http_session_stats(c.session, &st);
    printf("%llu connections opened for %d requests\n", (unsigned long long)st.created,
           2 * c.pages);
  }

  for (int i = 0; i < c.nseen; i++) free(c.seen[i]);
  cio_group_free(c.group);
  cio_sem_free(c.sem);
  cio_http_session_free(c.session);
  cio_http_server_close(server, 1.0);
  cio_http_server_free(server);
  cio_http_app_free(app);
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
