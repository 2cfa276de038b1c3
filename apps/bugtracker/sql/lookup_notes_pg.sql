-- lookup_notes_mysql.sql in the dialect of PostgreSQL: NULL dates first, as
-- MariaDB sorts them, and equal dates by id, descending (see seed_pg.sql).
SELECT
mbnt.note,
mbn.date_submitted
FROM mantis_bugnote_table mbn
JOIN mantis_bugnote_text_table mbnt
ON mbnt.id = mbn.bugnote_text_id
WHERE mbn.bug_id = $1::bigint
ORDER BY mbn.date_submitted NULLS FIRST, mbn.id DESC
