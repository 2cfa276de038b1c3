#!/bin/sh
# site.sh start DIR | stop DIR - the site the HTTP client's tests run
# against: nginx (Debian nginx-light) on 127.0.0.1 with a private prefix,
# generated config and free ports, and upstream.py behind it. DIR is a fresh
# temp directory; after start, DIR/env holds the ports:
#   HTTP=  plain HTTP          HTTPS=  TLS (certificate for localhost,
#   MTLS=  TLS asking a client          127.0.0.1; also listening on
#          certificate                  127.0.0.2, which it does not name)
#   UP=    upstream.py itself
# Certificates: tests/io/certs.sh (DIR/certs/ca.pem trusts the server).
#
# Locations (every server):
#   /static/...         files: hello.txt, page.html, big.bin (1 MiB), data.json
#   /gz/...             the same files, gzip'ed by nginx
#   /up/...             proxied to upstream.py (chunked, slow, drip, echo)
#   /r/301 302 303 307 308   redirects to /up/echo
#   /r/rel              a relative Location (../static/hello.txt)
#   /r/loop             /r/loop2 -> /r/loop again
#   /r/cross            to http://localhost:$HTTP/up/echo (another origin)
#   /basic/...          /static/ behind basic auth (user "alice", password "s3cret")
#   /cookie             sets cookies "a=1" and "b=2; Path=/cookie"
#   /status/404         a 404 with a body
set -eu
cmd=${1:?usage: site.sh start|stop DIR}
dir=${2:?usage: site.sh start|stop DIR}
here=$(cd "$(dirname "$0")" && pwd)

if [ "$cmd" = stop ]; then
  [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true
  [ -f "$dir/upstream.pid" ] && kill "$(cat "$dir/upstream.pid")" 2>/dev/null || true
  exit 0
fi

command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || {
  echo "site.sh: nginx not installed (Debian nginx-light)" >&2; exit 1; }
nginx=$(command -v nginx || echo /usr/sbin/nginx)

mkdir -p "$dir/www/static" "$dir/tmp" "$dir/logs"
# nginx's worker runs as another user when started by root: it must read
# the site and write its temp files.
chmod 755 "$dir"
chmod 1777 "$dir/tmp"
sh "$here/../../io/certs.sh" "$dir/certs" >/dev/null

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
HTTP=$(free_port); HTTPS=$(free_port); MTLS=$(free_port)

# The upstream, on a kernel-chosen port.
python3 "$here/upstream.py" "$dir/upstream.port" >"$dir/logs/upstream.log" 2>&1 &
echo $! >"$dir/upstream.pid"
i=0
while [ ! -f "$dir/upstream.port" ]; do
  i=$((i + 1)); [ $i -lt 100 ] || { echo "site.sh: upstream did not start" >&2; exit 1; }
  sleep 0.05
done
UP=$(cat "$dir/upstream.port")

# Static files.
printf 'hello from nginx\n' >"$dir/www/static/hello.txt"
python3 - "$dir/www/static" <<'PY'
import json, os, sys
d = sys.argv[1]
with open(os.path.join(d, "page.html"), "w") as f:
    f.write("<html><head><title>A page</title></head><body>\n")
    for i in range(400):
        f.write("<p>line %d of a page that compresses well</p>\n" % i)
    f.write("</body></html>\n")
with open(os.path.join(d, "big.bin"), "wb") as f:
    f.write(bytes((i * 7 + i // 251) & 255 for i in range(1 << 20)))
with open(os.path.join(d, "data.json"), "w") as f:
    json.dump({"name": "cio", "items": list(range(100)), "nested": {"ok": True}}, f)
PY
mkdir -p "$dir/www/gz" && cp "$dir/www/static/"* "$dir/www/gz/"
printf 'alice:%s\n' "$(openssl passwd -apr1 s3cret)" >"$dir/htpasswd"
chmod -R a+rX "$dir/www" "$dir/htpasswd"

cat >"$dir/locations.conf" <<CONF
root $dir/www;
absolute_redirect off;
location /static/ { }
location /gz/ {
  gzip on; gzip_min_length 1; gzip_types text/plain application/json application/octet-stream;
}
location /up/ {
  proxy_pass http://127.0.0.1:$UP/;
  proxy_http_version 1.1;
  proxy_buffering off;
  proxy_read_timeout 60s;
}
location = /r/301 { return 301 /up/echo; }
location = /r/302 { return 302 /up/echo; }
location = /r/303 { return 303 /up/echo; }
location = /r/307 { return 307 /up/echo; }
location = /r/308 { return 308 /up/echo; }
location = /r/rel { return 302 ../static/hello.txt; }
location = /r/loop { return 302 /r/loop2; }
location = /r/loop2 { return 302 /r/loop; }
location = /r/cross { return 302 http://localhost:$HTTP/up/echo; }
location /basic/ { auth_basic "cio"; auth_basic_user_file $dir/htpasswd; alias $dir/www/static/; }
location = /cookie {
  add_header Set-Cookie "a=1";
  add_header Set-Cookie "b=2; Path=/cookie";
  return 200 "cookies set\n";
}
location = /status/404 { return 404 "not here\n"; }
CONF

cat >"$dir/nginx.conf" <<CONF
daemon on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  keepalive_timeout 60s;
  keepalive_requests 100000;
  types { text/plain txt; text/html html; application/json json; application/octet-stream bin; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$HTTP;
    include $dir/locations.conf;
  }
  server {
    listen 127.0.0.1:$HTTPS ssl;
    listen 127.0.0.2:$HTTPS ssl;
    ssl_certificate $dir/certs/server.pem;
    ssl_certificate_key $dir/certs/server.key;
    include $dir/locations.conf;
  }
  server {
    listen 127.0.0.1:$MTLS ssl;
    ssl_certificate $dir/certs/server.pem;
    ssl_certificate_key $dir/certs/server.key;
    ssl_client_certificate $dir/certs/ca.pem;
    ssl_verify_client on;
    location / { return 200 "client \$ssl_client_s_dn\n"; }
  }
}
CONF

"$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" 2>"$dir/logs/start.log" || {
  cat "$dir/logs/start.log" "$dir/logs/error.log" >&2 2>/dev/null; exit 1; }
i=0
while [ ! -s "$dir/nginx.pid" ]; do
  i=$((i + 1)); [ $i -lt 100 ] || { echo "site.sh: nginx did not start" >&2; exit 1; }
  sleep 0.05
done
printf 'HTTP=%s\nHTTPS=%s\nMTLS=%s\nUP=%s\n' "$HTTP" "$HTTPS" "$MTLS" "$UP" >"$dir/env"
