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
