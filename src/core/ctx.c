/* ctx.c - initial frames for the hand-written context switches. */
#include "internal.h"

#include <string.h>

void cio__ctx_trampoline(void);

void cio__ctx_make(cio__ctx *c, void *lo, size_t size) {
  uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
#if defined(__x86_64__)
  /* [top-24] return address -> trampoline; below it the six callee-saved
   * registers popped by cio__ctx_switch. After its `ret`, rsp = top - 16. */
  void **sp = (void **)(top - 24);
  sp[0] = (void *)cio__ctx_trampoline;
  sp -= 6;
  memset(sp, 0, 6 * sizeof(void *));
  c->sp = sp;
#elif defined(__aarch64__)
  /* The 160-byte frame cio__ctx_switch restores; x30 (slot 11) is the
   * address `ret` jumps to. */
  void **sp = (void **)(top - 160);
  memset(sp, 0, 160);
  sp[11] = (void *)cio__ctx_trampoline;
  c->sp = sp;
#else
#error "no hand-written context switch for this architecture: use -DCIO_CONTEXT=ucontext"
#endif
}

void cio__ctx_peek_switch(void **save_sp, void *to_sp, void (*fn)(void *), void *arg);
void cio__ctx_peek_on_task(void);

/* The frame that calls fn during a peek belongs to cio__ctx_peek_on_task. */
const void *const cio__ctx_peek_marker = (const void *)cio__ctx_peek_on_task;

void cio__ctx_peek(cio__ctx *c, void (*fn)(void *), void *arg) {
  void *save;
  cio__ctx_peek_switch(&save, c->sp, fn, arg);
}

uintptr_t cio__ctx_sp(const cio__ctx *c) { return (uintptr_t)c->sp; }
