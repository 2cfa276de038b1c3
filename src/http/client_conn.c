/* client_conn.c - new connections: resolve, connect (every address), TLS,
 * and the proxy's CONNECT tunnel, all under connect_timeout. */
#include "client_internal.h"

#include "cio/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ensure_tls(cio_http_session *s) {
  if (s->tls) return 0;
  cio_tls_client_opts o = {.ca_file = s->ca_file,
                           .cert_file = s->cert_file,
                           .key_file = s->key_file,
                           .insecure = s->insecure};
  s->tls = cio_tls_ctx_new_client(&o);
  if (!s->tls) return cio__hc_fail_io(-errno, "TLS client context");
  s->own_tls = true;
  return 0;
}

/* CONNECT origin through the proxy on st; the tunnel is open on 0. */
static int tunnel(cio_http_session *s, cio__hhost *h, cio_stream *st) {
  cio__buf b = {0};
  cio__buf_adds(&b, "CONNECT ");
  cio__url o = {.host = h->origin_host,
                .port = h->origin_port,
                .https = true,
                .ipv6 = strchr(h->origin_host, ':') != NULL};
  size_t start = b.len;
  cio__url_hostport(&o, &b, true);
  size_t end = b.len;
  cio__buf_adds(&b, " HTTP/1.1\r\nHost: ");
  cio__buf_add(&b, b.p ? b.p + start : "", end - start);
  cio__buf_adds(&b, "\r\n");
  if (s->proxy_auth) {
    cio__buf_adds(&b, "Proxy-Authorization: ");
    cio__buf_adds(&b, s->proxy_auth);
    cio__buf_adds(&b, "\r\n");
  }
  cio__buf_adds(&b, "\r\n");
  int r = b.err ? -ENOMEM : cio_stream_write(st, b.p, b.len);
  cio__buf_free(&b);
  if (r < 0) return cio__hc_fail_io(r, "sending CONNECT to the proxy");
  cio_http_header hdrs[64];
  cio_http_head hd = {.headers = hdrs};
  cio_http_parser p;
  cio_http_parser_init(&p);
  for (;;) {
    const void *data;
    size_t n = cio_stream_peek(st, &data);
    ssize_t used = cio_http_parse_response(&p, data, n, &hd, 64);
    if (used > 0) {
      if (hd.status < 200 || hd.status > 299)
        return cio__hc_fail(-EPROTO, "the proxy refused CONNECT: %d %.*s", hd.status,
                            (int)hd.reason_len, hd.reason);
      if ((size_t)used != n) /* a 2xx to CONNECT has no body: the tunnel starts */
        return cio__hc_fail(-EPROTO, "the proxy sent data after its CONNECT answer");
      cio_stream_consume(st, (size_t)used);
      return 0;
    }
    if (used != -EAGAIN)
      return cio__hc_fail((int)used, "bad CONNECT answer from the proxy: %s",
                          cio_http_parser_error(&p));
    ssize_t f = cio_stream_fill(st);
    if (f == 0) return cio__hc_fail(-EPIPE, "the proxy closed the connection during CONNECT");
    if (f == -EMSGSIZE) return cio__hc_fail(-EPROTO, "the proxy's CONNECT answer is too large");
    if (f < 0) return cio__hc_fail_io((int)f, "reading the proxy's CONNECT answer");
  }
}

static int open_in_scope(cio_http_session *s, cio__hhost *h, cio_stream **out) {
  cio_connect_opts o = {.family = s->family, .stream = {.limit = s->max_header}};
  if (h->https) {
    int r = ensure_tls(s);
    if (r < 0) return r;
    if (!h->tunnel) {
      o.tls = s->tls;
      o.server_name = h->origin_host;
    }
  }
  cio_stream *st = NULL;
  int r = cio_open_connection(h->host, h->port, &o, &st);
  if (r < 0) {
    char what[300];
    snprintf(what, sizeof what, "connecting to %s%s:%d%s", strchr(h->host, ':') ? "[" : "", h->host,
             h->port, strchr(h->host, ':') ? "]" : "");
    if (s->proxy.host) strncat(what, " (the proxy)", sizeof what - strlen(what) - 1);
    return cio__hc_fail_io(r, what);
  }
  if (h->tunnel) {
    r = tunnel(s, h, st);
    if (r == 0) {
      r = cio_stream_start_tls(st, s->tls, h->origin_host);
      if (r < 0) cio__hc_fail_io(r, "TLS through the proxy");
    }
    if (r < 0) {
      cio_stream_free(st);
      return r;
    }
  }
  *out = st;
  return 0;
}

int cio__conn_open(cio_http_session *s, cio__hhost *h, cio_stream **out) {
  *out = NULL;
  cio_timeout_scope sc;
  bool bounded = s->connect_timeout >= 0;
  if (bounded) cio_timeout_begin(&sc, s->connect_timeout);
  int r = open_in_scope(s, h, out);
  if (bounded && cio_timeout_end(&sc) && r == -ETIMEDOUT) {
    cio_stream_free(*out);
    *out = NULL;
    return cio__hc_fail(-ETIMEDOUT, "connect timeout (%.3g s) to %s:%d", s->connect_timeout,
                        h->origin_host, h->origin_port);
  }
  return r;
}
