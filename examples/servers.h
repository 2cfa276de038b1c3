/* servers.h - for the database examples: a server to talk to.
 *
 * The URL comes from the environment when one is configured (CIO_PG_URL /
 * CIO_MYSQL_URL, or the tests' CIO_TEST_PG_URL / CIO_TEST_MYSQL_URL);
 * otherwise the example starts a private server of its own with
 * scripts/servers (data under the build tree, a port of its own) and stops
 * it at the end. When the server binaries are not installed the example
 * says so and is skipped. */
#ifndef CIO_EXAMPLE_SERVERS_H
#define CIO_EXAMPLE_SERVERS_H

#include <cio.h>
#include <cio/process.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct example_server {
  const char *name; /* "pg" or "mariadb" */
  char url[512];
  bool started; /* by us: stop it at the end */
} example_server;

/* Run scripts/servers CMD NAME; returns its exit code (or an error); its
 * standard output, if out, into out. */
static int servers_script(const char *cmd, const char *name, char *out, size_t cap) {
  const char *argv[] = {CIO_SOURCE_DIR "/scripts/servers", cmd, name, NULL};
  cio_process_opts o = {.out = {out ? CIO_STDIO_PIPE : CIO_STDIO_INHERIT, 0}};
  cio_process *p;
  setenv("CIO_SERVERS_DIR", CIO_SERVERS_DIR, 0);
  int r = cio_process_spawn(argv, &o, &p);
  if (r < 0) return r;
  int st;
  if (out) {
    char *data = NULL;
    size_t len = 0;
    st = cio_process_communicate(p, NULL, 0, &data, &len, NULL, NULL);
    snprintf(out, cap, "%s", data ? data : "");
    free(data);
  } else {
    st = cio_process_wait(p);
  }
  cio_process_free(p);
  return st < 0 ? st : cio_process_returncode(st);
}

/* 0: s->url is ready; 1: no server available (say why and skip). */
static int example_server_open(example_server *s, const char *name) {
  memset(s, 0, sizeof *s);
  s->name = name;
  bool pg = !strcmp(name, "pg");
  const char *env = getenv(pg ? "CIO_PG_URL" : "CIO_MYSQL_URL");
  if (!env || !*env) env = getenv(pg ? "CIO_TEST_PG_URL" : "CIO_TEST_MYSQL_URL");
  if (env && *env) {
    snprintf(s->url, sizeof s->url, "%s", env);
    return 0;
  }
  char status[256] = "";
  servers_script("status", name, status, sizeof status);
  bool running = strstr(status, ": running") != NULL;
  if (!running && servers_script("start", name, NULL, 0) != 0) {
    printf("skipped: could not start a private %s server (scripts/servers)\n", name);
    return 1;
  }
  char path[600];
  snprintf(path, sizeof path, "%s/%s/url", CIO_SERVERS_DIR, name);
  FILE *f = fopen(path, "r");
  if (!f || !fgets(s->url, sizeof s->url, f)) {
    if (f) fclose(f);
    printf("skipped: no %s server binaries here (scripts/deps installs them)\n",
           pg ? "PostgreSQL" : "MariaDB");
    return 1;
  }
  fclose(f);
  s->url[strcspn(s->url, "\r\n")] = '\0';
  s->started = !running;
  return 0;
}

static void example_server_close(example_server *s) {
  if (s->started) servers_script("stop", s->name, NULL, 0);
  s->started = false;
}

#endif
