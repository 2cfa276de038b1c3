/* load.c - the schema script, then rows in multi-row INSERTs. */
#include "load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS  16
#define MAX_ROWS  256               /* rows per INSERT */
#define MAX_BYTES (4 * 1024 * 1024) /* text bytes per INSERT (MariaDB's packet) */

static const char *const TABLES[BT_T_COUNT] = {"mantis_bug_table", "mantis_bug_text_table",
                                               "mantis_bugnote_table", "mantis_bugnote_text_table",
                                               "mantis_bug_revision_table"};

const char *bt_table_name(int table) {
  return table >= 0 && table < BT_T_COUNT ? TABLES[table] : NULL;
}

struct bt_load {
  cio_sql_conn *c;
  /* The batch being built: rows of one table with the same columns. */
  int table;
  size_t ncols, nrows, bytes;
  char *cols[MAX_COLS];
  cio_sql_value *vals; /* nrows * ncols */
  char **texts;        /* copies of the batch's texts, one per value */
  size_t counts[BT_T_COUNT];
};

int bt_load_begin(cio_sql_conn *c, bt_db db, bt_load **out) {
  *out = NULL;
  bt_load *l = calloc(1, sizeof *l);
  if (!l) return -ENOMEM;
  l->c = c;
  l->table = -1;
  l->vals = calloc((size_t)MAX_ROWS * MAX_COLS, sizeof *l->vals);
  l->texts = calloc((size_t)MAX_ROWS * MAX_COLS, sizeof *l->texts);
  if (!l->vals || !l->texts) {
    bt_load_free(l);
    return -ENOMEM;
  }
  int r = cio_sql_exec(c, bt_schema_sql(db));
  if (r == 0) r = cio_sql_begin(c);
  if (r < 0) {
    bt_load_free(l);
    return r;
  }
  *out = l;
  return 0;
}

static void clear_batch(bt_load *l) {
  for (size_t i = 0; i < l->nrows * l->ncols; i++) {
    free(l->texts[i]);
    l->texts[i] = NULL;
  }
  l->nrows = 0;
  l->bytes = 0;
}

static void clear_cols(bt_load *l) {
  for (size_t i = 0; i < l->ncols; i++) {
    free(l->cols[i]);
    l->cols[i] = NULL;
  }
  l->ncols = 0;
  l->table = -1;
}

/* INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), ... */
static char *insert_sql(const bt_load *l) {
  size_t cap = 64 + strlen(TABLES[l->table]);
  for (size_t i = 0; i < l->ncols; i++) cap += strlen(l->cols[i]) + 2;
  cap += l->nrows * (4 + l->ncols * 9);
  char *s = malloc(cap), *p = s, *end = s + cap;
  if (!s) return NULL;
  p += snprintf(p, (size_t)(end - p), "INSERT INTO %s (", TABLES[l->table]);
  for (size_t i = 0; i < l->ncols; i++)
    p += snprintf(p, (size_t)(end - p), "%s%s", i ? ", " : "", l->cols[i]);
  p += snprintf(p, (size_t)(end - p), ") VALUES ");
  size_t k = 0;
  for (size_t r = 0; r < l->nrows; r++) {
    p += snprintf(p, (size_t)(end - p), "%s(", r ? ", " : "");
    for (size_t i = 0; i < l->ncols; i++)
      p += snprintf(p, (size_t)(end - p), "%s$%zu", i ? ", " : "", ++k);
    p += snprintf(p, (size_t)(end - p), ")");
  }
  return s;
}

static int flush(bt_load *l) {
  if (!l->nrows) return 0;
  char *sql = insert_sql(l);
  if (!sql) return -ENOMEM;
  int r = cio_sql_query(l->c, sql, l->vals, l->nrows * l->ncols, NULL);
  free(sql);
  if (r == 0) l->counts[l->table] += l->nrows;
  clear_batch(l);
  return r;
}

static int same_shape(const bt_load *l, int table, const char *const *cols, size_t ncols) {
  if (l->table != table || l->ncols != ncols) return 0;
  for (size_t i = 0; i < ncols; i++)
    if (strcmp(l->cols[i], cols[i]) != 0) return 0;
  return 1;
}

int bt_load_row(bt_load *l, int table, const char *const *cols, size_t ncols,
                const cio_sql_value *vals) {
  if (table < 0 || table >= BT_T_COUNT || ncols == 0 || ncols > MAX_COLS) return -EINVAL;
  size_t bytes = 0;
  for (size_t i = 0; i < ncols; i++)
    if (vals[i].type == CIO_SQL_TEXT || vals[i].type == CIO_SQL_BLOB) bytes += vals[i].len;
  int r = 0;
  if (!same_shape(l, table, cols, ncols)) {
    if ((r = flush(l)) < 0) return r;
    clear_cols(l);
    for (size_t i = 0; i < ncols; i++)
      if (!(l->cols[l->ncols++] = strdup(cols[i]))) return -ENOMEM;
    l->table = table;
  } else if (l->nrows == MAX_ROWS || l->bytes + bytes > MAX_BYTES ||
             (l->nrows + 1) * ncols > 30000) {
    if ((r = flush(l)) < 0) return r;
  }
  size_t base = l->nrows * ncols;
  for (size_t i = 0; i < ncols; i++) {
    cio_sql_value v = vals[i];
    if (v.type == CIO_SQL_TEXT || v.type == CIO_SQL_BLOB) {
      char *copy = malloc(v.len + 1);
      if (!copy) return -ENOMEM;
      if (v.len) memcpy(copy, v.v.p, v.len);
      copy[v.len] = '\0';
      l->texts[base + i] = copy;
      v.v.p = copy;
    }
    l->vals[base + i] = v;
  }
  l->nrows++;
  l->bytes += bytes;
  return 0;
}

int bt_load_end(bt_load *l) {
  int r = flush(l);
  return r == 0 ? cio_sql_commit(l->c) : r;
}

size_t bt_load_count(const bt_load *l, int table) {
  return table >= 0 && table < BT_T_COUNT ? l->counts[table] : 0;
}

void bt_load_free(bt_load *l) {
  if (!l) return;
  /* An open transaction is rolled back by the pool when the connection
   * is released (cio_sql_release). */
  if (l->vals && l->texts) clear_batch(l);
  clear_cols(l);
  free(l->vals);
  free(l->texts);
  free(l);
}
