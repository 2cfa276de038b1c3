/* echo_client - load generator for the echo and connect benchmarks.
 *
 *   echo_client --impl NAME [--bench echo|connect] [--sizes 64,1024]
 *               [--conns 10,100] [--seconds S] [--windows K] [--warmup S]
 *               [--cpu N] -- SERVER-COMMAND...
 *
 * Starts the server command (which must print "port N" on its first stdout
 * line, having bound 127.0.0.1:N), pins itself to --cpu (the server is
 * pinned to the other core by its command line, e.g. "taskset -c 1 ..."),
 * drives it, and prints bench/run's JSON lines. On two cores the client
 * saturates too, so the figure that compares servers is the server's CPU
 * time per request: the CPU time of all its threads (schedstat under
 * /proc/<pid>/task/, what /proc/<pid>/stat's utime + stime come from) over the
 * requests completed in the same interval.
 *
 * Each case runs a warm-up (default 0.5 s), then K windows (default 3) of
 * S/K seconds (S default 3, or $CIO_BENCH_ECHO_SECONDS, scaled by
 * $CIO_BENCH_SCALE); the median window is reported, with the spread
 * (max - min) / median of the K windows' CPU per request.
 *
 * echo: for every (size, conns), `conns` connections each keep one message
 * of `size` bytes in flight: send it, read the whole echo back, check it,
 * send again.
 * connect: `conns` (default 10) slots each loop: connect, send 64 bytes,
 * read the echo, close.
 *
 * Plain C and epoll, no cio, so the load is the same for every server.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_LIST 8
#define MAX_MSG  65536

struct conn {
  int fd;
  size_t sent;    /* bytes of the current message written */
  size_t got;     /* bytes of its echo read back */
  int connecting; /* connect mode: waiting for the connect to finish */
};

static const char *impl = "?";
static const char *bench = "echo";
static long sizes[MAX_LIST] = {64, 1024};
static int nsizes = 2;
static long conn_counts[MAX_LIST] = {10, 100};
static int nconn_counts = 2;
static double seconds = 3, warmup = 0.5;
static int client_cpu = 0;
static pid_t server_pid;
static struct sockaddr_in server_addr;
static unsigned char msg[MAX_MSG];
static unsigned char rbuf[MAX_MSG];
static long errors;

static void die(const char *what) {
  fprintf(stderr, "echo_client (%s): %s: %s\n", impl, what, strerror(errno));
  if (server_pid > 0) kill(server_pid, SIGKILL);
  exit(1);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime of the whole server process (all threads), in seconds,
 * from /proc/<pid>/stat: whole clock ticks (10 ms). */
static double server_cpu_stat(void) {
  char path[64], buf[1024];
  unsigned long long ut = 0, st = 0;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)server_pid);
  FILE *f = fopen(path, "r");
  if (!f) die("open /proc/<server>/stat");
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  /* Fields after the command name, which may contain spaces: from the last
   * ')', state is field 3, utime 14, stime 15. */
  char *p = strrchr(buf, ')');
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) {
    errno = EINVAL;
    die("parse /proc/<server>/stat");
  }
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The server's CPU time in seconds: the sum over its threads of
 * /proc/<pid>/task/<tid>/schedstat's first field, the nanoseconds the
 * scheduler ran it, which /proc/<pid>/stat's utime + stime are computed from
 * (and rounded to 10 ms ticks): a 1 s window needs the precision. Falls back
 * to utime + stime without schedstat. */
static double server_cpu(void) {
  char path[64];
  double sum = 0;
  struct dirent *d;
  snprintf(path, sizeof path, "/proc/%d/task", (int)server_pid);
  DIR *dir = opendir(path);
  if (!dir) return server_cpu_stat();
  while ((d = readdir(dir)) != NULL) {
    char file[400];
    unsigned long long ns;
    if (d->d_name[0] == '.') continue;
    snprintf(file, sizeof file, "%s/%s/schedstat", path, d->d_name);
    FILE *f = fopen(file, "r");
    if (!f) continue; /* the thread just exited */
    int ok = fscanf(f, "%llu", &ns) == 1;
    fclose(f);
    if (!ok) {
      closedir(dir);
      return server_cpu_stat();
    }
    sum += (double)ns / 1e9;
  }
  closedir(dir);
  return sum;
}

static double self_cpu(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void check_server_alive(void) {
  int st;
  if (waitpid(server_pid, &st, WNOHANG) == server_pid) {
    fprintf(stderr, "echo_client (%s): server exited (status 0x%x)\n", impl, st);
    server_pid = 0;
    exit(1);
  }
}

static int parse_list(const char *s, long *out) {
  int n = 0;
  char *end;
  while (*s && n < MAX_LIST) {
    out[n++] = strtol(s, &end, 10);
    if (end == s || out[n - 1] <= 0) return -1;
    s = *end == ',' ? end + 1 : end;
  }
  return n;
}

static void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Write what remains of the current message. Returns 1 when all is sent,
 * 0 when the socket is full (caller waits for EPOLLOUT), -1 on error. */
static int send_rest(struct conn *c, size_t size) {
  while (c->sent < size) {
    ssize_t n = write(c->fd, msg + c->sent, size - c->sent);
    if (n < 0) {
      if (errno == EAGAIN) return 0;
      if (errno == EINTR) continue;
      return -1;
    }
    c->sent += (size_t)n;
  }
  return 1;
}

/* Read what has arrived of the echo, checking each piece against what was
 * sent (rbuf is scratch space shared by every connection). Returns 1 when
 * the whole message is back, 0 when more is to come, -1 on error, EOF or a
 * wrong byte. */
static int recv_rest(struct conn *c, size_t size) {
  while (c->got < size) {
    ssize_t n = read(c->fd, rbuf, size - c->got);
    if (n < 0) {
      if (errno == EAGAIN) return 0;
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) {
      errno = ECONNRESET;
      return -1;
    }
    if (memcmp(rbuf, msg + c->got, (size_t)n) != 0) {
      errno = EBADMSG;
      return -1;
    }
    c->got += (size_t)n;
  }
  return 1;
}

static void ep_set(int ep, int op, struct conn *c, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = c};
  if (epoll_ctl(ep, op, c->fd, &ev) < 0) die("epoll_ctl");
}

/* Measurement: after the warm-up, `windows` consecutive windows of
 * seconds / windows each; the figures reported are those of the median
 * window (by server CPU per operation), so one window disturbed by another
 * process on this shared machine does not move the result. */
#define MAX_WINDOWS 9

struct snap {
  double t, cpu, self;
  long ops;
};

struct window {
  double t_first; /* time of the first boundary */
  double len;     /* each window's length */
  int nsnaps;     /* boundaries passed so far (windows + 1 in all) */
  struct snap s[MAX_WINDOWS + 1];
};

static int nwindows = 3;

static int window_done(const struct window *w) { return w->nsnaps > nwindows; }

static void window_tick(struct window *w, double t, long ops) {
  if (window_done(w) || t < w->t_first + w->len * w->nsnaps) return;
  struct snap *s = &w->s[w->nsnaps++];
  s->t = t;
  s->cpu = server_cpu();
  s->self = self_cpu();
  s->ops = ops;
}

/* Index of the median window by server CPU per operation. */
static int window_median(const struct window *w) {
  int order[MAX_WINDOWS] = {0};
  double v[MAX_WINDOWS] = {0};
  for (int i = 0; i < nwindows; i++) {
    long ops = w->s[i + 1].ops - w->s[i].ops;
    v[i] = ops > 0 ? (w->s[i + 1].cpu - w->s[i].cpu) / (double)ops : 1e30;
    order[i] = i;
  }
  for (int i = 1; i < nwindows; i++) /* insertion sort, n <= 9 */
    for (int j = i; j > 0 && v[order[j]] < v[order[j - 1]]; j--) {
      int k = order[j];
      order[j] = order[j - 1];
      order[j - 1] = k;
    }
  return order[nwindows / 2];
}

/* Emit cpu-per-op and ops-per-second for the median window. */
static void report(const struct window *w, const char *cpu_metric, const char *rate_metric,
                   const char *rate_unit, long size, long conns) {
  int m = window_median(w);
  const struct snap *a = &w->s[m], *b = &w->s[m + 1];
  long ops = b->ops - a->ops, total = w->s[nwindows].ops - w->s[0].ops;
  double dt = b->t - a->t, lo = 1e30, hi = 0;
  if (ops <= 0) {
    fprintf(stderr, "echo_client (%s): nothing completed in a window\n", impl);
    exit(1);
  }
  for (int i = 0; i < nwindows; i++) {
    long n = w->s[i + 1].ops - w->s[i].ops;
    double v = n > 0 ? (w->s[i + 1].cpu - w->s[i].cpu) / (double)n : 1e30;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  double cpu_per = (b->cpu - a->cpu) / (double)ops;
  char common[320];
  snprintf(common, sizeof common,
           "\"n\": %ld, \"msg_size\": %ld, \"conns\": %ld, \"window_s\": %.2f, "
           "\"windows\": %d, \"spread\": %.3f, \"server_cpu\": %.3f, \"client_cpu\": %.3f, "
           "\"errors\": %ld",
           total, size, conns, dt, nwindows, (hi - lo) / cpu_per, (b->cpu - a->cpu) / dt,
           (b->self - a->self) / dt, errors);
  printf("{\"bench\": \"%s\", \"impl\": \"%s\", \"metric\": \"%s\", \"value\": %.3f, "
         "\"unit\": \"us\", %s}\n",
         bench, impl, cpu_metric, cpu_per * 1e6, common);
  printf("{\"bench\": \"%s\", \"impl\": \"%s\", \"metric\": \"%s\", \"value\": %.1f, "
         "\"unit\": \"%s\", \"better\": \"higher\", %s}\n",
         bench, impl, rate_metric, (double)ops / dt, rate_unit, common);
  fflush(stdout);
}

static const char *size_name(long size, char *buf, size_t cap) {
  if (size % 1024 == 0)
    snprintf(buf, cap, "%ldk", size / 1024);
  else
    snprintf(buf, cap, "%ldb", size);
  return buf;
}

static int open_blocking_conn(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  if (connect(fd, (struct sockaddr *)&server_addr, sizeof server_addr) < 0) die("connect");
  set_nodelay(fd);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

static void run_echo(long size, long nconns) {
  struct conn *conns = calloc((size_t)nconns, sizeof *conns);
  struct epoll_event evs[256];
  struct window w = {0};
  long done = 0;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (!conns || ep < 0) die("setup");
  for (long i = 0; i < nconns; i++) {
    conns[i].fd = open_blocking_conn();
    ep_set(ep, EPOLL_CTL_ADD, &conns[i], EPOLLIN);
  }
  for (long i = 0; i < nconns; i++)
    if (send_rest(&conns[i], (size_t)size) != 1) die("first write");
  double t0 = now();
  w.t_first = t0 + warmup;
  w.len = seconds / nwindows;
  while (!window_done(&w)) {
    int n = epoll_wait(ep, evs, 256, 100);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      struct conn *c = evs[i].data.ptr;
      if (c->sent < (size_t)size) {
        /* The socket was full: finish the write first. */
        int r = send_rest(c, (size_t)size);
        if (r < 0) die("write");
        if (r == 1) ep_set(ep, EPOLL_CTL_MOD, c, EPOLLIN);
        continue;
      }
      int r = recv_rest(c, (size_t)size);
      if (r < 0) die("read echo");
      if (r == 0) continue;
      done++;
      c->got = 0;
      c->sent = 0;
      r = send_rest(c, (size_t)size);
      if (r < 0) die("write");
      if (r == 0) ep_set(ep, EPOLL_CTL_MOD, c, EPOLLOUT);
    }
    if (n <= 0) check_server_alive();
    window_tick(&w, now(), done);
  }
  for (long i = 0; i < nconns; i++) close(conns[i].fd);
  close(ep);
  free(conns);

  char cpu_metric[96], rate_metric[96], sz[32];
  size_name(size, sz, sizeof sz);
  snprintf(cpu_metric, sizeof cpu_metric, "cpu_us_per_req_%s_%ldc", sz, nconns);
  snprintf(rate_metric, sizeof rate_metric, "req_per_s_%s_%ldc", sz, nconns);
  report(&w, cpu_metric, rate_metric, "req/s", size, nconns);
}

/* connect mode: the client closes first, so every connection leaves a
 * TIME_WAIT socket on its side for a minute. From one source address the
 * ~28,000 ephemeral ports then run out within seconds and connect() grows
 * slow searching for a free one; rotating over 250 loopback source
 * addresses keeps the search short, and the close a normal FIN. */
static void bind_source(int fd) {
  static unsigned next;
  struct sockaddr_in src = {.sin_family = AF_INET};
  int one = 1;
  src.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + (next++ % 250)); /* 127.0.0.2.. */
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0) die("bind to a loopback source address");
}

/* connect mode: start a non-blocking connect in slot c. */
static void slot_start(int ep, struct conn *c) {
  for (;;) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) die("socket");
    set_nodelay(c->fd);
    bind_source(c->fd);
    c->sent = c->got = 0;
    if (connect(c->fd, (struct sockaddr *)&server_addr, sizeof server_addr) == 0) {
      c->connecting = 0;
      if (send_rest(c, 64) < 0) die("write");
      ep_set(ep, EPOLL_CTL_ADD, c, c->sent < 64 ? EPOLLOUT : EPOLLIN);
      return;
    }
    if (errno == EINPROGRESS) {
      c->connecting = 1;
      ep_set(ep, EPOLL_CTL_ADD, c, EPOLLOUT);
      return;
    }
    /* Out of local ports (TIME_WAIT) or the like: count it and retry. */
    if (errno != EADDRNOTAVAIL && errno != ECONNREFUSED && errno != EAGAIN) die("connect");
    errors++;
    close(c->fd);
    usleep(1000);
  }
}

static void run_connect(long nslots) {
  struct conn *slots = calloc((size_t)nslots, sizeof *slots);
  struct epoll_event evs[256];
  struct window w = {0};
  long done = 0;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (!slots || ep < 0) die("setup");
  for (long i = 0; i < nslots; i++) slot_start(ep, &slots[i]);
  double t0 = now();
  w.t_first = t0 + warmup;
  w.len = seconds / nwindows;
  while (!window_done(&w)) {
    int n = epoll_wait(ep, evs, 256, 100);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      struct conn *c = evs[i].data.ptr;
      int r;
      if (c->connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
          errno = err;
          die("connect");
        }
        c->connecting = 0;
      }
      if (c->sent < 64) {
        r = send_rest(c, 64);
        if (r < 0) die("write");
        if (r == 1) ep_set(ep, EPOLL_CTL_MOD, c, EPOLLIN);
        continue;
      }
      r = recv_rest(c, 64);
      if (r < 0) die("read echo");
      if (r == 0) continue;
      done++;
      close(c->fd); /* also drops it from the epoll set */
      slot_start(ep, c);
    }
    if (n <= 0) check_server_alive();
    window_tick(&w, now(), done);
  }
  for (long i = 0; i < nslots; i++) close(slots[i].fd);
  close(ep);
  free(slots);

  report(&w, "cpu_us_per_conn", "conn_per_s", "conn/s", 64, nslots);
}

/* One connection, one echo, closed, before anything is measured: every
 * server is then measured as a server that has already served a client.
 * That matters for asyncio: its transports recv() into a fresh 256 KiB
 * buffer, above glibc's initial mmap threshold (128 KiB), so until glibc
 * raises the threshold (when such a block is freed whole: a connection
 * reading EOF) every recv costs an mmap + mremap + munmap and the server
 * uses 2.5x the CPU per request. A long-running server is past that point. */
static void prelude(void) {
  struct conn c = {.fd = open_blocking_conn()};
  int fl = fcntl(c.fd, F_GETFL);
  fcntl(c.fd, F_SETFL, fl & ~O_NONBLOCK);
  if (send_rest(&c, 64) != 1 || recv_rest(&c, 64) != 1) die("first echo");
  shutdown(c.fd, SHUT_WR);
  char b;
  if (read(c.fd, &b, 1) != 0) /* the server closes in turn */
    die("waiting for the server to close the first connection");
  close(c.fd);
}

/* Fork the server with its stdout on a pipe; read "port N" from it. */
static void start_server(char **cmd) {
  int p[2];
  char line[128];
  size_t len = 0;
  if (pipe2(p, O_CLOEXEC) < 0) die("pipe");
  server_pid = fork();
  if (server_pid < 0) die("fork");
  if (server_pid == 0) {
    /* A killed client (bench/run's timeout) must not leave a server behind. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(p[1], 1);
    execvp(cmd[0], cmd);
    fprintf(stderr, "echo_client: exec %s: %s\n", cmd[0], strerror(errno));
    _exit(127);
  }
  close(p[1]);
  double deadline = now() + 30;
  while (len < sizeof line - 1 && !memchr(line, '\n', len)) {
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    int left = (int)((deadline - now()) * 1000);
    if (left <= 0 || poll(&pfd, 1, left) <= 0) {
      errno = ETIMEDOUT;
      die("waiting for the server's \"port N\" line");
    }
    ssize_t n = read(p[0], line + len, sizeof line - 1 - len);
    if (n <= 0) {
      check_server_alive();
      errno = EPIPE;
      die("reading the server's port");
    }
    len += (size_t)n;
    line[len] = '\0';
  }
  /* Keep the pipe open (and unread): a server that prints more would block
   * only after 64 KiB, which none of ours does. */
  int port;
  if (sscanf(line, "port %d", &port) != 1) {
    errno = EINVAL;
    die("the server's first line is not \"port N\"");
  }
  server_addr.sin_family = AF_INET;
  server_addr.sin_port = htons((uint16_t)port);
  server_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static void stop_server(void) {
  int st;
  kill(server_pid, SIGTERM);
  for (int i = 0; i < 200; i++) {
    if (waitpid(server_pid, &st, WNOHANG) == server_pid) return;
    usleep(10000);
  }
  kill(server_pid, SIGKILL);
  waitpid(server_pid, &st, 0);
}

static void usage(void) {
  fprintf(stderr, "usage: echo_client --impl NAME [--bench echo|connect] [--sizes 64,1024]\n"
                  "       [--conns 10,100] [--seconds S] [--windows K] [--warmup S] [--cpu N]\n"
                  "       -- SERVER...\n");
  exit(2);
}

int main(int argc, char **argv) {
  int i;
  const char *scale = getenv("CIO_BENCH_SCALE");
  const char *secs = getenv("CIO_BENCH_ECHO_SECONDS");
  const char *cpu = getenv("CIO_BENCH_CLIENT_CPU");
  int conns_given = 0;
  if (secs)
    seconds = atof(secs);
  else if (scale && atof(scale) > 0)
    seconds *= atof(scale);
  if (cpu) client_cpu = atoi(cpu);
  for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) usage();
    if (strcmp(a, "--impl") == 0)
      impl = v;
    else if (strcmp(a, "--bench") == 0)
      bench = v;
    else if (strcmp(a, "--sizes") == 0)
      nsizes = parse_list(v, sizes);
    else if (strcmp(a, "--conns") == 0)
      nconn_counts = parse_list(v, conn_counts), conns_given = 1;
    else if (strcmp(a, "--seconds") == 0)
      seconds = atof(v);
    else if (strcmp(a, "--windows") == 0)
      nwindows = atoi(v);
    else if (strcmp(a, "--warmup") == 0)
      warmup = atof(v);
    else if (strcmp(a, "--cpu") == 0)
      client_cpu = atoi(v);
    else
      usage();
    i++;
  }
  if (i >= argc - 1 || nsizes <= 0 || nconn_counts <= 0) usage();
  if (strcmp(bench, "echo") != 0 && strcmp(bench, "connect") != 0) usage();
  if (seconds < 0.5) seconds = 0.5;
  if (nwindows < 1 || nwindows > MAX_WINDOWS) usage();
  for (int k = 0; k < nsizes; k++)
    if (sizes[k] > MAX_MSG) usage();
  for (int k = 0; k < MAX_MSG; k++) msg[k] = (unsigned char)(k * 31 + 7);
  signal(SIGPIPE, SIG_IGN);

  start_server(argv + i + 1);
  if (client_cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(client_cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) < 0)
      fprintf(stderr, "echo_client: cannot pin to CPU %d: %s\n", client_cpu, strerror(errno));
  }
  prelude();
  if (strcmp(bench, "echo") == 0) {
    for (int s = 0; s < nsizes; s++)
      for (int c = 0; c < nconn_counts; c++) run_echo(sizes[s], conn_counts[c]);
  } else {
    run_connect(conns_given ? conn_counts[0] : 10);
  }
  stop_server();
  return 0;
}
