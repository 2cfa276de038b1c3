/* cio/gen.h - generators: a task that yields values to a consumer, one at a
 * time (asyncio's async generators and `async for`).
 *
 *   static int count(cio_gen *g, void *arg) {       // the generator
 *     for (int i = 0; i < 5; i++) {
 *       int r = cio_sleep(0.1);                     // may suspend freely
 *       if (r == 0) r = cio_gen_yield(g, (void *)(intptr_t)i);
 *       if (r < 0) return r;                        // closed (-ECANCELED) or
 * failed
 *     }
 *     return 0;                                     // the end
 *   }
 *
 *   cio_gen *g = cio_gen_new(count, NULL, NULL);    // the consumer
 *   void *v;
 *   while ((r = cio_gen_next(g, &v)) == 1) use(v);  // async for v in count()
 *   int st = cio_gen_close(g);                      // ends it, waits for
 * cleanup cio_gen_free(g);
 *
 * The generator is lazy, like Python's: its body first runs when the first
 * value is asked for, and after each yield it stays suspended until the
 * consumer asks for the next value (or closes it). Closing early (a `break`
 * out of the loop) cancels the generator at its suspension point, so its
 * cleanup code runs; cio_gen_close() waits for it, cio_gen_free() does not.
 *
 * Cancellation safety. If the consumer is cancelled (or its timeout scope
 * expires) while waiting in cio_gen_next(), next returns -ECANCELED
 * (-ETIMEDOUT) and the generator is NOT cancelled: it goes on to produce the
 * value it was working on, which the following cio_gen_next() returns. No
 * value is lost and no generator state is torn down by a consumer's timeout.
 * A consumer that gives up for good calls cio_gen_close().
 *
 * Values are void * handed over as they are: what they point to is owned as
 * the generator and its consumer agree. The simplest contract is "borrowed
 * until the next cio_gen_next": the generator may reuse or free the value's
 * storage once its yield returns. A value produced after the consumer gave
 * up waiting and never asked for again is dropped at cio_gen_close().
 *
 * One consumer at a time; the generator's body and its consumer are both
 * tasks of the same loop. All calls are loop-thread only. In task dumps the
 * generator waits on "generator yield" (or "generator start") and its
 * consumer on "generator next".
 */
#ifndef CIO_GEN_H
#define CIO_GEN_H

#include "task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_gen cio_gen;

/* A generator body: yields with cio_gen_yield(), returns 0 at the end or a
 * negative errno on failure (reported by the consumer's cio_gen_next). */
typedef int (*cio_gen_fn)(cio_gen *g, void *arg);

/* Create a generator running fn(g, arg) in its own task. The task is spawned
 * now and waits ("generator start"); fn itself first runs on the first
 * cio_gen_next. opts (may be NULL) names the task and sizes its stack, as for
 * cio_spawn_ex. arg is borrowed: it must stay valid until
 * cio_gen_close() returns (or, without close, until the generator's task has
 * finished). Returns the generator, owned by the caller, who must
 * cio_gen_free() it (after cio_gen_close() to wait for its cleanup); or NULL
 * with errno: ENOENT without a loop,
 * EINVAL, ENOMEM, ESHUTDOWN when the loop is closing. Does not suspend. */
CIO_API cio_gen *cio_gen_new(cio_gen_fn fn, void *arg, const cio_spawn_opts *opts);

/* In the generator's body: hand `value` to the consumer, then suspend until
 * the consumer asks for the next value. Returns 0 when asked for more;
 * -ECANCELED when the generator is being closed (clean up and return);
 * -ETIMEDOUT if a timeout scope of the generator's own expired. If it fails
 * on entry (a cancellation or expiry already pending), the value was not
 * handed over. -EPERM when not called from g's own task. Suspends. */
CIO_API int cio_gen_yield(cio_gen *g, void *value);

/* In the consumer: get the next value. Returns 1 and stores it in *value
 * (value may be NULL); 0 when the generator has ended (and at every call
 * after that); the generator's failure status (< 0) if it returned one;
 * -ECANCELED / -ETIMEDOUT if the calling task was cancelled or timed out
 * while waiting (the generator keeps going, see above); -EBUSY if another
 * task is already waiting in cio_gen_next on g; -EDEADLK from the
 * generator's own task; -EPERM outside a task. A generator failing with
 * -ECANCELED (cancelled by something other than its consumer, e.g. the loop
 * closing) reports -ECANCELED. May suspend. */
CIO_API int cio_gen_next(cio_gen *g, void **value);

/* Close g (asyncio's aclose()), without freeing it. If the generator has not
 * finished, it is cancelled - its pending or next suspension, normally its
 * yield, returns -ECANCELED - and the call waits, without being
 * interruptible, for its cleanup to finish; a cancellation of the caller
 * meanwhile stays pending for the caller's next suspension. Returns 0 if the
 * generator ended or was closed cleanly (returned 0 or -ECANCELED), else its
 * failure status; calling it again returns the same. Returns -EBUSY (and
 * does nothing) while a task waits in cio_gen_next on g, -EDEADLK from the
 * generator's own task. Outside a task (a callback) it cannot wait: a
 * generator still running is cancelled and the call returns -EINPROGRESS.
 * NULL: returns 0. May suspend. */
CIO_API int cio_gen_close(cio_gen *g);

/* Free g. A generator still running is cancelled and its memory goes when
 * its task has finished (its arg must stay valid until then: close first to
 * be sure); a consumer waiting in cio_gen_next is woken with -EBADF. NULL is
 * a no-op. Never suspends. */
CIO_API void cio_gen_free(cio_gen *g);

/* The generator's task (borrowed, valid until cio_gen_free): for its name,
 * state, cancellation by hand, or task dumps. */
CIO_API cio_task *cio_gen_task(const cio_gen *g);

#ifdef __cplusplus
}
#endif
#endif
