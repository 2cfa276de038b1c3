/* fuzz_resp.c - differential fuzzing of cio's RESP parser and command
 * encoder, with hiredis (Debian's 0.14, RESP2 only) as the oracle.
 *
 * One input is a byte string fed to both readers. cio's side is fed in
 * pieces whose sizes come from the input's first byte, as a socket would
 * deliver them. Rules, reply by reply:
 *   - where both return a reply, the replies are equal (types, integers,
 *     strings byte for byte, elements) and span the same bytes;
 *   - where they differ, hiredis must have been lenient where cio is strict
 *     (it skips any two bytes after a bulk string without checking that
 *     they are a CRLF): the bytes it accepted must not be the canonical
 *     encoding of what it returned, a reply a real server could send;
 *   - cio may return a reply hiredis refuses only past hiredis's nesting
 *     limit ("depth > 7").
 * Then, without an oracle, RESP3: whatever cio parses, re-encoded
 * canonically, parses again to the same tree, and the node count the
 * scanner announced is the count the builder used. And the command encoder
 * matches hiredis's redisFormatCommandArgv byte for byte.
 *
 * Built two ways: with -DCIO_LIBFUZZER under clang's -fsanitize=fuzzer
 * (CIO_FUZZ=ON, a real coverage-guided fuzzer), and as a plain program (the
 * CTest test redis/fuzz_resp_hiredis) that runs a fixed corpus plus
 * $CIO_FUZZ_ITERATIONS (default 20000) generated and mutated inputs from a
 * fixed seed. A disagreement prints the input in hex and aborts.
 */
#include "../../src/redis/resp.h"

#include <hiredis.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REPLIES 64

static void fail(const char *what, const uint8_t *in, size_t n) {
  fprintf(stderr, "fuzz_resp: %s\ninput (%zu bytes):", what, n);
  for (size_t i = 0; i < n; i++) fprintf(stderr, "%s%02x", i % 32 ? " " : "\n  ", in[i]);
  fprintf(stderr, "\n");
  abort();
}

/* ---- cio's side ---- */

typedef struct parsed {
  cio_redis_reply *r[MAX_REPLIES];
  size_t start[MAX_REPLIES], len[MAX_REPLIES];
  int n;
  int end; /* 0: ran out of input, < 0: error */
} parsed;

static size_t count_nodes(const cio_redis_reply *r) {
  size_t n = 1;
  if (r->attribute) n += count_nodes(r->attribute);
  for (size_t i = 0; i < r->elements; i++) n += count_nodes(&r->element[i]);
  return n;
}

/* Parse every reply in in[0..n-1], fed in pieces of 1 + (seed * k) % 97. */
static void cio_parse(const uint8_t *in, size_t n, unsigned seed, int resp2, parsed *out) {
  cio__resp_scanner s;
  cio__resp_scanner_init(&s, 0, 0, resp2);
  char *buf = malloc(n ? n : 1);
  memcpy(buf, in, n);
  size_t pos = 0, have = 0, start = 0;
  out->n = 0;
  out->end = 0;
  for (unsigned k = 1; out->n < MAX_REPLIES; k++) {
    size_t piece = 1 + (seed * k) % 97;
    have = have + piece < n ? have + piece : n;
    size_t used;
    int r;
    while ((r = cio__resp_scan(&s, buf + pos, have - pos, &used)) == 1) {
      pos += used;
      cio_redis_reply *nodes = cio__resp_reply_alloc(s.nodes, NULL);
      cio_redis_reply *root = cio__resp_build(&s, buf + start, nodes);
      if (count_nodes(root) != s.nodes) fail("scanner and builder disagree on nodes", in, n);
      /* The tree points into buf; keep a copy that owns its bytes. */
      out->r[out->n] = cio_redis_reply_copy(root);
      cio_redis_reply_free(root);
      out->start[out->n] = start;
      out->len[out->n] = s.total;
      out->n++;
      start = pos;
      cio__resp_scanner_reset(&s);
      if (out->n == MAX_REPLIES) break;
    }
    if (r < 0) {
      out->end = r;
      break;
    }
    if (r == 0) pos += used;
    if (have == n) break;
  }
  free(buf);
}

static void parsed_free(parsed *p) {
  for (int i = 0; i < p->n; i++) cio_redis_reply_free(p->r[i]);
  p->n = 0;
}

/* ---- hiredis's side ---- */

typedef struct hparsed {
  redisReply *r[MAX_REPLIES];
  size_t start[MAX_REPLIES], len[MAX_REPLIES];
  int n;
  int err;
  char errstr[128];
} hparsed;

static void hiredis_parse(const uint8_t *in, size_t n, hparsed *out) {
  redisReader *rd = redisReaderCreate();
  out->n = 0;
  out->err = 0;
  if (n) redisReaderFeed(rd, (const char *)in, n);
  size_t consumed = 0;
  while (out->n < MAX_REPLIES) {
    void *reply = NULL;
    if (redisReaderGetReply(rd, &reply) != REDIS_OK) {
      out->err = 1;
      snprintf(out->errstr, sizeof out->errstr, "%s", rd->errstr);
      break;
    }
    if (!reply) break;
    /* hiredis keeps the unread tail in rd->buf[pos..len). */
    size_t now = n - (rd->len - rd->pos);
    out->r[out->n] = reply;
    out->start[out->n] = consumed;
    out->len[out->n] = now - consumed;
    consumed = now;
    out->n++;
  }
  redisReaderFree(rd);
}

static void hparsed_free(hparsed *p) {
  for (int i = 0; i < p->n; i++) freeReplyObject(p->r[i]);
  p->n = 0;
}

/* ---- comparisons ---- */

static int same(const cio_redis_reply *a, const redisReply *b) {
  if (a->type != b->type) return 0;
  switch (a->type) {
  case CIO_REDIS_INTEGER: return a->integer == b->integer;
  case CIO_REDIS_NIL: return 1;
  case CIO_REDIS_STRING:
  case CIO_REDIS_STATUS:
  case CIO_REDIS_ERROR:
    return a->len == b->len && memcmp(a->str, b->str, a->len) == 0 && a->str[a->len] == '\0';
  case CIO_REDIS_ARRAY:
    if (a->elements != b->elements) return 0;
    for (size_t i = 0; i < a->elements; i++)
      if (!same(&a->element[i], b->element[i])) return 0;
    return 1;
  default: return 0;
  }
}

/* Whether in[*pos...] is exactly the canonical encoding of r (a nil may be
 * "$-1" or "*-1"); advances *pos. */
static int canonical(const redisReply *r, const uint8_t *in, size_t n, size_t *pos) {
  char head[64];
  int k;
  switch (r->type) {
  case REDIS_REPLY_STATUS:
  case REDIS_REPLY_ERROR:
    if (*pos + r->len + 3 > n || in[*pos] != (r->type == REDIS_REPLY_STATUS ? '+' : '-') ||
        memcmp(in + *pos + 1, r->str, r->len) != 0 || memcmp(in + *pos + 1 + r->len, "\r\n", 2))
      return 0;
    *pos += r->len + 3;
    return 1;
  case REDIS_REPLY_INTEGER: k = snprintf(head, sizeof head, ":%lld\r\n", r->integer); break;
  case REDIS_REPLY_NIL:
    k = snprintf(head, sizeof head, "%s", *pos < n && in[*pos] == '*' ? "*-1\r\n" : "$-1\r\n");
    break;
  case REDIS_REPLY_STRING: k = snprintf(head, sizeof head, "$%zu\r\n", r->len); break;
  case REDIS_REPLY_ARRAY: k = snprintf(head, sizeof head, "*%zu\r\n", r->elements); break;
  default: return 0;
  }
  if (*pos + (size_t)k > n || memcmp(in + *pos, head, (size_t)k) != 0) return 0;
  *pos += (size_t)k;
  if (r->type == REDIS_REPLY_STRING) {
    if (*pos + r->len + 2 > n || memcmp(in + *pos, r->str, r->len) ||
        memcmp(in + *pos + r->len, "\r\n", 2))
      return 0;
    *pos += r->len + 2;
  }
  if (r->type == REDIS_REPLY_ARRAY)
    for (size_t i = 0; i < r->elements; i++)
      if (!canonical(r->element[i], in, n, pos)) return 0;
  return 1;
}

static void diff_resp2(const uint8_t *in, size_t n, unsigned seed) {
  parsed a;
  hparsed b;
  cio_parse(in, n, seed, 1, &a);
  hiredis_parse(in, n, &b);
  int i = 0;
  for (; i < a.n && i < b.n; i++) {
    if (same(a.r[i], b.r[i]) && a.start[i] == b.start[i] && a.len[i] == b.len[i]) continue;
    size_t pos = b.start[i];
    if (canonical(b.r[i], in, n, &pos) && pos == b.start[i] + b.len[i])
      fail("cio and hiredis differ on a canonical reply", in, n);
    goto done; /* hiredis's leniency: nothing after this compares */
  }
  if (i < b.n) { /* hiredis has a reply cio refused or has not finished */
    size_t pos = b.start[i];
    if (canonical(b.r[i], in, n, &pos) && pos == b.start[i] + b.len[i])
      fail("cio refused a canonical reply hiredis read", in, n);
  } else if (i < a.n) { /* cio has a reply hiredis did not return */
    if (!b.err || !strstr(b.errstr, "depth"))
      fail(b.err ? "cio read a reply hiredis refused" : "cio read a reply hiredis did not see", in,
           n);
  }
done:
  parsed_free(&a);
  hparsed_free(&b);
}

/* ---- RESP3 round trip ---- */

static void put(cio__resp_out *o, const char *s, size_t n) {
  if (cio__resp_append(o, s, n) != 0) abort();
}

static void put_header(cio__resp_out *o, char c, unsigned long long v) {
  char h[40];
  int k = snprintf(h, sizeof h, "%c%llu\r\n", c, v);
  put(o, h, (size_t)k);
}

static void put_line(cio__resp_out *o, char c, const char *s, size_t n) {
  put(o, &c, 1);
  put(o, s, n);
  put(o, "\r\n", 2);
}

static int has_crlf_bytes(const char *s, size_t n) {
  return memchr(s, '\r', n) != NULL || memchr(s, '\n', n) != NULL;
}

/* The canonical RESP3 encoding of a cio reply. */
static void encode(const cio_redis_reply *r, cio__resp_out *o) {
  char num[40];
  int k;
  if (r->attribute) encode(r->attribute, o);
  switch (r->type) {
  case CIO_REDIS_STRING:
    put_header(o, '$', r->len);
    put(o, r->str, r->len);
    put(o, "\r\n", 2);
    return;
  case CIO_REDIS_VERB:
    put_header(o, '=', r->len + 4);
    put(o, r->format, 3);
    put(o, ":", 1);
    put(o, r->str, r->len);
    put(o, "\r\n", 2);
    return;
  case CIO_REDIS_ERROR:
    if (has_crlf_bytes(r->str, r->len)) { /* only a blob error can hold them */
      put_header(o, '!', r->len);
      put(o, r->str, r->len);
      put(o, "\r\n", 2);
    } else {
      put_line(o, '-', r->str, r->len);
    }
    return;
  case CIO_REDIS_STATUS: put_line(o, '+', r->str, r->len); return;
  case CIO_REDIS_DOUBLE: put_line(o, ',', r->str, r->len); return;
  case CIO_REDIS_BIGNUM: put_line(o, '(', r->str, r->len); return;
  case CIO_REDIS_INTEGER:
    k = snprintf(num, sizeof num, "%lld", r->integer);
    put_line(o, ':', num, (size_t)k);
    return;
  case CIO_REDIS_BOOL: put_line(o, '#', r->integer ? "t" : "f", 1); return;
  case CIO_REDIS_NIL: put(o, "_\r\n", 3); return;
  case CIO_REDIS_ARRAY: put_header(o, '*', r->elements); break;
  case CIO_REDIS_SET: put_header(o, '~', r->elements); break;
  case CIO_REDIS_PUSH: put_header(o, '>', r->elements); break;
  case CIO_REDIS_MAP: put_header(o, '%', r->elements / 2); break;
  case CIO_REDIS_ATTR: put_header(o, '|', r->elements / 2); break;
  default: abort();
  }
  for (size_t i = 0; i < r->elements; i++) encode(&r->element[i], o);
}

static int same_cio(const cio_redis_reply *a, const cio_redis_reply *b) {
  if (a->type != b->type || a->integer != b->integer || a->len != b->len ||
      a->elements != b->elements || !a->attribute != !b->attribute ||
      memcmp(a->format, b->format, 4) != 0)
    return 0;
  if (a->str && (!b->str || memcmp(a->str, b->str, a->len) != 0)) return 0;
  if (a->type == CIO_REDIS_DOUBLE && !(a->dval == b->dval || (isnan(a->dval) && isnan(b->dval))))
    return 0;
  if (a->attribute && !same_cio(a->attribute, b->attribute)) return 0;
  for (size_t i = 0; i < a->elements; i++)
    if (!same_cio(&a->element[i], &b->element[i])) return 0;
  return 1;
}

static void roundtrip_resp3(const uint8_t *in, size_t n, unsigned seed) {
  parsed a;
  cio_parse(in, n, seed, 0, &a);
  for (int i = 0; i < a.n; i++) {
    cio__resp_out o = {NULL, 0, 0};
    encode(a.r[i], &o);
    parsed b;
    cio_parse((const uint8_t *)o.p, o.len, seed + 1, 0, &b);
    if (b.n != 1 || b.len[0] != o.len || !same_cio(a.r[i], b.r[0]))
      fail("a re-encoded RESP3 reply does not parse back the same", in, n);
    parsed_free(&b);
    cio__resp_out_free(&o);
  }
  parsed_free(&a);
}

/* ---- command encoding ---- */

static void diff_encode(const uint8_t *in, size_t n) {
  const char *argv[16];
  size_t lens[16];
  size_t argc = 0, pos = 0;
  while (argc < 16 && pos < n) {
    size_t len = in[pos] % 24;
    pos++;
    if (len > n - pos) len = n - pos;
    argv[argc] = (const char *)in + pos;
    lens[argc++] = len;
    pos += len;
  }
  if (argc == 0) return;
  cio__resp_out o = {NULL, 0, 0};
  if (cio__resp_append_command(&o, argc, argv, lens) != 0) fail("encoder failed", in, n);
  char *h = NULL;
  int hl = redisFormatCommandArgv(&h, (int)argc, argv, lens);
  if (hl < 0 || (size_t)hl != o.len || memcmp(h, o.p, o.len) != 0)
    fail("cio and hiredis encode a command differently", in, n);
  free(h);
  cio__resp_out_free(&o);
}

static void one_input(const uint8_t *data, size_t size) {
  unsigned seed = size ? data[0] : 0;
  const uint8_t *in = size ? data + 1 : data;
  size_t n = size ? size - 1 : 0;
  diff_resp2(in, n, seed);
  roundtrip_resp3(in, n, seed);
  diff_encode(in, n);
}

#ifdef CIO_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  one_input(data, size);
  return 0;
}
#else
/* ---- the CTest driver: a corpus, then generated and mutated inputs ---- */

static uint64_t rng = 0x9e3779b97f4a7c15u;
static unsigned rnd(unsigned n) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return n ? (unsigned)(rng % n) : 0;
}

static void gen_bytes(cio__resp_out *o, size_t n) {
  static const char alphabet[] = "ab\r\n\0:$*+-_,#~%|>!=(0123456789";
  for (size_t i = 0; i < n; i++) {
    char c = rnd(4) ? alphabet[rnd(sizeof alphabet - 1)] : (char)rnd(256);
    put(o, &c, 1);
  }
}

/* A random reply, well formed (RESP2 types only when resp2). */
static void gen_reply(cio__resp_out *o, int depth, int resp2) {
  char b[64];
  int k;
  unsigned kinds = resp2 ? 6 : 15;
  switch (depth > 6 ? rnd(4) : rnd(kinds)) {
  case 0: {
    size_t n = rnd(5) ? rnd(12) : rnd(3000);
    put_header(o, '$', n);
    gen_bytes(o, n);
    put(o, "\r\n", 2);
    return;
  }
  case 1:
    k = snprintf(b, sizeof b, ":%lld\r\n",
                 rnd(3) ? (long long)rnd(100000) - 50000
                        : (long long)(rng >> 1) * (rnd(2) ? -1 : 1));
    put(o, b, (size_t)k);
    return;
  case 2: {
    static const char *lines[] = {"+OK\r\n", "+hello world\r\n", "+\r\n", "-ERR bad thing\r\n",
                                  "-WRONGTYPE x\r\n"};
    const char *l = lines[rnd(5)];
    put(o, l, strlen(l));
    return;
  }
  case 3: put(o, rnd(2) ? "$-1\r\n" : "*-1\r\n", 5); return;
  case 4:
  case 5: {
    unsigned n = rnd(5);
    if (rnd(8) == 0) {
      put(o, "*-1\r\n", 5);
      return;
    }
    put_header(o, '*', n);
    for (unsigned i = 0; i < n; i++) gen_reply(o, depth + 1, resp2);
    return;
  }
  case 6: put(o, "_\r\n", 3); return;
  case 7:
    k = snprintf(b, sizeof b, ",%.17g\r\n", (double)rnd(1000000) / 1000.0 - 500);
    put(o, b, (size_t)k);
    return;
  case 8: put(o, rnd(2) ? "#t\r\n" : "#f\r\n", 4); return;
  case 9: put(o, "(-123456789012345678901234567890\r\n", 34); return;
  case 10: put(o, "=9\r\ntxt:hello\r\n", 15); return;
  case 11: put(o, "!11\r\nERR a\r\nb c\r\n", 18); return;
  case 12:
  case 13: {
    unsigned n = rnd(4);
    char t = "%~>|"[rnd(4)];
    put_header(o, t, n);
    for (unsigned i = 0; i < n * (t == '%' || t == '|' ? 2u : 1u); i++)
      gen_reply(o, depth + 1, resp2);
    if (t == '|') gen_reply(o, depth + 1, resp2); /* the value it is about */
    return;
  }
  default: put(o, ",inf\r\n", 6); return;
  }
}

static void mutate(cio__resp_out *o) {
  unsigned edits = 1 + rnd(4);
  for (unsigned e = 0; e < edits && o->len; e++) {
    size_t at = rnd((unsigned)o->len);
    switch (rnd(5)) {
    case 0: o->p[at] = (char)rnd(256); break;       /* flip a byte */
    case 1: o->len = at; break;                     /* truncate */
    case 2: o->p[at] = "\r\n0-$*:+"[rnd(8)]; break; /* a syntax byte */
    case 3:
      memmove(o->p + at, o->p + at + 1, o->len - at - 1);
      o->len--;
      break;   /* drop */
    default: { /* duplicate a slice */
      size_t n = rnd((unsigned)(o->len - at)) % 16;
      char tmp[16];
      memcpy(tmp, o->p + at, n);
      put(o, tmp, n);
    }
    }
  }
}

static const char *corpus[] = {
    "+OK\r\n",
    "-ERR x\r\n",
    ":0\r\n",
    ":-1\r\n",
    ":+5\r\n",
    ":007\r\n",
    ":-0\r\n",
    ":9223372036854775807\r\n",
    ":9223372036854775808\r\n",
    ":-9223372036854775808\r\n",
    ":12ab\r\n",
    ":\r\n",
    "$-1\r\n",
    "$-5\r\n",
    "$0\r\n\r\n",
    "$3\r\nabc\r\n",
    "$3\r\nabcXY",
    "$3\r\nabcXY:1\r\n",
    "$ 3\r\nabc\r\n",
    "$abc\r\n",
    "*-1\r\n",
    "*-2\r\n",
    "*0\r\n",
    "*2\r\n:1\r\n:2\r\n",
    "*2\r\n:1\r\n",
    "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n",
    "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*0\r\n",
    "+a\rb\r\n",
    "+a\nb\r\n",
    "+\r\n",
    "+a\r\r\n",
    "?x\r\n",
    "%1\r\n:1\r\n:2\r\n",
    "*4294967297\r\n:1\r\n",
    "$4294967299\r\nabc\r\n",
    "+OK\r\n+OK\r\n:1\r\n",
    "*3\r\n$1\r\na\r\n$-1\r\n*0\r\n",
};

int main(void) {
  long iterations = 20000;
  const char *env = getenv("CIO_FUZZ_ITERATIONS");
  if (env) iterations = strtol(env, NULL, 10);
  uint8_t in[1 << 15];
  for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++)
    for (unsigned seed = 0; seed < 8; seed++) {
      size_t n = strlen(corpus[i]);
      in[0] = (uint8_t)(seed * 37);
      memcpy(in + 1, corpus[i], n);
      one_input(in, n + 1);
    }
  long mutated = 0;
  for (long it = 0; it < iterations; it++) {
    cio__resp_out o = {NULL, 0, 0};
    put(&o, "", 0);
    int resp2 = rnd(3) != 0;
    for (unsigned k = 1 + rnd(3); k > 0; k--) gen_reply(&o, 0, resp2);
    if (rnd(2)) {
      mutate(&o);
      mutated++;
    }
    size_t n = o.len < sizeof in - 1 ? o.len : sizeof in - 1;
    in[0] = (uint8_t)rnd(256);
    memcpy(in + 1, o.p, n);
    one_input(in, n + 1);
    cio__resp_out_free(&o);
  }
  printf("fuzz_resp: %zu corpus inputs x 8 splits, %ld generated (%ld mutated): no difference\n",
         sizeof corpus / sizeof corpus[0], iterations, mutated);
  return 0;
}
#endif
