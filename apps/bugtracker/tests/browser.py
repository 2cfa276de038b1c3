#!/usr/bin/env python3
"""Headless Chromium against cio-bugtracker's page: the browser opens "/",
a bug id is typed into the box and the button clicked (real input events),
and the page must show the cause and the fix the API answers for that bug;
then a missing id and an id that is not an integer. Screenshots of each
state are saved in WORK_DIR (the test's artifacts).

    browser.py BINARY WORK_DIR [CHROMIUM]

Chromium is driven over the DevTools protocol on a pipe
(--remote-debugging-pipe: JSON messages separated by NUL bytes on fds 3
and 4), so nothing but the standard library is needed. Exit status 77 when
Chromium is not installed.
"""
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bt_http  # noqa: E402
import bt_service  # noqa: E402
import make_fixture  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
STATIC = os.path.join(os.path.dirname(HERE), "static")


class Browser:
    def __init__(self, exe, profile, log):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def fds():
            # In the child, before subprocess closes what is not in
            # pass_fds: its ends become fds 3 and 4 (through fds above
            # both, so neither overwrites the other).
            a = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [exe, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                "--window-size=1000,800", f"--user-data-dir={profile}",
                "--remote-debugging-pipe", "about:blank"]
        self.proc = subprocess.Popen(args, preexec_fn=fds, pass_fds=(3, 4),
                                     stdout=log, stderr=subprocess.STDOUT)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def send(self, method, params=None, session=True, timeout=30):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        end = time.monotonic() + timeout
        while True:
            m = self.read(end)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def read(self, end):
        while b"\0" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from Chromium")
            r, _, _ = select.select([self.from_chrome], [], [], left)
            if r:
                chunk = os.read(self.from_chrome, 65536)
                if not chunk:
                    raise RuntimeError("Chromium closed the pipe")
                self.buf += chunk
        msg, _, self.buf = self.buf.partition(b"\0")
        return json.loads(msg)

    def wait_event(self, method, timeout=30):
        end = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self.read(end))

    def open_page(self):
        targets = self.send("Target.getTargets", session=False)["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.send("Target.attachToTarget",
                                 {"targetId": page["targetId"], "flatten": True},
                                 session=False)["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")

    def goto(self, url):
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")

    def js(self, expr):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True})
        return r.get("result", {}).get("value")

    def click(self, selector):
        """A real click: mouse events at the element's centre."""
        box = self.js(f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
                      ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1],
                                                   "button": "left", "clickCount": 1})

    def type_into(self, selector, text):
        self.click(selector)
        self.js(f"document.querySelector({json.dumps(selector)}).select()")
        self.send("Input.insertText", {"text": text})

    def wait_for(self, expr, timeout=20):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            v = self.js(expr)
            if v:
                return v
            time.sleep(0.05)
        return None

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.send("Browser.close", session=False, timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_chrome)
        os.close(self.from_chrome)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary, work = sys.argv[1], os.path.abspath(sys.argv[2])
    exe = sys.argv[3] if len(sys.argv) > 3 else shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(exe):
        print("skip: Chromium is not installed")
        return 77
    os.makedirs(work, exist_ok=True)
    fx = os.path.join(work, "fixture")
    sys.argv = ["make_fixture", fx]
    make_fixture.main()
    url = "sqlite://" + os.path.join(work, "browser.sqlite")
    bt_service.load(binary, url, [os.path.join(fx, "fixture_all.json")])
    svc = bt_service.Service(binary, url, STATIC, os.path.join(work, "service.log"))
    profile = os.path.join(work, "profile")
    shutil.rmtree(profile, ignore_errors=True)
    failures = []

    def check(cond, what):
        print(("ok     " if cond else "FAIL   ") + what)
        if not cond:
            failures.append(what)

    with open(os.path.join(work, "chromium.log"), "wb") as log:
        b = Browser(exe, profile, log)
        try:
            b.open_page()
            base = f"http://127.0.0.1:{svc.port}/"
            b.goto(base)
            check(b.js("document.title").startswith("Bug 查询"), "the page loads")
            for bug in (1, 16, 6):
                api = json.loads(bt_http.request("127.0.0.1", svc.port,
                                                 {"target": f"/id/{bug}"}).body)
                b.type_into("#bug-id", str(bug))
                b.click("#search")
                shown = b.wait_for("!document.getElementById('reply').hidden && "
                                   f"document.getElementById('bug-number').textContent === '{bug}'")
                cause = b.js("document.getElementById('cause').textContent")
                fix = b.js("document.getElementById('solution').textContent")
                title = b.js("document.getElementById('bug-title').textContent")
                check(shown and cause == api["reply"]["cause_of_bug"] and
                      fix == api["reply"]["bug_solution"] and title == api["bug_title"],
                      f"bug {bug}: the page shows cause {cause!r} and fix {fix!r}")
                b.screenshot(os.path.join(work, f"bug-{bug}.png"))
            b.type_into("#bug-id", "99999")
            b.click("#search")
            msg = b.wait_for("document.getElementById('message').textContent === '未找到该 bug' "
                             "&& document.getElementById('reply').hidden")
            check(bool(msg), "a missing bug: 未找到该 bug")
            b.screenshot(os.path.join(work, "missing.png"))
            b.type_into("#bug-id", "abc")
            b.click("#search")
            msg = b.wait_for("document.getElementById('message').textContent.includes('整数')")
            check(bool(msg), "an id that is not an integer: the 422 is explained")
            # A link to a bug opens it (?id=).
            b.goto(base + "?id=2")
            check(bool(b.wait_for("document.getElementById('cause').textContent === "
                                  "'timeout too short'")), "?id=2 opens bug 2")
            b.screenshot(os.path.join(work, "link.png"))
        finally:
            b.close()
            svc.stop()
    shots = sorted(f for f in os.listdir(work) if f.endswith(".png"))
    check(len(shots) == 5 and all(os.path.getsize(os.path.join(work, f)) > 5000 for f in shots),
          f"screenshots in {work}: {', '.join(shots)}")
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
