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

void cio__ctx_swap(cio__ctx *from, cio__ctx *to) {
  if (swapcontext(&from->uc, &to->uc) != 0) cio__panic("swapcontext failed");
}
