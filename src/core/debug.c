/* debug.c - debug-mode reports, task dumps with backtraces, stack
 * high-water marks.
 *
 * Backtraces of suspended tasks. A suspended task's registers sit on its own
 * stack, in the frame its context switch saved. Rather than unwind from those
 * saved registers by hand, the dumper "peeks": it switches onto the task's
 * stack just below that frame and calls a function there (cio__ctx_peek),
 * whose caller's CFI describes the saved frame. The compiler's unwinder
 * (_Unwind_Backtrace) then walks from there into the task's frames and stops
 * at the start trampoline (its return address is marked undefined). The
 * peek writes only below the task's saved stack pointer and switches
 * straight back: the task's state is untouched, and nothing of this runs on
 * the normal switch path. PCs are symbolized with dladdr() afterwards, on
 * the dumper's stack.
 */
#include "internal.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <unwind.h>

#ifdef CIO_ASAN
#include <sanitizer/common_interface_defs.h>
#define NO_ASAN __attribute__((no_sanitize_address))
#else
#define NO_ASAN
#endif

/* Functions whose start address marks frames: never inlined nor cloned
 * (a clone would start elsewhere). */
#if defined(__clang__)
#define MARKER_FN __attribute__((noinline))
#else
#define MARKER_FN __attribute__((noinline, noclone))
#endif

#define MAX_FRAMES 48
#define MAX_NOTES  64
/* The unwinder needs a few KiB of stack: a task with less room left below
 * its saved stack pointer is listed without a backtrace. */
#define PEEK_ROOM (8u * 1024u)

/* ---- output ---- */

typedef struct out {
  int fd;
  size_t len;
  char buf[2048];
} out;

static void out_flush(out *o) {
  size_t off = 0;
  while (off < o->len) {
    ssize_t w = write(o->fd, o->buf + off, o->len - off);
    if (w <= 0) {
      if (w < 0 && errno == EINTR) continue;
      break;
    }
    off += (size_t)w;
  }
  o->len = 0;
}

__attribute__((format(printf, 2, 3))) static void outf(out *o, const char *fmt, ...) {
  for (int pass = 0; pass < 2; pass++) {
    va_list ap;
    va_start(ap, fmt);
    size_t room = sizeof o->buf - o->len;
    int n = vsnprintf(o->buf + o->len, room, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < room) {
      o->len += (size_t)n;
      return;
    }
    if (pass == 1 || o->len == 0) { /* longer than the buffer: truncated */
      o->len = sizeof o->buf - 1;
      return;
    }
    out_flush(o);
  }
}

/* ---- reports ---- */

static const char *outcome(int status) {
  if (status == -EINPROGRESS) return "still running";
  if (status == -ECANCELED) return "cancelled";
  if (status == 0) return "succeeded";
  return cio_strerror(status);
}

static void note(cio_loop *loop, cio_task *t, bool detached);

void cio__debug_task_failed_detached(cio_task *t) {
  if (t->loop != cio__tls_loop || !t->loop->debug) return; /* loop may be gone */
  fprintf(stderr, "cio: detached task '%s' (id %llu) failed: %s\n", t->name,
          (unsigned long long)t->id, cio_strerror(t->status));
  note(t->loop, t, true);
}

/* One line on a task still alive at close; swallowed: how many -ECANCELED
 * it got before this close and went on anyway. */
static void print_alive(cio_task *t, unsigned swallowed) {
  fprintf(stderr, "cio:   '%s' (id %llu)%s%s", t->name, (unsigned long long)t->id,
          t->waiting_on ? " waiting on " : "", t->waiting_on ? t->waiting_on : "");
  if (swallowed)
    fprintf(stderr, " - it swallowed %u earlier cancellation%s", swallowed,
            swallowed > 1 ? "s" : "");
  fputc('\n', stderr);
}

void cio__debug_close_report(cio_loop *loop) {
  if (!loop->debug) return;
  size_t user = 0;
  for (cio__link *l = loop->tasks.next; l != &loop->tasks; l = l->next)
    user += !cio__container_of(l, cio_task, live)->daemon;
  if (!user) return; /* only service tasks of libraries: their normal end */
  fprintf(stderr, "cio: loop closed with %zu task(s) still running; cancelling:\n", user);
  for (cio__link *l = loop->tasks.next; l != &loop->tasks; l = l->next) {
    cio_task *t = cio__container_of(l, cio_task, live);
    if (!t->daemon) print_alive(t, t->ndelivered);
  }
}

void cio__debug_slow_shutdown(cio_loop *loop) {
  fprintf(stderr,
          "cio: loop close is still waiting, after %.0f s, for %zu task(s) to unwind "
          "after being cancelled:\n",
          (double)CIO__SLOW_SHUTDOWN_NS / 1e9, loop->ntasks);
  for (cio__link *l = loop->tasks.next; l != &loop->tasks; l = l->next) {
    cio_task *t = cio__container_of(l, cio_task, live);
    /* close's own cancellation was delivered too: it is swallowed as well */
    print_alive(t, t->ndelivered);
  }
}

void cio__debug_slow_task(cio_loop *loop, cio_task *t, int64_t held_ns) {
  (void)loop;
  if (t)
    fprintf(stderr,
            "cio: task '%s' (id %llu) held the loop for %.3f s without "
            "suspending\n",
            t->name, (unsigned long long)t->id, (double)held_ns / 1e9);
  else
    fprintf(stderr, "cio: the loop context (callbacks, timers) held the loop for %.3f s\n",
            (double)held_ns / 1e9);
}

static void note(cio_loop *loop, cio_task *t, bool detached) {
  size_t len = strlen(t->name);
  cio__dbg_note *n = loop->nnotes < MAX_NOTES ? cio__malloc(sizeof *n + len + 1) : NULL;
  if (!n) {
    loop->notes_dropped++;
    return;
  }
  n->id = t->id;
  n->status = t->state == CIO_TASK_DONE ? t->status : -EINPROGRESS;
  n->detached = detached;
  memcpy(n->name, t->name, len + 1);
  n->next = loop->notes;
  loop->notes = n;
  loop->nnotes++;
}

void cio__debug_handle_gone(cio_task *t) {
  cio_loop *loop = t->loop;
  if (loop != cio__tls_loop || !loop->debug) return; /* loop may be gone */
  if (t->state == CIO_TASK_DONE)
    note(loop, t, false);
  else
    t->orphaned = true; /* noted when it finishes, with its status */
}

void cio__debug_task_done(cio_task *t) {
  if (t->awaited) return;
  if (t->detached) {
    if (cio__status_is_failure(t->status)) cio__debug_task_failed_detached(t);
  } else if (t->orphaned) {
    note(t->loop, t, false);
  }
}

static void print_notes(cio_loop *loop, bool detached) {
  size_t n = 0;
  for (cio__dbg_note *p = loop->notes; p; p = p->next) n += p->detached == detached;
  if (!n) return;
  if (detached)
    fprintf(stderr, "cio: %zu detached task(s) failed and nobody read the error:\n", n);
  else
    fprintf(stderr,
            "cio: %zu task(s) were never awaited (handle released without "
            "cio_await() or cio_detach()):\n",
            n);
  /* The list is newest first; print in the order things happened. */
  cio__dbg_note **v = cio__malloc(n * sizeof *v);
  size_t k = 0;
  for (cio__dbg_note *p = loop->notes; p; p = p->next)
    if (p->detached == detached) {
      if (v) v[k] = p;
      k++;
      if (!v)
        fprintf(stderr, "cio:   '%s' (id %llu): %s\n", p->name, (unsigned long long)p->id,
                outcome(p->status));
    }
  for (size_t i = v ? n : 0; i > 0; i--)
    fprintf(stderr, "cio:   '%s' (id %llu): %s\n", v[i - 1]->name, (unsigned long long)v[i - 1]->id,
            outcome(v[i - 1]->status));
  cio__free(v);
}

void cio__debug_final_report(cio_loop *loop) {
  print_notes(loop, false);
  print_notes(loop, true);
  if (loop->notes_dropped) fprintf(stderr, "cio:   ... and %zu more\n", loop->notes_dropped);
  while (loop->notes) {
    cio__dbg_note *n = loop->notes;
    loop->notes = n->next;
    cio__free(n);
  }
  loop->nnotes = loop->notes_dropped = 0;
}

/* ---- stacks ---- */

void cio__debug_reap(cio_loop *loop, cio_task *t) {
  t->stack_hw = cio__stack_resident(t->stack);
  if (t->stack_hw > loop->stack_hw_max) loop->stack_hw_max = t->stack_hw;
  cio__stack_clean(t->stack); /* the next task on this stack is measured afresh */
}

size_t cio_task_stack_high_water(const cio_task *t) {
  if (!t) return 0;
  if (t->state == CIO_TASK_DONE) return t->stack ? cio__stack_resident(t->stack) : t->stack_hw;
  return t->started && t->stack ? cio__stack_resident(t->stack) : 0;
}

size_t cio_task_stack_size(const cio_task *t) {
  if (!t) return 0;
  return t->stack ? t->stack->size : t->stack_size;
}

size_t cio_loop_stack_high_water(const cio_loop *loop) { return loop ? loop->stack_hw_max : 0; }

/* ---- backtraces ---- */

#define BT_SLACK 16 /* frames of the dump machinery itself */
#define BT_CAP   (MAX_FRAMES + BT_SLACK)

/* Unwinding records every frame (its PC and the start of its function), and
 * where the last frame of a "marker" function was: the frames that matter
 * start after it (the dump's own frames, or the peek trampoline, come
 * before). Two markers, because a public entry point may tail-call its
 * helper and leave no frame of its own. */
typedef struct bt {
  uintptr_t m1, m2;
  int n, start;
  void *pc[BT_CAP];
  uintptr_t fn[BT_CAP];
} bt;

NO_ASAN static _Unwind_Reason_Code bt_frame(struct _Unwind_Context *ctx, void *arg) {
  bt *b = arg;
  if (b->n >= BT_CAP) return _URC_END_OF_STACK;
  int before = 0;
  uintptr_t ip = _Unwind_GetIPInfo(ctx, &before);
  if (!ip) return _URC_END_OF_STACK;
  uintptr_t fn = _Unwind_GetRegionStart(ctx);
  b->pc[b->n] = (void *)ip;
  b->fn[b->n++] = fn;
  if (fn && (fn == b->m1 || fn == b->m2)) b->start = b->n;
  return _URC_NO_REASON;
}

/* Keep what a reader wants: from the call that suspended the task (not the
 * scheduler's frames under it) to the task's entry function. */
static void bt_trim(bt *b) {
  int kind, last_switch = -1;
  for (int i = b->start; i < b->n && i < b->start + 6; i++) {
    cio__sched_frame(b->fn[i], &kind);
    if (kind == CIO__FRAME_SWITCH) last_switch = i;
  }
  if (last_switch >= 0) b->start = last_switch + 1;
  for (int i = b->start; i < b->n; i++) {
    cio__sched_frame(b->fn[i], &kind);
    if (kind == CIO__FRAME_ENTRY) {
      b->n = i + 1;
      break;
    }
  }
  if (b->n - b->start > MAX_FRAMES) b->n = b->start + MAX_FRAMES;
}

/* The calling task's frames, from the caller of the marker functions on. */
__attribute__((noinline)) static void bt_here(bt *b, uintptr_t m1, uintptr_t m2) {
  b->m1 = m1;
  b->m2 = m2;
  b->n = b->start = 0;
  _Unwind_Backtrace(bt_frame, b);
  bt_trim(b);
}

/* ThreadSanitizer is not told about the peek: it tracks call stacks per
 * fiber, and the peek's frames are balanced calls and returns of the dumper
 * (only the stack pointer moves); the unwinder itself is not instrumented. */
typedef struct peek_arg {
  bt *b;
  cio_task *t;
} peek_arg;

/* Runs on the suspended task's stack (see the top of the file). */
NO_ASAN static void peek_fn(void *arg) {
  peek_arg *p = arg;
#ifdef CIO_ASAN
  const void *bottom;
  size_t size;
  __sanitizer_finish_switch_fiber(p->t->asan_fake, &bottom, &size);
#endif
  _Unwind_Backtrace(bt_frame, p->b);
#ifdef CIO_ASAN
  __sanitizer_start_switch_fiber(&p->t->asan_fake, bottom, size);
#endif
}

/* A suspended task's frames, from the call that suspended it on. Returns 0
 * or -ENOSPC. */
static int bt_peek(cio_loop *loop, cio_task *t, bt *b) {
  b->n = b->start = 0;
  uintptr_t sp = cio__ctx_sp(&t->ctx);
  if (sp && (sp < (uintptr_t)t->stack->lo || sp - (uintptr_t)t->stack->lo < PEEK_ROOM))
    return -ENOSPC;
  b->m1 = (uintptr_t)cio__ctx_peek_marker;
  b->m2 = 0;
  peek_arg p = {.b = b, .t = t};
#ifdef CIO_ASAN
  void *fake = NULL;
  __sanitizer_start_switch_fiber(&fake, t->stack->lo, t->stack->size);
#endif
  loop->peeking = t;
  cio__ctx_peek(&t->ctx, peek_fn, &p);
  loop->peeking = NULL;
#ifdef CIO_ASAN
  __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
  bt_trim(b);
  return 0;
}

/* Hidden aliases of the public entry points: their real addresses, for the
 * markers (a default-visibility function's address may be a PLT slot). */
int cio__task_backtrace_self(const cio_task *t, void **pcs, int max);
int cio__loop_dump_self(cio_loop *loop, int fd);

MARKER_FN static int task_backtrace(const cio_task *ct, void **pcs, int max) {
  cio_loop *loop = cio__tls_loop;
  if (!ct || !pcs || max < 0 || !loop || ct->loop != loop) return -EINVAL;
  cio_task *t = (cio_task *)(uintptr_t)ct;
  bt *b = cio__malloc(sizeof *b);
  if (!b) return -ENOMEM;
  int r = 0;
  if (t == loop->current)
    bt_here(b, (uintptr_t)cio__task_backtrace_self, (uintptr_t)task_backtrace);
  else if (loop->peeking)
    r = -EBUSY;
  else if (t->state == CIO_TASK_DONE || !t->started || !t->stack)
    r = -ESRCH;
  else
    r = bt_peek(loop, t, b);
  if (r == 0) {
    r = b->n - b->start < max ? b->n - b->start : max;
    memcpy(pcs, b->pc + b->start, (size_t)r * sizeof *pcs);
  }
  cio__free(b);
  return r;
}

int cio_task_backtrace(const cio_task *t, void **pcs, int max) {
  return task_backtrace(t, pcs, max);
}
extern __typeof__(cio_task_backtrace) cio__task_backtrace_self
    __attribute__((alias("cio_task_backtrace"), visibility("hidden")));

/* "sym+0x1f (module)"; "module+0x1234" when the symbol is not exported. */
static void format_pc(out *o, void *pc, uintptr_t fn) {
  Dl_info di;
  int kind;
  const char *core = cio__sched_frame(fn, &kind);
  /* A return address may be one past the call's function: look up pc - 1. */
  if (!dladdr((char *)pc - 1, &di) || !di.dli_fname) {
    outf(o, "%p %s\n", pc, core ? core : "?");
    return;
  }
  const char *mod = di.dli_fname[0] ? di.dli_fname : "?";
  if (di.dli_sname && di.dli_saddr)
    outf(o, "%p %s+0x%zx (%s)\n", pc, di.dli_sname, (size_t)((char *)pc - (char *)di.dli_saddr),
         mod);
  else if (core)
    outf(o, "%p %s+0x%zx (%s)\n", pc, core, (size_t)((uintptr_t)pc - fn), mod);
  else
    outf(o, "%p %s+0x%zx\n", pc, mod, (size_t)((char *)pc - (char *)di.dli_fbase));
}

/* ---- the dump ---- */

static const char *state_name(int s) {
  switch (s) {
  case CIO_TASK_READY: return "ready";
  case CIO_TASK_RUNNING: return "running";
  case CIO_TASK_WAITING: return "waiting";
  default: return "done";
  }
}

static int dump(cio_loop *loop, int fd, const char *why);

static void dump_task(out *o, bt *b, cio_loop *loop, cio_task *t) {
  outf(o, "\ntask '%s' (id %llu): %s", t->name, (unsigned long long)t->id, state_name(t->state));
  if (t->state == CIO_TASK_WAITING && t->waiting_on) outf(o, " on '%s'", t->waiting_on);
  if (!t->started) outf(o, ", not started");
  if (t->cancel_pending) outf(o, ", cancellation pending");
  if (t->cancel_delivering) outf(o, ", woken by cancellation");
  if (t->shield) outf(o, ", shielded");
  if (t->nexpired) outf(o, ", timed out");
  if (t->started && t->stack)
    outf(o, ", stack %zu KiB touched of %zu KiB", cio__stack_resident(t->stack) / 1024,
         t->stack->size / 1024);
  outf(o, "\n");
  if (!t->started || !t->stack) return;
  int r = 0;
  if (t == loop->current)
    bt_here(b, (uintptr_t)cio__loop_dump_self, (uintptr_t)dump);
  else
    r = bt_peek(loop, t, b);
  if (r == -ENOSPC) {
    outf(o, "    (too little stack left to unwind it safely)\n");
    return;
  }
  if (b->n <= b->start) outf(o, "    (no frames: built without unwind tables?)\n");
  for (int i = b->start; i < b->n; i++) {
    outf(o, "    #%-2d ", i - b->start);
    format_pc(o, b->pc[i], b->fn[i]);
  }
}

MARKER_FN static int dump(cio_loop *loop, int fd, const char *why) {
  if (!loop) loop = cio__tls_loop;
  if (!loop || loop != cio__tls_loop) return -EINVAL;
  if (loop->peeking) return -EBUSY;
  out o = {.fd = fd};
  bt *b = cio__malloc(sizeof *b);
  size_t nready = 0;
  for (cio__link *l = loop->tasks.next; l != &loop->tasks; l = l->next)
    nready += cio__container_of(l, cio_task, live)->state == CIO_TASK_READY;
  outf(&o, "=== cio task dump%s%s: loop %p, %zu task(s), %zu ready, %s\n", why ? " on " : "",
       why ? why : "", (void *)loop, loop->ntasks, nready,
       loop->debug ? "debug mode" : "debug mode off (stack figures are upper bounds)");
  if (loop->current)
    outf(&o, "running now: '%s' (id %llu)\n", loop->current->name,
         (unsigned long long)loop->current->id);
  else
    outf(&o, "running now: the loop itself (no task)\n");
  for (cio__link *l = loop->tasks.next; l != &loop->tasks; l = l->next) {
    cio_task *t = cio__container_of(l, cio_task, live);
    if (b)
      dump_task(&o, b, loop, t);
    else
      outf(&o, "\ntask '%s' (id %llu): (out of memory)\n", t->name, (unsigned long long)t->id);
  }
  cio__free(b);
  if (loop->debug)
    outf(&o, "\nlargest stack touched by a finished task: %zu KiB\n", loop->stack_hw_max / 1024);
  outf(&o, "=== end of cio task dump\n");
  out_flush(&o);
  return 0;
}

int cio_loop_dump(cio_loop *loop, int fd) { return dump(loop, fd, NULL); }
extern __typeof__(cio_loop_dump) cio__loop_dump_self
    __attribute__((alias("cio_loop_dump"), visibility("hidden")));

void cio__debug_dump_signal(cio_loop *loop) { dump(loop, 2, "SIGQUIT"); }
