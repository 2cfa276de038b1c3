/* file.c - file operations as thread-pool jobs (cio/exec.h).
 *
 * Every call builds a heap job record and hands it to
 * cio_run_in_executor_ex() with job_free as its release function: when the
 * call returns 0 the record is the caller's again (it reads the results and
 * frees it); when it fails, the caller was cancelled (or the job never
 * ran) and the pool frees the record, after the job if it runs. So a caller
 * that was cancelled simply goes; the job finishes on its own buffer (reads
 * land in the record's buffer and are copied out only on success, writes
 * are copied in before submission).
 *
 * Descriptors are reference counted too (struct fdref): the file holds one,
 * each call in progress and each job in flight holds one until it is over,
 * and close(2) happens when the last one goes. That keeps a running job
 * from reading from whatever file would reuse the descriptor number after
 * a close, and lets a file be closed or freed while another task is inside
 * a call on it: that call never touches the cio_file again after its
 * entry, and a write that needs more jobs sees `closed` and stops.
 */
#include "io_internal.h"
#include "cio/file.h"
#include "cio/exec.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fdref {
  atomic_int refs;
  int fd;
  bool closed; /* cio_file_close/free ran (loop thread only) */
};

struct cio_file {
  struct fdref *fr;
};

static struct fdref *fdref_take(struct fdref *r) {
  atomic_fetch_add(&r->refs, 1);
  return r;
}

/* Drop a reference; the last one closes. Returns close's result then, else 0. */
static int fdref_drop(struct fdref *r) {
  if (atomic_fetch_sub(&r->refs, 1) != 1) return 0;
  int c = close(r->fd) < 0 && errno != EINTR ? -errno : 0;
  cio__free(r);
  return c;
}

enum {
  OP_OPEN,
  OP_READ,
  OP_PREAD,
  OP_WRITE,
  OP_PWRITE,
  OP_FSYNC,
  OP_DATASYNC,
  OP_TRUNCATE,
  OP_FSTAT,
  OP_CLOSE,
  OP_READ_ALL,
  OP_WRITE_ALL,
  OP_STAT_PATH
};

struct job {
  int op;
  struct fdref *fr; /* the file's descriptor, held while the job may use it */
  char *path;       /* owned copy */
  int flags;        /* open flags; write_all: sync */
  mode_t mode;
  char *buf; /* owned: data read, or a copy of the data to write */
  size_t n;
  off_t off;
  ssize_t res; /* count (read/write/read_all) or close's result */
  int fd_new;  /* OP_OPEN: the new descriptor until the caller takes it */
  struct stat st;
};

/* Free a job record; what it still holds goes with it. */
static void job_free(struct job *j) {
  if (j->fr) fdref_drop(j->fr);         /* the job never ran */
  if (j->fd_new >= 0) close(j->fd_new); /* opened for a caller that left */
  cio__free(j->path);
  cio__free(j->buf);
  cio__free(j);
}

static void job_release(void *arg) { job_free(arg); }

static struct job *job_new(int op) {
  struct job *j = cio__calloc(1, sizeof *j);
  if (!j) return NULL;
  j->op = op;
  j->fd_new = -1;
  return j;
}

static ssize_t io_read(int fd, char *buf, size_t n, off_t off, bool positional) {
  for (;;) {
    ssize_t r = positional ? pread(fd, buf, n, off) : read(fd, buf, n);
    if (r >= 0) return r;
    if (errno != EINTR) return -errno;
  }
}

static ssize_t io_write_full(int fd, const char *buf, size_t n, off_t off, bool positional) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = positional ? pwrite(fd, buf + done, n - done, off + (off_t)done)
                           : write(fd, buf + done, n - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (w == 0) return -EIO;
    done += (size_t)w;
  }
  return (ssize_t)n;
}

static ssize_t read_all(struct job *j) {
  int fd = open(j->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  struct stat st;
  size_t cap = 65536;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
    cap = (size_t)st.st_size + 1; /* +1: EOF seen without growing; the NUL */
  char *buf = cio__malloc(cap);
  size_t len = 0;
  ssize_t r = buf ? 0 : -ENOMEM;
  while (r == 0) {
    if (cap - len < 2) {
      char *nb = cap < SIZE_MAX / 2 ? cio__realloc(buf, cap * 2) : NULL;
      if (!nb) {
        r = -ENOMEM;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    ssize_t n = io_read(fd, buf + len, cap - len - 1, 0, false);
    if (n < 0)
      r = n;
    else if (n == 0)
      break;
    else
      len += (size_t)n;
  }
  close(fd);
  if (r < 0) {
    cio__free(buf);
    return r;
  }
  buf[len] = '\0';
  j->buf = buf;
  return (ssize_t)len;
}

static ssize_t write_all(struct job *j) {
  int fd = open(j->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return -errno;
  ssize_t r = io_write_full(fd, j->buf, j->n, 0, false);
  if (r >= 0 && j->flags && fsync(fd) < 0) r = -errno;
  if (close(fd) < 0 && errno != EINTR && r >= 0) r = -errno;
  return r;
}

static ssize_t run_op(struct job *j) {
  int fd = j->fr ? j->fr->fd : -1;
  switch (j->op) {
  case OP_OPEN:
    j->fd_new = open(j->path, j->flags | O_CLOEXEC, j->mode);
    return j->fd_new < 0 ? -errno : 0;
  case OP_READ:
  case OP_PREAD: return io_read(fd, j->buf, j->n, j->off, j->op == OP_PREAD);
  case OP_WRITE:
  case OP_PWRITE: return io_write_full(fd, j->buf, j->n, j->off, j->op == OP_PWRITE);
  case OP_FSYNC: return fsync(fd) < 0 ? -errno : 0;
  case OP_DATASYNC: return fdatasync(fd) < 0 ? -errno : 0;
  case OP_TRUNCATE: return ftruncate(fd, j->off) < 0 ? -errno : 0;
  case OP_FSTAT: return fstat(fd, &j->st) < 0 ? -errno : 0;
  case OP_CLOSE: return 0; /* the drop below does it */
  case OP_READ_ALL: return read_all(j);
  case OP_WRITE_ALL: return write_all(j);
  case OP_STAT_PATH: return stat(j->path, &j->st) < 0 ? -errno : 0;
  default: return -EINVAL;
  }
}

/* The pool side. Runs on a pool thread; touches only the record. */
static int job_run(void *arg) {
  struct job *j = arg;
  ssize_t r = run_op(j);
  if (j->fr) {
    int c = fdref_drop(j->fr);
    j->fr = NULL;
    if (j->op == OP_CLOSE) r = c;
  }
  j->res = r;
  return r < 0 ? (int)r : 0;
}

/* Run j and wait. Returns 0 with the job's status (0 / -errno) in *status:
 * j is the caller's, to read and job_free; or the executor's error
 * (-ECANCELED...): j is gone (the pool frees it). */
static int submit(struct job *j, int *status) {
  return cio_run_in_executor_ex(NULL, job_run, j, job_release, status);
}

/* ---- public calls ---- */

static int prelude(const cio_file *f) {
  if (!cio_current()) return -EPERM;
  if (!f || !f->fr) return -EBADF;
  return 0;
}

static struct job *file_job(struct fdref *fr, int op) {
  struct job *j = job_new(op);
  if (j) j->fr = fdref_take(fr);
  return j;
}

static cio_file *file_wrap(int fd) {
  cio_file *f = cio__malloc(sizeof *f);
  struct fdref *r = cio__malloc(sizeof *r);
  if (!f || !r) {
    cio__free(f);
    cio__free(r);
    return NULL;
  }
  atomic_init(&r->refs, 1);
  r->fd = fd;
  r->closed = false;
  f->fr = r;
  return f;
}

int cio_file_open(const char *path, int flags, mode_t mode, cio_file **out) {
  if (!out) return -EINVAL;
  *out = NULL;
  if (!path) return -EINVAL;
  if (!cio_current()) return -EPERM;
  struct job *j = job_new(OP_OPEN);
  if (!j || !(j->path = cio__strdup(path))) {
    cio__free(j);
    return -ENOMEM;
  }
  j->flags = flags;
  j->mode = mode;
  int st;
  int r = submit(j, &st);
  if (r < 0) return r;
  if (st == 0) {
    cio_file *f = file_wrap(j->fd_new);
    if (f) {
      j->fd_new = -1; /* taken */
      *out = f;
    } else {
      st = -ENOMEM; /* job_free closes it */
    }
  }
  job_free(j);
  return st;
}

cio_file *cio_file_from_fd(int fd) {
  if (fd < 0 || fcntl(fd, F_GETFD) < 0) {
    errno = EBADF;
    return NULL;
  }
  cio_file *f = file_wrap(fd);
  if (!f) errno = ENOMEM;
  return f;
}

static ssize_t do_read(cio_file *f, void *buf, size_t n, off_t off, int op) {
  int r = prelude(f);
  if (r < 0) return r;
  if (n > CIO_FILE_MAX_IO) n = CIO_FILE_MAX_IO;
  struct job *j = file_job(f->fr, op);
  if (!j || !(j->buf = cio__malloc(n ? n : 1))) {
    if (j) job_free(j);
    return -ENOMEM;
  }
  j->n = n;
  j->off = off;
  int st;
  r = submit(j, &st);
  if (r < 0) return r;
  ssize_t res = st;
  if (st == 0) {
    res = j->res;
    if (res > 0) memcpy(buf, j->buf, (size_t)res);
  }
  job_free(j);
  return res;
}

ssize_t cio_file_read(cio_file *f, void *buf, size_t n) { return do_read(f, buf, n, 0, OP_READ); }

ssize_t cio_file_pread(cio_file *f, void *buf, size_t n, off_t off) {
  if (off < 0) return -EINVAL;
  return do_read(f, buf, n, off, OP_PREAD);
}

/* One job per CIO_FILE_MAX_IO bytes, holding the descriptor throughout:
 * f itself may be closed or freed by another task between two jobs. */
static ssize_t write_jobs(struct fdref *fr, const char *p, size_t n, off_t off, int op) {
  size_t done = 0;
  do { /* n == 0 still makes one (cancellable) call */
    if (fr->closed) return -EBADF;
    size_t chunk = n - done < CIO_FILE_MAX_IO ? n - done : CIO_FILE_MAX_IO;
    struct job *j = file_job(fr, op);
    if (!j || !(j->buf = cio__malloc(chunk ? chunk : 1))) {
      if (j) job_free(j);
      return -ENOMEM;
    }
    if (chunk) memcpy(j->buf, p + done, chunk);
    j->n = chunk;
    j->off = off + (off_t)done;
    int st;
    int r = submit(j, &st);
    if (r < 0) return r;
    job_free(j);
    if (st < 0) return st;
    done += chunk;
  } while (done < n);
  return (ssize_t)n;
}

static ssize_t do_write(cio_file *f, const void *buf, size_t n, off_t off, int op) {
  int r = prelude(f);
  if (r < 0) return r;
  struct fdref *fr = fdref_take(f->fr);
  ssize_t w = write_jobs(fr, buf, n, off, op);
  fdref_drop(fr);
  return w;
}

ssize_t cio_file_write(cio_file *f, const void *buf, size_t n) {
  return do_write(f, buf, n, 0, OP_WRITE);
}

ssize_t cio_file_pwrite(cio_file *f, const void *buf, size_t n, off_t off) {
  if (off < 0) return -EINVAL;
  return do_write(f, buf, n, off, OP_PWRITE);
}

static int simple(cio_file *f, int op, off_t arg, struct stat *st) {
  int r = prelude(f);
  if (r < 0) return r;
  struct job *j = file_job(f->fr, op);
  if (!j) return -ENOMEM;
  j->off = arg;
  int status;
  r = submit(j, &status);
  if (r < 0) return r;
  if (status == 0 && st) *st = j->st;
  job_free(j);
  return status;
}

int cio_file_fsync(cio_file *f) { return simple(f, OP_FSYNC, 0, NULL); }
int cio_file_datasync(cio_file *f) { return simple(f, OP_DATASYNC, 0, NULL); }

int cio_file_truncate(cio_file *f, off_t len) {
  if (len < 0) return -EINVAL;
  return simple(f, OP_TRUNCATE, len, NULL);
}

int cio_file_stat(cio_file *f, struct stat *st) {
  if (!st) return -EINVAL;
  return simple(f, OP_FSTAT, 0, st);
}

off_t cio_file_seek(cio_file *f, off_t off, int whence) {
  if (!f || !f->fr) return -EBADF;
  off_t r = lseek(f->fr->fd, off, whence);
  return r < 0 ? -errno : r;
}

int cio_file_fd(const cio_file *f) { return f && f->fr ? f->fr->fd : -1; }

int cio_file_close(cio_file *f) {
  if (!f || !f->fr) return 0;
  if (!cio_current()) return -EPERM;
  int r = cio_checkpoint();
  if (r < 0) return r;
  struct job *j = job_new(OP_CLOSE);
  if (!j) return -ENOMEM;
  /* From here f is closed whatever happens: the file's reference goes to
   * the job, which drops it in the pool (or, if it never runs, as it is
   * freed). */
  j->fr = f->fr;
  j->fr->closed = true;
  f->fr = NULL;
  int st;
  r = submit(j, &st);
  if (r < 0) return r;
  if (st == 0) st = (int)j->res;
  job_free(j);
  return st;
}

void cio_file_free(cio_file *f) {
  if (!f) return;
  if (f->fr) {
    f->fr->closed = true;
    fdref_drop(f->fr);
  }
  cio__free(f);
}

int cio_file_read_all(const char *path, void **data, size_t *len) {
  if (data) *data = NULL;
  if (len) *len = 0;
  if (!path || !data) return -EINVAL;
  if (!cio_current()) return -EPERM;
  struct job *j = job_new(OP_READ_ALL);
  if (!j || !(j->path = cio__strdup(path))) {
    cio__free(j);
    return -ENOMEM;
  }
  int st;
  int r = submit(j, &st);
  if (r < 0) return r;
  if (st == 0) {
    *data = j->buf;
    if (len) *len = (size_t)j->res;
    j->buf = NULL;
  }
  job_free(j);
  return st;
}

int cio_file_write_all(const char *path, const void *data, size_t len, int sync) {
  if (!path || (len && !data)) return -EINVAL;
  if (!cio_current()) return -EPERM;
  struct job *j = job_new(OP_WRITE_ALL);
  if (!j || !(j->path = cio__strdup(path)) || !(j->buf = cio__malloc(len ? len : 1))) {
    if (j) {
      cio__free(j->path);
      cio__free(j);
    }
    return -ENOMEM;
  }
  if (len) memcpy(j->buf, data, len);
  j->n = len;
  j->flags = sync != 0;
  int st;
  int r = submit(j, &st);
  if (r < 0) return r;
  job_free(j);
  return st;
}

int cio_file_stat_path(const char *path, struct stat *st) {
  if (!path || !st) return -EINVAL;
  if (!cio_current()) return -EPERM;
  struct job *j = job_new(OP_STAT_PATH);
  if (!j || !(j->path = cio__strdup(path))) {
    cio__free(j);
    return -ENOMEM;
  }
  int status;
  int r = submit(j, &status);
  if (r < 0) return r;
  if (status == 0) *st = j->st;
  job_free(j);
  return status;
}
