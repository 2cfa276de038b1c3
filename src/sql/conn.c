/* conn.c - statements and transactions on a borrowed connection: argument
 * checks, serialisation for drivers that run one statement at a time, and
 * the transaction helpers. */
#include "sql_internal.h"

/* Enter a call: checks, then the connection's lock when the driver runs one
 * statement at a time. */
static int begin_call(cio_sql_conn *c) {
  int r = cio_checkpoint();
  if (r < 0) return cio__sql_fail_code(c->drv->name, r);
  if (c->state != CIO__CONN_IN_USE)
    return cio__sql_fail(c->drv->name, -EINVAL, NULL, 0, "connection is not acquired");
  if ((r = cio__sql_conn_enter(c)) < 0) return r;
  if (c->lock && (r = cio_lock_acquire(c->lock)) < 0) {
    cio__sql_conn_leave(c);
    return cio__sql_fail_code(c->drv->name, r);
  }
  return 0;
}

static void end_call(cio_sql_conn *c) {
  if (c->lock) cio_lock_release(c->lock);
  cio__sql_conn_leave(c);
}

int cio_sql_query(cio_sql_conn *c, const char *sql, const cio_sql_value *params, size_t nparams,
                  cio_sql_result **out) {
  if (out) *out = NULL;
  if (!c || !sql || (nparams && !params))
    return cio__sql_fail(c ? c->drv->name : "", -EINVAL, NULL, 0, "bad arguments");
  int r = begin_call(c);
  if (r < 0) return r;
  r = c->drv->query(c, sql, params, nparams, out);
  end_call(c);
  return r;
}

/* The batch one statement at a time, inside a transaction unless the
 * caller has one open (drivers that cannot send them together). */
static int batch_one_by_one(cio_sql_conn *c, const cio_sql_batch_item *items, size_t n,
                            cio_sql_result **results, bool own_tx) {
  int r = own_tx ? c->drv->query(c, "BEGIN", NULL, 0, NULL) : 0;
  for (size_t i = 0; i < n && r == 0; i++)
    r = c->drv->query(c, items[i].sql, items[i].params, items[i].nparams,
                      results ? &results[i] : NULL);
  if (own_tx && r == 0) r = c->drv->query(c, "COMMIT", NULL, 0, NULL);
  if (own_tx && r < 0 && !c->broken) {
    cio_sql_error saved = *cio_sql_last_error();
    char *msg = strdup(saved.message);
    cio__sql_guard g;
    cio__sql_guard_begin(&g, c->pool->opts.cleanup_timeout);
    if (c->drv->query(c, "ROLLBACK", NULL, 0, NULL) < 0) c->broken = true;
    cio__sql_guard_end(&g);
    cio__sql_fail(saved.driver, saved.code, saved.sqlstate, saved.errnum, "%s",
                  msg ? msg : cio_strerror(saved.code));
    free(msg);
  }
  return r;
}

int cio_sql_query_batch(cio_sql_conn *c, const cio_sql_batch_item *items, size_t n,
                        cio_sql_result **results) {
  for (size_t i = 0; results && i < n; i++) results[i] = NULL;
  if (!c || (n && !items))
    return cio__sql_fail(c ? c->drv->name : "", -EINVAL, NULL, 0, "bad arguments");
  for (size_t i = 0; i < n; i++)
    if (!items[i].sql || (items[i].nparams && !items[i].params))
      return cio__sql_fail(c->drv->name, -EINVAL, NULL, 0, "bad arguments (item %zu)", i);
  int r = begin_call(c);
  if (r < 0) return r;
  if (n == 0)
    r = 0;
  else if (c->drv->batch)
    r = c->drv->batch(c, items, n, results);
  else
    r = batch_one_by_one(c, items, n, results, !c->drv->in_transaction(c));
  end_call(c);
  if (r < 0)
    for (size_t i = 0; results && i < n; i++) {
      cio_sql_result_free(results[i]);
      results[i] = NULL;
    }
  return r;
}

int cio_sql_exec(cio_sql_conn *c, const char *sql) {
  if (!c || !sql) return cio__sql_fail(c ? c->drv->name : "", -EINVAL, NULL, 0, "bad arguments");
  int r = begin_call(c);
  if (r < 0) return r;
  r = c->drv->exec(c, sql);
  end_call(c);
  return r;
}

int cio_sql_prepare(cio_sql_conn *c, const char *sql) {
  if (!c || !sql) return cio__sql_fail(c ? c->drv->name : "", -EINVAL, NULL, 0, "bad arguments");
  int r = begin_call(c);
  if (r < 0) return r;
  r = c->drv->prepare(c, sql);
  end_call(c);
  return r;
}

int cio_sql_begin(cio_sql_conn *c) { return cio_sql_query(c, "BEGIN", NULL, 0, NULL); }

int cio_sql_commit(cio_sql_conn *c) { return cio_sql_query(c, "COMMIT", NULL, 0, NULL); }

void cio__sql_guard_begin(cio__sql_guard *g, double seconds) {
  cio_shield_begin(&g->sh);
  cio_timeout_begin(&g->t, seconds);
}

void cio__sql_guard_end(cio__sql_guard *g) {
  cio_timeout_end(&g->t);
  cio_shield_end(&g->sh);
}

int cio_sql_rollback(cio_sql_conn *c) {
  if (!c) return cio__sql_fail("", -EINVAL, NULL, 0, "bad arguments");
  if (c->broken)
    return cio__sql_fail(c->drv->name, -ECONNRESET, "08003", 0, "connection is broken");
  cio__sql_guard g;
  cio__sql_guard_begin(&g, c->pool->opts.cleanup_timeout);
  int r = cio_sql_query(c, "ROLLBACK", NULL, 0, NULL);
  cio__sql_guard_end(&g);
  /* A rollback that could not run leaves the transaction's state unknown:
   * nobody may reuse the connection. */
  if (r < 0 && r != -CIO_ESQL) c->broken = true;
  return r;
}

int cio_sql_transaction(cio_sql_conn *c, int (*fn)(cio_sql_conn *c, void *arg), void *arg) {
  if (!c || !fn) return cio__sql_fail("", -EINVAL, NULL, 0, "bad arguments");
  int r = cio_sql_begin(c);
  if (r < 0) return r;
  r = fn(c, arg);
  if (r >= 0) return cio_sql_commit(c);
  /* Keep fn's error (the cause) as the last error, not the rollback's. */
  cio_sql_error saved = *cio_sql_last_error();
  char *msg = strdup(saved.message);
  cio_sql_rollback(c);
  cio__sql_fail(saved.driver, saved.code, saved.sqlstate, saved.errnum, "%s",
                msg ? msg : cio_strerror(saved.code));
  free(msg);
  return r;
}
