/* compiler.h - branch hints, container_of and visibility for every layer.
 * Private: never installed. */
#ifndef CIO_BASE_COMPILER_H
#define CIO_BASE_COMPILER_H

#include <stddef.h>

#define CIO_LIKELY(x)   __builtin_expect(!!(x), 1)
#define CIO_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* The struct of type T whose member m is at p. */
#define cio__container_of(p, T, m) ((T *)(void *)((char *)(p)-offsetof(T, m)))

/* Internal functions of the base layer live in libcio-core and are used by
 * the layers above it, which are separate shared libraries: they must be
 * exported although they are not part of the API (cio__ prefix, no header
 * installed). */
#define CIO__BASE_API __attribute__((visibility("default")))

#endif
