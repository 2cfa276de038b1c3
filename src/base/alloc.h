/* alloc.h - every allocation of every layer goes through here.
 *
 * The indirection exists for tests: cio__fault_alloc_fail() makes the Nth
 * allocation from now fail (SQLite's faultsim), so a test can walk through
 * every allocation of a public call and prove that each failure comes back
 * as -ENOMEM with nothing leaked or broken. When no fault is armed the cost
 * is one relaxed load and a predictable branch. */
#ifndef CIO_BASE_ALLOC_H
#define CIO_BASE_ALLOC_H

#include "compiler.h"

#include <stdbool.h>
#include <stddef.h>

CIO__BASE_API void *cio__malloc(size_t n);
CIO__BASE_API void *cio__calloc(size_t n, size_t size);
CIO__BASE_API void *cio__realloc(void *p, size_t n);
CIO__BASE_API char *cio__strdup(const char *s);
CIO__BASE_API char *cio__strndup(const char *s, size_t n);
CIO__BASE_API void cio__free(void *p);

/* ---- fault injection (tests) ----
 * Fail the nth allocation from now (1 = the next one); with persist, that
 * one and every later one fail until cio__fault_alloc_clear(). Any thread
 * may allocate; the counter is shared by all. */
CIO__BASE_API void cio__fault_alloc_fail(long nth, bool persist);
CIO__BASE_API void cio__fault_alloc_clear(void);
/* Allocations failed since the last arming (0: the nth was never reached,
 * so the operation under test makes fewer allocations than nth). */
CIO__BASE_API long cio__fault_alloc_failed(void);

#endif
