/* stack.c - task stacks: slabs, guard regions, a reuse pool, overflow reports.
 *
 * A million suspended tasks need a million stacks, and Linux allows 65530
 * mappings per process by default. A stack per mmap plus a PROT_NONE guard
 * page costs two mappings each, so stacks are carved from large slabs (one
 * mapping for up to 1024 stacks) and separated by guard regions installed
 * with madvise(MADV_GUARD_INSTALL) (Linux 6.13+), which marks page-table
 * entries without splitting the mapping. Where that is unavailable (older
 * kernels, qemu-user) guards fall back to mprotect(PROT_NONE), which splits
 * the mapping: fine for tens of thousands of tasks, and spawning past the
 * limit fails with -ENOMEM instead of crashing.
 *
 * A fault inside the running task's guard region is reported with the task's
 * name from a SIGSEGV handler running on an alternate signal stack.
 */
#include "internal.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef CIO_ASAN
#include <sanitizer/asan_interface.h>
#endif
#ifdef CIO_HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#define GUARD_SIZE    (64u * 1024u) /* a large frame must not jump over it */
#define SLAB_MIN      16            /* stacks in the first slab of a class */
#define SLAB_MAX      1024          /* ... growing to this many */
#define WARM_MAX      1024          /* free stacks kept with their pages */
#define ALTSTACK_SIZE (64u * 1024u)

enum { GUARD_UNKNOWN, GUARD_MADV, GUARD_MPROTECT };
static atomic_int guard_mode = GUARD_UNKNOWN;

static size_t page_size(void) {
  static size_t ps;
  if (!ps) ps = (size_t)sysconf(_SC_PAGESIZE);
  return ps;
}

size_t cio__stack_round(size_t size) {
  size_t ps = page_size();
  if (size < 4 * ps) size = 4 * ps;
  return (size + ps - 1) & ~(ps - 1);
}

/* Does MADV_GUARD_INSTALL really guard? qemu-user accepts and ignores
 * madvise, so probe: a write(2) from a guarded page must fail with EFAULT. */
static int probe_guard_mode(void) {
  size_t ps = page_size();
  char *p = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  int mode = GUARD_MPROTECT;
  if (p == MAP_FAILED) return mode;
  if (madvise(p, ps, MADV_GUARD_INSTALL) == 0) {
    int fds[2];
    if (pipe(fds) == 0) {
      if (write(fds[1], p, 1) < 0 && errno == EFAULT) mode = GUARD_MADV;
      close(fds[0]);
      close(fds[1]);
    }
  }
  munmap(p, 2 * ps);
  return mode;
}

static int guard_install(char *guard) {
  int mode = atomic_load_explicit(&guard_mode, memory_order_relaxed);
  if (mode == GUARD_UNKNOWN) {
    mode = probe_guard_mode();
    atomic_store(&guard_mode, mode);
  }
  if (mode == GUARD_MADV) {
    if (madvise(guard, GUARD_SIZE, MADV_GUARD_INSTALL) == 0) return 0;
  } else if (mprotect(guard, GUARD_SIZE, PROT_NONE) == 0) {
    return 0;
  }
  return -errno;
}

static cio__stack_class *class_for(cio__stack_pool *p, size_t size) {
  for (cio__stack_class *c = p->classes; c; c = c->next)
    if (c->size == size) return c;
  cio__stack_class *c = cio__calloc(1, sizeof *c);
  if (!c) return NULL;
  c->size = size;
  c->next = p->classes;
  p->classes = c;
  return c;
}

static int slab_new(cio__stack_pool *p, cio__stack_class *c) {
  size_t nslabs = 0;
  for (cio__slab *s = p->slabs; s; s = s->next) nslabs++;
  size_t n = SLAB_MIN;
  while (n < SLAB_MAX && n < nslabs * SLAB_MIN) n *= 2;
  size_t stride = c->size + GUARD_SIZE;
  size_t len = n * stride;
  cio__slab *slab = cio__malloc(sizeof *slab);
  if (!slab) return -ENOMEM;
  void *base =
      mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) {
    int err = -errno;
    cio__free(slab);
    return err;
  }
#ifdef MADV_NOHUGEPAGE
  /* Debug loops count a stack's touched pages: a huge page would make
   * 2 MiB of stacks look touched at once. */
  if (p->nohuge) madvise(base, len, MADV_NOHUGEPAGE);
#endif
  slab->base = base;
  slab->len = len;
  slab->next = p->slabs;
  p->slabs = slab;
  c->carve = base;
  c->carve_end = (char *)base + len;
  return 0;
}

/* Carve one stack: [guard][usable ... descriptor]. */
static cio__stack *carve(cio__stack_pool *p, cio__stack_class *c, int *err) {
  size_t stride = c->size + GUARD_SIZE;
  if (!c->carve || c->carve + stride > c->carve_end) {
    int r = slab_new(p, c);
    if (r < 0) {
      *err = r;
      return NULL;
    }
  }
  char *guard = c->carve;
  int r = guard_install(guard);
  if (r < 0) {
    *err = r == -ENOMEM ? -ENOMEM : r;
    return NULL;
  }
  c->carve += stride;
  char *lo = guard + GUARD_SIZE;
  cio__stack *s = (cio__stack *)(void *)(lo + c->size - sizeof(cio__stack));
  s->lo = lo;
  s->size = (c->size - sizeof(cio__stack)) & ~(size_t)63;
  s->next = NULL;
  s->cls = c;
  s->cold = false;
#ifdef CIO_HAVE_VALGRIND_H
  s->vg_id = VALGRIND_STACK_REGISTER(lo, lo + c->size);
#else
  s->vg_id = 0;
#endif
  return s;
}

cio__stack *cio__stack_get(cio__stack_pool *p, size_t size, int *err) {
  cio__stack_class *c = class_for(p, size);
  if (!c) {
    *err = -ENOMEM;
    return NULL;
  }
  cio__stack *s = c->free;
  if (s) {
    c->free = s->next;
    c->nfree--;
    if (!s->cold) c->nwarm--;
    s->cold = false;
#ifdef CIO_ASAN
    /* A task that finished leaves its entry frame's redzones poisoned. */
    ASAN_UNPOISON_MEMORY_REGION(s->lo, s->size);
#endif
    return s;
  }
  return carve(p, c, err);
}

void cio__stack_put(cio__stack_pool *p, cio__stack *s) {
  (void)p;
  cio__stack_class *c = s->cls;
  if (c->nwarm >= WARM_MAX) {
    /* Give the pages back, except the top one that holds the descriptor. */
    size_t ps = page_size();
    char *top_page = (char *)((uintptr_t)s & ~(uintptr_t)(ps - 1));
    /* MADV_FREE: the kernel takes the pages only under memory pressure, and a
     * stack reused before that costs no page faults. */
    if (top_page > s->lo) madvise(s->lo, (size_t)(top_page - s->lo), MADV_FREE);
    s->cold = true;
  } else {
    c->nwarm++;
  }
  s->next = c->free;
  c->free = s;
  c->nfree++;
}

/* The usable region ends at the end of the class size; its top page holds
 * the descriptor, so it is always resident and never given back. */
static char *top_page_of(const cio__stack *s) {
  return (char *)((uintptr_t)s & ~(uintptr_t)(page_size() - 1));
}

size_t cio__stack_resident(const cio__stack *s) {
  size_t ps = page_size();
  char *top = top_page_of(s);
  size_t npages = (size_t)(top - s->lo) / ps, used = 1;
  unsigned char vec[256];
  for (size_t i = 0; i < npages; i += sizeof vec) {
    size_t n = npages - i < sizeof vec ? npages - i : sizeof vec;
    if (mincore(s->lo + i * ps, n * ps, vec) != 0) return 0;
    for (size_t k = 0; k < n; k++) used += vec[k] & 1;
  }
  return used * ps;
}

void cio__stack_clean(cio__stack *s) {
  char *top = top_page_of(s);
  if (top > s->lo) madvise(s->lo, (size_t)(top - s->lo), MADV_DONTNEED);
}

void cio__stack_pool_free(cio__stack_pool *p) {
#ifdef CIO_HAVE_VALGRIND_H
  /* Every task is done by now, so every stack is on a free list. Walking a
   * million descriptors costs a second, so only under Valgrind. */
  if (RUNNING_ON_VALGRIND)
    for (cio__stack_class *c = p->classes; c; c = c->next)
      for (cio__stack *s = c->free; s; s = s->next) VALGRIND_STACK_DEREGISTER(s->vg_id);
#endif
  while (p->slabs) {
    cio__slab *s = p->slabs;
    p->slabs = s->next;
    munmap(s->base, s->len);
    cio__free(s);
  }
  while (p->classes) {
    cio__stack_class *c = p->classes;
    p->classes = c->next;
    cio__free(c);
  }
}

/* ---- overflow reports ---- */

static struct sigaction old_segv;
static pthread_once_t segv_once = PTHREAD_ONCE_INIT;
static _Thread_local void *thread_altstack;

static void write_str(const char *s) {
  ssize_t r = write(2, s, strlen(s));
  (void)r;
}

static void write_num(uint64_t v) {
  char buf[24];
  char *e = buf + sizeof buf, *q = e;
  do {
    *--q = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  ssize_t r = write(2, q, (size_t)(e - q));
  (void)r;
}

static void segv_handler(int sig, siginfo_t *si, void *uc) {
  cio_loop *loop = cio__tls_loop;
  cio_task *t = loop ? loop->peeking ? loop->peeking : loop->current : NULL;
  char *addr = si->si_addr;
  if (t && t->stack && addr >= t->stack->lo - GUARD_SIZE && addr < t->stack->lo + 256) {
    write_str("cio: stack overflow in task '");
    write_str(cio_task_name(t));
    write_str("' (id ");
    write_num(t->id);
    write_str(", stack ");
    write_num(t->stack->size);
    write_str(" bytes): give it a bigger stack_size in cio_spawn_opts or "
              "cio_loop_opts\n");
    signal(SIGABRT, SIG_DFL);
    abort();
  }
  /* Not ours: hand the fault to whoever handled it before us. */
  if (old_segv.sa_flags & SA_SIGINFO) {
    old_segv.sa_sigaction(sig, si, uc);
  } else if (old_segv.sa_handler != SIG_DFL && old_segv.sa_handler != SIG_IGN) {
    old_segv.sa_handler(sig);
  } else {
    signal(SIGSEGV, SIG_DFL); /* returning re-executes the fault: default action */
  }
}

static void install_segv(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = segv_handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &old_segv);
}

int cio__overflow_guard_thread_init(void) {
  pthread_once(&segv_once, install_segv);
  stack_t cur;
  if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE)) return 0;
  void *mem = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return -errno;
  stack_t ss = {.ss_sp = mem, .ss_size = ALTSTACK_SIZE, .ss_flags = 0};
  if (sigaltstack(&ss, NULL) != 0) {
    int err = -errno;
    munmap(mem, ALTSTACK_SIZE);
    return err;
  }
  thread_altstack = mem;
  return 0;
}

void cio__overflow_guard_thread_fini(void) {
  if (!thread_altstack) return;
  stack_t ss = {.ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE};
  sigaltstack(&ss, NULL);
  munmap(thread_altstack, ALTSTACK_SIZE);
  thread_altstack = NULL;
}
