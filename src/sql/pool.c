/* pool.c - connection pools: open, acquire, release, clean-up, close. */
#include "sql_internal.h"

/* Wake codes of an acquire waiter (besides negative errors). */
enum { HANDED = 0, RETRY = 1 };

typedef struct waiter {
  cio__sql_link link;
  cio_task *task;
  cio_sql_conn *conn;
  bool linked;
} waiter;

static const cio__sql_driver *find_driver(const char *scheme, bool *known) {
  *known = true;
  if (!strcmp(scheme, "postgresql") || !strcmp(scheme, "postgres")) {
#ifdef CIO_SQL_HAVE_PG
    return &cio__sql_pg_driver;
#else
    return NULL;
#endif
  }
  if (!strcmp(scheme, "mysql") || !strcmp(scheme, "mariadb")) {
#ifdef CIO_SQL_HAVE_MYSQL
    return &cio__sql_mysql_driver;
#else
    return NULL;
#endif
  }
  if (!strcmp(scheme, "sqlite")) {
#ifdef CIO_SQL_HAVE_SQLITE
    return &cio__sql_sqlite_driver;
#else
    return NULL;
#endif
  }
  *known = false;
  return NULL;
}

static double now(const cio_sql_pool *p) { return cio_loop_time(p->loop); }

void cio__sql_pool_ref(cio_sql_pool *p) { p->refs++; }

void cio__sql_pool_unref(cio_sql_pool *p) {
  if (--p->refs > 0) return;
  if (p->drv && p->drv->pool_fini) p->drv->pool_fini(p);
  cio__sql_url_free(&p->url);
  free(p);
}

int cio__sql_conn_init(cio_sql_conn *c, cio_sql_pool *p, void (*evict)(void *, cio__sql_centry *)) {
  cio__sql_list_init(&c->link);
  cio__sql_list_init(&c->all);
  c->pool = p;
  c->drv = p->drv;
  c->state = CIO__CONN_IN_USE;
  if (!p->drv->concurrent && !(c->lock = cio_lock_new())) return -ENOMEM;
  cio__sql_cache_init(&c->cache, p->opts.statement_cache, evict, c);
  return 0;
}

void cio__sql_conn_fini(cio_sql_conn *c) {
  if (c->lock) cio_lock_free(c->lock);
  c->lock = NULL;
}

/* ---------------------------------------------------------------- waking */

static waiter *pop_waiter(cio_sql_pool *p) {
  if (cio__sql_list_empty(&p->waiters)) return NULL;
  waiter *w = cio__sql_container(p->waiters.next, waiter, link);
  cio__sql_list_remove(&w->link);
  w->linked = false;
  p->nwaiting--;
  return w;
}

/* Give c to the first waiter still waiting. */
static bool hand_off(cio_sql_pool *p, cio_sql_conn *c) {
  waiter *w;
  while ((w = pop_waiter(p))) {
    w->conn = c;
    if (cio_task_wake(w->task, HANDED)) return true;
    w->conn = NULL; /* interrupted meanwhile: it sees its own error */
  }
  return false;
}

/* A slot was freed: let the first waiter open a connection. */
static void wake_retry(cio_sql_pool *p) {
  waiter *w;
  while ((w = pop_waiter(p)))
    if (cio_task_wake(w->task, RETRY)) return;
}

static void wake_all(cio_sql_pool *p, cio__sql_link *list, int code) {
  while (!cio__sql_list_empty(list)) {
    waiter *w = cio__sql_container(list->next, waiter, link);
    cio__sql_list_remove(&w->link);
    w->linked = false;
    if (list == &p->waiters) p->nwaiting--;
    cio_task_wake(w->task, code);
  }
}

static void maybe_closed(cio_sql_pool *p) {
  if (p->closed && p->size == 0) wake_all(p, &p->closers, 0);
}

/* ---------------------------------------------------------------- conns */

/* c is in no list but p->all. */
static void drop(cio_sql_pool *p, cio_sql_conn *c, bool broken) {
  cio__sql_list_remove(&c->all);
  p->size--;
  p->stats.closed++;
  if (broken) p->stats.broken++;
  c->drv->free(c);
  if (p->closed)
    maybe_closed(p);
  else
    wake_retry(p);
}

static void prune_idle(cio_sql_pool *p) {
  if (p->opts.max_idle < 0) return;
  double t = now(p);
  while (p->nidle && p->size > p->opts.min_size) {
    cio_sql_conn *c = cio__sql_container(p->idle.prev, cio_sql_conn, link);
    if (t - c->idle_since <= p->opts.max_idle) break;
    cio__sql_list_remove(&c->link);
    p->nidle--;
    drop(p, c, false);
  }
}

/* c (healthy, clean, in no list but all) goes to a waiter or the idle list. */
static void to_idle(cio_sql_pool *p, cio_sql_conn *c) {
  if (p->closed) {
    drop(p, c, false);
    return;
  }
  if (hand_off(p, c)) {
    c->state = CIO__CONN_IN_USE;
    p->nin_use++;
    p->stats.acquires++;
    return;
  }
  c->state = CIO__CONN_IDLE;
  c->idle_since = now(p);
  cio__sql_list_push_front(&p->idle, &c->link);
  p->nidle++;
  prune_idle(p);
}

static int cleanup_task(void *arg) {
  cio_sql_conn *c = arg;
  cio_sql_pool *p = c->pool;
  int r = -ECANCELED;
  if (!p->freed && cio__sql_conn_enter(c) == 0) {
    cio_timeout_scope t;
    cio_timeout_begin(&t, p->opts.cleanup_timeout);
    r = c->drv->cleanup(c);
    cio_timeout_end(&t);
    c->users--; /* not cio__sql_conn_leave: we decide its fate below */
  }
  c->cleaner = NULL;
  p->ncleanup--;
  if (p->freed) {
    c->drv->free(c);
  } else if (r == 0 && !c->broken) {
    to_idle(p, c);
  } else {
    drop(p, c, true);
  }
  cio__sql_pool_unref(p);
  return 0; /* its failure is counted as a broken connection */
}

static void start_cleanup(cio_sql_pool *p, cio_sql_conn *c) {
  static const cio_spawn_opts o = {.name = "sql-cleanup", .daemon = 1};
  c->state = CIO__CONN_CLEANUP;
  cio_task *t = cio_spawn_ex(cleanup_task, c, &o);
  if (!t) {
    drop(p, c, true);
    return;
  }
  p->ncleanup++;
  cio__sql_pool_ref(p);
  c->cleaner = t;
  cio_detach(t);
}

void cio_sql_release(cio_sql_conn *c) {
  if (!c || c->state != CIO__CONN_IN_USE) return;
  cio_sql_pool *p = c->pool;
  p->nin_use--;
  if (c->broken || p->freed)
    drop(p, c, c->broken);
  else if (c->drv->needs_cleanup(c))
    start_cleanup(p, c);
  else
    to_idle(p, c);
}

int cio__sql_conn_enter(cio_sql_conn *c) {
  if (c->orphan) return cio__sql_fail_code(c->drv->name, -EBADF);
  if (c->broken)
    return cio__sql_fail(c->drv->name, -ECONNRESET, "08003", 0,
                         "connection is broken (lost, or a call was cancelled midway)");
  c->users++;
  return 0;
}

void cio__sql_conn_leave(cio_sql_conn *c) {
  if (--c->users == 0 && c->orphan) c->drv->free(c);
}

/* ---------------------------------------------------------------- open */

/* Open one connection within opts.connect_timeout. */
static int open_conn(cio_sql_pool *p, cio_sql_conn **out) {
  cio_timeout_scope t;
  int r = cio_timeout_begin(&t, p->opts.connect_timeout);
  if (r < 0) return cio__sql_fail_code(p->drv->name, r);
  r = p->drv->connect(p, out);
  if (cio_timeout_end(&t) && r == -ETIMEDOUT)
    cio__sql_fail(p->drv->name, -ETIMEDOUT, "08001", 0, "connecting to %s:%d timed out after %g s",
                  p->url.host ? p->url.host : "", p->url.port, p->opts.connect_timeout);
  return r;
}

/* Open a connection for an acquire (counted in size meanwhile). */
static int grow(cio_sql_pool *p, cio_sql_conn **out) {
  cio_sql_conn *c = NULL;
  p->size++;
  p->nopening++;
  cio__sql_pool_ref(p);
  int r = open_conn(p, &c);
  p->nopening--;
  if (p->freed) {
    if (r == 0) c->drv->free(c);
    cio__sql_pool_unref(p);
    return cio__sql_fail_code(p->drv->name, -EBADF);
  }
  cio__sql_pool_unref(p);
  if (r == 0 && p->closed) {
    c->drv->free(c);
    r = cio__sql_fail(p->drv->name, -ESHUTDOWN, NULL, 0, "pool is closed");
  }
  if (r < 0) {
    p->size--;
    if (p->closed)
      maybe_closed(p);
    else
      wake_retry(p);
    return r;
  }
  cio__sql_list_push_back(&p->all, &c->all);
  p->stats.opened++;
  c->state = CIO__CONN_IN_USE;
  *out = c;
  return 0;
}

static int fill_opts(cio_sql_pool_opts *o, const cio_sql_pool_opts *in, bool memory) {
  if (in)
    *o = *in;
  else
    memset(o, 0, sizeof *o);
  /* A size this big is a mistake (a negative int passed as size_t). */
  if (o->min_size > 100000 || o->max_size > 100000) return -EINVAL;
  if (!o->min_size) o->min_size = 1;
  if (!o->max_size) o->max_size = o->min_size > 10 ? o->min_size : 10;
  if (memory) o->min_size = o->max_size = 1;
  if (o->min_size > o->max_size) return -EINVAL;
  if (o->connect_timeout == 0) o->connect_timeout = 10;
  if (o->health_check == 0) o->health_check = 30;
  if (o->max_idle == 0) o->max_idle = 300;
  if (o->cleanup_timeout == 0) o->cleanup_timeout = 5;
  if (!o->statement_cache) o->statement_cache = 256;
  return 0;
}

int cio_sql_pool_open(const char *url, const cio_sql_pool_opts *opts, cio_sql_pool **out) {
  if (!out) return cio__sql_fail("", -EINVAL, NULL, 0, "out is NULL");
  *out = NULL;
  if (!url) return cio__sql_fail("", -EINVAL, NULL, 0, "url is NULL");
  int r = cio_checkpoint();
  if (r < 0) return cio__sql_fail_code("", r);
  cio_sql_pool *p = calloc(1, sizeof *p);
  if (!p) return cio__sql_fail_code("", -ENOMEM);
  p->refs = 1;
  p->loop = cio_loop_current();
  cio__sql_list_init(&p->idle);
  cio__sql_list_init(&p->all);
  cio__sql_list_init(&p->waiters);
  cio__sql_list_init(&p->closers);
  if ((r = cio__sql_url_parse(url, &p->url)) < 0) {
    cio__sql_pool_unref(p);
    return r;
  }
  bool known;
  p->drv = find_driver(p->url.scheme, &known);
  if (!p->drv) {
    r = cio__sql_fail("", -EPROTONOSUPPORT, NULL, 0,
                      known ? "the %s driver is not built into this cio (see docs/DB.md)"
                            : "unknown database URL scheme '%s' (postgresql, mysql, mariadb, "
                              "sqlite)",
                      p->url.scheme);
    cio__sql_pool_unref(p);
    return r;
  }
  bool memory =
      !strcmp(p->drv->name, "sqlite") && (!p->url.path || !strcmp(p->url.path, ":memory:"));
  if (fill_opts(&p->opts, opts, memory) < 0) {
    const cio__sql_driver *d = p->drv;
    p->drv = NULL;
    cio__sql_pool_unref(p);
    return cio__sql_fail(d->name, -EINVAL, NULL, 0, "bad pool options (sizes)");
  }
  if (p->drv->pool_init && (r = p->drv->pool_init(p)) < 0) {
    p->drv = NULL; /* nothing to finalise */
    cio__sql_pool_unref(p);
    return r;
  }
  for (size_t i = 0; i < p->opts.min_size; i++) {
    cio_sql_conn *c;
    if ((r = grow(p, &c)) < 0) {
      cio_sql_pool_free(p);
      return r;
    }
    p->nin_use++;
    cio_sql_release(c);
  }
  *out = p;
  return 0;
}

/* ---------------------------------------------------------------- acquire */

/* Hand out an idle connection, checking it first; 1 when *out is set, 0
 * when there is none left, or an error of the health check's wait. */
static int take_idle(cio_sql_pool *p, cio_sql_conn **out) {
  while (p->nidle) {
    cio_sql_conn *c = cio__sql_container(p->idle.next, cio_sql_conn, link);
    cio__sql_list_remove(&c->link);
    p->nidle--;
    c->state = CIO__CONN_IN_USE;
    p->nin_use++;
    if (!c->drv->idle_ok(c)) {
      p->nin_use--;
      drop(p, c, true);
      continue;
    }
    if (p->opts.health_check >= 0 && now(p) - c->idle_since > p->opts.health_check) {
      int r = cio__sql_conn_enter(c);
      if (r == 0) {
        r = c->drv->ping(c);
        cio__sql_conn_leave(c);
      }
      if (r == -ECANCELED || r == -ETIMEDOUT || r == -EBADF) {
        cio_sql_release(c);
        return r;
      }
      if (r < 0) {
        p->nin_use--;
        drop(p, c, true);
        continue;
      }
    }
    p->stats.acquires++;
    *out = c;
    return 1;
  }
  return 0;
}

int cio_sql_acquire(cio_sql_pool *p, cio_sql_conn **out) {
  if (!out) return cio__sql_fail("", -EINVAL, NULL, 0, "out is NULL");
  *out = NULL;
  if (!p) return cio__sql_fail("", -EINVAL, NULL, 0, "pool is NULL");
  int r = cio_checkpoint();
  if (r < 0) return cio__sql_fail_code(p->drv->name, r);
  for (;;) {
    if (p->freed) return cio__sql_fail_code(p->drv->name, -EBADF);
    if (p->closed) return cio__sql_fail(p->drv->name, -ESHUTDOWN, NULL, 0, "pool is closed");
    prune_idle(p);
    if ((r = take_idle(p, out)) != 0) return r < 0 ? cio__sql_fail_code(p->drv->name, r) : 0;
    if (p->size < p->opts.max_size) {
      cio_sql_conn *c;
      if ((r = grow(p, &c)) < 0) return r;
      p->nin_use++;
      p->stats.acquires++;
      *out = c;
      return 0;
    }
    waiter w = {.task = cio_current(), .linked = true};
    cio__sql_list_push_back(&p->waiters, &w.link);
    p->nwaiting++;
    p->stats.waits++;
    cio__sql_pool_ref(p); /* a free meanwhile wakes us with -EBADF */
    r = cio_suspend("sql pool acquire");
    if (w.linked) {
      cio__sql_list_remove(&w.link);
      p->nwaiting--;
    }
    const char *name = p->drv->name;
    cio__sql_pool_unref(p);
    if (r == HANDED && w.conn) {
      *out = w.conn;
      return 0;
    }
    if (r < 0) return cio__sql_fail_code(name, r);
    /* RETRY: a slot was freed */
  }
}

/* A connection that pool queries already share, the least busy one. */
static cio_sql_conn *pick_shared(cio_sql_pool *p) {
  cio_sql_conn *best = NULL;
  for (cio__sql_link *l = p->all.next; l != &p->all; l = l->next) {
    cio_sql_conn *c = cio__sql_container(l, cio_sql_conn, all);
    if (c->shared > 0 && !c->broken && c->state == CIO__CONN_IN_USE &&
        (!best || c->users < best->users))
      best = c;
  }
  return best;
}

int cio_sql_pool_query(cio_sql_pool *p, const char *sql, const cio_sql_value *params,
                       size_t nparams, cio_sql_result **out) {
  if (out) *out = NULL;
  if (!p) return cio__sql_fail("", -EINVAL, NULL, 0, "pool is NULL");
  cio_sql_conn *c = NULL;
  int r;
  /* A driver that pipelines shares a connection rather than wait for one:
   * when none is idle and the pool is full, the statement joins one that
   * pool queries already use. */
  if (p->drv->concurrent && !p->closed && !p->nidle && p->size >= p->opts.max_size) {
    if ((r = cio_checkpoint()) < 0) return cio__sql_fail_code(p->drv->name, r);
    c = pick_shared(p);
  }
  if (c) {
    c->shared++;
  } else {
    if ((r = cio_sql_acquire(p, &c)) < 0) return r;
    c->shared = 1;
  }
  r = cio_sql_query(c, sql, params, nparams, out);
  if (--c->shared == 0) cio_sql_release(c);
  return r;
}

/* ---------------------------------------------------------------- close */

int cio_sql_pool_close(cio_sql_pool *p) {
  if (!p || p->closed) return 0;
  p->closed = true;
  while (p->nidle) {
    cio_sql_conn *c = cio__sql_container(p->idle.next, cio_sql_conn, link);
    cio__sql_list_remove(&c->link);
    p->nidle--;
    drop(p, c, false);
  }
  wake_all(p, &p->waiters, -ESHUTDOWN);
  maybe_closed(p);
  return 0;
}

int cio_sql_pool_wait_closed(cio_sql_pool *p) {
  if (!p || !p->closed) return cio__sql_fail("", -EINVAL, NULL, 0, "pool not closed");
  int r = cio_checkpoint();
  if (r < 0) return cio__sql_fail_code(p->drv->name, r);
  while (p->size > 0) {
    waiter w = {.task = cio_current(), .linked = true};
    cio__sql_list_push_back(&p->closers, &w.link);
    cio__sql_pool_ref(p);
    r = cio_suspend("sql pool wait_closed");
    if (w.linked) cio__sql_list_remove(&w.link);
    const char *name = p->drv->name;
    cio__sql_pool_unref(p);
    if (r < 0) return cio__sql_fail_code(name, r);
  }
  return 0;
}

void cio_sql_pool_free(cio_sql_pool *p) {
  if (!p || p->freed) return;
  p->freed = p->closed = true;
  wake_all(p, &p->waiters, -EBADF);
  wake_all(p, &p->closers, -EBADF);
  cio__sql_list_init(&p->idle);
  p->nidle = 0;
  while (!cio__sql_list_empty(&p->all)) {
    cio_sql_conn *c = cio__sql_container(p->all.next, cio_sql_conn, all);
    cio__sql_list_remove(&c->all);
    cio__sql_list_init(&c->link);
    if (c->state == CIO__CONN_CLEANUP) {
      cio_task_cancel(c->cleaner); /* it frees c when it ends */
    } else if (c->users > 0) {
      c->orphan = true;
    } else {
      c->drv->free(c);
    }
  }
  p->size = 0;
  cio__sql_pool_unref(p);
}

/* ---------------------------------------------------------------- queries */

void cio_sql_pool_stats_get(const cio_sql_pool *p, cio_sql_pool_stats *out) {
  memset(out, 0, sizeof *out);
  if (!p) return;
  *out = p->stats;
  out->size = p->size;
  out->idle = p->nidle;
  out->in_use = p->nin_use;
  out->opening = p->nopening;
  out->waiting = p->nwaiting;
}

const char *cio_sql_pool_driver(const cio_sql_pool *p) { return p ? p->drv->name : ""; }

cio_sql_pool *cio_sql_conn_pool(const cio_sql_conn *c) { return c ? c->pool : NULL; }

int cio_sql_conn_broken(const cio_sql_conn *c) { return c ? c->broken : 1; }
