/* client_decode.c - Content-Encoding gzip and deflate, through zlib.
 *
 * "deflate" is meant to be the zlib format (RFC 9110 8.4.1.2), yet some
 * servers send raw deflate data: the first bytes tell which. A gzip body
 * may hold several members, one after the other (RFC 1952). */
#include "client_internal.h"

#include <stdlib.h>
#include <zlib.h>

struct cio__zdec {
  z_stream z;
  bool gzip, started, ended;
};

cio__zdec *cio__zdec_new(const char *enc, size_t len, int *err) {
  *err = 0;
  bool gzip;
  if (cio__ascii_ieq(enc, len, "gzip") || cio__ascii_ieq(enc, len, "x-gzip"))
    gzip = true;
  else if (cio__ascii_ieq(enc, len, "deflate"))
    gzip = false;
  else
    return NULL; /* identity, or a coding we leave to the caller */
  cio__zdec *d = calloc(1, sizeof *d);
  if (!d) {
    *err = -ENOMEM;
    return NULL;
  }
  d->gzip = gzip;
  return d;
}

static int start(cio__zdec *d, const char *in, size_t n) {
  int wbits = 15 + 16; /* gzip */
  if (!d->gzip) {
    /* A zlib header: CMF with method 8, and a checksum over CMF and FLG. */
    unsigned char a = (unsigned char)in[0], b = n > 1 ? (unsigned char)in[1] : 0;
    bool zlib = (a & 0x0f) == 8 && (a >> 4) <= 7 && n > 1 && ((unsigned)a << 8 | b) % 31 == 0;
    wbits = zlib ? 15 : -15;
  }
  if (inflateInit2(&d->z, wbits) != Z_OK) return -ENOMEM;
  d->started = true;
  return 0;
}

ssize_t cio__zdec_run(cio__zdec *d, const char *in, size_t n, size_t *used, char *out, size_t cap,
                      bool *end) {
  *used = 0;
  *end = d->ended || !d->started; /* an empty body is a whole one */
  if (!n) return 0;
  *end = false;
  if (d->ended) {
    if (!d->gzip) return -EBADMSG;                    /* data after the end */
    if (inflateReset(&d->z) != Z_OK) return -EBADMSG; /* another gzip member */
    d->ended = false;
    *end = false;
  }
  if (!d->started) {
    int e = start(d, in, n);
    if (e < 0) return e;
  }
  d->z.next_in = (Bytef *)(uintptr_t)in;
  d->z.avail_in = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
  d->z.next_out = (Bytef *)out;
  d->z.avail_out = cap > UINT32_MAX ? UINT32_MAX : (uInt)cap;
  uInt in0 = d->z.avail_in, out0 = d->z.avail_out;
  int z = inflate(&d->z, Z_NO_FLUSH);
  *used = in0 - d->z.avail_in;
  ssize_t got = (ssize_t)(out0 - d->z.avail_out);
  if (z == Z_STREAM_END) {
    d->ended = true;
    *end = true;
  } else if (z != Z_OK && !(z == Z_BUF_ERROR && (*used || got))) {
    return -EBADMSG;
  }
  return got;
}

void cio__zdec_free(cio__zdec *d) {
  if (!d) return;
  if (d->started) inflateEnd(&d->z);
  free(d);
}
