#!/usr/bin/env python3
"""The oracle of test_extract: texts generated from pieces that matter to
the two regular expressions, and what the original's own format_() (imported
from apps/bugtracker/reference/util/db_tool.py, not copied) answers for them.

    extract_oracle.py COUNT SEED

One JSON line per case: [additional, notes, revisions, cause, fix], each
text hex-encoded UTF-8 or null (SQL NULL). Every case runs format_(), so the
fallback order (additional information, notes, revisions) is checked along
with the expressions.
"""
import importlib.util
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "db_tool", os.path.join(HERE, "..", "reference", "util", "db_tool.py"))
db_tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(db_tool)

C, F = "问题原因分析", "修改方案描述"
PIECES = [
    C, F, C, F, "：", ":", "：", ":", " ", "\n", "\t", "\r", "\x0b", "\x0c",
    "\u3000", "\xa0", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\u2028",
    "\u2029", "\u202f", "\u205f", "\u1680", "\u2000", "\u200a", "\u200b",
    "\u180e", "\ufeff", "。", "。", "*", "*", ".", "原因", "方案", "abc", "x",
    "中", "问题原因", "分析：", "方案描述:", "😀", "\x00", "，", "︰", "-",
    "\n---\n", ",", "\x7f", "\u00e9", "e\u0301", "𠀀", "\U0010ffff",
]


def text(rng):
    r = rng.random()
    if r < 0.08:
        return None
    if r < 0.12:
        return ""
    n = rng.randrange(0, 25)
    parts = [rng.choice(PIECES) for _ in range(n)]
    if rng.random() < 0.6:  # most texts carry at least one keyword + colon
        at = rng.randrange(0, len(parts) + 1)
        parts.insert(at, rng.choice([C, F]) + rng.choice(["：", ":"]))
    return "".join(parts)


def long_cases():
    """A few texts long enough to need deep matching."""
    yield (C + "：" + "长" * 300000 + "。", None, None)
    yield (C + "：" + " " * 100000 + "x" + "\n", None, None)
    yield ("前言" * 50000 + C + "：尾。" + F + ":" + "a*b", None, None)
    yield ("", "note\n---\n" * 20000 + C + "：in the notes。", F + "：rev。")
    yield (C + "：" + "\u3000" * 5000 + "\n", "n", C + "：r。")


def hexed(t):
    return None if t is None else t.encode("utf-8", "surrogatepass").hex()


def main():
    count, seed = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    cases = list(long_cases())
    cases += [(text(rng), text(rng), text(rng)) for _ in range(count)]
    out = sys.stdout
    for a, n, r in cases:
        row = {"id": 1, "summary": "", "version": "", "steps_to_reproduce": "",
               "additional_information": a, "notes": n, "revision_values": r}
        reply = db_tool.format_(row)["reply"]
        out.write(json.dumps([hexed(a), hexed(n), hexed(r),
                              hexed(reply["cause_of_bug"]),
                              hexed(reply["bug_solution"])]) + "\n")


if __name__ == "__main__":
    main()
