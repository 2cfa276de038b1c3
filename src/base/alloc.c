/* alloc.c - the allocation indirection and its fault injector. */
#include "alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* countdown > 0: allocations left before the one that fails. */
static atomic_long countdown;
static atomic_bool persist_fail;
static atomic_long failed;

static bool should_fail(void) {
  if (CIO_LIKELY(atomic_load_explicit(&countdown, memory_order_relaxed) == 0)) return false;
  long left = atomic_fetch_sub(&countdown, 1); /* the value before */
  if (left > 1) return false;                  /* not the nth yet */
  if (left < 1) {                              /* cleared meanwhile */
    atomic_fetch_add(&countdown, 1);
    return false;
  }
  if (atomic_load(&persist_fail)) atomic_store(&countdown, 1); /* the next fails too */
  atomic_fetch_add(&failed, 1);
  return true;
}

void *cio__malloc(size_t n) { return should_fail() ? NULL : malloc(n); }
void *cio__calloc(size_t n, size_t size) { return should_fail() ? NULL : calloc(n, size); }
void *cio__realloc(void *p, size_t n) { return should_fail() ? NULL : realloc(p, n); }
void cio__free(void *p) { free(p); }

char *cio__strdup(const char *s) { return should_fail() ? NULL : strdup(s); }
char *cio__strndup(const char *s, size_t n) { return should_fail() ? NULL : strndup(s, n); }

void cio__fault_alloc_fail(long nth, bool persist) {
  atomic_store(&failed, 0);
  atomic_store(&persist_fail, persist);
  atomic_store(&countdown, nth > 0 ? nth : 0);
}

void cio__fault_alloc_clear(void) {
  atomic_store(&countdown, 0);
  atomic_store(&persist_fail, false);
}

long cio__fault_alloc_failed(void) { return atomic_load(&failed); }
