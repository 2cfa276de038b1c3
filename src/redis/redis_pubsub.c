/* redis_pubsub.c - pub/sub on a dedicated connection (cio/redis_pubsub.h).
 *
 * The connection's router takes messages and subscription confirmations
 * out of the reply stream: messages go to a queue for get, confirmations
 * count down the control request at the head of the FIFO (subscribe and
 * friends wait for one confirmation per channel). Everything else (PING's
 * reply, errors) reaches the FIFO as usual. Control calls take a lock, one
 * at a time, so that "unsubscribe from all" knows how many confirmations to
 * expect: as many as channels are subscribed when it is sent. */
#include "redis_internal.h"

#include <cio/redis_pubsub.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct queued {
  struct queued *next;
  cio_redis_reply *reply;
} queued;

struct cio_redis_pubsub {
  cio_redis *c;
  cio_lock *ctl;       /* one control call at a time */
  queued *head, *tail; /* messages not yet taken */
  size_t nqueued;
  size_t channels, patterns;
  long long total; /* subscriptions, as the last confirmation said */
  uint8_t getting; /* a task is in get */
  uint8_t freed;
};

static int is_text(const cio_redis_reply *r) {
  return r->type == CIO_REDIS_STRING || r->type == CIO_REDIS_STATUS || r->type == CIO_REDIS_VERB;
}

static int kind_is(const cio_redis_reply *k, const char *name) {
  return k->len == strlen(name) && strncasecmp(k->str, name, k->len) == 0;
}

/* A message that cannot be kept breaks the connection: the subscriber must
 * learn it missed one, not wait for it. */
static void lost(cio_redis *c, int status) {
  cio__redis_error(status, "pub/sub: a message could not be kept: %s", cio_strerror(status));
  cio__redis_fail(c, status);
}

static void enqueue(cio_redis *c, cio_redis_pubsub *ps, cio_redis_reply *r) {
  queued *q = cio__malloc(sizeof *q);
  if (!q) {
    cio_redis_reply_free(r);
    lost(c, -ENOMEM);
    return;
  }
  q->next = NULL;
  q->reply = r;
  if (ps->tail)
    ps->tail->next = q;
  else
    ps->head = q;
  ps->tail = q;
  ps->nqueued++;
}

/* A confirmation: the subscription count moves, the control request at the
 * head of the FIFO counts one more. */
static int is_shard(const char *kind) {
  return strncmp(kind, "ss", 2) == 0 || strncmp(kind, "sun", 3) == 0;
}

static void confirmation(cio_redis *c, cio_redis_pubsub *ps, const char *kind, long long total) {
  size_t *count = kind[0] == 'p' ? &ps->patterns : &ps->channels;
  if (!is_shard(kind)) { /* shard channels have a count of their own */
    long long delta = total - ps->total;
    ps->total = total;
    if (delta > 0)
      *count += (size_t)delta;
    else if ((size_t)-delta <= *count)
      *count -= (size_t)-delta;
    else
      *count = 0;
  }
  cio__redis_req *q = c->head;
  if (!q || q->kind != CIO__REQ_CONFIRM || strcmp(q->confirm, kind) != 0) return;
  if (q->all && *count == 0) /* "from all": the last one, however many */
    cio__redis_finish_head(c);
  else
    cio__redis_complete_head(c, NULL, 0);
}

static int route(cio_redis *c, cio_redis_reply *r, int top, int status, void *arg) {
  cio_redis_pubsub *ps = arg;
  if (!r) { /* too long, or no memory: a message or a confirmation, lost */
    lost(c, status);
    return 1;
  }
  int framed = top == '>' || (c->protocol == 2 && r->type == CIO_REDIS_ARRAY);
  if (!framed || r->elements < 3 || !is_text(&r->element[0])) return 0;
  const cio_redis_reply *e = r->element;
  static const char *const confirms[] = {"subscribe",   "psubscribe",   "ssubscribe",
                                         "unsubscribe", "punsubscribe", "sunsubscribe"};
  for (size_t i = 0; i < sizeof confirms / sizeof confirms[0]; i++) {
    if (!kind_is(&e[0], confirms[i])) continue;
    if (r->elements != 3 || e[2].type != CIO_REDIS_INTEGER) break;
    confirmation(c, ps, confirms[i], e[2].integer);
    cio_redis_reply_free(r);
    return 1;
  }
  int pm = kind_is(&e[0], "pmessage");
  if (pm || kind_is(&e[0], "message") || kind_is(&e[0], "smessage")) {
    size_t want = pm ? 4 : 3;
    int ok = r->elements == want;
    for (size_t i = 1; ok && i < want; i++) ok = is_text(&e[i]);
    if (!ok) {
      cio_redis_reply_free(r);
      cio__redis_error(-EPROTO, "protocol error: a malformed pub/sub message");
      cio__redis_fail(c, -EPROTO);
      return 1;
    }
    enqueue(c, ps, r);
    cio__redis_wake_idle(c);
    return 1;
  }
  return 0; /* "pong", an invalidation push... */
}

static void on_destroy(void *arg) {
  cio_redis_pubsub *ps = arg;
  while (ps->head) {
    queued *q = ps->head;
    ps->head = q->next;
    cio_redis_reply_free(q->reply);
    cio__free(q);
  }
  cio_lock_free(ps->ctl);
  cio__free(ps);
}

int cio_redis_pubsub_open(const char *url, const cio_redis_opts *opts, cio_redis_pubsub **out) {
  if (!out) return cio__redis_error(-EINVAL, "no place for the connection");
  *out = NULL;
  cio_redis_pubsub *ps = cio__calloc(1, sizeof *ps);
  cio_lock *ctl = ps ? cio_lock_new() : NULL;
  if (!ctl) {
    cio__free(ps);
    return cio__redis_error(-ENOMEM, "out of memory");
  }
  ps->ctl = ctl;
  int r = cio_redis_open(url, opts, &ps->c);
  if (r < 0) {
    cio_lock_free(ctl);
    cio__free(ps);
    return r;
  }
  ps->c->route = route;
  ps->c->route_arg = ps;
  ps->c->on_destroy = on_destroy;
  ps->c->destroy_arg = ps;
  *out = ps;
  return 0;
}

/* SUBSCRIBE and friends: send, wait for one confirmation per name (or, for
 * "from all", per subscription there is). */
static int control(cio_redis_pubsub *ps, const char *cmd, const char *confirm, size_t n,
                   const char *const *names, const size_t *lens, size_t *current) {
  if (!ps) return cio__redis_error(-EINVAL, "no pub/sub connection");
  if (n == 0 && !current) return cio__redis_error(-EINVAL, "no channel given");
  if (n && !names) return cio__redis_error(-EINVAL, "no channel given");
  cio_redis *c = ps->c;
  int r = cio__redis_enter(c, 1);
  if (r < 0) return r;
  r = cio_checkpoint();
  if (r == 0) r = cio_lock_acquire(ps->ctl);
  if (r < 0)
    return cio__redis_leave(
        c, r == -ECANCELED || r == -ETIMEDOUT ? cio__redis_error(r, "%s", cio_strerror(r)) : r);
  const char **argv = cio__malloc((n + 1) * sizeof *argv);
  size_t *alen = cio__malloc((n + 1) * sizeof *alen);
  if (c->freed || c->err) {
    r = c->freed ? -EBADF : cio__redis_error(c->err, "%s", c->errmsg);
  } else if (!argv || !alen) {
    r = cio__redis_error(-ENOMEM, "out of memory");
  } else {
    argv[0] = cmd;
    alen[0] = strlen(cmd);
    for (size_t i = 0; i < n; i++) {
      argv[i + 1] = names[i];
      alen[i + 1] = lens ? lens[i] : names[i] ? strlen(names[i]) : 0;
    }
    /* From all: one confirmation per subscription, or one if there is
     * none; counted down to none left (see confirmation). */
    size_t want = n ? n : *current + 1;
    size_t mark = c->out.len;
    r = cio__redis_append(c, n + 1, argv, alen);
    cio__redis_req *q = NULL;
    if (r == 0 && !(q = cio__redis_req_add(c, want, NULL, mark))) {
      c->out.len = mark;
      r = cio__redis_error(-ENOMEM, "out of memory");
    }
    if (q) {
      q->kind = CIO__REQ_CONFIRM;
      q->confirm = confirm;
      q->all = n == 0;
      r = cio__redis_wait(c, q);
      if (r == 0) {
        r = cio__redis_req_status(c, q);
        if (r == 0 && q->one) r = cio__redis_error_reply(q->one);
        cio__redis_req_done(c, q);
      }
    }
  }
  cio__free(argv);
  cio__free(alen);
  cio_lock_release(ps->ctl);
  return cio__redis_leave(c, r);
}

int cio_redis_pubsub_subscribe(cio_redis_pubsub *ps, size_t n, const char *const *channels,
                               const size_t *lens) {
  return control(ps, "SUBSCRIBE", "subscribe", n, channels, lens, NULL);
}

int cio_redis_pubsub_psubscribe(cio_redis_pubsub *ps, size_t n, const char *const *patterns,
                                const size_t *lens) {
  return control(ps, "PSUBSCRIBE", "psubscribe", n, patterns, lens, NULL);
}

int cio_redis_pubsub_unsubscribe(cio_redis_pubsub *ps, size_t n, const char *const *channels,
                                 const size_t *lens) {
  return control(ps, "UNSUBSCRIBE", "unsubscribe", n, channels, lens, ps ? &ps->channels : NULL);
}

int cio_redis_pubsub_punsubscribe(cio_redis_pubsub *ps, size_t n, const char *const *patterns,
                                  const size_t *lens) {
  return control(ps, "PUNSUBSCRIBE", "punsubscribe", n, patterns, lens, ps ? &ps->patterns : NULL);
}

static int has_message(cio_redis *c, void *arg) {
  (void)c;
  return ((cio_redis_pubsub *)arg)->head != NULL;
}

static void take(cio_redis_pubsub *ps, cio_redis_message *m) {
  queued *q = ps->head;
  ps->head = q->next;
  if (!ps->head) ps->tail = NULL;
  ps->nqueued--;
  cio_redis_reply *r = q->reply;
  cio__free(q);
  const cio_redis_reply *e = r->element;
  int pm = kind_is(&e[0], "pmessage");
  m->kind = pm                           ? CIO_REDIS_PMESSAGE
            : kind_is(&e[0], "smessage") ? CIO_REDIS_SMESSAGE
                                         : CIO_REDIS_MESSAGE;
  if (pm) {
    m->pattern = e[1].str;
    m->pattern_len = e[1].len;
  }
  m->channel = e[pm ? 2 : 1].str;
  m->channel_len = e[pm ? 2 : 1].len;
  m->data = e[pm ? 3 : 2].str;
  m->len = e[pm ? 3 : 2].len;
  m->reply = r;
}

int cio_redis_pubsub_get(cio_redis_pubsub *ps, cio_redis_message *m) {
  if (m) memset(m, 0, sizeof *m);
  if (!ps || !m) return cio__redis_error(-EINVAL, "no pub/sub connection or message");
  int r = cio_checkpoint();
  if (r < 0) return cio__redis_error(r, "%s", cio_strerror(r));
  cio_redis *c = ps->c;
  if (ps->freed || c->freed) return cio__redis_error(-EBADF, "the connection is closed");
  if (ps->getting) return cio__redis_error(-EBUSY, "another task is waiting for messages");
  cio__redis_enter(c, 0);
  if (!ps->head) {
    if (c->idle_waiter) {
      r = cio__redis_error(-EBUSY, "the connection is closing");
    } else {
      ps->getting = 1;
      c->idle_waiter = cio_current();
      r = cio__redis_wait_for(c, has_message, ps);
      c->idle_waiter = NULL;
      ps->getting = 0;
      if (c->freed || ps->freed) r = -EBADF;
      if (r < 0 && r != -EBADF)
        cio__redis_error(r, "%s", r == c->err ? c->errmsg : cio_strerror(r));
      if (r == -EBADF) cio__redis_error(r, "the connection is closed");
    }
  }
  if (r == 0) take(ps, m);
  return cio__redis_leave(c, r);
}

int cio_redis_pubsub_ping(cio_redis_pubsub *ps) {
  if (!ps) return cio__redis_error(-EINVAL, "no pub/sub connection");
  const char *argv[] = {"PING"};
  int r = cio__redis_enter(ps->c, 1);
  if (r < 0) return r;
  r = cio_checkpoint();
  if (r == 0) r = cio__redis_call(ps->c, 1, argv, NULL, NULL);
  return cio__redis_leave(ps->c, r);
}

size_t cio_redis_pubsub_channels(const cio_redis_pubsub *ps) { return ps ? ps->channels : 0; }
size_t cio_redis_pubsub_patterns(const cio_redis_pubsub *ps) { return ps ? ps->patterns : 0; }
size_t cio_redis_pubsub_queued(const cio_redis_pubsub *ps) { return ps ? ps->nqueued : 0; }

int cio_redis_pubsub_close(cio_redis_pubsub *ps) {
  if (!ps) return -EINVAL;
  cio_redis *c = ps->c;
  if (c->freed) return -EBADF;
  if (!c->err) {
    cio__redis_error(-EBADF, "the connection is closed");
    cio__redis_fail(c, -EBADF);
  }
  c->closing = 1;
  if (c->s) cio_stream_close(c->s);
  return 0;
}

void cio_redis_pubsub_free(cio_redis_pubsub *ps) {
  if (!ps || ps->freed) return;
  ps->freed = 1;
  while (ps->head) {
    queued *q = ps->head;
    ps->head = q->next;
    cio_redis_reply_free(q->reply);
    cio__free(q);
  }
  ps->tail = NULL;
  ps->nqueued = 0;
  cio_redis_free(ps->c); /* ps goes with it (on_destroy), now or when the
                            last task inside has left */
}

void cio_redis_message_clear(cio_redis_message *m) {
  if (!m) return;
  cio_redis_reply_free(m->reply);
  memset(m, 0, sizeof *m);
}
