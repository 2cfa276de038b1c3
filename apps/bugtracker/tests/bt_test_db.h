/* bt_test_db.h - databases for the bug-tracker's C tests: the servers the
 * ctest fixture started (scripts/servers, URLs under $CIO_SERVERS_DIR, or
 * CIO_TEST_PG_URL / CIO_TEST_MYSQL_URL), a database of the test's own on
 * each, and a SQLite file under the build tree. Include after test.h. */
#ifndef BT_TEST_DB_H
#define BT_TEST_DB_H

#include "load.h"
#include "query.h"

#include <cio.h>
#include <cio/sql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BT_UNUSED __attribute__((unused))

/* The server URL for "pg" / "mariadb", or -1 when there is none. */
static BT_UNUSED int bt_server_url(const char *name, char *out, size_t cap) {
  const char *u = getenv(strcmp(name, "pg") == 0 ? "CIO_TEST_PG_URL" : "CIO_TEST_MYSQL_URL");
  if (u && *u) {
    snprintf(out, cap, "%s", u);
    return 0;
  }
  const char *dir = getenv("CIO_SERVERS_DIR");
  if (!dir) return -1;
  char path[1024];
  snprintf(path, sizeof path, "%s/%s/url", dir, name);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  int ok = fgets(out, (int)cap, f) != NULL;
  fclose(f);
  out[strcspn(out, "\r\n")] = '\0';
  return ok ? 0 : -1;
}

/* url with its database (the path) replaced by db. */
static BT_UNUSED void bt_url_with_db(const char *url, const char *db, char *out, size_t cap) {
  const char *at = strstr(url, "://");
  const char *slash = at ? strchr(at + 3, '/') : NULL;
  const char *q = slash ? strchr(slash, '?') : NULL;
  size_t keep = slash ? (size_t)(slash - url) : strlen(url);
  snprintf(out, cap, "%.*s/%s%s", (int)keep, url, db, q ? q : "");
}

/* Create database db on the server of url (connected to url's own
 * database) unless it exists. Task only. Returns 0 or an error. */
static BT_UNUSED int bt_create_database(const char *url, const char *db) {
  cio_sql_pool *p;
  int r = cio_sql_pool_open(url, NULL, &p);
  if (r < 0) {
    fprintf(stderr, "%s: %s\n", url, cio_sql_last_error()->message);
    return r;
  }
  char sql[256];
  cio_sql_result *res = NULL;
  if (strcmp(cio_sql_pool_driver(p), "mysql") == 0) {
    snprintf(sql, sizeof sql,
             "CREATE DATABASE IF NOT EXISTS %s CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
             db);
    r = cio_sql_pool_query(p, sql, NULL, 0, NULL);
  } else {
    cio_sql_value v = cio_sql_text(db);
    r = cio_sql_pool_query(p, "SELECT 1 FROM pg_database WHERE datname = $1", &v, 1, &res);
    if (r == 0 && cio_sql_result_nrows(res) == 0) {
      snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
      r = cio_sql_pool_query(p, sql, NULL, 0, NULL);
    }
    cio_sql_result_free(res);
  }
  if (r < 0) fprintf(stderr, "create database %s: %s\n", db, cio_sql_last_error()->message);
  cio_sql_pool_close(p);
  cio_sql_pool_wait_closed(p);
  cio_sql_pool_free(p);
  return r;
}

/* The URL of the test's own database `db` on server `name` ("pg",
 * "mariadb"; created if needed) or of the SQLite file `db`.sqlite in dir.
 * Returns 0, or 1 when the server is not available (the caller skips it).
 * Task only. */
static BT_UNUSED int bt_test_url(const char *name, const char *db, const char *dir, char *out,
                                 size_t cap) {
  if (strcmp(name, "sqlite") == 0) {
    snprintf(out, cap, "sqlite://%s/%s.sqlite", dir, db);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.sqlite", dir, db);
    remove(path);
    return 0;
  }
  char base[512];
  if (bt_server_url(name, base, sizeof base) < 0) return 1;
  bt_url_with_db(base, db, out, cap);
  return bt_create_database(base, db) < 0 ? -1 : 0;
}

/* Open a pool, reporting failures. */
static BT_UNUSED cio_sql_pool *bt_open_pool(const char *url, int max) {
  cio_sql_pool_opts o = {.min_size = 1, .max_size = max};
  cio_sql_pool *p = NULL;
  int r = cio_sql_pool_open(url, &o, &p);
  if (r < 0)
    fprintf(stderr, "pool_open(%s): %s: %s\n", url, cio_strerror(r), cio_sql_last_error()->message);
  return p;
}

static BT_UNUSED void bt_close_pool(cio_sql_pool *p) {
  if (!p) return;
  cio_sql_pool_close(p);
  cio_sql_pool_wait_closed(p);
  cio_sql_pool_free(p);
}

#endif
