/* format.c - format_() and the JSON of the answers. */
#include "format.h"

#include <errno.h>
#include <stdint.h>

int bt_reply_from(bt_matcher *m, bt_text_fn fn, void *arg, bt_span *cause, bt_span *fix) {
  /* result, fix = extract(additional_information)
   * if not result: result, fix = extract(notes)
   * if not result: result, fix = extract(revision_values) */
  int r = 0;
  cause->len = fix->len = 0;
  for (int which = 0; which < 3 && r == 0 && (which == 0 || cause->len == 0); which++) {
    const bt_text *t;
    if ((r = fn(arg, which, &t)) < 0) break;
    /* if not text: return '', '' */
    r = bt_extract(m, t->null ? NULL : t->p, t->null ? 0 : t->len, cause, fix);
  }
  return r;
}

static int bug_text(void *arg, int which, const bt_text **out) {
  const bt_bug *bug = arg;
  *out = which == 0 ? &bug->additional : which == 1 ? &bug->notes : &bug->revisions;
  return 0;
}

int bt_reply(bt_matcher *m, const bt_bug *bug, bt_span *cause, bt_span *fix) {
  return bt_reply_from(m, bug_text, (void *)(uintptr_t)bug, cause, fix);
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
  return r < 0 ? r : bt_write_answer(j, bug, cause, fix);
}

int bt_write_answer(cio_json *j, const bt_bug *bug, bt_span cause, bt_span fix) {
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
