/* exec.c - thread-pool executors.
 *
 * One mutex per pool guards its queue, its counters and the state of every
 * job's waiter (see xwait.h for why posting under that mutex is safe against
 * cancellation and loop close). A job is shared by the waiting task and the
 * pool: one reference each, plus one for a queued wake-up callback. Every
 * job and shutdown waiter also holds a reference on the pool's memory, so a
 * task resuming after cio_executor_free() still finds the mutex it needs.
 */
#include "cio/exec.h"
#include "xwait.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

enum { Q_QUEUED, Q_RUNNING, Q_FINISHED };

typedef struct job {
  cio__xwait w; /* the job is freed through w.destroy */
  cio_executor *ex;
  cio__link link; /* in the queue, or the list of jobs dropped by a shutdown */
  cio_job_fn fn;
  void *arg;
  void (*release)(void *arg);
  int qstate;  /* under the pool's mutex */
  bool fn_ran; /* under the pool's mutex */
} job;

/* A task waiting in cio_executor_shutdown() for the threads to exit. */
typedef struct shut_waiter {
  cio__xwait w;
  cio_executor *ex;
  cio__link link;
} shut_waiter;

struct cio_executor {
  pthread_mutex_t mu;
  pthread_cond_t work;   /* a job was queued, or shutdown began */
  pthread_cond_t exited; /* the last thread left */
  cio__link queue;       /* jobs not taken by a thread yet, oldest first */
  size_t queued;
  size_t max_threads;
  size_t nthreads; /* started, joinable */
  size_t nalive;   /* not yet returned from worker_main */
  size_t nidle;    /* not running a job */
  int shutdown;    /* 0, or 1 + the strongest `how` asked */
  bool is_default;
  atomic_int refs; /* the owner's, one per job and shutdown waiter */
  pthread_t *threads;
  cio__link shut_waiters;
};

static _Thread_local cio_executor *tls_pool; /* the pool this thread works for */

static void pool_ref(cio_executor *ex) {
  atomic_fetch_add_explicit(&ex->refs, 1, memory_order_relaxed);
}

static void pool_unref(cio_executor *ex) {
  if (atomic_fetch_sub_explicit(&ex->refs, 1, memory_order_acq_rel) != 1) return;
  pthread_cond_destroy(&ex->work);
  pthread_cond_destroy(&ex->exited);
  pthread_mutex_destroy(&ex->mu);
  cio__free(ex->threads);
  cio__free(ex);
}

static void job_destroy(cio__xwait *w) {
  job *j = cio__container_of(w, job, w);
  cio_executor *ex = j->ex;
  cio__free(j);
  pool_unref(ex);
}

static void shut_destroy(cio__xwait *w) {
  shut_waiter *s = cio__container_of(w, shut_waiter, w);
  cio_executor *ex = s->ex;
  cio__free(s);
  pool_unref(ex);
}

static void queue_push(cio_executor *ex, job *j) {
  cio__list_push_back(&ex->queue, &j->link);
  ex->queued++;
}

static void queue_remove(cio_executor *ex, job *j) {
  cio__list_remove(&j->link);
  ex->queued--;
}

/* The oldest queued job, or NULL. */
static job *queue_head(cio_executor *ex) {
  return cio__list_empty(&ex->queue) ? NULL : cio__list_entry(ex->queue.next, job, link);
}

/* Pool mutex held: the job has finished (fn ran or never will); give its
 * status to the waiting task, or release arg for a caller that left. A
 * caller that gets the status of a job whose fn ran owns arg again; for a
 * job dropped before it ran, arg is released here. Returns true if the
 * caller of job_settle must release arg now, outside the mutex. */
static bool job_settle(job *j, int status) {
  j->qstate = Q_FINISHED;
  if (cio__xwait_post(&j->w, status)) return j->release && !j->fn_ran;
  return j->release != NULL;
}

/* Signals stay with the loop threads: a worker blocks all but the faults
 * its job may raise. Set in the creating thread around pthread_create, so the
 * new thread never runs a moment with its creator's mask. */
static void worker_sigmask(sigset_t *set) {
  sigfillset(set);
  /* Faults raised by the job itself must still kill or be handled. */
  sigdelset(set, SIGSEGV);
  sigdelset(set, SIGBUS);
  sigdelset(set, SIGFPE);
  sigdelset(set, SIGILL);
  sigdelset(set, SIGTRAP);
  sigdelset(set, SIGABRT);
}

static void *worker_main(void *arg) {
  cio_executor *ex = arg;
  tls_pool = ex;
  pthread_mutex_lock(&ex->mu);
  /* nidle counts threads not running a job, also those just started or
   * about to look at the queue again: a job queued meanwhile needs no new
   * thread. ensure_thread() counted this one in. */
  for (;;) {
    while (!ex->queued && !ex->shutdown) pthread_cond_wait(&ex->work, &ex->mu);
    job *j = queue_head(ex);
    if (!j) break; /* shutting down and nothing left */
    ex->nidle--;
    queue_remove(ex, j);
    j->qstate = Q_RUNNING;
    pthread_mutex_unlock(&ex->mu);

    int status = j->fn(j->arg);

    pthread_mutex_lock(&ex->mu);
    j->fn_ran = true;
    bool release = job_settle(j, status);
    ex->nidle++;
    pthread_mutex_unlock(&ex->mu);
    if (release) j->release(j->arg);
    cio__xwait_unref(&j->w);
    pthread_mutex_lock(&ex->mu);
  }
  ex->nidle--;
  if (--ex->nalive == 0) {
    for (cio__link *l = ex->shut_waiters.next; l != &ex->shut_waiters; l = l->next)
      cio__xwait_post(&cio__list_entry(l, shut_waiter, link)->w, 0);
    pthread_cond_broadcast(&ex->exited);
  }
  pthread_mutex_unlock(&ex->mu);
  return NULL;
}

cio_executor *cio_executor_new(size_t max_threads) {
  if (max_threads > CIO__EXEC_MAX_THREADS) {
    errno = EINVAL;
    return NULL;
  }
  if (max_threads == 0) {
    max_threads = (size_t)cio__exec_ncpu() + 4;
    if (max_threads > 32) max_threads = 32;
  }
  cio_executor *ex = cio__calloc(1, sizeof *ex);
  if (!ex) goto fail;
  ex->threads = cio__calloc(max_threads, sizeof *ex->threads);
  if (!ex->threads) goto fail;
  ex->max_threads = max_threads;
  atomic_init(&ex->refs, 1);
  cio__list_init(&ex->queue);
  cio__list_init(&ex->shut_waiters);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_mutex_init(&ex->mu, NULL);
  pthread_cond_init(&ex->work, &ca);
  pthread_cond_init(&ex->exited, &ca);
  pthread_condattr_destroy(&ca);
  return ex;
fail:
  if (ex) cio__free(ex->threads);
  cio__free(ex);
  errno = ENOMEM;
  return NULL;
}

/* Pool mutex held, one job queued: make sure a thread will take it. Returns
 * 0, or -EAGAIN when no thread runs and none could be started. */
static int ensure_thread(cio_executor *ex) {
  if (ex->queued <= ex->nidle || ex->nthreads == ex->max_threads) return 0;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  sigset_t mask, old;
  worker_sigmask(&mask);
  pthread_sigmask(SIG_SETMASK, &mask, &old);
  int err = pthread_create(&ex->threads[ex->nthreads], &attr, worker_main, ex);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  if (err == 0) {
    ex->nthreads++;
    ex->nalive++;
    ex->nidle++;
    return 0;
  }
  return ex->nalive > 0 ? 0 : -EAGAIN;
}

/* Submit fn(arg) and wait. Returns fn's status with *ran = 1 when the
 * caller got it (arg is the caller's again), else an error with *ran = 0
 * (release(arg) has run or will run on the pool thread). */
static int exec_call(cio_executor *ex, cio_job_fn fn, void *arg, void (*release)(void *arg),
                     int *ran) {
  int r;
  *ran = 0;
  if (!fn) {
    r = -EINVAL;
    goto fail;
  }
  if (!cio_current()) {
    r = -EPERM;
    goto fail;
  }
  /* Before queueing: a caller already cancelled (or past its deadline) must
   * not have its job run after the call has returned. */
  if ((r = cio_checkpoint()) < 0) goto fail;
  if (!ex && !(ex = cio_executor_default())) {
    r = -ENOMEM;
    goto fail;
  }
  job *j = cio__malloc(sizeof *j);
  if (!j) {
    r = -ENOMEM;
    goto fail;
  }
  cio__xwait_init(&j->w, job_destroy);
  j->ex = ex;
  pool_ref(ex);
  j->fn = fn;
  j->arg = arg;
  j->release = release;
  j->qstate = Q_QUEUED;
  j->fn_ran = false;

  pthread_mutex_lock(&ex->mu);
  if (ex->shutdown) {
    pthread_mutex_unlock(&ex->mu);
    cio__xwait_unref(&j->w);
    r = -ESHUTDOWN;
    goto fail;
  }
  queue_push(ex, j);
  r = ensure_thread(ex);
  if (r < 0) {
    queue_remove(ex, j);
    pthread_mutex_unlock(&ex->mu);
    cio__xwait_unref(&j->w);
    goto fail;
  }
  cio__xwait_ref(&j->w); /* the pool's */
  pthread_cond_signal(&ex->work);
  pthread_mutex_unlock(&ex->mu);

  r = cio__xwait_suspend(&j->w, "executor");
  bool release_now = false;
  pthread_mutex_lock(&ex->mu);
  if (r == 0) {
    r = j->w.status;
    *ran = j->fn_ran; /* not when dropped by a CANCEL shutdown */
  } else if (j->qstate == Q_QUEUED) {
    /* Withdrawn before any thread took it: fn never runs. */
    queue_remove(ex, j);
    j->qstate = Q_FINISHED;
    cio__xwait_leave(&j->w);
    cio__xwait_unref(&j->w); /* the pool's; ours remains */
    release_now = release != NULL;
  } else if (cio__xwait_leave(&j->w)) {
    /* Finished as we were interrupted: job_settle left arg to us, and we
     * abandon it. */
    release_now = release && j->fn_ran;
  }
  pthread_mutex_unlock(&ex->mu);
  if (release_now) release(arg);
  cio__xwait_unref(&j->w);
  return r;

fail:
  if (release) release(arg);
  return r;
}

int cio_run_in_executor_ex(cio_executor *ex, cio_job_fn fn, void *arg, void (*release)(void *arg),
                           int *status) {
  int ran;
  int r = exec_call(ex, fn, arg, release, &ran);
  if (!ran) return r; /* < 0: abandoned, arg released */
  if (status) *status = r;
  return 0;
}

int cio_run_in_executor(cio_executor *ex, cio_job_fn fn, void *arg) {
  int ran;
  return exec_call(ex, fn, arg, NULL, &ran);
}

int cio_to_thread(cio_job_fn fn, void *arg) { return cio_run_in_executor(NULL, fn, arg); }

/* Start the shutdown; with CANCEL, finish every queued job as dropped. */
static void begin_shutdown(cio_executor *ex, int how) {
  pthread_mutex_lock(&ex->mu);
  if (ex->shutdown < 1 + how) ex->shutdown = 1 + how;
  cio__link dropped;
  cio__list_init(&dropped);
  if (how == CIO_EXEC_CANCEL) {
    job *j;
    while ((j = queue_head(ex))) {
      queue_remove(ex, j);
      if (job_settle(j, -ECANCELED))
        cio__list_push_back(&dropped, &j->link); /* released below, outside the mutex */
      else
        cio__xwait_unref(&j->w);
    }
  }
  pthread_cond_broadcast(&ex->work);
  pthread_mutex_unlock(&ex->mu);
  cio__link *l;
  while ((l = cio__list_pop_front(&dropped))) {
    job *j = cio__list_entry(l, job, link);
    j->release(j->arg);
    cio__xwait_unref(&j->w);
  }
}

/* Wait for every thread to leave worker_main: suspend in a task, block
 * elsewhere. */
static int wait_exited(cio_executor *ex) {
  if (!cio_current()) {
    pthread_mutex_lock(&ex->mu);
    while (ex->nalive > 0) pthread_cond_wait(&ex->exited, &ex->mu);
    pthread_mutex_unlock(&ex->mu);
    return 0;
  }
  shut_waiter *s = cio__malloc(sizeof *s);
  if (!s) return -ENOMEM;
  cio__xwait_init(&s->w, shut_destroy);
  s->ex = ex;
  pool_ref(ex);
  pthread_mutex_lock(&ex->mu);
  if (ex->nalive == 0) {
    pthread_mutex_unlock(&ex->mu);
    cio__xwait_unref(&s->w);
    return 0;
  }
  cio__xwait_ref(&s->w); /* the list's */
  cio__list_push_back(&ex->shut_waiters, &s->link);
  pthread_mutex_unlock(&ex->mu);

  int r = cio__xwait_suspend(&s->w, "executor shutdown");
  pthread_mutex_lock(&ex->mu);
  if (r != 0) cio__xwait_leave(&s->w);
  cio__list_remove(&s->link);
  pthread_mutex_unlock(&ex->mu);
  cio__xwait_unref(&s->w); /* the list's */
  cio__xwait_unref(&s->w);
  return r;
}

int cio_executor_shutdown(cio_executor *ex, int how) {
  if (!ex || ex->is_default || (how != CIO_EXEC_WAIT && how != CIO_EXEC_CANCEL)) return -EINVAL;
  if (tls_pool == ex) return -EDEADLK;
  begin_shutdown(ex, how);
  return wait_exited(ex);
}

static void pool_destroy(cio_executor *ex) {
  begin_shutdown(ex, CIO_EXEC_WAIT);
  pthread_mutex_lock(&ex->mu);
  while (ex->nalive > 0) pthread_cond_wait(&ex->exited, &ex->mu);
  pthread_mutex_unlock(&ex->mu);
  for (size_t i = 0; i < ex->nthreads; i++) pthread_join(ex->threads[i], NULL);
  pool_unref(ex);
}

void cio_executor_free(cio_executor *ex) {
  if (!ex || ex->is_default || tls_pool == ex) return;
  pool_destroy(ex);
}

size_t cio_executor_max_threads(const cio_executor *ex) { return ex->max_threads; }

size_t cio_executor_threads(cio_executor *ex) {
  pthread_mutex_lock(&ex->mu);
  size_t n = ex->nthreads;
  pthread_mutex_unlock(&ex->mu);
  return n;
}

/* ---- the default pool ---- */

static pthread_mutex_t default_mu = PTHREAD_MUTEX_INITIALIZER;
static cio_executor *default_pool;
static pid_t default_pid;
static bool default_atexit_set;
static pthread_once_t default_fork_once = PTHREAD_ONCE_INIT;

/* fork() while another thread holds default_mu would leave it locked forever
 * in the child: hold it across fork so the child gets it in a known state. */
static void default_prefork(void) { pthread_mutex_lock(&default_mu); }
static void default_postfork(void) { pthread_mutex_unlock(&default_mu); }
static void default_fork_setup(void) {
  pthread_atfork(default_prefork, default_postfork, default_postfork);
}

/* At exit: drop queued jobs, wait for running ones, free the threads (so
 * LeakSanitizer sees nothing). Not from one of the pool's own threads (a job
 * calling exit()), which would wait for itself. */
static void default_at_exit(void) {
  pthread_mutex_lock(&default_mu);
  cio_executor *ex = default_pid == getpid() ? default_pool : NULL;
  if (ex && tls_pool != ex)
    default_pool = NULL;
  else
    ex = NULL;
  pthread_mutex_unlock(&default_mu);
  if (!ex) return;
  begin_shutdown(ex, CIO_EXEC_CANCEL);
  pool_destroy(ex);
}

cio_executor *cio_executor_default(void) {
  pthread_once(&default_fork_once, default_fork_setup);
  pthread_mutex_lock(&default_mu);
  /* In a forked child the parent's pool has no threads: start afresh (the
   * copy is the parent's memory, not ours to free). */
  if (!default_pool || default_pid != getpid()) {
    cio_executor *ex = cio_executor_new(0);
    if (ex) {
      ex->is_default = true;
      default_pool = ex;
      default_pid = getpid();
      if (!default_atexit_set) default_atexit_set = atexit(default_at_exit) == 0;
    }
  }
  cio_executor *ex = default_pool && default_pid == getpid() ? default_pool : NULL;
  pthread_mutex_unlock(&default_mu);
  if (!ex) errno = ENOMEM;
  return ex;
}
