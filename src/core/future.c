/* future.c - futures: a value set once, awaited by tasks, with callbacks. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct fcb {
  cio_future_cb fn;
  void *arg;
} fcb;

struct cio_future {
  cio_loop *loop;
  int refs;
  bool done;
  bool cb_scheduled;
  int status;
  void *value;
  cio__link waiters;
  fcb *cbs;
  size_t ncbs, cbcap;
};

cio_future *cio_future_new(void) {
  cio_loop *loop = cio__tls_loop;
  if (!loop) {
    errno = ENOENT;
    return NULL;
  }
  cio_future *f = cio__calloc(1, sizeof *f);
  if (!f) {
    errno = ENOMEM;
    return NULL;
  }
  f->loop = loop;
  f->refs = 1;
  f->status = -EINPROGRESS;
  cio__list_init(&f->waiters);
  return f;
}

cio_future *cio_future_ref(cio_future *f) {
  f->refs++;
  return f;
}

void cio_future_release(cio_future *f) {
  if (!f || --f->refs > 0) return;
  cio__list_detach_all(&f->waiters);
  cio__free(f->cbs);
  cio__free(f);
}

/* Runs on the loop: every callback registered so far, including ones added
 * by callbacks while this runs. */
static void run_callbacks(void *arg) {
  cio_future *f = arg;
  for (size_t i = 0; i < f->ncbs; i++) {
    fcb cb = f->cbs[i];
    cb.fn(f, cb.arg);
  }
  f->ncbs = 0;
  f->cb_scheduled = false;
  cio_future_release(f);
}

static void schedule_callbacks(cio_future *f) {
  if (f->cb_scheduled || !f->ncbs) return;
  if (cio_call_soon(f->loop, run_callbacks, f) < 0) return; /* retried on next add */
  f->cb_scheduled = true;
  f->refs++;
}

static int complete(cio_future *f, int status, void *value) {
  if (f->done) return -EALREADY;
  f->done = true;
  f->status = status;
  f->value = value;
  cio__waiter *w;
  while ((w = cio__waiters_pop_live(&f->waiters))) cio__wake(w->task, w->code);
  schedule_callbacks(f);
  return 0;
}

int cio_future_set_result(cio_future *f, void *value) { return complete(f, 0, value); }
int cio_future_set_error(cio_future *f, int err) {
  return complete(f, err < 0 ? err : err > 0 ? -err : -EINVAL, NULL);
}
int cio_future_cancel(cio_future *f) { return complete(f, -ECANCELED, NULL); }

typedef struct ts_set {
  cio_future *f;
  int status;
  void *value;
} ts_set;

static void ts_complete(void *arg) {
  ts_set *s = arg;
  complete(s->f, s->status, s->value);
  cio_future_release(s->f);
  cio__free(s);
}

static int set_threadsafe(cio_future *f, int status, void *value) {
  ts_set *s = cio__malloc(sizeof *s);
  if (!s) return -ENOMEM;
  *s = (ts_set){f, status, value};
  int r = cio_call_soon_threadsafe(f->loop, ts_complete, s);
  if (r < 0) cio__free(s);
  return r;
}

int cio_future_set_result_threadsafe(cio_future *f, void *value) {
  return set_threadsafe(f, 0, value);
}
int cio_future_set_error_threadsafe(cio_future *f, int err) {
  return set_threadsafe(f, err < 0 ? err : err > 0 ? -err : -EINVAL, NULL);
}

int cio_future_done(const cio_future *f) { return f->done; }
int cio_future_status(const cio_future *f) { return f->status; }
void *cio_future_value(const cio_future *f) { return f->value; }

int cio_future_await(cio_future *f, void **value) {
  cio_task *cur = cio__current();
  if (!cur) return -EPERM;
  int r = cio__checkpoint(cur);
  if (r < 0) return r;
  cio_future_ref(f); /* a waiter keeps the future alive */
  if (!f->done) {
    cio__waiter w = {.item = NULL};
    r = cio__wait_on(&f->waiters, &w, "future");
  }
  if (r == 0) {
    if (value) *value = f->value;
    r = f->status;
  }
  cio_future_release(f);
  return r;
}

int cio_future_add_done_callback(cio_future *f, cio_future_cb fn, void *arg) {
  if (!fn) return -EINVAL;
  if (f->ncbs == f->cbcap) {
    size_t cap = f->cbcap ? f->cbcap * 2 : 4;
    fcb *v = cio__realloc(f->cbs, cap * sizeof *v);
    if (!v) return -ENOMEM;
    f->cbs = v;
    f->cbcap = cap;
  }
  f->cbs[f->ncbs++] = (fcb){fn, arg};
  if (f->done) schedule_callbacks(f);
  return 0;
}

int cio_future_remove_done_callback(cio_future *f, cio_future_cb fn, void *arg) {
  if (f->done) return 0; /* all scheduled at completion, as in asyncio */
  for (size_t i = 0; i < f->ncbs; i++) {
    if (f->cbs[i].fn == fn && f->cbs[i].arg == arg) {
      memmove(&f->cbs[i], &f->cbs[i + 1], (f->ncbs - i - 1) * sizeof *f->cbs);
      f->ncbs--;
      return 1;
    }
  }
  return 0;
}

/* ---- select case ---- */

static int fut_try(cio_case *c) { return cio_future_done(c->obj); }

static int fut_arm(cio_case *c, cio_task *t, int code) {
  cio_future *f = c->obj;
  return cio__case_arm_list(c, &f->waiters, t, code);
}

static const cio_case_ops future_ops = {fut_try, fut_arm, cio__case_disarm_list,
                                        cio__case_finish_list};

cio_case cio_case_future(cio_future *f) {
  cio_case c;
  memset(&c, 0, sizeof c);
  c.ops = &future_ops;
  c.obj = f;
  return c;
}
