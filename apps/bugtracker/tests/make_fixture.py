#!/usr/bin/env python3
"""The edge-case rows of the bug-tracker tests, as JSON for `cio-bugtracker
--init-db --data FILE` (and for record_golden.py, which loads them into
MariaDB with PyMySQL for the Python original).

    make_fixture.py OUT_DIR

writes three files, one per set of databases that can hold the rows:

    fixture_all.json     every database (PostgreSQL's INTEGER ids, no NUL)
    fixture_nul.json     MariaDB and SQLite: NUL bytes in texts, an id of
                         4294967295 (MantisBT's INT UNSIGNED maximum)
    fixture_sqlite.json  SQLite only: texts that are not valid UTF-8

The format (read by apps/bugtracker/src/dataset_json.c):

    {"mantis_bug_table": [{"id": 1, "summary": "...", "version": "..."}, ...],
     "mantis_bug_text_table": [{"id": 1, "steps_to_reproduce": ...,
                                "additional_information": ...}, ...],
     "mantis_bugnote_table": [{"id": .., "bug_id": .., "bugnote_text_id": ..,
                               "date_submitted": ..}, ...],
     "mantis_bugnote_text_table": [{"id": .., "note": ..}, ...],
     "mantis_bug_revision_table": [{"id": .., "bug_id": .., "value": ..}, ...]}

A value is an integer, a string, null, {"hex": "e4b8"} (raw bytes, for
invalid UTF-8) or {"repeat": "文", "times": 1000} (a long string). Columns
left out take their defaults. Each bug's comment says what it tests; the
requests and the answers of the Python original are in golden.jsonl.
"""
import json
import os
import sys

C = "问题原因分析"
F = "修改方案描述"


class Data:
    def __init__(self):
        self.t = {k: [] for k in (
            "mantis_bug_table", "mantis_bug_text_table", "mantis_bugnote_table",
            "mantis_bugnote_text_table", "mantis_bug_revision_table")}
        self.note_id = 0
        self.rev_id = 0
        self.kinds = {}

    def bug(self, bid, kind, summary="", version="1.0", steps="", addl="",
            text=True):
        """A bug; text=False leaves out its text row (NULL steps and
        additional information through the LEFT JOIN)."""
        self.kinds[bid] = kind
        self.t["mantis_bug_table"].append(
            {"id": bid, "summary": summary, "version": version})
        if text:
            self.t["mantis_bug_text_table"].append(
                {"id": bid, "steps_to_reproduce": steps,
                 "additional_information": addl})

    def note(self, bid, text, date, note_id=None, text_row=True):
        """A note; its text in mantis_bugnote_text_table unless text_row is
        False (a dangling bugnote_text_id, dropped by the inner join)."""
        if note_id is None:
            self.note_id += 1
            note_id = self.note_id
        text_id = 100000 + note_id
        self.t["mantis_bugnote_table"].append(
            {"id": note_id, "bug_id": bid, "bugnote_text_id": text_id,
             "date_submitted": date})
        if text_row:
            self.t["mantis_bugnote_text_table"].append(
                {"id": text_id, "note": text})

    def rev(self, bid, value, rev_id=None):
        if rev_id is None:
            self.rev_id += 1
            rev_id = self.rev_id
        self.t["mantis_bug_revision_table"].append(
            {"id": rev_id, "bug_id": bid, "value": value})

    def dump(self, path):
        # cJSON cuts a string at "\u0000": texts holding NUL go as hex.
        def enc(v):
            if isinstance(v, str) and "\x00" in v:
                return {"hex": v.encode().hex()}
            return v
        t = {k: [{c: enc(v) for c, v in r.items()} for r in rows]
             for k, rows in self.t.items()}
        with open(path, "w", encoding="utf-8") as f:
            json.dump(t, f, ensure_ascii=False, indent=1, sort_keys=True)
            f.write("\n")


def common():
    d = Data()
    d.bug(1, "cause and fix in additional_information, full-width colons",
          "登录页面崩溃", "2.3.1", "1. 打开登录页\n2. 输入空密码",
          f"{C}：密码为空时未做校验。{F}：增加非空校验。")
    d.bug(2, "ASCII colons", "Export hangs", "2.4.0", "click export",
          f"{C}:timeout too short。{F}:raise it to 30s。")
    d.bug(3, "cause in additional_information, no fix anywhere",
          "内存占用过高", "3.0", "运行一周", f"{C}：缓存未设上限。")
    d.bug(4, "fix only in additional_information, cause and fix in notes: "
          "the notes' pair wins", "同步失败", "3.1", "",
          f"{F}：这个修改方案会被丢弃。")
    d.note(4, f"已复现。\n{C}：时钟不同步。\n{F}：启用 NTP。", 1000)
    d.bug(5, "fix in additional_information, cause alone in notes: "
          "fix becomes empty", "报表错位", "3.1", "",
          f"{F}：不会出现。")
    d.note(5, f"{C}：列宽计算错误。", 1000)
    d.bug(6, "cause only in revisions; notes without a cause",
          "Crash on save", "1.2", "save twice", "no analysis yet")
    d.note(6, "cannot reproduce", 2000)
    d.note(6, "reproduced on build 42", 2100)
    d.rev(6, "first draft")
    d.rev(6, f"{C}：double free in writer。{F}：reset the pointer。")
    d.bug(7, "no cause anywhere, fix in revisions: fix from revisions",
          "Slow search", "1.2", "", "")
    d.note(7, f"{F}：notes fix is ignored。", 10)
    d.rev(7, f"{F}：add an index。")
    d.bug(8, "no cause anywhere, fix in additional_information, no "
          "revisions: both empty", "界面卡顿", "2.0", "滚动列表",
          f"{F}：虚拟列表。")
    d.bug(9, "no text row, no notes, no revisions: step null",
          "No text at all", "0.9", text=False)
    d.bug(10, "every text empty, an empty note, an empty revision",
          "Empty", "", "", "")
    d.note(10, "", 5)
    d.rev(10, "")
    d.bug(11, "NULL texts in the text row; cause in notes", "Null text",
          "1.0", None, None)
    d.note(11, f"{C}：未初始化。{F}：初始化。", 7)
    d.bug(12, "NULL summary and version", None, None, "steps", "")
    d.bug(13, "cause ends at '*'", "星号", "1.0", "",
          f"{C}：内存泄漏*详见附件。{F}：释放缓冲区*已合入。")
    d.bug(14, "cause ends at a newline", "换行", "1.0", "",
          f"{C}：锁顺序不一致\n{F}：统一加锁顺序\n")
    d.bug(15, "first occurrence without a terminator on its line runs on to "
          "the next one's", "Two causes", "1.0", "",
          f"{C}：无结尾 {C}：第二处。")
    d.bug(16, "whitespace after the colon spans newlines", "空白", "1.0", "",
          f"{C}：\n\n  根因是锁顺序。{F}：\t\t改锁。")
    d.bug(17, "empty cause in additional_information: falls back to notes",
          "空原因", "1.0", "", f"{C}：。{F}：不会用到。")
    d.note(17, f"{C}：在备注里。{F}：备注里的方案。", 9)
    d.bug(18, "cause pattern at the very end, followed by a newline only: "
          "empty match, falls back (to nothing)", "结尾", "1.0", "",
          f"{C}：\n")
    d.bug(19, "Unicode whitespace after the colon: U+3000, U+00A0, U+001C, "
          "U+0085 (Python's \\s takes all four)", "Unicode 空白", "1.0", "",
          f"{C}：\u3000\u00a0\u001c\u0085原因在此。{F}:\u2003方案。")
    d.bug(20, "JSON escapes in the texts", "Quotes \"and\" \\back\\slash",
          "v\t1", "line1\r\nline2\x01\x7f\u2028end 😀",
          f"{C}：\"引号\" \\反斜杠\\ \t制表 😀。{F}：</script>&<>。")
    d.bug(21, "notes in date order, not id order; the cause's terminator is "
          "the separator's newline", "Note order", "1.0", "", "")
    d.note(21, f"{C}：written last, dated first", 100)
    d.note(21, "dated before everything", 50)
    d.note(21, f"later note {C}：never reached。", 300)
    d.bug(22, "notes with equal date_submitted", "Same second", "1.0", "", "")
    d.note(22, f"{C}：tie A。", 500)
    d.note(22, f"{C}：tie B。", 500)
    d.note(22, f"{C}：tie C。", 500)
    d.note(22, "earlier, no cause", 400)
    d.bug(23, "revisions in id order, joined by ',': a cause without a "
          "terminator runs into the next revision", "Revision join", "1.0",
          "", "")
    d.rev(23, f"{C}：starts in revision one", rev_id=900)
    d.rev(23, f"continues in two。{F}：fix in two", rev_id=901)
    d.rev(23, f"{F}：not this one。", rev_id=899)
    d.bug(24, "a note whose text row is missing is dropped by the join",
          "Dangling note", "1.0", "", "")
    d.note(24, f"{C}：dangling。", 1, text_row=False)
    d.note(24, f"{C}：kept。{F}：kept too。", 2)
    d.bug(25, "NULL note texts are skipped by the aggregate", "Null notes",
          "1.0", "", "")
    d.note(25, None, 1)
    d.note(25, f"{C}：after a null。", 2)
    d.note(25, None, 3)
    d.bug(26, "all notes NULL: notes NULL", "All null notes", "1.0", "", "")
    d.note(26, None, 1)
    d.rev(26, f"{C}：revision after null notes。")
    d.bug(27, "a '*' right after the colon: empty cause", "Star", "1.0", "",
          f"{C}：*。{F}：a*b。")
    d.bug(28, "colons the pattern does not take: U+FE30, a space before "
          "the colon", "Other colons", "1.0", "",
          f"{C}︰不认。{C} ：也不认。{F}：只有方案。")
    d.bug(29, "ASCII cause colon, full-width fix colon", "Mixed colons",
          "1.0", "", f"{F}：先写方案。{C}:后写原因。")
    d.bug(30, "cause in the first note, fix in the second", "Split notes",
          "1.0", "", "")
    d.note(30, f"{C}：第一条备注", 10)
    d.note(30, f"{F}：第二条备注", 20)
    d.bug(31, "English text only", "English only", "5.0",
          "Steps: open, close", "Root cause: none found.")
    d.bug(32, "cause keyword in the summary is not searched",
          f"{C}：在标题里。", "1.0", "", "")
    d.bug(2147483647, "the largest INTEGER id PostgreSQL holds",
          "Max int32", "9.9", "", f"{C}：边界。")
    # Longer than MariaDB's default group_concat_max_len (1048576 bytes):
    # the notes are cut there, at a character boundary; the cause in the last
    # note is cut off, the revisions' cause is used.
    d.bug(33, "notes longer than group_concat_max_len", "Long notes", "1.0",
          "", "")
    for i in range(130):
        # 2731 * 3 bytes = 8193 bytes per note: the cut falls inside a
        # character.
        d.note(33, {"repeat": "长", "times": 2731}, 10 + i)
    d.note(33, f"{C}：cut off。", 100000)
    d.rev(33, f"{C}：from revisions。{F}：also from revisions。")
    d.bug(34, "a cause right at the cut: the lazy group ends at the "
          "separator's newline", "Short notes", "1.0", "", "")
    d.note(34, f"{C}：one", 1)
    d.note(34, f"{F}：two", 2)
    d.bug(35, "a long cause (the whole line)", "Long cause", "1.0", "",
          f"{C}：" + "很长的原因" * 2000 + "。")
    d.bug(36, "many notes and revisions, cause in the last revision only",
          "Many", "1.0", "", "")
    for i in range(40):
        d.note(36, f"note {i}", 1000 - i)
    for i in range(40):
        d.rev(36, f"rev {i}")
    d.rev(36, f"{C}：最后一条修订。")
    return d


def nul_rows():
    d = Data()
    d.note_id = 5000
    d.rev_id = 5000
    d.bug(4294967295, "the largest MantisBT id (INT UNSIGNED)", "Max id",
          "1.0", "", f"{C}：上界。")
    d.bug(50, "NUL bytes in the texts", "NUL\x00inside", "1\x000",
          "a\x00b", f"{C}：前\x00后。{F}：x\x00y。")
    return d


def sqlite_rows():
    d = Data()
    d.note_id = 6000
    d.rev_id = 6000
    d.bug(60, "invalid UTF-8 in additional_information: no match there, "
          "the notes' cause is used; invalid steps come out with U+FFFD",
          "Bad bytes", "1.0",
          {"hex": "61ff62c3"},
          {"hex": (C + "：坏字节").encode().hex() + "ff" + "e38082"})
    d.note(60, f"{C}：来自备注。{F}：备注方案。", 1)
    d.bug(61, "invalid UTF-8 in the notes: no match, revisions used",
          "Bad notes", "1.0", "", "")
    d.note(61, {"hex": (C + "：x").encode().hex() + "e4b8" + "0a"}, 1)
    d.rev(61, f"{C}：修订。")
    return d


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    common().dump(os.path.join(out, "fixture_all.json"))
    nul_rows().dump(os.path.join(out, "fixture_nul.json"))
    sqlite_rows().dump(os.path.join(out, "fixture_sqlite.json"))


if __name__ == "__main__":
    main()
