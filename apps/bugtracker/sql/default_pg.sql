-- default_mysql.sql in the dialect of PostgreSQL (see seed_pg.sql).
SELECT
mbt.id,
mbt.summary,
mbt.version,
mbtt.steps_to_reproduce,
mbtt.additional_information,
(SELECT
string_agg(
mbnt.note,
E'\n---\n'
ORDER BY mbn.date_submitted NULLS FIRST, mbn.id DESC
)
FROM mantis_bugnote_table mbn
JOIN mantis_bugnote_text_table mbnt
ON mbnt.id = mbn.bugnote_text_id
WHERE mbn.bug_id = mbt.id
) AS notes,
(SELECT
string_agg(value, ',' ORDER BY id)
FROM mantis_bug_revision_table mbr
WHERE mbr.bug_id = mbt.id
) AS revision_values
FROM mantis_bug_table mbt
LEFT JOIN mantis_bug_text_table mbtt
ON mbt.id = mbtt.id
WHERE mbt.id = $1::bigint
