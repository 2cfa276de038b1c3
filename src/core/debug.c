/* debug.c - debug-mode reports. */
#include "internal.h"

#include <stdio.h>

void cio__debug_task_failed_detached(cio_task *t) {
  if (t->loop != cio__tls_loop || !t->loop->debug) return; /* loop may be gone */
  fprintf(stderr, "cio: detached task '%s' (id %llu) failed: %s\n", t->name,
          (unsigned long long)t->id, cio_strerror(t->status));
}

void cio__debug_close_report(cio_loop *loop, size_t cancelled) {
  if (!loop->debug) return;
  fprintf(stderr, "cio: loop closed with %zu task(s) still running; cancelling:\n", cancelled);
  for (cio__link *l = loop->tasks.next; l != &loop->tasks; l = l->next) {
    cio_task *t = cio__container_of(l, cio_task, live);
    fprintf(stderr, "cio:   '%s' (id %llu)%s%s\n", t->name, (unsigned long long)t->id,
            t->waiting_on ? " waiting on " : "", t->waiting_on ? t->waiting_on : "");
  }
}

void cio__debug_slow_task(cio_loop *loop, cio_task *t, int64_t held_ns) {
  (void)loop;
  fprintf(stderr, "cio: task '%s' (id %llu) held the loop for %.3f s without suspending\n",
          t->name, (unsigned long long)t->id, (double)held_ns / 1e9);
}
