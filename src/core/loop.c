/* loop.c - the event loop: lifecycle, one turn of the loop, callbacks,
 * cross-thread calls, the reactor plug-in.
 *
 * One turn: sleep in the poller until something is due (not at all if tasks
 * are ready), fire due timers, take callbacks sent from other threads, run
 * the callbacks queued before the turn began, then run ready tasks for one
 * budget (see sched.c).
 */
#include "internal.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#ifdef CIO_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/* ---- callback ring ---- */

int cio__cbring_push(cio__cbring *r, cio_callback_fn fn, void *arg) {
  if (r->len == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 64;
    cio__callback *v = cio__malloc(cap * sizeof *v);
    if (!v) return -ENOMEM;
    for (size_t i = 0; i < r->len; i++) v[i] = r->v[(r->head + i) & (r->cap - 1)];
    cio__free(r->v);
    r->v = v;
    r->head = 0;
    r->cap = cap;
  }
  r->v[(r->head + r->len) & (r->cap - 1)] = (cio__callback){fn, arg};
  r->len++;
  return 0;
}

static cio__callback cbring_pop(cio__cbring *r) {
  cio__callback cb = r->v[r->head];
  r->head = (r->head + 1) & (r->cap - 1);
  r->len--;
  return cb;
}

/* ---- lifecycle ---- */

static int debug_from_env(void) {
  const char *e = getenv("CIO_DEBUG");
  return e && *e && strcmp(e, "0") != 0;
}

cio_loop *cio_loop_current(void) { return cio__tls_loop; }

cio_loop *cio_loop_new(const cio_loop_opts *opts) {
  if (cio__tls_loop) {
    errno = EBUSY;
    return NULL;
  }
  cio_loop *loop = cio__calloc(1, sizeof *loop);
  if (!loop) {
    errno = ENOMEM;
    return NULL;
  }
  loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (loop->wake_fd < 0) {
    int err = errno;
    cio__free(loop);
    errno = err;
    return NULL;
  }
  int r = cio__overflow_guard_thread_init();
  if (r < 0) {
    close(loop->wake_fd);
    cio__free(loop);
    errno = -r;
    return NULL;
  }
  pthread_mutex_init(&loop->ts_mu, NULL);
  cio__list_init(&loop->tasks);
  loop->next_id = 1;
  loop->thread = pthread_self();
  size_t ss = opts && opts->stack_size ? opts->stack_size : CIO_DEFAULT_STACK_SIZE;
  loop->default_stack = cio__stack_round(ss);
  int dbg = opts ? opts->debug : -1;
  loop->debug = dbg < 0 ? debug_from_env() : dbg > 0;
  double slow = opts && opts->slow_task_threshold > 0 ? opts->slow_task_threshold : 0.1;
  loop->slow_ns = cio__sec_to_ns(slow);
  loop->stacks.nohuge = loop->debug;
#ifdef CIO_ASAN
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void *lo;
    size_t size;
    pthread_attr_getstack(&attr, &lo, &size);
    loop->asan_stack_lo = lo;
    loop->asan_stack_size = size;
    pthread_attr_destroy(&attr);
  }
#endif
#ifdef CIO_TSAN
  loop->tsan_fiber = __tsan_get_current_fiber();
#endif
  cio__tls_loop = loop;
  if (loop->debug) cio__sigquit_register(loop);
  return loop;
}

static bool on_loop_thread(cio_loop *loop) { return cio__tls_loop == loop; }

/* ---- one turn ---- */

static void drain_threadsafe(cio_loop *loop) {
  uint64_t n;
  ssize_t r = read(loop->wake_fd, &n, sizeof n);
  (void)r; /* EAGAIN when a poller already drained it */
  atomic_store(&loop->ts_notified, 0);
  int sig = atomic_exchange(&loop->sig_pending, 0);
  if (sig) cio__signals_pending(loop, sig);
  pthread_mutex_lock(&loop->ts_mu);
  cio__cbring q = loop->ts_queue;
  memset(&loop->ts_queue, 0, sizeof loop->ts_queue);
  pthread_mutex_unlock(&loop->ts_mu);
  while (q.len) {
    cio__callback cb = cbring_pop(&q);
    cb.fn(cb.arg);
  }
  cio__free(q.v);
}

void cio_loop_wakeup_drain(cio_loop *loop) {
  uint64_t n;
  ssize_t r = read(loop->wake_fd, &n, sizeof n);
  (void)r;
}

/* Sleep until the wake-up fd fires or timeout_ns passes (no poller installed).
 */
static void default_poll(cio_loop *loop, int64_t timeout_ns) {
  struct pollfd p = {.fd = loop->wake_fd, .events = POLLIN};
  struct timespec ts, *tsp = NULL;
  if (timeout_ns >= 0) {
    ts.tv_sec = (time_t)(timeout_ns / 1000000000);
    ts.tv_nsec = (long)(timeout_ns % 1000000000);
    tsp = &ts;
  }
  ppoll(&p, 1, tsp, NULL);
}

static int64_t poll_timeout(cio_loop *loop) {
  if (loop->rq.head || loop->wq.head || loop->soon.len || loop->stopping ||
      atomic_load_explicit(&loop->ts_notified, memory_order_acquire))
    return 0;
  if (!loop->timers.len) return -1;
  int64_t next = cio__theap_next(&loop->timers), now = cio__clock_ns();
  return next <= now ? 0 : next - now;
}

static void run_timers(cio_loop *loop) {
  int64_t now = cio__clock_ns();
  loop->now = now;
  cio__tnode *n;
  while ((n = cio__theap_pop_due(&loop->timers, now))) n->fire(n);
}

static void run_soon(cio_loop *loop) {
  /* Only what was queued before this point: callbacks queued by callbacks
   * run on the next turn, as in asyncio. */
  for (size_t n = loop->soon.len; n > 0; n--) {
    cio__callback cb = cbring_pop(&loop->soon);
    cb.fn(cb.arg);
  }
}

/* Debug: report the loop context holding the CPU too long since it last
 * got it (callbacks, timers); polling does not count. */
static void debug_loop_held(cio_loop *loop) {
  int64_t now = cio__clock_ns();
  if (now - loop->run_start > loop->slow_ns)
    cio__debug_slow_task(loop, NULL, now - loop->run_start);
}

/* Free stacks beyond the pool's warm limit give their pages back in
 * batches: while the loop is idle (a batch per turn, polling without
 * blocking in between so I/O and timers are not kept waiting), and one batch
 * per TRIM_INTERVAL_NS while it is busy, which bounds the cost to well under
 * 1 % of the loop's time. Returns the poll timeout to use. */
#define TRIM_INTERVAL_NS 10000000
static int64_t trim_stacks(cio_loop *loop, int64_t timeout) {
  int64_t now = cio__clock_ns();
  if (timeout == 0 && now - loop->stacks.trimmed_at < TRIM_INTERVAL_NS) return 0;
  cio__stack_trim(&loop->stacks);
  loop->stacks.trimmed_at = now;
  if (timeout == 0 || loop->stacks.excess) return 0;
  return poll_timeout(loop);
}

static void run_once(cio_loop *loop) {
  int64_t timeout = poll_timeout(loop);
  /* Not at close: the pool is about to be unmapped. */
  if (CIO_UNLIKELY(loop->stacks.excess) && !loop->closing) timeout = trim_stacks(loop, timeout);
  if (CIO_UNLIKELY(loop->debug)) debug_loop_held(loop);
  if (loop->poller) {
    loop->poller->poll(loop->poller_ctx, timeout);
  } else if (timeout != 0) {
    default_poll(loop, timeout);
  }
  if (CIO_UNLIKELY(loop->debug)) loop->run_start = cio__clock_ns();
  if (loop->timers.len) run_timers(loop);
  if (atomic_load_explicit(&loop->ts_notified, memory_order_acquire)) drain_threadsafe(loop);
  if (loop->soon.len) run_soon(loop);
  cio__run_ready(loop);
}

static int run_begin(cio_loop *loop) {
  if (!on_loop_thread(loop)) return -EINVAL;
  if (loop->running || loop->current) return -EBUSY;
  loop->running = true;
  loop->run_start = cio__clock_ns(); /* debug: idle time before the run is no one's */
  return 0;
}

int cio_loop_run_until_complete(cio_loop *loop, cio_task *t) {
  if (!t || t->loop != loop) return -EINVAL;
  int r = run_begin(loop);
  if (r < 0) return r;
  loop->until = t;
  while (t->state != CIO_TASK_DONE && !loop->stopping) run_once(loop);
  loop->until = NULL;
  loop->stopping = false;
  loop->running = false;
  if (t->state != CIO_TASK_DONE) return -EINTR; /* stopped before t finished */
  t->awaited = true;
  return t->status;
}

int cio_loop_run_forever(cio_loop *loop) {
  int r = run_begin(loop);
  if (r < 0) return r;
  while (!loop->stopping) run_once(loop);
  loop->stopping = false;
  loop->running = false;
  return 0;
}

void cio_loop_stop(cio_loop *loop) { loop->stopping = true; }

static void stop_cb(void *arg) { cio_loop_stop(arg); }

int cio_loop_stop_threadsafe(cio_loop *loop) {
  return cio_call_soon_threadsafe(loop, stop_cb, loop);
}

int cio_loop_close(cio_loop *loop) {
  if (!loop) return -EINVAL;
  if (loop->closed) return 0;
  if (!on_loop_thread(loop)) return -EINVAL;
  if (loop->running || loop->current) return -EBUSY;
  loop->closing = true;
  /* Cancel whatever is left and let it unwind (asyncio.run's shutdown);
   * the report comes first, so it shows what each task did before. */
  if (loop->ntasks) cio__debug_close_report(loop);
  for (cio__link *l = loop->tasks.next; l != &loop->tasks; l = l->next)
    cio_task_cancel(cio__container_of(l, cio_task, live));
  loop->running = true;
  loop->run_start = cio__clock_ns();
  int64_t slow_at = loop->run_start + CIO__SLOW_SHUTDOWN_NS;
  for (int rounds = 0; loop->ntasks || (loop->soon.len && rounds < 1000); rounds++) {
    /* a cleanup calling cio_loop_stop() must not stall close */
    loop->stopping = false;
    run_once(loop);
    if (CIO_UNLIKELY(loop->debug) && loop->ntasks && slow_at && cio__clock_ns() >= slow_at) {
      cio__debug_slow_shutdown(loop);
      slow_at = 0; /* once */
    }
  }
  loop->running = false;
  /* Per-loop state of upper layers goes now, while the reactor still works. */
  loop->hooks_ran = true;
  for (size_t i = loop->close_hooks.len; i > 0; i--) {
    cio__cbring *h = &loop->close_hooks;
    cio__callback cb = h->v[(h->head + i - 1) & (h->cap - 1)];
    cb.fn(cb.arg);
  }
  cio__free(loop->close_hooks.v);
  if (loop->debug) {
    cio__sigquit_unregister(loop);
    cio__debug_final_report(loop);
  }
  /* From here on no callback can be queued from another thread. */
  pthread_mutex_lock(&loop->ts_mu);
  atomic_store(&loop->ts_closed, 1);
  pthread_mutex_unlock(&loop->ts_mu);
  drain_threadsafe(loop); /* everything accepted before ts_closed runs */
  cio__free(loop->ts_queue.v);
  cio__free(loop->soon.v);
  cio__timers_close(loop);
  if (loop->poller && loop->poller->close) loop->poller->close(loop->poller_ctx);
  cio__stack_pool_free(&loop->stacks);
  close(loop->wake_fd);
  loop->wake_fd = -1;
  cio__overflow_guard_thread_fini();
  cio__tls_loop = NULL;
  loop->closed = true;
  return 0;
}

void cio_loop_free(cio_loop *loop) {
  if (!loop) return;
  if (!loop->closed && cio_loop_close(loop) < 0) {
    /* Closing needs the loop's own thread, outside a run: freeing it from
     * anywhere else would pull the memory from under its tasks. */
    fprintf(stderr, "cio: cio_loop_free: loop not closed (running, or another thread): "
                    "not freed\n");
    return;
  }
  pthread_mutex_destroy(&loop->ts_mu);
  cio__free(loop);
}

size_t cio_loop_task_count(const cio_loop *loop) { return loop ? loop->ntasks - loop->ndaemon : 0; }

int cio_run(cio_task_fn fn, void *arg) {
  cio_loop *loop = cio_loop_new(NULL);
  if (!loop) return -errno;
  cio_spawn_opts o = {.name = "main", .stack_size = 0};
  cio_task *t = cio_spawn_on(loop, fn, arg, &o);
  if (!t) {
    int err = -errno;
    cio_loop_free(loop);
    return err;
  }
  /* Ctrl-C cancels the main task, as in asyncio.run(). */
  loop->main_task = t;
  bool sigint = cio__sigint_install(loop);
  int r = cio_loop_run_until_complete(loop, t);
  if (sigint) cio__sigint_uninstall(loop);
  loop->main_task = NULL;
  cio_task_release(t);
  cio_loop_free(loop);
  return r;
}

/* ---- time, callbacks ---- */

double cio_loop_time(cio_loop *loop) {
  (void)loop;
  return (double)cio__clock_ns() / 1e9;
}

int cio_loop_debug(cio_loop *loop) { return loop ? loop->debug : 0; }

int cio_loop_add_close_hook(cio_loop *loop, cio_callback_fn fn, void *arg) {
  if (!loop || !fn) return -EINVAL;
  if (loop->hooks_ran) return -ESHUTDOWN;
  return cio__cbring_push(&loop->close_hooks, fn, arg);
}

int cio_call_soon(cio_loop *loop, cio_callback_fn fn, void *arg) {
  if (!loop || !fn) return -EINVAL;
  if (loop->closed) return -ESHUTDOWN;
  return cio__cbring_push(&loop->soon, fn, arg);
}

int cio_call_soon_threadsafe(cio_loop *loop, cio_callback_fn fn, void *arg) {
  if (!loop || !fn) return -EINVAL;
  pthread_mutex_lock(&loop->ts_mu);
  int r = atomic_load(&loop->ts_closed) ? -ESHUTDOWN : cio__cbring_push(&loop->ts_queue, fn, arg);
  /* Wake the loop before unlocking: once the callback is visible the loop may
   * run it and close, and close takes this mutex before closing wake_fd.
   * One eventfd write per burst: the loop clears the flag when it drains. */
  if (r == 0 && !atomic_exchange(&loop->ts_notified, 1)) {
    uint64_t one = 1;
    ssize_t w = write(loop->wake_fd, &one, sizeof one);
    (void)w; /* EAGAIN only if the counter is saturated: already readable */
  }
  pthread_mutex_unlock(&loop->ts_mu);
  return r;
}

/* ---- reactor plug-in ---- */

int cio_loop_set_poller(cio_loop *loop, const cio_poller_ops *ops, void *ctx) {
  if (!loop || !ops || !ops->poll) return -EINVAL;
  if (loop->poller) return -EBUSY;
  loop->poller = ops;
  loop->poller_ctx = ctx;
  return 0;
}

void *cio_loop_poller_ctx(cio_loop *loop) { return loop->poller_ctx; }
int cio_loop_wakeup_fd(cio_loop *loop) { return loop->wake_fd; }
