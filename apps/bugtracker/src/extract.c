/* extract.c - the original's two regular expressions through PCRE2. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "extract.h"

#include <errno.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Python's \s on str: the code points for which str.isspace() is true
 * (Unicode 14, Python 3.11), as one class. */
#define PY_SPACE                                                                                   \
  "[\\t-\\r\\x{1c}-\\x{20}\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}"   \
  "\\x{205f}\\x{3000}]"
/* r'KEY[:：]\s*(.*?)[。*\n]' with '.' as Python's: anything but \n. */
#define PATTERN(key) key "[:：]" PY_SPACE "*([^\\n]*?)[。*\\n]"

static const char CAUSE[] = PATTERN("问题原因分析");
static const char FIX[] = PATTERN("修改方案描述");

struct bt_extractor {
  pcre2_code *cause, *fix;
  int jit;
};

struct bt_matcher {
  const bt_extractor *x;
  pcre2_match_data *md;
  pcre2_match_context *mctx;
  pcre2_jit_stack *stack;
  unsigned long gave_up;
};

static pcre2_code *compile(const char *pattern, char *err, size_t cap) {
  int code;
  PCRE2_SIZE off;
  pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP,
                                 &code, &off, NULL);
  if (!re) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(code, msg, sizeof msg);
    snprintf(err, cap, "pcre2_compile at %zu: %s", (size_t)off, (const char *)msg);
  }
  return re;
}

bt_extractor *bt_extractor_new(char *err, size_t cap) {
  bt_extractor *x = calloc(1, sizeof *x);
  if (!x) {
    snprintf(err, cap, "out of memory");
    return NULL;
  }
  x->cause = compile(CAUSE, err, cap);
  x->fix = x->cause ? compile(FIX, err, cap) : NULL;
  if (!x->fix) {
    bt_extractor_free(x);
    return NULL;
  }
  uint32_t have_jit = 0;
  pcre2_config(PCRE2_CONFIG_JIT, &have_jit);
  /* Without a JIT (a platform PCRE2 has none for, or one built without)
   * the interpreter gives the same answers, more slowly. */
  x->jit = have_jit && pcre2_jit_compile(x->cause, PCRE2_JIT_COMPLETE) == 0 &&
           pcre2_jit_compile(x->fix, PCRE2_JIT_COMPLETE) == 0;
  return x;
}

void bt_extractor_free(bt_extractor *x) {
  if (!x) return;
  pcre2_code_free(x->cause);
  pcre2_code_free(x->fix);
  free(x);
}

int bt_extractor_jit(const bt_extractor *x) { return x->jit; }

bt_matcher *bt_matcher_new(const bt_extractor *x) {
  bt_matcher *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->x = x;
  m->md = pcre2_match_data_create(2, NULL);
  m->mctx = pcre2_match_context_create(NULL);
  /* The JIT's backtracking stack lives on the heap: a task's stack is
   * small, and PCRE2's default would put 32 KiB on it. */
  m->stack = x->jit ? pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, NULL) : NULL;
  if (!m->md || !m->mctx || (x->jit && !m->stack)) {
    bt_matcher_free(m);
    errno = ENOMEM;
    return NULL;
  }
  if (m->stack) pcre2_jit_stack_assign(m->mctx, NULL, m->stack);
  return m;
}

void bt_matcher_free(bt_matcher *m) {
  if (!m) return;
  pcre2_match_data_free(m->md);
  pcre2_match_context_free(m->mctx);
  pcre2_jit_stack_free(m->stack);
  free(m);
}

unsigned long bt_matcher_gave_up(const bt_matcher *m) { return m->gave_up; }

/* re.search(pattern, text).group(1), or empty. text is valid UTF-8. */
static int search(bt_matcher *m, const pcre2_code *re, const char *text, size_t len, bt_span *out) {
  static const char empty[1];
  PCRE2_SPTR s = (PCRE2_SPTR)(text ? text : empty);
  int rc;
  out->p = text;
  out->len = 0;
  if (m->x->jit) {
    rc = pcre2_jit_match(re, s, len, 0, 0, m->md, m->mctx);
    /* Deeper backtracking than the JIT stack holds: the interpreter keeps
     * its frames on the heap. */
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
      rc = pcre2_match(re, s, len, 0, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, m->md, m->mctx);
  } else {
    rc = pcre2_match(re, s, len, 0, PCRE2_NO_UTF_CHECK, m->md, m->mctx);
  }
  if (rc > 1) {
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
    out->p = text + ov[2];
    out->len = ov[3] - ov[2];
    return 0;
  }
  if (rc == PCRE2_ERROR_NOMEMORY) return -ENOMEM;
  if (rc != PCRE2_ERROR_NOMATCH) m->gave_up++;
  return 0;
}

int bt_extract(bt_matcher *m, const char *text, size_t len, bt_span *cause, bt_span *fix) {
  cause->p = fix->p = text;
  cause->len = fix->len = 0;
  if (!len || !bt_utf8_valid(text, len)) return 0;
  int r = search(m, m->x->cause, text, len, cause);
  if (r == 0) r = search(m, m->x->fix, text, len, fix);
  return r;
}

int bt_utf8_valid(const char *p, size_t n) {
  const unsigned char *s = (const unsigned char *)p, *end = s + n;
  while (s < end) {
    unsigned c = *s;
    if (c < 0x80) {
      s++;
      continue;
    }
    size_t need;
    unsigned lo = 0x80, hi = 0xbf; /* the second byte's range */
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c == 0xe0)
        lo = 0xa0; /* overlong */
      else if (c == 0xed)
        hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c == 0xf0)
        lo = 0x90; /* overlong */
      else if (c == 0xf4)
        hi = 0x8f; /* above U+10FFFF */
    } else {
      return 0;
    }
    if ((size_t)(end - s) <= need || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i <= need; i++)
      if ((s[i] & 0xc0) != 0x80) return 0;
    s += need + 1;
  }
  return 1;
}
