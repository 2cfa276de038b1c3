/* query.c - the lookup's SQL per database, and reading its row. */
#include "query.h"

#include <errno.h>
#include <string.h>

/* The files of sql/, embedded by cmake/embed.cmake. */
extern const char bt_sql_seed_mysql[], bt_sql_default_mysql[], bt_sql_schema_mysql[];
extern const char bt_sql_seed_pg[], bt_sql_default_pg[], bt_sql_schema_pg[];
extern const char bt_sql_seed_sqlite[], bt_sql_default_sqlite[], bt_sql_schema_sqlite[];

int bt_db_of(const cio_sql_pool *pool) {
  const char *d = cio_sql_pool_driver(pool);
  if (strcmp(d, "mysql") == 0) return BT_DB_MYSQL;
  if (strcmp(d, "postgresql") == 0) return BT_DB_PG;
  if (strcmp(d, "sqlite") == 0) return BT_DB_SQLITE;
  return -EPROTONOSUPPORT;
}

const char *bt_db_name(bt_db db) {
  switch (db) {
  case BT_DB_MYSQL: return "mysql";
  case BT_DB_PG: return "postgresql";
  case BT_DB_SQLITE: return "sqlite";
  }
  return "?";
}

const char *bt_query_sql(bt_db db, bt_sql_mode mode) {
  int seed = mode == BT_SQL_SEED;
  switch (db) {
  case BT_DB_MYSQL: return seed ? bt_sql_seed_mysql : bt_sql_default_mysql;
  case BT_DB_PG: return seed ? bt_sql_seed_pg : bt_sql_default_pg;
  case BT_DB_SQLITE: return seed ? bt_sql_seed_sqlite : bt_sql_default_sqlite;
  }
  return NULL;
}

const char *bt_schema_sql(bt_db db) {
  switch (db) {
  case BT_DB_MYSQL: return bt_sql_schema_mysql;
  case BT_DB_PG: return bt_sql_schema_pg;
  case BT_DB_SQLITE: return bt_sql_schema_sqlite;
  }
  return NULL;
}

/* One statement on the pool, or on c when it is not NULL. */
static int run(cio_sql_pool *pool, cio_sql_conn *c, const char *sql, const int64_t *id,
               cio_sql_result **out) {
  cio_sql_value arg = id ? cio_sql_int(*id) : cio_sql_null();
  return c ? cio_sql_query(c, sql, &arg, 1, out) : cio_sql_pool_query(pool, sql, &arg, 1, out);
}

/* The default query's eighth column on MariaDB: notes of the bug that share
 * their date_submitted with another. */
static int has_ties(const cio_sql_result *res) {
  int64_t ties = 0;
  return cio_sql_result_nrows(res) == 1 && cio_sql_result_ncols(res) > 7 &&
         cio_sql_get_int64(cio_sql_cell(res, 0, 7), &ties) == 0 && ties > 0;
}

static int lookup(cio_sql_pool *pool, cio_sql_conn *c, bt_db db, bt_sql_mode mode,
                  const int64_t *id, cio_sql_result **out) {
  int r = run(pool, c, bt_query_sql(db, mode), id, out);
  if (r == 0 && db == BT_DB_MYSQL && mode == BT_SQL_DEFAULT && has_ties(*out)) {
    cio_sql_result_free(*out);
    r = run(pool, c, bt_query_sql(db, BT_SQL_SEED), id, out);
  }
  return r;
}

int bt_query(cio_sql_pool *pool, bt_db db, bt_sql_mode mode, const int64_t *id,
             cio_sql_result **out) {
  return lookup(pool, NULL, db, mode, id, out);
}

int bt_query_conn(cio_sql_conn *c, bt_db db, bt_sql_mode mode, const int64_t *id,
                  cio_sql_result **out) {
  return lookup(cio_sql_conn_pool(c), c, db, mode, id, out);
}

static int text_of(const cio_sql_row *row, size_t col, bt_text *t) {
  const cio_sql_value *v = cio_sql_row_at(row, col);
  if (!v) return -EPROTO;
  t->p = NULL;
  t->len = 0;
  t->null = cio_sql_is_null(v) == 1;
  if (t->null) return 0;
  if (cio_sql_get_text(v, &t->p, &t->len) == 0) return 0;
  return -EPROTO; /* a number where the seed's columns hold text */
}

int bt_bug_from_row(const cio_sql_row *row, bt_db db, bt_bug *out) {
  if (cio_sql_result_ncols(cio_sql_row_result(row)) < 7) return -EPROTO;
  out->id = cio_sql_row_at(row, 0);
  int r = 0;
  bt_text *cols[] = {&out->summary,    &out->version, &out->steps,
                     &out->additional, &out->notes,   &out->revisions};
  for (size_t i = 0; i < 6 && r == 0; i++) r = text_of(row, i + 1, cols[i]);
  if (r < 0) return r;
  if (db != BT_DB_MYSQL) {
    bt_text_cut(&out->notes, BT_GROUP_CONCAT_MAX_LEN);
    bt_text_cut(&out->revisions, BT_GROUP_CONCAT_MAX_LEN);
  }
  return 0;
}

void bt_text_cut(bt_text *t, size_t max) {
  if (t->null || t->len <= max) return;
  const unsigned char *s = (const unsigned char *)t->p;
  size_t n = max;
  /* s[n] is the first byte left out: if it continues a character, that
   * character straddles the cut and goes too (back to its lead byte). */
  for (int i = 0; i < 3 && n > 0 && (s[n] & 0xc0) == 0x80; i++) n--;
  t->len = n;
}
