/* 16_subprocess - subprocesses: two commands at once, output line by line, exit codes, a timeout.
 *
 * Tutorial 004 ("Python coroutines: an introduction") lists subprocesses
 * among what asyncio runs without blocking. This is asyncio's documentation
 * example for them:
 *
 *   async def run(cmd):
 *       proc = await asyncio.create_subprocess_shell(
 *           cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
 *       stdout, stderr = await proc.communicate()
 *       print(f'[{cmd!r} exited with {proc.returncode}]')
 *       if stdout:
 *           print(f'[stdout]\n{stdout.decode()}')
 *       if stderr:
 *           print(f'[stderr]\n{stderr.decode()}')
 *
 *   async def main():
 *       await asyncio.gather(run('ls /zzz'), run('sleep 1; echo "hello"'))
 *
 * followed by the same documentation's line-by-line reading
 *
 *   proc = await asyncio.create_subprocess_exec(*cmd, stdout=PIPE)
 *   while line := await proc.stdout.readline():
 *       print(line.decode().rstrip())
 *   await proc.wait()
 *
 * and a command that outlives its time budget:
 *
 *   try:
 *       await asyncio.wait_for(proc.wait(), timeout=0.5)
 *   except TimeoutError:
 *       proc.kill()
 *       await proc.wait()
 *
 * The two commands of main() run at the same time: the first part takes
 * 1 s, not 1 s plus the time of ls. The lines of the second part are printed
 * as the child writes them (each 0.2 s apart), not all at its end.
 */
#include <cio.h>
#include <cio/process.h>
#include <stdio.h>
#include <stdlib.h>

static double t0;

static double elapsed(void) { return (double)cio_now_ns() / 1e9 - t0; }

/* ---- part 1: run(cmd) twice, concurrently ---- */

static int run(void *arg) {
  const char *cmd = *(const char **)arg;
  cio_process_opts o = {.out = {CIO_STDIO_PIPE, 0}, .err = {CIO_STDIO_PIPE, 0}};
  cio_process *proc;
  int r = cio_process_shell(cmd, &o, &proc);
  if (r < 0) return r;
  char *out, *err;
  size_t out_len, err_len;
  int status = cio_process_communicate(proc, NULL, 0, &out, &out_len, &err, &err_len);
  cio_process_free(proc);
  if (status < 0) return status;
  printf("['%s' exited with %d]\n", cmd, cio_process_returncode(status));
  if (out_len) printf("[stdout]\n%s\n", out);
  if (err_len) printf("[stderr]\n%s\n", err);
  free(out);
  free(err);
  return 0;
}

/* ---- part 2: read a child's output line by line as it comes ---- */

static int read_lines(void) {
  const char *argv[] = {"sh", "-c", "for i in 1 2 3; do echo \"line $i\"; sleep 0.2; done; exit 3",
                        NULL};
  cio_process_opts o = {.out = {CIO_STDIO_PIPE, 0}};
  cio_process *proc;
  int r = cio_process_spawn(argv, &o, &proc);
  if (r < 0) return r;
  double start = elapsed();
  char line[256];
  ssize_t n;
  while ((n = cio_stream_readline(cio_process_stdout(proc), line, sizeof line)) > 0)
    printf("[%.2f s] %.*s\n", elapsed() - start, (int)(n - (line[n - 1] == '\n')), line);
  int status = cio_process_wait(proc);
  if (status >= 0)
    printf("pid %d exited with %d\n", (int)cio_process_pid(proc), cio_process_returncode(status));
  cio_process_free(proc);
  return n < 0 ? (int)n : status < 0 ? status : 0;
}

/* ---- part 3: a time budget for a command ---- */

static int with_timeout(void) {
  const char *argv[] = {"sleep", "10", NULL};
  cio_process *proc;
  int r = cio_process_spawn(argv, NULL, &proc);
  if (r < 0) return r;
  cio_timeout_scope scope;
  cio_timeout_begin(&scope, 0.5);
  int status = cio_process_wait(proc);
  cio_timeout_end(&scope);
  if (status == -ETIMEDOUT) {
    printf("'sleep 10' still running after 0.5 s: killing it\n");
    cio_process_kill(proc);
    status = cio_process_wait(proc);
  }
  if (status >= 0 && WIFSIGNALED(status))
    printf("'sleep 10' was killed by signal %d (returncode %d)\n", WTERMSIG(status),
           cio_process_returncode(status));
  cio_process_free(proc);
  return status < 0 ? status : 0;
}

static int main_task(void *arg) {
  (void)arg;
  static const char *cmds[2] = {"ls /zzz", "sleep 1; echo \"hello\""};
  cio_task *tasks[2] = {cio_spawn(run, &cmds[0]), cio_spawn(run, &cmds[1])};
  int r = tasks[0] && tasks[1] ? cio_gather(tasks, 2, NULL, 0) : -ENOMEM;
  cio_task_release(tasks[0]);
  cio_task_release(tasks[1]);
  printf("both commands done after %.2f s\n\n", elapsed());
  if (r == 0) r = read_lines();
  printf("\n");
  if (r == 0) r = with_timeout();
  return r;
}

int main(void) {
  t0 = (double)cio_now_ns() / 1e9;
  int r = cio_run(main_task, NULL);
  if (r < 0) {
    fprintf(stderr, "main: %s\n", cio_strerror(r));
    return 1;
  }
  printf("elapsed: %.2f s\n", elapsed());
  return 0;
}
