/* sql_internal.h - what the sql layer's files share: the driver interface,
 * the common parts of pools and connections, results under construction,
 * URLs, errors, the statement cache. Not installed. */
#ifndef CIO_SQL_INTERNAL_H
#define CIO_SQL_INTERNAL_H

#include "cio.h"
#include "cio/sql.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CIO__SQL_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ---------------------------------------------------------------- lists */

typedef struct cio__sql_link {
  struct cio__sql_link *prev, *next;
} cio__sql_link;

static inline void cio__sql_list_init(cio__sql_link *h) { h->prev = h->next = h; }
static inline bool cio__sql_list_empty(const cio__sql_link *h) { return h->next == h; }
static inline void cio__sql_list_insert_after(cio__sql_link *at, cio__sql_link *n) {
  n->prev = at;
  n->next = at->next;
  at->next->prev = n;
  at->next = n;
}
static inline void cio__sql_list_push_front(cio__sql_link *h, cio__sql_link *n) {
  cio__sql_list_insert_after(h, n);
}
static inline void cio__sql_list_push_back(cio__sql_link *h, cio__sql_link *n) {
  cio__sql_list_insert_after(h->prev, n);
}
static inline void cio__sql_list_remove(cio__sql_link *n) {
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->prev = n->next = n;
}
#define cio__sql_container(ptr, type, member)                                                      \
  ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* ---------------------------------------------------------------- URLs */

typedef struct cio__sql_url {
  char *scheme;   /* as written, lower-cased */
  char *user;     /* decoded; NULL when absent */
  char *password; /* decoded; NULL when absent */
  char *host;     /* decoded, brackets of IPv6 removed; NULL when absent */
  int port;       /* 0 when absent */
  char *path;     /* database name (PostgreSQL, MariaDB) or file (SQLite);
                     decoded; NULL when absent */
  size_t nparams;
  char **keys, **vals; /* decoded query parameters */
} cio__sql_url;

/* Parse url into u (all strings heap-allocated). 0, -EINVAL (with the
 * reason in the last error), -ENOMEM. */
int cio__sql_url_parse(const char *url, cio__sql_url *u);
void cio__sql_url_free(cio__sql_url *u);
/* The value of query parameter key, or NULL. */
const char *cio__sql_url_param(const cio__sql_url *u, const char *key);

/* ---------------------------------------------------------------- errors */

/* An error captured away from the task that will report it (a result read
 * by another task, a worker thread): moved into the thread's last error by
 * cio__sql_err_raise when the owning task returns. */
typedef struct cio__sql_err {
  int code;
  int errnum;
  char sqlstate[6];
  char *message; /* heap; NULL = the code's own words */
} cio__sql_err;

void cio__sql_err_set(cio__sql_err *e, int code, const char *sqlstate, int errnum, const char *msg,
                      size_t msglen);
void cio__sql_err_clear(cio__sql_err *e);
/* Make e the calling thread's last error (taking its message) and return
 * e->code. */
int cio__sql_err_raise(cio__sql_err *e, const char *driver);
/* Set the thread's last error from parts and return code. */
int cio__sql_fail(const char *driver, int code, const char *sqlstate, int errnum, const char *fmt,
                  ...) CIO__SQL_PRINTF(5, 6);
/* The same for a status with no words of its own (-ECANCELED...). */
int cio__sql_fail_code(const char *driver, int code);

/* ---------------------------------------------------------------- results */

struct cio_sql_row {
  const cio_sql_result *res;
  const cio_sql_value *cells;
};

typedef struct cio__sql_chunk cio__sql_chunk;

struct cio_sql_result {
  size_t nrows, ncols, cap;
  char **names;
  cio_sql_value *cells; /* nrows * ncols, row-major */
  cio_sql_row *rows;    /* built by cio__sql_result_finish */
  int64_t affected, insert_id;
  cio__sql_chunk *chunks; /* arena for copied bytes */
  void (*keep_free)(void *);
  void *keep; /* driver data the cells point into (a PGresult) */
};

cio_sql_result *cio__sql_result_new(size_t ncols);
/* Copy name as column col's name. 0 or -ENOMEM. */
int cio__sql_result_set_name(cio_sql_result *res, size_t col, const char *name, size_t len);
/* Append a row of ncols cells (zeroed: NULL), or NULL on ENOMEM. */
cio_sql_value *cio__sql_result_add_row(cio_sql_result *res);
/* n bytes of arena memory owned by res, or NULL. */
void *cio__sql_result_alloc(cio_sql_result *res, size_t n);
/* Copy len bytes + NUL into the arena and make v point there. 0/-ENOMEM. */
int cio__sql_result_copy(cio_sql_result *res, cio_sql_value *v, cio_sql_type type, const void *p,
                         size_t len);
/* Build the row table; 0 or -ENOMEM. */
int cio__sql_result_finish(cio_sql_result *res);

/* ---------------------------------------------------------------- statement
 * cache */

typedef struct cio__sql_centry {
  cio__sql_link lru; /* front = most recently used */
  struct cio__sql_centry *chain;
  uint64_t hash;
  size_t len;
  void *stmt; /* the driver's statement */
  unsigned id;
  char key[]; /* len bytes + NUL */
} cio__sql_centry;

typedef struct cio__sql_cache {
  int cap; /* <= 0: caching off */
  size_t count, nbuckets;
  cio__sql_centry **buckets;
  cio__sql_link lru;
  unsigned next_id;
  void (*evict)(void *ctx, cio__sql_centry *e); /* finalise e->stmt */
  void *ctx;
} cio__sql_cache;

void cio__sql_cache_init(cio__sql_cache *c, int cap, void (*evict)(void *, cio__sql_centry *),
                         void *ctx);
/* The entry for key (moved to the front), or NULL. */
cio__sql_centry *cio__sql_cache_get(cio__sql_cache *c, const char *key, size_t len);
/* Add key -> stmt; evicts the least recently used entry when full (calling
 * evict on it). Returns the entry, or NULL on ENOMEM or when caching is off
 * (the caller then owns stmt). */
cio__sql_centry *cio__sql_cache_put(cio__sql_cache *c, const char *key, size_t len, void *stmt);
/* Unlink e (without calling evict) and free it. */
void cio__sql_cache_remove(cio__sql_cache *c, cio__sql_centry *e);
/* Evict every entry. */
void cio__sql_cache_clear(cio__sql_cache *c);

/* ---------------------------------------------------------------- drivers */

typedef struct cio__sql_driver {
  const char *name;
  bool concurrent; /* query() may run in several tasks at once on one conn */
  /* Per-pool state; optional. */
  int (*pool_init)(cio_sql_pool *p);
  void (*pool_fini)(cio_sql_pool *p);
  /* Open a connection (allocated by the driver, common part zeroed then
   * set up by cio__sql_conn_init). Sets the last error. May suspend. */
  int (*connect)(cio_sql_pool *p, cio_sql_conn **out);
  /* Set the last error on failure. May suspend. */
  int (*query)(cio_sql_conn *c, const char *sql, const cio_sql_value *params, size_t n,
               cio_sql_result **out);
  /* Optional: n statements as one unit (see cio_sql_query_batch); NULL:
   * conn.c runs them one by one inside a transaction. */
  int (*batch)(cio_sql_conn *c, const cio_sql_batch_item *items, size_t n,
               cio_sql_result **results);
  int (*exec)(cio_sql_conn *c, const char *sql);
  int (*prepare)(cio_sql_conn *c, const char *sql);
  /* A round trip. May suspend. */
  int (*ping)(cio_sql_conn *c);
  /* Without suspending: false if the connection visibly died while idle. */
  bool (*idle_ok)(cio_sql_conn *c);
  /* Inside a transaction (the server's own view). Never suspends. */
  bool (*in_transaction)(cio_sql_conn *c);
  /* Inside a transaction, or still busy with an abandoned statement. */
  bool (*needs_cleanup)(cio_sql_conn *c);
  /* Finish abandoned work and roll back; 0 when clean again. May suspend. */
  int (*cleanup)(cio_sql_conn *c);
  /* Close at once and free. Never suspends. */
  void (*free)(cio_sql_conn *c);
} cio__sql_driver;

extern const cio__sql_driver cio__sql_pg_driver;
extern const cio__sql_driver cio__sql_mysql_driver;
extern const cio__sql_driver cio__sql_sqlite_driver;

enum { CIO__CONN_IDLE, CIO__CONN_IN_USE, CIO__CONN_CLEANUP };

/* The common head of every driver's connection. */
struct cio_sql_conn {
  cio__sql_link link; /* pool's idle list while idle */
  cio__sql_link all;  /* pool's list of every connection */
  cio_sql_pool *pool;
  const cio__sql_driver *drv;
  cio_lock *lock; /* serialises calls when !drv->concurrent */
  int state;
  bool broken;
  bool orphan;       /* its pool was freed while a task was inside a call:
                        the last such task frees it */
  int users;         /* tasks inside calls on it */
  int shared;        /* cio_sql_pool_query calls using it (concurrent
                        drivers): the last one releases it */
  double idle_since; /* loop time */
  cio_task *cleaner; /* the cleanup task, in state CLEANUP */
  cio__sql_cache cache;
};

/* Set up the common part of a new connection of pool p. 0 or -ENOMEM. */
int cio__sql_conn_init(cio_sql_conn *c, cio_sql_pool *p, void (*evict)(void *, cio__sql_centry *));
/* Undo cio__sql_conn_init (the cache must have been cleared). */
void cio__sql_conn_fini(cio_sql_conn *c);

struct cio_sql_pool {
  const cio__sql_driver *drv;
  cio__sql_url url;
  cio_sql_pool_opts opts; /* defaults filled in */
  cio_loop *loop;
  cio__sql_link idle;    /* most recently used first */
  cio__sql_link all;     /* every open connection */
  cio__sql_link waiters; /* acquire waiters, FIFO */
  cio__sql_link closers; /* wait_closed waiters */
  size_t size;           /* open + opening */
  size_t nidle, nin_use, nopening, ncleanup, nwaiting;
  cio_sql_pool_stats stats;
  bool closed, freed;
  int refs; /* the owner + tasks working for the pool */
  void *drv_state;
};

void cio__sql_pool_ref(cio_sql_pool *p);
void cio__sql_pool_unref(cio_sql_pool *p);

/* Enter / leave a call on c (counts users; frees an orphan on the way
 * out). cio__sql_conn_enter fails with -EBADF for an orphan and
 * -ECONNRESET for a broken connection (last error set). */
int cio__sql_conn_enter(cio_sql_conn *c);
void cio__sql_conn_leave(cio_sql_conn *c);

/* Placeholders: rewrite $N to ? for MariaDB outside literals, identifiers and
 * comments. *out is NULL when sql has no $N (use it as is); else a heap
 * string and *order (heap, *norder entries) the 0-based argument index of
 * each ? in turn. 0, -EINVAL ($0, or $N beyond nparams), -ENOMEM. */
int cio__sql_rewrite_dollar(const char *sql, size_t nparams, char **out, size_t **order,
                            size_t *norder);

/* Strict number parsing shared by drivers and getters: the whole of
 * [p, p+len) must be the number. 0, -EINVAL, -ERANGE. */
int cio__sql_parse_int64(const char *p, size_t len, int64_t *out);
int cio__sql_parse_double(const char *p, size_t len, double *out);

/* Scope helper for bounded, shielded cleanup (rollback, drain). */
typedef struct cio__sql_guard {
  cio_shield_scope sh;
  cio_timeout_scope t;
} cio__sql_guard;
void cio__sql_guard_begin(cio__sql_guard *g, double seconds);
void cio__sql_guard_end(cio__sql_guard *g);

#endif
