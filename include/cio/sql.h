/* cio/sql.h - SQL databases with pools: PostgreSQL, MariaDB/MySQL, SQLite.
 *
 * One shape for every SQL database (asyncpg, aiomysql, aiosqlite in one): a
 * URL picks the driver, a pool hands out connections, queries take bound
 * parameters and give back a result that is read by column index or name.
 *
 *   cio_sql_pool *pool;
 *   cio_sql_pool_opts o = {.min_size = 1, .max_size = 30};
 *   int r = cio_sql_pool_open("mysql://user:pw@db.example:3306/bugs", &o,
 * &pool);
 *   ...
 *   cio_sql_conn *c;
 *   r = cio_sql_acquire(pool, &c);                 // async with pool.acquire()
 *   cio_sql_result *res;
 *   cio_sql_value args[] = {cio_sql_int(bug_id)};
 *   if (r == 0) r = cio_sql_query(c, "SELECT summary FROM bug WHERE id = $1",
 *                                 args, 1, &res);  // await cur.execute(SQL,
 * (id,)) cio_sql_release(c); const cio_sql_row *row = r == 0 ?
 * cio_sql_result_row(res, 0) : NULL;  // fetchone() const char *s; size_t n; if
 * (row && cio_sql_get_text(cio_sql_row_get(row, "summary"), &s, &n) == 0) ...
 *   cio_sql_result_free(res);
 *   ...
 *   cio_sql_pool_close(pool);                      // pool.close()
 *   cio_sql_pool_wait_closed(pool);                // await pool.wait_closed()
 *   cio_sql_pool_free(pool);
 *
 * URLs. postgresql://user:pw@host:port/db?key=value (also postgres://; keys
 * are libpq's connection keywords, e.g. sslmode, application_name);
 * mysql://user:pw@host:port/db?charset=utf8mb4 (also mariadb://; keys:
 * charset, unix_socket, ssl=1); sqlite:///abs/path.db, sqlite:rel/path.db,
 * sqlite::memory: (keys: busy_timeout in ms, mode=ro|rw|rwc). User, password
 * and database are percent-decoded. Host names are resolved with cio's
 * resolver (cio_getaddrinfo), never by the client libraries' blocking one.
 * A driver left out of the build fails with -EPROTONOSUPPORT.
 *
 * Placeholders. $1, $2, ... work with every driver (PostgreSQL's own style;
 * SQLite binds them by name; for MariaDB they are rewritten to ? outside
 * literals, quoted identifiers and comments, repeating arguments as needed).
 * Each driver's native style also works: ? for MariaDB and SQLite, ?NNN,
 * :name, @name for SQLite (bound by position). Arguments are always sent
 * apart from the SQL text, never pasted into it.
 *
 * Prepared statements. Every query with a given SQL text is prepared once
 * per connection and the statement kept in a per-connection cache (LRU,
 * opts.statement_cache entries), as asyncpg does; cio_sql_prepare() prepares
 * ahead of time (to catch SQL errors early, or warm a connection).
 *
 * Errors. Calls return 0 or a negative code. SQL errors reported by the
 * server are -CIO_ESQL; a lost connection is -ECONNRESET (the connection is
 * broken: the pool drops and replaces it); a server that cannot be reached
 * -ECONNREFUSED / -ETIMEDOUT / -CIO_ENONAME; a rejected login -EACCES. The
 * details of the failure - the server's message, SQLSTATE, error number -
 * are in cio_sql_last_error(), set by the failing call as it returns: read
 * it before the task suspends again.
 *
 * Cancellation and timeouts. Every call that may suspend is a cancellation
 * point and honours the task's timeout scopes, and checks both on entry. A
 * cancelled acquire holds nothing. A query interrupted while the server runs
 * it returns at once (-ECANCELED / -ETIMEDOUT); what happens to the statement
 * depends on the driver: PostgreSQL sends a cancel request (off the loop
 * thread) and keeps the connection, MariaDB's connection is dropped, SQLite's
 * statement is interrupted (sqlite3_interrupt). Either way the statement may
 * or may not have taken effect, and a connection released inside a
 * transaction is rolled back before anyone else gets it.
 *
 * Threads. A pool and everything from it belong to the loop thread that
 * opened the pool; results may be read and freed from any thread. Free every
 * pool before its loop closes. Link with cio-sql.
 */
#ifndef CIO_SQL_H
#define CIO_SQL_H

#include "task.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The layer's own status code, CIO_ESQL (the database reported an error:
 * cio_sql_last_error() has its words), is defined with every other cio code
 * in common.h. */

/* ---------------------------------------------------------------- values */

typedef enum cio_sql_type {
  CIO_SQL_NULL = 0,
  CIO_SQL_INT,   /* int64_t */
  CIO_SQL_FLOAT, /* double */
  CIO_SQL_TEXT,  /* bytes in the connection's character set (UTF-8 by default) */
  CIO_SQL_BLOB   /* bytes */
} cio_sql_type;

/* A parameter, or a cell of a result. TEXT and BLOB point to len bytes;
 * in results they are NUL-terminated (the NUL is not counted in len) and
 * owned by the result. As a parameter, p is borrowed for the call only.
 * Exact types of results: integers of every width, booleans (0/1) -> INT;
 * real and double -> FLOAT; binary strings (bytea, BLOB/VARBINARY) -> BLOB;
 * everything else (text, decimals/numeric, dates and times, JSON, UUIDs,
 * unsigned 64-bit values above INT64_MAX) -> TEXT in the server's own
 * notation. SQLite's cells carry their storage class. */
typedef struct cio_sql_value {
  cio_sql_type type;
  size_t len;
  union {
    int64_t i;
    double f;
    const void *p;
  } v;
} cio_sql_value;

static inline cio_sql_value cio_sql_null(void) {
  cio_sql_value x;
  memset(&x, 0, sizeof x);
  return x;
}
static inline cio_sql_value cio_sql_int(int64_t i) {
  cio_sql_value x = cio_sql_null();
  x.type = CIO_SQL_INT;
  x.v.i = i;
  return x;
}
static inline cio_sql_value cio_sql_float(double f) {
  cio_sql_value x = cio_sql_null();
  x.type = CIO_SQL_FLOAT;
  x.v.f = f;
  return x;
}
/* Text of len bytes (need not be NUL-terminated). */
static inline cio_sql_value cio_sql_textn(const char *s, size_t len) {
  cio_sql_value x = cio_sql_null();
  x.type = CIO_SQL_TEXT;
  x.len = len;
  x.v.p = s;
  return x;
}
/* A NUL-terminated string; NULL gives SQL NULL. */
static inline cio_sql_value cio_sql_text(const char *s) {
  return s ? cio_sql_textn(s, strlen(s)) : cio_sql_null();
}
static inline cio_sql_value cio_sql_blob(const void *p, size_t len) {
  cio_sql_value x = cio_sql_null();
  x.type = CIO_SQL_BLOB;
  x.len = len;
  x.v.p = p;
  return x;
}

/* Typed getters. v may be NULL (a missing column: see cio_sql_row_get).
 * Return 0 and store the value, or: -ENODATA for SQL NULL (the value is
 * NULL, not empty), -ENOENT for v == NULL, -EINVAL when the value does not
 * convert (text that is not a number, a blob asked as a number), -ERANGE
 * when it does not fit. Conversions: an INT reads as a double; a FLOAT with
 * an integral value in range reads as an int64; TEXT holding a number (as
 * decimals and numeric arrive) reads as either. get_text accepts TEXT
 * and BLOB, get_blob the same (the bytes either way); *p stays valid as long
 * as the result. Never suspend. */
CIO_API int cio_sql_get_int64(const cio_sql_value *v, int64_t *out);
CIO_API int cio_sql_get_double(const cio_sql_value *v, double *out);
CIO_API int cio_sql_get_text(const cio_sql_value *v, const char **p, size_t *len);
CIO_API int cio_sql_get_blob(const cio_sql_value *v, const void **p, size_t *len);
/* 1 if v is SQL NULL, 0 if it is a value, -ENOENT if v is NULL. */
CIO_API int cio_sql_is_null(const cio_sql_value *v);

/* ---------------------------------------------------------------- results */

typedef struct cio_sql_result cio_sql_result;
typedef struct cio_sql_row cio_sql_row;

/* Rows and columns of a result (0 and 0 for a statement that returns no
 * rows). Never suspend. */
CIO_API size_t cio_sql_result_nrows(const cio_sql_result *res);
CIO_API size_t cio_sql_result_ncols(const cio_sql_result *res);
/* Name of column col, or NULL if col is out of range. Owned by res. */
CIO_API const char *cio_sql_result_colname(const cio_sql_result *res, size_t col);
/* Index of the first column named name (exact, case-sensitive: PostgreSQL
 * folds unquoted names to lower case, MariaDB keeps them as written), or
 * -ENOENT. */
CIO_API int cio_sql_result_colindex(const cio_sql_result *res, const char *name);
/* Rows changed by INSERT/UPDATE/DELETE (the server's count; 0 otherwise). */
CIO_API int64_t cio_sql_result_affected(const cio_sql_result *res);
/* The id generated by the last INSERT (MariaDB AUTO_INCREMENT, SQLite
 * rowid); 0 when there is none (PostgreSQL: use RETURNING). */
CIO_API int64_t cio_sql_result_insert_id(const cio_sql_result *res);

/* Row i (fetchone is row 0), or NULL past the end. Owned by res. */
CIO_API const cio_sql_row *cio_sql_result_row(const cio_sql_result *res, size_t i);
/* The cell of a row: by column index, or by name - the row as a name ->
 * value map (aiomysql's DictCursor). NULL when there is no such column. */
CIO_API const cio_sql_value *cio_sql_row_at(const cio_sql_row *row, size_t col);
CIO_API const cio_sql_value *cio_sql_row_get(const cio_sql_row *row, const char *name);
/* The result a row belongs to (for its column names and count). */
CIO_API const cio_sql_result *cio_sql_row_result(const cio_sql_row *row);
/* Shortcut: the cell at (row, col), or NULL if out of range. */
CIO_API const cio_sql_value *cio_sql_cell(const cio_sql_result *res, size_t row, size_t col);

/* Free a result (NULL is a no-op). Any thread; never suspends. */
CIO_API void cio_sql_result_free(cio_sql_result *res);

/* ---------------------------------------------------------------- errors */

typedef struct cio_sql_error {
  int code;            /* the status the call returned (negative) */
  char sqlstate[6];    /* "42P01", "23000"...; "" when the driver has none */
  int errnum;          /* MariaDB's error number (1146), SQLite's extended
                          result code; 0 for PostgreSQL */
  const char *driver;  /* "postgresql", "mysql", "sqlite", or "" */
  const char *message; /* the server's or library's words, never NULL */
} cio_sql_error;

/* The failure of the last call of this layer that failed on the calling
 * thread: set as that call returns, so a task reads its own error if it
 * looks before it suspends again. Cancellations and timeouts set it too
 * ("cancelled", "timed out"). The struct and its strings stay valid until
 * the next failing call on this thread. Never NULL; never suspends. */
CIO_API const cio_sql_error *cio_sql_last_error(void);

/* ---------------------------------------------------------------- pools */

typedef struct cio_sql_pool cio_sql_pool;
typedef struct cio_sql_conn cio_sql_conn;

/* Zero fields take the defaults (a zeroed struct is valid). Durations in
 * seconds; CIO_FOREVER means "no limit" / "never". */
typedef struct cio_sql_pool_opts {
  size_t min_size;        /* connections opened by pool_open and kept open
                             (at most 100,000: larger is -EINVAL);
                             0 = 1 */
  size_t max_size;        /* at most this many at once; 0 = 10 (sqlite::memory:
                             is always 1) */
  double connect_timeout; /* one connection attempt (resolve, connect, TLS,
                             login); 0 = 10 s */
  double health_check;    /* a connection idle for longer is checked with a
                             round trip before it is handed out; 0 = 30 s */
  double max_idle;        /* connections beyond min_size idle for longer are
                             closed; 0 = 300 s */
  double cleanup_timeout; /* how long a released connection may take to roll
                             back / finish a cancelled statement before it is
                             dropped instead; 0 = 5 s */
  int statement_cache;    /* prepared statements kept per connection; 0 =
                             256; negative = none (prepare per call) */
} cio_sql_pool_opts;

/* Open a pool for url and its first min_size connections. Returns 0 and the
 * pool in *out, or a negative code (*out NULL): -EINVAL (malformed URL or
 * options), -EPROTONOSUPPORT (unknown or not built driver), -ECONNREFUSED,
 * -ETIMEDOUT, -CIO_ENONAME, -EACCES (login rejected), -CIO_ESQL (e.g. no such
 * database), -ENOENT (SQLite file missing in mode rw/ro), -ECANCELED,
 * -ENOMEM; details in cio_sql_last_error(). The URL is copied. The caller
 * owns the pool: cio_sql_pool_free(). May suspend; loop thread only. */
CIO_API int cio_sql_pool_open(const char *url, const cio_sql_pool_opts *opts, cio_sql_pool **out);

/* Borrow a connection: an idle one (checked first if idle longer than
 * opts.health_check, or if its socket shows the server went away), else a
 * new one while the pool is below max_size, else wait (FIFO) for a release.
 * Returns 0 and *out; -ECANCELED / -ETIMEDOUT (nothing is held), -ESHUTDOWN
 * once the pool is closed, or the error of opening a new connection. The
 * connection is the caller's until cio_sql_release(). May suspend. */
CIO_API int cio_sql_acquire(cio_sql_pool *pool, cio_sql_conn **out);

/* Give a connection back. A connection that is healthy and idle goes to the
 * next waiter; one left inside a transaction, or with a cancelled statement
 * still running, is cleaned up first (rolled back, the statement finished)
 * in the background, within opts.cleanup_timeout; a broken one is closed and
 * its place freed. Release is how every connection ends; no call on c may be
 * in progress in another task. NULL is a no-op. Never suspends. */
CIO_API void cio_sql_release(cio_sql_conn *c);

/* One statement on a borrowed connection of pool (acquire, query, release).
 * On PostgreSQL, statements that concurrent tasks send this way share
 * connections when all are busy, pipelined (see cio_sql_query). May
 * suspend. */
CIO_API int cio_sql_pool_query(cio_sql_pool *pool, const char *sql, const cio_sql_value *params,
                               size_t nparams, cio_sql_result **out);

/* pool.close(): stop handing out connections (acquire returns -ESHUTDOWN),
 * close the idle ones; borrowed ones are closed as they come back. Returns
 * 0. Idempotent; never suspends. */
CIO_API int cio_sql_pool_close(cio_sql_pool *pool);
/* await pool.wait_closed(): wait until every connection is back and closed
 * (call cio_sql_pool_close first, else -EINVAL). Returns 0, -ECANCELED,
 * -ETIMEDOUT. May suspend. */
CIO_API int cio_sql_pool_wait_closed(cio_sql_pool *pool);
/* Close everything at once (without waiting for servers) and free the pool.
 * Connections still borrowed must not be used afterwards; tasks waiting in
 * acquire wake with -EBADF. NULL is a no-op. Never suspends. */
CIO_API void cio_sql_pool_free(cio_sql_pool *pool);

typedef struct cio_sql_pool_stats {
  size_t size;       /* open connections (idle + in use + being cleaned up) */
  size_t idle;       /* ready to be handed out */
  size_t in_use;     /* borrowed */
  size_t opening;    /* being opened now */
  size_t waiting;    /* tasks waiting in acquire now */
  uint64_t acquires; /* successful acquires so far */
  uint64_t waits;    /* acquires that had to wait */
  uint64_t opened;   /* connections opened so far */
  uint64_t closed;   /* connections closed so far */
  uint64_t broken;   /* of those, dropped because they were broken or failed
                        a health check or a cleanup */
} cio_sql_pool_stats;

/* Counters of pool. Never suspends. */
CIO_API void cio_sql_pool_stats_get(const cio_sql_pool *pool, cio_sql_pool_stats *out);
/* "postgresql", "mysql" or "sqlite". */
CIO_API const char *cio_sql_pool_driver(const cio_sql_pool *pool);

/* ---------------------------------------------------------------- queries */

/* Run one statement with nparams bound parameters (params may be NULL when
 * nparams is 0) and read its whole result. Returns 0 and the result in *out
 * (the caller frees it; rows may be 0), or a negative code with *out NULL
 * (see Errors above). out may be NULL to discard the result.
 * Several tasks may use one connection at once: on PostgreSQL their
 * statements are pipelined (sent without waiting for the previous answers,
 * each in its own implicit transaction unless one is open); on the other
 * drivers they run one after the other in arrival order.
 * May suspend. */
CIO_API int cio_sql_query(cio_sql_conn *c, const char *sql, const cio_sql_value *params,
                          size_t nparams, cio_sql_result **out);

/* One statement of a batch. */
typedef struct cio_sql_batch_item {
  const char *sql;
  const cio_sql_value *params; /* borrowed for the call */
  size_t nparams;
} cio_sql_batch_item;

/* Run n statements as one unit (pgx's SendBatch). On PostgreSQL they leave
 * in one write with a single Sync: one round trip and one implicit
 * transaction for all; elsewhere they run one after the other. The batch
 * is atomic: outside a transaction it runs in one of its own and the first
 * failing statement stops it - those after it do not run, those before it
 * are rolled back; inside the caller's transaction the first error stops
 * it and the transaction is as the database leaves it after an error
 * (PostgreSQL: aborted). Returns 0 and, if results is not NULL, results[i]
 * for each statement (the caller frees them); or the first error, with
 * every results[i] NULL. May suspend. */
CIO_API int cio_sql_query_batch(cio_sql_conn *c, const cio_sql_batch_item *items, size_t n,
                                cio_sql_result **results);

/* Run a script of one or more statements with no parameters and no result
 * rows (DDL, data loading). Returns 0 or a negative code. May suspend. */
CIO_API int cio_sql_exec(cio_sql_conn *c, const char *sql);

/* Prepare sql on c: the server parses and checks it, so a statement with a
 * syntax error or an unknown table fails here with -CIO_ESQL. MariaDB and
 * SQLite keep the statement in the connection's cache for later queries
 * with the same text; PostgreSQL's prepared statements depend on the
 * parameters' types, so there the first query prepares the one it keeps.
 * May suspend. */
CIO_API int cio_sql_prepare(cio_sql_conn *c, const char *sql);

/* Transactions: BEGIN, COMMIT, ROLLBACK on c. cio_sql_rollback runs shielded
 * from cancellation and expired timeout scopes (it is cleanup: see
 * docs/RESOURCES.md), bounded by opts.cleanup_timeout; if it cannot
 * complete, the connection is marked broken. Returns 0 or a negative code.
 * May suspend. */
CIO_API int cio_sql_begin(cio_sql_conn *c);
CIO_API int cio_sql_commit(cio_sql_conn *c);
CIO_API int cio_sql_rollback(cio_sql_conn *c);

/* async with conn.transaction(): begin, fn(c, arg), then commit if fn
 * returned >= 0, else roll back (also when fn was cancelled mid-way).
 * Returns fn's status if it failed, else the commit's. May suspend. */
CIO_API int cio_sql_transaction(cio_sql_conn *c, int (*fn)(cio_sql_conn *c, void *arg), void *arg);

/* 1 if c can no longer be used (its server went away, a call on it was
 * cancelled at a point the driver cannot recover from); release it. */
CIO_API int cio_sql_conn_broken(const cio_sql_conn *c);
/* The pool c came from. */
CIO_API cio_sql_pool *cio_sql_conn_pool(const cio_sql_conn *c);

#ifdef __cplusplus
}
#endif
#endif
