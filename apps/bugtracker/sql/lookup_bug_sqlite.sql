-- lookup_bug_mysql.sql in the dialect of SQLite, whose group_concat has no
-- length limit: the service cuts at the default of MariaDB (query.c).
SELECT
mbt.id,
mbt.summary,
mbt.version,
mbtt.steps_to_reproduce,
mbtt.additional_information,
NULL AS group_concat_max_len
FROM mantis_bug_table mbt
LEFT JOIN mantis_bug_text_table mbtt
ON mbt.id = mbtt.id
WHERE mbt.id = ?1
