/* extract.h - the cause and the fix of a bug, found in its texts as the
 * original's format_() finds them.
 *
 * The original (apps/bugtracker/reference/util/db_tool.py) runs, on the
 * additional information, else the notes, else the revisions:
 *
 *   r = re.search(r'问题原因分析[:：]\s*(.*?)[。*\n]', text)
 *   f = re.search(r'修改方案描述[:：]\s*(.*?)[。*\n]', text)
 *
 * Here the same two expressions run through PCRE2 (UTF, UCP, JIT-compiled
 * once), written so that they mean exactly what Python's re means: Python's
 * \s on str is its own set of code points (Unicode White_Space plus U+001C..
 * U+001F), spelled out as a class; '.' without DOTALL is "anything but \n",
 * spelled [^\n]. Python's re and PCRE2 are both backtracking engines with the
 * same leftmost, lazy-first semantics, so the match and the group agree
 * (tests/test_extract proves it against Python on generated texts).
 *
 * Text that is not valid UTF-8 (only SQLite can hold such text) has no
 * match: both spans empty, no error.
 *
 * Threads: a bt_extractor is read-only once made and is shared by every
 * thread; each thread (each server worker) matches with its own bt_matcher.
 * Nothing here suspends.
 */
#ifndef BT_EXTRACT_H
#define BT_EXTRACT_H

#include <stddef.h>

typedef struct bt_extractor bt_extractor;
typedef struct bt_matcher bt_matcher;

/* A piece of a text: len bytes at p (p may be NULL when len is 0). */
typedef struct bt_span {
  const char *p;
  size_t len;
} bt_span;

/* Compile the two expressions (and JIT-compile them where PCRE2 has a JIT).
 * Returns the extractor, or NULL with a message in err (cap bytes). */
bt_extractor *bt_extractor_new(char *err, size_t cap);
void bt_extractor_free(bt_extractor *x);
/* 1 if the expressions run JIT-compiled. */
int bt_extractor_jit(const bt_extractor *x);

/* Scratch space for matching on one thread: match data and a JIT stack on
 * the heap (never on the calling task's stack). NULL + errno ENOMEM. */
bt_matcher *bt_matcher_new(const bt_extractor *x);
void bt_matcher_free(bt_matcher *m);

/* extract(text): the cause and the fix in text[0..len), each the first
 * match's group, or empty. Returns 0, or -ENOMEM. A text on which PCRE2
 * gives up (its match limit: pathological backtracking, where Python's re
 * would run for hours) counts as no match; bt_matcher_gave_up() counts
 * them. */
int bt_extract(bt_matcher *m, const char *text, size_t len, bt_span *cause, bt_span *fix);

/* How many matches gave up at the match limit so far on m. */
unsigned long bt_matcher_gave_up(const bt_matcher *m);

/* 1 if p[0..n) is well-formed UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF). */
int bt_utf8_valid(const char *p, size_t n);

#endif
