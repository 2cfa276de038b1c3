/* test_extract - cause and fix extraction: PCRE2 against the original's own
 * format_() in Python on generated texts, invalid UTF-8, empty and NULL
 * texts, MariaDB's GROUP_CONCAT cut, and the JSON of the answers.
 *
 *   test_extract PYTHON ORACLE [COUNT]
 *
 * PYTHON ORACLE is the command that runs tests/extract_oracle.py; without
 * them (or without python3) the differential part is skipped with a note.
 */
#include "../../../tests/test.h"
#include "extract.h"
#include "format.h"

#include <cjson/cJSON.h>
#include <cio/json.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bt_extractor *X;
static bt_matcher *M;
static const char *python, *oracle;
static int count = 20000;

static int span_is(bt_span s, const char *want) {
  return s.len == strlen(want) && (s.len == 0 || memcmp(s.p, want, s.len) == 0);
}

static void extract_s(const char *text, const char *cause, const char *fix) {
  bt_span c, f;
  CHECK_EQ(bt_extract(M, text, text ? strlen(text) : 0, &c, &f), 0);
  if (!span_is(c, cause) || !span_is(f, fix)) {
    fprintf(stderr, "  text \"%s\": cause \"%.*s\" (want \"%s\"), fix \"%.*s\" (want \"%s\")\n",
            text, (int)c.len, c.p ? c.p : "", cause, (int)f.len, f.p ? f.p : "", fix);
    CHECK(0);
  }
}

static void test_basics(void) {
  CHECK(bt_extractor_jit(X) == 0 || bt_extractor_jit(X) == 1);
  extract_s("问题原因分析：空指针。修改方案描述：判空。", "空指针", "判空");
  extract_s("问题原因分析:ascii。修改方案描述:colon。", "ascii", "colon");
  extract_s("问题原因分析：a*b。", "a", "");
  extract_s("问题原因分析：line\nmore。", "line", "");
  extract_s("问题原因分析：\n\n  skip spaces。", "skip spaces", "");
  extract_s("问题原因分析：\u3000\u00a0\x1c\xc2\x85wide。", "wide", "");
  extract_s("问题原因分析：\u200bzwsp。", "\u200bzwsp", ""); /* not whitespace for Python */
  extract_s("问题原因分析：no end", "", "");
  extract_s("问题原因分析：\n", "", "");
  extract_s("问题原因分析：。", "", "");
  extract_s("问题原因分析︰other colon。", "", "");
  extract_s("", "", "");
  extract_s(NULL, "", "");
}

static void test_invalid_utf8(void) {
  /* A cause in valid text, then one bad byte: the whole text is no match. */
  static const char bad[] = "问题原因分析：原因。\xff";
  bt_span c, f;
  CHECK_EQ(bt_extract(M, bad, sizeof bad - 1, &c, &f), 0);
  CHECK_EQ(c.len, 0);
  CHECK_EQ(f.len, 0);
  CHECK(bt_utf8_valid("\xe4\xb8\xad", 3));
  CHECK(!bt_utf8_valid("\xe4\xb8", 2));         /* cut */
  CHECK(!bt_utf8_valid("\xc0\xaf", 2));         /* overlong */
  CHECK(!bt_utf8_valid("\xe0\x80\xaf", 3));     /* overlong */
  CHECK(!bt_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
  CHECK(!bt_utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
  CHECK(!bt_utf8_valid("\xf5\x80\x80\x80", 4)); /* never a lead byte */
  CHECK(bt_utf8_valid("\xf4\x8f\xbf\xbf", 4));  /* U+10FFFF */
  CHECK(bt_utf8_valid("a\0b", 3));              /* NUL is a character */
  /* NUL bytes inside a match are kept. */
  static const char nul[] = "问题原因分析：a\0b。";
  CHECK_EQ(bt_extract(M, nul, sizeof nul - 1, &c, &f), 0);
  CHECK_EQ(c.len, 3);
  CHECK(c.len == 3 && memcmp(c.p, "a\0b", 3) == 0);
}

static void test_cut(void) {
  /* MariaDB keeps whole characters: 中 is 3 bytes. */
  bt_text t = {"ab中cd", 7, 0};
  bt_text_cut(&t, 3);
  CHECK_EQ(t.len, 2);
  t.len = 7;
  bt_text_cut(&t, 5);
  CHECK_EQ(t.len, 5);
  t.len = 7;
  bt_text_cut(&t, 4);
  CHECK_EQ(t.len, 2);
  t.len = 7;
  bt_text_cut(&t, 7);
  CHECK_EQ(t.len, 7);
  bt_text n = {NULL, 0, 1};
  bt_text_cut(&n, 0);
  CHECK(n.null);
}

static bt_text txt(const char *s) {
  bt_text t = {s, s ? strlen(s) : 0, s == NULL};
  return t;
}

static void test_json(void) {
  cio_json *j = cio_json_new();
  cio_sql_value id = cio_sql_int(7);
  bt_bug b = {&id,
              txt("标题 \"q\""),
              txt(NULL),
              txt("1.\n2."),
              txt(""),
              txt(NULL),
              txt("x,问题原因分析：rev*修改方案描述：f\n")};
  CHECK_EQ(bt_write_bug(j, M, &b), 0);
  CHECK_STR(cio_json_data(j, NULL),
            "{\"bug_id\":7,\"bug_title\":\"标题 \\\"q\\\"\",\"version\":null,\"step\":\"1.\\n2.\","
            "\"reply\":{\"cause_of_bug\":\"rev\",\"bug_solution\":\"f\"}}");
  cio_json_reset(j);
  CHECK_EQ(bt_write_missing(j), 0);
  CHECK_STR(cio_json_data(j, NULL), "{\"error\":\"未找到该 bug\"}");
  /* An unsigned id beyond int64_t arrives as text: written as a number. */
  cio_json_reset(j);
  id = cio_sql_textn("18446744073709551615", 20);
  CHECK_EQ(bt_write_bug(j, M, &b), 0);
  CHECK(strncmp(cio_json_data(j, NULL), "{\"bug_id\":18446744073709551615,", 31) == 0);
  cio_json_free(j);
}

/* ---- against Python ---- */

static int hexval(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

static char *unhex(const cJSON *v, size_t *len, int *null) {
  *null = cJSON_IsNull(v);
  *len = 0;
  if (*null) return NULL;
  const char *h = v->valuestring;
  size_t n = strlen(h);
  char *b = malloc(n / 2 + 1);
  /* (not sscanf: it measures the whole remaining string at each call) */
  for (size_t i = 0; b && i + 1 < n; i += 2)
    b[i / 2] = (char)(hexval(h[i]) << 4 | hexval(h[i + 1]));
  if (b) b[n / 2] = '\0';
  *len = n / 2;
  return b;
}

static void test_against_python(void) {
  if (!python || !oracle) {
    printf("skip test_against_python: no python3 / oracle given\n");
    return;
  }
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "'%s' '%s' %d 12345", python, oracle, count);
  FILE *p = popen(cmd, "r");
  CHECK(p != NULL);
  if (!p) return;
  size_t cap = 1 << 20, n = 0, bad = 0;
  char *line = malloc(cap);
  ssize_t len;
  while ((len = getline(&line, &cap, p)) > 0) {
    cJSON *row = cJSON_ParseWithLength(line, (size_t)len);
    CHECK(cJSON_GetArraySize(row) == 5);
    if (cJSON_GetArraySize(row) != 5) {
      cJSON_Delete(row);
      break;
    }
    char *s[5];
    bt_text t[5];
    for (int i = 0; i < 5; i++) {
      s[i] = unhex(cJSON_GetArrayItem(row, i), &t[i].len, &t[i].null);
      t[i].p = s[i];
    }
    cio_sql_value id = cio_sql_int(1);
    bt_bug b = {&id, txt(""), txt(""), txt(""), t[0], t[1], t[2]};
    bt_span c, f;
    CHECK_EQ(bt_reply(M, &b, &c, &f), 0);
    int ok = c.len == t[3].len && f.len == t[4].len && (!c.len || !memcmp(c.p, t[3].p, c.len)) &&
             (!f.len || !memcmp(f.p, t[4].p, f.len));
    if (!ok && bad++ < 10) {
      fprintf(stderr, "case %zu: python cause=%zu bytes fix=%zu bytes, pcre2 %zu / %zu\n  %.300s",
              n, t[3].len, t[4].len, c.len, f.len, line);
    }
    for (int i = 0; i < 5; i++) free(s[i]);
    cJSON_Delete(row);
    n++;
  }
  free(line);
  CHECK_EQ(pclose(p), 0);
  CHECK_EQ(bad, 0);
  CHECK(n >= (size_t)count);
  CHECK_EQ(bt_matcher_gave_up(M), 0);
  printf("     %zu texts compared with Python's re (JIT %s)\n", n,
         bt_extractor_jit(X) ? "on" : "off");
}

int main(int argc, char **argv) {
  if (argc >= 3) {
    python = argv[1];
    oracle = argv[2];
  }
  if (argc >= 4) count = atoi(argv[3]);
  char err[256];
  X = bt_extractor_new(err, sizeof err);
  if (!X) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  M = bt_matcher_new(X);
  RUN(test_basics);
  RUN(test_invalid_utf8);
  RUN(test_cut);
  RUN(test_json);
  RUN(test_against_python);
  bt_matcher_free(M);
  bt_extractor_free(X);
  return test_report();
}
