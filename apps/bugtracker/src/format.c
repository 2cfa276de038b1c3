/* format.c - format_() and the JSON of the answers. */
#include "format.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

static int extract(bt_matcher *m, const bt_text *t, bt_span *cause, bt_span *fix) {
  /* if not text: return '', '' */
  return bt_extract(m, t->null ? NULL : t->p, t->null ? 0 : t->len, cause, fix);
}

int bt_reply(bt_matcher *m, const bt_bug *bug, bt_span *cause, bt_span *fix) {
  int r = extract(m, &bug->additional, cause, fix);
  if (r == 0 && cause->len == 0) r = extract(m, &bug->notes, cause, fix);
  if (r == 0 && cause->len == 0) r = extract(m, &bug->revisions, cause, fix);
  return r;
}

static int write_text(cio_json *j, const bt_text *t) {
  return t->null ? cio_json_null(j) : cio_json_str_n(j, t->p ? t->p : "", t->len);
}

/* The id as the database gave it: an integer as Python prints it; a number
 * in text (an unsigned 64-bit value beyond int64_t) as its digits; text
 * that is not a number as a string, as Python would show a str id. */
static int write_id(cio_json *j, const cio_sql_value *v) {
  int64_t i;
  double d;
  const char *s;
  size_t n;
  if (cio_sql_is_null(v) == 1) return cio_json_null(j);
  if (v->type == CIO_SQL_INT && cio_sql_get_int64(v, &i) == 0) return cio_json_int(j, i);
  if (v->type == CIO_SQL_FLOAT && cio_sql_get_double(v, &d) == 0) return cio_json_double(j, d);
  if (cio_sql_get_text(v, &s, &n) == 0) {
    size_t k = n && s[0] == '-';
    int digits = n > k;
    for (size_t x = k; x < n; x++) digits = digits && s[x] >= '0' && s[x] <= '9';
    return digits ? cio_json_raw(j, s, n) : cio_json_str_n(j, s, n);
  }
  return cio_json_null(j);
}

int bt_write_bug(cio_json *j, bt_matcher *m, const bt_bug *bug) {
  bt_span cause, fix;
  int r = bt_reply(m, bug, &cause, &fix);
  if (r < 0) return r;
  cio_json_object(j);
  cio_json_key(j, "bug_id");
  write_id(j, bug->id);
  cio_json_key(j, "bug_title");
  write_text(j, &bug->summary);
  cio_json_key(j, "version");
  write_text(j, &bug->version);
  cio_json_key(j, "step");
  write_text(j, &bug->steps);
  cio_json_key(j, "reply");
  cio_json_object(j);
  cio_json_key(j, "cause_of_bug");
  cio_json_str_n(j, cause.len ? cause.p : "", cause.len);
  cio_json_key(j, "bug_solution");
  cio_json_str_n(j, fix.len ? fix.p : "", fix.len);
  cio_json_object_end(j);
  return cio_json_object_end(j);
}

int bt_write_missing(cio_json *j) {
  cio_json_object(j);
  cio_json_key(j, "error");
  cio_json_str(j, "未找到该 bug");
  return cio_json_object_end(j);
}
