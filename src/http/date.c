/* date.c - HTTP-dates: the Date header, formatted at most once a second
 * per thread, and parsing for If-Modified-Since / If-Range. */
#include "http_internal.h"

#include <string.h>
#include <strings.h>
#include <time.h>

static const char wdays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void cio__http_date_format(char *buf, int64_t t) {
  struct tm tm;
  time_t tt = (time_t)t;
  gmtime_r(&tt, &tm);
  /* fixed width: "Sun, 06 Nov 1994 08:49:37 GMT" */
  memcpy(buf, wdays[tm.tm_wday], 3);
  buf[3] = ',';
  buf[4] = ' ';
  buf[5] = (char)('0' + tm.tm_mday / 10);
  buf[6] = (char)('0' + tm.tm_mday % 10);
  buf[7] = ' ';
  memcpy(buf + 8, months[tm.tm_mon], 3);
  buf[11] = ' ';
  int y = tm.tm_year + 1900;
  buf[12] = (char)('0' + y / 1000 % 10);
  buf[13] = (char)('0' + y / 100 % 10);
  buf[14] = (char)('0' + y / 10 % 10);
  buf[15] = (char)('0' + y % 10);
  buf[16] = ' ';
  buf[17] = (char)('0' + tm.tm_hour / 10);
  buf[18] = (char)('0' + tm.tm_hour % 10);
  buf[19] = ':';
  buf[20] = (char)('0' + tm.tm_min / 10);
  buf[21] = (char)('0' + tm.tm_min % 10);
  buf[22] = ':';
  buf[23] = (char)('0' + tm.tm_sec / 10);
  buf[24] = (char)('0' + tm.tm_sec % 10);
  memcpy(buf + 25, " GMT", 5);
}

static _Thread_local struct {
  int64_t sec;
  char line[40]; /* "Date: " + 29 + "\r\n" */
} date_cache = {-1, {0}};

size_t cio__http_date_line(const char **line) {
  struct timespec ts;
  /* the coarse clock is a vDSO read of the last tick: no system call */
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  if (HTTP_UNLIKELY(ts.tv_sec != date_cache.sec)) {
    memcpy(date_cache.line, "Date: ", 6);
    cio__http_date_format(date_cache.line + 6, (int64_t)ts.tv_sec);
    memcpy(date_cache.line + 35, "\r\n", 3);
    date_cache.sec = ts.tv_sec;
  }
  *line = date_cache.line;
  return 37;
}

static int month_of(const char *s) {
  for (int i = 0; i < 12; i++)
    if (strncasecmp(s, months[i], 3) == 0) return i;
  return -1;
}

static int num(const char *s, size_t n, int *out) {
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

static int hms(const char *s, struct tm *tm) {
  if (s[2] != ':' || s[5] != ':') return -1;
  if (num(s, 2, &tm->tm_hour) || num(s + 3, 2, &tm->tm_min) || num(s + 6, 2, &tm->tm_sec))
    return -1;
  return tm->tm_hour < 24 && tm->tm_min < 60 && tm->tm_sec < 61 ? 0 : -1;
}

int64_t cio__http_date_parse(const char *s, size_t n) {
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  const char *comma = memchr(s, ',', n);
  if (n == 29 && comma == s + 3) {
    /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
    if (num(s + 5, 2, &tm.tm_mday) || (tm.tm_mon = month_of(s + 8)) < 0 ||
        num(s + 12, 4, &tm.tm_year) || hms(s + 17, &tm) || memcmp(s + 25, " GMT", 4) != 0)
      return -1;
    tm.tm_year -= 1900;
  } else if (comma && n > (size_t)(comma - s) + 23) {
    /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
    const char *p = comma + 2;
    if (num(p, 2, &tm.tm_mday) || p[2] != '-' || (tm.tm_mon = month_of(p + 3)) < 0 || p[6] != '-' ||
        num(p + 7, 2, &tm.tm_year) || hms(p + 10, &tm) || memcmp(p + 18, " GMT", 4) != 0 ||
        (size_t)(p + 22 - s) != n)
      return -1;
    if (tm.tm_year < 70) tm.tm_year += 100; /* RFC 9110 5.6.7: 50 years ahead at most */
  } else if (n == 24) {
    /* asctime: Sun Nov  6 08:49:37 1994 */
    if ((tm.tm_mon = month_of(s + 4)) < 0) return -1;
    char d[2] = {s[8] == ' ' ? '0' : s[8], s[9]};
    if (num(d, 2, &tm.tm_mday) || hms(s + 11, &tm) || num(s + 20, 4, &tm.tm_year)) return -1;
    tm.tm_year -= 1900;
  } else {
    return -1;
  }
  if (tm.tm_mday < 1 || tm.tm_mday > 31) return -1;
  time_t t = timegm(&tm);
  return t == (time_t)-1 ? -1 : (int64_t)t;
}
