/* fuzz_parser_diff.c - differential fuzzing of cio's request parser against
 * llhttp built in strict mode (LLHTTP_STRICT_MODE=1, Debian node-llhttp).
 *
 * Each input is the start of a connection. Both parsers read its first
 * request (head and body); cio's parser is fed in two pieces cut where the
 * input's first byte says, to exercise resumption. Outcomes:
 *   ACCEPT   a complete first message;
 *   MORE     no verdict yet (the input ends first);
 *   REJECT   an error.
 * What must hold:
 *   - cio ACCEPT: llhttp accepts too, with the same method, target,
 *     version, header names and values (llhttp keeps trailing whitespace
 *     in values, RFC 9112 does not: trimmed before comparing), body bytes,
 *     framing and keep-alive; the one excused difference is a method llhttp
 *     does not know (cio takes any token, the router answers 405/501).
 *   - llhttp ACCEPT, cio REJECT: cio's reason must be one of the places
 *     where cio is deliberately stricter (STRICTER below; docs/HTTP.md).
 *   - both ACCEPT on different bytes, or cio accepting what llhttp refuses
 *     for any other reason: abort (a finding).
 * Counters of each outcome pair and each excused reason are printed by the
 * CI driver (driver.c) at the end. */
#include <cio/http_parser.h>

#include <errno.h>
#include <llhttp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAXH   64
#define MAXSTR 4096

enum { ACCEPT, MORE, REJECT };

typedef struct msg {
  int outcome;
  char method[64];
  char url[MAXSTR];
  size_t url_len;
  int version;
  size_t nh;
  char names[MAXH][256];
  char values[MAXH][MAXSTR];
  size_t vlen[MAXH];
  char body[MAXSTR * 4];
  size_t body_len;
  int chunked;
  uint64_t clen;
  int keep_alive;
  int overflow;   /* something did not fit the buffers above: skip */
  int ext_syntax; /* chunk lines with quoted extension values or BWS */
  const char *why;
  int code;
} msg;

static msg mine, theirs;

/* Where cio is stricter than strict llhttp, on purpose (docs/HTTP.md). */
static const char *const STRICTER[] = {
    "obsolete line folding",
    "empty header name",
    "invalid character in request-target", /* two SPs, obs-text */
    "empty request-target",
    "malformed asterisk-form",              /* "*" and more */
    "CONNECT target not in authority-form", /* llhttp takes any URL chars */
    "malformed Transfer-Encoding",          /* not a list of codings */
    "empty Transfer-Encoding",              /* llhttp ignores it */
    "empty Content-Length",                 /* e.g. folded onto the next line */
    "HTAB in a framing header",             /* TE / CL: llhttp takes SP only */
    "extra whitespace in request line",
    "fragment in request-target", /* '#': RFC 9112 3.2 */
    "HTTP version not supported", /* 0.9, 2.0, 1.2 ... */
    "no HTTP version (HTTP/0.9)", /* "GET /" alone */
    "Transfer-Encoding in HTTP/1.0",
    "transfer coding not implemented", /* gzip, chunked: 501 */
    "bare LF after request line",
    "bare LF in header section",
    "bare LF before start line",
    "bare CR before request line",
    "whitespace after chunk size",
    "malformed chunk extension", /* llhttp 8.1 skips extensions */
    "malformed chunk extension value",
    "invalid character in chunk extension",
    "too many header fields",
    "Content-Length too large",
    "chunk size too large",
    "chunk line too long",
    "trailer section too large",
    "malformed trailer field",
    "framing field in trailer section", /* Content-Length / Transfer-Encoding */
    "invalid character in trailer field",
    NULL,
};

unsigned long diff_counts[3][3];
static unsigned long excused[4];
unsigned long diff_reasons[64];

static void note_reason(const char *why) {
  for (int i = 0; STRICTER[i]; i++)
    if (strcmp(STRICTER[i], why) == 0) {
      diff_reasons[i]++;
      return;
    }
}

const char *diff_reason_name(int i);
const char *diff_reason_name(int i) { return STRICTER[i]; }

/* ---- cio ---- */

static void reset(msg *m) {
  memset(m, 0, offsetof(msg, names));
  m->nh = 0;
  m->body_len = 0;
  m->overflow = 0;
  m->ext_syntax = 0;
  m->why = NULL;
  m->code = 0;
}

static void run_mine(const uint8_t *d, size_t n) {
  reset(&mine);
  cio_http_header hv[MAXH];
  cio_http_head h;
  memset(&h, 0, sizeof h);
  h.headers = hv;
  cio_http_parser p;
  cio_http_parser_init(&p);
  size_t cut = n ? d[0] % (n + 1) : 0;
  const char *buf = (const char *)d;
  ssize_t r = cio_http_parse_request(&p, buf, cut, &h, MAXH);
  if (r == -EAGAIN) r = cio_http_parse_request(&p, buf, n, &h, MAXH);
  if (r == -EAGAIN) {
    mine.outcome = MORE;
    return;
  }
  if (r < 0) {
    mine.outcome = REJECT;
    mine.code = (int)r;
    mine.why = cio_http_parser_error(&p);
    return;
  }
  size_t pos = (size_t)r;
  if (h.method_len >= sizeof mine.method || h.target_len > MAXSTR) {
    mine.overflow = 1;
    return;
  }
  memcpy(mine.method, h.method, h.method_len);
  memcpy(mine.url, h.target, h.target_len);
  mine.url_len = h.target_len;
  mine.version = h.version;
  mine.nh = h.num_headers;
  for (size_t i = 0; i < h.num_headers; i++) {
    if (hv[i].name_len >= 256 || hv[i].value_len > MAXSTR) {
      mine.overflow = 1;
      return;
    }
    memcpy(mine.names[i], hv[i].name, hv[i].name_len);
    mine.names[i][hv[i].name_len] = '\0';
    memcpy(mine.values[i], hv[i].value, hv[i].value_len);
    mine.vlen[i] = hv[i].value_len;
  }
  mine.chunked = h.body == CIO_HTTP_BODY_CHUNKED;
  mine.clen = h.content_length;
  mine.keep_alive = h.version == 11
                        ? !(h.flags & CIO_HTTP_F_CLOSE)
                        : (h.flags & CIO_HTTP_F_KEEP_ALIVE) && !(h.flags & CIO_HTTP_F_CLOSE);
  if (h.body == CIO_HTTP_BODY_LENGTH) {
    if (n - pos < h.content_length) {
      mine.outcome = MORE;
      return;
    }
    if (h.content_length > sizeof mine.body) {
      mine.overflow = 1;
      return;
    }
    memcpy(mine.body, buf + pos, (size_t)h.content_length);
    mine.body_len = (size_t)h.content_length;
  } else if (h.body == CIO_HTTP_BODY_CHUNKED) {
    cio_http_chunked c;
    cio_http_chunked_init(&c);
    while (!cio_http_chunked_done(&c)) {
      const char *data;
      size_t dl;
      ssize_t u = cio_http_chunked_decode(&c, buf + pos, n - pos, &data, &dl);
      if (u < 0) {
        mine.outcome = REJECT;
        mine.code = (int)u;
        mine.why = cio_http_chunked_error(&c);
        return;
      }
      if (u == 0) {
        mine.outcome = MORE;
        return;
      }
      if (mine.body_len + dl > sizeof mine.body) {
        mine.overflow = 1;
        return;
      }
      /* Framing bytes (all of this run but its data) with chunk-extension
       * syntax llhttp 8.1 does not fully take (quoted values, names without
       * a value, BWS): it refuses such bodies, which is safe. */
      for (size_t k = pos; k < pos + (size_t)u; k++) {
        if (dl && buf + k == data) k += dl;
        if (k < pos + (size_t)u &&
            (buf[k] == '"' || buf[k] == ' ' || buf[k] == '\t' || buf[k] == ';'))
          mine.ext_syntax = 1;
      }
      if (dl) memcpy(mine.body + mine.body_len, data, dl);
      mine.body_len += dl;
      pos += (size_t)u;
    }
  }
  mine.outcome = ACCEPT;
}

/* ---- llhttp ---- */

static int in_value;

static int l_url(llhttp_t *p, const char *a, size_t n) {
  (void)p;
  if (theirs.url_len + n > MAXSTR) {
    theirs.overflow = 1;
    return 0;
  }
  memcpy(theirs.url + theirs.url_len, a, n);
  theirs.url_len += n;
  return 0;
}

static int l_field(llhttp_t *p, const char *a, size_t n) {
  (void)p;
  if (in_value || theirs.nh == 0) {
    if (theirs.nh == MAXH) {
      theirs.overflow = 1;
      return 0;
    }
    theirs.nh++;
    theirs.names[theirs.nh - 1][0] = '\0';
    theirs.vlen[theirs.nh - 1] = 0;
    in_value = 0;
  }
  size_t have = strlen(theirs.names[theirs.nh - 1]);
  if (have + n >= 256) {
    theirs.overflow = 1;
    return 0;
  }
  memcpy(theirs.names[theirs.nh - 1] + have, a, n);
  theirs.names[theirs.nh - 1][have + n] = '\0';
  return 0;
}

static int l_field_done(llhttp_t *p) {
  (void)p;
  if (theirs.nh == 0) { /* an empty name: no field callback ran */
    theirs.nh = 1;
    theirs.names[0][0] = '\0';
    theirs.vlen[0] = 0;
  }
  in_value = 1;
  return 0;
}

static int l_value(llhttp_t *p, const char *a, size_t n) {
  (void)p;
  if (theirs.nh == 0 || theirs.overflow) return 0;
  size_t i = theirs.nh - 1;
  if (theirs.vlen[i] + n > MAXSTR) {
    theirs.overflow = 1;
    return 0;
  }
  memcpy(theirs.values[i] + theirs.vlen[i], a, n);
  theirs.vlen[i] += n;
  return 0;
}

static size_t their_head_fields;

static int l_headers_done(llhttp_t *p) {
  their_head_fields = theirs.nh; /* later fields are trailers */
  const char *m = llhttp_method_name((llhttp_method_t)p->method);
  snprintf(theirs.method, sizeof theirs.method, "%s", m ? m : "?");
  theirs.version = p->http_major * 10 + p->http_minor;
  theirs.chunked = (p->flags & F_CHUNKED) != 0;
  theirs.clen = p->content_length;
  theirs.keep_alive = llhttp_should_keep_alive(p);
  return 0;
}

static int l_body(llhttp_t *p, const char *a, size_t n) {
  (void)p;
  if (theirs.body_len + n > sizeof theirs.body) {
    theirs.overflow = 1;
    return 0;
  }
  if (n) memcpy(theirs.body + theirs.body_len, a, n);
  theirs.body_len += n;
  return 0;
}

static int l_done(llhttp_t *p) {
  (void)p;
  theirs.outcome = ACCEPT;
  return HPE_PAUSED;
}

static void run_theirs(const uint8_t *d, size_t n) {
  reset(&theirs);
  theirs.outcome = MORE;
  in_value = 0;
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  s.on_url = l_url;
  s.on_header_field = l_field;
  s.on_header_field_complete = l_field_done;
  s.on_header_value = l_value;
  s.on_headers_complete = l_headers_done;
  s.on_body = l_body;
  s.on_message_complete = l_done;
  llhttp_t p;
  llhttp_init(&p, HTTP_REQUEST, &s);
  llhttp_errno_t e = llhttp_execute(&p, (const char *)d, n);
  if (e != HPE_OK && e != HPE_PAUSED) {
    theirs.outcome = REJECT;
    theirs.code = (int)e;
    theirs.why = llhttp_get_error_reason(&p);
  }
}

/* ---- comparison ---- */

static void finding(const uint8_t *d, size_t n, const char *what) {
  fprintf(stderr,
          "DIFFERENCE: %s\n  cio: outcome %d why %s\n  llhttp: outcome %d why %s\n  input "
          "(%zu bytes): ",
          what, mine.outcome, mine.why ? mine.why : "-", theirs.outcome,
          theirs.why ? theirs.why : "-", n);
  for (size_t i = 0; i < n && i < 512; i++) {
    if (d[i] >= 0x20 && d[i] < 0x7f && d[i] != '\\')
      fputc(d[i], stderr);
    else
      fprintf(stderr, "\\x%02x", d[i]);
  }
  fputc('\n', stderr);
  abort();
}

static size_t rtrim(const char *v, size_t n) {
  while (n && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
  return n;
}

static void compare_accepted(const uint8_t *d, size_t n) {
  if (strcmp(mine.method, theirs.method) != 0) finding(d, n, "method");
  if (mine.url_len != theirs.url_len || memcmp(mine.url, theirs.url, mine.url_len) != 0)
    finding(d, n, "target");
  if (mine.version != theirs.version) finding(d, n, "version");
  if (mine.nh != their_head_fields) finding(d, n, "header count");
  for (size_t i = 0; i < mine.nh; i++) {
    if (strcmp(mine.names[i], theirs.names[i]) != 0) finding(d, n, "header name");
    size_t tl = rtrim(theirs.values[i], theirs.vlen[i]);
    if (mine.vlen[i] != tl || memcmp(mine.values[i], theirs.values[i], tl) != 0)
      finding(d, n, "header value");
  }
  /* CONNECT: no content whatever the framing headers say, and no next
   * request (cio closes; llhttp hands the rest over as an upgrade): only
   * the head and the empty body compare. */
  int connect = strcmp(mine.method, "CONNECT") == 0;
  if (!connect && mine.chunked != theirs.chunked) finding(d, n, "chunked");
  if (!connect && !mine.chunked && mine.clen != theirs.clen) finding(d, n, "content length");
  if (mine.body_len != theirs.body_len || memcmp(mine.body, theirs.body, mine.body_len) != 0)
    finding(d, n, "body");
  if (!connect && mine.keep_alive != theirs.keep_alive) {
    /* llhttp does not see "close\t" as close (RFC 9110 OWS includes HTAB),
     * and lets keep-alive win over close in HTTP/1.0; cio lets close win. */
    int tab = 0, close = 0, keep = 0;
    for (size_t i = 0; i < mine.nh; i++) {
      if (strcasecmp(mine.names[i], "connection") != 0) continue;
      if (memchr(theirs.values[i], '\t', theirs.vlen[i])) tab = 1; /* untrimmed */
      if (cio_http_list_has(mine.values[i], mine.vlen[i], "close")) close = 1;
      if (cio_http_list_has(mine.values[i], mine.vlen[i], "keep-alive")) keep = 1;
    }
    if (!tab && !(close && keep)) finding(d, n, "keep-alive");
    excused[2]++;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  run_mine(d, n);
  run_theirs(d, n);
  if (mine.overflow || theirs.overflow) return 0;
  diff_counts[mine.outcome][theirs.outcome]++;
  if (mine.outcome == ACCEPT) {
    if (theirs.outcome == ACCEPT) {
      compare_accepted(d, n);
    } else if (theirs.outcome == REJECT && theirs.code == HPE_INVALID_METHOD) {
      excused[0]++; /* a token method llhttp does not know */
    } else if (theirs.outcome == REJECT && theirs.code == HPE_INVALID_CONTENT_LENGTH &&
               memmem(d, n, "\t\r\n", 3)) {
      excused[3]++; /* "Content-Length: 5\t": OWS is SP or HTAB (RFC 9110 5.6.3) */
    } else if (theirs.outcome == REJECT && mine.ext_syntax &&
               (theirs.code == HPE_INVALID_CHUNK_SIZE || theirs.code == HPE_STRICT)) {
      excused[1]++; /* RFC 9112 chunk-ext syntax llhttp 8.1 refuses */
    } else {
      finding(d, n, "cio accepts what llhttp does not");
    }
  } else if (mine.outcome == REJECT && theirs.outcome == ACCEPT) {
    int known = 0;
    for (int i = 0; STRICTER[i]; i++)
      if (mine.why && strcmp(STRICTER[i], mine.why) == 0) known = 1;
    if (!known) finding(d, n, "llhttp accepts what cio refuses, for an unlisted reason");
    note_reason(mine.why);
  } else if (mine.outcome == MORE && theirs.outcome == ACCEPT) {
    finding(d, n, "llhttp ends a message where cio waits for more");
  }
  return 0;
}

/* Called by driver.c at the end of a CI run. */
void fuzz_report(void);
void fuzz_report(void) {
  static const char *const names[] = {"accept", "more", "reject"};
  printf("outcomes (cio / llhttp):");
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 3; b++)
      if (diff_counts[a][b]) printf(" %s/%s=%lu", names[a], names[b], diff_counts[a][b]);
  printf("\ncio accepts, llhttp refuses: [unknown method]=%lu [chunk extensions]=%lu", excused[0],
         excused[1]);
  printf(" [HTAB after Content-Length]=%lu", excused[3]);
  printf("\nkeep-alive differs (HTAB in Connection, or close with keep-alive): %lu", excused[2]);
  printf("\ncio stricter than llhttp:");
  for (int i = 0; STRICTER[i]; i++)
    if (diff_reasons[i]) printf(" [%s]=%lu", STRICTER[i], diff_reasons[i]);
  printf("\n");
}
