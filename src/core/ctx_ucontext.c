/* ctx_ucontext.c - portable context switch on makecontext/swapcontext.
 * Slower (swapcontext saves the signal mask with a system call) but works on
 * any POSIX target; selected with -DCIO_CONTEXT=ucontext. */
#include "internal.h"

static void ctx_start(void) { cio__task_entry(); }

void cio__ctx_make(cio__ctx *c, void *lo, size_t size) {
  if (getcontext(&c->uc) != 0) cio__panic("getcontext failed");
  c->uc.uc_stack.ss_sp = lo;
  c->uc.uc_stack.ss_size = size;
  c->uc.uc_link = NULL;
  makecontext(&c->uc, ctx_start, 0);
}

/* A peek in progress (task dumps): the suspended context, resumed inside
 * cio__ctx_swap below, runs fn and switches straight back. One loop per
 * thread, so one peek per thread at a time. */
static _Thread_local struct peek {
  void (*fn)(void *);
  void *arg;
  ucontext_t back;
} * peek_req;

void cio__ctx_swap(cio__ctx *from, cio__ctx *to) {
  if (swapcontext(&from->uc, &to->uc) != 0) cio__panic("swapcontext failed");
  struct peek *p;
  while ((p = peek_req)) {
    peek_req = NULL;
    p->fn(p->arg);
    if (swapcontext(&from->uc, &p->back) != 0) cio__panic("swapcontext failed");
  }
}

/* fn's caller is cio__ctx_swap itself. */
const void *const cio__ctx_peek_marker = (const void *)cio__ctx_swap;

void cio__ctx_peek(cio__ctx *c, void (*fn)(void *), void *arg) {
  struct peek p = {.fn = fn, .arg = arg};
  peek_req = &p;
  if (swapcontext(&p.back, &c->uc) != 0) cio__panic("swapcontext failed");
}

uintptr_t cio__ctx_sp(const cio__ctx *c) {
#if defined(__x86_64__)
  return (uintptr_t)c->uc.uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
  return (uintptr_t)c->uc.uc_mcontext.sp;
#else
  (void)c;
  return 0; /* unknown: the dump does not check the room left */
#endif
}
