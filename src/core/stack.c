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
 * A fresh stack costs kernel work that dominates when a million tasks start
 * at once: installing its guard, and the first-touch fault of its top page.
 * Guards are installed ahead of carving, GUARD_BATCH stacks per call with
 * process_madvise() on the calling process (Linux 6.15+ takes PIDFD_SELF),
 * about a third cheaper per guard than a madvise() each. Free stacks past
 * the warm limit give their pages back with MADV_FREE, but not when they
 * are returned: the loop has them trimmed in batches while it is idle, and
 * a batch now and then while it is busy (loop.c), so a burst of finishing
 * tasks costs no system call (most short-lived tasks never touch more than
 * their top page, which is kept anyway).
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
#include <sys/syscall.h>
#include <sys/uio.h>
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
/* process_madvise()'s pidfd for "this process" (linux/pidfd.h, 6.15). */
#define PIDFD_SELF_PROCESS (-10001)

#define GUARD_SIZE    (64u * 1024u) /* a large frame must not jump over it */
#define SLAB_MIN      16            /* stacks in the first slab of a class */
#define SLAB_MAX      1024          /* ... growing to this many */
#define WARM_MAX      1024          /* free stacks kept with their pages, per class */
#define GUARD_BATCH   64            /* guards installed per system call */
#define TRIM_BATCH    64            /* stacks given back per system call */
#define ALTSTACK_SIZE (64u * 1024u)

enum { GUARD_UNKNOWN, GUARD_MADV, GUARD_MPROTECT };
static atomic_int guard_mode = GUARD_UNKNOWN;
/* process_madvise(PIDFD_SELF_PROCESS, ...) works; cleared on the first
 * refusal (older kernels, seccomp filters), under Valgrind and with mprotect
 * guards. */
static atomic_bool batch_ok = true;

/* Loops on several threads may ask first at once: relaxed atomics (they
 * all store the same value). */
static size_t page_size(void) {
  static atomic_size_t ps;
  size_t v = atomic_load_explicit(&ps, memory_order_relaxed);
  if (CIO_UNLIKELY(!v)) {
    v = (size_t)sysconf(_SC_PAGESIZE);
    atomic_store_explicit(&ps, v, memory_order_relaxed);
  }
  return v;
}

size_t cio__stack_round(size_t size) {
  size_t ps = page_size();
  if (size < 4 * ps) size = 4 * ps;
  return (size + ps - 1) & ~(ps - 1);
}

/* Apply advice to v[0..n): returns how many ranges (from the first) it was
 * applied to, n unless one failed (errno says why). One system call when the
 * kernel takes process_madvise() on ourselves, else one madvise() each. */
static size_t advise(const struct iovec *v, size_t n, int advice) {
  size_t done = 0;
#ifdef SYS_process_madvise
  if (n > 1 && atomic_load_explicit(&batch_ok, memory_order_relaxed)) {
    long r = syscall(SYS_process_madvise, PIDFD_SELF_PROCESS, v, n, advice, 0u);
    if (r >= 0) {
      /* Bytes advised: fewer than asked when a range failed, which the
       * one-by-one calls below then retry to learn why. */
      size_t bytes = (size_t)r;
      while (done < n && bytes >= v[done].iov_len) bytes -= v[done++].iov_len;
    } else if (errno != ENOMEM && errno != EAGAIN && errno != EINTR) {
      atomic_store_explicit(&batch_ok, false, memory_order_relaxed);
    }
  }
#endif
  for (; done < n; done++)
    if (madvise(v[done].iov_base, v[done].iov_len, advice) != 0) break;
  return done;
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

static int guard_mode_get(void) {
  int mode = atomic_load_explicit(&guard_mode, memory_order_relaxed);
  if (mode == GUARD_UNKNOWN) {
#ifdef CIO_HAVE_VALGRIND_H
    /* Valgrind 3.19 does not know process_madvise and warns at each call. */
    if (RUNNING_ON_VALGRIND) atomic_store(&batch_ok, false);
#endif
    mode = probe_guard_mode();
    /* An emulator that ignores madvise (qemu-user) need not translate a
     * process_madvise iovec either: keep to plain madvise there. */
    if (mode == GUARD_MPROTECT) atomic_store(&batch_ok, false);
    atomic_store(&guard_mode, mode);
  }
  return mode;
}

/* Install the guards of the next stacks of c's newest slab: a batch with
 * madvise guards; one with mprotect, since each one splits the mapping and
 * only the stacks in use should count against the kernel's mapping limit. */
static int guard_ahead(cio__stack_class *c) {
  size_t stride = c->size + GUARD_SIZE;
  size_t left = (size_t)(c->carve_end - c->guarded) / stride;
  if (guard_mode_get() == GUARD_MPROTECT) {
    if (mprotect(c->guarded, GUARD_SIZE, PROT_NONE) != 0) return -errno;
    c->guarded += stride;
    return 0;
  }
  struct iovec v[GUARD_BATCH];
  size_t n = left < GUARD_BATCH ? left : GUARD_BATCH;
  for (size_t i = 0; i < n; i++) v[i] = (struct iovec){c->guarded + i * stride, GUARD_SIZE};
  size_t done = advise(v, n, MADV_GUARD_INSTALL);
  c->guarded += done * stride;
  return done ? 0 : -errno;
}

static cio__stack_class *class_for(cio__stack_pool *p, size_t size) {
  for (cio__stack_class *c = p->classes; c; c = c->next)
    if (c->size == size) return c;
  cio__stack_class *c = cio__calloc(1, sizeof *c);
  if (!c) return NULL;
  c->size = size;
  cio__list_init(&c->warm);
  cio__list_init(&c->cold);
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
  c->carve = c->guarded = base;
  c->carve_end = (char *)base + len;
  return 0;
}

/* Carve one stack: [guard][usable ... descriptor]. Its guard is in place
 * before it is handed out. */
static cio__stack *carve(cio__stack_pool *p, cio__stack_class *c, int *err) {
  size_t stride = c->size + GUARD_SIZE;
  if (!c->carve || c->carve + stride > c->carve_end) {
    int r = slab_new(p, c);
    if (r < 0) {
      *err = r;
      return NULL;
    }
  }
  if (c->carve == c->guarded) {
    int r = guard_ahead(c);
    if (r < 0) {
      *err = r;
      return NULL;
    }
  }
  char *guard = c->carve;
  c->carve += stride;
  char *lo = guard + GUARD_SIZE;
  cio__stack *s = (cio__stack *)(void *)(lo + c->size - sizeof(cio__stack));
  s->lo = lo;
  s->size = (c->size - sizeof(cio__stack)) & ~(size_t)63;
  cio__list_init(&s->link);
  s->cls = c;
  s->cold = false;
#ifdef CIO_HAVE_VALGRIND_H
  s->vg_id = VALGRIND_STACK_REGISTER(lo, lo + c->size);
#else
  s->vg_id = 0;
#endif
  return s;
}

static inline void list_push_front(cio__link *h, cio__link *n) { cio__list_push_back(h->next, n); }

cio__stack *cio__stack_get(cio__stack_pool *p, size_t size, int *err) {
  cio__stack_class *c = class_for(p, size);
  if (!c) {
    *err = -ENOMEM;
    return NULL;
  }
  cio__link *l = cio__list_pop_front(&c->warm);
  if (l) {
    if (c->nwarm-- > WARM_MAX) p->excess--;
  } else {
    l = cio__list_pop_front(&c->cold);
  }
  if (!l) return carve(p, c, err);
  cio__stack *s = cio__container_of(l, cio__stack, link);
  s->cold = false;
#ifdef CIO_ASAN
  /* A task that finished leaves its entry frame's redzones poisoned. */
  ASAN_UNPOISON_MEMORY_REGION(s->lo, s->size);
#endif
  return s;
}

void cio__stack_put(cio__stack_pool *p, cio__stack *s) {
  cio__stack_class *c = s->cls;
  if (s->cold) {
    list_push_front(&c->cold, &s->link); /* cleaned by a debug loop */
    return;
  }
  /* The most recently used first: its pages are the likeliest in cache. */
  list_push_front(&c->warm, &s->link);
  if (++c->nwarm > WARM_MAX) p->excess++;
}

/* The usable region ends at the end of the class size; its top page holds
 * the descriptor, so it is always resident and never given back. */
static char *top_page_of(const cio__stack *s) {
  return (char *)((uintptr_t)s & ~(uintptr_t)(page_size() - 1));
}

void cio__stack_trim(cio__stack_pool *p) {
  struct iovec v[TRIM_BATCH];
  cio__stack *batch[TRIM_BATCH];
  size_t n = 0;
  for (cio__stack_class *c = p->classes; c && n < TRIM_BATCH; c = c->next) {
    while (c->nwarm > WARM_MAX && n < TRIM_BATCH) {
      cio__stack *s = cio__container_of(c->warm.prev, cio__stack, link); /* the oldest */
      cio__list_remove(&s->link);
      c->nwarm--;
      p->excess--;
      batch[n] = s;
      v[n++] = (struct iovec){s->lo, (size_t)(top_page_of(s) - s->lo)};
    }
  }
  if (!n) return;
  /* MADV_FREE: the kernel takes the pages only under memory pressure, and a
   * stack reused before that costs no page faults. A failure (there is no
   * reason for one) leaves pages resident, which is harmless. */
  advise(v, n, MADV_FREE);
  for (size_t i = 0; i < n; i++) {
    batch[i]->cold = true;
    list_push_front(&batch[i]->cls->cold, &batch[i]->link);
  }
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
  s->cold = true;
}

void cio__stack_pool_free(cio__stack_pool *p) {
#ifdef CIO_HAVE_VALGRIND_H
  /* Every task is done by now, so every stack is on a free list. Walking a
   * million descriptors costs a second, so only under Valgrind. */
  if (RUNNING_ON_VALGRIND)
    for (cio__stack_class *c = p->classes; c; c = c->next)
      for (cio__link *h = &c->warm; h; h = h == &c->warm ? &c->cold : NULL)
        for (cio__link *l = h->next; l != h; l = l->next)
          VALGRIND_STACK_DEREGISTER(cio__container_of(l, cio__stack, link)->vg_id);
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
  p->excess = 0;
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
    write_str(" bytes): give it a bigger stack_size in cio_spawn_opts or cio_loop_opts\n");
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
