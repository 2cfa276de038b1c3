/* result.c - results (rows of cells) and the typed getters on values. */
#include "sql_internal.h"

#include <math.h>
#include <stdio.h>

/* Arena chunks for bytes copied into a result (MariaDB and SQLite cells). */
struct cio__sql_chunk {
  cio__sql_chunk *next;
  size_t used, cap;
  _Alignas(16) char data[];
};

cio_sql_result *cio__sql_result_new(size_t ncols) {
  cio_sql_result *res = calloc(1, sizeof *res);
  if (!res) return NULL;
  res->ncols = ncols;
  if (ncols && !(res->names = calloc(ncols, sizeof *res->names))) {
    free(res);
    return NULL;
  }
  return res;
}

int cio__sql_result_set_name(cio_sql_result *res, size_t col, const char *name, size_t len) {
  char *s = cio__sql_result_alloc(res, len + 1);
  if (!s) return -ENOMEM;
  memcpy(s, name, len);
  s[len] = '\0';
  res->names[col] = s;
  return 0;
}

void *cio__sql_result_alloc(cio_sql_result *res, size_t n) {
  n = (n + 15) & ~(size_t)15;
  cio__sql_chunk *c = res->chunks;
  if (!c || c->cap - c->used < n) {
    size_t cap = n > 8192 ? n : 8192;
    if (c && c->cap * 2 > cap && c->cap < (1u << 20)) cap = c->cap * 2 > n ? c->cap * 2 : n;
    c = malloc(sizeof *c + cap);
    if (!c) return NULL;
    c->cap = cap;
    c->used = 0;
    c->next = res->chunks;
    res->chunks = c;
  }
  void *p = c->data + c->used;
  c->used += n;
  return p;
}

int cio__sql_result_copy(cio_sql_result *res, cio_sql_value *v, cio_sql_type type, const void *p,
                         size_t len) {
  char *s = cio__sql_result_alloc(res, len + 1);
  if (!s) return -ENOMEM;
  if (len) memcpy(s, p, len);
  s[len] = '\0';
  v->type = type;
  v->len = len;
  v->v.p = s;
  return 0;
}

cio_sql_value *cio__sql_result_add_row(cio_sql_result *res) {
  if (res->nrows == res->cap) {
    size_t cap = res->cap ? res->cap * 2 : 4;
    size_t cells = cap * (res->ncols ? res->ncols : 1);
    cio_sql_value *n = realloc(res->cells, cells * sizeof *n);
    if (!n) return NULL;
    res->cells = n;
    res->cap = cap;
  }
  cio_sql_value *row = res->cells + res->nrows * res->ncols;
  memset(row, 0, res->ncols * sizeof *row);
  res->nrows++;
  return row;
}

int cio__sql_result_finish(cio_sql_result *res) {
  if (!res->nrows) return 0;
  res->rows = malloc(res->nrows * sizeof *res->rows);
  if (!res->rows) return -ENOMEM;
  for (size_t i = 0; i < res->nrows; i++) {
    res->rows[i].res = res;
    res->rows[i].cells = res->cells + i * res->ncols;
  }
  return 0;
}

void cio_sql_result_free(cio_sql_result *res) {
  if (!res) return;
  for (cio__sql_chunk *c = res->chunks, *n; c; c = n) {
    n = c->next;
    free(c);
  }
  if (res->keep_free) res->keep_free(res->keep);
  free(res->names);
  free(res->cells);
  free(res->rows);
  free(res);
}

size_t cio_sql_result_nrows(const cio_sql_result *res) { return res ? res->nrows : 0; }
size_t cio_sql_result_ncols(const cio_sql_result *res) { return res ? res->ncols : 0; }
int64_t cio_sql_result_affected(const cio_sql_result *res) { return res ? res->affected : 0; }
int64_t cio_sql_result_insert_id(const cio_sql_result *res) { return res ? res->insert_id : 0; }

const char *cio_sql_result_colname(const cio_sql_result *res, size_t col) {
  return res && col < res->ncols ? res->names[col] : NULL;
}

int cio_sql_result_colindex(const cio_sql_result *res, const char *name) {
  if (!res || !name) return -ENOENT;
  for (size_t i = 0; i < res->ncols; i++)
    if (strcmp(res->names[i], name) == 0) return (int)i;
  return -ENOENT;
}

const cio_sql_row *cio_sql_result_row(const cio_sql_result *res, size_t i) {
  return res && i < res->nrows ? &res->rows[i] : NULL;
}

const cio_sql_value *cio_sql_row_at(const cio_sql_row *row, size_t col) {
  return row && col < row->res->ncols ? &row->cells[col] : NULL;
}

const cio_sql_value *cio_sql_row_get(const cio_sql_row *row, const char *name) {
  if (!row) return NULL;
  int i = cio_sql_result_colindex(row->res, name);
  return i < 0 ? NULL : &row->cells[i];
}

const cio_sql_result *cio_sql_row_result(const cio_sql_row *row) { return row ? row->res : NULL; }

const cio_sql_value *cio_sql_cell(const cio_sql_result *res, size_t row, size_t col) {
  return res && row < res->nrows && col < res->ncols ? &res->cells[row * res->ncols + col] : NULL;
}

/* ---------------------------------------------------------------- numbers */

int cio__sql_parse_int64(const char *p, size_t len, int64_t *out) {
  size_t i = 0;
  bool neg = false;
  if (i < len && (p[i] == '-' || p[i] == '+')) neg = p[i++] == '-';
  if (i == len) return -EINVAL;
  uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  for (; i < len; i++) {
    unsigned d = (unsigned)(p[i] - '0');
    if (d > 9) return -EINVAL;
    if (v > (lim - d) / 10) return -ERANGE;
    v = v * 10 + d;
  }
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  return 0;
}

int cio__sql_parse_double(const char *p, size_t len, double *out) {
  char buf[128];
  if (len == 0 || len >= sizeof buf) return -EINVAL;
  memcpy(buf, p, len);
  buf[len] = '\0';
  /* strtod accepts leading blanks, hex and "nan(...)": accept what SQL
   * servers write (digits, sign, point, exponent, Infinity, NaN) only. */
  for (size_t i = 0; i < len; i++) {
    char c = buf[i];
    if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' ||
          c == 'I' || c == 'n' || c == 'f' || c == 'i' || c == 't' || c == 'y' || c == 'N' ||
          c == 'a'))
      return -EINVAL;
  }
  char *end;
  errno = 0;
  double d = strtod(buf, &end);
  if (end != buf + len) return -EINVAL;
  if (errno == ERANGE && isinf(d)) return -ERANGE;
  *out = d;
  return 0;
}

/* ---------------------------------------------------------------- getters */

int cio_sql_is_null(const cio_sql_value *v) {
  if (!v) return -ENOENT;
  return v->type == CIO_SQL_NULL;
}

int cio_sql_get_int64(const cio_sql_value *v, int64_t *out) {
  if (!v) return -ENOENT;
  switch (v->type) {
  case CIO_SQL_NULL: return -ENODATA;
  case CIO_SQL_INT: *out = v->v.i; return 0;
  case CIO_SQL_FLOAT: {
    double d = v->v.f;
    if (d != floor(d) || isnan(d)) return -EINVAL;
    if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) return -ERANGE;
    *out = (int64_t)d;
    return 0;
  }
  case CIO_SQL_TEXT: {
    int r = cio__sql_parse_int64(v->v.p, v->len, out);
    if (r != -EINVAL) return r;
    /* numeric/decimal with a zero fraction: "42.000" */
    double d;
    if (cio__sql_parse_double(v->v.p, v->len, &d) < 0) return -EINVAL;
    cio_sql_value f = cio_sql_float(d);
    return cio_sql_get_int64(&f, out);
  }
  case CIO_SQL_BLOB: return -EINVAL;
  }
  return -EINVAL;
}

int cio_sql_get_double(const cio_sql_value *v, double *out) {
  if (!v) return -ENOENT;
  switch (v->type) {
  case CIO_SQL_NULL: return -ENODATA;
  case CIO_SQL_INT: *out = (double)v->v.i; return 0;
  case CIO_SQL_FLOAT: *out = v->v.f; return 0;
  case CIO_SQL_TEXT: return cio__sql_parse_double(v->v.p, v->len, out);
  case CIO_SQL_BLOB: return -EINVAL;
  }
  return -EINVAL;
}

int cio_sql_get_text(const cio_sql_value *v, const char **p, size_t *len) {
  if (!v) return -ENOENT;
  if (v->type == CIO_SQL_NULL) return -ENODATA;
  if (v->type != CIO_SQL_TEXT && v->type != CIO_SQL_BLOB) return -EINVAL;
  *p = v->v.p;
  if (len) *len = v->len;
  return 0;
}

int cio_sql_get_blob(const cio_sql_value *v, const void **p, size_t *len) {
  const char *s;
  int r = cio_sql_get_text(v, &s, len);
  if (r == 0) *p = s;
  return r;
}
