/* cio/process.h - child processes with asynchronous pipes (asyncio's
 * create_subprocess_exec / create_subprocess_shell).
 *
 *   const char *argv[] = {"ls", "-l", NULL};
 *   cio_process_opts o = {.out = {CIO_STDIO_PIPE}};
 *   cio_process *p;
 *   if (cio_process_spawn(argv, &o, &p) == 0) {
 *     char line[256];
 *     ssize_t n;
 *     while ((n = cio_stream_readline(cio_process_stdout(p), line, sizeof line)) > 0)
 *       fwrite(line, 1, (size_t)n, stdout);
 *     int st = cio_process_wait(p);         // a wait status: WEXITSTATUS(st)
 *     cio_process_free(p);
 *   }
 *
 * Spawning uses posix_spawn (vfork-like, safe in threaded programs). The
 * child starts with an empty signal mask and SIGPIPE/SIGXFSZ at their
 * defaults (handlers are reset by exec anyway; other ignored signals stay
 * ignored, as nohup expects, like Python's restore_signals), and inherits no
 * descriptor of the parent except 0, 1 and 2 as configured (cio opens
 * everything close-on-exec; descriptors the application opened without
 * O_CLOEXEC are inherited as with any exec).
 *
 * Exit. Each child is watched through a pidfd (pidfd_open, Linux 5.3+), so
 * waiting costs nothing but an fd in the reactor. Without pidfds (an older
 * kernel or a seccomp filter: pidfd_open fails with ENOSYS/EPERM; or
 * CIO_NO_PIDFD=1 in the environment, for tests) cio catches SIGCHLD through
 * cio/signal.h (so SIGCHLD is caught while such children are alive) and
 * polls its own children with waitpid(pid, WNOHANG) after each one: it never
 * reaps children it did not spawn.
 *
 * No zombies. A child is reaped by whichever comes first: a wait, a
 * cio_process_poll() that sees it exited, or cio_process_free(). Freeing a
 * process whose child still runs leaves the child running (unless
 * kill_on_free) and hands it to a process-wide reaper thread (started on
 * demand, exits when it has nothing to watch) that reaps it when it exits.
 * The same holds when the loop closes: children are independent of loops.
 *
 * SIGPIPE. Writing to the stdin pipe of a child that exited must fail with
 * -EPIPE, not kill the parent: the first spawn with a stdin pipe sets
 * SIGPIPE to SIG_IGN if it was at SIG_DFL (as Python does at start-up).
 *
 * All calls are loop-thread only. Link with cio-io.
 */
#ifndef CIO_PROCESS_H
#define CIO_PROCESS_H

#include "stream.h"

#include <sys/types.h>
#include <sys/wait.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_process cio_process;

typedef enum cio_stdio_mode {
  CIO_STDIO_INHERIT = 0, /* the parent's own descriptor */
  CIO_STDIO_PIPE,        /* a pipe; the parent's end is a cio_stream */
  CIO_STDIO_DEVNULL,     /* /dev/null */
  CIO_STDIO_FD,          /* the descriptor in .fd (borrowed, dup'ed into the child) */
  CIO_STDIO_STDOUT       /* stderr only: the same as the child's stdout (2>&1) */
} cio_stdio_mode;

typedef struct cio_stdio {
  cio_stdio_mode mode;
  int fd; /* CIO_STDIO_FD only */
} cio_stdio;

typedef struct cio_process_opts {
  cio_stdio in, out, err; /* stdin, stdout, stderr; zeroed = inherit */
  const char *cwd;        /* working directory of the child; NULL = ours */
  const char *const *env; /* "NAME=value" list, NULL-terminated; NULL = ours */
  int new_process_group;  /* the child leads a new process group (setpgid) */
  int kill_on_free;       /* cio_process_free() sends SIGKILL to a running child */
  cio_stream_opts stream; /* options of the pipe streams */
} cio_process_opts;

/* Start argv[0] with arguments argv (NULL-terminated; copied as needed).
 * argv[0] without a '/' is searched in PATH (this process's PATH, also when
 * opts->env is given), like execvp. opts may be NULL (everything inherited).
 * On success *out owns the process; free it with cio_process_free().
 * Returns 0, -ENOENT (no such program), -EACCES (not executable), -ENOTDIR,
 * -EINVAL (bad argv/opts), -ENOMEM, -EMFILE, or another -errno from the
 * spawn; an error of the cwd change in the child is reported likewise.
 * Never suspends. */
CIO_API int cio_process_spawn(const char *const *argv, const cio_process_opts *opts,
                              cio_process **out);

/* create_subprocess_shell: /bin/sh -c cmd (copied as needed). Same returns
 * (-EINVAL for cmd NULL). Never suspends. */
CIO_API int cio_process_shell(const char *cmd, const cio_process_opts *opts, cio_process **out);

/* Suspend until the child has exited; return its wait status (>= 0: decode
 * with WIFEXITED/WEXITSTATUS, WIFSIGNALED/WTERMSIG from <sys/wait.h>), or
 * -ECANCELED / -ETIMEDOUT (the child keeps running; wait again or free), or
 * -ECHILD if the child was reaped behind cio's back (SIGCHLD set to SIG_IGN,
 * or someone called waitpid(-1)), -EBADF if p is freed meanwhile, -EINVAL
 * (p NULL), -EPERM outside a task. After the first success every call
 * returns the same status. Several tasks may wait at once. May suspend. */
CIO_API int cio_process_wait(cio_process *p);

/* Without waiting: the wait status (>= 0) if the child has exited (it is
 * reaped now), -EAGAIN while it runs, -ECHILD as above. Never suspends. */
CIO_API int cio_process_poll(cio_process *p);

/* The exit code asyncio would report, from a wait status: the code for a
 * normal exit, -signo for a child killed by a signal (NOT an errno). Any
 * thread; never suspends. */
CIO_API int cio_process_returncode(int wait_status);

/* Send a signal (pidfd_send_signal where available, so a recycled pid is
 * never hit). Returns 0, -ESRCH once the child has been reaped, -EINVAL, or
 * another -errno. terminate = SIGTERM, kill = SIGKILL. Never suspends. */
CIO_API int cio_process_send_signal(cio_process *p, int signo);
CIO_API int cio_process_terminate(cio_process *p);
CIO_API int cio_process_kill(cio_process *p);

/* The child's pid (-1 for p NULL). Never suspends. */
CIO_API pid_t cio_process_pid(const cio_process *p);

/* The parent's ends of the pipes (CIO_STDIO_PIPE), borrowed: valid until
 * cio_process_free() or the matching close call; NULL when not a pipe.
 * Never suspend. */
CIO_API cio_stream *cio_process_stdin(cio_process *p);
CIO_API cio_stream *cio_process_stdout(cio_process *p);
CIO_API cio_stream *cio_process_stderr(cio_process *p);

/* Flush what is buffered for the child's stdin, then close the pipe so the
 * child reads EOF (asyncio's stdin.close()). A child that already exited
 * (-EPIPE) is not an error. Returns 0 (also when stdin is not a pipe or is
 * closed already), -ECANCELED / -ETIMEDOUT (the pipe is then closed anyway,
 * unflushed bytes dropped), -EBADF if p is freed meanwhile, or -errno.
 * May suspend. */
CIO_API int cio_process_close_stdin(cio_process *p);

/* asyncio's communicate(): write input (len bytes, may be 0 / NULL; the
 * stdin pipe is closed afterwards), read stdout and stderr to EOF, and wait
 * for the exit, all at once so that no pipe can fill up and deadlock,
 * however big the data either way. Output goes into malloc'd buffers
 * (*out / *err, NUL-terminated for convenience, lengths without the NUL;
 * the caller frees them). Pass NULL for a stream you do not want: it is
 * still read and discarded. A stream that is not a pipe yields NULL / 0.
 * Returns the wait status (>= 0) or an error (-ECANCELED, -ETIMEDOUT,
 * -ENOMEM, an I/O error, -EBADF if p is freed meanwhile); on error nothing
 * is returned in the buffers (set to NULL / 0) and the child keeps
 * running. input is borrowed for the call. May suspend. */
CIO_API int cio_process_communicate(cio_process *p, const void *input, size_t len, char **out,
                                    size_t *out_len, char **err, size_t *err_len);

/* Close the pipes (freeing their streams), reap the child if it has exited,
 * otherwise hand it to the background reaper (after SIGKILL when
 * kill_on_free was set), and free p. Tasks suspended in a call on p (wait,
 * communicate, close_stdin, a read or write on one of its streams) get
 * -EBADF and must not touch p or its streams again. Allowed also after p's
 * loop has closed. Never suspends. NULL is a no-op. Every process must be
 * freed: one never freed stays a zombie once it exits. (There is no
 * cio_process_close: a process is not closed, it exits; see
 * cio_process_close_stdin for the pipe.) */
CIO_API void cio_process_free(cio_process *p);

#ifdef __cplusplus
}
#endif
#endif
