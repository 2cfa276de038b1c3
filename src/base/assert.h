/* assert.h - invariants checked in Debug and sanitizer builds.
 *
 * cio__assert(cond) states an invariant the code relies on (a list node is
 * linked, a waiting task is WAITING, the timer heap is ordered). It costs
 * nothing in Release builds (NDEBUG) unless CIO_ASSERTS=1 is defined; when it
 * fails it prints the condition and where, then aborts: a broken invariant is
 * a bug in cio, never a caller's or a peer's mistake (those get error codes).
 */
#ifndef CIO_BASE_ASSERT_H
#define CIO_BASE_ASSERT_H

#include "compiler.h"

#ifndef CIO_ASSERTS
#ifdef NDEBUG
#define CIO_ASSERTS 0
#else
#define CIO_ASSERTS 1
#endif
#endif

/* Abort with a message: only for broken internal invariants. */
CIO__BASE_API __attribute__((noreturn, format(printf, 1, 2))) void cio__panic(const char *fmt, ...);
CIO__BASE_API __attribute__((noreturn)) void cio__assert_fail(const char *cond, const char *file,
                                                              int line, const char *func);

#if CIO_ASSERTS
#define cio__assert(cond)                                                                          \
  (CIO_LIKELY(cond) ? (void)0 : cio__assert_fail(#cond, __FILE__, __LINE__, __func__))
#else
#define cio__assert(cond) ((void)sizeof(!(cond)))
#endif

#endif
