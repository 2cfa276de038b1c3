#!/usr/bin/env bash
# curl against cio-http-demo: keep-alive (one connection for several
# requests), chunked upload, 100-continue, Range, If-None-Match, HEAD,
# HTTP/1.0, CORS preflight, FastAPI-style error bodies, SIGTERM shutdown,
# and two workers sharing the port.
. "$(dirname "$0")/lib.sh"
need curl
mkdir -p "$WORK/static/sub"
printf '<!doctype html><title>cio</title><h1>static</h1>\n' >"$WORK/static/index.html"
head -c 300000 /dev/urandom >"$WORK/static/blob.bin"
printf '0123456789' >"$WORK/static/sub/digits.txt"
printf '<p>sub</p>' >"$WORK/static/sub/index.html"
start_demo --static "$WORK/static" --access-log
U=http://127.0.0.1:$PORT
C=(curl -sS --max-time 20)

check "GET / says hello" [ "$("${C[@]}" "$U/")" = "Hello, World!" ]
check "GET /json" [ "$("${C[@]}" "$U/json")" = '{"message":"Hello, World!"}' ]
"${C[@]}" -v "$U/" "$U/json" "$U/static/" -o /dev/null -o /dev/null -o /dev/null 2>"$WORK/ka.txt"
check "keep-alive: curl reuses its connection" grep -q "Re-using existing connection" "$WORK/ka.txt"
check "keep-alive: one connection for three requests" [ "$(grep -c 'Connected to' "$WORK/ka.txt")" = 1 ]

head -c 200000 /dev/urandom >"$WORK/up.bin"
"${C[@]}" -H 'Transfer-Encoding: chunked' --data-binary @"$WORK/up.bin" "$U/echo" -o "$WORK/chunked.out"
check "chunked upload echoed byte for byte" cmp -s "$WORK/up.bin" "$WORK/chunked.out"
"${C[@]}" -v -H 'Expect: 100-continue' --data-binary @"$WORK/up.bin" "$U/echo" -o "$WORK/cont.out" 2>"$WORK/cont.txt"
check "Expect: 100-continue answered" grep -q "HTTP/1.1 100 Continue" "$WORK/cont.txt"
check "then the body echoed" cmp -s "$WORK/up.bin" "$WORK/cont.out"
check "413 for a body over 1 MiB" [ "$(head -c 2000000 /dev/zero | "${C[@]}" -o /dev/null -w '%{http_code}' --data-binary @- "$U/echo")" = 413 ]

check "static file byte for byte" cmp -s <("${C[@]}" "$U/static/blob.bin") "$WORK/static/blob.bin"
check "Range 2-5 gives 206 2345" [ "$("${C[@]}" -r 2-5 "$U/static/sub/digits.txt")" = 2345 ]
check "Range status 206" [ "$("${C[@]}" -r 2-5 -o /dev/null -w '%{http_code}' "$U/static/sub/digits.txt")" = 206 ]
check "Range beyond the end: 416" [ "$("${C[@]}" -r 50-60 -o /dev/null -w '%{http_code}' "$U/static/sub/digits.txt")" = 416 ]
etag=$("${C[@]}" -I "$U/static/sub/digits.txt" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
check "an ETag is given" [ -n "$etag" ]
check "If-None-Match: 304" [ "$("${C[@]}" -H "If-None-Match: $etag" -o /dev/null -w '%{http_code}' "$U/static/sub/digits.txt")" = 304 ]
lm=$("${C[@]}" -I "$U/static/sub/digits.txt" | tr -d '\r' | sed -n 's/^[Ll]ast-[Mm]odified: //p')
check "If-Modified-Since: 304" [ "$("${C[@]}" -H "If-Modified-Since: $lm" -o /dev/null -w '%{http_code}' "$U/static/sub/digits.txt")" = 304 ]
"${C[@]}" -I "$U/static/blob.bin" | tr -d '\r' >"$WORK/head.txt"
check "HEAD gives the length" grep -qx "Content-Length: 300000" "$WORK/head.txt"
check "HEAD gives the type" grep -qx "Content-Type: application/octet-stream" "$WORK/head.txt"
check "directory URL redirected" [ "$("${C[@]}" -o /dev/null -w '%{http_code} %{redirect_url}' "$U/static/sub")" = "307 $U/static/sub/" ]
check "no way out of the root" [ "$("${C[@]}" --path-as-is -o /dev/null -w '%{http_code}' "$U/static/../../../../etc/passwd")" = 404 ]
check "no way out, encoded" [ "$("${C[@]}" --path-as-is -o /dev/null -w '%{http_code}' "$U/static/%2e%2e/%2e%2e/etc/passwd")" = 404 ]

check "HTTP/1.0" [ "$("${C[@]}" -0 "$U/")" = "Hello, World!" ]
check "404 body" [ "$("${C[@]}" "$U/nope")" = '{"detail":"Not Found"}' ]
check "405 body" [ "$("${C[@]}" -X DELETE "$U/json")" = '{"detail":"Method Not Allowed"}' ]

"${C[@]}" -i -X OPTIONS -H 'Origin: http://other.test' -H 'Access-Control-Request-Method: POST' \
  -H 'Access-Control-Request-Headers: content-type' "$U/echo" | tr -d '\r' >"$WORK/pre.txt"
check "CORS preflight 200" grep -q "^HTTP/1.1 200" "$WORK/pre.txt"
check "CORS preflight allows the origin" grep -qi "^access-control-allow-origin: \*" "$WORK/pre.txt"
check "CORS preflight allows POST" grep -qi "^access-control-allow-methods:.*POST" "$WORK/pre.txt"
check "access log lines" grep -q '"GET /json HTTP/1.1" 200 OK 27B' "$WORK/demo.err"
stop_demo

# HTTPS: the same server over TLS (the io layer's), static files included
# (sendfile cannot encrypt: the stream copies through TLS records)
if command -v openssl >/dev/null && [ -f "$(dirname "$0")/../../io/certs.sh" ]; then
  sh "$(dirname "$0")/../../io/certs.sh" "$WORK/pki" >/dev/null 2>&1 || fail "making test certificates"
  start_demo --static "$WORK/static" --cert "$WORK/pki/server.pem" --key "$WORK/pki/server.key"
  S=(curl -sS --max-time 20 --cacert "$WORK/pki/ca.pem")
  check "HTTPS GET /" [ "$("${S[@]}" "https://localhost:$PORT/")" = "Hello, World!" ]
  check "HTTPS directory URL redirected to https" [ "$("${S[@]}" -o /dev/null -w '%{http_code} %{redirect_url}' "https://localhost:$PORT/static/sub")" = "307 https://localhost:$PORT/static/sub/" ]
  check "HTTPS static file byte for byte" cmp -s <("${S[@]}" "https://localhost:$PORT/static/blob.bin") "$WORK/static/blob.bin"
  "${S[@]}" -H 'Transfer-Encoding: chunked' --data-binary @"$WORK/up.bin" "https://localhost:$PORT/echo" -o "$WORK/tls.out"
  check "HTTPS chunked upload echoed" cmp -s "$WORK/up.bin" "$WORK/tls.out"
  "${S[@]}" -v "https://localhost:$PORT/" "https://localhost:$PORT/json" -o /dev/null -o /dev/null 2>"$WORK/tlska.txt"
  check "HTTPS keep-alive" grep -q "Re-using existing connection" "$WORK/tlska.txt"
  check "an untrusted client refuses it" [ "$(curl -s -o /dev/null -w '%{http_code}' "https://localhost:$PORT/" || true)" = 000 ]
  stop_demo
fi

# two workers: both serve, the port is shared
start_demo --workers 2
for i in $(seq 1 40); do "${C[@]}" "http://127.0.0.1:$PORT/" >/dev/null || fail "request $i"; done
check "two workers started" [ "$(grep -c 'Started worker' "$WORK/demo.err")" = 2 ]
stop_demo
finish
