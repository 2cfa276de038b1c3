/* test_select_io.c - cio_select over the io layer's cases: descriptors
 * (cio_case_fd), stream input (cio_case_readable, plain and TLS) and
 * signals (cio_case_signal), mixed with queue cases. A chat server whose
 * connection tasks wait with one select on their outbox queue and their
 * stream (no writer task per client); cancellation and timeouts at the
 * select; streams and descriptors closed or freed under it; over-long
 * lines; EOF. */
#include "test.h"
#include "test_certs.h"
#include "test_loop.h"

#include <cio.h>
#include <cio/net.h>
#include <cio/signal.h>
#include <cio/tls.h>

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

static void unix_pair(int sv[2]) {
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) abort();
}

/* A task that sleeps, then writes one byte to a descriptor. */
struct later_write {
  int fd;
  double delay;
};

static int later_write_task(void *arg) {
  struct later_write *w = arg;
  int r = cio_sleep(w->delay);
  if (r < 0) return r;
  return write(w->fd, "x", 1) == 1 ? 0 : -errno;
}

/* A task in one select; its outcome lands in the struct. */
struct selector {
  cio_case cs[3];
  size_t n;
  ssize_t r;
};

static int select_task(void *arg) {
  struct selector *s = arg;
  s->r = cio_select(s->cs, s->n);
  return 0;
}

/* ---- descriptors ---- */

LOOP_TEST(test_fd_case) {
  int p[2];
  CHECK_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
  char c;
  /* Nothing to read: the timer wins. */
  cio_case cs[2] = {cio_case_fd(p[0], CIO_READABLE), cio_case_after(0.02)};
  CHECK_EQ(cio_select(cs, 2), 1);
  /* Written before the select: the registration's report completes it. */
  CHECK_EQ(write(p[1], "x", 1), 1);
  cs[0] = cio_case_fd(p[0], CIO_READABLE);
  cs[1] = cio_case_after(5.0);
  CHECK_EQ(cio_select(cs, 2), 0);
  CHECK_EQ(cs[0].status, CIO_READABLE);
  CHECK_EQ(read(p[0], &c, 1), 1);
  CHECK_EQ(read(p[0], &c, 1), -1); /* EAGAIN: now select waits for an edge */
  /* Written while the select waits. */
  struct later_write lw = {p[1], 0.01};
  cio_task *t = cio_spawn(later_write_task, &lw);
  cs[0] = cio_case_fd(p[0], CIO_READABLE);
  cs[1] = cio_case_after(5.0);
  CHECK_EQ(cio_select(cs, 2), 0);
  CHECK_EQ(cs[0].status, CIO_READABLE);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(read(p[0], &c, 1), 1);
  /* Writable: a pipe with room. Both directions in one case. */
  cs[0] = cio_case_fd(p[1], CIO_WRITABLE);
  CHECK_EQ(cio_select(cs, 1), 0);
  CHECK_EQ(cs[0].status, CIO_WRITABLE);
  /* The same descriptor in cio_wait_fd afterwards: the table is consistent. */
  CHECK_EQ(write(p[1], "y", 1), 1);
  CHECK_EQ(cio_wait_fd(p[0], CIO_READABLE), CIO_READABLE);
  CHECK_EQ(read(p[0], &c, 1), 1);
  /* Bad arguments complete the case with the error. */
  cs[0] = cio_case_fd(-1, CIO_READABLE);
  CHECK_EQ(cio_select(cs, 1), 0);
  CHECK_EQ(cs[0].status, -EBADF);
  cs[0] = cio_case_fd(p[0], 0);
  CHECK_EQ(cio_select(cs, 1), 0);
  CHECK_EQ(cs[0].status, -EINVAL);
  /* Two cases on one direction of one fd: the second cannot wait. */
  cio_case two[2] = {cio_case_fd(p[0], CIO_READABLE), cio_case_fd(p[0], CIO_READABLE)};
  CHECK_EQ(cio_select(two, 2), 1);
  CHECK_EQ(two[1].status, -EBUSY);
  /* Closed (cio_close) while a select waits on it: -EBADF. */
  struct selector sel = {{cio_case_fd(p[0], CIO_READABLE), cio_case_after(5.0)}, 2, 1};
  t = cio_spawn(select_task, &sel);
  wait_blocked(t);
  /* Another task cannot wait on that direction meanwhile. */
  CHECK_EQ(cio_wait_fd(p[0], CIO_READABLE), -EBUSY);
  CHECK_EQ(cio_close(p[0]), 0);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(sel.r, 0);
  CHECK_EQ(sel.cs[0].status, -EBADF);
  cio_close(p[1]);
  return 0;
}

/* Cancelled or timed out while waiting: nothing completes and the fd's
 * slot is free again; forgotten while waiting: -EBADF; a readiness the
 * table kept may be stale (the data was read meanwhile): the case says
 * ready, the read says EAGAIN, and the next select waits for a new edge. */
LOOP_TEST(test_fd_case_interrupted) {
  int p[2];
  CHECK_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
  char c;
  struct selector sel = {{cio_case_fd(p[0], CIO_READABLE)}, 1, 1};
  cio_task *t = cio_spawn(select_task, &sel);
  wait_blocked(t);
  cio_task_cancel(t);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(sel.r, -ECANCELED);
  /* The slot was released: a plain wait may use it. */
  struct later_write lw = {p[1], 0.01};
  t = cio_spawn(later_write_task, &lw);
  CHECK_EQ(cio_wait_fd(p[0], CIO_READABLE), CIO_READABLE);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(read(p[0], &c, 1), 1);
  /* A timeout scope interrupts it the same way. */
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 0.02);
  cio_case cs[2] = {cio_case_fd(p[0], CIO_READABLE), cio_case_after(5.0)};
  CHECK_EQ(cio_select(cs, 2), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&sc), 1);
  /* Forgotten (the owner is about to hand the fd on): -EBADF. */
  sel = (struct selector){{cio_case_fd(p[0], CIO_READABLE), cio_case_after(5.0)}, 2, 1};
  t = cio_spawn(select_task, &sel);
  wait_blocked(t);
  cio_fd_forget(p[0]);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(sel.r, 0);
  CHECK_EQ(sel.cs[0].status, -EBADF);
  /* A kept readiness gone stale: reported, then the read says EAGAIN. */
  CHECK_EQ(write(p[1], "x", 1), 1);
  cs[0] = cio_case_fd(p[0], CIO_READABLE);
  cs[1] = cio_case_after(0.02);
  CHECK_EQ(cio_select(cs, 2), 0); /* registered again: reported */
  CHECK_EQ(read(p[0], &c, 1), 1);
  CHECK_EQ(write(p[1], "y", 1), 1);
  settle_io();                    /* the edge is kept in the table */
  CHECK_EQ(read(p[0], &c, 1), 1); /* ...and consumed behind its back */
  cs[0] = cio_case_fd(p[0], CIO_READABLE);
  cs[1] = cio_case_after(5.0);
  CHECK_EQ(cio_select(cs, 2), 0);
  CHECK_EQ(cs[0].status, CIO_READABLE);
  CHECK_EQ(read(p[0], &c, 1), -1);
  CHECK_EQ(errno, EAGAIN);
  cs[0] = cio_case_fd(p[0], CIO_READABLE);
  cs[1] = cio_case_after(0.02);
  CHECK_EQ(cio_select(cs, 2), 1); /* no new edge: it waits */
  cio_close(p[0]);
  cio_close(p[1]);
  return 0;
}

/* ---- stream input ---- */

static int later_send_task(void *arg) {
  struct later_write *w = arg;
  int r = cio_sleep(w->delay);
  if (r < 0) return r;
  return write(w->fd, "hello\n", 6) == 6 ? 0 : -errno;
}

LOOP_TEST(test_readable_case) {
  int sv[2];
  unix_pair(sv);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 0, NULL);
  char buf[64];
  /* Nothing yet: the queue wins. */
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(7)), 0);
  cio_case cs[3] = {cio_case_readable(s), cio_case_get(q), cio_case_after(5.0)};
  CHECK_EQ(cio_select(cs, 3), 1);
  CHECK_EQ(NUM(cs[1].item), 7);
  /* Data arrives while the select waits; read returns it without waiting. */
  struct later_write lw = {sv[1], 0.01};
  cio_task *t = cio_spawn(later_send_task, &lw);
  cs[0] = cio_case_readable(s);
  cs[1] = cio_case_get(q);
  cs[2] = cio_case_after(5.0);
  CHECK_EQ(cio_select(cs, 3), 0);
  CHECK_EQ(cs[0].status, 0);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(cio_stream_buffered(s), 6); /* the case read it in */
  CHECK_EQ(cio_stream_read(s, buf, sizeof buf), 6);
  CHECK_EQ(cio_queue_size(q), 0); /* the get case took nothing */
  /* Already buffered: ready at once, and again until it is read. */
  CHECK_EQ(write(sv[1], "ab", 2), 2);
  CHECK_EQ(cio_stream_read(s, buf, 1), 1); /* "a" read, "b" stays buffered */
  cs[0] = cio_case_readable(s);
  CHECK_EQ(cio_select(cs, 1), 0);
  CHECK_EQ(cio_select(cs, 1), 0);
  CHECK_EQ(cio_stream_read(s, buf, sizeof buf), 1);
  /* EOF makes it ready: the read returns 0. */
  close(sv[1]);
  cs[0] = cio_case_readable(s);
  cs[1] = cio_case_after(5.0);
  CHECK_EQ(cio_select(cs, 2), 0);
  CHECK_EQ(cio_stream_read(s, buf, sizeof buf), 0);
  CHECK_EQ(cio_select(cs, 1), 0); /* still: EOF is for good */
  /* Closed: the case fails at once. */
  cio_stream_close(s);
  CHECK_EQ(cio_select(cs, 1), 0);
  CHECK_EQ(cs[0].status, -EBADF);
  cio_stream_free(s);
  cio_queue_free(q);
  return 0;
}

/* An over-long line whose skip was interrupted: the select finishes the
 * skip as far as input goes and completes once a read can report it. */
LOOP_TEST(test_readable_over_long_line) {
  int sv[2];
  unix_pair(sv);
  cio_stream_opts o = {.limit = 8};
  cio_stream *s = cio_stream_new(sv[0], &o);
  char buf[64];
  CHECK_EQ(write(sv[1], "0123456789abcdef", 16), 16); /* no newline yet */
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 0.02);
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&sc), 1);
  /* Still inside the line: more of it is not "readable". */
  CHECK_EQ(write(sv[1], "ghij", 4), 4);
  cio_case cs[2] = {cio_case_readable(s), cio_case_after(0.05)};
  CHECK_EQ(cio_select(cs, 2), 1);
  /* Its end and the next line arrive: ready; the read reports the skip. */
  CHECK_EQ(write(sv[1], "klm\nok\n", 7), 7);
  cs[0] = cio_case_readable(s);
  cs[1] = cio_case_after(5.0);
  CHECK_EQ(cio_select(cs, 2), 0);
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), -EMSGSIZE);
  CHECK_EQ(cio_stream_readline(s, buf, sizeof buf), 3);
  CHECK(memcmp(buf, "ok\n", 3) == 0);
  cio_stream_free(s);
  close(sv[1]);
  return 0;
}

/* Cancellation and timeouts interrupt the select: nothing completes, the
 * stream and the queue are untouched and usable. */
LOOP_TEST(test_readable_cancel_timeout) {
  int sv[2];
  unix_pair(sv);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 0, NULL);
  struct selector sel = {{cio_case_readable(s), cio_case_get(q)}, 2, 1};
  cio_task *t = cio_spawn(select_task, &sel);
  wait_blocked(t);
  CHECK_STR(cio_task_waiting_on(t), "select");
  /* A read of another task must wait too: the select is s's reader. */
  char buf[8];
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 1.0);
  CHECK_EQ(cio_stream_read(s, buf, sizeof buf), -EBUSY);
  cio_timeout_end(&sc);
  cio_task_cancel(t);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(sel.r, -ECANCELED);
  cio_timeout_begin(&sc, 0.02);
  cio_case cs[2] = {cio_case_readable(s), cio_case_get(q)};
  CHECK_EQ(cio_select(cs, 2), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&sc), 1);
  /* Usable afterwards: a read waits and gets the data. */
  struct later_write lw = {sv[1], 0.01};
  t = cio_spawn(later_send_task, &lw);
  CHECK_EQ(cio_stream_read(s, buf, sizeof buf), 6);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(1)), 0);
  void *item;
  CHECK_EQ(cio_queue_get(q, &item), 0);
  cio_stream_free(s);
  cio_queue_free(q);
  close(sv[1]);
  return 0;
}

/* Freed or closed under the select: -EBADF, and no use of freed memory
 * (ASan watches). */
LOOP_TEST(test_readable_freed_under_select) {
  int sv[2];
  unix_pair(sv);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  struct selector sel = {{cio_case_readable(s), cio_case_after(5.0)}, 2, 1};
  cio_task *t = cio_spawn(select_task, &sel);
  wait_blocked(t);
  cio_stream_free(s);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(sel.r, 0);
  CHECK_EQ(sel.cs[0].status, -EBADF);
  close(sv[1]);
  /* Closed: the same. */
  unix_pair(sv);
  s = cio_stream_new(sv[0], NULL);
  sel = (struct selector){{cio_case_readable(s), cio_case_after(5.0)}, 2, 1};
  t = cio_spawn(select_task, &sel);
  wait_blocked(t);
  cio_stream_close(s);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(sel.r, 0);
  CHECK_EQ(sel.cs[0].status, -EBADF);
  cio_stream_free(s);
  close(sv[1]);
  /* Data arrives and the stream is freed before the selecting task runs. */
  unix_pair(sv);
  s = cio_stream_new(sv[0], NULL);
  sel = (struct selector){{cio_case_readable(s), cio_case_after(5.0)}, 2, 1};
  t = cio_spawn(select_task, &sel);
  wait_blocked(t);
  CHECK_EQ(write(sv[1], "z", 1), 1);
  for (int i = 0; i < 1000 && cio_task_get_state(t) == CIO_TASK_WAITING; i++) cio_yield();
  cio_stream_free(s);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(sel.r, 0);
  CHECK(sel.cs[0].status == -EBADF || sel.cs[0].status == 0);
  close(sv[1]);
  return 0;
}

/* A task woken by the same poll as a selecting task, just before it (it
 * waits on a pipe written first; woken tasks run in the order the poll
 * reported them): it takes the stream's input behind the select's back,
 * and may free a second stream. */
struct thief {
  int wake_fd;   /* the pipe's read end */
  int victim_fd; /* the stream's socket */
  cio_stream *free_me;
  ssize_t took;
};

static int thief_task(void *arg) {
  struct thief *th = arg;
  int r = cio_wait_fd(th->wake_fd, CIO_READABLE);
  if (r < 0) return r;
  char c;
  th->took = recv(th->victim_fd, &c, 1, 0);
  if (th->free_me) cio_stream_free(th->free_me);
  return 0;
}

/* A wake-up whose data is gone when the selecting task runs: the case is
 * stale, the select waits again and completes with the next data. */
LOOP_TEST(test_readable_stale_rewait) {
  int sv[2], p[2];
  unix_pair(sv);
  CHECK_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
  cio_stream *s = cio_stream_new(sv[0], NULL);
  struct selector sel = {{cio_case_readable(s), cio_case_after(5.0)}, 2, 1};
  cio_task *t = cio_spawn(select_task, &sel);
  wait_blocked(t);
  struct thief th = {p[0], sv[0], NULL, 0};
  cio_task *tt = cio_spawn(thief_task, &th);
  wait_blocked(tt);
  settle_io(); /* registrations reported: the poll below has only our two */
  CHECK_EQ(write(p[1], "x", 1), 1);
  CHECK_EQ(write(sv[1], "z", 1), 1);
  CHECK_EQ(join(tt), 0);
  CHECK_EQ(th.took, 1); /* the thief ran first: the select's wake-up is stale */
  wait_blocked(t);      /* it found nothing and waits again */
  CHECK_EQ(cio_stream_buffered(s), 0);
  CHECK_EQ(write(sv[1], "w", 1), 1);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(sel.r, 0);
  CHECK_EQ(sel.cs[0].status, 0);
  char c;
  CHECK_EQ(cio_stream_read(s, &c, 1), 1);
  CHECK_EQ(c, 'w');
  CHECK_EQ(read(p[0], &c, 1), 1);
  /* One case stale while the stream of another is freed: the next round
   * reports the freed one (-EBADF) without touching its memory. */
  int sv2[2];
  unix_pair(sv2);
  cio_stream *s2 = cio_stream_new(sv2[0], NULL);
  struct selector two = {{cio_case_readable(s), cio_case_readable(s2), cio_case_after(5.0)}, 3, 1};
  t = cio_spawn(select_task, &two);
  wait_blocked(t);
  th = (struct thief){p[0], sv[0], s2, 0};
  tt = cio_spawn(thief_task, &th);
  wait_blocked(tt);
  settle_io();
  CHECK_EQ(write(p[1], "x", 1), 1);
  CHECK_EQ(write(sv[1], "z", 1), 1);
  CHECK_EQ(join(tt), 0);
  CHECK_EQ(th.took, 1);
  CHECK_EQ(join(t), 0);
  CHECK_EQ(two.r, 1);
  CHECK_EQ(two.cs[1].status, -EBADF);
  close(sv2[1]);
  cio_stream_free(s);
  close(sv[1]);
  cio_close(p[0]);
  close(p[1]);
  return 0;
}

/* ---- a chat server: one select per connection, no writer task ---- */

#define CHAT_CLIENTS 4
#define CHAT_LINES   20

struct chat {
  cio_queue *outbox[CHAT_CLIENTS];
  int joined;
  int errors;
};

struct chat_conn {
  struct chat *chat;
  int id;
};

/* Broadcast a line to every other member's outbox (copied). */
static void chat_broadcast(struct chat *ch, int from, const char *line, size_t n) {
  for (int i = 0; i < CHAT_CLIENTS; i++) {
    if (i == from || !ch->outbox[i]) continue;
    char *m = malloc(n + 1);
    memcpy(m, line, n);
    m[n] = '\0';
    if (cio_queue_put_nowait(ch->outbox[i], m) < 0) {
      free(m);
      ch->errors++;
    }
  }
}

static int chat_handler(cio_stream *s, void *arg) {
  struct chat *ch = arg;
  char hello[8];
  /* The client names itself: its number and a newline. */
  if (cio_stream_readline(s, hello, sizeof hello) != 2) return -EPROTO;
  int id = hello[0] - '0';
  if (id < 0 || id >= CHAT_CLIENTS) return -EPROTO;
  cio_queue *outbox = ch->outbox[id];
  ch->joined++;
  char line[256];
  size_t have = 0;
  int r = 0;
  for (;;) {
    cio_case cs[2] = {cio_case_get(outbox), cio_case_readable(s)};
    ssize_t i = cio_select(cs, 2);
    if (i < 0) {
      r = (int)i;
      break;
    }
    if (i == 0) { /* a message for this client */
      char *m = cs[0].item;
      r = cio_stream_write(s, m, strlen(m));
      free(m);
      if (r == 0) r = cio_stream_drain(s);
      if (r < 0) break;
      continue;
    }
    if (cs[1].status < 0) {
      r = cs[1].status;
      break;
    }
    /* Readable: read what is there (never waits), split into lines. */
    ssize_t n = cio_stream_read(s, line + have, sizeof line - have);
    if (n <= 0) {
      r = (int)n;
      break;
    }
    have += (size_t)n;
    char *nl;
    while ((nl = memchr(line, '\n', have))) {
      size_t len = (size_t)(nl - line) + 1;
      chat_broadcast(ch, id, line, len);
      memmove(line, line + len, have - len);
      have -= len;
    }
  }
  return r;
}

struct chat_client {
  int port;
  int id;
  int got; /* lines received */
  int bad; /* lines not from another client */
  int r;
  cio_event *all_joined;
};

static int chat_client_task(void *arg) {
  struct chat_client *c = arg;
  cio_stream *s = NULL;
  int r = cio_open_connection("127.0.0.1", c->port, NULL, &s);
  if (r < 0) return c->r = r;
  char line[64];
  int n = snprintf(line, sizeof line, "%d\n", c->id);
  r = cio_stream_write(s, line, (size_t)n);
  if (r == 0) r = cio_event_wait(c->all_joined);
  /* Send every line in a few writes, then read the others' lines. */
  for (int k = 0; k < CHAT_LINES && r == 0; k++) {
    n = snprintf(line, sizeof line, "from %d line %d\n", c->id, k);
    r = cio_stream_write(s, line, (size_t)n);
    if (k % 5 == 4 && r == 0) r = cio_yield();
  }
  int want = (CHAT_CLIENTS - 1) * CHAT_LINES;
  while (r == 0 && c->got < want) {
    ssize_t len = cio_stream_readline(s, line, sizeof line);
    if (len <= 0) {
      r = len < 0 ? (int)len : -EPIPE;
      break;
    }
    int from = -1, k = -1;
    if (sscanf(line, "from %d line %d", &from, &k) != 2 || from == c->id || from < 0 ||
        from >= CHAT_CLIENTS)
      c->bad++;
    c->got++;
  }
  cio_stream_free(s);
  return c->r = r;
}

LOOP_TEST(test_chat_server) {
  struct chat ch = {{0}, 0, 0};
  for (int i = 0; i < CHAT_CLIENTS; i++) ch.outbox[i] = cio_queue_new(CIO_QUEUE_FIFO, 0, NULL);
  cio_server *srv = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, chat_handler, &ch, NULL, &srv), 0);
  struct chat_client cl[CHAT_CLIENTS];
  cio_task *t[CHAT_CLIENTS];
  cio_event *joined = cio_event_new();
  for (int i = 0; i < CHAT_CLIENTS; i++) {
    cl[i] = (struct chat_client){cio_server_port(srv), i, 0, 0, 1, joined};
    t[i] = cio_spawn(chat_client_task, &cl[i]);
  }
  for (int i = 0; i < 2000 && ch.joined < CHAT_CLIENTS; i++) cio_sleep(0.002);
  CHECK_EQ(ch.joined, CHAT_CLIENTS);
  cio_event_set(joined);
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 30.0);
  for (int i = 0; i < CHAT_CLIENTS; i++) CHECK_EQ(join(t[i]), 0);
  CHECK_EQ(cio_timeout_end(&sc), 0);
  for (int i = 0; i < CHAT_CLIENTS; i++) {
    CHECK_EQ(cl[i].r, 0);
    CHECK_EQ(cl[i].got, (CHAT_CLIENTS - 1) * CHAT_LINES);
    CHECK_EQ(cl[i].bad, 0);
  }
  CHECK_EQ(ch.errors, 0);
  /* The clients are gone: every handler saw EOF and returned. */
  CHECK_EQ(cio_server_close(srv, 5.0), 0);
  cio_server_free(srv);
  for (int i = 0; i < CHAT_CLIENTS; i++) {
    void *m;
    while (cio_queue_get_nowait(ch.outbox[i], &m) == 0) free(m);
    cio_queue_free(ch.outbox[i]);
  }
  cio_event_free(joined);
  return 0;
}

/* ---- TLS ---- */

static int tls_echo_handler(cio_stream *s, void *arg) {
  (void)arg;
  char buf[256];
  for (;;) {
    cio_case cs[1] = {cio_case_readable(s)};
    ssize_t i = cio_select(cs, 1);
    if (i < 0) return (int)i;
    if (cs[0].status < 0) return cs[0].status;
    ssize_t n = cio_stream_read(s, buf, sizeof buf);
    if (n <= 0) return (int)n;
    int r = cio_stream_write(s, buf, (size_t)n);
    if (r == 0) r = cio_stream_drain(s);
    if (r < 0) return r;
  }
}

static int have_certs;

LOOP_TEST(test_readable_tls) {
  if (!have_certs) {
    printf("skip test_readable_tls: no certificates (openssl missing?)\n");
    return 0;
  }
  cio_tls_ctx *sc = certs_server_ctx(), *cc = certs_client_ctx();
  CHECK(sc && cc);
  cio_server_opts so = {.tls = sc};
  cio_server *srv = NULL;
  CHECK_EQ(cio_start_server("127.0.0.1", 0, tls_echo_handler, NULL, &so, &srv), 0);
  cio_connect_opts co = {.tls = cc, .server_name = "localhost", .timeout = 10};
  cio_stream *s = NULL;
  CHECK_EQ(cio_open_connection("127.0.0.1", cio_server_port(srv), &co, &s), 0);
  char buf[256];
  for (int k = 0; k < 20; k++) {
    char msg[32];
    int n = snprintf(msg, sizeof msg, "message %d", k);
    CHECK_EQ(cio_stream_write(s, msg, (size_t)n), 0);
    size_t got = 0;
    while (got < (size_t)n) {
      cio_case cs[2] = {cio_case_readable(s), cio_case_after(10.0)};
      CHECK_EQ(cio_select(cs, 2), 0);
      CHECK_EQ(cs[0].status, 0);
      ssize_t r = cio_stream_read(s, buf + got, sizeof buf - got);
      CHECK(r > 0);
      if (r <= 0) break;
      got += (size_t)r;
    }
    CHECK(got == (size_t)n && memcmp(buf, msg, (size_t)n) == 0);
  }
  /* Nothing more: the timer wins; the TLS stream is still fine after. */
  cio_case cs[2] = {cio_case_readable(s), cio_case_after(0.02)};
  CHECK_EQ(cio_select(cs, 2), 1);
  CHECK_EQ(cio_stream_write(s, "bye", 3), 0);
  CHECK_EQ(cio_stream_readexactly(s, buf, 3, NULL), 3);
  cio_stream_free(s);
  CHECK_EQ(cio_server_close(srv, 5.0), 0);
  cio_server_free(srv);
  cio_tls_ctx_free(sc);
  cio_tls_ctx_free(cc);
  return 0;
}

/* ---- signals ---- */

static int raise_later(void *arg) {
  int signo = *(int *)arg;
  int r = cio_sleep(0.01);
  if (r < 0) return r;
  return raise(signo) == 0 ? 0 : -errno;
}

LOOP_TEST(test_signal_case) {
  int usr1 = SIGUSR1;
  cio_queue *q = cio_queue_new(CIO_QUEUE_FIFO, 0, NULL);
  /* Delivered while the select waits. */
  cio_task *t = cio_spawn(raise_later, &usr1);
  cio_case cs[3] = {cio_case_get(q), cio_case_signal(SIGUSR1), cio_case_after(5.0)};
  CHECK_EQ(cio_select(cs, 3), 1);
  CHECK_EQ(cs[1].status, 0);
  CHECK_EQ((int)(intptr_t)cs[1].item, SIGUSR1);
  CHECK_EQ(join(t), 0);
  /* The select watches the signal from then on: a delivery while nobody
   * waits is kept, and the next select takes it at once. */
  CHECK_EQ(raise(SIGUSR1), 0);
  settle_io();
  cs[0] = cio_case_signal(SIGUSR1);
  cs[1] = cio_case_after(0);
  CHECK_EQ(cio_select(cs, 2), 0);
  cs[0] = cio_case_signal(SIGUSR1);
  CHECK_EQ(cio_select(cs, 2), 1); /* consumed: not again */
  /* Another task waiting with cio_signal_wait is woken by the same
   * delivery. */
  struct selector sel = {{cio_case_signal(SIGUSR1), cio_case_after(5.0)}, 2, 1};
  cio_task *st = cio_spawn(select_task, &sel);
  wait_blocked(st);
  t = cio_spawn(raise_later, &usr1);
  CHECK_EQ(cio_signal_wait(SIGUSR1), 0);
  CHECK_EQ(join(st), 0);
  CHECK_EQ(sel.r, 0);
  CHECK_EQ(join(t), 0);
  /* Delivered while the select was already woken by another case: the
   * delivery is kept for the next wait, not lost. */
  sel = (struct selector){{cio_case_get(q), cio_case_signal(SIGUSR1)}, 2, 1};
  st = cio_spawn(select_task, &sel);
  wait_blocked(st);
  CHECK_EQ(cio_queue_put_nowait(q, ITEM(9)), 0);
  CHECK_EQ(raise(SIGUSR1), 0);
  CHECK_EQ(join(st), 0);
  CHECK_EQ(sel.r, 0);
  CHECK_EQ(NUM(sel.cs[0].item), 9);
  settle_io();
  cs[0] = cio_case_signal(SIGUSR1);
  cs[1] = cio_case_after(5.0);
  CHECK_EQ(cio_select(cs, 2), 0);
  CHECK_EQ(cs[0].status, 0);
  /* A timeout scope interrupts the select; the signal stays watched. */
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 0.02);
  cs[0] = cio_case_signal(SIGUSR1);
  CHECK_EQ(cio_select(cs, 1), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&sc), 1);
  /* Unwatching while a select waits for it is refused. */
  sel = (struct selector){{cio_case_signal(SIGUSR1)}, 1, 1};
  st = cio_spawn(select_task, &sel);
  wait_blocked(st);
  CHECK_EQ(cio_signal_unwatch(SIGUSR1), -EBUSY);
  CHECK_EQ(raise(SIGUSR1), 0);
  CHECK_EQ(join(st), 0);
  CHECK_EQ(sel.r, 0);
  /* Refused signals. */
  cs[0] = cio_case_signal(SIGKILL);
  CHECK_EQ(cio_select(cs, 1), 0);
  CHECK_EQ(cs[0].status, -EINVAL);
  /* Cancelled at the select: the signal is still watched, and not lost. */
  sel = (struct selector){{cio_case_signal(SIGUSR1)}, 1, 1};
  st = cio_spawn(select_task, &sel);
  wait_blocked(st);
  cio_task_cancel(st);
  CHECK_EQ(join(st), 0);
  CHECK_EQ(sel.r, -ECANCELED);
  CHECK_EQ(raise(SIGUSR1), 0);
  CHECK_EQ(cio_signal_wait(SIGUSR1), 0);
  CHECK_EQ(cio_signal_unwatch(SIGUSR1), 0);
  cio_queue_free(q);
  return 0;
}

int main(void) {
  have_certs = certs_make() == 0;
  RUN(test_fd_case);
  RUN(test_fd_case_interrupted);
  RUN(test_readable_case);
  RUN(test_readable_over_long_line);
  RUN(test_readable_cancel_timeout);
  RUN(test_readable_freed_under_select);
  RUN(test_readable_stale_rewait);
  RUN(test_chat_server);
  RUN(test_readable_tls);
  RUN(test_signal_case);
  if (have_certs) certs_remove();
  return test_report();
}
