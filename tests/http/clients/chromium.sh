#!/usr/bin/env bash
# Headless Chromium loads a static page from one cio-http-demo and, from
# it, fetch()es from another demo on another port (another origin): a GET,
# and a POST with a JSON body that makes the browser send a CORS preflight
# first. Both must succeed (the demo's CORS allows every origin), while the
# same GET to a server without CORS headers (Python's http.server) must be
# blocked by the browser - which proves the browser really enforced CORS.
. "$(dirname "$0")/lib.sh"
need python3
CHROME=
for c in chromium chromium-browser google-chrome; do
  command -v "$c" >/dev/null 2>&1 && CHROME=$(command -v "$c") && break
done
[ -n "$CHROME" ] || { echo "SKIP: chromium is not installed (scripts/deps installs it)"; exit 77; }

mkdir -p "$WORK/site" "$WORK/plain"
DEMO_LOG=$WORK/page.err start_demo --static "$WORK/site"
PAGE_PORT=$PORT
PAGE_PID=$DEMO_PID
DEMO_LOG=$WORK/api.err start_demo --access-log
API_PORT=$PORT
printf '{"plain":true}' >"$WORK/plain/data.json"
(cd "$WORK/plain" && exec timeout 120 python3 -m http.server 0 --bind 127.0.0.1) >"$WORK/plain.out" 2>&1 &
PLAIN_PID=$!
PLAIN_PORT=
for _ in $(seq 1 100); do
  PLAIN_PORT=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$WORK/plain.out" | head -n1)
  [ -n "$PLAIN_PORT" ] && break
  sleep 0.05
done

cat >"$WORK/site/index.html" <<HTML
<!doctype html>
<html><head><meta charset="utf-8"><title>cio cors</title></head>
<body><h1>cio static page</h1><pre id="out">pending</pre>
<script>
const out = document.getElementById('out');
const api = 'http://127.0.0.1:$API_PORT';
async function run() {
  const lines = [];
  try {
    const r = await fetch(api + '/json');
    lines.push('get:' + r.status + ':' + (await r.json()).message);
  } catch (e) { lines.push('get:error:' + e); }
  try {
    const r = await fetch(api + '/echo', {method: 'POST',
      headers: {'Content-Type': 'application/json', 'X-Custom': 'yes'},
      body: JSON.stringify({hello: '世界'})});
    lines.push('post:' + r.status + ':' + JSON.stringify(await r.json()));
  } catch (e) { lines.push('post:error:' + e); }
  try {
    const r = await fetch('http://127.0.0.1:$PLAIN_PORT/data.json');
    lines.push('plain:' + r.status);
  } catch (e) { lines.push('plain:blocked'); }
  out.textContent = lines.join('\n');
  out.setAttribute('data-done', '1');
}
run();
</script></body></html>
HTML

timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --disable-dev-shm-usage \
  --user-data-dir="$WORK/profile" --virtual-time-budget=15000 \
  --dump-dom "http://127.0.0.1:$PAGE_PORT/static/" >"$WORK/dom.html" 2>"$WORK/chrome.err"
check "the static page loaded" grep -q "cio static page" "$WORK/dom.html"
check "cross-origin GET allowed by CORS" grep -q "get:200:Hello, World!" "$WORK/dom.html"
check "preflighted POST allowed, body echoed" grep -q 'post:200:{"hello":"世界"}' "$WORK/dom.html"
check "a server without CORS is blocked" grep -q "plain:blocked" "$WORK/dom.html"
check "the browser sent a preflight" grep -q '"OPTIONS /echo HTTP/1.1" 200 OK' "$WORK/api.err"
kill -TERM "$PLAIN_PID" 2>/dev/null
wait "$PLAIN_PID" 2>/dev/null
DEMO_LOG=$WORK/api.err
stop_demo
DEMO_PID=$PAGE_PID
DEMO_LOG=$WORK/page.err
stop_demo
if [ "$failures" -gt 0 ]; then
  echo "--- DOM:"; cat "$WORK/dom.html"; echo "--- chromium:"; tail -20 "$WORK/chrome.err"
fi
finish
