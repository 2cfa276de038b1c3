-- lookup_notes_mysql.sql in the dialect of SQLite (NULLs sort first, as in
-- MariaDB; equal dates by id, descending: see seed_sqlite.sql).
SELECT
mbnt.note,
mbn.date_submitted
FROM mantis_bugnote_table mbn
JOIN mantis_bugnote_text_table mbnt
ON mbnt.id = mbn.bugnote_text_id
WHERE mbn.bug_id = ?1
ORDER BY mbn.date_submitted, mbn.id DESC
