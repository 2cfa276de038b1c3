/* pg.c - the PostgreSQL driver: libpq's non-blocking API in pipeline mode,
 * driven by cio_wait_fd.
 *
 * Every statement is sent at once as Prepare (first use on this connection)
 * + Execute + Sync and queued on the connection's in-flight list; its own
 * Sync keeps its errors and implicit transaction apart from the others'.
 * Tasks that use one connection at the same time therefore pipeline without
 * asking: their statements go out back to back and one round trip answers
 * them all.
 *
 * Reading: one task at a time is the connection's reader. It flushes
 * libpq's output, reads input, and dispatches results in order to the
 * requests at the head of the list, waking their tasks; when its own
 * request is complete it hands the reader role to the next waiting task.
 * A task that gives up (cancelled, timed out) abandons its request, which
 * stays in the list until its results arrive and are dropped; if it was the
 * only statement in flight, a cancel request is sent to the server from the
 * executor (PQcancel blocks). The connection stays usable.
 *
 * libpq details handled here: PQconsumeInput does not read until EAGAIN, so
 * the socket's level is checked with poll(0) before an edge-triggered wait;
 * with TLS, decrypted bytes may wait in OpenSSL (SSL_pending) while the
 * socket is empty; the socket may change during PQconnectPoll, so it is
 * forgotten before each wait there. */
#include "sql_internal.h"

#include <cio/dns.h>
#include <cio/exec.h>
#include <cio/io.h>

#include <libpq-fe.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>

#define DRIVER "postgresql"

/* Wake codes of a waiting request's task. */
enum { W_DONE = 0, W_LEAD = 1, W_GATE = 2 };

/* One statement of a request: its Prepare (first use), its Execute. */
typedef struct pg_slot {
  bool has_prepare, prepare_seen;
  int status;
  PGresult *res;
  char *prep_key; /* heap copy while a Prepare is in flight */
  size_t prep_keylen;
  unsigned prep_id;
} pg_slot;

/* A request: one statement, or a batch, sent with one Sync. */
typedef struct pg_req {
  cio__sql_link link;
  cio_task *task; /* NULL once abandoned */
  bool done;
  int status;
  cio__sql_err err; /* the first error */
  size_t nslots, cur;
  pg_slot *slots; /* &one, or an array for a batch */
  pg_slot one;
} pg_req;

typedef struct pg_conn {
  cio_sql_conn base;
  PGconn *pg;
  int fd;
  cio__sql_link inflight; /* pg_req, in the order sent */
  size_t ninflight;
  cio_task *reader;
  bool exclusive;     /* cio_sql_exec has left pipeline mode */
  cio__sql_link gate; /* tasks waiting for exclusive to end */
  SSL *ssl;
  cio_timer *uncork; /* pushes out statements batched under TCP_CORK */
  bool corked;
} pg_conn;

typedef struct gate_waiter {
  cio__sql_link link;
  cio_task *task;
} gate_waiter;

/* ---------------------------------------------------------------- errors */

static int code_of_state(const char *state) {
  if (!state || !*state) return -CIO_ESQL;
  /* The server is about to hang up (admin or crash shutdown), or the link
   * failed. 08P01 (protocol violation: e.g. too few parameters) leaves the
   * connection usable. */
  if ((!strncmp(state, "08", 2) && strcmp(state, "08P01")) || !strcmp(state, "57P01") ||
      !strcmp(state, "57P02") || !strcmp(state, "57P03"))
    return -ECONNRESET;
  if (!strcmp(state, "28P01") || !strcmp(state, "28000")) return -EACCES;
  return -CIO_ESQL;
}

static void err_from_result(cio__sql_err *e, const PGresult *res) {
  const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
  const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
  char buf[1024];
  int n = snprintf(buf, sizeof buf, "%s%s%s", msg ? msg : PQresultErrorMessage(res),
                   detail ? ": " : "", detail ? detail : "");
  size_t len = n < 0 ? 0 : (size_t)n >= sizeof buf ? sizeof buf - 1 : (size_t)n;
  cio__sql_err_set(e, code_of_state(state), state, 0, buf, len);
}

static int fail_conn(pg_conn *c, int code) {
  const char *m = c->pg ? PQerrorMessage(c->pg) : "out of memory";
  return cio__sql_fail(DRIVER, code, code == -ECONNRESET ? "08006" : NULL, 0, "%s",
                       *m ? m : cio_strerror(code));
}

/* ---------------------------------------------------------------- results */

static void pq_clear(void *p) { PQclear(p); }

static int hexv(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

/* bytea in text form: "\x" + hex (the default since 9.0). */
static int bytea_cell(cio_sql_result *res, cio_sql_value *v, const char *s, size_t len) {
  if (len < 2 || s[0] != '\\' || s[1] != 'x' || (len & 1))
    return cio__sql_result_copy(res, v, CIO_SQL_BLOB, s, len); /* escape format: as is */
  size_t n = (len - 2) / 2;
  unsigned char *b = cio__sql_result_alloc(res, n + 1);
  if (!b) return -ENOMEM;
  for (size_t i = 0; i < n; i++) {
    int h = hexv((unsigned char)s[2 + 2 * i]), l = hexv((unsigned char)s[3 + 2 * i]);
    if (h < 0 || l < 0) return cio__sql_result_copy(res, v, CIO_SQL_BLOB, s, len);
    b[i] = (unsigned char)(h << 4 | l);
  }
  b[n] = 0;
  v->type = CIO_SQL_BLOB;
  v->len = n;
  v->v.p = b;
  return 0;
}

/* A result over pr; takes pr. NULL on ENOMEM (pr cleared). */
static cio_sql_result *convert(PGresult *pr) {
  int ncols = PQnfields(pr), nrows = PQntuples(pr);
  cio_sql_result *res = cio__sql_result_new((size_t)ncols);
  if (!res) goto nomem;
  res->keep = pr;
  res->keep_free = pq_clear;
  for (int j = 0; j < ncols; j++) res->names[j] = PQfname(pr, j);
  const char *ct = PQcmdTuples(pr);
  if (ct && *ct) cio__sql_parse_int64(ct, strlen(ct), &res->affected);
  for (int i = 0; i < nrows; i++) {
    cio_sql_value *row = cio__sql_result_add_row(res);
    if (!row) goto nomem_res;
    for (int j = 0; j < ncols; j++) {
      if (PQgetisnull(pr, i, j)) continue;
      const char *s = PQgetvalue(pr, i, j);
      size_t len = (size_t)PQgetlength(pr, i, j);
      cio_sql_value *v = &row[j];
      switch (PQftype(pr, j)) {
      case 20:
      case 21:
      case 23:
      case 26: /* int8 int2 int4 oid */
        v->type = CIO_SQL_INT;
        if (cio__sql_parse_int64(s, len, &v->v.i) == 0) continue;
        break;
      case 16: /* bool */
        v->type = CIO_SQL_INT;
        v->v.i = s[0] == 't';
        continue;
      case 700:
      case 701: /* float4 float8 */
        v->type = CIO_SQL_FLOAT;
        if (cio__sql_parse_double(s, len, &v->v.f) == 0) continue;
        break;
      case 17: /* bytea */
        if (bytea_cell(res, v, s, len) < 0) goto nomem_res;
        continue;
      default: break;
      }
      v->type = CIO_SQL_TEXT;
      v->len = len;
      v->v.p = s;
    }
  }
  if (cio__sql_result_finish(res) < 0) goto nomem_res;
  return res;
nomem:
  PQclear(pr);
  return NULL;
nomem_res:
  cio_sql_result_free(res);
  return NULL;
}

/* ---------------------------------------------------------------- waiting */

/* Wait for events on the connection's socket, checking the level first
 * (PQconsumeInput may leave bytes in the socket, OpenSSL in its buffer). */
static int pg_wait(pg_conn *c, int events) {
  if ((events & CIO_READABLE) && c->ssl && SSL_pending(c->ssl) > 0) return cio_yield();
  struct pollfd p = {
      c->fd, (short)((events & CIO_READABLE ? POLLIN : 0) | (events & CIO_WRITABLE ? POLLOUT : 0)),
      0};
  if (poll(&p, 1, 0) == 1) return cio_yield(); /* ready now: stay fair */
  int r = cio_wait_fd(c->fd, events);
  return r < 0 ? r : 0;
}

/* ---------------------------------------------------------------- dispatch */

static void req_free(pg_req *q) {
  for (size_t i = 0; i < q->nslots; i++) {
    PQclear(q->slots[i].res);
    free(q->slots[i].prep_key);
  }
  cio__sql_err_clear(&q->err);
  if (q->slots != &q->one) free(q->slots);
  free(q);
}

static pg_req *req_new(size_t nslots) {
  pg_req *q = calloc(1, sizeof *q);
  if (!q) return NULL;
  q->nslots = nslots;
  q->slots = &q->one;
  if (nslots > 1 && !(q->slots = calloc(nslots, sizeof *q->slots))) {
    free(q);
    return NULL;
  }
  return q;
}

/* q is complete: wake its task, or drop it if abandoned. */
static void complete(pg_conn *c, pg_req *q, cio_task *self) {
  cio__sql_list_remove(&q->link);
  c->ninflight--;
  q->done = true;
  if (!q->task)
    req_free(q);
  else if (q->task != self)
    cio_task_wake(q->task, W_DONE);
}

/* A Prepare failed: forget the statement so the next use prepares again. */
static void forget_prepared(pg_conn *c, pg_slot *sl) {
  cio__sql_centry *e = cio__sql_cache_get(&c->base.cache, sl->prep_key, sl->prep_keylen);
  if (e && e->id == sl->prep_id) cio__sql_cache_remove(&c->base.cache, e);
}

/* The result of the next protocol query of q: each statement is its
 * Prepare (if any), then its Execute; every query yields exactly one
 * non-NULL result (OK, rows, an error, or "aborted" after an error). */
static void take_result(pg_conn *c, pg_req *q, PGresult *r) {
  if (q->cur >= q->nslots) { /* more results than asked for: drop them */
    PQclear(r);
    return;
  }
  pg_slot *sl = &q->slots[q->cur];
  ExecStatusType st = PQresultStatus(r);
  bool prepare = sl->has_prepare && !sl->prepare_seen;
  if (st == PGRES_FATAL_ERROR) {
    if (!q->err.code) err_from_result(&q->err, r);
    if (!sl->status) sl->status = code_of_state(PQresultErrorField(r, PG_DIAG_SQLSTATE));
    if (prepare) forget_prepared(c, sl);
  } else if (st == PGRES_PIPELINE_ABORTED) {
    if (!sl->status) sl->status = -ECANCELED; /* not run: an earlier statement failed */
  } else if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
    if (!prepare) {
      PQclear(sl->res);
      sl->res = r;
      r = NULL;
    }
  } else if (!q->err.code) { /* COPY and the like are not supported here */
    const char *m = "unsupported result (COPY?)";
    cio__sql_err_set(&q->err, -ENOTSUP, NULL, 0, m, strlen(m));
    sl->status = -ENOTSUP;
  }
  PQclear(r);
  if (prepare)
    sl->prepare_seen = true;
  else
    q->cur++;
}

/* Every request in flight fails: the connection is gone. */
static void fail_all(pg_conn *c, cio_task *self) {
  c->base.broken = true;
  const char *m = PQerrorMessage(c->pg);
  if (!*m) m = "connection to the server was lost";
  while (!cio__sql_list_empty(&c->inflight)) {
    pg_req *q = cio__sql_container(c->inflight.next, pg_req, link);
    if (!q->err.code || q->err.code == -CIO_ESQL)
      cio__sql_err_set(&q->err, -ECONNRESET, "08006", 0, m, strlen(m));
    else if (q->err.code != -ECONNRESET)
      q->err.code = -ECONNRESET;
    q->status = -ECONNRESET;
    complete(c, q, self);
  }
}

/* Hand results to the requests at the head of the list, as long as libpq
 * can give them without blocking. */
static void dispatch(pg_conn *c, cio_task *self) {
  int nulls = 0;
  while (!cio__sql_list_empty(&c->inflight) && !PQisBusy(c->pg)) {
    PGresult *r = PQgetResult(c->pg);
    pg_req *q = cio__sql_container(c->inflight.next, pg_req, link);
    if (!r) {
      if (++nulls > 1) break; /* nothing more now */
      continue;
    }
    nulls = 0;
    if (PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
      take_result(c, q, r);
      continue;
    }
    PQclear(r);
    if (!q->err.code && q->cur < q->nslots) {
      const char *m = "no result";
      cio__sql_err_set(&q->err, -EPROTO, NULL, 0, m, strlen(m));
    }
    q->status = q->err.code ? q->err.code : 0;
    complete(c, q, self);
  }
  if (PQstatus(c->pg) == CONNECTION_BAD) fail_all(c, self);
}

/* One round of I/O: flush, read, dispatch. Returns 1 if output is still
 * pending, 0, or -ECONNRESET (everything in flight failed). */
static int io_round(pg_conn *c, cio_task *self) {
  int f = PQflush(c->pg);
  if (f < 0 || !PQconsumeInput(c->pg)) {
    fail_all(c, self);
    return -ECONNRESET;
  }
  dispatch(c, self);
  if (c->base.broken) return -ECONNRESET;
  return f == 1;
}

/* Give the reader role to the next task still waiting. */
static void hand_off(pg_conn *c) {
  c->reader = NULL;
  cio__sql_link *l;
  for (l = c->inflight.next; l != &c->inflight; l = l->next) {
    pg_req *q = cio__sql_container(l, pg_req, link);
    if (q->task && cio_task_wake(q->task, W_LEAD)) {
      c->reader = q->task;
      return;
    }
  }
}

/* Send a cancel request for whatever the backend runs, from a pool thread
 * (PQcancel connects and waits). Fire and forget: a detached task waits for
 * the job, which owns its PGcancel. */
static int cancel_job(void *arg) {
  char err[256];
  PQcancel(arg, err, sizeof err);
  return 0;
}

static void cancel_release(void *arg) { PQfreeCancel(arg); }

static int cancel_task(void *arg) {
  int status;
  /* 0: the job ran and the PGcancel is ours again; otherwise the pool
   * frees it through cancel_release once the job is done. */
  if (cio_run_in_executor_ex(NULL, cancel_job, arg, cancel_release, &status) == 0)
    PQfreeCancel(arg);
  return 0;
}

static void send_cancel(pg_conn *c) {
  PGcancel *pc = PQgetCancel(c->pg);
  if (!pc) return;
  static const cio_spawn_opts o = {.name = "pg-cancel", .daemon = 1};
  cio_task *t = cio_spawn_ex(cancel_task, pc, &o);
  if (t)
    cio_detach(t);
  else
    PQfreeCancel(pc);
}

/* Wait until q is complete, reading for everyone while we are the reader.
 * Returns q's status (0 or an error), or -ECANCELED / -ETIMEDOUT (q
 * abandoned). */
static int await_req(pg_conn *c, pg_req *q) {
  cio_task *self = cio_current();
  int r = 0;
  /* Alone in flight and just sent: nothing can have arrived for it yet, so
   * neither read (EAGAIN) nor check the level (poll): every byte of its
   * answer comes after the send and raises an edge the reactor keeps. That
   * leaves one send, one epoll_wait and one recv per statement. */
  bool fresh = c->ninflight == 1 && c->reader == NULL && !c->ssl;
  for (;;) {
    if (q->done) break;
    if (c->reader == NULL) c->reader = self;
    if (c->reader != self) {
      r = cio_suspend("pg result");
      if (r == W_LEAD) continue;
      if (r == W_DONE) break;
      goto abandon;
    }
    if (fresh) {
      fresh = false;
      if (PQflush(c->pg) == 0) {
        r = cio_wait_fd(c->fd, CIO_READABLE);
        if (r < 0) goto abandon;
        continue;
      }
    }
    int pending = io_round(c, self);
    if (q->done) break;
    if (pending < 0) break; /* q completed by fail_all */
    r = pg_wait(c, CIO_READABLE | (pending ? CIO_WRITABLE : 0));
    if (r < 0) goto abandon;
  }
  if (c->reader == self) hand_off(c);
  return 0;
abandon:
  if (q->done) {
    /* completed while our cancellation was on its way: drop the answer */
    req_free(q);
  } else {
    q->task = NULL;
    /* The only statement in flight and already on its way: stop it on the
     * server (with several, a cancel could hit the next one instead). */
    if (c->ninflight == 1 && !c->base.broken) send_cancel(c);
  }
  if (c->reader == self) hand_off(c);
  return r;
}

/* ---------------------------------------------------------------- sending */

/* Decimal digits of v at p; returns the end (no NUL). */
static char *put_u64(char *p, uint64_t v) {
  char tmp[20];
  int n = 0;
  do tmp[n++] = (char)('0' + v % 10);
  while ((v /= 10));
  while (n) *p++ = tmp[--n];
  return p;
}

static char *put_i64(char *p, int64_t v) {
  if (v < 0) {
    *p++ = '-';
    return put_u64(p, (uint64_t)0 - (uint64_t)v);
  }
  return put_u64(p, (uint64_t)v);
}

static void stmt_name(char *buf, unsigned id) {
  memcpy(buf, "cio_", 4);
  *put_u64(buf + 4, id) = '\0';
}

/* Parameters in libpq's form. Text and numbers go in text format with
 * their type left to the server (text) or given (int8, float8); blobs in
 * binary as bytea. Scratch holds the texts. */
typedef struct params {
  const char **values;
  int *lengths, *formats;
  Oid *types;
  char *sig; /* one letter per parameter: part of the cache key */
  char *scratch;
  void *heap;
  char stack[1024];
} params;

static int build_params(params *pp, const cio_sql_value *v, size_t n) {
  size_t need = n * (sizeof(char *) + 2 * sizeof(int) + sizeof(Oid) + 1 + 26);
  for (size_t i = 0; i < n; i++) {
    if (v[i].type == CIO_SQL_TEXT) {
      if (memchr(v[i].v.p, 0, v[i].len)) return -EINVAL;
      need += v[i].len + 1;
    }
  }
  char *m = need <= sizeof pp->stack ? pp->stack : (pp->heap = malloc(need));
  if (!m) return -ENOMEM;
  pp->values = (const char **)(void *)m;
  m += n * sizeof(char *);
  pp->lengths = (int *)(void *)m;
  m += n * sizeof(int);
  pp->formats = (int *)(void *)m;
  m += n * sizeof(int);
  pp->types = (Oid *)(void *)m;
  m += n * sizeof(Oid);
  pp->sig = m;
  m += n;
  for (size_t i = 0; i < n; i++) {
    pp->formats[i] = 0;
    pp->lengths[i] = 0;
    pp->types[i] = 0;
    pp->values[i] = NULL;
    switch (v[i].type) {
    case CIO_SQL_INT:
      pp->sig[i] = 'i';
      pp->types[i] = 20;
      pp->values[i] = m;
      m = put_i64(m, v[i].v.i);
      *m++ = '\0';
      break;
    case CIO_SQL_FLOAT: {
      double d = v[i].v.f;
      pp->sig[i] = 'f';
      pp->types[i] = 701;
      pp->values[i] = m;
      if (isnan(d))
        m += sprintf(m, "NaN") + 1;
      else if (isinf(d))
        m += sprintf(m, d > 0 ? "Infinity" : "-Infinity") + 1;
      else
        m += sprintf(m, "%.17g", d) + 1;
      break;
    }
    case CIO_SQL_TEXT:
      pp->sig[i] = 't';
      pp->values[i] = m;
      memcpy(m, v[i].v.p, v[i].len);
      m[v[i].len] = '\0';
      m += v[i].len + 1;
      break;
    case CIO_SQL_BLOB:
      if (v[i].len > INT32_MAX) return -EMSGSIZE;
      pp->sig[i] = 'b';
      pp->types[i] = 17;
      pp->formats[i] = 1;
      pp->lengths[i] = (int)v[i].len;
      pp->values[i] = v[i].len ? v[i].v.p : "";
      break;
    default: pp->sig[i] = 'n'; break;
    }
  }
  return 0;
}

static void uncork(void *arg) {
  pg_conn *c = arg;
  int zero = 0;
  if (c->corked && c->fd >= 0) setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof zero);
  c->corked = false;
}

static void evict_stmt(void *ctx, cio__sql_centry *e) {
  pg_conn *c = ctx;
  if (c->base.broken || c->exclusive || !c->pg) return;
  /* DEALLOCATE it, as a request nobody waits for; its result is dropped. */
  pg_req *q = req_new(1);
  char sql[48];
  snprintf(sql, sizeof sql, "DEALLOCATE cio_%u", e->id);
  if (!q || !PQsendQueryParams(c->pg, sql, 0, NULL, NULL, NULL, NULL, 0) ||
      !PQpipelineSync(c->pg)) {
    free(q);
    return; /* a leftover statement on the server: harmless */
  }
  cio__sql_list_push_back(&c->inflight, &q->link);
  c->ninflight++;
}

/* Wait while cio_sql_exec has the connection to itself. */
static int pass_gate(pg_conn *c) {
  while (c->exclusive) {
    gate_waiter w = {.task = cio_current()};
    cio__sql_list_push_back(&c->gate, &w.link);
    int r = cio_suspend("pg exclusive");
    cio__sql_list_remove(&w.link);
    if (r < 0) return r;
  }
  return 0;
}

/* Append one statement (Prepare on first use, then Execute) to libpq's
 * output. 0, or a negative code with the last error set. */
static int send_stmt(pg_conn *c, pg_slot *sl, const char *sql, const cio_sql_value *params_,
                     size_t n) {
  if (n > 65535) return cio__sql_fail(DRIVER, -EINVAL, NULL, 0, "too many parameters");
  params pp = {0};
  int r = build_params(&pp, params_, n);
  if (r < 0) {
    free(pp.heap);
    return cio__sql_fail(DRIVER, r, NULL, 0,
                         r == -EINVAL ? "text parameter holds a NUL byte" : "%s", cio_strerror(r));
  }
  size_t sqllen = strlen(sql), keylen = sqllen + 1 + n;
  char kbuf[512], *key = keylen <= sizeof kbuf ? kbuf : malloc(keylen);
  int ok = key != NULL;
  if (ok) {
    memcpy(key, sql, sqllen);
    key[sqllen] = '\0';
    memcpy(key + sqllen + 1, pp.sig, n);
    cio__sql_centry *e = cio__sql_cache_get(&c->base.cache, key, keylen);
    char name[32];
    if (!e && c->base.cache.cap > 0 &&
        (e = cio__sql_cache_put(&c->base.cache, key, keylen, NULL))) {
      stmt_name(name, e->id);
      sl->has_prepare = true;
      sl->prep_id = e->id;
      sl->prep_keylen = keylen;
      ok = (sl->prep_key = malloc(keylen)) != NULL;
      if (ok) memcpy(sl->prep_key, key, keylen);
      ok = ok && PQsendPrepare(c->pg, name, sql, (int)n, pp.types);
      if (!ok) {
        cio__sql_cache_remove(&c->base.cache, e);
        e = NULL;
      }
    } else if (e) {
      stmt_name(name, e->id);
    }
    if (ok && e)
      ok = PQsendQueryPrepared(c->pg, name, (int)n, pp.values, pp.lengths, pp.formats, 0);
    else if (ok)
      ok = PQsendQueryParams(c->pg, sql, (int)n, pp.types, pp.values, pp.lengths, pp.formats, 0);
  }
  if (key != kbuf) free(key);
  free(pp.heap);
  if (!ok) {
    if (PQstatus(c->pg) == CONNECTION_BAD) c->base.broken = true;
    return fail_conn(c, c->base.broken ? -ECONNRESET : -EIO);
  }
  return 0;
}

/* Send q's statements and one Sync, and queue q. On failure q is not
 * queued; statements already appended run with their results dropped
 * (an abandoned request takes their place). */
static int send_req(pg_conn *c, pg_req *q, const cio_sql_batch_item *items) {
  /* Statements joining others in flight are being pipelined: hold the
   * socket's output (TCP_CORK) until the end of this loop turn, so a burst
   * of statements from many tasks leaves in a few segments, not one each
   * (libpq 15 flushes at every Sync; on loopback each flush also runs the
   * server's receive path). A statement alone goes out at once. */
  if (c->ninflight > 0 && !c->corked && c->uncork && !c->ssl) {
    int one = 1;
    if (setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &one, sizeof one) == 0) {
      c->corked = true;
      cio_timer_start(c->uncork, 0);
    }
  }
  size_t sent = 0;
  int r = 0;
  for (; sent < q->nslots && r == 0; sent++)
    r = send_stmt(c, &q->slots[sent], items[sent].sql, items[sent].params, items[sent].nparams);
  if (r < 0) sent--;
  if (!PQpipelineSync(c->pg)) {
    c->base.broken = true;
    return r < 0 ? r : fail_conn(c, -ECONNRESET);
  }
  if (r < 0) {
    /* Some statements went out: their results come back under a Sync
     * nobody waits for. */
    if (sent > 0) {
      pg_req *ghost = req_new(sent);
      if (!ghost) {
        c->base.broken = true;
        return r;
      }
      for (size_t i = 0; i < sent; i++) ghost->slots[i].has_prepare = q->slots[i].has_prepare;
      cio__sql_list_push_back(&c->inflight, &ghost->link);
      c->ninflight++;
    } else {
      pg_req *ghost = req_new(0);
      if (!ghost) {
        c->base.broken = true;
        return r;
      }
      cio__sql_list_push_back(&c->inflight, &ghost->link);
      c->ninflight++;
    }
    return r;
  }
  cio__sql_list_push_back(&c->inflight, &q->link);
  c->ninflight++;
  /* In pipeline mode libpq sends only when its buffer is large: push it
   * out now, so a statement queued behind others does not wait for the
   * reader's next wake-up. What does not fit goes with the reader's. */
  if (PQflush(c->pg) < 0) c->base.broken = true;
  return 0;
}

static int pg_query(cio_sql_conn *base, const char *sql, const cio_sql_value *params_, size_t n,
                    cio_sql_result **out) {
  pg_conn *c = (pg_conn *)base;
  int r = pass_gate(c);
  if (r < 0) return cio__sql_fail_code(DRIVER, r);
  if (base->broken) return fail_conn(c, -ECONNRESET);
  pg_req *q = req_new(1);
  if (!q) return cio__sql_fail_code(DRIVER, -ENOMEM);
  q->task = cio_current();
  cio_sql_batch_item item = {sql, params_, n};
  if ((r = send_req(c, q, &item)) < 0) {
    req_free(q);
    return r;
  }
  r = await_req(c, q);
  if (r < 0) return cio__sql_fail_code(DRIVER, r); /* q abandoned */
  if (q->status < 0) {
    r = cio__sql_err_raise(&q->err, DRIVER);
    req_free(q);
    return r;
  }
  if (out) {
    *out = convert(q->one.res);
    q->one.res = NULL;
    if (!*out) r = cio__sql_fail_code(DRIVER, -ENOMEM);
  }
  req_free(q);
  return r;
}

/* A batch: every statement, then one Sync; one round trip, one implicit
 * transaction (unless one is open), the first error stops the rest. */
static int pg_batch(cio_sql_conn *base, const cio_sql_batch_item *items, size_t n,
                    cio_sql_result **results) {
  pg_conn *c = (pg_conn *)base;
  int r = pass_gate(c);
  if (r < 0) return cio__sql_fail_code(DRIVER, r);
  if (base->broken) return fail_conn(c, -ECONNRESET);
  pg_req *q = req_new(n);
  if (!q) return cio__sql_fail_code(DRIVER, -ENOMEM);
  q->task = cio_current();
  if ((r = send_req(c, q, items)) < 0) {
    req_free(q);
    return r;
  }
  r = await_req(c, q);
  if (r < 0) return cio__sql_fail_code(DRIVER, r);
  if (q->status < 0) {
    r = cio__sql_err_raise(&q->err, DRIVER);
    req_free(q);
    return r;
  }
  for (size_t i = 0; results && i < n && r == 0; i++) {
    results[i] = convert(q->slots[i].res);
    q->slots[i].res = NULL;
    if (!results[i]) r = cio__sql_fail_code(DRIVER, -ENOMEM);
  }
  req_free(q);
  return r;
}

static int pg_prepare(cio_sql_conn *base, const char *sql) {
  /* The server parses and checks sql as the unnamed statement. The one
   * kept in the cache is prepared by the first query, when the parameters'
   * types are known (they are part of a PostgreSQL statement). */
  pg_conn *c = (pg_conn *)base;
  int r = pass_gate(c);
  if (r < 0) return cio__sql_fail_code(DRIVER, r);
  if (base->broken) return fail_conn(c, -ECONNRESET);
  pg_req *q = req_new(1);
  if (!q) return cio__sql_fail_code(DRIVER, -ENOMEM);
  q->task = cio_current();
  if (!PQsendPrepare(c->pg, "", sql, 0, NULL) || !PQpipelineSync(c->pg)) {
    req_free(q);
    if (PQstatus(c->pg) == CONNECTION_BAD) base->broken = true;
    return fail_conn(c, base->broken ? -ECONNRESET : -EIO);
  }
  cio__sql_list_push_back(&c->inflight, &q->link);
  c->ninflight++;
  r = await_req(c, q);
  if (r < 0) return cio__sql_fail_code(DRIVER, r);
  r = q->status < 0 ? cio__sql_err_raise(&q->err, DRIVER) : 0;
  req_free(q);
  return r;
}

static int pg_ping(cio_sql_conn *base) { return pg_query(base, "SELECT 1", NULL, 0, NULL); }

/* ---------------------------------------------------------------- scripts */

/* Read the results of a simple-protocol query (outside pipeline mode). */
static int read_simple(pg_conn *c, cio__sql_err *err) {
  for (;;) {
    int f = PQflush(c->pg);
    if (f < 0 || !PQconsumeInput(c->pg)) return -ECONNRESET;
    while (!PQisBusy(c->pg)) {
      PGresult *r = PQgetResult(c->pg);
      if (!r) return 0;
      if (PQresultStatus(r) == PGRES_FATAL_ERROR && !err->code) err_from_result(err, r);
      PQclear(r);
    }
    int w = pg_wait(c, CIO_READABLE | (f == 1 ? CIO_WRITABLE : 0));
    if (w < 0) return w;
  }
}

static int pg_exec(cio_sql_conn *base, const char *sql) {
  pg_conn *c = (pg_conn *)base;
  int r = pass_gate(c);
  if (r < 0) return cio__sql_fail_code(DRIVER, r);
  /* Scripts need the simple protocol, which pipeline mode forbids: wait
   * for every statement in flight, then leave pipeline mode alone. */
  while (c->ninflight > 0 && !base->broken) {
    if ((r = pg_ping(base)) < 0 && r != -CIO_ESQL) return r;
    if ((r = pass_gate(c)) < 0) return cio__sql_fail_code(DRIVER, r);
  }
  if (base->broken) return fail_conn(c, -ECONNRESET);
  c->exclusive = true;
  cio__sql_err err = {0};
  r = PQexitPipelineMode(c->pg) && PQsendQuery(c->pg, sql) ? read_simple(c, &err) : -EIO;
  if (r == 0 && !PQenterPipelineMode(c->pg)) r = -EIO;
  c->exclusive = false;
  while (!cio__sql_list_empty(&c->gate)) {
    gate_waiter *w = cio__sql_container(c->gate.next, gate_waiter, link);
    cio__sql_list_remove(&w->link);
    cio_task_wake(w->task, W_GATE);
  }
  if (r < 0) {
    /* interrupted or failed midway: the protocol state is unknown */
    base->broken = true;
    cio__sql_err_clear(&err);
    if (r == -ECANCELED || r == -ETIMEDOUT) return cio__sql_fail_code(DRIVER, r);
    return fail_conn(c, r == -EIO ? -EIO : -ECONNRESET);
  }
  if (err.code) return cio__sql_err_raise(&err, DRIVER);
  return 0;
}

/* ---------------------------------------------------------------- connect */

static void no_notices(void *arg, const char *msg) {
  (void)arg;
  (void)msg;
}

static void pg_free(cio_sql_conn *base) {
  pg_conn *c = (pg_conn *)base;
  /* Requests still listed belong to nobody (their tasks are gone). */
  while (!cio__sql_list_empty(&c->inflight)) {
    pg_req *q = cio__sql_container(c->inflight.next, pg_req, link);
    cio__sql_list_remove(&q->link);
    if (q->task) {
      q->done = true; /* a task inside a call on a freed pool: see pool.c */
      q->status = -EBADF;
      cio_task_wake(q->task, W_DONE);
    } else {
      req_free(q);
    }
  }
  cio_timer_free(c->uncork);
  c->base.broken = true; /* no DEALLOCATE from the cache's eviction */
  cio__sql_cache_clear(&c->base.cache);
  if (c->pg) {
    if (c->fd >= 0) cio_fd_forget(c->fd);
    PQfinish(c->pg); /* sends Terminate if it can, without blocking */
  }
  cio__sql_conn_fini(&c->base);
  free(c);
}

/* Build libpq's keyword list from the URL; host names resolved by cio. */
typedef struct kv {
  const char *k[40], *v[40];
  int n;
  char hosts[1024], addrs[1024], port[12];
} kv;

static void kv_add(kv *x, const char *k, const char *v) {
  if (v && x->n < 38) {
    x->k[x->n] = k;
    x->v[x->n++] = v;
  }
}

static int resolve(cio_sql_pool *p, kv *x) {
  const char *host = p->url.host;
  snprintf(x->port, sizeof x->port, "%d", p->url.port ? p->url.port : 5432);
  kv_add(x, "port", x->port);
  if (!host || !*host || host[0] == '/') {
    kv_add(x, "host", host && *host ? host : NULL); /* a Unix socket directory */
    return 0;
  }
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
  int r = cio_getaddrinfo(host, x->port, &hints, &ai);
  if (r < 0) {
    if (r == -ECANCELED || r == -ETIMEDOUT) return cio__sql_fail_code(DRIVER, r);
    return cio__sql_fail(DRIVER, r, "08001", 0, "cannot resolve '%s': %s", host, cio_strerror(r));
  }
  /* host and hostaddr as parallel lists: libpq tries each address in turn
   * (and checks TLS certificates against the name). */
  size_t hl = 0, al = 0;
  int count = 0;
  for (struct addrinfo *a = ai; a && count < 8; a = a->ai_next) {
    char num[NI_MAXHOST];
    if (getnameinfo(a->ai_addr, a->ai_addrlen, num, sizeof num, NULL, 0, NI_NUMERICHOST)) continue;
    int n1 = snprintf(x->hosts + hl, sizeof x->hosts - hl, "%s%s", count ? "," : "", host);
    int n2 = snprintf(x->addrs + al, sizeof x->addrs - al, "%s%s", count ? "," : "", num);
    if (n1 < 0 || n2 < 0 || hl + (size_t)n1 >= sizeof x->hosts ||
        al + (size_t)n2 >= sizeof x->addrs)
      break;
    hl += (size_t)n1;
    al += (size_t)n2;
    count++;
  }
  cio_freeaddrinfo(ai);
  if (!count) return cio__sql_fail(DRIVER, -CIO_ENONAME, "08001", 0, "no address for '%s'", host);
  kv_add(x, "host", x->hosts);
  kv_add(x, "hostaddr", x->addrs);
  return 0;
}

static int connect_poll(pg_conn *c) {
  PostgresPollingStatusType st = PGRES_POLLING_WRITING;
  for (;;) {
    if (st == PGRES_POLLING_FAILED || PQstatus(c->pg) == CONNECTION_BAD) {
      const char *m = PQerrorMessage(c->pg);
      int code = strstr(m, "Connection refused") ? -ECONNREFUSED
                 : strstr(m, "password authentication failed") || strstr(m, "no password") ? -EACCES
                 : strstr(m, "does not exist")                    ? -CIO_ESQL
                 : strstr(m, "timeout") || strstr(m, "timed out") ? -ETIMEDOUT
                                                                  : -ECONNRESET;
      return cio__sql_fail(DRIVER, code, code == -EACCES ? "28P01" : "08001", 0, "%s", m);
    }
    if (st == PGRES_POLLING_OK) return 0;
    /* The socket may be a new one under the same number (next address,
     * SSL retry): forget it so the reactor registers it afresh. */
    c->fd = PQsocket(c->pg);
    cio_fd_forget(c->fd);
    int r = pg_wait(c, st == PGRES_POLLING_READING ? CIO_READABLE : CIO_WRITABLE);
    if (r < 0) return cio__sql_fail_code(DRIVER, r);
    st = PQconnectPoll(c->pg);
  }
}

static int pg_connect(cio_sql_pool *p, cio_sql_conn **out) {
  pg_conn *c = calloc(1, sizeof *c);
  if (!c) return cio__sql_fail_code(DRIVER, -ENOMEM);
  c->fd = -1;
  cio__sql_list_init(&c->inflight);
  cio__sql_list_init(&c->gate);
  int r = cio__sql_conn_init(&c->base, p, evict_stmt);
  if (r < 0) {
    free(c);
    return cio__sql_fail_code(DRIVER, r);
  }
  kv *x = calloc(1, sizeof *x);
  if (!x) {
    pg_free(&c->base);
    return cio__sql_fail_code(DRIVER, -ENOMEM);
  }
  if ((r = resolve(p, x)) < 0) goto out;
  kv_add(x, "user", p->url.user);
  kv_add(x, "password", p->url.password);
  kv_add(x, "dbname", p->url.path);
  bool encoding = false;
  for (size_t i = 0; i < p->url.nparams; i++) {
    const char *k = p->url.keys[i];
    if (!strcmp(k, "host") || !strcmp(k, "hostaddr") || !strcmp(k, "port")) continue;
    encoding |= !strcmp(k, "client_encoding");
    kv_add(x, k, p->url.vals[i]);
  }
  if (!encoding) kv_add(x, "client_encoding", "UTF8");
  x->k[x->n] = NULL;
  x->v[x->n] = NULL;
  c->pg = PQconnectStartParams(x->k, x->v, 0);
  if (!c->pg) {
    r = cio__sql_fail_code(DRIVER, -ENOMEM);
    goto out;
  }
  PQsetNoticeProcessor(c->pg, no_notices, NULL);
  if ((r = connect_poll(c)) < 0) goto out;
  c->fd = PQsocket(c->pg);
  c->uncork = cio_timer_new(cio_loop_current(), uncork, c); /* NULL: never cork */
  if (PQsslInUse(c->pg)) c->ssl = PQsslStruct(c->pg, "OpenSSL");
  if (PQsetnonblocking(c->pg, 1) != 0 || !PQenterPipelineMode(c->pg)) {
    r = fail_conn(c, -EIO);
    goto out;
  }
out:
  free(x);
  if (r < 0) {
    cio_sql_error saved = *cio_sql_last_error();
    char *m = strdup(saved.message);
    pg_free(&c->base);
    cio__sql_fail(DRIVER, saved.code, saved.sqlstate, saved.errnum, "%s", m ? m : "");
    free(m);
    return r;
  }
  *out = &c->base;
  return 0;
}

/* ---------------------------------------------------------------- pool hooks
 */

static bool pg_idle_ok(cio_sql_conn *base) {
  pg_conn *c = (pg_conn *)base;
  struct pollfd pf = {c->fd, POLLIN, 0};
  if (poll(&pf, 1, 0) != 1) return true;
  /* Something arrived while idle: a notice, or the server's goodbye. */
  if (!PQconsumeInput(c->pg) || PQstatus(c->pg) == CONNECTION_BAD) return false;
  PGresult *r;
  while (!PQisBusy(c->pg) && (r = PQgetResult(c->pg))) {
    bool fatal = PQresultStatus(r) == PGRES_FATAL_ERROR;
    PQclear(r);
    if (fatal) return false;
  }
  return PQstatus(c->pg) != CONNECTION_BAD;
}

static bool pg_in_transaction(cio_sql_conn *base) {
  PGTransactionStatusType t = PQtransactionStatus(((pg_conn *)base)->pg);
  return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
}

static bool pg_needs_cleanup(cio_sql_conn *base) {
  return ((pg_conn *)base)->ninflight > 0 || pg_in_transaction(base);
}

static int pg_cleanup(cio_sql_conn *base) {
  /* Queued behind any abandoned statement: when it completes, those have
   * too, and no transaction is left open. */
  int r = pg_query(base, "ROLLBACK", NULL, 0, NULL);
  return r < 0 ? r : pg_needs_cleanup(base) ? -EIO : 0;
}

const cio__sql_driver cio__sql_pg_driver = {
    .name = DRIVER,
    .concurrent = true,
    .connect = pg_connect,
    .query = pg_query,
    .batch = pg_batch,
    .exec = pg_exec,
    .prepare = pg_prepare,
    .ping = pg_ping,
    .idle_ok = pg_idle_ok,
    .in_transaction = pg_in_transaction,
    .needs_cleanup = pg_needs_cleanup,
    .cleanup = pg_cleanup,
    .free = pg_free,
};
