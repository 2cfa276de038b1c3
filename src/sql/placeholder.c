/* placeholder.c - $N placeholders for MariaDB, which knows only '?'.
 *
 * The SQL is scanned with MariaDB's lexical rules for what can hide a '$':
 * '...' and "..." strings (backslash escapes, doubled quotes), `...`
 * identifiers, -- and # comments to the end of the line, and C comments.
 * Outside those, "$<digits>" not preceded by an identifier character
 * becomes '?'. */
#include "sql_internal.h"

static bool ident_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '$' || c >= 0x80;
}

int cio__sql_rewrite_dollar(const char *sql, size_t nparams, char **out, size_t **order,
                            size_t *norder) {
  *out = NULL;
  *order = NULL;
  *norder = 0;
  size_t n = strlen(sql), count = 0;
  char *s = NULL;
  size_t *ord = NULL, o = 0;
  /* Two passes: count, then write. */
  for (int pass = 0; pass < 2; pass++) {
    o = 0;
    size_t i = 0;
    while (i < n) {
      char c = sql[i];
      if (c == '\'' || c == '"' || c == '`') {
        size_t j = i + 1;
        while (j < n) {
          if (sql[j] == '\\' && c != '`' && j + 1 < n) {
            j += 2;
          } else if (sql[j] == c) {
            if (j + 1 < n && sql[j + 1] == c) {
              j += 2;
            } else {
              j++;
              break;
            }
          } else {
            j++;
          }
        }
        if (pass) memcpy(s + o, sql + i, j - i);
        o += j - i;
        i = j;
        continue;
      }
      if ((c == '-' && i + 1 < n && sql[i + 1] == '-' &&
           (i + 2 == n || sql[i + 2] == ' ' || sql[i + 2] == '\t' || sql[i + 2] == '\n' ||
            sql[i + 2] == '\r')) ||
          c == '#') {
        size_t j = i;
        while (j < n && sql[j] != '\n') j++;
        if (pass) memcpy(s + o, sql + i, j - i);
        o += j - i;
        i = j;
        continue;
      }
      if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
        const char *e = strstr(sql + i + 2, "*/");
        size_t j = e ? (size_t)(e - sql) + 2 : n;
        if (pass) memcpy(s + o, sql + i, j - i);
        o += j - i;
        i = j;
        continue;
      }
      if (c == '$' && i + 1 < n && sql[i + 1] >= '0' && sql[i + 1] <= '9' &&
          (i == 0 || !ident_char((unsigned char)sql[i - 1]))) {
        size_t j = i + 1, num = 0;
        while (j < n && sql[j] >= '0' && sql[j] <= '9' && num <= 65535)
          num = num * 10 + (size_t)(sql[j++] - '0');
        if (j < n && ident_char((unsigned char)sql[j])) {
          /* $1abc: not a placeholder */
        } else {
          if (num == 0 || num > nparams) {
            free(s);
            free(ord);
            return -EINVAL;
          }
          if (pass) {
            s[o] = '?';
            ord[*norder] = num - 1;
            ++*norder;
          } else {
            count++;
          }
          o++;
          i = j;
          continue;
        }
      }
      if (pass) s[o] = c;
      o++;
      i++;
    }
    if (pass == 0) {
      if (count == 0) return 0;
      s = malloc(o + 1);
      ord = malloc(count * sizeof *ord);
      if (!s || !ord) {
        free(s);
        free(ord);
        return -ENOMEM;
      }
    }
  }
  s[o] = '\0';
  *out = s;
  *order = ord;
  return 0;
}
