/* process.c - child processes: posix_spawn, pidfd exit watch, pipes as
 * streams, communicate, and a background reaper so no zombie is left.
 *
 * Exit watch. With pidfds the waiting task sleeps in cio_wait_fd(pidfd): the
 * pidfd turns readable when the child exits, then waitpid(pid, WNOHANG)
 * reaps it. Without them (old kernel, seccomp, CIO_NO_PIDFD=1) the loop
 * catches SIGCHLD through signal.c and every waiter re-polls its own pid
 * after each SIGCHLD: a waiter samples the SIGCHLD sequence number before
 * polling, so a SIGCHLD between its poll and its sleep is never missed.
 *
 * Several waiters: one of them (the leader) sleeps on the pidfd/SIGCHLD, the
 * others (followers) sleep on the process; whenever the leader leaves, for
 * any reason, it wakes the followers and one of them takes over.
 *
 * Orphans: a process freed while its child runs gives pid + pidfd to the
 * reaper thread, which polls the pidfds (or, without pidfds, re-polls every
 * 50 ms) and reaps. It exits when nothing is left to watch.
 */
#include "cio/process.h"
#include "cio/wait.h"
#include "io_internal.h"
#include "os_internal.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

enum { RUNNING, REAPED, LOST };

struct follower {
  cio__link link;
  cio_task *task;
};

struct cio_process {
  pid_t pid;
  int pidfd;        /* -1: SIGCHLD fallback */
  bool sigchld_ref; /* fallback: holds an interest in SIGCHLD */
  int state;
  int status;       /* wait status once REAPED */
  cio_task *leader; /* the task sleeping on the exit watch, if any */
  cio__link followers;
  cio_stream *in, *out, *err;
  bool kill_on_free;
  unsigned users; /* tasks inside a call that suspends */
  bool freed;     /* cio_process_free ran: the last user frees */
};

static void enter(cio_process *p) { p->users++; }

/* A task leaves a call it may have suspended in. Returns r, or -EBADF when
 * p was freed meanwhile (the last such task frees its memory). */
static int leave(cio_process *p, int r) {
  bool freed = p->freed;
  if (--p->users == 0 && freed) cio__free(p);
  return freed ? -EBADF : r;
}

static void stream_free(cio_stream *s) {
  if (s) cio_stream_free(s);
}

/* ---- pidfds ---- */

static atomic_int no_pidfd = -1; /* -1 unknown, 0 usable, 1 not available */

static int pidfd_open_(pid_t pid) {
  int no = atomic_load(&no_pidfd);
  if (no < 0) {
    const char *e = getenv("CIO_NO_PIDFD");
    no = e && *e && strcmp(e, "0") != 0;
    atomic_store(&no_pidfd, no);
  }
  if (no) return -ENOSYS;
#ifdef SYS_pidfd_open
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0) return fd;
  int e = errno;
  if (e == ENOSYS || e == EPERM) atomic_store(&no_pidfd, 1); /* kernel < 5.3 or a seccomp filter */
  return -e;
#else
  atomic_store(&no_pidfd, 1);
  return -ENOSYS;
#endif
}

static int pidfd_signal(int pidfd, int signo) {
#ifdef SYS_pidfd_send_signal
  if (syscall(SYS_pidfd_send_signal, pidfd, signo, NULL, 0) == 0) return 0;
  return -errno;
#else
  (void)pidfd;
  (void)signo;
  return -ENOSYS;
#endif
}

/* ---- the reaper thread ---- */

struct orphan {
  pid_t pid;
  int pidfd;
};

static pthread_mutex_t rp_mu = PTHREAD_MUTEX_INITIALIZER;
static struct orphan *rp_v;
static size_t rp_len, rp_cap;
static bool rp_running;
static int rp_efd = -1;

/* Reap what has exited; under rp_mu. Returns whether any entry lacks a pidfd. */
static bool rp_sweep(void) {
  bool polling = false;
  for (size_t i = 0; i < rp_len;) {
    int st;
    pid_t r = waitpid(rp_v[i].pid, &st, WNOHANG);
    if (r == rp_v[i].pid || (r < 0 && errno == ECHILD)) {
      if (rp_v[i].pidfd >= 0) close(rp_v[i].pidfd);
      rp_v[i] = rp_v[--rp_len];
      continue;
    }
    if (rp_v[i].pidfd < 0) polling = true;
    i++;
  }
  return polling;
}

static void *reaper_main(void *unused) {
  (void)unused;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are for the loops */
  struct pollfd *fds = NULL;
  size_t fds_cap = 0;
  for (;;) {
    pthread_mutex_lock(&rp_mu);
    bool polling = rp_sweep();
    if (rp_len == 0) {
      rp_running = false;
      pthread_mutex_unlock(&rp_mu);
      break;
    }
    if (fds_cap < rp_len + 1) {
      struct pollfd *nf = cio__realloc(fds, (rp_len + 1) * sizeof *fds);
      if (!nf) { /* retry later with what we have */
        pthread_mutex_unlock(&rp_mu);
        poll(NULL, 0, 50);
        continue;
      }
      fds = nf;
      fds_cap = rp_len + 1;
    }
    nfds_t n = 0;
    fds[n++] = (struct pollfd){.fd = rp_efd, .events = POLLIN};
    for (size_t i = 0; i < rp_len; i++)
      if (rp_v[i].pidfd >= 0) fds[n++] = (struct pollfd){.fd = rp_v[i].pidfd, .events = POLLIN};
    pthread_mutex_unlock(&rp_mu);
    poll(fds, n, polling ? 50 : -1);
    uint64_t v;
    while (read(rp_efd, &v, sizeof v) > 0) {
    }
  }
  cio__free(fds);
  return NULL;
}

/* Take pid (+ pidfd, owned from now on) and reap it when it exits. */
static int reaper_add(pid_t pid, int pidfd) {
  int r = 0;
  pthread_mutex_lock(&rp_mu);
  if (rp_efd < 0 && (rp_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
    r = -errno;
    goto out;
  }
  if (rp_len == rp_cap) {
    size_t cap = rp_cap ? 2 * rp_cap : 16;
    struct orphan *nv = cio__realloc(rp_v, cap * sizeof *nv);
    if (!nv) {
      r = -ENOMEM;
      goto out;
    }
    rp_v = nv;
    rp_cap = cap;
  }
  rp_v[rp_len++] = (struct orphan){pid, pidfd};
  if (!rp_running) {
    pthread_attr_t a;
    pthread_t th;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&a, 64 * 1024);
    int e = pthread_create(&th, &a, reaper_main, NULL);
    pthread_attr_destroy(&a);
    if (e) {
      rp_len--;
      r = -e;
      goto out;
    }
    rp_running = true;
  } else {
    uint64_t one = 1;
    ssize_t w = write(rp_efd, &one, sizeof one);
    (void)w;
  }
out:
  pthread_mutex_unlock(&rp_mu);
  return r;
}

/* ---- reaping from the loop ---- */

static void release_watch(cio_process *p) {
  if (p->pidfd >= 0) {
    cio_close(p->pidfd); /* it may be registered with the reactor */
    p->pidfd = -1;
  }
  if (p->sigchld_ref) {
    cio__signal_unref(SIGCHLD);
    p->sigchld_ref = false;
  }
}

/* 1 if the child is gone (REAPED or LOST), 0 if it runs, or -errno. */
static int reap(cio_process *p) {
  if (p->state != RUNNING) return 1;
  int st;
  pid_t r;
  do r = waitpid(p->pid, &st, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == 0) return 0;
  if (r == p->pid) {
    p->state = REAPED;
    p->status = st;
  } else if (errno == ECHILD) {
    p->state = LOST;
  } else {
    return -errno;
  }
  /* Reaped by a poll or another waiter's turn: a leader asleep on the watch
   * must look again (closing the pidfd wakes it with -EBADF; the SIGCHLD
   * fallback needs a wake-up). */
  release_watch(p);
  if (p->leader && p->leader != cio_current()) cio_task_wake(p->leader, -EBADF);
  return 1;
}

static int outcome(const cio_process *p) { return p->state == REAPED ? p->status : -ECHILD; }

int cio_process_poll(cio_process *p) {
  if (!p) return -EINVAL;
  int r = reap(p);
  if (r < 0) return r;
  return r ? outcome(p) : -EAGAIN;
}

static void wake_followers(cio_process *p, int code) {
  cio__link *l;
  while ((l = cio__list_pop_front(&p->followers)))
    cio_task_wake(cio__list_entry(l, struct follower, link)->task, code);
}

static int process_wait(cio_process *p) {
  for (bool waited = false;; waited = true) {
    uint64_t seq = p->sigchld_ref ? cio__signal_seq(SIGCHLD) : 0;
    int r = reap(p);
    if (r != 0) {
      if (!waited) { /* done without waiting: still a cancellation point */
        int c = cio_yield();
        if (c < 0) return c;
      }
      return r < 0 ? r : outcome(p);
    }
    if (p->leader) {
      struct follower f;
      f.task = cio_current();
      cio__list_push_back(&p->followers, &f.link);
      r = cio_suspend("process wait");
      cio__list_remove(&f.link);
      if (p->freed) return -EBADF;
      if (r < 0) return r;
      continue;
    }
    p->leader = cio_current();
    if (p->pidfd >= 0)
      r = cio_wait_fd(p->pidfd, CIO_READABLE);
    else
      r = cio__signal_wait_seq(SIGCHLD, seq);
    p->leader = NULL;
    wake_followers(p, 0);
    if (p->freed) return -EBADF;
    if (r == -EBADF && p->state != RUNNING)
      continue; /* reaped under us: the next turn returns the outcome */
    if (r < 0) return r;
  }
}

int cio_process_wait(cio_process *p) {
  if (!p) return -EINVAL;
  if (!cio_current()) return -EPERM;
  enter(p);
  return leave(p, process_wait(p));
}

int cio_process_returncode(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return -WTERMSIG(st);
  return st;
}

int cio_process_send_signal(cio_process *p, int signo) {
  if (!p || signo < 0 || signo >= NSIG) return -EINVAL;
  if (p->state != RUNNING) return -ESRCH;
  if (p->pidfd >= 0) {
    int r = pidfd_signal(p->pidfd, signo);
    if (r != -ENOSYS) return r;
  }
  /* Not reaped yet, so the pid cannot have been recycled. */
  return kill(p->pid, signo) == 0 ? 0 : -errno;
}

int cio_process_terminate(cio_process *p) { return cio_process_send_signal(p, SIGTERM); }
int cio_process_kill(cio_process *p) { return cio_process_send_signal(p, SIGKILL); }

pid_t cio_process_pid(const cio_process *p) { return p ? p->pid : -1; }
cio_stream *cio_process_stdin(cio_process *p) { return p ? p->in : NULL; }
cio_stream *cio_process_stdout(cio_process *p) { return p ? p->out : NULL; }
cio_stream *cio_process_stderr(cio_process *p) { return p ? p->err : NULL; }

int cio_process_close_stdin(cio_process *p) {
  if (!p) return -EINVAL;
  cio_stream *s = p->in;
  if (!s) return 0;
  enter(p);
  int r = cio_stream_flush(s);
  if (p->freed) /* the stream went with p */
    return leave(p, r);
  if (p->in == s) { /* not closed by another task meanwhile */
    p->in = NULL;
    cio_stream_free(s);
  }
  return leave(p, r == -EPIPE || r == -ECONNRESET ? 0 : r);
}

void cio_process_free(cio_process *p) {
  if (!p || p->freed) return;
  p->freed = true;
  stream_free(p->in);
  stream_free(p->out);
  stream_free(p->err);
  p->in = p->out = p->err = NULL;
  /* Tasks waiting in p: a leader on the SIGCHLD fallback needs a wake-up
   * (one on the pidfd gets -EBADF when it is closed below). */
  wake_followers(p, -EBADF);
  if (p->leader) cio_task_wake(p->leader, -EBADF);
  if (reap(p) == 0) {
    if (p->kill_on_free) cio_process_kill(p);
    int fd = p->pidfd;
    if (fd >= 0) cio_fd_forget(fd); /* the reaper polls it now */
    if (reaper_add(p->pid, fd) < 0 && fd >= 0)
      close(fd); /* no memory or thread: a zombie until we exit, no fd leak */
    p->pidfd = -1;
  }
  release_watch(p);
  if (p->users == 0) cio__free(p);
}

/* ---- spawning ---- */

/* An fd for the child at a number >= 3, so that the dup2() onto 0..2 in the
 * child always copies (dup2(fd, fd) would keep close-on-exec set). */
static int high_fd(int fd) {
  if (fd >= 3) return fd;
  int h = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  int e = errno;
  close(fd);
  if (h < 0) return -e;
  return h;
}

struct plumbing {
  int child[3];  /* what the child gets as 0, 1, 2 (-1: inherit) */
  int parent[3]; /* our pipe ends (-1: none) */
};

static void plumbing_close(struct plumbing *pl) {
  for (int i = 0; i < 3; i++) {
    if (pl->child[i] >= 0) close(pl->child[i]);
    if (pl->parent[i] >= 0) close(pl->parent[i]);
    pl->child[i] = pl->parent[i] = -1;
  }
}

static int plumb_one(struct plumbing *pl, int i, const cio_stdio *io) {
  int fd = -1;
  switch (io->mode) {
  case CIO_STDIO_INHERIT:
  case CIO_STDIO_STDOUT: /* a file action, see spawn() */ return 0;
  case CIO_STDIO_PIPE: {
    int pp[2];
    if (cio__fault_errno(CIO__FAULT_SOCKET) || pipe2(pp, O_CLOEXEC) < 0) return -errno;
    pl->parent[i] = i == 0 ? pp[1] : pp[0];
    fd = i == 0 ? pp[0] : pp[1];
    break;
  }
  case CIO_STDIO_DEVNULL:
    fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0) return -errno;
    break;
  case CIO_STDIO_FD:
    if (io->fd < 0) return -EINVAL;
    fd = fcntl(io->fd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) return -errno;
    break;
  default: return -EINVAL;
  }
  fd = high_fd(fd);
  if (fd < 0) return fd;
  pl->child[i] = fd;
  return 0;
}

/* A NULL-terminated copy of a const string list as the char *const[] that
 * the exec family takes (the strings are not copied, nor written). */
static char **strv_dup(const char *const *v) {
  size_t n = 0;
  while (v[n]) n++;
  char **c = cio__malloc((n + 1) * sizeof *c);
  if (c) memcpy(c, v, (n + 1) * sizeof *c);
  return c;
}

static int spawn(const char *const *argv, const cio_process_opts *o, const struct plumbing *pl,
                 pid_t *pid) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  char **av = strv_dup(argv);
  char **ev = o->env ? strv_dup(o->env) : environ;
  int e = (!av || !ev) ? ENOMEM : 0;
  if (e) {
    cio__free(av);
    if (o->env) cio__free(ev);
    return -e;
  }
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&at);
  for (int i = 0; i < 3 && !e; i++)
    if (pl->child[i] >= 0) e = posix_spawn_file_actions_adddup2(&fa, pl->child[i], i);
  if (!e && o->err.mode == CIO_STDIO_STDOUT) e = posix_spawn_file_actions_adddup2(&fa, 1, 2);
  if (!e && o->cwd) e = posix_spawn_file_actions_addchdir_np(&fa, o->cwd);

  /* Start from a clean signal state: nothing blocked, and SIGPIPE/SIGXFSZ
   * at default (cio may have set SIGPIPE to SIG_IGN; Python's
   * restore_signals does the same). Caught signals are reset by exec;
   * other ignored ones stay ignored, as nohup expects. */
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  sigset_t none, def;
  sigemptyset(&none);
  sigemptyset(&def);
  sigaddset(&def, SIGPIPE);
  sigaddset(&def, SIGXFSZ);
  if (o->new_process_group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    if (!e) e = posix_spawnattr_setpgroup(&at, 0);
  }
  if (!e) e = posix_spawnattr_setsigmask(&at, &none);
  if (!e) e = posix_spawnattr_setsigdefault(&at, &def);
  if (!e) e = posix_spawnattr_setflags(&at, flags);
  if (!e) {
    if (strchr(argv[0], '/'))
      e = posix_spawn(pid, argv[0], &fa, &at, av, ev);
    else
      e = posix_spawnp(pid, argv[0], &fa, &at, av, ev);
  }
  posix_spawnattr_destroy(&at);
  posix_spawn_file_actions_destroy(&fa);
  cio__free(av);
  if (o->env) cio__free(ev);
  return -e;
}

int cio_process_spawn(const char *const *argv, const cio_process_opts *opts, cio_process **out) {
  static const cio_process_opts defaults;
  const cio_process_opts *o = opts ? opts : &defaults;
  if (!out) return -EINVAL;
  *out = NULL;
  if (!argv || !argv[0] || !argv[0][0] || o->in.mode == CIO_STDIO_STDOUT ||
      o->out.mode == CIO_STDIO_STDOUT)
    return -EINVAL;
  if (!cio_loop_current()) return -ENOENT;

  struct plumbing pl = {{-1, -1, -1}, {-1, -1, -1}};
  const cio_stdio *ios[3] = {&o->in, &o->out, &o->err};
  int r = 0;
  for (int i = 0; i < 3 && r == 0; i++) r = plumb_one(&pl, i, ios[i]);
  if (r == 0 && o->in.mode == CIO_STDIO_PIPE) r = cio__signal_ignore_sigpipe();

  cio_process *p = r == 0 ? cio__calloc(1, sizeof *p) : NULL;
  if (r == 0 && !p) r = -ENOMEM;
  if (r < 0) {
    plumbing_close(&pl);
    return r;
  }
  p->pidfd = -1;
  p->state = RUNNING;
  p->kill_on_free = o->kill_on_free != 0;
  cio__list_init(&p->followers);

  /* The streams first: once the child runs, nothing may fail any more. */
  cio_stream **ss[3] = {&p->in, &p->out, &p->err};
  for (int i = 0; i < 3 && r == 0; i++) {
    if (pl.parent[i] < 0) continue;
    *ss[i] = cio_stream_new(pl.parent[i], &o->stream);
    if (!*ss[i])
      r = -(errno ? errno : ENOMEM);
    else
      pl.parent[i] = -1; /* the stream owns it */
  }
  if (r == 0) r = spawn(argv, o, &pl, &p->pid);
  plumbing_close(&pl); /* the child's ends (and any parent end left over) */
  if (r < 0) {
    stream_free(p->in);
    stream_free(p->out);
    stream_free(p->err);
    cio__free(p);
    return r;
  }

  int fd = pidfd_open_(p->pid);
  if (fd >= 0) {
    p->pidfd = fd;
  } else if (cio__signal_ref(SIGCHLD) == 0) {
    p->sigchld_ref = true;
  }
  /* else: waits fall back to... nothing would wake them; report it. */
  if (p->pidfd < 0 && !p->sigchld_ref) {
    cio_process_free(p); /* reaps in the background */
    return -EAGAIN;
  }
  *out = p;
  return 0;
}

int cio_process_shell(const char *cmd, const cio_process_opts *opts, cio_process **out) {
  if (!cmd) {
    if (out) *out = NULL;
    return -EINVAL;
  }
  const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
  return cio_process_spawn(argv, opts, out);
}

/* ---- communicate ---- */

struct sink {
  cio_stream **sp; /* in the process: NULL once it is freed */
  bool keep;
  char *buf;
  size_t len, cap;
};

struct comm {
  cio_process *p;
  const void *input;
  size_t len;
  struct sink out, err;
};

/* Feed the input in slices with drain() in between, so that at most about
 * a high-water mark of it is ever copied into the stream. */
static int comm_write(void *arg) {
  struct comm *c = arg;
  const char *in = c->input;
  int r = 0;
  for (size_t off = 0; off < c->len && r == 0;) {
    size_t n = c->len - off < 65536 ? c->len - off : 65536;
    if (!c->p->in) /* closed or freed by another task */
      return -EBADF;
    r = cio_stream_write(c->p->in, in + off, n);
    if (r == 0) r = cio_stream_drain(c->p->in);
    off += n;
  }
  if (c->p->freed) return r < 0 ? r : -EBADF;
  if (r == -EPIPE || r == -ECONNRESET)
    r = 0; /* the child did not read it all: not an error (asyncio agrees) */
  int r2 = cio_process_close_stdin(c->p);
  return r < 0 ? r : r2;
}

static bool sink_init(struct sink *k) {
  k->cap = 65536;
  k->buf = cio__malloc(k->cap);
  return k->buf != NULL;
}

static int comm_read(void *arg) {
  struct sink *k = arg;
  char scratch[4096];
  for (;;) {
    char *dst = scratch;
    size_t room = sizeof scratch;
    if (k->keep) {
      if (k->cap - k->len < 16384) {
        size_t cap = 2 * k->cap;
        char *nb = cio__realloc(k->buf, cap);
        if (!nb) return -ENOMEM;
        k->buf = nb;
        k->cap = cap;
      }
      dst = k->buf + k->len;
      room = k->cap - k->len - 1; /* room for the NUL */
    }
    if (!*k->sp) /* freed by another task */
      return -EBADF;
    ssize_t n = cio_stream_read(*k->sp, dst, room);
    if (n < 0) return (int)n;
    if (n == 0) return 0;
    if (k->keep) k->len += (size_t)n;
  }
}

static void sink_give(struct sink *k, char **buf, size_t *len) {
  if (!buf || !k->buf) return;
  k->buf[k->len] = '\0';
  *buf = k->buf;
  if (len) *len = k->len;
  k->buf = NULL;
}

int cio_process_communicate(cio_process *p, const void *input, size_t len, char **out,
                            size_t *out_len, char **err, size_t *err_len) {
  if (out) *out = NULL;
  if (out_len) *out_len = 0;
  if (err) *err = NULL;
  if (err_len) *err_len = 0;
  if (!p || (len && !input) || (len && !p->in)) return -EINVAL;
  if (!cio_current()) return -EPERM;
  struct comm c = {.p = p, .input = input, .len = len};
  c.out = (struct sink){.sp = &p->out, .keep = out && p->out};
  c.err = (struct sink){.sp = &p->err, .keep = err && p->err};
  if ((c.out.keep && !sink_init(&c.out)) || (c.err.keep && !sink_init(&c.err))) {
    cio__free(c.out.buf);
    return -ENOMEM;
  }

  /* Helpers of this call, always awaited: daemons, so debug mode never
   * lists them as the user's leftovers. */
  static const cio_spawn_opts wo = {.name = "communicate stdin", .daemon = 1};
  static const cio_spawn_opts oo = {.name = "communicate stdout", .daemon = 1};
  static const cio_spawn_opts eo = {.name = "communicate stderr", .daemon = 1};
  cio_task *tasks[3];
  size_t n = 0;
  int r = 0;
  enter(p);
  if (p->in && (tasks[n] = cio_spawn_ex(comm_write, &c, &wo)))
    n++;
  else if (p->in)
    r = -errno;
  if (r == 0 && p->out) {
    if ((tasks[n] = cio_spawn_ex(comm_read, &c.out, &oo)))
      n++;
    else
      r = -errno;
  }
  if (r == 0 && p->err) {
    if ((tasks[n] = cio_spawn_ex(comm_read, &c.err, &eo)))
      n++;
    else
      r = -errno;
  }
  if (r < 0) {
    for (size_t i = 0; i < n; i++) cio_task_cancel(tasks[i]);
  }
  /* gather cancels the siblings of a failure, and all of them when we are
   * cancelled, and always waits for them: c lives on our stack. */
  int g = cio_gather(tasks, n, NULL, 0);
  for (size_t i = 0; i < n; i++) cio_task_release(tasks[i]);
  if (r == 0) r = g;
  if (r == 0) r = p->freed ? -EBADF : process_wait(p);
  r = leave(p, r); /* p may be gone from here */
  if (r >= 0) {
    sink_give(&c.out, out, out_len);
    sink_give(&c.err, err, err_len);
  }
  cio__free(c.out.buf);
  cio__free(c.err.buf);
  return r;
}
