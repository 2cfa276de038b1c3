/* test_reactor.c - cio_wait_fd and the epoll backend: readiness, both
 * directions, cancellation and timeouts while waiting (leaving no dangling
 * waiter), -EBUSY, forgetting an fd under a waiter, fd number reuse, many
 * fds, cross-thread wake-ups while the loop sleeps in epoll, raw
 * cio_read/cio_write_all, EOF, loops on several threads at once, closing an
 * fd nobody waits on while others wait (the count of waiters stays right). */
/* cio-test-labels: threads */
#include "test.h"
#include "test_loop.h"

#include <cio.h>
#include <cio/io.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

static void nb_pipe(int p[2]) {
  if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) abort();
}

struct waitarg {
  int fd, events, r, done;
};

static int waiter_fn(void *arg) {
  struct waitarg *w = arg;
  w->r = cio_wait_fd(w->fd, w->events);
  w->done = 1;
  return 0;
}

LOOP_TEST(test_readable_after_write) {
  int p[2];
  nb_pipe(p);
  struct waitarg w = {p[0], CIO_READABLE, 0, 0};
  cio_task *t = cio_spawn(waiter_fn, &w);
  settle_io();
  CHECK_EQ(w.done, 0);
  CHECK_STR(cio_task_waiting_on(t), "fd read");
  CHECK_EQ(write(p[1], "x", 1), 1);
  join(t);
  CHECK_EQ(w.done, 1);
  CHECK_EQ(w.r, CIO_READABLE);
  /* Writable end: a pipe with room is writable at once (reported by the
   * registration itself). */
  CHECK_EQ(cio_wait_fd(p[1], CIO_WRITABLE), CIO_WRITABLE);
  cio_close(p[0]);
  cio_close(p[1]);
  return 0;
}

LOOP_TEST(test_ready_bit_kept_without_waiter) {
  int p[2];
  nb_pipe(p);
  char c;
  CHECK_EQ(read(p[0], &c, 1), -1); /* EAGAIN */
  struct waitarg w = {p[0], CIO_READABLE, 0, 0};
  cio_task *t = cio_spawn(waiter_fn, &w);
  settle_io();
  cio_task_cancel(t); /* registered, then gone */
  join(t);
  CHECK_EQ(w.r, -ECANCELED);
  CHECK_EQ(write(p[1], "y", 1), 1);
  settle_io(); /* the event arrives with nobody waiting: remembered */
  CHECK_EQ(cio_wait_fd(p[0], CIO_READABLE), CIO_READABLE);
  CHECK_EQ(read(p[0], &c, 1), 1);
  cio_close(p[0]);
  cio_close(p[1]);
  return 0;
}

LOOP_TEST(test_cancel_leaves_no_waiter) {
  int p[2];
  nb_pipe(p);
  struct waitarg w1 = {p[0], CIO_READABLE, 0, 0};
  cio_task *t1 = cio_spawn(waiter_fn, &w1);
  settle_io();
  /* t2 is queued before the cancelled t1 runs to withdraw: the slot must
   * already count as free for it. */
  struct waitarg w2 = {p[0], CIO_READABLE, 0, 0};
  cio_task *t2 = cio_spawn(waiter_fn, &w2);
  cio_task_cancel(t1);
  settle_io();
  CHECK_EQ(w1.r, -ECANCELED);
  CHECK_EQ(w2.done, 0);
  CHECK_STR(cio_task_waiting_on(t2), "fd read");
  CHECK_EQ(write(p[1], "z", 1), 1);
  join(t2);
  join(t1);
  CHECK_EQ(w2.r, CIO_READABLE);
  cio_close(p[0]);
  cio_close(p[1]);
  return 0;
}

LOOP_TEST(test_timeout_scope) {
  int p[2];
  nb_pipe(p);
  cio_timeout_scope sc;
  double t0 = cio_loop_time(cio_loop_current()); /* before: a bound that holds */
  cio_timeout_begin(&sc, 0.02);
  CHECK_EQ(cio_wait_fd(p[0], CIO_READABLE), -ETIMEDOUT);
  CHECK(cio_loop_time(cio_loop_current()) - t0 >= 0.02);
  CHECK_EQ(cio_timeout_end(&sc), 1);
  /* The slot is free again and works. */
  CHECK_EQ(write(p[1], "a", 1), 1);
  CHECK_EQ(cio_wait_fd(p[0], CIO_READABLE), CIO_READABLE);
  cio_close(p[0]);
  cio_close(p[1]);
  return 0;
}

LOOP_TEST(test_busy_and_both_directions) {
  int sv[2];
  CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  /* Fill sv[0]'s send buffer so it is not writable. */
  char buf[4096];
  memset(buf, 'q', sizeof buf);
  while (write(sv[0], buf, sizeof buf) > 0) {
  }
  struct waitarg w1 = {sv[0], CIO_READABLE | CIO_WRITABLE, 0, 0};
  cio_task *t1 = cio_spawn(waiter_fn, &w1);
  settle_io();
  CHECK_EQ(w1.done, 0);
  CHECK_EQ(cio_wait_fd(sv[0], CIO_READABLE), -EBUSY);
  CHECK_EQ(cio_wait_fd(sv[0], CIO_WRITABLE), -EBUSY);
  CHECK_EQ(write(sv[1], "r", 1), 1); /* readable now */
  join(t1);
  CHECK(w1.r > 0 && (w1.r & CIO_READABLE));
  /* t1 left the write slot too. */
  struct waitarg w2 = {sv[0], CIO_WRITABLE, 0, 0};
  cio_task *t2 = cio_spawn(waiter_fn, &w2);
  settle_io();
  CHECK_EQ(w2.done, 0);
  while (read(sv[1], buf, sizeof buf) > 0) {
  }
  join(t2);
  CHECK_EQ(w2.r, CIO_WRITABLE);
  cio_close(sv[0]);
  cio_close(sv[1]);
  return 0;
}

LOOP_TEST(test_forget_wakes_with_ebadf) {
  int p[2];
  nb_pipe(p);
  struct waitarg w = {p[0], CIO_READABLE, 0, 0};
  cio_task *t = cio_spawn(waiter_fn, &w);
  settle_io();
  CHECK_EQ(cio_close(p[0]), 0);
  join(t);
  CHECK_EQ(w.r, -EBADF);
  /* The number is (normally) reused by a new pipe: it registers afresh. */
  int q[2];
  nb_pipe(q);
  struct waitarg w2 = {q[0], CIO_READABLE, 0, 0};
  cio_task *t2 = cio_spawn(waiter_fn, &w2);
  settle_io();
  CHECK_EQ(w2.done, 0);
  CHECK_EQ(write(q[1], "b", 1), 1);
  join(t2);
  CHECK_EQ(w2.r, CIO_READABLE);
  CHECK_EQ(cio_wait_fd(-1, CIO_READABLE), -EBADF);
  CHECK_EQ(cio_wait_fd(p[1], 0), -EINVAL);
  cio_close(p[1]);
  cio_close(q[0]);
  cio_close(q[1]);
  return 0;
}

/* Forgetting without closing, then waiting again: re-registered. */
LOOP_TEST(test_forget_then_reuse_same_fd) {
  int p[2];
  nb_pipe(p);
  CHECK_EQ(write(p[1], "c", 1), 1);
  CHECK_EQ(cio_wait_fd(p[0], CIO_READABLE), CIO_READABLE);
  cio_fd_forget(p[0]);
  char c;
  CHECK_EQ(read(p[0], &c, 1), 1);
  struct waitarg w = {p[0], CIO_READABLE, 0, 0};
  cio_task *t = cio_spawn(waiter_fn, &w);
  settle_io();
  CHECK_EQ(w.done, 0);
  CHECK_EQ(write(p[1], "d", 1), 1);
  join(t);
  CHECK_EQ(w.r, CIO_READABLE);
  cio_close(p[0]);
  cio_close(p[1]);
  return 0;
}

/* Yields until w is done, at most `limit` times; returns the yields made. */
static int spin_until_done(const struct waitarg *w, int limit) {
  int spins = 0;
  while (!w->done && spins < limit) {
    cio_yield();
    spins++;
  }
  return spins;
}

/* Closing an fd that has a table entry but no waiter must not touch the
 * reactor's count of waiting tasks. It used to take 4 off it (two empty
 * slots matched twice), so with 4 tasks waiting the count read 0, the loop
 * stopped looking at the reactor between task runs, and a task that keeps
 * yielding starved every fd waiter. The loop hands out readiness once per
 * budget of 64 task runs: the waiter must be woken long before 100,000
 * yields. */
LOOP_TEST(test_close_unwatched_fd_keeps_waiters) {
  enum { NW = 4, LIMIT = 100000 };
  int p[NW][2];
  struct waitarg w[NW];
  cio_task *t[NW];
  for (int i = 0; i < NW; i++) {
    nb_pipe(p[i]);
    w[i] = (struct waitarg){p[i][0], CIO_READABLE, 0, 0};
    t[i] = cio_spawn(waiter_fn, &w[i]);
  }
  settle_io();
  for (int i = 0; i < NW; i++) CHECK_STR(cio_task_waiting_on(t[i]), "fd read");
  for (int round = 0; round < 2; round++) {
    /* An fd nobody ever waited on (its number is in the table's first
     * chunk, so it has an entry), closed through the reactor. */
    int q[2];
    nb_pipe(q);
    CHECK_EQ(cio_close(q[0]), 0);
    CHECK_EQ(close(q[1]), 0); /* one close through the reactor per round */
    /* Wake one waiter while this task busy-yields. */
    CHECK_EQ(write(p[round][1], "w", 1), 1);
    CHECK(spin_until_done(&w[round], LIMIT) < LIMIT);
    CHECK_EQ(w[round].done, 1);
    CHECK_EQ(w[round].r, CIO_READABLE);
    for (int i = round + 1; i < NW; i++) CHECK_EQ(w[i].done, 0);
  }
  for (int i = 2; i < NW; i++) CHECK_EQ(write(p[i][1], "w", 1), 1);
  for (int i = 0; i < NW; i++) {
    join(t[i]);
    CHECK_EQ(w[i].r, CIO_READABLE);
    cio_close(p[i][0]);
    cio_close(p[i][1]);
  }
  return 0;
}

#define NPIPES 300
LOOP_TEST(test_many_fds) {
  static int ps[NPIPES][2];
  static struct waitarg ws[NPIPES];
  static cio_task *ts[NPIPES];
  for (int i = 0; i < NPIPES; i++) {
    nb_pipe(ps[i]);
    ws[i] = (struct waitarg){ps[i][0], CIO_READABLE, 0, 0};
    ts[i] = cio_spawn(waiter_fn, &ws[i]);
  }
  settle_io();
  for (int i = NPIPES - 1; i >= 0; i--) CHECK_EQ(write(ps[i][1], "e", 1), 1);
  int ok = 0;
  for (int i = 0; i < NPIPES; i++) {
    join(ts[i]);
    ok += ws[i].r == CIO_READABLE;
    cio_close(ps[i][0]);
    cio_close(ps[i][1]);
  }
  CHECK_EQ(ok, NPIPES);
  return 0;
}

static void *poke_thread(void *arg) {
  usleep(20000);
  cio_call_soon_threadsafe(arg, (cio_callback_fn)cio_loop_stop, arg);
  return NULL;
}

static int blocked_reader(void *arg) {
  int *fd = arg;
  return cio_wait_fd(*fd, CIO_READABLE);
}

/* The loop sleeps in epoll_wait (a task waits on a pipe): a threadsafe call
 * must wake it through the wake-up fd the reactor watches. */
static void test_threadsafe_wakes_epoll(void) {
  cio_loop *loop = cio_loop_new(NULL);
  CHECK(loop != NULL);
  int p[2];
  nb_pipe(p);
  cio_task *t = cio_spawn(blocked_reader, &p[0]);
  pthread_t th;
  pthread_create(&th, NULL, poke_thread, loop);
  int64_t t0 = cio_now_ns();
  CHECK_EQ(cio_loop_run_forever(loop), 0);
  CHECK((cio_now_ns() - t0) < 5000000000LL); /* loose: woken, not hung */
  pthread_join(th, NULL);
  CHECK_EQ(cio_task_done(t), 0);
  cio_task_cancel(t);
  cio_task_release(t);
  cio_loop_free(loop);
  close(p[0]);
  close(p[1]);
}

LOOP_TEST(test_sub_ms_sleep_not_early) {
  int p[2];
  nb_pipe(p);
  struct waitarg w = {p[0], CIO_READABLE, 0, 0};
  cio_task *t = cio_spawn(waiter_fn, &w); /* the reactor is the poller now */
  settle_io();
  for (int i = 0; i < 5; i++) {
    int64_t t0 = cio_now_ns();
    CHECK_EQ(cio_sleep(0.0003), 0);
    CHECK(cio_now_ns() - t0 >= 300000);
  }
  cio_task_cancel(t);
  join(t);
  cio_close(p[0]);
  cio_close(p[1]);
  return 0;
}

struct rw {
  int fd;
  size_t n;
  ssize_t r;
  unsigned char *buf;
};

static int writer_fn(void *arg) {
  struct rw *w = arg;
  w->r = cio_write_all(w->fd, w->buf, w->n);
  cio_close(w->fd);
  return 0;
}

LOOP_TEST(test_read_write_all_eof) {
  int p[2];
  nb_pipe(p);
  size_t n = 1 << 20; /* far more than a pipe holds: the writer waits */
  unsigned char *src = malloc(n), *dst = malloc(n);
  for (size_t i = 0; i < n; i++) src[i] = (unsigned char)(i * 7 + (i >> 9));
  struct rw w = {p[1], n, 0, src};
  cio_task *t = cio_spawn(writer_fn, &w);
  size_t got = 0;
  for (;;) {
    ssize_t r = cio_read(p[0], dst + got, n - got < 5000 ? n - got : 5000);
    if (r <= 0) {
      CHECK_EQ(r, 0);
      break;
    }
    got += (size_t)r;
    if (got == n) {
      char c;
      CHECK_EQ(cio_read(p[0], &c, 1), 0); /* EOF */
      break;
    }
  }
  join(t);
  CHECK_EQ(w.r, (ssize_t)n);
  CHECK_EQ(got, n);
  CHECK(memcmp(src, dst, n) == 0);
  cio_close(p[0]);
  free(src);
  free(dst);
  return 0;
}

static int reader_cancel_fn(void *arg) {
  int *fd = arg;
  char c;
  return (int)cio_read(*fd, &c, 1);
}

LOOP_TEST(test_read_cancel_and_epipe) {
  int p[2];
  nb_pipe(p);
  cio_task *t = cio_spawn(reader_cancel_fn, &p[0]);
  settle_io();
  cio_task_cancel(t);
  CHECK_EQ(join(t), -ECANCELED);
  cio_close(p[0]);
  /* Writing to a pipe without a reader: -EPIPE (SIGPIPE ignored below). */
  signal(SIGPIPE, SIG_IGN);
  CHECK_EQ(cio_write_all(p[1], "x", 1), -EPIPE);
  cio_close(p[1]);
  return 0;
}

static void test_outside_task(void) {
  CHECK_EQ(cio_wait_fd(0, CIO_READABLE), -EPERM);
  cio_loop *loop = cio_loop_new(NULL);
  CHECK_EQ(cio_wait_fd(0, CIO_READABLE), -EPERM);
  CHECK_EQ(cio_io_init(loop), 0);
  CHECK_EQ(cio_io_init(loop), 0);
  CHECK_EQ(cio_io_init(NULL), -EINVAL);
  cio_loop_free(loop);
}

/* Loops come and go on one thread: each gets a fresh reactor. */
LOOP_TEST(test_second_loop_part) {
  int p[2];
  nb_pipe(p);
  CHECK_EQ(write(p[1], "x", 1), 1);
  CHECK_EQ(cio_wait_fd(p[0], CIO_READABLE), CIO_READABLE);
  cio_close(p[0]);
  cio_close(p[1]);
  return 0;
}

/* ---- one reactor per thread ---- */

static int pong_fn(void *arg) {
  int fd = *(int *)arg;
  char buf[64];
  for (;;) {
    ssize_t n = cio_read(fd, buf, sizeof buf);
    if (n <= 0) return (int)n;
    if (cio_write_all(fd, buf, (size_t)n) != n) return -1;
  }
}

static int ping_main(void *arg) {
  int *ok = arg;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) return -1;
  cio_task *t = cio_spawn(pong_fn, &sv[1]);
  int good = 0;
  for (int i = 0; i < 2000; i++) {
    char msg[16], back[16];
    int len = snprintf(msg, sizeof msg, "m%d", i);
    if (cio_write_all(sv[0], msg, (size_t)len) != len) break;
    size_t got = 0;
    while (got < (size_t)len) {
      ssize_t n = cio_read(sv[0], back + got, (size_t)len - got);
      if (n <= 0) break;
      got += (size_t)n;
    }
    good += got == (size_t)len && memcmp(msg, back, (size_t)len) == 0;
  }
  cio_close(sv[0]);
  cio_await(t);
  cio_task_release(t);
  cio_close(sv[1]);
  *ok = good == 2000;
  return 0;
}

static void *ping_thread(void *arg) {
  cio_run(ping_main, arg);
  return NULL;
}

static void test_loops_on_threads(void) {
  enum { NT = 4 };
  pthread_t th[NT];
  int ok[NT] = {0};
  for (int i = 0; i < NT; i++) pthread_create(&th[i], NULL, ping_thread, &ok[i]);
  for (int i = 0; i < NT; i++) {
    pthread_join(th[i], NULL);
    CHECK_EQ(ok[i], 1);
  }
}

int main(void) {
  RUN(test_readable_after_write);
  RUN(test_ready_bit_kept_without_waiter);
  RUN(test_cancel_leaves_no_waiter);
  RUN(test_timeout_scope);
  RUN(test_busy_and_both_directions);
  RUN(test_forget_wakes_with_ebadf);
  RUN(test_forget_then_reuse_same_fd);
  RUN(test_close_unwatched_fd_keeps_waiters);
  RUN(test_many_fds);
  RUN(test_threadsafe_wakes_epoll);
  RUN(test_sub_ms_sleep_not_early);
  RUN(test_read_write_all_eof);
  RUN(test_read_cancel_and_epipe);
  RUN(test_outside_task);
  RUN(test_second_loop_part);
  RUN(test_second_loop_part);
  RUN(test_loops_on_threads);
  return test_report();
}
