/* cio/future.h - futures: a result that arrives later.
 *
 * A future is set once, with a value (void *, not owned by the future) or an
 * error (negative errno). Tasks await it; callbacks run when it completes.
 * This is how a callback-style C API becomes awaitable: create a future, let
 * the callback set it, await it.
 *
 * Ownership: reference counted. cio_future_new() returns one reference;
 * cio_future_ref() adds one (give one to each party that may touch the future
 * later, e.g. the C callback that will set it), cio_future_release() drops
 * one; the last release frees it. All calls are loop-thread only except
 * cio_future_set_result_threadsafe / _set_error_threadsafe.
 */
#ifndef CIO_FUTURE_H
#define CIO_FUTURE_H

#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_future cio_future;
typedef void (*cio_future_cb)(cio_future *f, void *arg);

/* New pending future bound to the current thread's loop (NULL + errno:
 * ENOENT without a loop, ENOMEM). */
CIO_API cio_future *cio_future_new(void);
CIO_API cio_future *cio_future_ref(cio_future *f);
CIO_API void cio_future_release(cio_future *f);

/* Complete the future. Returns 0, or -EALREADY if it was already complete
 * (the new value is ignored). Waiters resume and done callbacks are
 * scheduled on the loop (asyncio's call_soon semantics). Never suspends. */
CIO_API int cio_future_set_result(cio_future *f, void *value);
CIO_API int cio_future_set_error(cio_future *f, int err);
/* Same as set_error(f, -ECANCELED). */
CIO_API int cio_future_cancel(cio_future *f);

/* From any thread: complete f on its loop. The caller must hold a reference
 * that it gives up by this call (it is released on the loop thread).
 * Returns 0, -ENOMEM, or -ESHUTDOWN when the loop is closing; on failure the
 * reference was not given up, and since it can only be released on the loop
 * thread, threads must stop completing futures before their loop closes. */
CIO_API int cio_future_set_result_threadsafe(cio_future *f, void *value);
CIO_API int cio_future_set_error_threadsafe(cio_future *f, int err);

CIO_API int cio_future_done(const cio_future *f);
/* 0 for a result, the error once failed, -EINPROGRESS while pending. */
CIO_API int cio_future_status(const cio_future *f);
/* The value set by set_result (NULL otherwise). */
CIO_API void *cio_future_value(const cio_future *f);

/* Suspend until f completes. Returns f's status (0 or its error) and stores
 * the value in *value if value != NULL. If the caller is cancelled or times
 * out first, returns -ECANCELED / -ETIMEDOUT and f is left untouched (it may
 * still complete later). -EPERM outside a task. May suspend. */
CIO_API int cio_future_await(cio_future *f, void **value);

/* Run fn(f, arg) on the loop once f completes (immediately scheduled if it
 * already has). Returns 0 or -ENOMEM. The future keeps itself alive until
 * its callbacks have run. */
CIO_API int cio_future_add_done_callback(cio_future *f, cio_future_cb fn, void *arg);
/* Remove the first callback registered with this fn and arg; returns 1 if
 * removed, 0 if not found. Once the future is complete every callback is
 * already scheduled, and nothing can be removed (returns 0), as in asyncio. */
CIO_API int cio_future_remove_done_callback(cio_future *f, cio_future_cb fn, void *arg);

#ifdef __cplusplus
}
#endif
#endif
