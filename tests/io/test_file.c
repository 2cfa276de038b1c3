/* test_file.c - files through the thread pool: read/write/fsync round trip,
 * positional I/O, truncate/stat/seek, read_all of a multi-MB file and of
 * /proc files, errors, cancellation and timeouts while a job is blocked (a
 * FIFO nobody opens / writes), many concurrent reads, close vs free.
 * cio-test-labels: threads */
#include "test.h"
#include "test_loop.h"

#include <cio.h>
#include <cio/file.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static const char *path_of(const char *name) {
  static char buf[4][128];
  static int i;
  char *p = buf[i++ % 4];
  snprintf(p, sizeof buf[0], "%s/%s", dir, name);
  return p;
}

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  if (!d) return -1;
  while (readdir(d)) n++;
  closedir(d);
  return n;
}

/* Give the pool up to ~3 s to finish abandoned jobs (a bound, not a
 * timing assertion). */
static int fds_back_to(int want) {
  for (int i = 0; i < 300; i++) {
    if (count_fds() == want) return 1;
    cio_sleep(0.01);
  }
  return 0;
}

static void fill_pattern(char *buf, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) buf[i] = (char)((i + seed) * 2654435761u >> 11);
}

LOOP_TEST(test_roundtrip) {
  cio_file *f;
  const char *p = path_of("rt");
  CHECK_EQ(cio_file_open(p, O_RDWR | O_CREAT | O_TRUNC, 0600, &f), 0);
  CHECK(cio_file_fd(f) >= 0);
  CHECK(fcntl(cio_file_fd(f), F_GETFD) & FD_CLOEXEC);
  CHECK_EQ(cio_file_write(f, "hello world", 11), 11);
  CHECK_EQ(cio_file_fsync(f), 0);
  CHECK_EQ(cio_file_datasync(f), 0);
  char buf[32] = {0};
  CHECK_EQ(cio_file_read(f, buf, sizeof buf), 0); /* at the end */
  CHECK_EQ(cio_file_pread(f, buf, 5, 0), 5);
  CHECK(memcmp(buf, "hello", 5) == 0);
  CHECK_EQ(cio_file_seek(f, 6, SEEK_SET), 6);
  memset(buf, 0, sizeof buf);
  CHECK_EQ(cio_file_read(f, buf, sizeof buf), 5);
  CHECK_STR(buf, "world");
  struct stat st;
  CHECK_EQ(cio_file_stat(f, &st), 0);
  CHECK_EQ(st.st_size, 11);
  CHECK_EQ(cio_file_truncate(f, 5), 0);
  CHECK_EQ(cio_file_pwrite(f, "!!", 2, 5), 2);
  CHECK_EQ(cio_file_seek(f, 0, SEEK_CUR), 11); /* pwrite moved nothing */
  CHECK_EQ(cio_file_write(f, "", 0), 0);
  CHECK_EQ(cio_file_close(f), 0);
  cio_file_free(f);
  void *data;
  size_t len;
  CHECK_EQ(cio_file_read_all(p, &data, &len), 0);
  CHECK_EQ(len, 7);
  CHECK_STR(data, "hello!!");
  free(data);
  CHECK_EQ(cio_file_stat_path(p, &st), 0);
  CHECK_EQ(st.st_size, 7);
  CHECK_EQ(cio_file_close(NULL), 0);
  unlink(p);
  return 0;
}

LOOP_TEST(test_read_all_big) {
  size_t n = (8u << 20) + 12345;
  char *buf = malloc(n);
  fill_pattern(buf, n, 7);
  const char *p = path_of("big");
  CHECK_EQ(cio_file_write_all(p, buf, n, 1), 0);
  void *data;
  size_t len;
  CHECK_EQ(cio_file_read_all(p, &data, &len), 0);
  CHECK_EQ(len, n);
  CHECK(data && len == n && memcmp(data, buf, n) == 0);
  CHECK(data && ((char *)data)[len] == '\0');
  free(data);
  /* A file whose size stat does not know. */
  CHECK_EQ(cio_file_read_all("/proc/self/status", &data, &len), 0);
  CHECK(len > 0 && data && strstr(data, "Name:") != NULL);
  free(data);
  /* Empty file. */
  CHECK_EQ(cio_file_write_all(p, NULL, 0, 0), 0);
  CHECK_EQ(cio_file_read_all(p, &data, &len), 0);
  CHECK_EQ(len, 0);
  CHECK_STR(data, "");
  free(data);
  /* A write bigger than one job (CIO_FILE_MAX_IO), then reads of at most
   * one job's size each. */
  size_t big = CIO_FILE_MAX_IO + (1u << 20);
  char *b2 = malloc(big);
  fill_pattern(b2, big, 3);
  cio_file *f;
  CHECK_EQ(cio_file_open(p, O_RDWR | O_TRUNC, 0, &f), 0);
  CHECK_EQ(cio_file_write(f, b2, big), (ssize_t)big);
  CHECK_EQ(cio_file_seek(f, 0, SEEK_SET), 0);
  char *back = malloc(big);
  size_t got = 0;
  for (;;) {
    ssize_t r = cio_file_read(f, back + got, big - got);
    CHECK(r >= 0 && r <= (ssize_t)CIO_FILE_MAX_IO);
    if (r <= 0) break;
    got += (size_t)r;
  }
  CHECK_EQ(got, big);
  CHECK(memcmp(back, b2, big) == 0);
  CHECK_EQ(cio_file_close(f), 0);
  cio_file_free(f);
  free(back);
  free(b2);
  free(buf);
  unlink(p);
  return 0;
}

LOOP_TEST(test_errors) {
  cio_file *f = (cio_file *)1;
  CHECK_EQ(cio_file_open(path_of("missing"), O_RDONLY, 0, &f), -ENOENT);
  CHECK(f == NULL);
  void *data = (void *)1;
  size_t len = 1;
  CHECK_EQ(cio_file_read_all(path_of("missing"), &data, &len), -ENOENT);
  CHECK(data == NULL);
  CHECK_EQ(len, 0);
  struct stat st;
  CHECK_EQ(cio_file_stat_path(path_of("missing"), &st), -ENOENT);
  CHECK_EQ(cio_file_open(dir, O_WRONLY, 0, &f), -EISDIR);
  CHECK_EQ(cio_file_read_all(dir, &data, &len), -EISDIR);
  CHECK_EQ(cio_file_write_all(dir, "x", 1, 0), -EISDIR);
  char buf[4];
  CHECK_EQ(cio_file_read(NULL, buf, 4), -EBADF);
  CHECK_EQ(cio_file_open(NULL, O_RDONLY, 0, &f), -EINVAL);
  /* Reading a file opened write-only: the system call's error. */
  CHECK_EQ(cio_file_open(path_of("wo"), O_WRONLY | O_CREAT, 0600, &f), 0);
  CHECK_EQ(cio_file_read(f, buf, 4), -EBADF);
  CHECK_EQ(cio_file_pread(f, buf, 4, -1), -EINVAL);
  CHECK_EQ(cio_file_close(f), 0);
  cio_file_free(f);
  unlink(path_of("wo"));
  return 0;
}

static void test_outside_task(void) {
  cio_file *f;
  void *data;
  size_t len;
  CHECK_EQ(cio_file_open("/dev/null", O_RDONLY, 0, &f), -EPERM);
  CHECK_EQ(cio_file_read_all("/dev/null", &data, &len), -EPERM);
}

struct opener {
  const char *path;
  int flags;
  cio_file *f;
  int r;
};

static int open_task(void *arg) {
  struct opener *o = arg;
  o->r = cio_file_open(o->path, o->flags, 0, &o->f);
  return 0;
}

struct reader {
  cio_file *f;
  ssize_t r;
};

static int read_task(void *arg) {
  struct reader *rd = arg;
  char buf[100]; /* on this task's stack: the job must never write here late */
  memset(buf, 'x', sizeof buf);
  rd->r = cio_file_read(rd->f, buf, sizeof buf);
  return 0;
}

LOOP_TEST(test_cancel_while_job_blocked) {
  const char *fifo = path_of("fifo");
  CHECK_EQ(mkfifo(fifo, 0600), 0);
  int base = count_fds();

  /* open(O_WRONLY) of a FIFO without a reader blocks in the pool. */
  struct opener o = {fifo, O_WRONLY, NULL, 1};
  cio_task *t = cio_spawn(open_task, &o);
  cio_sleep(0.05);
  CHECK_EQ(cio_task_done(t), 0);
  double t0 = cio_loop_time(cio_loop_current());
  cio_task_cancel(t);
  CHECK_EQ(cio_await(t), 0);
  cio_task_release(t);
  CHECK(cio_loop_time(cio_loop_current()) - t0 < 1.0); /* at once (loose) */
  CHECK_EQ(o.r, -ECANCELED);
  CHECK(o.f == NULL);
  /* Let the job finish: its descriptor is closed, not leaked. */
  int rfd = open(fifo, O_RDONLY | O_NONBLOCK);
  CHECK(rfd >= 0);
  CHECK(fds_back_to(base + 1));
  close(rfd);

  /* A read blocked on an empty FIFO: cancel, close the file while the job
   * still runs, then feed the FIFO so the job ends. */
  cio_file *f;
  CHECK_EQ(cio_file_open(fifo, O_RDWR, 0, &f), 0);
  struct reader rd = {f, 1};
  t = cio_spawn(read_task, &rd);
  cio_sleep(0.05);
  cio_task_cancel(t);
  CHECK_EQ(cio_await(t), 0);
  cio_task_release(t);
  CHECK_EQ(rd.r, -ECANCELED);
  /* The fd stays open for the running job, then goes with it. */
  CHECK_EQ(cio_file_close(f), 0);
  CHECK_EQ(cio_file_fd(f), -1);
  cio_file_free(f);
  CHECK_EQ(count_fds(), base + 1);
  int wfd = open(fifo, O_WRONLY | O_NONBLOCK);
  CHECK(wfd >= 0);
  CHECK_EQ(write(wfd, "ping", 4), 4);
  CHECK(fds_back_to(base + 1)); /* the job's fd gone, wfd left */
  close(wfd);

  /* A timeout scope works the same way. */
  CHECK_EQ(cio_file_open(fifo, O_RDWR, 0, &f), 0);
  cio_timeout_scope sc;
  cio_timeout_begin(&sc, 0.05);
  char buf[8];
  CHECK_EQ(cio_file_read(f, buf, sizeof buf), -ETIMEDOUT);
  CHECK_EQ(cio_timeout_end(&sc), 1);
  wfd = open(fifo, O_WRONLY | O_NONBLOCK);
  CHECK_EQ(write(wfd, "pong", 4), 4);
  int queued = 4;
  for (int i = 0; i < 300 && queued > 0; i++) {
    cio_sleep(0.01);
    if (ioctl(wfd, FIONREAD, &queued) < 0) queued = -1;
  }
  CHECK_EQ(queued, 0);
  /* The abandoned job consumed "pong"; this read gets the next bytes. */
  CHECK_EQ(write(wfd, "next", 4), 4);
  memset(buf, 0, sizeof buf);
  CHECK_EQ(cio_file_read(f, buf, 4), 4);
  CHECK_STR(buf, "next");
  close(wfd);
  cio_file_free(f);
  CHECK(fds_back_to(base));
  unlink(fifo);
  return 0;
}

#define NREADERS 64
#define BLOCK    16384

struct blk {
  cio_file *f;
  int i;
  const char *expect;
  int ok;
};

static int block_reader(void *arg) {
  struct blk *b = arg;
  char *buf = malloc(BLOCK);
  ssize_t r = cio_file_pread(b->f, buf, BLOCK, (off_t)b->i * BLOCK);
  b->ok = r == BLOCK && memcmp(buf, b->expect + (size_t)b->i * BLOCK, BLOCK) == 0;
  free(buf);
  return 0;
}

struct whole {
  const char *path;
  size_t want;
  int ok;
};

static int whole_reader(void *arg) {
  struct whole *w = arg;
  void *data;
  size_t len;
  w->ok = cio_file_read_all(w->path, &data, &len) == 0 && len == w->want;
  free(data);
  return 0;
}

LOOP_TEST(test_many_concurrent_reads) {
  size_t n = (size_t)NREADERS * BLOCK;
  char *buf = malloc(n);
  fill_pattern(buf, n, 42);
  const char *p = path_of("many");
  CHECK_EQ(cio_file_write_all(p, buf, n, 0), 0);
  cio_file *f;
  CHECK_EQ(cio_file_open(p, O_RDONLY, 0, &f), 0);
  static struct blk b[NREADERS];
  static struct whole w[32];
  cio_task *t[NREADERS + 32];
  for (int i = 0; i < NREADERS; i++) {
    b[i] = (struct blk){f, i, buf, 0};
    t[i] = cio_spawn(block_reader, &b[i]);
  }
  for (int i = 0; i < 32; i++) {
    w[i] = (struct whole){p, n, 0};
    t[NREADERS + i] = cio_spawn(whole_reader, &w[i]);
  }
  CHECK_EQ(cio_gather(t, NREADERS + 32, NULL, 0), 0);
  int ok = 0;
  for (int i = 0; i < NREADERS; i++) ok += b[i].ok;
  for (int i = 0; i < 32; i++) ok += w[i].ok;
  CHECK_EQ(ok, NREADERS + 32);
  for (int i = 0; i < NREADERS + 32; i++) cio_task_release(t[i]);
  CHECK_EQ(cio_file_close(f), 0);
  cio_file_free(f);
  free(buf);
  unlink(p);
  return 0;
}

struct writer {
  cio_file *f;
  const char *data;
  size_t n;
  ssize_t r;
};

static int write_task(void *arg) {
  struct writer *w = arg;
  w->r = cio_file_write(w->f, w->data, w->n);
  return 0;
}

/* close is not free; closing or freeing under another task's call is safe. */
LOOP_TEST(test_close_then_free) {
  const char *p = path_of("cf");
  cio_file *f;
  CHECK_EQ(cio_file_open(p, O_RDWR | O_CREAT | O_TRUNC, 0600, &f), 0);
  int base = count_fds();
  CHECK_EQ(cio_file_close(f), 0);
  CHECK_EQ(count_fds(), base - 1);
  CHECK_EQ(cio_file_fd(f), -1);
  char buf[4];
  CHECK_EQ(cio_file_read(f, buf, 4), -EBADF);
  CHECK_EQ(cio_file_write(f, "x", 1), -EBADF);
  CHECK_EQ(cio_file_fsync(f), -EBADF);
  CHECK_EQ(cio_file_seek(f, 0, SEEK_SET), -EBADF);
  CHECK_EQ(cio_file_close(f), 0); /* again: fine */
  cio_file_free(f);
  /* Cancelled on entry: nothing done, the file stays open. */
  CHECK_EQ(cio_file_open(p, O_RDWR, 0, &f), 0);
  cio_task_cancel(cio_current());
  CHECK_EQ(cio_file_close(f), -ECANCELED);
  CHECK(cio_file_fd(f) >= 0);
  CHECK_EQ(cio_file_close(f), 0);
  cio_file_free(f);
  /* Free alone closes at once. */
  CHECK_EQ(cio_file_open(p, O_RDWR, 0, &f), 0);
  cio_file_free(f);
  CHECK_EQ(count_fds(), base - 1);
  /* A write of several jobs, the file closed by another task between two
   * of them: the job in progress finishes, the write stops with -EBADF. */
  size_t n = 2 * (size_t)CIO_FILE_MAX_IO + 1;
  char *big = calloc(1, n);
  CHECK(big != NULL);
  CHECK_EQ(cio_file_open(p, O_RDWR | O_TRUNC, 0, &f), 0);
  struct writer w = {f, big, n, 1};
  cio_task *t = cio_spawn(write_task, &w);
  wait_blocked(t);
  cio_file_free(f); /* the writer's job keeps the descriptor open */
  CHECK_EQ(join(t), 0);
  CHECK_EQ(w.r, -EBADF);
  struct stat st;
  CHECK_EQ(cio_file_stat_path(p, &st), 0);
  CHECK_EQ(st.st_size, CIO_FILE_MAX_IO); /* the first job's */
  CHECK(fds_back_to(base - 1));
  free(big);
  unlink(p);
  return 0;
}

LOOP_TEST(test_from_fd) {
  int pp[2];
  CHECK_EQ(pipe(pp), 0);
  cio_file *f = cio_file_from_fd(pp[0]);
  CHECK(f != NULL);
  CHECK_EQ(write(pp[1], "abc", 3), 3);
  char buf[8] = {0};
  CHECK_EQ(cio_file_read(f, buf, sizeof buf), 3);
  CHECK_STR(buf, "abc");
  close(pp[1]);
  CHECK_EQ(cio_file_read(f, buf, sizeof buf), 0);
  CHECK_EQ(cio_file_close(f), 0);
  cio_file_free(f);
  CHECK(fcntl(pp[0], F_GETFD) < 0); /* the file owned it */
  errno = 0;
  CHECK(cio_file_from_fd(-1) == NULL);
  CHECK_EQ(errno, EBADF);
  return 0;
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/cio-test-file-XXXXXX");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  RUN(test_outside_task);
  RUN(test_roundtrip);
  RUN(test_read_all_big);
  RUN(test_errors);
  RUN(test_cancel_while_job_blocked);
  RUN(test_many_concurrent_reads);
  RUN(test_close_then_free);
  RUN(test_from_fd);
  rmdir(dir);
  return test_report();
}
