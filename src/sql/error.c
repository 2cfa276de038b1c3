/* error.c - the sql layer's last error, per thread (cio_sql_last_error). */
#include "sql_internal.h"

#include <stdio.h>

/* One per thread: a task reads it before it suspends again, and only one
 * task of a loop runs at a time. */
static _Thread_local struct {
  cio_sql_error pub;
  char *message; /* heap copy, or NULL when pub.message is static */
} last = {{0, "", 0, "", "no error"}, NULL};

static void set_last(const char *driver, int code, const char *sqlstate, int errnum,
                     char *message) {
  free(last.message);
  last.message = message;
  last.pub.code = code;
  last.pub.errnum = errnum;
  last.pub.driver = driver ? driver : "";
  snprintf(last.pub.sqlstate, sizeof last.pub.sqlstate, "%s", sqlstate ? sqlstate : "");
  last.pub.message = message ? message : cio_strerror(code);
}

const cio_sql_error *cio_sql_last_error(void) { return &last.pub; }

void cio__sql_err_set(cio__sql_err *e, int code, const char *sqlstate, int errnum, const char *msg,
                      size_t msglen) {
  cio__sql_err_clear(e);
  e->code = code;
  e->errnum = errnum;
  snprintf(e->sqlstate, sizeof e->sqlstate, "%s", sqlstate ? sqlstate : "");
  if (msg) {
    /* Drivers' messages often end in a newline (libpq's do): drop it. */
    while (msglen > 0 && (msg[msglen - 1] == '\n' || msg[msglen - 1] == ' ')) msglen--;
    e->message = malloc(msglen + 1);
    if (e->message) {
      memcpy(e->message, msg, msglen);
      e->message[msglen] = '\0';
    }
  }
}

void cio__sql_err_clear(cio__sql_err *e) {
  free(e->message);
  memset(e, 0, sizeof *e);
}

int cio__sql_err_raise(cio__sql_err *e, const char *driver) {
  int code = e->code;
  set_last(driver, code, e->sqlstate, e->errnum, e->message);
  e->message = NULL;
  cio__sql_err_clear(e);
  return code;
}

int cio__sql_fail(const char *driver, int code, const char *sqlstate, int errnum, const char *fmt,
                  ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  size_t len = n < 0 ? 0 : (size_t)n >= sizeof buf ? sizeof buf - 1 : (size_t)n;
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' ')) len--;
  buf[len] = '\0';
  set_last(driver, code, sqlstate, errnum, strdup(buf));
  return code;
}

int cio__sql_fail_code(const char *driver, int code) {
  set_last(driver, code, NULL, 0, NULL);
  return code;
}
