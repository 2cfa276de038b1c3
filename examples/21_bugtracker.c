/* 21_bugtracker - tutorial 001's bug-tracker service (cio-bugtracker), queried with cio's HTTP
 * client.
 *
 * Tutorial 001 ends with a real service: FastAPI + uvicorn + an aiomysql
 * pool answering GET /id/{bug_id} from a MantisBT database, the cause and
 * the fix of each bug pulled out of its texts with two regular
 * expressions. cio-bugtracker (apps/bugtracker) is that service in C. This
 * program runs it as a child process on a fresh SQLite file with its demo
 * dataset (no database server needed), follows its log, and asks it for a
 * few bugs the way a Python client would with aiohttp:
 *
 *   async with aiohttp.ClientSession() as s:
 *       async with s.get(f"http://127.0.0.1:{port}/id/{bug_id}") as r:
 *           print(r.status, await r.text())
 *
 * then stops it with SIGTERM, as Ctrl-C stops uvicorn (the lifespan closes
 * the pool: "数据库连接池已关闭").
 */
#include <cio.h>
#include <cio/http_client.h>
#include <cio/process.h>
#include <cio/stream.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CIO_BUGTRACKER
#define CIO_BUGTRACKER "cio-bugtracker"
#endif

typedef struct service {
  cio_process *proc;
  int port;         /* from its "running on http://127.0.0.1:PORT" line */
  cio_event *ready; /* set once the port is known (or the log ended) */
} service;

/* Print the service's log lines as they come, and find its port. */
static int follow_log(void *arg) {
  service *s = arg;
  char line[4096];
  ssize_t n;
  while ((n = cio_stream_readline(cio_process_stderr(s->proc), line, sizeof line)) > 0) {
    printf("  | %.*s", (int)n, line);
    const char *at = strstr(line, "running on http://127.0.0.1:");
    if (at && !s->port) {
      s->port = atoi(at + strlen("running on http://127.0.0.1:"));
      cio_event_set(s->ready);
    }
  }
  cio_event_set(s->ready);
  return 0;
}

/* GET /id/<what>: print the status and the JSON. */
static int ask(cio_http_session *http, int port, const char *what) {
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/id/%s", port, what);
  cio_http_response *res;
  int r = cio_http_open(http, &(cio_http_request){.url = url}, &res);
  if (r < 0) {
    printf("GET /id/%s: %s\n", what, cio_http_client_last_error());
    return r;
  }
  const char *body;
  ssize_t n = cio_http_response_body(res, &body);
  if (n >= 0) printf("GET /id/%s -> %d %.*s\n", what, cio_http_response_status(res), (int)n, body);
  cio_http_response_free(res);
  return n < 0 ? (int)n : 0;
}

static int run(void *arg) {
  const char *dir = arg;
  char db[512];
  snprintf(db, sizeof db, "sqlite://%s/bugtracker.db", dir);
  /* --init-db: MantisBT's tables and the demo dataset, then serve; port 0:
   * a free one (the log says which). */
  const char *argv[] = {CIO_BUGTRACKER, "--db",   db,  "--init-db", "--bugs",
                        "500",          "--port", "0", NULL};
  cio_process_opts po = {.err = {.mode = CIO_STDIO_PIPE}};
  service s = {.ready = cio_event_new()};
  int r = cio_process_spawn(argv, &po, &s.proc);
  if (r < 0) {
    printf("cannot start %s: %s\n", CIO_BUGTRACKER, cio_strerror(r));
    cio_event_free(s.ready);
    return r;
  }
  cio_task *log = cio_spawn(follow_log, &s);
  cio_timeout_scope t;
  cio_timeout_begin(&t, 60.0);
  r = cio_event_wait(s.ready);
  cio_timeout_end(&t);
  if (r == 0 && s.port) {
    printf("cio-bugtracker serves on 127.0.0.1:%d\n", s.port);
    cio_http_session *http = cio_http_session_new(NULL);
    /* A cause in the additional information, one in a note, one in a
     * revision, none; a bug with more notes than GROUP_CONCAT keeps; then
     * a missing id and one that is not an integer. */
    static const char *const ids[] = {"2", "1", "3", "5", "77", "123456", "abc"};
    for (size_t i = 0; i < sizeof ids / sizeof *ids && r == 0; i++) {
      cio_sleep(0.05); /* lets the log lines of each request come out first */
      r = ask(http, s.port, ids[i]);
    }
    cio_http_session_free(http);
  } else {
    printf("cio-bugtracker did not start\n");
    if (r == 0) r = -EIO;
  }
  cio_process_terminate(s.proc); /* SIGTERM: graceful shutdown */
  int st = cio_process_wait(s.proc);
  cio_await(log);
  cio_task_release(log);
  printf("cio-bugtracker exited with status %d\n", cio_process_returncode(st));
  cio_process_free(s.proc);
  cio_event_free(s.ready);
  return r;
}

int main(void) {
  char dir[] = "/tmp/cio-tour-XXXXXX";
  if (!mkdtemp(dir)) return 1;
  setenv("NO_COLOR", "1", 1);
  int r = cio_run(run, dir);
  char path[600];
  snprintf(path, sizeof path, "%s/bugtracker.db", dir);
  unlink(path);
  rmdir(dir);
  if (r < 0) fprintf(stderr, "21_bugtracker: %s\n", cio_strerror(r));
  return r < 0;
}
