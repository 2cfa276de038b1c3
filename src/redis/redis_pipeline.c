/* redis_pipeline.c - explicit pipelines and MULTI/EXEC transactions
 * (cio/redis.h). */
#include "redis_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char MULTI[] = "*1\r\n$5\r\nMULTI\r\n";
static const char EXEC[] = "*1\r\n$4\r\nEXEC\r\n";

struct cio_redis_pipeline {
  cio__resp_out cmds;        /* the commands, encoded */
  size_t n;                  /* how many */
  cio_redis_reply **replies; /* n of them after a run (cap slots) */
  size_t cap;
  cio_redis_reply *exec; /* after exec: EXEC's array; replies[] point into it */
  uint8_t running;
};

cio_redis_pipeline *cio_redis_pipeline_new(void) {
  cio_redis_pipeline *p = cio__calloc(1, sizeof *p);
  if (!p) errno = ENOMEM;
  return p;
}

static void clear_replies(cio_redis_pipeline *p) {
  if (p->exec) {
    cio_redis_reply_free(p->exec);
    p->exec = NULL;
  } else {
    for (size_t i = 0; i < p->cap; i++) cio_redis_reply_free(p->replies[i]);
  }
  if (p->replies) memset(p->replies, 0, p->cap * sizeof *p->replies);
}

/* Zeroed reply slots for n replies. */
static int slots(cio_redis_pipeline *p, size_t n) {
  clear_replies(p);
  if (n <= p->cap) return 0;
  cio_redis_reply **r = cio__realloc(p->replies, n * sizeof *r);
  if (!r) return cio__redis_error(-ENOMEM, "out of memory");
  memset(r + p->cap, 0, (n - p->cap) * sizeof *r);
  p->replies = r;
  p->cap = n;
  return 0;
}

int cio_redis_pipeline_add(cio_redis_pipeline *p, size_t argc, const char *const *argv,
                           const size_t *lens) {
  if (!p || p->running) return -EINVAL;
  int r = cio__resp_append_command(&p->cmds, argc, argv, lens);
  if (r == 0) p->n++;
  return r;
}

int cio_redis_pipeline_addf(cio_redis_pipeline *p, const char *fmt, ...) {
  if (!p || p->running) return -EINVAL;
  va_list ap;
  va_start(ap, fmt);
  size_t mark = p->cmds.len;
  int r = cio__resp_append_vformat(&p->cmds, fmt, ap);
  va_end(ap);
  if (r == 0)
    p->n++;
  else
    p->cmds.len = mark;
  return r;
}

size_t cio_redis_pipeline_size(const cio_redis_pipeline *p) { return p ? p->n : 0; }

/* -CIO_EREDIS with the first error's words when one of the n replies is an
 * error, else 0. */
static int first_error(cio_redis_reply **r, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (r[i] && r[i]->type == CIO_REDIS_ERROR) return cio__redis_error_reply(r[i]);
  return 0;
}

static int start(cio_redis *c, cio_redis_pipeline *p, size_t nslots) {
  if (!c || !p) return cio__redis_error(-EINVAL, "no connection or pipeline");
  if (p->running) return cio__redis_error(-EBUSY, "the pipeline is running");
  if (!p->n) return cio__redis_error(-EINVAL, "the pipeline is empty");
  int r = cio__redis_enter(c, 1);
  if (r < 0) return r;
  r = cio_checkpoint();
  if (r == 0) r = slots(p, nslots);
  if (r < 0) return cio__redis_leave(c, r);
  p->running = 1;
  return 0;
}

static int end(cio_redis *c, cio_redis_pipeline *p, int r) {
  p->running = 0;
  return cio__redis_leave(c, r);
}

int cio_redis_pipeline_run(cio_redis *c, cio_redis_pipeline *p) {
  int r = start(c, p, p ? p->n : 0);
  if (r < 0) return r;
  r = cio__redis_send(c, p->cmds.p, p->cmds.len, p->n, p->replies);
  if (r == 0) r = first_error(p->replies, p->n);
  return end(c, p, r);
}

/* Replies of MULTI, n x QUEUED, EXEC in raw[0..n+1]: keep EXEC's results. */
static int exec_result(cio_redis_pipeline *p, cio_redis_reply **raw) {
  size_t n = p->n;
  cio_redis_reply *exec = raw[n + 1];
  int r = 0;
  if (raw[0] && raw[0]->type == CIO_REDIS_ERROR) {
    r = cio__redis_error_reply(raw[0]); /* "MULTI calls can not be nested" */
  } else if (!exec || exec->type == CIO_REDIS_NIL) {
    r = exec ? cio__redis_error(-CIO_EWATCH, "transaction aborted: a watched key changed")
             : cio__redis_error(-EPROTO, "protocol error: no reply to EXEC");
  } else if (exec->type == CIO_REDIS_ERROR) {
    /* EXECABORT: the command the server rejected says more. */
    r = first_error(raw + 1, n);
    if (r == 0) r = cio__redis_error_reply(exec);
  } else if (exec->type != CIO_REDIS_ARRAY || exec->elements != n) {
    r = cio__redis_error(-EPROTO, "protocol error: EXEC returned %zu results for %zu commands",
                         exec->elements, n);
  } else {
    p->exec = exec;
    raw[n + 1] = NULL;
    for (size_t i = 0; i < n; i++) p->replies[i] = &exec->element[i];
    r = first_error(p->replies, n);
  }
  for (size_t i = 0; i < n + 2; i++) cio_redis_reply_free(raw[i]);
  return r;
}

int cio_redis_pipeline_exec(cio_redis *c, cio_redis_pipeline *p) {
  int r = start(c, p, p ? p->n : 0);
  if (r < 0) return r;
  size_t n = p->n;
  cio__resp_out o = {NULL, 0, 0};
  cio_redis_reply **raw = cio__calloc(n + 2, sizeof *raw);
  if (!raw || cio__resp_reserve(&o, sizeof MULTI + p->cmds.len + sizeof EXEC) < 0) {
    r = cio__redis_error(-ENOMEM, "out of memory");
  } else {
    cio__resp_append(&o, MULTI, sizeof MULTI - 1);
    cio__resp_append(&o, p->cmds.p, p->cmds.len);
    cio__resp_append(&o, EXEC, sizeof EXEC - 1);
    r = cio__redis_send(c, o.p, o.len, n + 2, raw);
    if (r == 0) {
      r = exec_result(p, raw);
    } else {
      for (size_t i = 0; i < n + 2; i++) cio_redis_reply_free(raw[i]);
    }
  }
  cio__resp_out_free(&o);
  cio__free(raw);
  return end(c, p, r);
}

const cio_redis_reply *cio_redis_pipeline_reply(const cio_redis_pipeline *p, size_t i) {
  return p && i < p->n && i < p->cap ? p->replies[i] : NULL;
}

cio_redis_reply *cio_redis_pipeline_take(cio_redis_pipeline *p, size_t i) {
  if (!p || i >= p->n || i >= p->cap || !p->replies[i]) return NULL;
  cio_redis_reply *r = p->replies[i];
  if (p->exec) {
    r = cio_redis_reply_copy(r); /* an element of EXEC's reply */
    if (!r) return NULL;
    p->replies[i] = NULL;
    return r;
  }
  p->replies[i] = NULL;
  return r;
}

void cio_redis_pipeline_reset(cio_redis_pipeline *p) {
  if (!p || p->running) return;
  clear_replies(p);
  p->cmds.len = 0;
  p->n = 0;
}

void cio_redis_pipeline_free(cio_redis_pipeline *p) {
  if (!p) return;
  clear_replies(p);
  cio__free(p->replies);
  cio__resp_out_free(&p->cmds);
  cio__free(p);
}
