/* cio-bugtracker - the bug-tracker service of tutorial 001, on cio.
 *
 *   cio-bugtracker [--db URL] [--host H] [--port P] [--static DIR]
 *                  [--workers N] [--init-db [--data FILE]... [--bugs N]
 *                  [--force] [--load-only]] [--sql seed|default]
 *
 * Without --db it serves an SQLite file of its own, created with the demo
 * dataset on first run. See --help and apps/bugtracker/README.md.
 */
#include "demo.h"
#include "extract.h"
#include "load.h"
#include "service.h"

#include <cio.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DATA 16

static const char USAGE[] =
    "usage: cio-bugtracker [options]\n"
    "\n"
    "The bug-tracker service of tutorial 001: GET /id/<bug id> answers the bug's\n"
    "title, version, steps and the cause and fix found in its texts, as JSON.\n"
    "\n"
    "  --db URL        mysql://user:pw@host:port/db, postgresql://..., sqlite:///path\n"
    "                  (default: an SQLite file under $XDG_DATA_HOME/cio-bugtracker,\n"
    "                  created with the demo dataset on first run)\n"
    "  --host H        address to listen on (default 127.0.0.1; 0.0.0.0 for all)\n"
    "  --port P        port (default 8910)\n"
    "  --static DIR    directory served at / (default: the installed page)\n"
    "  --workers N     worker threads, each with its own loop and pool (default 1)\n"
    "  --sql MODE      default: the lookup reads the requested bug's rows only;\n"
    "                  seed: the tutorial's query (aggregates every bug per request)\n"
    "  --init-db       create the MantisBT tables and load the demo dataset, then serve\n"
    "    --data FILE   load these rows instead (JSON; repeatable)\n"
    "    --bugs N      the demo dataset's size (default 5000)\n"
    "    --force       replace tables that already hold bugs\n"
    "    --load-only   exit after loading\n"
    "  --help\n";

typedef struct options {
  const char *db, *host, *static_dir;
  int port, init, force, load_only, nbugs;
  size_t workers;
  bt_sql_mode sql;
  const char *data[MAX_DATA];
  size_t ndata;
  char default_db[PATH_MAX + 16];
  int default_sqlite; /* the URL is our own file: create it if needed */
} options;

static int parse_int(const char *s, int lo, int hi, int *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) return -1;
  *out = (int)v;
  return 0;
}

/* A word about a bad command line on stderr; returns -1. */
static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("cio-bugtracker: ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputs("\n", stderr);
  return -1;
}

static int parse(int argc, char **argv, options *o) {
  enum {
    O_DB = 256,
    O_HOST,
    O_PORT,
    O_STATIC,
    O_WORKERS,
    O_SQL,
    O_INIT,
    O_DATA,
    O_BUGS,
    O_FORCE,
    O_LOAD_ONLY,
    O_HELP
  };
  static const struct option longs[] = {{"db", required_argument, 0, O_DB},
                                        {"host", required_argument, 0, O_HOST},
                                        {"port", required_argument, 0, O_PORT},
                                        {"static", required_argument, 0, O_STATIC},
                                        {"workers", required_argument, 0, O_WORKERS},
                                        {"sql", required_argument, 0, O_SQL},
                                        {"init-db", no_argument, 0, O_INIT},
                                        {"data", required_argument, 0, O_DATA},
                                        {"bugs", required_argument, 0, O_BUGS},
                                        {"force", no_argument, 0, O_FORCE},
                                        {"load-only", no_argument, 0, O_LOAD_ONLY},
                                        {"help", no_argument, 0, O_HELP},
                                        {0, 0, 0, 0}};
  int n;
  o->host = "127.0.0.1";
  o->port = 8910;
  o->workers = 1;
  int c;
  while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
    switch (c) {
    case O_DB: o->db = optarg; break;
    case O_HOST: o->host = optarg; break;
    case O_STATIC: o->static_dir = optarg; break;
    case O_INIT: o->init = 1; break;
    case O_FORCE: o->force = 1; break;
    case O_LOAD_ONLY: o->load_only = 1; break;
    case O_PORT:
      if (parse_int(optarg, 0, 65535, &o->port) < 0) return bad("bad --port %s", optarg);
      break;
    case O_WORKERS:
      if (parse_int(optarg, 1, 256, &n) < 0) return bad("bad --workers %s", optarg);
      o->workers = (size_t)n;
      break;
    case O_BUGS:
      if (parse_int(optarg, 1, 10000000, &o->nbugs) < 0) return bad("bad --bugs %s", optarg);
      break;
    case O_SQL:
      if (strcmp(optarg, "seed") == 0)
        o->sql = BT_SQL_SEED;
      else if (strcmp(optarg, "default") == 0)
        o->sql = BT_SQL_DEFAULT;
      else
        return bad("--sql is seed or default, not %s", optarg);
      break;
    case O_DATA:
      if (o->ndata == MAX_DATA) return bad("at most %d --data files", MAX_DATA);
      o->data[o->ndata++] = optarg;
      break;
    case O_HELP: fputs(USAGE, stdout); exit(0);
    default: fputs(USAGE, stderr); return -1;
    }
  }
  if (optind < argc) return bad("unexpected argument %s (see --help)", argv[optind]);
  if ((o->ndata || o->force || o->load_only || o->nbugs) && !o->init)
    return bad("--data, --bugs, --force and --load-only go with --init-db");
  return 0;
}

/* mkdir -p for the directories of path. */
static int make_parents(char *path) {
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    int r = mkdir(path, 0755);
    *p = '/';
    if (r < 0 && errno != EEXIST) return -errno;
  }
  return 0;
}

/* $XDG_DATA_HOME/cio-bugtracker/bugtracker.db (~/.local/share/...). */
static int default_db(options *o) {
  const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
  char path[PATH_MAX];
  if (xdg && *xdg == '/')
    snprintf(path, sizeof path, "%s/cio-bugtracker/bugtracker.db", xdg);
  else if (home && *home)
    snprintf(path, sizeof path, "%s/.local/share/cio-bugtracker/bugtracker.db", home);
  else
    snprintf(path, sizeof path, "bugtracker.db");
  if (path[0] == '/' && make_parents(path) < 0) {
    fprintf(stderr, "cannot create the directory of %s: %s\n", path, strerror(errno));
    return -1;
  }
  snprintf(o->default_db, sizeof o->default_db, "sqlite:%s%s", path[0] == '/' ? "//" : "", path);
  o->db = o->default_db;
  o->default_sqlite = 1;
  return 0;
}

/* url without its password, for logs. */
static const char *redact(const char *url, char *out, size_t cap) {
  const char *scheme = strstr(url, "://");
  const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
  const char *colon = at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
  if (!colon) return url;
  snprintf(out, cap, "%.*s:***%s", (int)(colon - url), url, at);
  return out;
}

/* The installed page, found from the binary's own place (an installed
 * tree may move), else the source tree's (running from a build). */
static const char *static_default(char *buf, size_t cap) {
  struct stat st;
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    char index[PATH_MAX + 64];
    int k = snprintf(buf, cap, "%s/%s", exe, BT_REL_STATIC_DIR);
    if (k > 0 && (size_t)k < cap && snprintf(index, sizeof index, "%s/index.html", buf) > 0 &&
        stat(index, &st) == 0)
      return buf;
  }
  if (stat(BT_SOURCE_STATIC_DIR "/index.html", &st) == 0) return BT_SOURCE_STATIC_DIR;
  return NULL;
}

/* --init-db, or the first run on our own SQLite file: on a loop of its
 * own, before serving. */
static int prepare(void *arg) {
  options *o = arg;
  cio_sql_pool *pool;
  cio_sql_pool_opts po = {.min_size = 1, .max_size = 1};
  char safe[1024];
  const char *name = redact(o->db, safe, sizeof safe);
  int r = cio_sql_pool_open(o->db, &po, &pool);
  if (r < 0) {
    cio_log_error("%s: %s (%s)", name, cio_sql_last_error()->message, cio_strerror(r));
    return r;
  }
  long long have = bt_count_bugs(pool);
  int load = o->init || (o->default_sqlite && have == -ENOENT);
  if (load && have > 0 && !o->force) {
    cio_log_error("mantis_bug_table already holds %lld bugs: --force replaces them", have);
    r = -EEXIST;
  } else if (load) {
    char err[512];
    bt_init_opts io = {.files = o->data, .nfiles = o->ndata, .nbugs = o->nbugs};
    cio_log_info("loading %s into %s", o->ndata ? "the data files" : "the demo dataset", name);
    r = bt_init_db(pool, &io, err, sizeof err);
    if (r < 0)
      cio_log_error("%s", err);
    else
      cio_log_info("%lld bugs loaded", bt_count_bugs(pool));
  } else if (have < 0) {
    cio_log_warning("%s: no MantisBT tables (%s); --init-db creates them", name,
                    cio_sql_last_error()->message);
  }
  cio_sql_pool_close(pool);
  cio_sql_pool_wait_closed(pool);
  cio_sql_pool_free(pool);
  return r;
}

int main(int argc, char **argv) {
  options o;
  memset(&o, 0, sizeof o);
  if (parse(argc, argv, &o) < 0) return 2;
  if (!o.db && default_db(&o) < 0) return 1;
  char static_buf[PATH_MAX];
  if (!o.static_dir)
    o.static_dir = static_default(static_buf, sizeof static_buf);
  else if (!*o.static_dir)
    o.static_dir = NULL;

  char err[512];
  bt_extractor *x = bt_extractor_new(err, sizeof err);
  if (!x) {
    fprintf(stderr, "cio-bugtracker: %s\n", err);
    return 1;
  }
  int r = (o.init || o.default_sqlite) ? cio_run(prepare, &o) : 0;
  if (r < 0 || o.load_only) {
    bt_extractor_free(x);
    return r < 0;
  }
  bt_config cfg = {.db_url = o.db, .sql = o.sql, .static_dir = o.static_dir, .x = x};
  cio_http_app *app = bt_app_new(&cfg, err, sizeof err);
  if (!app) {
    fprintf(stderr, "cio-bugtracker: %s\n", err);
    bt_extractor_free(x);
    return 1;
  }
  char safe[1024];
  cio_log_info("数据库 %s, 查询 %s, 静态文件 %s", redact(o.db, safe, sizeof safe),
               o.sql == BT_SQL_SEED ? "seed" : "default", o.static_dir ? o.static_dir : "(none)");
  cio_http_serve_opts so = {.host = o.host, .port = o.port, .workers = o.workers};
  r = cio_http_run(app, &so);
  cio_http_app_free(app);
  bt_extractor_free(x);
  if (r < 0) fprintf(stderr, "cio-bugtracker: %s\n", cio_strerror(r));
  return r < 0;
}
