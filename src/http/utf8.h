/* utf8.h - UTF-8 validation and repair for the http layer. Not installed. */
#ifndef CIO_HTTP_UTF8_H
#define CIO_HTTP_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decode one code point at s[0..n) (n >= 1). Returns 1 for a well-formed
 * sequence (*cp, *len = its length), 0 for an ill-formed one (*len = the
 * length of its maximal subpart, >= 1: the bytes one U+FFFD replaces, as
 * Unicode recommends and Python's errors="replace" does). */
int cio__utf8_decode(const unsigned char *s, size_t n, uint32_t *cp, size_t *len);

/* Length of the longest well-formed UTF-8 prefix of s[0..n). */
size_t cio__utf8_valid_prefix(const char *s, size_t n);

/* Copy in[0..n) to out replacing each ill-formed subpart with U+FFFD
 * (EF BF BD). out needs 3n bytes in the worst case. Returns the length. */
size_t cio__utf8_repair(char *out, const char *in, size_t n);

/* Encode cp (<= 0x10FFFF) into out (4 bytes); returns the length. */
size_t cio__utf8_encode(char *out, uint32_t cp);

#endif
