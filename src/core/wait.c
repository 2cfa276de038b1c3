/* wait.c - gather, wait, wait_for, as_completed.
 *
 * All of them watch a set of tasks with one node per task; the node's
 * callback counts completions and wakes the waiting task only when its
 * condition may have become true, and only while it is parked here (never
 * out of some unrelated wait). */
#include "internal.h"

#include <stdlib.h>

typedef enum {
  M_ALL,         /* every task done */
  M_FIRST_ERROR, /* gather: all done, or one failed */
  M_FIRST_DONE,  /* wait FIRST_COMPLETED */
  M_FIRST_EXC,   /* wait FIRST_EXCEPTION */
  M_EACH         /* as_completed: every completion */
} multi_mode;

typedef struct multi multi;
typedef struct mnode {
  cio__watch w;
  multi *m;
  size_t idx;
} mnode;

struct multi {
  cio_task *const *tasks;
  size_t n, ndone, nfailed;
  int first_err;
  multi_mode mode;
  cio_task *owner;
  bool parked;
  mnode *nodes;
  size_t *order, order_head, order_len; /* M_EACH: completions not yet taken */
};

static bool satisfied(const multi *m) {
  switch (m->mode) {
  case M_ALL: return m->ndone == m->n;
  case M_FIRST_ERROR: return m->ndone == m->n || m->first_err;
  case M_FIRST_DONE: return m->ndone > 0 || m->n == 0;
  case M_FIRST_EXC: return m->ndone == m->n || m->nfailed;
  case M_EACH: return m->order_len > 0;
  }
  return true;
}

static void account(multi *m, size_t idx, int status) {
  m->ndone++;
  if (status < 0) {
    m->nfailed++;
    if (!m->first_err) m->first_err = status;
  }
  if (m->order) m->order[(m->order_head + m->order_len++) % m->n] = idx;
}

static void node_fire(cio__watch *w, cio_task *done) {
  mnode *nd = cio__container_of(w, mnode, w);
  multi *m = nd->m;
  account(m, nd->idx, done->status);
  if (m->parked && satisfied(m)) cio__wake(m->owner, 0);
}

static int check_tasks(cio_task *cur, cio_task *const *tasks, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!tasks[i] || tasks[i]->loop != cur->loop) return -EINVAL;
    if (tasks[i] == cur) return -EDEADLK;
  }
  return 0;
}

static int multi_init(multi *m, cio_task *cur, cio_task *const *tasks, size_t n, multi_mode mode) {
  *m = (multi){.tasks = tasks, .n = n, .mode = mode, .owner = cur};
  int r = check_tasks(cur, tasks, n);
  if (r < 0) return r;
  if (n && !(m->nodes = cio__calloc(n, sizeof *m->nodes))) return -ENOMEM;
  if (mode == M_EACH && n && !(m->order = cio__malloc(n * sizeof *m->order))) {
    cio__free(m->nodes);
    return -ENOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    cio_task *t = tasks[i];
    t->awaited = true;
    m->nodes[i].m = m;
    m->nodes[i].idx = i;
    cio__list_init(&m->nodes[i].w.link);
    if (t->state == CIO_TASK_DONE)
      account(m, i, t->status);
    else
      cio__watch_add(t, &m->nodes[i].w, node_fire);
  }
  return 0;
}

static void multi_fini(multi *m) {
  for (size_t i = 0; i < m->n; i++) cio__watch_remove(&m->nodes[i].w);
  cio__free(m->nodes);
  cio__free(m->order);
}

/* Park until the condition holds; 0 or the interruption. */
static int multi_wait(multi *m, const char *what) {
  int r = cio__checkpoint(m->owner);
  while (r == 0 && !satisfied(m)) {
    m->parked = true;
    r = cio__park(m->owner, what, CIO__PARK_INTR);
    m->parked = false;
  }
  return r;
}

static void cancel_and_reap(cio_task *const *tasks, size_t n) {
  for (size_t i = 0; i < n; i++) cio_task_cancel(tasks[i]);
  for (size_t i = 0; i < n; i++) cio__await_done(tasks[i]);
}

int cio_gather(cio_task *const *tasks, size_t n, int *statuses, int flags) {
  cio_task *cur = cio__current();
  if (!cur) return -EPERM;
  bool all = flags & CIO_GATHER_ALL;
  multi m;
  int r = multi_init(&m, cur, tasks, n, all ? M_ALL : M_FIRST_ERROR);
  if (r == -ENOMEM) {
    /* Callers count on gather to have waited for every task whatever it
     * returns (their arguments often live on the caller's stack): with no
     * memory to watch them, take them down and wait for them the plain way. */
    for (size_t i = 0; i < n; i++) tasks[i]->awaited = true;
    cancel_and_reap(tasks, n);
    if (statuses)
      for (size_t i = 0; i < n; i++) statuses[i] = tasks[i]->status;
  }
  if (r < 0) return r;
  r = multi_wait(&m, "gather");
  int first_err = m.first_err;
  multi_fini(&m);
  if (r < 0 || (!all && first_err)) cancel_and_reap(tasks, n);
  if (statuses)
    for (size_t i = 0; i < n; i++) statuses[i] = tasks[i]->status;
  if (r < 0) return r;
  return all ? 0 : first_err;
}

/* End a scope the call made for its own timeout. Returns the interruption
 * to report: an expiry of our own scope is not an error, anything else is. */
static int end_own_scope(cio_timeout_scope *s, cio_task *cur, int r) {
  int own = cio_timeout_end(s);
  if (r == -ETIMEDOUT && own && cur->nexpired == 0) return 0;
  return r;
}

ssize_t cio_wait(cio_task *const *tasks, size_t n, cio_wait_mode mode, double timeout,
                 unsigned char *done_flags) {
  cio_task *cur = cio__current();
  if (!cur) return -EPERM;
  multi_mode mm = mode == CIO_FIRST_COMPLETED   ? M_FIRST_DONE
                  : mode == CIO_FIRST_EXCEPTION ? M_FIRST_EXC
                                                : M_ALL;
  multi m;
  int r = multi_init(&m, cur, tasks, n, mm);
  if (r < 0) return r;
  cio_timeout_scope s;
  if (timeout >= 0) cio_timeout_begin(&s, timeout);
  r = multi_wait(&m, "wait");
  if (timeout >= 0) r = end_own_scope(&s, cur, r);
  multi_fini(&m);
  size_t ndone = 0;
  for (size_t i = 0; i < n; i++) {
    bool d = tasks[i]->state == CIO_TASK_DONE;
    ndone += d;
    if (done_flags) done_flags[i] = d;
  }
  return r < 0 ? r : (ssize_t)ndone;
}

int cio_wait_for(cio_task *t, double timeout) {
  /* A finished task has its answer even with a zero timeout (asyncio). */
  if (timeout < 0 || (t && t->state == CIO_TASK_DONE)) return cio_await(t);
  cio_timeout_scope s;
  int r = cio_timeout_begin(&s, timeout);
  if (r < 0) return r;
  r = cio_await(t);
  cio_timeout_end(&s);
  return r;
}

/* ---- as_completed ---- */

struct cio_as_completed {
  multi m;
  cio_task **tasks;
  size_t taken;
  double deadline; /* loop time, < 0: none */
};

cio_as_completed *cio_as_completed_new(cio_task *const *tasks, size_t n, double timeout) {
  cio_task *cur = cio__current();
  if (!cur) {
    errno = EPERM;
    return NULL;
  }
  cio_as_completed *it = cio__calloc(1, sizeof *it);
  if (!it || (n && !(it->tasks = cio__malloc(n * sizeof *it->tasks)))) {
    cio__free(it);
    errno = ENOMEM;
    return NULL;
  }
  for (size_t i = 0; i < n; i++) it->tasks[i] = tasks[i];
  int r = multi_init(&it->m, cur, it->tasks, n, M_EACH);
  if (r < 0) {
    cio__free(it->tasks);
    cio__free(it);
    errno = -r;
    return NULL;
  }
  it->deadline = timeout < 0 ? -1 : cio_loop_time(cur->loop) + timeout;
  return it;
}

int cio_as_completed_next(cio_as_completed *it, cio_task **out) {
  cio_task *cur = cio__current();
  if (!cur) return -EPERM;
  multi *m = &it->m;
  if (!m->order_len && it->taken == m->n) return 0;
  int r = 0;
  if (!m->order_len) {
    m->owner = cur;
    cio_timeout_scope s;
    if (it->deadline >= 0) cio_timeout_begin_at(&s, it->deadline);
    r = multi_wait(m, "as_completed");
    if (it->deadline >= 0) {
      cio_timeout_end(&s);
      if (r == 0 && !m->order_len) r = -ETIMEDOUT;
    }
    if (r < 0) return r;
  }
  size_t idx = m->order[m->order_head];
  m->order_head = (m->order_head + 1) % m->n;
  m->order_len--;
  it->taken++;
  *out = it->tasks[idx];
  return 1;
}

void cio_as_completed_free(cio_as_completed *it) {
  if (!it) return;
  multi_fini(&it->m);
  cio__free(it->tasks);
  cio__free(it);
}
