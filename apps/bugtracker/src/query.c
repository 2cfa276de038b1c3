/* query.c - the lookup's SQL per database, and the answer it gives. */
#include "query.h"

#include "format.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The files of sql/, embedded by cmake/embed.cmake. */
extern const char bt_sql_seed_mysql[], bt_sql_seed_pg[], bt_sql_seed_sqlite[];
extern const char bt_sql_schema_mysql[], bt_sql_schema_pg[], bt_sql_schema_sqlite[];
extern const char bt_sql_lookup_bug_mysql[], bt_sql_lookup_bug_pg[], bt_sql_lookup_bug_sqlite[];
extern const char bt_sql_lookup_notes_mysql[], bt_sql_lookup_notes_pg[],
    bt_sql_lookup_notes_sqlite[];
extern const char bt_sql_lookup_revisions_mysql[], bt_sql_lookup_revisions_pg[],
    bt_sql_lookup_revisions_sqlite[];

enum { Q_SEED, Q_SCHEMA, Q_BUG, Q_NOTES, Q_REVISIONS };

static const char *const SQL[5][3] = {
    {bt_sql_seed_mysql, bt_sql_seed_pg, bt_sql_seed_sqlite},
    {bt_sql_schema_mysql, bt_sql_schema_pg, bt_sql_schema_sqlite},
    {bt_sql_lookup_bug_mysql, bt_sql_lookup_bug_pg, bt_sql_lookup_bug_sqlite},
    {bt_sql_lookup_notes_mysql, bt_sql_lookup_notes_pg, bt_sql_lookup_notes_sqlite},
    {bt_sql_lookup_revisions_mysql, bt_sql_lookup_revisions_pg, bt_sql_lookup_revisions_sqlite}};

/* The separators of the seed's two GROUP_CONCATs. */
static const char NOTE_SEP[] = "\n---\n";
static const char REVISION_SEP[] = ",";

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

/* The statement without the comment lines the file starts with: the sql
 * layer hashes and scans the text at every call (its statement cache, its
 * placeholders), and the server need not see them. */
static const char *statement(int q, bt_db db) {
  const char *s = SQL[q][db];
  while (s[0] == '-' && s[1] == '-') {
    const char *nl = strchr(s, '\n');
    if (!nl) break;
    s = nl + 1;
  }
  return s;
}

const char *bt_seed_sql(bt_db db) { return statement(Q_SEED, db); }
const char *bt_schema_sql(bt_db db) { return SQL[Q_SCHEMA][db]; }

/* The longest prefix of p[0..len) of at most max bytes that does not split
 * a UTF-8 sequence (MariaDB's Well_formed_prefix, for well-formed text). */
static size_t utf8_floor(const char *p, size_t len, size_t max) {
  if (len <= max) return len;
  const unsigned char *s = (const unsigned char *)p;
  size_t n = max;
  /* s[n] is the first byte left out: if it continues a character, that
   * character straddles the cut and goes too (back to its lead byte). */
  for (int i = 0; i < 3 && n > 0 && (s[n] & 0xc0) == 0x80; i++) n--;
  return n;
}

void bt_text_cut(bt_text *t, size_t max) {
  if (!t->null) t->len = utf8_floor(t->p, t->len, max);
}

/* ---- reading rows ---- */

static int text_at(const cio_sql_row *row, size_t col, bt_text *t) {
  const cio_sql_value *v = cio_sql_row_at(row, col);
  if (!v) return -EPROTO;
  t->p = NULL;
  t->len = 0;
  t->null = cio_sql_is_null(v) == 1;
  if (t->null) return 0;
  /* A number where the seed's columns hold text: not MantisBT's tables. */
  return cio_sql_get_text(v, &t->p, &t->len) == 0 ? 0 : -EPROTO;
}

/* id, summary, version, steps, additional: the first five columns of both
 * the seed's row and the bug statement's. */
static int bug_head(const cio_sql_row *row, bt_bug *b) {
  b->id = cio_sql_row_at(row, 0);
  int r = b->id ? 0 : -EPROTO;
  bt_text *cols[] = {&b->summary, &b->version, &b->steps, &b->additional};
  for (size_t i = 0; i < 4 && r == 0; i++) r = text_at(row, i + 1, cols[i]);
  return r;
}

static int run(cio_sql_pool *pool, cio_sql_conn *c, const char *sql, const int64_t *id,
               cio_sql_result **out) {
  cio_sql_value arg = id ? cio_sql_int(*id) : cio_sql_null();
  return c ? cio_sql_query(c, sql, &arg, 1, out) : cio_sql_pool_query(pool, sql, &arg, 1, out);
}

/* ---- the seed's query ---- */

static int from_seed(cio_sql_pool *pool, cio_sql_conn *c, bt_db db, const int64_t *id,
                     bt_matcher *m, bt_answer *a) {
  a->seed = 1;
  a->statements++;
  int r = run(pool, c, statement(Q_SEED, db), id, &a->res[0]);
  if (r < 0) return r;
  const cio_sql_row *row = cio_sql_result_row(a->res[0], 0);
  if (!row) return 0;
  if (cio_sql_result_ncols(a->res[0]) < 7) return -EPROTO;
  a->found = 1;
  if ((r = bug_head(row, &a->bug)) < 0 || (r = text_at(row, 5, &a->bug.notes)) < 0 ||
      (r = text_at(row, 6, &a->bug.revisions)) < 0)
    return r;
  /* string_agg and SQLite's group_concat have no limit: MariaDB's default. */
  if (db != BT_DB_MYSQL) {
    bt_text_cut(&a->bug.notes, BT_GROUP_CONCAT_MAX_LEN);
    bt_text_cut(&a->bug.revisions, BT_GROUP_CONCAT_MAX_LEN);
  }
  a->notes_read = a->revisions_read = 1;
  return bt_reply(m, &a->bug, &a->cause, &a->fix);
}

/* ---- the per-bug statements ---- */

typedef struct lookup {
  cio_sql_pool *pool;
  cio_sql_conn *c;
  bt_db db;
  const int64_t *id;
  size_t max_len; /* group_concat_max_len */
  int ties;       /* MariaDB: notes share a date */
  bt_answer *a;
} lookup;

/* GROUP_CONCAT(col ORDER BY ... SEPARATOR sep) over the rows' column 0, as
 * MariaDB computes it (Item_func_group_concat, dump_leaf_key): NULLs are
 * skipped (NULL when nothing is left); each value is kept to its first
 * max_len bytes on a character boundary (the ORDER BY tree stores it so);
 * then separator and value are appended in turn until the result passes
 * max_len bytes, when what the last step appended is cut to a character
 * boundary at max_len and the rest is dropped. */
static int join_rows(const cio_sql_result *res, const char *sep, size_t max_len, char **buf,
                     bt_text *out) {
  size_t n = cio_sql_result_nrows(res), seplen = strlen(sep), cap = 0, parts = 0;
  for (size_t i = 0; i < n && cap <= max_len; i++) {
    bt_text t;
    int r = text_at(cio_sql_result_row(res, i), 0, &t);
    if (r < 0) return r;
    if (!t.null) cap += (parts++ ? seplen : 0) + (t.len < max_len ? t.len : max_len);
  }
  out->p = NULL;
  out->len = 0;
  out->null = parts == 0;
  if (!parts) return 0;
  char *p = malloc(cap + 1);
  if (!p) return -ENOMEM;
  size_t len = 0;
  parts = 0;
  for (size_t i = 0; i < n; i++) {
    bt_text t;
    text_at(cio_sql_result_row(res, i), 0, &t);
    if (t.null) continue;
    size_t old = len, vlen = utf8_floor(t.p, t.len, max_len);
    if (parts++) memcpy(p + len, sep, seplen), len += seplen;
    if (vlen) memcpy(p + len, t.p, vlen);
    len += vlen;
    if (len > max_len) {
      len = old + utf8_floor(p + old, len - old, max_len - old);
      break;
    }
  }
  p[len] = '\0';
  *buf = p;
  out->p = p;
  out->len = len;
  return 0;
}

/* Two notes with the same date (both NULL included): rows come ordered by
 * date, so neighbours. */
static int has_ties(const cio_sql_result *res) {
  for (size_t i = 1; i < cio_sql_result_nrows(res); i++) {
    const cio_sql_value *x = cio_sql_cell(res, i - 1, 1), *y = cio_sql_cell(res, i, 1);
    int xn = cio_sql_is_null(x) == 1, yn = cio_sql_is_null(y) == 1;
    int64_t u, v;
    if (xn && yn) return 1;
    if (!xn && !yn && cio_sql_get_int64(x, &u) == 0 && cio_sql_get_int64(y, &v) == 0 && u == v)
      return 1;
  }
  return 0;
}

static int read_notes(lookup *l) {
  bt_answer *a = l->a;
  a->statements++;
  int r = run(l->pool, l->c, statement(Q_NOTES, l->db), l->id, &a->res[1]);
  if (r < 0) return r;
  if (cio_sql_result_ncols(a->res[1]) < 2) return -EPROTO;
  if (l->db == BT_DB_MYSQL && has_ties(a->res[1])) {
    l->ties = 1;
    return 0;
  }
  a->notes_read = 1;
  return join_rows(a->res[1], NOTE_SEP, l->max_len, &a->joined[0], &a->bug.notes);
}

static int read_revisions(lookup *l) {
  bt_answer *a = l->a;
  a->statements++;
  int r = run(l->pool, l->c, statement(Q_REVISIONS, l->db), l->id, &a->res[2]);
  if (r < 0) return r;
  a->revisions_read = 1;
  return join_rows(a->res[2], REVISION_SEP, l->max_len, &a->joined[1], &a->bug.revisions);
}

/* bt_text_fn: the texts of format_(), read when it asks. Ties stop the
 * reply here (-EAGAIN): the seed's query answers instead. */
static int provide(void *arg, int which, const bt_text **out) {
  lookup *l = arg;
  bt_answer *a = l->a;
  int r = 0;
  if (which == 1 && !a->notes_read) r = read_notes(l);
  if (which == 2 && !a->revisions_read) r = read_revisions(l);
  if (r == 0 && l->ties) r = -EAGAIN;
  *out = which == 0 ? &a->bug.additional : which == 1 ? &a->bug.notes : &a->bug.revisions;
  return r;
}

static int from_rows(lookup *l, bt_matcher *m, int full) {
  bt_answer *a = l->a;
  a->statements++;
  int r = run(l->pool, l->c, statement(Q_BUG, l->db), l->id, &a->res[0]);
  if (r < 0) return r;
  const cio_sql_row *row = cio_sql_result_row(a->res[0], 0);
  if (!row) return 0;
  if (cio_sql_result_ncols(a->res[0]) < 6) return -EPROTO;
  a->found = 1;
  if ((r = bug_head(row, &a->bug)) < 0) return r;
  /* MariaDB's session group_concat_max_len; NULL elsewhere. */
  int64_t max = BT_GROUP_CONCAT_MAX_LEN;
  const cio_sql_value *v = cio_sql_row_at(row, 5);
  if (cio_sql_is_null(v) == 0 && cio_sql_get_int64(v, &max) == -ERANGE) max = INT64_MAX;
  l->max_len = max < 0 ? (size_t)INT64_MAX : (size_t)max;
  a->bug.notes.null = a->bug.revisions.null = 1;
  if (full && (r = read_notes(l)) == 0 && !l->ties) r = read_revisions(l);
  if (r == 0 && !l->ties) r = bt_reply_from(m, provide, l, &a->cause, &a->fix);
  return r;
}

void bt_answer_clear(bt_answer *a) {
  for (int i = 0; i < 3; i++) cio_sql_result_free(a->res[i]);
  for (int i = 0; i < 2; i++) free(a->joined[i]);
  memset(a, 0, sizeof *a);
}

int bt_answer_fetch(cio_sql_pool *pool, cio_sql_conn *c, bt_db db, bt_sql_mode mode,
                    const int64_t *id, bt_matcher *m, int full, bt_answer *a) {
  memset(a, 0, sizeof *a);
  if (mode == BT_SQL_SEED) return from_seed(pool, c, db, id, m, a);
  lookup l = {.pool = pool, .c = c, .db = db, .id = id, .a = a};
  int r = from_rows(&l, m, full);
  if (l.ties && (r == 0 || r == -EAGAIN)) {
    int statements = a->statements;
    bt_answer_clear(a);
    r = from_seed(pool, c, db, id, m, a);
    a->statements += statements;
  }
  return r;
}
