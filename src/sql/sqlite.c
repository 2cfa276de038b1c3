/* sqlite.c - the SQLite driver: each connection is a thread of its own that
 * owns the sqlite3 handle and its prepared-statement cache, off the loop.
 *
 * A statement is a request queued to the connection's thread; the task
 * suspends. Threads finish requests in order and hand them back through
 * one list per pool; the first finished request of a batch schedules one
 * callback on the loop (cio_call_soon_threadsafe), which wakes every task
 * whose request is done - so a burst of statements from many tasks costs a
 * few loop wake-ups, not one per statement. Requests carry copies of the SQL
 * and the arguments: a cancelled task returns at once while its statement
 * may still run (it is interrupted with sqlite3_interrupt).
 *
 * Files get WAL journaling (readers do not block the writer) and a busy
 * timeout (?busy_timeout=ms, default 5000); sqlite::memory: is one
 * connection (a second one would be another database). */
#include "sql_internal.h"

#include <pthread.h>
#include <sqlite3.h>

#define DRIVER "sqlite"

enum { REQ_QUERY, REQ_EXEC, REQ_PREPARE, REQ_PING, REQ_OPEN };
enum { QUEUED, RUNNING, DONE };

typedef struct sq_pool sq_pool;
typedef struct sq_conn sq_conn;

typedef struct sq_req {
  cio__sql_link link;
  int kind, state;
  bool delivered;
  cio_task *task; /* NULL once abandoned */
  const char *sql;
  size_t sqllen, nparams;
  cio_sql_value *params;
  bool want_result;
  int status;
  cio_sql_result *res;
  cio__sql_err err;
  /* sql, params and their bytes follow */
} sq_req;

struct sq_pool {
  pthread_mutex_t mu;
  cio__sql_link done; /* finished requests, to deliver on the loop */
  bool notified;      /* a delivery callback is scheduled */
  int refs;           /* the pool + scheduled deliveries */
  cio_loop *loop;
  char *filename;
  int open_flags;
  int busy_ms;
  bool memory;
};

struct sq_conn {
  cio_sql_conn base;
  sq_pool *sp;
  sqlite3 *db; /* the thread's */
  pthread_t thread;
  bool started;
  pthread_cond_t cv;
  cio__sql_link queue; /* under sp->mu */
  sq_req *running;     /* under sp->mu */
  int pending;         /* queued + running, under sp->mu */
  bool in_tx;          /* after the last request, under sp->mu */
  bool stop;
  int batch; /* requests finished since the last notification (thread) */
};

static void sp_unref(sq_pool *sp) {
  pthread_mutex_lock(&sp->mu);
  int left = --sp->refs;
  pthread_mutex_unlock(&sp->mu);
  if (left) return;
  pthread_mutex_destroy(&sp->mu);
  free(sp->filename);
  free(sp);
}

static void req_free(sq_req *q) {
  cio_sql_result_free(q->res);
  cio__sql_err_clear(&q->err);
  free(q);
}

/* ---------------------------------------------------------------- loop side */

static void deliver(void *arg) {
  sq_pool *sp = arg;
  cio__sql_link batch;
  cio__sql_list_init(&batch);
  pthread_mutex_lock(&sp->mu);
  if (!cio__sql_list_empty(&sp->done)) {
    batch = sp->done;
    batch.next->prev = &batch;
    batch.prev->next = &batch;
    cio__sql_list_init(&sp->done);
  }
  sp->notified = false;
  pthread_mutex_unlock(&sp->mu);
  while (!cio__sql_list_empty(&batch)) {
    sq_req *q = cio__sql_container(batch.next, sq_req, link);
    cio__sql_list_remove(&q->link);
    q->delivered = true;
    /* A task interrupted meanwhile frees its request when it runs. */
    if (!q->task)
      req_free(q);
    else
      cio_task_wake(q->task, 0);
  }
  sp_unref(sp);
}

/* Queue q on c's thread and wait for it. Returns the request's status; on
 * cancellation the request is withdrawn or abandoned. q is freed. */
static int submit(sq_conn *c, sq_req *q, cio_sql_result **out) {
  sq_pool *sp = c->sp;
  q->task = cio_current();
  pthread_mutex_lock(&sp->mu);
  cio__sql_list_push_back(&c->queue, &q->link);
  c->pending++;
  pthread_cond_signal(&c->cv);
  pthread_mutex_unlock(&sp->mu);
  int r = cio_suspend("sqlite statement");
  if (r == 0 && q->state == DONE) {
    if (q->status < 0) {
      r = cio__sql_err_raise(&q->err, DRIVER);
    } else {
      r = q->status;
      if (out) {
        *out = q->res;
        q->res = NULL;
      }
    }
    req_free(q);
    return r;
  }
  /* Interrupted: withdraw, or abandon to whoever finishes it. */
  bool free_it = false;
  pthread_mutex_lock(&sp->mu);
  if (q->state == QUEUED) {
    cio__sql_list_remove(&q->link);
    c->pending--;
    free_it = true;
  } else if (q->state == RUNNING) {
    q->task = NULL;
    sqlite3_interrupt(c->db);
  } else {
    q->task = NULL;
    free_it = q->delivered;
  }
  pthread_mutex_unlock(&sp->mu);
  if (free_it) req_free(q);
  return cio__sql_fail_code(DRIVER, r);
}

/* A request with copies of sql and params, in one allocation. */
static sq_req *req_new(int kind, const char *sql, const cio_sql_value *params, size_t n) {
  size_t sqllen = sql ? strlen(sql) : 0, bytes = 0;
  for (size_t i = 0; i < n; i++)
    if (params[i].type == CIO_SQL_TEXT || params[i].type == CIO_SQL_BLOB) bytes += params[i].len;
  size_t size = sizeof(sq_req) + n * sizeof(cio_sql_value) + sqllen + 1 + bytes;
  sq_req *q = calloc(1, size);
  if (!q) return NULL;
  cio__sql_list_init(&q->link);
  q->kind = kind;
  q->params = (cio_sql_value *)(q + 1);
  char *s = (char *)(q->params + n);
  memcpy(s, sql ? sql : "", sqllen + 1);
  q->sql = s;
  q->sqllen = sqllen;
  s += sqllen + 1;
  q->nparams = n;
  for (size_t i = 0; i < n; i++) {
    q->params[i] = params[i];
    if (params[i].type == CIO_SQL_TEXT || params[i].type == CIO_SQL_BLOB) {
      if (params[i].len) memcpy(s, params[i].v.p, params[i].len);
      q->params[i].v.p = s;
      s += params[i].len;
    }
  }
  return q;
}

/* ---------------------------------------------------------------- thread side
 */

static void set_err(sq_conn *c, sq_req *q, int rc) {
  int code = rc == SQLITE_INTERRUPT  ? -ECANCELED
             : rc == SQLITE_NOMEM    ? -ENOMEM
             : rc == SQLITE_CANTOPEN ? -ENOENT
                                     : -CIO_ESQL;
  const char *msg = c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc);
  cio__sql_err_set(&q->err, code, NULL, c->db ? sqlite3_extended_errcode(c->db) : rc, msg,
                   strlen(msg));
  q->status = code;
}

static void evict_stmt(void *ctx, cio__sql_centry *e) {
  (void)ctx;
  sqlite3_finalize(e->stmt);
}

static bool only_blanks(const char *s) {
  for (; *s; s++) {
    if (*s == ';' || *s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') continue;
    return false;
  }
  return true;
}

/* The statement for q->sql: cached, or prepared now (and cached). */
static sqlite3_stmt *get_stmt(sq_conn *c, sq_req *q, bool *cached) {
  cio__sql_centry *e = cio__sql_cache_get(&c->base.cache, q->sql, q->sqllen);
  *cached = e != NULL;
  if (e) return e->stmt;
  sqlite3_stmt *st = NULL;
  const char *tail = NULL;
  int rc =
      sqlite3_prepare_v3(c->db, q->sql, (int)q->sqllen + 1, SQLITE_PREPARE_PERSISTENT, &st, &tail);
  if (rc != SQLITE_OK) {
    set_err(c, q, rc);
    return NULL;
  }
  if (!st || (tail && !only_blanks(tail))) {
    sqlite3_finalize(st);
    const char *m =
        st ? "more than one statement (use cio_sql_exec for scripts)" : "empty statement";
    cio__sql_err_set(&q->err, -EINVAL, NULL, SQLITE_MISUSE, m, strlen(m));
    q->status = -EINVAL;
    return NULL;
  }
  *cached = cio__sql_cache_put(&c->base.cache, q->sql, q->sqllen, st) != NULL;
  return st;
}

/* The argument for parameter i (1-based): $N by its number, others by
 * position. -1 if out of range. */
static long param_index(sqlite3_stmt *st, int i) {
  const char *name = sqlite3_bind_parameter_name(st, i);
  if (name && name[0] == '$' && name[1] >= '1' && name[1] <= '9') {
    char *end;
    long n = strtol(name + 1, &end, 10);
    if (*end == '\0') return n - 1;
  }
  return i - 1;
}

static int bind_params(sq_conn *c, sq_req *q, sqlite3_stmt *st) {
  int count = sqlite3_bind_parameter_count(st);
  if ((size_t)count < q->nparams && count >= 0) {
    /* $N may repeat: count is the highest index then */
    bool dollar = count > 0 && sqlite3_bind_parameter_name(st, 1) &&
                  sqlite3_bind_parameter_name(st, 1)[0] == '$';
    if (!dollar) goto bad;
  }
  for (int i = 1; i <= count; i++) {
    long k = param_index(st, i);
    if (k < 0 || (size_t)k >= q->nparams) goto bad;
    const cio_sql_value *v = &q->params[k];
    int rc;
    switch (v->type) {
    case CIO_SQL_INT: rc = sqlite3_bind_int64(st, i, v->v.i); break;
    case CIO_SQL_FLOAT: rc = sqlite3_bind_double(st, i, v->v.f); break;
    case CIO_SQL_TEXT:
      rc = sqlite3_bind_text64(st, i, v->v.p, v->len, SQLITE_STATIC, SQLITE_UTF8);
      break;
    case CIO_SQL_BLOB: rc = sqlite3_bind_blob64(st, i, v->v.p, v->len, SQLITE_STATIC); break;
    default: rc = sqlite3_bind_null(st, i); break;
    }
    if (rc != SQLITE_OK) {
      set_err(c, q, rc);
      return -1;
    }
  }
  return 0;
bad:;
  char m[160];
  int n = snprintf(m, sizeof m, "the statement takes %d parameters, %zu given", count, q->nparams);
  cio__sql_err_set(&q->err, -EINVAL, NULL, SQLITE_RANGE, m, (size_t)n);
  q->status = -EINVAL;
  return -1;
}

static int read_row(sq_conn *c, sq_req *q, sqlite3_stmt *st) {
  cio_sql_result *res = q->res;
  cio_sql_value *row = cio__sql_result_add_row(res);
  if (!row) return -ENOMEM;
  for (size_t i = 0; i < res->ncols; i++) {
    int col = (int)i;
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER:
      row[i].type = CIO_SQL_INT;
      row[i].v.i = sqlite3_column_int64(st, col);
      break;
    case SQLITE_FLOAT:
      row[i].type = CIO_SQL_FLOAT;
      row[i].v.f = sqlite3_column_double(st, col);
      break;
    case SQLITE_TEXT: {
      const unsigned char *p = sqlite3_column_text(st, col);
      if (cio__sql_result_copy(res, &row[i], CIO_SQL_TEXT, p,
                               (size_t)sqlite3_column_bytes(st, col)))
        return -ENOMEM;
      break;
    }
    case SQLITE_BLOB: {
      const void *p = sqlite3_column_blob(st, col);
      if (cio__sql_result_copy(res, &row[i], CIO_SQL_BLOB, p,
                               (size_t)sqlite3_column_bytes(st, col)))
        return -ENOMEM;
      break;
    }
    default: break; /* NULL */
    }
  }
  (void)c;
  return 0;
}

static void run_query(sq_conn *c, sq_req *q) {
  bool cached;
  sqlite3_stmt *st = get_stmt(c, q, &cached);
  if (!st) return;
  if (bind_params(c, q, st) < 0) goto out;
  int ncols = sqlite3_column_count(st);
  if (!(q->res = cio__sql_result_new((size_t)ncols))) goto nomem;
  for (int i = 0; i < ncols; i++) {
    const char *name = sqlite3_column_name(st, i);
    if (!name) name = "";
    if (cio__sql_result_set_name(q->res, (size_t)i, name, strlen(name))) goto nomem;
  }
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    if (q->want_result && read_row(c, q, st) < 0) goto nomem;
  if (rc != SQLITE_DONE) {
    set_err(c, q, rc);
    goto out;
  }
  if (!sqlite3_stmt_readonly(st)) {
    q->res->affected = sqlite3_changes64(c->db);
    q->res->insert_id = sqlite3_last_insert_rowid(c->db);
  }
  if (cio__sql_result_finish(q->res)) goto nomem;
  q->status = 0;
  goto out;
nomem:
  cio__sql_err_set(&q->err, -ENOMEM, NULL, SQLITE_NOMEM, NULL, 0);
  q->status = -ENOMEM;
out:
  if (q->status < 0) {
    cio_sql_result_free(q->res);
    q->res = NULL;
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (!cached) sqlite3_finalize(st);
}

static void run_open(sq_conn *c, sq_req *q) {
  sq_pool *sp = c->sp;
  int rc = sqlite3_open_v2(sp->filename, &c->db, sp->open_flags, NULL);
  if (rc != SQLITE_OK) {
    set_err(c, q, rc);
    sqlite3_close(c->db);
    c->db = NULL;
    return;
  }
  sqlite3_extended_result_codes(c->db, 1);
  sqlite3_busy_timeout(c->db, sp->busy_ms);
  if (!sp->memory && (sp->open_flags & SQLITE_OPEN_READWRITE)) {
    char *err = NULL;
    rc = sqlite3_exec(c->db, "PRAGMA journal_mode=WAL", NULL, NULL, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) {
      set_err(c, q, rc);
      return;
    }
  }
  q->status = 0;
}

static void run(sq_conn *c, sq_req *q) {
  q->status = 0;
  switch (q->kind) {
  case REQ_OPEN: run_open(c, q); break;
  case REQ_QUERY: run_query(c, q); break;
  case REQ_PREPARE: {
    bool cached;
    sqlite3_stmt *st = get_stmt(c, q, &cached);
    if (st && !cached) sqlite3_finalize(st);
    break;
  }
  case REQ_EXEC: {
    char *err = NULL;
    int rc = sqlite3_exec(c->db, q->sql, NULL, NULL, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) set_err(c, q, rc);
    break;
  }
  default: break; /* REQ_PING: the hop itself */
  }
}

/* Hand q back to the loop (or free it if nobody waits). Called unlocked. */
static void finish(sq_conn *c, sq_req *q, bool last_of_batch) {
  sq_pool *sp = c->sp;
  bool notify = false;
  pthread_mutex_lock(&sp->mu);
  c->running = NULL;
  c->pending--;
  c->in_tx = c->db && !sqlite3_get_autocommit(c->db);
  q->state = DONE;
  if (!q->task) {
    pthread_mutex_unlock(&sp->mu);
    req_free(q);
    pthread_mutex_lock(&sp->mu);
  } else {
    cio__sql_list_push_back(&sp->done, &q->link);
  }
  c->batch++;
  /* Notify once the queue is drained, or every 32 requests, so tasks are
   * not held back behind a long queue. */
  if (!cio__sql_list_empty(&sp->done) && !sp->notified &&
      (last_of_batch || cio__sql_list_empty(&c->queue) || c->batch >= 32)) {
    sp->notified = notify = true;
    sp->refs++;
    c->batch = 0;
  }
  pthread_mutex_unlock(&sp->mu);
  if (notify && cio_call_soon_threadsafe(sp->loop, deliver, sp) < 0) {
    pthread_mutex_lock(&sp->mu);
    sp->notified = false;
    sp->refs--;
    pthread_mutex_unlock(&sp->mu);
  }
}

static void *thread_main(void *arg) {
  sq_conn *c = arg;
  sq_pool *sp = c->sp;
  pthread_mutex_lock(&sp->mu);
  for (;;) {
    while (cio__sql_list_empty(&c->queue) && !c->stop) pthread_cond_wait(&c->cv, &sp->mu);
    if (cio__sql_list_empty(&c->queue)) break;
    sq_req *q = cio__sql_container(c->queue.next, sq_req, link);
    cio__sql_list_remove(&q->link);
    if (c->stop) { /* only abandoned requests are left at stop */
      c->pending--;
      pthread_mutex_unlock(&sp->mu);
      req_free(q);
      pthread_mutex_lock(&sp->mu);
      continue;
    }
    q->state = RUNNING;
    c->running = q;
    bool abandoned = !q->task;
    pthread_mutex_unlock(&sp->mu);
    if (abandoned)
      q->status = -ECANCELED; /* withdrawn too late: skip it */
    else
      run(c, q);
    finish(c, q, false);
    pthread_mutex_lock(&sp->mu);
  }
  pthread_mutex_unlock(&sp->mu);
  cio__sql_cache_clear(&c->base.cache);
  sqlite3_close(c->db);
  c->db = NULL;
  return NULL;
}

/* ---------------------------------------------------------------- driver */

static int sq_pool_init(cio_sql_pool *p) {
  sq_pool *sp = calloc(1, sizeof *sp);
  if (!sp) return cio__sql_fail_code(DRIVER, -ENOMEM);
  pthread_mutex_init(&sp->mu, NULL);
  cio__sql_list_init(&sp->done);
  sp->refs = 1;
  sp->loop = p->loop;
  const char *path = p->url.path;
  sp->memory = !path || !strcmp(path, ":memory:");
  const char *mode = cio__sql_url_param(&p->url, "mode");
  sp->open_flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
  if (!mode || !strcmp(mode, "rwc")) {
    sp->open_flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  } else if (!strcmp(mode, "rw")) {
    sp->open_flags |= SQLITE_OPEN_READWRITE;
  } else if (!strcmp(mode, "ro")) {
    sp->open_flags |= SQLITE_OPEN_READONLY;
  } else {
    sp_unref(sp);
    return cio__sql_fail(DRIVER, -EINVAL, NULL, 0, "mode must be ro, rw or rwc, not '%s'", mode);
  }
  const char *busy = cio__sql_url_param(&p->url, "busy_timeout");
  int64_t ms = 5000;
  if (busy && (cio__sql_parse_int64(busy, strlen(busy), &ms) < 0 || ms < 0 || ms > INT32_MAX)) {
    sp_unref(sp);
    return cio__sql_fail(DRIVER, -EINVAL, NULL, 0, "bad busy_timeout '%s'", busy);
  }
  sp->busy_ms = (int)ms;
  /* A file name, not a URI: a path with '?' or '#' must not be parsed. */
  sp->open_flags &= ~SQLITE_OPEN_URI;
  sp->filename = strdup(sp->memory ? ":memory:" : path);
  if (!sp->filename) {
    sp_unref(sp);
    return cio__sql_fail_code(DRIVER, -ENOMEM);
  }
  p->drv_state = sp;
  return 0;
}

static void sq_pool_fini(cio_sql_pool *p) {
  if (p->drv_state) sp_unref(p->drv_state);
  p->drv_state = NULL;
}

static void sq_free(cio_sql_conn *base) {
  sq_conn *c = (sq_conn *)base;
  sq_pool *sp = c->sp;
  if (c->started) {
    pthread_mutex_lock(&sp->mu);
    c->stop = true;
    if (c->running && c->db) sqlite3_interrupt(c->db);
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&sp->mu);
    pthread_join(c->thread, NULL);
  }
  pthread_cond_destroy(&c->cv);
  cio__sql_conn_fini(&c->base);
  sp_unref(sp);
  free(c);
}

static int sq_connect(cio_sql_pool *p, cio_sql_conn **out) {
  sq_pool *sp = p->drv_state;
  sq_conn *c = calloc(1, sizeof *c);
  if (!c) return cio__sql_fail_code(DRIVER, -ENOMEM);
  c->sp = sp;
  pthread_mutex_lock(&sp->mu);
  sp->refs++;
  pthread_mutex_unlock(&sp->mu);
  cio__sql_list_init(&c->queue);
  pthread_cond_init(&c->cv, NULL);
  if (cio__sql_conn_init(&c->base, p, evict_stmt) < 0) {
    sq_free(&c->base);
    return cio__sql_fail_code(DRIVER, -ENOMEM);
  }
  /* The default pthread stack is 8 MiB of address space per connection;
   * SQLite needs far less. */
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 512 * 1024);
  int e = pthread_create(&c->thread, &attr, thread_main, c);
  pthread_attr_destroy(&attr);
  if (e) {
    sq_free(&c->base);
    return cio__sql_fail(DRIVER, -e, NULL, 0, "cannot start a SQLite thread: %s", strerror(e));
  }
  c->started = true;
  sq_req *q = req_new(REQ_OPEN, NULL, NULL, 0);
  int r = q ? submit(c, q, NULL) : cio__sql_fail_code(DRIVER, -ENOMEM);
  if (r < 0) {
    cio_sql_error saved = *cio_sql_last_error();
    char *msg = strdup(saved.message);
    sq_free(&c->base);
    if (r != -ECANCELED && r != -ETIMEDOUT)
      r = cio__sql_fail(DRIVER, r, NULL, saved.errnum, "cannot open '%s': %s", sp->filename,
                        msg ? msg : "");
    else
      cio__sql_fail_code(DRIVER, r);
    free(msg);
    return r;
  }
  *out = &c->base;
  return 0;
}

static int sq_call(cio_sql_conn *base, int kind, const char *sql, const cio_sql_value *params,
                   size_t n, cio_sql_result **out) {
  sq_conn *c = (sq_conn *)base;
  sq_req *q = req_new(kind, sql, params, n);
  if (!q) return cio__sql_fail_code(DRIVER, -ENOMEM);
  q->want_result = out != NULL;
  return submit(c, q, out);
}

static int sq_query(cio_sql_conn *c, const char *sql, const cio_sql_value *params, size_t n,
                    cio_sql_result **out) {
  return sq_call(c, REQ_QUERY, sql, params, n, out);
}

static int sq_exec(cio_sql_conn *c, const char *sql) {
  return sq_call(c, REQ_EXEC, sql, NULL, 0, NULL);
}

static int sq_prepare(cio_sql_conn *c, const char *sql) {
  return sq_call(c, REQ_PREPARE, sql, NULL, 0, NULL);
}

static int sq_ping(cio_sql_conn *c) { return sq_call(c, REQ_PING, NULL, NULL, 0, NULL); }

static bool sq_idle_ok(cio_sql_conn *c) {
  (void)c;
  return true;
}

static bool sq_needs_cleanup(cio_sql_conn *base) {
  sq_conn *c = (sq_conn *)base;
  pthread_mutex_lock(&c->sp->mu);
  bool r = c->in_tx || c->pending > 0;
  pthread_mutex_unlock(&c->sp->mu);
  return r;
}

static bool sq_in_transaction(cio_sql_conn *base) {
  sq_conn *c = (sq_conn *)base;
  pthread_mutex_lock(&c->sp->mu);
  bool r = c->in_tx;
  pthread_mutex_unlock(&c->sp->mu);
  return r;
}

static int sq_cleanup(cio_sql_conn *base) {
  /* Queued behind any abandoned statement, so it also waits for those. */
  int r = sq_call(base, REQ_PING, NULL, NULL, 0, NULL);
  if (r == 0 && sq_needs_cleanup(base)) r = sq_call(base, REQ_EXEC, "ROLLBACK", NULL, 0, NULL);
  return r;
}

const cio__sql_driver cio__sql_sqlite_driver = {
    .name = DRIVER,
    .concurrent = false,
    .pool_init = sq_pool_init,
    .pool_fini = sq_pool_fini,
    .connect = sq_connect,
    .query = sq_query,
    .exec = sq_exec,
    .prepare = sq_prepare,
    .ping = sq_ping,
    .idle_ok = sq_idle_ok,
    .in_transaction = sq_in_transaction,
    .needs_cleanup = sq_needs_cleanup,
    .cleanup = sq_cleanup,
    .free = sq_free,
};
