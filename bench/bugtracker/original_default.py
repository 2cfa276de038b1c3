"""The Python original with cio-bugtracker's default lookup in place of the
seed's query, for bench/run bugtracker: how much of the original's cost is
its query, and how much is the service.

The same three statements as the C service (apps/bugtracker/sql/
lookup_*_mysql.sql), read as lazily (the notes only when the additional
information holds no cause, the revisions only when the notes hold none
either), joined as GROUP_CONCAT joins them; a bug whose notes share a date
gets the seed's query, as in the C service. The reference itself is not
touched: db_tool.get_bug_by_id is replaced before demo.py imports it.
"""
import os
import re

import aiomysql
import util.db_tool as db_tool

_SQL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "apps",
                        "bugtracker", "sql")


def _sql(name):
    with open(os.path.join(_SQL_DIR, name), encoding="utf-8") as f:
        return "\n".join(ln for ln in f.read().splitlines()
                         if not ln.startswith("--")).replace("?", "%s")


BUG, NOTES, REVISIONS = (_sql(f"lookup_{k}_mysql.sql") for k in ("bug", "notes", "revisions"))
CAUSE = re.compile(r'问题原因分析[:：]\s*(.*?)[。*\n]')
FIX = re.compile(r'修改方案描述[:：]\s*(.*?)[。*\n]')


def _floor(b, n):
    """The longest prefix of bytes b of at most n bytes on a character
    boundary."""
    if len(b) <= n:
        return b
    while n > 0 and (b[n] & 0xC0) == 0x80:
        n -= 1
    return b[:n]


def _group_concat(values, sep, max_len):
    vals = [v.encode() for v in values if v is not None]
    if not vals:
        return None
    out = b""
    for i, v in enumerate(vals):
        old = len(out)
        out += (sep if i else b"") + _floor(v, max_len)
        if len(out) > max_len:
            out = out[:old] + _floor(out[old:], max_len - old)
            break
    return out.decode()


def _extract(text):
    if not text:
        return "", ""
    r, f = CAUSE.search(text), FIX.search(text)
    return (r.group(1) if r else ""), (f.group(1) if f else "")


async def get_bug_by_id(bug_id):
    async with db_tool.pool.acquire() as conn:
        async with conn.cursor(aiomysql.DictCursor) as cursor:
            await cursor.execute(BUG, (bug_id,))
            row = await cursor.fetchone()
            if not row:
                return None
            max_len = int(row.pop("group_concat_max_len"))
            result, fix = _extract(row["additional_information"])
            if not result:
                await cursor.execute(NOTES, (bug_id,))
                notes = await cursor.fetchall()
                dates = [n["date_submitted"] for n in notes]
                if len(set(dates)) != len(dates):  # order left to the seed's sort
                    await cursor.execute(db_tool.SQL, (bug_id,))
                    return db_tool.format_(await cursor.fetchone())
                result, fix = _extract(_group_concat([n["note"] for n in notes],
                                                     b"\n---\n", max_len))
            if not result:
                await cursor.execute(REVISIONS, (bug_id,))
                revs = [r["value"] for r in await cursor.fetchall()]
                result, fix = _extract(_group_concat(revs, b",", max_len))
            return {"bug_id": row["id"], "bug_title": row["summary"], "version": row["version"],
                    "step": row["steps_to_reproduce"],
                    "reply": {"cause_of_bug": result, "bug_solution": fix}}


db_tool.get_bug_by_id = get_bug_by_id

from demo import app  # noqa: E402,F401
