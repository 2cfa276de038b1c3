#!/usr/bin/env python3
"""Compile every C snippet of the user documentation, as a new user would.

    check_snippets.py --cc CC --cflags "..." --libs "..." FILE.md...

Each ```c block of each file is compiled with the project's warning flags
(-Werror). Blocks marked in the Markdown just before them:
  <!-- snippet: prelude --> (or guide:prelude) also put in front of every
                           later block of the file (shared definitions: the
                           guide's `job`, IO.md's stream_close)
  <!-- snippet: skip -->   not compiled (a fragment shown for its shape)
Every block is preceded by the standard headers a snippet may lean on and
every installed cio header (--headers DIR): a snippet shows the calls, not the
include lines. A block with a main() is linked into a program; the others are
compiled as translation units. Exit status 1 lists every block that failed, with the
file and line where it starts.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^```(\w*)\s*$")
MARK = re.compile(r"<!--\s*(guide:prelude|snippet:\s*prelude|snippet:\s*skip)\s*-->")


def blocks(path):
    """Yield (line, lang, text, mark) for every fenced block of path."""
    lines = open(path, encoding="utf-8").read().split("\n")
    mark, i = None, 0
    while i < len(lines):
        m = MARK.search(lines[i])
        if m:
            mark = m.group(1).replace(" ", "").replace("snippet:prelude", "guide:prelude")
            i += 1
            continue
        f = FENCE.match(lines[i])
        if f:
            start, lang, body = i + 1, f.group(1), []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            yield start, lang, "\n".join(body) + "\n", mark
            mark = None
        elif lines[i].strip():
            mark = None if not lines[i].startswith("<!--") else mark
        i += 1


def compile_block(cc, cflags, libs, text, has_main, workdir, name):
    src = os.path.join(workdir, name + ".c")
    with open(src, "w", encoding="utf-8") as f:
        f.write(text)
    if has_main:
        cmd = [cc] + cflags + [src, "-o", os.path.join(workdir, name)] + libs
    else:
        cmd = [cc] + cflags + ["-c", src, "-o", os.path.join(workdir, name + ".o")]
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode == 0, p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cc", required=True)
    ap.add_argument("--cflags", default="")
    ap.add_argument("--libs", default="")
    ap.add_argument("--headers", help="the installed include/ directory")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    cflags = shlex.split(a.cflags)
    libs = shlex.split(a.libs)
    base = "".join("#include <%s>\n" % h for h in (
        "errno.h", "stdint.h", "stdio.h", "stdlib.h", "string.h", "unistd.h"))
    if a.headers:
        base += "#include <cio.h>\n"
        for h in sorted(os.listdir(os.path.join(a.headers, "cio"))):
            if h.endswith(".h"):
                base += "#include <cio/%s>\n" % h
    failed, count = [], 0
    with tempfile.TemporaryDirectory() as work:
        for path in a.files:
            prelude = base
            for n, (line, lang, text, mark) in enumerate(blocks(path)):
                if lang != "c" or mark == "snippet:skip":
                    continue
                count += 1
                has_main = re.search(r"\bint\s+main\s*\(", text) is not None
                code = prelude + text
                # A prelude-dependent block that defines static helpers it
                # does not use is fine: silence only unused-function.
                ok, err = compile_block(a.cc, cflags + ["-Wno-unused-function"], libs, code,
                                        has_main, work, "b%d" % count)
                if mark == "guide:prelude":
                    prelude += text
                if not ok:
                    failed.append((path, line, err))
    for path, line, err in failed:
        print("%s:%d: snippet does not compile:\n%s" % (path, line, err), file=sys.stderr)
    print("%d snippet(s) compiled, %d failed" % (count - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
