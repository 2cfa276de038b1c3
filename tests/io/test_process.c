/* test_process.c - subprocesses: pipes as streams (echo through cat), exit
 * codes, signals, 10 MiB both ways through communicate, cancelled waits,
 * several waiters, no zombie after free (also for children still running),
 * spawn errors, env/cwd, stdio modes, SIGPIPE. The whole suite runs a second
 * time in a child of itself with CIO_NO_PIDFD=1 (the SIGCHLD fallback).
 * cio-test-labels: threads noqemu
 */
#include "test.h"
#include "test_loop.h"

#include <cio.h>
#include <cio/process.h>
#include <cio/stream.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The state letter of pid in /proc ('Z' for a zombie), 0 once it is gone. */
static char proc_state(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  return p && p[1] == ' ' ? p[2] : '?';
}

/* Wait (loop running) up to ~5 s for pid to vanish from /proc: reaped. */
static int gone_soon(pid_t pid) {
  for (int i = 0; i < 500; i++) {
    if (proc_state(pid) == 0) return 1;
    cio_sleep(0.01);
  }
  return 0;
}

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  if (!d) return -1;
  while (readdir(d)) n++;
  closedir(d);
  return n;
}

static const cio_stdio PIPE = {CIO_STDIO_PIPE, 0};

LOOP_TEST(test_echo_cat) {
  const char *argv[] = {"cat", NULL};
  cio_process_opts o = {.in = PIPE, .out = PIPE};
  cio_process *p;
  CHECK_EQ(cio_process_spawn(argv, &o, &p), 0);
  CHECK(cio_process_pid(p) > 0);
  CHECK(cio_process_stdin(p) != NULL);
  CHECK(cio_process_stdout(p) != NULL);
  CHECK(cio_process_stderr(p) == NULL);
  char line[64];
  for (int i = 0; i < 3; i++) {
    char msg[32];
    int len = snprintf(msg, sizeof msg, "hello %d\n", i);
    CHECK_EQ(cio_stream_write(cio_process_stdin(p), msg, (size_t)len), 0);
    CHECK_EQ(cio_stream_drain(cio_process_stdin(p)), 0);
    ssize_t n = cio_stream_readline(cio_process_stdout(p), line, sizeof line);
    CHECK_EQ(n, len);
    CHECK(n == len && memcmp(line, msg, (size_t)len) == 0);
  }
  CHECK_EQ(cio_process_poll(p), -EAGAIN);
  CHECK_EQ(cio_process_close_stdin(p), 0);
  CHECK(cio_process_stdin(p) == NULL);
  CHECK_EQ(cio_stream_read(cio_process_stdout(p), line, sizeof line), 0); /* EOF */
  int st = cio_process_wait(p);
  CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  CHECK_EQ(cio_process_wait(p), st); /* the same again */
  CHECK_EQ(cio_process_poll(p), st);
  cio_process_free(p);
  return 0;
}

LOOP_TEST(test_exit_codes) {
  static const struct {
    const char *cmd;
    int code;
  } cases[] = {{"exit 0", 0}, {"exit 3", 3}, {"exit 255", 255}, {"false", 1}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cio_process *p;
    CHECK_EQ(cio_process_shell(cases[i].cmd, NULL, &p), 0);
    int st = cio_process_wait(p);
    CHECK(st >= 0 && WIFEXITED(st));
    CHECK_EQ(cio_process_returncode(st), cases[i].code);
    cio_process_free(p);
  }
  /* PATH search and an absolute path. */
  const char *t1[] = {"true", NULL}, *t2[] = {"/bin/false", NULL};
  cio_process *p;
  CHECK_EQ(cio_process_spawn(t1, NULL, &p), 0);
  CHECK_EQ(cio_process_returncode(cio_process_wait(p)), 0);
  cio_process_free(p);
  CHECK_EQ(cio_process_spawn(t2, NULL, &p), 0);
  CHECK_EQ(cio_process_returncode(cio_process_wait(p)), 1);
  cio_process_free(p);
  return 0;
}

LOOP_TEST(test_signals) {
  const char *argv[] = {"sleep", "10", NULL};
  cio_process *p;
  double t0 = now_s();
  CHECK_EQ(cio_process_spawn(argv, NULL, &p), 0);
  cio_sleep(0.05);
  CHECK_EQ(cio_process_poll(p), -EAGAIN);
  CHECK_EQ(cio_process_terminate(p), 0);
  int st = cio_process_wait(p);
  CHECK(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
  CHECK_EQ(cio_process_returncode(st), -SIGTERM);
  CHECK(now_s() - t0 < 5);               /* loose: far below sleep's 10 s */
  CHECK_EQ(cio_process_kill(p), -ESRCH); /* reaped: no stray signal */
  CHECK_EQ(cio_process_send_signal(p, -1), -EINVAL);
  cio_process_free(p);

  CHECK_EQ(cio_process_spawn(argv, NULL, &p), 0);
  CHECK_EQ(cio_process_send_signal(p, 0), 0); /* alive */
  CHECK_EQ(cio_process_kill(p), 0);
  st = cio_process_wait(p);
  CHECK(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  cio_process_free(p);
  return 0;
}

LOOP_TEST(test_big_both_ways) {
  /* 10 MiB in and out of cat at once: without concurrency the pipes fill
   * up and both sides block. */
  size_t n = 10u << 20;
  char *in = malloc(n);
  CHECK(in != NULL);
  if (!in) return 0;
  for (size_t i = 0; i < n; i++) in[i] = (char)(i * 2654435761u >> 13);
  const char *argv[] = {"cat", NULL};
  cio_process_opts o = {.in = PIPE, .out = PIPE, .err = PIPE};
  cio_process *p;
  CHECK_EQ(cio_process_spawn(argv, &o, &p), 0);
  char *out = NULL, *err = NULL;
  size_t out_len = 1, err_len = 1;
  int st = cio_process_communicate(p, in, n, &out, &out_len, &err, &err_len);
  CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  CHECK_EQ(out_len, n);
  CHECK(out && out_len == n && memcmp(out, in, n) == 0);
  CHECK(err != NULL);
  CHECK_EQ(err_len, 0);
  free(out);
  free(err);
  cio_process_free(p);
  free(in);
  return 0;
}

LOOP_TEST(test_communicate) {
  cio_process_opts o = {.in = PIPE, .out = PIPE, .err = PIPE};
  cio_process *p;
  CHECK_EQ(cio_process_shell("cat; echo oops >&2; exit 5", &o, &p), 0);
  char *out, *err;
  size_t out_len, err_len;
  int st = cio_process_communicate(p, "abc", 3, &out, &out_len, &err, &err_len);
  CHECK_EQ(cio_process_returncode(st), 5);
  CHECK_STR(out, "abc");
  CHECK_EQ(out_len, 3);
  CHECK_STR(err, "oops\n");
  CHECK_EQ(err_len, 5);
  free(out);
  free(err);
  cio_process_free(p);

  /* Unwanted output is read and dropped (no deadlock on a full pipe), no
   * input: stdin just gets EOF. */
  CHECK_EQ(cio_process_shell("head -c 1000000 /dev/zero; cat", &o, &p), 0);
  st = cio_process_communicate(p, NULL, 0, NULL, NULL, &err, &err_len);
  CHECK_EQ(cio_process_returncode(st), 0);
  CHECK_STR(err, "");
  free(err);
  cio_process_free(p);

  /* A child that does not read its input: EPIPE is not an error. */
  CHECK_EQ(cio_process_shell("exit 0", &o, &p), 0);
  char *big = calloc(1, 1 << 20);
  st = cio_process_communicate(p, big, 1 << 20, &out, &out_len, NULL, NULL);
  CHECK_EQ(cio_process_returncode(st), 0);
  CHECK_EQ(out_len, 0);
  free(out);
  free(big);
  cio_process_free(p);

  /* Input without a stdin pipe. */
  cio_process_opts o2 = {.out = PIPE};
  CHECK_EQ(cio_process_shell("exit 0", &o2, &p), 0);
  CHECK_EQ(cio_process_communicate(p, "x", 1, &out, &out_len, NULL, NULL), -EINVAL);
  CHECK(out == NULL);
  CHECK_EQ(cio_process_returncode(cio_process_wait(p)), 0);
  cio_process_free(p);
  return 0;
}

struct comm_arg {
  cio_process *p;
  char *out;
  size_t out_len;
  int r;
};

static int comm_task(void *arg) {
  struct comm_arg *a = arg;
  a->r = cio_process_communicate(a->p, NULL, 0, &a->out, &a->out_len, NULL, NULL);
  return 0;
}

LOOP_TEST(test_communicate_cancelled) {
  cio_process_opts o = {.in = PIPE, .out = PIPE};
  struct comm_arg a = {0};
  CHECK_EQ(cio_process_shell("echo partial; exec sleep 10", &o, &a.p), 0);
  cio_task *t = cio_spawn(comm_task, &a);
  cio_sleep(0.1);
  cio_task_cancel(t);
  CHECK_EQ(cio_await(t), 0);
  cio_task_release(t);
  CHECK_EQ(a.r, -ECANCELED);
  CHECK(a.out == NULL);
  CHECK_EQ(cio_process_kill(a.p), 0); /* the child kept running */
  int st = cio_process_wait(a.p);
  CHECK(st >= 0 && WIFSIGNALED(st));
  pid_t pid = cio_process_pid(a.p);
  cio_process_free(a.p);
  CHECK_EQ(proc_state(pid), 0);
  return 0;
}

static int wait_task(void *arg) {
  cio_process *p = arg;
  return cio_process_wait(p);
}

LOOP_TEST(test_cancelled_wait_then_free_no_zombie) {
  const char *argv[] = {"sleep", "0.3", NULL};
  cio_process *p;
  CHECK_EQ(cio_process_spawn(argv, NULL, &p), 0);
  pid_t pid = cio_process_pid(p);

  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 0.05);
  CHECK_EQ(cio_process_wait(p), -ETIMEDOUT);
  cio_timeout_end(&sc);

  cio_task *t = cio_spawn(wait_task, p);
  cio_sleep(0.02);
  cio_task_cancel(t);
  CHECK_EQ(cio_await(t), -ECANCELED);
  cio_task_release(t);

  cio_process_free(p); /* still running: left running, reaped in the background */
  char s = proc_state(pid);
  CHECK(s != 0 && s != 'Z');
  CHECK(gone_soon(pid));
  errno = 0;
  CHECK_EQ(waitpid(pid, NULL, WNOHANG), -1);
  CHECK_EQ(errno, ECHILD);
  return 0;
}

LOOP_TEST(test_free_exited_and_kill_on_free) {
  /* Exited, never waited for: free reaps it. */
  cio_process *p;
  CHECK_EQ(cio_process_shell("exit 0", NULL, &p), 0);
  pid_t pid = cio_process_pid(p);
  for (int i = 0; i < 500 && proc_state(pid) != 'Z'; i++) cio_sleep(0.01);
  CHECK_EQ(proc_state(pid), 'Z');
  cio_process_free(p);
  CHECK_EQ(proc_state(pid), 0);

  /* Many orphans at once, some still running at free. */
  pid_t pids[20];
  for (int i = 0; i < 20; i++) {
    char cmd[32];
    snprintf(cmd, sizeof cmd, "sleep 0.%d", i % 3);
    CHECK_EQ(cio_process_shell(cmd, NULL, &p), 0);
    pids[i] = cio_process_pid(p);
    cio_process_free(p);
  }
  for (int i = 0; i < 20; i++) CHECK(gone_soon(pids[i]));

  /* kill_on_free. */
  cio_process_opts o = {.kill_on_free = 1};
  const char *argv[] = {"sleep", "10", NULL};
  double t0 = now_s();
  CHECK_EQ(cio_process_spawn(argv, &o, &p), 0);
  pid = cio_process_pid(p);
  cio_process_free(p);
  CHECK(gone_soon(pid));
  CHECK(now_s() - t0 < 5); /* loose */
  return 0;
}

struct multi {
  cio_process *p;
  int r;
};

static int multi_wait(void *arg) {
  struct multi *m = arg;
  m->r = cio_process_wait(m->p);
  return 0;
}

LOOP_TEST(test_several_waiters) {
  cio_process *p;
  CHECK_EQ(cio_process_shell("sleep 0.2; exit 7", NULL, &p), 0);
  struct multi m[4];
  cio_task *t[4];
  for (int i = 0; i < 4; i++) {
    m[i] = (struct multi){p, 1};
    t[i] = cio_spawn(multi_wait, &m[i]);
  }
  cio_sleep(0.05);
  cio_task_cancel(t[0]); /* the leader leaves: another one takes over */
  cio_task_cancel(t[2]);
  for (int i = 0; i < 4; i++) {
    CHECK_EQ(cio_await(t[i]), 0);
    cio_task_release(t[i]);
  }
  CHECK_EQ(m[0].r, -ECANCELED);
  CHECK_EQ(m[2].r, -ECANCELED);
  CHECK_EQ(cio_process_returncode(m[1].r), 7);
  CHECK_EQ(cio_process_returncode(m[3].r), 7);
  cio_process_free(p);

  /* A poll that reaps the child while a task waits: the waiter gets the
   * status too. */
  CHECK_EQ(cio_process_shell("sleep 0.1; exit 4", NULL, &p), 0);
  m[0] = (struct multi){p, 1};
  t[0] = cio_spawn(multi_wait, &m[0]);
  int st = -EAGAIN;
  for (int i = 0; i < 500 && st == -EAGAIN; i++) {
    cio_sleep(0.01);
    st = cio_process_poll(p);
  }
  CHECK_EQ(cio_process_returncode(st), 4);
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 5);
  CHECK_EQ(cio_await(t[0]), 0);
  CHECK_EQ(cio_timeout_end(&sc), 0);
  cio_task_release(t[0]);
  CHECK_EQ(m[0].r, st);
  cio_process_free(p);
  return 0;
}

LOOP_TEST(test_spawn_errors) {
  int fds = count_fds();
  cio_process *p = (cio_process *)1;
  const char *a1[] = {"/nonexistent/program", NULL};
  cio_process_opts o = {.in = PIPE, .out = PIPE, .err = PIPE};
  CHECK_EQ(cio_process_spawn(a1, &o, &p), -ENOENT);
  CHECK(p == NULL);
  const char *a2[] = {"cio-no-such-program-xyz", NULL};
  CHECK_EQ(cio_process_spawn(a2, &o, &p), -ENOENT);
  const char *a3[] = {"/etc/passwd", NULL}; /* not executable */
  CHECK_EQ(cio_process_spawn(a3, NULL, &p), -EACCES);
  cio_process_opts bad_cwd = {.cwd = "/nonexistent/dir"};
  const char *a4[] = {"true", NULL};
  CHECK_EQ(cio_process_spawn(a4, &bad_cwd, &p), -ENOENT);
  CHECK_EQ(cio_process_spawn(NULL, NULL, &p), -EINVAL);
  const char *empty[] = {NULL};
  CHECK_EQ(cio_process_spawn(empty, NULL, &p), -EINVAL);
  cio_process_opts bad_mode = {.out = {CIO_STDIO_STDOUT, 0}};
  CHECK_EQ(cio_process_spawn(a4, &bad_mode, &p), -EINVAL);
  cio_process_opts bad_fd = {.out = {CIO_STDIO_FD, -1}};
  CHECK_EQ(cio_process_spawn(a4, &bad_fd, &p), -EINVAL);
  CHECK_EQ(count_fds(), fds); /* nothing leaked on the error paths */
  return 0;
}

static void test_no_loop(void) {
  const char *a[] = {"true", NULL};
  cio_process *p;
  CHECK_EQ(cio_process_spawn(a, NULL, &p), -ENOENT);
}

LOOP_TEST(test_env_cwd) {
  const char *env[] = {"CIO_TEST_FOO=bar baz", "PATH=/usr/bin:/bin", NULL};
  cio_process_opts o = {.out = PIPE, .env = env, .cwd = "/tmp"};
  cio_process *p;
  CHECK_EQ(cio_process_shell("echo \"$CIO_TEST_FOO\"; pwd; echo \"${HOME-unset}\"", &o, &p), 0);
  char *out;
  size_t len;
  int st = cio_process_communicate(p, NULL, 0, &out, &len, NULL, NULL);
  CHECK_EQ(cio_process_returncode(st), 0);
  CHECK_STR(out, "bar baz\n/tmp\nunset\n");
  free(out);
  cio_process_free(p);
  return 0;
}

LOOP_TEST(test_stdio_modes) {
  cio_process *p;
  char *out;
  size_t len;
  /* 2>&1 into the stdout pipe. */
  cio_process_opts merge = {.out = PIPE, .err = {CIO_STDIO_STDOUT, 0}};
  CHECK_EQ(cio_process_shell("echo a; echo b >&2; echo c", &merge, &p), 0);
  CHECK(cio_process_stderr(p) == NULL);
  int st = cio_process_communicate(p, NULL, 0, &out, &len, NULL, NULL);
  CHECK_EQ(cio_process_returncode(st), 0);
  CHECK_STR(out, "a\nb\nc\n");
  free(out);
  cio_process_free(p);

  /* /dev/null in and out: the child reads EOF at once, its output vanishes. */
  cio_process_opts null = {
      .in = {CIO_STDIO_DEVNULL, 0}, .out = {CIO_STDIO_DEVNULL, 0}, .err = PIPE};
  CHECK_EQ(cio_process_shell("cat; echo gone; echo kept >&2", &null, &p), 0);
  CHECK(cio_process_stdout(p) == NULL);
  char *err;
  st = cio_process_communicate(p, NULL, 0, &out, &len, &err, NULL);
  CHECK_EQ(cio_process_returncode(st), 0);
  CHECK(out == NULL); /* not a pipe */
  CHECK_STR(err, "kept\n");
  free(err);
  cio_process_free(p);

  /* An fd of ours as the child's stdout; ours stays open (borrowed). */
  int pp[2];
  CHECK_EQ(pipe(pp), 0);
  cio_process_opts fd = {.out = {CIO_STDIO_FD, pp[1]}};
  CHECK_EQ(cio_process_shell("echo via-fd", &fd, &p), 0);
  CHECK_EQ(cio_process_returncode(cio_process_wait(p)), 0);
  cio_process_free(p);
  CHECK(fcntl(pp[1], F_GETFD) >= 0);
  close(pp[1]);
  char buf[32] = {0};
  CHECK_EQ(read(pp[0], buf, sizeof buf - 1), 7);
  CHECK_STR(buf, "via-fd\n");
  close(pp[0]);

  /* No child inherits another one's pipes: p2, spawned while p1's stdin
   * pipe is open, must not hold its write end, or p1 would never see EOF. */
  cio_process_opts o = {.in = PIPE, .out = PIPE};
  cio_process *p1, *p2;
  const char *cat[] = {"cat", NULL}, *slp[] = {"sleep", "10", NULL};
  CHECK_EQ(cio_process_spawn(cat, &o, &p1), 0);
  CHECK_EQ(cio_process_spawn(slp, NULL, &p2), 0);
  CHECK_EQ(cio_process_close_stdin(p1), 0);
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 5);
  CHECK_EQ(cio_stream_read(cio_process_stdout(p1), buf, sizeof buf), 0);
  CHECK_EQ(cio_process_returncode(cio_process_wait(p1)), 0);
  CHECK_EQ(cio_timeout_end(&sc), 0);
  cio_process_kill(p2);
  cio_process_wait(p2);
  cio_process_free(p1);
  cio_process_free(p2);
  return 0;
}

LOOP_TEST(test_sigpipe) {
  /* Writing to a child that has exited fails with -EPIPE instead of
   * killing us with SIGPIPE. */
  cio_process_opts o = {.in = PIPE};
  cio_process *p;
  CHECK_EQ(cio_process_shell("exit 0", &o, &p), 0);
  CHECK_EQ(cio_process_returncode(cio_process_wait(p)), 0);
  char buf[4096] = {0};
  int r = cio_stream_write(cio_process_stdin(p), buf, sizeof buf);
  if (r == 0) r = cio_stream_flush(cio_process_stdin(p));
  CHECK_EQ(r, -EPIPE);
  CHECK_EQ(cio_process_close_stdin(p), 0);
  cio_process_free(p);
  /* The child itself gets SIGPIPE back at default. */
  cio_process_opts o2 = {.out = PIPE};
  CHECK_EQ(cio_process_shell("trap - PIPE; kill -s PIPE $$; exit 0", &o2, &p), 0);
  int st = cio_process_communicate(p, NULL, 0, NULL, NULL, NULL, NULL);
  CHECK(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE);
  cio_process_free(p);
  return 0;
}

LOOP_TEST(test_new_process_group) {
  cio_process_opts o = {.new_process_group = 1};
  const char *argv[] = {"sleep", "10", NULL};
  cio_process *p;
  CHECK_EQ(cio_process_spawn(argv, &o, &p), 0);
  CHECK_EQ(getpgid(cio_process_pid(p)), cio_process_pid(p));
  CHECK(getpgid(cio_process_pid(p)) != getpgid(0));
  CHECK_EQ(cio_process_kill(p), 0);
  CHECK(cio_process_wait(p) >= 0);
  cio_process_free(p);
  return 0;
}

/* The whole suite again in a child with the SIGCHLD fallback, spawned and
 * checked through the API under test. */
LOOP_TEST(test_fallback_mode) {
  const char *argv[] = {"/proc/self/exe", NULL};
  /* /proc/self/exe resolves in the child, after exec: our own binary. */
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  CHECK(n > 0);
  if (n <= 0) return 0;
  exe[n] = '\0';
  argv[0] = exe;
  extern char **environ;
  size_t ne = 0;
  while (environ[ne]) ne++;
  const char **env = calloc(ne + 2, sizeof *env);
  for (size_t i = 0; i < ne; i++) env[i] = environ[i];
  env[ne] = "CIO_NO_PIDFD=1";
  cio_process_opts o = {.out = PIPE, .err = {CIO_STDIO_STDOUT, 0}, .env = env};
  cio_process *p;
  CHECK_EQ(cio_process_spawn(argv, &o, &p), 0);
  char *out;
  size_t len;
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 60);
  int st = cio_process_communicate(p, NULL, 0, &out, &len, NULL, NULL);
  cio_timeout_end(&sc);
  CHECK_EQ(cio_process_returncode(st), 0);
  CHECK(out && strstr(out, " 0 failed"));
  if (st != 0)
    fprintf(stderr, "fallback run: status %d (%s)\n%s", st, st < 0 ? cio_strerror(st) : "",
            out ? out : "");
  free(out);
  free(env);
  cio_process_free(p);
  return 0;
}

/* Half-closing the stdin stream (a pipe) gives the child its EOF. */
static int half_close_main(void *arg) {
  (void)arg;
  const char *argv[] = {"cat", NULL};
  cio_process_opts o = {.in = {CIO_STDIO_PIPE}, .out = {CIO_STDIO_PIPE}};
  cio_process *p = NULL;
  CHECK_EQ(cio_process_spawn(argv, &o, &p), 0);
  if (!p) return -1;
  cio_stream *in = cio_process_stdin(p), *out = cio_process_stdout(p);
  CHECK_EQ(cio_stream_write(in, "abc\n", 4), 0);
  CHECK_EQ(cio_stream_shutdown_write(in), 0);
  CHECK_EQ(cio_stream_shutdown_write(in), 0); /* idempotent */
  char buf[16];
  CHECK_EQ(cio_stream_readline(out, buf, sizeof buf), 4);
  CHECK_EQ(cio_stream_read(out, buf, sizeof buf), 0); /* cat saw EOF and exited */
  int st = cio_process_wait(p);
  CHECK_EQ(cio_process_returncode(st), 0);
  /* The read end of a pipe cannot be half-closed. */
  CHECK_EQ(cio_stream_shutdown_write(out), -ENOTSOCK);
  cio_process_free(p);
  return 0;
}

static void test_stdin_half_close(void) { CHECK_EQ(cio_run(half_close_main, NULL), 0); }

int main(void) {
  int fallback = getenv("CIO_NO_PIDFD") != NULL;
  if (fallback) printf("(SIGCHLD fallback mode)\n");
  RUN(test_no_loop);
  RUN(test_echo_cat);
  RUN(test_exit_codes);
  RUN(test_signals);
  RUN(test_big_both_ways);
  RUN(test_communicate);
  RUN(test_communicate_cancelled);
  RUN(test_cancelled_wait_then_free_no_zombie);
  RUN(test_free_exited_and_kill_on_free);
  RUN(test_several_waiters);
  RUN(test_spawn_errors);
  RUN(test_env_cwd);
  RUN(test_stdio_modes);
  RUN(test_sigpipe);
  RUN(test_new_process_group);
#if defined(__SANITIZE_THREAD__)
  /* ThreadSanitizer defers signal handlers to the thread's next intercepted
   * call; the loop thread sleeps in a raw epoll_pwait2 syscall, the only
   * thread SIGCHLD can go to (pool and reaper threads block signals), so
   * the fallback would wait for its SIGCHLD for good. Not a cio problem. */
  fallback = 1;
#endif
  if (!fallback) RUN(test_fallback_mode);
  RUN(test_stdin_half_close);
  return test_report();
}
