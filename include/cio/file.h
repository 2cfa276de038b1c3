/* cio/file.h - files that never block the loop.
 *
 * Regular files are always "ready" for epoll, yet reading them can block on
 * the disk (and closing or fsync-ing them even longer), so every operation
 * here runs as a job on the exec layer's default thread pool (cio/exec.h)
 * while the calling task suspends and the loop goes on.
 *
 * Cancellation. A cancelled (or timed-out) call returns -ECANCELED
 * (-ETIMEDOUT) at once. A job still queued never runs; one already running
 * finishes in the pool on its own memory: data is read into a buffer of the
 * job and copied into the caller's only when the call succeeds, and data to
 * write is copied before the job starts, so no job ever touches the caller's
 * buffers after the call returned. What a cancelled job did (bytes written,
 * the file position moved, a file created) stays done. A file is closed only
 * once no job of it is still running, so its descriptor number is never
 * reused under a running job.
 *
 * Lifetime. cio_file_close() closes (through the pool: close(2) can block,
 * on NFS for one) and cio_file_free() frees; a closed file stays valid
 * until freed, its calls failing with -EBADF. Another task may close or
 * free f while a call on it is in progress: that call finishes the job it
 * is waiting for and returns its result (a write of several jobs stops
 * with -EBADF before the next one); it never touches f again.
 *
 * Threads. Each job holds a pool thread while it runs: a call that blocks
 * for good (a FIFO nobody opens, a terminal) holds one until it ends, even
 * after its caller was cancelled. The default pool has min(32, ncpu + 4)
 * threads; jobs beyond that queue.
 *
 * Limits. A single read returns at most CIO_FILE_MAX_IO bytes (ask again
 * for more, as with read(2)); writes of any size are split into jobs of that
 * size and written fully.
 *
 * All calls may suspend unless said otherwise, and return 0 / a count, or a
 * negative errno: the error of the system call, -ECANCELED, -ETIMEDOUT,
 * -ENOMEM, -EPERM outside a task, -EBADF after cio_file_close, or the
 * executor's errors (-ESHUTDOWN, -EAGAIN). Buffers are the caller's
 * (borrowed for the call). Loop thread only. Link with cio-io (which
 * brings cio-exec).
 */
#ifndef CIO_FILE_H
#define CIO_FILE_H

#include "task.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_file cio_file;

#define CIO_FILE_MAX_IO (16u * 1024u * 1024u)

/* open(2) with the given flags (O_CLOEXEC is added) and mode (for
 * O_CREAT). path is copied. On success *out is the file, owned by the
 * caller: cio_file_close() it (from a task), then cio_file_free() it (free
 * alone closes at once). On failure *out is NULL. Returns 0, -EINVAL (path
 * or out NULL), or -errno (-ENOENT...). May suspend. */
CIO_API int cio_file_open(const char *path, int flags, mode_t mode, cio_file **out);

/* Adopt an fd the caller opened (ownership passes to the file, which the
 * caller owns: cio_file_free). NULL + errno (ENOMEM, EBADF) on failure
 * (then the caller still owns fd). Never suspends. */
CIO_API cio_file *cio_file_from_fd(int fd);

/* read(2) / write(2) at the file position, which they advance. read returns
 * the count (0 at end of file, at most min(n, CIO_FILE_MAX_IO)); write writes
 * all n bytes and returns n (on an error after part of it was written the
 * error is returned and the part stays written). May suspend. */
CIO_API ssize_t cio_file_read(cio_file *f, void *buf, size_t n);
CIO_API ssize_t cio_file_write(cio_file *f, const void *buf, size_t n);

/* pread(2) / pwrite(2) at offset off (-EINVAL if negative); the file
 * position does not move. May suspend. */
CIO_API ssize_t cio_file_pread(cio_file *f, void *buf, size_t n, off_t off);
CIO_API ssize_t cio_file_pwrite(cio_file *f, const void *buf, size_t n, off_t off);

/* fsync(2) / fdatasync(2), ftruncate(2), fstat(2): 0 or -errno. May
 * suspend. */
CIO_API int cio_file_fsync(cio_file *f);
CIO_API int cio_file_datasync(cio_file *f);
CIO_API int cio_file_truncate(cio_file *f, off_t len);
CIO_API int cio_file_stat(cio_file *f, struct stat *st);

/* lseek(2): the new position or -errno. Never suspends (lseek does not
 * touch the disk). */
CIO_API off_t cio_file_seek(cio_file *f, off_t off, int whence);

/* The descriptor (borrowed), or -1 once closed. Never suspends. */
CIO_API int cio_file_fd(const cio_file *f);

/* Close the descriptor, in the pool (close can block, e.g. on NFS). Never
 * frees f (cio_file_free does); from the call on, f is closed: its calls
 * fail with -EBADF and cio_file_fd() is -1. Returns close's result (0 or
 * -errno); 0 when f was closed already (NULL too). If a job of f (a call
 * of another task, or a cancelled one) still runs, the descriptor is
 * closed when the last such job ends and 0 is returned. -ECANCELED /
 * -ETIMEDOUT when interrupted: checked on entry, nothing is done; once
 * started, the descriptor is closed anyway (in the background). -ENOMEM and
 * -EPERM (outside a task): nothing done. May suspend. */
CIO_API int cio_file_close(cio_file *f);

/* Free f, closing it first if needed - at once, on this thread, unless a
 * job of f still runs (then that job closes it when it ends). Never
 * suspends; usable outside tasks. NULL is a no-op. */
CIO_API void cio_file_free(cio_file *f);

/* Read the whole file at path into a malloc'd buffer (NUL-terminated for
 * convenience; *len excludes the NUL; len may be NULL); the caller frees
 * *data with free(). Works for files whose size is unknown in advance
 * (/proc, pipes). Returns 0 or -errno (-EINVAL for path or data NULL); on
 * error *data is NULL and *len 0. May suspend. */
CIO_API int cio_file_read_all(const char *path, void **data, size_t *len);

/* Create or truncate path (mode 0666 & ~umask) and write len bytes of data
 * (copied first) to it; with sync != 0 also fsync before closing. Returns 0
 * or -errno. May suspend. */
CIO_API int cio_file_write_all(const char *path, const void *data, size_t len, int sync);

/* stat(2) of a path. 0 or -errno. May suspend. */
CIO_API int cio_file_stat_path(const char *path, struct stat *st);

#ifdef __cplusplus
}
#endif
#endif
