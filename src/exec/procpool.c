/* procpool.c - pre-forked worker processes (ProcessPoolExecutor).
 *
 * Processes: the caller's process forks a zygote once, from a short-lived
 * thread (so the zygote starts on a plain thread with no cio loop in its
 * thread-locals, whatever the caller was doing). The zygote is
 * single-threaded; it forks every worker, and reaps a worker only when the
 * parent asks (or at its own exit), so a worker's pid cannot be reused while
 * the parent may still kill it.
 *
 * Wire format, all in host order on stream sockets (both ends are the same
 * binary): parent -> zygote  zreq; zygote -> parent  zrep plus the worker's
 * socket as SCM_RIGHTS. parent -> worker  req_hdr + input; worker -> parent
 * rep_hdr + output.
 *
 * Parent side: a cio_executor with one thread per worker runs each job's
 * blocking I/O; a thread takes a free worker, so one is always there.
 */
#include "cio/exec.h"
#include "cio/procpool.h"
#include "base/fault.h"
#include "xwait.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct zreq {
  int op; /* 'F' fork a worker; 'R' kill + reap pid, then fork one */
  pid_t pid;
} zreq;

typedef struct zrep {
  pid_t pid; /* the new worker, or 0 */
  int err;   /* errno of a failed socketpair/fork */
} zrep;

typedef struct req_hdr {
  cio_proc_fn fn;
  uint64_t len;
} req_hdr;

typedef struct rep_hdr {
  int64_t status;
  uint64_t len;
} rep_hdr;

typedef struct worker {
  int fd; /* -1 when none */
  pid_t pid;
  bool busy;
} worker;

struct cio_procpool {
  cio_executor *ex;
  pthread_mutex_t mu; /* workers[], the zygote socket, the flags */
  worker *workers;
  size_t n;
  int zfd;
  pid_t zpid;
  bool killing;
  size_t replaced;
};

typedef struct pjob {
  cio_procpool *pool;
  unsigned char *req; /* req_hdr + input */
  size_t req_len;
  void *out;
  size_t out_len;
} pjob;

/* ---- blocking I/O helpers (any process) ---- */

/* 1 when all was read, 0 on EOF or a reset connection, -1 on other errors. */
static int read_full(int fd, void *buf, size_t len) {
  unsigned char *p = buf;
  while (len) {
    ssize_t r = cio__fault_errno(CIO__FAULT_READ) ? -1 : read(fd, p, len);
    if (r > 0) {
      p += r;
      len -= (size_t)r;
    } else if (r == 0 || errno == ECONNRESET) {
      return 0;
    } else if (errno != EINTR) {
      return -1;
    }
  }
  return 1;
}

/* 1 when all was sent, 0 if the peer is gone, -1 on other errors. */
static int send_full(int fd, const void *buf, size_t len) {
  const unsigned char *p = buf;
  while (len) {
    ssize_t r = cio__fault_errno(CIO__FAULT_WRITE) ? -1 : send(fd, p, len, MSG_NOSIGNAL);
    if (r >= 0) {
      p += r;
      len -= (size_t)r;
    } else if (errno == EPIPE || errno == ECONNRESET) {
      return 0;
    } else if (errno != EINTR) {
      return -1;
    }
  }
  return 1;
}

/* ---- the worker process ---- */

static void discard(int fd, uint64_t len) {
  char buf[4096];
  while (len) {
    size_t k = len < sizeof buf ? (size_t)len : sizeof buf;
    if (read_full(fd, buf, k) != 1) _exit(0);
    len -= k;
  }
}

/* Plain malloc here: a worker is a process of its own, outside the fault
 * injector's accounting, and out comes from the job's own malloc(). */
static void worker_loop(int fd) {
  for (;;) {
    req_hdr h;
    if (read_full(fd, &h, sizeof h) != 1) _exit(0); /* the pool closed our socket */
    void *in = NULL;
    rep_hdr rep = {0, 0};
    void *out = NULL;
    size_t out_len = 0;
    if (h.len && !(in = malloc((size_t)h.len))) {
      discard(fd, h.len);
      rep.status = -ENOMEM;
    } else {
      if (h.len && read_full(fd, in, (size_t)h.len) != 1) _exit(0);
      rep.status = h.fn(in, (size_t)h.len, &out, &out_len);
      free(in);
      fflush(NULL);
      if (rep.status < 0 || !out) {
        free(out);
        out = NULL;
        out_len = 0;
      }
      rep.len = out_len;
    }
    if (send_full(fd, &rep, sizeof rep) != 1 || (out_len && send_full(fd, out, out_len) != 1))
      _exit(0);
    free(out);
  }
}

/* ---- the zygote process ---- */

static void close_other_fds(int keep) {
  if (keep > 3 && close_range(3, (unsigned)keep - 1, 0) != 0) goto slow;
  if (close_range((unsigned)keep + 1, ~0u, 0) != 0) goto slow;
  return;
slow:
  for (int fd = 3; fd < 65536; fd++)
    if (fd != keep) close(fd);
}

static int send_fd(int sock, const void *buf, size_t len, int fd) {
  union {
    char space[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = {(void *)(uintptr_t)buf, len};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  if (fd >= 0) {
    memset(&ctl, 0, sizeof ctl);
    m.msg_control = ctl.space;
    m.msg_controllen = sizeof ctl.space;
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  ssize_t r;
  do {
    r = sendmsg(sock, &m, MSG_NOSIGNAL);
  } while (r < 0 && errno == EINTR);
  return r == (ssize_t)len ? 0 : -1;
}

static void zygote_main(int ctl) {
  close_other_fds(ctl);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGCHLD, SIG_DFL); /* SIG_IGN would make waitpid() fail */
  /* Handlers inherited from the parent (cio_run's Ctrl-C, debug SIGQUIT,
   * the overflow reporter...) would act on the parent's descriptors here. */
  for (int sig = 1; sig < NSIG; sig++) {
    struct sigaction sa;
    if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &sa) != 0) continue;
    if (sa.sa_handler != SIG_IGN && sa.sa_handler != SIG_DFL) signal(sig, SIG_DFL);
  }
  pid_t self = getpid();
  for (;;) {
    zreq q;
    if (read_full(ctl, &q, sizeof q) != 1) break; /* the pool is gone */
    if (q.op == 'R' && q.pid > 0) {
      kill(q.pid, SIGKILL);
      while (waitpid(q.pid, NULL, 0) < 0 && errno == EINTR) {
      }
    }
    zrep rep = {0, 0};
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
      rep.err = errno;
      send_fd(ctl, &rep, sizeof rep, -1);
      continue;
    }
    pid_t pid = fork();
    if (pid == 0) {
      close(ctl);
      close(sv[0]);
      /* The zygote is single-threaded, so this is the zygote's death. */
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != self) _exit(0); /* it died before PDEATHSIG was set */
      worker_loop(sv[1]);
    }
    close(sv[1]);
    if (pid < 0)
      rep.err = errno;
    else
      rep.pid = pid;
    send_fd(ctl, &rep, sizeof rep, pid > 0 ? sv[0] : -1);
    close(sv[0]);
  }
  /* Workers exit when their sockets close; wait for every one. */
  for (;;) {
    if (wait(NULL) < 0 && errno != EINTR) break;
  }
  _exit(0);
}

typedef struct forker {
  int ctl;   /* the zygote's end */
  int other; /* the parent's end, closed in the zygote */
  pid_t pid;
  int err;
} forker;

/* Fork from a fresh thread: the zygote then starts with clean thread-locals
 * (no current loop) on a plain thread stack. */
static void *forker_main(void *arg) {
  forker *f = arg;
  pid_t pid = fork();
  if (pid == 0) {
    /* The zygote and its workers are processes of their own: a fault a
     * test armed in the pool's process is not theirs to take. */
    cio__fault_sys_clear();
    cio__fault_alloc_clear();
    close(f->other);
    zygote_main(f->ctl);
  }
  f->pid = pid;
  f->err = pid < 0 ? errno : 0;
  return NULL;
}

/* ---- parent side ---- */

/* Pool mutex held: ask the zygote for a worker ('F', or 'R' to replace
 * old_pid) and install it in w. Returns 0 or a negative errno. */
static int spawn_worker(cio_procpool *p, worker *w, int op, pid_t old_pid) {
  zreq q = {op, old_pid};
  w->fd = -1;
  w->pid = 0;
  if (p->zfd < 0) return -EAGAIN;
  if (send_full(p->zfd, &q, sizeof q) != 1) return -EAGAIN;
  zrep rep;
  union {
    char space[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = {&rep, sizeof rep};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl.space;
  m.msg_controllen = sizeof ctl.space;
  ssize_t r;
  do {
    r = cio__fault_errno(CIO__FAULT_READ) ? -1 : recvmsg(p->zfd, &m, MSG_CMSG_CLOEXEC);
  } while (r < 0 && errno == EINTR);
  if (r != (ssize_t)sizeof rep) {
    /* The zygote is gone: nothing can be replaced any more. */
    close(p->zfd);
    p->zfd = -1;
    return -EAGAIN;
  }
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  if (rep.err || !c || c->cmsg_type != SCM_RIGHTS) return rep.err ? -rep.err : -EAGAIN;
  memcpy(&w->fd, CMSG_DATA(c), sizeof w->fd);
  w->pid = rep.pid;
  return 0;
}

/* Pool mutex held: take a free worker. One always exists: the executor has
 * one thread per worker. */
static worker *take_worker(cio_procpool *p) {
  for (size_t i = 0; i < p->n; i++) {
    if (!p->workers[i].busy) {
      p->workers[i].busy = true;
      return &p->workers[i];
    }
  }
  return NULL;
}

/* Send the request, read the reply. 1 done, 0 the worker died, -errno for
 * a broken exchange (the worker must be replaced too). */
static int exchange(int fd, pjob *j, int *status) {
  int r = send_full(fd, j->req, j->req_len);
  if (r != 1) return r == 0 ? 0 : -EIO;
  rep_hdr rep;
  r = read_full(fd, &rep, sizeof rep);
  if (r != 1) return r == 0 ? 0 : -EIO;
  *status = rep.status < INT32_MIN || rep.status > INT32_MAX ? -EIO : (int)rep.status;
  if (rep.len) {
    if (!(j->out = cio__malloc((size_t)rep.len))) return -ENOMEM;
    r = read_full(fd, j->out, (size_t)rep.len);
    if (r != 1) return r == 0 ? 0 : -EIO;
    j->out_len = (size_t)rep.len;
  }
  return 1;
}

/* Runs on an executor thread. */
static int pjob_run(void *arg) {
  pjob *j = arg;
  cio_procpool *p = j->pool;
  pthread_mutex_lock(&p->mu);
  worker *w = take_worker(p);
  int status = 0;
  if (!w) {
    pthread_mutex_unlock(&p->mu);
    return -EAGAIN; /* cannot happen: one thread per worker */
  }
  if (p->killing) {
    status = -ECANCELED;
  } else if (w->fd < 0) {
    /* An earlier replacement failed: try again. */
    status = spawn_worker(p, w, 'F', 0);
  }
  int fd = w->fd;
  pthread_mutex_unlock(&p->mu);
  if (status < 0) goto done;

  int r = exchange(fd, j, &status);
  if (r == 1) goto done;
  cio__free(j->out);
  j->out = NULL;
  j->out_len = 0;
  status = r == 0 ? -EOWNERDEAD : r;
  pthread_mutex_lock(&p->mu);
  close(w->fd);
  if (p->killing) {
    status = -ECANCELED;
    w->fd = -1; /* the zygote reaps it at exit */
  } else {
    pid_t old = w->pid;
    spawn_worker(p, w, 'R', old);
    p->replaced++;
  }
  pthread_mutex_unlock(&p->mu);
done:
  pthread_mutex_lock(&p->mu);
  w->busy = false;
  pthread_mutex_unlock(&p->mu);
  return status;
}

static void pjob_free(void *arg) {
  pjob *j = arg;
  cio__free(j->req);
  cio__free(j->out);
  cio__free(j);
}

cio_procpool *cio_procpool_new(size_t nworkers) {
  if (nworkers > CIO__EXEC_MAX_THREADS) {
    errno = EINVAL;
    return NULL;
  }
  if (nworkers == 0) nworkers = (size_t)cio__exec_ncpu();
  cio_procpool *p = cio__calloc(1, sizeof *p);
  worker *ws = cio__calloc(nworkers, sizeof *ws);
  if (!p || !ws) {
    cio__free(p);
    cio__free(ws);
    errno = ENOMEM;
    return NULL;
  }
  p->workers = ws;
  p->n = nworkers;
  p->zfd = -1;
  for (size_t i = 0; i < nworkers; i++) ws[i].fd = -1;
  pthread_mutex_init(&p->mu, NULL);

  int err = 0, sv[2];
  if (cio__fault_errno(CIO__FAULT_SOCKET) ||
      socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
    err = errno;
    goto fail;
  }
  /* The zygote and its workers inherit our stdio buffers, and a worker
   * flushes every stream after each job (so a job's prints come out): what
   * was still buffered here would come out once per worker. Python's
   * multiprocessing flushes before forking for the same reason. */
  fflush(NULL);
  forker f = {sv[1], sv[0], 0, 0};
  pthread_t th;
  err = pthread_create(&th, NULL, forker_main, &f);
  if (err == 0) {
    pthread_join(th, NULL);
    err = f.err;
  }
  close(sv[1]);
  if (err) {
    close(sv[0]);
    goto fail;
  }
  p->zfd = sv[0];
  p->zpid = f.pid;

  pthread_mutex_lock(&p->mu);
  for (size_t i = 0; i < nworkers && !err; i++) err = -spawn_worker(p, &ws[i], 'F', 0);
  pthread_mutex_unlock(&p->mu);
  if (!err && !(p->ex = cio_executor_new(nworkers))) err = errno;
  if (!err) return p;
  cio_procpool_free(p);
  errno = err;
  return NULL;
fail:
  pthread_mutex_destroy(&p->mu);
  cio__free(ws);
  cio__free(p);
  errno = err;
  return NULL;
}

int cio_procpool_run(cio_procpool *pool, cio_proc_fn fn, const void *in, size_t in_len, void **out,
                     size_t *out_len) {
  if (out) *out = NULL;
  if (out_len) *out_len = 0;
  if (!pool || !fn || (in_len && !in)) return -EINVAL;
  pjob *j = cio__calloc(1, sizeof *j);
  if (!j) return -ENOMEM;
  j->pool = pool;
  j->req_len = sizeof(req_hdr) + in_len;
  j->req = cio__malloc(j->req_len);
  if (!j->req) {
    cio__free(j);
    return -ENOMEM;
  }
  req_hdr h = {fn, in_len};
  memcpy(j->req, &h, sizeof h);
  if (in_len) memcpy(j->req + sizeof h, in, in_len);

  int r;
  int e = cio_run_in_executor_ex(pool->ex, pjob_run, j, pjob_free, &r);
  if (e < 0) return e; /* abandoned: j is the pool's to free */
  if (r >= 0 && out) {
    *out = j->out;
    if (out_len) *out_len = j->out_len;
    j->out = NULL;
  }
  pjob_free(j);
  return r;
}

int cio_procpool_shutdown(cio_procpool *pool, int how) {
  if (!pool || how < CIO_EXEC_WAIT || how > CIO_EXEC_KILL) return -EINVAL;
  if (how == CIO_EXEC_KILL) {
    pthread_mutex_lock(&pool->mu);
    pool->killing = true;
    for (size_t i = 0; i < pool->n; i++)
      if (pool->workers[i].busy && pool->workers[i].pid > 0) kill(pool->workers[i].pid, SIGKILL);
    pthread_mutex_unlock(&pool->mu);
    how = CIO_EXEC_CANCEL;
  }
  return cio_executor_shutdown(pool->ex, how);
}

void cio_procpool_free(cio_procpool *pool) {
  if (!pool) return;
  cio_executor_free(pool->ex);
  /* Workers exit on EOF; the zygote, on EOF, waits for them, then exits. */
  for (size_t i = 0; i < pool->n; i++)
    if (pool->workers[i].fd >= 0) close(pool->workers[i].fd);
  if (pool->zfd >= 0) close(pool->zfd);
  if (pool->zpid > 0)
    while (waitpid(pool->zpid, NULL, 0) < 0 && errno == EINTR) {
    }
  pthread_mutex_destroy(&pool->mu);
  cio__free(pool->workers);
  cio__free(pool);
}

size_t cio_procpool_size(const cio_procpool *pool) { return pool->n; }

size_t cio_procpool_replaced(cio_procpool *pool) {
  pthread_mutex_lock(&pool->mu);
  size_t n = pool->replaced;
  pthread_mutex_unlock(&pool->mu);
  return n;
}
