/* test_redis_shared.c - one connection shared by many tasks: automatic
 * pipelining, cancellation and timeouts at every suspension point (the
 * connection stays in step), a connection killed by the server, free and
 * close with tasks waiting. */
#include "test.h"
#include "test_loop.h"

#include "redis_test.h"

typedef struct worker {
  cio_redis *c;
  int id, rounds;
  int wrong, failed;
} worker;

static int worker_fn(void *arg) {
  worker *w = arg;
  char key[64], name[32];
  snprintf(name, sizeof name, "w%d", w->id);
  test_key(key, sizeof key, name);
  for (int i = 0; i < w->rounds; i++) {
    cio_redis_reply *r;
    if (cio_redis_commandf(w->c, NULL, "SET %s %d:%d", key, w->id, i) < 0) w->failed++;
    if (cio_redis_commandf(w->c, &r, "GET %s", key) < 0) {
      w->failed++;
      continue;
    }
    char want[32];
    snprintf(want, sizeof want, "%d:%d", w->id, i);
    if (!r || r->type != CIO_REDIS_STRING || strcmp(r->str, want) != 0) w->wrong++;
    cio_redis_reply_free(r);
  }
  return cio_redis_commandf(w->c, NULL, "DEL %s", key);
}

/* 64 tasks, each checking it gets its own replies. */
LOOP_TEST(test_many_tasks_one_connection) {
  cio_redis *c = test_open(NULL);
  if (!c) return 0;
  enum { N = 64 };
  worker w[N];
  cio_task *t[N];
  for (int i = 0; i < N; i++) {
    w[i] = (worker){c, i, 100, 0, 0};
    t[i] = cio_spawn(worker_fn, &w[i]);
  }
  for (int i = 0; i < N; i++) {
    CHECK_EQ(join(t[i]), 0);
    CHECK_EQ(w[i].wrong, 0);
    CHECK_EQ(w[i].failed, 0);
  }
  CHECK_EQ(cio_redis_pending(c), 0);
  cio_redis_free(c);
  return 0;
}

typedef struct call {
  cio_redis *c;
  const char *fmt;
  const char *arg;
  double timeout; /* > 0: inside a timeout scope */
  int status;
  cio_redis_reply *reply;
} call;

static int call_fn(void *arg) {
  call *k = arg;
  cio_timeout_scope sc;
  if (k->timeout > 0) cio_timeout_begin(&sc, k->timeout);
  k->status = cio_redis_commandf(k->c, &k->reply, k->fmt, k->arg);
  if (k->timeout > 0) cio_timeout_end(&sc);
  return k->status;
}

static void push_list(const char *list) {
  cio_redis *o = test_open(NULL);
  if (o) CHECK_EQ(cio_redis_commandf(o, NULL, "RPUSH %s item", list), 0);
  cio_redis_free(o);
}

static void check_echo(cio_redis *c, const char *word) {
  cio_redis_reply *r;
  CHECK_EQ(cio_redis_commandf(c, &r, "ECHO %s", word), 0);
  CHECK(r && r->type == CIO_REDIS_STRING && strcmp(r->str, word) == 0);
  cio_redis_reply_free(r);
}

/* Cancelled before its command was written: the command is withdrawn. */
LOOP_TEST(test_cancel_before_write) {
  cio_redis *c = test_open(NULL);
  if (!c) return 0;
  char key[64];
  test_key(key, sizeof key, "never-set");
  call k = {c, "SET %s yes", key, 0, 0, NULL};
  cio_task *t = cio_spawn(call_fn, &k);
  cio_yield(); /* t queues its command and yields to batch it */
  CHECK_EQ(cio_task_get_state(t), CIO_TASK_READY);
  cio_task_cancel(t);
  CHECK_EQ(join(t), -ECANCELED);
  CHECK_EQ(cio_redis_pending(c), 0);
  cio_redis_reply *r;
  CHECK_EQ(cio_redis_commandf(c, &r, "EXISTS %s", key), 0);
  CHECK(r && r->integer == 0); /* never sent */
  cio_redis_reply_free(r);
  cio_redis_free(c);
  return 0;
}

/* The reader (blocked in a read) is cancelled; then a timeout; the late
 * replies are dropped, the next commands get their own. */
LOOP_TEST(test_cancel_reader) {
  cio_redis *c = test_open(NULL);
  if (!c) return 0;
  char list[64];
  test_key(list, sizeof list, "list1");
  call k = {c, "BLPOP %s 0", list, 0, 0, NULL};
  cio_task *t = cio_spawn(call_fn, &k);
  wait_blocked(t);
  cio_task_cancel(t);
  CHECK_EQ(join(t), -ECANCELED);
  CHECK(k.reply == NULL);
  CHECK_EQ(cio_redis_pending(c), 1); /* BLPOP's reply will still come */
  push_list(list);
  check_echo(c, "after-cancel");
  CHECK_EQ(cio_redis_pending(c), 0);

  call k2 = {c, "BLPOP %s 0", list, 0.05, 0, NULL};
  t = cio_spawn(call_fn, &k2);
  CHECK_EQ(join(t), -ETIMEDOUT);
  CHECK(strstr(cio_redis_last_error(), "timed out") != NULL);
  push_list(list);
  check_echo(c, "after-timeout");
  cio_redis_free(c);
  return 0;
}

/* A task waiting behind the reader is cancelled; the reader is cancelled
 * and a waiting task takes over the reading. */
LOOP_TEST(test_cancel_waiters) {
  cio_redis *c = test_open(NULL);
  if (!c) return 0;
  char list[64];
  test_key(list, sizeof list, "list2");
  call a = {c, "BLPOP %s 0", list, 0, 0, NULL};
  call b = {c, "ECHO %s", "b", 0, 0, NULL};
  cio_task *ta = cio_spawn(call_fn, &a);
  wait_blocked(ta);
  cio_task *tb = cio_spawn(call_fn, &b);
  wait_blocked(tb);
  cio_task_cancel(tb); /* b waits behind a: cancelled at once */
  CHECK_EQ(join(tb), -ECANCELED);
  push_list(list);
  CHECK_EQ(join(ta), 0);
  CHECK(a.reply && a.reply->type == CIO_REDIS_ARRAY && a.reply->elements == 2);
  cio_redis_reply_free(a.reply);
  check_echo(c, "c"); /* b's reply was dropped */

  call d = {c, "BLPOP %s 0", list, 0, 0, NULL};
  call e = {c, "ECHO %s", "e", 0, 0, NULL};
  cio_task *td = cio_spawn(call_fn, &d);
  wait_blocked(td);
  cio_task *te = cio_spawn(call_fn, &e);
  wait_blocked(te);
  cio_task_cancel(td); /* the reader goes: e reads from now on */
  CHECK_EQ(join(td), -ECANCELED);
  push_list(list);
  CHECK_EQ(join(te), 0);
  CHECK(e.reply && strcmp(e.reply->str, "e") == 0);
  cio_redis_reply_free(e.reply);
  CHECK_EQ(cio_redis_pending(c), 0);
  cio_redis_free(c);
  return 0;
}

/* CLIENT KILL while a command waits: a clear code for it and for every
 * call after. */
LOOP_TEST(test_client_kill) {
  cio_redis *c = test_open(NULL);
  cio_redis *admin = test_open(NULL);
  if (!c || !admin) return 0;
  char list[64];
  test_key(list, sizeof list, "list3");
  long long id = test_client_id(c);
  call a = {c, "BLPOP %s 0", list, 0, 0, NULL};
  call b = {c, "ECHO %s", "b", 0, 0, NULL};
  cio_task *ta = cio_spawn(call_fn, &a);
  wait_blocked(ta);
  cio_task *tb = cio_spawn(call_fn, &b);
  wait_blocked(tb);
  CHECK_EQ(cio_redis_commandf(admin, NULL, "CLIENT KILL ID %lld", id), 0);
  CHECK_EQ(join(ta), -ECONNRESET);
  CHECK_EQ(join(tb), -ECONNRESET);
  CHECK_EQ(cio_redis_status(c), -ECONNRESET);
  CHECK_EQ(cio_redis_commandf(c, NULL, "PING"), -ECONNRESET);
  /* EOF or a reset, depending on timing */
  CHECK(strncmp(cio_redis_last_error(), "connection", 10) == 0);
  CHECK_EQ(cio_redis_close(c), -ECONNRESET);
  cio_redis_free(c);
  cio_redis_free(admin);
  return 0;
}

/* Free with a reader and a waiter inside: both wake with -EBADF. */
LOOP_TEST(test_free_with_waiters) {
  cio_redis *c = test_open(NULL);
  if (!c) return 0;
  char list[64];
  test_key(list, sizeof list, "list4");
  call a = {c, "BLPOP %s 0", list, 0, 0, NULL};
  call b = {c, "ECHO %s", "b", 0, 0, NULL};
  cio_task *ta = cio_spawn(call_fn, &a);
  wait_blocked(ta);
  cio_task *tb = cio_spawn(call_fn, &b);
  wait_blocked(tb);
  cio_redis_free(c);
  CHECK_EQ(join(ta), -EBADF);
  CHECK_EQ(join(tb), -EBADF);
  return 0;
}

static int echo_then_free(void *arg) {
  call *k = arg;
  k->status = cio_redis_commandf(k->c, NULL, k->fmt, k->arg);
  cio_redis_free(k->c); /* b's reply is in, b has not run yet */
  return k->status;
}

/* Freed between a reply's delivery and its task's turn: nothing leaks. */
LOOP_TEST(test_free_after_delivery) {
  cio_redis *c = test_open(NULL);
  if (!c) return 0;
  call a = {c, "ECHO %s", "a", 0, 0, NULL};
  call b = {c, "ECHO %s", "b", 0, 0, NULL};
  cio_task *ta = cio_spawn(echo_then_free, &a);
  cio_task *tb = cio_spawn(call_fn, &b);
  CHECK_EQ(join(ta), 0);
  CHECK_EQ(join(tb), -EBADF);
  CHECK(b.reply == NULL);
  return 0;
}

typedef struct closer {
  cio_redis *c;
  double timeout;
  int status;
} closer;

static int close_fn(void *arg) {
  closer *k = arg;
  cio_timeout_scope sc;
  if (k->timeout > 0) cio_timeout_begin(&sc, k->timeout);
  k->status = cio_redis_close(k->c);
  if (k->timeout > 0) cio_timeout_end(&sc);
  return 0;
}

/* close lets commands already sent finish; bounded, it cuts them off. */
LOOP_TEST(test_close_waits_for_replies) {
  cio_redis *c = test_open(NULL);
  if (!c) return 0;
  char list[64];
  test_key(list, sizeof list, "list5");
  call a = {c, "BLPOP %s 0", list, 0, 0, NULL};
  cio_task *ta = cio_spawn(call_fn, &a);
  wait_blocked(ta);
  closer k = {c, 0, 1};
  cio_task *tk = cio_spawn(close_fn, &k);
  wait_blocked(tk);
  CHECK_EQ(cio_redis_commandf(c, NULL, "PING"), -EBADF); /* closing: no new command */
  push_list(list);
  CHECK_EQ(join(ta), 0);
  cio_redis_reply_free(a.reply);
  CHECK_EQ(join(tk), 0);
  CHECK_EQ(k.status, 0);
  cio_redis_free(c);

  c = test_open(NULL);
  if (!c) return 0;
  call b = {c, "BLPOP %s 0", list, 0, 0, NULL};
  cio_task *tb = cio_spawn(call_fn, &b);
  wait_blocked(tb);
  closer k2 = {c, 0.05, 1};
  CHECK_EQ(join(cio_spawn(close_fn, &k2)), 0);
  CHECK_EQ(k2.status, -ETIMEDOUT);
  CHECK_EQ(join(tb), -EBADF);
  cio_redis_free(c);
  return 0;
}

/* Commands queued by tasks ready in the same turn leave in one write: the
 * server sees them as one read (its client's query buffer gets them all),
 * which is checked here through what matters: all replies are right and
 * they came back without a round trip each (the tasks' commands were all
 * pending at once). */
typedef struct burst {
  cio_redis *c;
  size_t max_pending;
  int ok;
} burst;

static int burst_fn(void *arg) {
  burst *b = arg;
  cio_redis_reply *r;
  size_t p = cio_redis_pending(b->c);
  int st = cio_redis_commandf(b->c, &r, "ECHO x");
  if (p + 1 > b->max_pending) b->max_pending = p + 1;
  if (st == 0 && r && strcmp(r->str, "x") == 0) b->ok++;
  cio_redis_reply_free(r);
  return st;
}

LOOP_TEST(test_automatic_pipelining) {
  cio_redis *c = test_open(NULL);
  if (!c) return 0;
  burst b = {c, 0, 0};
  cio_task *t[50];
  for (int i = 0; i < 50; i++) t[i] = cio_spawn(burst_fn, &b);
  for (int i = 0; i < 50; i++) CHECK_EQ(join(t[i]), 0);
  CHECK_EQ(b.ok, 50);
  CHECK(b.max_pending == 50); /* every task had queued before any reply */
  cio_redis_free(c);
  return 0;
}

int main(void) {
  RUN(test_many_tasks_one_connection);
  RUN(test_cancel_before_write);
  RUN(test_cancel_reader);
  RUN(test_cancel_waiters);
  RUN(test_client_kill);
  RUN(test_free_with_waiters);
  RUN(test_free_after_delivery);
  RUN(test_close_waits_for_replies);
  RUN(test_automatic_pipelining);
  return test_report();
}
