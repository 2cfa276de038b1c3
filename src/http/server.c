/* server.c - serving an app: on the caller's loop (cio_http_server_*), or
 * as a program's main loop with workers and signal handling (cio_http_run,
 * uvicorn.run). */
#include "http_internal.h"

#include "cio/log.h"
#include "cio/signal.h"
#include "cio/threadsafe.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_GRACE      10.0
#define STREAM_READ_BUFFER (16u * 1024u)

void cio__http_server_unref(cio_http_server *srv) {
  if (--srv->refs > 0) return;
  cio_timer_free(srv->sweep);
  free(srv);
}

/* ---- idle connections ----
 *
 * A connection waiting for a request (after a keep-alive response, or a
 * new one waiting for its first byte) is bounded without a timer of its
 * own: every sweep_period the sweep looks at each waiting connection, and
 * one found in the same wait for idle_limit sweeps is cancelled (it then
 * closes). Timeouts fire between their value and one period later; the
 * period is a quarter of the shortest of them. */

unsigned cio__http_idle_ticks(const cio_http_server *srv, double timeout) {
  if (!srv->sweep || timeout < 0) return 0;
  double t = timeout / srv->sweep_period;
  return t < 1 ? 1 : t > 1e9 ? 1000000000u : (unsigned)(t + 0.999);
}

static void sweep_fire(void *arg) {
  cio_http_server *srv = arg;
  for (cio__hlink *l = srv->conns.next; l != &srv->conns; l = l->next) {
    cio__conn *c = (cio__conn *)(void *)((char *)l - offsetof(cio__conn, link));
    if (!c->idle || !c->idle_limit) continue;
    if (c->idle_gen != c->idle_seen) {
      c->idle_seen = c->idle_gen;
      c->idle_ticks = 0;
    }
    /* only a task still waiting: one woken by a request that just came is
     * left to serve it */
    if (++c->idle_ticks > c->idle_limit && cio_task_get_state(c->task) == CIO_TASK_WAITING)
      cio_task_cancel(c->task);
  }
  if (srv->nconns) cio_timer_start(srv->sweep, srv->sweep_period);
}

static int make_sweep(cio_http_server *srv) {
  double k = srv->app->o.keepalive_timeout, h = srv->app->o.head_timeout;
  double shortest = k < 0 ? h : h < 0 ? k : k < h ? k : h;
  if (shortest < 0) return 0; /* no limits: no sweep */
  srv->sweep_period = shortest / 4 > 0.001 ? shortest / 4 : 0.001;
  srv->sweep = cio_timer_new(cio_loop_current(), sweep_fire, srv);
  return srv->sweep ? 0 : -ENOMEM;
}

static int run_startup(cio_http_server *srv) {
  cio_http_app *app = srv->app;
  if (!app->startup) return 0;
  int r = app->startup(app->lifespan_arg, &srv->state);
  if (r > 0) r = -EINVAL; /* a hook must return 0 or an error code */
  return r;
}

static int run_shutdown(cio_http_server *srv) {
  cio_http_app *app = srv->app;
  if (srv->shutdown_run || !app->shutdown) return 0;
  srv->shutdown_run = 1;
  int r = app->shutdown(app->lifespan_arg, srv->state);
  return r > 0 ? -EINVAL : r;
}

int cio__http_server_open(cio_http_app *app, const cio_http_serve_opts *opts, int reuseport,
                          cio_http_server **out) {
  if (!out) return -EINVAL;
  *out = NULL;
  if (!app) return -EINVAL;
  if (!cio_current()) return -EPERM;
  cio_http_serve_opts none = {0};
  if (!opts) opts = &none;
  if (opts->port < 0 || opts->port > 65535) return -EINVAL;
  cio_http_server *srv = calloc(1, sizeof *srv);
  if (!srv) return -ENOMEM;
  srv->app = app;
  srv->refs = 1;
  srv->tls = opts->tls != NULL;
  cio__hlist_init(&srv->conns);
  int r = make_sweep(srv);
  if (r == 0) r = run_startup(srv);
  if (r < 0) {
    cio_timer_free(srv->sweep);
    free(srv);
    return r;
  }
  cio_server_opts so = {
      .backlog = opts->backlog ? opts->backlog : 1024,
      .reuseport = reuseport,
      .stack_size = opts->stack_size,
      .tls = opts->tls,
      .stream = {.read_buffer = STREAM_READ_BUFFER,
                 .limit = app->o.max_head + CIO__HTTP_INBUF_BODY},
  };
  const char *host = opts->host ? opts->host : "127.0.0.1";
  if (strcmp(host, "0.0.0.0") == 0) host = "";
  r = cio_start_server(host, opts->port, cio__http_conn_main, srv, &so, &srv->srv);
  if (r < 0) {
    run_shutdown(srv);
    cio_timer_free(srv->sweep);
    free(srv);
    return r;
  }
  srv->port = cio_server_port(srv->srv);
  *out = srv;
  return 0;
}

int cio_http_server_open(cio_http_app *app, const cio_http_serve_opts *opts,
                         cio_http_server **out) {
  return cio__http_server_open(app, opts, 0, out);
}

int cio_http_server_port(const cio_http_server *s) { return s->port; }

size_t cio_http_server_connections(const cio_http_server *s) { return s->nconns; }

int cio_http_server_close(cio_http_server *s, double grace) {
  if (!cio_current()) return -EPERM;
  if (s->closed) return 0;
  s->closing = 1;
  /* Kept-alive connections waiting for a request close now; those in the
   * middle of one finish it (answering Connection: close). */
  for (cio__hlink *l = s->conns.next; l != &s->conns; l = l->next) {
    cio__conn *c = (cio__conn *)(void *)((char *)l - offsetof(cio__conn, link));
    if (c->idle && cio_task_get_state(c->task) == CIO_TASK_WAITING) cio_task_cancel(c->task);
  }
  int r = cio_server_close(s->srv, grace == 0 ? DEFAULT_GRACE : grace);
  s->closed = 1;
  int e = run_shutdown(s);
  return r < 0 ? r : e;
}

void cio_http_server_free(cio_http_server *s) {
  if (!s) return;
  s->closing = 1;
  cio_server_free(s->srv); /* cancels what still runs */
  s->srv = NULL;
  cio__http_server_unref(s);
}

/* ---- cio_http_run: workers, signals, uvicorn's log lines ---- */

typedef struct run_ctx {
  cio_http_app *app;
  cio_http_serve_opts opts;
  size_t workers;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int port;  /* bound by worker 0; the others use it */
  int bound; /* worker 0 has bound (or failed) */
  int error; /* the first failure */
  int stopping;
  struct worker *w; /* every worker */
} run_ctx;

typedef struct worker {
  run_ctx *ctx;
  int id;
  pthread_t thread;
  int status;
  cio_loop *loop;  /* while its main task runs (under ctx->mu) */
  cio_event *stop; /* its loop's; NULL once gone (loop thread only) */
} worker;

/* On a worker's loop: wake its main task. The worker outlives its loop,
 * and clears stop before the event goes, so a late call finds NULL. */
static void set_stop(void *arg) {
  worker *w = arg;
  if (w->stop) cio_event_set(w->stop);
}

/* Any worker: make every worker stop (idempotent). */
static void stop_all(run_ctx *ctx, int error) {
  pthread_mutex_lock(&ctx->mu);
  if (error && !ctx->error) ctx->error = error;
  ctx->stopping = 1;
  for (size_t i = 0; i < ctx->workers; i++)
    if (ctx->w[i].loop) cio_call_soon_threadsafe(ctx->w[i].loop, set_stop, &ctx->w[i]);
  pthread_cond_broadcast(&ctx->cv);
  pthread_mutex_unlock(&ctx->mu);
}

static void on_signal(void *arg) { cio_event_set(arg); }

static int worker_main(void *arg) {
  worker *w = arg;
  run_ctx *ctx = w->ctx;
  cio_event *stop = cio_event_new();
  if (!stop) return -ENOMEM;
  /* Each loop watches SIGINT and SIGTERM itself: every interested loop
   * gets each delivery (cio/signal.h). */
  int r = cio_add_signal_handler(SIGINT, on_signal, stop);
  if (r == 0) r = cio_add_signal_handler(SIGTERM, on_signal, stop);
  w->stop = stop;
  pthread_mutex_lock(&ctx->mu);
  w->loop = cio_loop_current();
  if (ctx->stopping) cio_event_set(stop);
  /* workers 1.. bind the port worker 0 got (it may have been 0: any) */
  while (w->id > 0 && !ctx->bound) pthread_cond_wait(&ctx->cv, &ctx->mu);
  cio_http_serve_opts so = ctx->opts;
  if (w->id > 0) so.port = ctx->port;
  int failed = ctx->error != 0;
  pthread_mutex_unlock(&ctx->mu);
  cio_http_server *srv = NULL;
  if (r == 0 && !failed) {
    if (w->id == 0) cio_log_info("Waiting for application startup.");
    r = cio__http_server_open(ctx->app, &so, ctx->workers > 1, &srv);
  }
  pthread_mutex_lock(&ctx->mu);
  if (w->id == 0) {
    ctx->port = srv ? cio_http_server_port(srv) : 0;
    ctx->bound = 1;
    pthread_cond_broadcast(&ctx->cv);
  }
  pthread_mutex_unlock(&ctx->mu);
  if (r < 0) {
    if (!failed) cio_log_error("worker %d: startup failed: %s", w->id + 1, cio_strerror(r));
    stop_all(ctx, r);
  } else if (!failed) {
    if (w->id == 0) {
      cio_log_info("Application startup complete.");
      const char *h = so.host && *so.host ? so.host : "127.0.0.1";
      cio_log_info("cio-http running on %s://%s:%d (Press CTRL+C to quit)",
                   so.tls ? "https" : "http", h, cio_http_server_port(srv));
      if (so.on_listen) so.on_listen(cio_http_server_port(srv), so.on_listen_arg);
    }
    if (ctx->workers > 1) cio_log_info("Started worker %d [%d]", w->id + 1, (int)getpid());
    r = cio_event_wait(stop);
    if (w->id == 0) cio_log_info("Shutting down");
    stop_all(ctx, 0); /* a signal stops every worker */
    if (w->id == 0 && ctx->app->shutdown) cio_log_info("Waiting for application shutdown.");
    double grace = so.grace == 0 ? DEFAULT_GRACE : so.grace;
    int e = cio_http_server_close(srv, grace);
    if (e < 0 && e != -ECANCELED)
      cio_log_error("worker %d: shutdown: %s", w->id + 1, cio_strerror(e));
    if (w->id == 0 && ctx->app->shutdown) cio_log_info("Application shutdown complete.");
    r = e == -ECANCELED ? 0 : e;
  }
  cio_http_server_free(srv);
  cio_remove_signal_handler(SIGINT);
  cio_remove_signal_handler(SIGTERM);
  pthread_mutex_lock(&ctx->mu);
  w->loop = NULL;
  pthread_mutex_unlock(&ctx->mu);
  w->stop = NULL;
  cio_event_free(stop);
  w->status = r;
  return r;
}

static void *worker_thread(void *arg) {
  worker *w = arg;
  int r = cio_run(worker_main, w);
  if (r < 0 && w->status == 0) w->status = r;
  return NULL;
}

int cio_http_run(cio_http_app *app, const cio_http_serve_opts *opts) {
  if (!app) return -EINVAL;
  if (cio_loop_current()) return -EBUSY; /* not from a loop's thread */
  if (opts && opts->workers > CIO_HTTP_MAX_WORKERS) return -EINVAL;
  run_ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.app = app;
  if (opts) ctx.opts = *opts;
  ctx.workers = ctx.opts.workers > 0 ? ctx.opts.workers : 1;
  pthread_mutex_init(&ctx.mu, NULL);
  pthread_cond_init(&ctx.cv, NULL);
  worker *w = calloc(ctx.workers, sizeof *w);
  ctx.w = w;
  int r = w ? 0 : -ENOMEM;
  cio_log_info("Started server process [%d]", (int)getpid());
  size_t started = 1;
  for (size_t i = 0; r == 0 && i < ctx.workers; i++) {
    w[i].ctx = &ctx;
    w[i].id = (int)i;
  }
  /* workers 1.. on threads of their own; worker 0 on this one */
  for (size_t i = 1; r == 0 && i < ctx.workers; i++, started++) {
    int e = pthread_create(&w[i].thread, NULL, worker_thread, &w[i]);
    if (e) {
      r = -e;
      stop_all(&ctx, r);
    }
  }
  if (w && ctx.workers) {
    if (r == 0) {
      int e = cio_run(worker_main, &w[0]);
      if (e < 0 && w[0].status == 0) w[0].status = e;
    } else {
      /* worker 0 never ran: release the others waiting for its port */
      pthread_mutex_lock(&ctx.mu);
      ctx.bound = 1;
      pthread_cond_broadcast(&ctx.cv);
      pthread_mutex_unlock(&ctx.mu);
    }
    for (size_t i = 1; i < started; i++) pthread_join(w[i].thread, NULL);
    for (size_t i = 0; i < ctx.workers && r == 0; i++)
      if (w[i].status < 0) r = w[i].status;
  }
  if (ctx.error && (r == 0 || r == -ECANCELED)) r = ctx.error;
  cio_log_info("Finished server process [%d]", (int)getpid());
  free(w);
  pthread_cond_destroy(&ctx.cv);
  pthread_mutex_destroy(&ctx.mu);
  return r;
}
