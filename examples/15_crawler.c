/* 15_crawler - a crawler: 73 pages fetched concurrently over HTTP/1.0, at most 16 at a time.
 *
 * Tutorial 003 ("Chapter 4: coroutines") ends with an exercise: "implement a
 * simple concurrent crawler with coroutines that fetches several pages and
 * extracts their titles"; its aiohttp examples fetch every URL at once with
 * gather. Here the pages come from a small site this program serves itself
 * on 127.0.0.1 (the tour has no network), over plain HTTP/1.0 (one
 * connection per page; a full HTTP client comes later):
 *
 *   /                 the index: links to 8 sections
 *   /section/S        links to its 8 articles, and back to /
 *   /article/S/A      links to its section and to the next article
 *
 * Every answer is delayed by 0.1 s, like a slow remote server. The crawler
 * starts at /, and each page it fetches spawns a task (into one task group)
 * for every link it has not seen yet; a semaphore keeps at most 16 fetches in
 * flight. The 73 pages take about 0.6 s (three levels of links, the last one
 * 64 pages / 16 = 4 rounds), where one page after another would take 7.3 s.
 */
#include <cio.h>
#include <cio/net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTIONS  8
#define ARTICLES  8
#define MAX_PAGES 128
#define LIMIT     16
#define DELAY     0.1

/* ---- the site ---- */

/* The HTML of path into buf; 0, or -1 for an unknown path. */
static int render(const char *path, char *buf, size_t cap) {
  int s, a, n = 0;
  if (strcmp(path, "/") == 0) {
    n = snprintf(buf, cap, "<html><title>Index</title><body>\n");
    for (s = 0; s < SECTIONS; s++)
      n += snprintf(buf + n, cap - (size_t)n, "<a href=\"/section/%d\">section %d</a>\n", s, s);
  } else if (sscanf(path, "/section/%d", &s) == 1 && s >= 0 && s < SECTIONS &&
             !strchr(path + 9, '/')) {
    n = snprintf(buf, cap, "<html><title>Section %d</title><body>\n<a href=\"/\">home</a>\n", s);
    for (a = 0; a < ARTICLES; a++)
      n += snprintf(buf + n, cap - (size_t)n, "<a href=\"/article/%d/%d\">article %d</a>\n", s, a,
                    a);
  } else if (sscanf(path, "/article/%d/%d", &s, &a) == 2 && s >= 0 && s < SECTIONS && a >= 0 &&
             a < ARTICLES) {
    n = snprintf(buf, cap,
                 "<html><title>Article %d.%d</title><body>\n<a href=\"/section/%d\">up</a>\n"
                 "<a href=\"/article/%d/%d\">next</a>\n",
                 s, a, s, s, (a + 1) % ARTICLES);
  } else {
    return -1;
  }
  snprintf(buf + n, cap - (size_t)n, "</body></html>\n");
  return 0;
}

static int serve_page(cio_stream *s, void *arg) {
  char line[512], path[256] = "", page[2048], head[128];
  ssize_t n = cio_stream_readline(s, line, sizeof line);
  if (n <= 0) return (int)n;
  line[n] = '\0';
  sscanf(line, "GET %255s", path);
  while ((n = cio_stream_readline(s, line, sizeof line)) > 2)
    ; /* headers: ignored */
  if (n < 0) return (int)n;
  int r = cio_sleep(DELAY); /* a slow server */
  if (r < 0) return r;
  int found = render(path, page, sizeof page) == 0;
  if (!found) snprintf(page, sizeof page, "not found\n");
  int len = snprintf(head, sizeof head, "HTTP/1.0 %s\r\nContent-Length: %zu\r\n\r\n",
                     found ? "200 OK" : "404 Not Found", strlen(page));
  r = cio_stream_write(s, head, (size_t)len);
  if (r == 0) r = cio_stream_write(s, page, strlen(page));
  return r == 0 ? cio_stream_flush(s) : r;
}

/* ---- the crawler ---- */

struct crawler {
  int port;
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

/* GET path; the body (NUL-terminated) into body. Returns its length or an
 * error; a status other than 200 is -ENOENT. */
static ssize_t http_get(int port, const char *path, char *body, size_t cap) {
  cio_stream *s;
  char line[512];
  int r = cio_open_connection("127.0.0.1", port, NULL, &s);
  if (r < 0) return r;
  int len = snprintf(line, sizeof line, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
  ssize_t n = cio_stream_write(s, line, (size_t)len);
  if (n == 0) n = cio_stream_readline(s, line, sizeof line);
  if (n > 0 && (n < 12 || memcmp(line + 9, "200", 3) != 0)) n = -ENOENT;
  while (n > 2) /* up to the blank line */
    n = cio_stream_readline(s, line, sizeof line);
  size_t got = 0;
  while (n >= 0 && got < cap - 1) { /* HTTP/1.0: the body ends at EOF */
    n = cio_stream_read(s, body + got, cap - 1 - got);
    if (n > 0)
      got += (size_t)n;
    else
      break;
  }
  cio_stream_free(s);
  body[got] = '\0';
  return n < 0 ? n : (ssize_t)got;
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
  char body[2048];
  int r = cio_sem_acquire(c->sem);
  if (r < 0) {
    free(f);
    return r;
  }
  if (++c->active > c->peak) c->peak = c->active;
  ssize_t n = http_get(c->port, f->path, body, sizeof body);
  c->active--;
  cio_sem_release(c->sem);
  if (n < 0) {
    printf("%s: %s\n", f->path, cio_strerror((int)n));
    c->errors++;
    free(f);
    return 0; /* one bad page does not stop the crawl */
  }
  c->pages++;
  c->bytes += (size_t)n;
  const char *t = strstr(body, "<title>"), *te = t ? strstr(t, "</title>") : NULL;
  if (t && te && strncmp(f->path, "/article/", 9) != 0)
    printf("%-12s %.*s\n", f->path, (int)(te - t - 7), t + 7);
  for (const char *p = body; (p = strstr(p, "href=\"")) != NULL;) {
    p += 6;
    const char *end = strchr(p, '"');
    if (!end) break;
    follow(c, p, (size_t)(end - p));
    p = end;
  }
  free(f);
  return 0;
}

static int main_task(void *arg) {
  struct crawler c = {0};
  cio_server *server;
  int r = cio_start_server("127.0.0.1", 0, serve_page, NULL, NULL, &server);
  if (r < 0) return r;
  c.port = cio_server_port(server);
  c.group = cio_group_new();
  c.sem = cio_sem_new(LIMIT);
  r = c.group && c.sem ? 0 : -ENOMEM;

  int64_t t0 = cio_now_ns();
  if (r == 0) {
    follow(&c, "/", 1);
    r = cio_group_wait(c.group);
  }
  double dt = (double)(cio_now_ns() - t0) / 1e9;
  printf("crawled %d pages (%zu bytes), %d errors, at most %d fetches at once (limit %d)\n",
         c.pages, c.bytes, c.errors, c.peak, LIMIT);
  printf("crawl took %.2f s; one page after another: at least %.1f s\n", dt, c.pages * DELAY);

  for (int i = 0; i < c.nseen; i++) free(c.seen[i]);
  cio_group_free(c.group);
  cio_sem_free(c.sem);
  cio_server_close(server, 1.0);
  cio_server_free(server);
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
