# The seed's util/db_tool.py (tutorial 001), indentation restored; adapted
# only in its connection settings, which come from the environment here
# (BUGTRACKER_DB_HOST, _PORT, _USER, _PASSWORD, _NAME) instead of the
# tutorial's own server. The character class of the two regular expressions
# is [:：] (ASCII and full-width colon): the seed prints it as [::], the
# full-width colon lost in copying (issue 10).
import os
import pymysql
import re
import aiomysql

SQL = '''SELECT
mbt.id,
mbt.summary,
mbt.version,
mbtt.steps_to_reproduce,
mbtt.additional_information,
notes.notes,
revisions.revision_values
FROM mantis_bug_table mbt
LEFT JOIN mantis_bug_text_table mbtt
ON mbt.id = mbtt.id
LEFT JOIN (
SELECT
mbn.bug_id,
GROUP_CONCAT(
mbnt.note
ORDER BY mbn.date_submitted
SEPARATOR '\n---\n'
) AS notes
FROM mantis_bugnote_table mbn
JOIN mantis_bugnote_text_table mbnt
ON mbnt.id = mbn.bugnote_text_id
GROUP BY mbn.bug_id
) notes
ON notes.bug_id = mbt.id
LEFT JOIN (
SELECT
bug_id,
GROUP_CONCAT(value ORDER BY id SEPARATOR ',') AS revision_values
FROM mantis_bug_revision_table
GROUP BY bug_id
) revisions
ON revisions.bug_id = mbt.id WHERE mbt.id = %s;
'''

pool = None

async def init_db():
    global pool
    pool = await aiomysql.create_pool(
        host=os.environ.get("BUGTRACKER_DB_HOST", "127.0.0.1"),
        port=int(os.environ.get("BUGTRACKER_DB_PORT", "3306")),
        user=os.environ.get("BUGTRACKER_DB_USER", "root"),
        password=os.environ.get("BUGTRACKER_DB_PASSWORD", ""),
        db=os.environ.get("BUGTRACKER_DB_NAME", "bugtracker"),
        charset="utf8mb4",
        minsize=1,
        maxsize=30
    )

async def close_db():
    global pool
    if pool:
        pool.close()
        await pool.wait_closed()


async def get_bug_by_id(bug_id):
    async with pool.acquire() as conn:
        async with conn.cursor(aiomysql.DictCursor) as cursor:
            await cursor.execute(SQL,(bug_id,))
            row = await cursor.fetchone()
            if not row:
                return None
            return format_(row)


def format_(sql_data):
    def extract(text):
        if not text:
            return '', ''
        r = re.search(r'问题原因分析[:：]\s*(.*?)[。*\n]', text)
        f = re.search(r'修改方案描述[:：]\s*(.*?)[。*\n]', text)
        return (r.group(1) if r else ''), (f.group(1) if f else '')

    result, fix = extract(sql_data.get('additional_information'))
    if not result:
        result, fix = extract(sql_data.get('notes'))
    if not result:
        result, fix = extract(sql_data.get('revision_values'))
    return {
        'bug_id': sql_data['id'],
        'bug_title': sql_data['summary'],
        'version': sql_data['version'],
        'step': sql_data['steps_to_reproduce'],
        'reply': {
            'cause_of_bug': result,
            'bug_solution': fix
        }
    }
