/* fixture.c - rows from a JSON file. */
#include "fixture.h"

#include <cio/json.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 16

static int read_file(const char *path, char **data, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return -errno;
  char *p = NULL;
  size_t n = 0, cap = 0;
  for (;;) {
    if (cap - n < 65536) {
      char *q = realloc(p, cap = cap ? cap * 2 : 65536);
      if (!q) {
        free(p);
        fclose(f);
        return -ENOMEM;
      }
      p = q;
    }
    size_t k = fread(p + n, 1, cap - n, f);
    n += k;
    if (k == 0) break;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(p);
    return -EIO;
  }
  *data = p;
  *len = n;
  return 0;
}

static int table_of(const char *name) {
  for (int t = 0; t < BT_T_COUNT; t++)
    if (strcmp(bt_table_name(t), name) == 0) return t;
  return -1;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* One cell: *owned is set to memory the caller frees after the row. */
static int cell(const cJSON *v, cio_sql_value *out, char **owned, char *err, size_t cap) {
  *owned = NULL;
  if (cJSON_IsNull(v)) {
    *out = cio_sql_null();
  } else if (cJSON_IsString(v)) {
    *out = cio_sql_text(v->valuestring);
  } else if (cJSON_IsNumber(v)) {
    double d = v->valuedouble;
    /* Integers only, and only those a double holds exactly. */
    if (d != floor(d) || fabs(d) > 9007199254740992.0) {
      snprintf(err, cap, "number %.17g is not an integer a double holds exactly", d);
      return -EBADMSG;
    }
    *out = cio_sql_int((int64_t)d);
  } else if (cJSON_IsObject(v) && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(v, "hex"))) {
    const char *h = cJSON_GetObjectItemCaseSensitive(v, "hex")->valuestring;
    size_t n = strlen(h);
    char *b = n % 2 ? NULL : malloc(n / 2 + 1);
    if (n % 2 == 0 && !b) return -ENOMEM;
    for (size_t i = 0; b && i < n; i += 2) {
      int hi = hexval(h[i]), lo = hexval(h[i + 1]);
      if (hi < 0 || lo < 0) {
        free(b);
        b = NULL;
      } else {
        b[i / 2] = (char)(hi << 4 | lo);
      }
    }
    if (!b) {
      snprintf(err, cap, "bad hex string \"%.40s\"", h);
      return -EBADMSG;
    }
    *owned = b;
    *out = cio_sql_textn(b, n / 2);
  } else if (cJSON_IsObject(v)) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(v, "repeat");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(v, "times");
    if (!cJSON_IsString(s) || !cJSON_IsNumber(t) || t->valuedouble < 0 || t->valuedouble > 1e8) {
      snprintf(err, cap, "an object value is {\"hex\": ...} or {\"repeat\": ..., \"times\": ...}");
      return -EBADMSG;
    }
    size_t k = strlen(s->valuestring), times = (size_t)t->valuedouble;
    char *b = malloc(k * times + 1);
    if (!b) return -ENOMEM;
    for (size_t i = 0; i < times; i++) memcpy(b + i * k, s->valuestring, k);
    *owned = b;
    *out = cio_sql_textn(b, k * times);
  } else {
    snprintf(err, cap, "values are integers, strings, null or objects");
    return -EBADMSG;
  }
  return 0;
}

static int load_row(bt_load *l, int table, const cJSON *row, char *err, size_t cap) {
  const char *cols[MAX_COLS];
  cio_sql_value vals[MAX_COLS];
  char *owned[MAX_COLS];
  size_t n = 0;
  int r = 0;
  if (!cJSON_IsObject(row)) {
    snprintf(err, cap, "%s: rows are objects", bt_table_name(table));
    return -EBADMSG;
  }
  for (const cJSON *c = row->child; c && r == 0; c = c->next) {
    if (n == MAX_COLS) {
      snprintf(err, cap, "%s: more than %d columns", bt_table_name(table), MAX_COLS);
      r = -EBADMSG;
      break;
    }
    /* Column names go into SQL text: MantisBT's are plain identifiers. */
    for (const char *p = c->string; *p && r == 0; p++)
      if (!((*p >= 'a' && *p <= 'z') || *p == '_' || (*p >= '0' && *p <= '9'))) {
        snprintf(err, cap, "bad column name \"%.40s\"", c->string);
        r = -EBADMSG;
      }
    if (r) break;
    cols[n] = c->string;
    r = cell(c, &vals[n], &owned[n], err, cap);
    if (r == 0) n++;
  }
  if (r == 0 && n) r = bt_load_row(l, table, cols, n, vals);
  for (size_t i = 0; i < n; i++) free(owned[i]);
  return r;
}

int bt_fixture_load(bt_load *l, const char *path, char *err, size_t cap) {
  char *data = NULL;
  size_t len = 0;
  int r = read_file(path, &data, &len);
  if (r < 0) {
    snprintf(err, cap, "%s: %s", path, strerror(-r));
    return r;
  }
  cJSON *root;
  size_t off = 0;
  r = cio_json_parse(data, len, 0, &root, &off);
  free(data);
  if (r < 0) {
    snprintf(err, cap, "%s: not JSON (at byte %zu)", path, off);
    return -EBADMSG;
  }
  if (!cJSON_IsObject(root)) {
    snprintf(err, cap, "%s: the top level is an object of tables", path);
    r = -EBADMSG;
  }
  for (const cJSON *c = r == 0 ? root->child : NULL; c; c = c->next)
    if (table_of(c->string) < 0) {
      snprintf(err, cap, "%s: unknown table \"%.60s\"", path, c->string);
      r = -EBADMSG;
      break;
    }
  /* Bugs before their texts, notes and revisions: the order of the enum. */
  for (int t = 0; t < BT_T_COUNT && r == 0; t++) {
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(root, bt_table_name(t));
    if (!rows) continue;
    if (!cJSON_IsArray(rows)) {
      snprintf(err, cap, "%s: %s is not an array", path, bt_table_name(t));
      r = -EBADMSG;
      break;
    }
    for (const cJSON *row = rows->child; row && r == 0; row = row->next)
      r = load_row(l, t, row, err, cap);
  }
  cJSON_Delete(root);
  return r;
}
