/* test_certs.h - the throw-away PKI of tests/io/certs.sh for tests that run
 * TLS servers and clients. Include after test.h:
 *
 *   if (certs_make() != 0) { ...skip or fail... }
 *   cio_tls_ctx *sc = certs_server_ctx(), *cc = certs_client_ctx();
 *   ...
 *   certs_remove();
 *
 * certs_make() runs certs.sh (found next to this header: __FILE__ is
 * absolute in CMake builds, or at $CIO_TEST_CERTS_SH) into a fresh temp
 * directory; it needs the openssl command. The files are described in
 * certs.sh.
 */
#ifndef CIO_TEST_CERTS_H
#define CIO_TEST_CERTS_H

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>

#include <cio/tls.h>

static char certs_dir[256];

/* dir/name in one of 8 rotating buffers. */
static __attribute__((unused)) const char *certs_path(const char *name) {
  static char buf[8][512];
  static int i;
  char *b = buf[i++ % 8];
  snprintf(b, sizeof buf[0], "%s/%s", certs_dir, name);
  return b;
}

static __attribute__((unused)) int certs_make(void) {
  char tmpl[] = "/tmp/cio-certs-XXXXXX";
  if (!mkdtemp(tmpl)) return -1;
  snprintf(certs_dir, sizeof certs_dir, "%s", tmpl);
  char script[512];
  const char *env = getenv("CIO_TEST_CERTS_SH");
  if (env) {
    snprintf(script, sizeof script, "%s", env);
  } else {
    char src[512];
    snprintf(src, sizeof src, "%s", __FILE__);
    snprintf(script, sizeof script, "%s/certs.sh", dirname(src));
  }
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "sh '%s' '%s' >/dev/null", script, certs_dir);
  return system(cmd) == 0 ? 0 : -1;
}

static __attribute__((unused)) void certs_remove(void) {
  char cmd[400];
  if (!certs_dir[0]) return;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", certs_dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", certs_dir);
}

/* A server context for "localhost" / 127.0.0.1, and a client context that
 * trusts the test CA. NULL with errno on failure. */
static __attribute__((unused)) cio_tls_ctx *certs_server_ctx(void) {
  cio_tls_server_opts o = {.cert_file = certs_path("server.pem"),
                           .key_file = certs_path("server.key")};
  return cio_tls_ctx_new_server(&o);
}

static __attribute__((unused)) cio_tls_ctx *certs_client_ctx(void) {
  cio_tls_client_opts o = {.ca_file = certs_path("ca.pem")};
  return cio_tls_ctx_new_client(&o);
}

#endif
