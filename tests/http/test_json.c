/* test_json.c - the writer's output against what Python's json.dumps
 * (ensure_ascii=False, compact) gives for the same values: escapes, raw
 * UTF-8, repair of invalid UTF-8, Python float repr, nesting and misuse
 * (sticky errors); parsing: valid documents, every RFC 8259 refusal, the
 * depth limit. */
#include "test.h"

#include <cio/json.h>
#include <cjson/cJSON.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

static void test_document(void) {
  cio_json *j = cio_json_new();
  CHECK(j != NULL);
  cio_json_object(j);
  cio_json_key(j, "bug_id");
  cio_json_int(j, 42);
  cio_json_key(j, "title");
  cio_json_str(j, "空指针 \"quoted\" \\ /\n\t\x01\x1f\x7f");
  cio_json_key(j, "none");
  cio_json_str(j, NULL);
  cio_json_key(j, "list");
  cio_json_array(j);
  cio_json_int(j, -1);
  cio_json_uint(j, UINT64_MAX);
  cio_json_bool(j, 1);
  cio_json_bool(j, 0);
  cio_json_null(j);
  cio_json_array(j);
  cio_json_array_end(j);
  cio_json_object(j);
  cio_json_object_end(j);
  cio_json_double(j, 0.5);
  cio_json_raw(j, "{\"r\":1}", 7);
  cio_json_array_end(j);
  cio_json_object_end(j);
  CHECK_EQ(cio_json_error(j), 0);
  CHECK(cio_json_complete(j));
  size_t len;
  const char *s = cio_json_data(j, &len);
  CHECK_STR(s, "{\"bug_id\":42,\"title\":\"空指针 \\\"quoted\\\" \\\\ /\\n\\t\\u0001\\u001f\x7f\","
               "\"none\":null,\"list\":[-1,18446744073709551615,true,false,null,[],{},0.5,"
               "{\"r\":1}]}");
  CHECK_EQ(len, strlen(s));
  cio_json_reset(j);
  cio_json_str(j, "x");
  CHECK_STR(cio_json_data(j, NULL), "\"x\"");
  cio_json_free(j);
}

static void test_utf8_repair(void) {
  cio_json *j = cio_json_new();
  /* Python: b"...".decode("utf-8", "replace") gives one U+FFFD per maximal
   * ill-formed subpart. */
  static const struct {
    const char *in;
    const char *out;
  } cases[] = {
      {"a\xffz", "\"a\xEF\xBF\xBDz\""},
      {"\xe0\x80z", "\"\xEF\xBF\xBD\xEF\xBF\xBDz\""},               /* overlong: 2 */
      {"\xe1\x80z", "\"\xEF\xBF\xBDz\""},                           /* truncated: 1 */
      {"\xed\xa0\x80", "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""}, /* surrogate */
      {"\xf4\x90\x80\x80", "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""},
      {"\xf0\x9f\x98", "\"\xEF\xBF\xBD\""},
      {"\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""},
      {"\xc0\xaf", "\"\xEF\xBF\xBD\xEF\xBF\xBD\""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cio_json_reset(j);
    cio_json_str(j, cases[i].in);
    CHECK_STR(cio_json_data(j, NULL), cases[i].out);
  }
  cio_json_free(j);
}

static void test_doubles(void) {
  static const struct {
    double v;
    const char *s;
  } cases[] = {
      {0.0, "0.0"},
      {-0.0, "-0.0"},
      {1.0, "1.0"},
      {0.1, "0.1"},
      {-2.5, "-2.5"},
      {1e16, "1e+16"},
      {1e15, "1000000000000000.0"},
      {123456789012345678.0, "1.2345678901234568e+17"},
      {0.0001, "0.0001"},
      {0.00001, "1e-05"},
      {1.5e-7, "1.5e-07"},
      {1e300, "1e+300"},
      {3.141592653589793, "3.141592653589793"},
      {100.0, "100.0"},
      {1.25e-300, "1.25e-300"},
      {5e-324, "5e-324"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {0.3, "0.3"},
      {2.0 / 3.0, "0.6666666666666666"},
  };
  char out[40];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int n = cio_json_format_double(out, sizeof out, cases[i].v);
    CHECK_EQ(n, (int)strlen(cases[i].s));
    CHECK_STR(out, cases[i].s);
  }
  CHECK_EQ(cio_json_format_double(out, sizeof out, NAN), -EDOM);
  CHECK_EQ(cio_json_format_double(out, sizeof out, INFINITY), -EDOM);
  cio_json *j = cio_json_new();
  CHECK_EQ(cio_json_double(j, NAN), -EDOM);
  CHECK_EQ(cio_json_int(j, 1), -EDOM); /* sticky */
  cio_json_free(j);
}

static void test_misuse(void) {
  cio_json *j = cio_json_new();
  cio_json_object(j);
  CHECK_EQ(cio_json_int(j, 1), -EINVAL); /* value without key */
  CHECK_EQ(cio_json_error(j), -EINVAL);
  cio_json_reset(j);
  CHECK_EQ(cio_json_error(j), 0);
  cio_json_array(j);
  CHECK_EQ(cio_json_key(j, "k"), -EINVAL);
  cio_json_reset(j);
  cio_json_array(j);
  CHECK_EQ(cio_json_object_end(j), -EINVAL);
  cio_json_reset(j);
  cio_json_object(j);
  cio_json_key(j, "k");
  CHECK_EQ(cio_json_object_end(j), -EINVAL); /* key without value */
  cio_json_reset(j);
  cio_json_int(j, 1);
  CHECK(cio_json_complete(j));
  CHECK_EQ(cio_json_int(j, 2), -EINVAL); /* second top-level value */
  cio_json_reset(j);
  CHECK_EQ(cio_json_array_end(j), -EINVAL);
  cio_json_reset(j);
  int r = 0;
  for (int i = 0; i <= CIO_JSON_MAX_DEPTH && r == 0; i++) r = cio_json_array(j);
  CHECK_EQ(r, -EINVAL);
  cio_json_reset(j);
  cio_json_object(j);
  CHECK(!cio_json_complete(j));
  cio_json_free(j);
}

static void test_parse(void) {
  cJSON *t = NULL;
  const char *doc = " {\"a\": [1, -2.5e3, true, false, null, \"\\u00e9\\n\"], \"b\": {}} ";
  CHECK_EQ(cio_json_parse(doc, strlen(doc), 0, &t, NULL), 0);
  CHECK(t != NULL);
  cJSON *a = cJSON_GetObjectItemCaseSensitive(t, "a");
  CHECK(cJSON_IsArray(a));
  CHECK_EQ(cJSON_GetArraySize(a), 6);
  CHECK(cJSON_GetArrayItem(a, 1)->valuedouble == -2500.0);
  CHECK_STR(cJSON_GetArrayItem(a, 5)->valuestring, "\xc3\xa9\n");
  cJSON_Delete(t);
  static const char *const bad[] = {
      "",        " ",         "{",        "[1,]",     "{\"a\":1,}", "01",    "1.",
      ".5",      "+1",        "-",        "1e",       "tru",        "nul",   "\"a",
      "\"\\x\"", "\"\\u12\"", "\"\x01\"", "\"\xff\"", "[1] [2]",    "{a:1}", "{\"a\" 1}",
      "[1 2]",   "NaN",       "Infinity", "'a'",      "{\"a\":}",   "[,]",   "\"\xed\xa0\x80\"",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    size_t at = 99;
    int r = cio_json_parse(bad[i], strlen(bad[i]), 0, &t, &at);
    if (r != -EBADMSG) fprintf(stderr, "json case %zu -> %d\n", i, r);
    CHECK_EQ(r, -EBADMSG);
    CHECK(t == NULL);
    CHECK(at <= strlen(bad[i]));
  }
  size_t at;
  CHECK_EQ(cio_json_parse("[1, x]", 6, 0, &t, &at), -EBADMSG);
  CHECK_EQ(at, 4);
  /* Depth: 64 levels by default, then -ELOOP, however deep the text. */
  static char deep[200001];
  memset(deep, '[', 100000);
  memset(deep + 100000, ']', 100000);
  CHECK_EQ(cio_json_parse(deep, 200000, 0, &t, NULL), -ELOOP);
  CHECK_EQ(cio_json_parse(deep + 100000 - 64, 128, 0, &t, NULL), 0);
  cJSON_Delete(t);
  CHECK_EQ(cio_json_parse(deep + 100000 - 65, 130, 0, &t, NULL), -ELOOP);
  CHECK_EQ(cio_json_parse(deep + 100000 - 65, 130, 65, &t, NULL), 0);
  cJSON_Delete(t);
  /* A lone surrogate escape is valid JSON text that cJSON refuses. */
  CHECK_EQ(cio_json_parse("\"\\ud800\"", 8, 0, &t, NULL), -EBADMSG);
  CHECK_EQ(cio_json_parse("\"\\ud83d\\ude00\"", 14, 0, &t, NULL), 0);
  CHECK_STR(t->valuestring, "\xf0\x9f\x98\x80");
  cJSON_Delete(t);
}

int main(void) {
  RUN(test_document);
  RUN(test_utf8_repair);
  RUN(test_doubles);
  RUN(test_misuse);
  RUN(test_parse);
  return test_report();
}
