/* site.h - the nginx site of tests/http/client/site.sh, for the HTTP
 * client's tests. Include after test.h:
 *
 *   if (site_start() != 0) { fail }       // nginx + upstream on free ports
 *   ... site.http, site.https, site.mtls, site_url("/static/hello.txt") ...
 *   site_stop();
 *
 * site.sh is found next to this header (__FILE__ is absolute in CMake
 * builds) or at $CIO_TEST_SITE_SH. */
#ifndef CIO_TEST_CLIENT_SITE_H
#define CIO_TEST_CLIENT_SITE_H

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
  char dir[256];
  char script[512];
  int http, https, mtls, up;
} site;

static __attribute__((unused)) int site_start(void) {
  char tmpl[] = "/tmp/cio-client-site-XXXXXX";
  if (!mkdtemp(tmpl)) return -1;
  snprintf(site.dir, sizeof site.dir, "%s", tmpl);
  const char *env = getenv("CIO_TEST_SITE_SH");
  if (env) {
    snprintf(site.script, sizeof site.script, "%s", env);
  } else {
    char src[512];
    snprintf(src, sizeof src, "%s", __FILE__);
    snprintf(site.script, sizeof site.script, "%s/site.sh", dirname(src));
  }
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "sh '%s' start '%s'", site.script, site.dir);
  if (system(cmd) != 0) return -1;
  char path[300];
  snprintf(path, sizeof path, "%s/env", site.dir);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  char line[64];
  while (fgets(line, sizeof line, f)) {
    sscanf(line, "HTTP=%d", &site.http);
    sscanf(line, "HTTPS=%d", &site.https);
    sscanf(line, "MTLS=%d", &site.mtls);
    sscanf(line, "UP=%d", &site.up);
  }
  fclose(f);
  return site.http && site.https && site.mtls ? 0 : -1;
}

static __attribute__((unused)) void site_stop(void) {
  char cmd[1200];
  if (!site.dir[0]) return;
  snprintf(cmd, sizeof cmd, "sh '%s' stop '%s'; rm -rf '%s'", site.script, site.dir, site.dir);
  if (system(cmd) != 0) fprintf(stderr, "could not stop the site in %s\n", site.dir);
}

/* "http://127.0.0.1:<port><path>" in one of 8 rotating buffers. */
static __attribute__((unused)) const char *site_url(const char *path) {
  static char buf[8][512];
  static int i;
  char *b = buf[i++ % 8];
  snprintf(b, sizeof buf[0], "http://127.0.0.1:%d%s", site.http, path);
  return b;
}

static __attribute__((unused)) const char *site_surl(const char *host, const char *path) {
  static char buf[8][512];
  static int i;
  char *b = buf[i++ % 8];
  snprintf(b, sizeof buf[0], "https://%s:%d%s", host, site.https, path);
  return b;
}

/* A file of the site's directory (certificates: "certs/ca.pem"). */
static __attribute__((unused)) const char *site_path(const char *name) {
  static char buf[8][512];
  static int i;
  char *b = buf[i++ % 8];
  snprintf(b, sizeof buf[0], "%s/%s", site.dir, name);
  return b;
}

#endif
