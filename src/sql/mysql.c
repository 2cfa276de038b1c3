/* mysql.c - the MariaDB/MySQL driver: MariaDB Connector/C's plain API, made
 * non-blocking by its I/O-wait hook (MARIADB_OPT_IO_WAIT).
 *
 * The connector sends and receives with MSG_DONTWAIT; when the socket says
 * EAGAIN it calls the hook, which suspends the task in cio_wait_fd. So the
 * whole client runs on the task's own stack - no second stack of the
 * connector's (its _start / _cont API), which sanitizers and debuggers
 * cannot follow; docs/DB.md has the measurements behind the choice.
 *
 * Host names are resolved by cio first (the connector's lookup blocks).
 * Statements without parameters go through the text protocol (one round
 * trip); statements with parameters are prepared once per connection,
 * cached, and executed with the binary protocol. $N placeholders are
 * rewritten to '?'. A call interrupted by a cancellation or a timeout
 * leaves the protocol mid-message: the connection is marked broken and the
 * pool drops it. */
#include "sql_internal.h"

#include <cio/dns.h>
#include <cio/io.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#define DRIVER "mysql"

typedef struct my_conn {
  cio_sql_conn base;
  MYSQL *my;
  int fd; /* the socket the hook last waited on, or -1 */
} my_conn;

/* The hook has no user pointer: what it needs is per thread, set around
 * each call into the connector. Only the running task touches it, and a
 * call suspends only inside the hook, which saves it on the task's stack
 * and restores it on the way back: in effect it is per task. */
typedef struct io_state {
  int interrupted; /* -ECANCELED / -ETIMEDOUT seen by the hook */
  int fd;          /* the socket it waited on */
  bool no_wait;    /* closing: fail instead of suspending */
  int sys_error;   /* a socket error the hook found (connect refused) */
} io_state;

static _Thread_local io_state io;

static int io_wait(my_socket fd, my_bool is_read, int timeout_ms) {
  io.fd = fd;
  if (io.no_wait) return 0;
  io_state mine = io;
  cio_timeout_scope s;
  bool scoped = timeout_ms > 0 && cio_timeout_begin(&s, timeout_ms / 1000.0) == 0;
  int r = cio_wait_fd(fd, is_read ? CIO_READABLE : CIO_WRITABLE);
  if (scoped) cio_timeout_end(&s);
  io = mine; /* other tasks ran meanwhile */
  if (r > 0 && !is_read) {
    /* A failed non-blocking connect shows as writable; the connector does
     * not look at SO_ERROR after a hook, so look here. */
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err) {
      io.sys_error = err;
      errno = err;
      return 0;
    }
  }
  if (r > 0) return 1;
  io.interrupted = r;
  errno = r == -ETIMEDOUT ? ETIMEDOUT : EINTR;
  return 0;
}

/* Before a call into the connector. */
static void call_begin(my_conn *c) {
  io.interrupted = 0;
  io.sys_error = 0;
  io.fd = c ? c->fd : -1;
}

/* After a call: remember the socket; an interrupted call breaks the
 * connection (the reactor must forget a socket the connector closed). */
static void call_end(my_conn *c) {
  if (io.fd >= 0) c->fd = io.fd;
  if (io.interrupted && !c->base.broken) {
    c->base.broken = true;
    if (c->fd >= 0) cio_fd_forget(c->fd);
  }
}

/* ---------------------------------------------------------------- errors */

static bool lost(unsigned e) {
  return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST || e == ER_CONNECTION_KILLED ||
         e == 2055 /* CR_SERVER_LOST_EXTENDED */ || e == 1053 /* ER_SERVER_SHUTDOWN */;
}

/* Fail with the connector's words; decides the code from the error number,
 * and marks the connection broken when it is gone. */
static int fail_err(my_conn *c, unsigned e, const char *state, const char *msg) {
  if (io.interrupted) {
    call_end(c);
    return cio__sql_fail_code(DRIVER, io.interrupted);
  }
  int code = -CIO_ESQL;
  if (lost(e))
    code = -ECONNRESET;
  else if (e == CR_OUT_OF_MEMORY)
    code = -ENOMEM;
  else if (e >= 2000 && e < 3000)
    code = -EIO; /* other client-side failures */
  if (code == -ECONNRESET || code == -EIO) {
    c->base.broken = true;
    if (c->fd >= 0) cio_fd_forget(c->fd);
  }
  return cio__sql_fail(DRIVER, code, state, (int)e, "%s", msg && *msg ? msg : cio_strerror(code));
}

static int fail_my(my_conn *c) {
  return fail_err(c, mysql_errno(c->my), mysql_sqlstate(c->my), mysql_error(c->my));
}

/* An error while a result streams in (the server's error packet after some
 * rows: a temporary table lost, a killed query): Connector/C's state for
 * the rest of that result is not to be trusted - its next call on the
 * connection may wait for rows that never come - so the connection goes. */
static int fail_midresult(my_conn *c, int r) {
  if (!c->base.broken) {
    c->base.broken = true;
    if (c->fd >= 0) cio_fd_forget(c->fd);
  }
  return r;
}

static int fail_stmt(my_conn *c, MYSQL_STMT *st) {
  return fail_err(c, mysql_stmt_errno(st), mysql_stmt_sqlstate(st), mysql_stmt_error(st));
}

/* ---------------------------------------------------------------- types */

static bool is_int(enum enum_field_types t) {
  return t == MYSQL_TYPE_TINY || t == MYSQL_TYPE_SHORT || t == MYSQL_TYPE_LONG ||
         t == MYSQL_TYPE_LONGLONG || t == MYSQL_TYPE_INT24 || t == MYSQL_TYPE_YEAR;
}

static bool is_float(enum enum_field_types t) {
  return t == MYSQL_TYPE_FLOAT || t == MYSQL_TYPE_DOUBLE;
}

static bool is_binary(const MYSQL_FIELD *f) {
  if (f->type == MYSQL_TYPE_BIT || f->type == MYSQL_TYPE_GEOMETRY) return true;
  if (f->charsetnr != 63) return false;
  switch (f->type) {
  case MYSQL_TYPE_TINY_BLOB:
  case MYSQL_TYPE_MEDIUM_BLOB:
  case MYSQL_TYPE_LONG_BLOB:
  case MYSQL_TYPE_BLOB:
  case MYSQL_TYPE_STRING:
  case MYSQL_TYPE_VAR_STRING:
  case MYSQL_TYPE_VARCHAR: return true;
  default: return false;
  }
}

/* One text-protocol cell. s points into the MYSQL_RES (kept). */
static void text_cell(const MYSQL_FIELD *f, cio_sql_value *v, const char *s, size_t len) {
  if (is_int(f->type) && cio__sql_parse_int64(s, len, &v->v.i) == 0) {
    v->type = CIO_SQL_INT;
    return;
  }
  if (is_float(f->type) && cio__sql_parse_double(s, len, &v->v.f) == 0) {
    v->type = CIO_SQL_FLOAT;
    return;
  }
  v->type = is_binary(f) ? CIO_SQL_BLOB : CIO_SQL_TEXT;
  v->len = len;
  v->v.p = s;
}

static void free_res(void *p) { mysql_free_result(p); }

/* A result from the text protocol; takes mr. */
static int convert_text(MYSQL_RES *mr, cio_sql_result **out) {
  unsigned ncols = mysql_num_fields(mr);
  MYSQL_FIELD *f = mysql_fetch_fields(mr);
  cio_sql_result *res = cio__sql_result_new(ncols);
  if (!res) {
    mysql_free_result(mr);
    return -ENOMEM;
  }
  res->keep = mr;
  res->keep_free = free_res;
  for (unsigned j = 0; j < ncols; j++) res->names[j] = f[j].name;
  MYSQL_ROW row;
  while ((row = mysql_fetch_row(mr))) {
    unsigned long *lens = mysql_fetch_lengths(mr);
    cio_sql_value *cells = cio__sql_result_add_row(res);
    if (!cells) goto nomem;
    for (unsigned j = 0; j < ncols; j++)
      if (row[j]) text_cell(&f[j], &cells[j], row[j], lens[j]);
  }
  if (cio__sql_result_finish(res) < 0) goto nomem;
  *out = res;
  return 0;
nomem:
  cio_sql_result_free(res);
  return -ENOMEM;
}

/* ---------------------------------------------------------------- text
 * protocol */

static int text_query(my_conn *c, const char *sql, cio_sql_result **out) {
  call_begin(c);
  int rc = mysql_real_query(c->my, sql, strlen(sql));
  MYSQL_RES *mr = rc == 0 ? mysql_store_result(c->my) : NULL;
  call_end(c);
  if (rc != 0) return fail_my(c);
  if (!mr && mysql_field_count(c->my) > 0) return fail_midresult(c, fail_my(c));
  if (!out) {
    mysql_free_result(mr);
    return 0;
  }
  if (!mr) {
    cio_sql_result *res = cio__sql_result_new(0);
    if (!res) return cio__sql_fail_code(DRIVER, -ENOMEM);
    res->affected = (int64_t)mysql_affected_rows(c->my);
    res->insert_id = (int64_t)mysql_insert_id(c->my);
    *out = res;
    return 0;
  }
  int r = convert_text(mr, out);
  return r < 0 ? cio__sql_fail_code(DRIVER, r) : 0;
}

/* ---------------------------------------------------------------- prepared */

static void evict_stmt(void *ctx, cio__sql_centry *e) {
  my_conn *c = ctx;
  /* COM_STMT_CLOSE has no answer; when closing, do not wait to send it. */
  bool nw = io.no_wait;
  io.no_wait = nw || c->base.broken;
  mysql_stmt_close(e->stmt);
  io.no_wait = nw;
}

static MYSQL_STMT *get_stmt(my_conn *c, const char *sql, bool *cached, int *err) {
  size_t len = strlen(sql);
  cio__sql_centry *e = cio__sql_cache_get(&c->base.cache, sql, len);
  *cached = e != NULL;
  if (e) return e->stmt;
  MYSQL_STMT *st = mysql_stmt_init(c->my);
  if (!st) {
    *err = cio__sql_fail_code(DRIVER, -ENOMEM);
    return NULL;
  }
  call_begin(c);
  int rc = mysql_stmt_prepare(st, sql, len);
  call_end(c);
  if (rc) {
    *err = fail_stmt(c, st);
    bool nw = io.no_wait;
    io.no_wait = true;
    mysql_stmt_close(st);
    io.no_wait = nw;
    return NULL;
  }
  *cached = cio__sql_cache_put(&c->base.cache, sql, len, st) != NULL;
  return st;
}

/* MYSQL_BIND wants void * for input it only reads. */
static void *unconst(const void *p) { return (void *)(uintptr_t)p; }

/* Bind the parameters; order[i] is the argument of the i-th '?'. */
static int bind_params(my_conn *c, MYSQL_STMT *st, const cio_sql_value *v, const size_t *order,
                       size_t count, MYSQL_BIND *b) {
  unsigned want = mysql_stmt_param_count(st);
  if (want != count)
    return cio__sql_fail(DRIVER, -EINVAL, "07001", 0,
                         "the statement takes %u parameters, %zu given", want, count);
  for (size_t i = 0; i < count; i++) {
    const cio_sql_value *x = &v[order ? order[i] : i];
    memset(&b[i], 0, sizeof b[i]);
    switch (x->type) {
    case CIO_SQL_INT:
      b[i].buffer_type = MYSQL_TYPE_LONGLONG;
      b[i].buffer = unconst(&x->v.i);
      break;
    case CIO_SQL_FLOAT:
      b[i].buffer_type = MYSQL_TYPE_DOUBLE;
      b[i].buffer = unconst(&x->v.f);
      break;
    case CIO_SQL_TEXT:
    case CIO_SQL_BLOB:
      b[i].buffer_type = x->type == CIO_SQL_TEXT ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
      b[i].buffer = unconst(x->len ? x->v.p : "");
      b[i].buffer_length = x->len;
      b[i].length_value = x->len;
      break;
    default: b[i].buffer_type = MYSQL_TYPE_NULL; break;
    }
  }
  if (count && mysql_stmt_bind_param(st, b)) return fail_stmt(c, st);
  return 0;
}

/* Output buffers of one column. */
typedef struct outcol {
  union {
    long long i;
    double d;
  } num;
  unsigned long length;
  my_bool is_null, error;
  char *buf;
  size_t cap;
} outcol;

static int read_rows(my_conn *c, MYSQL_STMT *st, MYSQL_RES *meta, cio_sql_result *res) {
  unsigned ncols = mysql_num_fields(meta);
  MYSQL_FIELD *f = mysql_fetch_fields(meta);
  MYSQL_BIND *b = calloc(ncols ? ncols : 1, sizeof *b);
  outcol *o = calloc(ncols ? ncols : 1, sizeof *o);
  int r = -ENOMEM;
  if (!b || !o) goto out;
  for (unsigned j = 0; j < ncols; j++) {
    if (cio__sql_result_set_name(res, j, f[j].name, f[j].name_length)) goto out;
    b[j].length = &o[j].length;
    b[j].is_null = &o[j].is_null;
    b[j].error = &o[j].error;
    if (is_int(f[j].type)) {
      b[j].buffer_type = MYSQL_TYPE_LONGLONG;
      b[j].buffer = &o[j].num.i;
      b[j].is_unsigned = (f[j].flags & UNSIGNED_FLAG) != 0;
    } else if (is_float(f[j].type)) {
      b[j].buffer_type = MYSQL_TYPE_DOUBLE;
      b[j].buffer = &o[j].num.d;
    } else {
      /* max_length is known after store_result (UPDATE_MAX_LENGTH); dates
       * and times turned into text may be longer: truncation is handled */
      o[j].cap = f[j].max_length + 1 > 64 ? f[j].max_length + 1 : 64;
      if (!(o[j].buf = malloc(o[j].cap))) goto out;
      b[j].buffer_type = is_binary(&f[j]) ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
      b[j].buffer = o[j].buf;
      b[j].buffer_length = o[j].cap;
    }
  }
  if (mysql_stmt_bind_result(st, b)) {
    r = fail_stmt(c, st);
    goto out;
  }
  int rc;
  while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
    cio_sql_value *cells = cio__sql_result_add_row(res);
    if (!cells) goto out;
    for (unsigned j = 0; j < ncols; j++) {
      cio_sql_value *v = &cells[j];
      if (o[j].is_null) continue;
      if (b[j].buffer_type == MYSQL_TYPE_LONGLONG) {
        if (b[j].is_unsigned && o[j].num.i < 0) { /* above INT64_MAX: as text */
          char t[24];
          int n = snprintf(t, sizeof t, "%llu", (unsigned long long)o[j].num.i);
          if (cio__sql_result_copy(res, v, CIO_SQL_TEXT, t, (size_t)n)) goto out;
        } else {
          v->type = CIO_SQL_INT;
          v->v.i = o[j].num.i;
        }
        continue;
      }
      if (b[j].buffer_type == MYSQL_TYPE_DOUBLE) {
        v->type = CIO_SQL_FLOAT;
        v->v.f = o[j].num.d;
        continue;
      }
      cio_sql_type t = b[j].buffer_type == MYSQL_TYPE_BLOB ? CIO_SQL_BLOB : CIO_SQL_TEXT;
      if (o[j].length > o[j].cap) { /* truncated: fetch it whole */
        char *full = cio__sql_result_alloc(res, o[j].length + 1);
        if (!full) goto out;
        MYSQL_BIND one = b[j];
        one.buffer = full;
        one.buffer_length = o[j].length;
        if (mysql_stmt_fetch_column(st, &one, j, 0)) {
          r = fail_stmt(c, st);
          goto out;
        }
        full[o[j].length] = '\0';
        v->type = t;
        v->len = o[j].length;
        v->v.p = full;
      } else if (cio__sql_result_copy(res, v, t, o[j].buf, o[j].length)) {
        goto out;
      }
    }
  }
  if (rc != MYSQL_NO_DATA) {
    r = fail_stmt(c, st);
    goto out;
  }
  r = 0;
out:
  if (r == -ENOMEM) r = cio__sql_fail_code(DRIVER, -ENOMEM);
  for (unsigned j = 0; o && j < ncols; j++) free(o[j].buf);
  free(o);
  free(b);
  return r;
}

static int stmt_query(my_conn *c, const char *sql, const cio_sql_value *v, size_t n,
                      const size_t *order, size_t count, cio_sql_result **out) {
  bool cached = false;
  int r = 0;
  MYSQL_STMT *st = get_stmt(c, sql, &cached, &r);
  if (!st) return r;
  MYSQL_BIND pb[16], *b = count <= 16 ? pb : calloc(count, sizeof *b);
  MYSQL_RES *meta = NULL;
  cio_sql_result *res = NULL;
  if (!b) {
    r = cio__sql_fail_code(DRIVER, -ENOMEM);
    goto done;
  }
  (void)n;
  if ((r = bind_params(c, st, v, order, count, b)) < 0) goto done;
  call_begin(c);
  int rc = mysql_stmt_execute(st);
  call_end(c);
  if (rc) {
    r = fail_stmt(c, st);
    goto done;
  }
  meta = mysql_stmt_result_metadata(st);
  if (!(res = cio__sql_result_new(meta ? mysql_num_fields(meta) : 0))) {
    r = cio__sql_fail_code(DRIVER, -ENOMEM);
    goto done;
  }
  if (meta) {
    my_bool one = 1;
    mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &one);
    call_begin(c);
    rc = mysql_stmt_store_result(st);
    call_end(c);
    if (rc) {
      r = fail_midresult(c, fail_stmt(c, st));
      goto done;
    }
    if ((r = read_rows(c, st, meta, res)) < 0) {
      if (r != -ENOMEM) fail_midresult(c, r);
      goto done;
    }
  } else {
    res->affected = (int64_t)mysql_stmt_affected_rows(st);
    res->insert_id = (int64_t)mysql_stmt_insert_id(st);
  }
  if (cio__sql_result_finish(res) < 0) r = cio__sql_fail_code(DRIVER, -ENOMEM);
done:
  if (meta) mysql_free_result(meta);
  if (!c->base.broken) mysql_stmt_free_result(st);
  if (!cached) {
    bool nw = io.no_wait;
    io.no_wait = true;
    mysql_stmt_close(st);
    io.no_wait = nw;
  }
  if (b != pb) free(b);
  if (r == 0 && out)
    *out = res;
  else
    cio_sql_result_free(res);
  return r;
}

static int my_query(cio_sql_conn *base, const char *sql, const cio_sql_value *v, size_t n,
                    cio_sql_result **out) {
  my_conn *c = (my_conn *)base;
  if (n == 0) return text_query(c, sql, out);
  char *rewritten = NULL;
  size_t *order = NULL, count = n;
  int r = cio__sql_rewrite_dollar(sql, n, &rewritten, &order, &count);
  if (r < 0)
    return cio__sql_fail(DRIVER, r, "07001", 0,
                         r == -EINVAL ? "placeholder $0, or above the %zu parameters given"
                                      : "%.0zu out of memory",
                         n);
  if (!rewritten) count = n;
  r = stmt_query(c, rewritten ? rewritten : sql, v, n, order, count, out);
  free(rewritten);
  free(order);
  return r;
}

static int my_prepare(cio_sql_conn *base, const char *sql) {
  my_conn *c = (my_conn *)base;
  char *rewritten = NULL;
  size_t *order = NULL, count;
  /* $N up to a large count: the arguments are not known yet */
  int r = cio__sql_rewrite_dollar(sql, 65535, &rewritten, &order, &count);
  if (r < 0) return cio__sql_fail(DRIVER, r, "07001", 0, "bad placeholder");
  bool cached;
  MYSQL_STMT *st = get_stmt(c, rewritten ? rewritten : sql, &cached, &r);
  if (st && !cached) mysql_stmt_close(st);
  free(rewritten);
  free(order);
  return st ? 0 : r;
}

static int my_exec(cio_sql_conn *base, const char *sql) {
  my_conn *c = (my_conn *)base;
  /* Multiple statements only for scripts, never for queries. */
  call_begin(c);
  int rc = mysql_set_server_option(c->my, MYSQL_OPTION_MULTI_STATEMENTS_ON);
  call_end(c);
  if (rc) return fail_my(c);
  int r = 0;
  call_begin(c);
  rc = mysql_real_query(c->my, sql, strlen(sql));
  call_end(c);
  if (rc) r = fail_my(c);
  /* Drain every statement's result, stopping at the first error. */
  while (r == 0) {
    call_begin(c);
    MYSQL_RES *mr = mysql_store_result(c->my);
    call_end(c);
    mysql_free_result(mr);
    call_begin(c);
    rc = mysql_next_result(c->my);
    call_end(c);
    if (rc == -1) break;
    if (rc > 0) r = fail_my(c);
  }
  if (c->base.broken) return r;
  cio_sql_error saved = *cio_sql_last_error();
  char *m = r < 0 ? strdup(saved.message) : NULL;
  call_begin(c);
  rc = mysql_set_server_option(c->my, MYSQL_OPTION_MULTI_STATEMENTS_OFF);
  call_end(c);
  if (rc && r == 0)
    r = fail_my(c);
  else if (r < 0)
    cio__sql_fail(DRIVER, saved.code, saved.sqlstate, saved.errnum, "%s", m ? m : "");
  free(m);
  return r;
}

static int my_ping(cio_sql_conn *base) {
  my_conn *c = (my_conn *)base;
  call_begin(c);
  int rc = mysql_ping(c->my);
  call_end(c);
  return rc ? fail_my(c) : 0;
}

/* ---------------------------------------------------------------- connect */

static void my_free(cio_sql_conn *base) {
  my_conn *c = (my_conn *)base;
  bool nw = io.no_wait;
  io.no_wait = true; /* nothing here may suspend: send what fits, drop the rest */
  c->base.broken = true;
  cio__sql_cache_clear(&c->base.cache);
  if (c->fd >= 0) cio_fd_forget(c->fd);
  if (c->my) mysql_close(c->my);
  io.no_wait = nw;
  cio__sql_conn_fini(&c->base);
  free(c);
}

/* One attempt on one numeric address. */
static int try_connect(my_conn *c, cio_sql_pool *p, const char *addr, unsigned port,
                       const char *unix_socket) {
  c->my = mysql_init(NULL);
  if (!c->my) return cio__sql_fail_code(DRIVER, -ENOMEM);
  const char *charset = cio__sql_url_param(&p->url, "charset");
  unsigned zero = 0;
  my_bool yes = 1;
  mysql_optionsv(c->my, MARIADB_OPT_IO_WAIT, (void *)io_wait);
  mysql_optionsv(c->my, MYSQL_SET_CHARSET_NAME, charset ? charset : "utf8mb4");
  mysql_optionsv(c->my, MYSQL_OPT_LOCAL_INFILE, &zero);
  const char *ssl = cio__sql_url_param(&p->url, "ssl");
  if (ssl && (!strcmp(ssl, "1") || !strcmp(ssl, "true") || !strcmp(ssl, "required")))
    mysql_optionsv(c->my, MYSQL_OPT_SSL_ENFORCE, &yes);
  call_begin(c);
  MYSQL *ok = mysql_real_connect(c->my, addr, p->url.user, p->url.password, p->url.path, port,
                                 unix_socket, 0);
  if (io.fd >= 0) c->fd = io.fd;
  if (ok) {
    c->fd = mysql_get_socket(c->my);
    /* Connector/C leaves Nagle's algorithm on: a statement written in two
     * pieces then waits for the server's delayed ACK (40 ms) - measured as
     * 64 busy connections doing 1,600 lookups/s instead of 6,000+. */
    int one = 1;
    if (!unix_socket) setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return 0;
  }
  /* The connector closed its socket: the reactor must forget it. */
  if (c->fd >= 0) cio_fd_forget(c->fd);
  c->fd = -1;
  unsigned e = mysql_errno(c->my);
  const char *m = mysql_error(c->my);
  /* "Can't connect to server on '127.0.0.1' (111)": the system's errno */
  const char *paren = strrchr(m, '(');
  int sys = io.sys_error ? io.sys_error : paren ? atoi(paren + 1) : 0;
  int code = io.interrupted ? io.interrupted
             : e == ER_ACCESS_DENIED_ERROR || e == 1698 /* ER_ACCESS_DENIED_NO_PASSWORD */
                 ? -EACCES
                 : e == ER_BAD_DB_ERROR                          ? -CIO_ESQL
                   : sys == ECONNREFUSED || strstr(m, "refused") ? -ECONNREFUSED
                   : sys == ETIMEDOUT || strstr(m, "timed out")  ? -ETIMEDOUT
                                                                 : -ECONNRESET;
  int r = io.interrupted ? cio__sql_fail_code(DRIVER, code)
          : io.sys_error
              ? cio__sql_fail(DRIVER, code, "08001", (int)e, "cannot connect to %s:%u: %s", addr,
                              port, strerror(io.sys_error))
              : cio__sql_fail(DRIVER, code, mysql_sqlstate(c->my), (int)e, "%s", m);
  io.no_wait = true;
  mysql_close(c->my);
  io.no_wait = false;
  c->my = NULL;
  return r;
}

static int my_connect(cio_sql_pool *p, cio_sql_conn **out) {
  my_conn *c = calloc(1, sizeof *c);
  if (!c) return cio__sql_fail_code(DRIVER, -ENOMEM);
  c->fd = -1;
  int r = cio__sql_conn_init(&c->base, p, evict_stmt);
  if (r < 0) {
    free(c);
    return cio__sql_fail_code(DRIVER, r);
  }
  unsigned port = p->url.port ? (unsigned)p->url.port : 3306;
  const char *sock = cio__sql_url_param(&p->url, "unix_socket");
  if (sock) {
    r = try_connect(c, p, "localhost", 0, sock);
  } else {
    const char *host = p->url.host && *p->url.host ? p->url.host : "localhost";
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    char ps[12];
    snprintf(ps, sizeof ps, "%u", port);
    r = cio_getaddrinfo(host, ps, &hints, &ai);
    if (r < 0) {
      r = r == -ECANCELED || r == -ETIMEDOUT
              ? cio__sql_fail_code(DRIVER, r)
              : cio__sql_fail(DRIVER, r, "08001", 0, "cannot resolve '%s': %s", host,
                              cio_strerror(r));
    }
    /* Every address in turn, as long as the failure is about the address. */
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
      char num[NI_MAXHOST];
      if (getnameinfo(a->ai_addr, a->ai_addrlen, num, sizeof num, NULL, 0, NI_NUMERICHOST))
        continue;
      r = try_connect(c, p, num, port, NULL);
      if (r != -ECONNREFUSED && r != -ECONNRESET) break;
    }
    cio_freeaddrinfo(ai);
  }
  if (r < 0) {
    cio_sql_error saved = *cio_sql_last_error();
    char *m = strdup(saved.message);
    my_free(&c->base);
    cio__sql_fail(DRIVER, saved.code, saved.sqlstate, saved.errnum, "%s", m ? m : "");
    free(m);
    return r;
  }
  *out = &c->base;
  return 0;
}

/* ---------------------------------------------------------------- pool hooks
 */

static bool my_idle_ok(cio_sql_conn *base) {
  my_conn *c = (my_conn *)base;
  /* An idle connection has nothing to read: anything readable is the
   * server's goodbye (KILL, shutdown, wait_timeout) or EOF. */
  struct pollfd pf = {c->fd, POLLIN, 0};
  return c->fd >= 0 && poll(&pf, 1, 0) == 0;
}

static bool my_needs_cleanup(cio_sql_conn *base) {
  my_conn *c = (my_conn *)base;
  unsigned status = 0;
  mariadb_get_infov(c->my, MARIADB_CONNECTION_SERVER_STATUS, &status);
  return (status & SERVER_STATUS_IN_TRANS) != 0;
}

static int my_cleanup(cio_sql_conn *base) { return text_query((my_conn *)base, "ROLLBACK", NULL); }

const cio__sql_driver cio__sql_mysql_driver = {
    .name = DRIVER,
    .concurrent = false,
    .connect = my_connect,
    .query = my_query,
    .exec = my_exec,
    .prepare = my_prepare,
    .ping = my_ping,
    .idle_ok = my_idle_ok,
    .in_transaction = my_needs_cleanup, /* the same question here */
    .needs_cleanup = my_needs_cleanup,
    .cleanup = my_cleanup,
    .free = my_free,
};
