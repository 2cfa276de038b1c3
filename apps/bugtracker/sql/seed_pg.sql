-- The query of the seed in the dialect of PostgreSQL: string_agg for
-- GROUP_CONCAT. The GROUP_CONCAT(... ORDER BY date_submitted) of MariaDB puts
-- NULL dates first and rows with equal dates in the reverse of the order it
-- reads them (by id): NULLS FIRST and "id DESC" say so here. The
-- group_concat_max_len cut of MariaDB is made by the service (query.c). $1
-- is a bigint, so that any 64-bit id compares with the INTEGER column
-- instead of failing to convert.
SELECT
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
string_agg(
mbnt.note,
E'\n---\n'
ORDER BY mbn.date_submitted NULLS FIRST, mbn.id DESC
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
string_agg(value, ',' ORDER BY id) AS revision_values
FROM mantis_bug_revision_table
GROUP BY bug_id
) revisions
ON revisions.bug_id = mbt.id WHERE mbt.id = $1::bigint
